//! GitBook end to end through the binary and the embedded sandbox: create, rename, add,
//! remove, role changes; apply converges.

mod common;

use common::*;
use serde_json::json;

fn repo() -> Repo {
    let repo = a_config()
        .provider("docs", "gitbook", "acme")
        .endpoint("sandbox:state.json")
        .person("alice", "alice@acme.com")
        .person("bob", "bob@acme.com")
        .person("carol", "carol@acme.com")
        .team("docs", "Writers", ["alice", "{person: bob, role: owner}"])
        .previously(&["Authors"])
        .team(
            "docs",
            "Reviewers",
            ["{person: carol, role: owner}", "alice"],
        )
        .team("docs", "Stable", ["alice"])
        .write();
    let member =
        |id: &str, email: &str| json!({"id": id, "name": id, "email": email, "role": "edit"});
    repo.write_json(
        "state.json",
        &json!({"gitbook": {"organizations": {"acme": {
            "members": [member("u_alice", "alice@acme.com"), member("u_bob", "Bob@Acme.com"), member("u_carol", "carol@acme.com"), member("u_dave", "dave@acme.com")],
            "teams": [
                {"id": "t_authors", "title": "Authors", "members": [{"user": "u_alice", "role": "owner"}, {"user": "u_dave"}]},
                {"id": "t_stable", "title": "Stable", "members": [{"user": "u_alice"}]}
            ]
        }}}}),
    );
    repo
}

#[test]
fn plan_shows_every_gitbook_change_kind() {
    let repo = repo();
    let plan = repo.plan_json(2);
    assert_eq!(
        resource_actions(&plan),
        vec![
            ("docs.team[Reviewers]".to_string(), "create".to_string()),
            ("docs.team[Writers]".into(), "rename".into())
        ]
    );
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        member_changes(&plan),
        vec![
            s("docs.team[Reviewers]", "alice@acme.com", "add"),
            s("docs.team[Reviewers]", "carol@acme.com", "add"),
            s("docs.team[Writers]", "alice@acme.com", "set_role"),
            s("docs.team[Writers]", "bob@acme.com", "add"),
            s("docs.team[Writers]", "dave@acme.com", "remove"),
        ]
    );
}

#[test]
fn apply_converges_with_roles_in_place() {
    let repo = repo();
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
    let state = repo.working_state("state.json");
    let teams = state["gitbook"]["organizations"]["acme"]["teams"]
        .as_array()
        .unwrap()
        .clone();
    let reviewers = teams.iter().find(|t| t["title"] == "Reviewers").unwrap();
    let carol = reviewers["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"] == "u_carol")
        .unwrap();
    assert_eq!(
        carol["role"], "owner",
        "a new owner gets the role in the same run"
    );
    assert!(
        teams
            .iter()
            .any(|t| t["id"] == "t_authors" && t["title"] == "Writers"),
        "renamed in place"
    );
}
