//! Parser and ingest benchmarks.
//!
//! - `parse_line`: every line of the lab corpus's combined `mail.log` (traditional stamps) and
//!   of its RFC 3339 twin, one `parse_line` call per line; throughput is the file's size.
//! - `ingest`: `ingest::load` + `ingest::parse` over `samples/` (the rotated set, two of them
//!   gzipped, and the queue dumps), as `mailsleuth report samples/ --tz UTC` does before
//!   building the report; throughput is the decoded size of the inputs.
//!
//! `cargo bench` runs them all (~35 s once built); `cargo bench -- --quick` takes ~5 s. The
//! corpus lives beside the checkout (`../shared`), like the corpus tests.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mailsleuth::ingest::{self, Options};
use mailsleuth::input::discover;
use mailsleuth::lines;
use mailsleuth::parse::{self, Line};
use mailsleuth::time::Zone;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> Vec<u8> {
    let p = root().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Parse every line; return a checksum of what was found, so nothing is optimised away.
fn parse_all(data: &[u8]) -> usize {
    let mut postfix = 0usize;
    for line in lines::lines(data) {
        let l = black_box(parse::parse_line(black_box(line)));
        if let Line::Postfix { event, repeat } = l {
            postfix += repeat as usize + event.text().len();
        }
    }
    postfix
}

fn bench_parse_line(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_line");
    g.measurement_time(Duration::from_secs(4));
    for (name, rel) in [
        (
            "lab-combined-traditional",
            "../shared/corpus/lab/combined/mail.log",
        ),
        (
            "lab-combined-rfc3339",
            "../shared/corpus/lab/combined/mail-rfc3339.log",
        ),
    ] {
        let data = read(rel);
        assert!(parse_all(&data) > 0, "{rel}: no Postfix lines");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| b.iter(|| parse_all(black_box(&data))));
    }
    g.finish();
}

fn bench_ingest(c: &mut Criterion) {
    let samples: PathBuf = root().join("samples");
    let (paths, bad) = discover::discover(&[samples]);
    assert!(bad.is_empty() && !paths.is_empty(), "samples/ unreadable");
    let opts = Options {
        zone: Zone::utc(),
        // Fixed, so the year guess cannot depend on when the bench runs.
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000),
        ..Options::default()
    };
    let decoded: u64 = {
        let loaded = ingest::load(&paths, &opts);
        let parsed = ingest::parse(&loaded, &opts);
        assert!(!parsed.events.is_empty(), "samples/: no events");
        loaded.inputs.iter().map(|i| i.data.len() as u64).sum()
    };
    let mut g = c.benchmark_group("ingest");
    g.measurement_time(Duration::from_secs(6));
    g.sample_size(30);
    g.throughput(Throughput::Bytes(decoded));
    g.bench_function("samples-load-parse", |b| {
        b.iter(|| {
            let loaded = ingest::load(black_box(&paths), &opts);
            let parsed = ingest::parse(&loaded, &opts);
            black_box(parsed.events.len() + parsed.dumps.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_parse_line, bench_ingest);
criterion_main!(benches);
