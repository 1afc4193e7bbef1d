//! One file per subcommand. Each takes its clap arguments, runs the pipeline and writes its
//! output; only this layer knows about files on disk and the command line.

pub mod digest;
pub mod docs;
pub mod queue;
pub mod report;
pub mod trace;

use std::io::Write;

use crate::cli::{ColorChoice, InputArgs};
use crate::ingest::{self, Loaded, Parsed};
use crate::time::Zone;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, inputs clean.
    Clean,
    /// Done, but some input had problems (exit status 1).
    Warnings,
    /// A command-specific exit status (monitoring checks: 0 OK … 3 UNKNOWN).
    Exit(u8),
}

/// Open the output before the long work, so a bad `-o` fails at once: a file, or stdout.
pub fn open_output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn Write>> {
    use anyhow::Context;
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// Expand the input arguments into files; warn about the unreadable ones (unless quiet).
/// Returns the files and whether any path was unreadable; fails when nothing is left.
pub fn discover_inputs(
    a: &InputArgs,
    quiet: bool,
    err: &mut dyn Write,
) -> anyhow::Result<(Vec<crate::input::InputPath>, bool)> {
    let (paths, unreadable) = crate::input::discover::discover(&a.inputs);
    if !quiet {
        for u in &unreadable {
            writeln!(err, "mailsleuth: warning: {}: {}", u.path, u.reason)?;
        }
    }
    if paths.is_empty() {
        anyhow::bail!(
            "no input files found in {}",
            a.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok((paths, !unreadable.is_empty()))
}

/// Whether to colour output: `--color always|never`, or with `auto` only a terminal, and
/// not when NO_COLOR is set to a non-empty value (no-color.org) or TERM is `dumb`.
pub fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Turn the input arguments into ingest options.
pub fn ingest_options(a: &InputArgs) -> anyhow::Result<ingest::Options> {
    let zone = Zone::parse(&a.tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
    Ok(ingest::Options {
        mmap: !a.no_mmap,
        year: a.year,
        zone,
        now: std::time::SystemTime::now(),
        keep_unparsed: a.list_unparsed,
        taken_at: a.taken_at,
        gzip_segment: Some(ingest::SEGMENT),
        event_blocks: false,
    })
}

/// Print the warnings' summary on stderr (unless quiet) and say whether any input had
/// problems.
pub fn summarise_warnings(
    loaded: &Loaded,
    parsed: &Parsed<'_>,
    quiet: bool,
    err: &mut dyn Write,
) -> Outcome {
    let mut problems = false;
    // Notes (empty files, inferred years) are summed up per kind; problems are shown with
    // their first samples.
    let mut notes: std::collections::BTreeMap<crate::diag::WarnKind, Vec<&str>> =
        Default::default();
    for (i, d) in parsed.diags.iter().enumerate() {
        let path = &loaded.inputs[i].path;
        for k in d.counts().keys().filter(|k| k.is_note()) {
            notes.entry(*k).or_default().push(path);
        }
        let problem_total: u64 = d
            .counts()
            .iter()
            .filter(|(k, _)| !k.is_note())
            .map(|(_, n)| n)
            .sum();
        if problem_total == 0 {
            continue;
        }
        problems = true;
        if quiet {
            continue;
        }
        let shown: Vec<_> = d.samples().iter().filter(|w| !w.kind.is_note()).collect();
        for w in &shown {
            let _ = writeln!(err, "mailsleuth: warning: {}", w.message);
        }
        if problem_total > shown.len() as u64 {
            let by_kind: Vec<String> = d
                .counts()
                .iter()
                .filter(|(k, _)| !k.is_note())
                .map(|(k, n)| format!("{n} {}", k.name()))
                .collect();
            let _ = writeln!(
                err,
                "mailsleuth: warning: {path}: {} more ({})",
                problem_total - shown.len() as u64,
                by_kind.join(", ")
            );
        }
    }
    if !quiet {
        for (kind, paths) in &notes {
            let list = if paths.len() > 3 {
                format!("{}, … ({} in all)", paths[..3].join(", "), paths.len())
            } else {
                paths.join(", ")
            };
            let _ = writeln!(err, "mailsleuth: note: {}: {list}", kind.note_text());
        }
    }
    if !quiet && !parsed.unparsed.is_empty() {
        for (loc, line) in &parsed.unparsed {
            let _ = writeln!(
                err,
                "{}:{}: {}",
                loaded.inputs[loc.input as usize].path,
                loc.line,
                String::from_utf8_lossy(line)
            );
        }
    }
    if problems {
        Outcome::Warnings
    } else {
        Outcome::Clean
    }
}
