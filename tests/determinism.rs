//! The work split between cores must never show in the results: the timelines (whatever the
//! read-ahead block), the attempts and their signature table (whatever the window), and the
//! whole report (whatever `--threads`) are the same as on one thread.

mod common;

use std::path::Path;

use common::*;
use mailsleuth::analysis::incidents;
use mailsleuth::ingest;
use mailsleuth::timeline;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

#[test]
fn timelines_and_attempts_do_not_depend_on_blocks_windows_or_threads() {
    let opts = utc_options();
    let mut inputs = combined_set("mail.log");
    inputs.push(corpus("lab/combined/queue"));
    let loaded = load(&inputs, &opts);
    let parsed = ingest::parse(&loaded, &opts);
    assert!(parsed.events.len() > 1000, "the lab's combined history");

    // The reasons classified ahead (as `report` does, on the other core) change nothing.
    let scan = mailsleuth::analysis::scan::scan(&parsed.events);
    assert!(
        !scan.reasons.is_empty(),
        "the scan finds the failure reasons"
    );
    let run =
        |threads: usize, block: usize, window: usize, fold: Option<usize>| -> (String, String) {
            pool(threads).install(|| {
                let t = timeline::build_in_blocks(&parsed.events, &parsed.dumps, block, fold);
                let known = (window % 2 == 1).then_some(&scan.reasons);
                let a = incidents::attempts_in_windows(&parsed.events, &t, window, known);
                (
                    format!(
                        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                        t.messages, t.compact, t.rejects, t.owner, t.deliveries
                    ),
                    format!("{:?}\n{:?}", a.attempts, a.signatures),
                )
            })
        };
    for fold in [None, Some(timeline::TIMELINE_CAP), Some(0)] {
        let (timelines, attempts) = run(1, 1 << 14, 1 << 16, fold);
        assert!(
            attempts.contains("Deferred"),
            "the lab has deferrals to classify"
        );
        for (threads, block, window) in [(1, 1, 1), (2, 7, 5), (3, 64, 33), (2, 1 << 14, 1 << 16)] {
            let (t, a) = run(threads, block, window, fold);
            assert!(
                t == timelines,
                "timelines differ with {threads} threads, blocks of {block} (folding: {fold:?})"
            );
            assert!(
                a == attempts,
                "attempts differ with {threads} threads, windows of {window} (folding: {fold:?}, \
                 reasons known ahead: {})",
                window % 2 == 1
            );
        }
    }
}

#[test]
fn the_report_is_the_same_on_one_thread() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = |threads: &str| -> Vec<u8> {
        let out = dir.path().join(format!("t{threads}.json"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
            .args(["--threads", threads, "report"])
            .arg(&samples)
            .args(["--tz", "UTC", "--format", "json", "-o"])
            .arg(&out)
            .status()
            .expect("run mailsleuth");
        assert!(
            status.success(),
            "report with --threads {threads}: {status}"
        );
        std::fs::read(&out).expect("report written")
    };
    let one = report("1");
    assert!(one.len() > 10_000, "a real report");
    assert!(report("3") == one, "--threads 3 changed the report");
}
