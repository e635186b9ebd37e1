//! Contentful end to end through the binary and the embedded sandbox: team create and
//! rename (version-locked), adds through organization memberships, removals; a person who
//! is not in the organization fails with a clear message; apply converges otherwise.

mod common;

use common::*;
use serde_json::json;

fn repo(extra_member: &str) -> Repo {
    let root = root_config(
        "  cms:\n    kind: contentful\n    organization: 3Xa9pQ\n    endpoint: sandbox:state.json\n",
        "people.yaml, teams.yaml",
    );
    let people = "people:\n  alice: {email: alice@acme.com}\n  bob: {email: bob@acme.com}\n  outsider: {email: outsider@acme.com}\n";
    let teams = format!(
        "teams:\n  - name: Editors\n    previously: [Writers]\n    members: [alice, bob{extra_member}]\n  - name: Marketing\n    members: [bob]\n"
    );
    let repo = Repo::new(&[
        ("teamsync.yaml", &root),
        ("people.yaml", people),
        ("teams.yaml", &teams),
    ]);
    let user = |id: &str, email: &str| json!({"id": id, "email": email, "first_name": id, "last_name": "Acme"});
    repo.write_json(
        "state.json",
        &json!({"contentful": {"organizations": {"3Xa9pQ": {
            "users": [user("U_alice", "alice@acme.com"), user("U_bob", "BOB@acme.com"), user("U_carl", "carl@acme.com"), user("U_out", "outsider@acme.com")],
            "memberships": [
                {"id": "OM_alice", "user": "U_alice"}, {"id": "OM_bob", "user": "U_bob", "role": "admin"},
                {"id": "OM_carl", "user": "U_carl"}, {"id": "OM_out", "user": "U_out", "status": "pending"}
            ],
            "teams": [{"id": "T_writers", "name": "Writers", "version": 3, "members": [
                {"id": "TM_alice", "membership": "OM_alice"}, {"id": "TM_carl", "membership": "OM_carl"}]}]
        }}}}),
    );
    repo
}

#[test]
fn plan_shows_every_contentful_change_kind() {
    let plan = repo("").plan_json(2);
    assert_eq!(
        resource_actions(&plan),
        vec![
            ("cms.team[Editors]".to_string(), "rename".to_string()),
            ("cms.team[Marketing]".into(), "create".into())
        ]
    );
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        member_changes(&plan),
        vec![
            s("cms.team[Editors]", "bob@acme.com", "add"),
            s("cms.team[Editors]", "carl@acme.com", "remove"),
            s("cms.team[Marketing]", "bob@acme.com", "add"),
        ]
    );
}

#[test]
fn apply_converges_and_keeps_the_team_id_through_a_rename() {
    let repo = repo("");
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
    let state = repo.working_state("state.json");
    let teams = state["contentful"]["organizations"]["3Xa9pQ"]["teams"]
        .as_array()
        .unwrap()
        .clone();
    let editors = teams.iter().find(|t| t["name"] == "Editors").unwrap();
    assert_eq!(editors["id"], "T_writers");
    assert_eq!(editors["version"], 4, "the rename was version-locked");
}

#[test]
fn someone_not_yet_in_the_organization_fails_clearly_and_the_rest_applies() {
    let repo = repo(", outsider");
    let out = repo.run(&["apply", "--auto-approve"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains("outsider@acme.com is not an active member of the Contentful organization"),
        "{err}"
    );
    assert!(err.contains("Apply incomplete"), "{err}");
    let again = repo.plan_json(2);
    assert_eq!(
        member_changes(&again),
        vec![(
            "cms.team[Editors]".into(),
            "outsider@acme.com".into(),
            "add".into()
        )]
    );
}

/// A repo whose Contentful organization has 250 active members (three pages) and one
/// empty team, to which the config adds members number `adds`.
fn big_org_repo(adds: &[usize]) -> Repo {
    let root = root_config(
        "  cms:\n    kind: contentful\n    organization: Big\n    endpoint: sandbox:state.json\n",
        "people.yaml",
    );
    let members: Vec<String> = adds.iter().map(|i| format!("u{i:03}@acme.com")).collect();
    let people = format!(
        "teams:\n  - name: Everyone\n    members: [{}]\n",
        members.join(", ")
    );
    let repo = Repo::new(&[("teamsync.yaml", &root), ("people.yaml", &people)]);
    let users: Vec<_> = (0..250)
        .map(|i| json!({"id": format!("U{i}"), "email": format!("u{i:03}@acme.com")}))
        .collect();
    let memberships: Vec<_> = (0..250)
        .map(|i| json!({"id": format!("OM{i}"), "user": format!("U{i}")}))
        .collect();
    repo.write_json(
        "state.json",
        &json!({"contentful": {"organizations": {"Big": {
            "users": users, "memberships": memberships,
            "teams": [{"id": "T1", "name": "Everyone", "members": []}]
        }}}}),
    );
    repo
}

/// The organization-membership reads an apply logged with `-v`: (list pages, searches).
fn membership_reads(repo: &Repo) -> (usize, usize) {
    let a = repo.run(&["apply", "--auto-approve", "-v"]).code(0);
    let log = stderr(&a);
    let reads: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("GET ") && l.contains("/organization_memberships?"))
        .collect();
    let searches = reads.iter().filter(|l| l.contains("query=")).count();
    (reads.len() - searches, searches)
}

#[test]
fn many_adds_list_the_memberships_instead_of_searching_each_email() {
    // Five people to find, three pages to read: the pages win.
    let repo = big_org_repo(&[3, 120, 180, 230, 249]);
    assert_eq!(membership_reads(&repo), (3, 0));
    assert_eq!(
        repo.plan_json(0)["changes"],
        json!([]),
        "all five were added"
    );
}

#[test]
fn a_few_adds_search_for_each_email() {
    // One person beyond the first page (which tells the size): one search.
    let repo = big_org_repo(&[200]);
    assert_eq!(membership_reads(&repo), (1, 1));
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
    // Someone on the first page needs no search at all.
    assert_eq!(membership_reads(&big_org_repo(&[7])), (1, 0));
}
