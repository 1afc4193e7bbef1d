//! The binary's global allocator: mimalloc for everything but large blocks, which go to the
//! kernel and back to it the moment they are freed.
//!
//! A report makes and frees millions of small strings and vectors (mimalloc's strength), and a
//! few hundred large blocks: the events in blocks of 3.7 MB, the decoded text of a gzip log,
//! the long vectors of the lives. The blocks of events are freed in bulk while the lives stage
//! grows (the builder lets go of each once booked). mimalloc keeps freed pages for a while
//! before it gives them back (a second, in mimalloc 3), so they stayed resident as the lives
//! grew beside them: on the 1 GiB benchmark the lives stage's RssAnon rose from 433 MiB at the
//! parse's end to about 545 MiB. Mapped here, they leave as they are freed (about 405 MiB at
//! the peak), at one system call per large block, and a large vector grows by `mremap`
//! without a copy.
//!
//! [`LARGE`] is 2 MiB: above a parse chunk's own list of events (about 1.5 MB, made and freed
//! hundreds of times a gigabyte, which mimalloc hands round again without the kernel), below a
//! block of events. Every mapping (a huge page or more, at that size) is offered transparent
//! huge pages (`MADV_HUGEPAGE`), as mimalloc's own memory is, so that the kernel faults it in
//! 2 MiB at a time: with 4 KiB pages the run took 15 times as many page faults and a third
//! more system time.
//!
//! Each large block is a mapping of its own, which the kernel merges with its neighbours
//! where it can: a report on the 4 GiB benchmark log (about 400 blocks of events at once)
//! never had more than 75 mappings in all, far below the kernel's default limit of 65,530 a
//! process (`vm.max_map_count`).
//!
//! On systems other than Linux (no `mremap`) everything goes to mimalloc.

use std::alloc::{GlobalAlloc, Layout};

/// Blocks of this size or more are mapped from the kernel (on Linux).
pub const LARGE: usize = 2 << 20;

/// The allocator (see the module docs): `#[global_allocator] static A: Heap = Heap;`.
pub struct Heap;

/// Whether a block of `layout` is mapped: large enough, and aligned no more than a page (every
/// page size is a multiple of 4 KiB, and a mapping starts on a page).
#[cfg(target_os = "linux")]
fn mapped(layout: Layout) -> bool {
    layout.size() >= LARGE && layout.align() <= 4096
}

#[cfg(target_os = "linux")]
mod os {
    /// A fresh private anonymous mapping of `size` bytes (zeroed), or null.
    pub fn map(size: usize) -> *mut u8 {
        // SAFETY: a new anonymous mapping touches no existing memory; failure is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        // Faulted in a huge page at a time where one fits. SAFETY: advice on our own
        // mapping; refused advice changes nothing.
        unsafe { libc::madvise(p, size, libc::MADV_HUGEPAGE) };
        p.cast()
    }

    /// Unmap the mapping of `size` bytes at `p`.
    ///
    /// # Safety
    /// `p` and `size` must be a mapping made by [`map`] or [`remap`], not used afterwards.
    pub unsafe fn unmap(p: *mut u8, size: usize) {
        // SAFETY: the caller's contract. It cannot fail for a whole mapping of ours.
        unsafe { libc::munmap(p.cast(), size) };
    }

    /// The mapping of `old` bytes at `p`, grown or shrunk to `new`, moved if need be (its
    /// contents kept up to the smaller size); null if it cannot be.
    ///
    /// # Safety
    /// As for [`unmap`]; on success `p` is no longer valid.
    pub unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        // SAFETY: the caller's contract; failure is checked (the old mapping then stays).
        let q = unsafe { libc::mremap(p.cast(), old, new, libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            q.cast()
        }
    }
}

// SAFETY: every block is either mimalloc's (small, or not on Linux) or a mapping of its own
// (large): `mapped` depends only on the layout, and `dealloc` and `realloc` are given the
// layout the block was made with, so each block goes back to where it came from. A mapping is
// page-aligned, so it meets any alignment `mapped` accepts, and it starts zeroed.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if mapped(layout) {
            return os::map(layout.size());
        }
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if mapped(layout) {
            return os::map(layout.size());
        }
        // SAFETY: as for `alloc`.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        #[cfg(target_os = "linux")]
        if mapped(layout) {
            // SAFETY: a block of this layout is a mapping of this size (see above).
            return unsafe { os::unmap(ptr, layout.size()) };
        }
        // SAFETY: a block of this layout is mimalloc's.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: the caller's contract for `realloc`: `new_size`, rounded up to the
            // alignment, does not overflow `isize`.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            match (mapped(layout), mapped(new)) {
                // SAFETY: a mapping of the old size (see above).
                (true, true) => return unsafe { os::remap(ptr, layout.size(), new_size) },
                (false, false) => {}
                _ => {
                    // From one kind to the other: a new block, the contents copied.
                    // SAFETY: `new` has a non-zero size (one side is large, and a small
                    // layout here is the caller's non-zero one); the copy is within both.
                    unsafe {
                        let q = self.alloc(new);
                        if !q.is_null() {
                            std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                            self.dealloc(ptr, layout);
                        }
                        return q;
                    }
                }
            }
        }
        // SAFETY: a block of this layout is mimalloc's, and stays so at the new size.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fill `n` bytes at `p` with a pattern that depends on the position.
    fn fill(p: *mut u8, n: usize) {
        for i in 0..n {
            // SAFETY: `p` holds at least `n` bytes.
            unsafe { *p.add(i) = (i % 251) as u8 };
        }
    }

    fn holds_pattern(p: *const u8, n: usize) -> bool {
        // SAFETY: `p` holds at least `n` bytes.
        (0..n).all(|i| unsafe { *p.add(i) } == (i % 251) as u8)
    }

    #[test]
    fn blocks_keep_their_contents_through_every_change_of_size_and_kind() {
        let h = Heap;
        // Small to small, small to large, large to larger, large to small: each size the
        // next one's start, the contents kept up to the smaller size.
        let sizes = [
            100,
            4000,
            LARGE - 1,
            LARGE,
            3 * LARGE + 5,
            40 * LARGE,
            LARGE + 1,
            LARGE - 1,
            17,
        ];
        for align in [1, 8, 64, 4096] {
            let mut layout = Layout::from_size_align(sizes[0], align).unwrap();
            // SAFETY: a non-zero layout.
            let mut p = unsafe { h.alloc(layout) };
            assert!(!p.is_null());
            fill(p, layout.size());
            for &s in &sizes[1..] {
                // SAFETY: `p` was made with `layout`; `s` is non-zero.
                let q = unsafe { h.realloc(p, layout, s) };
                assert!(!q.is_null(), "{} → {s} bytes", layout.size());
                assert_eq!(q as usize % align, 0, "aligned to {align} at {s} bytes");
                let kept = layout.size().min(s);
                assert!(holds_pattern(q, kept), "{} → {s} bytes", layout.size());
                fill(q, s);
                p = q;
                layout = Layout::from_size_align(s, align).unwrap();
            }
            // SAFETY: `p` was made with `layout`.
            unsafe { h.dealloc(p, layout) };
        }
    }

    #[test]
    fn a_large_zeroed_block_is_zeroed_and_aligned() {
        let h = Heap;
        for align in [8, 4096, 1 << 16] {
            let layout = Layout::from_size_align(5 * LARGE + 3, align).unwrap();
            // SAFETY: a non-zero layout.
            let p = unsafe { h.alloc_zeroed(layout) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            // SAFETY: the block holds `layout.size()` bytes.
            assert!((0..layout.size()).all(|i| unsafe { *p.add(i) } == 0));
            // SAFETY: made with `layout`.
            unsafe { h.dealloc(p, layout) };
        }
    }
}
