//! Compression, detected by magic bytes: gzip is decoded (every member of a multi-member
//! file); a truncated or corrupt stream keeps everything decoded before the break and says
//! where it broke. bzip2, xz and zstd are recognised and named, not decoded.

use std::io::Read;

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

/// Decode a gzip stream, all members. A failure keeps the bytes decoded so far.
pub fn gunzip(compressed: &[u8]) -> Decoded {
    // ISIZE of the last member is the uncompressed size mod 2^32: a capacity hint.
    let hint = compressed
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes(compressed[at..].try_into().unwrap_or([0; 4])) as usize)
        .unwrap_or(0)
        .max(compressed.len() * 3)
        .min(1 << 32);
    let mut data = Vec::with_capacity(hint);
    let mut dec = flate2::bufread::MultiGzDecoder::new(std::io::BufReader::with_capacity(
        64 * 1024,
        Counting {
            inner: compressed,
            pos: 0,
        },
    ));
    let mut broken = None;
    // Decoded straight into `data` (no bounce buffer); on an error `read_to_end` keeps every
    // byte decoded before it.
    if let Err(e) = dec.read_to_end(&mut data) {
        let consumed = dec.get_ref().get_ref().pos as u64;
        let reason = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "unexpected end of file (truncated gzip)".to_string()
        } else {
            e.to_string()
        };
        broken = Some((consumed, data.len() as u64, reason));
    }
    let header_mtime = dec.header().map(|h| h.mtime()).filter(|&m| m != 0);
    Decoded {
        data,
        header_mtime,
        broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

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

    #[test]
    fn truncation_keeps_what_decoded() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("line {i} of a long log\n").into_bytes())
            .collect();
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
