//! The `key=value` scanner for Postfix message text, over bytes, without allocation.
//!
//! Postfix separates fields with `, ` (qmgr, delivery agents, postscreen envelopes) or a
//! single space (smtpd reject envelopes, `disconnect` command counts). A value in angle
//! brackets runs to its closing `>` and may hold commas and spaces. The reason in
//! parentheses after `status=S` (the remote reply after `status=deferred (`) ends the scan,
//! so that `name=example.com` inside a DNS error is never read as a field. Parentheses
//! elsewhere (a header value in a cleanup `header_checks` line, smtpd's
//! `(reason unavailable), sasl_username=…`) are skipped like any other word.

/// Iterator over `(key, value)` pairs of a message, in order.
#[derive(Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
    /// The last field read was `status`: a `(` now opens the reason.
    after_status: bool,
}

pub fn fields(text: &[u8]) -> Fields<'_> {
    Fields {
        rest: text,
        after_status: false,
    }
}

/// The first value of `key`, if present.
pub fn get<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    fields(text).find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-'
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Skip separators.
            let start = self
                .rest
                .iter()
                .position(|&c| c != b' ' && c != b',' && c != b';')?;
            let tok = &self.rest[start..];
            if tok[0] == b'(' && self.after_status {
                self.rest = &[];
                return None;
            }
            let key_len = tok.iter().take_while(|&&c| is_key_char(c)).count();
            if key_len > 0 && tok[0].is_ascii_lowercase() && tok.get(key_len) == Some(&b'=') {
                let key = &tok[..key_len];
                let vstart = key_len + 1;
                let v = &tok[vstart..];
                let vlen = if v.first() == Some(&b'<') {
                    match memchr::memchr(b'>', v) {
                        Some(p) => p + 1,
                        None => value_end(v),
                    }
                } else {
                    value_end(v)
                };
                let value = &v[..vlen];
                self.rest = &v[vlen..];
                self.after_status = key == b"status";
                return Some((key, value));
            }
            // Not a field: skip this word.
            let wlen = memchr::memchr(b' ', tok).unwrap_or(tok.len());
            self.rest = &tok[wlen..];
        }
    }
}

/// A plain value ends at a space, or at a comma followed by a space or the end.
fn value_end(v: &[u8]) -> usize {
    let mut i = 0;
    while let Some(p) = memchr::memchr2(b' ', b',', &v[i..]) {
        let at = i + p;
        if v[at] == b' ' || at + 1 == v.len() || v[at + 1] == b' ' {
            return at;
        }
        i = at + 1;
    }
    v.len()
}

/// Strip one pair of angle brackets: `<a@b>` → `a@b`; other values are returned as they are.
pub fn unbracket(v: &[u8]) -> &[u8] {
    if v.len() >= 2 && v[0] == b'<' && v[v.len() - 1] == b'>' {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// The text in parentheses after `status=S `: from the first ` (` after the status to the
/// last `)` of the message (the reply may itself contain parentheses).
pub fn status_reason(text: &[u8]) -> Option<&[u8]> {
    let at = super::find::STATUS.find(text)?;
    let after = &text[at..];
    let open = super::find::SPACE_PAREN.find(after)?;
    let body = &after[open + 2..];
    let close = memchr::memrchr(b')', body)?;
    Some(&body[..close])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn delivery_line_from_the_lab() {
        let t = b"to=<judy7@throttle.test>, relay=127.0.0.1[127.0.0.1]:2526, conn_use=2, delay=37, delays=37/0.18/0/0.04, dsn=4.7.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 451 4.7.0 Try again later (in reply to RCPT TO command))";
        let got: Vec<(String, String)> = fields(t)
            .map(|(k, v)| (s(k).to_string(), s(v).to_string()))
            .collect();
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["to", "relay", "conn_use", "delay", "delays", "dsn", "status"]
        );
        assert_eq!(got[0].1, "<judy7@throttle.test>");
        assert_eq!(got[4].1, "37/0.18/0/0.04");
        assert_eq!(got[6].1, "deferred");
        assert_eq!(
            s(status_reason(t).unwrap()),
            "host 127.0.0.1[127.0.0.1] said: 451 4.7.0 Try again later (in reply to RCPT TO command)"
        );
    }

    #[test]
    fn reason_text_is_not_scanned() {
        let t = b"to=<a@partner.test>, relay=none, delay=1, delays=1/0/0/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=partner.test type=MX: Host not found, try again)";
        assert_eq!(get(t, b"name"), None);
        assert_eq!(get(t, b"dsn"), Some(&b"4.4.3"[..]));
    }

    #[test]
    fn parentheses_outside_a_status_reason_are_skipped() {
        // corpus/public/crowdsec-hub/postfix-honeypot-users--postfix-honeypot-users.log:1
        let line = b"May  6 09:25:41 mail postfix/smtps/smtpd[16997]: warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=postmaster@example.org";
        let crate::parse::Line::Postfix { event, .. } = crate::parse::parse_line(line) else {
            panic!("not postfix")
        };
        assert_eq!(
            event.field(b"sasl_username"),
            Some(&b"postmaster@example.org"[..])
        );
        // corpus/public/lightmeter-controlcenter/individual_files/25_authclean_cleanup.log:5
        // (a header_checks line: the header value comes before the envelope).
        let line = b"2022-01-08T19:42:13.269456+00:00 mail postfix/authclean/cleanup[19193]: 1F5A2194AA9: replace: header Mime-Version: 1.0 (1.0) from client.example.com[1.2.3.4]; from=<sender@sender.example.com> to=<recipient@recipient.example.com> proto=ESMTP helo=<smtpclient.apple>: Mime-Version: 1.0";
        let crate::parse::Line::Postfix { event, .. } = crate::parse::parse_line(line) else {
            panic!("not postfix")
        };
        let keys: Vec<&[u8]> = event.fields().map(|(k, _)| k).collect();
        assert_eq!(keys, [&b"from"[..], b"to", b"proto", b"helo"]);
        assert_eq!(
            event.field(b"to"),
            Some(&b"<recipient@recipient.example.com>"[..])
        );
        // After `status=`, a parenthesis still ends the scan.
        let t = b"from=<>, size=890, nrcpt=1 (queue active)";
        assert_eq!(get(t, b"nrcpt"), Some(&b"1"[..]));
    }

    #[test]
    fn space_separated_envelopes_and_counts() {
        let t = b"reject: RCPT from unknown[0.0.0.0]: 450 4.7.25 Client host rejected: cannot find your hostname, [0.0.0.0]; from=<spam@example.com> to=<inbox@example.org> proto=ESMTP helo=<mail.port25.com>";
        assert_eq!(get(t, b"from"), Some(&b"<spam@example.com>"[..]));
        assert_eq!(get(t, b"helo"), Some(&b"<mail.port25.com>"[..]));
        let d = b"disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4";
        assert_eq!(get(d, b"rcpt"), Some(&b"0/1"[..]));
        assert_eq!(get(d, b"commands"), Some(&b"3/4"[..]));
    }

    #[test]
    fn bracketed_values_keep_commas() {
        let t = b"from=<\"a, b\"@x.test>, size=890, nrcpt=1 (queue active)";
        assert_eq!(get(t, b"from"), Some(&b"<\"a, b\"@x.test>"[..]));
        assert_eq!(get(t, b"nrcpt"), Some(&b"1"[..]));
        assert_eq!(unbracket(get(t, b"size").unwrap()), b"890");
        let m = b"message-id=<20261130015115.00001.throttle@gen.labhost.example>";
        assert_eq!(
            unbracket(get(m, b"message-id").unwrap()),
            b"20261130015115.00001.throttle@gen.labhost.example"
        );
    }
}
