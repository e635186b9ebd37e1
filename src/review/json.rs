//! The JSON rendering: the `Report` itself, versioned by `report_format_version`
//! (docs/report-format.md).

use super::Report;

/// Pretty-printed JSON with a trailing newline.
pub fn json(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Reports hold only strings, numbers, booleans and lists: serialising cannot fail.
        format!("{{\"error\": \"report could not be serialised: {e}\"}}")
    });
    out.push('\n');
    out
}
