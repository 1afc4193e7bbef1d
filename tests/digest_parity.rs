//! Parity of `mailsleuth digest` with pflogsumm (Debian 1.1.5, the reference of issue 7):
//! pflogsumm and mailsleuth run on every lab scenario (both timestamp formats), on the lab's
//! combined rotated set (mailsleuth on the gzipped files as they are, pflogsumm on the same
//! data decompressed, oldest first) and on every public log, and their Grand Totals are
//! compared. Equal, or a known, documented difference that the digest itself explains (its
//! `pflogsumm.differences`), while its `pflogsumm.totals` — pflogsumm's reading of the same
//! lines — must equal pflogsumm's output everywhere.
//!
//! pflogsumm is installed by `.ci/run`; without it these tests fail under `CI=true`, and
//! elsewhere fall back to the saved reference outputs (`*.pflogsumm.txt`) where there are.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::corpus;

/// One pflogsumm Grand Total as printed: a number and its unit (`k`, `m` or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Printed(u64, char);

impl Printed {
    /// Does an exact count print like this? pflogsumm divides values above 512k by 1024
    /// (`k`) and above 512m by 1024² (`m`), truncating.
    fn matches(self, v: u64) -> bool {
        match self.1 {
            'k' => v > 524_288 && v <= 536_870_912 && v / 1024 == self.0,
            'm' => v > 536_870_912 && v / 1_048_576 == self.0,
            _ => v <= 524_288 && v == self.0,
        }
    }
}

type GrandTotals = BTreeMap<&'static str, Printed>;

const NAMES: [&str; 18] = [
    "received",
    "delivered",
    "forwarded",
    "deferred",
    "deferrals",
    "bounced",
    "rejected",
    "rejected_pct",
    "reject_warnings",
    "held",
    "discarded",
    "discarded_pct",
    "bytes_received",
    "bytes_delivered",
    "senders",
    "sending_domains",
    "recipients",
    "recipient_domains",
];

/// The Grand Totals block of pflogsumm's text output.
fn parse_grand_totals(out: &str) -> GrandTotals {
    let start = out
        .find("Grand Totals")
        .unwrap_or_else(|| panic!("no Grand Totals in pflogsumm's output:\n{out}"));
    let block = &out[start..];
    let block = &block[..block.find("\n\n\n").unwrap_or(block.len())];
    let n = |s: &str| -> Printed {
        let (digits, unit) = match s.strip_suffix(['k', 'm']) {
            Some(d) => (d, s.chars().last().unwrap()),
            None => (s, ' '),
        };
        Printed(digits.parse().unwrap(), unit)
    };
    let num = r"(\d+[km]?)";
    let deferred = regex::Regex::new(&format!(
        r"^\s*{num}\s+deferred(?:\s+\({num}\s+deferrals\))?"
    ))
    .unwrap();
    let pct = regex::Regex::new(&format!(r"^\s*{num}\s+(rejected|discarded) \((\d+)%\)")).unwrap();
    let plain = regex::Regex::new(&format!(r"^\s*{num}\s+(.+?)\s*$")).unwrap();
    let mut t = GrandTotals::new();
    for line in block.lines() {
        if let Some(c) = deferred.captures(line) {
            t.insert("deferred", n(&c[1]));
            t.insert(
                "deferrals",
                c.get(2).map_or(Printed(0, ' '), |m| n(m.as_str())),
            );
        } else if let Some(c) = pct.captures(line) {
            let (name, pname) = if &c[2] == "rejected" {
                ("rejected", "rejected_pct")
            } else {
                ("discarded", "discarded_pct")
            };
            t.insert(name, n(&c[1]));
            t.insert(pname, Printed(c[3].parse().unwrap(), ' '));
        } else if let Some(c) = plain.captures(line) {
            let name = match &c[2] {
                "received" => "received",
                "delivered" => "delivered",
                "forwarded" => "forwarded",
                "bounced" => "bounced",
                "reject warnings" => "reject_warnings",
                "held" => "held",
                "bytes received" => "bytes_received",
                "bytes delivered" => "bytes_delivered",
                "senders" => "senders",
                "sending hosts/domains" => "sending_domains",
                "recipients" => "recipients",
                "recipient hosts/domains" => "recipient_domains",
                _ => continue,
            };
            t.insert(name, n(&c[1]));
        }
    }
    assert_eq!(
        t.len(),
        NAMES.len(),
        "pflogsumm's Grand Totals not all found in:\n{block}"
    );
    t
}

/// Is pflogsumm there? Under `CI=true` it must be.
fn pflogsumm_available() -> bool {
    let ok = Command::new("pflogsumm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").as_deref() == Ok("true") {
        panic!("pflogsumm is missing: .ci/run installs it (apt-get install -y pflogsumm)");
    }
    if !ok {
        eprintln!("pflogsumm is not installed: comparing with the saved reference outputs only");
    }
    ok
}

fn oracle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracles/pflogsumm.sh")
}

/// pflogsumm's output on files given oldest first (plain or gzip), the oracle's way.
fn pflogsumm(files: &[PathBuf]) -> String {
    let out = Command::new(oracle())
        .arg("--")
        .args(files)
        .output()
        .expect("run the pflogsumm oracle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `mailsleuth digest --format json` on the files, or `None` when it finds nothing usable.
fn digest(files: &[PathBuf], extra: &[&str]) -> Option<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(["digest", "--format", "json", "--tz", "UTC", "--quiet"])
        .args(extra)
        .args(files)
        .output()
        .unwrap();
    match out.status.code() {
        Some(0 | 1) => Some(serde_json::from_slice(&out.stdout).unwrap()),
        Some(2) => None,
        c => panic!("{c:?}: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// `digest.<section>.<name>`, where `section` may be a dotted path (`pflogsumm.totals`).
fn number(v: &serde_json::Value, section: &str, name: &str) -> u64 {
    section.split('.').fold(&v["digest"], |v, k| &v[k])[name]
        .as_u64()
        .unwrap_or_else(|| panic!("digest.{section}.{name} is not a number: {v:#}"))
}

/// The names of the totals that differ from pflogsumm's, with both values.
fn mismatches(v: &serde_json::Value, section: &str, pf: &GrandTotals) -> Vec<String> {
    NAMES
        .iter()
        .filter(|n| !pf[*n].matches(number(v, section, n)))
        .map(|n| {
            format!(
                "{n}: pflogsumm {:?}, {section} {}",
                pf[n],
                number(v, section, n)
            )
        })
        .collect()
}

/// Inputs known to be read differently by pflogsumm, and the reasons the digest must give.
const KNOWN_DIFFERENCES: &[(&str, &[&str])] = &[
    // Multi-instance syslog names: pflogsumm drops every postfix-<name>/… line.
    (
        "public/lightmeter-controlcenter/individual_files/14_reuse_of_queueid.log",
        &["syslog name postfix-170.55.103.23"],
    ),
    (
        "public/lightmeter-controlcenter/individual_files/18_expired.log",
        &["syslog name postfix-239.58.50.50"],
    ),
    (
        "public/lightmeter-controlcenter/corpus/smtp_ok.txt",
        &["syslog name postfix-10.20.30.40"],
    ),
    (
        "public/fail2ban/postfix",
        &[
            "syslog name postfix-incoming",
            "syslog name postfix-smo",
            "postfix/smtp-25/smtpd",
        ],
    ),
    // A service-labelled smtpd (Zimbra's re-injection ports): pflogsumm does not count its
    // `client=` lines as received.
    (
        "public/lightmeter-controlcenter/individual_files/5_zimbra_amavisd.log",
        &["postfix/dkimmilter/smtpd", "postfix/amavisd/smtpd"],
    ),
];

struct Case {
    name: String,
    files: Vec<PathBuf>,
    saved: Option<PathBuf>,
}

fn lab_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let lab = corpus("lab");
    let mut scenarios: Vec<String> = std::fs::read_dir(&lab)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "combined")
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 10, "{scenarios:?}");
    for s in &scenarios {
        for f in ["mail.log", "mail-rfc3339.log"] {
            cases.push(Case {
                name: format!("lab/{s}/{f}"),
                files: vec![lab.join(s).join(f)],
                saved: None,
            });
        }
    }
    // The traditional set has its own test below (gzip as given, tables too).
    cases.push(Case {
        name: "lab/combined/mail-rfc3339.log*".into(),
        files: common::combined_set("mail-rfc3339.log"),
        saved: None,
    });
    cases
}

/// Every public file that is a Postfix log (not a queue dump, a licence or a saved output).
fn public_cases() -> Vec<Case> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("issues-excerpts") && !p.ends_with("postfix-grok-patterns") {
                    walk(&p, out);
                }
            } else {
                out.push(p);
            }
        }
    }
    let root = corpus("public");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let skip = [
        ".pflogsumm.txt",
        ".pflogsumm.stderr",
        ".logwatch.txt",
        ".mailqfmt.txt",
        ".md",
        ".tsv",
        ".jsonl",
        ".tar.gz",
        "LICENSE",
        "COPYING",
        "dep5",
        "showq.txt",
    ];
    files
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            !skip.iter().any(|x| s.ends_with(x))
        })
        .map(|p| {
            let saved = PathBuf::from(format!("{}.pflogsumm.txt", p.display()));
            Case {
                name: format!(
                    "public/{}",
                    p.strip_prefix(&root).unwrap().to_string_lossy()
                ),
                saved: saved.is_file().then_some(saved),
                files: vec![p],
            }
        })
        .collect()
}

/// Compare one case; an error message when it does not hold.
fn check(case: &Case, live: bool) -> Result<String, String> {
    let reference = if live {
        let out = pflogsumm(&case.files);
        if let Some(saved) = &case.saved {
            let saved = parse_grand_totals(&std::fs::read_to_string(saved).unwrap());
            if saved != parse_grand_totals(&out) {
                return Err(format!(
                    "{}: live pflogsumm differs from its saved output",
                    case.name
                ));
            }
        }
        out
    } else {
        match &case.saved {
            Some(s) => std::fs::read_to_string(s).unwrap(),
            None => return Ok(format!("{}: skipped (no pflogsumm)", case.name)),
        }
    };
    let pf = parse_grand_totals(&reference);
    let Some(v) = digest(&case.files, &[]) else {
        // No Postfix line at all: pflogsumm must have found nothing either.
        return if pf.values().all(|p| p.0 == 0) {
            Ok(format!(
                "{}: no Postfix lines, pflogsumm all zero",
                case.name
            ))
        } else {
            Err(format!(
                "{}: mailsleuth found nothing, pflogsumm {pf:?}",
                case.name
            ))
        };
    };
    let compat = mismatches(&v, "pflogsumm.totals", &pf);
    if !compat.is_empty() {
        return Err(format!(
            "{}: the digest's reading as pflogsumm differs from pflogsumm: {compat:?}",
            case.name
        ));
    }
    let ours = mismatches(&v, "totals", &pf);
    let reasons: Vec<String> = v["digest"]["pflogsumm"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["what"].as_str().unwrap().to_string())
        .collect();
    match KNOWN_DIFFERENCES.iter().find(|(n, _)| *n == case.name) {
        None if ours.is_empty() => Ok(format!("{}: equal", case.name)),
        None => Err(format!(
            "{}: totals differ from pflogsumm: {ours:?} (the digest says: {reasons:?})",
            case.name
        )),
        Some((_, why)) => {
            if ours.is_empty() || v["digest"]["pflogsumm"]["same"] != false {
                return Err(format!(
                    "{}: expected a documented difference, found none",
                    case.name
                ));
            }
            for w in *why {
                if !reasons.iter().any(|r| r.contains(w)) {
                    return Err(format!(
                        "{}: the digest does not explain {w:?}: {reasons:?}",
                        case.name
                    ));
                }
            }
            Ok(format!("{}: differs as documented: {ours:?}", case.name))
        }
    }
}

/// Run the cases on a few threads (pflogsumm and mailsleuth are separate processes).
fn run_all(cases: Vec<Case>, live: bool) -> Vec<Result<String, String>> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(c) = cases.get(i) else { break };
                let r = check(c, live);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, r)| r).collect()
}

fn assert_all(results: Vec<Result<String, String>>) {
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(m) => eprintln!("ok: {m}"),
            Err(m) => failed.push(m),
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn grand_totals_equal_pflogsumm_on_every_lab_scenario() {
    let live = pflogsumm_available();
    assert_all(run_all(lab_cases(), live));
}

#[test]
fn grand_totals_equal_pflogsumm_on_the_public_logs() {
    let live = pflogsumm_available();
    let cases = public_cases();
    assert!(cases.len() > 40, "{} public logs", cases.len());
    assert!(cases.iter().filter(|c| c.saved.is_some()).count() >= 19);
    for (name, _) in KNOWN_DIFFERENCES {
        assert!(cases.iter().any(|c| c.name == *name), "{name} is missing");
    }
    assert_all(run_all(cases, live));
}

/// The multi-instance difference, in numbers (README: "Where the numbers differ").
#[test]
fn pflogsumm_drops_multi_instance_lines_the_digest_counts() {
    let file = corpus("public/lightmeter-controlcenter/individual_files/14_reuse_of_queueid.log");
    let v = digest(std::slice::from_ref(&file), &[]).unwrap();
    let pf = parse_grand_totals(
        &std::fs::read_to_string(format!("{}.pflogsumm.txt", file.display())).unwrap(),
    );
    assert!(pf.values().all(|p| p.0 == 0), "{pf:?}");
    assert_eq!(number(&v, "pflogsumm.totals", "received"), 0);
    assert_eq!(number(&v, "totals", "received"), 72);
    assert_eq!(number(&v, "totals", "delivered"), 67);
    let instances = v["digest"]["instances"].as_array().unwrap();
    assert!(instances
        .iter()
        .any(|i| i["instance"] == "postfix-170.55.103.23"));
}

/// The lab's rotated set as an admin has it (gzip and all, given in shell-glob order) against
/// pflogsumm on the same data decompressed, oldest first: the Grand Totals, and the per-hour,
/// per-domain and smtpd tables printed beside them.
#[test]
fn the_combined_rotated_set_matches_pflogsumm_on_the_decompressed_data() {
    let live = pflogsumm_available();
    if !live {
        eprintln!("skipped: no pflogsumm");
        return;
    }
    let dir = corpus("lab/combined");
    let mut glob: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("mail.log")
        })
        .collect();
    glob.sort();
    assert_eq!(glob.len(), 5);
    assert!(glob.iter().any(|p| p.to_string_lossy().ends_with(".gz")));
    let v = digest(&glob, &[]).unwrap();
    // pflogsumm reads no gzip: decompress, oldest first, one stream.
    let plain = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        plain.path(),
        common::concatenate(&common::combined_set("mail.log")),
    )
    .unwrap();
    let out = pflogsumm(&[plain.path().to_path_buf()]);
    let pf = parse_grand_totals(&out);
    assert_eq!(mismatches(&v, "totals", &pf), Vec::<String>::new());
    assert_eq!(v["digest"]["pflogsumm"]["same"], true);
    assert_eq!(number(&v, "totals", "received"), 2634);

    // Per-Hour Traffic Summary: `HH:00-HH:00  received delivered deferred bounced rejected`.
    let hour_re =
        regex::Regex::new(r"^\s+(\d\d):00-\d\d:00\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)")
            .unwrap();
    let hours = &out[out.find("Per-Hour Traffic Summary").unwrap()..];
    let hours = &hours[..hours.find("\n\n").unwrap()];
    let mut seen = 0;
    for c in hours.lines().filter_map(|l| hour_re.captures(l)) {
        let h: usize = c[1].parse().unwrap();
        let row = &v["digest"]["per_hour"][h];
        for (i, k) in ["received", "delivered", "deferred", "bounced", "rejected"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                row[k].as_u64().unwrap(),
                c[i + 2].parse::<u64>().unwrap(),
                "hour {h} {k}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 24);

    // Host/Domain Summary: Message Delivery: sent, bytes, defers, avg and max delay.
    let dom_re = regex::Regex::new(
        r"^\s+(\d+)\s+(\d+[km]?)\s+(\d+)\s+([\d.]+) ([smh])\s+([\d.]+) ([smh])\s+(\S+)$",
    )
    .unwrap();
    let doms = &out[out.find("Message Delivery").unwrap()..];
    let doms = &doms[..doms.find("\n\n").unwrap()];
    let ours: BTreeMap<String, &serde_json::Value> = v["digest"]["delivery_domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["domain"].as_str().unwrap().to_string(), d))
        .collect();
    let mut rows = 0;
    for c in doms.lines().filter_map(|l| dom_re.captures(l)) {
        let d = ours
            .get(&c[8])
            .unwrap_or_else(|| panic!("domain {} not in the digest", &c[8]));
        assert_eq!(d["sent"].as_u64().unwrap(), c[1].parse::<u64>().unwrap());
        let bytes = c[2].to_string();
        let (digits, unit) = match bytes.strip_suffix('k') {
            Some(x) => (x, 'k'),
            None => (bytes.as_str(), ' '),
        };
        assert!(
            Printed(digits.parse().unwrap(), unit).matches(d["bytes"].as_u64().unwrap()),
            "{}",
            &c[8]
        );
        assert_eq!(d["defers"].as_u64().unwrap(), c[3].parse::<u64>().unwrap());
        let secs = |n: &str, u: &str| -> f64 {
            n.parse::<f64>().unwrap()
                * match u {
                    "h" => 3600.0,
                    "m" => 60.0,
                    _ => 1.0,
                }
        };
        let unit_of = |s: f64| match s {
            s if s > 3600.0 => 3600.0,
            s if s > 60.0 => 60.0,
            _ => 1.0,
        };
        for (json, n, u) in [("avg_delay_s", &c[4], &c[5]), ("max_delay_s", &c[6], &c[7])] {
            let ours = d[json].as_f64().unwrap();
            // Printed with one decimal in its unit.
            let step = unit_of(ours);
            assert!(
                (ours / step - secs(n, u) / step).abs() <= 0.051,
                "{} {json}: {ours} vs {n} {u}",
                &c[8]
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 10);

    // smtpd connections.
    let conns = regex::Regex::new(r"(\d+)\s+connections\n\s+(\d+)\s+hosts/domains").unwrap();
    let c = conns.captures(&out).unwrap();
    assert_eq!(
        v["digest"]["smtpd"]["connections"].as_u64().unwrap(),
        c[1].parse::<u64>().unwrap()
    );
    assert_eq!(
        v["digest"]["smtpd"]["hosts"].as_u64().unwrap(),
        c[2].parse::<u64>().unwrap()
    );
}

/// `--day` picks one day by the logs' dates; pflogsumm `-d` does the same by matching the
/// line's `Mmm dd` prefix (its only way, from the clock). Same lines, same totals.
#[test]
fn one_day_of_a_multi_day_log_matches_pflogsumm_on_that_days_lines() {
    let live = pflogsumm_available();
    if !live {
        eprintln!("skipped: no pflogsumm");
        return;
    }
    let file = corpus("public/kdent-postfix_log_analysis/mail2.log");
    let all = std::fs::read_to_string(&file).unwrap();
    let day: String = all
        .lines()
        .filter(|l| l.starts_with("Nov  1 "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(day.lines().count() > 1000);
    assert!(all.lines().count() > day.lines().count());
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), day).unwrap();
    let pf = parse_grand_totals(&pflogsumm(&[tmp.path().to_path_buf()]));
    let v = digest(
        std::slice::from_ref(&file),
        &["--year", "2015", "--day", "2015-11-01"],
    )
    .unwrap();
    assert_eq!(v["digest"]["period"]["day"], "2015-11-01");
    assert_eq!(mismatches(&v, "totals", &pf), Vec::<String>::new());
    // The file spans two days: `all` has both in its per-day table.
    let v = digest(std::slice::from_ref(&file), &["--year", "2015"]).unwrap();
    let days: Vec<&str> = v["digest"]["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["at"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2015-11-01", "2015-11-02"]);
}

/// pflogsumm takes the year from the machine's clock, even for RFC 3339 stamps that carry
/// their own (README: "Where the numbers differ"); the digest keeps the year written.
#[test]
fn pflogsumm_dates_come_from_the_clock_the_digest_keeps_the_logs_year() {
    let live = pflogsumm_available();
    if !live {
        eprintln!("skipped: no pflogsumm");
        return;
    }
    // Real RFC 3339 lines of two days: 2024-08-25 (crowdsec) and 2026-11-30 (lab).
    let files = [
        corpus("public/crowdsec-hub/postfix-relay--postfix-spam.log"),
        corpus("lab/bounces/mail-rfc3339.log"),
    ];
    let out = pflogsumm(&files);
    // pflogsumm's rule: the current year, or the one before for a month after this one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (this_year, this_month) = {
        let days = now.div_euclid(86_400);
        let (y, m, _) = mailsleuth::time::civil_from_days(days);
        (y, m)
    };
    let year_for = |month: u32| {
        if month > this_month {
            this_year - 1
        } else {
            this_year
        }
    };
    let expected = format!("{}-08-25", year_for(8));
    assert!(
        out.contains(&expected),
        "pflogsumm's per-day table should date the 2024 lines {expected}:\n{out}"
    );
    let v = digest(&files, &[]).unwrap();
    let days: Vec<&str> = v["digest"]["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["at"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2024-08-25", "2026-11-30"]);
    if expected != "2024-08-25" {
        assert!(!out.contains("2024-08-25"));
    }
}

/// The real message bodies of postfix-grok-patterns' tests (191 lines from many servers:
/// `reject_warning`, `discard`, cleanup `warning: header`, smtpd `milter-reject` …, kinds the
/// logs above lack), each given the syslog prefix of the daemon its pattern names, read by
/// pflogsumm and by the digest.
#[test]
fn grand_totals_equal_pflogsumm_on_the_grok_pattern_messages() {
    let live = pflogsumm_available();
    if !live {
        eprintln!("skipped: no pflogsumm");
        return;
    }
    let dir = corpus("public/postfix-grok-patterns/test");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let pattern = regex::Regex::new(r#"(?m)^pattern: "?\^%\{POSTFIX_([A-Z_]+)\}"#).unwrap();
    let data = regex::Regex::new(r"(?m)^data: (.*)$").unwrap();
    let mut log = String::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, f) in files.iter().enumerate() {
        let y = std::fs::read_to_string(f).unwrap();
        let daemon = match &pattern.captures(&y).unwrap()[1] {
            // Fragments of a message, not messages.
            "TLS_FEATURES" | "COMMAND_COUNTER_DATA" | "DELAYS" => continue,
            "SCRIPT" => "postfix-script".to_string(),
            "RELAY" => "relay/smtp".to_string(),
            p => p.to_ascii_lowercase().replace('_', "-"),
        };
        let raw = data.captures(&y).unwrap()[1].to_string();
        let body: String = if raw.starts_with('"') {
            serde_json::from_str(&raw).unwrap()
        } else {
            raw
        };
        for k in [
            "reject_warning",
            "discard:",
            "warning: header",
            "milter-reject",
        ] {
            if body.contains(k) {
                kinds.insert(k);
            }
        }
        log.push_str(&format!(
            "Nov 30 06:{:02}:{:02} mx postfix/{daemon}[{}]: {body}\n",
            i / 60,
            i % 60,
            1000 + i
        ));
    }
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), &log).unwrap();
    let case = Case {
        name: "postfix-grok-patterns messages".into(),
        files: vec![tmp.path().to_path_buf()],
        saved: None,
    };
    let pf = parse_grand_totals(&pflogsumm(&case.files));
    assert!(
        pf["reject_warnings"].0 > 0 && pf["discarded"].0 > 0,
        "{pf:?}"
    );
    assert_all(vec![check(&case, live)]);
}
