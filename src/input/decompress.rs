//! Compression, detected by magic bytes: gzip is decoded (every member of a multi-member
//! file), whole ([`gunzip`]) or into line-aligned segments that can be parsed while the rest
//! decodes ([`gunzip_segments`]); a truncated or corrupt stream keeps everything decoded before
//! the break and says where it broke. bzip2, xz and zstd are recognised and named, not decoded.

use std::io::Read;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    pub fn detect(b: &[u8]) -> Compression {
        if b.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if b.starts_with(b"BZh") && b.get(3).is_some_and(|c| (b'1'..=b'9').contains(c)) {
            Compression::Bzip2
        } else if b.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// The result of decoding a gzip file.
pub struct Decoded {
    pub data: Vec<u8>,
    /// The first member's header MTIME (seconds since the epoch), when set.
    pub header_mtime: Option<u32>,
    /// Where decoding stopped early: (compressed offset, decoded bytes, reason).
    pub broken: Option<(u64, u64, String)>,
}

/// Counts the compressed bytes the decoder has consumed.
struct Counting<'a> {
    inner: &'a [u8],
    pos: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.inner.len() - self.pos);
        buf[..n].copy_from_slice(&self.inner[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The decoded size to expect: ISIZE of the last member (the uncompressed size mod 2^32),
/// but at least three times the compressed size.
pub fn size_hint(compressed: &[u8]) -> usize {
    compressed
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes(compressed[at..].try_into().unwrap_or([0; 4])) as usize)
        .unwrap_or(0)
        .max(compressed.len() * 3)
        .min(1 << 32)
}

type Decoder<'a> = flate2::bufread::MultiGzDecoder<std::io::BufReader<Counting<'a>>>;

/// A decoder of every member of `compressed` that counts the compressed bytes it reads.
fn decoder(compressed: &[u8]) -> Decoder<'_> {
    flate2::bufread::MultiGzDecoder::new(std::io::BufReader::with_capacity(
        64 * 1024,
        Counting {
            inner: compressed,
            pos: 0,
        },
    ))
}

/// Where and why decoding broke: (compressed bytes consumed, reason).
fn broke_at(dec: &Decoder<'_>, e: &std::io::Error) -> (u64, String) {
    let reason = if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "unexpected end of file (truncated gzip)".to_string()
    } else {
        e.to_string()
    };
    (dec.get_ref().get_ref().pos as u64, reason)
}

/// Decode a gzip stream, all members. A failure keeps the bytes decoded so far.
pub fn gunzip(compressed: &[u8]) -> Decoded {
    let mut data = Vec::with_capacity(size_hint(compressed));
    let mut dec = decoder(compressed);
    let mut broken = None;
    // Decoded straight into `data` (no bounce buffer); on an error `read_to_end` keeps every
    // byte decoded before it.
    if let Err(e) = dec.read_to_end(&mut data) {
        let (consumed, reason) = broke_at(&dec, &e);
        broken = Some((consumed, data.len() as u64, reason));
    }
    let header_mtime = dec.header().map(|h| h.mtime()).filter(|&m| m != 0);
    Decoded {
        data,
        header_mtime,
        broken,
    }
}

/// How a gzip stream decoded into segments ([`gunzip_segments`]) ended.
#[derive(Clone, Debug, Default)]
pub struct StreamEnd {
    /// Bytes kept in the segments.
    pub kept: u64,
    /// Where decoding stopped early: (compressed offset, decoded bytes, reason), and the
    /// partial line dropped there.
    pub broken: Option<(u64, u64, String)>,
    pub dropped: u64,
}

/// The gzip header's MTIME and the first `n` decoded bytes (fewer for a shorter or broken
/// stream): enough to tell what the file holds before decoding it all.
pub fn gunzip_prefix(compressed: &[u8], n: usize) -> (Vec<u8>, Option<u32>) {
    let mut dec = flate2::bufread::MultiGzDecoder::new(compressed);
    let mut out = Vec::with_capacity(n);
    let _ = (&mut dec).take(n as u64).read_to_end(&mut out);
    let mtime = dec.header().map(|h| h.mtime()).filter(|&m| m != 0);
    (out, mtime)
}

/// Decode a gzip stream (all members) into segments of about `segment` bytes that end at a
/// newline, setting each into the next of `slots` and sending its number on `tx`, so its
/// lines can be parsed while the rest decodes. The last slot takes all that remains. As with
/// [`gunzip`], a failure keeps the whole lines decoded before it.
///
/// After each segment, `read` is told how many bytes of `compressed` have been read (copied
/// out, never to be read again), so that a caller can let their pages go.
pub fn gunzip_segments(
    compressed: &[u8],
    slots: &[OnceLock<Vec<u8>>],
    segment: usize,
    tx: std::sync::mpsc::Sender<usize>,
    read: &mut dyn FnMut(usize),
) -> StreamEnd {
    let mut dec = decoder(compressed);
    let mut end = StreamEnd::default();
    let mut decoded = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(segment + 64 * 1024);
    let mut k = 0;
    let publish = |k: &mut usize, seg: Vec<u8>, end: &mut StreamEnd| {
        if *k >= slots.len() || seg.is_empty() {
            return;
        }
        end.kept += seg.len() as u64;
        if slots[*k].set(seg).is_ok() {
            let _ = tx.send(*k);
        }
        *k += 1;
    };
    loop {
        let last = k + 1 >= slots.len();
        // Fill the segment; one that holds no newline yet grows by a segment at a time.
        let want = if last {
            u64::MAX
        } else if buf.len() < segment {
            (segment - buf.len()) as u64
        } else {
            segment.max(1) as u64
        };
        let before = buf.len();
        match (&mut dec).take(want).read_to_end(&mut buf) {
            Ok(n) => {
                decoded += n as u64;
                if (n as u64) < want || buf.len() == before {
                    // The end of the stream: the last line may lack its newline.
                    publish(&mut k, std::mem::take(&mut buf), &mut end);
                    return end;
                }
                // Cut after the last newline; a segment with none grows until one comes.
                if let Some(p) = memchr::memrchr(b'\n', &buf) {
                    let mut next = Vec::with_capacity(segment + 64 * 1024);
                    next.extend_from_slice(&buf[p + 1..]);
                    buf.truncate(p + 1);
                    publish(&mut k, std::mem::replace(&mut buf, next), &mut end);
                    read(dec.get_ref().get_ref().pos);
                }
            }
            Err(e) => {
                decoded += (buf.len() - before) as u64;
                let (consumed, reason) = broke_at(&dec, &e);
                // Keep whole lines only: the bytes after the last newline are a fragment.
                let keep = memchr::memrchr(b'\n', &buf).map_or(0, |p| p + 1);
                end.dropped = (buf.len() - keep) as u64;
                buf.truncate(keep);
                publish(&mut k, buf, &mut end);
                end.broken = Some((consumed, decoded, reason));
                return end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    /// `n` lines: `line 0 of a long log` …
    fn numbered_lines(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("line {i} of a long log\n").into_bytes())
            .collect()
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(Compression::detect(&gz(b"x")), Compression::Gzip);
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"Nov 30"), Compression::None);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
    }

    #[test]
    fn multi_member_files_decode_whole() {
        let mut two = gz(b"first line\n");
        two.extend(gz(b"second line\n"));
        let d = gunzip(&two);
        assert!(d.broken.is_none());
        assert_eq!(d.data, b"first line\nsecond line\n");
    }

    /// Decode `compressed` in segments of `segment` bytes into `slots` slots.
    fn segments(compressed: &[u8], segment: usize, slots: usize) -> (Vec<Vec<u8>>, StreamEnd) {
        let slots: Vec<OnceLock<Vec<u8>>> = (0..slots).map(|_| OnceLock::new()).collect();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut read = Vec::new();
        let end = gunzip_segments(compressed, &slots, segment, tx, &mut |n| read.push(n));
        assert!(
            read.windows(2).all(|w| w[0] <= w[1]) && read.iter().all(|&n| n <= compressed.len()),
            "read only grows, within the stream: {read:?}"
        );
        let sent: Vec<usize> = rx.iter().collect();
        assert_eq!(sent, (0..sent.len()).collect::<Vec<_>>(), "sent in order");
        let got: Vec<Vec<u8>> = slots.into_iter().filter_map(|s| s.into_inner()).collect();
        assert_eq!(got.len(), sent.len(), "every segment set is sent");
        (got, end)
    }

    #[test]
    fn segments_end_at_newlines_and_add_up_to_the_whole() {
        let mut text: Vec<u8> = numbered_lines(3_000);
        // A line longer than a segment, and a last line without its newline.
        text.extend(vec![b'x'; 5_000]);
        text.extend(b"\nlast line");
        let mut two = gz(&text[..40_000]);
        two.extend(gz(&text[40_000..]));
        for (compressed, segment, slots) in [
            (gz(&text), 1000, 1000),
            (gz(&text), 1, 100_000),
            (gz(&text), 1000, 3),
            (two, 777, 1000),
        ] {
            let (got, end) = segments(&compressed, segment, slots);
            assert!(end.broken.is_none());
            assert_eq!(got.concat(), text, "segments of {segment}, {slots} slots");
            assert_eq!(end.kept as usize, text.len());
            let (last, whole) = got.split_last().unwrap();
            assert!(whole.iter().all(|s| s.ends_with(b"\n")), "cut at newlines");
            assert!(last.ends_with(b"last line"));
            assert!(got.len() > 2 && got.len() <= slots);
        }
    }

    #[test]
    fn a_broken_stream_keeps_its_whole_lines_in_segments() {
        let text: Vec<u8> = numbered_lines(20_000);
        let full = gz(&text);
        let cut = &full[..full.len() / 2];
        let whole = gunzip(cut);
        let (got, end) = segments(cut, 4096, 1000);
        let (offset, decoded, reason) = end.broken.expect("a break");
        assert_eq!(Some((offset, decoded, reason)), whole.broken);
        let kept = got.concat();
        assert!(kept.ends_with(b"\n") && text.starts_with(&kept));
        assert_eq!(kept.len() as u64 + end.dropped, decoded);
        assert_eq!(
            kept.len(),
            whole.data.iter().rposition(|&c| c == b'\n').unwrap() + 1
        );
    }

    #[test]
    fn truncation_keeps_what_decoded() {
        let text: Vec<u8> = numbered_lines(20_000);
        let full = gz(&text);
        let cut = &full[..full.len() / 2];
        let d = gunzip(cut);
        let (offset, decoded, _) = d.broken.expect("a break");
        assert!(offset > 0 && offset as usize <= cut.len());
        assert_eq!(decoded as usize, d.data.len());
        assert!(!d.data.is_empty());
        assert!(text.starts_with(&d.data));
    }
}
