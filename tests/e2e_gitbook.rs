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

/// The notes infer that `memberships` in GitBook's bulk team update sets the roles it
/// names and leaves the others. If it were the team's whole role map instead
/// (`gitbook_memberships=replace`), making p2 an owner would demote the owners it does not
/// name: apply's read-back sees that members it never touched changed, says who, and does
/// not report the run complete (exit 3). Under the notes' answer the same apply is
/// complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_changes_members_it_did_not_name_is_reported_not_complete() {
    let member = |i: usize| json!({"id": format!("u{i}"), "name": format!("P{i}"), "email": format!("p{i}@acme.com"), "role": "edit"});
    let world = json!({"gitbook": {"me": "u9", "organizations": {"acme": {
        "members": [member(0), member(1), member(2), member(9)],
        "teams": [{"id": "t1", "title": "T", "members": [
            {"user": "u0", "role": "owner"}, {"user": "u1", "role": "owner"}, {"user": "u2", "role": "member"}
        ]}]
    }}}});
    for replace in [false, true] {
        let handle = sandbox()
            .world(world.clone())
            .knobs(|k| {
                if replace {
                    k.gitbook_memberships = teamsync::sandbox::GitbookMemberships::Replace;
                }
            })
            .start()
            .await;
        let repo = a_config()
            .provider("docs", "gitbook", "acme")
            .served_by(&handle)
            .token_env("GB_T")
            .people([
                ("p0", "p0@acme.com"),
                ("p1", "p1@acme.com"),
                ("p2", "p2@acme.com"),
            ])
            .team(
                "docs",
                "T",
                [
                    "{person: p0, role: owner}",
                    "{person: p1, role: owner}",
                    "{person: p2, role: owner}",
                ],
            )
            .write();
        let token = ("GB_T", "secret");
        let (code, out, err) = run_async(
            &repo,
            token,
            &["apply", "--auto-approve", "--format", "json"],
        )
        .await;
        let result: serde_json::Value = serde_json::from_str(&out).expect("apply JSON");
        if !replace {
            assert_eq!(code, Some(0), "{out}{err}");
            assert_eq!(result["collateral"], json!([]), "{result:#}");
            continue;
        }
        assert_eq!(code, Some(3), "{out}{err}");
        assert_eq!(result["status"], "needs_attention", "{result:#}");
        assert_eq!(
            result["collateral"],
            json!([
                "docs.team[\"T\"]: p0@acme.com, p1@acme.com with another role, although teamsync sent no change for them (the API did more than it was asked, or someone changed it meanwhile); the next plan shows what to restore"
            ]),
            "{result:#}"
        );
        assert!(err.contains("Changed beyond what was sent"), "{err}");
        assert!(!err.contains("Apply complete"), "{err}");
        // The step itself was done and verified; the damage is what the next plan restores.
        let (_, plan, err) = run_async(&repo, token, &["plan", "--format", "json"]).await;
        let plan: serde_json::Value = serde_json::from_str(&plan).expect("plan JSON");
        let s = |who: &str| {
            (
                "docs.team[T]".to_string(),
                who.to_string(),
                "set_role".to_string(),
            )
        };
        assert_eq!(
            member_changes(&plan),
            [s("p0@acme.com"), s("p1@acme.com")],
            "{err}{plan:#}"
        );
    }
}
