//! Contentful end to end through the binary and the embedded sandbox: team create and
//! rename (version-locked), adds through organization memberships, removals; a pending invitee joins at once, a person
//! outside the organization is blocked (not failed); apply converges otherwise.

mod common;

use common::*;
use serde_json::json;

/// The `cms` organization's config; `extra` join Editors after alice and bob.
fn repo(extra: &[&str]) -> Repo {
    let editors = ["alice", "bob"].iter().chain(extra);
    let repo = a_config()
        .provider("cms", "contentful", "3Xa9pQ")
        .endpoint("sandbox:state.json")
        .person("alice", "alice@acme.com")
        .person("bob", "bob@acme.com")
        .person("outsider", "outsider@acme.com")
        .in_file("teams.yaml")
        .team("cms", "Editors", editors)
        .previously(&["Writers"])
        .team("cms", "Marketing", ["bob"])
        .write();
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
    let plan = repo(&[]).plan_json(2);
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
    let repo = repo(&[]);
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
fn a_pending_invitee_joins_teams_at_once() {
    // Contentful documents that a pending organization membership (an open invitation)
    // may join teams before it is accepted: one apply converges.
    let repo = repo(&["outsider"]);
    let plan = repo.plan_json(2);
    assert!(member_changes(&plan).contains(&(
        "cms.team[Editors]".into(),
        "outsider@acme.com".into(),
        "add".into()
    )));
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

#[test]
fn someone_outside_the_organization_is_blocked_and_the_rest_applies() {
    let repo = repo(&["stranger"]);
    let people = "people:\n  alice: {email: alice@acme.com}\n  bob: {email: bob@acme.com}\n  outsider: {email: outsider@acme.com}\n  stranger: {email: stranger@acme.com}\n";
    repo.write("people.yaml", people);
    let plan = repo.plan_json(2);
    let blocked = plan["blocked"].as_array().cloned().unwrap_or_default();
    assert_eq!(blocked.len(), 1, "{plan:#}");
    assert_eq!(blocked[0]["change"]["member"]["email"], "stranger@acme.com");
    let reason = blocked[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("not a member of the cms organization"),
        "{reason}"
    );
    assert!(reason.contains("`invite: true`"), "{reason}");
    // Blocked is listed, not failed: everything else applies and apply exits 0.
    let out = repo.run(&["apply", "--auto-approve"]).code(0);
    let err = stderr(&out);
    assert!(err.contains("Not carried out"), "{err}");
    assert!(err.contains("stranger@acme.com"), "{err}");
    let again = repo.plan_json(0);
    assert_eq!(again["changes"], json!([]));
    assert_eq!(again["blocked"].as_array().map(Vec::len), Some(1));
}

/// A repo whose Contentful organization has 250 active members (three pages) and one
/// empty team, to which the config adds members number `adds`.
fn big_org_repo(adds: &[usize]) -> Repo {
    let members = adds.iter().map(|i| format!("u{i:03}@acme.com"));
    let repo = a_config()
        .provider("cms", "contentful", "Big")
        .endpoint("sandbox:state.json")
        .team("cms", "Everyone", members)
        .write();
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
fn team_adds_use_the_membership_ids_the_plan_read() {
    // The plan reads the organization's memberships once (three pages of 100) to know who
    // may join; apply's adds carry those ids, so nothing is searched or listed again.
    for adds in [&[3, 120, 180, 230, 249][..], &[200], &[7]] {
        let repo = big_org_repo(adds);
        assert_eq!(membership_reads(&repo), (3, 0), "adding {adds:?}");
        assert_eq!(repo.plan_json(0)["changes"], json!([]), "all were added");
    }
}

#[test]
fn team_descriptions_are_set_on_create_and_when_they_differ() {
    let repo = repo(&[]);
    let config = "teams:\n  - name: Editors\n    previously: [Writers]\n    description: Edits the site\n    members: [alice, bob]\n  - name: Marketing\n    description: Campaigns\n    members: [bob]\n";
    repo.write("teams.yaml", config);
    let plan = repo.plan_json(2);
    let descriptions: Vec<(String, String)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            Some((
                c["key"]["name"].as_str()?.to_string(),
                c["description"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(
        descriptions,
        vec![
            ("Editors".to_string(), "Edits the site".to_string()),
            ("Marketing".into(), "Campaigns".into())
        ]
    );
    let text = stdout(&repo.run(&["plan"]).code(0));
    assert!(text.contains("~ description: \"Campaigns\""), "{text}");
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
    let state = repo.working_state("state.json");
    let teams = state["contentful"]["organizations"]["3Xa9pQ"]["teams"].to_string();
    assert!(
        teams.contains("Edits the site") && teams.contains("Campaigns"),
        "{teams}"
    );
    // A description that differs is set on its own; one the config does not state is
    // left alone.
    repo.write(
        "teams.yaml",
        &config.replace("Campaigns", "Campaigns and events"),
    );
    let plan = repo.plan_json(2);
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(changes[0]["key"]["name"], "Marketing");
    assert_eq!(changes[0]["description"], "Campaigns and events");
    assert_eq!(changes[0]["members"], json!([]));
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
    repo.write("teams.yaml", &teams_without_description());
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

fn teams_without_description() -> String {
    "teams:\n  - name: Editors\n    members: [alice, bob]\n  - name: Marketing\n    members: [bob]\n".to_string()
}
