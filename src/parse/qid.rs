//! Postfix queue IDs: short hex IDs, long IDs (`enable_long_queue_ids`), and `NOQUEUE`.
//!
//! A [`QueueId`] is a small inline `Copy` value, so timelines can key maps by it without
//! borrowing the input. Long IDs encode their arrival time (base-52 seconds and
//! microseconds, a `z`, then the inode in base 51): [`QueueId::long_arrival`] decodes it,
//! which is how a year-less log line can be dated (see Postfix `mail_queue.h`).

use std::fmt;

/// The longest queue ID we keep inline. Short IDs seen in the wild reach 21 characters;
/// long IDs are 12–20.
pub const MAX_LEN: usize = 23;

/// A queue ID held inline (the bytes past its length are zero).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueId {
    len: u8,
    bytes: [u8; MAX_LEN],
}

/// Hashed as three words, its length in the last byte: the timelines look a queue ID up
/// several times for every line that names one, and hashing it as a byte slice (its length,
/// then the bytes a chunk at a time) cost several times as much.
impl std::hash::Hash for QueueId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        const _: () = assert!(MAX_LEN == 23);
        let b = &self.bytes;
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        let mut last = [0u8; 8];
        last[..7].copy_from_slice(&b[16..]);
        last[7] = self.len;
        state.write_u64(word(0));
        state.write_u64(word(8));
        state.write_u64(u64::from_le_bytes(last));
    }
}

/// What stands where a queue ID may stand at the start of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueueRef {
    /// No queue ID: a connect line, a warning, a statistics line.
    None,
    /// `NOQUEUE`: smtpd or postscreen before a queue file exists.
    NoQueue,
    Id(QueueId),
}

impl QueueRef {
    pub fn id(&self) -> Option<QueueId> {
        match self {
            QueueRef::Id(q) => Some(*q),
            _ => None,
        }
    }
}

/// The base-52 alphabet of long queue IDs: `0-9`, upper then lower consonants.
const B52_DIGITS: &[u8; 52] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/// Byte → base-52 digit value, or 0xFF for a byte outside the alphabet.
const B52: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < B52_DIGITS.len() {
        t[B52_DIGITS[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Base-52 digit value of a long-queue-ID character (a table lookup: this runs for every
/// character of every long ID).
fn b52(c: u8) -> Option<u32> {
    match B52[c as usize] {
        0xFF => None,
        v => Some(v as u32),
    }
}

fn is_short_char(c: u8) -> bool {
    c.is_ascii_digit() || (b'A'..=b'F').contains(&c)
}

impl QueueId {
    /// Recognise a queue ID: `[0-9A-F]{6,}` (short) or the long alphabet, 12 or more
    /// characters with a `z` separating time from inode. Returns `None` for anything else.
    pub fn parse(b: &[u8]) -> Option<QueueId> {
        if b.len() < 6 || b.len() > MAX_LEN {
            return None;
        }
        let ok = if b.iter().all(|&c| is_short_char(c)) {
            true
        } else {
            b.len() >= 12 && Self::long_parts(b).is_some()
        };
        if !ok {
            return None;
        }
        let mut bytes = [0u8; MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Some(QueueId {
            len: b.len() as u8,
            bytes,
        })
    }

    /// A queue ID already recognised by [`QueueId::parse`] (copied, not checked again).
    pub(crate) fn from_parsed(b: &[u8]) -> QueueId {
        debug_assert!(QueueId::parse(b).is_some());
        let mut bytes = [0u8; MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        QueueId {
            len: b.len() as u8,
            bytes,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or("?")
    }

    pub fn is_long(&self) -> bool {
        !self.as_bytes().iter().all(|&c| is_short_char(c))
    }

    /// Split a long ID at its last `z`: (seconds+microseconds part, inode part).
    fn long_parts(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let z = b.iter().rposition(|&c| c == b'z')?;
        let (time, inode) = (&b[..z], &b[z + 1..]);
        if time.len() < 10 || inode.is_empty() {
            return None;
        }
        if !time.iter().all(|&c| b52(c).is_some()) {
            return None;
        }
        if !inode.iter().all(|&c| b52(c).is_some_and(|v| v < 51)) {
            return None;
        }
        Some((time, inode))
    }

    /// The arrival time a long queue ID encodes, as (Unix seconds, microseconds).
    pub fn long_arrival(&self) -> Option<(i64, u32)> {
        if !self.is_long() {
            return None;
        }
        let (time, _) = Self::long_parts(self.as_bytes())?;
        let (secs, usec) = time.split_at(time.len() - 4);
        let mut s: i64 = 0;
        for &c in secs {
            s = s.checked_mul(52)?.checked_add(b52(c)? as i64)?;
        }
        let mut u: u32 = 0;
        for &c in usec {
            u = u * 52 + b52(c)?;
        }
        (u < 1_000_000).then_some((s, u))
    }
}

impl fmt::Debug for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QueueId({})", self.as_str())
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for QueueId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_from_the_lab() {
        let q = QueueId::parse(b"BB8D1B6451").unwrap();
        assert_eq!(q.as_str(), "BB8D1B6451");
        assert!(!q.is_long());
        assert_eq!(q.long_arrival(), None);
        assert!(QueueId::parse(b"NOQUEUE").is_none());
        assert!(QueueId::parse(b"statistics").is_none());
        assert!(QueueId::parse(b"12AB").is_none());
        assert!(QueueId::parse(b"bb8d1b6451").is_none());
    }

    #[test]
    fn long_ids_decode_their_arrival() {
        // corpus/public/rseichter-postqf/qdata.jsonl: arrival_time 1642847778.
        let q = QueueId::parse(b"4Jgt2V6BKNz1xy5").unwrap();
        assert!(q.is_long());
        assert_eq!(q.long_arrival().unwrap().0, 1_642_847_778);
        // corpus/public (journal short-iso): logged at 2015-12-14T00:06:14+0000.
        let q = QueueId::parse(b"3pJjgB6dpKz1JBPW").unwrap();
        assert_eq!(q.long_arrival().unwrap().0, 1_450_051_574);
    }

    #[test]
    fn base52_table_matches_the_alphabet() {
        let upper = b"BCDFGHJKLMNPQRSTVWXYZ";
        let lower = b"bcdfghjklmnpqrstvwxyz";
        for c in 0..=255u8 {
            let want = match c {
                b'0'..=b'9' => Some((c - b'0') as u32),
                _ => upper
                    .iter()
                    .position(|&u| u == c)
                    .map(|p| 10 + p as u32)
                    .or_else(|| lower.iter().position(|&l| l == c).map(|p| 31 + p as u32)),
            };
            assert_eq!(b52(c), want, "{c}");
        }
    }

    #[test]
    fn words_are_not_long_ids() {
        for w in [
            &b"connect from"[..],
            b"warning",
            b"disconnect",
            b"statistics",
            b"message-id",
        ] {
            assert!(QueueId::parse(w).is_none(), "{:?}", w);
        }
    }
}
