//! Apply under injected faults: a run that cannot finish reports exactly what was applied,
//! what failed and what was skipped, and exits 1; running again converges; no declared
//! member is removed at any moment (checked on the sandbox's event log).

mod common;

use common::*;
use serde_json::{Value, json};
use teamsync::sandbox::{Faults, SandboxHandle};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";

fn world() -> Value {
    let people: Vec<String> = (0..12).map(|i| format!("p{i}@acme.com")).collect();
    let mut refs: Vec<(&str, u8, &str)> = people.iter().map(|e| (e.as_str(), 1, "human")).collect();
    refs.push(("stale@acme.com", 1, "human"));
    let mut org = pixiebrix_org(ORG, &refs);
    org["groups"] = json!([{"id": uuid(900), "name": "G", "members": [
        {"id": uuid(901), "email": "p0@acme.com"}, {"id": uuid(902), "email": "stale@acme.com"}]}]);
    org["campaigns"] = json!([{"id": uuid(910), "name": "C", "members": [
        {"id": uuid(911), "email": "p1@acme.com", "data": {"x": 1}}, {"id": uuid(912), "email": "stale@acme.com", "data": {}}]}]);
    json!({"pixiebrix": {"organizations": [org]}})
}

fn repo(handle: &SandboxHandle) -> Repo {
    let names: Vec<String> = (0..12).map(|i| format!("p{i}@acme.com")).collect();
    a_config()
        .provider("pb", "pixiebrix", ORG)
        .served_by(handle)
        .token_env("TEAMSYNC_TEST_PB_TOKEN")
        .group("pb", "G", &names)
        .campaign("pb", "C", &names)
        .write()
}

async fn run(repo: &Repo, args: &'static [&'static str]) -> std::process::Output {
    let dir = repo.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("teamsync")
            .expect("binary")
            .args(args)
            .arg("--config")
            .arg(dir)
            .env("TEAMSYNC_TEST_PB_TOKEN", "t")
            .output()
            .expect("run")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_failure_is_reported_and_a_rerun_converges() {
    // Which requests fail depends on the seed and on how many requests a run makes, so
    // seeds are tried in turn until one makes an apply fail part-way (most do).
    let mut found = None;
    for seed in 1..=20 {
        let handle = sandbox()
            .world(world())
            .faults(Faults {
                status_503: 0.45,
                reset: 0.05,
                ..Faults::default()
            })
            .seed(seed)
            .start()
            .await;
        let repo = repo(&handle);
        let mut partial = 0;
        let mut converged = false;
        for _ in 0..15 {
            let out = run(
                &repo,
                // A reset's write may have landed: read back, for 2 s at most.
                &[
                    "apply",
                    "--auto-approve",
                    "--parallelism",
                    "1",
                    "--settle",
                    "2",
                ],
            )
            .await;
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            match out.status.code() {
                Some(0) => {
                    let plan =
                        run(&repo, &["plan", "--format", "json", "--detailed-exitcode"]).await;
                    if plan.status.code() == Some(0) {
                        converged = true;
                        break;
                    }
                }
                Some(1) => {
                    if err.contains("Apply incomplete") {
                        partial += 1;
                        assert!(
                            err.contains("Not applied:")
                                && err.contains("applied,")
                                && err.contains("failed,"),
                            "{err}"
                        );
                        assert!(
                            err.contains("running `teamsync apply` again retries it"),
                            "transient failures say a re-run helps: {err}"
                        );
                    }
                }
                other => panic!("unexpected exit {other:?}: {err}"),
            }
        }
        assert!(converged, "seed {seed}: re-running converges");
        if partial > 0 {
            found = Some(handle);
            break;
        }
    }
    let handle = found.expect("some seed makes a run fail part-way");
    // Never, at any moment, was a declared member removed; the undeclared one was.
    let declared: Vec<String> = (0..12).map(|i| format!("p{i}@acme.com")).collect();
    let removed: Vec<String> = handle
        .events()
        .iter()
        .filter(|e| e.action.ends_with(".remove"))
        .filter_map(|e| e.detail["email"].as_str().map(str::to_string))
        .collect();
    assert!(
        removed.iter().all(|e| !declared.contains(e)),
        "declared members removed: {removed:?}"
    );
    assert_eq!(
        removed,
        vec!["stale@acme.com", "stale@acme.com"],
        "from the group and from the campaign"
    );
}
