//! Emulated GitBook API, written from API_NOTES.md §2 and the vendor OpenAPI extract
//! (`shared/providers/vendor/gitbook/`), not from our client. Routes live under `/v1`.
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

// Helpers return a ready `Response` as their error, the way axum handlers answer.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Api, AppState, GitbookInvitees, GitbookInvites};

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
    const MEMBER_LISTS: &'static [&'static str] = &["/v1/orgs/{org}/teams/{team}/members"];
    const EMAIL_KEYED: &'static [&'static str] = &[];

    fn routes() -> Router<AppState> {
        Router::new()
            .route("/v1/user", get(me))
            .route("/v1/orgs/{org}/members", get(members))
            .route(
                "/v1/orgs/{org}/members/{user}",
                get(member_get).delete(member_delete),
            )
            .route("/v1/orgs/{org}/invites", post(invite))
            .route("/v1/orgs/{org}/teams", get(teams).put(team_create))
            .route(
                "/v1/orgs/{org}/teams/{team}",
                get(team_get).patch(team_update).delete(team_delete),
            )
            .route(
                "/v1/orgs/{org}/teams/{team}/members",
                get(team_members).put(team_members_update),
            )
            .route(
                "/v1/orgs/{org}/teams/{team}/members/{user}",
                put(team_member_put).delete(team_member_delete),
            )
    }

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

// ---------------------------------------------------------------- prelude

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

fn body_json(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("Invalid JSON body: {e}")))
}

type Q = Query<HashMap<String, String>>;

fn host(h: &HeaderMap) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string()
}

/// One page of `items`, in the GitBook list wrapper, in the order `path` serves them.
fn page(st: &AppState, path: &str, q: &HashMap<String, String>, mut items: Vec<Value>) -> Response {
    st.arrange(path, &mut items);
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n <= MAX_LIMIT => n,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "limit must be a number between 0 and 1000",
                );
            }
        },
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
    let end = (offset + limit).min(count);
    let mut body = json!({"items": items[offset..end].to_vec(), "count": count});
    if end < count {
        body["next"] = json!({"page": format!("o{end}")});
    }
    axum::Json(body).into_response()
}

fn user_json(host: &str, m: &Member) -> Value {
    let mut u = json!({
        "object": "user",
        "id": m.id,
        "displayName": m.name,
        "urls": {"location": format!("http://{host}/v1/users/{}", m.id)},
    });
    if let Some(e) = &m.email {
        u["email"] = json!(e);
    }
    u
}

fn member_json(host: &str, teams: usize, m: &Member) -> Value {
    json!({
        "object": "member",
        "id": m.id,
        "role": m.role,
        "user": user_json(host, m),
        "disabled": false,
        "joinedAt": m.joined_at,
        "sso": false,
        "spaces": 0,
        "teams": teams,
        "sites": 0,
    })
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

// ---------------------------------------------------------------- handlers

async fn members(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let host = host(&h);
    let items = st.read(|w| {
        let o = org_of(w, &org)?;
        let search = q.get("search").map(|s| s.to_lowercase());
        let role = q.get("role");
        Ok(o.members
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
            .map(|(i, m)| member_json(&host, o.teams_of(i), m))
            .collect::<Vec<_>>())
    });
    match items {
        Ok(items) => page(&st, uri.path(), &q, items),
        Err(r) => r,
    }
}

/// `GET /v1/user` (ADDENDUM §2.2): the token's own account.
async fn me(State(st): State<AppState>, h: HeaderMap) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    st.read(|w| {
        let g = &w.gitbook;
        let found = g.organizations.values().find_map(|o| match &g.me {
            Some(id) => o.members.iter().find(|m| &m.id == id),
            None => o
                .members
                .iter()
                .find(|m| m.role.as_deref() == Some("admin")),
        });
        match found {
            Some(m) => axum::Json(json!({
                "object": "user", "id": m.id, "displayName": m.name, "email": m.email,
                "urls": {"location": format!("http://{host}/u/{}", m.id)},
            }))
            .into_response(),
            None => error(StatusCode::NOT_FOUND, "User not found"),
        }
    })
}

async fn member_get(
    State(st): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let host = host(&h);
    st.read(|w| {
        let o = match org_of(w, &org) {
            Ok(o) => o,
            Err(r) => return r,
        };
        match o
            .member_at(&user)
            .and_then(|i| o.members.get(i).map(|m| (i, m)))
        {
            Some((i, m)) => axum::Json(member_json(&host, o.teams_of(i), m)).into_response(),
            None => not_found("Member"),
        }
    })
}

async fn teams(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let items = st.read(|w| {
        let o = org_of(w, &org)?;
        let title = q.get("title").map(|t| t.to_lowercase());
        Ok(o.teams
            .iter()
            .filter(|t| {
                title
                    .as_ref()
                    .is_none_or(|s| t.title.to_lowercase().contains(s))
            })
            .map(team_json)
            .collect::<Vec<_>>())
    });
    match items {
        Ok(items) => page(&st, uri.path(), &q, items),
        Err(r) => r,
    }
}

async fn team_create(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let title = match valid_title(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let wanted: Vec<String> = body
        .get("members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let id = st.new_id(20);
    let now = st.now();
    let created = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        let mut members = Vec::new();
        for ident in &wanted {
            let m = resolve(o, ident).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("{ident} is not a member of the organization"),
                )
            })?;
            members.push(TeamMember {
                user: m.id.clone(),
                role: member_role(),
            });
        }
        let team = Team {
            id: id.clone(),
            title: title.clone(),
            created_at: now,
            members,
        };
        let json = team_json(&team);
        o.teams.push(team);
        Ok::<_, Response>(json)
    });
    match created {
        Ok(json) => {
            st.event(
                NAME,
                "team.create",
                json!({"org": org, "team": id, "title": title}),
            );
            for user in &wanted {
                st.event(NAME, "team_member.add", json!({"team": id, "user": user}));
            }
            (StatusCode::CREATED, axum::Json(json)).into_response()
        }
        Err(r) => r,
    }
}

async fn team_get(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    st.read(|w| match org_of(w, &org) {
        Ok(o) => match o.teams.iter().find(|t| t.id == team) {
            Some(t) => axum::Json(team_json(t)).into_response(),
            None => not_found("Team"),
        },
        Err(r) => r,
    })
}

async fn team_update(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let title = match body_json(&body).and_then(|b| valid_title(&b)) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let updated = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team"))?;
        t.title = title.clone();
        Ok::<_, Response>(team_json(t))
    });
    match updated {
        Ok(json) => {
            st.event(NAME, "team.update", json!({"team": team, "title": title}));
            axum::Json(json).into_response()
        }
        Err(r) => r,
    }
}

async fn team_delete(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let removed = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        let before = o.teams.len();
        o.teams.retain(|t| t.id != team);
        Ok::<_, Response>(o.teams.len() < before)
    });
    match removed {
        Ok(true) => {
            st.event(NAME, "team.delete", json!({"team": team}));
            StatusCode::RESET_CONTENT.into_response()
        }
        Ok(false) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

async fn team_members(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let host = host(&h);
    let items = st.read(|w| {
        let o = org_of(w, &org)?;
        let t = o
            .teams
            .iter()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team"))?;
        Ok(t.members
            .iter()
            .filter_map(|tm| {
                let i = o.member_at(&tm.user)?;
                let m = o.members.get(i)?;
                Some(json!({
                    "organization": member_json(&host, o.teams_of(i), m),
                    "team": {"role": tm.role},
                    "permissions": {"view": true},
                }))
            })
            .collect::<Vec<_>>())
    });
    match items {
        Ok(items) => page(&st, uri.path(), &q, items),
        Err(r) => r,
    }
}

fn string_list(body: &Value, key: &str) -> Result<Vec<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        &format!("{key} must be a list of user ids or emails"),
                    )
                })
            })
            .collect(),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            &format!("{key} must be a list of user ids or emails"),
        )),
    }
}

fn valid_role(v: &Value) -> Result<String, Response> {
    match v.get("role").and_then(Value::as_str) {
        Some(r @ ("owner" | "member")) => Ok(r.to_string()),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "role must be \"owner\" or \"member\"",
        )),
    }
}

async fn team_members_update(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let body = match body_json(&body) {
        Ok(Value::Null) => json!({}),
        Ok(b @ Value::Object(_)) => b,
        Ok(_) => return error(StatusCode::BAD_REQUEST, "the body must be an object"),
        Err(r) => return r,
    };
    let (add, remove) = match (string_list(&body, "add"), string_list(&body, "remove")) {
        (Ok(a), Ok(r)) => (a, r),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut roles: Vec<(String, String)> = Vec::new();
    if let Some(m) = body.get("memberships") {
        let Some(map) = m.as_object() else {
            return error(
                StatusCode::BAD_REQUEST,
                "memberships must be an object keyed by user id",
            );
        };
        for (user, v) in map {
            match valid_role(v) {
                Ok(role) => roles.push((user.clone(), role)),
                Err(r) => return r,
            }
        }
    }
    let outcome = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        // Resolve everything first: one unknown identifier rejects the whole request.
        let resolve_all = |list: &[String]| -> Result<Vec<String>, Response> {
            list.iter()
                .map(|i| {
                    resolve(o, i).map(|m| m.id.clone()).ok_or_else(|| {
                        error(
                            StatusCode::BAD_REQUEST,
                            &format!("{i} is not a member of the organization"),
                        )
                    })
                })
                .collect()
        };
        let add = resolve_all(&add)?;
        let remove = resolve_all(&remove)?;
        for (user, _) in &roles {
            if !o.members.iter().any(|m| &m.id == user) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    &format!("{user} is not a member of the organization"),
                ));
            }
        }
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team"))?;
        let mut events = Vec::new();
        let role_for = |u: &str| {
            roles
                .iter()
                .find(|(r, _)| r == u)
                .map(|(_, role)| role.clone())
        };
        // A user in both lists ends up removed, so it is never added in the first place.
        for user in add.iter().filter(|u| !remove.contains(u)) {
            if !t.members.iter().any(|m| &m.user == user) {
                let role = role_for(user).unwrap_or_else(member_role);
                t.members.push(TeamMember {
                    user: user.clone(),
                    role: role.clone(),
                });
                events.push((
                    "team_member.add",
                    json!({"team": team, "user": user, "role": role}),
                ));
            }
        }
        for (user, role) in &roles {
            if let Some(m) = t.members.iter_mut().find(|m| &m.user == user)
                && &m.role != role
            {
                m.role = role.clone();
                events.push((
                    "team_member.role",
                    json!({"team": team, "user": user, "role": role}),
                ));
            }
        }
        for user in &remove {
            if t.members.iter().any(|m| &m.user == user) {
                t.members.retain(|m| &m.user != user);
                events.push(("team_member.remove", json!({"team": team, "user": user})));
            }
        }
        Ok::<_, Response>(events)
    });
    match outcome {
        Ok(events) => {
            for (action, detail) in events {
                st.event(NAME, action, detail);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn team_member_put(
    State(st): State<AppState>,
    Path((org, team, user)): Path<(String, String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let role = match body_json(&body) {
        Ok(Value::Null) => None,
        Ok(b) if b.get("role").is_none() => None,
        Ok(b) => match valid_role(&b) {
            Ok(r) => Some(r),
            Err(r) => return r,
        },
        Err(r) => return r,
    };
    let outcome = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        if !o.members.iter().any(|m| m.id == user) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                &format!("{user} is not a member of the organization"),
            ));
        }
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team"))?;
        match t.members.iter_mut().find(|m| m.user == user) {
            Some(m) => {
                let changed = role.as_ref().is_some_and(|r| r != &m.role);
                if let Some(r) = &role {
                    m.role = r.clone();
                }
                Ok::<_, Response>(changed.then(|| ("team_member.role", m.role.clone())))
            }
            None => {
                let r = role.clone().unwrap_or_else(member_role);
                t.members.push(TeamMember {
                    user: user.clone(),
                    role: r.clone(),
                });
                Ok(Some(("team_member.add", r)))
            }
        }
    });
    match outcome {
        Ok(event) => {
            if let Some((action, role)) = event {
                st.event(
                    NAME,
                    action,
                    json!({"team": team, "user": user, "role": role}),
                );
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn team_member_delete(
    State(st): State<AppState>,
    Path((org, team, user)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let removed = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        let t = o
            .teams
            .iter_mut()
            .find(|t| t.id == team)
            .ok_or_else(|| not_found("Team"))?;
        let before = t.members.len();
        t.members.retain(|m| m.user != user);
        Ok::<_, Response>(t.members.len() < before)
    });
    match removed {
        Ok(true) => {
            st.event(
                NAME,
                "team_member.remove",
                json!({"team": team, "user": user}),
            );
            StatusCode::RESET_CONTENT.into_response()
        }
        Ok(false) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

// ---------------------------------------------------------------- invites and removals

/// Organization roles (`MemberRole`); an invitation may also give null, a guest.
const ORG_ROLES: &[&str] = &["admin", "create", "edit", "review", "comment", "read"];

/// The organization role of an invitee when neither the item nor the body names one [I].
const DEFAULT_INVITE_ROLE: &str = "read";

fn org_role(v: &Value, what: &str) -> Result<Option<String>, Response> {
    match v {
        Value::Null => Ok(None),
        Value::String(r) if ORG_ROLES.contains(&r.as_str()) => Ok(Some(r.clone())),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            &format!(
                "{what} must be one of admin, create, edit, review, comment, read, or null for a guest"
            ),
        )),
    }
}

/// The `(email, role)` of each invitee of an `InviteUsersToOrganization` body, once each.
fn invitees(body: &Value) -> Result<Vec<(String, Option<String>)>, Response> {
    let Some(obj) = body.as_object() else {
        return Err(error(StatusCode::BAD_REQUEST, "the body must be an object"));
    };
    let default_role = match obj.get("role") {
        None => Some(DEFAULT_INVITE_ROLE.to_string()),
        Some(r) => org_role(r, "role")?,
    };
    if !matches!(obj.get("sso"), None | Some(Value::Bool(_))) {
        return Err(error(StatusCode::BAD_REQUEST, "sso must be a boolean"));
    }
    let items = match obj.get("emails") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "emails must list at least one email",
            ));
        }
        Some(_) => return Err(error(StatusCode::BAD_REQUEST, "emails must be a list")),
        None => return Err(error(StatusCode::BAD_REQUEST, "emails is required")),
    };
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for item in items {
        let (email, role) = match item {
            Value::String(e) => (e.as_str(), default_role.clone()),
            Value::Object(o) => match (o.get("email").and_then(Value::as_str), o.get("role")) {
                (Some(e), Some(r)) => (e, org_role(r, "emails[].role")?),
                _ => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "each emails[] object needs both email and role",
                    ));
                }
            },
            _ => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "emails[] items must be an email or {\"email\", \"role\"}",
                ));
            }
        };
        if !super::valid_email(email) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                &format!("{email} is not a valid email address"),
            ));
        }
        if !out.iter().any(|(e, _)| e.eq_ignore_ascii_case(email)) {
            out.push((email.to_string(), role));
        }
    }
    Ok(out)
}

fn is_member_email(org: &Org, email: &str) -> bool {
    org.members.iter().any(|m| {
        m.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

/// A new organization member for someone who joined by invitation.
fn joined(id: String, email: &str, role: Option<String>, now: String) -> Member {
    Member {
        id,
        name: email.split('@').next().unwrap_or(email).to_string(),
        email: Some(email.to_string()),
        role,
        joined_at: now,
    }
}

/// `POST /v1/orgs/{org}/invites` (ADDENDUM §2.1): 200 `{users, invited}`.
async fn invite(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let behaviour = st.behaviour();
    match behaviour.gitbook_invites {
        GitbookInvites::Available => {}
        GitbookInvites::Forbidden => {
            return error(
                StatusCode::FORBIDDEN,
                "You do not have permission to invite users to this organization",
            );
        }
        GitbookInvites::NotFound => return error(StatusCode::NOT_FOUND, "Not found"),
    }
    let wanted = match body_json(&body).and_then(|b| invitees(&b)) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let immediate = behaviour.gitbook_invitees == GitbookInvitees::Immediate;
    let now = st.now();
    let outcome = st.write(|w| {
        let g = &mut w.gitbook;
        let o = g
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        if let Some((email, _)) = wanted.iter().find(|(e, _)| is_member_email(o, e)) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                &format!("{email} is already a member of the organization"),
            ));
        }
        let mut users = Vec::new();
        let mut events = Vec::new();
        for (email, role) in &wanted {
            let pending = g
                .invites
                .iter()
                .position(|i| i.org == org && i.email.eq_ignore_ascii_case(email));
            if immediate {
                let id = st.new_id(20);
                o.members
                    .push(joined(id.clone(), email, role.clone(), now.clone()));
                if let Some(at) = pending {
                    g.invites.remove(at);
                }
                events.push(json!({"org": org, "email": email, "role": role, "status": "member", "user": id}));
                users.push(id);
            } else {
                match pending.and_then(|at| g.invites.get_mut(at)) {
                    Some(i) => i.role = role.clone(),
                    None => g.invites.push(Invite {
                        org: org.clone(),
                        email: email.clone(),
                        role: role.clone(),
                    }),
                }
                events.push(json!({"org": org, "email": email, "role": role, "status": "pending", "resent": pending.is_some()}));
            }
        }
        Ok::<_, Response>((users, events))
    });
    match outcome {
        Ok((users, events)) => {
            let invited = events.len();
            for e in events {
                st.event(NAME, "invite.create", e);
            }
            axum::Json(json!({"users": users, "invited": invited})).into_response()
        }
        Err(r) => r,
    }
}

/// The test hook behind `POST /_sandbox/gitbook/accept`: the pending invitation to `email`
/// (in `org`, or the first organization that has one) becomes a member with a new user id
/// and the invited role. Returns (organization, user id); `None` when none is pending.
pub(crate) fn accept_invite(
    st: &AppState,
    org: Option<&str>,
    email: &str,
) -> Option<(String, String)> {
    let now = st.now();
    let (org, id, role) = st.write(|w| {
        let g = &mut w.gitbook;
        let at = g.invites.iter().position(|i| {
            i.email.eq_ignore_ascii_case(email)
                && org.is_none_or(|o| i.org == o)
                && g.organizations.contains_key(&i.org)
        })?;
        let inv = g.invites.remove(at);
        let o = g.organizations.get_mut(&inv.org)?;
        let id = st.new_id(20);
        o.members
            .push(joined(id.clone(), &inv.email, inv.role.clone(), now));
        Some((inv.org, id, inv.role))
    })?;
    st.event(
        NAME,
        "invite.accept",
        json!({"org": org, "email": email, "user": id, "role": role}),
    );
    Some((org, id))
}

/// `DELETE /v1/orgs/{org}/members/{user}`: 205 removed (from every team too), 204 when
/// the user was not a member.
async fn member_delete(
    State(st): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = auth(&st, &h) {
        return r;
    }
    let removed = st.write(|w| {
        let o = w
            .gitbook
            .organizations
            .get_mut(&org)
            .ok_or_else(|| not_found("Organization"))?;
        let before = o.members.len();
        o.members.retain(|m| m.id != user);
        if o.members.len() == before {
            return Ok::<_, Response>(None);
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
    });
    match removed {
        Ok(Some(teams)) => {
            st.event(
                NAME,
                "member.remove",
                json!({"org": org, "user": user, "teams": teams}),
            );
            StatusCode::RESET_CONTENT.into_response()
        }
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}
