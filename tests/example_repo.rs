//! The README's first command and the five-minute loop on the bundled example, run on a
//! copy so the checkout stays clean: plan shows changes for all three providers with no
//! token, apply makes them, the next plan is empty, `sandbox reset` starts over, and the
//! committed seed is never written.

mod common;

use common::*;

#[test]
fn the_example_plans_changes_for_all_three_providers_without_a_token() {
    let repo = copy_example();
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["plan", "--color", "never", "--config"])
        .arg(repo.path())
        .env_remove("PIXIEBRIX_TOKEN")
        .env_remove("GITBOOK_TOKEN")
        .env_remove("CONTENTFUL_TOKEN")
        .assert()
        .code(0);
    let text = stdout(&out);
    for provider in ["pixiebrix.", "docs.team", "cms.team"] {
        assert!(
            text.contains(&format!("# {provider}")),
            "changes for {provider}:\n{text}"
        );
    }
    insta::assert_snapshot!("example_plan_text", text);
}

#[test]
fn apply_then_plan_is_empty_and_reset_starts_over_without_touching_the_seed() {
    let repo = copy_example();
    let seed_before = std::fs::read_to_string(repo.path().join("live-state.json")).unwrap();
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], serde_json::json!([]));
    assert_eq!(
        std::fs::read_to_string(repo.path().join("live-state.json")).unwrap(),
        seed_before,
        "the seed is never written"
    );
    let applied = repo.working_state("live-state.json");
    let invited = &applied["pixiebrix"]["organizations"][0]["invitations"][0]["email"];
    assert_eq!(
        invited, "niaj@acme.com",
        "the working copy holds the applied state"
    );

    let out = repo.run(&["sandbox", "reset"]).code(0);
    assert!(
        stderr(&out).contains("the next command starts from"),
        "{}",
        stderr(&out)
    );
    assert!(
        repo.plan_json(2)["summary"]["create"] == 1,
        "back to the seed"
    );
}
