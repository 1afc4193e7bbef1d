//! The JSON renderer: the report as one pretty-printed object, newline-terminated.

use std::io::Write;

use super::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
