//! The member changes of one container: adds, removals, roles, data, and the guard that
//! never plans away access the configuration declares.

use super::*;

pub(super) fn diff_members(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    cx: &Context<'_>,
    notes: &mut Vec<PlanNote>,
    unresolved: &mut Vec<Unresolved>,
    expiring: &mut Vec<super::super::Expiring>,
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
                expiring.push(super::super::Expiring {
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
                message: super::kept_role(key, r, true),
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

/// Leaving an organization ends every group, campaign and team of it, so a roster removal
/// never takes away access a container of the same provider declares: an `exact` roster
/// (people plus `organization.members`) and a container that lists someone by an address
/// the roster does not hold would otherwise plan that person out of the organization
/// while the container keeps or adds them. Such a removal moves to `blocked`, naming the
/// container and the fix. Expired entries declare nothing; offboarded people's entries
/// are ignored before this, so leavers still leave.
pub(super) fn keep_declared_access(
    desired: &DesiredResource,
    declared: Option<&BTreeMap<&MemberKey, &ResourceKey>>,
    members: &mut Vec<MemberChange>,
    blocked: &mut Vec<super::super::Blocked>,
) {
    let Some(declared) = declared.filter(|_| desired.key.kind == ResourceKind::Organization) else {
        return;
    };
    let container = |m: &MemberChange| -> Option<&ResourceKey> {
        m.member.keys().find_map(|k| declared.get(&k).copied())
    };
    let mut kept = Vec::with_capacity(members.len());
    for m in members.drain(..) {
        match container(&m).filter(|_| m.action.is_removal()) {
            Some(key) => blocked.push(super::super::Blocked {
                resource: desired.key.clone(),
                reason: format!(
                    "{key} declares them, and leaving the organization would end that access; add them to `people` (or `organization.members`) to keep them, or take them out of {key} to let them go"
                ),
                change: m,
            }),
            None => kept.push(m),
        }
    }
    *members = kept;
}

/// teamsync never locks the admins out: it does not remove the organization membership of
/// the account its token belongs to, nor lower that account's role (and removes nobody
/// from the organization when it could not ask who that is); and it does not take a GitBook
/// team or the organization from at least one owner/admin to none unless
/// `policy.allow_no_owner`. What it refuses moves to `blocked`, with the fix.
pub(super) fn guard_access(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    provider: Option<ProviderKind>,
    policy: &Policy,
    members: &mut Vec<MemberChange>,
    blocked: &mut Vec<super::super::Blocked>,
) {
    let Some(live) = live else { return };
    let kind = desired.key.kind;
    let mut block = |members: &mut Vec<MemberChange>,
                     pick: &dyn Fn(&MemberChange) -> Option<String>| {
        let mut kept = Vec::with_capacity(members.len());
        for m in members.drain(..) {
            match pick(&m) {
                Some(reason) => blocked.push(super::super::Blocked {
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
    let Some(owner_role) = provider.and_then(|p| p.spec().owner_role(kind)) else {
        return;
    };
    // At least one owner unless `allow_no_owner`; at least `min_owners` whatever it says.
    let floor = usize::from(!policy.allow_no_owner);
    let required = policy.min_owners.map_or(floor, |n| (n as usize).max(floor));
    if required == 0 {
        return;
    }
    let owners_now: BTreeSet<String> = live
        .members
        .iter()
        .filter(|m| m.role == Some(owner_role))
        .filter_map(|m| m.key().map(|k| k.to_string()))
        .collect();
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
    let gained = members
        .iter()
        .filter(|m| match &m.action {
            MemberAction::Add { role, .. } => *role == Some(owner_role),
            MemberAction::SetRole { to, .. } => *to == owner_role,
            _ => false,
        })
        .count();
    let lost = members.iter().filter(|m| losing(m)).count();
    let after = owners_now.len().saturating_sub(lost) + gained;
    if lost == 0 || after >= required {
        return;
    }
    let what = if owner_role == Role::Owner {
        "owner"
    } else {
        "admin"
    };
    let key = desired.key.to_string();
    let by_rule = policy.min_owners.is_some_and(|n| n as usize > floor);
    block(members, &|m| {
        losing(m).then(|| {
            if by_rule {
                format!("this would leave {key} with {after} {what}{}; the rule policy.min_owners needs at least {required}: add {what}s first, or lower policy.min_owners", if after == 1 { "" } else { "s" })
            } else {
                format!("this would leave {key} with no {what}; keep at least one {what}, or set `policy.allow_no_owner: true`")
            }
        })
    });
}

/// `allowed_email_domains` holds for members the config names by `user_id` too: their
/// email is whatever the live state says it is, and one that is unknown or outside the
/// allowed domains is a plan error naming the member (a `user_id` is no side door).
pub(super) fn check_user_ids(
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
