//! `TEAMSYNC_TIMINGS=1`: where a run's time goes, on one stderr line at its end, so the
//! time outside requests (loading the configuration, starting the clients, teamsync's own
//! work between requests, the last answer to the first byte of output) can be measured
//! before anyone changes code for it (issue 33 item 5; `docs/performance.md`).

use std::time::{Duration, Instant};

use crate::engine::Timeline;

/// The environment variable that turns the line on.
pub const ENV: &str = "TEAMSYNC_TIMINGS";

/// The moments of one run: its start and each phase's end, in order.
pub struct Timings {
    on: bool,
    start: Instant,
    marks: Vec<(&'static str, Instant)>,
    timeline: Option<Timeline>,
}

impl Timings {
    /// Starts the clock; records only when `TEAMSYNC_TIMINGS` is set and not `0`.
    pub fn start() -> Timings {
        let on = std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0");
        Timings {
            on,
            start: Instant::now(),
            marks: Vec::new(),
            timeline: None,
        }
    }

    /// `phase` ended now.
    pub fn mark(&mut self, phase: &'static str) {
        if self.on {
            self.marks.push((phase, Instant::now()));
        }
    }

    /// The requests' timeline, taken when the reads are over; the phase that held the
    /// requests is then shown split at the first request and the last answer.
    pub fn requests(&mut self, timeline: Timeline) {
        if self.on {
            self.timeline = Some(timeline);
        }
    }

    /// The line, when timings are on.
    pub fn line(&self) -> Option<String> {
        if !self.on {
            return None;
        }
        let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
        let mut parts = Vec::new();
        let mut from = self.start;
        for (phase, at) in &self.marks {
            let window = self
                .timeline
                .and_then(|t| Some((t.first_start?, t.last_end?, t)))
                .filter(|(first, last, _)| *first >= from && *last <= *at);
            match window {
                Some((first, last, t)) => {
                    parts.push(format!("until the first request {}", secs(first - from)));
                    parts.push(format!(
                        "requests {} ({} requests; none in flight for {} of it)",
                        secs(last - first),
                        t.requests,
                        secs(t.idle)
                    ));
                    parts.push(format!("last answer to {phase} {}", secs(*at - last)));
                }
                None => parts.push(format!("{phase} {}", secs(*at - from))),
            }
            from = *at;
        }
        let total = self
            .marks
            .last()
            .map_or(Duration::ZERO, |(_, at)| *at - self.start);
        Some(format!(
            "timings: total {} = {}",
            secs(total),
            parts.join(" + ")
        ))
    }

    /// Prints the line on stderr, when timings are on.
    pub fn print(&self) {
        if let Some(line) = self.line() {
            eprintln!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phase_that_held_the_requests_is_split_at_the_first_and_last() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut t = Timings {
            on: true,
            start,
            marks: vec![
                ("config", start + ms(100)),
                ("clients", start + ms(150)),
                ("plan", start + ms(1_150)),
                ("output", start + ms(1_200)),
            ],
            timeline: None,
        };
        let mut timeline = Timeline::default();
        timeline.first_start = Some(start + ms(160));
        timeline.last_end = Some(start + ms(1_100));
        timeline.requests = 7;
        timeline.idle = ms(40);
        t.requests(timeline);
        assert_eq!(
            t.line().as_deref(),
            Some(
                "timings: total 1.200 s = config 0.100 s + clients 0.050 s + until the first request 0.010 s + requests 0.940 s (7 requests; none in flight for 0.040 s of it) + last answer to plan 0.050 s + output 0.050 s"
            )
        );
    }

    #[test]
    fn off_says_nothing() {
        let mut t = Timings {
            on: false,
            start: Instant::now(),
            marks: Vec::new(),
            timeline: None,
        };
        t.mark("config");
        assert_eq!(t.line(), None);
    }
}
