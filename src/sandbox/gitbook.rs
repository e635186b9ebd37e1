//! Emulated GitBook API, written from `docs/providers/API_NOTES.md` §2 and the vendor OpenAPI
//! extract (`docs/providers/vendor/gitbook/`), not from our client. Routes live under `/v1`.
//!
//! Inferred ([I]) choices, one line each:
//! - Default `limit` is 100; `limit` outside 0..=1000 (or not a number) → 400; the `max_page_size` knob caps it further.
//! - Page tokens are opaque strings (`o<offset>`); an unknown token → 400 `Invalid page token`.
//! - List bodies are `{items, count, next?}`; `previous` is omitted (B2: not in the vendor schema).
//! - An organization member's `id` is the user id; the seed lists members with their user fields.
//! - Any accepted token sees every seeded organization with admin rights (no 403).
//! - Deletes: 205 when something was removed, 204 when there was nothing to remove (B1); both without a body.
//! - Bulk `add`/`remove` take user ids or emails (emails case-insensitive); an identifier that is not an
//!   organization member → 400 and nothing is changed (B3).
//! - New team members get role `member` unless `memberships` gives one; adding an existing member keeps
//!   their role unless `memberships` sets it; `memberships` alone only changes roles of members already in the
//!   team; a user in both `add` and `remove` ends up removed (vendor description).
//! - Team titles must be 1..=64 characters; duplicate titles are allowed (nothing says otherwise).
//! - `search` matches a case-insensitive substring of the display name or email; `title` likewise for teams.
//! - Rate-limit headers on every response; `X-RateLimit-Reset` is epoch seconds (B4); 429 body as GB-RL, valid JSON.
//! - Invites (ADDENDUM §2.1): role `read` when neither the item nor the body names one; `sso` must be a boolean and
//!   is otherwise ignored (no `failedSSOEmails`); an address twice in one body counts once (the first role wins);
//!   an empty `emails` or a bad address or role → 400; an address that is already a member → 400 naming it, nothing
//!   invited; re-inviting a pending address is a re-send (200, counted, event, role updated). Availability and
//!   pending-vs-member are knobs (`gitbook_invites`, `gitbook_invitees`).
//! - A pending invitee is not a member: absent from the members list, and team adds naming them are the 400 above.
//! - `DELETE …/members/{user}` removes the member from every team of the organization too; 205/204 as B1; no 202.
//!
//! This file holds the state, the routes, the request prelude (the [`Caller`] and [`InOrg`]
//! extractors: token check, organization lookup) and what the handlers share (paging,
//! rendering); the handlers live in `members` (organization members), `invites` and `teams`
//! (teams and their members).

// Helpers return a ready `Response` as their error, the way axum handlers answer.
#![allow(clippy::result_large_err)]

mod invites;
mod members;
mod seed;
mod teams;

pub(crate) use invites::accept_invite;

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Answer, Api, AppState};

const NAME: &str = "gitbook";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

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
    /// The user id `GET /user` answers with (the token's own account); unset: the first
    /// member of the first organization whose role is `admin`.
    #[serde(default)]
    pub me: Option<String>,
    /// Pending email invitations (`POST /v1/orgs/{org}/invites` under the `pending`
    /// invitees knob). GitBook has no route that lists them; they are kept here so tests
    /// can see them and `POST /_sandbox/gitbook/accept` can turn one into a member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invites: Vec<Invite>,
}

/// A pending invitation: who, into which organization, with which organization role.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub org: String,
    pub email: String,
    /// The organization role the invitee gets on joining; null for a guest.
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// Organization members; a member's id is its user id.
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default)]
    pub teams: Vec<Team>,
    /// Lookups built on first read and dropped by every write (see [`World::invalidate`]);
    /// only read handlers use them.
    #[serde(skip)]
    index: super::Lookups<OrgIndex>,
}

#[derive(Debug, Default)]
struct OrgIndex {
    members: super::HashIndex<usize>,
    /// How many teams each member (by position) is in.
    team_counts: Vec<usize>,
}

impl Org {
    fn index(&self) -> &OrgIndex {
        self.index.get_or_init(|| {
            let members = super::HashIndex::of_ids(&self.members, |m| &m.id);
            let mut team_counts = vec![0; self.members.len()];
            for t in &self.teams {
                let mut seen: Vec<usize> = t
                    .members
                    .iter()
                    .filter_map(|tm| members.find(&self.members, |m| &m.id, &tm.user))
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                for i in seen {
                    team_counts[i] += 1;
                }
            }
            OrgIndex {
                members,
                team_counts,
            }
        })
    }

    /// The position of member `id`, from the index: for reads.
    fn member_at(&self, id: &str) -> Option<usize> {
        self.index().members.find(&self.members, |m| &m.id, id)
    }

    fn teams_of(&self, i: usize) -> usize {
        self.index().team_counts.get(i).copied().unwrap_or(0)
    }
}

impl AppState {
    /// Mutates the GitBook world only: the other APIs' lookups stay built.
    pub(crate) fn write_gitbook<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.write_dropping(|w| w.gitbook.invalidate(), |w| f(&mut w.gitbook))
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
pub struct Member {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// `admin`, `create`, `edit`, `review`, `comment`, `read`, or null for guests.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default = "epoch")]
    pub joined_at: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: String,
    pub title: String,
    #[serde(default = "epoch")]
    pub created_at: String,
    #[serde(default)]
    pub members: Vec<TeamMember>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamMember {
    pub user: String,
    /// `owner` or `member`.
    #[serde(default = "member_role")]
    pub role: String,
}

fn epoch() -> String {
    "2024-01-01T00:00:00Z".to_string()
}

fn member_role() -> String {
    "member".to_string()
}

pub struct Gitbook;

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, &format!("{what} not found"))
}

impl Api for Gitbook {
    const NAME: &'static str = NAME;
    type World = World;
    fn invalidate(world: &mut World) {
        world.invalidate();
    }
    fn seed(world: &mut World, org: &super::seed::Org) -> Result<(), String> {
        seed::seed(world, org)
    }
    const MEMBER_LISTS: &'static [&'static str] = &["/v1/orgs/{org}/teams/{team}/members"];
    const EMAIL_KEYED: &'static [&'static str] = &[];

    fn routes() -> Router<AppState> {
        Router::new()
            .route("/v1/user", get(members::me))
            .route("/v1/orgs/{org}/members", get(members::list))
            .route(
                "/v1/orgs/{org}/members/{user}",
                get(members::get).delete(members::remove),
            )
            .route("/v1/orgs/{org}/invites", post(invites::create))
            .route("/v1/orgs/{org}/teams", get(teams::list).put(teams::create))
            .route(
                "/v1/orgs/{org}/teams/{team}",
                get(teams::get).patch(teams::rename).delete(teams::delete),
            )
            .route(
                "/v1/orgs/{org}/teams/{team}/members",
                get(teams::members).put(teams::members_update),
            )
            .route(
                "/v1/orgs/{org}/teams/{team}/members/{user}",
                put(teams::member_put).delete(teams::member_delete),
            )
    }

    const BASE_PATH: &'static str = "/v1";

    fn owns_path(path: &str) -> bool {
        path == "/v1" || path.starts_with("/v1/")
    }

    fn error_response(status: StatusCode, message: &str) -> Response {
        error(status, message)
    }

    /// GitBook's 429: its error body naming the seconds, and the `X-RateLimit-*` headers.
    fn throttled(reset: std::time::Duration, limit: u32) -> Response {
        let retry_after_secs = reset.as_secs_f64().ceil() as u64;
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("API rate limit exceeded. Please try again in {retry_after_secs} seconds"),
        );
        Self::rate_limit_headers(r.headers_mut(), limit, 0, reset);
        r
    }

    /// On every answer: `X-RateLimit-Limit`, `-Remaining` and `-Reset`, the window's end in
    /// epoch seconds, rounded up (a client waiting until then is never early).
    fn rate_limit_headers(
        headers: &mut HeaderMap,
        limit: u32,
        remaining: u32,
        reset: std::time::Duration,
    ) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let reset_epoch = (now + reset).as_secs_f64().ceil() as u64;
        for (name, value) in [
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset_epoch.to_string()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
    }
}

// ---------------------------------------------------------------- request prelude

fn auth(st: &AppState, h: &HeaderMap) -> Result<(), Response> {
    let header = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "You must be authenticated to access this resource",
        ));
    };
    let listed = st.read(|w| w.gitbook.tokens.clone());
    if !listed.is_empty() && !listed.iter().any(|t| t == token) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Invalid authentication token",
        ));
    }
    Ok(())
}

/// A request whose `Bearer` token the world accepts (else GitBook's 401), with what the
/// handlers need of it.
struct Caller {
    st: AppState,
    /// The `Host` the request named, for absolute URLs.
    host: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        auth(st, &parts.headers)?;
        Ok(Caller {
            st: st.clone(),
            host: host(&parts.headers),
        })
    }
}

/// An authenticated request under `/v1/orgs/{org}/…`: the organization, found (or GitBook's
/// 404) by [`InOrg::read`] and [`InOrg::write`] when the handler reaches for it, so a
/// handler checks its body first exactly where it always did.
struct InOrg {
    st: AppState,
    host: String,
    /// The organization id from the path.
    org: String,
    /// The request path, which fixes a list's order under the `shuffled` variant.
    path: String,
}

impl FromRequestParts<AppState> for InOrg {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let Caller { st, host } = Caller::from_request_parts(parts, st).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, &st)
            .await
            .map_err(IntoResponse::into_response)?;
        let org = params
            .get("org")
            .cloned()
            .ok_or_else(|| not_found("Organization"))?;
        Ok(InOrg {
            st,
            host,
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

    /// Changes the organization (see [`AppState::write_gitbook`]).
    fn write<R>(&self, f: impl FnOnce(&mut Org) -> Result<R, Response>) -> Result<R, Response> {
        self.st.write_gitbook(|g| {
            let o = g
                .organizations
                .get_mut(&self.org)
                .ok_or_else(|| not_found("Organization"))?;
            f(o)
        })
    }

    /// Records one change in the event log.
    fn event(&self, action: &str, detail: Value) {
        self.st.event(NAME, action, detail);
    }

    /// One page of `items`, as this request asks for it; only that page is rendered.
    fn page<T, R: Serialize>(
        &self,
        q: &HashMap<String, String>,
        items: Vec<T>,
        render: impl Fn(T) -> R,
    ) -> Response {
        page(&self.st, &self.path, q, items, render)
    }
}

// ---------------------------------------------------------------- shared by the handlers

fn body_json(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("Invalid JSON body: {e}")))
}

fn host(h: &HeaderMap) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string()
}

/// One page of `items`, in the GitBook list wrapper, in the order `path` serves them.
/// Items are rendered only for the page served: rendering 20,000 members to answer with
/// 1,000 made reading the directory quadratic.
fn page<T, R: Serialize>(
    st: &AppState,
    path: &str,
    q: &HashMap<String, String>,
    mut items: Vec<T>,
    render: impl Fn(T) -> R,
) -> Response {
    st.arrange(path, &mut items);
    let Some(limit) = super::limit_param(q, DEFAULT_LIMIT, MAX_LIMIT) else {
        return error(
            StatusCode::BAD_REQUEST,
            "limit must be a number between 0 and 1000",
        );
    };
    let limit = st.page_limit(limit).0.max(1);
    let offset = match q.get("page") {
        None => 0,
        Some(token) => match token
            .strip_prefix('o')
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n <= items.len() => n,
            _ => return error(StatusCode::BAD_REQUEST, "Invalid page token"),
        },
    };
    let count = items.len();
    let end = (offset + st.served_from(limit, offset)).min(count);
    let items = items
        .into_iter()
        .skip(offset)
        .take(end - offset)
        .map(render)
        .collect();
    let next = (end < count).then(|| Next {
        page: format!("o{end}"),
    });
    axum::Json(Page { items, count, next }).into_response()
}

// Lists are serialized straight from the world through these borrowed shapes (fields in
// the API's order), not built as `Value`s first: that was most of the emulator's CPU in a
// large plan, on the cores the client shares.

/// The GitBook list wrapper.
#[derive(Serialize)]
struct Page<R> {
    items: Vec<R>,
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<Next>,
}

#[derive(Serialize)]
struct Next {
    page: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserOut<'a> {
    object: &'static str,
    id: &'a str,
    display_name: &'a str,
    urls: Urls,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct Urls {
    location: String,
}

/// An organization member.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberOut<'a> {
    object: &'static str,
    id: &'a str,
    role: &'a Option<String>,
    user: UserOut<'a>,
    disabled: bool,
    joined_at: &'a str,
    sso: bool,
    spaces: u32,
    teams: usize,
    sites: u32,
}

fn member_json<'a>(host: &str, teams: usize, m: &'a Member) -> MemberOut<'a> {
    MemberOut {
        object: "member",
        id: &m.id,
        role: &m.role,
        user: UserOut {
            object: "user",
            id: &m.id,
            display_name: &m.name,
            urls: Urls {
                location: format!("http://{host}/v1/users/{}", m.id),
            },
            email: m.email.as_deref(),
        },
        disabled: false,
        joined_at: &m.joined_at,
        sso: false,
        spaces: 0,
        teams,
        sites: 0,
    }
}

fn team_json(t: &Team) -> Value {
    json!({
        "object": "team",
        "id": t.id,
        "title": t.title,
        "members": t.members.len(),
        "spaces": 0,
        "createdAt": t.created_at,
        "permissions": {"admin": true, "view": true},
    })
}

fn org_of<'a>(w: &'a super::World, org: &str) -> Result<&'a Org, Response> {
    w.gitbook
        .organizations
        .get(org)
        .ok_or_else(|| not_found("Organization"))
}

fn valid_title(body: &Value) -> Result<String, Response> {
    match body.get("title").and_then(Value::as_str) {
        Some(t) if !t.is_empty() && t.chars().count() <= 64 => Ok(t.to_string()),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "title must be between 1 and 64 characters",
        )),
        None => Err(error(StatusCode::BAD_REQUEST, "title is required")),
    }
}

/// The org member an identifier (user id or email) names.
fn resolve<'a>(org: &'a Org, ident: &str) -> Option<&'a Member> {
    org.members.iter().find(|m| {
        m.id == ident
            || m.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(ident))
    })
}

/// Team `id` of the organization, or GitBook's 404.
fn team<'a>(o: &'a Org, id: &str) -> Result<&'a Team, Response> {
    o.teams
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found("Team"))
}

/// Team `id` of the organization, to change, or GitBook's 404.
fn team_mut<'a>(o: &'a mut Org, id: &str) -> Result<&'a mut Team, Response> {
    o.teams
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found("Team"))
}

/// The 400 for an identifier (user id or email) that names no organization member (B3).
fn not_a_member(ident: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        &format!("{ident} is not a member of the organization"),
    )
}
