//! Redaction for tickets: every address's local part becomes a stable pseudonym (a keyed
//! hash: the same address maps to the same pseudonym within a report), client IPs can be
//! masked, and domains, relays, DSNs and error texts are kept.
//!
//! It works on the serialised report, so every renderer sees the same redacted data and no
//! field can be forgotten.

use std::hash::{BuildHasher, Hasher};

use serde_json::Value;

/// How to redact.
#[derive(Clone)]
pub struct Redactor {
    key: std::collections::hash_map::RandomState,
    fixed_key: Option<String>,
    pub ips: bool,
}

impl Redactor {
    /// A random key per run unless `key` is given (then pseudonyms are stable across runs).
    pub fn new(key: Option<String>, ips: bool) -> Redactor {
        Redactor {
            key: std::collections::hash_map::RandomState::new(),
            fixed_key: key,
            ips,
        }
    }

    fn pseudonym(&self, local: &str) -> String {
        let h = match &self.fixed_key {
            Some(k) => {
                // std's SipHash with fixed (zero) keys, keyed by hashing the key first.
                let mut s = std::hash::DefaultHasher::new();
                s.write(k.as_bytes());
                s.write_u8(0xff);
                s.write(local.to_ascii_lowercase().as_bytes());
                s.finish()
            }
            None => {
                let mut s = self.key.build_hasher();
                s.write(local.to_ascii_lowercase().as_bytes());
                s.finish()
            }
        };
        format!("u{:08x}", h as u32)
    }

    /// Redact one string: `local@domain` → `uXXXXXXXX@domain`; with `ips`, IPv4 addresses →
    /// `x.x.x.x` and IPv6 (inside brackets) → `x:x::x`.
    pub fn text(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let local_char = |c: u8| c.is_ascii_alphanumeric() || b"._%+-=!#$&'*/?^`{|}~".contains(&c);
        let domain_char = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
        let mut last = 0;
        while i < b.len() {
            if b[i] == b'@' {
                let mut start = i;
                while start > last && local_char(b[start - 1]) {
                    start -= 1;
                }
                let has_domain = b.get(i + 1).is_some_and(|&c| domain_char(c));
                if start < i && has_domain {
                    out.push_str(&s[last..start]);
                    out.push_str(&self.pseudonym(&s[start..i]));
                    last = i;
                }
            }
            i += 1;
        }
        out.push_str(&s[last..]);
        if self.ips {
            mask_ips(&out)
        } else {
            out
        }
    }

    /// Redact every string in a JSON value, keys excepted.
    pub fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.value(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.value(x)),
            _ => {}
        }
    }
}

/// Mask dotted-quad IPv4 addresses and bracketed IPv6 addresses.
fn mask_ips(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        // IPv4: four dot-separated groups of 1-3 digits, not inside a longer token.
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            let mut j = i;
            let mut groups = 0;
            loop {
                let g = j;
                while j < b.len() && b[j].is_ascii_digit() && j - g < 3 {
                    j += 1;
                }
                if j == g {
                    break;
                }
                groups += 1;
                if groups == 4 || j >= b.len() || b[j] != b'.' {
                    break;
                }
                j += 1;
            }
            let ends_clean = j >= b.len() || !(b[j].is_ascii_alphanumeric());
            if groups == 4 && ends_clean {
                out.push_str("x.x.x.x");
                i = j;
                continue;
            }
        }
        if b[i] == b'[' {
            if let Some(close) = s[i..].find(']') {
                let inner = &s[i + 1..i + close];
                if inner.contains(':')
                    && inner
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
                {
                    out.push_str("[x:x::x]");
                    i += close + 1;
                    continue;
                }
            }
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_parts_become_stable_pseudonyms() {
        let r = Redactor::new(Some("k".into()), false);
        let line =
            "to=<judy7@throttle.test>, relay=127.0.0.1[127.0.0.1]:2526, from=<app@labhost.example>";
        let out = r.text(line);
        assert!(!out.contains("judy7") && !out.contains("app@"), "{out}");
        assert!(out.contains("@throttle.test>") && out.contains("127.0.0.1[127.0.0.1]:2526"));
        assert_eq!(r.text("judy7@throttle.test"), r.text("judy7@throttle.test"));
        assert_ne!(r.text("judy7@throttle.test"), r.text("judy8@throttle.test"));
        // Another key, other pseudonyms.
        let r2 = Redactor::new(Some("other".into()), false);
        assert_ne!(
            r.text("judy7@throttle.test"),
            r2.text("judy7@throttle.test")
        );
    }

    #[test]
    fn ips_are_masked_on_request() {
        let r = Redactor::new(None, true);
        assert_eq!(
            r.text("connect from unknown[203.0.113.10]:2525 and [2001:db8::1]"),
            "connect from unknown[x.x.x.x]:2525 and [x:x::x]"
        );
        // Versions and DSNs are not IPs.
        assert_eq!(
            r.text("dsn=4.7.0 version 3.7.11"),
            "dsn=4.7.0 version 3.7.11"
        );
    }
}
