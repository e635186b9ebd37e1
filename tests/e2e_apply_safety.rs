//! Apply's safety rules through the binary: a stale saved plan changes nothing, removals
//! above the policy need --allow-removals, and without a terminal apply wants --auto-approve.

mod common;

use common::*;
use serde_json::json;

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";

fn repo(max_removals: Option<u32>) -> Repo {
    let mut root = root_config(
        &format!(
            "  pb:\n    kind: pixiebrix\n    organization: {ORG}\n    endpoint: sandbox:state.json\n"
        ),
        "groups.yaml",
    );
    if let Some(max) = max_removals {
        root = root.replace("policy:\n", &format!("policy:\n  max_removals: {max}\n"));
    }
    let groups = "people:\n  alice: {email: alice@acme.com}\ngroups:\n  - name: Sales\n    members: [alice]\n  - name: Support\n    members: [alice]\n";
    let repo = Repo::new(&[("teamsync.yaml", &root), ("groups.yaml", groups)]);
    let mut org = pixiebrix_org(
        ORG,
        &[
            ("alice@acme.com", 1, "human"),
            ("x@acme.com", 1, "human"),
            ("y@acme.com", 1, "human"),
        ],
    );
    org["groups"] = json!([
        {"id": uuid(900), "name": "Sales", "members": [{"id": uuid(901), "email": "x@acme.com"}, {"id": uuid(902), "email": "y@acme.com"}]},
        {"id": uuid(910), "name": "Support", "members": []}
    ]);
    repo.write_json(
        "state.json",
        &json!({"pixiebrix": {"organizations": [org]}}),
    );
    repo
}

#[test]
fn a_saved_plan_applies_exactly_and_then_there_is_nothing_left() {
    let repo = repo(None);
    let plan_path = repo.path().join("plan.json");
    repo.run(&["plan", "--out", plan_path.to_str().unwrap()])
        .code(0);
    repo.run(&["apply", plan_path.to_str().unwrap()]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

#[test]
fn a_stale_saved_plan_is_refused_and_changes_nothing() {
    let repo = repo(None);
    let plan_path = repo.path().join("plan.json");
    repo.run(&["plan", "--out", plan_path.to_str().unwrap()])
        .code(0);
    // Someone changes Sales by hand after the plan was made.
    let mut state = repo.working_state("state.json");
    state["pixiebrix"]["organizations"][0]["groups"][0]["members"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": uuid(903), "email": "alice@acme.com"}));
    let before = serde_json::to_string_pretty(&state).unwrap();
    std::fs::write(repo.path().join(".teamsync/sandbox/state.json"), &before).unwrap();

    let out = repo.run(&["apply", plan_path.to_str().unwrap()]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains("the saved plan is not what a plan made now would do, so nothing was applied"),
        "{err}"
    );
    assert!(
        err.contains("pb.group[\"Sales\"]"),
        "names the resource that moved: {err}"
    );
    assert!(
        !err.contains("pb.group[\"Support\"]"),
        "only what moved: {err}"
    );
    assert!(err.contains("run `teamsync plan` again"), "{err}");
    let after = repo.working_state("state.json");
    assert_eq!(
        after, state,
        "nothing was applied, not even the unchanged Support"
    );
}

#[test]
fn removals_above_the_policy_need_allow_removals() {
    let repo = repo(Some(1));
    let out = repo.run(&["apply", "--auto-approve"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains("the plan removes 2 members, more than policy.max_removals (1)"),
        "{err}"
    );
    assert!(err.contains("--allow-removals"), "{err}");
    assert_eq!(
        repo.plan_json(2)["summary"]["remove"],
        2,
        "nothing was applied"
    );
    repo.run(&["apply", "--auto-approve", "--allow-removals"])
        .code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

#[test]
fn without_a_terminal_apply_refuses_unless_auto_approved() {
    let repo = repo(None);
    let out = repo.run(&["apply"]).code(1);
    assert!(
        stderr(&out).contains("apply needs a `yes` on a terminal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        repo.plan_json(2)["summary"]["add"],
        2,
        "nothing was applied"
    );
}

#[test]
fn inside_github_actions_the_plan_goes_to_the_job_summary() {
    let repo = repo(None);
    let summary = repo.path().join("summary.md");
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["plan", "--config"])
        .arg(repo.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0);
    assert!(
        stdout(&out).contains("Plan: 0 to create, 2 to update"),
        "{}",
        stdout(&out)
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(written.starts_with("### teamsync plan\n\n**Plan: 0 to create, 2 to update, 0 to delete; 2 members to add, 2 to remove.**"), "{written}");
}

#[test]
fn quiet_apply_prints_only_the_result() {
    let repo = repo(None);
    let out = repo.run(&["apply", "--auto-approve", "-q"]).code(0);
    let err = stderr(&out);
    assert!(!err.contains("applied: "), "{err}");
    assert!(
        err.contains("Apply complete: 4 applied, 0 failed, 0 skipped."),
        "{err}"
    );
}

/// A group that lists someone by an address the `exact` roster does not hold (not in
/// `people`, not in `organization.members`) keeps them in the organization: leaving it
/// would end the group access the configuration declares. The roster removal is blocked,
/// naming the group, the group add is applied, and no request removes them; a person no
/// container declares still leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exact_roster_never_removes_someone_a_group_declares() {
    let mut org = pixiebrix_org(
        ORG,
        &[
            ("p0@acme.com", 1, "human"),
            ("p1@acme.com", 1, "human"),
            ("p2@acme.com", 1, "human"),
            ("svc@acme.com", 2, "service"),
        ],
    );
    org["groups"] = json!([
        {"id": uuid(900), "name": "G", "members": [{"id": uuid(901), "email": "p0@acme.com"}]}
    ]);
    let handle = sandbox()
        .world(json!({"pixiebrix": {"organizations": [org]}}))
        .start()
        .await;
    let repo = a_config()
        .provider("pb", "pixiebrix", ORG)
        .served_by(&handle)
        .token_env("PB_T")
        .person("p0", "p0@acme.com")
        .organization("pb", Vec::<&str>::new())
        .set("roster", "exact")
        .set("keep", "[service_accounts]")
        .group("pb", "G", ["p0", "p1@acme.com"])
        .write();
    let token = ("PB_T", "secret");
    let (code, out, err) = run_async(
        &repo,
        token,
        &["plan", "--format", "json", "--detailed-exitcode"],
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan JSON");
    let org_key = format!("pb.organization[{ORG}]");
    assert_eq!(
        member_changes(&plan),
        [
            (
                "pb.group[G]".to_string(),
                "p1@acme.com".to_string(),
                "add".to_string()
            ),
            (org_key, "p2@acme.com".to_string(), "remove".to_string()),
        ],
        "{plan:#}"
    );
    let blocked = plan["blocked"].as_array().expect("blocked");
    assert_eq!(blocked.len(), 1, "{plan:#}");
    assert_eq!(blocked[0]["change"]["member"]["email"], "p1@acme.com");
    let reason = blocked[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(r#"pb.group["G"] declares them"#) && reason.contains("`people`"),
        "{reason}"
    );
    let (_, text, _) = run_async(&repo, token, &["plan"]).await;
    assert!(
        text.contains(r#"blocked: pb.organization["#) && text.contains("p1@acme.com"),
        "{text}"
    );

    let (code, out, err) = run_async(&repo, token, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let deleted: Vec<serde_json::Value> = handle
        .events()
        .into_iter()
        .filter(|e| e.action == "membership.delete")
        .map(|e| e.detail)
        .collect();
    // p2 is the only one who left: user ids follow the members' order (p2 is the third).
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["user"], uuid(3), "{deleted:?}");
    let (code, out, err) = run_async(
        &repo,
        token,
        &["plan", "--format", "json", "--detailed-exitcode"],
    )
    .await;
    let after: serde_json::Value = serde_json::from_str(&out).expect("plan JSON");
    assert!(
        member_changes(&after).is_empty(),
        "{code:?} {err}\n{after:#}"
    );
}
