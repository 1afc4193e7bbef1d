//! Allocation count of the per-line hot path (issue 8): a counting global allocator around
//! `System`, and every line of the lab corpus through
//!
//! - `lines::lines` (line splitting),
//! - `parse::parse_line` (every line),
//! - `timeline::action::action` (every parsed Postfix event).
//!
//! `parse_line` and `action` must not allocate at all: the bench panics, naming the lines that
//! did, when either does. The corpus is every `mail*.log*` of `../shared/corpus/lab/*/` (each
//! scenario's `mail.log` and its RFC 3339 twin, and the combined rotated set, gzip parts
//! decoded first), beside the checkout like the corpus tests. `cargo bench --bench alloc`
//! runs it in well under a second once built.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use mailsleuth::lines;
use mailsleuth::parse::{self, Line};
use mailsleuth::timeline::action;

/// `System`, counting every allocation (`alloc`, `alloc_zeroed` and `realloc` calls).
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

/// Every `mail*.log*` under `../shared/corpus/lab/*/`, sorted, then every file named by
/// `MAILSLEUTH_ALLOC_EXTRA` (colon-separated files or directories, walked), with its decoded
/// bytes.
fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/lab");
    let mut paths = Vec::new();
    let dirs = std::fs::read_dir(&lab).unwrap_or_else(|e| panic!("{}: {e}", lab.display()));
    for dir in dirs {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let p = f.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("mail") && name.contains(".log") && p.is_file() {
                paths.push(p);
            }
        }
    }
    paths.sort();
    assert!(
        paths.iter().any(|p| p.ends_with("combined/mail.log")),
        "{}: no lab corpus (combined/mail.log missing)",
        lab.display()
    );
    if let Some(extra) = std::env::var_os("MAILSLEUTH_ALLOC_EXTRA") {
        for p in std::env::split_paths(&extra) {
            walk(&p, &mut paths);
        }
    }
    paths
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let data = if raw.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                out
            } else {
                raw
            };
            (p, data)
        })
        .collect()
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut sub: Vec<PathBuf> = std::fs::read_dir(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .map(|e| e.unwrap().path())
            .collect();
        sub.sort();
        for s in sub {
            walk(&s, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// A line that allocated: where, how often, and what.
struct Culprit {
    file: String,
    line: usize,
    allocs: u64,
    what: String,
}

const SHOW: usize = 20;

fn main() {
    // The counter counts (else every figure below would be a vacuous 0).
    let a0 = allocs();
    black_box(Vec::<u8>::with_capacity(black_box(64)));
    assert!(allocs() > a0, "the counting allocator is not in use");

    let files = corpus();
    let bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/lab");
    let name = |p: &Path| {
        p.strip_prefix(&lab)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };

    // Line splitting: the whole iteration in one window (nothing is kept).
    let mut n_lines = 0u64;
    let before = allocs();
    for (_, data) in &files {
        for line in lines::lines(data) {
            black_box(line);
            n_lines += 1;
        }
    }
    let split_allocs = allocs() - before;

    // parse_line and action: one window around each call, so the bookkeeping here (which
    // may allocate) is never counted, and each allocation is pinned to its line.
    let mut parse_allocs = 0u64;
    let mut action_allocs = 0u64;
    let mut events = 0u64;
    let mut parse_culprits: Vec<Culprit> = Vec::new();
    let mut action_culprits: Vec<Culprit> = Vec::new();
    for (path, data) in &files {
        for (i, line) in lines::lines(data).enumerate() {
            let a0 = allocs();
            let parsed = black_box(parse::parse_line(black_box(line)));
            let a1 = allocs();
            if a1 != a0 {
                parse_allocs += a1 - a0;
                parse_culprits.push(Culprit {
                    file: name(path),
                    line: i + 1,
                    allocs: a1 - a0,
                    what: String::from_utf8_lossy(line).into_owned(),
                });
            }
            if let Line::Postfix { event, .. } = parsed {
                events += 1;
                let b0 = allocs();
                let act = black_box(action::action(black_box(&event)));
                let b1 = allocs();
                if b1 != b0 {
                    action_allocs += b1 - b0;
                    action_culprits.push(Culprit {
                        file: name(path),
                        line: i + 1,
                        allocs: b1 - b0,
                        what: format!(
                            "{:?} -> {:?}: {}",
                            event.daemon,
                            act,
                            String::from_utf8_lossy(line)
                        ),
                    });
                }
            }
        }
    }

    let per = |a: u64, n: u64| a as f64 / n.max(1) as f64;
    println!(
        "alloc: {} files ({} bytes decoded) of ../shared/corpus/lab{}",
        files.len(),
        bytes,
        if std::env::var_os("MAILSLEUTH_ALLOC_EXTRA").is_some() {
            " and MAILSLEUTH_ALLOC_EXTRA"
        } else {
            ""
        }
    );
    println!();
    println!("| step | calls | allocations | allocations per call |");
    println!("|---|---:|---:|---:|");
    for (step, calls, a) in [
        ("lines::lines (per line)", n_lines, split_allocs),
        ("parse::parse_line (per line)", n_lines, parse_allocs),
        ("action::action (per Postfix event)", events, action_allocs),
    ] {
        println!("| {step} | {calls} | {a} | {:.6} |", per(a, calls));
    }

    let mut failed = false;
    for (step, culprits) in [
        ("parse_line", &parse_culprits),
        ("action", &action_culprits),
    ] {
        if culprits.is_empty() {
            continue;
        }
        failed = true;
        println!();
        println!(
            "{step} allocated on {} lines; the first {}:",
            culprits.len(),
            culprits.len().min(SHOW)
        );
        for c in culprits.iter().take(SHOW) {
            println!(
                "  {}:{} ({} allocations) {}",
                c.file, c.line, c.allocs, c.what
            );
        }
    }
    assert!(n_lines > 0 && events > 0, "empty corpus");
    assert!(
        !failed,
        "the per-line hot path allocates: parse_line {parse_allocs}, action {action_allocs} allocations"
    );
}
