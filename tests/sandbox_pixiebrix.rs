//! PixieBrix emulator over real HTTP on loopback; requests are built here, not by our client.

mod common;

use common::sandbox;
use serde_json::{Value, json};
use teamsync::sandbox::{SandboxHandle, Variant, World};

const V2: &str = "application/json; version=2.0";
const V1: &str = "application/json; version=1.0";
const ORG: &str = "11111111-1111-4111-8111-111111111111";
const GROUP: &str = "22222222-2222-4222-8222-222222222222";
const CAMPAIGN: &str = "44444444-4444-4444-8444-444444444444";

fn seed(extra_members: usize) -> World {
    let mut users = vec![
        json!({"id": "00000000-0000-4000-8000-000000000001", "name": "Ada", "email": "ada@acme.test"}),
        json!({"id": "00000000-0000-4000-8000-000000000002", "name": "Bot", "email": "bot@acme.test", "service_account": true}),
    ];
    let mut memberships = vec![
        json!({"id": 1, "user": "00000000-0000-4000-8000-000000000001", "role": 2}),
        json!({"id": 2, "user": "00000000-0000-4000-8000-000000000002", "role": 1}),
    ];
    for i in 0..extra_members {
        let id = format!("10000000-0000-4000-8000-{i:012}");
        users.push(json!({"id": id, "name": format!("U{i}"), "email": format!("u{i}@acme.test")}));
        memberships.push(json!({"id": 100 + i, "user": id, "role": 1}));
    }
    serde_json::from_value(json!({"pixiebrix": {
        "tokens": ["good"],
        "organizations": [{
            "id": ORG, "name": "Acme",
            "verified_domains": ["partner.test"],
            "users": users, "memberships": memberships,
            "groups": [{"id": GROUP, "name": "Support",
                        "members": [{"id": "33333333-3333-4333-8333-333333333333", "email": "ada@acme.test"}]}],
            "campaigns": [{"id": CAMPAIGN, "name": "Q3", "members": []}]
        }]
    }}))
    .expect("seed")
}

fn req(h: &SandboxHandle, m: reqwest::Method, path: &str, accept: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(m, format!("{}{path}", h.base_url()))
        .header("Authorization", "Token good")
        .header("Accept", accept)
}

async fn body(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let text = r.text().await.expect("body");
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

use reqwest::Method as M;

#[tokio::test]
async fn auth_missing_wrong_and_scheme() {
    let h = sandbox().world(seed(0)).start().await;
    let url = format!("{}/api/organizations/", h.base_url());
    let c = reqwest::Client::new();
    let r = c.get(&url).send().await.expect("send");
    assert_eq!(r.headers()["www-authenticate"], "Token");
    assert_eq!(
        body(r).await,
        (
            401,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
    let r = c
        .get(&url)
        .header("Authorization", "Token bad")
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await, (401, json!({"detail": "Invalid token."})));
    let r = c
        .get(&url)
        .header("Authorization", "Bearer good")
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 401);
    let r = req(&h, M::GET, "/api/organizations/", V2)
        .send()
        .await
        .expect("send");
    let (s, v) = body(r).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["name"], "Acme");
}

#[tokio::test]
async fn version_406_404_405() {
    let h = sandbox().world(seed(0)).start().await;
    let r = req(&h, M::GET, "/api/memberships/1/", V2)
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (
            406,
            json!({"detail": "Invalid version in \"Accept\" header."})
        )
    );
    let r = req(&h, M::GET, "/api/memberships/1/", V1)
        .send()
        .await
        .expect("send");
    let (s, v) = body(r).await;
    assert_eq!(s, 200);
    assert_eq!(v["role"], 2);
    assert_eq!(v["user"]["email"], "ada@acme.test");
    let r = req(&h, M::GET, "/api/memberships/999/", V1)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await, (404, json!({"detail": "Not found."})));
    let r = req(&h, M::GET, "/api/memberships/1", V1)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 404, "slashless path");
    let r = req(&h, M::POST, "/api/memberships/1/", V1)
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (405, json!({"detail": "Method \"POST\" not allowed."}))
    );
}

#[tokio::test]
async fn memberships_filters_patch_delete() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/organizations/{ORG}/memberships/");
    let r = req(&h, M::GET, &format!("{p}?user__service_account=true"), V2)
        .send()
        .await
        .expect("send");
    let (_, v) = body(r).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(v[0]["user"]["email"], "bot@acme.test");
    let r = req(&h, M::GET, &format!("{p}?q=ADA"), V2)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1[0]["id"], 1);
    let r = req(&h, M::GET, &format!("{p}?role=2"), V2)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1.as_array().map(Vec::len), Some(1));
    let m = "/api/memberships/2/";
    let r = req(&h, M::PATCH, m, V1)
        .json(&json!({"role": 9}))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 400);
    let r = req(&h, M::PATCH, m, V1)
        .json(&json!({"role": 3}))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1["role"], 3);
    let r = req(&h, M::PUT, m, V1)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (400, json!({"role": ["This field is required."]}))
    );
    let r = req(&h, M::DELETE, m, V1).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 204);
    let r = req(&h, M::DELETE, m, V1).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 404);
}

fn next_link(link: &str) -> Option<String> {
    link.split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .and_then(|l| l.trim_start_matches('<').split('>').next())
        .map(str::to_string)
}

#[tokio::test]
async fn paging_across_pages_with_link_headers() {
    let h = sandbox().world(seed(2_498)).start().await;
    let p = format!("/api/organizations/{ORG}/memberships/");
    let mut url = format!("{}{p}?page_size=5000", h.base_url());
    let (mut seen, mut pages) = (0, 0);
    loop {
        let r = reqwest::Client::new()
            .get(&url)
            .header("Authorization", "Token good")
            .header("Accept", V2)
            .send()
            .await
            .expect("send");
        assert_eq!(r.headers()["x-total-count"], "2500");
        let link = r
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let (_, v) = body(r).await;
        pages += 1;
        seen += v.as_array().map(Vec::len).unwrap_or(0);
        if pages == 1 {
            assert!(
                !link.contains("rel=\"first\"") && !link.contains("rel=\"prev\""),
                "{link}"
            );
        }
        if pages == 2 {
            let prev = format!("<{}{p}?page_size=5000>; rel=\"prev\"", h.base_url());
            assert!(link.contains(&prev), "{link}");
            assert!(link.contains("rel=\"first\""), "{link}");
            assert!(link.contains("page=3>; rel=\"last\""), "{link}");
        }
        match next_link(&link) {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, 2500));
    let r = req(&h, M::GET, &format!("{p}?page=4&page_size=1000"), V2)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await, (404, json!({"detail": "Invalid page."})));
    let r = req(&h, M::GET, &p, V2).send().await.expect("send");
    assert_eq!(
        body(r).await.1.as_array().map(Vec::len),
        Some(100),
        "default size"
    );
    let r = req(&h, M::GET, &p, V1).send().await.expect("send");
    assert!(r.headers().get("link").is_none());
    assert_eq!(
        body(r).await.1.as_array().map(Vec::len),
        Some(2500),
        "v1 unpaged"
    );
}

#[tokio::test]
async fn single_page_has_no_link() {
    let h = sandbox().world(seed(0)).start().await;
    let r = req(&h, M::GET, &format!("/api/organizations/{ORG}/groups/"), V2)
        .send()
        .await
        .expect("send");
    assert!(r.headers().get("link").is_none());
    assert_eq!(r.headers()["x-total-count"], "1");
}

#[tokio::test]
async fn groups_crud_and_unique_name() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/organizations/{ORG}/groups/");
    let r = req(&h, M::POST, &p, V2)
        .json(&json!({"name": "Ops"}))
        .send()
        .await
        .expect("send");
    let (s, g) = body(r).await;
    assert_eq!(s, 201);
    assert_eq!(g["num_members"], 0);
    let r = req(&h, M::POST, &p, V2)
        .json(&json!({"name": "support"}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (
            400,
            json!({"name": ["group with this name already exists."]})
        )
    );
    let r = req(&h, M::POST, &p, V2)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (400, json!({"name": ["This field is required."]}))
    );
    let d = format!("/api/groups/{}/", g["id"].as_str().unwrap_or(""));
    let r = req(&h, M::PATCH, &d, V1)
        .json(&json!({"name": "Ops2"}))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1["name"], "Ops2");
    let r = req(&h, M::GET, &d, V1).send().await.expect("send");
    assert_eq!(body(r).await.1["deployments"], json!([]));
    let r = req(&h, M::DELETE, &d, V1).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 204);
    let r = req(&h, M::GET, &d, V1).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn group_memberships_add_replace_delete_eligibility() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/groups/{GROUP}/memberships/");
    let add = json!([{"email": "ada@acme.test"},
                     {"user_id": "00000000-0000-4000-8000-000000000002"},
                     {"email": "x@partner.test"}]);
    let r = req(&h, M::POST, &p, V2)
        .json(&add)
        .send()
        .await
        .expect("send");
    let (s, v) = body(r).await;
    assert_eq!(s, 201);
    assert_eq!(
        v[0]["id"], "33333333-3333-4333-8333-333333333333",
        "existing kept"
    );
    assert_eq!(v[2]["user"], Value::Null);
    let bad = json!([{"email": "ada@acme.test"}, {"email": "eve@evil.test"}]);
    let r = req(&h, M::POST, &p, V2)
        .json(&bad)
        .send()
        .await
        .expect("send");
    let (s, v) = body(r).await;
    assert_eq!(s, 400);
    assert_eq!(v[0], json!({}));
    assert!(
        v[1]["email"][0]
            .as_str()
            .unwrap_or("")
            .contains("eve@evil.test")
    );
    let r = req(&h, M::PUT, &p, V2)
        .json(&json!([{"email": "bot@acme.test"}]))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 200);
    let r = req(&h, M::GET, &p, V2).send().await.expect("send");
    let (_, v) = body(r).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    let mid = format!("{p}{}/", v[0]["id"].as_str().unwrap_or(""));
    let r = req(&h, M::DELETE, &mid, V2).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 204);
    let r = req(&h, M::DELETE, &mid, V2).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn campaigns_and_members() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/organizations/{ORG}/campaigns/");
    let r = req(&h, M::POST, &p, V2)
        .json(&json!({"name": "Q4"}))
        .send()
        .await
        .expect("send");
    let (s, c) = body(r).await;
    assert_eq!(s, 201);
    let d = format!("{p}{}/", c["id"].as_str().unwrap_or(""));
    let r = req(&h, M::PATCH, &d, V2)
        .json(&json!({"name": "Q4b"}))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1["name"], "Q4b");
    let r = req(&h, M::PUT, &d, V2)
        .json(&json!({"name": "Q4c"}))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1["name"], "Q4c");
    let m = format!("{p}{CAMPAIGN}/members/");
    let one = |loc: &str| json!([{"email": "ada@acme.test", "data": {"Location": loc}}]);
    let r = req(&h, M::POST, &m, V2)
        .json(&one("NY"))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 201);
    let r = req(&h, M::POST, &m, V2)
        .json(&one("LA"))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.1[0]["data"]["Location"], "LA");
    let r = req(&h, M::POST, &m, V2)
        .json(&json!([{"email": "ada@acme.test"}]))
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (400, json!([{"data": ["This field is required."]}]))
    );
    let put = json!([{"email": "bot@acme.test", "data": {}}]);
    let r = req(&h, M::PUT, &m, V2)
        .json(&put)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 200);
    let r = req(&h, M::GET, &m, V2).send().await.expect("send");
    let (_, v) = body(r).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(v[0]["email"], "bot@acme.test");
    let r = req(&h, M::DELETE, &d, V2).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 204);
}

#[tokio::test]
async fn invitations() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/organizations/{ORG}/invitations/");
    let inv = json!({"email": "new@acme.test", "role": 1});
    let r = req(&h, M::POST, &p, V2)
        .json(&inv)
        .send()
        .await
        .expect("send");
    let (s, v) = body(r).await;
    assert_eq!(s, 201);
    assert_eq!(v["organization"]["name"], "Acme");
    let r = req(&h, M::POST, &p, V2)
        .json(&json!({"email": "nope"}))
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 400);
    let r = req(&h, M::GET, &p, V2).send().await.expect("send");
    assert_eq!(body(r).await.1.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn invitations_are_revoked_by_id() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/organizations/{ORG}/invitations/");
    let mut ids = Vec::new();
    for email in ["one@acme.test", "two@acme.test"] {
        let r = req(&h, M::POST, &p, V2)
            .json(&json!({"email": email}))
            .send()
            .await
            .expect("send");
        let (s, v) = body(r).await;
        assert_eq!(s, 201);
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let r = req(&h, M::DELETE, &format!("{p}{}/", ids[0]), V2)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 204);
    let r = req(&h, M::GET, &p, V2).send().await.expect("send");
    let (_, list) = body(r).await;
    let left: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["email"].as_str())
        .collect();
    assert_eq!(left, vec!["two@acme.test"]);
    let r = req(&h, M::DELETE, &format!("{p}{}/", ids[0]), V2)
        .send()
        .await
        .expect("send");
    assert_eq!(
        body(r).await,
        (404, json!({"detail": "Not found."})),
        "already revoked"
    );
    let other = format!(
        "/api/organizations/99999999-9999-4999-8999-999999999999/invitations/{}/",
        ids[1]
    );
    let r = req(&h, M::DELETE, &other, V2).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 404, "unknown organization");
    let r = req(
        &h,
        M::DELETE,
        &format!("{p}{}/", ids[1]),
        "application/json; version=9.9",
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status().as_u16(), 406);
    let r = reqwest::Client::new()
        .delete(format!("{}{p}{}/", h.base_url(), ids[1]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let revokes: Vec<_> = h
        .events()
        .into_iter()
        .filter(|e| e.action == "invitation.revoke")
        .collect();
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].detail["email"], "one@acme.test");
}

#[tokio::test]
async fn rate_limit_answers_drf_429() {
    let h = sandbox().world(seed(0)).rate_limit(2).start().await;
    for _ in 0..2 {
        let r = req(&h, M::GET, "/api/organizations/", V2)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = req(&h, M::GET, "/api/organizations/", V2)
        .send()
        .await
        .expect("send");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(retry >= 1);
    let (s, v) = body(r).await;
    assert_eq!(s, 429);
    assert_eq!(
        v["detail"],
        format!("Request was throttled. Expected available in {retry} seconds.")
    );
}

#[tokio::test]
async fn bad_json_bad_version_bad_page() {
    let h = sandbox().world(seed(0)).start().await;
    let p = format!("/api/organizations/{ORG}/groups/");
    let r = req(&h, M::POST, &p, V2)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    let (s, v) = body(r).await;
    assert_eq!(s, 400);
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("JSON parse error")
    );
    let r = req(&h, M::GET, &p, "application/json; version=3.0")
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 406);
    let r = req(&h, M::GET, &p, "application/json")
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await.0, 200, "no version is accepted");
    let r = req(&h, M::GET, &format!("{p}?page=abc"), V2)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await, (404, json!({"detail": "Invalid page."})));
    let r = req(&h, M::GET, "/api/organizations/nope/groups/", V2)
        .send()
        .await
        .expect("send");
    assert_eq!(body(r).await, (404, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn rate_limit_is_per_token() {
    let mut world = seed(0);
    world.pixiebrix.tokens.push("other".into());
    let h = sandbox().world(world).rate_limit(1).start().await;
    let url = format!("{}/api/organizations/", h.base_url());
    let c = reqwest::Client::new();
    let send = |tok: &'static str| {
        c.get(&url)
            .header("Authorization", format!("Token {tok}"))
            .send()
    };
    assert_eq!(send("good").await.expect("send").status().as_u16(), 200);
    assert_eq!(send("good").await.expect("send").status().as_u16(), 429);
    assert_eq!(send("other").await.expect("send").status().as_u16(), 200);
    assert_eq!(h.stats().throttled, 1);
}

/// Every membership id of the team, read page by page (`page_size` 7) at version 2.0.
async fn all_membership_ids(h: &SandboxHandle) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut url = format!(
        "{}/api/organizations/{ORG}/memberships/?page_size=7",
        h.base_url()
    );
    loop {
        let r = reqwest::Client::new()
            .get(&url)
            .header("Authorization", "Token good")
            .header("Accept", V2)
            .send()
            .await
            .expect("send");
        assert_eq!(r.headers()["x-total-count"], "32");
        let link = r
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        let (s, b) = body(r).await;
        assert_eq!(s, 200);
        ids.extend(
            b.as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_u64().unwrap()),
        );
        match link.as_deref().and_then(next_link) {
            Some(next) => url = next,
            None => return ids,
        }
    }
}

#[tokio::test]
async fn shuffled_lists_hold_the_same_items_in_another_order() {
    let plain = sandbox().world(seed(30)).start().await;
    let shuffled = sandbox()
        .world(seed(30))
        .variant(Variant::Shuffled)
        .seed(11)
        .start()
        .await;
    let natural = all_membership_ids(&plain).await;
    let served = all_membership_ids(&shuffled).await;
    assert_ne!(served, natural, "not the natural order");
    let mut sorted = served.clone();
    sorted.sort();
    let mut expected = natural.clone();
    expected.sort();
    assert_eq!(sorted, expected, "the same items, each once, across pages");
    // Version 1.0 serves the whole list at once, in the same order as the pages.
    let r = req(
        &shuffled,
        M::GET,
        &format!("/api/organizations/{ORG}/memberships/"),
        V1,
    )
    .send()
    .await
    .expect("send");
    let (_, whole) = body(r).await;
    let whole: Vec<u64> = whole
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(whole, served);
    // Group members are shuffled too.
    let g = format!("/api/groups/{GROUP}/memberships/");
    let r = req(&shuffled, M::POST, &g, V2)
        .json(&json!([{"email": "bot@acme.test"}, {"email": "u1@acme.test"}]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 201);
    let r = req(&shuffled, M::GET, &g, V2).send().await.expect("send");
    let (_, members) = body(r).await;
    let emails: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["email"].as_str())
        .collect();
    assert_eq!(emails.len(), 3);
    assert_ne!(
        emails,
        vec!["ada@acme.test", "bot@acme.test", "u1@acme.test"]
    );
}

/// The groups a campaign member is listed with and the campaigns a group member is listed
/// with follow every write, in the write's own answer and in the reads after it: a write
/// to a group drops only what it outdates (the group lookups), so this checks that what
/// it keeps is still true and what it drops is found again.
#[tokio::test]
async fn embedded_groups_and_campaigns_follow_every_write() {
    let h = sandbox().world(seed(0)).start().await;
    let group = format!("/api/groups/{GROUP}/memberships/");
    let campaign = format!("/api/organizations/{ORG}/campaigns/{CAMPAIGN}/members/");
    let send = |m: M, path: &str, items: Value| {
        let r = req(&h, m, path, V2).json(&items);
        async move { body(r.send().await.expect("send")).await }
    };
    let join_campaign =
        |email: &str| send(M::POST, &campaign, json!([{"email": email, "data": {}}]));
    let get = |path: &str| {
        let r = req(&h, M::GET, path, V2);
        async move { body(r.send().await.expect("send")).await.1 }
    };
    let by_email = |list: &Value, email: &str| {
        list.as_array()
            .and_then(|l| l.iter().find(|m| m["email"] == email).cloned())
            .unwrap_or(Value::Null)
    };
    let campaign_ids = |m: &Value| -> Vec<Value> {
        m["campaigns"]
            .as_array()
            .map(|cs| cs.iter().map(|c| c["id"].clone()).collect())
            .unwrap_or_default()
    };

    // Reads build every lookup; Ada is in the group, nobody in the campaign.
    assert_eq!(get(&campaign).await, json!([]));
    assert_eq!(
        campaign_ids(&by_email(&get(&group).await, "ada@acme.test")),
        [] as [Value; 0]
    );

    // A campaign write's answer finds Ada's user and group.
    let (s, v) = join_campaign("ada@acme.test").await;
    assert_eq!(s, 201);
    assert_eq!(v[0]["groups"], json!([GROUP]));
    assert_eq!(v[0]["account"]["email"], "ada@acme.test");
    // The group lists see the campaign write (its lookups were dropped and rebuilt).
    assert_eq!(
        campaign_ids(&by_email(&get(&group).await, "ada@acme.test")),
        [json!(CAMPAIGN)]
    );

    // Both lists read again (now that each has a member to embed), so every lookup is
    // built when the next write comes.
    assert_eq!(
        by_email(&get(&campaign).await, "ada@acme.test")["groups"],
        json!([GROUP])
    );

    // A group write (Bot in, Ada out): its answer finds Bot's user and (no) campaigns.
    let (s, v) = send(M::PUT, &group, json!([{"email": "bot@acme.test"}])).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["user"]["email"], "bot@acme.test");
    assert_eq!(campaign_ids(&v[0]), [] as [Value; 0]);
    // The campaign list sees the group write: Ada is in no group any more.
    assert_eq!(
        by_email(&get(&campaign).await, "ada@acme.test")["groups"],
        json!([])
    );

    // A campaign write straight after a group write: its answer finds Bot's new group.
    let (s, v) = join_campaign("bot@acme.test").await;
    assert_eq!(s, 201);
    assert_eq!(v[0]["groups"], json!([GROUP]));
    assert_eq!(
        campaign_ids(&by_email(&get(&group).await, "bot@acme.test")),
        [json!(CAMPAIGN)]
    );
}
