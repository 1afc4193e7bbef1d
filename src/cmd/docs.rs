//! `mailsleuth completions SHELL` and `mailsleuth man [COMMAND] [--out-dir DIR]`: shell
//! completion scripts (clap_complete) and manual pages (clap_mangen), generated from the
//! same clap definitions as `--help`, so they always describe the options that exist.
//!
//! The man pages are clap_mangen's sections, except that each command's `after_help` text
//! (examples, exit status) becomes real sections — `EXAMPLES`, `EXIT STATUS` … — kept line by
//! line (`.nf`), where clap_mangen would run it together into one paragraph.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::CommandFactory;
use clap_mangen::roff::{roman, Roff};

use super::Outcome;
use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// The command tree as the generators see it: no `help` subcommand, settings propagated.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut cmd = command();
    // Into memory first: clap_complete panics on a write error, and a closed pipe is none.
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "mailsleuth", &mut buf);
    out.write_all(&buf)?;
    out.flush()?;
    Ok(Outcome::Clean)
}

pub fn man(args: &ManArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let pages = pages()?;
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, text) in &pages {
            let path: PathBuf = dir.join(name);
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "{}", path.display())?;
        }
    } else {
        let want = match &args.command {
            None => "mailsleuth.1".to_string(),
            Some(c) => format!("mailsleuth-{c}.1"),
        };
        let Some((_, text)) = pages.iter().find(|(name, _)| *name == want) else {
            let known: Vec<&str> = pages
                .iter()
                .filter_map(|(n, _)| n.strip_prefix("mailsleuth-")?.strip_suffix(".1"))
                .collect();
            bail!(
                "no manual page for `{}`: try one of {}",
                args.command.as_deref().unwrap_or_default(),
                known.join(", ")
            );
        };
        out.write_all(text)?;
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

/// Every manual page: the main one, then one per visible subcommand, as (file name, roff).
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let root = command();
    let mut out = vec![page(&root)?];
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.push(page(sub)?);
    }
    Ok(out)
}

fn page(cmd: &clap::Command) -> std::io::Result<(String, Vec<u8>)> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf)?;
    }
    if let Some(after) = cmd.get_after_help() {
        after_help_sections(&after.to_string()).to_writer(&mut buf)?;
    }
    if cmd.get_version().is_some() {
        man.render_version_section(&mut buf)?;
    }
    Ok((man.get_filename(), buf))
}

/// `Examples:` / `Exit status: …` paragraphs of an `after_help` text as man sections. A
/// heading is a line at the left margin that starts with a capitalised name and a colon;
/// what follows the colon on that line, and every line after it, is kept as written.
fn after_help_sections(text: &str) -> Roff {
    let mut roff = Roff::default();
    let mut open = false;
    for line in text.lines() {
        if let Some((head, rest)) = heading(line) {
            if open {
                roff.control("fi", [] as [&str; 0]);
            }
            roff.control("SH", [head.to_uppercase().as_str()]);
            roff.control("nf", [] as [&str; 0]);
            open = true;
            if !rest.is_empty() {
                roff.text([roman(rest)]);
            }
        } else if open {
            roff.text([roman(line)]);
        }
    }
    if open {
        roff.control("fi", [] as [&str; 0]);
    }
    roff
}

fn heading(line: &str) -> Option<(&str, &str)> {
    let (head, rest) = line.split_once(':')?;
    let ok = head.len() <= 24
        && head.starts_with(|c: char| c.is_ascii_uppercase())
        && head.chars().all(|c| c.is_ascii_alphabetic() || c == ' ');
    ok.then(|| (head, rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_split_sections_and_keep_lines() {
        let r = after_help_sections(
            "Examples:\n  # one\n  mailsleuth queue x --warn 1\n\nExit status: 0 OK, 3 UNKNOWN.\n0 fine",
        )
        .to_roff();
        assert!(r.contains(".SH EXAMPLES\n.nf\n"), "{r}");
        assert!(r.contains("mailsleuth queue x \\-\\-warn 1"), "{r}");
        assert!(
            r.contains(".SH \"EXIT STATUS\"\n.nf\n0 OK, 3 UNKNOWN.\n0 fine\n.fi"),
            "{r}"
        );
        assert!(heading("  mailsleuth x: y").is_none());
        assert!(heading("0 OK: x").is_none());
    }
}
