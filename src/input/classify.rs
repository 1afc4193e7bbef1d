//! What a file holds, judged from the first lines of its (decompressed) content.

use crate::parse::{self, Line};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Syslog lines (Postfix's among them, we hope).
    Maillog,
    /// `postqueue -p` / `mailq` text.
    PostqueueP,
    /// `postqueue -j` JSON lines.
    PostqueueJ,
    /// Saved `postconf -n` (or `postconf`) output.
    Postconf,
    /// Not ours: skipped with a reason.
    Skipped,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Maillog => "maillog",
            Kind::PostqueueP => "postqueue-p",
            Kind::PostqueueJ => "postqueue-j",
            Kind::Postconf => "postconf",
            Kind::Skipped => "skipped",
        }
    }
}

/// How many bytes of a file are looked at.
const SAMPLE: usize = 64 * 1024;

/// Parameters that only a Postfix `main.cf` / `postconf` dump would name.
const POSTCONF_KEYS: &[&str] = &[
    "alias_maps",
    "compatibility_level",
    "inet_interfaces",
    "inet_protocols",
    "mail_owner",
    "mailbox_size_limit",
    "maximal_queue_lifetime",
    "mydestination",
    "myhostname",
    "mynetworks",
    "myorigin",
    "queue_directory",
    "relayhost",
    "smtp_tls_security_level",
    "smtpd_relay_restrictions",
    "smtpd_tls_cert_file",
];

/// Classify content. Returns the kind and, for skipped files, why.
pub fn classify(data: &[u8]) -> (Kind, Option<String>) {
    if data.is_empty() {
        return (Kind::Skipped, Some("empty file".into()));
    }
    let sample = &data[..data.len().min(SAMPLE)];
    let nul = sample.iter().filter(|&&c| c == 0).count();
    let control = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0))
        .count();
    if (nul + control) * 10 > sample.len() && nul < sample.len() {
        return (Kind::Skipped, Some("binary content".into()));
    }
    // Whole lines only (the sample may end mid-line).
    let body = match memchr::memrchr(b'\n', sample) {
        Some(p) if sample.len() < data.len() => &sample[..p],
        _ => sample,
    };
    let mut syslog = 0usize;
    let mut postfix = 0usize;
    let mut json_queue = 0usize;
    let mut postconf = 0usize;
    let mut queue_header = false;
    let mut considered = 0usize;
    for raw in body.split(|&c| c == b'\n').take(400) {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = trim_nul(line);
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        considered += 1;
        match parse::parse_line(line) {
            Line::Postfix { .. } => {
                syslog += 1;
                postfix += 1;
                continue;
            }
            Line::Foreign { .. } | Line::LastRepeated { .. } => {
                syslog += 1;
                continue;
            }
            Line::NotSyslog => {}
        }
        if line.starts_with(b"-Queue ID-")
            || line.starts_with(b"----Queue ID")
            || line == b"Mail queue is empty"
        {
            queue_header = true;
        } else if line.starts_with(b"{") && memchr::memmem::find(line, b"\"queue_id\"").is_some() {
            json_queue += 1;
        } else if let Some(eq) = memchr::memmem::find(line, b" = ") {
            let key = &line[..eq];
            if POSTCONF_KEYS.iter().any(|k| k.as_bytes() == key) {
                postconf += 3;
            } else if key
                .iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
            {
                postconf += 1;
            }
        }
    }
    if postfix > 0 {
        return (Kind::Maillog, None);
    }
    if queue_header {
        return (Kind::PostqueueP, None);
    }
    if json_queue > 0 && json_queue * 2 >= considered {
        return (Kind::PostqueueJ, None);
    }
    if postconf >= 3 && postconf * 2 >= considered {
        return (Kind::Postconf, None);
    }
    if syslog > 0 && syslog * 2 >= considered {
        // Syslog, but no Postfix line at its start: still read it whole, Postfix lines may
        // come later (a general `syslog` file).
        return (Kind::Maillog, None);
    }
    (
        Kind::Skipped,
        Some(format!(
            "not a Postfix log, queue dump or postconf output ({considered} lines looked at)"
        )),
    )
}

/// Strip NUL bytes that precede a line (left by a crash in a preallocated file).
pub fn trim_nul(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|&c| c != 0).unwrap_or(line.len());
    &line[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = "../shared/corpus/lab/throttle";

    fn first_queue_file(prefix: &str) -> Vec<u8> {
        let mut names: Vec<_> = std::fs::read_dir(format!("{LAB}/queue"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name().unwrap().to_string_lossy().starts_with(prefix)
                    && std::fs::metadata(p).unwrap().len() > 100
            })
            .collect();
        names.sort();
        std::fs::read(&names[0]).unwrap()
    }

    #[test]
    fn real_inputs_are_recognised() {
        let log = std::fs::read(format!("{LAB}/mail.log")).unwrap();
        assert_eq!(classify(&log).0, Kind::Maillog);
        let log = std::fs::read(format!("{LAB}/mail-rfc3339.log")).unwrap();
        assert_eq!(classify(&log).0, Kind::Maillog);
        assert_eq!(
            classify(&first_queue_file("postqueue-p")).0,
            Kind::PostqueueP
        );
        assert_eq!(
            classify(&first_queue_file("postqueue-j")).0,
            Kind::PostqueueJ
        );
        assert_eq!(classify(b"Mail queue is empty\n").0, Kind::PostqueueP);
        let truth = std::fs::read(format!("{LAB}/truth.json")).unwrap();
        assert_eq!(classify(&truth).0, Kind::Skipped);
        let notes = std::fs::read(format!("{LAB}/notes.md")).unwrap();
        assert_eq!(classify(&notes).0, Kind::Skipped);
    }

    #[test]
    fn postconf_and_junk() {
        let conf = b"alias_maps = hash:/etc/aliases\ncompatibility_level = 3.6\nmyhostname = mx1\nrelayhost = [127.0.0.1]:2525\n";
        assert_eq!(classify(conf).0, Kind::Postconf);
        assert_eq!(classify(b"").0, Kind::Skipped);
        assert_eq!(
            classify(&[0x7f, 0x45, 0x4c, 0x46, 1, 2, 1, 0, 0, 0, 0, 0]).0,
            Kind::Skipped
        );
    }
}
