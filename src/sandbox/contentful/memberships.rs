//! Contentful organization memberships (list with filters and `include`, get, delete) and
//! users (the organization's users, one user, and the token's own).

use std::collections::HashSet;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::collections::{
    AttrFilter, includes_for, membership_json, membership_out, user_json, user_out,
};
use super::{Answer, Caller, InOrg, Membership, Org, User, error, not_found};

/// The organization's memberships: `query` (email, names, user id), the `sys.status`,
/// `role` and `sys.user.sys.id` filters, `include=sys.user`.
pub(super) async fn list(org: InOrg) -> Answer {
    let q = &org.q;
    org.read(|o| {
        let query = q.get("query").map(|s| s.to_lowercase());
        // The users the full-text query matches, found once rather than per membership.
        let matching: Option<HashSet<&str>> = query.as_ref().map(|needle| {
            o.users
                .iter()
                .filter(|u| {
                    [&u.email, &u.first_name, &u.last_name, &u.id]
                        .iter()
                        .any(|f| super::super::contains_caseless(f, needle))
                })
                .map(|u| u.id.as_str())
                .collect()
        });
        let status = AttrFilter::of(q, "sys.status");
        let role = AttrFilter::of(q, "role");
        let user = AttrFilter::of(q, "sys.user.sys.id");
        let items: Vec<&Membership> = o
            .memberships
            .iter()
            .filter(|m| status.keeps(&m.status) && role.keeps(&m.role) && user.keeps(&m.user))
            .filter(|m| {
                matching
                    .as_ref()
                    .is_none_or(|ids| ids.contains(m.user.as_str()))
            })
            .collect();
        Ok(org.collection_of(
            items,
            |m| membership_out(&org.org, m),
            |page| includes_for(o, q, page),
        ))
    })
}

pub(super) async fn get(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    org.read(|o| {
        let m = o
            .memberships
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| not_found("OrganizationMembership", &id))?;
        Ok(Json(membership_json(&org.org, m)).into_response())
    })
}

/// Deletes a membership (how an invitation is revoked, too): 204; its team memberships and
/// invitation go with it, and its user when nothing else links them. The last active
/// owner stays (403).
pub(super) async fn remove(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    let (m, teams) = org.write(|o| {
        let at = o
            .memberships
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| not_found("OrganizationMembership", &id))?;
        let owner = |m: &Membership| m.role == "owner" && m.status == "active";
        if owner(&o.memberships[at]) && o.memberships.iter().filter(|m| owner(m)).count() == 1 {
            return Err(error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "The last owner of an organization cannot be removed.",
                Some(json!({"type": "OrganizationMembership", "id": id})),
            ));
        }
        let m = o.memberships.remove(at);
        let mut teams = Vec::new();
        for t in &mut o.teams {
            let before = t.members.len();
            t.members.retain(|tm| tm.membership != id);
            if t.members.len() < before {
                teams.push(t.id.clone());
            }
        }
        o.invitations.retain(|i| i.membership != id);
        if !o.memberships.iter().any(|other| other.user == m.user) {
            o.users.retain(|u| u.id != m.user);
        }
        Ok((m, teams))
    })?;
    // Named by the membership id, like the team-membership events.
    org.event(
        "membership.remove",
        json!({"org": org.org, "membership": id, "status": m.status, "teams": teams}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The token's own user id in `o`: the state file's `me`, else the user of the first
/// `owner` membership.
pub(super) fn caller(me: &Option<String>, o: &Org) -> Option<String> {
    me.clone().or_else(|| {
        o.memberships
            .iter()
            .find(|m| m.role == "owner")
            .map(|m| m.user.clone())
    })
}

/// `GET /users/me` (ADDENDUM §3.2): the token's own user.
pub(super) async fn me(who: Caller) -> Answer {
    if who.st.behaviour().who_am_i_forbidden {
        return Err(<super::Contentful as super::super::Api>::error_response(
            StatusCode::FORBIDDEN,
            "the token may not read its own user",
        ));
    }
    who.st.read(|w| {
        let c = &w.contentful;
        let found = c.organizations.values().find_map(|o| {
            let id = caller(&c.me, o)?;
            o.users.iter().find(|u| u.id == id)
        });
        let u = found.ok_or_else(|| not_found("User", "me"))?;
        Ok(Json(user_json(u)).into_response())
    })
}

/// The organization's users (CF-USERS), `query` matching email or name like the
/// memberships list.
pub(super) async fn users(org: InOrg) -> Answer {
    org.read(|o| {
        let needle = org.q.get("query").map(|s| s.to_lowercase());
        let items: Vec<&User> = o
            .users
            .iter()
            .filter(|u| {
                needle.as_ref().is_none_or(|n| {
                    [&u.email, &u.first_name, &u.last_name, &u.id]
                        .iter()
                        .any(|f| super::super::contains_caseless(f, n))
                })
            })
            .collect();
        Ok(org.collection_of(items, user_out, |_| None))
    })
}

/// One user of the organization (CF-USERS).
pub(super) async fn user(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    org.read(|o| {
        let u = o
            .users
            .iter()
            .find(|u| u.id == id)
            .ok_or_else(|| not_found("User", &id))?;
        Ok(Json(user_json(u)).into_response())
    })
}
