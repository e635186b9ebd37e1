//! GitBook organization members: the directory list, one member, removal from the
//! organization, and the token's own account.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::{Answer, Caller, InOrg, error, member_json, not_found};

type Q = Query<std::collections::HashMap<String, String>>;

/// The organization's members; `search` (name or email) and `role` (or `guest`) filter.
pub(super) async fn list(org: InOrg, Query(q): Q) -> Answer {
    org.read(|o| {
        let search = q.get("search").map(|s| s.to_lowercase());
        let role = q.get("role");
        let found: Vec<(usize, &super::Member)> = o
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                search.as_ref().is_none_or(|s| {
                    m.name.to_lowercase().contains(s)
                        || m.email
                            .as_deref()
                            .is_some_and(|e| e.to_lowercase().contains(s))
                })
            })
            .filter(|(_, m)| match role.map(String::as_str) {
                None => true,
                Some("guest") => m.role.is_none(),
                Some(r) => m.role.as_deref() == Some(r),
            })
            .collect();
        Ok(org.page(&q, found, |(i, m)| member_json(&org.host, o.teams_of(i), m)))
    })
}

/// `GET /v1/user` (ADDENDUM §2.2): the token's own account.
pub(super) async fn me(caller: Caller) -> Answer {
    if caller.st.behaviour().who_am_i_forbidden {
        return Err(error(
            StatusCode::FORBIDDEN,
            "the token may not read its own user (user:read)",
        ));
    }
    caller.st.read(|w| {
        let g = &w.gitbook;
        let found = g.organizations.values().find_map(|o| match &g.me {
            Some(id) => o.members.iter().find(|m| &m.id == id),
            None => o
                .members
                .iter()
                .find(|m| m.role.as_deref() == Some("admin")),
        });
        let m = found.ok_or_else(|| error(StatusCode::NOT_FOUND, "User not found"))?;
        Ok(Json(json!({
            "object": "user", "id": m.id, "displayName": m.name, "email": m.email,
            "urls": {"location": format!("http://{}/u/{}", caller.host, m.id)},
        }))
        .into_response())
    })
}

pub(super) async fn get(org: InOrg, Path((_, user)): Path<(String, String)>) -> Answer {
    org.read(|o| {
        let (i, m) = o
            .member_at(&user)
            .and_then(|i| o.members.get(i).map(|m| (i, m)))
            .ok_or_else(|| not_found("Member"))?;
        Ok(Json(member_json(&org.host, o.teams_of(i), m)).into_response())
    })
}

/// Removes the member from the organization and from every team of it: 205, or 204 when
/// the user was not a member.
pub(super) async fn remove(org: InOrg, Path((_, user)): Path<(String, String)>) -> Answer {
    let removed = org.write(|o| {
        let before = o.members.len();
        o.members.retain(|m| m.id != user);
        if o.members.len() == before {
            return Ok(None);
        }
        let mut teams = Vec::new();
        for t in &mut o.teams {
            let had = t.members.len();
            t.members.retain(|m| m.user != user);
            if t.members.len() < had {
                teams.push(t.id.clone());
            }
        }
        Ok(Some(teams))
    })?;
    let Some(teams) = removed else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    org.event(
        "member.remove",
        json!({"org": org.org, "user": user, "teams": teams}),
    );
    Ok(StatusCode::RESET_CONTENT.into_response())
}
