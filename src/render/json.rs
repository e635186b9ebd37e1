//! The JSON renderings. `json` is the plan itself, versioned by `format_version`
//! (docs/plan-format.md), and the saved-plan file that `apply PLAN_FILE` reads back.
//! `people_json` is a view derived from it (`--format json --by person`): the same
//! changes regrouped by person, never read back.

use serde::Serialize;

use super::people::{Access, Person, PersonId, people};
use crate::changeset::{Blocked, Expiring, FORMAT_VERSION, Plan, Summary};
use crate::model::{MemberAction, ResourceKey, Risk};

/// Pretty-printed JSON with a trailing newline.
pub fn json(plan: &Plan) -> String {
    pretty(plan)
}

/// [`json`], written straight to `out`: a saved plan of a hundred thousand changes is tens
/// of megabytes, which a `String` would hold (and double while growing) at the plan's peak.
pub fn write_json<W: std::io::Write + ?Sized>(plan: &Plan, out: &mut W) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan)?;
    out.write_all(b"\n")
}

/// The by-person document: `{"format_version", "view": "people", "summary", "people"}`.
pub fn people_json(plan: &Plan) -> String {
    let people = people(plan);
    pretty(&PeopleDoc {
        format_version: FORMAT_VERSION,
        view: "people",
        teamsync_version: &plan.teamsync_version,
        summary: &plan.summary,
        people: people.iter().map(PersonDoc::of).collect(),
    })
}

fn pretty(value: &impl Serialize) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_else(|e| {
        // Plans hold only strings, numbers and maps with string keys: serialising cannot fail.
        format!("{{\"error\": \"plan could not be serialised: {e}\"}}")
    });
    out.push('\n');
    out
}

#[derive(Serialize)]
struct PeopleDoc<'a> {
    format_version: &'a str,
    view: &'a str,
    teamsync_version: &'a str,
    summary: &'a Summary,
    people: Vec<PersonDoc<'a>>,
}

#[derive(Serialize)]
struct PersonDoc<'a> {
    /// The display form: the email, or `provider user_id:ID`.
    person: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    /// Only for a person known by a provider's account id alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handle: Option<&'a str>,
    /// Some change gives owner/admin rights the person did not have.
    raised: bool,
    gains: Vec<AccessDoc<'a>>,
    loses: Vec<AccessDoc<'a>>,
    changes: Vec<AccessDoc<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocked: Vec<HeldDoc<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    waiting: Vec<HeldDoc<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    expiring: Vec<ExpiringDoc<'a>>,
}

#[derive(Serialize)]
struct AccessDoc<'a> {
    resource: &'a ResourceKey,
    action: &'a MemberAction,
    #[serde(skip_serializing_if = "<[Risk]>::is_empty")]
    risks: &'a [Risk],
}

#[derive(Serialize)]
struct HeldDoc<'a> {
    resource: &'a ResourceKey,
    action: &'a MemberAction,
    reason: &'a str,
}

#[derive(Serialize)]
struct ExpiringDoc<'a> {
    resource: &'a ResourceKey,
    until: &'a str,
    days: u32,
}

impl<'a> PersonDoc<'a> {
    fn of(p: &'a Person<'a>) -> Self {
        let (email, provider, user_id) = match &p.id {
            PersonId::Email(e) => (Some(e.as_str()), None, None),
            PersonId::Account { provider, user_id } => {
                (None, Some(provider.as_str()), Some(user_id.as_str()))
            }
        };
        let accesses = |list: &[Access<'a>]| {
            list.iter()
                .map(|a| AccessDoc {
                    resource: a.resource,
                    action: &a.change.action,
                    risks: &a.change.risks,
                })
                .collect()
        };
        let held = |list: &[&'a Blocked]| {
            list.iter()
                .map(|b| HeldDoc {
                    resource: &b.resource,
                    action: &b.change.action,
                    reason: &b.reason,
                })
                .collect()
        };
        let expiring = |list: &[&'a Expiring]| {
            list.iter()
                .map(|e| ExpiringDoc {
                    resource: &e.resource,
                    until: &e.until,
                    days: e.days,
                })
                .collect()
        };
        PersonDoc {
            person: p.id.to_string(),
            email,
            provider,
            user_id,
            handle: p.handle,
            raised: p.raised().next().is_some(),
            gains: accesses(&p.gains),
            loses: accesses(&p.loses),
            changes: accesses(&p.changes),
            blocked: held(&p.blocked),
            waiting: held(&p.waiting),
            expiring: expiring(&p.expiring),
        }
    }
}
