//! `mailsleuth digest INPUT... [--day yesterday|today|YYYY-MM-DD|all] [--format text|md|html|json]`:
//! a day's summary for the morning mail, a drop-in for pflogsumm and Logwatch's postfix
//! service (same Grand Totals on the same lines), with the day's incidents, the queue trend
//! and a one-line verdict.
//!
//! Cost: one pass to parse; the timelines twice when one day is selected (the day, and all
//! the input for incidents that started before it).

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{bail, Context};

use super::Outcome;
use crate::analysis::digest::{self, DaySpec};
use crate::cli::{DigestArgs, DigestFormat};
use crate::ingest;
use crate::input::discover;
use crate::report::digest as render;

pub fn run(args: &DigestArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let opts = super::ingest_options(&args.input)?;
    let day = DaySpec::parse(&args.day).map_err(anyhow::Error::msg)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let (paths, unreadable) = discover::discover(&args.input.inputs);
    let mut err = std::io::stderr().lock();
    for u in &unreadable {
        if !quiet {
            writeln!(err, "mailsleuth: warning: {}: {}", u.path, u.reason)?;
        }
    }
    if paths.is_empty() {
        bail!("no input files found");
    }
    let loaded = ingest::load(&paths, &opts);
    let parsed = ingest::parse(&loaded, &opts);
    let outcome = super::summarise_warnings(&loaded, &parsed, quiet, &mut err);
    if parsed.events.is_empty() && parsed.dumps.is_empty() {
        bail!(
            "nothing usable: no Postfix log line and no queue dump in {} input(s)",
            loaded.inputs.len()
        );
    }
    // The clock's day in the zone of zone-less stamps.
    let now = crate::time::Stamp::from_unix(
        opts.now
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        0,
    );
    let today =
        (now.unix_secs() + opts.zone.offset_at_unix(now.unix_secs()) as i64).div_euclid(86_400);
    let d = digest::build(
        &parsed.events,
        &parsed.dumps,
        &parsed.postconf,
        &digest::Options {
            day,
            today,
            top: args.top,
        },
    );
    match args.format {
        DigestFormat::Json => {
            let report = render::DigestReport {
                schema: render::SCHEMA,
                generator: crate::report::Generator {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                },
                settings: render::Settings {
                    timezone: opts.zone.name().to_string(),
                    year: opts.year,
                    day: args.day.clone(),
                    top: args.top,
                },
                inputs: loaded
                    .inputs
                    .iter()
                    .zip(&parsed.stats)
                    .map(|(i, s)| render::InputLine {
                        path: i.path.clone(),
                        kind: i.kind.name(),
                        lines: s.lines,
                        postfix_lines: s.postfix_lines,
                    })
                    .collect(),
                digest: &d,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        DigestFormat::Text => {
            out.write_all(render::text(&render::document(&d), render::TEXT_WIDTH).as_bytes())?
        }
        DigestFormat::Md => out.write_all(render::markdown(&render::document(&d)).as_bytes())?,
        DigestFormat::Html => out.write_all(render::html(&render::document(&d)).as_bytes())?,
    }
    out.flush()?;
    Ok(if unreadable.is_empty() {
        outcome
    } else {
        Outcome::Warnings
    })
}
