//! The pages of a mapped file that were read can be let go of (a gzip file's, as its
//! decoder moves on), and the bytes are still there when read again. One test in a process
//! of its own, so no other test's mappings move RssFile meanwhile.

#![cfg(target_os = "linux")]

mod common;

use mailsleuth::input::source::{open_file, Data};

fn rss_file_kib() -> u64 {
    common::status_kib("RssFile")
}

#[test]
fn read_pages_of_a_mapped_file_leave_memory_and_come_back_the_same() {
    const MIB: usize = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.gz");
    let bytes: Vec<u8> = (0..64 * MIB).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let opened = open_file(&path, true).unwrap();
    let data = &opened.data;
    assert!(matches!(data, Data::Mapped(_)), "a regular file is mapped");
    let before = rss_file_kib();
    let sum = |d: &[u8]| d.iter().map(|&b| b as u64).sum::<u64>();
    let want = sum(&bytes);
    assert_eq!(sum(data), want);
    let read = rss_file_kib();
    assert!(
        read >= before + 60 * 1024,
        "64 MiB read: RssFile {before} → {read} KiB"
    );
    // All but the last 4 MiB and a bit: whole pages only, so the page that holds the cut
    // stays.
    data.release_prefix(60 * MIB + 100);
    let released = rss_file_kib();
    assert!(
        released + 56 * 1024 <= read && released + 62 * 1024 >= read,
        "60 MiB let go of: RssFile {read} → {released} KiB"
    );
    assert_eq!(sum(data), want, "the bytes read again are the same");
    // Bytes read into memory have no pages to let go of: nothing happens.
    let owned = Data::Owned(bytes.clone());
    owned.release_prefix(owned.len());
    assert_eq!(&owned[..], &bytes[..]);
}
