//! Emulated PixieBrix Developer API, written from API_NOTES.md §1 (not from our client).
//!
//! Inferred ([I]) choices, one line each:
//! - Paths keep the trailing slash; the slashless form is `404 {"detail": "Not found."}` (no redirect).
//! - `Accept` `version=`: list/collection routes serve 1.0 and 2.0; 1.0-only detail routes
//!   (`/api/memberships/{id}/`, `/api/groups/{id}/`, incl. DELETE) serve 1.0; other → 406. No version = accepted.
//! - Version checked before auth (DRF order: negotiation, versioning, authentication, throttling).
//! - Lists are paged only at version ≥ 2.0; below that the whole array, no `Link`.
//! - Paging per DRF-LHP: `prev, next, first, last` order; `first` = URL without `page`, omitted on
//!   page 1; `prev` of page 2 drops `page`; no `Link` on a single page; bad/past page → 404 "Invalid page.".
//! - `page_size` > 1000 → 1000 (or the `max_page_size` knob); non-positive/non-numeric → 100.
//! - Absolute URLs use `http://{Host}`.
//! - Any accepted token sees every seeded organization (no per-token org scoping, no roles → no 403).
//! - `user__service_account` / `user__deployment_key_account`: equality (`true` keeps only those) (A2).
//! - `q`: case-insensitive substring of user email or name.
//! - Group memberships POST/PUT take a list and answer a list of resulting memberships (A3);
//!   a single object body is accepted as a one-item list.
//! - POST of an existing member returns the existing membership (idempotent add).
//! - Ineligible email/unknown user_id → 400 with per-item list errors; nothing is changed.
//! - A group membership for an eligible email that is not a user has `"user": null`.
//! - Group name clash (case-insensitive) → 400 `{"name": ["group with this name already exists."]}`.
//! - Campaign PUT with `{"name"}` behaves as PATCH (A1).
//! - Campaign members POST updates `data` of an existing email; PUT replaces the list.
//! - `require_campaign` on group PUT is accepted and ignored.
//! - 429 body `Request was throttled. Expected available in N seconds.` + `Retry-After: N`; no headers on 2xx.
//! - Deleting something already gone is 404.
//! - Deleting a team membership also removes that user's group memberships (campaign members stay).
//! - Unparseable filter values (`role=abc`) are ignored rather than answered with 400.
//! - The core's rate limit counts every request carrying a token, before auth (DRF throttles after).
//! - Invitation revoke (`DELETE …/invitations/{id}/`, ADDENDUM §1.1) serves the collection's versions (A5).

// Helpers return a ready `Response` as their error, the way axum handlers answer.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

use super::{Api, AppState};

/// This API's part of the state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// Accepted tokens; empty = any non-empty `Token …`.
    #[serde(default)]
    pub tokens: Vec<String>,
    #[serde(default)]
    pub organizations: Vec<Org>,
    /// The user id `GET /api/me/` answers with (the token's own account); unset: the first
    /// service account of the first organization.
    #[serde(default)]
    pub me: Option<String>,
    /// Lookups by email, one per organization, built on first need and dropped by every
    /// write ([`World::invalidate`]): a 20,000-person organization answers a page of group
    /// members from the index instead of scanning every user and campaign per request.
    #[serde(skip)]
    index: super::Lookups<Vec<OrgIndex>>,
}

/// Where each email appears in one organization, by position in its vectors.
#[derive(Debug, Default)]
struct OrgIndex {
    users: super::HashIndex<usize>,
    /// (group, member) positions.
    groups: super::HashIndex<(usize, usize)>,
    /// (campaign, member) positions.
    campaigns: super::HashIndex<(usize, usize)>,
}

fn email_hash(email: &str) -> u64 {
    super::fold(email, true)
}

impl OrgIndex {
    fn build(org: &Org) -> Self {
        OrgIndex {
            users: super::HashIndex::build(
                org.users
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (email_hash(&u.email), i)),
            ),
            groups: member_positions(&org.groups),
            campaigns: member_positions(&org.campaigns),
        }
    }
}

impl World {
    /// Drops the lookups; the core calls this around every write.
    pub(crate) fn invalidate(&mut self) {
        self.index.clear();
    }

    fn index(&self, oi: usize) -> Option<&OrgIndex> {
        self.index
            .get_or_init(|| self.organizations.iter().map(OrgIndex::build).collect())
            .get(oi)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default = "one")]
    pub default_role: u8,
    #[serde(default)]
    pub verified_domains: Vec<String>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub memberships: Vec<Membership>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    #[serde(default)]
    pub invitations: Vec<Invitation>,
}

fn one() -> u8 {
    1
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub service_account: bool,
    #[serde(default)]
    pub deployment_key_account: bool,
    #[serde(default)]
    pub date_joined: Option<String>,
}

/// A team membership: integer id, the user's id, role 1–5.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub id: u64,
    pub user: String,
    #[serde(default = "one")]
    pub role: u8,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub members: Vec<GroupMember>,
}

/// A group membership: its own UUID and the member's email.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMember {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub members: Vec<CampaignMember>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignMember {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub data: serde_json::Map<String, Value>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    #[serde(default = "one")]
    pub role: u8,
}

pub struct Pixiebrix;

const NAME: &str = "pixiebrix";

fn detail(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "detail": msg }))).into_response()
}

fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not found.")
}

fn bad(body: Value) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

impl Api for Pixiebrix {
    const NAME: &'static str = NAME;
    const MEMBER_LISTS: &'static [&'static str] = &[
        "/api/groups/{id}/memberships/",
        "/api/organizations/{org}/campaigns/{id}/members/",
    ];
    const EMAIL_KEYED: &'static [&'static str] = &[
        "/api/organizations/{org}/campaigns/{id}/members/",
        "/api/organizations/{org}/invitations/",
    ];

    fn routes() -> Router<AppState> {
        Router::new()
            .route("/api/organizations/", get(orgs))
            .route("/api/me/", get(me))
            .route("/api/organizations/{org}/memberships/", get(memberships))
            .route(
                "/api/memberships/{id}/",
                get(membership_get)
                    .patch(membership_update)
                    .put(membership_update)
                    .delete(membership_delete),
            )
            .route(
                "/api/organizations/{org}/groups/",
                get(groups).post(group_create),
            )
            .route(
                "/api/groups/{id}/",
                get(group_get)
                    .patch(group_update)
                    .put(group_update)
                    .delete(group_delete),
            )
            .route(
                "/api/groups/{id}/memberships/",
                get(group_members)
                    .post(group_members_add)
                    .put(group_members_replace),
            )
            .route(
                "/api/groups/{id}/memberships/{mid}/",
                axum::routing::delete(group_member_delete),
            )
            .route(
                "/api/organizations/{org}/campaigns/",
                get(campaigns).post(campaign_create),
            )
            .route(
                "/api/organizations/{org}/campaigns/{id}/",
                get(campaign_get)
                    .patch(campaign_update)
                    .put(campaign_update)
                    .delete(campaign_delete),
            )
            .route(
                "/api/organizations/{org}/campaigns/{id}/members/",
                get(campaign_members)
                    .post(campaign_members_add)
                    .put(campaign_members_replace),
            )
            .route(
                "/api/organizations/{org}/invitations/",
                get(invitations).post(invitation_create),
            )
            .route(
                "/api/organizations/{org}/invitations/{id}/",
                axum::routing::delete(invitation_revoke),
            )
    }

    fn owns_path(path: &str) -> bool {
        path == "/api" || path.starts_with("/api/")
    }

    fn error_response(status: StatusCode, message: &str) -> Response {
        detail(status, message)
    }

    /// DRF's 429: `Retry-After` in whole seconds and its `detail` text naming them.
    fn throttled(reset: std::time::Duration, _limit: u32) -> Response {
        let retry_after_secs = (reset.as_secs_f64().ceil() as u64).max(1);
        let mut r = detail(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Request was throttled. Expected available in {retry_after_secs} seconds."),
        );
        if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }

    /// PixieBrix sends no rate-limit headers on normal answers.
    fn rate_limit_headers(_: &mut HeaderMap, _: u32, _: u32, _: std::time::Duration) {}
}

// ---------------------------------------------------------------- request prelude

#[derive(Clone, Copy, PartialEq)]
enum Versions {
    /// 1.0 and 2.0.
    Both,
    /// 1.0 only.
    V1,
    /// 1.1 only (`/api/me/`).
    V11,
}

/// Version negotiation then auth. Returns the requested version (None = unspecified).
fn prelude(st: &AppState, h: &HeaderMap, allowed: Versions) -> Result<Option<String>, Response> {
    let accept = h
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let version = accept
        .split([';', ','])
        .map(str::trim)
        .find_map(|p| p.strip_prefix("version="))
        .map(|v| v.trim_matches('"').to_string());
    if let Some(v) = &version {
        let ok = match allowed {
            Versions::Both => v == "1.0" || v == "2.0",
            Versions::V1 => v == "1.0",
            Versions::V11 => v == "1.1",
        };
        if !ok {
            return Err(detail(
                StatusCode::NOT_ACCEPTABLE,
                "Invalid version in \"Accept\" header.",
            ));
        }
    }
    let unauth = |msg: &str| {
        let mut r = detail(StatusCode::UNAUTHORIZED, msg);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        r
    };
    let Some(auth) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(unauth("Authentication credentials were not provided."));
    };
    let mut parts = auth.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(tok), None) if s.eq_ignore_ascii_case("token") => {
            let listed = st.read(|w| w.pixiebrix.tokens.clone());
            if !listed.is_empty() && !listed.iter().any(|t| t == tok) {
                return Err(unauth("Invalid token."));
            }
        }
        (Some(s), None, None) if s.eq_ignore_ascii_case("token") => {
            return Err(unauth("Invalid token header. No credentials provided."));
        }
        (Some(s), Some(_), Some(_)) if s.eq_ignore_ascii_case("token") => {
            return Err(unauth(
                "Invalid token header. Token string should not contain spaces.",
            ));
        }
        _ => return Err(unauth("Authentication credentials were not provided.")),
    }
    Ok(version)
}

fn paged(version: &Option<String>) -> bool {
    version.as_deref() == Some("2.0")
}

fn parse_json(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body)
        .map_err(|e| bad(json!({ "detail": format!("JSON parse error - {e}") })))
}

/// The part of a list one request asks for: a page at version 2.0, else all of it.
struct Window {
    paged: bool,
    total: usize,
    start: usize,
    end: usize,
    page: usize,
    pages: usize,
}

/// The largest page this API serves: the `max_page_size` knob, or fewer under the
/// `short_pages` variant (DRF clamps `page_size`, so a short page is a smaller clamp).
fn page_cap(st: &AppState) -> Option<usize> {
    let (served, _) = st.page_limit(st.max_page_size().unwrap_or(1000));
    (served < 1000).then_some(served)
}

/// Works out the requested page of `total` items; a bad or past page is the API's 404.
fn window(
    max_page_size: Option<usize>,
    q: &HashMap<String, String>,
    version: &Option<String>,
    total: usize,
) -> Result<Window, Response> {
    if !paged(version) {
        return Ok(Window {
            paged: false,
            total,
            start: 0,
            end: total,
            page: 1,
            pages: 1,
        });
    }
    let max = max_page_size.unwrap_or(1000).clamp(1, 1000);
    let size = match q.get("page_size").and_then(|s| s.parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as usize).min(max),
        _ => 100.min(max),
    };
    let pages = total.div_ceil(size).max(1);
    let page = match q.get("page") {
        None => 1,
        Some(p) if p == "last" => pages,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 && n <= pages => n,
            _ => return Err(detail(StatusCode::NOT_FOUND, "Invalid page.")),
        },
    };
    let start = ((page - 1) * size).min(total);
    Ok(Window {
        paged: true,
        total,
        start,
        end: (start + size).min(total),
        page,
        pages,
    })
}

/// Lists items that are cheap to render: renders all, answers with the requested page
/// (the whole array below 2.0, else one page with DRF-LHP headers).
fn list(
    st: &AppState,
    h: &HeaderMap,
    uri: &Uri,
    q: &HashMap<String, String>,
    version: &Option<String>,
    mut items: Vec<Value>,
) -> Response {
    st.arrange(uri.path(), &mut items);
    match window(page_cap(st), q, version, items.len()) {
        Ok(w) => {
            let body = items[w.start..w.end].to_vec();
            page_response(h, uri, &w, body)
        }
        Err(r) => r,
    }
}

/// Answers a list whose page was rendered inside a read of the world: `None` when the
/// parent does not exist, an error for a bad page.
fn respond(
    h: &HeaderMap,
    uri: &Uri,
    out: Option<Result<(Window, Vec<Value>), Response>>,
) -> Response {
    match out {
        Some(Ok((w, body))) => page_response(h, uri, &w, body),
        Some(Err(r)) => r,
        None => not_found(),
    }
}

/// The response for one window of a list: the body, and at version 2.0 `X-Total-Count`
/// and the `Link` header.
fn page_response(h: &HeaderMap, uri: &Uri, w: &Window, body: Vec<Value>) -> Response {
    let mut resp = axum::Json(body).into_response();
    if !w.paged {
        return resp;
    }
    let (total, page, pages) = (w.total, w.page, w.pages);
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut().insert("x-total-count", v);
    }
    if pages > 1 {
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let url = |p: Option<usize>| {
            let mut pairs: Vec<String> = uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("page"))
                .map(str::to_string)
                .collect();
            if let Some(p) = p {
                pairs.push(format!("page={p}"));
            }
            let q = if pairs.is_empty() {
                String::new()
            } else {
                format!("?{}", pairs.join("&"))
            };
            format!("http://{host}{}{q}", uri.path())
        };
        let mut links = Vec::new();
        if page > 1 {
            let prev = if page == 2 { None } else { Some(page - 1) };
            links.push(format!("<{}>; rel=\"prev\"", url(prev)));
        }
        if page < pages {
            links.push(format!("<{}>; rel=\"next\"", url(Some(page + 1))));
        }
        if page > 1 {
            links.push(format!("<{}>; rel=\"first\"", url(None)));
        }
        if page < pages {
            links.push(format!("<{}>; rel=\"last\"", url(Some(pages))));
        }
        if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

// ---------------------------------------------------------------- rendering

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "name": u.name, "email": u.email,
        "service_account": u.service_account,
        "deployment_key_account": u.deployment_key_account,
        "date_joined": u.date_joined,
    })
}

fn user_by_email<'a>(org: &'a Org, email: &str) -> Option<&'a User> {
    org.users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
}

/// An email compared and hashed without regard to ASCII case, without allocating.
#[derive(Clone, Copy)]
struct Caseless<'a>(&'a str);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}
impl Eq for Caseless<'_> {}
impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One word to the map's hasher: feeding it byte by byte dominated listing a
        // 20,000-person organization.
        state.write_u64(email_hash(self.0));
    }
}

/// [`Caseless`] already folds an email into 64 bits (FNV-1a); hashing that word again
/// with SipHash was most of the cost of a scan over a 20,000-person organization. The
/// emulator serves only its own tests and benchmarks, so flooding resistance is moot.
#[derive(Clone, Copy, Default)]
struct Folded;

#[derive(Default)]
struct FoldedHasher(u64);

impl std::hash::Hasher for FoldedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = super::fold_more(self.0, bytes, false);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

impl std::hash::BuildHasher for Folded {
    type Hasher = FoldedHasher;
    fn build_hasher(&self) -> FoldedHasher {
        FoldedHasher::default()
    }
}

type CaselessMap<'a, V> = HashMap<Caseless<'a>, V, Folded>;

/// What a page of members embeds (the user, the member's groups and campaigns), found in
/// one pass over the organization for the whole page. Looking each member up separately
/// made listing 20,000 memberships quadratic.
#[derive(Default)]
struct Related<'a> {
    users: CaselessMap<'a, &'a User>,
    groups: CaselessMap<'a, Vec<&'a Group>>,
    campaigns: CaselessMap<'a, Vec<&'a Campaign>>,
}

/// The parts of [`Related`] a rendering needs; each costs a pass over the organization.
#[derive(Clone, Copy)]
struct Needs {
    users: bool,
    groups: bool,
    campaigns: bool,
}

impl<'a> Related<'a> {
    /// Finds the related objects from the index of a world that is not being written.
    fn indexed(
        w: &'a super::World,
        oi: usize,
        needs: Needs,
        emails: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let org = &w.pixiebrix.organizations[oi];
        let mut r = Related::default();
        let Some(index) = w.pixiebrix.index(oi) else {
            return r;
        };
        for email in emails {
            let h = email_hash(email);
            let k = Caseless(email);
            if needs.users
                && let Some(u) = index
                    .users
                    .get(h)
                    .filter_map(|i| org.users.get(i))
                    .find(|u| u.email.eq_ignore_ascii_case(email))
            {
                r.users.insert(k, u);
            }
            if needs.groups {
                r.groups
                    .insert(k, holding(&org.groups, index.groups.get(h), email));
            }
            if needs.campaigns {
                r.campaigns
                    .insert(k, holding(&org.campaigns, index.campaigns.get(h), email));
            }
        }
        r
    }

    /// Finds the related objects in one pass over the organization: for answers rendered
    /// inside a write, where the index is being invalidated.
    fn scan(org: &'a Org, needs: Needs, emails: impl IntoIterator<Item = &'a str>) -> Self {
        let wanted: std::collections::HashSet<Caseless<'a>, Folded> =
            emails.into_iter().map(Caseless).collect();
        let mut r = Related::default();
        if wanted.is_empty() {
            return r;
        }
        // A few emails (a write's answer) are compared directly: cheaper than hashing
        // every email of the organization.
        let few: Option<Vec<&str>> =
            (wanted.len() <= 8).then(|| wanted.iter().map(|c| c.0).collect());
        let wanted_has = |k: &Caseless| match &few {
            Some(few) => few.iter().any(|w| w.eq_ignore_ascii_case(k.0)),
            None => wanted.contains(k),
        };
        if needs.users {
            for u in &org.users {
                let k = Caseless(&u.email);
                if wanted_has(&k) {
                    r.users.entry(k).or_insert(u);
                }
            }
        }
        if needs.groups {
            scan_holders(&mut r.groups, &org.groups, wanted_has);
        }
        if needs.campaigns {
            scan_holders(&mut r.campaigns, &org.campaigns, wanted_has);
        }
        r
    }

    fn user(&self, email: &str) -> Option<&'a User> {
        self.users.get(&Caseless(email)).copied()
    }
    fn groups(&self, email: &'a str) -> &[&'a Group] {
        self.groups.get(&Caseless(email)).map_or(&[], Vec::as_slice)
    }
    fn campaigns(&self, email: &'a str) -> &[&'a Campaign] {
        self.campaigns
            .get(&Caseless(email))
            .map_or(&[], Vec::as_slice)
    }
}

/// Users by id, built once per request that looks up many.
fn users_by_id(org: &Org) -> HashMap<&str, &User> {
    org.users.iter().map(|u| (u.id.as_str(), u)).collect()
}

/// Groups and campaigns alike: containers of members known by email.
trait Members {
    fn emails(&self) -> impl Iterator<Item = &str>;
    fn email_at(&self, i: usize) -> Option<&str>;
}

impl Members for Group {
    fn emails(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.email.as_str())
    }
    fn email_at(&self, i: usize) -> Option<&str> {
        self.members.get(i).map(|m| m.email.as_str())
    }
}

impl Members for Campaign {
    fn emails(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.email.as_str())
    }
    fn email_at(&self, i: usize) -> Option<&str> {
        self.members.get(i).map(|m| m.email.as_str())
    }
}

/// Every `(container, member)` position of `list`, by email, for the index.
fn member_positions<C: Members>(list: &[C]) -> super::HashIndex<(usize, usize)> {
    super::HashIndex::build(list.iter().enumerate().flat_map(|(c, container)| {
        container
            .emails()
            .enumerate()
            .map(move |(m, e)| (email_hash(e), (c, m)))
    }))
}

/// The containers, in order and once each, whose member at one of the indexed
/// `(container, member)` positions has `email` (the index keys by hash, so each hit is
/// checked).
fn holding<'a, C: Members>(
    list: &'a [C],
    positions: impl Iterator<Item = (usize, usize)>,
    email: &str,
) -> Vec<&'a C> {
    let mut out: Vec<&C> = Vec::new();
    for (c, m) in positions {
        let Some(container) = list.get(c) else {
            continue;
        };
        let hit = container
            .email_at(m)
            .is_some_and(|e| e.eq_ignore_ascii_case(email));
        if hit && !out.last().is_some_and(|x| std::ptr::eq(*x, container)) {
            out.push(container);
        }
    }
    out
}

/// Adds to `into`, for each email `wanted` accepts, the containers holding it, in order
/// and once each: one pass over every member of `list`.
fn scan_holders<'a, C: Members>(
    into: &mut CaselessMap<'a, Vec<&'a C>>,
    list: &'a [C],
    wanted: impl Fn(&Caseless) -> bool,
) {
    for container in list {
        for email in container.emails() {
            let k = Caseless(email);
            if wanted(&k) {
                let held = into.entry(k).or_default();
                if !held.last().is_some_and(|x| std::ptr::eq(*x, container)) {
                    held.push(container);
                }
            }
        }
    }
}

/// Where a rendering finds related objects: the index of a world being read, or one scan
/// of an organization being written (whose index is about to be dropped).
#[derive(Clone, Copy)]
enum Source<'a> {
    Read(&'a super::World, usize),
    Write(&'a Org),
}

impl<'a> Source<'a> {
    fn org(self) -> &'a Org {
        match self {
            Source::Read(w, oi) => &w.pixiebrix.organizations[oi],
            Source::Write(org) => org,
        }
    }

    fn related(self, needs: Needs, emails: impl IntoIterator<Item = &'a str>) -> Related<'a> {
        match self {
            Source::Read(w, oi) => Related::indexed(w, oi, needs, emails),
            Source::Write(org) => Related::scan(org, needs, emails),
        }
    }
}

/// Renders organization memberships in the API's order, with one lookup pass for all.
fn memberships_json<'a>(
    src: Source<'a>,
    ms: &[&'a Membership],
    users: &HashMap<&'a str, &'a User>,
) -> Vec<Value> {
    let email = |m: &Membership| users.get(m.user.as_str()).map_or("", |u| u.email.as_str());
    let needs = Needs {
        users: false,
        groups: true,
        campaigns: false,
    };
    let related = src.related(needs, ms.iter().map(|m| email(m)).filter(|e| !e.is_empty()));
    ms.iter()
        .map(|m| {
            let user = users.get(m.user.as_str()).copied();
            let groups: Vec<Value> = user
                .map_or(&[][..], |u| related.groups(&u.email))
                .iter()
                .map(|g| json!({"id": g.id, "name": g.name}))
                .collect();
            json!({
                "id": m.id, "user": user.map(user_json), "role": m.role,
                "groups": groups, "last_active_at": null, "last_login_at": null,
            })
        })
        .collect()
}

fn membership_json<'a>(src: Source<'a>, m: &'a Membership) -> Value {
    let users = users_by_id(src.org());
    memberships_json(src, &[m], &users)
        .pop()
        .unwrap_or(Value::Null)
}

fn group_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "num_members": g.members.len(), "created_at": g.created_at})
}

fn group_detail_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "created_at": g.created_at, "deployments": []})
}

/// Renders group memberships, with one lookup pass for all of them.
fn gms_json<'a>(src: Source<'a>, gms: &'a [GroupMember]) -> Vec<Value> {
    let needs = Needs {
        users: true,
        groups: false,
        campaigns: true,
    };
    let related = src.related(needs, gms.iter().map(|gm| gm.email.as_str()));
    gms.iter()
        .map(|gm| {
            let campaigns: Vec<Value> = related
                .campaigns(&gm.email)
                .iter()
                .map(|c| campaign_json(c))
                .collect();
            json!({
                "id": gm.id, "user": related.user(&gm.email).map(user_json),
                "email": gm.email, "created_at": gm.created_at, "campaigns": campaigns,
                "last_active_at": null,
            })
        })
        .collect()
}

fn campaign_json(c: &Campaign) -> Value {
    json!({"id": c.id, "name": c.name, "created_at": c.created_at, "updated_at": c.updated_at})
}

/// Renders campaign members, with one lookup pass for all of them.
fn cms_json<'a>(src: Source<'a>, ms: &'a [CampaignMember]) -> Vec<Value> {
    let needs = Needs {
        users: true,
        groups: true,
        campaigns: false,
    };
    let related = src.related(needs, ms.iter().map(|m| m.email.as_str()));
    ms.iter()
        .map(|m| {
            let groups: Vec<&str> = related
                .groups(&m.email)
                .iter()
                .map(|g| g.id.as_str())
                .collect();
            json!({
                "id": m.id, "email": m.email, "data": m.data,
                "account": related.user(&m.email).map(user_json),
                "latest_client": null, "groups": groups, "assigned_deployments": [],
                "created_at": m.created_at, "updated_at": m.updated_at, "last_active_at": null,
            })
        })
        .collect()
}

fn invitation_json(org: &Org, i: &Invitation) -> Value {
    json!({
        "id": i.id, "email": i.email, "inviter": null,
        "organization": {"id": org.id, "name": org.name}, "role": i.role,
    })
}

// ---------------------------------------------------------------- lookups

fn org_idx(w: &super::World, org: &str) -> Option<usize> {
    w.pixiebrix.organizations.iter().position(|o| o.id == org)
}

fn group_idx(w: &super::World, id: &str) -> Option<(usize, usize)> {
    w.pixiebrix
        .organizations
        .iter()
        .enumerate()
        .find_map(|(oi, o)| o.groups.iter().position(|g| g.id == id).map(|gi| (oi, gi)))
}

fn campaign_idx(w: &super::World, org: &str, id: &str) -> Option<(usize, usize)> {
    let oi = org_idx(w, org)?;
    let ci = w.pixiebrix.organizations[oi]
        .campaigns
        .iter()
        .position(|c| c.id == id)?;
    Some((oi, ci))
}

fn is_member_email(org: &Org, email: &str) -> bool {
    user_by_email(org, email).is_some_and(|u| org.memberships.iter().any(|m| m.user == u.id))
}

/// A member of the organization, or anyone at one of its verified domains. The domain is
/// checked first: it is cheap, and looking a member up scans the organization.
fn eligible(org: &Org, email: &str) -> bool {
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let verified = !domain.is_empty()
        && org
            .verified_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain));
    verified || is_member_email(org, email)
}

type Q = Query<HashMap<String, String>>;

// ---------------------------------------------------------------- organizations

async fn orgs(State(st): State<AppState>, h: HeaderMap, uri: Uri, Query(q): Q) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let items = st.read(|w| {
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
    list(&st, &h, &uri, &q, &v, items)
}

// ---------------------------------------------------------------- team memberships

async fn memberships(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
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
    let max = page_cap(&st);
    let out = st.read(|w| {
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
        st.arrange(uri.path(), &mut picked);
        Some(window(max, &q, &v, picked.len()).map(|win| {
            let body = memberships_json(Source::Read(w, oi), &picked[win.start..win.end], &users);
            (win, body)
        }))
    });
    respond(&h, &uri, out)
}

fn find_membership(w: &super::World, id: u64) -> Option<(usize, usize)> {
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
async fn me(State(st): State<AppState>, h: HeaderMap) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V11) {
        return r;
    }
    st.read(|w| {
        let p = &w.pixiebrix;
        let found = p.organizations.iter().find_map(|o| {
            let user = match &p.me {
                Some(id) => o.users.iter().find(|u| &u.id == id),
                None => o.users.iter().find(|u| u.service_account),
            }?;
            Some((o, user))
        });
        let Some((o, u)) = found else {
            return not_found();
        };
        let memberships: Vec<Value> = o
            .memberships
            .iter()
            .filter(|m| m.user == u.id)
            .map(|m| json!({"organization": o.id, "organization_name": o.name, "role": m.role}))
            .collect();
        axum::Json(json!({
            "id": u.id, "email": u.email, "name": u.name,
            "service_account": u.service_account, "deployment_key_account": u.deployment_key_account,
            "organization": {"id": o.id, "name": o.name},
            "organization_memberships": memberships,
        }))
        .into_response()
    })
}

async fn membership_get(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V1) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    st.read(|w| {
        find_membership(w, id).map(|(oi, mi)| {
            let o = &w.pixiebrix.organizations[oi];
            axum::Json(membership_json(Source::Read(w, oi), &o.memberships[mi])).into_response()
        })
    })
    .unwrap_or_else(not_found)
}

async fn membership_update(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V1) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    if st.read(|w| find_membership(w, id)).is_none() {
        return not_found();
    }
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let role = match body.get("role") {
        None => {
            if method == Method::PATCH {
                None
            } else {
                return bad(json!({"role": ["This field is required."]}));
            }
        }
        Some(r) => match r.as_u64() {
            Some(n @ 1..=5) => Some(n as u8),
            _ => {
                return bad(
                    json!({"role": [format!("\"{}\" is not a valid choice.", r.as_str().map(str::to_string).unwrap_or_else(|| r.to_string()))]}),
                );
            }
        },
    };
    let out = st.write(|w| {
        let (oi, mi) = find_membership(w, id)?;
        let o = &mut w.pixiebrix.organizations[oi];
        if let Some(r) = role {
            o.memberships[mi].role = r;
        }
        let o = &*o;
        Some(membership_json(Source::Write(o), &o.memberships[mi]))
    });
    match out {
        Some(v) => {
            st.event(NAME, "membership.update", json!({"id": id, "role": role}));
            axum::Json(v).into_response()
        }
        None => not_found(),
    }
}

async fn membership_delete(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V1) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let removed = st.write(|w| {
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
    });
    match removed {
        Some(user) => {
            st.event(NAME, "membership.delete", json!({"id": id, "user": user}));
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}

// ---------------------------------------------------------------- groups

async fn groups(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let items = st.read(|w| {
        org_idx(w, &org).map(|oi| {
            w.pixiebrix.organizations[oi]
                .groups
                .iter()
                .map(group_json)
                .collect::<Vec<_>>()
        })
    });
    match items {
        Some(items) => list(&st, &h, &uri, &q, &v, items),
        None => not_found(),
    }
}

fn check_name(body: &Value, required: bool, max: usize) -> Result<Option<String>, Response> {
    match body.get("name") {
        None if required => Err(bad(json!({"name": ["This field is required."]}))),
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(bad(json!({"name": ["This field may not be blank."]})))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(bad(
            json!({"name": [format!("Ensure this field has no more than {max} characters.")]}),
        )),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Null) => Err(bad(json!({"name": ["This field may not be null."]}))),
        Some(_) => Err(bad(json!({"name": ["Not a valid string."]}))),
    }
}

async fn group_create(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    if st.read(|w| org_idx(w, &org)).is_none() {
        return not_found();
    }
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let name = match check_name(&body, true, 256) {
        Ok(Some(n)) => n,
        Ok(None) => return bad(json!({"name": ["This field is required."]})),
        Err(r) => return r,
    };
    let id = st.new_uuid();
    let now = st.now();
    let out = st.write(|w| {
        let oi = org_idx(w, &org)?;
        let o = &mut w.pixiebrix.organizations[oi];
        if o.groups.iter().any(|g| g.name.eq_ignore_ascii_case(&name)) {
            return Some(Err(()));
        }
        let g = Group {
            id: id.clone(),
            name: name.clone(),
            created_at: Some(now),
            members: vec![],
        };
        let v = group_json(&g);
        o.groups.push(g);
        Some(Ok(v))
    });
    match out {
        None => not_found(),
        Some(Err(())) => bad(json!({"name": ["group with this name already exists."]})),
        Some(Ok(v)) => {
            st.event(
                NAME,
                "group.create",
                json!({"org": org, "id": id, "name": name}),
            );
            (StatusCode::CREATED, axum::Json(v)).into_response()
        }
    }
}

async fn group_get(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V1) {
        return r;
    }
    st.read(|w| {
        group_idx(w, &id).map(|(oi, gi)| {
            axum::Json(group_detail_json(&w.pixiebrix.organizations[oi].groups[gi])).into_response()
        })
    })
    .unwrap_or_else(not_found)
}

async fn group_update(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V1) {
        return r;
    }
    if st.read(|w| group_idx(w, &id)).is_none() {
        return not_found();
    }
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let name = match check_name(&body, method == Method::PUT, 256) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let out = st.write(|w| {
        let (oi, gi) = group_idx(w, &id)?;
        let o = &mut w.pixiebrix.organizations[oi];
        if let Some(n) = &name {
            if o.groups
                .iter()
                .enumerate()
                .any(|(i, g)| i != gi && g.name.eq_ignore_ascii_case(n))
            {
                return Some(Err(()));
            }
            o.groups[gi].name = n.clone();
        }
        Some(Ok(group_detail_json(&o.groups[gi])))
    });
    match out {
        None => not_found(),
        Some(Err(())) => bad(json!({"name": ["group with this name already exists."]})),
        Some(Ok(v)) => {
            st.event(NAME, "group.update", json!({"id": id, "name": name}));
            axum::Json(v).into_response()
        }
    }
}

async fn group_delete(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::V1) {
        return r;
    }
    let ok = st.write(|w| {
        let (oi, gi) = group_idx(w, &id)?;
        w.pixiebrix.organizations[oi].groups.remove(gi);
        Some(())
    });
    match ok {
        Some(()) => {
            st.event(NAME, "group.delete", json!({"id": id}));
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}

// ---------------------------------------------------------------- group memberships

async fn group_members(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let max = page_cap(&st);
    let out = st.read(|w| {
        group_idx(w, &id).map(|(oi, gi)| {
            let o = &w.pixiebrix.organizations[oi];
            let members = st.arranged(uri.path(), &o.groups[gi].members);
            window(max, &q, &v, members.len()).map(|win| {
                let body = gms_json(Source::Read(w, oi), &members[win.start..win.end]);
                (win, body)
            })
        })
    });
    respond(&h, &uri, out)
}

/// Validates a group-membership body against an org: the resolved emails, or the
/// per-item DRF list error.
fn resolve_group_items(org: &Org, body: &Value) -> Result<Vec<String>, Response> {
    let items: Vec<Value> = match body {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![body.clone()],
        _ => {
            return Err(bad(
                json!({"non_field_errors": ["Expected a list of items but got type \"str\"."]}),
            ));
        }
    };
    let mut errors = Vec::new();
    let mut emails = Vec::new();
    let mut failed = false;
    for item in &items {
        let email = match (item.get("user_id"), item.get("email")) {
            (Some(Value::String(uid)), _) => match org.users.iter().find(|u| &u.id == uid) {
                Some(u) if org.memberships.iter().any(|m| m.user == u.id) => Ok(u.email.clone()),
                _ => Err(
                    json!({"user_id": [format!("Invalid pk \"{uid}\" - object does not exist.")]}),
                ),
            },
            (Some(_), _) => Err(json!({"user_id": ["Must be a valid UUID."]})),
            (None, Some(Value::String(e))) if !super::valid_email(e) => {
                Err(json!({"email": ["Enter a valid email address."]}))
            }
            (None, Some(Value::String(e))) if !eligible(org, e) => Err(json!({"email": [
                format!("{e} is not a member of the organization and its domain is not verified.")
            ]})),
            (None, Some(Value::String(e))) => Ok(e.clone()),
            (None, _) => Err(json!({"non_field_errors": ["Either user_id or email is required."]})),
        };
        match email {
            Ok(e) => {
                errors.push(json!({}));
                emails.push(e);
            }
            Err(e) => {
                failed = true;
                errors.push(e);
            }
        }
    }
    if failed {
        return Err(bad(Value::Array(errors)));
    }
    Ok(emails)
}

async fn group_members_write(
    st: AppState,
    id: String,
    h: HeaderMap,
    body: Bytes,
    replace: bool,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    let Some((oi, _)) = st.read(|w| group_idx(w, &id)) else {
        return not_found();
    };
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let emails = match st.read(|w| resolve_group_items(&w.pixiebrix.organizations[oi], &body)) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let ids: Vec<String> = emails.iter().map(|_| st.new_uuid()).collect();
    let now = st.now();
    let out = st.write(|w| {
        let (oi, gi) = group_idx(w, &id)?;
        let o = &mut w.pixiebrix.organizations[oi];
        let g = &mut o.groups[gi];
        let mut removed = Vec::new();
        if replace {
            g.members.retain(|m| {
                let keep = emails.iter().any(|e| e.eq_ignore_ascii_case(&m.email));
                if !keep {
                    removed.push(m.email.clone());
                }
                keep
            });
        }
        let mut added = Vec::new();
        let mut result = Vec::new();
        for (e, new_id) in emails.iter().zip(ids) {
            if let Some(m) = g.members.iter().find(|m| m.email.eq_ignore_ascii_case(e)) {
                result.push(m.clone());
            } else {
                let m = GroupMember {
                    id: new_id,
                    email: e.clone(),
                    created_at: Some(now.clone()),
                };
                added.push(e.clone());
                g.members.push(m.clone());
                result.push(m);
            }
        }
        let o = &w.pixiebrix.organizations[oi];
        Some((gms_json(Source::Write(o), &result), added, removed))
    });
    let Some((result, added, removed)) = out else {
        return not_found();
    };
    for e in &added {
        st.event(
            NAME,
            "group_membership.add",
            json!({"group": id, "email": e}),
        );
    }
    for e in &removed {
        st.event(
            NAME,
            "group_membership.remove",
            json!({"group": id, "email": e}),
        );
    }
    let status = if replace {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, axum::Json(result)).into_response()
}

async fn group_members_add(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    group_members_write(st, id, h, body, false).await
}

async fn group_members_replace(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    group_members_write(st, id, h, body, true).await
}

async fn group_member_delete(
    State(st): State<AppState>,
    Path((id, mid)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    let out = st.write(|w| {
        let (oi, gi) = group_idx(w, &id)?;
        let g = &mut w.pixiebrix.organizations[oi].groups[gi];
        let i = g.members.iter().position(|m| m.id == mid)?;
        Some(g.members.remove(i).email)
    });
    match out {
        Some(email) => {
            st.event(
                NAME,
                "group_membership.remove",
                json!({"group": id, "email": email}),
            );
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}

// ---------------------------------------------------------------- campaigns

async fn campaigns(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let items = st.read(|w| {
        org_idx(w, &org).map(|oi| {
            w.pixiebrix.organizations[oi]
                .campaigns
                .iter()
                .map(campaign_json)
                .collect::<Vec<_>>()
        })
    });
    match items {
        Some(items) => list(&st, &h, &uri, &q, &v, items),
        None => not_found(),
    }
}

async fn campaign_create(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    if st.read(|w| org_idx(w, &org)).is_none() {
        return not_found();
    }
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let name = match check_name(&body, true, 256) {
        Ok(Some(n)) => n,
        Ok(None) => return bad(json!({"name": ["This field is required."]})),
        Err(r) => return r,
    };
    let id = st.new_uuid();
    let now = st.now();
    let c = Campaign {
        id: id.clone(),
        name: name.clone(),
        created_at: Some(now.clone()),
        updated_at: Some(now),
        members: vec![],
    };
    let v = campaign_json(&c);
    let ok = st.write(|w| {
        let oi = org_idx(w, &org)?;
        w.pixiebrix.organizations[oi].campaigns.push(c);
        Some(())
    });
    if ok.is_none() {
        return not_found();
    }
    st.event(
        NAME,
        "campaign.create",
        json!({"org": org, "id": id, "name": name}),
    );
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

async fn campaign_get(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    st.read(|w| {
        campaign_idx(w, &org, &id).map(|(oi, ci)| {
            axum::Json(campaign_json(&w.pixiebrix.organizations[oi].campaigns[ci])).into_response()
        })
    })
    .unwrap_or_else(not_found)
}

async fn campaign_update(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    method: Method,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    if st.read(|w| campaign_idx(w, &org, &id)).is_none() {
        return not_found();
    }
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let name = match check_name(&body, method == Method::PUT, 256) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let now = st.now();
    let out = st.write(|w| {
        let (oi, ci) = campaign_idx(w, &org, &id)?;
        let c = &mut w.pixiebrix.organizations[oi].campaigns[ci];
        if let Some(n) = &name {
            c.name = n.clone();
            c.updated_at = Some(now);
        }
        Some(campaign_json(c))
    });
    match out {
        Some(v) => {
            st.event(NAME, "campaign.update", json!({"id": id, "name": name}));
            axum::Json(v).into_response()
        }
        None => not_found(),
    }
}

async fn campaign_delete(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    let ok = st.write(|w| {
        let (oi, ci) = campaign_idx(w, &org, &id)?;
        w.pixiebrix.organizations[oi].campaigns.remove(ci);
        Some(())
    });
    match ok {
        Some(()) => {
            st.event(NAME, "campaign.delete", json!({"id": id}));
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}

async fn campaign_members(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let max = page_cap(&st);
    let out = st.read(|w| {
        campaign_idx(w, &org, &id).map(|(oi, ci)| {
            let o = &w.pixiebrix.organizations[oi];
            let members = st.arranged(uri.path(), &o.campaigns[ci].members);
            window(max, &q, &v, members.len()).map(|win| {
                let body = cms_json(Source::Read(w, oi), &members[win.start..win.end]);
                (win, body)
            })
        })
    });
    respond(&h, &uri, out)
}

type MemberInput = (String, serde_json::Map<String, Value>);

fn resolve_campaign_items(org: &Org, body: &Value) -> Result<Vec<MemberInput>, Response> {
    let items: Vec<Value> = match body {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![body.clone()],
        _ => {
            return Err(bad(
                json!({"non_field_errors": ["Expected a list of items."]}),
            ));
        }
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut failed = false;
    for item in &items {
        let mut err = serde_json::Map::new();
        let email =
            match item.get("email") {
                None => {
                    err.insert("email".into(), json!(["This field is required."]));
                    None
                }
                Some(Value::String(e)) if !super::valid_email(e) || e.chars().count() > 128 => {
                    err.insert("email".into(), json!(["Enter a valid email address."]));
                    None
                }
                Some(Value::String(e)) if !eligible(org, e) => {
                    err.insert("email".into(), json!([format!(
                    "{e} is not a member of the organization and its domain is not verified."
                )]));
                    None
                }
                Some(Value::String(e)) => Some(e.clone()),
                Some(_) => {
                    err.insert("email".into(), json!(["Not a valid string."]));
                    None
                }
            };
        let data = match item.get("data") {
            None => {
                err.insert("data".into(), json!(["This field is required."]));
                None
            }
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => {
                err.insert("data".into(), json!(["Expected a dictionary of items."]));
                None
            }
        };
        match (email, data) {
            (Some(e), Some(d)) if err.is_empty() => {
                errors.push(json!({}));
                out.push((e, d));
            }
            _ => {
                failed = true;
                errors.push(Value::Object(err));
            }
        }
    }
    if failed {
        return Err(bad(Value::Array(errors)));
    }
    Ok(out)
}

async fn campaign_members_write(
    st: AppState,
    org: String,
    id: String,
    h: HeaderMap,
    body: Bytes,
    replace: bool,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    let Some((oi, _)) = st.read(|w| campaign_idx(w, &org, &id)) else {
        return not_found();
    };
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let items = match st.read(|w| resolve_campaign_items(&w.pixiebrix.organizations[oi], &body)) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let ids: Vec<String> = items.iter().map(|_| st.new_uuid()).collect();
    let now = st.now();
    let out = st.write(|w| {
        let (oi, ci) = campaign_idx(w, &org, &id)?;
        let c = &mut w.pixiebrix.organizations[oi].campaigns[ci];
        let mut changes = Vec::new();
        if replace {
            c.members.retain(|m| {
                let keep = items.iter().any(|(e, _)| e.eq_ignore_ascii_case(&m.email));
                if !keep {
                    changes.push(("campaign_member.remove", m.email.clone()));
                }
                keep
            });
        }
        let mut result = Vec::new();
        for ((e, d), new_id) in items.iter().zip(ids) {
            if let Some(m) = c
                .members
                .iter_mut()
                .find(|m| m.email.eq_ignore_ascii_case(e))
            {
                if &m.data != d {
                    m.data = d.clone();
                    m.updated_at = Some(now.clone());
                    changes.push(("campaign_member.update", e.clone()));
                }
                result.push(m.clone());
            } else {
                let m = CampaignMember {
                    id: new_id,
                    email: e.clone(),
                    data: d.clone(),
                    created_at: Some(now.clone()),
                    updated_at: Some(now.clone()),
                };
                changes.push(("campaign_member.add", e.clone()));
                c.members.push(m.clone());
                result.push(m);
            }
        }
        let o = &w.pixiebrix.organizations[oi];
        Some((cms_json(Source::Write(o), &result), changes))
    });
    let Some((result, changes)) = out else {
        return not_found();
    };
    for (action, e) in changes {
        st.event(NAME, action, json!({"campaign": id, "email": e}));
    }
    let status = if replace {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, axum::Json(result)).into_response()
}

async fn campaign_members_add(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    campaign_members_write(st, org, id, h, body, false).await
}

async fn campaign_members_replace(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    campaign_members_write(st, org, id, h, body, true).await
}

// ---------------------------------------------------------------- invitations

async fn invitations(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    uri: Uri,
    Query(q): Q,
) -> Response {
    let v = match prelude(&st, &h, Versions::Both) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let items = st.read(|w| {
        org_idx(w, &org).map(|oi| {
            let o = &w.pixiebrix.organizations[oi];
            o.invitations
                .iter()
                .map(|i| invitation_json(o, i))
                .collect::<Vec<_>>()
        })
    });
    match items {
        Some(items) => list(&st, &h, &uri, &q, &v, items),
        None => not_found(),
    }
}

async fn invitation_create(
    State(st): State<AppState>,
    Path(org): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    if st.read(|w| org_idx(w, &org)).is_none() {
        return not_found();
    }
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let email = match body.get("email") {
        Some(Value::String(e)) if super::valid_email(e) => e.clone(),
        Some(_) => return bad(json!({"email": ["Enter a valid email address."]})),
        None => return bad(json!({"email": ["This field is required."]})),
    };
    let role = match body.get("role") {
        None => 1,
        Some(r) => match r.as_u64() {
            Some(n @ 1..=5) => n as u8,
            _ => return bad(json!({"role": [format!("\"{r}\" is not a valid choice.")]})),
        },
    };
    let inv = Invitation {
        id: st.new_uuid(),
        email: email.clone(),
        role,
    };
    let out = st.write(|w| {
        let oi = org_idx(w, &org)?;
        let o = &mut w.pixiebrix.organizations[oi];
        o.invitations.push(inv.clone());
        Some(invitation_json(o, &inv))
    });
    match out {
        Some(v) => {
            st.event(
                NAME,
                "invitation.create",
                json!({"org": org, "email": email, "role": role}),
            );
            (StatusCode::CREATED, axum::Json(v)).into_response()
        }
        None => not_found(),
    }
}

/// `DELETE /api/organizations/{org}/invitations/{id}/` (ADDENDUM §1.1): revokes a pending
/// invitation; 204, or 404 when the organization or the invitation is unknown.
async fn invitation_revoke(
    State(st): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = prelude(&st, &h, Versions::Both) {
        return r;
    }
    let revoked = st.write(|w| {
        let oi = org_idx(w, &org)?;
        let o = &mut w.pixiebrix.organizations[oi];
        let at = o.invitations.iter().position(|i| i.id == id)?;
        Some(o.invitations.remove(at))
    });
    match revoked {
        Some(inv) => {
            st.event(
                NAME,
                "invitation.revoke",
                json!({"org": org, "id": id, "email": inv.email}),
            );
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}
