//! Answers that come late: the `lag` and `stale_cache` knobs (issue 31). Real APIs are
//! eventually consistent: for a moment after a write, a read (or a page served from a
//! cache in front of the API) can answer the list as it was before. The emulators answer
//! at once, as the notes infer; these knobs answer the other way, so that the clients'
//! promises are tested against both.
//!
//! Both work on whole answers, here in one place: the answer to a `GET` of a matching
//! route is kept, keyed by API and request URI (path and query, so each page of a list is
//! its own entry), and served again instead of a fresh one
//! - under `lag`, for the next N reads of it (or for T ms) after each write to its API: a
//!   read right after a write shows the list as it was before;
//! - under `stale_cache`, for T ms after it was made, whatever was written meanwhile: a
//!   page from a cache with a time to live, so the pages of one list may be of different
//!   ages.
//!
//! A route that was never read before a write has nothing kept, so it answers fresh (the
//! emulator cannot make up an older list it never served). Rate limits, faults and the
//! latency still apply to a late answer; its rate-limit headers are the current ones.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Which answers a rule covers: an API (`pixiebrix`, `gitbook`, `contentful`) or all, and
/// one route template (`/api/groups/{group}/memberships/`, as `GET /_sandbox/stats`
/// names them) or all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub api: Option<String>,
    pub route: Option<String>,
}

impl Scope {
    fn covers(&self, api: &str, route: &str) -> bool {
        self.api.as_deref().is_none_or(|a| a == api)
            && self.route.as_deref().is_none_or(|r| r == route)
    }
}

/// How long reads lag a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LagBy {
    /// The next N reads of each kept answer.
    Reads(u32),
    /// Every read for this many milliseconds.
    Millis(u64),
}

/// The `lag` knob: after each write to an API, reads of the covered routes answer as
/// before the write, for a number of reads or a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lag {
    pub scope: Scope,
    pub by: LagBy,
}

/// The `stale_cache` knob: answers of the covered routes are served from a cache whose
/// entries live `ttl_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleCache {
    pub scope: Scope,
    pub ttl_ms: u64,
}

/// `[API[:ROUTE]=]VALUE`, the form both knobs take on the command line.
fn split_spec(s: &str) -> Result<(Scope, &str), String> {
    let Some((scope, value)) = s.rsplit_once('=') else {
        return Ok((Scope::default(), s));
    };
    let (api, route) = match scope.split_once(':') {
        Some((api, route)) => (api, Some(route.to_string())),
        None => (scope, None),
    };
    if !matches!(api, "pixiebrix" | "gitbook" | "contentful") {
        return Err(format!(
            "unknown API {api:?} in {s:?} (expected pixiebrix, gitbook or contentful)"
        ));
    }
    if route.as_deref().is_some_and(|r| !r.starts_with('/')) {
        return Err(format!(
            "the route in {s:?} must be a route template starting with `/`"
        ));
    }
    Ok((
        Scope {
            api: Some(api.to_string()),
            route,
        },
        value,
    ))
}

fn millis(value: &str) -> Option<u64> {
    value.strip_suffix("ms")?.parse().ok()
}

impl FromStr for Lag {
    type Err = String;

    /// `2` (every API, two reads), `pixiebrix=2`, `gitbook=500ms`,
    /// `pixiebrix:/api/groups/{group}/memberships/=3`.
    fn from_str(s: &str) -> Result<Lag, String> {
        let (scope, value) = split_spec(s)?;
        let by = match millis(value) {
            Some(ms) => LagBy::Millis(ms),
            None => LagBy::Reads(value.parse().map_err(|_| {
                format!("expected a number of reads (2) or of milliseconds (500ms) in {s:?}")
            })?),
        };
        Ok(Lag { scope, by })
    }
}

impl FromStr for StaleCache {
    type Err = String;

    /// `300ms`, `contentful=300ms`, `pixiebrix:/api/groups/{group}/memberships/=1000ms`.
    fn from_str(s: &str) -> Result<StaleCache, String> {
        let (scope, value) = split_spec(s)?;
        let ttl_ms = millis(value)
            .ok_or_else(|| format!("expected a time to live in milliseconds (300ms) in {s:?}"))?;
        Ok(StaleCache { scope, ttl_ms })
    }
}

/// One kept answer.
struct Kept {
    api: &'static str,
    route: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    made: Instant,
    /// Reads still to answer with it, since the last write (`LagBy::Reads`).
    reads_left: u32,
    /// Until when it answers, since the last write (`LagBy::Millis`).
    until: Option<Instant>,
}

/// The kept answers of one sandbox, and the rules that serve them.
pub(crate) struct Late {
    lag: Vec<Lag>,
    cache: Vec<StaleCache>,
    kept: Mutex<HashMap<String, Kept>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Late {
    /// `None` when neither knob is on (nothing is kept then).
    pub fn new(lag: &[Lag], cache: &[StaleCache]) -> Option<Late> {
        (!lag.is_empty() || !cache.is_empty()).then(|| Late {
            lag: lag.to_vec(),
            cache: cache.to_vec(),
            kept: Mutex::new(HashMap::new()),
        })
    }

    /// Whether answers of this route are kept at all.
    pub fn covers(&self, api: &str, route: &str) -> bool {
        self.lag.iter().any(|l| l.scope.covers(api, route))
            || self.cache.iter().any(|c| c.scope.covers(api, route))
    }

    /// The kept answer to serve instead of a fresh one, if a rule says so.
    pub fn late_answer(&self, key: &str) -> Option<Response> {
        let mut kept = lock(&self.kept);
        let k = kept.get_mut(key)?;
        let now = Instant::now();
        let lagging = if k.reads_left > 0 {
            k.reads_left -= 1;
            true
        } else {
            k.until.is_some_and(|t| now < t)
        };
        let cached = self.cache.iter().any(|c| {
            c.scope.covers(k.api, &k.route)
                && now.duration_since(k.made) < Duration::from_millis(c.ttl_ms)
        });
        if !(lagging || cached) {
            return None;
        }
        let mut resp = Response::new(Body::from(k.body.clone()));
        *resp.status_mut() = k.status;
        *resp.headers_mut() = k.headers.clone();
        Some(resp)
    }

    /// Keeps a fresh answer (a successful GET), replacing what was kept for its URI.
    pub async fn keep(
        &self,
        key: String,
        api: &'static str,
        route: &str,
        resp: Response,
    ) -> Response {
        let (parts, body) = resp.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return Response::from_parts(parts, Body::empty());
        };
        lock(&self.kept).insert(
            key,
            Kept {
                api,
                route: route.to_string(),
                status: parts.status,
                headers: parts.headers.clone(),
                body: bytes.clone(),
                made: Instant::now(),
                reads_left: 0,
                until: None,
            },
        );
        Response::from_parts(parts, Body::from(bytes))
    }

    /// A write to `api` succeeded: every kept answer of a lagging route of that API now
    /// shows the list as it was before the write, for the rule's reads or time.
    pub fn wrote(&self, api: &str) {
        let now = Instant::now();
        for k in lock(&self.kept).values_mut().filter(|k| k.api == api) {
            for rule in self.lag.iter().filter(|l| l.scope.covers(api, &k.route)) {
                match rule.by {
                    LagBy::Reads(n) => k.reads_left = k.reads_left.max(n),
                    LagBy::Millis(ms) => {
                        let t = now + Duration::from_millis(ms);
                        k.until = Some(k.until.map_or(t, |u| u.max(t)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_and_without_a_scope() {
        assert_eq!(
            "2".parse::<Lag>(),
            Ok(Lag {
                scope: Scope::default(),
                by: LagBy::Reads(2)
            })
        );
        let l: Lag = "pixiebrix:/api/groups/{group}/memberships/=500ms"
            .parse()
            .expect("parses");
        assert_eq!(l.scope.api.as_deref(), Some("pixiebrix"));
        assert_eq!(
            l.scope.route.as_deref(),
            Some("/api/groups/{group}/memberships/")
        );
        assert_eq!(l.by, LagBy::Millis(500));
        assert!("jira=2".parse::<Lag>().is_err());
        assert!("pixiebrix=soon".parse::<Lag>().is_err());
        assert!("gitbook:orgs=2".parse::<Lag>().is_err());
        assert_eq!(
            "contentful=300ms".parse::<StaleCache>().map(|c| c.ttl_ms),
            Ok(300)
        );
        assert!("300".parse::<StaleCache>().is_err());
    }
}
