//! The JSON rendering: the plan itself, versioned by `format_version` (docs/plan-format.md).
//! It is also the saved-plan file that `apply PLAN_FILE` reads back.

use crate::plan::Plan;

/// Pretty-printed JSON with a trailing newline.
pub fn json(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_else(|e| {
        // Plans hold only strings, numbers and maps with string keys: serialising cannot fail.
        format!("{{\"error\": \"plan could not be serialised: {e}\"}}")
    });
    out.push('\n');
    out
}
