//! The JSON renderer: the report as one pretty-printed object, newline-terminated.

use std::io::Write;

use serde_json::Value;

pub fn write(value: &Value, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}
