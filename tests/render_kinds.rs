//! Every change kind in every view: each member action (add, add with a role or data,
//! remove, role raised, lowered and otherwise changed, data, invite, revoke), each
//! container action (create, rename, update, delete), removals that are leavers, expired
//! or offboarded, and the blocked, waiting, unresolved, expiring and note entries. One
//! hand-made plan, snapshotted as Markdown, text, text by person and JSON by person.

mod common;

use common::render::*;
use teamsync::changeset::{Plan, Unresolved, UnresolvedWhy};
use teamsync::model::*;
use teamsync::render;

fn every_kind() -> Plan {
    use ResourceKind::*;
    let org = key("pixiebrix", Organization, "acme");
    let writers = key("docs", Team, "Writers");
    let mut plan = plan(vec![
        resource(
            org.clone(),
            ResourceAction::Update,
            vec![
                handled(
                    "mallory@acme.com",
                    "mallory",
                    MemberAction::SetRole {
                        from: Some(Role::Member),
                        to: Role::Admin,
                    },
                    vec![Risk::PrivilegeRaised],
                ),
                handled(
                    "trent@acme.com",
                    "trent",
                    MemberAction::SetRole {
                        from: Some(Role::Admin),
                        to: Role::Member,
                    },
                    vec![Risk::PrivilegeLowered],
                ),
                handled(
                    "dev@acme.com",
                    "dev",
                    MemberAction::SetRole {
                        from: Some(Role::Member),
                        to: Role::Developer,
                    },
                    vec![],
                ),
                handled(
                    "niaj@acme.com",
                    "niaj",
                    MemberAction::Invite {
                        role: teamsync::model::InviteRole::Member,
                    },
                    vec![],
                ),
                member(
                    "olivia@acme.com",
                    MemberAction::Revoke,
                    vec![Risk::Offboarded],
                ),
                member(
                    "oscar@acme.com",
                    MemberAction::Remove,
                    vec![Risk::Leaver, Risk::Offboarded],
                ),
            ],
        ),
        resource(
            writers.clone(),
            ResourceAction::Create,
            vec![
                handled(
                    "bob@acme.com",
                    "bob",
                    add(Some(Role::Owner)),
                    vec![Risk::PrivilegeRaised],
                ),
                handled("alice@acme.com", "alice", add(Some(Role::Member)), vec![]),
            ],
        ),
        resource(
            key("pixiebrix", Group, "Sales Ops"),
            ResourceAction::Rename {
                from: "Sales".into(),
            },
            vec![
                member(
                    "oscar@acme.com",
                    MemberAction::Remove,
                    vec![Risk::Removal, Risk::Offboarded],
                ),
                member(
                    "peggy@acme.com",
                    MemberAction::Remove,
                    vec![Risk::Removal, Risk::Expired],
                ),
                handled("ivan@acme.com", "ivan", add(None), vec![]),
            ],
        ),
        resource(
            key("pixiebrix", Campaign, "Q3 Rollout"),
            ResourceAction::Update,
            vec![
                handled(
                    "ivan@acme.com",
                    "ivan",
                    MemberAction::Add {
                        role: None,
                        data: serde_json::from_value(serde_json::json!({"Unit": "Marketing"}))
                            .unwrap(),
                    },
                    vec![],
                ),
                handled(
                    "bob@acme.com",
                    "bob",
                    MemberAction::SetData {
                        data: serde_json::from_value(serde_json::json!({"Location": "Cambridge"}))
                            .unwrap(),
                        fields: vec![FieldChange {
                            field: "Location".into(),
                            before: Some("Boston".into()),
                            after: Some("Cambridge".into()),
                        }],
                    },
                    vec![],
                ),
            ],
        ),
        resource(
            key("cms", Team, "Old Project"),
            ResourceAction::Delete,
            vec![member(
                "carol@acme.com",
                MemberAction::Remove,
                vec![Risk::Removal],
            )],
        ),
    ]);
    plan.blocked = vec![held(
        writers.clone(),
        member("grace@acme.com", MemberAction::Remove, vec![Risk::Removal]),
        "grace@acme.com is the team's last owner; make someone else owner first, or set policy.allow_no_owner",
    )];
    plan.waiting = vec![held(
        writers.clone(),
        handled("niaj@acme.com", "niaj", add(Some(Role::Member)), vec![]),
        "niaj@acme.com has not accepted the invitation to the organization yet",
    )];
    plan.expiring = vec![
        expiring(
            key("pixiebrix", Group, "Sales Ops"),
            "ivan@acme.com",
            "2026-12-04",
            3,
        ),
        expiring(writers, "alice@acme.com", "2026-12-01", 0),
    ];
    plan.unresolved = vec![Unresolved {
        resource: key("pixiebrix", Group, "Support"),
        member: MemberRef {
            user_id: Some("8c1f-user".into()),
            ..MemberRef::default()
        },
        why: UnresolvedWhy::NoEmail,
        blocking: true,
    }];
    plan.notes = vec![note(
        "pixiebrix.organization[\"acme\"]",
        "x@acme.com is not in the organization and invitations are off",
    )];
    plan
}

#[test]
fn every_change_kind_in_markdown() {
    let out = render::markdown(&every_kind());
    for needle in [
        "- oscar@acme.com (offboarded) — loses: acme (pixiebrix organization, leaver), Sales Ops (pixiebrix group)",
        "- olivia@acme.com (offboarded) — loses: acme (pixiebrix organization, invitation withdrawn)",
        "- peggy@acme.com — loses: Sales Ops (pixiebrix group, expired)",
        "- carol@acme.com — loses: Old Project (cms team)",
        "- bob@acme.com — gains: Writers (docs team) as owner",
        "- mallory@acme.com — gains: acme (pixiebrix organization) member → admin",
        "**Blocked",
        "**Waiting",
        "**Unresolved members",
        "**Expiring soon",
        "**Notes",
    ] {
        assert!(out.contains(needle), "missing {needle:?}:\n{out}");
    }
    let prune = out
        .find("<code>- cms.team[\"Old Project\"]</code>")
        .unwrap();
    let create = out.find("<code>+ docs.team[\"Writers\"]</code>").unwrap();
    let campaign = out
        .find("<code>~ pixiebrix.campaign[\"Q3 Rollout\"]</code>")
        .unwrap();
    assert!(
        prune < create && create < campaign,
        "most risky first:\n{out}"
    );
    assert!(!out.contains("Not shown here"), "everything fits:\n{out}");
    insta::assert_snapshot!("every_kind_markdown", out);
}

#[test]
fn every_change_kind_in_text() {
    let out = render::text(&every_kind(), false);
    assert!(
        out.contains("waiting: docs.team[\"Writers\"] niaj@acme.com (niaj) as member"),
        "{out}"
    );
    assert!(
        out.contains(
            "expiring: ivan@acme.com: access to pixiebrix.group[\"Sales Ops\"] expires in 3 days"
        ),
        "{out}"
    );
    insta::assert_snapshot!("every_kind_text", out);
}

#[test]
fn every_change_kind_by_person() {
    let plan = every_kind();
    let out = render::text_by_person(&plan, false);
    let oscar = out.find("  oscar@acme.com\n").unwrap();
    assert!(
        out[oscar..].starts_with(
            "  oscar@acme.com\n      - pixiebrix.organization[\"acme\"]  ! leaves the organization\n      - pixiebrix.group[\"Sales Ops\"]  ! offboarded\n"
        ),
        "{out}"
    );
    insta::assert_snapshot!("every_kind_by_person_text", out);

    let json: serde_json::Value = serde_json::from_str(&render::people_json(&plan)).unwrap();
    assert_eq!(json["format_version"], teamsync::changeset::FORMAT_VERSION);
    assert_eq!(json["view"], "people");
    let people = json["people"].as_array().unwrap();
    let names: Vec<&str> = people
        .iter()
        .map(|p| p["person"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "sorted by person");
    let bob = people
        .iter()
        .find(|p| p["person"] == "bob@acme.com")
        .unwrap();
    assert_eq!(bob["raised"], true);
    assert_eq!(bob["gains"][0]["resource"]["name"], "Writers");
    assert_eq!(bob["changes"][0]["action"]["type"], "set_data");
    insta::assert_json_snapshot!("every_kind_by_person_json", json);
}

#[test]
fn an_empty_plan_in_every_view() {
    let plan = plan(vec![]);
    assert_eq!(
        render::text_by_person(&plan, false),
        "No changes. The live state matches the configuration.\n"
    );
    let json: serde_json::Value = serde_json::from_str(&render::people_json(&plan)).unwrap();
    assert_eq!(json["people"], serde_json::json!([]));
    let md = render::markdown(&plan);
    assert!(
        md.contains("**No changes.**") && !md.contains("| provider"),
        "{md}"
    );
}

#[test]
fn hostile_names_stay_inside_their_line_in_the_people_sections() {
    let plan = plan(vec![resource(
        key(
            "pixiebrix",
            ResourceKind::Group,
            "Ops</details>\n# *x* @team [y](z)",
        ),
        ResourceAction::Update,
        vec![handled(
            "dave@acme.com",
            "@everyone",
            MemberAction::Remove,
            vec![Risk::Removal],
        )],
    )]);
    let out = render::markdown(&plan);
    let line = out
        .lines()
        .find(|l| l.starts_with("- dave@acme.com"))
        .unwrap();
    assert_eq!(
        line,
        "- dave@acme.com — loses: Ops\\</details\\> \\# \\*x\\* \\@team \\[y\\](z) (pixiebrix group)"
    );
    assert_eq!(out.matches("</details>").count(), 1, "{out}");
}
