//! mailsleuth: Postfix logs and queue dumps in, a forensic postmortem out.
//!
//! The pipeline, one module per step, each depending only on those before it:
//!
//! ```text
//! input (discover, mmap | read, gunzip, classify)
//!   → lines (newline-aligned chunks)
//!   → parse (borrowed Event<'a> per line, no allocation)        qdump (postqueue -p / -j)
//!   → ingest (parallel parse, year inference, ordering, de-duplication)
//!   → report (one serde model) → renderers (json)
//!   → cmd (one file per subcommand) → main
//! ```

pub mod analysis;
pub mod cli;
pub mod cmd;
pub mod diag;
pub mod heap;
pub mod ingest;
pub mod input;
pub mod lines;
pub mod names;
pub mod parse;
pub mod qdump;
pub mod report;
pub mod time;
pub mod timeline;
pub mod timing;
