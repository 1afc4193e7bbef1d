//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mailsleuth::ingest::{self, Loaded, Options, Parsed};
use mailsleuth::input::discover;
use mailsleuth::parse::Event;
use mailsleuth::time::Zone;

/// The shared corpus. Tests that need it fail (never skip) when it is missing.
pub fn corpus(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        root.is_dir(),
        "the shared corpus is missing at {}: these tests need it",
        root.display()
    );
    root.join(rel)
}

/// The lab's single-fault scenarios (`lab/NAME`), each with its `truth.json`.
pub const LAB_SCENARIOS: [&str; 10] = [
    "bounces",
    "cleanup",
    "dns",
    "expire",
    "filter",
    "refused",
    "relayauth",
    "throttle",
    "timeout",
    "tls",
];

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn utc_options() -> Options {
    Options {
        zone: Zone::utc(),
        ..Options::default()
    }
}

pub fn load(paths: &[PathBuf], opts: &Options) -> Loaded {
    let (files, bad) = discover::discover(paths);
    assert!(bad.is_empty(), "unreadable: {bad:?}");
    ingest::load(&files, opts)
}

/// An event as text: everything but where it was read from.
pub fn render(e: &Event<'_>) -> String {
    format!(
        "{} {} {}[{:?}] {:?} {:?} {}",
        e.time(),
        String::from_utf8_lossy(e.host()),
        e.tag(),
        e.pid(),
        e.severity,
        e.queue(),
        String::from_utf8_lossy(e.text())
    )
}

pub fn rendered(p: &Parsed<'_>) -> Vec<String> {
    p.events.iter().map(render).collect()
}

/// The rotated set of the combined lab scenario, oldest first.
pub fn combined_set(prefix: &str) -> Vec<PathBuf> {
    let dir = corpus("lab/combined");
    [".4.gz", ".3.gz", ".2.gz", ".1", ""]
        .iter()
        .map(|s| dir.join(format!("{prefix}{s}")))
        .collect()
}

/// The decompressed concatenation of files, in the order given.
pub fn concatenate(paths: &[PathBuf]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    for p in paths {
        let raw = std::fs::read(p).unwrap();
        if raw.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .unwrap();
        } else {
            out.extend_from_slice(&raw);
        }
    }
    out
}

/// Every event of `p`, parsed again from where it came from ([`Parsed::origins`]), is the
/// event the ingest made: the same line, place, stamp and parts.
pub fn assert_events_parse_again(p: &Parsed<'_>) {
    let all: Vec<u32> = (0..p.events.len() as u32).collect();
    let again = p.origins.events(&all);
    assert_eq!(again.len(), p.events.len(), "every event is found again");
    for (i, e) in p.events.iter().enumerate() {
        let a = &again[&(i as u32)];
        assert_eq!(
            format!("{a:?}"),
            format!("{e:?}"),
            "event {i} (input {}, line {})",
            e.loc.input,
            e.loc.line
        );
    }
    assert!(
        p.origins.events(&[p.events.len() as u32]).is_empty(),
        "no event past the end"
    );
}

/// A memory figure of this process (`RssAnon`, `RssFile` …) from `/proc/self/status`, in KiB.
#[cfg(target_os = "linux")]
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("a {field} line in /proc/self/status"))
}
