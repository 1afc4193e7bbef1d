//! The events of an input, or of all inputs merged, as a list of fixed-size blocks: one
//! list of millions of events would be one allocation, which can only be let go of whole. A
//! report hands the blocks to the timeline builder, which lets go of each once it is booked
//! ([`Blocks::into_blocks`]); the other commands take one list ([`Blocks::into_vec`]).

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

    /// The blocks, each with the number of its first event, to change in place on every
    /// core. Only before any event was dropped.
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

    /// The events of `from..to`, as slices of the blocks, in order.
    pub fn slices(&self, from: usize, to: usize) -> Vec<&[Event<'a>]> {
        let mut out = Vec::new();
        let (mut at, end) = (from + self.skip, to.min(self.len) + self.skip);
        while at < end {
            let b = &self.blocks[at / BLOCK];
            let hi = (at / BLOCK * BLOCK + b.len()).min(end);
            out.push(&b[at % BLOCK..hi - at / BLOCK * BLOCK]);
            at = hi;
        }
        out
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

    /// One list of the events, each block let go of once copied.
    pub fn into_vec(self) -> Vec<Event<'a>> {
        let skip = self.skip;
        let mut out = Vec::with_capacity(self.len);
        for (k, b) in self.blocks.into_iter().enumerate() {
            out.extend_from_slice(&b[if k == 0 { skip } else { 0 }..]);
        }
        out
    }
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
        let sl: Vec<u32> = bl
            .slices(3, BLOCK + 9)
            .iter()
            .flat_map(|s| s.iter().map(|e| e.loc.line))
            .collect();
        assert_eq!(sl, want[n + 3..n + BLOCK + 9]);
        assert_eq!(
            bl.into_vec().iter().map(|e| e.loc.line).collect::<Vec<_>>(),
            want[n..]
        );
    }
}
