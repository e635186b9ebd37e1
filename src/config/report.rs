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

/// The line with the user-info of every URL in it (`https://user:secret@host`) starred
/// out, character for character so the caret's column still points where it did: a
/// quoted line never shows a credential, whatever the diagnostic is about.
fn mask_userinfo(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || "/?#\"'`,}]".contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(userinfo) => {
                out.extend(std::iter::repeat_n(
                    '*',
                    authority[..userinfo].chars().count(),
                ));
                out.push_str(&authority[userinfo..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn snippet(out: &mut String, loc: &Location) {
    if let Some((column, line)) = source_line(loc) {
        let line = mask_userinfo(&line);
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

/// What a valid configuration holds, for `validate --format json`.
pub struct Counts {
    pub files: usize,
    pub providers: usize,
    pub resources: usize,
}

/// `validate --format json`: one document for tools, whether the configuration is valid
/// or not. Versioned like the plan; positions are 1-based; the quoted source line is left
/// out (a tool has the file), so nothing of a file's text but the messages is repeated.
pub fn json(diags: &[Diagnostic], counts: Option<&Counts>) -> String {
    use serde_json::{Value, json};
    let place = |loc: &Location| {
        json!({
            "file": loc.file.to_string_lossy(),
            "line": loc.position.map(|p| p.line),
            "column": loc.position.map(|p| p.column),
        })
    };
    let count = |severity| diags.iter().filter(|d| d.severity == severity).count();
    let errors = count(crate::diag::Severity::Error);
    let doc = json!({
        "format_version": 1,
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": count(crate::diag::Severity::Warning),
        "diagnostics": diags.iter().map(|d| {
            json!({
                "severity": match d.severity {
                    crate::diag::Severity::Error => "error",
                    crate::diag::Severity::Warning => "warning",
                },
                "message": d.message,
                "hint": d.hint,
                "location": d.location.as_ref().map(place),
                "related": d.related.iter().map(|(loc, note)| {
                    let mut r = place(loc);
                    r["note"] = Value::from(note.as_str());
                    r
                }).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
        "summary": counts.map(|c| json!({
            "files": c.files,
            "providers": c.providers,
            "resources": c.resources,
        })),
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::mask_userinfo;

    #[test]
    fn a_quoted_line_never_shows_the_credential_of_a_url() {
        assert_eq!(
            mask_userinfo("    endpoint: http://admin:hunter2@127.0.0.1:47913"),
            "    endpoint: http://*************@127.0.0.1:47913"
        );
        assert_eq!(
            mask_userinfo("{endpoint: \"https://tok@h.example/v1\", b: https://h.example}"),
            "{endpoint: \"https://***@h.example/v1\", b: https://h.example}"
        );
        // An @ past the host (in a path or an e-mail) is not user-info.
        assert_eq!(
            mask_userinfo("url: https://h.example/a@b and ann@corp.example"),
            "url: https://h.example/a@b and ann@corp.example"
        );
        assert_eq!(mask_userinfo("no url here: a@b"), "no url here: a@b");
    }
}
