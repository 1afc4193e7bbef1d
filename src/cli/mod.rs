//! Command-line definitions (clap derive). Validation only: each subcommand turns its
//! arguments into the plain options the library layers take.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod meta;
pub use meta::{CompletionsArgs, ManArgs, ROOT_AFTER_HELP, VERSION};

/// Turn Postfix mail logs and queue dumps into a forensic postmortem.
#[derive(Debug, Parser)]
#[command(name = "mailsleuth", version = VERSION, about, long_about = None)]
#[command(after_help = ROOT_AFTER_HELP, arg_required_else_help = true)]
pub struct Cli {
    /// Worker threads (default: one per core). Results never depend on it.
    #[arg(long, global = true, value_name = "N", help_heading = "Global options")]
    pub threads: Option<usize>,

    /// Do not print the summary of input warnings on stderr.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,

    /// Colour in terminal output (NO_COLOR is respected with `auto`).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Global options"
    )]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(hide = true, after_help = meta::COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write every page to a directory.
    #[command(hide = true, after_help = meta::MAN_EXAMPLES)]
    Man(ManArgs),
    /// Read logs and queue dumps and write the postmortem report.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Follow one message through the logs: every attempt, hop, requeue and notification.
    #[command(after_help = TRACE_EXAMPLES)]
    Trace(TraceArgs),
    /// Read saved queue dumps: shape by domain and age, trend, cleanup plan, monitoring check.
    #[command(after_help = QUEUE_EXAMPLES)]
    Queue(QueueArgs),
    /// A day's summary for the morning mail: pflogsumm's totals, reasons, incidents, health.
    #[command(after_help = DIGEST_EXAMPLES)]
    Digest(DigestArgs),
}

const DIGEST_EXAMPLES: &str = "\
Examples:
  # From cron, instead of pflogsumm: yesterday by the logs' own dates, gzipped rotations too
  mailsleuth digest /var/log/mail.log* --day yesterday | mail -s \"mail digest\" postmaster

  # One day of a support ticket's logs and queue dumps, as Markdown
  mailsleuth digest ticket-4711/ --day 2026-11-30 --format md -o digest.md

  # The numbers for a monitoring system (pflogsumm's names under digest.totals)
  mailsleuth digest /var/log/mail.log --day today --format json

Exit status: 0 done, 1 done but some input had problems (see the warnings), 2 nothing usable.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    /// Plain text for mail and an 80-column terminal.
    Text,
    /// GitHub-flavoured Markdown.
    Md,
    /// One self-contained HTML page.
    Html,
    /// `mailsleuth/digest/1` JSON (`digest.totals` uses pflogsumm's names).
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DigestArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The day to summarise, by the logs' own dates: yesterday, today, all, or YYYY-MM-DD.
    /// When the newest line is older than yesterday, today/yesterday count back from it.
    #[arg(
        long,
        value_name = "DAY",
        default_value = "all",
        help_heading = "Output"
    )]
    pub day: String,

    /// Output format.
    #[arg(long, value_enum, default_value = "text", help_heading = "Output")]
    pub format: DigestFormat,

    /// Rows per table.
    #[arg(long, value_name = "N", default_value = "10", help_heading = "Output")]
    pub top: usize,

    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

const QUEUE_EXAMPLES: &str = "\
Examples:
  # Runbook step 1: the queue's shape from a saved `postqueue -j` (or `postqueue -p`)
  mailsleuth queue postqueue-j.jsonl

  # Surgical cleanup: only the typo domain's messages, reviewed before anything is deleted
  mailsleuth queue postqueue-j.jsonl --select domain=gmial.test --plan delete.txt

  # From cron or a monitoring system (Nagios plugin convention)
  postqueue -p | mailsleuth queue - --warn 200 --crit 1000

Exit status: 0 done, 1 done with input warnings, 2 fatal; with --warn/--crit:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Select messages for a plan: domain=D, sender=ADDR, class=CLASS, older-than=DURATION
    /// (90s, 15m, 2h, 3d), queue=deferred|hold|active. Repeat to combine (AND).
    #[arg(long, value_name = "KEY=VALUE", help_heading = "Cleanup plan")]
    pub select: Vec<String>,

    /// Write the selected queue IDs to FILE, one per line, for `postsuper -d -` after review.
    #[arg(long, value_name = "FILE", help_heading = "Cleanup plan")]
    pub plan: Option<PathBuf>,

    /// The plan is for requeueing (`postsuper -r -`) instead of deleting.
    #[arg(long, help_heading = "Cleanup plan")]
    pub requeue: bool,

    /// WARNING at this many messages (monitoring mode: one line, exit 0/1/2/3).
    #[arg(long, value_name = "N", help_heading = "Monitoring")]
    pub warn: Option<u64>,

    /// CRITICAL at this many messages.
    #[arg(long, value_name = "N", help_heading = "Monitoring")]
    pub crit: Option<u64>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text", help_heading = "Output")]
    pub format: QueueFormat,

    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

const TRACE_EXAMPLES: &str = "\
Examples:
  # Runbook step 2: pick a queue ID from `postqueue -p` and read its real error
  mailsleuth trace /var/log/mail.log* 6202BB6499

  # Everything that happened to one recipient's mail, as data
  mailsleuth trace ticket-4711/ --to heidi28@partner.test --format json

Exit status: 0 found, 1 nothing matched (or an input had problems), 2 fatal.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The queue ID to follow (each life of a reused ID is shown separately).
    #[arg(
        long = "queue-id",
        short = 'i',
        value_name = "QUEUE_ID",
        help_heading = "Which message"
    )]
    pub queue_id: Option<String>,

    /// Follow the message with this Message-ID (angle brackets optional).
    #[arg(long, value_name = "ID", help_heading = "Which message")]
    pub message_id: Option<String>,

    /// Follow messages from this envelope sender.
    #[arg(long, value_name = "ADDR", help_heading = "Which message")]
    pub from: Option<String>,

    /// Follow messages to this recipient (or original recipient).
    #[arg(long, value_name = "ADDR", help_heading = "Which message")]
    pub to: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text", help_heading = "Output")]
    pub format: TraceFormat,

    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

const REPORT_EXAMPLES: &str = "\
Examples:
  # After an incident: the postmortem page from the logs and the saved queue dumps
  mailsleuth report /var/log/mail.log* dumps/ -o postmortem.html

  # A support ticket's attachments, as Markdown to paste into the ticket
  mailsleuth report ticket-4711/ -o postmortem.md

  # For machines
  mailsleuth report ticket-4711/ --format json -o report.json

  # The live server's logs, read-only, zone-less stamps in the server's zone
  mailsleuth report /var/log/mail.log* --tz Europe/Berlin --format json

Exit status: 0 done, 1 done but some input had problems (see the warnings), 2 nothing usable.";

/// Where the inputs come from and how to read their times.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Log files, queue dumps (postqueue -p / -j), postconf output, or directories of them;
    /// `-` reads standard input. Gzip is detected by content. (`trace` also takes the queue
    /// ID to follow here, as its last argument.)
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

    /// When the queue dumps were taken (RFC 3339, e.g. 2026-11-30T01:51:25Z), when neither
    /// their file names nor their mtimes say it.
    #[arg(long, value_name = "TIME", value_parser = parse_taken_at)]
    pub taken_at: Option<crate::time::Stamp>,

    /// Read files instead of memory-mapping them (for logs that are being written to).
    #[arg(long)]
    pub no_mmap: bool,

    /// List every line that is not a syslog line on stderr, with file and line number.
    #[arg(long)]
    pub list_unparsed: bool,
}

fn parse_taken_at(s: &str) -> Result<crate::time::Stamp, String> {
    match crate::parse::header::rfc3339(s.as_bytes()) {
        Some((stamp, _, n)) if n == s.len() => Ok(stamp),
        _ => Err(format!(
            "{s:?}: expected an RFC 3339 time such as 2026-11-30T01:51:25Z"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// GitHub-flavoured Markdown for a ticket (charts as SVG files beside `-o FILE.md`).
    Md,
    /// One self-contained HTML page with charts.
    Html,
    /// The `mailsleuth/report/1` JSON contract.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format (default: from the extension of `-o`, else Markdown).
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,

    /// Write to FILE instead of standard output (`.html`, `.md`, `.json` choose the format).
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Include every message's timeline (`messages` in the JSON).
    #[arg(long, help_heading = "Output")]
    pub messages: bool,

    /// Redact for a ticket: addresses' local parts become stable pseudonyms; `--redact ips`
    /// also masks IP addresses. Domains, relays, DSNs and error texts are kept.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "addresses", value_name = "WHAT", help_heading = "Redaction")]
    pub redact: Option<RedactMode>,

    /// Key for the pseudonyms (default: random per run), to keep them stable across reports.
    #[arg(
        long,
        value_name = "KEY",
        requires = "redact",
        help_heading = "Redaction"
    )]
    pub redact_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedactMode {
    /// Addresses' local parts.
    Addresses,
    /// Addresses and IP addresses.
    Ips,
}

impl RedactMode {
    pub fn name(self) -> &'static str {
        match self {
            RedactMode::Addresses => "addresses",
            RedactMode::Ips => "addresses+ips",
        }
    }
}
