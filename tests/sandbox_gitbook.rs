//! GitBook emulator over real HTTP on loopback; requests are built here, not by our client.
//! Response bodies are checked against GitBook's own OpenAPI schemas, from the vendor
//! extract in `docs/providers/vendor/gitbook/`.

use reqwest::Method as M;
mod common;

use common::sandbox;
use serde_json::{Value, json};
use teamsync::sandbox::{GitbookInvitees, GitbookInvites, SandboxHandle, Variant, World};

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
    let h = sandbox().world(seed(0)).start().await;
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
    let h = sandbox().world(seed(2_497)).start().await;
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
    let h = sandbox().world(seed(0)).start().await;
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
    let h = sandbox().world(seed(0)).start().await;
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
    let h = sandbox().world(seed(0)).rate_limit(2).start().await;
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

async fn invite(h: &SandboxHandle, invite: Value) -> (u16, Value) {
    body(
        req(h, M::POST, "/orgs/acme/invites")
            .json(&invite)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn member_count(h: &SandboxHandle, search: &str) -> u64 {
    let (_, b) = body(
        req(h, M::GET, "/orgs/acme/members")
            .query(&[("search", search)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    b["count"].as_u64().unwrap()
}

#[tokio::test]
async fn invitees_stay_pending_until_they_accept() {
    let h = sandbox().world(seed(0)).start().await;
    let (s, b) = invite(
        &h,
        json!({"emails": ["new@acme.test", {"email": "guest@acme.test", "role": null}], "role": "edit", "sso": false}),
    )
    .await;
    assert_eq!((s, b.clone()), (200, json!({"users": [], "invited": 2})));
    assert_eq!(member_count(&h, "new@acme").await, 0, "not a member yet");
    let pending: Vec<(String, Option<String>)> = h
        .world()
        .gitbook
        .invites
        .iter()
        .map(|i| (i.email.clone(), i.role.clone()))
        .collect();
    assert_eq!(
        pending,
        vec![
            ("new@acme.test".to_string(), Some("edit".to_string())),
            ("guest@acme.test".to_string(), None)
        ]
    );
    // A team add naming a pending invitee is the usual non-member 400.
    let (s, b) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"add": ["new@acme.test"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is not a member of the organization")
    );
    // A re-send is allowed and counted (and sets the role it names); the default role is
    // `read`.
    let (s, b) = invite(
        &h,
        json!({"emails": [{"email": "NEW@acme.test", "role": "edit"}, "third@acme.test"]}),
    )
    .await;
    assert_eq!((s, b["invited"].as_u64()), (200, Some(2)));
    let third = h.world().gitbook.invites;
    assert_eq!(third.len(), 3, "the re-send keeps one invitation");
    assert_eq!(third[2].role.as_deref(), Some("read"));
    // Existing members and bad bodies are refused, and nothing is invited.
    let (s, b) = invite(&h, json!({"emails": ["x@acme.test", "BOB@acme.test"]})).await;
    assert_eq!((s, b["error"]["code"].as_u64()), (400, Some(400)));
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("BOB@acme.test")
    );
    for bad in [
        json!({}),
        json!({"emails": []}),
        json!({"emails": ["not-an-email"]}),
        json!({"emails": [{"email": "y@acme.test"}]}),
        json!({"emails": ["y@acme.test"], "role": "owner"}),
        json!({"emails": ["y@acme.test"], "sso": "yes"}),
    ] {
        let (s, b) = invite(&h, bad.clone()).await;
        assert_eq!((s, b["error"]["code"].as_u64()), (400, Some(400)), "{bad}");
    }
    assert_eq!(h.world().gitbook.invites.len(), 3);

    // Accepting makes a member with a new id and the invited role.
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/gitbook/accept", h.base_url()))
        .json(&json!({"email": "New@Acme.test"}))
        .send()
        .await
        .unwrap();
    let (s, accepted) = body(r).await;
    assert_eq!((s, accepted["org"].as_str()), (200, Some("acme")));
    let id = accepted["id"].as_str().unwrap().to_string();
    let (s, m) = body(
        req(&h, M::GET, &format!("/orgs/acme/members/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, m["role"].as_str()), (200, Some("edit")));
    assert_eq!(m["user"]["email"], "new@acme.test");
    vendor_check("OrganizationMember", &m);
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"add": ["new@acme.test"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204, "a member now");
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/gitbook/accept", h.base_url()))
        .json(&json!({"email": "new@acme.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "nothing pending any more");
    let guest = h.accept_gitbook_invite("guest@acme.test").expect("pending");
    let w = h.world();
    let o = &w.gitbook.organizations["acme"];
    let g = o.members.iter().find(|m| m.id == guest).unwrap();
    assert_eq!(g.role, None, "a guest");
    assert_eq!(h.accept_gitbook_invite("nobody@acme.test"), None);
    assert_eq!(w.gitbook.invites.len(), 1);
    let events = h.events();
    let actions: Vec<&str> = events
        .iter()
        .filter(|e| e.action.starts_with("invite."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "invite.create",
            "invite.create",
            "invite.create",
            "invite.create",
            "invite.accept",
            "invite.accept"
        ]
    );
}

#[tokio::test]
async fn invitees_are_members_at_once_when_the_knob_says_so() {
    let h = sandbox()
        .world(seed(0))
        .knobs(|k| k.gitbook_invitees = GitbookInvitees::Immediate)
        .start()
        .await;
    let (s, b) = invite(&h, json!({"emails": ["new@acme.test"]})).await;
    assert_eq!((s, b["invited"].as_u64()), (200, Some(1)));
    let id = b["users"][0].as_str().expect("the new user id").to_string();
    let (s, m) = body(
        req(&h, M::GET, &format!("/orgs/acme/members/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, m["role"].as_str()), (200, Some("read")));
    assert_eq!(member_count(&h, "new@acme").await, 1);
    assert!(h.world().gitbook.invites.is_empty());
    let (s, _) = invite(&h, json!({"emails": ["new@acme.test"]})).await;
    assert_eq!(s, 400, "a member now, so not invitable");
}

#[tokio::test]
async fn invites_can_be_forbidden_or_absent() {
    for (knob, status) in [
        (GitbookInvites::Forbidden, 403),
        (GitbookInvites::NotFound, 404),
    ] {
        let h = sandbox()
            .world(seed(0))
            .knobs(|k| k.gitbook_invites = knob)
            .start()
            .await;
        let (s, b) = invite(&h, json!({"emails": ["new@acme.test"]})).await;
        assert_eq!(
            (s, b["error"]["code"].as_u64()),
            (status, Some(status as u64))
        );
        assert!(b["error"]["message"].is_string());
        assert!(h.events().is_empty());
    }
    let h = sandbox().world(seed(0)).start().await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/orgs/acme/invites", h.base_url()))
        .json(&json!({"emails": ["new@acme.test"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (s, _) = body(
        req(&h, M::POST, "/orgs/nope/invites")
            .json(&json!({"emails": ["new@acme.test"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn removing_a_member_takes_them_out_of_every_team() {
    let h = sandbox().world(seed(0)).start().await;
    let (s, _) = body(
        req(&h, M::PUT, "/orgs/acme/teams")
            .json(&json!({"title": "Ops", "members": ["u_ada", "u_bob"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = body(
        req(&h, M::DELETE, "/orgs/acme/members/u_ada")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 205);
    let w = h.world();
    let o = &w.gitbook.organizations["acme"];
    assert!(o.members.iter().all(|m| m.id != "u_ada"));
    assert!(
        o.teams
            .iter()
            .all(|t| t.members.iter().all(|m| m.user != "u_ada")),
        "gone from every team"
    );
    assert_eq!(o.teams.iter().map(|t| t.members.len()).sum::<usize>(), 1);
    let (s, _) = body(
        req(&h, M::GET, "/orgs/acme/members/u_ada")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = body(
        req(&h, M::DELETE, "/orgs/acme/members/u_ada")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204, "not a member any more");
    let (s, _) = body(
        req(&h, M::DELETE, "/orgs/nope/members/u_bob")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
    let removals: Vec<_> = h
        .events()
        .into_iter()
        .filter(|e| e.action == "member.remove")
        .collect();
    assert_eq!(removals.len(), 1);
    assert_eq!(removals[0].detail["user"], "u_ada");
    assert_eq!(removals[0].detail["teams"].as_array().unwrap().len(), 2);
}

/// Every member id of `/orgs/acme/members`, read page by page (`limit` 7).
async fn all_member_ids(h: &SandboxHandle) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut r = req(h, M::GET, "/orgs/acme/members").query(&[("limit", "7")]);
        if let Some(p) = &page {
            r = r.query(&[("page", p)]);
        }
        let (s, b) = body(r.send().await.unwrap()).await;
        assert_eq!((s, b["count"].as_u64()), (200, Some(33)));
        ids.extend(
            b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        match b["next"]["page"].as_str() {
            Some(p) => page = Some(p.to_string()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn shuffled_lists_hold_the_same_items_in_another_order() {
    let plain = sandbox().world(seed(30)).start().await;
    let shuffled_with = |n| {
        sandbox()
            .world(seed(30))
            .variant(Variant::Shuffled)
            .seed(n)
            .start()
    };
    let shuffled = shuffled_with(7).await;
    let natural = all_member_ids(&plain).await;
    let served = all_member_ids(&shuffled).await;
    assert_ne!(served, natural, "not the natural order");
    assert_eq!(
        served,
        all_member_ids(&shuffled).await,
        "stable between reads"
    );
    let mut sorted = served.clone();
    sorted.sort();
    let mut expected = natural.clone();
    expected.sort();
    assert_eq!(sorted, expected, "the same items, each once, across pages");
    let other_seed = shuffled_with(8).await;
    assert_ne!(
        all_member_ids(&other_seed).await,
        served,
        "the order follows the seed"
    );
    // Small lists are reordered too (never left in their natural order).
    let (_, b) = body(
        req(&shuffled, M::PUT, "/orgs/acme/teams/t_docs/members")
            .json(&json!({"add": ["u_bob"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b, Value::Null);
    let (_, b) = body(
        req(&shuffled, M::GET, "/orgs/acme/teams/t_docs/members")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["organization"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["u_bob", "u_ada"]);
    assert_eq!(b["count"], 2);
}
