//! The `mailsleuth` binary: parse the command line, dispatch, map the outcome to the exit
//! status (0 done, 1 done with input warnings, 2 fatal; a `queue --warn/--crit` check:
//! 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use mailsleuth::cli::{Cli, ColorChoice, Command};
use mailsleuth::cmd::{self, Outcome};

/// mimalloc for the millions of small strings and vectors the timelines make and free; large
/// blocks straight from the kernel, so that they leave memory as soon as they are freed (see
/// [`mailsleuth::heap`]).
#[global_allocator]
static ALLOC: mailsleuth::heap::Heap = mailsleuth::heap::Heap;

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // A monitoring check never says CRITICAL (2) for its own failure: that is UNKNOWN (3).
    let monitoring =
        matches!(&cli.command, Command::Queue(a) if a.warn.is_some() || a.crit.is_some());
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
        {
            if monitoring {
                println!("UNKNOWN: cannot start {n} threads: {e}");
                return ExitCode::from(3);
            }
            eprintln!("mailsleuth: cannot start {n} threads: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match &cli.command {
        Command::Completions(a) => cmd::docs::completions(a, &mut std::io::stdout().lock()),
        Command::Man(a) => cmd::docs::man(a, &mut std::io::stdout().lock()),
        Command::Report(a) => cmd::report::run(a, cli.quiet),
        Command::Trace(a) => cmd::trace::run(a, cli.quiet, cli.color),
        Command::Queue(a) => cmd::queue::run(a, cli.quiet),
        Command::Digest(a) => cmd::digest::run(a, cli.quiet),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Warnings) => ExitCode::from(1),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(e) => {
            // A closed pipe (`mailsleuth report … | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            if monitoring {
                println!("UNKNOWN: {e:#}");
                return ExitCode::from(3);
            }
            eprintln!("mailsleuth: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Parse the command line. Clap's own help and usage errors follow `--color` as the
/// commands do (and NO_COLOR with `auto`); a usage error in a monitoring check
/// (`queue … --warn/--crit`) is UNKNOWN (3) on standard output, as monitoring plugins report
/// it, never exit 2, which a monitoring system reads as CRITICAL.
fn parse() -> Result<Cli, ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let color = match color_arg(&args) {
        Some(ColorChoice::Always) => clap::ColorChoice::Always,
        Some(ColorChoice::Never) => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    };
    let parsed = Cli::command()
        .color(color)
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m));
    match parsed {
        Ok(cli) => Ok(cli),
        Err(e) if e.use_stderr() && is_monitoring(&args) => {
            // The error's first paragraph, on one line.
            let text = e.to_string();
            let what: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let what = what.join(" ");
            println!(
                "UNKNOWN: wrong usage: {}",
                what.strip_prefix("error: ").unwrap_or(&what)
            );
            let _ = e.print();
            Err(ExitCode::from(3))
        }
        Err(e) => e.exit(),
    }
}

/// `--color WHEN` / `--color=WHEN` as written, before clap has parsed anything.
fn color_arg(args: &[OsString]) -> Option<ColorChoice> {
    let mut value = None;
    let mut it = args.iter().skip(1).map(|a| a.to_str().unwrap_or_default());
    while let Some(a) = it.next() {
        let v = match a {
            "--" => break,
            "--color" => it.next(),
            _ => a.strip_prefix("--color="),
        };
        value = match v {
            Some("always") => Some(ColorChoice::Always),
            Some("never") => Some(ColorChoice::Never),
            Some("auto") => Some(ColorChoice::Auto),
            _ => value,
        };
    }
    value
}

fn is_monitoring(args: &[OsString]) -> bool {
    let args: Vec<&str> = args
        .iter()
        .skip(1)
        .map(|a| a.to_str().unwrap_or_default())
        .collect();
    args.contains(&"queue")
        && args.iter().any(|a| {
            ["--warn", "--crit"]
                .iter()
                .any(|f| *a == *f || a.starts_with(&format!("{f}=")))
        })
}
