//! PixieBrix end to end through the binary and the embedded sandbox: every change kind in
//! a plan, apply, and a second plan with nothing left to do.

mod common;

use common::*;
use serde_json::json;

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";

fn repo() -> Repo {
    let root = root_config(
        &format!(
            "  pb:\n    kind: pixiebrix\n    organization: {ORG}\n    endpoint: sandbox:state.json\n"
        ),
        "people.yaml, pb.yaml",
    );
    let people = "people:\n  alice: {email: alice@acme.com, data: {Location: NYC}}\n  bob: {email: bob@acme.com, data: {Location: Boston}}\n  carol: {email: carol@acme.com}\n  newbie: {email: newbie@acme.com}\n";
    let pb = "organization:\n  roster: exact\n  keep: [service_accounts]\n  invite: true\n  members:\n    - {person: carol, role: admin}\n\
groups:\n  - name: Sales Ops\n    previously: [Sales]\n    members: [alice, bob]\n  - name: Support\n    members: [carol]\n  - name: Everyone\n    mode: additive\n    members: [alice]\n\
campaigns:\n  - name: Q3\n    members:\n      - alice\n      - {person: bob, data: {Location: Cambridge}}\n  - name: Q4\n    members: [carol]\n";
    let repo = Repo::new(&[
        ("teamsync.yaml", &root),
        ("people.yaml", people),
        ("pb.yaml", pb),
    ]);
    let mut org = pixiebrix_org(
        ORG,
        &[
            ("alice@acme.com", 1, "human"),
            ("bob@acme.com", 1, "human"),
            ("carol@acme.com", 1, "human"),
            ("leaver@acme.com", 1, "human"),
            ("bot@acme.com", 2, "service"),
        ],
    );
    org["groups"] = json!([
        {"id": uuid(900), "name": "Sales", "members": [{"id": uuid(901), "email": "alice@acme.com"}, {"id": uuid(902), "email": "leaver@acme.com"}]},
        {"id": uuid(910), "name": "Everyone", "members": [{"id": uuid(911), "email": "bob@acme.com"}]},
        {"id": uuid(920), "name": "Support", "members": [{"id": uuid(921), "email": "carol@acme.com"}]}
    ]);
    org["campaigns"] = json!([
        {"id": uuid(930), "name": "Q3", "members": [
            {"id": uuid(931), "email": "alice@acme.com", "data": {"Location": "NYC"}},
            {"id": uuid(932), "email": "bob@acme.com", "data": {"Location": "Boston"}},
            {"id": uuid(933), "email": "leaver@acme.com", "data": {}}
        ]}
    ]);
    repo.write_json(
        "state.json",
        &json!({"pixiebrix": {"organizations": [org]}}),
    );
    repo
}

#[test]
fn plan_shows_every_pixiebrix_change_kind() {
    let repo = repo();
    let plan = repo.plan_json(2);
    assert_eq!(
        resource_actions(&plan),
        vec![
            (format!("pb.organization[{ORG}]"), "update".to_string()),
            ("pb.group[Everyone]".into(), "update".into()),
            ("pb.group[Sales Ops]".into(), "rename".into()),
            ("pb.campaign[Q3]".into(), "update".into()),
            ("pb.campaign[Q4]".into(), "create".into()),
        ]
    );
    let org = format!("pb.organization[{ORG}]");
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        member_changes(&plan),
        vec![
            s("pb.campaign[Q3]", "bob@acme.com", "set_data"),
            s("pb.campaign[Q3]", "leaver@acme.com", "remove"),
            s("pb.campaign[Q4]", "carol@acme.com", "add"),
            s("pb.group[Everyone]", "alice@acme.com", "add"),
            s("pb.group[Sales Ops]", "bob@acme.com", "add"),
            s("pb.group[Sales Ops]", "leaver@acme.com", "remove"),
            s(&org, "carol@acme.com", "set_role"),
            s(&org, "leaver@acme.com", "remove"),
            s(&org, "newbie@acme.com", "invite"),
        ]
    );
    assert_eq!(plan["summary"]["create"], 1);
    assert_eq!(plan["summary"]["remove"], 3);
    let risks: Vec<&str> = plan["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(risks, vec!["removal", "leaver", "privilege_raised"]);
}

#[test]
fn apply_converges_and_the_next_plan_is_empty() {
    let repo = repo();
    repo.run(&["apply", "--auto-approve"]).code(0);
    let again = repo.plan_json(0);
    assert_eq!(again["changes"], json!([]), "{again:#}");
    let state = repo.working_state("state.json");
    let org = &state["pixiebrix"]["organizations"][0];
    let groups: Vec<&str> = org["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(
        groups.contains(&"Sales Ops") && !groups.contains(&"Sales"),
        "renamed in place: {groups:?}"
    );
    let invited: Vec<&str> = org["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(invited, vec!["newbie@acme.com"]);
    let seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(
        seed["pixiebrix"]["organizations"][0]["groups"][0]["name"], "Sales",
        "the seed is never written"
    );
}

#[test]
fn the_three_renderings_of_one_plan() {
    let repo = repo();
    let text = stdout(&repo.run(&["plan", "--color", "never"]).code(0));
    insta::assert_snapshot!("pixiebrix_plan_text", text);
    let markdown = stdout(&repo.run(&["plan", "--format", "markdown"]).code(0));
    insta::assert_snapshot!("pixiebrix_plan_markdown", markdown);
    let json = stdout(&repo.run(&["plan", "--format", "json"]).code(0));
    // The day a plan is made for is today; the snapshot holds a placeholder.
    let json = json.replace(&teamsync::engine::today(), "[today]");
    insta::assert_snapshot!("pixiebrix_plan_json", json);
}
