//! Stage timings for profiling: with `MAILSLEUTH_TIMINGS=1` in the environment, each stage
//! prints its wall time and the process's resident memory to stderr. Off by default, and a
//! single environment lookup when off.
//!
//! The anonymous memory is also sampled every [`SAMPLE`] on a thread of its own, so that the
//! stage lines can show its largest value so far (`anon-max`), not only at their ends: the
//! kernel keeps a high-water mark of the whole resident memory, not of its anonymous part.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often the anonymous memory is sampled while timing.
pub const SAMPLE: Duration = Duration::from_millis(20);

/// The largest RssAnon seen so far, in KiB.
static ANON_MAX: AtomicU64 = AtomicU64::new(0);

fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| {
        std::env::var_os("MAILSLEUTH_TIMINGS").map(|_| {
            // Sampling until the process ends; if the thread cannot start, the stage ends
            // are still sampled.
            let _ = std::thread::Builder::new()
                .name("anon-sampler".into())
                .spawn(|| loop {
                    sample_anon();
                    std::thread::sleep(SAMPLE);
                });
            Instant::now()
        })
    })
}

/// Read RssAnon (KiB) and keep the largest; the value read.
fn sample_anon() -> u64 {
    let kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    ANON_MAX.fetch_max(kib, Ordering::Relaxed);
    kib
}

/// Begin timing (call once, early); a no-op unless `MAILSLEUTH_TIMINGS` is set.
pub fn init() {
    let _ = start();
}

/// Print `stage` with the time since start and the current and peak resident memory.
pub fn stage(name: &str) {
    let Some(t0) = start() else { return };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    // utime + stime, in clock ticks (100 per second on Linux), after the command name.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let cpu: f64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|v| v.parse::<f64>().ok())
                .sum::<f64>()
                / 100.0
        })
        .unwrap_or(0.0);
    sample_anon();
    eprintln!(
        "timing: {:>8.3} s  cpu {cpu:>7.2} s  {name:<24} rss {:>6} MiB  anon {:>6} MiB  peak {:>6} MiB  anon-max {:>6} MiB",
        t0.elapsed().as_secs_f64(),
        field("VmRSS:"),
        field("RssAnon:"),
        field("VmHWM:"),
        ANON_MAX.load(Ordering::Relaxed) / 1024,
    );
}

/// Whether the stage timings are on.
pub fn enabled() -> bool {
    start().is_some()
}

/// Print a count worth knowing next to the stages (when timing).
pub fn note(what: std::fmt::Arguments<'_>) {
    if start().is_some() {
        eprintln!("timing: {what}");
    }
}
