//! The one HTTP layer every provider uses: rustls, keep-alive, timeouts, no redirects
//! (a token must never follow one), a semaphore bounding requests in flight, the provider's
//! rate-limit [`Governor`] (pacing, and a pause of every request on a 429), and retries for
//! 5xx and connection errors with exponential backoff and jitter.
//!
//! Idempotency decides retries: GET, PUT, PATCH and DELETE are repeated; a POST is
//! repeated only when it provably did not take effect (a 429, or a connection that failed
//! before the request was sent). A POST that got a 5xx or lost its answer is returned to
//! the provider module, which checks the live state instead of guessing. A 429 is not a
//! failed attempt: the governor's wait budget bounds those instead.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use super::governor::Governor;
use super::{ClientOptions, ProviderError, check_base_url};
use crate::model::{ProviderKind, ProviderSettings, redact};

/// Longest backoff before retrying a 5xx or a connection error.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// 429s one request may get before its answer is returned as it is. A safety net only:
/// each 429 pauses the provider, and the governor's wait budget ends long storms first.
const MAX_THROTTLES: u32 = 200;

/// Whether a failed request may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it cannot do more than doing it once (GET, PUT, PATCH, DELETE).
    Idempotent,
    /// Repeat only when it certainly did not take effect (POST).
    OnlyIfNotApplied,
}

/// An answer from the API, body already read as bytes (at most `max_body_bytes`). It is
/// parsed straight from those bytes into the type the caller asks for ([`Resp::parse`]):
/// a page becomes its typed items, skipping the fields teamsync does not use, and no
/// JSON tree of it is ever built. Only error bodies are read as a tree ([`Resp::json`]).
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An answer made up from part of another (one item's error out of a list's).
    pub fn made_up(status: u16, headers: HeaderMap, body: &Value) -> Resp {
        Resp {
            status,
            headers,
            bytes: body.to_string().into_bytes(),
        }
    }

    /// The body as text (invalid UTF-8 replaced), for messages.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// The body as a JSON tree, for error bodies and other small answers: `null` when
    /// empty, a string when it is not JSON. Lists are read with [`Resp::parse`] instead.
    pub fn json(&self) -> Value {
        let text = self.text();
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
        }
    }

    /// The body read as `T`, straight from its bytes.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.bytes)
    }
}

/// One request, described before it is sent (so it can be sent again).
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub accept: &'static str,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, serialized once when the request is made: a tree of values per
    /// queued request cost more than its text.
    pub body: Option<String>,
    pub retry: Retry,
    /// For messages: `GET /api/groups/…/memberships/`.
    pub what: String,
}

impl Req {
    pub fn new(method: Method, url: Url, accept: &'static str) -> Req {
        let retry = if method == Method::POST {
            Retry::OnlyIfNotApplied
        } else {
            Retry::Idempotent
        };
        let what = format!("{method} {}", url.path());
        Req {
            method,
            url,
            accept,
            content_type: "application/json",
            headers: Vec::new(),
            body: None,
            retry,
            what,
        }
    }

    pub fn json(mut self, body: Value) -> Req {
        self.body = Some(body.to_string());
        self
    }

    /// A JSON body already serialized.
    pub fn json_text(mut self, body: String) -> Req {
        self.body = Some(body);
        self
    }

    pub fn content_type(mut self, ct: &'static str) -> Req {
        self.content_type = ct;
        self
    }

    pub fn header(mut self, name: &'static str, value: String) -> Req {
        self.headers.push((name, value));
        self
    }

    pub fn retry(mut self, retry: Retry) -> Req {
        self.retry = retry;
        self
    }
}

/// Why a connection could not be made, in the words an admin acts on: the name did not
/// resolve (DNS), nothing listens (refused), the TLS handshake failed, or no answer came
/// in time. Found by walking the error's causes; anything else is the causes themselves.
fn connect_cause(e: &reqwest::Error, connect_timeout: Duration) -> String {
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    let io_kind = std::iter::successors(std::error::Error::source(e), |s| s.source())
        .find_map(|s| s.downcast_ref::<std::io::Error>().map(std::io::Error::kind));
    if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        format!(
            "timed out after {} s (--connect-timeout); a firewall or proxy may be dropping the connection",
            connect_timeout.as_secs()
        )
    } else if lower.contains("dns error") || lower.contains("lookup address") {
        format!("DNS: the host name did not resolve ({text}); check the endpoint and the network")
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        "connection refused: nothing listens there; check the endpoint's host and port".to_string()
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalid peer")
        || lower.contains("corrupt message")
    {
        format!("TLS: the secure connection failed ({text})")
    } else {
        text
    }
}

/// An error's causes, `a: b: c`: reqwest's own text ("error sending request for url …")
/// says nothing the caller does not, and names the URL, which the caller gives as a host.
fn chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    if parts.is_empty() {
        "the request failed".to_string()
    } else {
        parts.join(": ")
    }
}

struct Core {
    client: reqwest::Client,
    base: Url,
    auth: SecretString,
    limiter: Arc<Semaphore>,
    options: ClientOptions,
    provider: String,
    kind: ProviderKind,
    token_env: Option<String>,
    governor: Arc<Governor>,
    /// Set once the run has said, unasked, that this API cannot be reached and that
    /// teamsync retries: retries are never silent, and said only once per provider.
    said_retrying: std::sync::atomic::AtomicBool,
}

enum Attempt {
    Answer(Resp),
    /// The request never reached the server: safe to repeat whatever it was.
    NotSent(String),
    /// Sent, but the answer was lost (timeout, reset): it may have taken effect.
    Lost(String),
    /// The answer exceeded the size cap: repeating it would only fetch it again.
    TooLarge(String),
}

impl Core {
    fn new(
        settings: &ProviderSettings,
        base: Url,
        options: &ClientOptions,
        governor: Arc<Governor>,
    ) -> Result<Core, ProviderError> {
        check_base_url(&base)?;
        let from_env = settings
            .token_env
            .as_ref()
            .and_then(|var| std::env::var(var).ok())
            .filter(|t| !t.trim().is_empty());
        let token = match (from_env, &settings.token_env, &settings.endpoint) {
            (Some(token), _, _) => {
                redact::register(&token);
                token
            }
            // The embedded sandbox accepts any token: trying teamsync needs none.
            (None, _, crate::model::Endpoint::Sandbox(_)) | (None, None, _) => {
                "sandbox".to_string()
            }
            (None, Some(var), _) => {
                return Err(ProviderError::MissingToken {
                    provider: settings.name.clone(),
                    kind: settings.kind,
                    var: var.clone(),
                });
            }
        };
        let scheme = settings.kind.spec().auth_scheme;
        let client = reqwest::Client::builder()
            .tls_backend_rustls()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("teamsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::config(settings, format!("cannot build the HTTP client: {e}"))
            })?;
        Ok(Core {
            client,
            base,
            auth: SecretString::from(format!("{scheme} {token}")),
            limiter: Arc::new(Semaphore::new(options.parallelism.max(1))),
            options: options.clone(),
            provider: settings.name.clone(),
            kind: settings.kind,
            token_env: settings.token_env.clone(),
            governor,
            said_retrying: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// `base` + `path` (which starts with `/`), keeping the base's own path (GitBook's `/v1`).
    /// Every segment must be of the ids' alphabet (`A–Z a–z 0–9 _ -`, what all three APIs'
    /// ids and route words are made of): an id from a plan or an answer can never add a
    /// segment (`../groups/…`), a query or a fragment.
    fn url(&self, path: &str) -> Result<Url, ProviderError> {
        let safe = |seg: &str| {
            seg.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let inner = path.strip_prefix('/').unwrap_or(path);
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        if let Some(bad) = inner.split('/').find(|seg| seg.is_empty() || !safe(seg)) {
            return Err(self.protocol(
                "url",
                format!(
                    "refusing to build a request path from {bad:?}: ids may hold only letters, digits, _ and -"
                ),
            ));
        }
        let joined = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        Url::parse(&joined).map_err(|e| self.protocol(path, format!("bad URL {joined}: {e}")))
    }

    fn protocol(&self, what: &str, message: String) -> ProviderError {
        ProviderError::Protocol {
            provider: self.provider.clone(),
            kind: self.kind,
            what: what.to_string(),
            message: redact::scrub(&message),
        }
    }

    /// One try: a slot of `--parallelism`, then the governor's admission (in that order,
    /// so a request admitted before a 429 paused the provider is already on its way, and
    /// at most `--parallelism` can be), then the exchange. Returns the governor's sequence
    /// number of the request with its outcome.
    async fn attempt(&self, req: &Req) -> (u64, Attempt) {
        let Ok(_permit) = self.limiter.acquire().await else {
            return (0, Attempt::NotSent("the client is shutting down".into()));
        };
        let seq = self.governor.admit().await;
        let mut builder = self
            .client
            .request(req.method.clone(), req.url.clone())
            .header(
                AUTHORIZATION,
                HeaderValue::from_str(self.auth.expose_secret())
                    .unwrap_or(HeaderValue::from_static("")),
            )
            .header(ACCEPT, req.accept);
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, req.content_type)
                .body(body.clone());
        }
        let started = std::time::Instant::now();
        let in_flight = self.governor.output().in_flight();
        let outcome = self.exchange(builder).await;
        drop(in_flight);
        if self.options.log_requests > 0 {
            let result = match &outcome {
                Attempt::Answer(r) => r.status.to_string(),
                Attempt::NotSent(m) | Attempt::Lost(m) | Attempt::TooLarge(m) => m.clone(),
            };
            // URLs carry no secrets (tokens only ever travel in the Authorization header).
            // Through the run's output, so a progress bar is never torn.
            self.governor.output().println(&format!(
                "teamsync: {} {} -> {result} in {} ms",
                req.method,
                redact::scrub(req.url.as_str()),
                started.elapsed().as_millis()
            ));
        }
        (seq, outcome)
    }

    async fn exchange(&self, builder: reqwest::RequestBuilder) -> Attempt {
        match builder.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                // Read the (decoded) body chunk by chunk, never past the cap: a compression
                // bomb or an endless body ends here with bounded memory.
                let cap = self.options.max_body_bytes;
                // Sized from the announced length when there is one (never past the cap),
                // so a large page is not copied through every doubling of the buffer.
                let announced = resp.content_length().unwrap_or(0).min(cap as u64);
                let mut bytes: Vec<u8> = Vec::with_capacity(announced as usize);
                loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            if bytes.len() + chunk.len() > cap {
                                return Attempt::TooLarge(format!(
                                    "the answer is larger than {} MiB once decoded, the limit for one answer; \
                                     if this API really sends such pages, raise it with --max-response-mib",
                                    cap >> 20
                                ));
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) if e.is_timeout() => {
                            return Attempt::Lost(format!(
                                "the answer did not finish arriving within {} s (--timeout); it came too slowly",
                                self.options.timeout.as_secs()
                            ));
                        }
                        Err(e) => {
                            return Attempt::Lost(format!(
                                "the connection failed while reading the answer: {}",
                                e.without_url()
                            ));
                        }
                    }
                }
                Attempt::Answer(Resp {
                    status,
                    headers,
                    bytes,
                })
            }
            Err(e) if e.is_connect() => Attempt::NotSent(format!(
                "cannot connect to {}: {}",
                self.host(),
                connect_cause(&e, self.options.connect_timeout)
            )),
            Err(e) if e.is_timeout() => Attempt::Lost(format!(
                "{} sent no answer within {} s (--timeout)",
                self.host(),
                self.options.timeout.as_secs()
            )),
            Err(e) => Attempt::Lost(format!("{}: {}", self.host(), chain(&e))),
        }
    }

    /// `host:port` of this provider's API, as a network error names it.
    fn host(&self) -> String {
        match (self.base.host_str(), self.base.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => self.base.as_str().to_string(),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff.saturating_mul(1u32 << attempt.min(6));
        let jitter = Duration::from_millis(
            rand::rng().random_range(0..=base.as_millis().min(1000) as u64 / 2 + 1),
        );
        (base + jitter).min(MAX_WAIT)
    }

    /// Waits before a retry, saying so at `-vv`.
    async fn pause(&self, req: &Req, wait: Duration, why: &str) {
        if self.options.log_requests > 1 {
            self.governor.output().println(&format!(
                "teamsync: {why}: waiting {} ms before retrying {}",
                wait.as_millis(),
                req.what
            ));
        }
        tokio::time::sleep(wait).await;
    }

    /// Sends with retries; returns the final answer whatever its status. Every attempt
    /// is admitted by the governor first; a 429 pauses the whole provider (the governor
    /// decides how long) and is retried without counting as a failed attempt.
    async fn send(&self, req: &Req) -> Result<Resp, ProviderError> {
        let started = std::time::Instant::now();
        let mut attempt = 0;
        let mut throttles = 0;
        loop {
            let last = attempt >= self.options.max_retries;
            let (seq, outcome) = self.attempt(req).await;
            if let Attempt::Answer(resp) = &outcome {
                self.governor.observe(seq, resp.status, &resp.headers);
            }
            match outcome {
                Attempt::Answer(resp)
                    if resp.status == StatusCode::TOO_MANY_REQUESTS.as_u16()
                        && throttles < MAX_THROTTLES =>
                {
                    self.governor.throttled(&resp.headers, &resp.text())?;
                    throttles += 1;
                    if self.options.log_requests > 1 {
                        self.governor.output().println(&format!(
                            "teamsync: throttled (429): {} pauses until the API's reset, then retries {}",
                            self.provider, req.what
                        ));
                    }
                    continue;
                }
                Attempt::Answer(resp)
                    if resp.status >= 500 && req.retry == Retry::Idempotent && !last =>
                {
                    self.pause(
                        req,
                        self.backoff(attempt),
                        &format!("server error {}", resp.status),
                    )
                    .await;
                }
                Attempt::Answer(resp) => {
                    if req.method == Method::GET && (200..300).contains(&resp.status) {
                        self.count_page(req, &resp);
                    }
                    return Ok(resp);
                }
                Attempt::TooLarge(message) => {
                    return Err(ProviderError::Protocol {
                        provider: self.provider.clone(),
                        kind: self.kind,
                        what: req.what.clone(),
                        message,
                    });
                }
                Attempt::NotSent(message) if !last => {
                    if self.options.log_requests == 0
                        && !self
                            .said_retrying
                            .swap(true, std::sync::atomic::Ordering::Relaxed)
                    {
                        self.governor.output().println(&format!(
                            "teamsync: {}: {}; retrying up to {} times",
                            self.provider,
                            redact::scrub(&message),
                            self.options.max_retries
                        ));
                    }
                    self.pause(req, self.backoff(attempt), "not connected")
                        .await
                }
                Attempt::Lost(_) if req.retry == Retry::Idempotent && !last => {
                    self.pause(req, self.backoff(attempt), "answer lost").await
                }
                Attempt::NotSent(message) | Attempt::Lost(message) => {
                    let message = match attempt {
                        0 => message,
                        n => format!(
                            "{message} (tried {} times over {} s)",
                            n + 1,
                            started.elapsed().as_secs_f32().round()
                        ),
                    };
                    let message = if req.retry == Retry::OnlyIfNotApplied {
                        format!(
                            "{message} (it may have been applied; teamsync checks on the next run)"
                        )
                    } else {
                        message
                    };
                    return Err(ProviderError::Transport {
                        provider: self.provider.clone(),
                        kind: self.kind,
                        what: req.what.clone(),
                        message: redact::scrub(&message),
                    });
                }
            }
            attempt += 1;
        }
    }

    /// Tells the progress a page arrived, and, for the first page of a list, how many
    /// pages the list has (from the count it carries: PixieBrix `X-Total-Count`, GitBook
    /// `count`, Contentful `total`).
    fn count_page(&self, req: &Req, resp: &Resp) {
        if !self.governor.is_reading() {
            return;
        }
        let mut first = true;
        let mut size: Option<u64> = None;
        for (k, v) in req.url.query_pairs() {
            match &*k {
                "page" if v != "1" => first = false,
                "skip" if v != "0" => first = false,
                "page_size" | "limit" => size = v.parse().ok(),
                _ => {}
            }
        }
        if !first {
            self.governor.page_read(None);
            return;
        }
        #[derive(serde::Deserialize)]
        struct Counted {
            total: Option<u64>,
            count: Option<u64>,
            #[serde(default)]
            items: Vec<serde::de::IgnoredAny>,
        }
        let header_total = resp
            .header("x-total-count")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let (total, on_page) = match header_total {
            Some(t) => (
                Some(t),
                resp.parse::<Vec<serde::de::IgnoredAny>>()
                    .map_or(0, |v| v.len() as u64),
            ),
            None => match resp.parse::<Counted>() {
                Ok(c) => (c.total.or(c.count), c.items.len() as u64),
                Err(_) => (None, 0),
            },
        };
        let pages = match (total, size.or(Some(on_page)).filter(|s| *s > 0)) {
            (Some(t), Some(s)) => t.div_ceil(s),
            _ => 1,
        };
        self.governor.page_read(Some(pages));
    }

    /// Sends and turns any non-2xx answer into an error.
    async fn send_ok(&self, req: &Req) -> Result<Resp, ProviderError> {
        let resp = self.send(req).await?;
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        Err(self.error(req, &resp))
    }

    pub fn error(&self, req: &Req, resp: &Resp) -> ProviderError {
        // A server may echo the request, Authorization header included.
        let message = redact::scrub(&api_message(resp));
        match (resp.status, &self.token_env) {
            (401, Some(var)) | (403, Some(var)) => ProviderError::Auth {
                provider: self.provider.clone(),
                kind: self.kind,
                status: resp.status,
                message,
                var: var.clone(),
            },
            (300..=399, _) => ProviderError::Api {
                provider: self.provider.clone(),
                kind: self.kind,
                what: req.what.clone(),
                status: resp.status,
                message: format!(
                    "redirect to {} not followed (a token must not travel with it); check the endpoint",
                    redact::scrub(resp.header("location").unwrap_or("?"))
                ),
            },
            _ => ProviderError::Api {
                provider: self.provider.clone(),
                kind: self.kind,
                what: req.what.clone(),
                status: resp.status,
                message,
            },
        }
    }
}

/// The error text of any of the three APIs' error bodies, or a short form of the body.
fn api_message(resp: &Resp) -> String {
    let b = &resp.json();
    let pick = |v: &Value| v.as_str().map(str::to_string);
    if let Some(m) = b
        .pointer("/error/message")
        .and_then(pick)
        .or_else(|| b.get("message").and_then(pick))
        .or_else(|| b.get("detail").and_then(pick))
    {
        // Contentful puts the useful part of a validation error in `details.errors`.
        let details: Vec<String> = b
            .pointer("/details/errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.get("details")
                    .and_then(pick)
                    .or_else(|| e.get("name").and_then(pick))
            })
            .collect();
        return if details.is_empty() {
            m
        } else {
            format!("{m}: {}", details.join("; "))
        };
    }
    let text = match b {
        Value::Null => StatusCode::from_u16(resp.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no body")
            .to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(300).collect()
}

fn segment_url(core: &Core, segments: &[&str]) -> Result<Url, ProviderError> {
    let mut url = core.base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| core.protocol("url", format!("{} cannot take a path", core.base)))?;
        path.pop_if_empty();
        for s in segments {
            path.push(s);
        }
    }
    Ok(url)
}

/// A client that can only read. The plan path holds nothing else.
#[derive(Clone)]
pub(crate) struct ReadClient(Arc<Core>);

impl ReadClient {
    pub fn new(
        settings: &ProviderSettings,
        base: Url,
        options: &ClientOptions,
        governor: Arc<Governor>,
    ) -> Result<ReadClient, ProviderError> {
        Ok(ReadClient(Arc::new(Core::new(
            settings, base, options, governor,
        )?)))
    }

    pub fn url(&self, path: &str) -> Result<Url, ProviderError> {
        self.0.url(path)
    }

    pub fn protocol(&self, what: &str, message: impl Into<String>) -> ProviderError {
        self.0.protocol(what, message.into())
    }

    /// `base` + the given path segments, each percent-encoded, so an id from an answer or
    /// a plan can never add a segment, a query or a fragment. An empty last segment gives
    /// a trailing slash (PixieBrix).
    pub fn url_of(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        segment_url(&self.0, segments)
    }

    /// GET, retried as needed; a non-2xx answer is an error.
    pub async fn get(&self, url: Url, accept: &'static str) -> Result<Resp, ProviderError> {
        self.0.send_ok(&Req::new(Method::GET, url, accept)).await
    }

    /// GET, retried as needed; the caller reads the status (a 404 past a list's end).
    pub async fn get_any(&self, url: Url, accept: &'static str) -> Result<Resp, ProviderError> {
        self.0.send(&Req::new(Method::GET, url, accept)).await
    }

    /// GET, retried as needed: `None` for a 404, an error for any other non-2xx answer.
    pub async fn get_optional(
        &self,
        url: Url,
        accept: &'static str,
    ) -> Result<Option<Resp>, ProviderError> {
        let resp = self.get_any(url.clone(), accept).await?;
        match resp.status {
            404 => Ok(None),
            200..=299 => Ok(Some(resp)),
            _ => Err(self.error_of(&url, accept, &resp)),
        }
    }

    /// The error a non-2xx answer to `GET url` means.
    pub fn error_of(&self, url: &Url, accept: &'static str, resp: &Resp) -> ProviderError {
        self.0
            .error(&Req::new(Method::GET, url.clone(), accept), resp)
    }
}

/// A client that can also write. Only apply builds one.
#[derive(Clone)]
pub(crate) struct WriteClient(Arc<Core>);

impl WriteClient {
    /// The live id of the container a change writes to (a rename, a delete); a change
    /// without one is a plan that could not have come from a read.
    pub fn live_id<'c>(
        &self,
        change: &'c crate::model::ResourceChange,
        what: &str,
    ) -> Result<&'c str, ProviderError> {
        change
            .live_id
            .as_deref()
            .ok_or_else(|| self.protocol(what, "no live id"))
    }

    /// A DELETE: done when it answers 2xx, and also on 404, whose target is already gone
    /// (removed in the UI meanwhile, or by an earlier run whose answer was lost).
    pub async fn delete_gone(&self, req: Req) -> Result<(), ProviderError> {
        let resp = self.send(&req).await?;
        match resp.status {
            200..=299 | 404 => Ok(()),
            _ => Err(self.error(&req, &resp)),
        }
    }
}

impl WriteClient {
    pub fn new(
        settings: &ProviderSettings,
        base: Url,
        options: &ClientOptions,
        governor: Arc<Governor>,
    ) -> Result<WriteClient, ProviderError> {
        Ok(WriteClient(Arc::new(Core::new(
            settings, base, options, governor,
        )?)))
    }

    pub fn url(&self, path: &str) -> Result<Url, ProviderError> {
        self.0.url(path)
    }

    /// `base` + percent-encoded segments (see [`ReadClient::url_of`]).
    pub fn url_of(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        segment_url(&self.0, segments)
    }

    /// The same connection, limited to reads: the fresh reads of an apply share its pool
    /// and its `--parallelism` budget.
    pub fn reader(&self) -> ReadClient {
        ReadClient(self.0.clone())
    }

    /// Sends; the caller inspects the status (for "already a member" answers and the like).
    pub async fn send(&self, req: &Req) -> Result<Resp, ProviderError> {
        self.0.send(req).await
    }

    /// Sends; a non-2xx answer is an error.
    pub async fn send_ok(&self, req: &Req) -> Result<Resp, ProviderError> {
        self.0.send_ok(req).await
    }

    pub fn error(&self, req: &Req, resp: &Resp) -> ProviderError {
        self.0.error(req, resp)
    }

    pub fn protocol(&self, what: &str, message: impl Into<String>) -> ProviderError {
        self.0.protocol(what, message.into())
    }

    /// How long this run waits for a write to show in reads (`--settle`).
    pub fn settle(&self) -> std::time::Duration {
        self.0.options.settle
    }
}
