//! Properties of the diff over random desired and live states, for every provider's kinds:
//! applying a plan's changes to the live state yields a state that plans to nothing, a
//! declared member is never removed (nor made to leave the organization of a container
//! that declares them), additive mode never removes, kept account kinds never leave. (End-to-end convergence through the sandbox is tested separately.)

use std::collections::BTreeSet;

use proptest::prelude::*;
use teamsync::changeset::{DiffInput, Plan, diff};
use teamsync::model::*;

mod common;
use common::plan::{campaign_data, email, providers};

const PEOPLE: usize = 10;

/// The resources a generated config may declare: (provider, kind, name).
const SLOTS: [(&str, ResourceKind, &str); 5] = [
    ("pb", ResourceKind::Organization, "org"),
    ("pb", ResourceKind::Group, "G"),
    ("pb", ResourceKind::Campaign, "C"),
    ("docs", ResourceKind::Team, "T"),
    ("cms", ResourceKind::Team, "T"),
];

fn valid_roles(slot: usize) -> &'static [Role] {
    let (p, kind, _) = SLOTS[slot];
    Role::valid_for(providers()[p].kind, kind)
}

#[derive(Clone, Debug)]
struct MemberSpec {
    present: bool,
    role: u8,
    data: u8,
    account: u8,
}

#[derive(Clone, Debug)]
struct SlotSpec {
    declared: bool,
    renamed: bool,
    additive: bool,
    exists_live: bool,
    invite: bool,
    keep_service: bool,
    desired: Vec<MemberSpec>,
    live: Vec<MemberSpec>,
}

fn member_spec() -> impl Strategy<Value = MemberSpec> {
    (any::<bool>(), 0u8..6, 0u8..3, 0u8..4).prop_map(|(present, role, data, account)| MemberSpec {
        present,
        role,
        data,
        account,
    })
}

fn slot_spec() -> impl Strategy<Value = SlotSpec> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        prop::collection::vec(member_spec(), PEOPLE),
        prop::collection::vec(member_spec(), PEOPLE),
    )
        .prop_map(
            |((declared, renamed, additive, exists_live, invite, keep_service), desired, live)| {
                SlotSpec {
                    declared,
                    renamed,
                    additive,
                    exists_live,
                    invite,
                    keep_service,
                    desired,
                    live,
                }
            },
        )
}

fn pick_role(slot: usize, n: u8, optional: bool) -> Option<Role> {
    let roles = valid_roles(slot);
    if roles.is_empty() || (optional && n as usize >= roles.len()) {
        return if roles.is_empty() || optional {
            None
        } else {
            Some(roles[0])
        };
    }
    Some(roles[n as usize % roles.len()])
}

fn pick_data(slot: usize, n: u8) -> Data {
    if SLOTS[slot].1 != ResourceKind::Campaign {
        return Data::new();
    }
    campaign_data(n)
}

fn build(specs: &[SlotSpec]) -> (DesiredState, LiveState) {
    let mut desired = DesiredState::default();
    let mut live = LiveState::default();
    for (slot, spec) in specs.iter().enumerate() {
        let (provider, kind, name) = SLOTS[slot];
        let renamable = kind != ResourceKind::Organization && spec.renamed;
        let live_name = if renamable {
            format!("{name}-old")
        } else {
            name.to_string()
        };
        if spec.exists_live {
            let members = spec
                .live
                .iter()
                .enumerate()
                .filter(|(_, m)| m.present)
                .map(|(i, m)| LiveMember {
                    user_id: Some(format!("u{i}").into()),
                    email: Some(email(i)),
                    name: None,
                    role: pick_role(slot, m.role, false),
                    data: pick_data(slot, m.data),
                    account: match (kind, m.account) {
                        (ResourceKind::Organization, 0) => AccountKind::ServiceAccounts,
                        (ResourceKind::Organization, 1) => AccountKind::DeploymentKeys,
                        _ => AccountKind::Human,
                    },
                    membership_id: Some(format!("m{i}").into()),
                    pending: false,
                    unknown_role: None,
                    unknown_status: None,
                })
                .collect();
            let key = ResourceKey::new(provider, kind, live_name.clone());
            live.resources.insert(
                key.clone(),
                LiveResource {
                    description: None,
                    key,
                    id: format!("id-{slot}"),
                    members,
                    pending_invites: BTreeSet::new(),
                    who_am_i: Default::default(),
                    uncounted: false,
                },
            );
        }
        if spec.declared {
            let key = ResourceKey::new(provider, kind, name);
            let members = spec
                .desired
                .iter()
                .enumerate()
                .filter(|(_, m)| m.present)
                .map(|(i, m)| {
                    let want = DesiredMember {
                        handle: Some(format!("p{i}")),
                        role: pick_role(slot, m.role, true),
                        data: pick_data(slot, m.data),
                        until: None,
                    };
                    (MemberKey::Email(email(i)), want)
                })
                .collect();
            let organization = (kind == ResourceKind::Organization).then(|| OrgOptions {
                keep: if spec.keep_service {
                    [AccountKind::ServiceAccounts].into()
                } else {
                    BTreeSet::new()
                },
                invite: spec.invite,
            });
            desired.resources.insert(
                key.clone(),
                DesiredResource {
                    description: None,
                    max_removals: None,
                    key,
                    previously: if renamable { vec![live_name] } else { vec![] },
                    mode: if spec.additive {
                        Mode::Additive
                    } else {
                        Mode::Exact
                    },
                    members,
                    organization,
                },
            );
        }
    }
    (desired, live)
}

fn plan(desired: &DesiredState, live: &LiveState) -> Plan {
    diff(DiffInput {
        desired,
        live,
        providers: &providers(),
        policy: &Policy::default(),
        today: jiff::civil::date(2026, 12, 1),
    })
}

/// What a faithful provider does with a plan, on the model.
fn simulate(plan: &Plan, live: &mut LiveState) {
    for change in &plan.changes {
        match &change.action {
            ResourceAction::Create => {
                live.resources.insert(
                    change.key.clone(),
                    LiveResource {
                        description: None,
                        key: change.key.clone(),
                        id: "new".into(),
                        members: vec![],
                        pending_invites: BTreeSet::new(),
                        who_am_i: Default::default(),
                        uncounted: false,
                    },
                );
            }
            ResourceAction::Rename { from } => {
                let old = ResourceKey {
                    name: from.clone(),
                    ..change.key.clone()
                };
                let mut r = live
                    .resources
                    .remove(&old)
                    .expect("renamed resource exists");
                r.key = change.key.clone();
                live.resources.insert(change.key.clone(), r);
            }
            ResourceAction::Delete => {
                live.resources.remove(&change.key);
                continue;
            }
            ResourceAction::Update => {}
        }
        let r = live
            .resources
            .get_mut(&change.key)
            .expect("resource exists after container step");
        for m in &change.members {
            let same = |l: &LiveMember| l.email == m.member.email;
            match &m.action {
                MemberAction::Add { role, data } => r.members.push(LiveMember {
                    user_id: m.member.user_id.clone(),
                    email: m.member.email.clone(),
                    role: *role,
                    data: data.clone(),
                    ..LiveMember::default()
                }),
                MemberAction::Remove => r.members.retain(|l| !same(l)),
                MemberAction::SetRole { to, .. } => r
                    .members
                    .iter_mut()
                    .filter(|l| same(l))
                    .for_each(|l| l.role = Some(*to)),
                MemberAction::SetData { data, .. } => r
                    .members
                    .iter_mut()
                    .filter(|l| same(l))
                    .for_each(|l| l.data = data.clone()),
                MemberAction::Invite { .. } => {
                    r.pending_invites
                        .insert(m.member.email.clone().expect("invites carry an email"));
                }
                MemberAction::Revoke => {
                    if let Some(e) = &m.member.email {
                        r.pending_invites.remove(e);
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("TEAMSYNC_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn applying_a_plan_converges_to_a_plan_with_no_changes(specs in prop::collection::vec(slot_spec(), SLOTS.len())) {
        let (desired, mut live) = build(&specs);
        let first = plan(&desired, &live);
        simulate(&first, &mut live);
        let second = plan(&desired, &live);
        prop_assert!(!second.has_changes(), "first: {:#?}\nsecond: {:#?}", first.changes, second.changes);
    }

    #[test]
    fn declared_members_kept_accounts_and_additive_resources_are_never_removed(specs in prop::collection::vec(slot_spec(), SLOTS.len())) {
        let (desired, live) = build(&specs);
        let p = plan(&desired, &live);
        for change in &p.changes {
            let Some(want) = desired.resources.get(&change.key) else { continue };
            for m in change.members.iter().filter(|m| m.action.is_removal()) {
                let email = m.member.email.clone().unwrap();
                prop_assert!(!want.members.contains_key(&MemberKey::Email(email.clone())), "declared {email} removed");
                prop_assert_eq!(want.mode, Mode::Exact, "additive resource removes {}", email);
                // Leaving the organization ends its containers: nobody one declares leaves.
                if change.key.kind == ResourceKind::Organization {
                    let declared_in = desired.resources.values().find(|r| {
                        r.key.provider == change.key.provider
                            && r.key.kind != ResourceKind::Organization
                            && r.members.contains_key(&MemberKey::Email(email.clone()))
                    });
                    prop_assert!(declared_in.is_none(), "{} leaves the organization while {:?} declares them", email, declared_in.map(|r| &r.key));
                }
                if let Some(org) = &want.organization {
                    let have = live.resources.values().flat_map(|r| &r.members).find(|l| l.email.as_ref() == Some(&email)).unwrap();
                    prop_assert!(!org.keep.contains(&have.account), "kept account {} removed", email);
                }
            }
        }
    }
}
