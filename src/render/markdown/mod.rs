//! The Markdown rendering for a pull-request comment and the job summary, laid out around
//! risk and people, always within a budget:
//!
//! 1. the summary line and a table per provider and kind (always);
//! 2. **Access removed** and **Access raised**, by person, in full: cut only when they
//!    alone exceed the budget, saying exactly how many people and changes were cut;
//! 3. blocked, waiting, unresolved, expiring and notes;
//! 4. per-resource detail, folded, most risky first, dropped from the least risky end;
//! 5. a footer saying exactly what is not shown and where the full plan is.
//!
//! Every block is rendered once and measured; what fits is chosen from those lengths, so
//! the work is linear in the plan whatever the budget. Lengths are UTF-8 bytes: a byte
//! budget also bounds the characters GitHub counts and the UTF-16 length JavaScript sees.
//!
//! Rooms: `listing.rs` (the people sections and warnings), `sections.rs` (the
//! per-resource detail); this file fits them into the budget and writes head, table, footer.

use std::fmt::Write as _;

use super::people::{Access, Person, people};
use super::{
    count_of, member_risk, member_symbol, member_text, one_line, raises, resource_symbol,
    resource_verb, risk_label, risk_weight,
};
use crate::changeset::Plan;
use crate::model::{MemberAction, ResourceAction, ResourceChange, ResourceKey, ResourceKind, Risk};

mod listing;
mod sections;

use listing::*;
use sections::*;

/// The hidden first line of the sticky pull-request comment, by which the workflow finds
/// the comment to update.
pub const COMMENT_MARKER: &str = "<!-- teamsync-plan -->";

/// The longest comment teamsync posts, marker included (GitHub refuses more than 65,536
/// characters).
pub const COMMENT_LIMIT: usize = 60_000;

/// The comment's budget: with the marker line in front it stays within [`COMMENT_LIMIT`].
pub const MARKDOWN_BUDGET: usize = COMMENT_LIMIT - COMMENT_MARKER.len() - 1;

/// The job summary's budget: GitHub takes up to 1 MiB per step.
pub const SUMMARY_BUDGET: usize = 1_000_000;

/// Renders the plan as a pull-request comment within [`MARKDOWN_BUDGET`] bytes.
pub fn markdown(plan: &Plan) -> String {
    markdown_with_budget(plan, MARKDOWN_BUDGET)
}

/// As [`markdown`], within `budget` bytes.
pub fn markdown_with_budget(plan: &Plan, budget: usize) -> String {
    let head = head(plan);
    let table = table(plan);
    let people = people(plan);
    let removed = removed_listing(&people);
    let raised = raised_listing(&people);
    let warnings = warning_listings(plan);
    let sections = detail_sections(plan);
    let total_members: usize = plan.changes.iter().map(|c| c.members.len()).sum();

    let worst = Hidden {
        resources: sections.len(),
        members: total_members,
        people: [removed.hidden_all(), raised.hidden_all()],
        warnings: warnings.iter().map(|w| w.lines.len()).sum(),
        totals: (sections.len(), total_members),
    };
    let reserve = footer(&worst).len();
    let mut table = Some(table);
    let fixed = |t: &Option<String>| head.len() + t.as_ref().map_or(0, String::len) + reserve;
    if fixed(&table) > budget {
        table = None;
    }
    if fixed(&table) > budget {
        return clip(head, budget);
    }
    let mut room = budget - fixed(&table);

    let (removed_room, raised_room) = share(room, removed.full_len(), raised.full_len());
    // One line per person reads best; when those lines do not all fit, the same people
    // folded by container usually do, and whichever names more people is shown.
    let removed = if removed.full_len() > removed_room {
        let folded = removed_by_container(&people);
        let (a, b) = (removed.fit(removed_room), folded.fit(removed_room));
        if folded.named(b) > removed.named(a) {
            folded
        } else {
            removed
        }
    } else {
        removed
    };
    let removed_shown = removed.fit(removed_room);
    let raised_shown = raised.fit(raised_room);
    room -= removed.cost(removed_shown) + raised.cost(raised_shown);
    let warnings_shown: Vec<Shown> = warnings
        .iter()
        .map(|w| {
            let shown = w.fit(room);
            room -= w.cost(shown);
            shown
        })
        .collect();
    let detail = fit_sections(&sections, room);

    let mut out = head;
    out.push_str(table.as_deref().unwrap_or_default());
    removed.render(removed_shown, &mut out);
    raised.render(raised_shown, &mut out);
    for (w, shown) in warnings.iter().zip(&warnings_shown) {
        w.render(*shown, &mut out);
    }
    let mut members_shown = 0;
    for (i, (section, lines)) in sections.iter().zip(&detail).enumerate() {
        if i == 0 && lines.is_some() {
            out.push_str(DETAIL_TITLE);
        }
        if let Some(lines) = lines {
            section.render(*lines, &mut out);
            members_shown += lines;
        }
    }
    let resources_shown = detail.iter().filter(|d| d.is_some()).count();
    out.push_str(&footer(&Hidden {
        resources: sections.len() - resources_shown,
        members: total_members - members_shown,
        people: [removed.hidden(removed_shown), raised.hidden(raised_shown)],
        warnings: warnings
            .iter()
            .zip(&warnings_shown)
            .map(|(w, s)| w.hidden(*s).0)
            .sum(),
        totals: (sections.len(), total_members),
    }));
    out
}

const DETAIL_TITLE: &str = "#### Changes by resource, most risky first\n\n";

/// The title, the summary line and the plan's risks.
fn head(plan: &Plan) -> String {
    let mut out = String::from("### teamsync plan\n\n");
    match super::quiet(plan) {
        Some(super::Quiet::Matches) => {
            out.push_str("**No changes.** The live state matches the configuration.\n\n")
        }
        Some(super::Quiet::UnknownValues) => out.push_str("**No changes**, but the live state holds values teamsync does not know: see the notes below.\n\n"),
        Some(super::Quiet::Unresolved) => out.push_str("**No changes can be planned**, but the live state may differ from the configuration: see the unresolved members below.\n\n"),
        None => {
            let _ = writeln!(out, "**{}**\n", plan.summary.line());
        }
    }
    if !plan.risks.is_empty() {
        let labels: Vec<&str> = plan.risks.iter().map(|r| risk_label(*r)).collect();
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Risky changes: {}. Who loses access and who gains owner/admin is listed below.\n",
            labels.join(", ")
        );
    }
    if let Some(line) = super::attention_line(plan) {
        let _ = writeln!(out, "> [!IMPORTANT]\n> {}\n", inline(&line));
    }
    let budgets = super::budget_lines(plan);
    if !budgets.is_empty() {
        out.push_str("> [!CAUTION]\n");
        for line in budgets {
            let _ = writeln!(out, "> {}  ", inline(&line));
        }
        out.push('\n');
    }
    out
}

/// Counts of one provider and kind, for the table.
#[derive(Default)]
struct Tally {
    resources: usize,
    created: usize,
    renamed: usize,
    deleted: usize,
    added: usize,
    removed: usize,
    raised: usize,
    lowered: usize,
    other_roles: usize,
    data: usize,
    invited: usize,
    withdrawn: usize,
    expired: usize,
}

impl Tally {
    fn count(&mut self, change: &ResourceChange) {
        self.resources += 1;
        match change.action {
            ResourceAction::Create => self.created += 1,
            ResourceAction::Rename { .. } => self.renamed += 1,
            ResourceAction::Update => {}
            ResourceAction::Delete => self.deleted += 1,
        }
        for m in &change.members {
            let slot = match &m.action {
                MemberAction::Add { .. } => &mut self.added,
                MemberAction::Remove => &mut self.removed,
                MemberAction::Invite { .. } => &mut self.invited,
                MemberAction::Revoke => &mut self.withdrawn,
                MemberAction::SetData { .. } => &mut self.data,
                a @ MemberAction::SetRole { .. } if raises(a) => &mut self.raised,
                a @ MemberAction::SetRole { .. } if super::lowers(a) => &mut self.lowered,
                MemberAction::SetRole { .. } => &mut self.other_roles,
            };
            *slot += 1;
            if m.action == MemberAction::Remove && m.risks.contains(&Risk::Expired) {
                self.expired += 1;
            }
        }
    }
}

/// A table column: heading, value, and whether it is shown even when zero everywhere.
type Column = (&'static str, fn(&Tally) -> usize, bool);

const COLUMNS: [Column; 13] = [
    ("resources", |t| t.resources, true),
    ("created", |t| t.created, false),
    ("renamed", |t| t.renamed, false),
    ("deleted", |t| t.deleted, false),
    ("members added", |t| t.added, true),
    ("removed", |t| t.removed, true),
    ("roles raised", |t| t.raised, false),
    ("roles lowered", |t| t.lowered, false),
    ("other roles", |t| t.other_roles, false),
    ("data", |t| t.data, false),
    ("invitations", |t| t.invited, false),
    ("withdrawn", |t| t.withdrawn, false),
    ("expired", |t| t.expired, false),
];

/// One row per provider and kind with changes; columns that are zero everywhere are left
/// out (but resources, added and removed).
fn table(plan: &Plan) -> String {
    let mut rows: Vec<((&str, ResourceKind), Tally)> = Vec::new();
    for change in &plan.changes {
        let at = (change.key.provider.as_str(), change.key.kind);
        let i = match rows.iter().position(|(k, _)| *k == at) {
            Some(i) => i,
            None => {
                rows.push((at, Tally::default()));
                rows.len() - 1
            }
        };
        rows[i].1.count(change);
    }
    if rows.is_empty() {
        return String::new();
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let columns: Vec<_> = COLUMNS
        .iter()
        .filter(|(_, get, always)| *always || rows.iter().any(|(_, t)| get(t) > 0))
        .collect();
    let mut out = String::from("| provider | kind |");
    let mut rule = String::from("|---|---|");
    for (name, _, _) in &columns {
        let _ = write!(out, " {name} |");
        rule.push_str("--:|");
    }
    let _ = writeln!(out, "\n{rule}");
    for ((provider, kind), tally) in &rows {
        let _ = write!(out, "| {} | {kind} |", inline(provider));
        for (_, get, _) in &columns {
            let _ = write!(out, " {} |", get(tally));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// What the comment leaves out, for the footer.
struct Hidden {
    resources: usize,
    members: usize,
    /// (people, changes) cut from Access removed and Access raised.
    people: [(usize, usize); 2],
    warnings: usize,
    /// All resources and member changes.
    totals: (usize, usize),
}

fn footer(h: &Hidden) -> String {
    let mut parts = Vec::new();
    if h.resources > 0 || h.members > 0 {
        parts.push(format!(
            "the detail of {} of {} and {} of {}",
            h.resources,
            count_of(h.totals.0, "resource", "resources"),
            h.members,
            count_of(h.totals.1, "member change", "member changes"),
        ));
    }
    for ((people, changes), what) in h.people.iter().zip(["lose access", "gain owner/admin"]) {
        if *people > 0 {
            parts.push(format!(
                "{} who {what} ({})",
                count_of(*people, "person", "people"),
                count_of(*changes, "change", "changes")
            ));
        }
    }
    if h.warnings > 0 {
        parts.push(count_of(h.warnings, "warning", "warnings"));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "---\n\n**Not shown here**, to fit the comment: {}. The full plan is in this run's job \
         summary and in the saved plan (`teamsync plan --out plan.json`; the example workflow \
         uploads it as the `teamsync-plan` artifact): `teamsync show plan.json`, or \
         `teamsync show plan.json --by person`.\n",
        parts.join("; ")
    )
}

fn count(change: &ResourceChange, f: impl Fn(super::Effect) -> bool) -> usize {
    change
        .members
        .iter()
        .filter(|m| f(super::effect(&m.action)))
        .count()
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

/// Text in HTML (inside `<summary>`).
fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text in a Markdown line: one line, and every character that could start markup, HTML,
/// an entity, maths or a mention is backslash-escaped. An `@` right after a letter or
/// digit (an email's) cannot start a mention and stays as it is.
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut previous = ' ';
    for c in one_line(s).chars() {
        let mention = c == '@' && !previous.is_alphanumeric();
        if mention || "\\`*_[]<>|~$!#&".contains(c) {
            out.push('\\');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// A resource key as inline code, with a backtick run longer than any inside it.
fn code(s: &str) -> String {
    let s = one_line(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// The first `budget` bytes, at a character boundary.
fn clip(mut s: String, budget: usize) -> String {
    let mut end = budget.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}
