//! The terminal rendering: Terraform-like `+ ~ -` lines, colour only when asked.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{member_risk, member_symbol, member_text, resource_symbol, resource_verb, risk_label};
use crate::plan::Plan;

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

fn style_for(symbol: &str) -> Style {
    let c = match symbol {
        "+" => AnsiColor::Green,
        "-" => AnsiColor::Red,
        _ => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(c.into()))
}

/// Renders the plan for a terminal.
pub fn text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let bold = Style::new().bold();
    let warn = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let blocking = plan.blocking_unresolved().count();
    if !plan.has_changes() && blocking == 0 {
        out.push_str("No changes. The live state matches the configuration.\n");
    } else if !plan.has_changes() {
        out.push_str(
            "No changes can be planned, but the live state may differ from the configuration: see the unresolved members below.\n",
        );
    } else {
        out.push_str("teamsync will perform the following actions:\n");
        for change in &plan.changes {
            let sym = resource_symbol(&change.action);
            let _ = writeln!(
                out,
                "\n  {} {}",
                paint(color, bold, &format!("# {}", change.key)),
                resource_verb(change)
            );
            let _ = writeln!(
                out,
                "  {} {} {:?} ({})",
                paint(color, style_for(sym), sym),
                change.key.kind,
                change.key.name,
                change.key.provider
            );
            for m in &change.members {
                let s = member_symbol(&m.action);
                let marker = member_risk(m)
                    .map(|r| format!("  {}", paint(color, warn, &format!("! {}", risk_label(r)))))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "      {} {}{marker}",
                    paint(color, style_for(s), s),
                    member_text(m)
                );
            }
        }
        out.push('\n');
    }
    for note in &plan.notes {
        let _ = writeln!(out, "note: {}: {}", note.resource, note.message);
    }
    for b in &plan.blocked {
        let _ = writeln!(
            out,
            "{} {} {}: {}",
            paint(color, warn, "blocked:"),
            b.resource,
            member_text(&b.change),
            b.reason
        );
    }
    for u in &plan.unresolved {
        let _ = writeln!(
            out,
            "{} {}: {}",
            paint(color, warn, "unresolved:"),
            u.resource,
            u.message()
        );
    }
    if blocking > 0 {
        let _ = writeln!(
            out,
            "{}",
            paint(
                color,
                warn,
                &format!(
                    "{blocking} unresolved {} would need a change that teamsync will not make blind; apply exits 1 until they are resolved.",
                    if blocking == 1 { "member" } else { "members" }
                )
            )
        );
    }
    if !plan.risks.is_empty() {
        let labels: Vec<&str> = plan.risks.iter().map(|r| risk_label(*r)).collect();
        let _ = writeln!(
            out,
            "{}",
            paint(color, warn, &format!("Risky: {}", labels.join(", ")))
        );
    }
    if plan.has_changes() {
        let _ = writeln!(out, "{}", paint(color, bold, &plan.summary.line()));
    }
    out
}
