//! Contentful collection answers and rendering: the `{sys: Array, total, skip, limit,
//! items, includes?}` wrapper and its paging, the attribute filters, `include=…`, and the
//! JSON of users, organization memberships, teams and team memberships.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::AppState;
use super::{
    DEFAULT_LIMIT, InOrg, MAX_LIMIT, Membership, Org, Team, TeamMembership, User, error, link,
};

impl InOrg {
    /// One page of `items` in the collection wrapper, as this request asks for it.
    pub(super) fn collection(
        &self,
        items: Vec<Value>,
        includes: impl Fn(&[Value]) -> Option<Value>,
    ) -> Response {
        collection(&self.st, &self.path, &self.q, items, includes)
    }

    /// [`collection_of`] as this request asks for it.
    pub(super) fn collection_of<T>(
        &self,
        items: Vec<T>,
        render: impl Fn(T) -> Value,
        includes: impl Fn(&[Value]) -> Option<Value>,
    ) -> Response {
        collection_of(&self.st, &self.path, &self.q, items, render, includes)
    }
}

/// One page of `items` in the collection wrapper, with `includes` when asked.
fn collection(
    st: &AppState,
    path: &str,
    q: &HashMap<String, String>,
    items: Vec<Value>,
    includes: impl Fn(&[Value]) -> Option<Value>,
) -> Response {
    collection_of(st, path, q, items, |v| v, includes)
}

/// A collection whose items are rendered only for the requested page: rendering 20,000
/// memberships to answer with 100 made reading them all quadratic.
fn collection_of<T>(
    st: &AppState,
    path: &str,
    q: &HashMap<String, String>,
    mut items: Vec<T>,
    render: impl Fn(T) -> Value,
    includes: impl Fn(&[Value]) -> Option<Value>,
) -> Response {
    let Some(limit) = super::super::limit_param(q, DEFAULT_LIMIT, MAX_LIMIT) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The limit parameter must be a number between 0 and 100.",
            None,
        );
    };
    let (served, limit) = st.page_limit(limit);
    let skip = match q.get("skip").map(|s| s.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidQuery",
                "The skip parameter must be a non-negative number.",
                None,
            );
        }
    };
    // The whole collection is put in its served order first, then paged.
    st.arrange(path, &mut items);
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(skip)
        .take(st.served_from(served, skip))
        .map(render)
        .collect();
    let mut body = json!({"sys": {"type": "Array"}, "total": total, "skip": skip, "limit": limit, "items": page});
    if let Some(inc) = includes(body["items"].as_array().map(Vec::as_slice).unwrap_or(&[])) {
        body["includes"] = inc;
    }
    axum::Json(body).into_response()
}

/// The filters a collection query puts on one attribute (CF-OM): `attr=v` and `attr[eq]=v`,
/// `attr[ne]=v`, `attr[in]=a,b`, `attr[nin]=a,b`; an item is kept when all given ones hold.
pub(super) struct AttrFilter<'q> {
    eq: Vec<&'q str>,
    ne: Vec<&'q str>,
    within: Option<Vec<&'q str>>,
    outside: Vec<&'q str>,
}

impl<'q> AttrFilter<'q> {
    pub(super) fn of(q: &'q HashMap<String, String>, attr: &str) -> Self {
        let get = |op: &str| q.get(&format!("{attr}{op}")).map(String::as_str);
        let list = |v: &'q str| v.split(',').map(str::trim).collect::<Vec<_>>();
        AttrFilter {
            eq: get("").into_iter().chain(get("[eq]")).collect(),
            ne: get("[ne]").into_iter().collect(),
            within: get("[in]").map(list),
            outside: get("[nin]").map(list).unwrap_or_default(),
        }
    }

    pub(super) fn keeps(&self, value: &str) -> bool {
        self.eq.iter().all(|v| *v == value)
            && self.ne.iter().all(|v| *v != value)
            && self.within.as_ref().is_none_or(|vs| vs.contains(&value))
            && !self.outside.contains(&value)
    }
}

pub(super) fn wants_include(q: &HashMap<String, String>, what: &str) -> bool {
    q.get("include")
        .is_some_and(|i| i.split(',').any(|p| p.trim() == what))
}

pub(super) fn user_json(u: &User) -> Value {
    json!({
        "firstName": u.first_name, "lastName": u.last_name, "email": u.email,
        "activated": true, "confirmed": true,
        "sys": {"type": "User", "id": u.id, "version": 1},
    })
}

pub(super) fn membership_json(org: &str, m: &Membership) -> Value {
    json!({
        "role": m.role,
        "sys": {"type": "OrganizationMembership", "id": m.id, "version": 0, "user": link("User", &m.user),
                "organization": link("Organization", org), "status": m.status,
                "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"},
    })
}

pub(super) fn team_json(org: &str, t: &Team) -> Value {
    json!({
        "name": t.name, "description": t.description,
        "sys": {"type": "Team", "id": t.id, "version": t.version, "memberCount": t.members.len(),
                "organization": link("Organization", org),
                "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"},
    })
}

/// The user of every organization membership.
pub(super) fn users_of_all(org: &Org) -> HashMap<&str, &str> {
    org.memberships
        .iter()
        .map(|m| (m.id.as_str(), m.user.as_str()))
        .collect()
}

/// The user of each of `ids` (organization membership ids), from the index: for reads.
pub(super) fn users_of_indexed<'a>(
    org: &'a Org,
    ids: impl IntoIterator<Item = &'a str>,
) -> HashMap<&'a str, &'a str> {
    ids.into_iter()
        .filter_map(|id| {
            let m = org.memberships.get(org.membership_at(id)?)?;
            Some((m.id.as_str(), m.user.as_str()))
        })
        .collect()
}

pub(super) fn team_membership_json(
    users: &HashMap<&str, &str>,
    org_id: &str,
    team: &Team,
    tm: &TeamMembership,
) -> Value {
    let user = users
        .get(tm.membership.as_str())
        .copied()
        .unwrap_or_default();
    json!({
        "sys": {"type": "TeamMembership", "id": tm.id, "version": 0,
                "organization": link("Organization", org_id), "team": link("Team", &team.id),
                "organizationMembership": link("OrganizationMembership", &tm.membership),
                "user": link("User", user),
                "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"},
    })
}

/// `includes` for the users (and organization memberships) an item list links to.
pub(super) fn includes_for(
    org: &Org,
    q: &HashMap<String, String>,
    items: &[Value],
) -> Option<Value> {
    let mut out = serde_json::Map::new();
    if wants_include(q, "sys.user") {
        let users = linked(items, "/sys/user/sys/id", &org.users, |id| org.user_at(id));
        out.insert("User".into(), users.map(user_json).collect());
    }
    if wants_include(q, "sys.organizationMembership") {
        let ms = linked(
            items,
            "/sys/organizationMembership/sys/id",
            &org.memberships,
            |id| org.membership_at(id),
        );
        out.insert(
            "OrganizationMembership".into(),
            ms.map(|m| membership_json("", m)).collect(),
        );
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The entries of `all` that `items` link to at `pointer`, once each and in the
/// organization's order (as a scan of `all` would give them).
pub(super) fn linked<'a, T>(
    items: &[Value],
    pointer: &str,
    all: &'a [T],
    position: impl Fn(&str) -> Option<usize>,
) -> impl Iterator<Item = &'a T> {
    let ids: HashSet<&str> = items
        .iter()
        .filter_map(|i| i.pointer(pointer).and_then(Value::as_str))
        .collect();
    let mut found: Vec<usize> = ids.into_iter().filter_map(position).collect();
    found.sort_unstable();
    found.into_iter().filter_map(|i| all.get(i))
}
