//! The Markdown renderer (GitHub-flavoured), and the tera setup shared with the HTML one.
//!
//! Templates are embedded at build time. Everything that comes from a log is escaped for
//! its context: the `md` filter for prose and table cells, `code` for inline code in tables,
//! `codeblock` for fenced blocks (the fence is longer than any backtick run inside).

use std::collections::HashMap;
use std::io::Write;

use tera::{Context, Tera, Value};

use super::Report;

pub const MD_TEMPLATE: &str = include_str!("../../templates/report.md.tera");
pub const HTML_TEMPLATE: &str = include_str!("../../templates/report.html.tera");
pub const CSS: &str = include_str!("../../templates/report.css");

/// Escape text for Markdown prose and table cells: every character with a meaning is
/// backslash-escaped; line breaks and control characters become spaces.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            // What can start emphasis, code, links, images, HTML, tables or
            // strikethrough in GitHub-flavoured Markdown, and entities.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn longest_backtick_run(s: &str) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for c in s.chars() {
        if c == '`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Inline code safe in a GFM table cell.
pub fn md_code(s: &str) -> String {
    let s = clean(s).replace('|', "\\|");
    let fence = "`".repeat(longest_backtick_run(&s) + 1);
    format!("{fence} {s} {fence}")
}

/// A fenced code block.
pub fn md_codeblock(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    let fence = "`".repeat((longest_backtick_run(&s) + 1).max(3));
    format!("{fence}\n{s}\n{fence}")
}

fn str_arg(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn filter(f: fn(&str) -> String) -> impl tera::Filter {
    move |v: &Value, _: &HashMap<String, Value>| Ok(Value::String(f(&str_arg(v))))
}

fn dur(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let secs = v.as_f64().unwrap_or(0.0);
    Ok(Value::String(super::summary::duration(secs)))
}

fn secs(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = v.as_f64().unwrap_or(0.0);
    Ok(Value::String(if s < 10.0 {
        format!("{s:.2}s")
    } else {
        super::summary::duration(s)
    }))
}

fn pct(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(format!(
        "{:.1}%",
        v.as_f64().unwrap_or(0.0) * 100.0
    )))
}

/// The tera instance with both templates and the filters they use.
pub fn engine() -> tera::Result<Tera> {
    let mut t = Tera::default();
    t.add_raw_template("report.md", MD_TEMPLATE)?;
    t.add_raw_template("report.html", HTML_TEMPLATE)?;
    t.register_filter("md", filter(md_escape));
    t.register_filter("code", filter(md_code));
    t.register_filter("codeblock", filter(md_codeblock));
    t.register_filter("dur", dur);
    t.register_filter("secs", secs);
    t.register_filter("pct", pct);
    Ok(t)
}

/// Chart files written beside a Markdown report: (file name, SVG).
pub struct Sidecar {
    pub name: String,
    pub svg: String,
}

/// Render the Markdown. `chart_base` is the file stem for sidecar charts (`report` gives
/// `report-traffic.svg` …); with `None` (stdout) no charts are linked.
pub fn render(
    report: &Report,
    value: &serde_json::Value,
    chart_base: Option<&str>,
) -> anyhow::Result<(String, Vec<Sidecar>)> {
    let mut sidecars = Vec::new();
    let mut charts: HashMap<&str, String> = HashMap::new();
    if let Some(base) = chart_base {
        for (key, svg) in super::charts::all(report) {
            let name = format!("{base}-{key}.svg");
            charts.insert(key, name.clone());
            sidecars.push(Sidecar { name, svg });
        }
    }
    let mut ctx = Context::from_value(value.clone())?;
    ctx.insert("charts", &charts);
    let text = engine()?.render("report.md", &ctx)?;
    Ok((text, sidecars))
}

pub fn write(
    report: &Report,
    value: &serde_json::Value,
    out: &mut dyn Write,
    chart_base: Option<&str>,
) -> anyhow::Result<Vec<Sidecar>> {
    let (text, sidecars) = render(report, value, chart_base)?;
    out.write_all(text.as_bytes())?;
    Ok(sidecars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_inert() {
        let s = md_escape("<script>alert(1)</script> | *x* [a](http://e)");
        assert!(!s.contains("<script>"));
        assert!(s.contains("\\<script\\>"));
        assert!(s.contains("\\|"));
        assert_eq!(md_code("a|b`c"), "`` a\\|b`c ``");
        assert!(md_codeblock("x ``` y").starts_with("````\n"));
    }
}
