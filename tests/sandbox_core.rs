//! Sandbox core over real HTTP: faults, stats, events, reset, persistence, state loading.

use std::time::{Duration, Instant};

mod common;

use common::sandbox;
use serde_json::{Value, json};
use teamsync::sandbox::{Faults, SandboxHandle, World, load_state};

const ORG: &str = "11111111-1111-4111-8111-111111111111";
const V2: &str = "application/json; version=2.0";

fn seed() -> World {
    serde_json::from_value(json!({"pixiebrix": {"organizations": [{
        "id": ORG, "name": "Acme",
        "users": [{"id": "00000000-0000-4000-8000-000000000001", "email": "ada@acme.test"}],
        "memberships": [{"id": 1, "user": "00000000-0000-4000-8000-000000000001"}]
    }]}}))
    .expect("seed")
}

async fn get(h: &SandboxHandle, path: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .get(format!("{}{path}", h.base_url()))
        .header("Authorization", "Token any")
        .header("Accept", V2)
        .send()
        .await
}

async fn create_group(h: &SandboxHandle, name: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/organizations/{ORG}/groups/", h.base_url()))
        .header("Authorization", "Token any")
        .header("Accept", V2)
        .json(&json!({ "name": name }))
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

#[tokio::test]
async fn base_url_and_any_token_when_list_empty() {
    let h = sandbox().world(seed()).start().await;
    assert!(h.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(h.base_url(), format!("http://{}", h.addr()));
    let r = get(&h, "/api/organizations/").await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
    h.shutdown().await;
}

#[tokio::test]
async fn stats_events_and_reset() {
    let h = sandbox().world(seed()).start().await;
    get(&h, "/api/organizations/").await.expect("send");
    get(&h, "/api/organizations/").await.expect("send");
    assert_eq!(create_group(&h, "Ops").await, 201);
    let stats = h.stats();
    assert_eq!(stats.requests.get("GET /api/organizations/"), Some(&2));
    assert_eq!(
        stats.requests.get("POST /api/organizations/{org}/groups/"),
        Some(&1)
    );
    assert!(stats.peak_concurrency >= 1);
    let events = h.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "group.create");

    let http: Value = reqwest::get(format!("{}/_sandbox/stats", h.base_url()))
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(http["requests"]["GET /api/organizations/"], 2);
    let ev: Value = reqwest::get(format!("{}/_sandbox/events", h.base_url()))
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(ev[0]["api"], "pixiebrix");

    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/reset", h.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 204);
    assert!(h.events().is_empty());
    assert!(h.world().pixiebrix.organizations[0].groups.is_empty());
    assert_eq!(
        create_group(&h, "Ops").await,
        201,
        "name free again after reset"
    );
}

#[tokio::test]
async fn persists_after_every_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    let h = sandbox().world(seed()).persist(&path).start().await;
    assert_eq!(create_group(&h, "Ops").await, 201);
    let world = load_state(&path).expect("written back");
    assert_eq!(world.pixiebrix.organizations[0].groups[0].name, "Ops");
    assert!(!dir.path().join("state.json.tmp").exists());
}

#[tokio::test]
async fn bad_state_file_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{\"pixiebrix\": [").expect("write");
    let err = load_state(&path).expect_err("bad json").to_string();
    assert!(err.contains("bad.json"), "{err}");
    let err = load_state(&dir.path().join("missing.json"))
        .expect_err("missing")
        .to_string();
    assert!(err.contains("missing.json"), "{err}");
}

#[tokio::test]
async fn injected_5xx_use_the_providers_body() {
    let h = sandbox()
        .world(seed())
        .faults(Faults {
            status_503: 1.0,
            ..Faults::default()
        })
        .start()
        .await;
    let r = get(&h, "/api/organizations/").await.expect("send");
    assert_eq!(r.status().as_u16(), 503);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v, json!({"detail": "Service Unavailable"}));
    assert_eq!(h.stats().faults.get("503"), Some(&1));
}

#[tokio::test]
async fn injected_faults_are_deterministic_per_seed() {
    async fn run() -> Vec<u16> {
        let h = sandbox()
            .world(seed())
            .seed(7)
            .faults(Faults {
                status_500: 0.3,
                status_502: 0.2,
                ..Faults::default()
            })
            .start()
            .await;
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(
                get(&h, "/api/organizations/")
                    .await
                    .expect("send")
                    .status()
                    .as_u16(),
            );
        }
        out
    }
    let a = run().await;
    assert_eq!(a, run().await);
    assert!(a.contains(&200) && a.iter().any(|s| *s >= 500), "{a:?}");
}

#[tokio::test]
async fn connection_reset_is_a_client_error() {
    let h = sandbox()
        .world(seed())
        .faults(Faults {
            reset: 1.0,
            ..Faults::default()
        })
        .start()
        .await;
    let outcome = match get(&h, "/api/organizations/").await {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(outcome, "a reset must surface as a transport/body error");
}

#[tokio::test]
async fn slow_body_and_latency() {
    let h = sandbox()
        .world(seed())
        .latency_ms(30)
        .knobs(|k| k.slow_body_ms = 20)
        .faults(Faults {
            slow_body: 1.0,
            ..Faults::default()
        })
        .start()
        .await;
    let t = Instant::now();
    let r = get(&h, "/api/organizations/").await.expect("send");
    let v: Value = r.json().await.expect("json arrives whole, slowly");
    assert_eq!(v[0]["name"], "Acme");
    assert!(t.elapsed() >= Duration::from_millis(30 + 20));
}

/// The latency knob is the time to answer, as a real API's is: the request is handled
/// when it arrives (a write has taken effect long before its answer leaves) and the answer
/// leaves no sooner than the latency after that, the emulator's own work included in it.
#[tokio::test]
async fn latency_holds_the_answer_not_the_work() {
    let h = sandbox().world(seed()).latency_ms(400).start().await;
    let t = Instant::now();
    let write = create_group(&h, "Early");
    let look = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let seen = h.world().pixiebrix.organizations[0]
            .groups
            .iter()
            .any(|g| g.name == "Early");
        (seen, t.elapsed())
    };
    let (status, (seen, looked_at)) = tokio::join!(write, look);
    assert_eq!(status, 201);
    let answered_at = t.elapsed();
    assert!(
        seen,
        "the write had not taken effect {looked_at:?} after it was sent"
    );
    assert!(
        answered_at >= Duration::from_millis(400),
        "answered after {answered_at:?}"
    );
}

#[tokio::test]
async fn max_concurrency_makes_requests_wait() {
    let h = sandbox()
        .world(seed())
        .latency_ms(50)
        .knobs(|k| k.max_concurrency = Some(1))
        .start()
        .await;
    let t = Instant::now();
    let (a, b, c) = tokio::join!(
        get(&h, "/api/organizations/"),
        get(&h, "/api/organizations/"),
        get(&h, "/api/organizations/")
    );
    for r in [a, b, c] {
        assert_eq!(r.expect("send").status().as_u16(), 200);
    }
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(h.stats().peak_concurrency, 1);
}

#[tokio::test]
async fn page_size_knob_caps_pages() {
    let mut world = seed();
    let org = world.pixiebrix.organizations[0].clone();
    world
        .pixiebrix
        .organizations
        .push(teamsync::sandbox::pixiebrix::Org {
            id: "other".into(),
            ..org
        });
    let h = sandbox().world(world).page_size(1).start().await;
    let r = get(&h, "/api/organizations/?page_size=50")
        .await
        .expect("send");
    assert_eq!(r.headers()["x-total-count"], "2");
    assert!(r.headers().contains_key("link"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
}

#[test]
fn cli_serve_reports_a_bad_state_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.json");
    assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["sandbox", "serve", "--state"])
        .arg(&missing)
        .assert()
        .failure()
        .stderr(predicates::str::contains("missing.json"));
}

#[test]
fn variant_all_lists_every_variant() {
    use clap::ValueEnum;
    use teamsync::sandbox::Variant;
    assert_eq!(Variant::ALL, Variant::value_variants());
}
