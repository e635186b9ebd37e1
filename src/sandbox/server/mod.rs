//! The sandbox core: the router and its middleware (stats, the knobs of `knobs.rs` applied
//! to each answer in `answer.rs`: latency, concurrency, rate limit, faults), introspection
//! under `/_sandbox/`, state loading and persistence, and starting the server in-process
//! or from the binary.
//!
//! Decisions: excess concurrent requests wait for a slot (they are never refused); the
//! rate limit counts requests per (API, token) in a fixed window, each API's own length
//! (`Knobs::rate_limits`, e.g. Contentful 7 per 1 s, PixieBrix N per 60 s) with its own
//! headers and 429 body (see each API's `throttled`/`rate_limit_headers`); a "connection reset"
//! fault sends the status line and headers, then aborts the body, so a client sees an
//! incomplete message (a body/decode error), not a status.

use std::collections::{BTreeMap, HashMap};
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
use serde::Serialize;
use tokio::sync::{Semaphore, oneshot};

use super::knobs::{Knobs, Variant};
use super::{AppState, Event, SERVED, Served, World};

mod answer;

use answer::*;

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
            gitbook_memberships: knobs.gitbook_memberships,
            who_am_i_forbidden: knobs.who_am_i_forbidden,
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
        for api in SERVED {
            let name = format!("{}:", api.name);
            println!("  {name:<11} {}{}", handle.base_url(), api.base_path);
        }
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
    let apis: Router<AppState> = SERVED
        .iter()
        .fold(Router::new(), |apis, api| apis.merge((api.routes)()))
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
    match Served::of_path(path) {
        Some(api) => (api.error_response)(status, message),
        None => (status, message.to_string()).into_response(),
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

/// The API a request went to.
type Which = &'static Served;

fn which(path: &str) -> Option<Which> {
    Served::of_path(path)
}

/// Kinds of route a variant treats specially.
#[derive(Clone, Copy)]
enum Route {
    MemberList,
    EmailKeyed,
    WithIncludes,
}

impl Served {
    fn routes_of(&self, template: &str, route: Route) -> bool {
        let list = match route {
            Route::MemberList => self.member_lists,
            Route::EmailKeyed => self.email_keyed,
            Route::WithIncludes => self.with_includes,
        };
        list.contains(&template)
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        (self.error_response)(status, message)
    }

    fn headers(&self, resp: &mut Response, limit: u32, remaining: u32, reset: Duration) {
        (self.rate_limit_headers)(resp.headers_mut(), limit, remaining, reset)
    }
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
