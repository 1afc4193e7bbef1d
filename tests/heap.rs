//! The binary's allocator gives a large block back to the kernel as soon as it is freed:
//! RssAnon falls at once (with mimalloc alone it stays up for about a second). One test in a
//! process of its own, so no other test's memory moves RssAnon meanwhile.

#![cfg(target_os = "linux")]

mod common;

use std::alloc::{GlobalAlloc, Layout};

use mailsleuth::heap::Heap;

fn rss_anon_kib() -> u64 {
    common::status_kib("RssAnon")
}

#[test]
fn a_freed_large_block_leaves_memory_at_once() {
    const MIB: usize = 1 << 20;
    let h = Heap;
    let before = rss_anon_kib();
    // Grown from small to large as a vector grows, each byte touched.
    let mut layout = Layout::from_size_align(MIB / 8, 8).unwrap();
    // SAFETY: a non-zero layout.
    let mut p = unsafe { h.alloc(layout) };
    for size in [MIB, 16 * MIB, 128 * MIB] {
        // SAFETY: `p` was made with `layout`, `size` is non-zero.
        p = unsafe { h.realloc(p, layout, size) };
        assert!(!p.is_null());
        layout = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: `p` holds `size` bytes.
        unsafe { std::ptr::write_bytes(p, 0x5a, size) };
    }
    let held = rss_anon_kib();
    assert!(
        held >= before + 120 * 1024,
        "128 MiB touched: RssAnon {before} → {held} KiB"
    );
    // SAFETY: `p` was made with `layout`.
    unsafe { h.dealloc(p, layout) };
    let after = rss_anon_kib();
    assert!(
        after + 120 * 1024 <= held,
        "freed: RssAnon {held} → {after} KiB"
    );
}
