//! Command-line definitions (clap derive). Validation only: each subcommand turns its
//! arguments into the plain options the library layers take.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn Postfix mail logs and queue dumps into a forensic postmortem.
#[derive(Debug, Parser)]
#[command(name = "mailsleuth", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: one per core). Results never depend on it.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,

    /// Do not print the summary of input warnings on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read logs and queue dumps and write the postmortem report.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
}

const REPORT_EXAMPLES: &str = "\
Examples:
  # A support ticket's attachments: rotated logs (some gzipped) and queue dumps
  mailsleuth report ticket-4711/ --format json -o report.json

  # The live server's logs, read-only, zone-less stamps in the server's zone
  mailsleuth report /var/log/mail.log* --tz Europe/Berlin --format json

Exit status: 0 done, 1 done but some input had problems (see the warnings), 2 nothing usable.";

/// Where the inputs come from and how to read their times.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Log files, queue dumps (postqueue -p / -j), postconf output, or directories of them;
    /// `-` reads standard input. Gzip is detected by content.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Zone of stamps that carry none (traditional syslog): `local`, `UTC`, an IANA name,
    /// or an offset like `+02:00`.
    #[arg(long, value_name = "ZONE", default_value = "local")]
    pub tz: String,

    /// Year of the first line of logs whose stamps have no year (default: inferred from
    /// long queue IDs, queue dumps, gzip headers, neighbouring files or the file's mtime).
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,

    /// Read files instead of memory-mapping them (for logs that are being written to).
    #[arg(long)]
    pub no_mmap: bool,

    /// List every line that is not a syslog line on stderr, with file and line number.
    #[arg(long)]
    pub list_unparsed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The `mailsleuth/report/1` JSON contract.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "json", help_heading = "Output")]
    pub format: ReportFormat,

    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
}
