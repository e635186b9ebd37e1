//! Plan → text | markdown | json. Pure functions over the same `Plan` value that `--out`
//! saves, so what a reviewer saw is exactly what `apply plan.json` does. No I/O, no clock,
//! no environment: colour is a parameter.

mod json;
mod markdown;
mod text;

pub use json::json;
pub use markdown::{MARKDOWN_BUDGET, markdown, markdown_with_budget};
pub use text::text;

use crate::model::{MemberAction, MemberChange, ResourceAction, ResourceChange, Risk};

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
        ResourceAction::Rename { from } => format!("will be renamed from {from:?}"),
        ResourceAction::Update => "will be updated in place".to_string(),
        ResourceAction::Delete => "will be deleted (pruned: nothing declares it)".to_string(),
    }
}

fn member_symbol(action: &MemberAction) -> &'static str {
    match action {
        MemberAction::Add { .. } | MemberAction::Invite { .. } => "+",
        MemberAction::Remove | MemberAction::Revoke => "-",
        MemberAction::SetRole { .. } | MemberAction::SetData { .. } => "~",
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

/// One member line without its symbol, for example `carol@acme.com (carol) as owner`.
fn member_text(change: &MemberChange) -> String {
    let who = match &change.member.handle {
        Some(h) => format!("{} ({h})", change.member),
        None => change.member.to_string(),
    };
    match &change.action {
        MemberAction::Add { role, data } => {
            let mut s = who;
            if let Some(r) = role {
                s.push_str(&format!(" as {r}"));
            }
            if !data.is_empty() {
                s.push_str(&format!(" with data {}", compact(data)));
            }
            s
        }
        MemberAction::Invite { role } => format!("{who}: invite as {role}"),
        MemberAction::Remove => who,
        MemberAction::Revoke => format!("{who}: withdraw the pending invitation"),
        MemberAction::SetRole { from, to } => {
            let from = from
                .map(|r| r.to_string())
                .unwrap_or_else(|| "(none)".into());
            format!("{who}: role {from} → {to}")
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
            format!("{who}: data {}", parts.join(", "))
        }
    }
}

fn compact(data: &crate::model::Data) -> String {
    serde_json::to_string(data).unwrap_or_default()
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
    }
}

/// The most telling risk of a member change, for its inline marker.
fn member_risk(change: &MemberChange) -> Option<Risk> {
    [Risk::Leaver, Risk::PrivilegeRaised, Risk::Removal]
        .into_iter()
        .find(|r| change.risks.contains(r))
}
