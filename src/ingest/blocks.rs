//! The events of an input as a list of fixed-size blocks, and of all inputs merged as a list
//! of blocks ([`merge`]): one list of millions of events would be one allocation, which can
//! only be let go of whole. A report hands the blocks to the timeline builder, which lets go
//! of each once it is booked; the other commands take one list ([`flatten`]).

use rayon::prelude::*;

use crate::parse::Event;

/// Events per block (4 MiB of events); the year-less stamps of an input are dated a block at
/// a time, on every core.
pub const BLOCK: usize = 1 << 16;

/// Events in blocks of [`BLOCK`] (the last one shorter), the first `skip` of them dropped.
#[derive(Default, Debug)]
pub struct Blocks<'a> {
    blocks: Vec<Vec<Event<'a>>>,
    /// Events dropped from the start of the first block (an overlap with an earlier input).
    skip: usize,
    len: usize,
}

impl<'a> Blocks<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&Event<'a>> {
        if i >= self.len {
            return None;
        }
        let at = i + self.skip;
        self.blocks.get(at / BLOCK)?.get(at % BLOCK)
    }

    /// The events in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Event<'a>> + '_ {
        let skip = self.skip;
        self.blocks
            .iter()
            .enumerate()
            .flat_map(move |(k, b)| b[if k == 0 { skip } else { 0 }..].iter())
    }

    /// The events, on every core (in order, for `min` and `max`, which keep the first).
    pub fn par_iter(&self) -> impl ParallelIterator<Item = &Event<'a>> + '_ {
        let skip = self.skip;
        self.blocks
            .par_iter()
            .enumerate()
            .flat_map_iter(move |(k, b)| b[if k == 0 { skip } else { 0 }..].iter())
    }

    /// The blocks, to change in place on every core (block `k` holds events `k * BLOCK ..`).
    /// Only before any event was dropped.
    pub fn par_blocks_mut(&mut self) -> impl IndexedParallelIterator<Item = &mut Vec<Event<'a>>> {
        debug_assert_eq!(self.skip, 0);
        self.blocks.par_iter_mut()
    }

    /// Append `runs` of events in order, each event's line number shifted by its run's shift,
    /// on every core: the first touch of fresh pages (zeroed by the kernel) costs more than
    /// the copy itself.
    pub fn extend_runs(&mut self, runs: &[(&[Event<'a>], u32)]) {
        let starts: Vec<usize> = runs
            .iter()
            .scan(0, |at, (r, _)| {
                let start = *at;
                *at += r.len();
                Some(start)
            })
            .collect();
        let total: usize = runs.iter().map(|(r, _)| r.len()).sum();
        let take = |k: usize| {
            let i = starts.partition_point(|&s| s <= k) - 1;
            let (run, shift) = runs[i];
            let mut e = run[k - starts[i]];
            e.loc.line += shift;
            e
        };
        // Fill the last block, then new ones.
        let mut k = 0;
        if let Some(last) = self.blocks.last_mut() {
            let room = (BLOCK - last.len()).min(total);
            last.extend((0..room).map(take));
            k = room;
        }
        let fresh: Vec<Vec<Event<'a>>> = (k..total)
            .step_by(BLOCK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|lo| {
                let hi = (lo + BLOCK).min(total);
                let mut b = Vec::with_capacity(BLOCK);
                b.par_extend((lo..hi).into_par_iter().with_min_len(1 << 12).map(take));
                b
            })
            .collect();
        self.blocks.extend(fresh);
        self.len += total;
    }

    /// Drop the first `n` events.
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        self.skip += n;
        let whole = self.skip / BLOCK;
        self.blocks.drain(..whole.min(self.blocks.len()));
        self.skip -= whole * BLOCK;
    }

    /// The blocks, the dropped events gone (a report's builder lets go of each once booked).
    pub fn into_blocks(mut self) -> Vec<Vec<Event<'a>>> {
        if self.skip > 0 {
            if let Some(first) = self.blocks.first_mut() {
                first.drain(..self.skip);
            }
        }
        self.blocks
    }
}

/// One list of the events of `blocks`, each block let go of once copied.
pub fn flatten<'a>(blocks: Vec<Vec<Event<'a>>>) -> Vec<Event<'a>> {
    let mut out = Vec::with_capacity(blocks.iter().map(Vec::len).sum());
    for b in blocks {
        out.extend_from_slice(&b);
    }
    out
}

/// The events of several inputs in the order `spans` give: (input, from, to), each a run of
/// an input's events, every input's runs in its own order. A block a run covers whole moves
/// to the result as it is (rotated logs merge in a handful of long runs: nothing is copied);
/// the other events are copied into new blocks, and an input's block is let go of once its
/// last event is copied. So the merge never holds the events twice. The blocks of the result
/// may be shorter than [`BLOCK`].
pub fn merge<'a>(
    mut inputs: Vec<Blocks<'a>>,
    spans: &[(usize, usize, usize)],
) -> Vec<Vec<Event<'a>>> {
    let mut out: Vec<Vec<Event<'a>>> = Vec::new();
    let mut copied: Vec<Event<'a>> = Vec::new();
    for &(r, from, to) in spans {
        let Some(input) = inputs.get_mut(r) else {
            continue;
        };
        let (mut at, end) = (from + input.skip, to.min(input.len) + input.skip);
        while at < end {
            let k = at / BLOCK;
            let base = k * BLOCK;
            let Some(block) = input.blocks.get_mut(k) else {
                break;
            };
            let hi = (base + block.len()).min(end);
            if at == base && hi == base + block.len() {
                if !copied.is_empty() {
                    out.push(std::mem::take(&mut copied));
                }
                out.push(std::mem::take(block));
            } else {
                if copied.capacity() == 0 {
                    copied.reserve_exact(BLOCK);
                }
                copied.extend_from_slice(&block[at - base..hi - base]);
                if hi == base + block.len() {
                    *block = Vec::new();
                }
                if copied.len() >= BLOCK {
                    out.push(std::mem::take(&mut copied));
                }
            }
            at = hi;
        }
    }
    if !copied.is_empty() {
        out.push(copied);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: usize) -> Vec<Event<'static>> {
        let line: &'static [u8] = b"Nov 30 01:02:03 mx1 postfix/qmgr[7]: 4F2A1B3C: removed";
        let crate::parse::Line::Postfix { event, .. } = crate::parse::parse_line(line) else {
            panic!("a Postfix line");
        };
        (0..n)
            .map(|i| {
                let mut e = event;
                e.loc.line = i as u32;
                e
            })
            .collect()
    }

    #[test]
    fn blocks_hold_runs_in_order_and_drop_from_the_front() {
        let a = events(BLOCK + 10);
        let b = events(3 * BLOCK);
        let mut bl = Blocks::default();
        bl.extend_runs(&[(&a[..7], 0)]);
        bl.extend_runs(&[(&a[7..], 0), (&b[..], 1_000_000)]);
        let want: Vec<u32> = (0..BLOCK as u32 + 10)
            .chain((0..3 * BLOCK as u32).map(|l| l + 1_000_000))
            .collect();
        let lines = |bl: &Blocks<'_>| bl.iter().map(|e| e.loc.line).collect::<Vec<u32>>();
        assert_eq!(bl.len(), want.len());
        assert_eq!(lines(&bl), want);
        assert!(bl.blocks.iter().rev().skip(1).all(|b| b.len() == BLOCK));
        for i in [0, 6, 7, BLOCK - 1, BLOCK, BLOCK + 10, want.len() - 1] {
            assert_eq!(bl.get(i).map(|e| e.loc.line), Some(want[i]), "event {i}");
        }
        assert!(bl.get(want.len()).is_none());
        let n = BLOCK + 12;
        bl.drop_front(n);
        assert_eq!(lines(&bl), want[n..]);
        assert_eq!(bl.len(), want.len() - n);
        assert_eq!(bl.get(5).map(|e| e.loc.line), Some(want[n + 5]));
        let par: Vec<u32> = bl.par_iter().map(|e| e.loc.line).collect();
        assert_eq!(par, want[n..]);
        assert_eq!(
            flatten(bl.into_blocks())
                .iter()
                .map(|e| e.loc.line)
                .collect::<Vec<_>>(),
            want[n..]
        );
    }

    #[test]
    fn a_merge_moves_whole_blocks_and_copies_the_rest_in_order() {
        // Two inputs of 2.5 blocks, the second with 3 events dropped from its front; runs
        // that cover whole blocks, parts of blocks, and single events.
        let make = |shift: u32, drop: usize| {
            let mut b = Blocks::default();
            let ev = events(5 * BLOCK / 2);
            b.extend_runs(&[(&ev[..], shift)]);
            b.drop_front(drop);
            b
        };
        let (a, b) = (make(0, 0), make(10_000_000, 3));
        let (na, nb) = (a.len(), b.len());
        let spans = [
            (0, 0, BLOCK),
            (1, 0, 1),
            (0, BLOCK, BLOCK + 5),
            (1, 1, BLOCK + 100),
            (0, BLOCK + 5, na),
            (1, BLOCK + 100, nb),
        ];
        let line = |r: usize, i: usize| {
            if r == 0 {
                i as u32
            } else {
                10_000_000 + (i + 3) as u32
            }
        };
        let want: Vec<u32> = spans
            .iter()
            .flat_map(|&(r, from, to)| (from..to).map(move |i| line(r, i)))
            .collect();
        let merged = merge(vec![a, b], &spans);
        assert_eq!(merged[0].len(), BLOCK, "the first block moved whole");
        let got: Vec<u32> = merged.iter().flatten().map(|e| e.loc.line).collect();
        assert_eq!(got, want);
    }
}
