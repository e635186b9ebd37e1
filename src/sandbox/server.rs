//! The sandbox core: knobs, the middleware that applies them (latency, concurrency,
//! rate limit, faults, stats), introspection under `/_sandbox/`, state loading and
//! persistence, and starting the server in-process or from the binary.
//!
//! Decisions: excess concurrent requests wait for a slot (they are never refused); the
//! rate limit counts requests per (API, token) in a fixed window, each API's own length
//! (`Knobs::rate_limits`, e.g. Contentful 7 per 1 s, PixieBrix N per 60 s) with its own
//! headers and 429 body (see each API's `throttled`/`rate_limit_headers`); a "connection reset"
//! fault sends the status line and headers, then aborts the body, so a client sees an
//! incomplete message (a body/decode error), not a status.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, oneshot};

use super::contentful::Contentful;
use super::gitbook::Gitbook;
use super::pixiebrix::Pixiebrix;
use super::{Api, AppState, Event, World};

/// The sandbox's knobs. `Knobs::default()` disturbs nothing: no latency, no faults, a
/// rate limit far above what tests send.
#[derive(Clone, Debug, PartialEq)]
pub struct Knobs {
    /// The time every API request takes to answer, in milliseconds, counted from when it
    /// is handled (the emulator's own work happens inside it).
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=jitter_ms` milliseconds (seeded).
    pub jitter_ms: u64,
    /// When set, every API serves at most this many items per page.
    pub max_page_size: Option<usize>,
    /// At most this many API requests are handled at once; the rest wait their turn.
    pub max_concurrency: Option<usize>,
    /// Requests allowed per token per API in each window; beyond it, that API's 429.
    /// The default for APIs without an entry in `rate_limits`.
    pub rate_limit: u32,
    /// Length of the rate-limit window in seconds (PixieBrix documents one minute).
    pub rate_window_secs: u64,
    /// Per API (`"pixiebrix"`, `"gitbook"`, `"contentful"`): requests allowed per token in
    /// each window, and the window's length in seconds, like the real APIs: Contentful
    /// `(7, 1)`, GitBook `(60, 60)`, PixieBrix per minute. Overrides `rate_limit`.
    pub rate_limits: BTreeMap<String, (u32, u64)>,
    /// Probability (0.0–1.0) of each injected fault, per API request.
    pub faults: Faults,
    /// How long each chunk of a "slow body" fault waits, in milliseconds.
    pub slow_body_ms: u64,
    /// Seed for jitter, faults and generated ids.
    pub seed: u64,
    /// Plausible answers that differ from what the notes infer (see [`Variant`]).
    pub variants: BTreeSet<Variant>,
    /// Whether GitBook's invite route (`POST …/invites`) is open to the token (ADDENDUM §2.1:
    /// availability unconfirmed).
    pub gitbook_invites: GitbookInvites,
    /// What a GitBook invitation makes of the invitee: pending until accepted, or a member
    /// at once.
    pub gitbook_invitees: GitbookInvitees,
    /// Contentful's invitation create answers 400 `BadRequest` unless the
    /// `x-contentful-enable-alpha-feature` header names `pending-org-membership`.
    pub contentful_strict_alpha_header: bool,
    /// Reads that lag writes: after each write to an API, reads of the covered routes
    /// answer the list as it was before, for N reads or T ms (see [`super::lag`]).
    pub lag: Vec<super::lag::Lag>,
    /// Answers of the covered routes come from a cache whose entries live T ms, whatever
    /// was written meanwhile.
    pub stale_cache: Vec<super::lag::StaleCache>,
}

/// The `gitbook_invites` knob: how GitBook's invite route (`POST …/invites`) answers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GitbookInvites {
    /// Invites are made (200).
    #[default]
    Available,
    /// 403 in GitBook's error shape (the endpoint was staff-only once, GB-I184).
    Forbidden,
    /// 404 in GitBook's error shape (the route is not there for this token).
    NotFound,
}

/// The `gitbook_invitees` knob: whether an invitee is an organization member at once.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GitbookInvitees {
    /// Kept as a pending invitation (`gitbook.invites` in the state file), absent from the
    /// members list, until accepted (`POST /_sandbox/gitbook/accept`).
    #[default]
    Pending,
    /// A member at once, with a new user id (returned in `users`).
    Immediate,
}

/// An answer a real API may give that differs from what API_NOTES infers. The clients must
/// keep their promises under every one of them (issue 13): each is a knob, so tests can
/// run the same scenario against each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Contentful team-membership lists carry no `includes` (no users, so no emails).
    NoIncludes,
    /// Container member lists carry no emails (GitBook team members, PixieBrix group
    /// memberships, Contentful included users); directory lists and by-id routes still do.
    HiddenEmails,
    /// No answer carries an email, except where the email is the key (PixieBrix campaign
    /// members and invitations).
    NoEmails,
    /// PixieBrix lists have no `Link` header.
    NoLink,
    /// Pages hold fewer items than asked for (7), while answers echo the asked limit.
    ShortPages,
    /// Contentful and GitBook pages after the first hold one or two items fewer than the
    /// first page (at least one), while answers echo the asked limit: a client that steps
    /// by the first page's length skips items. (PixieBrix pages by number, so its pages
    /// cannot differ without losing items; its count check covers that.)
    UnevenPages,
    /// PixieBrix users carry no `service_account` / `deployment_key_account` flags.
    NoAccountFlags,
    /// In every page of two or more items, the last item is a copy of the first (the
    /// shift offset paging shows when the list changes between pages).
    DuplicateItems,
    /// The total count is one more than the items served.
    LyingCount,
    /// Paging never ends: PixieBrix serves page 1 for every page and drops its count,
    /// GitBook's `next.page` never ends, Contentful's `total` grows with every page.
    EndlessPaging,
    /// List answers are a gzip bomb (64 MiB of whitespace, ~64 KiB on the wire).
    OversizedBody,
    /// Error answers (4xx) quote the request's `Authorization` header back.
    EchoAuthorization,
    /// Every list serves its items in an order that is not the natural one: a shuffle fixed
    /// by the seed, the request path and the world's version (so the pages of one read
    /// agree), while counts and paging stay honest.
    Shuffled,
    /// Roles the notes never name (issue 31): at start, in every PixieBrix organization
    /// the first roster membership of role 1 gets role `9`, and in every GitBook team the
    /// first `member` gets the role `admin`; in every Contentful organization the first
    /// `member` membership gets the role `billing_admin` and the next the status
    /// `suspended`. They are stored, so they stay until a write sets a value teamsync
    /// knows. (A state file can hold any such value too.)
    UnknownRoles,
}

impl Variant {
    /// Every variant, in declaration order (tests that run a scenario under each use it).
    pub const ALL: &'static [Variant] = &[
        Variant::NoIncludes,
        Variant::HiddenEmails,
        Variant::NoEmails,
        Variant::NoLink,
        Variant::ShortPages,
        Variant::UnevenPages,
        Variant::NoAccountFlags,
        Variant::DuplicateItems,
        Variant::LyingCount,
        Variant::EndlessPaging,
        Variant::OversizedBody,
        Variant::EchoAuthorization,
        Variant::Shuffled,
        Variant::UnknownRoles,
    ];
}

/// Probabilities of injected faults; their sum should not exceed 1.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    pub status_500: f64,
    pub status_502: f64,
    pub status_503: f64,
    pub status_429: f64,
    pub reset: f64,
    pub slow_body: f64,
    /// Writes only: the write is carried out, then its answer is lost (a 502 from a proxy
    /// in between), so a client cannot tell from the answer whether it took effect.
    pub lost_answer: f64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            latency_ms: 0,
            jitter_ms: 0,
            max_page_size: None,
            max_concurrency: None,
            rate_limit: 1_000_000,
            rate_window_secs: 60,
            rate_limits: BTreeMap::new(),
            faults: Faults::default(),
            slow_body_ms: 50,
            seed: 0,
            variants: BTreeSet::new(),
            gitbook_invites: GitbookInvites::default(),
            gitbook_invitees: GitbookInvitees::default(),
            contentful_strict_alpha_header: false,
            lag: Vec::new(),
            stale_cache: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot read sandbox state {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad sandbox state {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write sandbox state {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the sandbox runtime: {0}")]
    Runtime(std::io::Error),
}

/// Request counters, as served by `GET /_sandbox/stats`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Requests per `METHOD /route/template` (unmatched paths count as `METHOD <unmatched>`).
    pub requests: BTreeMap<String, u64>,
    pub total: u64,
    pub peak_concurrency: usize,
    /// Injected faults per kind.
    pub faults: BTreeMap<String, u64>,
    pub throttled: u64,
    /// Reads answered with a kept, older answer (the `lag` and `stale_cache` knobs).
    pub late_answers: u64,
}

struct Core {
    app: AppState,
    seed: World,
    knobs: Knobs,
    persist: Option<PathBuf>,
    /// Held while the world is cloned and saved, so that concurrent changes are saved in
    /// order: without it an older snapshot could be renamed over a newer one.
    saving: Mutex<()>,
    stats: Mutex<Stats>,
    in_flight: AtomicUsize,
    slots: Option<Semaphore>,
    /// Serves the latency knob precisely; only started when there is latency to serve.
    delays: Option<super::delay::Delays>,
    rng: Mutex<StdRng>,
    /// Per (API, token): the window's start, requests counted in it, and its number.
    windows: Mutex<HashMap<(String, String), Window>>,
    started: Instant,
    arrivals: Mutex<Vec<Arrival>>,
    /// Kept answers, when `lag` or `stale_cache` is on.
    late: Option<super::lag::Late>,
}

/// A rate-limit window: its start, requests counted in it, and its number.
type Window = (Instant, u32, u64);

/// One API request as the rate limiter saw it (for tests of pacing, never of timing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Arrival {
    pub api: &'static str,
    /// Since the sandbox started.
    pub at_ms: u64,
    /// Which rate-limit window of its (API, token) it fell in (0, 1, …).
    pub window: u64,
    /// Whether the rate limit answered it 429.
    pub throttled: bool,
}

type Shared = Arc<Core>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads a state file.
pub fn load_state(path: &Path) -> Result<World, SandboxError> {
    let text = std::fs::read_to_string(path).map_err(|source| SandboxError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| SandboxError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

fn persist(path: &Path, world: &World) -> Result<(), SandboxError> {
    let err = |source| SandboxError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(world).map_err(|e| err(std::io::Error::other(e)))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text + "\n").map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Namespace for starting the sandbox.
pub struct Sandbox;

/// A running sandbox. Dropping it (or calling [`SandboxHandle::shutdown`]) stops the server.
pub struct SandboxHandle {
    addr: SocketAddr,
    core: Shared,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts the sandbox on a random loopback port.
    pub async fn start(
        world: World,
        knobs: Knobs,
        persist: Option<PathBuf>,
    ) -> Result<SandboxHandle, SandboxError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), world, knobs, persist).await
    }

    /// Starts the sandbox on the given address.
    pub async fn start_on(
        addr: SocketAddr,
        world: World,
        knobs: Knobs,
        persist: Option<PathBuf>,
    ) -> Result<SandboxHandle, SandboxError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let mut world = world;
        if knobs.variants.contains(&Variant::UnknownRoles) {
            super::variants::unknown_roles(&mut world);
        }
        let app = AppState::new(world.clone(), knobs.seed);
        app.set_max_page_size(knobs.max_page_size);
        app.set_variants(knobs.variants.clone());
        app.set_behaviour(super::Behaviour {
            gitbook_invites: knobs.gitbook_invites,
            gitbook_invitees: knobs.gitbook_invitees,
            contentful_strict_alpha_header: knobs.contentful_strict_alpha_header,
        });
        let late = super::lag::Late::new(&knobs.lag, &knobs.stale_cache);
        let core = Arc::new(Core {
            app: app.clone(),
            seed: world,
            slots: knobs.max_concurrency.map(|n| Semaphore::new(n.max(1))),
            delays: (knobs.latency_ms > 0 || knobs.jitter_ms > 0)
                .then(super::delay::Delays::start)
                .flatten(),
            rng: Mutex::new(StdRng::seed_from_u64(knobs.seed ^ 0x5eed_fa17)),
            knobs,
            persist,
            saving: Mutex::new(()),
            stats: Mutex::new(Stats::default()),
            in_flight: AtomicUsize::new(0),
            windows: Mutex::new(HashMap::new()),
            started: Instant::now(),
            arrivals: Mutex::new(Vec::new()),
            late,
        });
        let router = router(core.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(SandboxHandle {
            addr: bound,
            core,
            stop: Some(tx),
            done: Some(done),
        })
    }
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash. PixieBrix and Contentful live at this
    /// root, GitBook at `{base_url}/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stats(&self) -> Stats {
        lock(&self.core.stats).clone()
    }

    /// Every API request in arrival order, as the rate limiter counted it.
    pub fn arrivals(&self) -> Vec<Arrival> {
        lock(&self.core.arrivals).clone()
    }

    pub fn events(&self) -> Vec<Event> {
        self.core.app.events()
    }

    /// A copy of the current world.
    pub fn world(&self) -> World {
        self.core.app.read(|w| w.clone())
    }

    /// Back to the seed world; clears events and stats.
    pub fn reset(&self) {
        reset(&self.core);
    }

    /// Test hook: the person with a pending GitBook invitation to `email` accepts it and
    /// becomes an organization member (new user id, the invited role). Returns the new
    /// user id, or `None` when no invitation to that email is pending. Same as
    /// `POST /_sandbox/gitbook/accept`.
    pub fn accept_gitbook_invite(&self, email: &str) -> Option<String> {
        let accepted = super::gitbook::accept_invite(&self.core.app, None, email);
        if accepted.is_some() {
            save(&self.core);
        }
        accepted.map(|(_, user)| user)
    }

    /// Stops accepting connections and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// Runs until the server stops (for `teamsync sandbox serve`).
    pub async fn wait(mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs `teamsync sandbox serve` until Ctrl-C: builds a runtime, starts, prints the URL.
pub fn serve_blocking(
    state: &Path,
    addr: SocketAddr,
    knobs: Knobs,
    persist: bool,
) -> Result<(), SandboxError> {
    let world = load_state(state)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(SandboxError::Runtime)?;
    rt.block_on(async {
        let persist = persist.then(|| state.to_path_buf());
        let handle = Sandbox::start_on(addr, world, knobs, persist).await?;
        println!("sandbox listening on {}", handle.base_url());
        println!("  pixiebrix:  {}", handle.base_url());
        println!("  gitbook:    {}/v1", handle.base_url());
        println!("  contentful: {}", handle.base_url());
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown().await;
        Ok(())
    })
}

fn reset(core: &Core) {
    let _saving = lock(&core.saving);
    core.app.replace(core.seed.clone());
    *lock(&core.stats) = Stats::default();
    lock(&core.windows).clear();
    lock(&core.arrivals).clear();
    if let Some(path) = &core.persist {
        let _ = persist(path, &core.seed);
    }
}

fn router(core: Shared) -> Router {
    let apis: Router<AppState> = Router::new()
        .merge(Pixiebrix::routes())
        .merge(Gitbook::routes())
        .merge(Contentful::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .route_layer(middleware::from_fn_with_state(core.clone(), apply_knobs));
    let intro: Router<AppState> = Router::new()
        .route("/_sandbox/stats", get(stats_handler))
        .route("/_sandbox/events", get(events_handler))
        .route("/_sandbox/reset", post(reset_handler))
        .route("/_sandbox/gitbook/accept", post(gitbook_accept_handler))
        .layer(axum::Extension(core.clone()));
    apis.merge(intro)
        .layer(middleware::from_fn_with_state(core.clone(), count))
        .with_state(core.app.clone())
}

fn api_error(path: &str, status: StatusCode, message: &str) -> Response {
    if Pixiebrix::owns_path(path) {
        Pixiebrix::error_response(status, message)
    } else if Gitbook::owns_path(path) {
        Gitbook::error_response(status, message)
    } else if Contentful::owns_path(path) {
        Contentful::error_response(status, message)
    } else {
        (status, message.to_string()).into_response()
    }
}

async fn not_found(uri: Uri) -> Response {
    api_error(uri.path(), StatusCode::NOT_FOUND, "Not found.")
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    api_error(
        uri.path(),
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
    )
}

async fn stats_handler(axum::Extension(core): axum::Extension<Shared>) -> Response {
    axum::Json(lock(&core.stats).clone()).into_response()
}

async fn events_handler(axum::Extension(core): axum::Extension<Shared>) -> Response {
    axum::Json(core.app.events()).into_response()
}

async fn reset_handler(axum::Extension(core): axum::Extension<Shared>) -> Response {
    reset(&core);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sandbox/gitbook/accept` `{"email", "org"?}`: a pending GitBook invitation is
/// accepted; 200 `{"org", "id"}` (the new member), 404 when none is pending, 400 for a body
/// without `email`.
async fn gitbook_accept_handler(
    axum::Extension(core): axum::Extension<Shared>,
    body: Bytes,
) -> Response {
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
    let Some(email) = parsed
        .as_ref()
        .ok()
        .and_then(|b| b.get("email"))
        .and_then(|e| e.as_str())
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "expected {\"email\": \"…\"}"})),
        )
            .into_response();
    };
    let org = parsed
        .as_ref()
        .ok()
        .and_then(|b| b.get("org"))
        .and_then(|o| o.as_str());
    match super::gitbook::accept_invite(&core.app, org, email) {
        Some((org, id)) => axum::Json(serde_json::json!({"org": org, "id": id})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": format!("no pending invitation to {email}")})),
        )
            .into_response(),
    }
}

/// Writes the world to the persist file, if there is one (after a change made outside a
/// request, which the `count` layer would otherwise save).
fn save(core: &Core) {
    if let Some(path) = &core.persist {
        let _saving = lock(&core.saving);
        let world = core.app.read(|w| w.clone());
        if let Err(e) = persist(path, &world) {
            eprintln!("{e}");
        }
    }
}

/// Outermost layer: counts every request by route template, persists after changes.
async fn count(State(core): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let before = core.app.event_count();
    let resp = next.run(req).await;
    let template = resp
        .extensions()
        .get::<RouteKey>()
        .map(|k| k.0.clone())
        .unwrap_or_else(|| "<unmatched>".to_string());
    {
        let mut stats = lock(&core.stats);
        *stats
            .requests
            .entry(format!("{method} {template}"))
            .or_insert(0) += 1;
        stats.total += 1;
    }
    if core.app.event_count() != before {
        save(&core);
    }
    resp
}

#[derive(Clone)]
struct RouteKey(String);

fn token_of(req: &Request) -> String {
    req.headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_string()))
        .unwrap_or_default()
}

enum Which {
    Pixiebrix,
    Gitbook,
    Contentful,
}

fn which(path: &str) -> Option<Which> {
    if Pixiebrix::owns_path(path) {
        Some(Which::Pixiebrix)
    } else if Gitbook::owns_path(path) {
        Some(Which::Gitbook)
    } else if Contentful::owns_path(path) {
        Some(Which::Contentful)
    } else {
        None
    }
}

/// Kinds of route a variant treats specially.
#[derive(Clone, Copy)]
enum Route {
    MemberList,
    EmailKeyed,
    WithIncludes,
}

fn listed<A: Api>(template: &str, route: Route) -> bool {
    let list = match route {
        Route::MemberList => A::MEMBER_LISTS,
        Route::EmailKeyed => A::EMAIL_KEYED,
        Route::WithIncludes => A::WITH_INCLUDES,
    };
    list.contains(&template)
}

impl Which {
    fn routes_of(&self, template: &str, route: Route) -> bool {
        match self {
            Which::Pixiebrix => listed::<Pixiebrix>(template, route),
            Which::Gitbook => listed::<Gitbook>(template, route),
            Which::Contentful => listed::<Contentful>(template, route),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Which::Pixiebrix => Pixiebrix::NAME,
            Which::Gitbook => Gitbook::NAME,
            Which::Contentful => Contentful::NAME,
        }
    }
    fn error(&self, status: StatusCode, message: &str) -> Response {
        match self {
            Which::Pixiebrix => Pixiebrix::error_response(status, message),
            Which::Gitbook => Gitbook::error_response(status, message),
            Which::Contentful => Contentful::error_response(status, message),
        }
    }
    fn throttled(&self, retry: Duration, limit: u32) -> Response {
        match self {
            Which::Pixiebrix => Pixiebrix::throttled(retry, limit),
            Which::Gitbook => Gitbook::throttled(retry, limit),
            Which::Contentful => Contentful::throttled(retry, limit),
        }
    }
    fn headers(&self, resp: &mut Response, limit: u32, remaining: u32, reset: Duration) {
        let h = resp.headers_mut();
        match self {
            Which::Pixiebrix => Pixiebrix::rate_limit_headers(h, limit, remaining, reset),
            Which::Gitbook => Gitbook::rate_limit_headers(h, limit, remaining, reset),
            Which::Contentful => Contentful::rate_limit_headers(h, limit, remaining, reset),
        }
    }
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Fault {
    Status(StatusCode),
    Throttle,
    Reset,
    Slow,
    /// After the handler: the write is done, the answer replaced by a 502.
    Lost,
}

/// The fault injected into one request, if any; `lost_answer` only ever hits writes.
fn draw_fault(core: &Core, is_write: bool) -> Option<Fault> {
    let f = &core.knobs.faults;
    let lost = if is_write { f.lost_answer } else { 0.0 };
    let total =
        f.status_500 + f.status_502 + f.status_503 + f.status_429 + f.reset + f.slow_body + lost;
    if total <= 0.0 {
        return None;
    }
    let x: f64 = lock(&core.rng).random();
    let mut acc = 0.0;
    let kinds = [
        (
            f.status_500,
            Fault::Status(StatusCode::INTERNAL_SERVER_ERROR),
        ),
        (f.status_502, Fault::Status(StatusCode::BAD_GATEWAY)),
        (f.status_503, Fault::Status(StatusCode::SERVICE_UNAVAILABLE)),
        (f.status_429, Fault::Throttle),
        (f.reset, Fault::Reset),
        (f.slow_body, Fault::Slow),
        (lost, Fault::Lost),
    ];
    for (p, kind) in kinds {
        acc += p;
        if x < acc {
            return Some(kind);
        }
    }
    None
}

fn fault_name(f: &Fault) -> String {
    match f {
        Fault::Status(s) => s.as_u16().to_string(),
        Fault::Throttle => "429".into(),
        Fault::Reset => "reset".into(),
        Fault::Slow => "slow_body".into(),
        Fault::Lost => "lost_answer".into(),
    }
}

/// Route layer: runs only for matched API routes, so `MatchedPath` is known.
async fn apply_knobs(State(core): State<Shared>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "<unmatched>".to_string());
    let mut resp = knobbed(&core, req, next, &template).await;
    resp.extensions_mut().insert(RouteKey(template));
    resp
}

async fn knobbed(core: &Core, mut req: Request, next: Next, template: &str) -> Response {
    let Some(api) = which(req.uri().path()) else {
        return next.run(req).await;
    };
    if req.method() == Method::GET
        && matches!(api, Which::Pixiebrix)
        && core.knobs.variants.contains(&Variant::EndlessPaging)
        && let Some(uri) = super::variants::first_page_uri(req.uri())
    {
        *req.uri_mut() = uri;
    }
    let _permit = match &core.slots {
        Some(s) => s.acquire().await.ok(),
        None => None,
    };
    let now = core.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&core.in_flight);
    {
        let mut stats = lock(&core.stats);
        stats.peak_concurrency = stats.peak_concurrency.max(now);
    }
    let k = &core.knobs;
    let mut delay = k.latency_ms;
    if k.jitter_ms > 0 {
        delay += lock(&core.rng).random_range(0..=k.jitter_ms);
    }
    // The latency is the time to answer, counted from the moment the request is handled:
    // the answer is worked out at once and held until then, so the emulator's own work
    // happens inside the latency as a real API's does, not on top of it.
    let due = Instant::now() + Duration::from_millis(delay);
    let resp = answered(core, req, next, template, api, due).await;
    core.wait_until(due).await;
    resp
}

impl Core {
    /// Waits until `due`, the moment the latency knob lets an answer leave.
    async fn wait_until(&self, due: Instant) {
        if due <= Instant::now() {
            return;
        }
        match &self.delays {
            Some(line) => line.sleep_until(due).await,
            None => tokio::time::sleep_until(due.into()).await,
        }
    }
}

/// The answer to a request the knobs let through to its API: the rate limit, the faults,
/// the route's own handler and the variants that rewrite what it says. A slow body starts
/// dripping only at `due`, after the latency, as it would from a slow API.
async fn answered(
    core: &Core,
    req: Request,
    next: Next,
    template: &str,
    api: Which,
    due: Instant,
) -> Response {
    let k = &core.knobs;
    let variants = &k.variants;
    let is_get = req.method() == Method::GET;
    let gzip_ok = req
        .headers()
        .get(axum::http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));

    // Rate limit per (api, token) in a fixed window of the API's own length.
    let token = token_of(&req);
    let (limit, window_secs) = k
        .rate_limits
        .get(api.name())
        .copied()
        .unwrap_or((k.rate_limit, k.rate_window_secs));
    let (remaining, reset, over) = {
        let mut windows = lock(&core.windows);
        let window = Duration::from_secs(window_secs.max(1));
        let entry =
            windows
                .entry((api.name().to_string(), token))
                .or_insert((Instant::now(), 0, 0));
        let elapsed = entry.0.elapsed();
        if elapsed >= window {
            // Windows follow each other back to back from the first request.
            let passed = elapsed.as_nanos() / window.as_nanos().max(1);
            let start = entry.0 + window * u32::try_from(passed).unwrap_or(u32::MAX);
            *entry = (
                start,
                0,
                entry.2 + u64::try_from(passed).unwrap_or(u64::MAX),
            );
        }
        entry.1 = entry.1.saturating_add(1);
        let reset = window.saturating_sub(entry.0.elapsed());
        let over = entry.1 > limit;
        lock(&core.arrivals).push(Arrival {
            api: api.name(),
            at_ms: u64::try_from(core.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            window: entry.2,
            throttled: over,
        });
        (limit.saturating_sub(entry.1), reset, over)
    };
    if over {
        lock(&core.stats).throttled += 1;
        return api.throttled(reset, limit);
    }

    let is_write = !is_get;
    let fault = draw_fault(core, is_write);
    if let Some(f) = &fault {
        *lock(&core.stats).faults.entry(fault_name(f)).or_insert(0) += 1;
    }
    match fault {
        Some(Fault::Status(s)) => {
            return api.error(s, s.canonical_reason().unwrap_or("Server error"));
        }
        Some(Fault::Throttle) => return api.throttled(Duration::from_secs(1), limit),
        Some(Fault::Reset) => {
            let stream = futures_stream(vec![
                Ok(Bytes::from_static(b"{\"partial\":")),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sandbox: injected connection reset",
                )),
            ]);
            let mut resp = Response::new(Body::from_stream(stream));
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return resp;
        }
        _ => {}
    }
    let query = req.uri().query().unwrap_or("").to_string();
    // Under `lag` and `stale_cache`, a GET of a covered route may be answered with what
    // an earlier read of the same URI was answered.
    let late_key = core
        .late
        .as_ref()
        .filter(|l| is_get && l.covers(api.name(), template))
        .map(|_| format!("{} {}", api.name(), req.uri()));
    if let (Some(late), Some(key)) = (&core.late, &late_key)
        && let Some(mut resp) = late.late_answer(key)
    {
        lock(&core.stats).late_answers += 1;
        api.headers(&mut resp, limit, remaining, reset);
        return resp;
    }
    let echoed = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut resp = next.run(req).await;
    if variants.contains(&Variant::EchoAuthorization) && resp.status().is_client_error() {
        let status = resp.status();
        return api.error(
            status,
            &format!("Request refused; you sent Authorization: {echoed}"),
        );
    }
    api.headers(&mut resp, limit, remaining, reset);
    if is_get && !variants.is_empty() && resp.status().is_success() {
        resp = super::variants::rewrite(
            resp,
            super::variants::Context {
                api: api.name(),
                query: &query,
                variants,
                gzip_ok,
                member_list: api.routes_of(template, Route::MemberList),
                email_is_key: api.routes_of(template, Route::EmailKeyed),
                has_includes: api.routes_of(template, Route::WithIncludes),
            },
        )
        .await;
    }
    if let Some(late) = &core.late {
        if is_write && resp.status().is_success() {
            late.wrote(api.name());
        } else if let Some(key) = late_key
            && resp.status().is_success()
        {
            resp = late.keep(key, api.name(), template, resp).await;
        }
    }
    if matches!(fault, Some(Fault::Lost)) && resp.status().is_success() {
        return api.error(StatusCode::BAD_GATEWAY, "Bad Gateway");
    }
    if matches!(fault, Some(Fault::Slow)) {
        core.wait_until(due).await;
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let pause = Duration::from_millis(k.slow_body_ms);
        let chunks: Vec<Bytes> = bytes
            .chunks(bytes.len().div_ceil(8).max(1))
            .map(Bytes::copy_from_slice)
            .collect();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        tokio::spawn(async move {
            for c in chunks {
                tokio::time::sleep(pause).await;
                if tx.send(Ok(c)).await.is_err() {
                    return;
                }
            }
        });
        let mut parts = parts;
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from_stream(ReceiverStream(rx)));
    }
    resp
}

/// A tiny stream over a vector, to avoid a `futures` dependency.
fn futures_stream(
    items: Vec<Result<Bytes, std::io::Error>>,
) -> ReceiverStream<Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(items.len().max(1));
    for i in items {
        let _ = tx.try_send(i);
    }
    ReceiverStream(rx)
}

struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);

impl<T> futures_core::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}
