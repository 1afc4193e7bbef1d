//! Diagnostics: problems with the data are data. Each warning names its file and position;
//! per input they are counted by kind and the first few of each kind kept as samples, so the
//! report can show what it rests on without growing with the input.

use std::collections::BTreeMap;

/// How many samples of one kind are kept per input.
pub const SAMPLES_PER_KIND: usize = 5;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarnKind {
    /// The file could not be opened or read.
    Unreadable,
    /// The file is empty (an empty `postqueue -j` dump means an empty queue).
    EmptyFile,
    /// The file is not a log, dump or postconf output.
    NotOurs,
    /// Compressed stream ended early or is corrupt.
    CorruptCompression,
    /// Compression we recognise but do not decode.
    UnsupportedCompression,
    /// A line with NUL bytes.
    NulBytes,
    /// A line that is not valid UTF-8 (still parsed).
    InvalidUtf8,
    /// A line longer than the limit (skipped).
    OverlongLine,
    /// A line that is not syslog at all.
    NotSyslog,
    /// The last line has no newline and the file was cut short.
    PartialLine,
    /// A file whose content repeats another input's (identical, or overlapping lines).
    Duplicate,
    /// A log file with no Postfix line.
    NoPostfixLines,
    /// A queue dump record that could not be read.
    BadRecord,
    /// The year could only be guessed from weak evidence.
    WeakYear,
}

impl WarnKind {
    /// Notes are shown but do not make the exit status 1: the input is as it should be.
    pub fn is_note(self) -> bool {
        matches!(self, WarnKind::WeakYear | WarnKind::EmptyFile)
    }

    /// The kebab-case name used in JSON and on stderr.
    pub fn name(self) -> &'static str {
        match self {
            WarnKind::Unreadable => "unreadable",
            WarnKind::EmptyFile => "empty-file",
            WarnKind::NotOurs => "not-ours",
            WarnKind::CorruptCompression => "corrupt-compression",
            WarnKind::UnsupportedCompression => "unsupported-compression",
            WarnKind::NulBytes => "nul-bytes",
            WarnKind::InvalidUtf8 => "invalid-utf8",
            WarnKind::OverlongLine => "overlong-line",
            WarnKind::NotSyslog => "not-syslog",
            WarnKind::PartialLine => "partial-line",
            WarnKind::Duplicate => "duplicate",
            WarnKind::NoPostfixLines => "no-postfix-lines",
            WarnKind::BadRecord => "bad-record",
            WarnKind::WeakYear => "weak-year",
        }
    }

    /// How a note is summed up on stderr.
    pub fn note_text(self) -> &'static str {
        match self {
            WarnKind::EmptyFile => "empty inputs (an empty postqueue -j dump is an empty queue)",
            WarnKind::WeakYear => {
                "year of year-less stamps inferred from file mtime, a neighbour or the clock (set --year if wrong)"
            }
            _ => self.name(),
        }
    }
}

/// One warning, with where it happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub kind: WarnKind,
    /// 1-based line number, when the problem is a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset (in the file as stored, i.e. compressed for a gzip file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub message: String,
}

/// The warnings of one input: counts by kind and the first samples.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    counts: BTreeMap<WarnKind, u64>,
    samples: Vec<Warning>,
}

impl Diagnostics {
    pub fn push(&mut self, w: Warning) {
        let n = self.counts.entry(w.kind).or_insert(0);
        *n += 1;
        if *n as usize <= SAMPLES_PER_KIND {
            self.samples.push(w);
        }
    }

    pub fn warn(&mut self, kind: WarnKind, line: Option<u64>, message: impl Into<String>) {
        self.push(Warning {
            kind,
            line,
            offset: None,
            message: message.into(),
        });
    }

    /// Add the counts and samples of another set (a later chunk of the same input).
    pub fn merge(&mut self, other: Diagnostics) {
        for (k, n) in other.counts {
            *self.counts.entry(k).or_insert(0) += n;
        }
        for w in other.samples {
            let kept = self.samples.iter().filter(|s| s.kind == w.kind).count();
            if kept < SAMPLES_PER_KIND {
                self.samples.push(w);
            }
        }
    }

    /// Make the line numbers of a chunk's warnings absolute.
    pub fn shift_lines(&mut self, by: u64) {
        for w in &mut self.samples {
            if let Some(l) = &mut w.line {
                *l += by;
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn count(&self, kind: WarnKind) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    pub fn counts(&self) -> &BTreeMap<WarnKind, u64> {
        &self.counts
    }

    pub fn samples(&self) -> &[Warning] {
        &self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_counts_and_first_samples_across_merges() {
        let mut a = Diagnostics::default();
        let mut b = Diagnostics::default();
        for i in 0..7 {
            a.warn(WarnKind::NulBytes, Some(i), "nul");
            b.warn(WarnKind::NulBytes, Some(100 + i), "nul");
        }
        b.warn(WarnKind::OverlongLine, Some(500), "long");
        a.merge(b);
        assert_eq!(a.count(WarnKind::NulBytes), 14);
        assert_eq!(a.count(WarnKind::OverlongLine), 1);
        assert_eq!(a.total(), 15);
        let nul: Vec<u64> = a
            .samples()
            .iter()
            .filter(|w| w.kind == WarnKind::NulBytes)
            .map(|w| w.line.unwrap())
            .collect();
        assert_eq!(nul, [0, 1, 2, 3, 4]);
    }
}
