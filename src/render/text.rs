//! The terminal rendering: Terraform-like `+ ~ -` lines, by resource (the default) or by
//! person (`--by person`), colour only when asked. Both views end with the same warnings
//! and summary line.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::people::{Access, people};
use super::{
    action_text, member_risk, member_symbol, member_text, resource_symbol, resource_verb,
    risk_label,
};
use crate::changeset::Plan;
use crate::model::ResourceAction;

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

fn bold() -> Style {
    Style::new().bold()
}

fn warn() -> Style {
    Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
}

/// Renders the plan for a terminal, resource by resource.
pub fn text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    if opening(&mut out, plan) {
        out.push_str("teamsync will perform the following actions:\n");
        for change in &plan.changes {
            let sym = resource_symbol(&change.action);
            let _ = writeln!(
                out,
                "\n  {} {}",
                paint(color, bold(), &format!("# {}", change.key)),
                resource_verb(change)
            );
            let _ = writeln!(
                out,
                "  {} {} {:?} ({})",
                paint(color, style_for(sym), sym),
                change.key.kind,
                super::one_line(&change.key.name).as_ref(),
                change.key.provider
            );
            if let Some(d) = &change.description {
                let _ = writeln!(
                    out,
                    "      ~ description: {:?}",
                    super::one_line(d).as_ref()
                );
            }
            for m in &change.members {
                let _ = writeln!(
                    out,
                    "      {} {}{}",
                    paint(
                        color,
                        style_for(member_symbol(&m.action)),
                        member_symbol(&m.action)
                    ),
                    member_text(m),
                    marker(color, m)
                );
            }
        }
        out.push('\n');
    }
    notes(&mut out, plan);
    for b in &plan.blocked {
        let _ = writeln!(
            out,
            "{} {} {}: {}",
            paint(color, warn(), "blocked:"),
            b.resource,
            member_text(&b.change),
            super::one_line(&b.reason)
        );
    }
    for w in &plan.waiting {
        let _ = writeln!(
            out,
            "{} {} {}: {}",
            paint(color, bold(), "waiting:"),
            w.resource,
            member_text(&w.change),
            super::one_line(&w.reason)
        );
    }
    for e in &plan.expiring {
        let _ = writeln!(out, "{} {}", paint(color, bold(), "expiring:"), e.message());
    }
    closing(&mut out, plan, color);
    out
}

/// Renders the plan for a terminal, person by person: what each one gains, loses and
/// changes across every provider, with what is blocked, waiting or expiring for them.
pub fn text_by_person(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let people = people(plan);
    let changed = people.iter().filter(|p| p.all().next().is_some()).count();
    if opening(&mut out, plan) {
        let _ = writeln!(
            out,
            "teamsync will change the access of {}:",
            super::count_of(changed, "person", "people")
        );
    } else if !people.is_empty() {
        out.push('\n');
    }
    for person in &people {
        let _ = writeln!(out, "\n  {}", paint(color, bold(), &person.name()));
        for access in person.all() {
            let sym = member_symbol(&access.change.action);
            let _ = writeln!(
                out,
                "      {} {}{}",
                paint(color, style_for(sym), sym),
                placed(access),
                marker(color, access.change)
            );
        }
        for b in &person.blocked {
            let _ = writeln!(
                out,
                "      {} {}{}: {}",
                paint(color, warn(), "blocked:"),
                b.resource,
                action_text(&b.change.action),
                super::one_line(&b.reason)
            );
        }
        for w in &person.waiting {
            let _ = writeln!(
                out,
                "      {} {}{}: {}",
                paint(color, bold(), "waiting:"),
                w.resource,
                action_text(&w.change.action),
                super::one_line(&w.reason)
            );
        }
        for e in &person.expiring {
            let _ = writeln!(
                out,
                "      {} {}",
                paint(color, bold(), "expiring:"),
                e.message()
            );
        }
    }
    let containers: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action != ResourceAction::Update)
        .collect();
    if !containers.is_empty() {
        let _ = writeln!(out, "\n  {}", paint(color, bold(), "Containers"));
        for c in containers {
            let sym = resource_symbol(&c.action);
            let _ = writeln!(
                out,
                "      {} {} {}",
                paint(color, style_for(sym), sym),
                c.key,
                resource_verb(c)
            );
        }
    }
    if !people.is_empty() || plan.has_changes() {
        out.push('\n');
    }
    notes(&mut out, plan);
    closing(&mut out, plan, color);
    out
}

/// A person's change written where it happens: `docs.team["Writers"] as owner`.
fn placed(access: &Access<'_>) -> String {
    format!("{}{}", access.resource, action_text(&access.change.action))
}

/// `  ! raised to owner/admin` after a member line, or nothing.
fn marker(color: bool, change: &crate::model::MemberChange) -> String {
    member_risk(change)
        .map(|r| {
            format!(
                "  {}",
                paint(color, warn(), &format!("! {}", risk_label(r)))
            )
        })
        .unwrap_or_default()
}

/// The first line when there is nothing to do; `true` when there are changes to list.
fn opening(out: &mut String, plan: &Plan) -> bool {
    out.push_str(match super::quiet(plan) {
        None => return true,
        Some(super::Quiet::Matches) => "No changes. The live state matches the configuration.\n",
        Some(super::Quiet::UnknownValues) => {
            "No changes, but the live state holds values teamsync does not know: see the notes below.\n"
        }
        Some(super::Quiet::Unresolved) => {
            "No changes can be planned, but the live state may differ from the configuration: see the unresolved members below.\n"
        }
    });
    false
}

fn notes(out: &mut String, plan: &Plan) {
    for note in &plan.notes {
        let _ = writeln!(
            out,
            "note: {}: {}",
            note.resource,
            super::one_line(&note.message)
        );
    }
}

/// Unresolved members, the plan's risks and the summary line: what both terminal views
/// end with.
fn closing(out: &mut String, plan: &Plan, color: bool) {
    for u in &plan.unresolved {
        let _ = writeln!(
            out,
            "{} {}: {}",
            paint(color, warn(), "unresolved:"),
            u.resource,
            u.message()
        );
    }
    let blocking = plan.blocking_unresolved().count();
    if blocking > 0 {
        let _ = writeln!(
            out,
            "{}",
            paint(
                color,
                warn(),
                &format!(
                    "{blocking} unresolved {} would need a change that teamsync will not make blind; apply exits 1 until they are resolved.",
                    if blocking == 1 { "member" } else { "members" }
                )
            )
        );
    }
    for line in super::budget_lines(plan) {
        let _ = writeln!(out, "{}", paint(color, warn(), &line));
    }
    if let Some(line) = super::attention_line(plan) {
        let _ = writeln!(out, "{}", paint(color, warn(), &line));
    }
    if !plan.risks.is_empty() {
        let labels: Vec<&str> = plan.risks.iter().map(|r| risk_label(*r)).collect();
        let _ = writeln!(
            out,
            "{}",
            paint(color, warn(), &format!("Risky: {}", labels.join(", ")))
        );
    }
    if plan.has_changes() {
        let _ = writeln!(out, "{}", paint(color, bold(), &plan.summary.line()));
    }
}
