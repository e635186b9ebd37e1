//! The three renderings of one plan: what a terminal, a pull request and a machine see.

use std::collections::BTreeMap;

use teamsync::changeset::{FORMAT_VERSION, Plan, PlanNote, Summary};
use teamsync::model::*;
use teamsync::render;

fn member(email: &str, action: MemberAction, risks: Vec<Risk>) -> MemberChange {
    MemberChange {
        member: MemberRef {
            email: Some(Email::parse(email).unwrap()),
            ..MemberRef::default()
        },
        action,
        risks,
    }
}

fn sample_plan() -> Plan {
    let changes = vec![
        ResourceChange {
            description: None,
            key: ResourceKey::new("docs", ResourceKind::Team, "Writers"),
            action: ResourceAction::Create,
            live_id: None,
            mode: Mode::Exact,
            members: vec![
                member(
                    "alice@acme.com",
                    MemberAction::Add {
                        role: Some(Role::Member),
                        data: Data::new(),
                    },
                    vec![],
                ),
                member(
                    "bob@acme.com",
                    MemberAction::Add {
                        role: Some(Role::Owner),
                        data: Data::new(),
                    },
                    vec![Risk::PrivilegeRaised],
                ),
            ],
            risks: vec![Risk::PrivilegeRaised],
        },
        ResourceChange {
            description: None,
            key: ResourceKey::new("pixiebrix", ResourceKind::Group, "Sales Ops"),
            action: ResourceAction::Rename {
                from: "Sales".into(),
            },
            live_id: Some("g-1".into()),
            mode: Mode::Exact,
            members: vec![member(
                "dave@acme.com",
                MemberAction::Remove,
                vec![Risk::Removal],
            )],
            risks: vec![Risk::Removal],
        },
    ];
    Plan {
        format_version: FORMAT_VERSION.into(),
        teamsync_version: "0.0.0-test".into(),
        summary: Summary::of(&changes),
        changes,
        fingerprints: BTreeMap::new(),
        notes: vec![PlanNote {
            resource: ResourceKey::new("pixiebrix", ResourceKind::Organization, "o"),
            message: "x@acme.com is not a member".into(),
        }],
        risks: vec![Risk::Removal, Risk::PrivilegeRaised],
        unresolved: vec![teamsync::changeset::Unresolved {
            resource: ResourceKey::new("pb", ResourceKind::Group, "Support"),
            member: MemberRef {
                user_id: Some("8c1f-user".into()),
                ..MemberRef::default()
            },
            why: teamsync::changeset::UnresolvedWhy::NoEmail,
            blocking: true,
        }],
        binding: teamsync::changeset::Binding::default(),
        attention: vec![],
        over_budget: vec![],
        allowed_removals: vec![],
        violations: vec![],
        blocked: vec![],
        waiting: vec![],
        expiring: vec![],
        read_basis: Default::default(),
        untouched: Default::default(),
    }
}

#[test]
fn text_shows_terraform_like_lines_and_the_summary_last() {
    let out = render::text(&sample_plan(), false);
    assert!(out.contains("  + team \"Writers\" (docs)\n"), "{out}");
    assert!(
        out.contains("      + bob@acme.com as owner  ! raised to owner/admin\n"),
        "{out}"
    );
    assert!(
        out.contains("  ~ group \"Sales Ops\" (pixiebrix)\n"),
        "{out}"
    );
    assert!(out.contains("will be renamed from \"Sales\""), "{out}");
    assert!(out.contains("      - dave@acme.com  ! removal\n"), "{out}");
    assert!(
        out.ends_with(
            "Plan: 1 to create, 1 to update, 0 to delete; 2 members to add, 1 to remove.\n"
        ),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no escape codes without colour");
}

#[test]
fn text_colours_only_when_asked() {
    let out = render::text(&sample_plan(), true);
    assert!(out.contains("\u{1b}[32m+\u{1b}[0m"), "green plus: {out:?}");
    assert!(out.contains("\u{1b}[31m-\u{1b}[0m"), "red minus: {out:?}");
}

#[test]
fn an_empty_plan_says_so() {
    let plan = Plan {
        changes: vec![],
        summary: Summary::default(),
        risks: vec![],
        notes: vec![],
        unresolved: vec![],
        ..sample_plan()
    };
    assert_eq!(
        render::text(&plan, false),
        "No changes. The live state matches the configuration.\n"
    );
    assert!(render::markdown(&plan).contains("**No changes.**"));
}

#[test]
fn markdown_puts_the_summary_first_then_people_then_folded_detail() {
    let out = render::markdown(&sample_plan());
    let first_para = out.lines().find(|l| l.starts_with("**")).unwrap();
    assert_eq!(
        first_para,
        "**Plan: 1 to create, 1 to update, 0 to delete; 2 members to add, 1 to remove.**"
    );
    assert!(
        out.contains("> [!WARNING]\n> Risky changes: removal, raised to owner/admin."),
        "{out}"
    );
    assert!(
        out.contains("- dave@acme.com — loses: Sales Ops (pixiebrix group)\n"),
        "{out}"
    );
    assert!(
        out.contains("- bob@acme.com — gains: Writers (docs team) as owner\n"),
        "{out}"
    );
    let removed = out.find("#### Access removed").unwrap();
    let detail = out.find("#### Changes by resource").unwrap();
    assert!(removed < detail, "{out}");
    assert!(out.contains("<details><summary>⚠️ <code>~ pixiebrix.group[\"Sales Ops\"]</code> will be renamed from \"Sales\" (−1)</summary>"), "{out}");
    assert!(
        out.contains("```diff\n- dave@acme.com   ! removal\n```"),
        "{out}"
    );
    assert!(!out.contains("<details open"), "detail is folded: {out}");
}

#[test]
fn markdown_keeps_every_removal_and_drops_detail_to_fit_the_budget_and_says_so() {
    let mut plan = sample_plan();
    plan.changes[1].members = (0..5000)
        .map(|i| {
            member(
                &format!("person{i:05}@acme.com"),
                MemberAction::Remove,
                vec![Risk::Removal],
            )
        })
        .collect();
    plan.summary = Summary::of(&plan.changes);
    let out = render::markdown(&plan);
    assert!(out.len() <= render::MARKDOWN_BUDGET, "{} bytes", out.len());
    assert!(
        out.contains("5000 to remove"),
        "the summary still counts everything"
    );
    assert!(
        out.contains("**Not shown here**") && out.contains("of 5002 member changes"),
        "{out}"
    );

    let tiny = render::markdown_with_budget(&plan, 1_500);
    assert!(tiny.len() <= 1_500, "{tiny}");
    assert!(
        tiny.contains("more people (") || tiny.contains("people who lose access"),
        "{tiny}"
    );
}

#[test]
fn markdown_cannot_be_broken_out_of_by_hostile_names() {
    let mut plan = sample_plan();
    plan.changes[0].key.name = "<img src=x> ```".into();
    plan.changes[0].members[0].member.handle = Some("```\n# injected".into());
    let out = render::markdown(&plan);
    assert!(out.contains("&lt;img src=x&gt;"), "{out}");
    assert!(
        out.contains("````diff"),
        "the fence grows past any backtick run: {out}"
    );
}

#[test]
fn json_is_the_versioned_plan_and_reads_back_identically() {
    let plan = sample_plan();
    let out = render::json(&plan);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["format_version"], "3");
    assert_eq!(value["changes"][0]["action"]["type"], "create");
    assert_eq!(
        value["changes"][1]["members"][0]["action"]["type"],
        "remove"
    );
    assert_eq!(value["summary"]["remove"], 1);
    let back: Plan = serde_json::from_str(&out).unwrap();
    assert_eq!(back, plan);
}
