//! Emulated Contentful User Management API (teams and team memberships), written from
//! `docs/providers/API_NOTES.md` §3, not from our client. Routes live at `/organizations/…`.
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
//!
//! This file holds the state, the routes, the request prelude (the [`Caller`] and [`InOrg`]
//! extractors: token check, organization lookup) and the error builders; `collections` holds
//! paging, filters, includes and rendering, and the handlers live in `memberships`
//! (organization memberships and users), `invitations` and `teams` (teams and their members).

// Helpers return a ready `Response` as their error, the way axum handlers answer.
#![allow(clippy::result_large_err)]

mod collections;
mod invitations;
mod memberships;
mod seed;
mod teams;

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Answer, Api, AppState};

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

impl AppState {
    /// Mutates the Contentful world only: the other APIs' lookups stay built.
    pub(crate) fn write_contentful<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.write_dropping(|w| w.contentful.invalidate(), |w| f(&mut w.contentful))
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
    type World = World;
    fn invalidate(world: &mut World) {
        world.invalidate();
    }
    fn seed(world: &mut World, org: &super::seed::Org) -> Result<(), String> {
        seed::seed(world, org)
    }
    const MEMBER_LISTS: &'static [&'static str] =
        &["/organizations/{org}/teams/{team}/team_memberships"];
    const EMAIL_KEYED: &'static [&'static str] = &[];
    const WITH_INCLUDES: &'static [&'static str] =
        &["/organizations/{org}/teams/{team}/team_memberships"];

    fn routes() -> Router<AppState> {
        Router::new()
            .route(
                "/organizations/{org}/organization_memberships",
                get(memberships::list),
            )
            .route(
                "/organizations/{org}/organization_memberships/{id}",
                get(memberships::get).delete(memberships::remove),
            )
            .route(
                "/organizations/{org}/invitations",
                post(invitations::create),
            )
            .route(
                "/organizations/{org}/invitations/{id}",
                get(invitations::get),
            )
            .route("/users/me", get(memberships::me))
            .route("/organizations/{org}/users", get(memberships::users))
            .route("/organizations/{org}/users/{id}", get(memberships::user))
            .route(
                "/organizations/{org}/teams",
                get(teams::list).post(teams::create),
            )
            .route(
                "/organizations/{org}/teams/{team}",
                get(teams::get).put(teams::update).delete(teams::delete),
            )
            .route(
                "/organizations/{org}/teams/{team}/team_memberships",
                get(teams::members).post(teams::member_create),
            )
            .route(
                "/organizations/{org}/teams/{team}/team_memberships/{id}",
                get(teams::member_get).delete(teams::member_delete),
            )
            .route(
                "/organizations/{org}/team_memberships",
                get(teams::org_members),
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

// ---------------------------------------------------------------- request prelude

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

/// The body as JSON, or Contentful's 400.
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

/// A request whose token (`Authorization: Bearer …` or `?access_token=`) the world accepts,
/// else Contentful's 401; with its query, which most handlers read.
struct Caller {
    st: AppState,
    q: HashMap<String, String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let Query(q) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(IntoResponse::into_response)?;
        auth(st, &parts.headers, &q)?;
        Ok(Caller { st: st.clone(), q })
    }
}

/// An authenticated request under `/organizations/{org}/…`: the organization, found (or
/// Contentful's 404) by [`InOrg::read`] and [`InOrg::write`] when the handler reaches for
/// it, so bodies are still checked first where they always were.
struct InOrg {
    st: AppState,
    q: HashMap<String, String>,
    /// The organization id from the path.
    org: String,
    /// The request path, which fixes a list's order under the `shuffled` variant.
    path: String,
}

impl FromRequestParts<AppState> for InOrg {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let Caller { st, q } = Caller::from_request_parts(parts, st).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, &st)
            .await
            .map_err(IntoResponse::into_response)?;
        let org = params
            .get("org")
            .cloned()
            .ok_or_else(|| not_found("Organization", ""))?;
        Ok(InOrg {
            st,
            q,
            org,
            path: parts.uri.path().to_string(),
        })
    }
}

impl InOrg {
    /// Reads the organization.
    fn read<R>(&self, f: impl FnOnce(&Org) -> Result<R, Response>) -> Result<R, Response> {
        self.st.read(|w| f(org_of(w, &self.org)?))
    }

    /// Changes the organization (see [`AppState::write_contentful`]).
    fn write<R>(&self, f: impl FnOnce(&mut Org) -> Result<R, Response>) -> Result<R, Response> {
        self.st.write_contentful(|c| f(org_mut(c, &self.org)?))
    }

    /// Records one change in the event log.
    fn event(&self, action: &str, detail: Value) {
        self.st.event(NAME, action, detail);
    }
}

fn org_of<'a>(w: &'a super::World, org: &str) -> Result<&'a Org, Response> {
    w.contentful
        .organizations
        .get(org)
        .ok_or_else(|| not_found("Organization", org))
}

fn org_mut<'a>(c: &'a mut World, org: &str) -> Result<&'a mut Org, Response> {
    c.organizations
        .get_mut(org)
        .ok_or_else(|| not_found("Organization", org))
}

/// A 422 `ValidationFailed` naming one property.
fn validation(path: &str, name: &str, details: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "ValidationFailed",
        "Validation error",
        Some(json!({"errors": [{"name": name, "path": [path], "details": details}]})),
    )
}

/// The body as a JSON object with no keys beyond `allowed`: else 400 `BadRequest` (not an
/// object) or 400 `UnknownKey` naming the others.
fn body_object<'a>(
    body: &'a Value,
    allowed: &[&str],
) -> Result<&'a serde_json::Map<String, Value>, Response> {
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
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "UnknownKey",
            "The body you sent contains an unknown key.",
            Some(json!({"errors": [{"name": "unknown", "keys": unknown}]})),
        ));
    }
    Ok(obj)
}
