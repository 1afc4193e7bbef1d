//! What the tool says about itself: the version line, the root help's examples and exit
//! codes, and the arguments of the `completions` and `man` subcommands (both generated from
//! these clap definitions, so they never drift from the real options).

use std::path::PathBuf;

use clap::Args;

/// `mailsleuth --version`: the crate version and the git commit it was built from
/// (`unknown` outside a git checkout; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MAILSLEUTH_COMMIT"),
    ")"
);

pub const ROOT_AFTER_HELP: &str = "\
Examples:
  # After an incident: the postmortem from a support ticket's attachments
  mailsleuth report ticket-4711/ -o postmortem.html

  # Runbook: one queue ID's whole story and its real error
  mailsleuth trace /var/log/mail.log* 6202BB6499

  # From cron or a monitoring system: the live queue against thresholds
  postqueue -p | mailsleuth queue - --warn 200 --crit 1000

Exit status:
  0  done
  1  done, but some input had problems (see the warnings on stderr);
     `trace`: also when no message matched
  2  fatal: wrong usage, or nothing usable in the inputs
  `queue --warn N --crit M` follows the monitoring-plugin convention instead:
  0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no dump, or wrong usage)

Output:
  The result goes to standard output (or -o FILE); warnings and errors to standard error.

Environment:
  NO_COLOR  when set and not empty, --color auto (the default) adds no colour;
            auto paints a terminal only, never a pipe or a file.

See also:
  mailsleuth COMMAND --help      each command's options and examples
  mailsleuth man --out-dir DIR   the manual pages (mailsleuth.1, mailsleuth-report.1, ...)
  mailsleuth completions SHELL   completions for bash, zsh or fish";

pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  # bash, for yourself (bash-completion loads this directory on demand)
  mkdir -p ~/.local/share/bash-completion/completions
  mailsleuth completions bash > ~/.local/share/bash-completion/completions/mailsleuth

  # zsh: into a directory on $fpath
  mailsleuth completions zsh > ~/.zfunc/_mailsleuth

  # fish
  mailsleuth completions fish > ~/.config/fish/completions/mailsleuth.fish";

pub const MAN_EXAMPLES: &str = "\
Examples:
  # Read the manual page now
  mailsleuth man | man -l -

  # Install every page (mailsleuth.1, mailsleuth-report.1, ...) for yourself
  mailsleuth man --out-dir ~/.local/share/man/man1";

/// Arguments of `mailsleuth completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Arguments of `mailsleuth man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The page of this subcommand (for example `report`) instead of the main page.
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Option<String>,

    /// Write every page to DIR (mailsleuth.1 and mailsleuth-COMMAND.1) and print their paths.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}
