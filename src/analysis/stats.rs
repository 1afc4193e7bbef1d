//! Aggregates for the report and the digest: traffic over time, delivery delays, destinations
//! and relays, inbound rejects, and gaps in the logs.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use super::classify::{self, Class};
use super::incidents::{Attempt, Attempts};
use crate::parse::Event;
use crate::time::Stamp;
use crate::timeline::action::Status;
use crate::timeline::{Arrival, Timelines};

/// Candidate bucket sizes for charts, in seconds.
const BUCKETS: [i64; 14] = [
    1,
    5,
    10,
    30,
    60,
    300,
    600,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
];

/// The smallest bucket that gives at most `max` buckets over the span.
pub fn bucket_for(span_s: i64, max: i64) -> i64 {
    BUCKETS
        .iter()
        .copied()
        .find(|b| span_s / b < max)
        .unwrap_or(86_400 * 7)
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TrafficBucket {
    pub at: Option<Stamp>,
    pub received: u64,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Traffic {
    pub bucket_s: i64,
    pub buckets: Vec<TrafficBucket>,
}

/// Deliveries, deferrals, bounces and rejects over time, in buckets sized from the span.
pub fn traffic(a: &[Attempt], t: &Timelines, span: Option<(Stamp, Stamp)>) -> Traffic {
    let Some((start, end)) = span else {
        return Traffic {
            bucket_s: 60,
            buckets: Vec::new(),
        };
    };
    let span_s = (end.micros - start.micros) / 1_000_000;
    let b = bucket_for(span_s, 120);
    let origin = start.micros.div_euclid(b * 1_000_000) * b * 1_000_000;
    let n = ((end.micros - origin) / (b * 1_000_000) + 1).max(1) as usize;
    let mut buckets: Vec<TrafficBucket> = (0..n)
        .map(|i| TrafficBucket {
            at: Some(Stamp {
                micros: origin + i as i64 * b * 1_000_000,
                offset_secs: start.offset_secs,
            }),
            ..Default::default()
        })
        .collect();
    let idx = |s: Stamp| -> Option<usize> {
        let i = (s.micros - origin).div_euclid(b * 1_000_000);
        (0..n as i64).contains(&i).then_some(i as usize)
    };
    for at in a {
        if let Some(i) = idx(at.at()) {
            match at.status {
                Status::Sent => buckets[i].delivered += 1,
                Status::Deferred | Status::SoftBounce => buckets[i].deferred += 1,
                Status::Bounced => buckets[i].bounced += 1,
                _ => {}
            }
        }
    }
    for m in &t.messages {
        if matches!(m.arrival, Arrival::Smtp | Arrival::Pickup) && !t.continues_parent(m) {
            if let Some(i) = m.received_at.and_then(idx) {
                buckets[i].received += 1;
            }
        }
    }
    for &r in &t.folded.received {
        let i = (r - origin).div_euclid(b * 1_000_000);
        if (0..n as i64).contains(&i) {
            buckets[i as usize].received += 1;
        }
    }
    for r in &t.rejects {
        if r.action == "reject" || r.action == "milter-reject" {
            if let Some(i) = idx(r.at) {
                buckets[i].rejected += 1;
            }
        }
    }
    Traffic {
        bucket_s: b,
        buckets,
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut v: Vec<f64>) -> Percentiles {
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            count: v.len() as u64,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: v[v.len() - 1],
        }
    }
}

/// Where the time of delivered mail went (`delays=a/b/c/d`), as means in seconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DelayBreakdown {
    pub before_qmgr: f64,
    pub in_qmgr: f64,
    pub connection: f64,
    pub transmission: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainDelays {
    pub domain: String,
    pub delay: Percentiles,
    pub breakdown: DelayBreakdown,
}

#[derive(Clone, Debug, Serialize)]
pub struct Delays {
    pub overall: Percentiles,
    pub breakdown: DelayBreakdown,
    pub per_domain: Vec<DomainDelays>,
}

/// Delivery delays of delivered recipients (hand-offs to local filters excluded).
pub fn delays(att: &Attempts, top: usize) -> Delays {
    let mut all = Vec::new();
    let mut sum = [0f64; 4];
    let mut n = 0f64;
    let mut per: HashMap<u32, (Vec<f64>, [f64; 4], f64)> = HashMap::default();
    for at in att.attempts.iter().filter(|x| x.status == Status::Sent) {
        let Some(delay) = att.delay(at) else { continue };
        all.push(delay);
        let e = per.entry(at.domain).or_default();
        e.0.push(delay);
        if let Some(ds) = att.delays(at) {
            for k in 0..4 {
                sum[k] += ds[k];
                e.1[k] += ds[k];
            }
            n += 1.0;
            e.2 += 1.0;
        }
    }
    let bd = |s: [f64; 4], n: f64| {
        if n == 0.0 {
            DelayBreakdown::default()
        } else {
            DelayBreakdown {
                before_qmgr: s[0] / n,
                in_qmgr: s[1] / n,
                connection: s[2] / n,
                transmission: s[3] / n,
            }
        }
    };
    let mut per_domain: Vec<DomainDelays> = per
        .into_iter()
        .map(|(d, (v, s, k))| DomainDelays {
            domain: att.domains[d as usize].clone(),
            breakdown: bd(s, k),
            delay: Percentiles::of(v),
        })
        .collect();
    per_domain.sort_by(|x, y| {
        y.delay
            .count
            .cmp(&x.delay.count)
            .then_with(|| x.domain.cmp(&y.domain))
    });
    per_domain.truncate(top);
    Delays {
        overall: Percentiles::of(all),
        breakdown: bd(sum, n),
        per_domain,
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DestinationRow {
    pub name: String,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    /// Failed attempts over all attempts.
    pub failure_rate: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Destinations {
    pub domains: Vec<DestinationRow>,
    pub relays: Vec<DestinationRow>,
}

pub fn destinations(att: &Attempts, top: usize) -> Destinations {
    // Sorted by count and name below, so the map's order does not matter.
    let mut doms: HashMap<u32, DestinationRow> = HashMap::default();
    let mut relays: HashMap<u32, DestinationRow> = HashMap::default();
    for at in &att.attempts {
        let bump = |r: &mut DestinationRow| match at.status {
            Status::Sent => r.sent += 1,
            Status::Deferred | Status::SoftBounce => r.deferred += 1,
            Status::Bounced => r.bounced += 1,
            _ => {}
        };
        bump(doms.entry(at.domain).or_default());
        if let Some(r) = at.relay() {
            bump(relays.entry(r).or_default());
        }
    }
    let finish = |m: HashMap<u32, DestinationRow>, names: &[String]| {
        let mut v: Vec<DestinationRow> = m
            .into_iter()
            .map(|(k, mut r)| {
                r.name = names[k as usize].clone();
                let total = r.sent + r.deferred + r.bounced;
                r.failure_rate = if total == 0 {
                    0.0
                } else {
                    (r.deferred + r.bounced) as f64 / total as f64
                };
                r
            })
            .collect();
        v.sort_by(|x, y| {
            (y.sent + y.deferred + y.bounced)
                .cmp(&(x.sent + x.deferred + x.bounced))
                .then_with(|| x.name.cmp(&y.name))
        });
        v.truncate(top);
        v
    };
    Destinations {
        domains: finish(doms, &att.domains),
        relays: finish(relays, &att.relays),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RejectReason {
    pub class: Class,
    pub signature: String,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Rejects {
    pub total: u64,
    pub warnings: u64,
    pub by_reason: Vec<RejectReason>,
    /// Clients with the most rejects: (client, count).
    pub by_client: Vec<(String, u64)>,
}

/// Inbound rejects (smtpd, postscreen, cleanup) by reason and client.
pub fn rejects(t: &Timelines, top: usize) -> Rejects {
    let mut reasons: BTreeMap<(Class, String), u64> = BTreeMap::new();
    let mut clients: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut total, mut warnings) = (0, 0);
    for r in &t.rejects {
        if r.action == "reject_warning" || r.action == "warning" {
            warnings += 1;
            continue;
        }
        if !r.action.contains("reject") {
            continue;
        }
        total += 1;
        let text = r.text.as_bytes();
        let class = classify::classify(None, text);
        *reasons
            .entry((class, classify::signature(text)))
            .or_insert(0) += 1;
        *clients.entry(r.client.as_ref()).or_insert(0) += 1;
    }
    let mut by_reason: Vec<RejectReason> = reasons
        .into_iter()
        .map(|((class, signature), count)| RejectReason {
            class,
            signature,
            count,
        })
        .collect();
    by_reason.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.signature.cmp(&b.signature))
    });
    by_reason.truncate(top);
    let mut by_client: Vec<(String, u64)> = clients
        .into_iter()
        .map(|(c, n)| (c.to_string(), n))
        .collect();
    by_client.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_client.truncate(top);
    Rejects {
        total,
        warnings,
        by_reason,
        by_client,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Gap {
    pub from: Stamp,
    pub to: Stamp,
    pub seconds: i64,
}

/// Periods with no log line at all, longest first: at least 30 minutes, or 200 times the
/// median interval between lines when that is longer. The intervals are read from the
/// events in place (on every core), not kept while the events are scanned.
pub fn gaps(events: &[Event<'_>], top: usize) -> Vec<Gap> {
    use rayon::prelude::*;
    gaps_of(|| events.par_windows(2).map(|w| (&w[0], &w[1])), top)
}

/// [`gaps`] of events held in blocks, one after the other.
pub fn gaps_in_blocks(blocks: &[Vec<Event<'_>>], top: usize) -> Vec<Gap> {
    use rayon::prelude::*;
    gaps_of(
        || {
            blocks.par_iter().enumerate().flat_map_iter(move |(k, b)| {
                // The last event before the block, paired with its first.
                let prev = blocks[..k].iter().rev().find_map(|p| p.last());
                let skip = usize::from(prev.is_none());
                prev.into_iter().chain(b.iter()).zip(b.iter().skip(skip))
            })
        },
        top,
    )
}

/// [`gaps`] from every pair of consecutive events, as `pairs` gives them (twice).
fn gaps_of<'e, 'a: 'e, P>(pairs: impl Fn() -> P, top: usize) -> Vec<Gap>
where
    P: rayon::iter::ParallelIterator<Item = (&'e Event<'a>, &'e Event<'a>)>,
{
    use rayon::prelude::*;
    let interval = |(a, b): (&Event<'_>, &Event<'_>)| b.time().micros - a.time().micros;
    let median = median_positive(|| pairs().map(interval));
    let min = (1800 * 1_000_000i64).max(median.saturating_mul(200));
    let mut out: Vec<Gap> = pairs()
        .filter(|&w| interval(w) >= min)
        .map(|w| Gap {
            from: w.0.time(),
            to: w.1.time(),
            seconds: interval(w) / 1_000_000,
        })
        .collect();
    out.sort_by(|a, b| b.seconds.cmp(&a.seconds).then(a.from.cmp(&b.from)));
    out.truncate(top);
    out
}

/// The upper median of the positive values (0 when there is none). Held in 32 bits when
/// they all fit (intervals between log lines of up to 71 minutes), half the memory.
/// `all` gives the values, as often as asked.
fn median_positive<I>(all: impl Fn() -> I) -> i64
where
    I: rayon::iter::ParallelIterator<Item = i64>,
{
    use rayon::prelude::*;
    let positive = || all().filter(|x| *x > 0);
    // Whole-second stamps give few distinct intervals: count them, and the median is read
    // from the counts, without a list of millions. Past `DISTINCT`, list them.
    const DISTINCT: usize = 1 << 14;
    let counts = positive()
        .fold(
            || Some(HashMap::<i64, u64>::default()),
            |m, x| {
                let mut m = m?;
                *m.entry(x).or_insert(0) += 1;
                (m.len() <= DISTINCT).then_some(m)
            },
        )
        .reduce(
            || Some(HashMap::default()),
            |a, b| {
                let (mut a, b) = (a?, b?);
                for (k, n) in b {
                    *a.entry(k).or_insert(0) += n;
                }
                (a.len() <= DISTINCT).then_some(a)
            },
        );
    if let Some(counts) = counts {
        let mut sorted: Vec<(i64, u64)> = counts.into_iter().collect();
        sorted.sort_unstable();
        let total: u64 = sorted.iter().map(|(_, n)| n).sum();
        let mut seen = 0;
        for (v, n) in sorted {
            seen += n;
            // The upper median: the value at place total / 2 (from 0) in sorted order.
            if seen > total / 2 {
                return v;
            }
        }
        return 0;
    }
    let mut d: Vec<u32> = match positive().map(u32::try_from).collect::<Result<_, _>>() {
        Ok(d) => d,
        Err(_) => {
            let mut d: Vec<i64> = positive().collect();
            let mid = d.len() / 2;
            return *d.select_nth_unstable(mid).1;
        }
    };
    if d.is_empty() {
        return 0;
    }
    let mid = d.len() / 2;
    *d.select_nth_unstable(mid).1 as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_fit_the_span() {
        assert_eq!(bucket_for(60, 120), 1);
        assert_eq!(bucket_for(35 * 60, 120), 30);
        assert_eq!(bucket_for(86_400, 120), 900);
        assert_eq!(bucket_for(7 * 86_400, 120), 3 * 3600);
    }

    #[test]
    fn the_median_of_positive_intervals_whatever_their_width() {
        use rayon::prelude::*;
        let m = |v: Vec<i64>| median_positive(|| v.par_iter().copied());
        assert_eq!(m(vec![]), 0);
        assert_eq!(m(vec![0, -5, 0]), 0);
        assert_eq!(m(vec![3, 0, 1, 2, -1]), 2);
        assert_eq!(m(vec![4, 1, 3, 2]), 3);
        // Wider than 32 bits: the same answer, read in 64.
        let big = 1i64 << 40;
        assert_eq!(m(vec![big, 1, big + 2, 0, big + 1]), big + 1);
        assert_eq!(m(vec![big, 1, 2]), 2);
        // Past the distinct values counted (listed, then), and below (counted): the same
        // upper median as sorting the positive values.
        for distinct in [100i64, 40_000] {
            let v: Vec<i64> = (0..120_000i64).map(|i| (i * 7919) % distinct - 3).collect();
            let mut pos: Vec<i64> = v.iter().copied().filter(|x| *x > 0).collect();
            pos.sort_unstable();
            assert_eq!(m(v), pos[pos.len() / 2], "{distinct} distinct values");
        }
    }

    #[test]
    fn percentiles_of_a_known_list() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!(p.count, 100);
        assert_eq!(p.p50, 51.0);
        assert_eq!(p.p90, 90.0);
        assert_eq!(p.max, 100.0);
        assert_eq!(Percentiles::of(vec![]).count, 0);
    }
}
