//! The latency knob, served to a fraction of a millisecond.
//!
//! tokio's timer counts whole milliseconds and fires after the tick it rounds up to: a
//! `sleep(20 ms)` took 22.7 ms on average here, measured one request at a time. That would
//! make every emulated API slower than its knob says, and every benchmark floor computed
//! from the knob too low by an eighth. A blocking sleep per request is accurate but costs a
//! thread hand-off each time. So one thread keeps the deadlines in a heap and waits on a
//! condition variable until the earliest (a futex timeout, accurate to tens of
//! microseconds), then wakes the requests that are due. It keeps real time: a test that
//! pauses tokio's clock does not pause the knob.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

/// A request waiting for its deadline; ordered earliest first in the heap.
struct Due {
    at: Instant,
    /// Tells deadlines at the same instant apart, first come first served.
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap, the earliest deadline must be on top.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default)]
struct Queue {
    due: BinaryHeap<Due>,
    seq: u64,
    stop: bool,
}

type Shared = Arc<(Mutex<Queue>, Condvar)>;

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sandbox's delay line: one timer thread, stopped when this is dropped.
pub(super) struct Delays {
    shared: Shared,
}

impl Delays {
    /// Starts the timer thread; `None` when it cannot be started (then the knob falls
    /// back to tokio's timer).
    pub(super) fn start() -> Option<Delays> {
        let shared: Shared = Arc::default();
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("sandbox-delays".into())
            .spawn(move || run(&theirs))
            .ok()?;
        Some(Delays { shared })
    }

    /// Waits until `at` (a deadline already passed is woken on the timer thread's next
    /// turn; `Core::wait_until` does not send those here).
    pub(super) async fn sleep_until(&self, at: Instant) {
        let (wake, woken) = oneshot::channel();
        let queued = {
            let (queue, signal) = &*self.shared;
            let mut q = lock(queue);
            if !q.stop {
                let seq = q.seq;
                q.seq += 1;
                let earliest = q.due.peek().is_none_or(|top| at < top.at);
                q.due.push(Due { at, seq, wake });
                if earliest {
                    signal.notify_one();
                }
            }
            !q.stop
        };
        if !queued || woken.await.is_err() {
            // The timer thread is stopping: wait the rest on tokio's timer.
            tokio::time::sleep_until(at.into()).await;
        }
    }
}

impl Drop for Delays {
    fn drop(&mut self) {
        let (queue, signal) = &*self.shared;
        lock(queue).stop = true;
        signal.notify_one();
    }
}

fn run(shared: &Shared) {
    let (queue, signal) = &**shared;
    let mut q = lock(queue);
    loop {
        if q.stop {
            // Dropping the senders sends every waiter to tokio's timer.
            q.due.clear();
            return;
        }
        let now = Instant::now();
        while q.due.peek().is_some_and(|top| top.at <= now) {
            if let Some(due) = q.due.pop() {
                let _ = due.wake.send(());
            }
        }
        q = match q.due.peek().map(|top| top.at - now) {
            Some(wait) => {
                signal
                    .wait_timeout(q, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => signal.wait(q).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Each sleep ends after its own delay, and the ends come in deadline order (the
    /// delays are 25 ms apart, the five sleeps start within microseconds of each other on
    /// one thread; 5 ms apart, two ends fell into one wake-up of a loaded machine's timer
    /// thread, and `join!` then polled them in its own order).
    #[tokio::test(flavor = "current_thread")]
    async fn sleeps_end_in_deadline_order_and_never_early() {
        let delays = Delays::start().expect("timer thread");
        let started = Instant::now();
        let ends = Mutex::new(Vec::new());
        let one = |ms: u64| {
            let (delays, ends) = (&delays, &ends);
            async move {
                delays
                    .sleep_until(started + Duration::from_millis(ms))
                    .await;
                ends.lock().unwrap().push((ms, started.elapsed()));
            }
        };
        tokio::join!(one(105), one(30), one(80), one(55), one(5));
        let ends = ends.into_inner().unwrap();
        let order: Vec<u64> = ends.iter().map(|(ms, _)| *ms).collect();
        assert_eq!(order, [5, 30, 55, 80, 105]);
        for (ms, elapsed) in ends {
            assert!(
                elapsed >= Duration::from_millis(ms),
                "{ms} ms ended at {elapsed:?}"
            );
        }
    }

    /// A stopped line hands its waiters to tokio's timer instead of leaving them hanging,
    /// both those already queued and those that come after.
    #[tokio::test(flavor = "current_thread")]
    async fn a_stopped_line_still_lets_waiters_finish() {
        let delays = Delays::start().expect("timer thread");
        let started = Instant::now();
        let queued = async {
            delays
                .sleep_until(started + Duration::from_millis(40))
                .await;
        };
        let stop = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let (queue, signal) = &*delays.shared;
            lock(queue).stop = true;
            signal.notify_one();
            delays
                .sleep_until(Instant::now() + Duration::from_millis(10))
                .await;
        };
        tokio::join!(queued, stop);
        assert!(started.elapsed() >= Duration::from_millis(40));
    }
}
