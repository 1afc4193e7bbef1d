//! Bytes to lines: memchr iteration, newline-aligned chunks for parallel parsing, and the
//! policy for lines that are not clean text (NUL bytes, invalid UTF-8, overlong lines).

/// Lines longer than this are counted and skipped, not parsed.
pub const MAX_LINE: usize = 64 * 1024 - 1;

/// The size of a parallel work unit. Fixed (not derived from the thread count), so chunk
/// boundaries, and with them every result, are the same whatever the number of threads.
pub const CHUNK: usize = 4 * 1024 * 1024;

/// Split `data` into ranges of about `target` bytes, each ending just after a `\n` (the last
/// one at the end of the data).
pub fn chunks(data: &[u8], target: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(data.len() / target.max(1) + 1);
    let mut start = 0;
    while start < data.len() {
        let want = start.saturating_add(target.max(1));
        if want >= data.len() {
            out.push(start..data.len());
            break;
        }
        let end = match memchr::memchr(b'\n', &data[want..]) {
            Some(p) => want + p + 1,
            None => data.len(),
        };
        out.push(start..end);
        start = end;
    }
    out
}

/// Iterator over lines without their `\n` (and a `\r` before it).
pub struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
}

pub fn lines(data: &[u8]) -> Lines<'_> {
    Lines { data, pos: 0 }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let (line, used) = match memchr::memchr(b'\n', rest) {
            Some(p) => (&rest[..p], p + 1),
            None => (rest, rest.len()),
        };
        self.pos += used;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_newlines_and_cover_everything() {
        let data = b"aaa\nbb\ncccc\nd\n\neee";
        for target in 1..data.len() + 2 {
            let cs = chunks(data, target);
            assert_eq!(cs.first().unwrap().start, 0);
            assert_eq!(cs.last().unwrap().end, data.len());
            for w in cs.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                assert_eq!(data[w[0].end - 1], b'\n');
            }
            let joined: Vec<&[u8]> = cs.iter().flat_map(|r| lines(&data[r.clone()])).collect();
            assert_eq!(joined, lines(data).collect::<Vec<_>>());
        }
        assert!(chunks(b"", 4).is_empty());
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let got: Vec<&[u8]> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(got, [&b"a"[..], b"b", b"", b"c"]);
    }
}
