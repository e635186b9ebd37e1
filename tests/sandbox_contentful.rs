//! Contentful emulator over real HTTP on loopback; requests are built here, not by our client.

use reqwest::Method as M;
mod common;

use common::sandbox;
use serde_json::{Value, json};
use teamsync::sandbox::{SandboxHandle, Variant, World};

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
    let h = sandbox().world(seed(0)).start().await;
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
    let h = sandbox().world(seed(247)).start().await;
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
    let h = sandbox().world(seed(0)).start().await;
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
async fn a_team_membership_needs_an_organization_membership() {
    let h = sandbox().world(seed(0)).start().await;
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
    let h = sandbox().world(seed(0)).rate_limit(1).start().await;
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

const ALPHA: &str = "x-contentful-enable-alpha-feature";

async fn invite(h: &SandboxHandle, invitation: Value) -> (u16, Value) {
    body(
        req(h, M::POST, "/invitations")
            .header(ALPHA, "pending-org-membership")
            .json(&invitation)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn invitations_make_pending_memberships_that_teams_take_at_once() {
    let h = sandbox().world(seed(0)).start().await;
    let (s, inv) = invite(
        &h,
        json!({"email": "new@acme.test", "firstName": "New", "lastName": "Hire", "role": "developer"}),
    )
    .await;
    assert_eq!(s, 201, "{inv}");
    assert_eq!(
        (
            inv["sys"]["type"].as_str(),
            inv["sys"]["status"].as_str(),
            inv["email"].as_str(),
            inv["role"].as_str()
        ),
        (
            Some("Invitation"),
            Some("open"),
            Some("new@acme.test"),
            Some("developer")
        )
    );
    assert!(inv["sys"]["user"].is_null());
    assert_eq!(
        inv["sys"]["organizationMembership"]["sys"]["linkType"],
        "OrganizationMembership"
    );
    assert!(
        inv["sys"]["invitationUrl"]
            .as_str()
            .unwrap()
            .contains("/invitations/")
    );
    let om = inv["sys"]["organizationMembership"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inv_id = inv["sys"]["id"].as_str().unwrap().to_string();

    let (s, m) = body(
        req(&h, M::GET, &format!("/organization_memberships/{om}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, m["sys"]["status"].as_str(), m["role"].as_str()),
        (200, Some("pending"), Some("developer"))
    );
    let (_, pending) = body(
        req(&h, M::GET, "/organization_memberships")
            .query(&[("sys.status", "pending"), ("include", "sys.user")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(pending["total"], 2);
    let emails: Vec<&str> = pending["includes"]["User"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert!(emails.contains(&"new@acme.test"), "{emails:?}");

    let (s, got) = body(
        req(&h, M::GET, &format!("/invitations/{inv_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, got["sys"]["invitationUrl"].as_str()), (200, Some("")));
    assert_eq!(
        got["sys"]["organizationMembership"]["sys"]["id"],
        om.as_str()
    );
    let (s, b) = body(req(&h, M::GET, "/invitations/nope").send().await.unwrap()).await;
    assert_eq!((s, b["sys"]["id"].as_str()), (404, Some("NotFound")));

    // The pending membership (and the seeded one) can join a team at once.
    for id in [om.as_str(), "OMpen"] {
        let (s, _) = body(
            req(&h, M::POST, "/teams/Tdocs/team_memberships")
                .json(&json!({"organizationMembershipId": id}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{id}");
    }

    // Without a role the invitee is a member; the alpha header is optional by default.
    let (s, b) = body(
        req(&h, M::POST, "/invitations")
            .json(&json!({"email": "plain@acme.test"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["role"].as_str()), (201, Some("member")));

    // Duplicates (active or pending) and bad bodies.
    for dup in ["ADA@acme.test", "pen@acme.test", "new@acme.test"] {
        let (s, b) = invite(&h, json!({"email": dup})).await;
        assert_eq!(
            (s, b["sys"]["id"].as_str()),
            (422, Some("ValidationFailed")),
            "{dup}"
        );
        assert_eq!(b["details"]["errors"][0]["value"], dup);
    }
    let (s, b) = invite(&h, json!({"email": "x@acme.test", "team": "Tdocs"})).await;
    assert_eq!((s, b["sys"]["id"].as_str()), (400, Some("UnknownKey")));
    for bad in [
        json!({}),
        json!({"email": "nope"}),
        json!({"email": "x@acme.test", "role": "boss"}),
    ] {
        let (s, b) = invite(&h, bad.clone()).await;
        assert_eq!(
            (s, b["sys"]["id"].as_str()),
            (422, Some("ValidationFailed")),
            "{bad}"
        );
    }
    let creates = h
        .events()
        .iter()
        .filter(|e| e.action == "invitation.create")
        .count();
    assert_eq!(creates, 2);
}

#[tokio::test]
async fn the_strict_knob_wants_the_alpha_header() {
    let h = sandbox()
        .world(seed(0))
        .knobs(|k| k.contentful_strict_alpha_header = true)
        .start()
        .await;
    let (s, b) = body(
        req(&h, M::POST, "/invitations")
            .json(&json!({"email": "new@acme.test"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["sys"]["id"].as_str()), (400, Some("BadRequest")));
    let (s, _) = body(
        req(&h, M::POST, "/invitations")
            .header(
                ALPHA,
                "organization-user-management-api, pending-org-membership",
            )
            .json(&json!({"email": "new@acme.test"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "a comma-joined list naming the feature");
}

#[tokio::test]
async fn the_status_filter_takes_every_operator_and_keeps_counts_honest() {
    let h = sandbox().world(seed(5)).start().await;
    let total = |query: Vec<(&'static str, &'static str)>| {
        let r = req(&h, M::GET, "/organization_memberships").query(&query);
        async move {
            let (s, b) = body(r.send().await.unwrap()).await;
            assert_eq!(s, 200);
            for item in b["items"].as_array().unwrap() {
                assert!(item["sys"]["status"].is_string(), "{item}");
            }
            b["total"].as_u64().unwrap()
        }
    };
    assert_eq!(total(vec![]).await, 8);
    assert_eq!(total(vec![("sys.status", "active")]).await, 7);
    assert_eq!(total(vec![("sys.status[eq]", "pending")]).await, 1);
    assert_eq!(total(vec![("sys.status[ne]", "active")]).await, 1);
    assert_eq!(total(vec![("sys.status[in]", "active,pending")]).await, 8);
    assert_eq!(total(vec![("sys.status[nin]", "pending")]).await, 7);
    assert_eq!(
        total(vec![("sys.status[in]", "active"), ("role", "owner")]).await,
        1
    );
    // Paging over a filtered list: every page agrees on the total, and holds only kept items.
    let mut seen = Vec::new();
    for skip in ["0", "3", "6"] {
        let (_, b) = body(
            req(&h, M::GET, "/organization_memberships")
                .query(&[("sys.status", "active"), ("limit", "3"), ("skip", skip)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(b["total"], 7);
        for item in b["items"].as_array().unwrap() {
            assert_eq!(item["sys"]["status"], "active");
            seen.push(item["sys"]["id"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);
}

#[tokio::test]
async fn deleting_a_membership_takes_its_team_memberships_and_invitation_along() {
    let h = sandbox().world(seed(0)).start().await;
    let (_, inv) = invite(&h, json!({"email": "new@acme.test"})).await;
    let om = inv["sys"]["organizationMembership"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inv_id = inv["sys"]["id"].as_str().unwrap().to_string();
    for id in [om.as_str(), "OMbob"] {
        let (s, _) = body(
            req(&h, M::POST, "/teams/Tdocs/team_memberships")
                .json(&json!({"organizationMembershipId": id}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201);
    }
    let delete = |id: String| {
        let r = req(&h, M::DELETE, &format!("/organization_memberships/{id}"));
        async move { body(r.send().await.unwrap()).await }
    };
    assert_eq!(delete(om.clone()).await.0, 204, "revoking the invitation");
    let (s, _) = body(
        req(&h, M::GET, &format!("/invitations/{inv_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404, "the invitation went with it");
    let (_, users) = body(
        req(&h, M::GET, "/users")
            .query(&[("query", "new@acme.test")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(users["total"], 0, "and the invitee's user record");
    assert_eq!(delete("OMbob".into()).await.0, 204);
    let (_, team) = body(req(&h, M::GET, "/teams/Tdocs").send().await.unwrap()).await;
    assert_eq!(team["sys"]["memberCount"], 1, "only Ada is left");
    let (_, across) = body(
        req(&h, M::GET, "/team_memberships")
            .query(&[(
                "sys.organizationMembership.sys.id[in]",
                format!("{om},OMbob"),
            )])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(across["total"], 0);
    let (s, b) = delete("OMbob".into()).await;
    assert_eq!((s, b["sys"]["id"].as_str()), (404, Some("NotFound")));
    let (s, b) = delete("OMada".into()).await;
    assert_eq!(
        (s, b["sys"]["id"].as_str()),
        (403, Some("AccessDenied")),
        "the last owner stays"
    );
    let removes: Vec<Value> = h
        .events()
        .into_iter()
        .filter(|e| e.action == "membership.remove")
        .map(|e| e.detail)
        .collect();
    assert_eq!(removes.len(), 2);
    assert_eq!(removes[0]["membership"], om.as_str());
    assert_eq!(removes[0]["teams"], json!(["Tdocs"]));
}

#[tokio::test]
async fn team_descriptions_are_stored_and_served() {
    let h = sandbox().world(seed(0)).start().await;
    let (s, t) = body(
        req(&h, M::POST, "/teams")
            .json(&json!({"name": "Editors", "description": "Edits things"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, t["description"].as_str()), (201, Some("Edits things")));
    let id = t["sys"]["id"].as_str().unwrap().to_string();
    let (_, got) = body(
        req(&h, M::GET, &format!("/teams/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["description"], "Edits things");
    let (s, _) = body(
        req(&h, M::PUT, &format!("/teams/{id}"))
            .header("X-Contentful-Version", "0")
            .json(&json!({"name": "Editors", "description": "Edits more"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let (_, got) = body(
        req(&h, M::GET, &format!("/teams/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["description"], "Edits more");
    let (_, list) = body(req(&h, M::GET, "/teams").send().await.unwrap()).await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["sys"]["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["description"], "Edits more");
}

/// Every membership id of the organization, read page by page (`limit` 7).
async fn all_membership_ids(h: &SandboxHandle, status: Option<&str>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut skip = 0;
    loop {
        let mut r = req(h, M::GET, "/organization_memberships")
            .query(&[("limit", "7"), ("skip", &skip.to_string())]);
        if let Some(s) = status {
            r = r.query(&[("sys.status[in]", s)]);
        }
        let (s, b) = body(r.send().await.unwrap()).await;
        assert_eq!(s, 200);
        let items = b["items"].as_array().unwrap();
        ids.extend(
            items
                .iter()
                .map(|m| m["sys"]["id"].as_str().unwrap().to_string()),
        );
        skip += items.len();
        if items.is_empty() || skip as u64 >= b["total"].as_u64().unwrap() {
            return ids;
        }
    }
}

#[tokio::test]
async fn shuffled_lists_hold_the_same_items_in_another_order() {
    let plain = sandbox().world(seed(30)).start().await;
    let shuffled = sandbox()
        .world(seed(30))
        .variant(Variant::Shuffled)
        .seed(3)
        .start()
        .await;
    for status in [None, Some("active")] {
        let natural = all_membership_ids(&plain, status).await;
        let served = all_membership_ids(&shuffled, status).await;
        assert_ne!(served, natural, "not the natural order");
        assert_eq!(served, all_membership_ids(&shuffled, status).await);
        let (mut a, mut b) = (served.clone(), natural.clone());
        a.sort();
        b.sort();
        assert_eq!(a, b, "the same items, each once, across pages");
    }
    let (_, users) = body(
        req(&shuffled, M::GET, "/users")
            .query(&[("limit", "100")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (_, natural) = body(
        req(&plain, M::GET, "/users")
            .query(&[("limit", "100")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(users["total"], natural["total"]);
    assert_ne!(users["items"], natural["items"]);
}
