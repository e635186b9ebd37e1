//! Renders diagnostics for a person: `file:line:col: error: message`, the source line with
//! a caret under the column, related places, and the hint. Reads only the lines it shows.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};

use crate::diag::{Diagnostic, Location};

fn source_line(loc: &Location) -> Option<(usize, String)> {
    let pos = loc.position?;
    let meta = std::fs::metadata(&loc.file).ok()?;
    if meta.len() > super::MAX_FILE_BYTES_CEILING {
        return None;
    }
    let file = std::fs::File::open(&loc.file).ok()?;
    let line = BufReader::new(file)
        .lines()
        .nth(pos.line.checked_sub(1)?)?
        .ok()?;
    Some((pos.column, line))
}

fn snippet(out: &mut String, loc: &Location) {
    if let Some((column, line)) = source_line(loc) {
        // Invisible and text-direction characters are shown as `\u{…}` escapes, so the
        // line printed is the line the file holds (a U+202E cannot reorder it).
        let mut shown = String::new();
        let mut pad = String::new();
        for (i, c) in line.chars().take(200).enumerate() {
            let piece = if c == '\t' {
                "\t".to_string()
            } else {
                super::text::shown(&c.to_string())
            };
            if i + 1 < column {
                if c == '\t' {
                    pad.push('\t');
                } else {
                    pad.extend(std::iter::repeat_n(' ', piece.chars().count()));
                }
            }
            shown.push_str(&piece);
        }
        let _ = writeln!(out, "   | {shown}\n   | {pad}^");
    }
}

/// All diagnostics, each followed by a blank line, then a count.
pub fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            crate::diag::Severity::Error => "error",
            crate::diag::Severity::Warning => "warning",
        };
        match &d.location {
            Some(loc) => {
                let _ = writeln!(out, "{loc}: {level}: {}", d.message);
                snippet(&mut out, loc);
            }
            None => {
                let _ = writeln!(out, "{level}: {}", d.message);
            }
        }
        for (loc, note) in &d.related {
            let _ = writeln!(out, "  {loc}: note: {note}");
            snippet(&mut out, loc);
        }
        if let Some(hint) = &d.hint {
            let _ = writeln!(out, "  hint: {hint}");
        }
        out.push('\n');
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count();
    if errors > 0 {
        let _ = writeln!(
            out,
            "{errors} error{} found.",
            if errors == 1 { "" } else { "s" }
        );
    }
    out
}

/// GitHub Actions workflow commands: one `::error …::message` line per problem, so the
/// runner annotates the changed lines of a pull request.
pub fn github(diags: &[Diagnostic]) -> String {
    // Values escape %, CR and LF; properties also `:` and `,` (GitHub's toolkit rules).
    fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            crate::diag::Severity::Error => "error",
            crate::diag::Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(loc) = &d.location {
            props.push(format!("file={}", property(&loc.file.to_string_lossy())));
            if let Some(p) = loc.position {
                props.push(format!("line={}", p.line));
                props.push(format!("col={}", p.column));
            }
        }
        props.push("title=teamsync validate".to_string());
        let mut message = d.message.clone();
        if let Some(hint) = &d.hint {
            message.push_str(&format!("\nhint: {hint}"));
        }
        let _ = writeln!(out, "::{level} {}::{}", props.join(","), data(&message));
    }
    out
}
