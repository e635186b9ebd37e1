//! The diff: desired and live state in, a sorted, deterministic `Plan` out.
//!
//! Rules (`docs/design.md`): containers are matched by name, then by `previously` (a rename keeps
//! identity); members by email, else by user id; `exact` removes the unlisted, `additive`
//! never removes; the organization roster removes leavers except the kinds it keeps, and
//! invites missing people only when asked; undeclared containers are deleted only for the
//! (provider, kind) pairs with pruning on.
//!
//! By kind of change: `members` (one container's member changes and the guard that never
//! plans away declared access), `directory` (who may join: organization standing and
//! invitations), `offboard` (leavers); this file matches containers and assembles the plan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{
    AccountKind, Data, DesiredMember, DesiredResource, DesiredState, Email, FieldChange,
    InviteRole, LiveMember, LiveResource, LiveState, MemberAction, MemberChange, MemberKey,
    MemberRef, Mode, Policy, ProviderKind, ProviderSettings, ResourceAction, ResourceChange,
    ResourceKey, ResourceKind, Risk, Role,
};

use super::{
    FORMAT_VERSION, Plan, PlanNote, SeenLive, Summary, Unresolved, UnresolvedWhy, fingerprints,
};

mod directory;
mod members;
mod offboard;

use directory::*;
use members::*;
use offboard::*;

/// Everything the diff reads.
#[derive(Clone, Copy, Debug)]
pub struct DiffInput<'a> {
    pub desired: &'a DesiredState,
    pub live: &'a LiveState,
    pub providers: &'a BTreeMap<String, ProviderSettings>,
    pub policy: &'a Policy,
    /// The day (UTC) the plan is for: `until` dates are compared with it.
    pub today: jiff::civil::Date,
}

/// What the diff of one resource's members needs besides the two sides.
struct Context<'a> {
    provider: Option<&'a ProviderSettings>,
    today: jiff::civil::Date,
    warn_days: u32,
}

/// Computes the plan. Same input, same plan, byte for byte.
pub fn diff(input: DiffInput<'_>) -> Plan {
    let mut changes = Vec::new();
    // What each change saw live; digested together at the end.
    let mut seen: SeenLive<'_> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut unresolved = Vec::new();
    let mut violations: Vec<String> = Vec::new();
    let mut blocked: Vec<super::Blocked> = Vec::new();
    let mut claimed: BTreeSet<&ResourceKey> = BTreeSet::new();
    let mut waiting: Vec<super::Blocked> = Vec::new();
    let mut expiring: Vec<super::Expiring> = Vec::new();
    // provider → people a container needs who must be invited to its organization first.
    let mut to_invite: BTreeMap<String, BTreeMap<Email, Option<String>>> = BTreeMap::new();
    // Provider → everyone its containers declare (entries not expired), with the first
    // container that does: the roster never plans them out (`keep_declared_access`).
    let mut in_containers: HashMap<&str, BTreeMap<&MemberKey, &ResourceKey>> = HashMap::new();
    for r in input
        .desired
        .resources
        .values()
        .filter(|r| r.key.kind != ResourceKind::Organization)
    {
        for (key, member) in &r.members {
            if member.until.is_none_or(|u| u >= input.today) {
                in_containers
                    .entry(r.key.provider.as_str())
                    .or_default()
                    .entry(key)
                    .or_insert(&r.key);
            }
        }
    }
    // Each provider's directory, indexed once: every add asks it who may join.
    let directories: HashMap<&str, Directory<'_>> = input
        .providers
        .values()
        .filter_map(|p| {
            Some((
                p.name.as_str(),
                Directory::new(directory_of(input.live, p)?),
            ))
        })
        .collect();

    for desired in input.desired.resources.values() {
        let settings = input.providers.get(&desired.key.provider);
        let provider_kind = settings.map(|p| p.kind);
        let cx = Context {
            provider: settings,
            today: input.today,
            warn_days: input.policy.expiry_warning_days(),
        };
        let (live, action) = match_live(desired, input.live);
        if let Some(l) = live {
            claimed.insert(&l.key);
        }
        if desired.mode == Mode::Observe {
            notes.push(observed(desired, live));
            continue;
        }
        if action == ResourceAction::Create
            && let Some(near) = nearly_named(desired, input.live)
        {
            // Never a second "Writers" beside "writers": say so instead of creating it.
            claimed.insert(&near.key);
            violations.push(format!(
                "{} is declared, and {} exists live: the names differ only in case or surrounding spaces, so teamsync will not create a second one; write the live name in the configuration (or add it to `previously` to rename it)",
                desired.key, near.key
            ));
            continue;
        }
        let mut members = diff_members(
            desired,
            live,
            &cx,
            &mut notes,
            &mut unresolved,
            &mut expiring,
        );
        if let Some(settings) = settings {
            eligibility(
                desired,
                settings,
                directories.get(settings.name.as_str()),
                &mut members,
                &mut blocked,
                &mut waiting,
                &mut to_invite,
            );
        }
        keep_declared_access(
            desired,
            in_containers.get(desired.key.provider.as_str()),
            &mut members,
            &mut blocked,
        );
        guard_access(
            desired,
            live,
            provider_kind,
            input.policy,
            &mut members,
            &mut blocked,
        );
        check_user_ids(desired, live, input.policy, &mut violations);
        // A stated description that the live one does not match (or a new container's).
        let description = desired
            .description
            .clone()
            .filter(|want| live.is_none_or(|l| l.description.as_deref().unwrap_or("") != want));
        let needs_change = !members.is_empty()
            || description.is_some()
            || !matches!(action, ResourceAction::Update);
        if !needs_change {
            continue;
        }
        seen.insert(
            desired.key.clone(),
            match (&action, live) {
                (ResourceAction::Rename { .. }, _) | (_, None) => None,
                (_, Some(l)) => Some(l),
            },
        );
        if let (ResourceAction::Rename { .. }, Some(l)) = (&action, live) {
            seen.insert(l.key.clone(), Some(l));
        }
        changes.push(ResourceChange {
            description,
            key: desired.key.clone(),
            action,
            live_id: live.map(|l| l.id.clone()),
            mode: desired.mode,
            members,
            // Every change's risks are derived once, below, after invitations and
            // offboarding have added their member changes.
            risks: Vec::new(),
        });
    }

    for live in input.live.resources.values() {
        let pruned = input
            .desired
            .prune
            .contains(&(live.key.provider.clone(), live.key.kind));
        if !pruned || claimed.contains(&live.key) || input.desired.resources.contains_key(&live.key)
        {
            continue;
        }
        seen.insert(live.key.clone(), Some(live));
        // Everyone in a pruned container loses that access: each is a removal in every
        // view, in the summary and against `max_removals`.
        let mut members: Vec<MemberChange> = live
            .members
            .iter()
            .map(|have| MemberChange {
                member: member_ref(None, None, Some(have)),
                action: MemberAction::Remove,
                risks: vec![Risk::Removal, Risk::Prune],
            })
            .collect();
        members.sort_by(|a, b| a.member.cmp(&b.member));
        changes.push(ResourceChange {
            description: None,
            key: live.key.clone(),
            action: ResourceAction::Delete,
            live_id: Some(live.id.clone()),
            mode: Mode::Exact,
            members,
            risks: Vec::new(),
        });
    }

    invite_needed(input, to_invite, &mut changes, &mut seen, &mut notes);
    offboard(input, &mut changes, &mut seen, &mut notes, &mut blocked);
    // An update left with nothing to do (offboarding's removals all refused) goes; one
    // that only sets a description stays.
    changes.retain(|c| {
        !c.members.is_empty() || c.description.is_some() || c.action != ResourceAction::Update
    });
    for c in &mut changes {
        c.risks = resource_risks(&c.members);
        if c.action == ResourceAction::Delete {
            c.risks.push(Risk::Prune);
            c.risks.sort();
            c.risks.dedup();
        }
    }
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    unresolved.sort();
    expiring.sort();
    expiring.dedup();
    blocked.sort_by(|a, b| (&a.resource, &a.change.member).cmp(&(&b.resource, &b.change.member)));
    waiting.sort_by(|a, b| (&a.resource, &a.change.member).cmp(&(&b.resource, &b.change.member)));
    let attention = unknown_values(&input, &claimed, &directories, &changes, &mut notes);
    notes.sort();
    notes.dedup();
    let summary = Summary::of(&changes);
    let mut risks: BTreeSet<Risk> = changes
        .iter()
        .flat_map(|c| c.risks.iter().copied())
        .collect();
    if input
        .policy
        .max_removals
        .is_some_and(|max| summary.remove as u64 > max)
    {
        risks.insert(Risk::OverRemovalLimit);
    }
    let over_budget = over_budget(&input, &changes);
    Plan {
        format_version: FORMAT_VERSION.to_string(),
        teamsync_version: env!("CARGO_PKG_VERSION").to_string(),
        changes,
        fingerprints: fingerprints(seen),
        notes,
        summary,
        risks: risks.into_iter().collect(),
        unresolved,
        // Filled in by whoever knows the configuration's files (the engine).
        binding: super::Binding::default(),
        violations,
        blocked,
        waiting,
        expiring,
        attention,
        over_budget,
        allowed_removals: Vec::new(),
        // Filled in by the engine (`engine::plan`), from the same live state.
        read_basis: BTreeMap::new(),
        untouched: BTreeMap::new(),
    }
}

/// The providers' and containers' `max_removals` that `changes` exceed.
fn over_budget(input: &DiffInput<'_>, changes: &[ResourceChange]) -> Vec<super::OverBudget> {
    let removed = |c: &ResourceChange| -> Vec<String> {
        c.members
            .iter()
            .filter(|m| m.action.is_removal())
            .map(|m| m.member.to_string())
            .collect()
    };
    let mut out = Vec::new();
    for c in changes {
        let Some(max) = input
            .desired
            .resources
            .get(&c.key)
            .and_then(|d| d.max_removals)
        else {
            continue;
        };
        let people = removed(c);
        if people.len() as u64 > max {
            out.push(super::OverBudget {
                scope: c.key.to_string(),
                max,
                removals: people.len(),
                people,
            });
        }
    }
    for p in input.providers.values() {
        let Some(max) = p.max_removals else { continue };
        let mut people: Vec<String> = changes
            .iter()
            .filter(|c| c.key.provider == p.name)
            .flat_map(removed)
            .collect();
        if people.len() as u64 > max {
            let removals = people.len();
            people.sort();
            out.push(super::OverBudget {
                scope: p.name.clone(),
                max,
                removals,
                people,
            });
        }
    }
    out.sort();
    out
}

/// A live resource of the same provider and kind whose name differs from the declared one
/// only in case or surrounding whitespace.
fn nearly_named<'a>(desired: &DesiredResource, live: &'a LiveState) -> Option<&'a LiveResource> {
    let fold = ResourceKey::folded_name;
    let want = fold(&desired.key.name);
    live.resources.values().find(|l| {
        l.key.provider == desired.key.provider
            && l.key.kind == desired.key.kind
            && l.key.name != desired.key.name
            && fold(&l.key.name) == want
    })
}

/// The live resource a desired one corresponds to, and what must happen to the container.
fn match_live<'a>(
    desired: &DesiredResource,
    live: &'a LiveState,
) -> (Option<&'a LiveResource>, ResourceAction) {
    if let Some(l) = live.resources.get(&desired.key) {
        return (Some(l), ResourceAction::Update);
    }
    for old in &desired.previously {
        let old_key = ResourceKey {
            name: old.clone(),
            ..desired.key.clone()
        };
        if let Some(l) = live.resources.get(&old_key) {
            return (Some(l), ResourceAction::Rename { from: old.clone() });
        }
    }
    (None, ResourceAction::Create)
}

/// Hashed with foldhash, seeded per process, like `providers::identity::Seen`: SipHash
/// was a tenth of a plan's diff.
type Fast = foldhash::fast::RandomState;

struct LiveIndex<'a> {
    by_email: HashMap<&'a str, usize, Fast>,
    by_user: HashMap<&'a str, usize, Fast>,
}

impl<'a> LiveIndex<'a> {
    fn new(members: &'a [LiveMember]) -> Self {
        let mut by_email = HashMap::with_capacity_and_hasher(members.len(), Fast::default());
        let mut by_user = HashMap::with_capacity_and_hasher(members.len(), Fast::default());
        for (i, m) in members.iter().enumerate() {
            if let Some(e) = &m.email {
                by_email.entry(e.as_str()).or_insert(i);
            }
            if let Some(u) = &m.user_id {
                by_user.entry(&**u).or_insert(i);
            }
        }
        LiveIndex { by_email, by_user }
    }

    fn find(&self, key: &MemberKey) -> Option<usize> {
        match key {
            MemberKey::Email(e) => self.by_email.get(e.as_str()).copied(),
            MemberKey::UserId(u) => self.by_user.get(&**u).copied(),
        }
    }
}

fn action_rank(action: &MemberAction) -> u8 {
    match action {
        MemberAction::Add { .. } => 0,
        MemberAction::Invite { .. } => 1,
        MemberAction::SetRole { .. } => 2,
        MemberAction::SetData { .. } => 3,
        MemberAction::Remove => 4,
        MemberAction::Revoke => 5,
    }
}

fn member_ref(
    key: Option<&MemberKey>,
    want: Option<&DesiredMember>,
    have: Option<&LiveMember>,
) -> MemberRef {
    let (email, user_id) = match key {
        Some(MemberKey::Email(e)) => (Some(e.clone()), have.and_then(|h| h.user_id.clone())),
        Some(MemberKey::UserId(u)) => (have.and_then(|h| h.email.clone()), Some(u.clone())),
        None => (
            have.and_then(|h| h.email.clone()),
            have.and_then(|h| h.user_id.clone()),
        ),
    };
    MemberRef {
        email,
        user_id,
        handle: want.and_then(|w| w.handle.clone()),
        membership_id: have.and_then(|h| h.membership_id.clone()),
        unknown_role: have.and_then(|h| h.unknown_role.clone()),
        unknown_status: have.and_then(|h| h.unknown_status.clone()),
    }
}

fn field_changes(before: &Data, after: &Data) -> Vec<FieldChange> {
    let fields: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    fields
        .into_iter()
        .filter(|f| before.get(*f) != after.get(*f))
        .map(|f| FieldChange {
            field: f.clone(),
            before: before.get(f).cloned(),
            after: after.get(f).cloned(),
        })
        .collect()
}

fn resource_risks(members: &[MemberChange]) -> Vec<Risk> {
    let set: BTreeSet<Risk> = members
        .iter()
        .flat_map(|m| m.risks.iter().copied())
        .collect();
    set.into_iter().collect()
}

/// Every live value teamsync does not know, in the containers the plan matched and the
/// directories it read, sorted. Each is also shown in the plan: a status by a note; a role
/// by the member's diff (a declared member whose role is kept), by the member's change
/// (a role replaced, a removal), or else by a note here (an undeclared member an
/// `additive` or `observe` container keeps, a directory's member).
fn unknown_values(
    input: &DiffInput<'_>,
    claimed: &BTreeSet<&ResourceKey>,
    directories: &HashMap<&str, Directory<'_>>,
    changes: &[ResourceChange],
    notes: &mut Vec<PlanNote>,
) -> Vec<super::Attention> {
    let read: BTreeSet<&ResourceKey> = claimed
        .iter()
        .copied()
        .chain(directories.values().map(|d| &d.live.key))
        .collect();
    let mut out = Vec::new();
    for live in read.into_iter().filter_map(|k| input.live.resources.get(k)) {
        for m in live.members.iter().filter(|m| m.has_unknown()) {
            let member = member_ref(m.key().as_ref(), None, Some(m));
            if let Some(s) = &m.unknown_status {
                notes.push(PlanNote {
                    resource: live.key.clone(),
                    message: format!(
                        "{member}: status: {s} (unknown to teamsync); teamsync plans for them as for an active member and changes nothing because of it"
                    ),
                });
            }
            if let Some(r) = &m.unknown_role
                && !role_shown(notes, changes, live, m, r)
            {
                let managed = input
                    .providers
                    .get(&live.key.provider)
                    .is_some_and(|p| !p.kind.spec().roles_for(live.key.kind).is_empty());
                notes.push(PlanNote {
                    resource: live.key.clone(),
                    message: kept_role(&member, r, managed),
                });
            }
            out.extend(m.unknown_values().map(|value| super::Attention {
                resource: live.key.clone(),
                member: member.clone(),
                value,
            }));
        }
    }
    out.sort();
    out
}

/// Whether the plan already shows live member `m`'s unknown role `r`: in a note the
/// member's diff made, or beside the member in a change of `live`.
fn role_shown(
    notes: &[PlanNote],
    changes: &[ResourceChange],
    live: &LiveResource,
    m: &LiveMember,
    r: &str,
) -> bool {
    let same = |email: Option<&Email>, user_id: Option<&std::sync::Arc<str>>| {
        (email.is_some() && email == m.email.as_ref())
            || (user_id.is_some() && user_id == m.user_id.as_ref())
    };
    let in_change = changes
        .iter()
        .filter(|c| is_change_of(c, live))
        .flat_map(|c| &c.members)
        .any(|mc| same(mc.member.email.as_ref(), mc.member.user_id.as_ref()));
    // The note the member's diff writes names the member by its key: email, else user id.
    let noted = |who: &dyn std::fmt::Display| {
        let note = kept_role(who, r, true);
        notes.iter().any(|n| n.message == note)
    };
    in_change
        || m.email.as_ref().is_some_and(|e| noted(e))
        || m.user_id
            .as_ref()
            .is_some_and(|u| noted(&MemberKey::UserId(u.clone())))
}

/// The note for a live role teamsync does not know, kept as it is: `managed`, where the
/// configuration may state a role instead.
fn kept_role(who: impl std::fmt::Display, r: &str, managed: bool) -> String {
    if managed {
        format!(
            "{who}: role: {r} (unknown to teamsync) is kept as it is; teamsync changes it only where the configuration states `role:` for them"
        )
    } else {
        format!(
            "{who}: role: {r} (unknown to teamsync) is kept as it is; teamsync does not manage roles here and changes nothing because of it"
        )
    }
}

/// Whether `c` changes `live`: by key, or by its live id (a rename's change is keyed by the
/// new name).
fn is_change_of(c: &ResourceChange, live: &LiveResource) -> bool {
    c.key == live.key
        || (c.key.provider == live.key.provider
            && c.key.kind == live.key.kind
            && c.live_id.as_deref() == Some(live.id.as_str()))
}

/// The change of a live resource (found by key, or by its live id: a rename's change is
/// keyed by the new name), made (as an update) if the plan has none yet.
fn change_of_live<'c, 'a>(
    changes: &'c mut Vec<ResourceChange>,
    seen: &mut SeenLive<'a>,
    live: &'a LiveResource,
) -> &'c mut ResourceChange {
    let at = match changes.iter().position(|c| is_change_of(c, live)) {
        Some(i) => i,
        None => {
            seen.insert(live.key.clone(), Some(live));
            changes.push(ResourceChange {
                description: None,
                key: live.key.clone(),
                action: ResourceAction::Update,
                live_id: Some(live.id.clone()),
                mode: Mode::Additive,
                members: Vec::new(),
                risks: Vec::new(),
            });
            changes.len() - 1
        }
    };
    &mut changes[at]
}

fn sort_members(members: &mut [MemberChange]) {
    members.sort_by(|a, b| {
        a.member
            .cmp(&b.member)
            .then_with(|| action_rank(&a.action).cmp(&action_rank(&b.action)))
    });
}

/// What a plan says of a container in `mode: observe`: it is read, never written, and
/// how far the live members are from the configuration's list (for the reviewer, not as
/// drift to fix).
fn observed(desired: &DesiredResource, live: Option<&LiveResource>) -> PlanNote {
    let message = match live {
        None => "observed (mode: observe), and it does not exist live: teamsync never creates it"
            .to_string(),
        Some(live) => {
            let listed: BTreeSet<String> = desired.members.keys().map(|k| k.to_string()).collect();
            let have: BTreeSet<String> = live
                .members
                .iter()
                .filter_map(|m| m.key().map(|k| k.to_string()))
                .collect();
            let only_live = have.difference(&listed).count();
            let only_config = listed.difference(&have).count();
            format!(
                "observed (mode: observe): {} live, never written by teamsync; {only_live} live not in the configuration, {only_config} in the configuration not live",
                live.members.len()
            )
        }
    };
    PlanNote {
        resource: desired.key.clone(),
        message,
    }
}
