//! The input strategy: memory-map regular files, read pipes, standard input and special
//! files into memory, and let the pages of a mapped file go once read (a gzip file's).

use std::io::Read;
use std::ops::Deref;
use std::path::Path;
use std::time::SystemTime;

/// The bytes of one input.
pub enum Data {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }
}

impl Data {
    /// Let the pages of the first `n` bytes of a mapped file go from this process's memory
    /// (their whole pages only): bytes that were read once and will not be read again, such
    /// as the compressed bytes a decoder has consumed. Were they read again, they would come
    /// back from the file. Nothing for bytes read into memory.
    pub fn release_prefix(&self, n: usize) {
        #[cfg(unix)]
        if let Data::Mapped(m) = self {
            const PAGE: usize = 4096;
            let n = n.min(m.len()) / PAGE * PAGE;
            if n > 0 {
                // SAFETY: the map is read-only, so no page of it holds changes of ours that
                // dropping it would lose: a page touched again is read from the file, as on
                // first touch (the same caveat as mapping it at all: see `open_file`).
                // The map starts on a page, so the range starts on one too.
                let _ =
                    unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, n) };
            }
        }
        #[cfg(not(unix))]
        let _ = n;
    }
}

/// An opened input: its bytes and its modification time (year evidence).
pub struct Opened {
    pub data: Data,
    pub mtime: Option<SystemTime>,
}

/// Open a file: mapped if it is a regular, non-empty file and `mmap` is allowed, read
/// otherwise (FIFOs, character devices, `/proc` files that report size 0).
pub fn open_file(path: &Path, mmap: bool) -> std::io::Result<Opened> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let mtime = meta.modified().ok();
    if mmap && meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only and private to this process. If another process
        // truncates the file while we read it, access past the new end raises SIGBUS; logs
        // are given to us as copies or rotated files, and `--no-mmap` exists for live files.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        return Ok(Opened {
            data: Data::Mapped(map),
            mtime,
        });
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    let mut file = file;
    file.read_to_end(&mut buf)?;
    Ok(Opened {
        data: Data::Owned(buf),
        mtime,
    })
}

/// Read all of standard input.
pub fn open_stdin() -> std::io::Result<Opened> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf)?;
    Ok(Opened {
        data: Data::Owned(buf),
        mtime: None,
    })
}
