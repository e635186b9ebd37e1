//! The plan regrouped by person: what each one gains, loses and keeps with a change, across
//! every provider, with the blocked, waiting and expiring entries that concern them. One
//! grouping serves `--by person` in the terminal, its JSON document and the Markdown
//! comment's "Access removed" and "Access raised" sections.

use std::collections::BTreeMap;
use std::fmt;

use super::{Effect, effect, raises};
use crate::changeset::{Blocked, Expiring, Plan};
use crate::model::{MemberChange, MemberRef, ResourceKey};

/// Who a person is across providers: their email, or (when a provider knows only an
/// account id) that provider's user id, which means nothing to another provider.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PersonId {
    Email(String),
    Account { provider: String, user_id: String },
}

impl PersonId {
    fn of(member: &MemberRef, resource: &ResourceKey) -> PersonId {
        match (&member.email, &member.user_id) {
            (Some(e), _) => PersonId::Email(e.as_str().to_string()),
            (None, id) => PersonId::Account {
                provider: resource.provider.clone(),
                user_id: id
                    .as_deref()
                    .or(member.membership_id.as_deref())
                    .unwrap_or_default()
                    .to_string(),
            },
        }
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersonId::Email(e) => f.write_str(e),
            PersonId::Account { provider, user_id } => write!(f, "{provider} user_id:{user_id}"),
        }
    }
}

/// One member change of a person, with where it happens.
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    pub resource: &'a ResourceKey,
    pub change: &'a MemberChange,
}

/// Everything the plan does to one person, each list in the plan's (key) order.
#[derive(Clone, Debug)]
pub struct Person<'a> {
    pub id: PersonId,
    /// The roster handle, from the first change that carries one.
    pub handle: Option<&'a str>,
    /// Added or invited.
    pub gains: Vec<Access<'a>>,
    /// Removed, or a pending invitation withdrawn.
    pub loses: Vec<Access<'a>>,
    /// Role or data changes on a membership that stays.
    pub changes: Vec<Access<'a>>,
    /// Changes teamsync refuses to make.
    pub blocked: Vec<&'a Blocked>,
    /// Changes that wait for the person to accept an invitation.
    pub waiting: Vec<&'a Blocked>,
    /// Memberships that end soon.
    pub expiring: Vec<&'a Expiring>,
}

impl<'a> Person<'a> {
    fn new(id: PersonId) -> Self {
        Person {
            id,
            handle: None,
            gains: Vec::new(),
            loses: Vec::new(),
            changes: Vec::new(),
            blocked: Vec::new(),
            waiting: Vec::new(),
            expiring: Vec::new(),
        }
    }

    /// `ana@acme.com (ana)`.
    pub fn name(&self) -> String {
        match self.handle {
            Some(h) => format!("{} ({})", self.id, super::one_line(h)),
            None => self.id.to_string(),
        }
    }

    /// The changes that give this person owner/admin rights they did not have.
    pub fn raised(&self) -> impl Iterator<Item = &Access<'a>> {
        self.gains
            .iter()
            .chain(&self.changes)
            .filter(|a| raises(&a.change.action))
    }

    /// Every change of this person: gains, losses, then other changes.
    pub fn all(&self) -> impl Iterator<Item = &Access<'a>> {
        self.gains.iter().chain(&self.loses).chain(&self.changes)
    }
}

/// The plan by person, sorted by email (then by account id). Everyone with a change, a
/// blocked or waiting change, or expiring access appears once.
pub fn people(plan: &Plan) -> Vec<Person<'_>> {
    let mut by_id: BTreeMap<PersonId, Person<'_>> = BTreeMap::new();
    for change in &plan.changes {
        for m in &change.members {
            let access = Access {
                resource: &change.key,
                change: m,
            };
            let person = slot(&mut by_id, &m.member, &change.key);
            match effect(&m.action) {
                Effect::Gains => person.gains.push(access),
                Effect::Loses => person.loses.push(access),
                Effect::Changes => person.changes.push(access),
            }
        }
    }
    for b in &plan.blocked {
        slot(&mut by_id, &b.change.member, &b.resource)
            .blocked
            .push(b);
    }
    for b in &plan.waiting {
        slot(&mut by_id, &b.change.member, &b.resource)
            .waiting
            .push(b);
    }
    for e in &plan.expiring {
        slot(&mut by_id, &e.member, &e.resource).expiring.push(e);
    }
    by_id.into_values().collect()
}

/// The person a member is, created on first sight.
fn slot<'m, 'a>(
    by_id: &'m mut BTreeMap<PersonId, Person<'a>>,
    member: &'a MemberRef,
    resource: &ResourceKey,
) -> &'m mut Person<'a> {
    let person = by_id
        .entry(PersonId::of(member, resource))
        .or_insert_with_key(|id| Person::new(id.clone()));
    if person.handle.is_none() {
        person.handle = member.handle.as_deref();
    }
    person
}
