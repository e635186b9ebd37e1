//! One rate-limit governor per provider, shared by every request of a run: the plan's
//! reads, apply's writes and the fresh reads apply does before them.
//!
//! It paces from what each API announces:
//! - Contentful documents 7 requests/second and says its limit on every answer
//!   (`X-Contentful-RateLimit-Second-Limit`): requests are spaced `1/limit` apart, starting
//!   at 7/s until the first answer says otherwise (paid plans allow more).
//! - GitBook announces a window budget (`X-RateLimit-Remaining`, `X-RateLimit-Reset` in
//!   epoch seconds): once the budget is spent, requests wait for the reset.
//! - PixieBrix announces nothing: the governor adapts (AIMD). On a 429 it estimates the
//!   pace the API sustained (answers since the last pause ÷ the time up to the end of the
//!   `Retry-After` wait), paces at that, then raises the pace a little with every answer.
//!
//! A 429 pauses *every* request of the provider until the reset, not just the one that got
//! it, and is not a failed attempt: a total wait budget per run bounds these waits, with a
//! clear message once an API asks for more. A `rate_limit` in the config caps the pace
//! further.
//!
//! The governor also counts pages read (for the progress shown while reading) and owns the
//! provider's share of the run's one stderr output, so the `-v` request log never tears a
//! progress bar.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::{ClientOptions, ProviderError};
use crate::model::{ProviderKind, ProviderSettings};

/// The slowest pace the adaptive mode falls to.
const MIN_RPS: f64 = 0.05;
/// Additive increase per successful answer, as a share of the pace set at the last 429.
const RAMP_PER_ANSWER: f64 = 0.002;
/// Slack added to a per-second window, for requests that reach the API later than they
/// left (a late timer, a busy machine): the request `limit` places later than another
/// leaves at least a second and this much after it.
const WINDOW_SLACK: Duration = Duration::from_millis(40);

/// The run's stderr: progress bars on a terminal, plain lines elsewhere. Every line teamsync
/// prints while requests run goes through [`Output::println`].
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Bars on a terminal; `None` elsewhere (then lines go straight to stderr).
    bars: Option<indicatif::MultiProgress>,
    /// Whether read progress is shown at all (off with `-q`).
    progress: bool,
    /// When requests were in flight, for the run's timings (`TEAMSYNC_TIMINGS`).
    timeline: std::sync::Arc<std::sync::Mutex<Timeline>>,
}

/// When the run's requests were in flight: the first start, the last answer, and the time
/// between them with none in flight (teamsync's own work between dependent requests).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeline {
    pub first_start: Option<Instant>,
    pub last_end: Option<Instant>,
    /// Sum of the stretches with no request in flight, between the first start and the
    /// last answer.
    pub idle: Duration,
    pub requests: u64,
    in_flight: usize,
}

/// A request in flight, as the timeline counts it; ends when dropped.
pub(crate) struct InFlight(std::sync::Arc<std::sync::Mutex<Timeline>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut t) = self.0.lock() {
            t.in_flight = t.in_flight.saturating_sub(1);
            t.last_end = Some(Instant::now());
        }
    }
}

impl Output {
    /// `progress`: whether to show read progress (bars on a terminal, one line per
    /// provider when its read finishes elsewhere).
    pub fn new(progress: bool) -> Output {
        use std::io::IsTerminal as _;
        let bars = (progress && std::io::stderr().is_terminal()).then(|| {
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr())
        });
        Output {
            bars,
            progress,
            timeline: Default::default(),
        }
    }

    /// Counts a request as in flight until the guard is dropped.
    pub(crate) fn in_flight(&self) -> InFlight {
        if let Ok(mut t) = self.timeline.lock() {
            let now = Instant::now();
            if t.in_flight == 0
                && let Some(end) = t.last_end
            {
                t.idle += now.saturating_duration_since(end);
            }
            t.first_start.get_or_insert(now);
            t.in_flight += 1;
            t.requests += 1;
        }
        InFlight(self.timeline.clone())
    }

    /// The requests' timeline so far.
    pub fn timeline(&self) -> Timeline {
        self.timeline.lock().map(|t| *t).unwrap_or_default()
    }

    /// Puts another bar (apply's step counter) below the read bars, so that every line
    /// printed through [`Output::println`] lands above it instead of tearing it. Without
    /// bars here (stderr is no terminal, or `-q`) it draws on its own, as it would have.
    pub fn add_bar(&self, bar: indicatif::ProgressBar) -> indicatif::ProgressBar {
        match &self.bars {
            Some(m) => m.add(bar),
            None => bar,
        }
    }

    /// Prints a line above any bars (or to stderr when there are none).
    pub fn println(&self, line: &str) {
        match &self.bars {
            Some(m) => {
                if m.println(line).is_err() {
                    eprintln!("{line}");
                }
            }
            None => eprintln!("{line}"),
        }
    }
}

#[derive(Debug)]
struct State {
    /// Spacing between request starts; `None`: only `--parallelism` bounds them.
    interval: Option<Duration>,
    /// When the next request may start.
    next_slot: Instant,
    /// Bumped when an announced limit shortens `interval`: a request that reserved a slot
    /// at the old pace gives it up and takes one at the new pace.
    repaced: u64,
    /// A per-second limit (Contentful's, or the config's): at most this many admissions
    /// in any second (plus slack), whatever the timers did; with the last ones admitted.
    per_second: Option<usize>,
    recent: std::collections::VecDeque<Instant>,
    /// Every request waits until then (a 429's reset).
    paused_until: Option<Instant>,
    /// Sum of the 429 waits so far.
    waited: Duration,
    /// An announced window budget (GitBook): requests left, and when the window resets.
    budget: Option<(i64, Instant, u64)>,
    /// Requests admitted so far (each request's sequence number is its index).
    sent: u64,
    /// Whether the API announced a limit (then pacing follows it, not AIMD).
    announced: bool,
    /// Adaptive mode: answers since the last pause ended, when that was, and the pace
    /// set at the last 429 (requests per second).
    ok_since: u64,
    epoch: Instant,
    base_rps: Option<f64>,
    /// 429s in a row without a good answer (for backoff when no wait is given).
    storm: u32,
    /// Answers that were 429s, and all answers (for the summary line).
    throttled: u64,
    answers: u64,
}

/// Pages read of pages expected while a provider is read.
#[derive(Debug, Default)]
struct Progress {
    reading: AtomicBool,
    read: AtomicU64,
    expected: AtomicU64,
    started: Mutex<Option<Instant>>,
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

/// The governor of one provider. Cheap to share: hold it in an `Arc`.
#[derive(Debug)]
pub struct Governor {
    /// For messages: `Contentful (cms)`.
    label: String,
    provider: String,
    kind: ProviderKind,
    /// The config's cap, as the shortest spacing allowed, and as requests per second.
    cap: Option<Duration>,
    cap_per_second: Option<usize>,
    wait_budget: Duration,
    state: Mutex<State>,
    /// Wakes the requests waiting for a slot when the pace changes under them.
    repace: tokio::sync::Notify,
    progress: Progress,
    output: Output,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn spacing(rps: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rps.max(MIN_RPS))
}

fn kind_name(kind: ProviderKind) -> &'static str {
    kind.spec().vendor
}

/// The seconds in "try again in 60 seconds" / "Expected available in 12 seconds.".
fn seconds_in_message(body: &str) -> Option<u64> {
    let at = body.find(" in ")?;
    let rest = &body[at + 4..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if rest[digits.len()..].trim_start().starts_with("second") {
        digits.parse().ok()
    } else {
        None
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn number<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    header(headers, name).and_then(|v| v.trim().parse().ok())
}

/// An epoch-seconds time as an `Instant` (now when it has passed).
fn instant_of_epoch(epoch: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Instant::now() + Duration::from_secs(epoch).saturating_sub(now)
}

impl Governor {
    pub fn new(settings: &ProviderSettings, options: &ClientOptions, output: Output) -> Governor {
        let cap = settings
            .rate_limit
            .map(|r| r.get())
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(spacing);
        let documented_rps = settings.kind.spec().documented_rps;
        let documented = documented_rps.map(spacing);
        let interval = match (documented, cap) {
            (Some(d), Some(c)) => Some(d.max(c)),
            (d, c) => d.or(c),
        };
        let per_second = documented_rps.map(|r| r as usize);
        let cap_per_second = settings
            .rate_limit
            .map(|r| r.get())
            .filter(|r| *r >= 1.0)
            .map(|r| r.floor() as usize);
        let per_second = match (per_second, cap_per_second) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let now = Instant::now();
        Governor {
            cap_per_second,
            label: format!("{} ({})", kind_name(settings.kind), settings.name),
            provider: settings.name.clone(),
            kind: settings.kind,
            cap,
            wait_budget: options.rate_wait_budget,
            state: Mutex::new(State {
                interval,
                next_slot: now,
                repaced: 0,
                per_second,
                recent: std::collections::VecDeque::new(),
                paused_until: None,
                waited: Duration::ZERO,
                budget: None,
                sent: 0,
                announced: false,
                ok_since: 0,
                epoch: now,
                base_rps: None,
                storm: 0,
                throttled: 0,
                answers: 0,
            }),
            repace: tokio::sync::Notify::new(),
            progress: Progress::default(),
            output,
        }
    }

    /// The run's output, for the request log.
    pub(crate) fn output(&self) -> &Output {
        &self.output
    }

    /// Current spacing with the config's cap applied.
    fn capped(&self, interval: Option<Duration>) -> Option<Duration> {
        match (interval, self.cap) {
            (Some(i), Some(c)) => Some(i.max(c)),
            (i, c) => i.or(c),
        }
    }

    /// Waits until a request may start; returns its sequence number.
    pub(crate) async fn admit(&self) -> u64 {
        let mut reserved: Option<u64> = None;
        loop {
            // Registered before the state is read, so a re-pace in between is not missed.
            let repaced = self.repace.notified();
            tokio::pin!(repaced);
            repaced.as_mut().enable();
            let until = {
                let mut s = lock(&self.state);
                let now = Instant::now();
                if reserved.is_some_and(|at| at != s.repaced) {
                    // The slot was reserved at a pace the API has since lifted.
                    reserved = None;
                }
                if s.budget.is_some_and(|(_, reset, _)| reset <= now) {
                    // A new window: the next answer says how much of it is left.
                    s.budget = None;
                }
                if let Some(p) = s.paused_until.filter(|p| *p > now) {
                    p
                } else if let Some((_, reset, _)) = s.budget.filter(|(left, _, _)| *left <= 0) {
                    reset
                } else if let Some(n) = s.per_second
                    && s.recent.len() >= n
                    && let Some(at) = s.recent.get(s.recent.len() - n)
                    && *at + Duration::from_secs(1) + WINDOW_SLACK > now
                {
                    *at + Duration::from_secs(1) + WINDOW_SLACK
                } else if let (None, Some(iv)) = (reserved, s.interval)
                    && s.next_slot > now
                {
                    let slot = s.next_slot;
                    s.next_slot = slot + iv;
                    reserved = Some(s.repaced);
                    slot
                } else {
                    if reserved.is_none()
                        && let Some(iv) = s.interval
                    {
                        s.next_slot = s.next_slot.max(now) + iv;
                    }
                    if let Some(b) = s.budget.as_mut() {
                        b.0 -= 1;
                    }
                    if let Some(n) = s.per_second {
                        s.recent.push_back(now);
                        while s.recent.len() > n {
                            s.recent.pop_front();
                        }
                    }
                    let seq = s.sent;
                    s.sent += 1;
                    return seq;
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(until.into()) => {}
                () = &mut repaced => {}
            }
        }
    }

    /// Reads the budget an answer announces and adapts the pace. `seq` is the request's
    /// sequence number from [`Governor::admit`].
    pub(crate) fn observe(&self, seq: u64, status: u16, headers: &HeaderMap) {
        let mut s = lock(&self.state);
        s.answers += 1;
        if let Some(limit) = number::<f64>(headers, "x-contentful-ratelimit-second-limit")
            .filter(|l| l.is_finite() && *l > 0.0)
        {
            s.announced = true;
            let before = s.interval;
            s.interval = self.capped(Some(spacing(limit)));
            // The documented 7/s reserved the first requests' slots 143 ms apart; a server
            // that announces more frees them at once (a 5,000-person plan's first three
            // independent Contentful reads waited 0.43 s for slots the answer had lifted).
            if let (Some(old), Some(new)) = (before, s.interval)
                && new < old
            {
                let now = Instant::now();
                s.next_slot = s.next_slot.min(now);
                s.repaced += 1;
                self.repace.notify_waiters();
            }
            let limit = (limit.floor() as usize).max(1);
            s.per_second = Some(self.cap_per_second.map_or(limit, |c| c.min(limit)));
        }
        if let (Some(remaining), Some(reset)) = (
            number::<i64>(headers, "x-ratelimit-remaining"),
            number::<u64>(headers, "x-ratelimit-reset"),
        ) {
            s.announced = true;
            // Requests admitted after this one may not have been counted yet.
            let later = s.sent.saturating_sub(seq + 1) as i64;
            let left = remaining - later;
            let update = match s.budget {
                None => true,
                Some((old_left, _, old_reset)) => {
                    reset > old_reset || (reset == old_reset && left < old_left)
                }
            };
            if update {
                s.budget = Some((left, instant_of_epoch(reset), reset));
            }
        }
        if status != 429 {
            s.storm = 0;
            if !s.announced && s.base_rps.is_some() {
                s.ok_since += 1;
                let base = s.base_rps.unwrap_or(MIN_RPS);
                let rps = s.interval.map_or(base, |i| 1.0 / i.as_secs_f64().max(1e-6));
                s.interval = self.capped(Some(spacing(rps + base * RAMP_PER_ANSWER)));
            } else if !s.announced {
                s.ok_since += 1;
            }
        }
    }

    /// A 429: pauses every request of this provider until the API's reset. Fails once the
    /// run's waits would exceed the wait budget.
    pub(crate) fn throttled(&self, headers: &HeaderMap, body: &str) -> Result<(), ProviderError> {
        let secs = |v: Option<&str>| v.and_then(|v| v.trim().parse::<u64>().ok());
        let now = Instant::now();
        let mut s = lock(&self.state);
        s.throttled += 1;
        let told = secs(header(headers, RETRY_AFTER.as_str()))
            .or_else(|| secs(header(headers, "x-contentful-ratelimit-reset")).filter(|s| *s > 0))
            .map(Duration::from_secs)
            .or_else(|| {
                secs(header(headers, "x-ratelimit-reset"))
                    .map(|e| instant_of_epoch(e).saturating_duration_since(now))
            })
            .or_else(|| seconds_in_message(body).map(Duration::from_secs));
        let wait = match told {
            Some(w) => w,
            None => Duration::from_millis(200u64 << s.storm.min(8)),
        };
        s.storm = s.storm.saturating_add(1);
        let jitter = Duration::from_millis(rand::rng().random_range(0..=50));
        let until = now + wait.max(Duration::from_millis(50)) + jitter;
        let already = s.paused_until.filter(|p| *p > now);
        let added = until.saturating_duration_since(already.unwrap_or(now));
        if s.waited + added > self.wait_budget {
            return Err(ProviderError::Api {
                provider: self.provider.clone(),
                kind: self.kind,
                what: "rate limit".into(),
                status: 429,
                message: format!(
                    "{} asked us to wait {} s; with the {} s waited already that exceeds this run's \
                     wait budget of {} s for rate limits. Run again later, or lower the pace with \
                     `rate_limit` in the provider's config",
                    kind_name(self.kind),
                    wait.as_secs(),
                    s.waited.as_secs(),
                    self.wait_budget.as_secs()
                ),
            });
        }
        s.waited += added;
        if already.is_none() && !s.announced {
            // Adaptive: the pace the API sustained since the last pause, up to this reset.
            let span = now.saturating_duration_since(s.epoch) + wait;
            let measured = s.ok_since as f64 / span.as_secs_f64().max(1e-3);
            let current = s
                .interval
                .map_or(f64::INFINITY, |i| 1.0 / i.as_secs_f64().max(1e-6));
            let rps = if measured > 0.0 {
                measured.min(current)
            } else if current.is_finite() {
                current / 2.0
            } else {
                1.0
            }
            .max(MIN_RPS);
            s.base_rps = Some(rps);
            s.interval = self.capped(Some(spacing(rps)));
            s.ok_since = 0;
            s.epoch = until;
        }
        if until > s.paused_until.unwrap_or(now) {
            s.paused_until = Some(until);
        }
        Ok(())
    }

    /// How long every request is paused for from now (for the ETA).
    fn pause_left(&self) -> Duration {
        let s = lock(&self.state);
        let now = Instant::now();
        let pause = s
            .paused_until
            .map_or(Duration::ZERO, |p| p.saturating_duration_since(now));
        let budget = match s.budget {
            Some((left, reset, _)) if left <= 0 => reset.saturating_duration_since(now),
            _ => Duration::ZERO,
        };
        pause.max(budget)
    }

    /// The provider's read starts: progress counts pages from here.
    pub fn start_reading(&self) {
        *lock(&self.progress.started) = Some(Instant::now());
        self.progress.read.store(0, Ordering::Relaxed);
        self.progress.expected.store(0, Ordering::Relaxed);
        self.progress.reading.store(true, Ordering::Relaxed);
        if let Some(m) = &self.output.bars {
            // A spinner and a count, never a bar: the total grows as each list's first
            // page says how long it is, so a bar would look finished ("10/10 pages, ETA
            // 0:00") whenever the pages counted so far were read.
            let bar = m.add(indicatif::ProgressBar::new_spinner());
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} {prefix:>24} {msg} ({elapsed})")
            {
                bar.set_style(style);
            }
            bar.set_prefix(self.label.clone());
            bar.set_message(progress_message(0, 0, Duration::ZERO));
            bar.enable_steady_tick(Duration::from_millis(120));
            *lock(&self.progress.bar) = Some(bar);
        }
    }

    /// Whether the provider is being read (pages are counted only then).
    pub(crate) fn is_reading(&self) -> bool {
        self.progress.reading.load(Ordering::Relaxed)
    }

    /// One page read; `pages` is how many pages its list has when this is its first page
    /// (from the count it carries), else `None`.
    pub(crate) fn page_read(&self, first_of: Option<u64>) {
        let p = &self.progress;
        if !p.reading.load(Ordering::Relaxed) {
            return;
        }
        let read = p.read.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(pages) = first_of {
            p.expected.fetch_add(pages.max(1), Ordering::Relaxed);
        }
        let expected = p.expected.load(Ordering::Relaxed).max(read);
        if let Some(bar) = lock(&p.bar).as_ref() {
            bar.set_message(progress_message(read, expected, self.pause_left()));
        }
    }

    /// The provider's read is over: clears its bar, or (not on a terminal) says so in one
    /// line.
    pub fn finish_reading(&self) {
        let p = &self.progress;
        if !p.reading.swap(false, Ordering::Relaxed) {
            return;
        }
        if let Some(bar) = lock(&p.bar).take() {
            bar.finish_and_clear();
            if let Some(m) = &self.output.bars {
                m.remove(&bar);
            }
            return;
        }
        if self.output.progress {
            let elapsed = lock(&p.started).map_or(Duration::ZERO, |s| s.elapsed());
            let (throttled, waited) = {
                let s = lock(&self.state);
                (s.throttled, s.waited)
            };
            let waits = if throttled > 0 {
                format!(
                    ", {throttled} answers were 429 (waited {} s)",
                    waited.as_secs()
                )
            } else {
                String::new()
            };
            self.output.println(&format!(
                "Read {}: {} pages in {:.1} s{waits}",
                self.label,
                p.read.load(Ordering::Relaxed),
                elapsed.as_secs_f64()
            ));
        }
    }
}

/// What a provider's spinner says: the pages read, the least the lists begun so far hold
/// (a lower bound, never a total: a list not begun yet adds to it), and a rate-limit wait.
fn progress_message(read: u64, at_least: u64, pause: Duration) -> String {
    let pages = if read == 1 { "page" } else { "pages" };
    let bound = if at_least > read {
        format!(" of at least {at_least}")
    } else {
        String::new()
    };
    let paused = if pause > Duration::from_millis(500) {
        format!(", rate-limited: waiting {} s", pause.as_secs())
    } else {
        String::new()
    };
    format!("{read} {pages} read{bound}{paused}")
}

/// A governor per provider name, shared by every client of one run.
pub type Governors = std::collections::BTreeMap<String, Arc<Governor>>;

#[cfg(test)]
mod tests {
    #[test]
    fn progress_is_a_count_with_a_lower_bound_never_a_finished_looking_total() {
        use super::progress_message as say;
        use std::time::Duration;
        assert_eq!(say(0, 0, Duration::ZERO), "0 pages read");
        assert_eq!(say(1, 4, Duration::ZERO), "1 page read of at least 4");
        // Every page counted so far is read: no "10/10", just the count.
        assert_eq!(say(10, 10, Duration::ZERO), "10 pages read");
        assert_eq!(
            say(3, 9, Duration::from_secs(12)),
            "3 pages read of at least 9, rate-limited: waiting 12 s"
        );
        assert!(!say(10, 10, Duration::ZERO).contains("ETA"));
    }

    use super::*;

    #[test]
    fn reads_the_seconds_of_both_messages() {
        assert_eq!(
            seconds_in_message("API rate limit exceeded. Please try again in 60 seconds"),
            Some(60)
        );
        assert_eq!(
            seconds_in_message(
                r#"{"detail": "Request was throttled. Expected available in 12 seconds."}"#
            ),
            Some(12)
        );
        assert_eq!(seconds_in_message("in a while"), None);
    }

    fn contentful() -> std::sync::Arc<Governor> {
        let settings = ProviderSettings::new("cms", ProviderKind::Contentful, "org");
        std::sync::Arc::new(Governor::new(
            &settings,
            &ClientOptions::default(),
            Output::default(),
        ))
    }

    /// Answer headers announcing Contentful's per-second limit.
    fn announcing(limit: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-contentful-ratelimit-second-limit",
            reqwest::header::HeaderValue::from_static(limit),
        );
        headers
    }

    /// Contentful starts at its documented 7/s, so requests that come together reserve
    /// slots 143 ms apart; once an answer announces a higher limit, the waiting ones go at
    /// the new pace instead of sleeping out the old reservations.
    #[tokio::test(flavor = "current_thread")]
    async fn an_announced_higher_limit_frees_slots_reserved_at_the_documented_pace() {
        let g = contentful();
        let started = Instant::now();
        let first = g.admit().await;
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let g = g.clone();
                tokio::spawn(async move {
                    g.admit().await;
                    started.elapsed()
                })
            })
            .collect();
        // Let the three reserve their slots (143, 286 and 429 ms out) before the answer.
        tokio::time::sleep(Duration::from_millis(20)).await;
        g.observe(first, 200, &announcing("1000"));
        for w in waiting {
            let at = w.await.expect("admitted");
            assert!(at < Duration::from_millis(120), "admitted after {at:?}");
        }
    }

    /// A limit no higher than the documented one changes nothing: the reservations stand.
    #[tokio::test(flavor = "current_thread")]
    async fn the_documented_limit_announced_keeps_the_pace() {
        let g = contentful();
        let started = Instant::now();
        let first = g.admit().await;
        let second = {
            let g = g.clone();
            tokio::spawn(async move {
                g.admit().await;
                started.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        g.observe(first, 200, &announcing("7"));
        let at = second.await.expect("admitted");
        assert!(at >= Duration::from_millis(140), "admitted after {at:?}");
    }
}
