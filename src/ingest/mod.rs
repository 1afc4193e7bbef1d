//! The ingest pipeline: paths → loaded inputs → parsed, dated, de-duplicated, time-ordered
//! events, with per-input statistics and diagnostics.
//!
//! Two steps, so the events can borrow the bytes: [`load`] owns the bytes (maps, decoded
//! gzip), [`parse()`] borrows them. A gzip log is the exception that keeps both cores busy: [`load`]
//! decodes only its start (to tell what it is), and [`parse()`] decodes the rest on a thread of
//! its own into line-aligned segments ([`Streamed`], each set once) while the pool parses each
//! segment as it comes. Work is parallel across inputs and across fixed-size, newline-aligned
//! chunks of each input; chunk results are concatenated in chunk order, so nothing depends on
//! the number of threads. Logs with the same bytes are found once decoded, in [`parse()`].

pub mod blocks;
pub mod origins;
pub mod year;

use rustc_hash::FxHashMap as HashMap;
use std::time::SystemTime;

use rayon::prelude::*;

use crate::diag::{Diagnostics, WarnKind, Warning};
use crate::input::decompress::StreamEnd;
use crate::input::{self, Compression, Data, InputPath, Kind};
use crate::lines;
use crate::parse::{self, flags, Event, Line, Loc, QueueId, RawTime, TimeFormat};
use crate::qdump;
use crate::time::{Stamp, Zone, MICROS};
use blocks::Blocks;
use origins::{ChunkOrigin, InputOrigin, Origins, Run};
use year::YearEvidence;

/// What the ingest needs to know from the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// Map regular files (else read them).
    pub mmap: bool,
    /// The year of the first line of every file whose stamps have none.
    pub year: Option<i32>,
    /// The zone of zone-less stamps.
    pub zone: Zone,
    /// "Now", for the last-resort year guess (injected so tests are reproducible).
    pub now: SystemTime,
    /// Keep every line that is not syslog, for `--list-unparsed`.
    pub keep_unparsed: bool,
    /// The capture time of the queue dumps, from `--taken-at`.
    pub taken_at: Option<Stamp>,
    /// Decode a gzip log in segments of about this many bytes while its lines are parsed;
    /// `None`: whole, before parsing.
    pub gzip_segment: Option<usize>,
    /// Leave the events in blocks ([`Parsed::blocks`]), for a consumer that lets go of each
    /// once it is done with it; else in one list ([`Parsed::events`]).
    pub event_blocks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mmap: true,
            year: None,
            zone: Zone::local(),
            now: SystemTime::now(),
            keep_unparsed: false,
            taken_at: None,
            gzip_segment: Some(SEGMENT),
            event_blocks: false,
        }
    }
}

/// One input with its bytes.
pub struct LoadedInput {
    pub path: String,
    pub data: Data,
    pub kind: Kind,
    pub compression: Compression,
    /// Size as stored (compressed size for a gzip file).
    pub stored_bytes: u64,
    pub mtime: Option<SystemTime>,
    pub gzip_mtime: Option<u32>,
    /// The input this one repeats: the same file given twice (found by [`load`]). Logs with
    /// the same content are found by [`parse()`] ([`Parsed::duplicate_of`]).
    pub duplicate_of: Option<usize>,
    pub diag: Diagnostics,
    /// A gzip log decoded while it is parsed; `data` is then empty.
    pub streamed: Option<Streamed>,
}

/// A gzip log decoded by [`parse()`] while its lines are parsed: its bytes as segments that end
/// at a newline, each set once, in order.
pub struct Streamed {
    /// The gzip bytes, until they are decoded (then dropped: a mapped file's pages count too).
    compressed: std::sync::Mutex<Option<Data>>,
    segments: Vec<std::sync::OnceLock<Vec<u8>>>,
    /// How decoding ended, once it has.
    end: std::sync::OnceLock<StreamEnd>,
    /// About how many bytes a segment holds.
    segment: usize,
}

/// Decoded bytes per segment of a streamed gzip log, by default.
pub const SEGMENT: usize = 4 * lines::CHUNK;

impl Streamed {
    fn new(compressed: Data, segment: usize) -> Streamed {
        // The trailer of a truncated file is any four bytes: believe at most a 16:1 ratio.
        let size_hint = input::decompress::size_hint(&compressed).min(compressed.len() * 16);
        let segment = segment.max(1);
        // A slot per segment the trailer announces, and spares; the last takes the rest.
        Streamed {
            segments: (0..(size_hint / segment + 3).min(4096))
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            compressed: std::sync::Mutex::new(Some(compressed)),
            end: std::sync::OnceLock::new(),
            segment,
        }
    }

    /// The decoded segments (all of them once [`parse`] has run).
    fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.segments
            .iter()
            .filter_map(|s| s.get())
            .map(Vec::as_slice)
    }
}

impl LoadedInput {
    /// The decoded content, as one or more pieces in order.
    fn pieces(&self) -> Vec<&[u8]> {
        match &self.streamed {
            Some(s) => s.parts().collect(),
            None => vec![&self.data[..]],
        }
    }
}

/// Every input, loaded.
pub struct Loaded {
    pub inputs: Vec<LoadedInput>,
}

fn skipped(path: String, compression: Compression, kind: WarnKind, msg: String) -> LoadedInput {
    let mut diag = Diagnostics::default();
    diag.warn(kind, None, msg);
    LoadedInput {
        path,
        data: Data::Owned(Vec::new()),
        kind: Kind::Skipped,
        compression,
        stored_bytes: 0,
        mtime: None,
        gzip_mtime: None,
        duplicate_of: None,
        diag,
        streamed: None,
    }
}

fn load_one(p: &InputPath, opts: &Options) -> LoadedInput {
    let path = p.display();
    let opened = match p {
        InputPath::Stdin => input::source::open_stdin(),
        InputPath::File(f) => input::source::open_file(f, opts.mmap),
    };
    let opened = match opened {
        Ok(o) => o,
        Err(e) => {
            return skipped(
                path.clone(),
                Compression::None,
                WarnKind::Unreadable,
                format!("{path}: cannot read: {e}"),
            )
        }
    };
    let stored_bytes = opened.data.len() as u64;
    let compression = Compression::detect(&opened.data);
    let mut diag = Diagnostics::default();
    let mut gzip_mtime = None;
    let data = match compression {
        Compression::None => opened.data,
        Compression::Gzip => {
            // A log is decoded while it is parsed (see `parse`); anything else now.
            let (prefix, mtime) = input::decompress::gunzip_prefix(&opened.data, 64 * 1024);
            if let Some(segment) = opts
                .gzip_segment
                .filter(|_| !prefix.is_empty())
                .filter(|_| input::classify::classify(&prefix).0 == Kind::Maillog)
            {
                return LoadedInput {
                    path,
                    data: Data::Owned(Vec::new()),
                    kind: Kind::Maillog,
                    compression,
                    stored_bytes,
                    mtime: opened.mtime,
                    gzip_mtime: mtime,
                    duplicate_of: None,
                    diag,
                    streamed: Some(Streamed::new(opened.data, segment)),
                };
            }
            decode_whole(&path, &opened.data, &mut gzip_mtime, &mut diag)
        }
        other => {
            return skipped(
                path.clone(),
                other,
                WarnKind::UnsupportedCompression,
                format!(
                    "{path}: {} compressed input is not supported; decompress it first",
                    other.name()
                ),
            )
        }
    };
    let (kind, why) = input::classify::classify(&data);
    if data.is_empty() {
        // An empty `postqueue -j` dump is an empty queue; any empty file is worth a note.
        diag.warn(WarnKind::EmptyFile, None, format!("{path}: empty file"));
    } else if let Some(why) = why {
        diag.warn(WarnKind::NotOurs, None, format!("{path}: skipped: {why}"));
    }
    LoadedInput {
        path,
        data,
        kind,
        compression,
        stored_bytes,
        mtime: opened.mtime,
        gzip_mtime,
        duplicate_of: None,
        diag,
        streamed: None,
    }
}

/// Decode a whole gzip input; a break keeps the whole lines before it, with a warning.
fn decode_whole(
    path: &str,
    compressed: &[u8],
    gzip_mtime: &mut Option<u32>,
    diag: &mut Diagnostics,
) -> Data {
    let d = input::decompress::gunzip(compressed);
    *gzip_mtime = d.header_mtime;
    let mut data = d.data;
    if let Some((offset, decoded, reason)) = d.broken {
        // Keep whole lines only: the bytes after the last newline are a fragment.
        let keep = memchr::memrchr(b'\n', &data).map_or(0, |p| p + 1);
        let dropped = data.len() - keep;
        data.truncate(keep);
        diag.push(broken_gzip(
            path,
            offset,
            keep as u64,
            dropped as u64,
            decoded,
            &reason,
        ));
    }
    Data::Owned(data)
}

/// The warning for a gzip stream that broke at compressed byte `offset`.
fn broken_gzip(
    path: &str,
    offset: u64,
    keep: u64,
    dropped: u64,
    decoded: u64,
    reason: &str,
) -> Warning {
    Warning {
        kind: WarnKind::CorruptCompression,
        line: None,
        offset: Some(offset),
        message: format!(
            "{path}: gzip stream broken at compressed byte {offset} ({reason}); \
             kept the {keep} bytes decoded before the break, dropped a partial line \
             of {dropped} bytes (decoded {decoded} bytes in all)"
        ),
    }
}

/// Load every input (in parallel), classify it, and find inputs given twice.
pub fn load(paths: &[InputPath], opts: &Options) -> Loaded {
    let mut inputs: Vec<LoadedInput> = paths.par_iter().map(|p| load_one(p, opts)).collect();
    // The same file given twice (by path). Logs copied twice (byte-identical content) are
    // found once decoded, by `parse`. Queue dumps with equal content are distinct
    // snapshots, not copies.
    let canon: Vec<Option<std::path::PathBuf>> = paths
        .iter()
        .map(|p| match p {
            InputPath::File(f) => std::fs::canonicalize(f).ok(),
            InputPath::Stdin => None,
        })
        .collect();
    for i in 1..inputs.len() {
        if inputs[i].kind == Kind::Skipped
            || (inputs[i].data.is_empty() && inputs[i].streamed.is_none())
        {
            continue;
        }
        let dup = (0..i).find(|&j| {
            inputs[j].duplicate_of.is_none() && canon[i].is_some() && canon[i] == canon[j]
        });
        if let Some(j) = dup {
            let other = inputs[j].path.clone();
            let me = &mut inputs[i];
            me.duplicate_of = Some(j);
            // Not parsed: decoded whole, for its line count.
            let compressed = me
                .streamed
                .take()
                .and_then(|s| s.compressed.into_inner().unwrap_or_else(|e| e.into_inner()));
            if let Some(c) = compressed {
                me.data = decode_whole(&me.path, &c, &mut me.gzip_mtime, &mut me.diag);
            }
            me.diag.warn(
                WarnKind::Duplicate,
                None,
                duplicate_warning(&me.path, &other),
            );
        }
    }
    Loaded { inputs }
}

/// The warning for input `path`, which repeats input `other`.
fn duplicate_warning(path: &str, other: &str) -> String {
    format!("{path}: same content as {other}; counted once")
}

/// Whether two inputs hold the same bytes (each as pieces, see [`LoadedInput::pieces`]).
fn same_content(a: &[&[u8]], b: &[&[u8]]) -> bool {
    let len = |p: &[&[u8]]| p.iter().map(|x| x.len()).sum::<usize>();
    if len(a) != len(b) {
        return false;
    }
    // Compare piece by piece, whatever the cut points (the lengths are equal).
    let (mut x, mut y) = (a.iter().copied(), b.iter().copied());
    let (mut ca, mut cb): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if ca.is_empty() {
            match x.next() {
                Some(p) => ca = p,
                None => return true,
            }
            continue;
        }
        if cb.is_empty() {
            match y.next() {
                Some(p) => cb = p,
                None => return false,
            }
            continue;
        }
        let n = ca.len().min(cb.len());
        if ca[..n] != cb[..n] {
            return false;
        }
        ca = &ca[n..];
        cb = &cb[n..];
    }
}

/// Counts for one input.
#[derive(Clone, Debug, Default)]
pub struct InputStats {
    pub lines: u64,
    /// Lines that are Postfix's (a repeated-message line counts once here).
    pub postfix_lines: u64,
    /// Events produced (repeats expanded, duplicates removed).
    pub events: u64,
    pub foreign_lines: u64,
    pub not_syslog_lines: u64,
    pub blank_lines: u64,
    pub overlong_lines: u64,
    pub nul_lines: u64,
    pub invalid_utf8_lines: u64,
    /// Lines also present in an earlier input (overlapping rotations, copies).
    pub duplicate_lines: u64,
    /// Events added by expanding `message repeated N times`.
    pub repeated_events: u64,
    /// Lines per timestamp format.
    pub formats: Vec<(TimeFormat, u64)>,
    pub first_at: Option<Stamp>,
    pub last_at: Option<Stamp>,
    pub year: Option<YearEvidence>,
    /// Distinct hosts of the Postfix lines.
    pub hosts: Vec<String>,
    /// Queue dump records (messages) read.
    pub records: u64,
}

impl InputStats {
    pub fn skipped_lines(&self) -> u64 {
        self.lines.saturating_sub(self.postfix_lines)
    }

    /// The dominant timestamp format, or `mixed`.
    pub fn format_name(&self) -> Option<&'static str> {
        match self.formats.as_slice() {
            [] => None,
            [(f, _)] => Some(f.name()),
            _ => Some("mixed"),
        }
    }
}

/// The parsed inputs.
pub struct Parsed<'a> {
    /// All Postfix events of all logs, ordered by time (ties: input order, then line); empty
    /// with [`Options::event_blocks`].
    pub events: Vec<Event<'a>>,
    /// The same events in blocks of [`blocks::BLOCK`], with [`Options::event_blocks`].
    pub blocks: Vec<Vec<Event<'a>>>,
    /// How many events there are, either way.
    pub event_count: usize,
    /// Per input, aligned with [`Loaded::inputs`].
    pub stats: Vec<InputStats>,
    pub diags: Vec<Diagnostics>,
    /// Not-syslog lines, when [`Options::keep_unparsed`] is set.
    pub unparsed: Vec<(Loc, &'a [u8])>,
    /// The queue dumps that were read.
    pub dumps: Vec<qdump::Dump>,
    /// Saved `postconf -n` output: parameter → value (later files win).
    pub postconf: std::collections::BTreeMap<String, String>,
    /// Per input, the input it repeats (the same file, or a log with the same content).
    pub duplicate_of: Vec<Option<usize>>,
    /// Where each event came from, to parse it again ([`Origins::events`]).
    pub origins: Origins<'a>,
}

/// What one chunk of one input produced.
#[derive(Default)]
struct ChunkOut<'a> {
    /// A chunk's events.
    events: Vec<Event<'a>>,
    /// An input's events, its chunks' joined.
    blocks: Blocks<'a>,
    stats: InputStats,
    formats: [u64; 4],
    diag: Diagnostics,
    unparsed: Vec<(Loc, &'a [u8])>,
    hosts: Vec<&'a [u8]>,
    /// Its year-less stamps.
    civil: u64,
    /// Its chunks, in order.
    origins: Vec<ChunkOrigin<'a>>,
}

fn format_index(f: TimeFormat) -> usize {
    match f {
        TimeFormat::Traditional => 0,
        TimeFormat::TraditionalPrecise => 1,
        TimeFormat::Rfc3339 => 2,
        TimeFormat::Iso8601 => 3,
    }
}

const FORMATS: [TimeFormat; 4] = [
    TimeFormat::Traditional,
    TimeFormat::TraditionalPrecise,
    TimeFormat::Rfc3339,
    TimeFormat::Iso8601,
];

fn parse_chunk<'a>(input: u32, path: &str, bytes: &'a [u8], keep_unparsed: bool) -> ChunkOut<'a> {
    parse_chunk_from(input, path, bytes, keep_unparsed, 0, usize::MAX)
}

/// [`parse_chunk`] of the lines of `bytes`, the first of which is line `first_line + 1` of
/// its chunk, until more than `limit` events are made.
fn parse_chunk_from<'a>(
    input: u32,
    path: &str,
    bytes: &'a [u8],
    keep_unparsed: bool,
    first_line: u32,
    limit: usize,
) -> ChunkOut<'a> {
    let mut out = ChunkOut {
        events: Vec::with_capacity((bytes.len() / 160).min(limit.saturating_add(1))),
        ..Default::default()
    };
    let s = &mut out.stats;
    let mut last_host: &[u8] = &[];
    let mut civil: u64 = 0;
    // Where parsing may start again, every `MARK_EVERY` events or so.
    let mut marks = Vec::new();
    let mut next_mark = origins::MARK_EVERY;
    // A chunk is almost always valid UTF-8 as a whole: checked at once, each line is then a
    // slice of it (a line starts and ends at an ASCII byte or the chunk's ends, so at
    // character boundaries); otherwise each line is checked on its own. Not for a few lines
    // parsed again (a `limit`), which would check the rest of the chunk for nothing.
    // (simdutf8's check: a few times faster than `std`'s on long ASCII text, the same answer.)
    let whole = (limit == usize::MAX)
        .then(|| simdutf8::basic::from_utf8(bytes).ok())
        .flatten();
    // Likewise a NUL byte is looked for in the chunk once, and line by line only when found
    // (or when only a few lines are parsed again).
    let has_nul = limit != usize::MAX || memchr::memchr(0, bytes).is_some();
    for (i, raw) in lines::lines(bytes).enumerate() {
        if out.events.len() > limit {
            break;
        }
        let line_no = first_line + i as u32 + 1;
        let loc = Loc {
            input,
            line: line_no,
        };
        s.lines += 1;
        if raw.len() > lines::MAX_LINE {
            s.overlong_lines += 1;
            out.diag.warn(
                WarnKind::OverlongLine,
                Some(line_no as u64),
                format!("{path}:{line_no}: line of {} bytes skipped", raw.len()),
            );
            continue;
        }
        let mut line = raw;
        if has_nul && memchr::memchr(0, line).is_some() {
            s.nul_lines += 1;
            line = input::classify::trim_nul(line);
            out.diag.warn(
                WarnKind::NulBytes,
                Some(line_no as u64),
                format!("{path}:{line_no}: NUL bytes in line"),
            );
        }
        let at = line.as_ptr() as usize - bytes.as_ptr() as usize;
        let utf8 = whole
            .and_then(|w| w.get(at..at + line.len()))
            .or_else(|| std::str::from_utf8(line).ok());
        if utf8.is_none() {
            s.invalid_utf8_lines += 1;
            out.diag.warn(
                WarnKind::InvalidUtf8,
                Some(line_no as u64),
                format!("{path}:{line_no}: invalid UTF-8 (parsed as bytes)"),
            );
        }
        match parse::parse_line(line) {
            Line::Postfix { mut event, repeat } => {
                if out.events.len() >= next_mark {
                    // A line that needs no line before it: parsing may start again here.
                    next_mark = out.events.len() + origins::MARK_EVERY;
                    marks.push(origins::Mark {
                        offset: (raw.as_ptr() as usize - bytes.as_ptr() as usize) as u32,
                        line: line_no - 1,
                        event: out.events.len() as u32,
                        civil: civil as u32,
                    });
                }
                if !event.format.has_year() {
                    civil += repeat as u64;
                }
                s.postfix_lines += 1;
                out.formats[format_index(event.format)] += 1;
                if event.host() != last_host {
                    last_host = event.host();
                    if !out.hosts.contains(&event.host()) {
                        out.hosts.push(event.host());
                    }
                }
                event.loc = loc;
                if let Some(text) = utf8 {
                    event.note_utf8(text);
                }
                if repeat > 1 || event.flags & flags::REPEATED != 0 {
                    s.repeated_events += repeat as u64;
                }
                for _ in 0..repeat {
                    out.events.push(event);
                }
            }
            Line::LastRepeated { host, count, .. } => {
                // Repeats the previous line of the same host.
                match out.events.last().copied() {
                    Some(mut prev) if prev.host() == host => {
                        if !prev.format.has_year() {
                            civil += count as u64;
                        }
                        s.postfix_lines += 1;
                        prev.flags |= flags::REPEATED;
                        prev.loc = loc;
                        s.repeated_events += count as u64;
                        for _ in 0..count {
                            out.events.push(prev);
                        }
                    }
                    _ => s.foreign_lines += 1,
                }
            }
            Line::Foreign { .. } => s.foreign_lines += 1,
            Line::NotSyslog => {
                if line.iter().all(|c| c.is_ascii_whitespace()) {
                    s.blank_lines += 1;
                    continue;
                }
                s.not_syslog_lines += 1;
                out.diag.warn(
                    WarnKind::NotSyslog,
                    Some(line_no as u64),
                    format!(
                        "{path}:{line_no}: not a syslog line: {:?}",
                        String::from_utf8_lossy(&line[..line.len().min(120)])
                    ),
                );
                if keep_unparsed {
                    out.unparsed.push((loc, line));
                }
            }
        }
    }
    out.civil = civil;
    out.origins.push(ChunkOrigin {
        bytes,
        line_base: 0,
        first_event: 0,
        first_civil: 0,
        marks,
    });
    out
}

/// Chunks parsed at once before their events join the input's list: enough to keep every
/// core busy, few enough that the chunks' own lists do not double the events' memory.
const CHUNKS_AT_ONCE: usize = 16;

/// Parse one log input: chunks in parallel, concatenated in order, line numbers made
/// absolute.
fn parse_log<'a>(idx: usize, li: &'a LoadedInput, keep_unparsed: bool) -> ChunkOut<'a> {
    let data: &'a [u8] = &li.data;
    let ranges = lines::chunks(data, lines::CHUNK);
    let mut all = ChunkOut::default();
    let mut line_base: u64 = 0;
    for batch in ranges.chunks(CHUNKS_AT_ONCE) {
        line_base = parse_chunks(&mut all, line_base, idx, li, data, batch, keep_unparsed);
    }
    all
}

/// Parse the chunks `ranges` of `bytes` (of input `idx`) in parallel and append them, in
/// order, to `all`, whose last line so far is `line_base`; returns the new last line.
fn parse_chunks<'a>(
    all: &mut ChunkOut<'a>,
    mut line_base: u64,
    idx: usize,
    li: &LoadedInput,
    bytes: &'a [u8],
    ranges: &[std::ops::Range<usize>],
    keep_unparsed: bool,
) -> u64 {
    let mut parts: Vec<ChunkOut<'a>> = ranges
        .par_iter()
        .map(|r| parse_chunk(idx as u32, &li.path, &bytes[r.clone()], keep_unparsed))
        .collect();
    let mut shifts = Vec::with_capacity(parts.len());
    let mut first_event = all.blocks.len() as u64;
    for p in &mut parts {
        shifts.push(line_base as u32);
        for o in &mut p.origins {
            o.line_base = line_base as u32;
            o.first_event = first_event;
            o.first_civil = all.civil;
        }
        first_event += p.events.len() as u64;
        all.civil += p.civil;
        all.origins.append(&mut p.origins);
        line_base = append_chunk(all, p, line_base);
    }
    let runs: Vec<(&[Event<'a>], u32)> = parts.iter().map(|p| &p.events[..]).zip(shifts).collect();
    all.blocks.extend_runs(&runs);
    line_base
}

/// Parse a gzip log while it decodes: the decoder fills the segments on a thread of its own,
/// and each segment's chunks are parsed (in parallel) as soon as it is set.
fn parse_streamed<'a>(
    idx: usize,
    li: &'a LoadedInput,
    s: &'a Streamed,
    keep_unparsed: bool,
) -> (ChunkOut<'a>, StreamEnd) {
    let (tx, rx) = std::sync::mpsc::channel();
    let compressed = s
        .compressed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let job = match compressed {
        Some(c) => Some((c, tx)),
        None => {
            // Decoded by an earlier parse of the same inputs: its segments are all set.
            for k in 0..s.segments.len() {
                let _ = tx.send(k);
            }
            drop(tx);
            None
        }
    };
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            let (c, tx) = job?;
            // The compressed bytes are read once: their pages go as the decoder moves on.
            let end =
                input::decompress::gunzip_segments(&c, &s.segments, s.segment, tx, &mut |n| {
                    c.release_prefix(n)
                });
            let _ = s.end.set(end.clone());
            Some(end)
        });
        let mut all = ChunkOut::default();
        let mut line_base: u64 = 0;
        // Ends when the decoder is done and drops its sender.
        for k in rx {
            let Some(seg) = s.segments[k].get() else {
                continue;
            };
            let ranges = lines::chunks(seg, lines::CHUNK);
            line_base = parse_chunks(&mut all, line_base, idx, li, seg, &ranges, keep_unparsed);
        }
        let end = decoder.join().ok().flatten();
        (
            all,
            end.or_else(|| s.end.get().cloned()).unwrap_or_default(),
        )
    })
}

/// Append all but the events of chunk `p`, whose first line is line `line_base + 1`, to
/// `all` (the caller copies the events, shifting their line numbers by `line_base`); returns
/// the line number of its last line.
fn append_chunk<'a>(all: &mut ChunkOut<'a>, p: &mut ChunkOut<'a>, line_base: u64) -> u64 {
    let shift = line_base as u32;
    for u in &mut p.unparsed {
        u.0.line += shift;
    }
    let mut diag = std::mem::take(&mut p.diag);
    diag.shift_lines(line_base);
    all.unparsed.append(&mut p.unparsed);
    all.diag.merge(diag);
    for &h in &p.hosts {
        if !all.hosts.contains(&h) {
            all.hosts.push(h);
        }
    }
    for (a, b) in all.formats.iter_mut().zip(p.formats) {
        *a += b;
    }
    let (s, o) = (&mut all.stats, &p.stats);
    s.lines += o.lines;
    s.postfix_lines += o.postfix_lines;
    s.foreign_lines += o.foreign_lines;
    s.not_syslog_lines += o.not_syslog_lines;
    s.blank_lines += o.blank_lines;
    s.overlong_lines += o.overlong_lines;
    s.nul_lines += o.nul_lines;
    s.invalid_utf8_lines += o.invalid_utf8_lines;
    s.repeated_events += o.repeated_events;
    line_base + o.lines
}

fn system_time_micros(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

/// Strong year evidence found in an input's own events, or in the queue dumps.
fn strong_evidence(
    events: &Blocks<'_>,
    offsets: &[u16],
    li: &LoadedInput,
    opts: &Options,
    arrivals: &HashMap<QueueId, (i64, usize)>,
    dumps: &[qdump::Dump],
) -> Option<(i32, YearEvidence)> {
    // Positions of civil events in `events` and their offsets.
    let civil_at = |i: usize| match events.get(i)?.raw_time() {
        RawTime::Civil(c) => Some(c),
        RawTime::Absolute(_) => None,
    };
    // Indices come from walking the same events: always there.
    let at = |i: usize| events.get(i).copied();
    // (index, year offset) of every civil event, walked lazily: no list per line.
    let civils = || {
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.raw_time(), RawTime::Civil(_)))
            .map(|(i, _)| i)
            .zip(offsets.iter().copied())
    };
    civils().next()?;
    let zone = &opts.zone;
    if let Some(y) = opts.year {
        return Some((y, YearEvidence::Flag { year: y }));
    }
    // A stamp with a year in the same file: anchor the nearest civil event to it.
    if let Some(abs_i) = events
        .iter()
        .position(|e| matches!(e.raw_time(), RawTime::Absolute(_)))
    {
        let RawTime::Absolute(s) = at(abs_i)?.raw_time() else {
            return None;
        };
        let (ci, k) = civils().min_by_key(|(i, _)| i.abs_diff(abs_i))?;
        let base = year::base_year_near(civil_at(ci)?, k, s.micros, zone);
        return Some((
            base,
            YearEvidence::MixedStamps {
                line: at(abs_i)?.loc.line,
            },
        ));
    }
    // Long queue IDs carry their arrival epoch. Prefer an arrival line (client=, uid=,
    // message-id=), whose time is that of the arrival.
    let long = civils()
        .filter(|(i, _)| at(*i).is_some_and(|e| e.queue().id().is_some_and(|q| q.is_long())))
        .find(|(i, _)| {
            let t = at(*i).map_or(&b""[..], |e| e.text());
            t.starts_with(b"client=") || t.starts_with(b"uid=") || t.starts_with(b"message-id=")
        })
        .or_else(|| {
            civils()
                .find(|(i, _)| at(*i).is_some_and(|e| e.queue().id().is_some_and(|q| q.is_long())))
        });
    if let Some((i, k)) = long {
        let q = at(i)?.queue().id()?;
        if let Some((secs, usec)) = q.long_arrival() {
            let base = year::base_year_near(civil_at(i)?, k, secs * MICROS + usec as i64, zone);
            return Some((
                base,
                YearEvidence::LongQueueId {
                    queue_id: q.to_string(),
                    line: at(i)?.loc.line,
                },
            ));
        }
    }
    // A queue ID of this file listed in a `postqueue -j` dump.
    if !arrivals.is_empty() {
        for (i, k) in civils() {
            if let Some(q) = at(i).and_then(|e| e.queue().id()) {
                if let Some(&(arrival, dump)) = arrivals.get(&q) {
                    let base = year::base_year_near(civil_at(i)?, k, arrival * MICROS, zone);
                    return Some((
                        base,
                        YearEvidence::QueueDump {
                            queue_id: q.to_string(),
                            dump: dumps[dump].path.clone(),
                        },
                    ));
                }
            }
        }
    }
    // The gzip header's time is when the file was compressed: just after its last line.
    if let Some(m) = li.gzip_mtime {
        let (li_, lk) = civils().last()?;
        let base = year::base_year_near(civil_at(li_)?, lk, m as i64 * MICROS, zone);
        return Some((
            base,
            YearEvidence::GzipHeader {
                mtime: Stamp::from_unix(m as i64, 0),
            },
        ));
    }
    None
}

/// A parsed log: its input index, chunks' output, per-civil-event year offsets, and the
/// strong year evidence found in it.
type LogOut<'a> = (usize, ChunkOut<'a>, Vec<u16>, Option<(i32, YearEvidence)>);

/// Parse every input: logs into events, dumps into records; date, order and de-duplicate.
pub fn parse<'a>(loaded: &'a Loaded, opts: &Options) -> Parsed<'a> {
    let n = loaded.inputs.len();
    let mut stats: Vec<InputStats> = vec![InputStats::default(); n];
    let mut diags: Vec<Diagnostics> = loaded.inputs.iter().map(|i| i.diag.clone()).collect();

    // Queue dumps first: their absolute arrival times are year evidence for the logs.
    let mut dumps = Vec::new();
    for (i, li) in loaded.inputs.iter().enumerate() {
        if li.duplicate_of.is_some() {
            continue;
        }
        let parsed = match li.kind {
            Kind::PostqueueJ => qdump::parse_json(&li.data, &li.path),
            Kind::PostqueueP => qdump::parse_text(&li.data, &li.path),
            _ => continue,
        };
        let mut parsed = parsed;
        if let Some(t) = opts.taken_at {
            parsed.taken_at = Some(t);
            parsed.taken_at_source = Some("flag");
        } else if let Some(t) = qdump::time_in_name(&li.path) {
            parsed.taken_at = Some(t);
            parsed.taken_at_source = Some("file-name");
        } else if let Some(m) = li.mtime {
            parsed.taken_at = Some(Stamp::from_unix(
                system_time_micros(m).div_euclid(MICROS),
                0,
            ));
            parsed.taken_at_source = Some("mtime");
        }
        // The capture time must not be before the arrivals it lists.
        if let Some(t) = parsed.taken_at {
            let late = parsed
                .messages
                .iter()
                .filter_map(|m| m.arrival_unix)
                .filter(|&a| a > t.unix_secs() + 120)
                .count();
            if late > 0 {
                diags[i].warn(
                    WarnKind::BadRecord,
                    None,
                    format!(
                        "{}: {late} messages arrived after the capture time {t} (from {}); set --taken-at",
                        li.path,
                        parsed.taken_at_source.unwrap_or("?")
                    ),
                );
            }
        }
        stats[i].lines = lines::lines(&li.data).count() as u64;
        stats[i].records = parsed.messages.len() as u64;
        for w in &parsed.warnings {
            diags[i].push(w.clone());
        }
        dumps.push(parsed);
    }
    let mut postconf = std::collections::BTreeMap::new();
    for (i, li) in loaded.inputs.iter().enumerate() {
        if li.kind == Kind::Postconf && li.duplicate_of.is_none() {
            for line in lines::lines(&li.data) {
                let line = String::from_utf8_lossy(line);
                if let Some((k, v)) = line.split_once(" = ") {
                    if !k.trim().is_empty() && !k.trim_start().starts_with('#') {
                        postconf.insert(k.trim().to_string(), v.trim().to_string());
                        stats[i].records += 1;
                    }
                }
            }
            stats[i].lines = lines::lines(&li.data).count() as u64;
        }
    }
    let mut arrivals: HashMap<QueueId, (i64, usize)> = HashMap::default();
    for (d, dump) in dumps.iter().enumerate() {
        for m in &dump.messages {
            if let (Some(q), Some(a)) = (m.queue_id, m.arrival_unix) {
                arrivals.entry(q).or_insert((a, d));
            }
        }
    }

    // Logs: parse in parallel.
    let logs: Vec<usize> = (0..n)
        .filter(|&i| {
            loaded.inputs[i].kind == Kind::Maillog && loaded.inputs[i].duplicate_of.is_none()
        })
        .collect();
    let (mut outs, ends): (Vec<LogOut<'a>>, Vec<Option<StreamEnd>>) = logs
        .par_iter()
        .map(|&i| {
            let li = &loaded.inputs[i];
            let (out, end) = match &li.streamed {
                Some(s) => {
                    let (out, end) = parse_streamed(i, li, s, opts.keep_unparsed);
                    (out, Some(end))
                }
                None => (parse_log(i, li, opts.keep_unparsed), None),
            };
            let offs = year::offsets(out.blocks.iter().filter_map(|e| match e.raw_time() {
                RawTime::Civil(c) => Some(c),
                RawTime::Absolute(_) => None,
            }));
            let ev = strong_evidence(
                &out.blocks,
                &offs,
                &loaded.inputs[i],
                opts,
                &arrivals,
                &dumps,
            );
            ((i, out, offs, ev), end)
        })
        .unzip();

    crate::timing::stage("ingest: parsed");
    for (&i, end) in logs.iter().zip(ends) {
        if let Some(StreamEnd {
            kept,
            broken: Some((offset, decoded, reason)),
            dropped,
        }) = end
        {
            let w = broken_gzip(
                &loaded.inputs[i].path,
                offset,
                kept,
                dropped,
                decoded,
                &reason,
            );
            diags[i].push(w);
        }
    }
    // A log given twice (the same bytes, compressed or not) counts once: the later copy is
    // dropped, its lines counted as duplicates.
    let mut duplicate_of: Vec<Option<usize>> =
        loaded.inputs.iter().map(|li| li.duplicate_of).collect();
    let pieces: Vec<Vec<&[u8]>> = outs.iter().map(|o| loaded.inputs[o.0].pieces()).collect();
    let mut keep = vec![true; outs.len()];
    for b in 1..outs.len() {
        if pieces[b].iter().all(|p| p.is_empty()) {
            continue;
        }
        if let Some(a) = (0..b).find(|&a| keep[a] && same_content(&pieces[a], &pieces[b])) {
            let (i, j) = (outs[b].0, outs[a].0);
            keep[b] = false;
            duplicate_of[i] = Some(j);
            let msg = duplicate_warning(&loaded.inputs[i].path, &loaded.inputs[j].path);
            diags[i].warn(WarnKind::Duplicate, None, msg);
            let l = outs[b].1.stats.lines;
            stats[i].lines = l;
            stats[i].duplicate_lines = l;
        }
    }
    let mut k = 0;
    outs.retain(|_| {
        k += 1;
        keep[k - 1]
    });
    // Files given twice: count their lines, parse nothing.
    for (i, li) in loaded.inputs.iter().enumerate() {
        if li.duplicate_of.is_some() {
            let l = lines::lines(&li.data).count() as u64;
            stats[i].lines = l;
            stats[i].duplicate_lines = l;
        }
    }

    // Spans of inputs whose year is certain, for neighbours.
    let span = |events: &Blocks<'_>| -> Option<(i64, i64)> {
        let lo = events.par_iter().map(|e| e.time().micros).min()?;
        let hi = events.par_iter().map(|e| e.time().micros).max()?;
        Some((lo, hi))
    };
    let mut strong_spans: Vec<(String, (i64, i64))> = Vec::new();
    // Blocks of events resolved in parallel, each from its first year-less stamp's place
    // in `offs`.
    let resolve = |out: &mut ChunkOut<'a>, offs: &[u16], base: i32| {
        let civil = |e: &Event<'_>| matches!(e.raw_time(), RawTime::Civil(_));
        let counts: Vec<usize> = out
            .blocks
            .par_blocks_mut()
            .map(|b| b.iter().filter(|e| civil(e)).count())
            .collect();
        let firsts: Vec<usize> = counts
            .iter()
            .scan(0, |k, n| {
                let first = *k;
                *k += n;
                Some(first)
            })
            .collect();
        out.blocks
            .par_blocks_mut()
            .zip(firsts)
            .for_each(|(block, mut k)| {
                let mut conv = opts.zone.converter();
                for e in block {
                    if let RawTime::Civil(c) = e.raw_time() {
                        let y = base + offs[k] as i32;
                        k += 1;
                        e.set_time(conv.stamp(c.local_micros(y)));
                    }
                }
            });
    };
    // The year each input's first year-less stamp was given, for `Origins`.
    let mut bases: Vec<Option<i32>> = vec![None; n];
    for (i, out, offs, ev) in &mut outs {
        let has_civil = !offs.is_empty();
        let evidence = if !has_civil {
            (!out.blocks.is_empty()).then_some(YearEvidence::InStamps)
        } else if let Some((base, ev)) = ev.take() {
            resolve(out, offs, base);
            bases[*i] = Some(base);
            Some(ev)
        } else {
            None
        };
        if let Some(e) = &evidence {
            if e.is_strong() {
                if let Some(s) = span(&out.blocks) {
                    strong_spans.push((loaded.inputs[*i].path.clone(), s));
                }
            }
        }
        stats[*i].year = evidence;
    }
    // Weak evidence: a neighbour with a known year, else the mtime, else the clock.
    for (i, out, offs, _) in &mut outs {
        if stats[*i].year.is_some() || offs.is_empty() {
            continue;
        }
        let li = &loaded.inputs[*i];
        let last_civil = out.blocks.iter().rev().find_map(|e| match e.raw_time() {
            RawTime::Civil(c) => Some(c),
            _ => None,
        });
        let Some(last_civil) = last_civil else {
            continue;
        };
        let last_k = *offs.last().unwrap_or(&0);
        let (anchor, mut evidence) = match li.mtime {
            Some(m) => {
                let micros = system_time_micros(m);
                (
                    micros,
                    YearEvidence::Mtime {
                        mtime: Stamp {
                            micros: micros - micros.rem_euclid(MICROS),
                            offset_secs: 0,
                        },
                    },
                )
            }
            None => (system_time_micros(opts.now), YearEvidence::Clock),
        };
        let mut base = year::base_year_near(last_civil, last_k, anchor, &opts.zone);
        if !strong_spans.is_empty() {
            // Choose among the years around the weak guess the one that puts this file
            // nearest to an input whose year is certain.
            let mut best: Option<(i64, i32, String)> = None;
            for b in [base - 1, base, base + 1] {
                resolve(out, offs, b);
                let Some((lo, hi)) = span(&out.blocks) else {
                    continue;
                };
                for (p, (slo, shi)) in &strong_spans {
                    let gap = if hi < *slo {
                        slo - hi
                    } else if lo > *shi {
                        lo - shi
                    } else {
                        0
                    };
                    if best.as_ref().is_none_or(|(g, _, _)| gap < *g) {
                        best = Some((gap, b, p.clone()));
                    }
                }
            }
            if let Some((_, b, p)) = best {
                if b != base || !matches!(evidence, YearEvidence::Mtime { .. }) {
                    evidence = YearEvidence::Neighbour { input: p };
                }
                base = b;
            }
        }
        resolve(out, offs, base);
        bases[*i] = Some(base);
        if !evidence.is_strong() {
            diags[*i].warn(
                WarnKind::WeakYear,
                None,
                format!(
                    "{}: the year of its stamps was inferred from {}; use --year to set it",
                    li.path,
                    match &evidence {
                        YearEvidence::Neighbour { input } =>
                            format!("the neighbouring input {input}"),
                        YearEvidence::Mtime { .. } => "the file's modification time".into(),
                        _ => "the clock".into(),
                    }
                ),
            );
        }
        stats[*i].year = Some(evidence);
    }

    crate::timing::stage("ingest: years");
    // Per-input stats, first/last times.
    for (i, out, _, _) in &mut outs {
        let s = &mut stats[*i];
        let year = s.year.take();
        *s = std::mem::take(&mut out.stats);
        s.year = year;
        s.formats = FORMATS
            .iter()
            .zip(out.formats)
            .filter(|(_, c)| *c > 0)
            .map(|(f, c)| (*f, c))
            .collect();
        // Of equal instants, the first is the first and the last the last (as sequentially).
        s.first_at = out
            .blocks
            .par_iter()
            .map(|e| e.time())
            .min_by_key(|t| t.micros);
        s.last_at = out
            .blocks
            .par_iter()
            .map(|e| e.time())
            .max_by_key(|t| t.micros);
        s.hosts = out
            .hosts
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        s.hosts.sort();
        if s.postfix_lines == 0 && s.lines > 0 {
            diags[*i].warn(
                WarnKind::NoPostfixLines,
                None,
                format!(
                    "{}: no Postfix lines among its {} lines",
                    loaded.inputs[*i].path, s.lines
                ),
            );
        }
        diags[*i].merge(std::mem::take(&mut out.diag));
    }

    // Order logs by content time (not by name), then drop lines that an earlier input
    // already holds (overlapping copies, copytruncate).
    outs.sort_by(|a, b| {
        let fa = stats[a.0].first_at.map(|t| t.micros);
        let fb = stats[b.0].first_at.map(|t| t.micros);
        fa.cmp(&fb)
            .then_with(|| loaded.inputs[a.0].path.cmp(&loaded.inputs[b.0].path))
    });
    let mut overlap: Vec<u64> = vec![0; n];
    for j in 1..outs.len() {
        let (before, after) = outs.split_at_mut(j);
        let cur = &mut after[0];
        for prev in before.iter().rev() {
            let dropped = drop_overlap(&prev.1.blocks, &mut cur.1.blocks);
            if dropped > 0 {
                overlap[cur.0] = dropped as u64;
                stats[cur.0].duplicate_lines += dropped as u64;
                diags[cur.0].warn(
                    WarnKind::Duplicate,
                    None,
                    format!(
                        "{}: its first {dropped} events repeat the end of {}; counted once",
                        loaded.inputs[cur.0].path, loaded.inputs[prev.0].path
                    ),
                );
                break;
            }
        }
    }

    let mut unparsed = Vec::new();
    let mut per_input: Vec<Blocks<'a>> = Vec::with_capacity(outs.len());
    let mut inputs = Vec::with_capacity(outs.len());
    for (i, out, offs, _) in &mut outs {
        stats[*i].events = out.blocks.len() as u64;
        per_input.push(std::mem::take(&mut out.blocks));
        unparsed.append(&mut out.unparsed);
        let mut origin = InputOrigin {
            input: *i as u32,
            chunks: std::mem::take(&mut out.origins),
            dropped: overlap[*i],
            base: bases[*i],
            years: Vec::new(),
        };
        origin.set_years(offs);
        inputs.push(origin);
    }
    crate::timing::stage("ingest: overlaps");
    let (events, runs) = merge_by_time(per_input);
    let origins = Origins {
        inputs,
        runs,
        zone: opts.zone.clone(),
        total: events.iter().map(|b| b.len() as u64).sum(),
    };
    let event_count = origins.total as usize;
    let (events, blocks) = if opts.event_blocks {
        (Vec::new(), events)
    } else {
        (blocks::flatten(events), Vec::new())
    };
    unparsed.sort_by_key(|(l, _)| *l);

    Parsed {
        events,
        blocks,
        event_count,
        stats,
        diags,
        unparsed,
        dumps,
        postconf,
        duplicate_of,
        origins,
    }
}

/// Merge the inputs' events into one stream ordered by time. Each input keeps its own line
/// order (a log file is written in the order things happened, even where its clock jumps or
/// syslog reorders lines by a second); across inputs the earlier head goes first, and on a
/// tie the input that starts earlier.
///
/// The runs (an input's events up to the next input's head) are found in order, reading only
/// the times; [`blocks::merge`] then moves the blocks they cover whole and copies the rest.
/// Rotated logs merge in a handful of long runs, moved.
fn merge_by_time<'a>(inputs: Vec<Blocks<'a>>) -> (Vec<Vec<Event<'a>>>, Vec<Run>) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    if inputs.len() == 1 {
        let run = Run {
            start: 0,
            origin: 0,
            local: 0,
        };
        let only = inputs.into_iter().next().unwrap_or_default();
        return (only.into_blocks(), vec![run]);
    }
    let mut merged: Vec<Run> = Vec::new();
    let mut at = 0u64;
    // Each run: (input, from, to), in merged order.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut pos = vec![0usize; inputs.len()];
    let mut heap: BinaryHeap<Reverse<(i64, usize)>> = inputs
        .iter()
        .enumerate()
        .filter_map(|(r, v)| Some(Reverse((v.get(0)?.time().micros, r))))
        .collect();
    while let Some(Reverse((_, r))) = heap.pop() {
        let v = &inputs[r];
        // Take this input's run of events up to the next input's head.
        let limit = heap.peek().map(|Reverse((t, r2))| (*t, *r2));
        let start = pos[r];
        let mut p = start + 1;
        match limit {
            Some((t, r2)) => {
                while v.get(p).is_some_and(|e| (e.time().micros, r) <= (t, r2)) {
                    p += 1;
                }
            }
            None => p = v.len(),
        }
        runs.push((r, start, p));
        merged.push(Run {
            start: at,
            origin: r as u32,
            local: start as u64,
        });
        at += (p - start) as u64;
        pos[r] = p;
        if let Some(e) = v.get(p) {
            heap.push(Reverse((e.time().micros, r)));
        }
    }
    (blocks::merge(inputs, &runs), merged)
}

/// Two events are the same log line (ignoring where they were read).
fn same_line(a: &Event<'_>, b: &Event<'_>) -> bool {
    a.raw_time() == b.raw_time()
        && a.pid() == b.pid()
        && a.text() == b.text()
        && a.host() == b.host()
        && a.daemon_name() == b.daemon_name()
        && a.instance() == b.instance()
        && a.service() == b.service()
        && a.queue() == b.queue()
}

/// If a suffix of `prev` equals a prefix of `cur`, remove that prefix from `cur` and return
/// its length.
fn drop_overlap(prev: &Blocks<'_>, cur: &mut Blocks<'_>) -> usize {
    let Some(&first) = cur.get(0) else {
        return 0;
    };
    // Candidate start positions: events of `prev` equal to `cur[0]`, latest first, within
    // the part of `prev` that is not older than `cur[0]`.
    for start in (0..prev.len()).rev() {
        let Some(p) = prev.get(start) else { break };
        if p.time().micros < first.time().micros {
            break;
        }
        if !same_line(p, &first) {
            continue;
        }
        let n = prev.len() - start;
        let tail = (start..prev.len()).filter_map(|i| prev.get(i));
        if n <= cur.len() && tail.zip(cur.iter()).all(|(a, b)| same_line(a, b)) {
            cur.drop_front(n);
            return n;
        }
    }
    0
}
