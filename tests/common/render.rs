//! Hand-made plans for the render tests: members, resources and a plan around them, built
//! the way the diff builds them (members sorted, summary counted, risks gathered), so a
//! view can be shown every change kind before the diff makes them all.

#![allow(dead_code)]

use teamsync::changeset::{Plan, Summary};
use teamsync::model::*;

pub fn email(s: &str) -> Email {
    Email::parse(s).expect("test email")
}

pub fn member(address: &str, action: MemberAction, risks: Vec<Risk>) -> MemberChange {
    MemberChange {
        member: MemberRef {
            email: Some(email(address)),
            ..MemberRef::default()
        },
        action,
        risks,
    }
}

pub fn handled(
    address: &str,
    handle: &str,
    action: MemberAction,
    risks: Vec<Risk>,
) -> MemberChange {
    let mut m = member(address, action, risks);
    m.member.handle = Some(handle.to_string());
    m
}

pub fn add(role: Option<Role>) -> MemberAction {
    MemberAction::Add {
        role,
        data: Data::new(),
    }
}

pub fn key(provider: &str, kind: ResourceKind, name: &str) -> ResourceKey {
    ResourceKey::new(provider, kind, name)
}

/// A resource change whose risks are its members' (and `prune` for a delete).
pub fn resource(
    key: ResourceKey,
    action: ResourceAction,
    mut members: Vec<MemberChange>,
) -> ResourceChange {
    members.sort_by_key(|m| m.member.to_string());
    let mut risks: Vec<Risk> = members.iter().flat_map(|m| m.risks.clone()).collect();
    if action == ResourceAction::Delete {
        risks.push(Risk::Prune);
    }
    risks.sort();
    risks.dedup();
    ResourceChange {
        description: None,
        key,
        live_id: (action != ResourceAction::Create).then(|| "live-id".to_string()),
        action,
        mode: Mode::Exact,
        members,
        risks,
    }
}

/// A plan of these changes, sorted by key, with nothing else in it. Built from JSON so
/// that fields added to `Plan` later do not break the tests.
pub fn plan(mut changes: Vec<ResourceChange>) -> Plan {
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    let mut plan: Plan = serde_json::from_value(serde_json::json!({
        "format_version": teamsync::changeset::FORMAT_VERSION,
        "teamsync_version": "0.0.0-test",
        "changes": [],
        "fingerprints": {},
        "notes": [],
        "summary": {"create": 0, "update": 0, "delete": 0, "add": 0, "remove": 0,
                    "role_changes": 0, "data_changes": 0, "invites": 0},
        "risks": [],
        "binding": {"config_digest": "sha256:test", "providers": {}, "allowed_email_domains": [],
                    "max_removals": null, "targets": [], "planned_for": "2026-12-01"}
    }))
    .expect("a plan");
    let mut risks: Vec<Risk> = changes.iter().flat_map(|c| c.risks.clone()).collect();
    risks.sort();
    risks.dedup();
    plan.risks = risks;
    plan.summary = Summary::of(&changes);
    plan.changes = changes;
    plan
}

/// A held (blocked or waiting) change, as `plan.blocked` and `plan.waiting` hold them.
pub fn held(
    resource: ResourceKey,
    change: MemberChange,
    reason: &str,
) -> teamsync::changeset::Blocked {
    teamsync::changeset::Blocked {
        resource,
        change,
        reason: reason.to_string(),
    }
}

pub fn expiring(
    resource: ResourceKey,
    address: &str,
    until: &str,
    days: u32,
) -> teamsync::changeset::Expiring {
    teamsync::changeset::Expiring {
        resource,
        member: MemberRef {
            email: Some(email(address)),
            ..MemberRef::default()
        },
        until: until.to_string(),
        days,
    }
}

/// A note, through its saved form (the type of its `resource` field is the key's text).
pub fn note(resource: &str, message: &str) -> teamsync::changeset::PlanNote {
    serde_json::from_value(serde_json::json!({"resource": resource, "message": message}))
        .expect("a note")
}
