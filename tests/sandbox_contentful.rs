//! Contentful emulator over real HTTP on loopback; requests are built here, not by our client.

use reqwest::Method as M;
use serde_json::{Value, json};
use teamsync::sandbox::{Knobs, Sandbox, SandboxHandle, World};

const CT: &str = "application/vnd.contentful.management.v1+json";

fn seed(extra: usize) -> World {
    let mut users = vec![
        json!({"id": "Uada", "email": "ada@acme.test", "first_name": "Ada", "last_name": "Lovelace"}),
        json!({"id": "Ubob", "email": "bob@acme.test", "first_name": "Bob", "last_name": "B"}),
        json!({"id": "Upen", "email": "pen@acme.test"}),
    ];
    let mut memberships = vec![
        json!({"id": "OMada", "user": "Uada", "role": "owner"}),
        json!({"id": "OMbob", "user": "Ubob"}),
        json!({"id": "OMpen", "user": "Upen", "status": "pending"}),
    ];
    for i in 0..extra {
        users.push(json!({"id": format!("U{i:05}"), "email": format!("u{i}@acme.test")}));
        memberships.push(json!({"id": format!("OM{i:05}"), "user": format!("U{i:05}")}));
    }
    serde_json::from_value(json!({"contentful": {"tokens": ["good"], "organizations": {"org1": {
        "users": users, "memberships": memberships,
        "teams": [{"id": "Tdocs", "name": "Docs", "version": 2, "members": [{"id": "TMada", "membership": "OMada"}]}]
    }}}}))
    .expect("seed")
}

async fn start(extra: usize, knobs: Knobs) -> SandboxHandle {
    Sandbox::start(seed(extra), knobs, None)
        .await
        .expect("start")
}

fn req(h: &SandboxHandle, m: M, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(m, format!("{}/organizations/org1{path}", h.base_url()))
        .header("Authorization", "Bearer good")
        .header("Content-Type", CT)
}

async fn body(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let text = r.text().await.expect("body");
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn auth_header_or_access_token_and_contentfuls_error_body() {
    let h = start(0, Knobs::default()).await;
    let c = reqwest::Client::new();
    let url = format!("{}/organizations/org1/teams", h.base_url());
    let (s, b) = body(c.get(&url).send().await.unwrap()).await;
    assert_eq!(
        (s, b["sys"]["id"].as_str()),
        (401, Some("AccessTokenInvalid"))
    );
    assert_eq!(b["sys"]["type"], "Error");
    assert!(b["requestId"].is_string() && b["message"].is_string());
    let (s, _) = body(
        c.get(&url)
            .header("Authorization", "Bearer bad")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = body(
        c.get(format!("{url}?access_token=good"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn organization_memberships_page_with_skip_and_include_users() {
    let h = start(247, Knobs::default()).await;
    let mut skip = 0;
    let mut seen = 0;
    let mut requests = 0;
    loop {
        let resp = req(&h, M::GET, "/organization_memberships")
            .query(&[
                ("limit", "100"),
                ("skip", &skip.to_string()),
                ("include", "sys.user"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-contentful-ratelimit-reset"], "0");
        let (s, b) = body(resp).await;
        assert_eq!(s, 200);
        assert_eq!(
            (
                b["sys"]["type"].as_str(),
                b["total"].as_u64(),
                b["skip"].as_u64()
            ),
            (Some("Array"), Some(250), Some(skip as u64))
        );
        let n = b["items"].as_array().unwrap().len();
        assert_eq!(
            b["includes"]["User"].as_array().unwrap().len(),
            n,
            "every linked user included"
        );
        seen += n;
        skip += n;
        requests += 1;
        if skip >= 250 {
            break;
        }
    }
    assert_eq!((seen, requests), (250, 3));
    let (s, b) = body(
        req(&h, M::GET, "/organization_memberships")
            .query(&[("limit", "101")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["sys"]["id"].as_str()), (400, Some("BadRequest")));
    let (_, b) = body(
        req(&h, M::GET, "/organization_memberships")
            .query(&[("query", "LOVELACE")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["total"], 1, "query searches names case-insensitively");
    let (_, b) = body(
        req(&h, M::GET, "/organization_memberships")
            .query(&[("sys.status", "pending")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["items"][0]["sys"]["id"], "OMpen");
}

#[tokio::test]
async fn teams_are_created_and_updated_only_with_the_current_version() {
    let h = start(0, Knobs::default()).await;
    let (s, t) = body(
        req(&h, M::POST, "/teams")
            .json(&json!({"name": "Editors", "description": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        (
            t["sys"]["version"].as_u64(),
            t["sys"]["memberCount"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let id = t["sys"]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 22);
    let (s, b) = body(
        req(&h, M::POST, "/teams")
            .json(&json!({"description": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["sys"]["id"].as_str()),
        (422, Some("ValidationFailed"))
    );
    let (s, b) = body(
        req(&h, M::POST, "/teams")
            .json(&json!({"name": "X", "colour": "red"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["sys"]["id"].as_str()), (400, Some("UnknownKey")));
    let (s, b) = body(
        req(&h, M::PUT, &format!("/teams/{id}"))
            .json(&json!({"name": "Ed"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["sys"]["id"].as_str()),
        (409, Some("VersionMismatch")),
        "no version header"
    );
    let (s, _) = body(
        req(&h, M::PUT, &format!("/teams/{id}"))
            .header("X-Contentful-Version", "5")
            .json(&json!({"name": "Ed"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409, "stale version");
    let (s, b) = body(
        req(&h, M::PUT, &format!("/teams/{id}"))
            .header("X-Contentful-Version", "0")
            .json(&json!({"name": "Ed"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["sys"]["version"].as_u64(), b["name"].as_str()),
        (200, Some(1), Some("Ed"))
    );
    let (s, _) = body(
        req(&h, M::DELETE, &format!("/teams/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    let (s, b) = body(
        req(&h, M::DELETE, &format!("/teams/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["sys"]["id"].as_str()), (404, Some("NotFound")));
}

#[tokio::test]
async fn a_team_membership_needs_an_active_organization_membership() {
    let h = start(0, Knobs::default()).await;
    let post = |body: Value| {
        req(&h, M::POST, "/teams/Tdocs/team_memberships")
            .json(&body)
            .send()
    };
    let (s, tm) = body(
        post(json!({"organizationMembershipId": "OMbob"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(tm["sys"]["team"]["sys"]["linkType"], "Team");
    assert_eq!(tm["sys"]["user"]["sys"]["id"], "Ubob");
    let (s, b) = body(
        post(json!({"organizationMembershipId": "OMbob"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["details"]["errors"][0]["name"].as_str()),
        (422, Some("taken")),
        "already a member"
    );
    let (s, _) = body(
        post(json!({"organizationMembershipId": "OMpen"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "a pending invitation cannot join a team");
    let (s, _) = body(
        post(json!({"organizationMembershipId": "OMnobody"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = body(post(json!({})).await.unwrap()).await;
    assert_eq!(s, 422);
    let (s, b) = body(
        post(json!({"organizationMembershipId": "OMbob", "x": 1}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["sys"]["id"].as_str()), (400, Some("UnknownKey")));

    let (_, list) = body(
        req(&h, M::GET, "/teams/Tdocs/team_memberships")
            .query(&[("include", "sys.user")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 2);
    let emails: Vec<&str> = list["includes"]["User"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, vec!["ada@acme.test", "bob@acme.test"]);
    let (_, across) = body(
        req(&h, M::GET, "/team_memberships")
            .query(&[("sys.organizationMembership.sys.id[in]", "OMbob,OMx")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(across["total"], 1);
    let (_, team) = body(req(&h, M::GET, "/teams/Tdocs").send().await.unwrap()).await;
    assert_eq!(team["sys"]["memberCount"], 2);

    let tm_id = tm["sys"]["id"].as_str().unwrap();
    let (s, _) = body(
        req(
            &h,
            M::DELETE,
            &format!("/teams/Tdocs/team_memberships/{tm_id}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = body(
        req(
            &h,
            M::DELETE,
            &format!("/teams/Tdocs/team_memberships/{tm_id}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
    let actions: Vec<String> = h.events().iter().map(|e| e.action.clone()).collect();
    assert_eq!(
        actions,
        vec!["team_membership.create", "team_membership.remove"]
    );
}

#[tokio::test]
async fn rate_limit_answers_with_contentfuls_429_and_reset_seconds() {
    let h = start(
        0,
        Knobs {
            rate_limit: 1,
            ..Knobs::default()
        },
    )
    .await;
    let ok = req(&h, M::GET, "/teams").send().await.unwrap();
    assert_eq!(ok.headers()["x-contentful-ratelimit-second-limit"], "1");
    let r = req(&h, M::GET, "/teams").send().await.unwrap();
    assert_eq!(r.status(), 429);
    let reset: u64 = r.headers()["x-contentful-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&reset),
        "seconds to wait, not an epoch: {reset}"
    );
    let (_, b) = body(r).await;
    assert_eq!(b["sys"]["id"], "RateLimitExceeded");
}
