//! The work split between cores must never show in the results: the timelines and the scan
//! beside them (whatever the read-ahead block), the attempts and their signature table
//! (read beside the build or after it, whatever the block), and the whole report (whatever `--threads`) are the same as on one
//! thread.

mod common;

use std::path::Path;

use common::*;
use mailsleuth::analysis::incidents;
use mailsleuth::analysis::scan::{self, EventScan};
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

    // The scan in one pass, to compare the scans beside the build with.
    let scan = scan::scan(&parsed.events);
    let shown =
        |s: &EventScan<'_>| -> String { format!("{:?}\n{:?}\n{:?}", s.hosts, s.gaps, s.admin) };
    let whole_scan = shown(&scan);
    assert!(whole_scan.contains("Reload"), "the lab's admin reloads");
    let run =
        |threads: usize, block: usize, window: usize, fold: Option<usize>| -> (String, String) {
            pool(threads).install(|| {
                // The scan and the attempts' reading ride beside the build, block by block,
                // as `report` runs them.
                let mut beside = scan::Scanner::default();
                let mut reader = incidents::AttemptReader::new(0);
                let t = timeline::build_beside(
                    &parsed.events,
                    &parsed.dumps,
                    block,
                    fold,
                    &mut |events, actions| {
                        beside.block(events, Some(actions));
                        reader.block(events, actions);
                    },
                );
                assert!(
                    shown(&beside.finish(&parsed.events)) == whole_scan,
                    "the scan differs when read in blocks of {block}"
                );
                // The same events held in blocks, let go of as they are booked, as `report`
                // hands them over.
                let held: Vec<Vec<_>> = parsed.events.chunks(window).map(<[_]>::to_vec).collect();
                let from_held =
                    timeline::build_blocks_beside(held, &parsed.dumps, block, fold, &mut |_, _| {});
                assert!(
                    format!("{:?}\n{:?}", from_held.messages, from_held.compact)
                        == format!("{:?}\n{:?}", t.messages, t.compact),
                    "timelines differ when built from blocks of {window} (parts of {block})"
                );
                let a = incidents::attempts_in_blocks(&parsed.events, &t, window);
                let read_beside = reader.finish(&parsed.events, &t);
                assert!(
                    format!("{:?}\n{:?}", read_beside.attempts, read_beside.signatures)
                        == format!("{:?}\n{:?}", a.attempts, a.signatures),
                    "the attempts read beside the build (blocks of {block}) differ from those \
                     read after it"
                );
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
                "attempts differ with {threads} threads, blocks of {window} (folding: {fold:?})"
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

#[test]
fn the_scan_in_blocks_finds_the_gaps_at_block_edges() {
    let opts = utc_options();
    let loaded = load(&combined_set("mail.log"), &opts);
    let parsed = ingest::parse(&loaded, &opts);
    // The lab's history has no long silence: open two, of 2 and 3 hours, so that block
    // edges fall on them.
    let mut events = parsed.events.clone();
    let n = events.len();
    assert!(n > 1000, "the lab's combined history");
    for (from, hours) in [(n / 3, 2), (2 * n / 3, 3)] {
        for e in &mut events[from..] {
            let mut t = e.time();
            t.micros += hours * 3_600_000_000;
            e.set_time(t);
        }
    }
    let whole = scan::scan(&events);
    assert_eq!(whole.gaps.len(), 2, "both silences are found");
    for block in [1, 2, 7, n / 3, n / 3 + 1, n] {
        let mut s = scan::Scanner::default();
        for b in events.chunks(block) {
            s.block(b, None);
        }
        let s = s.finish(&events);
        assert_eq!(
            format!("{:?} {:?} {:?}", s.gaps, s.hosts, s.admin),
            format!("{:?} {:?} {:?}", whole.gaps, whole.hosts, whole.admin),
            "blocks of {block}"
        );
        // The events held in blocks (as a report holds them), the silences across edges.
        let held: Vec<Vec<_>> = events.chunks(block).map(<[_]>::to_vec).collect();
        assert_eq!(
            format!(
                "{:?}",
                mailsleuth::analysis::stats::gaps_in_blocks(&held, 10)
            ),
            format!("{:?}", whole.gaps),
            "held in blocks of {block}"
        );
    }
}
