//! Emulated PixieBrix Developer API, written from `docs/providers/API_NOTES.md` §1 (not from
//! our client).
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
//!
//! This file holds the state, the routes and the request prelude (the [`Caller`] extractor:
//! `Accept` version negotiation, then the token); `paging` holds DRF-LHP paging, `render`
//! the JSON of each resource and the lookups behind it, and the handlers live in `roster`
//! (organizations, team memberships, the token's own account), `groups` (groups and their
//! memberships), `campaigns` (campaigns and their members) and `invitations`.

// Helpers return a ready `Response` as their error, the way axum handlers answer.
#![allow(clippy::result_large_err)]

mod campaigns;
mod groups;
mod invitations;
mod paging;
mod render;
mod roster;
mod seed;

use std::marker::PhantomData;

use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Answer, Api, AppState};
use render::member_positions;

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
    /// Lookups by email, one per organization and part, built on first need by a read
    /// and dropped by the writes that outdate them ([`World::invalidate`]): a 20,000-person
    /// organization answers a page of group members from them instead of scanning every
    /// user and campaign per request.
    #[serde(skip)]
    index: Index,
}

/// Where each email appears, per organization (by position in its vectors), in three
/// parts that are built and dropped apart: a write to one group drops only the group
/// part, so the users and campaigns its answer embeds are still found without a scan.
#[derive(Clone, Debug, Default)]
struct Index {
    users: super::Lookups<Vec<super::HashIndex<usize>>>,
    /// (group, member) positions.
    groups: super::Lookups<Vec<super::HashIndex<(usize, usize)>>>,
    /// (campaign, member) positions.
    campaigns: super::Lookups<Vec<super::HashIndex<(usize, usize)>>>,
}

fn email_hash(email: &str) -> u64 {
    super::fold(email, true)
}

/// One part of the index for one organization: built when `build` (a read), else only
/// when a read already built it and no write has dropped it since (a write's answer
/// never builds, it scans what is missing).
fn part<'a, P>(
    lookups: &'a super::Lookups<Vec<P>>,
    orgs: &[Org],
    oi: usize,
    build: bool,
    of: impl Fn(&Org) -> P,
) -> Option<&'a P> {
    if build {
        lookups.get_or_init(|| orgs.iter().map(of).collect())
    } else {
        lookups.get()?
    }
    .get(oi)
}

/// What a PixieBrix write changes, for [`AppState::write_pixiebrix`]: which lookups it
/// drops.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Changes {
    Anything,
    /// What is inside existing groups (a name, the members), nothing else: not which
    /// groups there are nor their order, which the campaign and user lookups never hold.
    InGroups,
    /// What is inside existing campaigns (a name, the members), nothing else.
    InCampaigns,
}

impl AppState {
    /// Mutates the PixieBrix world only, and of it only what `changes` says: the lookups
    /// built from the rest stay, so the answer (and the next read) need not scan or
    /// rebuild them. A bulk add to a group is most of an apply's writes, and its answer
    /// embeds each member's user and campaigns.
    ///
    /// `f` is given the whole world for the lookups its answer shares with reads (which
    /// take the whole world), but must change only `w.pixiebrix`.
    pub(crate) fn write_pixiebrix<R>(
        &self,
        changes: Changes,
        f: impl FnOnce(&mut super::World) -> R,
    ) -> R {
        self.write_dropping(|w| w.pixiebrix.invalidate(changes), f)
    }
}

impl World {
    /// Drops the lookups that `changes` outdates.
    pub(crate) fn invalidate(&mut self, changes: Changes) {
        match changes {
            Changes::Anything => self.index = Index::default(),
            Changes::InGroups => self.index.groups.clear(),
            Changes::InCampaigns => self.index.campaigns.clear(),
        }
    }

    fn users_index(&self, oi: usize, build: bool) -> Option<&super::HashIndex<usize>> {
        part(&self.index.users, &self.organizations, oi, build, |org| {
            super::HashIndex::build(
                org.users
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (email_hash(&u.email), i)),
            )
        })
    }

    fn groups_index(&self, oi: usize, build: bool) -> Option<&super::HashIndex<(usize, usize)>> {
        part(&self.index.groups, &self.organizations, oi, build, |org| {
            member_positions(&org.groups)
        })
    }

    fn campaigns_index(&self, oi: usize, build: bool) -> Option<&super::HashIndex<(usize, usize)>> {
        part(
            &self.index.campaigns,
            &self.organizations,
            oi,
            build,
            |org| member_positions(&org.campaigns),
        )
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

pub(crate) const NAME: &str = "pixiebrix";

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
    type World = World;
    fn invalidate(world: &mut World) {
        world.invalidate(Changes::Anything);
    }
    fn seed(world: &mut World, org: &super::seed::Org) -> Result<(), String> {
        seed::seed(world, org)
    }
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
            .route("/api/organizations/", get(roster::orgs))
            .route("/api/me/", get(roster::me))
            .route(
                "/api/organizations/{org}/memberships/",
                get(roster::memberships),
            )
            .route(
                "/api/memberships/{id}/",
                get(roster::membership_get)
                    .patch(roster::membership_update)
                    .put(roster::membership_update)
                    .delete(roster::membership_delete),
            )
            .route(
                "/api/organizations/{org}/groups/",
                get(groups::list).post(groups::create),
            )
            .route(
                "/api/groups/{id}/",
                get(groups::get)
                    .patch(groups::update)
                    .put(groups::update)
                    .delete(groups::delete),
            )
            .route(
                "/api/groups/{id}/memberships/",
                get(groups::members)
                    .post(groups::members_add)
                    .put(groups::members_replace),
            )
            .route(
                "/api/groups/{id}/memberships/{mid}/",
                delete(groups::member_delete),
            )
            .route(
                "/api/organizations/{org}/campaigns/",
                get(campaigns::list).post(campaigns::create),
            )
            .route(
                "/api/organizations/{org}/campaigns/{id}/",
                get(campaigns::get)
                    .patch(campaigns::update)
                    .put(campaigns::update)
                    .delete(campaigns::delete),
            )
            .route(
                "/api/organizations/{org}/campaigns/{id}/members/",
                get(campaigns::members)
                    .post(campaigns::members_add)
                    .put(campaigns::members_replace),
            )
            .route(
                "/api/organizations/{org}/invitations/",
                get(invitations::list).post(invitations::create),
            )
            .route(
                "/api/organizations/{org}/invitations/{id}/",
                delete(invitations::revoke),
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

/// The `Accept: …; version=` values a route serves; a request naming another gets DRF's
/// 406, one naming none is accepted.
trait Versions {
    const ALLOWED: &'static [&'static str];
}

/// 1.0 and 2.0: lists and collections.
struct Both;
/// 1.0 only: the detail routes `/api/memberships/{id}/` and `/api/groups/{id}/`.
struct V1;
/// 1.1 only: `/api/me/`.
struct V11;

impl Versions for Both {
    const ALLOWED: &'static [&'static str] = &["1.0", "2.0"];
}
impl Versions for V1 {
    const ALLOWED: &'static [&'static str] = &["1.0"];
}
impl Versions for V11 {
    const ALLOWED: &'static [&'static str] = &["1.1"];
}

/// A request that negotiated a version route `V` serves (else 406) and then carries a
/// token the world accepts (else DRF's 401 with `WWW-Authenticate: Token`), in DRF's order:
/// negotiation, versioning, authentication. It keeps what paging needs of the request.
struct Caller<V> {
    st: AppState,
    /// The requested version (None = unspecified).
    version: Option<String>,
    uri: Uri,
    /// The `Host` the request named, for `Link` URLs.
    host: String,
    _versions: PhantomData<V>,
}

impl<V: Versions> FromRequestParts<AppState> for Caller<V> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let version = negotiate(&parts.headers, V::ALLOWED)?;
        authenticate(st, &parts.headers)?;
        Ok(Caller {
            st: st.clone(),
            version,
            uri: parts.uri.clone(),
            host: parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("localhost")
                .to_string(),
            _versions: PhantomData,
        })
    }
}

impl<V> Caller<V> {
    /// Records one change in the event log.
    fn event(&self, action: &str, detail: Value) {
        self.st.event(NAME, action, detail);
    }

    /// The position of organization `org`, or DRF's 404.
    fn org(&self, org: &str) -> Result<usize, Response> {
        self.st.read(|w| org_idx(w, org)).ok_or_else(not_found)
    }
}

/// The version the `Accept` header names, if `allowed` has it; else DRF's 406.
fn negotiate(h: &HeaderMap, allowed: &[&str]) -> Result<Option<String>, Response> {
    let accept = h
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let version = accept
        .split([';', ','])
        .map(str::trim)
        .find_map(|p| p.strip_prefix("version="))
        .map(|v| v.trim_matches('"').to_string());
    if let Some(v) = &version
        && !allowed.contains(&v.as_str())
    {
        return Err(detail(
            StatusCode::NOT_ACCEPTABLE,
            "Invalid version in \"Accept\" header.",
        ));
    }
    Ok(version)
}

/// DRF token authentication against the world's tokens.
fn authenticate(st: &AppState, h: &HeaderMap) -> Result<(), Response> {
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
            Ok(())
        }
        (Some(s), None, None) if s.eq_ignore_ascii_case("token") => {
            Err(unauth("Invalid token header. No credentials provided."))
        }
        (Some(s), Some(_), Some(_)) if s.eq_ignore_ascii_case("token") => Err(unauth(
            "Invalid token header. Token string should not contain spaces.",
        )),
        _ => Err(unauth("Authentication credentials were not provided.")),
    }
}

/// A response whose JSON body is already rendered.
fn json_body(status: StatusCode, body: Bytes) -> Response {
    let json = HeaderValue::from_static("application/json");
    (status, [(axum::http::header::CONTENT_TYPE, json)], body).into_response()
}

/// The body as JSON, or DRF's 400.
fn parse_json(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body)
        .map_err(|e| bad(json!({ "detail": format!("JSON parse error - {e}") })))
}

fn org_idx(w: &super::World, org: &str) -> Option<usize> {
    w.pixiebrix.organizations.iter().position(|o| o.id == org)
}
