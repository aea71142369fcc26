//! One timer kept pending for a client, so that the timers of its calls do not wake the
//! runtime.
//!
//! Every attempt runs under a timeout, and tokio wakes its I/O driver (a write to an eventfd,
//! and one more turn of the event loop) whenever a timer is registered that is due before
//! every timer already pending. With no other timer pending, that is every attempt: on a
//! loopback call of 100 µs it was about 2 µs, the largest part of what the client adds over
//! a bare `reqwest` call (figure 1 of the benchmark). A task that keeps one timer pending,
//! due sooner than any attempt's deadline, removes that cost: an attempt's timer is never
//! the earliest. It starts with the client's first call, on that call's runtime; it wakes
//! once per half of the shortest timeout (at least a second), and ends at its first wake-up
//! after the client and all its clones are dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{Shared, Timeouts};

/// The shortest interval the task wakes at: with timeouts under two seconds the driver's
/// wake-ups stay, rather than a task that spins.
const MIN_PERIOD: Duration = Duration::from_secs(1);

pub(crate) struct PendingTimer {
    /// How often the task wakes; `None`: no task (no timeout, or one too short).
    period: Option<Duration>,
    started: AtomicBool,
}

impl PendingTimer {
    pub(crate) fn new(timeouts: &Timeouts) -> Self {
        let shortest = [timeouts.attempt(), timeouts.total()].into_iter().flatten().min();
        let period = shortest.map(|d| d / 2).filter(|p| *p >= MIN_PERIOD);
        PendingTimer {
            period,
            started: AtomicBool::new(false),
        }
    }

    /// Starts the task on the current runtime, once.
    pub(crate) fn start(&self, shared: &Arc<Shared>) {
        let Some(period) = self.period else {
            return;
        };
        if self.started.load(Ordering::Relaxed) || self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client: Weak<Shared> = Arc::downgrade(shared);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                if client.strong_count() == 0 {
                    return;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_wakes_at_half_the_shortest_timeout_and_not_for_short_or_no_timeouts() {
        let period = |t: Timeouts| PendingTimer::new(&t).period;
        assert_eq!(period(Timeouts::default()), Some(Duration::from_secs(15)));
        assert_eq!(
            period(Timeouts::default().without_attempt()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            period(Timeouts::default().with_attempt(Duration::from_millis(1_999))),
            None
        );
        assert_eq!(
            period(Timeouts::default().without_attempt().without_total()),
            None
        );
        assert_eq!(
            period(
                Timeouts::default()
                    .with_attempt(Duration::MAX)
                    .with_total(Duration::MAX)
            ),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_starts_once_and_ends_after_the_client_is_dropped() {
        let client = crate::Client::builder()
            .base_url("http://127.0.0.1:9/")
            .build()
            .unwrap();
        let tasks = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
        assert_eq!(tasks(), 0);
        client.keep_timer_pending();
        client.keep_timer_pending();
        client.clone().keep_timer_pending();
        tokio::task::yield_now().await;
        assert_eq!(tasks(), 1);
        drop(client);
        // Its next wake-up, at most half the shortest timeout later, is its last.
        tokio::time::sleep(Duration::from_secs(16)).await;
        tokio::task::yield_now().await;
        assert_eq!(tasks(), 0);
    }
}
