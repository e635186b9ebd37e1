//! How each API answer is shaped by the knobs: concurrency slots, the rate limit, drawn
//! faults (statuses, resets, lost answers, slow bodies), latency, lag and the variants'
//! rewrites, in that order.

use super::*;

pub(super) struct InFlight<'a>(&'a AtomicUsize);

pub(super) enum Fault {
    Status(StatusCode),
    Throttle,
    Reset,
    Slow,
    /// After the handler: the write is done, the answer replaced by a 502.
    Lost,
}

/// The fault injected into one request, if any; `lost_answer` only ever hits writes.
pub(super) fn draw_fault(core: &Core, is_write: bool) -> Option<Fault> {
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

pub(super) fn fault_name(f: &Fault) -> String {
    match f {
        Fault::Status(s) => s.as_u16().to_string(),
        Fault::Throttle => "429".into(),
        Fault::Reset => "reset".into(),
        Fault::Slow => "slow_body".into(),
        Fault::Lost => "lost_answer".into(),
    }
}

/// Route layer: runs only for matched API routes, so `MatchedPath` is known.
pub(super) async fn apply_knobs(State(core): State<Shared>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "<unmatched>".to_string());
    let mut resp = knobbed(&core, req, next, &template).await;
    resp.extensions_mut().insert(RouteKey(template));
    resp
}

pub(super) async fn knobbed(core: &Core, mut req: Request, next: Next, template: &str) -> Response {
    let Some(api) = which(req.uri().path()) else {
        return next.run(req).await;
    };
    if req.method() == Method::GET
        && api.name == super::super::pixiebrix::NAME
        && core.knobs.variants.contains(&Variant::EndlessPaging)
        && let Some(uri) = super::super::variants::first_page_uri(req.uri())
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

/// The answer to a request the knobs let through to its API: the rate limit, the faults,
/// the route's own handler and the variants that rewrite what it says. A slow body starts
/// dripping only at `due`, after the latency, as it would from a slow API.
pub(super) async fn answered(
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
        .get(api.name)
        .copied()
        .unwrap_or((k.rate_limit, k.rate_window_secs));
    let (remaining, reset, over) = {
        let mut windows = lock(&core.windows);
        let window = Duration::from_secs(window_secs.max(1));
        let entry = windows
            .entry((api.name.to_string(), token))
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
            api: api.name,
            at_ms: u64::try_from(core.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            window: entry.2,
            throttled: over,
        });
        (limit.saturating_sub(entry.1), reset, over)
    };
    if over {
        lock(&core.stats).throttled += 1;
        return (api.throttled)(reset, limit);
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
        Some(Fault::Throttle) => return (api.throttled)(Duration::from_secs(1), limit),
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
        .filter(|l| is_get && l.covers(api.name, template))
        .map(|_| format!("{} {}", api.name, req.uri()));
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
        resp = super::super::variants::rewrite(
            resp,
            super::super::variants::Context {
                api: api.name,
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
            late.wrote(api.name);
        } else if let Some(key) = late_key
            && resp.status().is_success()
        {
            resp = late.keep(key, api.name, template, resp).await;
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
pub(super) fn futures_stream(
    items: Vec<Result<Bytes, std::io::Error>>,
) -> ReceiverStream<Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(items.len().max(1));
    for i in items {
        let _ = tx.try_send(i);
    }
    ReceiverStream(rx)
}

pub(super) struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<T> futures_core::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}
