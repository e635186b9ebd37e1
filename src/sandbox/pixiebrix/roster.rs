//! PixieBrix organizations (teams) and their memberships: the organizations list, the
//! memberships list with its filters, one membership (get, role change, delete), and the
//! token's own account.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::Changes;
use super::paging::window;
use super::render::{
    Caseless, Folded, Source, membership_json, memberships_json, to_body, users_by_id,
};
use super::{Answer, Both, Caller, Membership, V1, V11, bad, not_found, org_idx, parse_json};

type Q = Query<HashMap<String, String>>;

/// The organizations (teams) the token sees, each with its members.
pub(super) async fn orgs(c: Caller<Both>, Query(q): Q) -> Answer {
    let items = c.st.read(|w| {
        w.pixiebrix
            .organizations
            .iter()
            .enumerate()
            .map(|(oi, o)| {
                let users = users_by_id(o);
                let ms: Vec<&Membership> = o.memberships.iter().collect();
                let members = memberships_json(Source::Read(w, oi), &ms, &users);
                json!({"id": o.id, "name": o.name, "members": members,
                       "scope": o.scope, "default_role": o.default_role})
            })
            .collect::<Vec<_>>()
    });
    Ok(c.list(&q, items))
}

/// An organization's memberships, filtered by `user__service_account`,
/// `user__deployment_key_account` (equality, A2), `role`, `role__in`, `user__id`, `groups`
/// and `q`.
pub(super) async fn memberships(c: Caller<Both>, Path(org): Path<String>, Query(q): Q) -> Answer {
    let flag = |k: &str| q.get(k).map(|s| s.eq_ignore_ascii_case("true") || s == "1");
    let sa = flag("user__service_account");
    let dk = flag("user__deployment_key_account");
    let role: Option<u8> = q.get("role").and_then(|r| r.parse().ok());
    let role_in: Option<Vec<u8>> = q
        .get("role__in")
        .map(|r| r.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let user_id = q.get("user__id").cloned();
    let groups: Option<Vec<String>> = q
        .get("groups")
        .map(|g| g.split(',').map(|s| s.trim().to_string()).collect());
    let term = q.get("q").map(|s| s.to_lowercase());
    let max = c.page_cap();
    let out = c.st.read(|w| {
        let oi = org_idx(w, &org)?;
        let o = &w.pixiebrix.organizations[oi];
        let users = users_by_id(o);
        let in_groups: Option<std::collections::HashSet<Caseless, Folded>> =
            groups.as_ref().map(|gs| {
                o.groups
                    .iter()
                    .filter(|g| gs.contains(&g.id))
                    .flat_map(|g| g.members.iter().map(|gm| Caseless(&gm.email)))
                    .collect()
            });
        let mut picked: Vec<&Membership> = o
            .memberships
            .iter()
            .filter(|m| {
                let Some(u) = users.get(m.user.as_str()) else {
                    return false;
                };
                sa.is_none_or(|b| u.service_account == b)
                    && dk.is_none_or(|b| u.deployment_key_account == b)
                    && role.is_none_or(|r| m.role == r)
                    && role_in.as_ref().is_none_or(|rs| rs.contains(&m.role))
                    && user_id.as_ref().is_none_or(|id| &u.id == id)
                    && in_groups
                        .as_ref()
                        .is_none_or(|es| es.contains(&Caseless(&u.email)))
                    && term.as_ref().is_none_or(|t| {
                        u.email.to_lowercase().contains(t) || u.name.to_lowercase().contains(t)
                    })
            })
            .collect();
        c.st.arrange(c.uri.path(), &mut picked);
        Some(window(max, &q, &c.version, picked.len()).map(|win| {
            let body = to_body(&memberships_json(
                Source::Read(w, oi),
                &picked[win.start..win.end],
                &users,
            ));
            (win, body)
        }))
    });
    c.respond(out)
}

fn find_membership(w: &super::super::World, id: u64) -> Option<(usize, usize)> {
    w.pixiebrix
        .organizations
        .iter()
        .enumerate()
        .find_map(|(oi, o)| {
            o.memberships
                .iter()
                .position(|m| m.id == id)
                .map(|mi| (oi, mi))
        })
}

/// `GET /api/me/` (version 1.1, ADDENDUM §1.2): the token's own account. `DELETE` on this
/// path deletes the caller's account in the real API, so it is not routed here at all.
pub(super) async fn me(c: Caller<V11>) -> Answer {
    if c.st.behaviour().who_am_i_forbidden {
        return Err(<super::Pixiebrix as super::super::Api>::error_response(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        ));
    }
    c.st.read(|w| {
        let p = &w.pixiebrix;
        let (o, u) = p
            .organizations
            .iter()
            .find_map(|o| {
                let user = match &p.me {
                    Some(id) => o.users.iter().find(|u| &u.id == id),
                    None => o.users.iter().find(|u| u.service_account),
                }?;
                Some((o, user))
            })
            .ok_or_else(not_found)?;
        let memberships: Vec<Value> = o
            .memberships
            .iter()
            .filter(|m| m.user == u.id)
            .map(|m| json!({"organization": o.id, "organization_name": o.name, "role": m.role}))
            .collect();
        Ok(Json(json!({
            "id": u.id, "email": u.email, "name": u.name,
            "service_account": u.service_account, "deployment_key_account": u.deployment_key_account,
            "organization": {"id": o.id, "name": o.name},
            "organization_memberships": memberships,
        }))
        .into_response())
    })
}

/// A membership id from the path: an integer, else DRF's 404.
fn membership_id(id: &str) -> Result<u64, axum::response::Response> {
    id.parse::<u64>().map_err(|_| not_found())
}

pub(super) async fn membership_get(c: Caller<V1>, Path(id): Path<String>) -> Answer {
    let id = membership_id(&id)?;
    c.st.read(|w| {
        let (oi, mi) = find_membership(w, id).ok_or_else(not_found)?;
        let o = &w.pixiebrix.organizations[oi];
        Ok(Json(membership_json(Source::Read(w, oi), &o.memberships[mi])).into_response())
    })
}

/// `PATCH`/`PUT` `{"role": 1–5}` (`PUT` needs it).
pub(super) async fn membership_update(
    c: Caller<V1>,
    Path(id): Path<String>,
    method: Method,
    body: Bytes,
) -> Answer {
    let id = membership_id(&id)?;
    c.st.read(|w| find_membership(w, id))
        .ok_or_else(not_found)?;
    let body = parse_json(&body)?;
    let role = match body.get("role") {
        None if method == Method::PATCH => None,
        None => return Err(bad(json!({"role": ["This field is required."]}))),
        Some(r) => match r.as_u64() {
            Some(n @ 1..=5) => Some(n as u8),
            _ => {
                return Err(bad(
                    json!({"role": [format!("\"{}\" is not a valid choice.", r.as_str().map(str::to_string).unwrap_or_else(|| r.to_string()))]}),
                ));
            }
        },
    };
    let v =
        c.st.write_pixiebrix(Changes::Anything, |w| {
            let (oi, mi) = find_membership(w, id)?;
            let o = &mut w.pixiebrix.organizations[oi];
            if let Some(r) = role {
                o.memberships[mi].role = r;
            }
            let w = &*w;
            Some(membership_json(
                Source::Write(w, oi),
                &w.pixiebrix.organizations[oi].memberships[mi],
            ))
        })
        .ok_or_else(not_found)?;
    c.event("membership.update", json!({"id": id, "role": role}));
    Ok(Json(v).into_response())
}

/// Removes the user from the team, and from its groups too: 204.
pub(super) async fn membership_delete(c: Caller<V1>, Path(id): Path<String>) -> Answer {
    let id = membership_id(&id)?;
    let user =
        c.st.write_pixiebrix(Changes::Anything, |w| {
            let (oi, mi) = find_membership(w, id)?;
            let o = &mut w.pixiebrix.organizations[oi];
            let m = o.memberships.remove(mi);
            // Leaving the team leaves its groups too.
            if let Some(email) = o
                .users
                .iter()
                .find(|u| u.id == m.user)
                .map(|u| u.email.clone())
            {
                for g in &mut o.groups {
                    g.members
                        .retain(|gm| !gm.email.eq_ignore_ascii_case(&email));
                }
            }
            Some(m.user)
        })
        .ok_or_else(not_found)?;
    c.event("membership.delete", json!({"id": id, "user": user}));
    Ok(StatusCode::NO_CONTENT.into_response())
}
