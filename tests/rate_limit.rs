//! The rate-limit governor against sandboxes that limit like the real APIs, over loopback:
//! a Contentful limited to its documented 7/s is paced and the apply succeeds without
//! exhausting retries; a 429 storm on an API that announces nothing (PixieBrix) pauses all
//! of that provider's requests until the reset; a limit on one provider does not slow the
//! others. Assertions read the sandbox's own record of arrivals, never a stopwatch.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};
use teamsync::sandbox::{Arrival, SandboxHandle};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";
const PEOPLE: usize = 40;
/// The client's `--parallelism` default: at most this many requests are in flight when a
/// 429 arrives, so at most this many can meet the same exhausted window.
const PARALLELISM: usize = 8;

fn email(i: usize) -> String {
    format!("p{i}@acme.com")
}

/// PixieBrix and Contentful organizations of `PEOPLE` people with group `G` and team `T`,
/// which hold everyone but `p0` when `full` (long member lists to read) and nobody
/// otherwise (a config putting everyone in them has `PEOPLE` additions on each).
fn world(full: bool) -> Value {
    let live = |i: &usize| full && *i > 0;
    let members: Vec<(String, u8, &str)> = (0..PEOPLE).map(|i| (email(i), 1, "human")).collect();
    let refs: Vec<(&str, u8, &str)> = members
        .iter()
        .map(|(e, r, k)| (e.as_str(), *r, *k))
        .collect();
    let mut org = pixiebrix_org(ORG, &refs);
    let group: Vec<Value> = (0..PEOPLE)
        .filter(live)
        .map(|i| json!({"id": uuid(500 + i as u32), "email": email(i)}))
        .collect();
    org["groups"] = json!([{"id": uuid(900), "name": "G", "members": group}]);
    let cf_users: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"id": format!("U{i}"), "email": email(i)}))
        .collect();
    let cf_mems: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"id": format!("OM{i}"), "user": format!("U{i}")}))
        .collect();
    let cf_team: Vec<Value> = (0..PEOPLE)
        .filter(live)
        .map(|i| json!({"id": format!("TM{i}"), "membership": format!("OM{i}")}))
        .collect();
    json!({
        "pixiebrix": {"organizations": [org]},
        "contentful": {"organizations": {"c1": {"users": cf_users, "memberships": cf_mems,
            "teams": [{"id": "T1", "name": "T", "members": cf_team}]}}}
    })
}

/// A config with the given providers (`pb`, `cms`), each holding everyone in its one
/// container; `cms_rate` is the config's cap.
fn repo(handle: &SandboxHandle, pb: bool, cms: bool, cms_rate: Option<u32>) -> Repo {
    let all: Vec<String> = (0..PEOPLE).map(|i| format!("p{i}")).collect();
    let mut config = a_config().people((0..PEOPLE).map(|i| (format!("p{i}"), email(i))));
    if pb {
        config = config
            .provider("pb", "pixiebrix", ORG)
            .served_by(handle)
            .token_env("TEAMSYNC_RL_TOKEN")
            .group("pb", "G", &all);
    }
    if cms {
        config = config
            .provider("cms", "contentful", "c1")
            .served_by(handle)
            .token_env("TEAMSYNC_RL_TOKEN");
        if let Some(rate) = cms_rate {
            config = config.set("rate_limit", &rate.to_string());
        }
        config = config.team("cms", "T", &all);
    }
    config.write()
}

/// Runs the binary off the async runtime, so the sandbox keeps serving.
async fn run(repo: &Repo, args: &[&str]) -> (Option<i32>, String) {
    let dir = repo.path().to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("teamsync")
            .expect("binary")
            .args(&args)
            .arg("--config")
            .arg(&dir)
            .env("TEAMSYNC_RL_TOKEN", "t")
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn of<'a>(arrivals: &'a [Arrival], api: &str) -> Vec<&'a Arrival> {
    arrivals.iter().filter(|a| a.api == api).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contentful_at_seven_per_second_is_paced_and_the_apply_succeeds() {
    let handle = sandbox()
        .world(world(false))
        .api_rate_limit("contentful", 7, 1)
        .start()
        .await;
    let repo = repo(&handle, false, true, None);
    let (code, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{err}");
    let arrivals = handle.arrivals();
    let cf = of(&arrivals, "contentful");
    assert!(
        cf.len() >= PEOPLE,
        "the apply sends one request per addition: {}",
        cf.len()
    );
    let throttled = handle.stats().throttled;
    // Paced at 7/s from the start (the documented limit, then the headers'), a 429 is rare:
    // only when scheduling bunches two requests into one second of the sandbox's window.
    assert!(
        throttled <= 3,
        "{throttled} of {} requests answered 429",
        cf.len()
    );
    assert!(!err.contains("429"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_pauses_every_request_of_that_provider_until_the_reset() {
    // PixieBrix announces no budget: the client learns of the limit only from 429s.
    let handle = sandbox()
        .world(world(true))
        .api_rate_limit("pixiebrix", 10, 1)
        .page_size(2)
        .start()
        .await;
    let repo = repo(&handle, true, false, None);
    let (code, err) = run(&repo, &["plan"]).await;
    assert_eq!(code, Some(0), "{err}");
    let arrivals = handle.arrivals();
    let pb = of(&arrivals, "pixiebrix");
    assert!(pb.len() > 20, "the read spans windows: {}", pb.len());
    let mut per_window: BTreeMap<u64, usize> = BTreeMap::new();
    for a in pb.iter().filter(|a| a.throttled) {
        *per_window.entry(a.window).or_default() += 1;
    }
    assert!(!per_window.is_empty(), "the limit was reached");
    // Any request sent after the first 429 and before the reset would land in the same
    // window and be answered 429 too. Only the requests already in flight may.
    for (window, n) in &per_window {
        assert!(
            *n <= PARALLELISM,
            "window {window}: {n} requests answered 429; after a 429 the provider must pause"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_on_one_provider_does_not_slow_the_others() {
    // Contentful capped at 2/s by the config (its window agrees); PixieBrix unlimited.
    let handle = sandbox()
        .world(world(true))
        .api_rate_limit("contentful", 2, 1)
        .page_size(5)
        .start()
        .await;
    let repo = repo(&handle, true, true, Some(2));
    let (code, err) = run(&repo, &["plan"]).await;
    assert_eq!(code, Some(0), "{err}");
    let arrivals = handle.arrivals();
    let (pb, cf) = (of(&arrivals, "pixiebrix"), of(&arrivals, "contentful"));
    assert!(pb.len() >= 5 && cf.len() >= 8, "{} {}", pb.len(), cf.len());
    // Both are read concurrently; Contentful's reads need at least (n − 1) × 0.5 s, while
    // PixieBrix's are not held back by them: every one of them arrives while Contentful is
    // still being paced, i.e. before its last request.
    let last_cf = arrivals.iter().rposition(|a| a.api == "contentful");
    let last_pb = arrivals.iter().rposition(|a| a.api == "pixiebrix");
    assert!(
        last_pb < last_cf,
        "PixieBrix finished after Contentful: it was slowed down"
    );
    let throttled = cf.iter().filter(|a| a.throttled).count();
    assert!(throttled <= 2, "{throttled} Contentful answers were 429");
}
