//! The HTML renderer: one self-contained page (inline CSS, charts as inline SVG, no script,
//! nothing fetched), light and dark, printable. Tera autoescapes everything from the report;
//! only our own CSS and SVG are inserted raw.

use std::collections::HashMap;
use std::io::Write;

use tera::Context;

use super::markdown::{engine, CSS};
use super::Report;

/// Render from the typed report (for charts, which draw no log text) and its serialised,
/// possibly redacted, form (for everything else).
pub fn render(report: &Report, value: &serde_json::Value) -> anyhow::Result<String> {
    let charts: HashMap<&str, String> = super::charts::all(report).into_iter().collect();
    let mut ctx = Context::from_value(value.clone())?;
    ctx.insert("charts", &charts);
    ctx.insert("css", CSS);
    Ok(engine()?.render("report.html", &ctx)?)
}

pub fn write(
    report: &Report,
    value: &serde_json::Value,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    out.write_all(render(report, value)?.as_bytes())?;
    Ok(())
}
