//! The clients against a sandbox with knobs, over real HTTP on loopback: paging across many
//! pages with the fewest requests, retries through injected 429s and 5xx, a clear auth
//! failure that never shows the token.

mod common;

use common::*;
use serde_json::{Value, json};
use teamsync::sandbox::{Faults, SandboxHandle};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";

/// An organization of `n` people, all in one group.
fn big_world(n: usize) -> Value {
    let members: Vec<(String, u8, &str)> = (0..n)
        .map(|i| (format!("p{i:05}@acme.com"), 1, "human"))
        .collect();
    let refs: Vec<(&str, u8, &str)> = members
        .iter()
        .map(|(e, r, k)| (e.as_str(), *r, *k))
        .collect();
    let mut org = pixiebrix_org(ORG, &refs);
    org["groups"] = json!([{
        "id": uuid(900_000),
        "name": "All",
        "members": (0..n).map(|i| json!({"id": uuid(1_000_000 + i as u32), "email": format!("p{i:05}@acme.com")})).collect::<Vec<_>>()
    }]);
    json!({"pixiebrix": {"tokens": ["right-token"], "organizations": [org]}})
}

/// `n` people, all in group `All`, and a roster that is exact, at `handle`.
fn repo_for(handle: &SandboxHandle, n: usize) -> Repo {
    let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    a_config()
        .provider("pb", "pixiebrix", ORG)
        .served_by(handle)
        .token_env("TEAMSYNC_TEST_PB_TOKEN")
        .people((0..n).map(|i| (format!("p{i}"), format!("p{i:05}@acme.com"))))
        .group("pb", "All", &names)
        .organization("pb", NOBODY)
        .mode("exact")
        .write()
}

/// Runs the binary off the async runtime, so the sandbox keeps serving.
async fn plan(repo: Repo, token: &'static str) -> (Repo, std::process::Output) {
    tokio::task::spawn_blocking(move || {
        let out = assert_cmd::Command::cargo_bin("teamsync")
            .expect("binary")
            .args([
                "plan",
                "--format",
                "json",
                "--detailed-exitcode",
                "--config",
            ])
            .arg(repo.path())
            .env("TEAMSYNC_TEST_PB_TOKEN", token)
            .output()
            .expect("run");
        (repo, out)
    })
    .await
    .expect("join")
}

/// Plans `n` people with the right token; the plan must succeed (exit 0).
async fn plan_ok(handle: &SandboxHandle, n: usize) -> Value {
    let (_repo, out) = plan(repo_for(handle, n), "right-token").await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON plan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_across_many_pages_uses_the_largest_page_size() {
    let handle = sandbox().world(big_world(2_500)).start().await;
    let plan = plan_ok(&handle, 2_500).await;
    assert_eq!(plan["changes"], json!([]), "2,500 members read completely");
    let stats = handle.stats();
    // 3 pages of memberships, 1 of invitations, 1 of groups, 3 of group members, and the
    // one who-am-I the roster needs so that it never removes teamsync's own account.
    assert_eq!(
        stats
            .requests
            .get("GET /api/organizations/{org}/memberships/"),
        Some(&3),
        "{stats:?}"
    );
    assert_eq!(
        stats.requests.get("GET /api/groups/{id}/memberships/"),
        Some(&3),
        "{stats:?}"
    );
    assert_eq!(stats.requests.get("GET /api/me/"), Some(&1), "{stats:?}");
    assert_eq!(stats.total, 9, "the minimum the API allows: {stats:?}");
}

/// After the first page, the `last` link gives the page count and the other pages are
/// requested together: 25 pages of 100 would otherwise be 25 round trips in a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_after_the_first_are_fetched_concurrently() {
    let handle = sandbox()
        .world(big_world(2_500))
        .latency_ms(50)
        .page_size(100)
        .start()
        .await;
    let plan = plan_ok(&handle, 2_500).await;
    assert_eq!(plan["changes"], json!([]), "every page was read, in order");
    let stats = handle.stats();
    for route in [
        "GET /api/organizations/{org}/memberships/",
        "GET /api/groups/{id}/memberships/",
    ] {
        assert_eq!(stats.requests.get(route), Some(&25), "{route}: {stats:?}");
    }
    // Following `next` links one by one keeps at most 4 requests in flight (a chain per
    // list); the default --parallelism is 8.
    assert!(
        stats.peak_concurrency >= 6,
        "pages were read one after another: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_succeeds_through_injected_429s_and_5xx() {
    let handle = sandbox()
        .world(big_world(300))
        .faults(Faults {
            status_429: 0.2,
            status_503: 0.2,
            status_502: 0.1,
            ..Faults::default()
        })
        .seed(7)
        .start()
        .await;
    let plan = plan_ok(&handle, 300).await;
    assert_eq!(plan["changes"], json!([]));
    let stats = handle.stats();
    let injected: u64 = stats.faults.values().sum();
    assert!(injected > 0, "the seed injects faults: {stats:?}");
    assert!(stats.faults.contains_key("429"), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_failure_names_the_provider_and_variable_but_never_the_token() {
    let handle = sandbox().world(big_world(3)).start().await;
    let (_repo, out) = plan(repo_for(&handle, 3), "wrong-secret-c4n4ry").await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pb (pixiebrix): authentication failed (401"),
        "{stderr}"
    );
    assert!(
        stderr.contains("check the token in TEAMSYNC_TEST_PB_TOKEN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-secret-c4n4ry")
            && !String::from_utf8_lossy(&out.stdout).contains("wrong-secret-c4n4ry")
    );
}

/// The other providers are not read first: a missing token anywhere stops the run before
/// its first request, so the error comes at once and no provider sees traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_at_one_provider_stops_every_read_before_it_starts() {
    let handle = sandbox().world(big_world(3)).start().await;
    let base = handle.base_url();
    let repo = a_config()
        .provider("pb", "pixiebrix", ORG)
        .endpoint(&base)
        .token_env("TEAMSYNC_TEST_PB_TOKEN")
        .provider("zdocs", "gitbook", "acme")
        .endpoint(&base)
        .token_env("TEAMSYNC_TEST_UNSET_GB_TOKEN")
        .provider("zcms", "contentful", "acme")
        .endpoint(&base)
        .token_env("TEAMSYNC_TEST_UNSET_CF_TOKEN")
        .group("pb", "All", NOBODY)
        .team("zdocs", "Writers", NOBODY)
        .team("zcms", "Editors", NOBODY)
        .write();
    let (_repo, out) = plan(repo, "right-token").await;
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    for var in [
        "TEAMSYNC_TEST_UNSET_GB_TOKEN",
        "TEAMSYNC_TEST_UNSET_CF_TOKEN",
    ] {
        assert!(
            err.contains(&format!("the token variable {var} is not set")),
            "{err}"
        );
    }
    assert_eq!(
        handle.stats().total,
        0,
        "no provider is read while another's token is missing: {:?}",
        handle.stats()
    );
}

#[test]
fn a_missing_token_variable_is_named_before_any_request() {
    let repo = a_config()
        .provider("pb", "pixiebrix", ORG)
        .endpoint("http://127.0.0.1:9")
        .token_env("TEAMSYNC_TEST_UNSET_TOKEN")
        .group("pb", "G", NOBODY)
        .write();
    let out = repo.run(&["plan"]).code(1);
    assert!(
        stderr(&out)
            .contains("pb (pixiebrix): the token variable TEAMSYNC_TEST_UNSET_TOKEN is not set"),
        "{}",
        stderr(&out)
    );
}

/// A repository whose one provider lives at `endpoint`, with a token set.
fn unreachable_repo(endpoint: &str) -> Repo {
    a_config()
        .provider("pb", "pixiebrix", ORG)
        .endpoint(endpoint)
        .token_env("TEAMSYNC_TEST_PB_TOKEN")
        .group("pb", "G", NOBODY)
        .write()
}

/// `plan` against a provider at `endpoint`, with its token set: it must exit 1; its stderr.
fn plan_fails_at(endpoint: &str) -> String {
    let out = unreachable_repo(endpoint)
        .command(&["plan"])
        .env("TEAMSYNC_TEST_PB_TOKEN", "right-token")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    err
}

#[test]
fn an_unreachable_api_is_named_with_its_host_the_cause_and_the_retries() {
    // A port that was free a moment ago: nothing listens, so the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let err = plan_fails_at(&format!("http://127.0.0.1:{port}"));
    let host = format!("127.0.0.1:{port}");
    assert!(
        err.contains(&format!(
            "teamsync: pb: cannot connect to {host}: connection refused"
        )) && err.contains("retrying up to"),
        "the first failure is said at once, with the retries to come: {err}"
    );
    assert!(
        err.contains(&format!(
            "failed: cannot connect to {host}: connection refused"
        )) && err.contains("check the endpoint's host and port")
            && err.contains("(tried 6 times over"),
        "{err}"
    );
    assert!(!err.contains("error sending request"), "{err}");
}

#[test]
fn a_tls_failure_is_named_as_tls() {
    // Something that speaks plain text where HTTPS is expected.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        use std::io::Write;
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let err = plan_fails_at(&format!("https://127.0.0.1:{port}"));
    assert!(
        err.contains(&format!(
            "cannot connect to 127.0.0.1:{port}: TLS: the secure connection failed"
        )),
        "{err}"
    );
    assert!(!err.contains("right-token"), "{err}");
}
