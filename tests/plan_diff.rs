//! The diff as a specification: given desired and live state, exactly these changes.

mod common;

use std::collections::BTreeSet;

use serde_json::json;
use teamsync::changeset::{ABSENT, DiffInput, Plan, diff};
use teamsync::model::*;

use common::plan::providers;

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn desired(
    provider: &str,
    kind: ResourceKind,
    name: &str,
    members: &[(&str, Option<Role>)],
) -> DesiredResource {
    DesiredResource {
        description: None,
        max_removals: None,
        key: ResourceKey::new(provider, kind, name),
        previously: vec![],
        mode: Mode::Exact,
        members: members
            .iter()
            .map(|(e, role)| {
                (
                    MemberKey::Email(email(e)),
                    DesiredMember {
                        handle: None,
                        role: *role,
                        data: Data::new(),
                        until: None,
                    },
                )
            })
            .collect(),
        organization: None,
    }
}

fn live_member(e: &str, role: Option<Role>) -> LiveMember {
    LiveMember {
        user_id: Some(format!("u-{}", e.split('@').next().unwrap()).into()),
        email: Some(email(e)),
        role,
        membership_id: Some(format!("m-{e}").into()),
        ..LiveMember::default()
    }
}

fn live(provider: &str, kind: ResourceKind, name: &str, members: Vec<LiveMember>) -> LiveResource {
    LiveResource {
        description: None,
        key: ResourceKey::new(provider, kind, name),
        id: format!("id-{name}"),
        members,
        pending_invites: BTreeSet::new(),
        who_am_i: Default::default(),
        uncounted: false,
    }
}

fn plan_of(want: Vec<DesiredResource>, have: Vec<LiveResource>) -> Plan {
    plan_with(want, have, BTreeSet::new(), Policy::default())
}

fn plan_with(
    want: Vec<DesiredResource>,
    have: Vec<LiveResource>,
    prune: BTreeSet<(String, ResourceKind)>,
    policy: Policy,
) -> Plan {
    let desired = DesiredState {
        resources: want.into_iter().map(|d| (d.key.clone(), d)).collect(),
        prune,
        offboarded: Default::default(),
    };
    let live = LiveState {
        resources: have.into_iter().map(|l| (l.key.clone(), l)).collect(),
    };
    diff(DiffInput {
        desired: &desired,
        live: &live,
        providers: &providers(),
        policy: &policy,
        today: jiff::civil::date(2026, 12, 1),
    })
}

/// (member, action type) pairs of one change, for compact assertions.
fn actions(change: &ResourceChange) -> Vec<(String, &'static str)> {
    change
        .members
        .iter()
        .map(|m| {
            let t = match m.action {
                MemberAction::Add { .. } => "add",
                MemberAction::Remove => "remove",
                MemberAction::SetRole { .. } => "role",
                MemberAction::SetData { .. } => "data",
                MemberAction::Invite { .. } => "invite",
                MemberAction::Revoke => "revoke",
            };
            (m.member.to_string(), t)
        })
        .collect()
}

#[test]
fn exact_group_adds_the_missing_and_removes_the_unlisted() {
    let plan = plan_of(
        vec![desired(
            "pb",
            ResourceKind::Group,
            "Sales",
            &[("a@acme.com", None), ("b@acme.com", None)],
        )],
        vec![live(
            "pb",
            ResourceKind::Group,
            "Sales",
            vec![
                live_member("b@acme.com", None),
                live_member("c@acme.com", None),
            ],
        )],
    );
    assert_eq!(plan.changes.len(), 1);
    let change = &plan.changes[0];
    assert_eq!(change.action, ResourceAction::Update);
    assert_eq!(change.live_id.as_deref(), Some("id-Sales"));
    assert_eq!(
        actions(change),
        vec![
            ("a@acme.com".into(), "add"),
            ("c@acme.com".into(), "remove")
        ]
    );
    let removal = &change.members[1];
    assert_eq!(
        removal.member.membership_id.as_deref(),
        Some("m-c@acme.com"),
        "removal carries the id apply needs"
    );
    assert_eq!(removal.risks, vec![Risk::Removal]);
    assert_eq!(
        plan.summary.line(),
        "Plan: 0 to create, 1 to update, 0 to delete; 1 member to add, 1 to remove."
    );
}

#[test]
fn additive_mode_never_removes() {
    let mut want = desired("pb", ResourceKind::Group, "Sales", &[("a@acme.com", None)]);
    want.mode = Mode::Additive;
    let plan = plan_of(
        vec![want],
        vec![live(
            "pb",
            ResourceKind::Group,
            "Sales",
            vec![live_member("c@acme.com", None)],
        )],
    );
    assert_eq!(
        actions(&plan.changes[0]),
        vec![("a@acme.com".into(), "add")]
    );
}

#[test]
fn a_resource_equal_to_live_state_produces_no_change() {
    let plan = plan_of(
        vec![desired(
            "pb",
            ResourceKind::Group,
            "Sales",
            &[("A@Acme.com", None)],
        )],
        vec![live(
            "pb",
            ResourceKind::Group,
            "Sales",
            vec![live_member("a@acme.com", None)],
        )],
    );
    assert!(
        !plan.has_changes(),
        "emails compare case-insensitively: {plan:?}"
    );
    assert!(plan.fingerprints.is_empty());
}

#[test]
fn previously_renames_instead_of_creating() {
    let mut want = desired(
        "docs",
        ResourceKind::Team,
        "Writers",
        &[("a@acme.com", None)],
    );
    want.previously = vec!["Authors".into()];
    let plan = plan_of(
        vec![want],
        vec![live(
            "docs",
            ResourceKind::Team,
            "Authors",
            vec![live_member("a@acme.com", Some(Role::Member))],
        )],
    );
    let change = &plan.changes[0];
    assert_eq!(
        change.action,
        ResourceAction::Rename {
            from: "Authors".into()
        }
    );
    assert!(change.members.is_empty());
    assert_eq!(
        plan.fingerprints[&ResourceKey::new("docs", ResourceKind::Team, "Writers")],
        ABSENT,
        "the new name must still be free at apply"
    );
    assert!(
        plan.fingerprints[&ResourceKey::new("docs", ResourceKind::Team, "Authors")]
            .starts_with("sha256:")
    );
}

#[test]
fn a_missing_resource_is_created_with_all_members() {
    let plan = plan_of(
        vec![desired(
            "cms",
            ResourceKind::Team,
            "Editors",
            &[("a@acme.com", None), ("b@acme.com", None)],
        )],
        vec![],
    );
    let change = &plan.changes[0];
    assert_eq!(change.action, ResourceAction::Create);
    assert_eq!(change.live_id, None);
    assert_eq!(
        actions(change),
        vec![("a@acme.com".into(), "add"), ("b@acme.com".into(), "add")]
    );
    assert_eq!(plan.summary.create, 1);
}

#[test]
fn gitbook_team_role_defaults_to_member_and_raising_to_owner_is_risky() {
    let plan = plan_of(
        vec![desired(
            "docs",
            ResourceKind::Team,
            "W",
            &[("a@acme.com", None), ("b@acme.com", Some(Role::Owner))],
        )],
        vec![live(
            "docs",
            ResourceKind::Team,
            "W",
            vec![
                live_member("a@acme.com", Some(Role::Owner)),
                live_member("b@acme.com", Some(Role::Member)),
            ],
        )],
    );
    let change = &plan.changes[0];
    assert_eq!(
        change
            .members
            .iter()
            .map(|m| m.action.clone())
            .collect::<Vec<_>>(),
        vec![
            MemberAction::SetRole {
                from: Some(Role::Owner),
                to: Role::Member
            },
            MemberAction::SetRole {
                from: Some(Role::Member),
                to: Role::Owner
            },
        ]
    );
    assert_eq!(change.members[0].risks, vec![Risk::PrivilegeLowered]);
    assert_eq!(change.members[1].risks, vec![Risk::PrivilegeRaised]);
    assert_eq!(
        plan.risks,
        vec![Risk::PrivilegeRaised, Risk::PrivilegeLowered]
    );
}

#[test]
fn organization_roster_removes_leavers_but_keeps_service_accounts_and_invites_on_request() {
    let mut want = desired(
        "pb",
        ResourceKind::Organization,
        "org",
        &[("a@acme.com", None), ("new@acme.com", Some(Role::Admin))],
    );
    want.organization = Some(OrgOptions {
        keep: [AccountKind::ServiceAccounts].into(),
        invite: true,
    });
    let mut bot = live_member("bot@acme.com", Some(Role::Admin));
    bot.account = AccountKind::ServiceAccounts;
    let plan = plan_of(
        vec![want],
        vec![live(
            "pb",
            ResourceKind::Organization,
            "org",
            vec![
                live_member("a@acme.com", Some(Role::Member)),
                bot,
                live_member("gone@acme.com", Some(Role::Member)),
            ],
        )],
    );
    let change = &plan.changes[0];
    assert_eq!(
        actions(change),
        vec![
            ("gone@acme.com".into(), "remove"),
            ("new@acme.com".into(), "invite")
        ]
    );
    assert_eq!(change.members[0].risks, vec![Risk::Removal, Risk::Leaver]);
    assert_eq!(
        change.members[1].action,
        MemberAction::Invite {
            role: teamsync::model::InviteRole::Admin
        }
    );
    assert_eq!(plan.summary.invites, 1);
}

#[test]
fn organization_without_invite_reports_missing_people_and_skips_pending_invitations() {
    let mut want = desired(
        "pb",
        ResourceKind::Organization,
        "org",
        &[("new@acme.com", None), ("pending@acme.com", None)],
    );
    want.organization = Some(OrgOptions::default());
    let mut org = live("pb", ResourceKind::Organization, "org", vec![]);
    org.pending_invites.insert(email("pending@acme.com"));
    let plan = plan_of(vec![want], vec![org]);
    assert!(!plan.has_changes());
    let notes: Vec<&str> = plan.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        notes,
        vec![
            "new@acme.com is not a member of the organization; set `invite: true` on provider `pb` to invite them",
            "pending@acme.com has a pending invitation",
        ]
    );
}

#[test]
fn campaign_data_changes_are_reported_per_field() {
    let mut want = desired("pb", ResourceKind::Campaign, "Q3", &[("a@acme.com", None)]);
    want.members.values_mut().for_each(|m| {
        m.data = [
            ("Location".to_string(), json!("Boston")),
            ("Unit".to_string(), json!("Sales")),
        ]
        .into_iter()
        .collect();
    });
    let mut have = live_member("a@acme.com", None);
    have.data = [
        ("Location".to_string(), json!("New York, NY")),
        ("Old".to_string(), json!(1)),
    ]
    .into_iter()
    .collect();
    let plan = plan_of(
        vec![want],
        vec![live("pb", ResourceKind::Campaign, "Q3", vec![have])],
    );
    let MemberAction::SetData { fields, data } = &plan.changes[0].members[0].action else {
        panic!("expected a data change: {plan:?}");
    };
    assert_eq!(data.len(), 2, "apply sends the whole new map");
    let summary: Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>)> = fields
        .iter()
        .map(|f| (f.field.clone(), f.before.clone(), f.after.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "Location".into(),
                Some(json!("New York, NY")),
                Some(json!("Boston"))
            ),
            ("Old".into(), Some(json!(1)), None),
            ("Unit".into(), None, Some(json!("Sales"))),
        ]
    );
}

#[test]
fn undeclared_resources_are_deleted_only_where_pruning_is_on() {
    let have = vec![
        live("pb", ResourceKind::Group, "Declared", vec![]),
        live("pb", ResourceKind::Group, "Stray", vec![]),
        live("pb", ResourceKind::Campaign, "Stray campaign", vec![]),
    ];
    let want = vec![desired("pb", ResourceKind::Group, "Declared", &[])];
    let untouched = plan_of(want.clone(), have.clone());
    assert!(!untouched.has_changes(), "no pruning unless asked");

    let plan = plan_with(
        want,
        have,
        [("pb".to_string(), ResourceKind::Group)].into(),
        Policy::default(),
    );
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        plan.changes[0].key,
        ResourceKey::new("pb", ResourceKind::Group, "Stray")
    );
    assert_eq!(plan.changes[0].action, ResourceAction::Delete);
    assert_eq!(plan.risks, vec![Risk::Prune]);
}

#[test]
fn a_pruned_container_lists_everyone_in_it_as_a_removal_and_counts_them() {
    let member = |e: &str| LiveMember {
        email: Some(Email::parse(e).unwrap()),
        membership_id: Some(format!("m-{e}").into()),
        ..LiveMember::default()
    };
    let have = vec![live(
        "pb",
        ResourceKind::Group,
        "Stray",
        vec![member("ana@acme.com"), member("bo@acme.com")],
    )];
    let policy = Policy {
        max_removals: Some(1),
        ..Policy::default()
    };
    let plan = plan_with(
        vec![],
        have,
        [("pb".to_string(), ResourceKind::Group)].into(),
        policy,
    );
    let removed: Vec<String> = plan.changes[0]
        .members
        .iter()
        .filter(|m| m.action.is_removal())
        .filter_map(|m| m.member.email.as_ref().map(|e| e.to_string()))
        .collect();
    assert_eq!(removed, vec!["ana@acme.com", "bo@acme.com"]);
    assert_eq!(plan.summary.remove, 2, "the summary counts them");
    assert!(
        plan.risks.contains(&Risk::OverRemovalLimit),
        "max_removals counts them: {:?}",
        plan.risks
    );
}

#[test]
fn a_renamed_resource_is_not_pruned_under_its_old_name() {
    let mut want = desired("pb", ResourceKind::Group, "New", &[]);
    want.previously = vec!["Old".into()];
    let plan = plan_with(
        vec![want],
        vec![live("pb", ResourceKind::Group, "Old", vec![])],
        [("pb".to_string(), ResourceKind::Group)].into(),
        Policy::default(),
    );
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        plan.changes[0].action,
        ResourceAction::Rename { from: "Old".into() }
    );
}

#[test]
fn members_named_by_user_id_match_live_user_ids() {
    let mut want = desired("pb", ResourceKind::Group, "G", &[]);
    want.members
        .insert(MemberKey::UserId("u-a".into()), DesiredMember::default());
    let plan = plan_of(
        vec![want],
        vec![live(
            "pb",
            ResourceKind::Group,
            "G",
            vec![live_member("a@acme.com", None)],
        )],
    );
    assert!(!plan.has_changes(), "{plan:?}");
}

#[test]
fn removals_over_the_policy_limit_are_flagged() {
    let members: Vec<LiveMember> = (0..5)
        .map(|i| live_member(&format!("p{i}@acme.com"), None))
        .collect();
    let policy = Policy {
        max_removals: Some(3),
        ..Policy::default()
    };
    let plan = plan_with(
        vec![desired("pb", ResourceKind::Group, "G", &[])],
        vec![live("pb", ResourceKind::Group, "G", members)],
        BTreeSet::new(),
        policy,
    );
    assert_eq!(plan.removals(), 5);
    assert!(plan.risks.contains(&Risk::OverRemovalLimit));
}

#[test]
fn the_same_input_gives_the_same_plan_byte_for_byte() {
    let make = || {
        plan_of(
            vec![
                desired(
                    "pb",
                    ResourceKind::Group,
                    "B",
                    &[("z@acme.com", None), ("a@acme.com", None)],
                ),
                desired(
                    "docs",
                    ResourceKind::Team,
                    "A",
                    &[("m@acme.com", Some(Role::Owner))],
                ),
            ],
            vec![live(
                "pb",
                ResourceKind::Group,
                "B",
                vec![
                    live_member("q@acme.com", None),
                    live_member("b@acme.com", None),
                ],
            )],
        )
    };
    let first = teamsync::render::json(&make());
    assert_eq!(first, teamsync::render::json(&make()));
    let plan = make();
    let keys: Vec<String> = plan.changes.iter().map(|c| c.key.to_string()).collect();
    assert_eq!(keys, vec![r#"docs.team["A"]"#, r#"pb.group["B"]"#]);
}

#[test]
fn targeting_keeps_only_the_named_resources() {
    let mut plan = plan_of(
        vec![
            desired("pb", ResourceKind::Group, "A", &[("a@acme.com", None)]),
            desired("pb", ResourceKind::Group, "B", &[("b@acme.com", None)]),
        ],
        vec![],
    );
    plan.retain_targets(&["pb.group.B".parse().unwrap()]);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].key.name, "B");
    assert_eq!(
        plan.fingerprints
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec![r#"pb.group["B"]"#]
    );
    assert_eq!(plan.summary.create, 1);
}

#[test]
fn an_offboarded_member_of_a_renamed_team_is_removed_in_the_rename_and_the_last_owner_stays() {
    // docs team "Old" is renamed to "New"; b leaves. c, the only owner, leaves too, which
    // the no-owner guard refuses: offboarding must not slip that removal back in.
    let mut want = desired("docs", ResourceKind::Team, "New", &[("a@acme.com", None)]);
    want.previously = vec!["Old".into()];
    let have = live(
        "docs",
        ResourceKind::Team,
        "Old",
        vec![
            live_member("a@acme.com", Some(Role::Member)),
            live_member("b@acme.com", Some(Role::Member)),
            live_member("c@acme.com", Some(Role::Owner)),
        ],
    );
    let desired = DesiredState {
        resources: [(want.key.clone(), want)].into(),
        prune: BTreeSet::new(),
        offboarded: [
            (email("b@acme.com"), "b".to_string()),
            (email("c@acme.com"), "c".to_string()),
        ]
        .into(),
    };
    let live = LiveState {
        resources: [(have.key.clone(), have)].into(),
    };
    let plan = diff(DiffInput {
        desired: &desired,
        live: &live,
        providers: &providers(),
        policy: &Policy::default(),
        today: jiff::civil::date(2026, 12, 1),
    });
    assert_eq!(
        plan.changes.len(),
        1,
        "one change for the one live team: {:#?}",
        plan.changes
    );
    let change = &plan.changes[0];
    assert_eq!(change.key.name, "New");
    let removed: Vec<(String, Vec<Risk>)> = change
        .members
        .iter()
        .filter(|m| m.action.is_removal())
        .map(|m| (m.member.to_string(), m.risks.clone()))
        .collect();
    assert_eq!(
        removed,
        vec![(
            "b@acme.com".to_string(),
            vec![Risk::Removal, Risk::Offboarded]
        )]
    );
    assert_eq!(plan.blocked.len(), 1, "{:#?}", plan.blocked);
    assert_eq!(plan.blocked[0].change.member.to_string(), "c@acme.com");
}
