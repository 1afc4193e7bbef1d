//! The `mailsleuth` binary: parse the command line, dispatch, map the outcome to the exit
//! status (0 done, 1 done with input warnings, 2 fatal).

use std::process::ExitCode;

use clap::Parser;
use mailsleuth::cli::{Cli, Command};
use mailsleuth::cmd::{self, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
        {
            eprintln!("mailsleuth: cannot start {n} threads: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match &cli.command {
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
            eprintln!("mailsleuth: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
