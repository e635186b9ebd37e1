//! The Markdown rendering for a pull-request comment: the summary line first, one
//! collapsible section per resource (risky ones open and marked), and folding so that the
//! comment stays under GitHub's limit, with a note saying what was folded.

use std::fmt::Write as _;

use super::{member_risk, member_symbol, member_text, resource_symbol, resource_verb, risk_label};
use crate::model::{MemberAction, ResourceChange};
use crate::plan::Plan;

/// GitHub refuses comments over 65,536 characters; stay well under it.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// Renders the plan as Markdown within [`MARKDOWN_BUDGET`] characters.
pub fn markdown(plan: &Plan) -> String {
    markdown_with_budget(plan, MARKDOWN_BUDGET)
}

/// As [`markdown`], with an explicit budget (tests use small ones).
pub fn markdown_with_budget(plan: &Plan, budget: usize) -> String {
    // Try ever shorter member lists, then ever fewer resource sections, until it fits.
    const MEMBER_CAPS: [Option<usize>; 5] = [None, Some(200), Some(50), Some(10), Some(0)];
    for cap in MEMBER_CAPS {
        let out = render(plan, cap, plan.changes.len());
        if out.chars().count() <= budget {
            return out;
        }
    }
    let mut sections = plan.changes.len();
    loop {
        sections /= 2;
        let out = render(plan, Some(0), sections);
        if out.chars().count() <= budget || sections == 0 {
            return out;
        }
    }
}

fn render(plan: &Plan, member_cap: Option<usize>, max_sections: usize) -> String {
    let mut out = String::from("### teamsync plan\n\n");
    if !plan.has_changes() && plan.blocking_unresolved().next().is_none() {
        out.push_str("**No changes.** The live state matches the configuration.\n");
    } else if !plan.has_changes() {
        out.push_str("**No changes can be planned**, but the live state may differ from the configuration: see the unresolved members below.\n");
    } else {
        let _ = writeln!(out, "**{}**\n", plan.summary.line());
    }
    if !plan.risks.is_empty() {
        let labels: Vec<&str> = plan.risks.iter().map(|r| risk_label(*r)).collect();
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Risky changes: {}. Review the sections marked ⚠️.\n",
            labels.join(", ")
        );
    }
    let mut folded_members = 0;
    for change in plan.changes.iter().take(max_sections) {
        folded_members += section(&mut out, change, member_cap);
    }
    let folded_sections = plan.changes.len().saturating_sub(max_sections);
    if !plan.blocked.is_empty() {
        out.push_str("**Blocked** (teamsync will not make these changes)\n\n");
        for b in &plan.blocked {
            let _ = writeln!(
                out,
                "- ⛔ `{}` {}: {}",
                escape_html(&b.resource.to_string()),
                escape_html(&super::member_text(&b.change)),
                escape_html(&b.reason)
            );
        }
        out.push('\n');
    }
    if !plan.unresolved.is_empty() {
        out.push_str("**Unresolved members** (teamsync never removes or re-roles them)\n\n");
        for u in &plan.unresolved {
            let _ = writeln!(
                out,
                "- {}`{}`: {}",
                if u.blocking { "⚠️ " } else { "" },
                escape_html(&u.resource.to_string()),
                escape_html(&u.message())
            );
        }
        out.push('\n');
    }
    if !plan.notes.is_empty() {
        out.push_str("**Notes**\n\n");
        for note in &plan.notes {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                escape_html(&note.resource.to_string()),
                escape_html(&note.message)
            );
        }
        out.push('\n');
    }
    if folded_members > 0 || folded_sections > 0 {
        let mut parts = Vec::new();
        if folded_members > 0 {
            parts.push(format!("{folded_members} member changes"));
        }
        if folded_sections > 0 {
            parts.push(format!("{folded_sections} resources"));
        }
        let _ = writeln!(
            out,
            "_Folded to fit a pull-request comment: {} are not shown here. \
             Run `teamsync plan --format json` (or download the saved plan) for every change._",
            parts.join(" and ")
        );
    }
    out
}

/// Writes one resource's collapsible section; returns how many member lines were folded.
fn section(out: &mut String, change: &ResourceChange, member_cap: Option<usize>) -> usize {
    let risky = !change.risks.is_empty();
    let adds = count(change, |a| {
        matches!(a, MemberAction::Add { .. } | MemberAction::Invite { .. })
    });
    let removes = count(change, |a| matches!(a, MemberAction::Remove));
    let other = change.members.len() - adds - removes;
    let mut tally = Vec::new();
    if adds > 0 {
        tally.push(format!("+{adds}"));
    }
    if removes > 0 {
        tally.push(format!("−{removes}"));
    }
    if other > 0 {
        tally.push(format!("~{other}"));
    }
    let _ = writeln!(
        out,
        "<details{}><summary>{}<code>{} {}</code> {}{}</summary>\n",
        if risky { " open" } else { "" },
        if risky { "⚠️ " } else { "" },
        resource_symbol(&change.action),
        escape_html(&change.key.to_string()),
        escape_html(&resource_verb(change)),
        if tally.is_empty() {
            String::new()
        } else {
            format!(" ({})", tally.join(" "))
        },
    );
    let shown = member_cap.unwrap_or(usize::MAX).min(change.members.len());
    let lines: Vec<String> = change.members[..shown]
        .iter()
        .map(|m| {
            let marker = member_risk(m)
                .map(|r| format!("   ! {}", risk_label(r)))
                .unwrap_or_default();
            format!("{} {}{marker}", member_symbol(&m.action), member_text(m))
        })
        .collect();
    let folded = change.members.len() - shown;
    if !lines.is_empty() {
        let fence = fence_for(&lines);
        let _ = writeln!(out, "{fence}diff\n{}\n{fence}", lines.join("\n"));
    }
    if folded > 0 {
        let _ = writeln!(out, "\n_… {folded} more member changes folded._");
    }
    out.push_str("\n</details>\n\n");
    folded
}

fn count(change: &ResourceChange, f: impl Fn(&MemberAction) -> bool) -> usize {
    change.members.iter().filter(|m| f(&m.action)).count()
}

/// A code fence longer than any run of backticks in the content, so names cannot end it.
fn fence_for(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
