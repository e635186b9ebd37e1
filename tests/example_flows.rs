//! Every flow docs/lifecycle.md documents, on a copy of the bundled example against its
//! embedded sandbox (no server, no token): offboarding a person from all three providers,
//! onboarding with invitations on all three, and expiry. Each is planned, applied, and
//! planned again, so the example shows each flow to its end.

mod common;

use common::*;
use serde_json::Value;

/// `(resource key, member, action)` of every member change, blocked ones included.
fn removals_of(plan: &Value, email: &str) -> Vec<String> {
    let mut keys: Vec<String> = member_changes(plan)
        .into_iter()
        .filter(|(_, who, action)| who == email && action == "remove")
        .map(|(key, _, _)| key)
        .collect();
    keys.sort();
    keys
}

fn blocked(plan: &Value) -> Vec<String> {
    plan["blocked"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b.to_string())
        .collect()
}

#[test]
fn offboarding_removes_a_leaver_from_every_provider_and_its_organization() {
    let repo = copy_example();
    repo.edit(
        "people.yaml",
        "judy:  { email: judy@acme.com,",
        "judy:  { email: judy@acme.com, offboarded: true,",
    );
    let plan = repo.plan_json(2);
    assert_eq!(blocked(&plan), Vec::<String>::new(), "nothing is blocked");
    let gone = removals_of(&plan, "judy@acme.com");
    for org in [
        "pixiebrix.organization",
        "docs.organization",
        "cms.organization",
    ] {
        assert!(
            gone.iter().any(|k| k.starts_with(org)),
            "judy leaves {org}: {gone:?}"
        );
    }
    repo.run(&["apply", "--auto-approve"]).code(0);
    let after = repo.plan_json(0);
    assert_eq!(after["changes"], serde_json::json!([]), "{after}");
    let state = repo.working_state("live-state.json");
    assert!(
        !state.to_string().contains("\"OMjudy\""),
        "judy's Contentful membership is gone"
    );
}

#[test]
fn onboarding_invites_a_new_hire_on_every_provider_and_converges() {
    let repo = copy_example();
    for provider in ["docs", "cms"] {
        let at = format!("  {provider}:\n    kind: ");
        repo.edit(
            "teamsync.yaml",
            &at,
            &format!("  {provider}:\n    invite: true\n    kind: "),
        );
    }
    repo.edit(
        "people.yaml",
        "people:\n",
        "people:\n  peggy: { email: peggy@acme.com }\n",
    );
    repo.edit(
        "teams/docs-writers.yaml",
        "      - grace\n",
        "      - grace\n      - peggy\n",
    );
    repo.edit(
        "teams/cms-editors.yaml",
        "members: [grace, heidi, judy]",
        "members: [grace, heidi, judy, peggy]",
    );
    let plan = repo.plan_json(2);
    let text = plan.to_string();
    let invited: Vec<(String, String, String)> = member_changes(&plan)
        .into_iter()
        .filter(|(_, who, action)| who == "peggy@acme.com" && action == "invite")
        .collect();
    for org in [
        "pixiebrix.organization",
        "docs.organization",
        "cms.organization",
    ] {
        assert!(
            invited.iter().any(|(k, _, _)| k.starts_with(org)),
            "peggy is invited to {org}: {invited:?}\n{text}"
        );
    }
    repo.run(&["apply", "--auto-approve"]).code(0);
    // Contentful's pending membership joins the team in the same apply; PixieBrix waits
    // for the invitation to be accepted, and says so instead of inviting again.
    let state = repo.working_state("live-state.json");
    let cf = &state["contentful"]["organizations"]["3Xa9pQ"];
    let pending = cf["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .find(|m| m["status"] == "pending")
        .expect("a pending Contentful membership");
    let editors = cf["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .find(|t| t["name"] == "Editors")
        .expect("Editors");
    assert!(
        editors["members"]
            .as_array()
            .expect("members")
            .iter()
            .any(|m| m["membership"] == pending["id"]),
        "peggy joined Editors in the same apply: {editors}"
    );
    assert_eq!(
        state["pixiebrix"]["organizations"][0]["invitations"]
            .as_array()
            .expect("invitations")
            .iter()
            .filter(|i| i["email"] == "peggy@acme.com")
            .count(),
        1,
        "invited once to PixieBrix"
    );
    let again = repo.plan_json(2);
    let twice: Vec<_> = member_changes(&again)
        .into_iter()
        .filter(|(k, who, action)| {
            who == "peggy@acme.com" && action == "invite" && !k.starts_with("docs.")
        })
        .collect();
    assert_eq!(
        twice,
        vec![],
        "nobody is invited twice where invitations are listed"
    );
}

#[test]
fn expiry_removes_access_the_day_after_until_and_not_before() {
    let repo = copy_example();
    repo.edit(
        "teams/cms-editors.yaml",
        "members: [grace, heidi, judy]",
        "members: [{ person: grace, until: 2026-01-31 }, heidi, judy]",
    );
    let before = repo
        .run(&["plan", "--format", "json", "--at", "2026-01-31"])
        .code(0);
    let before: Value = serde_json::from_slice(&before.get_output().stdout).expect("json");
    assert_eq!(removals_of(&before, "grace@acme.com"), Vec::<String>::new());
    let after = repo
        .run(&["plan", "--format", "json", "--at", "2026-02-01"])
        .code(0);
    let after: Value = serde_json::from_slice(&after.get_output().stdout).expect("json");
    assert_eq!(
        removals_of(&after, "grace@acme.com"),
        vec!["cms.team[Editors]".to_string()]
    );
    // Apply plans for today, which is past the date: the expiry is carried out alone.
    repo.run(&["apply", "--auto-approve", "--only", "expired"])
        .code(0);
    let state = repo.working_state("live-state.json");
    let cf = &state["contentful"]["organizations"]["3Xa9pQ"];
    let editors = cf["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .find(|t| t["name"] == "Editors")
        .expect("Editors");
    assert!(
        !editors.to_string().contains("OMgrace"),
        "grace left Editors: {editors}"
    );
}

/// `teamsync sandbox seed` on a copy of the example, run from the copy's folder.
fn seed(repo: &Repo, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["sandbox", "seed", "--from", ".", "--out", out])
        .args(extra)
        .current_dir(repo.path())
        .assert()
}

#[test]
fn a_seed_made_from_a_configuration_plans_it_offline_and_shows_its_flows() {
    let repo = copy_example();
    seed(&repo, "mine.json", &[]).code(0);
    // The configuration as if applied: no changes, no token, no server.
    let sandbox = repo.path().join("mine.json");
    let sandbox = sandbox.to_str().expect("utf-8 path");
    let plan = repo
        .command(&[
            "plan",
            "--format",
            "json",
            "--detailed-exitcode",
            "--sandbox",
            sandbox,
        ])
        .env_remove("PIXIEBRIX_TOKEN")
        .env_remove("GITBOOK_TOKEN")
        .env_remove("CONTENTFUL_TOKEN")
        .assert()
        .code(0);
    let plan: Value = serde_json::from_slice(&plan.get_output().stdout).expect("json");
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan}");

    // A leaver leaves every organization of the seed, and apply converges there.
    repo.edit(
        "people.yaml",
        "judy:  { email: judy@acme.com,",
        "judy:  { email: judy@acme.com, offboarded: true,",
    );
    let out = repo
        .run(&[
            "plan",
            "--format",
            "json",
            "--detailed-exitcode",
            "--sandbox",
            sandbox,
        ])
        .code(2);
    let plan: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(blocked(&plan), Vec::<String>::new());
    let gone = removals_of(&plan, "judy@acme.com");
    for org in [
        "pixiebrix.organization",
        "docs.organization",
        "cms.organization",
    ] {
        assert!(gone.iter().any(|k| k.starts_with(org)), "{org}: {gone:?}");
    }
    repo.run(&["apply", "--auto-approve", "--sandbox", sandbox])
        .code(0);
    repo.run(&["plan", "--detailed-exitcode", "--sandbox", sandbox])
        .code(0);
    // The committed example's own sandbox was never touched.
    repo.plan_json(2);

    // A new seed starts the working copy over: judy is back, so she leaves again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    repo.edit(
        "people.yaml",
        "judy:  { email: judy@acme.com, offboarded: true,",
        "judy:  { email: judy@acme.com,",
    );
    seed(&repo, "mine.json", &[]).code(0);
    repo.edit(
        "people.yaml",
        "judy:  { email: judy@acme.com,",
        "judy:  { email: judy@acme.com, offboarded: true,",
    );
    repo.run(&["plan", "--detailed-exitcode", "--sandbox", sandbox])
        .code(2);
}

#[test]
fn a_seed_never_replaces_a_file_teamsync_did_not_write() {
    let repo = copy_example();
    // A hand-written state, and a file of the configuration: refused, left as they are.
    for target in ["live-state.json", "people.yaml"] {
        let before = std::fs::read(repo.path().join(target)).expect("read");
        let out = seed(&repo, target, &[]).code(1);
        assert!(stderr(&out).contains(target), "{}", stderr(&out));
        assert_eq!(
            std::fs::read(repo.path().join(target)).expect("read"),
            before
        );
    }
    // Its own output is replaced; --force replaces a hand-written one.
    seed(&repo, "mine.json", &[]).code(0);
    seed(&repo, "mine.json", &[]).code(0);
    seed(&repo, "live-state.json", &["--force"]).code(0);
    // On stdout by default: one JSON state.
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["sandbox", "seed", "--from", "."])
        .current_dir(repo.path())
        .assert()
        .code(0);
    let state: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(state["generated_by"], "teamsync sandbox seed");
}

#[test]
fn a_seed_says_what_it_left_out() {
    let repo = copy_example();
    repo.edit(
        "teams/cms-editors.yaml",
        "members: [grace, heidi, judy]",
        "members: [grace, heidi, judy, {user_id: U12345}]",
    );
    let out = seed(&repo, "mine.json", &[]).code(0);
    assert!(
        stderr(&out).contains("member `U12345` is named by user id only"),
        "{}",
        stderr(&out)
    );
}
