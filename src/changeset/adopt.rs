//! Drift, read the other way round: the plan lists what apply would do to make live equal
//! the configuration; adopting it means changing the configuration instead, so that the
//! next plan is empty. Only `exact` groups, campaigns and teams are adopted: there every
//! member change of the plan is drift (an add undoes an out-of-band removal, a removal an
//! out-of-band add, a role change an out-of-band role). What is not drift, or not the
//! configuration's to take from live, is left as it is, with why ([`LeftAlone`]).
//! Pure: the plan, the desired and the live state in, no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    Adoption, DesiredResource, DesiredState, Joiner, LeftAlone, LiveResource, LiveState,
    MemberAction, MemberChange, MemberKey, MemberRef, Mode, Policy, ProviderSettings,
    ResourceAction, ResourceKey, ResourceKind, Risk, Role,
};

use super::{Plan, UnresolvedWhy};

/// What adopting the live state of the plan's `exact` containers writes, and what it leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Adopted {
    /// One per `exact` container with drift to write, sorted by key.
    pub adoptions: Vec<Adoption>,
    /// Every difference left as it is, sorted.
    pub left: Vec<LeftAlone>,
}

/// The adoptions a plan (made from `desired` and `live`) calls for. A live member whose
/// address `policy` does not allow is not adopted: the configuration may not name them.
pub fn adoptions(
    plan: &Plan,
    desired: &DesiredState,
    live: &LiveState,
    providers: &BTreeMap<String, ProviderSettings>,
    policy: &Policy,
) -> Adopted {
    let mut out = Adopted::default();
    let mut left = |key: &ResourceKey, why: String| {
        out.left.push(LeftAlone {
            key: key.clone(),
            why,
        })
    };
    // Each container's member changes: the plan's, and those its guards hold back. A
    // removal or a role change held back (it would leave a team without an owner) is
    // drift all the same, and adopting it is the only way to settle it; an add held back
    // (not in the organization) or waiting for an invitation is not live's to undo.
    let mut by_key: BTreeMap<&ResourceKey, (Option<&ResourceAction>, Vec<&MemberChange>)> =
        BTreeMap::new();
    for change in &plan.changes {
        let entry = by_key.entry(&change.key).or_default();
        entry.0 = Some(&change.action);
        entry.1.extend(&change.members);
    }
    let exact = |key: &ResourceKey| {
        desired
            .resources
            .get(key)
            .is_some_and(|d| d.mode == Mode::Exact && d.key.kind != ResourceKind::Organization)
    };
    for b in plan.blocked.iter().filter(|b| exact(&b.resource)) {
        if matches!(
            b.change.action,
            MemberAction::Remove | MemberAction::SetRole { .. }
        ) {
            by_key.entry(&b.resource).or_default().1.push(&b.change);
        } else {
            left(&b.resource, format!("{}: {}", b.change.member, b.reason));
        }
    }
    for w in plan.waiting.iter().filter(|w| exact(&w.resource)) {
        left(&w.resource, format!("{}: {}", w.change.member, w.reason));
    }
    for (key, (action, members)) in by_key {
        let Some(want) = desired.resources.get(key) else {
            if action == Some(&ResourceAction::Delete) {
                left(
                    key,
                    "declared nowhere and pruned: adopting it would mean declaring it; declare it by hand to keep it".into(),
                );
            }
            continue;
        };
        if want.mode != Mode::Exact {
            // Invitations and offboarding touch additive rosters; their lines come below.
            continue;
        }
        if want.key.kind == ResourceKind::Organization {
            left(
                key,
                "an organization roster: leavers and roles there are the people list's to decide, not drift to adopt".into(),
            );
            continue;
        }
        match action {
            None | Some(ResourceAction::Update) => {}
            Some(ResourceAction::Create) => {
                left(
                    key,
                    "not live: adopting would delete its declaration; remove it by hand, or let apply create it".into(),
                );
                continue;
            }
            Some(ResourceAction::Rename { from }) => {
                left(
                    key,
                    format!(
                        "live under its earlier name `{from}`: apply the rename first, then adopt its members"
                    ),
                );
                continue;
            }
            Some(ResourceAction::Delete) => continue,
        }
        let provider = providers.get(&want.key.provider).map(|p| p.kind);
        let found = live.resources.get(&want.key);
        let mut adoption = Adoption::new(want.key.clone());
        for m in members {
            if let Some(why) = not_drift(m) {
                left(key, format!("{}: {why}", m.member));
                continue;
            }
            match &m.action {
                MemberAction::Add { .. } => match declared_key(want, &m.member) {
                    Some(k) => adoption.drop.push(k),
                    None => left(key, format!("{}: not found in the configuration", m.member)),
                },
                MemberAction::Remove => match joiner(found, &m.member, provider, want.key.kind) {
                    Ok(j) if !policy.allows(&j.email) => left(
                        key,
                        format!(
                            "{}: outside policy.allowed_email_domains, so the configuration may not list them",
                            m.member
                        ),
                    ),
                    Ok(j) => adoption.join.push(j),
                    Err(why) => left(key, format!("{}: {why}", m.member)),
                },
                MemberAction::SetRole {
                    from: Some(from), ..
                } => match declared_key(want, &m.member) {
                    Some(k) => adoption.roles.push((k, *from)),
                    None => left(key, format!("{}: not found in the configuration", m.member)),
                },
                MemberAction::SetRole { from: None, .. } => left(
                    key,
                    format!(
                        "{}: live role {} is unknown to teamsync, so the configuration cannot state it",
                        m.member,
                        m.member.unknown_role.as_deref().unwrap_or("(none)")
                    ),
                ),
                MemberAction::SetData { .. } => left(
                    key,
                    format!(
                        "{}: campaign data differs; it comes from the person's `data` in people, change it there",
                        m.member
                    ),
                ),
                MemberAction::Invite { .. } | MemberAction::Revoke => {}
            }
        }
        if !adoption.is_empty() {
            out.adoptions.push(adoption);
        }
    }
    for u in &plan.unresolved {
        if u.why == UnresolvedWhy::NoEmail
            && desired
                .resources
                .get(&u.resource)
                .is_some_and(|d| d.mode == Mode::Exact)
        {
            left(
                &u.resource,
                format!(
                    "{}: live gives no email, so there is no person to add; if they belong, list them as `{{ user_id: {} }}`",
                    u.member,
                    u.member.user_id.as_deref().unwrap_or("?")
                ),
            );
        }
    }
    for want in desired.resources.values() {
        if want.mode == Mode::Exact {
            continue;
        }
        let Some(have) = live.resources.get(&want.key) else {
            continue;
        };
        let (unlisted, missing) = differences(want, have);
        if unlisted + missing > 0 {
            let mode = match want.mode {
                Mode::Additive => "additive",
                _ => "observe",
            };
            left(
                &want.key,
                format!(
                    "mode: {mode}: {unlisted} live and not listed, {missing} listed and not live; import --drift adopts exact containers only"
                ),
            );
        }
    }
    out.adoptions.sort_by(|a, b| a.key.cmp(&b.key));
    out.left.sort();
    out.left.dedup();
    out
}

/// Why a member change of an `exact` container is not drift to adopt, if it is not.
fn not_drift(m: &MemberChange) -> Option<&'static str> {
    if m.risks.contains(&Risk::Expired) {
        Some("its `until` has passed; the plan removes it (an expiry, not drift)")
    } else if m.risks.contains(&Risk::Offboarded) {
        Some("offboarded; the plan removes them everywhere")
    } else {
        None
    }
}

/// The key the configuration lists a planned member under: its email, else its user id.
fn declared_key(want: &DesiredResource, member: &MemberRef) -> Option<MemberKey> {
    member.keys().find(|k| want.members.contains_key(k))
}

/// A live member the plan would remove, as the entry adopting them adds.
fn joiner(
    live: Option<&LiveResource>,
    member: &MemberRef,
    provider: Option<crate::model::ProviderKind>,
    kind: ResourceKind,
) -> Result<Joiner, &'static str> {
    let email = member
        .email
        .as_ref()
        .ok_or("live gives no email, so there is no person to add")?;
    let have = live
        .and_then(|l| l.members.iter().find(|m| m.email.as_ref() == Some(email)))
        .ok_or("not in the live list read")?;
    if have.pending {
        return Err("a pending invitation, not a member yet");
    }
    if have.unknown_role.is_some() {
        return Err("its live role is unknown to teamsync, so the configuration cannot state it");
    }
    // The role an entry must state: the live one, where roles are managed and the
    // kind's default (GitBook's `member`) is not it already.
    let role = have.role.filter(|r| {
        provider.is_some_and(|p| Role::valid_for(p, kind).contains(r))
            && Role::managed(provider, kind, None) != Some(*r)
    });
    Ok(Joiner {
        email: email.clone(),
        role,
        data: if kind == ResourceKind::Campaign {
            have.data.clone()
        } else {
            crate::model::Data::new()
        },
    })
}

/// How many live members a container does not list, and how many it lists that are not
/// live, by email or user id.
fn differences(want: &DesiredResource, have: &LiveResource) -> (usize, usize) {
    let live: BTreeSet<MemberKey> = have.members.iter().filter_map(|m| m.key()).collect();
    let by_id: BTreeSet<MemberKey> = have
        .members
        .iter()
        .filter_map(|m| m.user_id.clone().map(MemberKey::UserId))
        .collect();
    let unlisted = have
        .members
        .iter()
        .filter(|m| {
            let email = m.email.clone().map(MemberKey::Email);
            let id = m.user_id.clone().map(MemberKey::UserId);
            ![email, id]
                .into_iter()
                .flatten()
                .any(|k| want.members.contains_key(&k))
        })
        .count();
    let missing = want
        .members
        .keys()
        .filter(|k| !live.contains(k) && !by_id.contains(k))
        .count();
    (unlisted, missing)
}

#[cfg(test)]
mod tests {
    use super::super::{DiffInput, diff};
    use super::*;
    use crate::model::{DesiredMember, Email, LiveMember, ProviderKind, ResourceKey, WhoAmI};

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn listed(who: &[(&str, Option<Role>, Option<&str>)]) -> BTreeMap<MemberKey, DesiredMember> {
        who.iter()
            .map(|(e, role, until)| {
                (
                    MemberKey::Email(email(e)),
                    DesiredMember {
                        role: *role,
                        until: until.map(|u| u.parse().unwrap()),
                        ..DesiredMember::default()
                    },
                )
            })
            .collect()
    }

    fn live_team(key: &ResourceKey, who: &[(&str, Role)]) -> LiveResource {
        LiveResource {
            key: key.clone(),
            id: key.name.clone(),
            members: who
                .iter()
                .map(|(e, r)| LiveMember {
                    email: Some(email(e)),
                    user_id: Some(e.split('@').next().unwrap().into()),
                    role: Some(*r),
                    ..LiveMember::default()
                })
                .collect(),
            pending_invites: Default::default(),
            who_am_i: WhoAmI::NotAsked,
            description: None,
            uncounted: false,
        }
    }

    #[test]
    fn only_the_drift_of_exact_containers_is_adopted() {
        let exact = ResourceKey::new("docs", ResourceKind::Team, "Writers");
        let additive = ResourceKey::new("docs", ResourceKind::Team, "Readers");
        let resource = |key: &ResourceKey, mode, members| DesiredResource {
            key: key.clone(),
            previously: vec![],
            mode,
            members,
            organization: None,
            description: None,
            max_removals: None,
        };
        let mut desired = DesiredState::default();
        desired.resources.insert(
            exact.clone(),
            resource(
                &exact,
                Mode::Exact,
                listed(&[
                    ("alice@acme.com", None, Some("2000-01-01")),
                    ("bob@acme.com", None, None),
                    ("carol@acme.com", Some(Role::Owner), None),
                ]),
            ),
        );
        desired.resources.insert(
            additive.clone(),
            resource(
                &additive,
                Mode::Additive,
                listed(&[("bob@acme.com", None, None)]),
            ),
        );
        let mut live = LiveState::default();
        live.resources.insert(
            exact.clone(),
            live_team(
                &exact,
                &[
                    ("alice@acme.com", Role::Member),
                    ("carol@acme.com", Role::Member),
                    ("erin@acme.com", Role::Owner),
                    ("eve@elsewhere.com", Role::Member),
                ],
            ),
        );
        live.resources.insert(
            additive.clone(),
            live_team(&additive, &[("dan@acme.com", Role::Member)]),
        );
        // A pending invitation that may already sit in a team (Contentful) is no member.
        if let Some(team) = live.resources.get_mut(&exact) {
            team.members.push(LiveMember {
                email: Some(email("fay@acme.com")),
                user_id: Some("fay".into()),
                pending: true,
                ..LiveMember::default()
            });
        }
        let providers: BTreeMap<String, ProviderSettings> = [(
            "docs".to_string(),
            ProviderSettings::new("docs", ProviderKind::Gitbook, "acme"),
        )]
        .into_iter()
        .collect();
        let policy = Policy {
            allowed_email_domains: ["acme.com".to_string()].into_iter().collect(),
            ..Policy::default()
        };
        let plan = diff(DiffInput {
            desired: &desired,
            live: &live,
            providers: &providers,
            policy: &policy,
            today: "2026-01-01".parse().unwrap(),
        });
        let adopted = adoptions(&plan, &desired, &live, &providers, &policy);
        assert_eq!(
            adopted.adoptions,
            vec![Adoption {
                key: exact.clone(),
                drop: vec![MemberKey::Email(email("bob@acme.com"))],
                roles: vec![(MemberKey::Email(email("carol@acme.com")), Role::Member)],
                join: vec![Joiner {
                    email: email("erin@acme.com"),
                    role: Some(Role::Owner),
                    data: Default::default(),
                }],
            }]
        );
        let left: Vec<String> = adopted
            .left
            .iter()
            .map(|l| format!("{}: {}", l.key, l.why))
            .collect();
        assert_eq!(
            left,
            vec![
                "docs.team[\"Readers\"]: mode: additive: 1 live and not listed, 1 listed and not live; import --drift adopts exact containers only",
                "docs.team[\"Writers\"]: alice@acme.com: its `until` has passed; the plan removes it (an expiry, not drift)",
                "docs.team[\"Writers\"]: eve@elsewhere.com: outside policy.allowed_email_domains, so the configuration may not list them",
                "docs.team[\"Writers\"]: fay@acme.com: a pending invitation, not a member yet",
            ]
        );
    }

    #[test]
    fn a_change_the_owner_guard_holds_back_is_drift_to_adopt() {
        // Live, the team's one owner is someone the list lacks: the plan may not remove
        // them (the team would have no owner), so only adopting settles it.
        let key = ResourceKey::new("docs", ResourceKind::Team, "Writers");
        let mut desired = DesiredState::default();
        desired.resources.insert(
            key.clone(),
            DesiredResource {
                key: key.clone(),
                previously: vec![],
                mode: Mode::Exact,
                members: listed(&[("bob@acme.com", None, None)]),
                organization: None,
                description: None,
                max_removals: None,
            },
        );
        let mut live = LiveState::default();
        live.resources.insert(
            key.clone(),
            live_team(
                &key,
                &[
                    ("alice@acme.com", Role::Owner),
                    ("bob@acme.com", Role::Member),
                ],
            ),
        );
        let providers: BTreeMap<String, ProviderSettings> = [(
            "docs".to_string(),
            ProviderSettings::new("docs", ProviderKind::Gitbook, "acme"),
        )]
        .into_iter()
        .collect();
        let policy = Policy::default();
        let plan = diff(DiffInput {
            desired: &desired,
            live: &live,
            providers: &providers,
            policy: &policy,
            today: "2026-01-01".parse().unwrap(),
        });
        assert_eq!(plan.blocked.len(), 1, "{:?}", plan.blocked);
        let adopted = adoptions(&plan, &desired, &live, &providers, &policy);
        assert_eq!(adopted.left, vec![]);
        assert_eq!(
            adopted.adoptions[0].join,
            vec![Joiner {
                email: email("alice@acme.com"),
                role: Some(Role::Owner),
                data: Default::default(),
            }]
        );
    }
}
