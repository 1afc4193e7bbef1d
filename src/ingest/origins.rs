//! Where each event came from, so that it can be parsed again: the later stages of a report
//! keep the numbers of the events they cite, not the events, and ask for those few again at
//! the end ([`Origins::events`]).
//!
//! An event is found again the way it was made: its input's chunk is parsed once more (the
//! same bytes give the same events), its line number shifted as the chunk's were, and a
//! year-less stamp given the year its input was given. Nothing per event is kept: per chunk,
//! its bytes and where its events and year-less stamps start; per input, the events an
//! overlap dropped from its start and the year's changes; and the runs in which the inputs
//! were merged.

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::parse::Event;
use crate::time::Zone;

/// Events between two [`Mark`]s of a chunk, about: parsing one event again parses at most
/// this many (about 5 KB of a log), not its whole chunk.
pub(super) const MARK_EVERY: usize = 32;

/// A place in a chunk where parsing may start again: a line that needs no line before it
/// (not a `last message repeated`), with the chunk's events and year-less stamps before it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    /// Its offset in the chunk's bytes.
    pub offset: u32,
    /// The chunk's lines before it.
    pub line: u32,
    pub event: u32,
    pub civil: u32,
}

/// One chunk of an input, as it was parsed.
#[derive(Clone, Debug)]
pub(super) struct ChunkOrigin<'a> {
    pub bytes: &'a [u8],
    /// Lines of the input before the chunk's first.
    pub line_base: u32,
    /// The input's events (before any overlap was dropped) before the chunk's first.
    pub first_event: u64,
    /// The input's year-less stamps before the chunk's first.
    pub first_civil: u64,
    /// Where its parsing may start again, in order.
    pub marks: Vec<Mark>,
}

/// One parsed log input.
#[derive(Debug, Default)]
pub(super) struct InputOrigin<'a> {
    pub input: u32,
    pub chunks: Vec<ChunkOrigin<'a>>,
    /// Events dropped from its start as an earlier input's overlap.
    pub dropped: u64,
    /// The year of its first year-less stamp, once fixed.
    pub base: Option<i32>,
    /// (first year-less stamp, year offset) wherever the offset changes.
    pub years: Vec<(u64, u16)>,
}

impl InputOrigin<'_> {
    /// Keep the year offsets of `offs` (one per year-less stamp) where they change.
    pub fn set_years(&mut self, offs: &[u16]) {
        self.years.clear();
        for (k, &o) in offs.iter().enumerate() {
            if self.years.last().is_none_or(|&(_, p)| p != o) {
                self.years.push((k as u64, o));
            }
        }
    }

    fn year_of(&self, civil: u64) -> Option<i32> {
        let base = self.base?;
        let at = self.years.partition_point(|&(k, _)| k <= civil);
        let off = at.checked_sub(1).map_or(0, |i| self.years[i].1);
        Some(base + off as i32)
    }
}

/// A run of the merged order: from event `start` of the merge to the next run's start, the
/// events of input `origin` from its `local`-th on (counted after the overlap it dropped).
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    pub start: u64,
    pub origin: u32,
    pub local: u64,
}

/// Where every event of a [`super::Parsed`] came from.
#[derive(Debug)]
pub struct Origins<'a> {
    pub(super) inputs: Vec<InputOrigin<'a>>,
    pub(super) runs: Vec<Run>,
    pub(super) zone: Zone,
    pub(super) total: u64,
}

impl<'a> Origins<'a> {
    /// The input, chunk and mark (0: the chunk's start, k: its mark k - 1) of event `g`, and
    /// its place in the chunk.
    fn locate(&self, g: u64) -> Option<(usize, usize, usize, u64)> {
        if g >= self.total {
            return None;
        }
        let r = self.runs[self.runs.partition_point(|r| r.start <= g).checked_sub(1)?];
        let o = r.origin as usize;
        let input = self.inputs.get(o)?;
        let j = input.dropped + r.local + (g - r.start);
        let c = input
            .chunks
            .partition_point(|c| c.first_event <= j)
            .checked_sub(1)?;
        let k = j - input.chunks[c].first_event;
        let m = input.chunks[c]
            .marks
            .partition_point(|m| m.event as u64 <= k);
        Some((o, c, m, k))
    }

    /// The events numbered `wanted` (as in the merged list), parsed again: the lines from
    /// the mark before each up to it, once for the events after one mark, on every core. A
    /// number past the end is left out.
    pub fn events(&self, wanted: &[u32]) -> HashMap<u32, Event<'a>> {
        // (input, chunk, mark) → (event number, place in the chunk) of the events wanted.
        type Wanted = ((usize, usize, usize), Vec<(u32, u64)>);
        let mut by_chunk: HashMap<(usize, usize, usize), Vec<(u32, u64)>> = HashMap::default();
        for &g in wanted {
            if let Some((o, c, m, k)) = self.locate(g as u64) {
                by_chunk.entry((o, c, m)).or_default().push((g, k));
            }
        }
        let mut chunks: Vec<Wanted> = by_chunk.into_iter().collect();
        chunks.sort_unstable_by_key(|(k, _)| *k);
        chunks
            .par_iter()
            .flat_map_iter(|((o, c, m), want)| {
                let input = &self.inputs[*o];
                let chunk = &input.chunks[*c];
                let from = m.checked_sub(1).map_or(
                    Mark {
                        offset: 0,
                        line: 0,
                        event: 0,
                        civil: 0,
                    },
                    |m| chunk.marks[m],
                );
                let last = want.iter().map(|w| w.1).max().unwrap_or(0) - from.event as u64;
                let out = super::parse_chunk_from(
                    input.input,
                    "",
                    &chunk.bytes[from.offset as usize..],
                    false,
                    from.line,
                    last as usize,
                );
                let mut conv = self.zone.converter();
                let mut found = Vec::with_capacity(want.len());
                for &(g, k) in want {
                    let k = (k - from.event as u64) as usize;
                    let Some(&e) = out.events.get(k) else {
                        continue;
                    };
                    let mut e = e;
                    e.loc.line += chunk.line_base;
                    if let crate::parse::RawTime::Civil(civil) = e.raw_time() {
                        let before = out.events[..k]
                            .iter()
                            .filter(|e| !e.format.has_year())
                            .count() as u64;
                        let civil_at = chunk.first_civil + from.civil as u64 + before;
                        if let Some(y) = input.year_of(civil_at) {
                            e.set_time(conv.stamp(civil.local_micros(y)));
                        }
                    }
                    found.push((g, e));
                }
                found
            })
            .collect()
    }
}

/// Where a later stage finds the few events it cites, by number: the list of every event
/// while it is at hand, or their [`Origins`] once it is not.
#[derive(Clone, Copy, Debug)]
pub enum EventSource<'s, 'a> {
    List(&'s [Event<'a>]),
    Origins(&'s Origins<'a>),
}

impl<'a> EventSource<'_, 'a> {
    /// The events numbered `wanted`; a number past the end is left out.
    pub fn events(&self, wanted: &[u32]) -> HashMap<u32, Event<'a>> {
        match self {
            EventSource::List(list) => wanted
                .iter()
                .filter_map(|&g| Some((g, *list.get(g as usize)?)))
                .collect(),
            EventSource::Origins(o) => o.events(wanted),
        }
    }

    /// The lines of the events numbered `wanted`, as text (empty for a number past the end).
    pub fn lines(&self, wanted: &[u32]) -> Vec<String> {
        let found = self.events(wanted);
        wanted
            .iter()
            .map(|g| {
                found
                    .get(g)
                    .map(|e| String::from_utf8_lossy(e.line()).into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl<'s, 'a> From<&'s [Event<'a>]> for EventSource<'s, 'a> {
    fn from(list: &'s [Event<'a>]) -> Self {
        EventSource::List(list)
    }
}

impl<'s, 'a> From<&'s Vec<Event<'a>>> for EventSource<'s, 'a> {
    fn from(list: &'s Vec<Event<'a>>) -> Self {
        EventSource::List(list)
    }
}

impl<'s, 'a> From<&'s Origins<'a>> for EventSource<'s, 'a> {
    fn from(o: &'s Origins<'a>) -> Self {
        EventSource::Origins(o)
    }
}
