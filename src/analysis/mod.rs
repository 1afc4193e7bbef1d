//! Analysis: pure functions from timelines and dumps to findings. No bytes, no clap.
//!
//! - [`classify`]: failure class and normalised signature of a reply text;
//! - [`digest`]: the daily digest: pflogsumm's Grand Totals and more, for one day;
//! - [`incidents`]: incident windows, recovery, next checks, recipient problems;
//! - [`queue`]: queue dumps' shape, growth, stuck messages, cleanup selection;
//! - [`scan`]: what the events tell without the timelines (hosts, gaps, admin, reasons);
//! - [`stats`]: traffic over time, delays, destinations, rejects, gaps.

pub mod classify;
pub mod digest;
pub mod incidents;
pub mod queue;
pub mod scan;
pub mod stats;

#[cfg(test)]
mod classify_corpus_tests;
