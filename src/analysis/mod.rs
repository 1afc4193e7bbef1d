//! Analysis over parsed events: what went wrong, grouped so a human can read it.
//!
//! [`classify`] names the cause of one failure text (a deferral, a bounce, a queue-dump
//! `delay_reason`, an smtpd reject) and gives it a signature that groups repeats of the same
//! error. The incident detector, the queue-dump analysis and the digest build on it.

pub mod classify;

#[cfg(test)]
mod classify_corpus_tests;
