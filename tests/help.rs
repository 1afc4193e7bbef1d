//! What an admin reads before running anything: `--help` of every subcommand (a one-line
//! purpose, options grouped under headings, real examples that parse), `--version` with the
//! commit, the manual pages and shell completions generated from the same definitions, and
//! `--color` / NO_COLOR.

use std::path::Path;

use assert_cmd::Command;
use clap::{CommandFactory, Parser};
use mailsleuth::cli::Cli;

fn mailsleuth() -> Command {
    let mut c = Command::cargo_bin("mailsleuth").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn out(args: &[&str]) -> String {
    let o = mailsleuth().args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// Every subcommand, hidden ones too (`completions`, `man`), without clap's `help`.
fn subcommands() -> Vec<clap::Command> {
    let mut root = Cli::command();
    root.build();
    root.get_subcommands()
        .filter(|c| c.get_name() != "help")
        .cloned()
        .collect()
}

/// The example command lines of a help text: the lines under `Examples:` that run
/// mailsleuth, from `mailsleuth` on (after a pipe or `&&` too), up to a redirection.
fn examples(help: &str) -> Vec<String> {
    let section = help
        .split("Examples:\n")
        .nth(1)
        .unwrap_or_default()
        .split("\n\nExit status")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.find("mailsleuth ").map(|i| &l[i..]))
        .map(|l| l.split(" > ").next().unwrap().split(" | ").next().unwrap())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_subcommand_has_a_purpose_grouped_options_and_examples_that_parse() {
    let subs = subcommands();
    assert!(subs.len() >= 5, "{:?}", subs.iter().map(|c| c.get_name()));
    for sub in &subs {
        let name = sub.get_name();
        let help = out(&[name, "--help"]);
        // The first line is the one-line purpose.
        let about = sub.get_about().expect("an about line").to_string();
        assert_eq!(help.lines().next(), Some(about.as_str()), "{name}");
        assert!(
            !about.contains('\n') && about.len() <= 100,
            "{name}: {about}"
        );
        // Two to four examples, each a command line that clap accepts.
        let ex = examples(&help);
        assert!((2..=4).contains(&ex.len()), "{name}: {ex:?}\n{help}");
        for e in &ex {
            let argv: Vec<&str> = e.split_whitespace().collect();
            assert_eq!(argv[1], name, "{name}: example of another command: {e}");
            if let Err(err) = Cli::try_parse_from(&argv) {
                panic!("{name}: the example `{e}` does not parse:\n{err}");
            }
        }
        // Options under headings: every option of the main subcommands has one (Input,
        // Output, Which message, Monitoring, Global options …), not one long flat list.
        if !sub.is_hide_set() {
            for a in sub.get_arguments() {
                let id = a.get_id().as_str();
                if id != "help" {
                    assert!(
                        a.get_help_heading().is_some(),
                        "{name}: --{id} has no help heading"
                    );
                }
            }
        }
    }
}

#[test]
fn the_root_help_has_examples_and_hides_only_the_generators() {
    let help = out(&["--help"]);
    for e in examples(&help) {
        let argv: Vec<&str> = e.split_whitespace().collect();
        Cli::try_parse_from(&argv).unwrap_or_else(|err| panic!("`{e}`: {err}"));
    }
    for visible in ["report", "trace", "queue"] {
        assert!(help.contains(&format!("\n  {visible} ")), "{help}");
    }
    // `man` and `completions` are named under See also, not listed as commands.
    assert!(!help.contains("\n  man "), "{help}");
    assert!(help.contains("mailsleuth man --out-dir DIR"));
    assert!(help.contains("mailsleuth completions SHELL"));
}

#[test]
fn version_names_the_version_and_the_commit() {
    let v = out(&["--version"]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commit = if root.join(".git").exists() {
        let o = std::process::Command::new("git")
            .args(["-C", root.to_str().unwrap(), "rev-parse", "--short", "HEAD"])
            .output()
            .expect("git, to check the commit of a git checkout");
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    } else {
        "unknown".to_string()
    };
    assert_eq!(
        v.trim(),
        format!("mailsleuth {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_bash_zsh_and_fish_know_every_subcommand() {
    let bash = out(&["completions", "bash"]);
    assert!(bash.contains("complete -F _mailsleuth"), "{bash}");
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", &bash])
        .status()
        .unwrap();
    assert!(check.success(), "bash cannot parse its completion script");
    let zsh = out(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef mailsleuth"), "{zsh}");
    let fish = out(&["completions", "fish"]);
    assert!(fish.contains("complete -c mailsleuth"), "{fish}");
    for sub in subcommands().iter().filter(|s| !s.is_hide_set()) {
        for (shell, script) in [("bash", &bash), ("zsh", &zsh), ("fish", &fish)] {
            assert!(
                script.contains(sub.get_name()),
                "{shell} lacks {}",
                sub.get_name()
            );
        }
    }
    // Options of a subcommand too.
    assert!(bash.contains("--select") && zsh.contains("--select") && fish.contains("select"));
    let o = mailsleuth().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("possible values"));
}

#[test]
fn man_pages_for_the_tool_and_each_subcommand() {
    let page = out(&["man"]);
    assert!(page.contains(".TH mailsleuth 1"), "{page}");
    assert!(page.contains(".SH EXAMPLES\n.nf\n"), "{page}");
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(page.contains("mailsleuth\\-report(1)"), "{page}");
    let queue = out(&["man", "queue"]);
    assert!(queue.contains(".TH mailsleuth-queue 1"), "{queue}");
    assert!(queue.contains("\\-\\-crit"), "{queue}");

    let dir = tempfile::tempdir().unwrap();
    let listed = out(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let mut want = vec!["mailsleuth.1".to_string()];
    for sub in subcommands().iter().filter(|s| !s.is_hide_set()) {
        want.push(format!("mailsleuth-{}.1", sub.get_name()));
    }
    let mut have: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    have.sort();
    want.sort();
    assert_eq!(have, want);
    assert_eq!(listed.lines().count(), want.len(), "{listed}");
    for name in &want {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            text.contains(".SH SYNOPSIS") && text.contains(".SH EXAMPLES"),
            "{name}"
        );
    }
    let o = mailsleuth().args(["man", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("try one of report, trace, queue"));
}

/// Whether the output of `mailsleuth ARGS` holds an escape sequence; with `tty`, run on a
/// pseudo-terminal (util-linux `script`), as a person at a terminal runs it.
fn paints(args: &[&str], no_color: Option<&str>, tty: bool) -> bool {
    let bin = assert_cmd::cargo::cargo_bin("mailsleuth");
    let mut c = if tty {
        let line: Vec<String> = std::iter::once(bin.to_str().unwrap())
            .chain(args.iter().copied())
            .map(|a| format!("'{a}'"))
            .collect();
        let mut c = std::process::Command::new("script");
        c.args(["-q", "-e", "-c", &line.join(" "), "/dev/null"]);
        c
    } else {
        let mut c = std::process::Command::new(bin);
        c.args(args);
        c
    };
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm");
    if let Some(v) = no_color {
        c.env("NO_COLOR", v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{args:?}: {o:?}");
    o.stdout.contains(&0x1b)
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let log = "tests/fixtures/throttle/mail.log";
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(log)).unwrap();
    let qid = text
        .lines()
        .find(|l| l.contains(": client="))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap();
    let trace = |color: &str, no_color: Option<&str>, tty: bool| {
        paints(&["trace", log, qid, "--color", color], no_color, tty)
    };
    // A pipe: `auto` adds no colour; `always` does, NO_COLOR or not (the flag wins);
    // `never` never.
    assert!(!trace("auto", None, false));
    assert!(trace("always", None, false));
    assert!(trace("always", Some("1"), false));
    assert!(!trace("never", None, false));
    // A terminal: `auto` paints it, unless NO_COLOR is set to something (empty is unset).
    assert!(trace("auto", None, true));
    assert!(trace("auto", Some(""), true));
    assert!(!trace("auto", Some("1"), true));
    assert!(!trace("never", None, true));
    // Clap's own help follows the flag as well.
    assert!(paints(&["--color", "always", "--help"], None, false));
    assert!(!paints(&["--color=never", "--help"], None, true));
    assert!(!paints(&["--help"], Some("1"), true));
}
