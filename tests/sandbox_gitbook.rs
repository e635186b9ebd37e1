//! GitBook emulator over real HTTP on loopback; requests are built here, not by our client.
//! Response bodies are checked against GitBook's own OpenAPI schemas, from the vendor
//! extract in `docs/providers/vendor/gitbook/`.

use reqwest::Method as M;
use serde_json::{Value, json};
use teamsync::sandbox::{Knobs, Sandbox, SandboxHandle, World};

fn seed(extra: usize) -> World {
    let mut members = vec![
        json!({"id": "u_ada", "name": "Ada", "email": "ada@acme.test", "role": "admin"}),
        json!({"id": "u_bob", "name": "Bob", "email": "Bob@Acme.test", "role": "edit"}),
        json!({"id": "u_cy", "name": "Cy", "role": "read"}),
    ];
    for i in 0..extra {
        members.push(json!({"id": format!("u_{i:05}"), "name": format!("U{i}"), "email": format!("u{i}@acme.test"), "role": "read"}));
    }
    serde_json::from_value(json!({"gitbook": {"tokens": ["good"], "organizations": {"acme": {
        "members": members,
        "teams": [{"id": "t_docs", "title": "Docs", "members": [{"user": "u_ada", "role": "owner"}]}]
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
        .request(m, format!("{}/v1{path}", h.base_url()))
        .header("Authorization", "Bearer good")
}

async fn body(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let text = r.text().await.expect("body");
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Validates `value` against `#/components/schemas/{name}` of the vendor OpenAPI extract.
fn vendor_check(name: &str, value: &Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/providers/vendor/gitbook/openapi-teams-extract.json"
    );
    let text = std::fs::read_to_string(path).expect("the vendor extract is in the repository");
    let spec: Value = serde_json::from_str(&text).expect("vendor JSON");
    let schema =
        json!({"$ref": format!("#/components/schemas/{name}"), "components": spec["components"]});
    let validator = jsonschema::draft202012::new(&schema).expect("vendor schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} does not match the vendor schema: {errors:#?}\n{value:#}"
    );
}

#[tokio::test]
async fn auth_is_checked_with_gitbooks_error_body() {
    let h = start(0, Knobs::default()).await;
    let c = reqwest::Client::new();
    let (s, b) = body(
        c.get(format!("{}/v1/orgs/acme/teams", h.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_u64()), (401, Some(401)));
    let (s, _) = body(
        c.get(format!("{}/v1/orgs/acme/teams", h.base_url()))
            .header("Authorization", "Bearer nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = body(
        c.get(format!("{}/v1/orgs/acme/teams", h.base_url()))
            .header("Authorization", "Token good")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401, "wrong scheme");
}

#[tokio::test]
async fn members_page_across_pages_with_opaque_tokens_and_match_the_vendor_schema() {
    let h = start(2_497, Knobs::default()).await;
    let mut seen = 0;
    let mut page: Option<String> = None;
    let mut requests = 0;
    loop {
        let mut r = req(&h, M::GET, "/orgs/acme/members").query(&[("limit", "1000")]);
        if let Some(p) = &page {
            r = r.query(&[("page", p)]);
        }
        let resp = r.send().await.unwrap();
        assert!(
            resp.headers().contains_key("x-ratelimit-reset"),
            "rate-limit headers on every response"
        );
        let (s, b) = body(resp).await;
        assert_eq!(s, 200);
        assert_eq!(b["count"], 2_500);
        vendor_check("List", &b);
        if seen == 0 {
            vendor_check("OrganizationMember", &b["items"][0]);
        }
        seen += b["items"].as_array().unwrap().len();
        requests += 1;
        match b["next"]["page"].as_str() {
            Some(p) => page = Some(p.to_string()),
            None => break,
        }
    }
    assert_eq!((seen, requests), (2_500, 3));
    let (s, _) = body(
        req(&h, M::GET, "/orgs/acme/members")
            .query(&[("limit", "1001")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400, "limit is at most 1000");
    let (s, _) = body(
        req(&h, M::GET, "/orgs/acme/members")
            .query(&[("page", "garbage")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    let (_, b) = body(
        req(&h, M::GET, "/orgs/acme/members")
            .query(&[("search", "BOB@acme")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["count"], 1, "search is case-insensitive over email");
}

#[tokio::test]
async fn teams_are_created_by_put_renamed_and_deleted_with_205_then_204() {
    let h = start(0, Knobs::default()).await;
    let (s, team) = body(
        req(&h, M::PUT, "/orgs/acme/teams")
            .json(&json!({"title": "API", "members": ["u_bob"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    vendor_check("OrganizationTeam", &team);
    assert_eq!(team["members"], 1);
    let id = team["id"].as_str().unwrap().to_string();
    assert!(
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    );
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams")
            .json(&json!({"title": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400, "title 1..64");
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams")
            .json(&json!({"title": "x".repeat(65)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    let (s, b) = body(
        req(&h, M::PATCH, &format!("/orgs/acme/teams/{id}"))
            .json(&json!({"title": "API docs"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["title"].as_str()), (200, Some("API docs")));
    let (_, list) = body(
        req(&h, M::GET, "/orgs/acme/teams")
            .query(&[("title", "api")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["count"], 1);
    let (s, _) = body(
        req(&h, M::DELETE, &format!("/orgs/acme/teams/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 205);
    let (s, _) = body(
        req(&h, M::DELETE, &format!("/orgs/acme/teams/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204, "nothing left to delete");
    let (s, b) = body(
        req(&h, M::GET, "/orgs/acme/teams/nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn bulk_member_updates_follow_the_vendor_rules() {
    let h = start(0, Knobs::default()).await;
    let members = |h: &SandboxHandle| {
        let r = req(h, M::GET, "/orgs/acme/teams/t_docs/members");
        async move {
            let (_, b) = body(r.send().await.unwrap()).await;
            vendor_check("OrganizationTeamMember", &b["items"][0]);
            let mut v: Vec<(String, String)> = b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["organization"]["id"].as_str().unwrap().to_string(),
                        i["team"]["role"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            v.sort();
            v
        }
    };
    // Add by email (case-insensitive) with a role, add by id, add and remove the same user.
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"add": ["bob@acme.test", "u_cy"], "remove": ["u_cy"], "memberships": {"u_bob": {"role": "owner"}}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        members(&h).await,
        vec![
            ("u_ada".into(), "owner".into()),
            ("u_bob".into(), "owner".into())
        ],
        "add+remove ends removed"
    );
    // A non-member rejects the whole request.
    let (s, b) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"add": ["u_cy", "stranger@x.test"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(members(&h).await.len(), 2, "nothing applied");
    // Adding an existing member keeps their role; a bad role is refused.
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"add": ["u_ada"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(members(&h).await[0], ("u_ada".into(), "owner".into()));
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"memberships": {"u_ada": {"role": "admin"}}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    // Per-user routes.
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members/u_cy")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    assert!(
        members(&h)
            .await
            .contains(&("u_cy".into(), "member".into())),
        "no body: role member"
    );
    let (s, _) = body(
        req(&h, M::DELETE, "/orgs/acme/teams/t_docs/members/u_cy")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 205);
    let (s, _) = body(
        req(&h, M::DELETE, "/orgs/acme/teams/t_docs/members/u_cy")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    let actions: Vec<String> = h.events().iter().map(|e| e.action.clone()).collect();
    assert_eq!(
        actions,
        vec!["team_member.add", "team_member.add", "team_member.remove"],
        "bob added as owner at once; cy never added by the conflicting request"
    );
}

#[tokio::test]
async fn rate_limit_answers_with_gitbooks_429_and_reset_header() {
    let h = start(
        0,
        Knobs {
            rate_limit: 2,
            ..Knobs::default()
        },
    )
    .await;
    for _ in 0..2 {
        let r = req(&h, M::GET, "/orgs/acme/teams").send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = req(&h, M::GET, "/orgs/acme/teams").send().await.unwrap();
    assert_eq!(r.status(), 429);
    let reset: u64 = r.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset > now && reset <= now + 61,
        "epoch seconds: {reset} vs {now}"
    );
    let (_, b) = body(r).await;
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
}
