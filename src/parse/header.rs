//! The syslog prefix of a line: timestamp, host, program tag and pid.
//!
//! Timestamp families (FORMATS.md §1), tried per line because files mix them:
//! - traditional RFC 3164 `Nov 30 01:44:46` (day space-padded, single-digit or zero-padded,
//!   which also covers Postfix's own `maillog_file` and journalctl `-o short`), optionally with
//!   a fraction (`journalctl -o short-precise`);
//! - RFC 3339 `2026-11-30T01:44:46.219822+00:00` (rsyslog), and journalctl `short-iso`
//!   (`+0000`, no colon) with or without a fraction.

use crate::time::{self, Civil, Stamp, MICROS};

/// How a line's time was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeFormat {
    /// `Mmm dd HH:MM:SS`: no year, no zone.
    Traditional,
    /// `Mmm dd HH:MM:SS.ffffff` (journalctl short-precise): no year, no zone.
    TraditionalPrecise,
    /// `YYYY-MM-DDTHH:MM:SS[.f]±HH:MM` or `Z`.
    Rfc3339,
    /// `YYYY-MM-DDTHH:MM:SS[.f]±HHMM` (journalctl short-iso before systemd 255).
    Iso8601,
}

impl TimeFormat {
    pub fn has_year(self) -> bool {
        matches!(self, TimeFormat::Rfc3339 | TimeFormat::Iso8601)
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeFormat::Traditional => "traditional",
            TimeFormat::TraditionalPrecise => "traditional-precise",
            TimeFormat::Rfc3339 => "rfc3339",
            TimeFormat::Iso8601 => "iso8601",
        }
    }
}

/// A time as read: absolute, or civil without a year (resolved later per file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawTime {
    Absolute(Stamp),
    Civil(Civil),
}

/// The parsed prefix of a syslog line.
#[derive(Clone, Copy, Debug)]
pub struct Prefix<'a> {
    pub time: RawTime,
    pub format: TimeFormat,
    pub host: &'a [u8],
    /// The program tag, e.g. `postfix/smtpd`, `postfix-out/submission/smtpd`, `dovecot`.
    pub tag: &'a [u8],
    pub pid: Option<u32>,
    /// Everything after `tag[pid]: `.
    pub message: &'a [u8],
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn digit(c: u8) -> Option<i64> {
    c.is_ascii_digit().then(|| (c - b'0') as i64)
}

fn two(b: &[u8]) -> Option<i64> {
    Some(digit(*b.first()?)? * 10 + digit(*b.get(1)?)?)
}

/// `HH:MM:SS` at the start of `b`, as seconds of the day.
fn hms(b: &[u8]) -> Option<i64> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (two(b)?, two(&b[3..])?, two(&b[6..])?);
    (h <= 23 && m <= 59 && s <= 60).then_some(h * 3600 + m * 60 + s)
}

/// An optional `.ffffff` (1–9 digits) at the start of `b`: (microseconds, bytes used).
fn fraction(b: &[u8]) -> (i64, usize) {
    if b.first() != Some(&b'.') {
        return (0, 0);
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 9 {
        return (0, 0);
    }
    let mut v: i64 = 0;
    for (i, &c) in b[1..=n].iter().enumerate() {
        if i < 6 {
            v = v * 10 + (c - b'0') as i64;
        }
    }
    for _ in n..6 {
        v *= 10;
    }
    (v, n + 1)
}

/// A month name at the start of `b`.
pub fn month(b: &[u8]) -> Option<u8> {
    let m = b.get(..3)?;
    MONTHS.iter().position(|n| *n == m).map(|i| i as u8 + 1)
}

/// Traditional stamp at the start of `line`: (time, format, bytes used, not counting the
/// following space).
pub fn traditional(line: &[u8]) -> Option<(Civil, TimeFormat, usize)> {
    let month = month(line)?;
    if line.get(3) != Some(&b' ') {
        return None;
    }
    // Day: " 5", "05", "25", or "5" followed by a space.
    let (day, mut i) = match (line.get(4)?, line.get(5)?) {
        (b' ', d) => (digit(*d)?, 6),
        (a, b' ') => (digit(*a)?, 5),
        (a, b) => (digit(*a)? * 10 + digit(*b)?, 6),
    };
    if !(1..=31).contains(&day) || line.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let sod = hms(line.get(i..)?)?;
    i += 8;
    let (frac, flen) = fraction(&line[i..]);
    i += flen;
    let format = if flen > 0 {
        TimeFormat::TraditionalPrecise
    } else {
        TimeFormat::Traditional
    };
    Some((
        Civil {
            month,
            day: day as u8,
            micros_of_day: sod * MICROS + frac,
        },
        format,
        i,
    ))
}

/// RFC 3339 / ISO 8601 stamp with offset at the start of `line`.
pub fn rfc3339(line: &[u8]) -> Option<(Stamp, TimeFormat, usize)> {
    if line.len() < 20 || line[4] != b'-' || line[7] != b'-' || line[10] != b'T' {
        return None;
    }
    let year = two(line)? * 100 + two(&line[2..])?;
    let (mo, d) = (two(&line[5..])?, two(&line[8..])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let sod = hms(&line[11..])?;
    let mut i = 19;
    let (frac, flen) = fraction(&line[i..]);
    i += flen;
    let off_len = line[i..]
        .iter()
        .position(|&c| c == b' ')
        .unwrap_or(line.len() - i);
    let off_bytes = &line[i..i + off_len];
    let offset = time::parse_offset(off_bytes)?;
    let format = if off_bytes.len() == 5 {
        TimeFormat::Iso8601
    } else {
        TimeFormat::Rfc3339
    };
    i += off_len;
    let days = time::days_from_civil(year as i32, mo as u32, d as u32);
    let local = (days * 86_400 + sod) * MICROS + frac;
    Some((
        Stamp {
            micros: local - offset as i64 * MICROS,
            offset_secs: offset,
        },
        format,
        i,
    ))
}

/// A timestamp of any family at the start of `line`.
pub fn timestamp(line: &[u8]) -> Option<(RawTime, TimeFormat, usize)> {
    match line.first()? {
        b'0'..=b'9' => rfc3339(line).map(|(s, f, n)| (RawTime::Absolute(s), f, n)),
        _ => traditional(line).map(|(c, f, n)| (RawTime::Civil(c), f, n)),
    }
}

/// A cheap necessary condition for [`timestamp`] to succeed on `b`: a traditional stamp has a
/// month name (capital first) and a space at 3, an RFC 3339 / ISO 8601 one a digit first and
/// a `-` at 4. `false` means `timestamp(b)` is `None`.
#[inline]
pub fn may_start_with_stamp(b: &[u8]) -> bool {
    match b.first() {
        Some(c) if c.is_ascii_uppercase() => b.get(3) == Some(&b' '),
        Some(c) if c.is_ascii_digit() => b.get(4) == Some(&b'-'),
        _ => false,
    }
}

/// `tag[pid]: message` or `tag: message` at the start of `b`.
pub fn tag(b: &[u8]) -> Option<(&[u8], Option<u32>, &[u8])> {
    let end = b
        .iter()
        .position(|&c| c == b'[' || c == b':' || c == b' ')?;
    if end == 0 {
        return None;
    }
    let tag = &b[..end];
    let (pid, rest) = match b[end] {
        b'[' => {
            let close = memchr::memchr(b']', &b[end..])? + end;
            let digits = &b[end + 1..close];
            let pid = if digits.is_empty() || digits.len() > 9 {
                None
            } else {
                let mut v: u32 = 0;
                for &c in digits {
                    v = v * 10 + digit(c)? as u32;
                }
                Some(v)
            };
            if b.get(close + 1) != Some(&b':') {
                return None;
            }
            (pid, &b[close + 2..])
        }
        b':' => (None, &b[end + 1..]),
        _ => return None,
    };
    let message = rest.strip_prefix(b" ").unwrap_or(rest);
    Some((tag, pid, message))
}

/// Parse the full prefix of a syslog line. `None` if the line is not syslog.
pub fn prefix(line: &[u8]) -> Option<Prefix<'_>> {
    let (time, format, n) = timestamp(line)?;
    let rest = line.get(n..)?.strip_prefix(b" ")?;
    let host_len = memchr::memchr(b' ', rest)?;
    if host_len == 0 {
        return None;
    }
    let host = &rest[..host_len];
    let (tag, pid, message) = tag(&rest[host_len + 1..])?;
    Some(Prefix {
        time,
        format,
        host,
        tag,
        pid,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_lab_line() {
        let l = b"Nov 30 02:21:07 mx1 postfix/smtp[2600]: Trusted TLS connection established";
        let p = prefix(l).unwrap();
        assert_eq!(p.format, TimeFormat::Traditional);
        assert_eq!(
            p.time,
            RawTime::Civil(Civil {
                month: 11,
                day: 30,
                micros_of_day: (2 * 3600 + 21 * 60 + 7) * MICROS
            })
        );
        assert_eq!(p.host, b"mx1");
        assert_eq!(p.tag, b"postfix/smtp");
        assert_eq!(p.pid, Some(2600));
        assert_eq!(p.message, b"Trusted TLS connection established");
    }

    #[test]
    fn day_padding_variants() {
        for (l, day) in [
            (&b"Nov  1 02:11:18 conch postfix/pickup[19328]: x"[..], 1),
            (b"Jan 05 10:11:12 mx1 postfix/smtpd[812]: x", 5),
            (b"Nov 5 02:11:18 h postfix/pickup[1]: x", 5),
        ] {
            match prefix(l).unwrap().time {
                RawTime::Civil(c) => assert_eq!(c.day, day),
                t => panic!("{t:?}"),
            }
        }
        let p = prefix(b"Sep 08 17:20:30.655028 mx1 postfix/qmgr[812]: x").unwrap();
        assert_eq!(p.format, TimeFormat::TraditionalPrecise);
        assert!(
            matches!(p.time, RawTime::Civil(c) if c.micros_of_day % MICROS == 655_028),
            "{p:?}"
        );
    }

    #[test]
    fn rfc3339_lab_line() {
        let l = b"2026-11-30T01:51:15.768284+00:00 mx1 postfix/smtpd[17063]: BB8D1B6451: client=localhost[127.0.0.1]";
        let p = prefix(l).unwrap();
        assert_eq!(p.format, TimeFormat::Rfc3339);
        let RawTime::Absolute(s) = p.time else {
            panic!()
        };
        assert_eq!(s.to_string(), "2026-11-30T01:51:15.768284+00:00");
        assert_eq!(p.message, b"BB8D1B6451: client=localhost[127.0.0.1]");
    }

    #[test]
    fn journal_short_iso() {
        let l = b"2015-12-14T00:06:14+0000 011.lax.mailroute.net postfix-inbound/smtpd[11280]: x";
        let p = prefix(l).unwrap();
        assert_eq!(p.format, TimeFormat::Iso8601);
        let RawTime::Absolute(s) = p.time else {
            panic!()
        };
        assert_eq!(s.unix_secs(), 1_450_051_574);
        let l = b"2015-12-14T01:06:14.5-0100 h postfix/smtpd[1]: x";
        let RawTime::Absolute(s) = prefix(l).unwrap().time else {
            panic!()
        };
        assert_eq!(s.micros, 1_450_058_774_500_000);
        assert_eq!(s.offset_secs, -3600);
    }

    #[test]
    fn tags() {
        assert_eq!(
            tag(b"postfix[662]: fatal: usage"),
            Some((&b"postfix"[..], Some(662), &b"fatal: usage"[..]))
        );
        assert_eq!(
            tag(b"lightmeter/headers: x"),
            Some((&b"lightmeter/headers"[..], None, &b"x"[..]))
        );
        assert_eq!(tag(b"no tag here"), None);
        assert_eq!(tag(b"[ID 123]"), None);
    }

    #[test]
    fn stamp_precheck_never_rules_out_a_stamp() {
        for l in [
            &b"Nov 30 02:21:07 mx1 postfix/smtp[2600]: x"[..],
            b"Nov  1 02:11:18 conch postfix/pickup[19328]: x",
            b"Nov 5 02:11:18 h postfix/pickup[1]: x",
            b"Sep 08 17:20:30.655028 mx1 postfix/qmgr[812]: x",
            b"2026-11-30T01:51:15.768284+00:00 mx1 postfix/smtpd[17063]: x",
            b"2015-12-14T00:06:14+0000 h postfix-inbound/smtpd[11280]: x",
        ] {
            assert!(timestamp(l).is_some());
            assert!(may_start_with_stamp(l), "{:?}", String::from_utf8_lossy(l));
        }
        for m in [
            &b""[..],
            b"4XwwTP5Ch4zgGLM: to=<a@b>",
            b"B6CC5B6472: to=<a@b>",
            b"connect from a[1.2.3.4]",
            b"NOQUEUE: reject: RCPT",
            b"warning: hostname",
        ] {
            assert!(!may_start_with_stamp(m) && timestamp(m).is_none());
        }
    }

    proptest::proptest! {
        #[test]
        fn stamp_precheck_is_a_necessary_condition(
            s in proptest::prop_oneof![
                "(Jan|Nov|Dec|jan|Nox)( [1-9]|[0-3][0-9]| [0-9]) [0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?( .{0,8})?",
                "[0-9]{4}-(0[0-9]|1[0-3])-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,7})?(Z|[+-][0-2][0-9]:?[0-5][0-9])( .{0,8})?",
                "[ -~]{0,30}",
            ]
        ) {
            let b = s.as_bytes();
            proptest::prop_assert!(timestamp(b).is_none() || may_start_with_stamp(b));
        }
    }

    #[test]
    fn not_syslog() {
        for l in [
            &b""[..],
            b"-0600",
            b"America/Boise]",
            b"Nov 30",
            b"Nov 31 25:00:00 h p: x",
            b"2026-13-01T00:00:00Z h p: x",
        ] {
            assert!(prefix(l).is_none(), "{:?}", String::from_utf8_lossy(l));
        }
    }
}
