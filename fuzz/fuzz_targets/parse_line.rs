//! Fuzz `parse_line`: any bytes, never a panic, and every part of the result readable.
//! Run with `cargo +nightly fuzz run parse_line` from the crate root (see `fuzz/README.md`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsleuth::parse::{kv, parse_line, Daemon, Line, QueueId, RawTime};

fuzz_target!(|data: &[u8]| {
    let parsed = parse_line(data);
    let _ = format!("{parsed:?}");
    match parsed {
        Line::Postfix { event: e, repeat } => {
            let _ = repeat;
            assert!(!e.host().is_empty() && !e.host().contains(&b' '));
            assert!(e.instance().starts_with(b"postfix"));
            assert!(!e.daemon_name().is_empty());
            assert_eq!(Daemon::from_name(e.daemon_name()), e.daemon);
            let _ = (e.format.name(), e.format.has_year(), e.time().to_string());
            match e.raw_time() {
                RawTime::Civil(c) => {
                    let _ = (c.ordinal_secs(), c.local_micros(2026));
                }
                RawTime::Absolute(s) => {
                    let _ = (s.unix_secs(), s.year(), s.to_string());
                }
            }
            let _ = (e.pid(), e.severity, e.flags, e.loc, e.service());
            let _ = e.daemon.is_delivery_agent();
            let _ = e.tag();
            if let Some(q) = e.queue().id() {
                assert_eq!(QueueId::parse(q.as_bytes()), Some(q));
                let _ = (q.as_str(), q.is_long(), q.long_arrival(), q.to_string());
            }
            let mut n = 0;
            for (k, v) in e.fields() {
                n += 1;
                assert!(n <= e.text().len(), "fields() does not terminate");
                assert!(!k.is_empty() && k[0].is_ascii_lowercase());
                assert!(e.field(k).is_some());
                let _ = kv::unbracket(v);
            }
            let _ = kv::status_reason(e.text());
        }
        Line::Foreign { time, format, host } => {
            let _ = (time, format.name());
            assert!(!host.is_empty());
        }
        Line::LastRepeated {
            time,
            format,
            host,
            count,
        } => {
            let _ = (time, format.name(), host, count);
        }
        Line::NotSyslog => {}
    }
});
