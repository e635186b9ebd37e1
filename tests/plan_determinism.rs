//! The plan does not depend on the order the APIs list things in: for random desired and
//! live states of every provider's kinds (renames, near-names, pruning, members known
//! only by user id, service accounts, roles, campaign data, pending invitations), listing
//! every live container's members in another order gives the same plan, byte for byte, in
//! every view. And pruning spends the removal budget like any other removal, whatever the
//! numbers.

use std::collections::BTreeSet;

use proptest::prelude::*;
use teamsync::changeset::{DiffInput, Plan, diff};
use teamsync::model::*;

mod common;
use common::plan::{campaign_data, email, providers};
use teamsync::render;

const PEOPLE: usize = 8;

fn cases(default: u32) -> u32 {
    std::env::var("TEAMSYNC_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Containers a generated world may hold: (provider, kind, declared name, live name). A
/// live name that differs is found through `previously` (a rename) or only by its case (a
/// near-name the diff refuses to duplicate); `Stray` is never declared, so it is pruned
/// when its kind is.
const SLOTS: [(&str, ResourceKind, &str, &str); 9] = [
    ("pb", ResourceKind::Organization, "org", "org"),
    ("pb", ResourceKind::Group, "Sales", "Sales"),
    ("pb", ResourceKind::Group, "Support", "Help desk"),
    ("pb", ResourceKind::Group, "Ops", "ops"),
    ("pb", ResourceKind::Group, "Stray", "Stray"),
    ("pb", ResourceKind::Campaign, "Q3", "Q3"),
    ("docs", ResourceKind::Team, "Writers", "Writers"),
    ("docs", ResourceKind::Team, "Stray", "Stray"),
    ("cms", ResourceKind::Team, "Editors", "Editors"),
];

#[derive(Clone, Debug)]
struct Person {
    live: bool,
    want: bool,
    /// Listed without an email (only the user id): unresolved.
    hidden: bool,
    /// Declared by user id rather than email.
    by_id: bool,
    role: u8,
    data: u8,
    account: u8,
    invited: bool,
}

#[derive(Clone, Debug)]
struct Slot {
    exists: bool,
    declared: bool,
    additive: bool,
    people: Vec<Person>,
}

#[derive(Clone, Debug)]
struct World {
    slots: Vec<Slot>,
    prune: [bool; 3],
    max_removals: Option<u64>,
    allow_no_owner: bool,
    invite: bool,
    who_am_i: u8,
}

fn person() -> impl Strategy<Value = Person> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.15),
        0u8..6,
        0u8..3,
        0u8..4,
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(live, want, hidden, by_id, role, data, account, invited)| Person {
                live,
                want,
                hidden,
                by_id,
                role,
                data,
                account,
                invited,
            },
        )
}

fn slot() -> impl Strategy<Value = Slot> {
    (
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.2),
        prop::collection::vec(person(), PEOPLE),
    )
        .prop_map(|(exists, declared, additive, people)| Slot {
            exists,
            declared,
            additive,
            people,
        })
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(slot(), SLOTS.len()),
        any::<[bool; 3]>(),
        prop::option::of(0u64..12),
        any::<bool>(),
        any::<bool>(),
        0u8..3,
    )
        .prop_map(
            |(slots, prune, max_removals, allow_no_owner, invite, who_am_i)| World {
                slots,
                prune,
                max_removals,
                allow_no_owner,
                invite,
                who_am_i,
            },
        )
}

fn role(slot: usize, n: u8, optional: bool) -> Option<Role> {
    let (p, kind, _, _) = SLOTS[slot];
    let roles = Role::valid_for(providers()[p].kind, kind);
    match roles.len() {
        0 => None,
        len if optional && n as usize >= len => None,
        len => Some(roles[n as usize % len]),
    }
}

fn data(slot: usize, n: u8) -> Data {
    if SLOTS[slot].1 != ResourceKind::Campaign {
        return Data::new();
    }
    campaign_data(n)
}

fn live_member(slot: usize, i: usize, p: &Person) -> LiveMember {
    let kind = SLOTS[slot].1;
    LiveMember {
        user_id: Some(format!("u{i}").into()),
        email: (!p.hidden).then(|| email(i)),
        name: Some(format!("P{i}").into()),
        role: role(slot, p.role, false),
        data: data(slot, p.data),
        account: match (kind, p.account) {
            (ResourceKind::Organization, 0) => AccountKind::ServiceAccounts,
            (ResourceKind::Organization, 1) => AccountKind::DeploymentKeys,
            _ => AccountKind::Human,
        },
        membership_id: Some(format!("m{slot}-{i}").into()),
        pending: false,
        unknown_role: None,
        unknown_status: None,
    }
}

fn live_state(w: &World) -> LiveState {
    let mut live = LiveState::default();
    for (slot, spec) in w.slots.iter().enumerate().filter(|(_, s)| s.exists) {
        let (provider, kind, _, live_name) = SLOTS[slot];
        let key = ResourceKey::new(provider, kind, live_name);
        let resource = LiveResource {
            description: None,
            uncounted: false,
            key: key.clone(),
            id: format!("id-{slot}"),
            members: (0..PEOPLE)
                .filter(|i| spec.people[*i].live)
                .map(|i| live_member(slot, i, &spec.people[i]))
                .collect(),
            pending_invites: (0..PEOPLE)
                .filter(|i| spec.people[*i].invited && !spec.people[*i].live)
                .map(email)
                .collect(),
            who_am_i: match (kind, w.who_am_i) {
                (ResourceKind::Organization, 0) => WhoAmI::User("u0".into()),
                (ResourceKind::Organization, 1) => WhoAmI::Unknown("timed out".into()),
                _ => WhoAmI::NotAsked,
            },
        };
        live.resources.insert(key, resource);
    }
    live
}

fn desired_state(w: &World) -> DesiredState {
    let mut desired = DesiredState::default();
    for (slot, spec) in w.slots.iter().enumerate() {
        let (provider, kind, name, live_name) = SLOTS[slot];
        if !spec.declared || name == "Stray" {
            continue;
        }
        let key = ResourceKey::new(provider, kind, name);
        let renamed = live_name != name && !live_name.eq_ignore_ascii_case(name);
        let members = (0..PEOPLE)
            .filter(|i| spec.people[*i].want)
            .map(|i| {
                let p = &spec.people[i];
                let member = if p.by_id {
                    MemberKey::UserId(format!("u{i}").into())
                } else {
                    MemberKey::Email(email(i))
                };
                let want = DesiredMember {
                    handle: Some(format!("p{i}")),
                    role: role(slot, p.role, true),
                    data: data(slot, p.data),
                    until: None,
                };
                (member, want)
            })
            .collect();
        let resource = DesiredResource {
            description: None,
            max_removals: None,
            key: key.clone(),
            previously: if renamed {
                vec![live_name.to_string()]
            } else {
                vec![]
            },
            mode: if spec.additive {
                Mode::Additive
            } else {
                Mode::Exact
            },
            members,
            organization: (kind == ResourceKind::Organization).then(|| OrgOptions {
                keep: [AccountKind::ServiceAccounts].into(),
                invite: w.invite,
            }),
        };
        desired.resources.insert(key, resource);
    }
    let prunable = [
        ("pb", ResourceKind::Group),
        ("pb", ResourceKind::Campaign),
        ("docs", ResourceKind::Team),
    ];
    desired.prune = prunable
        .iter()
        .zip(w.prune)
        .filter(|(_, on)| *on)
        .map(|((p, k), _)| (p.to_string(), *k))
        .collect();
    desired
}

fn policy(w: &World) -> Policy {
    Policy {
        allowed_email_domains: BTreeSet::from(["acme.com".to_string()]),
        max_removals: w.max_removals,
        allow_no_owner: w.allow_no_owner,
        ..Policy::default()
    }
}

fn plan(desired: &DesiredState, live: &LiveState, policy: &Policy) -> Plan {
    diff(DiffInput {
        desired,
        live,
        providers: &providers(),
        policy,
        today: jiff::civil::date(2026, 12, 1),
    })
}

/// A world and its live state twice: once as generated, once with every container's
/// member list in a proptest-chosen order.
fn world_and_shuffled() -> impl Strategy<Value = (World, LiveState, LiveState)> {
    world().prop_flat_map(|w| {
        let live = live_state(&w);
        let shuffled: Vec<_> = live
            .resources
            .values()
            .map(|r| Just(r.members.clone()).prop_shuffle())
            .collect();
        (Just(w), Just(live), shuffled).prop_map(|(w, live, members)| {
            let mut other = live.clone();
            for (resource, members) in other.resources.values_mut().zip(members) {
                resource.members = members;
            }
            (w, live, other)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn shuffled_live_answers_give_the_same_plan_byte_for_byte((w, live, shuffled) in world_and_shuffled()) {
        let desired = desired_state(&w);
        let policy = policy(&w);
        let a = plan(&desired, &live, &policy);
        let b = plan(&desired, &shuffled, &policy);
        prop_assert_eq!(render::json(&a), render::json(&b));
        prop_assert_eq!(render::text(&a, false), render::text(&b, false));
        prop_assert_eq!(render::markdown(&a), render::markdown(&b));
        prop_assert_eq!(&a.violations, &b.violations, "plan errors too");
    }

    #[test]
    fn pruned_members_count_against_max_removals(sizes in prop::collection::vec(0usize..6, 1..4), max in 0u64..12) {
        // Nothing is declared and every group is pruned: each member is a removal.
        let mut live = LiveState::default();
        for (g, size) in sizes.iter().enumerate() {
            let key = ResourceKey::new("pb", ResourceKind::Group, format!("Stray {g}"));
            let members = (0..*size).map(|i| LiveMember {
                email: Some(email(i)),
                membership_id: Some(format!("m{g}-{i}").into()),
                ..LiveMember::default()
            }).collect();
            live.resources.insert(key.clone(), LiveResource {
                description: None,
                key,
                id: format!("g{g}"),
                members,
                pending_invites: BTreeSet::new(),
                who_am_i: WhoAmI::NotAsked,
                uncounted: false,
            });
        }
        let desired = DesiredState {
            prune: [("pb".to_string(), ResourceKind::Group)].into(),
            ..DesiredState::default()
        };
        let policy = Policy { max_removals: Some(max), ..Policy::default() };
        let p = plan(&desired, &live, &policy);
        let total: usize = sizes.iter().sum();
        prop_assert_eq!(p.removals(), total);
        prop_assert_eq!(p.summary.delete, sizes.len());
        prop_assert_eq!(
            p.risks.contains(&Risk::OverRemovalLimit),
            total as u64 > max,
            "{} removals against a budget of {}", total, max
        );
    }
}
