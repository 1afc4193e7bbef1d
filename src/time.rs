//! Instants, civil (year-less) syslog times, time zones and their formatting.
//!
//! Owns the arithmetic between calendar dates and Unix time, done by hand on the hot path
//! (Howard Hinnant's `days_from_civil`), and the conversion of zone-less local times to UTC
//! through jiff, cached per local hour. Does not own year *inference*: see `ingest::year`.

use std::fmt;

/// Microseconds in one second.
pub const MICROS: i64 = 1_000_000;

/// An instant (Unix time in microseconds, UTC) with the UTC offset it was written with,
/// so that printed times keep the zone of the log they came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stamp {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
    /// Offset east of UTC in seconds, as written (or as the zone said for zone-less stamps).
    pub offset_secs: i32,
}

impl Stamp {
    pub fn from_unix(secs: i64, offset_secs: i32) -> Stamp {
        Stamp {
            micros: secs * MICROS,
            offset_secs,
        }
    }

    pub fn unix_secs(self) -> i64 {
        self.micros.div_euclid(MICROS)
    }

    /// The calendar year of this instant in its own offset.
    pub fn year(self) -> i32 {
        let local = self.micros.div_euclid(MICROS) + self.offset_secs as i64;
        civil_from_days(local.div_euclid(86_400)).0
    }
}

/// RFC 3339 with the stamp's own offset: `2026-11-30T01:44:46.219822+00:00`; the fraction is
/// printed only when it is not zero.
impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local_micros = self.micros + self.offset_secs as i64 * MICROS;
        let secs = local_micros.div_euclid(MICROS);
        let frac = local_micros.rem_euclid(MICROS);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )?;
        if frac != 0 {
            write!(f, ".{frac:06}")?;
        }
        let sign = if self.offset_secs < 0 { '-' } else { '+' };
        let off = self.offset_secs.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", off / 3600, off / 60 % 60)
    }
}

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A syslog time without a year: month, day and microseconds of the day, local to some zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub month: u8,
    pub day: u8,
    pub micros_of_day: i64,
}

impl Civil {
    /// A year-agnostic ordinal for ordering and rollover detection: months count 31 days.
    pub fn ordinal_secs(self) -> i64 {
        ((self.month as i64 - 1) * 31 + (self.day as i64 - 1)) * 86_400
            + self.micros_of_day / MICROS
    }

    /// Local wall-clock microseconds since the epoch, as if the local zone were UTC.
    pub fn local_micros(self, year: i32) -> i64 {
        days_from_civil(year, self.month as u32, self.day as u32) * 86_400 * MICROS
            + self.micros_of_day
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y } as i32, m, d)
}

/// The zone that zone-less stamps (traditional syslog, journal short, `postqueue -p`) are in.
#[derive(Clone, Debug)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
    name: String,
}

impl Zone {
    /// `local` (the system zone), `UTC`, an IANA name such as `Europe/Berlin`, or a fixed
    /// offset such as `+02:00` / `-0500`.
    pub fn parse(spec: &str) -> Result<Zone, String> {
        if spec.eq_ignore_ascii_case("local") {
            return Ok(Zone::local());
        }
        if spec.eq_ignore_ascii_case("utc") || spec == "Z" {
            return Ok(Zone::utc());
        }
        if let Some(secs) = parse_offset(spec.as_bytes()) {
            let off = jiff::tz::Offset::from_seconds(secs).map_err(|e| e.to_string())?;
            return Ok(Zone {
                tz: jiff::tz::TimeZone::fixed(off),
                name: spec.to_string(),
            });
        }
        jiff::tz::TimeZone::get(spec)
            .map(|tz| Zone {
                tz,
                name: spec.to_string(),
            })
            .map_err(|e| format!("unknown time zone {spec:?}: {e}"))
    }

    pub fn utc() -> Zone {
        Zone {
            tz: jiff::tz::TimeZone::UTC,
            name: "UTC".into(),
        }
    }

    pub fn local() -> Zone {
        let tz = jiff::tz::TimeZone::system();
        let name = tz.iana_name().unwrap_or("local").to_string();
        Zone { tz, name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset in force at a local wall-clock time (ambiguous times take the earlier
    /// offset, gaps the later one, as jiff's "compatible" strategy does).
    pub fn offset_at_local(&self, local_micros: i64) -> i32 {
        let secs = local_micros.div_euclid(MICROS);
        let Ok(ts) = jiff::Timestamp::from_second(secs) else {
            return 0;
        };
        let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        match self.tz.to_ambiguous_timestamp(dt).compatible() {
            Ok(real) => (secs - real.as_second()) as i32,
            Err(_) => 0,
        }
    }

    /// The offset in force at an instant.
    pub fn offset_at_unix(&self, unix_secs: i64) -> i32 {
        match jiff::Timestamp::from_second(unix_secs) {
            Ok(ts) => self.tz.to_offset(ts).seconds(),
            Err(_) => 0,
        }
    }

    /// A converter that remembers the offset of the last local hour it saw.
    pub fn converter(&self) -> LocalConverter<'_> {
        LocalConverter {
            zone: self,
            hour: i64::MIN,
            offset: 0,
        }
    }
}

/// Converts local wall-clock times to [`Stamp`]s, asking the zone once per local hour.
pub struct LocalConverter<'z> {
    zone: &'z Zone,
    hour: i64,
    offset: i32,
}

impl LocalConverter<'_> {
    pub fn stamp(&mut self, local_micros: i64) -> Stamp {
        let hour = local_micros.div_euclid(3600 * MICROS);
        if hour != self.hour {
            self.hour = hour;
            self.offset = self.zone.offset_at_local(local_micros);
        }
        Stamp {
            micros: local_micros - self.offset as i64 * MICROS,
            offset_secs: self.offset,
        }
    }
}

/// `Z`, `±HH:MM`, `±HHMM` or `±HH` as seconds east of UTC.
pub fn parse_offset(b: &[u8]) -> Option<i32> {
    if b == b"Z" || b == b"z" {
        return Some(0);
    }
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |s: &[u8]| -> Option<i32> {
        if s.len() == 2 && s.iter().all(u8::is_ascii_digit) {
            Some(((s[0] - b'0') * 10 + (s[1] - b'0')) as i32)
        } else {
            None
        }
    };
    let rest = &b[1..];
    let (h, m) = match rest.len() {
        2 => (digits(rest)?, 0),
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// `+0.4s`, `+18s`, `+2m03s`, `+1h02m`, `+3d04h`.
pub fn since(from: Option<Stamp>, at: Stamp) -> String {
    let Some(from) = from else {
        return String::new();
    };
    let us = at.micros - from.micros;
    let sign = if us < 0 { "-" } else { "+" };
    let s = us.unsigned_abs() as f64 / 1e6;
    let secs = s as u64;
    match secs {
        _ if s < 1.0 && s > 0.0 => format!("{sign}{s:.2}s"),
        _ if s < 10.0 && s.fract() != 0.0 => format!("{sign}{s:.1}s"),
        0..=59 => format!("{sign}{secs}s"),
        60..=3599 => format!("{sign}{}m{:02}s", secs / 60, secs % 60),
        3600..=86_399 => format!("{sign}{}h{:02}m", secs / 3600, secs / 60 % 60),
        _ => format!("{sign}{}d{:02}h", secs / 86_400, secs / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 59, 365, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{z} -> {y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(2026, 11, 30), 20_787);
        assert_eq!(civil_from_days(20_787), (2026, 11, 30));
    }

    #[test]
    fn display_keeps_offset_and_fraction() {
        // 2026-11-30T01:51:15.768284+00:00, the lab throttle run.
        let s = Stamp {
            micros: 1_796_003_475_768_284,
            offset_secs: 0,
        };
        assert_eq!(s.to_string(), "2026-11-30T01:51:15.768284+00:00");
        let s = Stamp {
            micros: 1_796_003_475_000_000,
            offset_secs: -5 * 3600 - 1800,
        };
        assert_eq!(s.to_string(), "2026-11-29T20:21:15-05:30");
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset(b"+00:00"), Some(0));
        assert_eq!(parse_offset(b"+0000"), Some(0));
        assert_eq!(parse_offset(b"-0600"), Some(-21_600));
        assert_eq!(parse_offset(b"+05:30"), Some(19_800));
        assert_eq!(parse_offset(b"Z"), Some(0));
        assert_eq!(parse_offset(b"+5:30"), None);
        assert_eq!(parse_offset(b"+25:00"), None);
    }

    #[test]
    fn zone_conversion_follows_dst() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let mut conv = berlin.converter();
        // 2026-07-01 12:00 local is UTC+2; 2026-12-01 12:00 local is UTC+1.
        let summer = Civil {
            month: 7,
            day: 1,
            micros_of_day: 12 * 3600 * MICROS,
        };
        let winter = Civil {
            month: 12,
            day: 1,
            micros_of_day: 12 * 3600 * MICROS,
        };
        assert_eq!(conv.stamp(summer.local_micros(2026)).offset_secs, 7200);
        assert_eq!(conv.stamp(winter.local_micros(2026)).offset_secs, 3600);
        let fixed = Zone::parse("-0500").unwrap();
        assert_eq!(fixed.offset_at_local(0), -18_000);
    }
}
