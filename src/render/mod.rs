//! Plan → text | markdown | json, by resource or by person. Pure functions over the same
//! `Plan` value that `--out` saves, so what a reviewer saw is exactly what `apply plan.json`
//! does. No I/O, no clock, no environment: colour and budgets are parameters.
//!
//! The wording every view shares lives here: symbols, verbs, risk labels, how a member and
//! a container are named, and which changes raise or lower privileges.

mod json;
mod markdown;
mod people;
mod text;

pub use json::{json, people_json, write_json};
pub use markdown::{
    COMMENT_LIMIT, COMMENT_MARKER, MARKDOWN_BUDGET, SUMMARY_BUDGET, markdown, markdown_with_budget,
};
pub use people::{Access, Person, PersonId, people};
pub use text::{text, text_by_person};

use std::borrow::Cow;

use crate::model::{MemberAction, MemberChange, MemberRef, ResourceAction, ResourceChange, Risk};

/// The symbol Terraform readers expect for each container action.
fn resource_symbol(action: &ResourceAction) -> &'static str {
    match action {
        ResourceAction::Create => "+",
        ResourceAction::Rename { .. } | ResourceAction::Update => "~",
        ResourceAction::Delete => "-",
    }
}

fn resource_verb(change: &ResourceChange) -> String {
    match &change.action {
        ResourceAction::Create => "will be created".to_string(),
        ResourceAction::Rename { from } => {
            format!("will be renamed from {:?}", one_line(from).as_ref())
        }
        ResourceAction::Update => "will be updated in place".to_string(),
        ResourceAction::Delete => "will be deleted (pruned: nothing declares it)".to_string(),
    }
}

fn member_symbol(action: &MemberAction) -> &'static str {
    match effect(action) {
        Effect::Gains => "+",
        Effect::Loses => "-",
        Effect::Changes => "~",
    }
}

/// One member line with its symbol, as the terminal view shows it.
pub fn member_line(change: &MemberChange) -> String {
    format!("{} {}", member_symbol(&change.action), member_text(change))
}

/// What happens to a container, in a word or two (`create`, `rename from "X"`).
pub fn action_word(action: &ResourceAction) -> String {
    match action {
        ResourceAction::Create => "create".into(),
        ResourceAction::Rename { from } => format!("rename from {from:?}"),
        ResourceAction::Update => "update".into(),
        ResourceAction::Delete => "delete".into(),
    }
}

/// A name, handle or reason as one line of a view. A control character would start a new
/// line (a spoofed summary in a terminal, an HTML block that ends a `<details>` in
/// Markdown), so each becomes a space.
pub(crate) fn one_line(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Who a member is, for example `carol@acme.com (carol)`.
fn who(member: &MemberRef) -> String {
    match &member.handle {
        Some(h) => format!("{member} ({})", one_line(h)),
        None => member.to_string(),
    }
}

/// What happens to a member, written after who or where: ` as owner`, `: invite as
/// member`, `: role member → admin`, or nothing for a plain removal.
fn action_text(action: &MemberAction) -> String {
    match action {
        MemberAction::Add { role, data } => {
            let mut s = String::new();
            if let Some(r) = role {
                s.push_str(&format!(" as {r}"));
            }
            if !data.is_empty() {
                s.push_str(&format!(" with data {}", one_line(&compact(data))));
            }
            s
        }
        MemberAction::Invite { role } => format!(": invite as {role}"),
        MemberAction::Remove => String::new(),
        MemberAction::Revoke => ": withdraw the pending invitation".to_string(),
        MemberAction::SetRole { from, to } => {
            let from = from
                .map(|r| r.to_string())
                .unwrap_or_else(|| "(none)".into());
            format!(": role {from} → {to}")
        }
        MemberAction::SetData { fields, .. } => {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| {
                    let show = |v: &Option<serde_json::Value>| {
                        v.as_ref()
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "(unset)".into())
                    };
                    format!("{}: {} → {}", f.field, show(&f.before), show(&f.after))
                })
                .collect();
            format!(": data {}", one_line(&parts.join(", ")))
        }
    }
}

/// One member line without its symbol, for example `carol@acme.com (carol) as owner`. A
/// live role or status teamsync does not know is shown as it came: `role billing (unknown
/// to teamsync) → member` where the configuration replaces it, else beside who it is
/// (`[role: billing (unknown to teamsync)]`).
fn member_text(change: &MemberChange) -> String {
    let m = &change.member;
    let role = m.unknown_role.as_deref().map(one_line);
    let replaced = matches!(change.action, MemberAction::SetRole { from: None, .. });
    let mut tags = Vec::new();
    if let Some(r) = role.as_deref().filter(|_| !replaced) {
        tags.push(format!("role: {r} (unknown to teamsync)"));
    }
    if let Some(s) = m.unknown_status.as_deref().map(one_line) {
        tags.push(format!("status: {s} (unknown to teamsync)"));
    }
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", tags.join("; "))
    };
    match (&change.action, role) {
        (MemberAction::SetRole { from: None, to }, Some(r)) => {
            format!("{}{tags}: role {r} (unknown to teamsync) → {to}", who(m))
        }
        (action, _) => format!("{}{tags}{}", who(m), action_text(action)),
    }
}

/// `1 person`, `3 people`.
fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn compact(data: &crate::model::Data) -> String {
    serde_json::to_string(data).unwrap_or_default()
}

/// What a member change does to the person's access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    /// Added or invited.
    Gains,
    /// Removed, or a pending invitation withdrawn.
    Loses,
    /// A role or campaign data changes; the membership stays.
    Changes,
}

fn effect(action: &MemberAction) -> Effect {
    match action {
        MemberAction::Add { .. } | MemberAction::Invite { .. } => Effect::Gains,
        MemberAction::Remove | MemberAction::Revoke => Effect::Loses,
        MemberAction::SetRole { .. } | MemberAction::SetData { .. } => Effect::Changes,
    }
}

/// Whether the change gives owner/admin rights the person did not have: added or invited
/// as one, or a role that rises to one. Read from the action, like the diff's
/// `privilege_raised`, so a hand-made plan is described by what it does.
fn raises(action: &MemberAction) -> bool {
    match action {
        MemberAction::Add { role, .. } => role.is_some_and(|r| r.is_privileged()),
        MemberAction::Invite { role } => role.is_privileged(),
        MemberAction::SetRole { from, to } => {
            to.is_privileged() && !from.is_some_and(|r| r.is_privileged())
        }
        _ => false,
    }
}

/// Whether the change takes owner/admin rights away while the membership stays.
fn lowers(action: &MemberAction) -> bool {
    matches!(action, MemberAction::SetRole { from: Some(f), to } if f.is_privileged() && !to.is_privileged())
}

/// Reviewer-facing wording for a risk.
fn risk_label(risk: Risk) -> &'static str {
    match risk {
        Risk::Removal => "removal",
        Risk::Leaver => "leaves the organization",
        Risk::PrivilegeRaised => "raised to owner/admin",
        Risk::Prune => "pruned",
        Risk::OverRemovalLimit => "more removals than policy.max_removals",
        Risk::PrivilegeLowered => "lowered from owner/admin",
        Risk::Expired => "expired",
        Risk::Offboarded => "offboarded",
        Risk::UnknownValue => "value unknown to teamsync",
    }
}

/// Risks from the one a reviewer must see first to the least: it picks a member's marker
/// and orders Markdown's per-resource detail.
const RISK_ORDER: [Risk; 9] = [
    Risk::Prune,
    Risk::OverRemovalLimit,
    Risk::Leaver,
    Risk::Offboarded,
    Risk::PrivilegeRaised,
    Risk::Expired,
    Risk::Removal,
    Risk::UnknownValue,
    Risk::PrivilegeLowered,
];

/// Higher is riskier; 0 for no risk.
fn risk_weight(risk: Risk) -> usize {
    RISK_ORDER
        .iter()
        .position(|r| *r == risk)
        .map_or(0, |i| RISK_ORDER.len() - i)
}

/// The most telling risk of a member change, for its inline marker.
fn member_risk(change: &MemberChange) -> Option<Risk> {
    change.risks.iter().copied().max_by_key(|r| risk_weight(*r))
}

/// Which first line a plan with no changes opens with, the same in every view.
pub(crate) enum Quiet {
    /// The live state matches the configuration.
    Matches,
    /// Nothing to change, but live holds values teamsync does not know.
    UnknownValues,
    /// Nothing can be planned for unresolved members that would need a change.
    Unresolved,
}

/// The opening of a plan with no changes; `None` when it has changes to list.
pub(crate) fn quiet(plan: &crate::changeset::Plan) -> Option<Quiet> {
    if plan.has_changes() {
        None
    } else if plan.blocking_unresolved().next().is_some() {
        Some(Quiet::Unresolved)
    } else if !plan.attention.is_empty() {
        Some(Quiet::UnknownValues)
    } else {
        Some(Quiet::Matches)
    }
}

/// What every view says of live values teamsync does not know (`attention`): they are
/// kept as they are, and what makes them known. Apply's report heads its list with it.
pub const ATTENTION: &str = "values teamsync does not know, kept as they are; state the member's role in the configuration, or use a teamsync that knows them";

/// The plan's line about live values teamsync does not know, if it read any: the notes
/// name each, this line says how many and what `--detailed-exitcode` answers (3), so a
/// plan with no changes never reads as if live matched the configuration.
pub fn attention_line(plan: &crate::changeset::Plan) -> Option<String> {
    let n = plan.attention.len();
    (n > 0).then(|| {
        format!(
            "Needs attention: {} ({}); `plan --detailed-exitcode` exits 3.",
            count_of(n, "live value", "live values"),
            ATTENTION
        )
    })
}

/// One line per removal budget the plan exceeds, and one for the overrides it was made
/// with: every view says both, so a reviewer sees what `--allow-removals` lets through.
pub fn budget_lines(plan: &crate::changeset::Plan) -> Vec<String> {
    let named = |n: &str| plan.allowed_removals.iter().any(|a| a == n);
    let mut out: Vec<String> = plan
        .over_budget
        .iter()
        .map(|b| {
            let verdict = if named(&b.scope) {
                format!("allowed by --allow-removals={}", b.scope)
            } else {
                format!(
                    "apply needs --allow-removals={} (or each person's name) in the plan",
                    b.scope
                )
            };
            format!(
                "Over budget: {} removes {}, more than its max_removals ({}); {verdict}",
                b.scope,
                count_of(b.removals, "member", "members"),
                b.max
            )
        })
        .collect();
    if !plan.allowed_removals.is_empty() {
        out.push(format!(
            "Removal overrides in this plan (--allow-removals): {}",
            plan.allowed_removals.join(", ")
        ));
    }
    out
}
