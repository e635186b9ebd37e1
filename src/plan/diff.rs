//! The diff: desired and live state in, a sorted, deterministic `Plan` out.
//!
//! Rules (`docs/design.md`): containers are matched by name, then by `previously` (a rename keeps
//! identity); members by email, else by user id; `exact` removes the unlisted, `additive`
//! never removes; the organization roster removes leavers except the kinds it keeps, and
//! invites missing people only when asked; undeclared containers are deleted only for the
//! (provider, kind) pairs with pruning on.

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
    let attention = unknown_values(&input, &claimed, &directories, &mut notes);
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
        // Filled in by the engine (`engine::plan`), from the same live state.
        read_basis: BTreeMap::new(),
    }
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

fn diff_members(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    cx: &Context<'_>,
    notes: &mut Vec<PlanNote>,
    unresolved: &mut Vec<Unresolved>,
    expiring: &mut Vec<super::Expiring>,
) -> Vec<MemberChange> {
    let provider = cx.provider.map(|p| p.kind);
    let kind = desired.key.kind;
    let empty = Vec::new();
    let live_members = live.map(|l| &l.members).unwrap_or(&empty);
    let index = LiveIndex::new(live_members);
    let mut matched = vec![false; live_members.len()];
    let mut out = Vec::new();

    for (key, want) in &desired.members {
        let found = index.find(key);
        if let Some(until) = want.until {
            if until < cx.today {
                // Expired: access lasted through `until`; from the next day it ends,
                // whatever the mode.
                if let Some(i) = found {
                    matched[i] = true;
                    let risks = if kind == ResourceKind::Organization {
                        vec![Risk::Removal, Risk::Leaver, Risk::Expired]
                    } else {
                        vec![Risk::Removal, Risk::Expired]
                    };
                    out.push(MemberChange {
                        member: member_ref(Some(key), Some(want), Some(&live_members[i])),
                        action: MemberAction::Remove,
                        risks,
                    });
                }
                continue;
            }
            let days = (until - cx.today).get_days();
            if let Ok(days) = u32::try_from(days)
                && days <= cx.warn_days
            {
                expiring.push(super::Expiring {
                    resource: desired.key.clone(),
                    member: member_ref(Some(key), Some(want), found.map(|i| &live_members[i])),
                    until: until.to_string(),
                    days,
                });
            }
        }
        let unknown = found.and_then(|i| live_members[i].unknown_role.as_deref());
        let role = match found {
            Some(i) => {
                crate::model::role_to_set(provider, kind, desired.mode, want.role, &live_members[i])
            }
            None => Role::managed(provider, kind, want.role),
        };
        if let (Some(r), None) = (unknown, want.role) {
            notes.push(PlanNote {
                resource: desired.key.clone(),
                message: format!(
                    "{key}: role: {} (unknown to teamsync) is kept as it is; teamsync changes it only where the configuration states `role:` for them",
                    r
                ),
            });
        }
        match found {
            Some(i) => {
                matched[i] = true;
                let have = &live_members[i];
                let member = member_ref(Some(key), Some(want), Some(have));
                if let Some(to) = role.filter(|r| have.role != Some(*r)) {
                    let lowered =
                        have.role.is_some_and(|r| r.is_privileged()) && !to.is_privileged();
                    let mut risks = if to.is_privileged() {
                        vec![Risk::PrivilegeRaised]
                    } else if lowered {
                        vec![Risk::PrivilegeLowered]
                    } else {
                        vec![]
                    };
                    if have.has_unknown() {
                        risks.push(Risk::UnknownValue);
                    }
                    out.push(MemberChange {
                        member: member.clone(),
                        action: MemberAction::SetRole {
                            from: have.role,
                            to,
                        },
                        risks,
                    });
                }
                if kind == ResourceKind::Campaign && want.data != have.data {
                    out.push(MemberChange {
                        member,
                        action: MemberAction::SetData {
                            data: want.data.clone(),
                            fields: field_changes(&have.data, &want.data),
                        },
                        risks: vec![],
                    });
                }
            }
            None if kind == ResourceKind::Organization => {
                let invite = cx.provider.is_some_and(|p| p.invite)
                    || desired.organization.as_ref().is_some_and(|o| o.invite);
                // The roster's role for them, else the provider's `invite_role`.
                let role = role
                    .map(InviteRole::from)
                    .or(cx.provider.and_then(|p| p.invite_role));
                missing_from_organization(desired, live, key, want, role, invite, notes, &mut out);
            }
            None => {
                let risks = match role {
                    Some(r) if r.is_privileged() => vec![Risk::PrivilegeRaised],
                    _ => vec![],
                };
                out.push(MemberChange {
                    member: member_ref(Some(key), Some(want), None),
                    action: MemberAction::Add {
                        role,
                        data: want.data.clone(),
                    },
                    risks,
                });
            }
        }
    }

    // Identity before diff: a member without an email is unknown, and an unknown member
    // is never removed (nor re-roled: it matched nothing above). Nor is an account of
    // unknown kind removed from a roster, which may be the service account we run as.
    let keep = desired.organization.as_ref().map(|o| &o.keep);
    for (i, have) in live_members.iter().enumerate() {
        let why = if matched[i] {
            None
        } else if have.email.is_none() {
            Some(UnresolvedWhy::NoEmail)
        } else if kind == ResourceKind::Organization && have.account == AccountKind::Unknown {
            Some(UnresolvedWhy::UnknownAccountKind)
        } else {
            None
        };
        if let Some(why) = why {
            matched[i] = true;
            let kept = keep.is_some_and(|k| k.contains(&have.account));
            unresolved.push(Unresolved {
                resource: desired.key.clone(),
                member: member_ref(None, None, Some(have)),
                why,
                blocking: desired.mode == Mode::Exact && !kept,
            });
        }
    }

    if desired.mode == Mode::Exact {
        for (i, have) in live_members.iter().enumerate() {
            if matched[i] || keep.is_some_and(|k| k.contains(&have.account)) {
                continue;
            }
            let mut risks = if kind == ResourceKind::Organization {
                vec![Risk::Removal, Risk::Leaver]
            } else {
                vec![Risk::Removal]
            };
            if have.has_unknown() {
                risks.push(Risk::UnknownValue);
            }
            out.push(MemberChange {
                member: member_ref(None, None, Some(have)),
                action: MemberAction::Remove,
                risks,
            });
        }
    }
    sort_members(&mut out);
    out
}

/// teamsync never locks the admins out: it does not remove the organization membership of
/// the account its token belongs to, nor lower that account's role (and removes nobody
/// from the organization when it could not ask who that is); and it does not take a GitBook
/// team or the organization from at least one owner/admin to none unless
/// `policy.allow_no_owner`. What it refuses moves to `blocked`, with the fix.
fn guard_access(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    provider: Option<ProviderKind>,
    policy: &Policy,
    members: &mut Vec<MemberChange>,
    blocked: &mut Vec<super::Blocked>,
) {
    let Some(live) = live else { return };
    let kind = desired.key.kind;
    let mut block = |members: &mut Vec<MemberChange>,
                     pick: &dyn Fn(&MemberChange) -> Option<String>| {
        let mut kept = Vec::with_capacity(members.len());
        for m in members.drain(..) {
            match pick(&m) {
                Some(reason) => blocked.push(super::Blocked {
                    resource: desired.key.clone(),
                    change: m,
                    reason,
                }),
                None => kept.push(m),
            }
        }
        *members = kept;
    };
    if kind == ResourceKind::Organization {
        match &live.who_am_i {
            crate::model::WhoAmI::User(me) => block(members, &|m| {
                let mine = m.member.user_id.as_deref() == Some(me.as_str());
                let lowered = matches!(&m.action, MemberAction::SetRole { from: Some(f), to } if f.is_privileged() && !to.is_privileged());
                (mine && (m.action.is_removal() || lowered)).then(|| {
                    "this is the account teamsync's token belongs to; removing it or lowering its role would lock teamsync out. Declare it (or keep its kind in `keep`), or change it in the admin console".to_string()
                })
            }),
            crate::model::WhoAmI::Unknown(why) => {
                let why = why.clone();
                block(members, &|m| {
                    m.action.is_removal().then(|| {
                        format!("teamsync could not ask whose account its token is ({why}), so it removes nobody from the organization; check the token, then plan again")
                    })
                })
            }
            crate::model::WhoAmI::NotAsked => {}
        }
    }
    let owner_role = match (provider, kind) {
        (Some(ProviderKind::Gitbook), ResourceKind::Team) => Role::Owner,
        (Some(ProviderKind::Pixiebrix), ResourceKind::Organization) => Role::Admin,
        _ => return,
    };
    if policy.allow_no_owner {
        return;
    }
    let owners_now: BTreeSet<String> = live
        .members
        .iter()
        .filter(|m| m.role == Some(owner_role))
        .filter_map(|m| m.key().map(|k| k.to_string()))
        .collect();
    if owners_now.is_empty() {
        return;
    }
    let who = |m: &MemberChange| {
        m.member
            .email
            .as_ref()
            .map(|e| MemberKey::Email(e.clone()).to_string())
            .or_else(|| {
                m.member
                    .user_id
                    .as_ref()
                    .map(|u| MemberKey::UserId(u.clone()).to_string())
            })
    };
    let losing = |m: &MemberChange| match &m.action {
        MemberAction::Remove => who(m).is_some_and(|w| owners_now.contains(&w)),
        MemberAction::SetRole { from, to } => *from == Some(owner_role) && *to != owner_role,
        _ => false,
    };
    let gaining = members.iter().any(|m| match &m.action {
        MemberAction::Add { role, .. } => *role == Some(owner_role),
        MemberAction::SetRole { to, .. } => *to == owner_role,
        _ => false,
    });
    let lost = members.iter().filter(|m| losing(m)).count();
    if gaining || lost < owners_now.len() {
        return;
    }
    let what = if owner_role == Role::Owner {
        "owner"
    } else {
        "admin"
    };
    let key = desired.key.to_string();
    block(members, &|m| {
        losing(m).then(|| {
            format!("this would leave {key} with no {what}; keep at least one {what}, or set `policy.allow_no_owner: true`")
        })
    });
}

/// `allowed_email_domains` holds for members the config names by `user_id` too: their
/// email is whatever the live state says it is, and one that is unknown or outside the
/// allowed domains is a plan error naming the member (a `user_id` is no side door).
fn check_user_ids(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    policy: &Policy,
    violations: &mut Vec<String>,
) {
    if policy.allowed_email_domains.is_empty() {
        return;
    }
    let members = live.map(|l| l.members.as_slice()).unwrap_or(&[]);
    for key in desired.members.keys() {
        let MemberKey::UserId(id) = key else { continue };
        let found = members.iter().find(|m| m.user_id.as_deref() == Some(&**id));
        match found.and_then(|m| m.email.as_ref()) {
            Some(email) if policy.allows(email) => {}
            Some(email) => violations.push(format!(
                "{}: member user_id:{id} is {email}, outside policy.allowed_email_domains; remove it from the configuration, or allow its domain",
                desired.key
            )),
            None => violations.push(format!(
                "{}: member user_id:{id} has no email teamsync can read, so policy.allowed_email_domains cannot be checked; declare the person by email instead",
                desired.key
            )),
        }
    }
}

/// A person the roster lists who is not in the live organization: invite, or say why not.
#[allow(clippy::too_many_arguments)]
fn missing_from_organization(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    key: &MemberKey,
    want: &DesiredMember,
    role: Option<InviteRole>,
    invite: bool,
    notes: &mut Vec<PlanNote>,
    out: &mut Vec<MemberChange>,
) {
    let resource = desired.key.clone();
    let MemberKey::Email(email) = key else {
        notes.push(PlanNote {
            resource,
            message: format!(
                "{key} is not a member of the organization and cannot be invited by user id"
            ),
        });
        return;
    };
    if live.is_some_and(|l| l.pending_invites.contains(email)) {
        notes.push(PlanNote {
            resource,
            message: format!("{email} has a pending invitation"),
        });
    } else if invite {
        let role = role.unwrap_or(InviteRole::Member);
        let risks = if role.is_privileged() {
            vec![Risk::PrivilegeRaised]
        } else {
            vec![]
        };
        out.push(MemberChange {
            member: member_ref(Some(key), Some(want), None),
            action: MemberAction::Invite { role },
            risks,
        });
    } else {
        notes.push(PlanNote {
            resource,
            message: format!(
                "{email} is not a member of the organization; set `invite: true` on provider `{}` to invite them",
                desired.key.provider
            ),
        });
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
/// directories it read, sorted. A status gets a note too (a role kept as it is has its
/// note from the member's diff; a role replaced shows in its change).
fn unknown_values(
    input: &DiffInput<'_>,
    claimed: &BTreeSet<&ResourceKey>,
    directories: &HashMap<&str, Directory<'_>>,
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

/// The live organization of a provider, when its directory was read: who may join its
/// containers (members, pending memberships, open invitations).
fn directory_of<'a>(live: &'a LiveState, settings: &ProviderSettings) -> Option<&'a LiveResource> {
    live.resources.get(&ResourceKey::new(
        settings.name.clone(),
        ResourceKind::Organization,
        settings.organization.clone(),
    ))
}

/// Whether someone may join a container of this provider now.
enum Standing<'a> {
    /// A member of the organization (or, on Contentful, a pending membership, which may
    /// join teams before the invitation is accepted).
    Member(&'a LiveMember),
    /// Invited, not accepted yet: they cannot join containers until they do.
    Invited,
    /// Not in the organization at all.
    Outside,
}

/// A provider's organization directory, with its members found by email.
struct Directory<'a> {
    live: &'a LiveResource,
    by_email: HashMap<&'a str, &'a LiveMember, Fast>,
    /// Every member came with an email: only then does absence prove someone outside.
    named: bool,
}

impl<'a> Directory<'a> {
    fn new(live: &'a LiveResource) -> Self {
        let mut by_email = HashMap::with_capacity_and_hasher(live.members.len(), Fast::default());
        for m in &live.members {
            if let Some(e) = &m.email {
                by_email.entry(e.as_str()).or_insert(m);
            }
        }
        Directory {
            named: live.members.iter().all(|m| m.email.is_some()),
            live,
            by_email,
        }
    }

    fn standing(&self, kind: ProviderKind, email: &Email) -> Standing<'a> {
        match self.by_email.get(email.as_str()) {
            Some(m) if !m.pending || kind == ProviderKind::Contentful => Standing::Member(m),
            Some(_) => Standing::Invited,
            None if self.live.pending_invites.contains(email) => Standing::Invited,
            None => Standing::Outside,
        }
    }
}

/// Adds to a group, campaign or team for people who are not in the provider's
/// organization: invited first (`invite: true`), waiting for an invitation to be accepted,
/// or blocked with the reason and the fix. Nothing here is ever sent as an add that the
/// API would refuse, so one such person never fails the others' changes.
fn eligibility(
    desired: &DesiredResource,
    settings: &ProviderSettings,
    directory: Option<&Directory<'_>>,
    members: &mut Vec<MemberChange>,
    blocked: &mut Vec<super::Blocked>,
    waiting: &mut Vec<super::Blocked>,
    to_invite: &mut BTreeMap<String, BTreeMap<Email, Option<String>>>,
) {
    let Some(directory) = directory else { return };
    if desired.key.kind == ResourceKind::Organization {
        return;
    }
    let (org, key) = (settings.kind, &desired.key);
    // A directory with members it could not name proves nobody absent: their add is sent
    // as before, and the API decides.
    let named = directory.named;
    // PixieBrix lets people of a verified domain join groups and campaigns as they are.
    let verified = |email: &Email| {
        org == ProviderKind::Pixiebrix && settings.verified_domains.contains(email.domain())
    };
    let mut kept = Vec::with_capacity(members.len());
    for m in members.drain(..) {
        let email = match (&m.action, &m.member.email) {
            (MemberAction::Add { .. }, Some(email)) => email.clone(),
            _ => {
                kept.push(m);
                continue;
            }
        };
        let hold = |reason: String| super::Blocked {
            resource: key.clone(),
            change: m.clone(),
            reason,
        };
        match directory.standing(org, &email) {
            Standing::Member(found) => {
                // The add carries the ids the directory gave (GitBook user id, Contentful
                // organization membership id), so apply need not look them up again.
                let mut m = m;
                if m.member.user_id.is_none() {
                    m.member.user_id = found.user_id.clone();
                }
                if m.member.membership_id.is_none() && org == ProviderKind::Contentful {
                    m.member.membership_id = found.membership_id.clone();
                }
                kept.push(m);
            }
            Standing::Invited | Standing::Outside if verified(&email) => kept.push(m),
            Standing::Invited => waiting.push(hold(format!(
                "{email} has an open invitation to the {} organization and joins {key} once they accept it; the next plan after that adds them",
                settings.name
            ))),
            Standing::Outside if !named => kept.push(m),
            Standing::Outside if settings.invite => {
                to_invite
                    .entry(settings.name.clone())
                    .or_default()
                    .insert(email.clone(), m.member.handle.clone());
                if org == ProviderKind::Contentful {
                    // The invitation makes a pending membership that may join teams at once.
                    kept.push(m);
                } else {
                    waiting.push(hold(format!(
                        "{email} is invited to the {} organization by this plan and joins {key} once they accept; the next plan after that adds them",
                        settings.name
                    )));
                }
            }
            Standing::Outside => blocked.push(hold(format!(
                "{email} is not a member of the {} organization ({org}), so they cannot join {key}; set `invite: true` on provider `{}` to invite them, or invite them in {} first",
                settings.name,
                settings.name,
                vendor(org)
            ))),
        }
    }
    *members = kept;
}

fn vendor(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Pixiebrix => "PixieBrix",
        ProviderKind::Gitbook => "GitBook",
        ProviderKind::Contentful => "Contentful",
    }
}

/// One invitation per person a container needs, on the organization's own change (with
/// the roster's invitations, where the PixieBrix roster is managed).
fn invite_needed<'a>(
    input: DiffInput<'a>,
    to_invite: BTreeMap<String, BTreeMap<Email, Option<String>>>,
    changes: &mut Vec<ResourceChange>,
    seen: &mut SeenLive<'a>,
    notes: &mut Vec<PlanNote>,
) {
    for (provider, people) in to_invite {
        let Some(settings) = input.providers.get(&provider) else {
            continue;
        };
        let Some(directory) = directory_of(input.live, settings) else {
            continue;
        };
        let role = settings
            .invite_role
            .unwrap_or(InviteRole::default_for(settings.kind));
        if settings.kind == ProviderKind::Gitbook {
            for email in people.keys() {
                notes.push(PlanNote {
                    resource: directory.key.clone(),
                    message: format!(
                        "GitBook lists no invitations: until {email} accepts, every apply invites them again (GitBook sends the email again)"
                    ),
                });
            }
        }
        let change = change_of_live(changes, seen, directory);
        for (email, handle) in people {
            let already = change
                .members
                .iter()
                .any(|m| m.member.email.as_ref() == Some(&email));
            if already {
                continue;
            }
            change.members.push(MemberChange {
                member: MemberRef {
                    email: Some(email),
                    handle,
                    ..MemberRef::default()
                },
                action: MemberAction::Invite { role },
                risks: if role.is_privileged() {
                    vec![Risk::PrivilegeRaised]
                } else {
                    vec![]
                },
            });
        }
        sort_members(&mut change.members);
    }
}

/// The change of a live resource (found by key, or by its live id: a rename's change is
/// keyed by the new name), made (as an update) if the plan has none yet.
fn change_of_live<'c, 'a>(
    changes: &'c mut Vec<ResourceChange>,
    seen: &mut SeenLive<'a>,
    live: &'a LiveResource,
) -> &'c mut ResourceChange {
    let same = |c: &ResourceChange| {
        c.key == live.key
            || (c.key.provider == live.key.provider
                && c.key.kind == live.key.kind
                && c.live_id.as_deref() == Some(live.id.as_str()))
    };
    let at = match changes.iter().position(same) {
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

/// Offboarded people leave everything: every live container of every provider that lists
/// them (declared or not, whatever its mode), each organization, and their open
/// invitations. A removal the diff already made for them gains the `offboarded` flag.
fn offboard<'a>(
    input: DiffInput<'a>,
    changes: &mut Vec<ResourceChange>,
    seen: &mut SeenLive<'a>,
    notes: &mut Vec<PlanNote>,
    blocked: &mut Vec<super::Blocked>,
) {
    let gone = &input.desired.offboarded;
    if gone.is_empty() {
        return;
    }
    for live in input.live.resources.values() {
        let leaving: Vec<&LiveMember> = live
            .members
            .iter()
            .filter(|m| m.email.as_ref().is_some_and(|e| gone.contains_key(e)))
            .collect();
        let invited: Vec<&Email> = live
            .pending_invites
            .iter()
            .filter(|e| gone.contains_key(*e))
            .collect();
        if leaving.is_empty() && invited.is_empty() {
            continue;
        }
        let declared_mode = input.desired.resources.get(&live.key).map(|d| d.mode);
        let change = change_of_live(changes, seen, live);
        if declared_mode.is_none() && change.action == ResourceAction::Update {
            // Undeclared: only these removals, addressed one by one.
            change.mode = Mode::Exact;
        }
        let organization = live.key.kind == ResourceKind::Organization;
        for have in leaving {
            let handle = have.email.as_ref().and_then(|e| gone.get(e)).cloned();
            // Never the token's own account, and nobody when teamsync could not ask whose
            // it is: that would lock teamsync (and whoever runs it) out.
            let refused = match (&live.who_am_i, organization) {
                (crate::model::WhoAmI::User(me), true) if have.user_id.as_deref() == Some(me) => Some(
                    "this is the account teamsync's token belongs to; offboarding it would lock teamsync out. Run teamsync with another account's token, or remove it in the admin console".to_string(),
                ),
                (crate::model::WhoAmI::Unknown(why), true) => Some(format!(
                    "teamsync could not ask whose account its token is ({why}), so it removes nobody from the organization; check the token, then plan again"
                )),
                _ => None,
            };
            // A removal a guard already refused (the last owner of a team) stays refused.
            let held = blocked.iter().any(|b| {
                b.change.action.is_removal()
                    && b.change.member.email == have.email
                    && (b.resource == change.key || b.resource == live.key)
            });
            if held {
                continue;
            }
            if let Some(reason) = refused {
                let mut member = member_ref(None, None, Some(have));
                member.handle = handle;
                change
                    .members
                    .retain(|m| m.member.email != have.email || !m.action.is_removal());
                blocked.push(super::Blocked {
                    resource: live.key.clone(),
                    change: MemberChange {
                        member,
                        action: MemberAction::Remove,
                        risks: vec![Risk::Removal, Risk::Offboarded],
                    },
                    reason,
                });
                continue;
            }
            match change
                .members
                .iter_mut()
                .find(|m| m.action.is_removal() && m.member.email == have.email)
            {
                Some(existing) => {
                    if !existing.risks.contains(&Risk::Offboarded) {
                        existing.risks.push(Risk::Offboarded);
                    }
                    existing.member.handle = existing.member.handle.take().or(handle);
                }
                None => {
                    // Whatever else the plan does for them here gives way to leaving.
                    change.members.retain(|m| m.member.email != have.email);
                    let mut member = member_ref(None, None, Some(have));
                    member.handle = handle;
                    let mut risks = vec![Risk::Removal, Risk::Offboarded];
                    if organization {
                        risks.push(Risk::Leaver);
                    }
                    risks.sort();
                    change.members.push(MemberChange {
                        member,
                        action: MemberAction::Remove,
                        risks,
                    });
                }
            }
        }
        for email in invited {
            change
                .members
                .retain(|m| m.member.email.as_ref() != Some(email));
            change.members.push(MemberChange {
                member: MemberRef {
                    email: Some(email.clone()),
                    handle: gone.get(email).cloned(),
                    ..MemberRef::default()
                },
                action: MemberAction::Revoke,
                risks: vec![Risk::Offboarded],
            });
        }
        sort_members(&mut change.members);
    }
    for settings in input.providers.values() {
        if settings.kind == ProviderKind::Gitbook && directory_of(input.live, settings).is_some() {
            for email in gone.keys() {
                notes.push(PlanNote {
                    resource: ResourceKey::new(
                        settings.name.clone(),
                        ResourceKind::Organization,
                        settings.organization.clone(),
                    ),
                    message: format!(
                        "{email} is offboarded; GitBook cannot list invitations, so if they were invited and never accepted, withdraw the invitation in GitBook"
                    ),
                });
            }
        }
    }
}
