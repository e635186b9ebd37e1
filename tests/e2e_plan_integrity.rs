//! Apply only what was reviewed, and let nobody in through a side door (issue 14): each
//! attack a careful attacker or a tired admin would try is refused, and the sandbox's
//! state shows that nothing was written.

mod common;

use common::*;
use serde_json::{Value, json};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";
const OTHER_ORG: &str = "1f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d12";

/// PixieBrix groups Sales (x, y live; alice declared) and Support (empty, alice declared),
/// a roster with a service account (the token's own account: the sandbox's who-am-I
/// answers with the first service account), and a GitBook team with one owner.
fn repo() -> Repo {
    let root = root_config(
        &format!(
            "  pb:\n    kind: pixiebrix\n    organization: {ORG}\n    endpoint: sandbox:state.json\n  docs:\n    kind: gitbook\n    organization: acme\n    endpoint: sandbox:state.json\n"
        ),
        "c.yaml",
    );
    let c = "people:\n  alice: {email: alice@acme.com}\n  owen: {email: owen@acme.com}\ngroups:\n  - provider: pb\n    name: Sales\n    members: [alice]\n  - provider: pb\n    name: Support\n    members: [alice]\nteams:\n  - provider: docs\n    name: Writers\n    members: [{person: owen, role: owner}, alice]\n";
    let repo = Repo::new(&[("teamsync.yaml", &root), ("c.yaml", c)]);
    let world = |org: &str| {
        let mut o = pixiebrix_org(
            org,
            &[
                ("alice@acme.com", 1, "human"),
                ("x@acme.com", 1, "human"),
                ("y@acme.com", 1, "human"),
                ("eve@gmail.com", 1, "human"),
                ("svc@acme.com", 2, "service"),
            ],
        );
        o["groups"] = json!([
            {"id": uuid(900), "name": "Sales", "members": [{"id": uuid(901), "email": "x@acme.com"}, {"id": uuid(902), "email": "y@acme.com"}]},
            {"id": uuid(910), "name": "Support", "members": []},
            {"id": uuid(920), "name": "Stray", "members": [{"id": uuid(921), "email": "x@acme.com"}, {"id": uuid(922), "email": "y@acme.com"}, {"id": uuid(923), "email": "alice@acme.com"}]}
        ]);
        o
    };
    repo.write_json(
        "state.json",
        &json!({
            "pixiebrix": {"organizations": [world(ORG), world(OTHER_ORG)]},
            "gitbook": {"organizations": {"acme": {
                "members": [
                    {"id": "u-owen", "name": "Owen", "email": "owen@acme.com", "role": "admin"},
                    {"id": "u-alice", "name": "Alice", "email": "alice@acme.com", "role": "edit"}
                ],
                "teams": [{"id": "t1", "title": "Writers", "members": [{"user": "u-owen", "role": "owner"}]}]
            }}}
        }),
    );
    repo
}

/// Plans to `plan.json` and returns the saved plan and the sandbox state before apply.
fn saved_plan(repo: &Repo) -> (std::path::PathBuf, Value, Value) {
    let path = repo.path().join("plan.json");
    repo.run(&["plan", "--out", path.to_str().expect("utf-8")])
        .code(0);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("plan")).expect("json");
    (path, plan, repo.working_state("state.json"))
}

/// Applies the plan file, expects exit 1 with `needle`, and that nothing was written.
fn refused(repo: &Repo, path: &std::path::Path, before: &Value, needle: &str) -> String {
    let out = repo.run(&["apply", path.to_str().expect("utf-8")]).code(1);
    let err = stderr(&out);
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert_eq!(
        &repo.working_state("state.json"),
        before,
        "the sandbox received no write"
    );
    err
}

fn edit(path: &std::path::Path, plan: &Value, f: impl FnOnce(&mut Value)) {
    let mut plan = plan.clone();
    f(&mut plan);
    std::fs::write(path, serde_json::to_string_pretty(&plan).expect("json")).expect("write");
}

fn change<'a>(plan: &'a mut Value, name: &str) -> &'a mut Value {
    plan["changes"]
        .as_array_mut()
        .expect("changes")
        .iter_mut()
        .find(|c| c["key"]["name"] == name)
        .expect("the change")
}

const DIFFERS: &str = "the saved plan is not what a plan made now would do, so nothing was applied";

#[test]
fn an_untouched_saved_plan_applies() {
    let repo = repo();
    let (path, _, _) = saved_plan(&repo);
    repo.run(&["apply", path.to_str().expect("utf-8")]).code(0);
}

#[test]
fn an_edited_plan_that_invites_an_outsider_is_refused() {
    let repo = repo();
    let (path, plan, before) = saved_plan(&repo);
    edit(&path, &plan, |p| {
        change(p, "Support")["members"]
            .as_array_mut()
            .expect("members")
            .push(json!({"member": {"email": "eve@evil.io"}, "action": {"type": "add"}}));
    });
    let err = refused(&repo, &path, &before, DIFFERS);
    assert!(
        err.contains("eve@evil.io"),
        "the difference is shown: {err}"
    );
}

#[test]
fn an_edited_plan_that_swaps_a_live_id_is_refused() {
    let repo = repo();
    let (path, plan, before) = saved_plan(&repo);
    edit(&path, &plan, |p| {
        change(p, "Sales")["live_id"] = json!(uuid(910));
    });
    refused(&repo, &path, &before, DIFFERS);
}

#[test]
fn an_edited_membership_id_that_walks_the_url_is_refused() {
    let repo = repo();
    let (path, plan, before) = saved_plan(&repo);
    edit(&path, &plan, |p| {
        for m in change(p, "Sales")["members"]
            .as_array_mut()
            .expect("members")
        {
            if m["action"]["type"] == "remove" {
                m["member"]["membership_id"] = json!(format!("../../groups/{}", uuid(910)));
            }
        }
    });
    refused(&repo, &path, &before, DIFFERS);
}

#[test]
fn a_plan_made_before_the_config_changed_is_refused() {
    let repo = repo();
    let (path, _, before) = saved_plan(&repo);
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    repo.write(
        "c.yaml",
        &c.replace(
            "members: [alice]\n  - provider: pb\n    name: Support",
            "members: []\n  - provider: pb\n    name: Support",
        ),
    );
    refused(
        &repo,
        &path,
        &before,
        "the plan was made from other the configuration files",
    );
}

#[test]
fn a_plan_made_for_another_organization_is_refused() {
    let repo = repo();
    let (path, _, before) = saved_plan(&repo);
    let root = std::fs::read_to_string(repo.path().join("teamsync.yaml")).expect("root");
    repo.write("teamsync.yaml", &root.replace(ORG, OTHER_ORG));
    refused(
        &repo,
        &path,
        &before,
        "the providers (endpoint or organization)",
    );
}

#[test]
fn a_user_id_member_outside_the_allowed_domains_is_a_plan_error() {
    let repo = repo();
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    // eve@gmail.com's user id, in a group that already holds her: a user_id is no side door.
    repo.write(
        "c.yaml",
        &c.replace(
            "name: Support\n    members: [alice]",
            &format!(
                "name: Support\n    members: [alice, {{user_id: {}}}]",
                uuid(4)
            ),
        ),
    );
    let mut state: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join("state.json")).expect("seed"),
    )
    .expect("json");
    state["pixiebrix"]["organizations"][0]["groups"][1]["members"] =
        json!([{"id": uuid(911), "email": "eve@gmail.com"}]);
    repo.write_json("state.json", &state);
    let out = repo.run(&["plan"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "member user_id:{} is eve@gmail.com, outside policy.allowed_email_domains",
            uuid(4)
        )),
        "{err}"
    );
    let before = repo.working_state("state.json");
    repo.run(&["apply", "--auto-approve"]).code(1);
    assert_eq!(repo.working_state("state.json"), before, "no write");
}

#[test]
fn pruning_over_the_removal_budget_is_refused() {
    let repo = repo();
    let root = std::fs::read_to_string(repo.path().join("teamsync.yaml")).expect("root");
    repo.write(
        "teamsync.yaml",
        &root
            .replace(
                "    endpoint: sandbox:state.json\n  docs:",
                "    endpoint: sandbox:state.json\n    prune: [group]\n  docs:",
            )
            .replace("policy:\n", "policy:\n  max_removals: 3\n"),
    );
    let plan = repo.plan_json(2);
    let stray: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["key"]["name"] == "Stray")
        .flat_map(|c| c["members"].as_array().expect("members"))
        .filter(|m| m["action"]["type"] == "remove")
        .filter_map(|m| m["member"]["email"].as_str())
        .collect();
    assert_eq!(
        stray,
        vec!["alice@acme.com", "x@acme.com", "y@acme.com"],
        "everyone who loses access is listed"
    );
    assert_eq!(
        plan["summary"]["remove"], 5,
        "2 from Sales and 3 with Stray"
    );
    let before = repo.working_state("state.json");
    let out = repo.run(&["apply", "--auto-approve"]).code(1);
    assert!(
        stderr(&out).contains("the plan removes 5 members, more than policy.max_removals (3)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.working_state("state.json"), before, "no write");
}

#[test]
fn an_exact_roster_never_removes_the_tokens_own_account() {
    let repo = repo();
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    repo.write(
        "c.yaml",
        &format!("{c}organization:\n  provider: pb\n  roster: exact\n  members: [alice]\n"),
    );
    let out = repo.run(&["plan"]).code(0);
    let text = stdout(&out);
    assert!(
        text.contains("blocked:")
            && text.contains("svc@acme.com")
            && text.contains("token belongs to"),
        "{text}"
    );
    let plan = repo.plan_json(2);
    let removed: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["key"]["kind"] == "organization")
        .flat_map(|c| c["members"].as_array().expect("members"))
        .filter_map(|m| m["member"]["email"].as_str())
        .collect();
    assert!(!removed.contains(&"svc@acme.com"), "{removed:?}");
    repo.run(&["apply", "--auto-approve"]).code(0);
    let after = repo.working_state("state.json");
    let users: Vec<&Value> = after["pixiebrix"]["organizations"][0]["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .collect();
    assert!(
        users.iter().any(|m| m["user"] == uuid(5)),
        "the service account is still a member: {users:?}"
    );
}

#[test]
fn the_last_owner_of_a_team_is_never_demoted_without_allow_no_owner() {
    let repo = repo();
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    repo.write("c.yaml", &c.replace("{person: owen, role: owner}", "owen"));
    let out = repo.run(&["plan"]).code(0);
    let text = stdout(&out);
    assert!(
        text.contains("blocked:")
            && text.contains("with no owner")
            && text.contains("policy.allow_no_owner: true"),
        "{text}"
    );
    repo.run(&["apply", "--auto-approve"]).code(0);
    let after = repo.working_state("state.json");
    assert_eq!(
        after["gitbook"]["organizations"]["acme"]["teams"][0]["members"][0]["role"], "owner",
        "Owen is still the owner"
    );
    // With the policy saying so, the same change is made.
    let root = std::fs::read_to_string(repo.path().join("teamsync.yaml")).expect("root");
    repo.write(
        "teamsync.yaml",
        &root.replace("policy:\n", "policy:\n  allow_no_owner: true\n"),
    );
    repo.run(&["apply", "--auto-approve"]).code(0);
    let after = repo.working_state("state.json");
    assert_eq!(
        after["gitbook"]["organizations"]["acme"]["teams"][0]["members"][0]["role"],
        "member"
    );
}

#[test]
fn a_live_container_named_like_a_declared_one_but_for_case_is_never_created_twice() {
    let repo = repo();
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    repo.write("c.yaml", &c.replace("name: Support", "name: support"));
    let out = repo.run(&["plan"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains("pb.group[\"support\"] is declared, and pb.group[\"Support\"] exists live")
            && err.contains("will not create a second one"),
        "{err}"
    );
}

#[test]
fn show_renders_a_saved_plan_without_reading_any_api() {
    let repo = repo();
    let (path, _, _) = saved_plan(&repo);
    let planned = stdout(&repo.run(&["plan", "--color", "never"]).code(0));
    // No config, no sandbox: only the file.
    let shown = assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["show", "--color", "never"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .assert()
        .code(0);
    assert_eq!(stdout(&shown), planned);
    let json = assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["show", "--format", "json"])
        .arg(&path)
        .assert()
        .code(0);
    assert_eq!(
        stdout(&json),
        std::fs::read_to_string(&path).expect("plan"),
        "the JSON view is the file"
    );
}

#[test]
fn a_plan_of_another_format_version_is_refused_by_name() {
    let repo = repo();
    let (path, plan, before) = saved_plan(&repo);
    edit(&path, &plan, |p| {
        p["format_version"] = json!("1");
    });
    let err = refused(
        &repo,
        &path,
        &before,
        "the plan has format_version \"1\"; this teamsync reads \"3\"",
    );
    assert!(err.contains("make the plan again"), "{err}");
}
