//! Stage timings for profiling: with `MAILSLEUTH_TIMINGS=1` in the environment, each stage
//! prints its wall time and the process's resident memory to stderr. Off by default, and a
//! single environment lookup when off.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("MAILSLEUTH_TIMINGS").map(|_| Instant::now()))
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
    eprintln!(
        "timing: {:>8.3} s  cpu {cpu:>7.2} s  {name:<24} rss {:>6} MiB  anon {:>6} MiB  peak {:>6} MiB",
        t0.elapsed().as_secs_f64(),
        field("VmRSS:"),
        field("RssAnon:"),
        field("VmHWM:"),
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
