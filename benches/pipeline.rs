//! Pipeline benchmarks, stage by stage, with throughput in input bytes:
//!
//! - `gunzip`: decoding the input gzipped at the default level (`gzip -6`), with the crate's
//!   inflate backend: the floor under any `.gz` report, since one stream decodes on one core;
//! - `lines`: newline splitting of the decoded input;
//! - `action`: what each parsed event means (`timeline::action::action`), one thread;
//! - `timelines`: `timeline::build` over the parsed events (both cores);
//! - `report`: the whole `mailsleuth report --format json` (ingest, timelines, incidents,
//!   statistics, JSON), as the command runs it.
//!
//! Each runs on the committed `samples/` and, when present, on the generated benchmark
//! workload: set `MAILSLEUTH_BENCH_LOG` to a log file (for example the 50 MB or 1 GiB output
//! of `../shared/bench/gen_maillog.py`, see `scripts/bench-vs-peers.sh`).
//! `cargo bench --bench pipeline -- --quick` takes well under a minute on the samples.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mailsleuth::cli::{Cli, Command};
use mailsleuth::ingest::{self, Options};
use mailsleuth::input::{decompress, discover};
use mailsleuth::lines;
use mailsleuth::time::Zone;
use mailsleuth::timeline::{self, action};

fn workloads() -> Vec<(String, PathBuf)> {
    let mut w = vec![(
        "samples".to_string(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
    )];
    if let Some(p) = std::env::var_os("MAILSLEUTH_BENCH_LOG") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "MAILSLEUTH_BENCH_LOG={}: missing", p.display());
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        w.push((name, p));
    }
    w
}

fn options() -> Options {
    Options {
        zone: Zone::utc(),
        // Fixed, so the year guess cannot depend on when the bench runs.
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000),
        ..Options::default()
    }
}

fn bench_stages(c: &mut Criterion) {
    for (name, path) in workloads() {
        let (paths, bad) = discover::discover(std::slice::from_ref(&path));
        assert!(
            bad.is_empty() && !paths.is_empty(),
            "{}: unreadable",
            path.display()
        );
        let opts = options();
        let loaded = ingest::load(&paths, &opts);
        let bytes: u64 = loaded.inputs.iter().map(|i| i.data.len() as u64).sum();
        let parsed = ingest::parse(&loaded, &opts);
        assert!(!parsed.events.is_empty(), "{name}: no events");
        let big = bytes > 16 << 20;

        let mut g = c.benchmark_group(format!("stages/{name}"));
        g.throughput(Throughput::Bytes(bytes));
        if big {
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(20));
        }
        {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            for i in &loaded.inputs {
                enc.write_all(&i.data).expect("gzip in memory");
            }
            let gz = enc.finish().expect("gzip in memory");
            g.bench_function("gunzip", |b| {
                b.iter(|| decompress::gunzip(black_box(&gz)).data.len())
            });
        }
        g.bench_function("lines", |b| {
            b.iter(|| {
                loaded
                    .inputs
                    .iter()
                    .map(|i| lines::lines(black_box(&i.data)).count())
                    .sum::<usize>()
            })
        });
        g.bench_function("action", |b| {
            b.iter(|| {
                parsed
                    .events
                    .iter()
                    .filter(|e| !matches!(action::action(black_box(e)), action::Action::Other))
                    .count()
            })
        });
        g.bench_function("timelines", |b| {
            b.iter(|| {
                timeline::build(black_box(&parsed.events), &parsed.dumps)
                    .messages
                    .len()
            })
        });
        g.finish();
    }
}

fn bench_report(c: &mut Criterion) {
    for (name, path) in workloads() {
        let bytes: u64 = {
            let (paths, _) = discover::discover(std::slice::from_ref(&path));
            let loaded = ingest::load(&paths, &options());
            loaded.inputs.iter().map(|i| i.data.len() as u64).sum()
        };
        let cli = Cli::try_parse_from([
            "mailsleuth".as_ref(),
            "report".as_ref(),
            path.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
            "--tz".as_ref(),
            "UTC".as_ref(),
            "-o".as_ref(),
            "/dev/null".as_ref(),
        ] as [&std::ffi::OsStr; 9])
        .expect("arguments");
        let Command::Report(args) = cli.command else {
            unreachable!("parsed as report")
        };
        let mut g = c.benchmark_group(format!("report/{name}"));
        g.throughput(Throughput::Bytes(bytes));
        g.sample_size(10);
        if bytes > 16 << 20 {
            g.measurement_time(Duration::from_secs(30));
        }
        g.bench_function("json", |b| {
            b.iter(|| mailsleuth::cmd::report::run(black_box(&args), true).expect("report"))
        });
        g.finish();
    }
}

criterion_group!(benches, bench_stages, bench_report);
criterion_main!(benches);
