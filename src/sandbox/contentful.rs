//! Emulated Contentful User Management API (teams and team memberships), written from
//! API_NOTES.md §3, not from our client. Routes live at `/organizations/…`.
//!
//! Inferred ([I]) choices, one line each:
//! - Default `limit` is 25; `limit` above 100 or not a number → 400 `BadRequest`; bad `skip` → 400 `InvalidQuery`.
//! - `include=sys.user` adds `includes.User`; `include=sys.organizationMembership` adds `includes.OrganizationMembership`.
//! - `query` matches a case-insensitive substring of the user's email, first or last name.
//! - Any accepted token acts as an organization owner (no 403); `?access_token=` works like the header.
//! - Team membership create: unknown organization membership → 422 `ValidationFailed` (a pending one is
//!   accepted: CF-INV says invitees may join teams at once);
//!   already in the team → 422 `ValidationFailed` with a `taken` error (C1); a missing
//!   `organizationMembershipId` → 422; other unknown keys → 400 `UnknownKey`; `admin` is accepted and ignored (C3).
//! - The team link of a team membership has `linkType: "Team"` (C2: the docs' example is a slip).
//! - Organization membership `sys.status` is `active` or `pending` (C4).
//! - New objects start at `sys.version` 0 and each successful update adds 1 (C5); team PUT needs
//!   `X-Contentful-Version` equal to it, else 409 `VersionMismatch`.
//! - Deleting a team drops its team memberships; deleting what is absent → 404 `NotFound`.
//! - Membership list filters `sys.status`, `role`, `sys.user.sys.id` take `attr=`, `[eq]`, `[ne]`, `[in]`, `[nin]`
//!   (comma lists), all given ones at once; `total` counts what the filters keep.
//! - Invitations (ADDENDUM §3.1): body keys `email` (required), `firstName`, `lastName`, `role` (default `member`);
//!   other keys → 400 `UnknownKey`; a bad email or role → 422 `ValidationFailed`; an address that already has a
//!   membership (active or pending) → 422 `ValidationFailed` with `details.errors[].value` the address. The answer
//!   is the documented `Invitation` plus top-level `email`, `firstName`, `lastName`, `role` (the SDK type's fields);
//!   `invitationUrl` is `http://{Host}/invitations/{id}?token=…` on create and `""` on GET.
//! - An invitation makes a `pending` organization membership whose `sys.user` links a new User record carrying the
//!   invited email (an existing user of the org with no membership is reused), so `include=sys.user` shows it.
//! - The alpha header is optional unless the `contentful_strict_alpha_header` knob is on (then 400 `BadRequest`).
//! - Deleting an organization membership also deletes its team memberships, its invitation, and its user record
//!   when no other membership links it; the last active `owner` cannot be removed (403 `AccessDenied`).
//! - Rate-limit headers on every response: `…-Second-Limit`, `…-Second-Remaining`, `X-Contentful-RateLimit-Reset`
//!   (0 normally, seconds to wait on 429) (C6: the limit is kept per token).

// Helpers return a ready `Response` as their error, the way axum handlers answer.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Api, AppState};

const NAME: &str = "contentful";
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// This API's part of the state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// Accepted tokens; empty = any non-empty `Bearer …`.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Organizations by id.
    #[serde(default)]
    pub organizations: BTreeMap<String, Org>,
    /// The user id `GET /users/me` answers with (the token's own account); unset: the
    /// user of the first `owner` membership of the first organization.
    #[serde(default)]
    pub me: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub memberships: Vec<Membership>,
    #[serde(default)]
    pub teams: Vec<Team>,
    /// Invitations made through `POST …/invitations`; each has a pending membership.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invitations: Vec<Invitation>,
    /// Positions by id, built on first read and dropped by every write (see
    /// [`World::invalidate`]); only read handlers use it.
    #[serde(skip)]
    index: super::Lookups<OrgIndex>,
}

#[derive(Debug, Default)]
struct OrgIndex {
    users: super::HashIndex<usize>,
    memberships: super::HashIndex<usize>,
}

impl Org {
    fn index(&self) -> &OrgIndex {
        self.index.get_or_init(|| OrgIndex {
            users: super::HashIndex::of_ids(&self.users, |u| &u.id),
            memberships: super::HashIndex::of_ids(&self.memberships, |m| &m.id),
        })
    }

    fn user_at(&self, id: &str) -> Option<usize> {
        self.index().users.find(&self.users, |u| &u.id, id)
    }

    fn membership_at(&self, id: &str) -> Option<usize> {
        self.index()
            .memberships
            .find(&self.memberships, |m| &m.id, id)
    }
}

impl World {
    /// Drops every organization's lookups; the core calls this around every write.
    pub(crate) fn invalidate(&mut self) {
        for o in self.organizations.values_mut() {
            o.index.clear();
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub id: String,
    pub user: String,
    /// `owner`, `admin`, `developer` or `member`.
    #[serde(default = "member")]
    pub role: String,
    /// `active` or `pending` (an open invitation).
    #[serde(default = "active")]
    pub status: String,
}

/// An invitation into the organization and the pending membership it made.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub id: String,
    /// The organization membership id it created.
    pub membership: String,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default = "member")]
    pub role: String,
    #[serde(default)]
    pub created_at: Option<String>,
    /// The user who invited (`sys.createdBy`).
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub version: u64,
    #[serde(default)]
    pub members: Vec<TeamMembership>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamMembership {
    pub id: String,
    /// The organization membership id.
    pub membership: String,
}

fn member() -> String {
    "member".into()
}

fn active() -> String {
    "active".into()
}

pub struct Contentful;

fn error(status: StatusCode, id: &str, message: &str, details: Option<Value>) -> Response {
    let mut body = json!({
        "sys": {"type": "Error", "id": id},
        "message": message,
        "requestId": format!("sandbox-{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)),
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    (status, axum::Json(body)).into_response()
}

fn not_found(kind: &str, id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "The resource could not be found.",
        Some(json!({"type": kind, "id": id})),
    )
}

fn link(kind: &str, id: &str) -> Value {
    json!({"sys": {"type": "Link", "linkType": kind, "id": id}})
}

impl Api for Contentful {
    const NAME: &'static str = NAME;
    const MEMBER_LISTS: &'static [&'static str] =
        &["/organizations/{org}/teams/{team}/team_memberships"];
    const EMAIL_KEYED: &'static [&'static str] = &[];
    const WITH_INCLUDES: &'static [&'static str] =
        &["/organizations/{org}/teams/{team}/team_memberships"];

    fn routes() -> Router<AppState> {
        Router::new()
            .route(
                "/organizations/{org}/organization_memberships",
                get(memberships),
            )
            .route(
                "/organizations/{org}/organization_memberships/{id}",
                get(membership_get).delete(membership_delete),
            )
            .route("/organizations/{org}/invitations", post(invitation_create))
            .route("/organizations/{org}/invitations/{id}", get(invitation_get))
            .route("/users/me", get(me))
            .route("/organizations/{org}/users", get(users))
            .route("/organizations/{org}/users/{id}", get(user_get))
            .route("/organizations/{org}/teams", get(teams).post(team_create))
            .route(
                "/organizations/{org}/teams/{team}",
                get(team_get).put(team_update).delete(team_delete),
            )
            .route(
                "/organizations/{org}/teams/{team}/team_memberships",
                get(team_memberships).post(team_membership_create),
            )
            .route(
                "/organizations/{org}/teams/{team}/team_memberships/{id}",
                get(team_membership_get).delete(team_membership_delete),
            )
            .route(
                "/organizations/{org}/team_memberships",
                get(org_team_memberships),
            )
    }

    fn owns_path(path: &str) -> bool {
        path == "/organizations" || path.starts_with("/organizations/") || path == "/users/me"
    }

    fn error_response(status: StatusCode, message: &str) -> Response {
        let id = match status.as_u16() {
            400 => "BadRequest",
            401 => "AccessTokenInvalid",
            403 => "AccessDenied",
            404 => "NotFound",
            405 => "BadRequest",
            409 => "VersionMismatch",
            422 => "ValidationFailed",
            429 => "RateLimitExceeded",
            502 => "Hibernated",
            _ => "ServerError",
        };
        error(status, id, message, None)
    }

    /// Contentful's 429: `sys.id` `RateLimitExceeded`, and `X-Contentful-RateLimit-Reset`
    /// the whole seconds until a request is accepted again (at least 1).
    fn throttled(reset: std::time::Duration, limit: u32) -> Response {
        let retry_after_secs = reset.as_secs_f64().ceil() as u64;
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "RateLimitExceeded",
            "You have exceeded the rate limit of the Organization this Space belongs to.",
            None,
        );
        for (name, value) in [
            ("x-contentful-ratelimit-second-limit", limit.to_string()),
            ("x-contentful-ratelimit-second-remaining", "0".to_string()),
            (
                "x-contentful-ratelimit-reset",
                retry_after_secs.max(1).to_string(),
            ),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                r.headers_mut().insert(name, v);
            }
        }
        r
    }

    /// On every answer: the per-second limit, what is left of this second, and a reset of 0.
    fn rate_limit_headers(
        headers: &mut HeaderMap,
        limit: u32,
        remaining: u32,
        _reset: std::time::Duration,
    ) {
        for (name, value) in [
            ("x-contentful-ratelimit-second-limit", limit.to_string()),
            (
                "x-contentful-ratelimit-second-remaining",
                remaining.to_string(),
            ),
            ("x-contentful-ratelimit-reset", "0".to_string()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
    }
}

type Q = Query<HashMap<String, String>>;

fn auth(st: &AppState, h: &HeaderMap, q: &HashMap<String, String>) -> Result<(), Response> {
    let from_header = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = from_header.or(q
        .get("access_token")
        .map(String::as_str)
        .filter(|t| !t.is_empty()))
    else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "AccessTokenInvalid",
            "The access token you sent could not be found or is invalid.",
            None,
        ));
    };
    let listed = st.read(|w| w.contentful.tokens.clone());
    if !listed.is_empty() && !listed.iter().any(|t| t == token) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "AccessTokenInvalid",
            "The access token you sent could not be found or is invalid.",
            None,
        ));
    }
    Ok(())
}

fn body_json(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("The body is not valid JSON: {e}"),
            None,
        )
    })
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
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n <= MAX_LIMIT => n,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "The limit parameter must be a number between 0 and 100.",
                    None,
                );
            }
        },
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
        .take(served)
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
struct AttrFilter<'q> {
    eq: Vec<&'q str>,
    ne: Vec<&'q str>,
    within: Option<Vec<&'q str>>,
    outside: Vec<&'q str>,
}

impl<'q> AttrFilter<'q> {
    fn of(q: &'q HashMap<String, String>, attr: &str) -> Self {
        let get = |op: &str| q.get(&format!("{attr}{op}")).map(String::as_str);
        let list = |v: &'q str| v.split(',').map(str::trim).collect::<Vec<_>>();
        AttrFilter {
            eq: get("").into_iter().chain(get("[eq]")).collect(),
            ne: get("[ne]").into_iter().collect(),
            within: get("[in]").map(list),
            outside: get("[nin]").map(list).unwrap_or_default(),
        }
    }

    fn keeps(&self, value: &str) -> bool {
        self.eq.iter().all(|v| *v == value)
            && self.ne.iter().all(|v| *v != value)
            && self.within.as_ref().is_none_or(|vs| vs.contains(&value))
            && !self.outside.contains(&value)
    }
}

fn wants_include(q: &HashMap<String, String>, what: &str) -> bool {
    q.get("include")
        .is_some_and(|i| i.split(',').any(|p| p.trim() == what))
}

fn org_of<'a>(w: &'a super::World, org: &str) -> Result<&'a Org, Response> {
    w.contentful
        .organizations
        .get(org)
        .ok_or_else(|| not_found("Organization", org))
}

fn user_json(u: &User) -> Value {
    json!({
        "firstName": u.first_name, "lastName": u.last_name, "email": u.email,
        "activated": true, "confirmed": true,
        "sys": {"type": "User", "id": u.id, "version": 1},
    })
}

fn membership_json(org: &str, m: &Membership) -> Value {
    json!({
        "role": m.role,
        "sys": {"type": "OrganizationMembership", "id": m.id, "version": 0, "user": link("User", &m.user),
                "organization": link("Organization", org), "status": m.status,
                "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"},
    })
}

fn team_json(org: &str, t: &Team) -> Value {
    json!({
        "name": t.name, "description": t.description,
        "sys": {"type": "Team", "id": t.id, "version": t.version, "memberCount": t.members.len(),
                "organization": link("Organization", org),
                "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"},
    })
}

/// The user of every organization membership.
fn users_of_all(org: &Org) -> HashMap<&str, &str> {
    org.memberships
        .iter()
        .map(|m| (m.id.as_str(), m.user.as_str()))
        .collect()
}

/// The user of each of `ids` (organization membership ids), from the index: for reads.
fn users_of_indexed<'a>(
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

fn team_membership_json(
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
fn includes_for(org: &Org, q: &HashMap<String, String>, items: &[Value]) -> Option<Value> {
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
fn linked<'a, T>(
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

// ---------------------------------------------------------------- handlers

async fn memberships(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| {
        let o = match org_of(w, &org) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let query = q.get("query").map(|s| s.to_lowercase());
        // The users the full-text query matches, found once rather than per membership.
        let matching: Option<HashSet<&str>> = query.as_ref().map(|needle| {
            o.users
                .iter()
                .filter(|u| {
                    [&u.email, &u.first_name, &u.last_name, &u.id]
                        .iter()
                        .any(|f| super::contains_caseless(f, needle))
                })
                .map(|u| u.id.as_str())
                .collect()
        });
        let status = AttrFilter::of(&q, "sys.status");
        let role = AttrFilter::of(&q, "role");
        let user = AttrFilter::of(&q, "sys.user.sys.id");
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
        collection_of(
            &st,
            uri.path(),
            &q,
            items,
            |m| membership_json(&org, m),
            |page| includes_for(o, &q, page),
        )
    })
}

/// The token's own user id in `o`: the state file's `me`, else the user of the first
/// `owner` membership.
fn caller(me: &Option<String>, o: &Org) -> Option<String> {
    me.clone().or_else(|| {
        o.memberships
            .iter()
            .find(|m| m.role == "owner")
            .map(|m| m.user.clone())
    })
}

/// `GET /users/me` (ADDENDUM §3.2): the token's own user.
async fn me(State(st): State<AppState>, h: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| {
        let c = &w.contentful;
        let found = c.organizations.values().find_map(|o| {
            let id = caller(&c.me, o)?;
            o.users.iter().find(|u| u.id == id)
        });
        match found {
            Some(u) => axum::Json(user_json(u)).into_response(),
            None => not_found("User", "me"),
        }
    })
}

/// `GET /organizations/{org}/users`: the organization's users (CF-USERS), `query`
/// matching email or name like the memberships list.
async fn users(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => {
            let needle = q.get("query").map(|s| s.to_lowercase());
            let items: Vec<&User> = o
                .users
                .iter()
                .filter(|u| {
                    needle.as_ref().is_none_or(|n| {
                        [&u.email, &u.first_name, &u.last_name, &u.id]
                            .iter()
                            .any(|f| super::contains_caseless(f, n))
                    })
                })
                .collect();
            collection_of(&st, uri.path(), &q, items, user_json, |_| None)
        }
        Err(r) => r,
    })
}

/// `GET /organizations/{org}/users/{id}`: one user of the organization (CF-USERS).
async fn user_get(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => match o.users.iter().find(|u| u.id == id) {
            Some(u) => axum::Json(user_json(u)).into_response(),
            None => not_found("User", &id),
        },
        Err(r) => r,
    })
}

async fn membership_get(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => match o.memberships.iter().find(|m| m.id == id) {
            Some(m) => axum::Json(membership_json(&org, m)).into_response(),
            None => not_found("OrganizationMembership", &id),
        },
        Err(r) => r,
    })
}

async fn teams(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => collection(
            &st,
            uri.path(),
            &q,
            o.teams.iter().map(|t| team_json(&org, t)).collect(),
            |_| None,
        ),
        Err(r) => r,
    })
}

fn team_body(body: &Value) -> Result<(String, String), Response> {
    let Some(obj) = body.as_object() else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The body must be a JSON object.",
            None,
        ));
    };
    let unknown: Vec<&String> = obj
        .keys()
        .filter(|k| !["name", "description"].contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "UnknownKey",
            "The body you sent contains an unknown key.",
            Some(json!({"errors": [{"name": "unknown", "keys": unknown}]})),
        ));
    }
    match obj.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => Ok((
            n.to_string(),
            obj.get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )),
        _ => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ValidationFailed",
            "Validation error",
            Some(
                json!({"errors": [{"name": "required", "path": ["name"], "details": "The property \"name\" is required here"}]}),
            ),
        )),
    }
}

async fn team_create(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    Query(q): Q,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    let (name, description) = match body_json(&body).and_then(|b| team_body(&b)) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = st.new_id(22);
    let created = st.write(|w| {
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
        let team = Team {
            id: id.clone(),
            name: name.clone(),
            description,
            version: 0,
            members: Vec::new(),
        };
        let json = team_json(&org, &team);
        o.teams.push(team);
        Ok::<_, Response>(json)
    });
    match created {
        Ok(json) => {
            st.event(
                NAME,
                "team.create",
                json!({"org": org, "team": id, "name": name}),
            );
            (StatusCode::CREATED, axum::Json(json)).into_response()
        }
        Err(r) => r,
    }
}

async fn team_get(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => match o.teams.iter().find(|t| t.id == team) {
            Some(t) => axum::Json(team_json(&org, t)).into_response(),
            None => not_found("Team", &team),
        },
        Err(r) => r,
    })
}

async fn team_update(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    let (name, description) = match body_json(&body).and_then(|b| team_body(&b)) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let sent = h
        .get("x-contentful-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let updated = st.write(|w| {
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team", &team))?;
        if sent != Some(t.version) {
            return Err(error(
                StatusCode::CONFLICT,
                "VersionMismatch",
                "The version you sent does not match the current version of the resource.",
                Some(json!({"type": "Team", "id": team, "version": t.version})),
            ));
        }
        t.name = name.clone();
        t.description = description;
        t.version += 1;
        Ok::<_, Response>(team_json(&org, t))
    });
    match updated {
        Ok(json) => {
            st.event(NAME, "team.update", json!({"team": team, "name": name}));
            axum::Json(json).into_response()
        }
        Err(r) => r,
    }
}

async fn team_delete(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    let removed = st.write(|w| {
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
        let before = o.teams.len();
        o.teams.retain(|t| t.id != team);
        Ok::<_, Response>(o.teams.len() < before)
    });
    match removed {
        Ok(true) => {
            st.event(NAME, "team.delete", json!({"team": team}));
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => not_found("Team", &team),
        Err(r) => r,
    }
}

async fn team_memberships(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| {
        let o = match org_of(w, &org) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let Some(t) = o.teams.iter().find(|t| t.id == team) else {
            return not_found("Team", &team);
        };
        let users = users_of_indexed(o, t.members.iter().map(|tm| tm.membership.as_str()));
        let items = t
            .members
            .iter()
            .map(|tm| team_membership_json(&users, &org, t, tm))
            .collect();
        collection(&st, uri.path(), &q, items, |page| includes_for(o, &q, page))
    })
}

async fn org_team_memberships(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| {
        let o = match org_of(w, &org) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let filter = AttrFilter::of(&q, "sys.organizationMembership.sys.id");
        let users = users_of_all(o);
        let items = o
            .teams
            .iter()
            .flat_map(|t| t.members.iter().map(move |tm| (t, tm)))
            .filter(|(_, tm)| filter.keeps(&tm.membership))
            .map(|(t, tm)| team_membership_json(&users, &org, t, tm))
            .collect();
        collection(&st, uri.path(), &q, items, |page| includes_for(o, &q, page))
    })
}

async fn team_membership_get(
    State(st): State<AppState>,
    Path((org, team, id)): Path<(String, String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| {
        let o = match org_of(w, &org) {
            Ok(o) => o,
            Err(r) => return r,
        };
        match o
            .teams
            .iter()
            .find(|t| t.id == team)
            .and_then(|t| t.members.iter().find(|m| m.id == id).map(|m| (t, m)))
        {
            Some((t, m)) => {
                let users = users_of_indexed(o, [m.membership.as_str()]);
                axum::Json(team_membership_json(&users, &org, t, m)).into_response()
            }
            None => not_found("TeamMembership", &id),
        }
    })
}

fn validation(path: &str, name: &str, details: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "ValidationFailed",
        "Validation error",
        Some(json!({"errors": [{"name": name, "path": [path], "details": details}]})),
    )
}

async fn team_membership_create(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(obj) = body.as_object() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The body must be a JSON object.",
            None,
        );
    };
    let unknown: Vec<&String> = obj
        .keys()
        .filter(|k| !["organizationMembershipId", "admin"].contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "UnknownKey",
            "The body you sent contains an unknown key.",
            Some(json!({"errors": [{"name": "unknown", "keys": unknown}]})),
        );
    }
    let Some(membership) = obj
        .get("organizationMembershipId")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return validation(
            "organizationMembershipId",
            "required",
            "The property \"organizationMembershipId\" is required here",
        );
    };
    let id = st.new_id(22);
    let created = st.write(|w| {
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
        // A pending membership (an open invitation) may join teams at once (CF-INV).
        let user = match o.memberships.iter().find(|m| m.id == membership) {
            Some(m) => m.user.clone(),
            None => {
                return Err(validation(
                    "organizationMembershipId",
                    "notResolvable",
                    "No organization membership with this id exists in the organization",
                ));
            }
        };
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team", &team))?;
        if t.members.iter().any(|m| m.membership == membership) {
            return Err(validation(
                "organizationMembership",
                "taken",
                "The user is already a member of this team",
            ));
        }
        let tm = TeamMembership {
            id: id.clone(),
            membership: membership.clone(),
        };
        t.members.push(tm.clone());
        let users = HashMap::from([(membership.as_str(), user.as_str())]);
        Ok::<_, Response>(team_membership_json(&users, &org, t, &tm))
    });
    match created {
        Ok(json) => {
            st.event(
                NAME,
                "team_membership.create",
                json!({"team": team, "membership": membership}),
            );
            (StatusCode::CREATED, axum::Json(json)).into_response()
        }
        Err(r) => r,
    }
}

async fn team_membership_delete(
    State(st): State<AppState>,
    Path((org, team, id)): Path<(String, String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    let removed = st.write(|w| {
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team", &team))?;
        let gone = t
            .members
            .iter()
            .position(|m| m.id == id)
            .map(|i| t.members.remove(i));
        Ok::<_, Response>(gone)
    });
    match removed {
        Ok(Some(m)) => {
            st.event(
                NAME,
                "team_membership.remove",
                json!({"team": team, "id": id, "membership": m.membership}),
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => not_found("TeamMembership", &id),
        Err(r) => r,
    }
}

// ---------------------------------------------------------------- invitations and removals

const ORG_ROLES: &[&str] = &["owner", "admin", "developer", "member"];

/// The feature the invitation routes need in `x-contentful-enable-alpha-feature`.
const ALPHA_FEATURE: &str = "pending-org-membership";

fn invitation_json(inv: &Invitation, url: &str) -> Value {
    let at = inv.created_at.as_deref().unwrap_or("2024-01-01T00:00:00Z");
    let mut sys = json!({
        "type": "Invitation", "id": inv.id, "status": "open",
        "organizationMembership": link("OrganizationMembership", &inv.membership),
        "createdAt": at, "updatedAt": at, "user": null, "invitationUrl": url,
    });
    if let Some(by) = &inv.created_by {
        sys["createdBy"] = link("User", by);
    }
    json!({
        "email": inv.email, "firstName": inv.first_name, "lastName": inv.last_name,
        "role": inv.role, "sys": sys,
    })
}

/// The fields of an invitation body: (email, first name, last name, role).
fn invitation_body(body: &Value) -> Result<(String, String, String, String), Response> {
    let Some(obj) = body.as_object() else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The body must be a JSON object.",
            None,
        ));
    };
    let unknown: Vec<&String> = obj
        .keys()
        .filter(|k| !["email", "firstName", "lastName", "role"].contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "UnknownKey",
            "The body you sent contains an unknown key.",
            Some(json!({"errors": [{"name": "unknown", "keys": unknown}]})),
        ));
    }
    let email = match obj.get("email") {
        Some(Value::String(e)) if super::valid_email(e) => e.clone(),
        Some(_) => return Err(validation("email", "invalid", "The email is not valid")),
        None => {
            return Err(validation(
                "email",
                "required",
                "The property \"email\" is required here",
            ));
        }
    };
    let name = |key: &str| match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(n)) => Ok(n.clone()),
        Some(_) => Err(validation(key, "type", "Must be a string")),
    };
    let (first, last) = (name("firstName")?, name("lastName")?);
    let role = match obj.get("role") {
        None | Some(Value::Null) => member(),
        Some(Value::String(r)) if ORG_ROLES.contains(&r.as_str()) => r.clone(),
        Some(_) => {
            return Err(validation(
                "role",
                "in",
                "The role must be one of owner, admin, developer, member",
            ));
        }
    };
    Ok((email, first, last, role))
}

/// `POST /organizations/{org}/invitations` (ADDENDUM §3.1): 201 `Invitation`, and a
/// pending organization membership that teams accept at once.
async fn invitation_create(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    Query(q): Q,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    if st.behaviour().contentful_strict_alpha_header {
        let named = h
            .get_all("x-contentful-enable-alpha-feature")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|f| f.trim() == ALPHA_FEATURE);
        if !named {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!(
                    "This endpoint needs the x-contentful-enable-alpha-feature header with {ALPHA_FEATURE}."
                ),
                None,
            );
        }
    }
    let (email, first_name, last_name, role) =
        match body_json(&body).and_then(|b| invitation_body(&b)) {
            Ok(v) => v,
            Err(r) => return r,
        };
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let now = st.now();
    let created = st.write(|w| {
        let me = w.contentful.me.clone();
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
        let same = |u: &User| u.email.eq_ignore_ascii_case(&email);
        let taken = o
            .memberships
            .iter()
            .any(|m| o.users.iter().any(|u| u.id == m.user && same(u)));
        if taken {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ValidationFailed",
                "Validation error",
                Some(json!({"errors": [{"name": "taken", "path": ["email"], "value": email,
                    "details": format!("{email} is already a member of or invited to the organization")}]})),
            ));
        }
        let user = match o.users.iter().find(|u| same(u)) {
            Some(u) => u.id.clone(),
            None => {
                let id = st.new_id(22);
                o.users.push(User {
                    id: id.clone(),
                    email: email.clone(),
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                });
                id
            }
        };
        let membership = st.new_id(22);
        o.memberships.push(Membership {
            id: membership.clone(),
            user,
            role: role.clone(),
            status: "pending".into(),
        });
        let inv = Invitation {
            id: st.new_id(22),
            membership,
            email: email.clone(),
            first_name,
            last_name,
            role,
            created_at: Some(now),
            created_by: caller(&me, o),
        };
        let url = format!(
            "http://{host}/invitations/{}?token={}",
            inv.id,
            st.new_id(32)
        );
        let json = invitation_json(&inv, &url);
        o.invitations.push(inv);
        Ok::<_, Response>(json)
    });
    match created {
        Ok(json) => {
            st.event(
                NAME,
                "invitation.create",
                json!({"org": org, "invitation": json["sys"]["id"], "email": json["email"],
                       "role": json["role"], "membership": json["sys"]["organizationMembership"]["sys"]["id"]}),
            );
            (StatusCode::CREATED, axum::Json(json)).into_response()
        }
        Err(r) => r,
    }
}

/// `GET /organizations/{org}/invitations/{id}`: the invitation, `invitationUrl` empty.
async fn invitation_get(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => match o.invitations.iter().find(|i| i.id == id) {
            Some(i) => axum::Json(invitation_json(i, "")).into_response(),
            None => not_found("Invitation", &id),
        },
        Err(r) => r,
    })
}

/// `DELETE /organizations/{org}/organization_memberships/{id}`: 204; the membership's team
/// memberships and invitation go with it, and its user when nothing else links them.
async fn membership_delete(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h, &q) {
        return r;
    }
    let removed = st.write(|w| {
        let o = w
            .contentful
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization", &org))?;
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
        Ok::<_, Response>((m, teams))
    });
    match removed {
        // Named by the membership id, like the team-membership events.
        Ok((m, teams)) => {
            st.event(
                NAME,
                "membership.remove",
                json!({"org": org, "membership": id, "status": m.status, "teams": teams}),
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}
