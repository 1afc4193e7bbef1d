//! Ingest on the real lab corpus: rotated sets in any order, concatenated, in both timestamp
//! formats, truncated gzip, copies and overlaps, year inference, thread-count independence.

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use common::*;
use mailsleuth::diag::WarnKind;
use mailsleuth::ingest::{self, year::YearEvidence};
use mailsleuth::parse::RawTime;

#[test]
fn rotated_set_in_any_order_equals_the_concatenated_file() {
    let opts = utc_options();
    let set = combined_set("mail.log");
    let reference = {
        let l = load(&set, &opts);
        let p = ingest::parse(&l, &opts);
        rendered(&p)
    };
    // The lab's own count: 5 files of 4812 lines.
    let wc: usize = concatenate(&set)
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(reference.len(), wc);

    let mut reversed = set.clone();
    reversed.reverse();
    let mut shuffled = set.clone();
    shuffled.swap(0, 3);
    shuffled.swap(1, 4);
    for order in [reversed, shuffled] {
        let l = load(&order, &opts);
        let p = ingest::parse(&l, &opts);
        assert_eq!(rendered(&p), reference, "order {order:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("all.log");
    std::fs::write(&one, concatenate(&set)).unwrap();
    let l = load(&[one], &opts);
    let p = ingest::parse(&l, &opts);
    assert_eq!(rendered(&p), reference);
}

/// Per-second counts of (daemon, queue ID, text): what both formats must agree on.
fn content_counts(paths: &[std::path::PathBuf]) -> (usize, BTreeMap<String, usize>) {
    let opts = utc_options();
    let l = load(paths, &opts);
    let p = ingest::parse(&l, &opts);
    let mut m = BTreeMap::new();
    for e in &p.events {
        let key = format!(
            "{} {} {:?} {}",
            e.time().unix_secs(),
            e.tag(),
            e.queue(),
            String::from_utf8_lossy(e.text())
        );
        *m.entry(key).or_insert(0) += 1;
    }
    (p.events.len(), m)
}

#[test]
fn both_timestamp_formats_give_identical_counts() {
    let (n_trad, trad) = content_counts(&combined_set("mail.log"));
    let (n_rfc, rfc) = content_counts(&combined_set("mail-rfc3339.log"));
    assert_eq!(n_trad, n_rfc);
    assert_eq!(trad, rfc);
}

#[test]
fn rfc3339_set_is_ordered_and_dated_from_its_stamps() {
    let opts = utc_options();
    let l = load(&combined_set("mail-rfc3339.log"), &opts);
    let p = ingest::parse(&l, &opts);
    assert!(p.events.windows(2).all(|w| w[0].time() <= w[1].time()));
    for s in &p.stats {
        assert_eq!(s.year, Some(YearEvidence::InStamps));
        assert_eq!(s.format_name(), Some("rfc3339"));
    }
    // The earliest stamp written (all share +00:00, so text order is time order).
    let text = concatenate(&combined_set("mail-rfc3339.log"));
    let earliest = String::from_utf8_lossy(&text)
        .lines()
        .map(|l| l[..32].to_string())
        .min()
        .unwrap();
    assert_eq!(p.events.first().unwrap().time().to_string(), earliest);
}

#[test]
fn traditional_set_takes_its_year_from_strong_evidence() {
    let opts = utc_options();
    let l = load(&combined_set("mail.log"), &opts);
    let p = ingest::parse(&l, &opts);
    for (li, s) in l.inputs.iter().zip(&p.stats) {
        let ev = s.year.as_ref().unwrap();
        assert!(ev.is_strong(), "{}: {ev:?}", li.path);
        assert_eq!(s.first_at.unwrap().year(), 2026);
    }
}

#[test]
fn short_ids_take_their_year_from_a_queue_dump() {
    let opts = utc_options();
    let log = fixture("throttle/mail.log");
    let dump = fixture("throttle/queue/postqueue-j-20261130T021747Z.jsonl");
    let l = load(&[log.clone(), dump], &opts);
    let p = ingest::parse(&l, &opts);
    match &p.stats[0].year {
        Some(YearEvidence::QueueDump { queue_id, .. }) => assert!(!queue_id.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.stats[0].first_at.unwrap().year(), 2026);
    // Alone, the log only has its mtime: a weak guess, said as a note.
    let l = load(&[log], &opts);
    let p = ingest::parse(&l, &opts);
    assert!(matches!(p.stats[0].year, Some(YearEvidence::Mtime { .. })));
    assert_eq!(p.diags[0].count(WarnKind::WeakYear), 1);
}

#[test]
fn a_flag_year_wins_and_rollover_starts_the_next_year() {
    // Real lab lines, re-dated to cross a year boundary: the first half on Dec 31, the rest
    // on Jan 1.
    let text = std::fs::read_to_string(fixture("throttle/mail.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let date = if i < half { "Dec 31" } else { "Jan  1" };
        out.push_str(date);
        out.push_str(&l[6..]);
        out.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("rollover.log");
    std::fs::write(&f, out).unwrap();
    let mut opts = utc_options();
    opts.year = Some(2025);
    let l = load(&[f], &opts);
    let p = ingest::parse(&l, &opts);
    assert_eq!(p.stats[0].year, Some(YearEvidence::Flag { year: 2025 }));
    assert_eq!(p.stats[0].first_at.unwrap().year(), 2025);
    assert_eq!(p.stats[0].last_at.unwrap().year(), 2026);
    assert!(p.events.windows(2).all(|w| w[0].time() <= w[1].time()));
    assert_eq!(p.events.len(), lines.len());
}

#[test]
fn truncated_gzip_keeps_the_lines_before_the_break() {
    let src = corpus("lab/combined/mail.log.2.gz");
    let full = std::fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("mail.log.2.gz");
    std::fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
    let opts = utc_options();
    let l = load(&[cut], &opts);
    let p = ingest::parse(&l, &opts);
    let d = &p.diags[0];
    assert_eq!(d.count(WarnKind::CorruptCompression), 1);
    let w = &d.samples()[0];
    let offset = w.offset.unwrap();
    assert!(offset > 0 && offset <= (full.len() * 2 / 3) as u64, "{w:?}");
    assert!(w.message.contains("mail.log.2.gz"), "{}", w.message);
    // Every line kept is a line of the original, in order, from its start.
    let original = concatenate(&[src]);
    let orig_lines: Vec<&[u8]> = original.split(|&c| c == b'\n').collect();
    let kept = p.stats[0].lines as usize;
    assert!(kept > 1000 && kept < 4812, "kept {kept}");
    let l_full = load(&[corpus("lab/combined/mail.log.2.gz")], &opts);
    let p_full = ingest::parse(&l_full, &opts);
    let full_events = rendered(&p_full);
    assert_eq!(rendered(&p), full_events[..p.events.len()].to_vec());
    assert_eq!(p.events.len(), kept);
    let _ = orig_lines;
}

#[test]
fn the_same_file_twice_and_overlapping_copies_count_once() {
    let opts = utc_options();
    let log = corpus("lab/combined/mail.log.1");
    let once = {
        let l = load(std::slice::from_ref(&log), &opts);
        rendered(&ingest::parse(&l, &opts))
    };
    // Same path twice, and a byte-identical copy under another name.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy-of-mail.log.1");
    std::fs::copy(&log, &copy).unwrap();
    let l = load(&[log.clone(), log.clone(), copy], &opts);
    let p = ingest::parse(&l, &opts);
    assert_eq!(rendered(&p), once);
    assert_eq!(p.diags[1].count(WarnKind::Duplicate), 1);
    assert_eq!(p.diags[2].count(WarnKind::Duplicate), 1);

    // copytruncate-style overlap: the second file starts with the last 1000 lines of the first.
    let text = std::fs::read(&log).unwrap();
    let lines: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
    let (a, b) = (&lines[..3000], &lines[2000..]);
    let fa = dir.path().join("a.log");
    let fb = dir.path().join("b.log");
    std::fs::write(&fa, a.concat()).unwrap();
    std::fs::write(&fb, b.concat()).unwrap();
    let l = load(&[fb, fa], &opts);
    let p = ingest::parse(&l, &opts);
    assert_eq!(rendered(&p), once);
    assert_eq!(p.stats[0].duplicate_lines, 1000);
    assert_events_parse_again(&p);
}

/// What a parse says about its inputs and events, for comparing two ways of reading them.
fn summary(p: &ingest::Parsed<'_>) -> String {
    let warnings: Vec<Vec<String>> = p
        .diags
        .iter()
        .map(|d| d.samples().iter().map(|w| format!("{w:?}")).collect())
        .collect();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        rendered(p),
        p.stats,
        warnings,
        p.duplicate_of
    )
}

#[test]
fn gzip_logs_decoded_while_parsed_read_as_decoded_whole() {
    let dir = tempfile::tempdir().unwrap();
    let src = corpus("lab/combined/mail.log.2.gz");
    let full = std::fs::read(&src).unwrap();
    // A truncated copy, and a two-member file whose trailer announces only its last member
    // (so its last segment slot takes nearly everything).
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
    let two = dir.path().join("two.log.gz");
    let mut bytes = std::fs::read(corpus("lab/combined/mail.log.3.gz")).unwrap();
    let mut tail = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    tail.write_all(b"Nov 30 03:00:00 mx1 postfix/qmgr[1]: 4A1B2C3D4E: removed\n")
        .unwrap();
    bytes.extend(tail.finish().unwrap());
    std::fs::write(&two, bytes).unwrap();
    let mut inputs = combined_set("mail.log");
    inputs.extend([cut, two]);
    let run = |segment: Option<usize>| {
        let mut opts = utc_options();
        opts.gzip_segment = segment;
        let l = load(&inputs, &opts);
        let streamed = l.inputs.iter().filter(|i| i.streamed.is_some()).count();
        assert_eq!(streamed, if segment.is_some() { 5 } else { 0 });
        let first = summary(&ingest::parse(&l, &opts));
        // Parsed again, the inputs decoded the first time read the same.
        assert!(summary(&ingest::parse(&l, &opts)) == first, "parsed twice");
        first
    };
    let whole = run(None);
    assert!(whole.contains("CorruptCompression"), "the cut file warns");
    for segment in [Some(1), Some(997), Some(ingest::SEGMENT)] {
        assert!(run(segment) == whole, "segments of {segment:?} bytes");
    }
}

#[test]
fn a_log_and_its_gzip_copy_count_once_in_either_order() {
    let opts = utc_options();
    let gz = corpus("lab/combined/mail.log.2.gz");
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("mail.log.2");
    std::fs::write(&plain, concatenate(std::slice::from_ref(&gz))).unwrap();
    let once = {
        let l = load(std::slice::from_ref(&plain), &opts);
        rendered(&ingest::parse(&l, &opts))
    };
    for (inputs, later) in [(vec![gz.clone(), plain.clone()], 1), (vec![plain, gz], 1)] {
        let l = load(&inputs, &opts);
        let p = ingest::parse(&l, &opts);
        assert_eq!(rendered(&p), once, "{inputs:?}");
        assert_eq!(p.diags[later].count(WarnKind::Duplicate), 1);
        assert_eq!(p.duplicate_of[later], Some(0));
        assert_eq!(p.stats[later].duplicate_lines, p.stats[0].lines);
        assert_eq!(p.stats[later].events, 0);
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let opts = utc_options();
    let mut inputs = combined_set("mail.log");
    inputs.push(corpus("lab/combined/queue"));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let l = load(&inputs, &opts);
            let p = ingest::parse(&l, &opts);
            (
                rendered(&p),
                p.stats.iter().map(|s| s.events).collect::<Vec<_>>(),
            )
        })
    };
    let one = run(1);
    assert_eq!(run(3), one);
}

#[test]
fn every_input_kind_is_recognised_by_content() {
    let opts = utc_options();
    let dir = tempfile::tempdir().unwrap();
    // Names that lie: a log called .json, a dump called .log, notes called mail.log.
    let fake_json = dir.path().join("data.json");
    std::fs::copy(fixture("throttle/mail.log"), &fake_json).unwrap();
    let fake_log = dir.path().join("mail.log");
    std::fs::copy(fixture("throttle/notes.md"), &fake_log).unwrap();
    let dump = dir.path().join("queue.log");
    std::fs::copy(
        fixture("throttle/queue/postqueue-p-20261130T021827Z.txt"),
        &dump,
    )
    .unwrap();
    let conf = dir.path().join("main.txt");
    let mut f = std::fs::File::create(&conf).unwrap();
    writeln!(f, "alias_maps = hash:/etc/aliases\ncompatibility_level = 3.6\nmyhostname = mx1\nrelayhost = [127.0.0.1]:2525").unwrap();
    let l = load(&[fake_json, fake_log, dump, conf], &opts);
    let kinds: Vec<&str> = l.inputs.iter().map(|i| i.kind.name()).collect();
    assert_eq!(kinds, ["maillog", "skipped", "postqueue-p", "postconf"]);
}

#[test]
fn bad_bytes_are_warned_and_counted_never_fatal() {
    let text = std::fs::read(fixture("throttle/mail.log")).unwrap();
    let lines: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
    let mut out = Vec::new();
    out.extend_from_slice(lines[0]);
    out.extend_from_slice(b"\0\0\0\0");
    out.extend_from_slice(lines[1]); // NULs before a real line: the line survives
    let mut bad = lines[2].to_vec();
    bad.insert(60, 0xff); // invalid UTF-8 inside a real line
    out.extend_from_slice(&bad);
    out.extend_from_slice(&vec![b'x'; 70 * 1024]); // an overlong line
    out.push(b'\n');
    out.extend_from_slice(b"$ tail -f /var/log/mail.log\n"); // a pasted command
    out.extend_from_slice(lines[3]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("messy.log");
    std::fs::write(&f, out).unwrap();
    let opts = utc_options();
    let l = load(&[f], &opts);
    let p = ingest::parse(&l, &opts);
    let s = &p.stats[0];
    assert_eq!(s.lines, 6);
    assert_eq!(s.postfix_lines, 4);
    assert_eq!(s.nul_lines, 1);
    assert_eq!(s.invalid_utf8_lines, 1);
    assert_eq!(s.overlong_lines, 1);
    assert_eq!(s.not_syslog_lines, 1);
    let d = &p.diags[0];
    for k in [
        WarnKind::NulBytes,
        WarnKind::InvalidUtf8,
        WarnKind::OverlongLine,
        WarnKind::NotSyslog,
    ] {
        assert_eq!(d.count(k), 1, "{k:?}");
    }
    let not_syslog = d
        .samples()
        .iter()
        .find(|w| w.kind == WarnKind::NotSyslog)
        .unwrap();
    assert_eq!(not_syslog.line, Some(5));
    // The chunk is not valid UTF-8 as a whole, so its lines were checked one by one: the
    // valid ones are noted so (their texts come back as text), the broken one is not.
    let noted: Vec<bool> = p
        .events
        .iter()
        .map(|e| e.str_of(e.text()).is_some())
        .collect();
    assert_eq!(noted, [true, true, false, true]);
}

#[test]
fn a_log_of_many_chunks_keeps_every_line_number_and_stamp() {
    // Several 4 MiB chunks parsed at once and joined, and year-less stamps resolved in
    // blocks: each event must still point at its own line, and be dated as the same line of
    // the log read once (the copies do not go back far enough to start a new year).
    let opts = utc_options();
    let once = concatenate(&combined_set("mail.log"));
    let dir = tempfile::tempdir().unwrap();
    let f1 = dir.path().join("once.log");
    std::fs::write(&f1, &once).unwrap();
    let l1 = load(&[f1], &opts);
    let single = ingest::parse(&l1, &opts).events;
    // Past three chunks and past two blocks of 65536 events.
    let copies = (3 * mailsleuth::lines::CHUNK / once.len()).max((1 << 17) / single.len()) + 2;
    let data = once.repeat(copies);
    assert!(data.len() > 3 * mailsleuth::lines::CHUNK);
    let f = dir.path().join("many.log");
    std::fs::write(&f, &data).unwrap();
    let l = load(&[f], &opts);
    let p = ingest::parse(&l, &opts);
    assert_eq!(p.events.len(), single.len() * copies);
    assert!(
        p.events.len() > 1 << 17,
        "too few events to span resolve blocks"
    );
    let lines: Vec<&[u8]> = data.split(|&c| c == b'\n').collect();
    let mut seen = vec![false; lines.len() + 1];
    for (i, e) in p.events.iter().enumerate() {
        let n = e.loc.line as usize;
        assert_eq!(lines[n - 1], e.line(), "line {n}");
        assert!(!seen[n], "line {n} twice");
        seen[n] = true;
        let s = &single[i % single.len()];
        assert_eq!(e.raw_time(), s.raw_time(), "event {i}");
        assert_eq!(e.time(), s.time(), "event {i} (line {n})");
    }
    assert_events_parse_again(&p);
    // Held in blocks (as a report asks): the same events, in blocks of the block size.
    let opts = ingest::Options {
        event_blocks: true,
        ..opts
    };
    let b = ingest::parse(&l, &opts);
    assert!(b.events.is_empty() && b.blocks.len() > 2);
    assert_eq!(b.event_count, p.events.len());
    let block = ingest::blocks::BLOCK;
    assert!(b.blocks[..b.blocks.len() - 1]
        .iter()
        .all(|x| x.len() == block));
    let held: Vec<String> = b
        .blocks
        .iter()
        .flatten()
        .map(|e| format!("{e:?}"))
        .collect();
    let listed: Vec<String> = p.events.iter().map(|e| format!("{e:?}")).collect();
    assert!(held == listed, "the blocks hold the list's events");
}

#[test]
fn a_new_year_inside_a_resolve_block_dates_every_later_block_in_the_new_year() {
    // The lab's throttle log (one day of real lines), copied once per day from 2 December
    // to 30 January with only the month and day rewritten: past two blocks of 65536
    // events, with the new year starting inside the second block. Every event must be
    // dated in the year of its copy, whichever block resolved it.
    let raw = std::fs::read(corpus("lab/throttle/mail.log")).unwrap();
    let lines: Vec<&[u8]> = raw
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        lines.iter().all(|l| l.starts_with(b"Nov 30 ")),
        "one day of traditional stamps"
    );
    let days: Vec<(i32, u32, u32)> = (2..=31)
        .map(|d| (2025, 12, d))
        .chain((1..=30).map(|d| (2026, 1, d)))
        .collect();
    let mut data = Vec::new();
    for &(_, month, day) in &days {
        let mon = if month == 12 { "Dec" } else { "Jan" };
        for l in &lines {
            write!(data, "{mon} {day:>2}").unwrap();
            data.extend_from_slice(&l[6..]);
            data.push(b'\n');
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mail.log");
    std::fs::write(&f, &data).unwrap();
    let opts = ingest::Options {
        year: Some(2025),
        ..utc_options()
    };
    let loaded = load(&[f], &opts);
    let p = ingest::parse(&loaded, &opts);
    assert!(p.events.len() > 2 << 16, "past two resolve blocks");
    let first_jan = p
        .events
        .iter()
        .position(|e| (e.loc.line as usize - 1) / lines.len() >= 30)
        .unwrap();
    assert!(
        first_jan > 1 << 16 && first_jan < 2 << 16 && first_jan % (1 << 16) != 0,
        "the new year starts inside the second block (event {first_jan})"
    );
    for (i, e) in p.events.iter().enumerate() {
        let (year, month, day) = days[(e.loc.line as usize - 1) / lines.len()];
        let RawTime::Civil(c) = e.raw_time() else {
            panic!("event {i}: a year-less stamp");
        };
        assert_eq!((c.month as u32, c.day as u32), (month, day), "event {i}");
        let want =
            mailsleuth::time::days_from_civil(year, month, day) * 86_400_000_000 + c.micros_of_day;
        assert_eq!(
            (e.time().micros, e.time().offset_secs),
            (want, 0),
            "event {i} (line {}) dated in {year}",
            e.loc.line
        );
    }
    assert_events_parse_again(&p);

    // The same days as two files, given newest first (both start in December, as the year
    // given is that of each file's first line): merged, the blocks of each move whole, and
    // the events are those of the one file, in its order.
    let cut: usize = data
        .split_inclusive(|&c| c == b'\n')
        .take(29 * lines.len())
        .map(<[u8]>::len)
        .sum();
    let (older, newer) = (dir.path().join("mail.log.1"), dir.path().join("mail.log.0"));
    std::fs::write(&older, &data[..cut]).unwrap();
    std::fs::write(&newer, &data[cut..]).unwrap();
    let two = load(&[newer, older], &opts);
    let q = ingest::parse(&two, &opts);
    assert!(
        q.stats.iter().any(|s| s.events > 1 << 16),
        "a file past a block"
    );
    assert_eq!(rendered(&q), rendered(&p), "merged as the one file");
    assert_events_parse_again(&q);
}

#[test]
fn every_event_parses_again_from_where_it_came_from() {
    // Rotated sets (gzip decoded while parsed, plain, both stamp formats), every lab
    // scenario with its dumps, and the public corpus (odd lines, repeats, containers).
    let opts = utc_options();
    let mut sets: Vec<Vec<std::path::PathBuf>> =
        vec![combined_set("mail.log"), combined_set("mail-rfc3339.log")];
    for lab in LAB_SCENARIOS {
        sets.push(vec![corpus(&format!("lab/{lab}"))]);
    }
    sets.push(vec![corpus("public")]);
    let mut total = 0;
    for set in &sets {
        let l = load(set, &opts);
        let p = ingest::parse(&l, &opts);
        assert!(!p.events.is_empty(), "{set:?}");
        total += p.events.len();
        assert_events_parse_again(&p);
    }
    assert!(total > 50_000, "{total} events");
}

#[test]
fn logs_of_the_same_lines_merge_line_by_line_in_time_order() {
    // The throttle scenario as rsyslog wrote it twice (whole seconds, and microseconds in
    // RFC 3339), and a third copy of the first with its host renamed: given all three, their
    // lines interleave in hundreds of short runs, and the copies tie at every line. The
    // merge must be the plain one: at each step the earliest head, on a tie the input that
    // starts earlier (then the lower path), each input in its own line order.
    let dir = tempfile::tempdir().unwrap();
    let twin = dir.path().join("mx7.log");
    let raw = std::fs::read(corpus("lab/throttle/mail.log")).unwrap();
    let renamed: Vec<u8> = String::from_utf8(raw)
        .unwrap()
        .replace(" mx1 ", " mx7 ")
        .into_bytes();
    std::fs::write(&twin, renamed).unwrap();
    let paths = [
        corpus("lab/throttle/mail.log"),
        corpus("lab/throttle/mail-rfc3339.log"),
        twin,
    ];
    let opts = ingest::Options {
        year: Some(2026),
        ..utc_options()
    };
    let loaded = load(&paths, &opts);
    let parsed = ingest::parse(&loaded, &opts);
    // Hundreds of runs: each event is found again in its own input.
    assert_events_parse_again(&parsed);
    let merged = parsed.events;
    // Each log alone, as (time, line), and the order the inputs rank in on a tie.
    let alone: Vec<Vec<(i64, u32)>> = paths
        .iter()
        .map(|p| {
            let l = load(std::slice::from_ref(p), &opts);
            ingest::parse(&l, &opts)
                .events
                .iter()
                .map(|e| (e.time().micros, e.loc.line))
                .collect()
        })
        .collect();
    let rank = |r: usize| (alone[r][0].0, loaded.inputs[r].path.clone());
    let mut want = Vec::new();
    let mut at = [0usize; 3];
    loop {
        let next = (0..3)
            .filter(|&r| at[r] < alone[r].len())
            .min_by_key(|&r| (alone[r][at[r]].0, rank(r)));
        let Some(r) = next else { break };
        let (t, line) = alone[r][at[r]];
        want.push((t, r as u32, line));
        at[r] += 1;
    }
    let got: Vec<(i64, u32, u32)> = merged
        .iter()
        .map(|e| (e.time().micros, e.loc.input, e.loc.line))
        .collect();
    let switches = got.windows(2).filter(|w| w[0].1 != w[1].1).count();
    assert!(switches > 300, "the logs interleave ({switches} switches)");
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "merged event {k}");
    }
}

/// Every event leaves ingest with its instant resolved, and a year-less stamp reads back as it
/// was written once its year is resolved: on the whole lab and public corpus, read in a zone
/// with summer time.
#[test]
fn every_yearless_stamp_is_resolved_and_reads_back_as_written() {
    use mailsleuth::parse::{parse_line, Line, UNRESOLVED};
    let opts = ingest::Options {
        zone: mailsleuth::time::Zone::parse("Europe/Berlin").unwrap(),
        ..ingest::Options::default()
    };
    let (mut events, mut yearless) = (0, 0);
    for dir in ["lab", "public"] {
        let mut dirs: Vec<_> = std::fs::read_dir(corpus(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for path in dirs {
            let l = load(std::slice::from_ref(&path), &opts);
            let p = ingest::parse(&l, &opts);
            for e in &p.events {
                events += 1;
                let at = format!("{} {:?}", path.display(), e.loc);
                assert_ne!(e.time().offset_secs, UNRESOLVED, "{at}");
                let RawTime::Civil(c) = e.raw_time() else {
                    continue;
                };
                yearless += 1;
                match parse_line(e.line()) {
                    Line::Postfix { event, .. } => {
                        assert_eq!(event.raw_time(), RawTime::Civil(c), "{at}")
                    }
                    other => panic!("{at}: {other:?}"),
                }
            }
        }
    }
    assert!(
        yearless > 10_000 && events > yearless,
        "{yearless} of {events}"
    );
}
