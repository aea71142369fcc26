//! Client-side limits shared by a client and all its clones: a request rate ([`RateLimit`],
//! fixed or adaptive) and a cap on requests in flight.
//!
//! The limiter is a token bucket on tokio's clock. Waiters queue in order behind one fair
//! lock and only the one at the front sleeps, so a waiter that is dropped takes nothing with
//! it: no token is spent before a request really goes out, and no place in the queue is held
//! by a call that gave up. (A reservation scheme would leave a hole where a cancelled caller
//! stood, or let two requests share one slot.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::error::{ConfigKind, Error, Result};

/// A client-side request rate, set with
/// [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit).
///
/// - [`RateLimit::per_second`] / [`RateLimit::new`]: at most `burst + rate × t` requests in
///   any stretch of time `t`. The burst defaults to a twentieth of a second's worth of the
///   rate, at least 1 (500 per second: 25): a timer cannot space requests finer than a
///   millisecond, and with no burst at all every late wake-up would be rate lost.
/// - [`RateLimit::adaptive`]: no number to give. Requests go out freely until the server
///   answers `429 Too Many Requests` (or `503` with `Retry-After`); the rate allowed is then
///   nine tenths of the rate the server was seen to accept, and it grows back by 5% a second
///   while calls succeed, until the next refusal.
///
/// Either way a `Retry-After` from the server wins: the refused call waits at least that
/// long before it is retried, whatever the limiter would allow.
///
/// ```
/// use std::time::Duration;
/// use userapi::{Client, RateLimit};
/// let client = Client::builder()
///     .base_url("https://metabase.example.com/")
///     .rate_limit(RateLimit::per_second(20).burst(5))
///     .max_in_flight(8)
///     .build()?;
/// assert!(Client::builder()
///     .base_url("https://metabase.example.com/")
///     .rate_limit(RateLimit::new(10, Duration::ZERO))
///     .build()
///     .unwrap_err()
///     .is_config());
/// # Ok::<(), userapi::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimit {
    /// `requests` per `per`, with bursts of up to `burst` requests.
    #[non_exhaustive]
    Fixed {
        /// Requests allowed in each period.
        requests: u32,
        /// The period.
        per: Duration,
        /// Requests that may go out at once after a quiet spell (at least 1).
        burst: u32,
    },
    /// Learned from the server's `429` (and `503` with `Retry-After`) answers.
    Adaptive,
}

/// The longest period a fixed rate may name: a limit per day is a quota, longer is a typo.
const MAX_PERIOD: Duration = Duration::from_secs(24 * 3600);

impl RateLimit {
    /// At most `requests` per second (burst: see [`RateLimit`]).
    pub fn per_second(requests: u32) -> Self {
        RateLimit::new(requests, Duration::from_secs(1))
    }

    /// At most `requests` per `per` (burst: see [`RateLimit`]). `0` requests, a zero period
    /// or one longer than a day make [`ClientBuilder::build`](crate::ClientBuilder::build)
    /// fail.
    pub fn new(requests: u32, per: Duration) -> Self {
        let burst = match per.as_secs_f64() {
            secs if secs > 0.0 => default_burst(f64::from(requests) / secs),
            _ => 1,
        };
        RateLimit::Fixed { requests, per, burst }
    }

    /// Lets up to `burst` requests go at once after a quiet spell (fixed rates only; `0`
    /// makes `build()` fail).
    pub fn burst(self, burst: u32) -> Self {
        match self {
            RateLimit::Fixed { requests, per, .. } => RateLimit::Fixed { requests, per, burst },
            other => other,
        }
    }

    /// Learns the rate from the server's refusals.
    pub fn adaptive() -> Self {
        RateLimit::Adaptive
    }

    /// Checks the numbers: the error `build()` gives.
    pub(crate) fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::config(ConfigKind::Limits, m.to_owned()));
        match *self {
            RateLimit::Fixed { requests: 0, .. } => bad("a rate limit of 0 requests would never send one"),
            RateLimit::Fixed { per, .. } if per.is_zero() => {
                bad("a rate limit's period must be longer than zero")
            }
            RateLimit::Fixed { per, .. } if per > MAX_PERIOD => {
                bad("a rate limit's period may be a day at most")
            }
            RateLimit::Fixed { burst: 0, .. } => bad("a rate limit's burst must be at least 1"),
            _ => Ok(()),
        }
    }
}

/// The limits of a client and its clones.
pub(crate) struct Limiter {
    rate: Option<Rate>,
    /// Inline, next to the rate: the permits borrow it, and a call touches no other
    /// allocation for its limits.
    in_flight: Option<Semaphore>,
}

/// What a request took from the limiter: its place among those in flight (given back when
/// dropped) and how long it waited.
pub(crate) struct Admission<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    pub(crate) waited: Duration,
}

struct Rate {
    /// The queue: the waiter holding it is the only one that sleeps.
    turn: tokio::sync::Mutex<()>,
    /// Callers queued for the turn or holding it: while there are any, nobody takes a token
    /// past them.
    queued: AtomicUsize,
    bucket: Mutex<Bucket>,
    adaptive: bool,
}

/// One place in the queue, given back when dropped (a call that gives up included).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Bucket {
    /// Requests per second; infinite while an adaptive limiter has not been refused yet.
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Adaptive: when the rate was last lowered, the rate then, and the successes counted
    /// since `window_start` (what the server accepts).
    cut_at: Option<Instant>,
    cut_rate: f64,
    window_start: Option<Instant>,
    window_successes: f64,
    /// The success rate of the last full window.
    measured: Option<f64>,
}

/// How much an adaptive rate grows back per second without a refusal: 5% of the rate it was
/// set to.
const ADAPTIVE_GROWTH: f64 = 0.05;
/// After a refusal the rate is this share of what the server accepted.
const CUT_TO: f64 = 0.9;
/// Successes are counted over windows this long.
const WINDOW: Duration = Duration::from_secs(1);
/// The shortest stretch a first measurement is taken over.
const MIN_WINDOW: Duration = Duration::from_millis(100);
/// Refusals within this time of a cut are the same overload: they cut once.
const CUT_COOLDOWN: Duration = Duration::from_millis(200);
/// An adaptive rate never goes below this (requests per second).
const MIN_RATE: f64 = 0.5;

/// The burst a rate gets unless told otherwise: a twentieth of a second's worth, at least 1.
fn default_burst(per_second: f64) -> u32 {
    // `as` saturates: a rate of `u32::MAX` per second gives `u32::MAX / 20`.
    ((per_second / 20.0).floor() as u32).max(1)
}

impl Limiter {
    /// `None` when nothing is limited (then calls skip the limiter entirely).
    pub(crate) fn new(rate: Option<RateLimit>, in_flight: Option<u32>) -> Result<Option<Limiter>> {
        if let Some(rate) = &rate {
            rate.check()?;
        }
        if in_flight == Some(0) {
            return Err(Error::config(
                ConfigKind::Limits,
                "max_in_flight(0) would never send a request",
            ));
        }
        if rate.is_none() && in_flight.is_none() {
            return Ok(None);
        }
        let rate = rate.map(|r| {
            let (rate, burst, adaptive) = match r {
                RateLimit::Fixed { requests, per, burst } => {
                    (f64::from(requests) / per.as_secs_f64(), f64::from(burst), false)
                }
                RateLimit::Adaptive => (f64::INFINITY, 1.0, true),
            };
            Rate {
                turn: tokio::sync::Mutex::new(()),
                queued: AtomicUsize::new(0),
                bucket: Mutex::new(Bucket {
                    rate,
                    burst,
                    tokens: burst,
                    last: Instant::now(),
                    cut_at: None,
                    cut_rate: rate,
                    window_start: None,
                    window_successes: 0.0,
                    measured: None,
                }),
                adaptive,
            }
        });
        let in_flight = in_flight.map(|n| Semaphore::new((n as usize).min(Semaphore::MAX_PERMITS)));
        Ok(Some(Limiter { rate, in_flight }))
    }

    /// A place in flight and a token, if both are at hand and nobody is queued: no future,
    /// no timer (the common case of a limit that is not reached). `now` is the caller's
    /// reading of the clock: an earlier one than the bucket's last only refills nothing.
    pub(crate) fn try_admit(&self, now: Instant) -> Option<Admission<'_>> {
        let permit = match &self.in_flight {
            Some(s) => Some(s.try_acquire().ok()?),
            None => None,
        };
        if let Some(rate) = &self.rate
            && !rate.try_take(now)
        {
            return None;
        }
        Some(Admission {
            _permit: permit,
            waited: Duration::ZERO,
        })
    }

    /// Waits for a place in flight and a token of the rate. Dropping the future at any
    /// point gives back whatever it held.
    pub(crate) async fn admit(&self) -> Admission<'_> {
        let started = Instant::now();
        // The place in flight first: a request that waits for one must not hold a token
        // meanwhile.
        let permit = match &self.in_flight {
            // The semaphore is never closed.
            Some(s) => s.acquire().await.ok(),
            None => None,
        };
        if let Some(rate) = &self.rate {
            rate.take().await;
        }
        Admission {
            _permit: permit,
            waited: started.elapsed(),
        }
    }

    /// What the server said to one request: `throttled` for a `429`, or a `503` with
    /// `Retry-After`.
    pub(crate) fn feedback(&self, throttled: bool) {
        if let Some(rate) = &self.rate
            && rate.adaptive
        {
            rate.bucket().feedback(throttled, Instant::now());
        }
    }

    /// The rate in force, in requests per second (`None`: not limited).
    #[cfg(test)]
    pub(crate) fn current_rate(&self) -> Option<f64> {
        let rate = self.rate.as_ref()?;
        let now = Instant::now();
        Some(rate.bucket().rate_at(now)).filter(|r| r.is_finite())
    }
}

impl Rate {
    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token if one is at hand and nobody is queued for one.
    fn try_take(&self, now: Instant) -> bool {
        self.queued.load(Ordering::Acquire) == 0 && self.bucket().try_take(now).is_none()
    }

    async fn take(&self) {
        if self.try_take(Instant::now()) {
            return;
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let _queued = Queued(&self.queued);
        let _turn = self.turn.lock().await;
        loop {
            let wait = self.bucket().try_take(Instant::now());
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

impl Bucket {
    /// The adaptive rate at `now`: the rate set at the last cut, grown since.
    fn rate_at(&self, now: Instant) -> f64 {
        match self.cut_at {
            Some(at) => {
                let since = now.saturating_duration_since(at).as_secs_f64();
                self.cut_rate * (1.0 + ADAPTIVE_GROWTH * since)
            }
            None => self.rate,
        }
    }

    /// Takes a token at `now`, or says how long until one is there.
    fn try_take(&mut self, now: Instant) -> Option<Duration> {
        let rate = self.rate_at(now);
        self.rate = rate;
        if !rate.is_finite() {
            return None;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(self.burst);
        // Never back: a caller's reading older than the last would count its time twice.
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return None;
        }
        // At least a millisecond: the timer's grain, and no busy loop on rounding.
        let secs = (1.0 - self.tokens) / rate;
        Some(Duration::try_from_secs_f64(secs).map_or(MAX_PERIOD, |d| d.max(Duration::from_millis(1))))
    }

    fn feedback(&mut self, throttled: bool, now: Instant) {
        let start = *self.window_start.get_or_insert(now);
        let mut elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            self.measured = Some(self.window_successes / elapsed.as_secs_f64());
            self.window_start = Some(now);
            self.window_successes = 0.0;
            elapsed = Duration::ZERO;
        }
        if !throttled {
            self.window_successes += 1.0;
        }
        if !throttled {
            return;
        }
        if let Some(at) = self.cut_at
            && now.saturating_duration_since(at) < CUT_COOLDOWN
        {
            return;
        }
        // What the server accepted: the last full window's rate, or the current window's
        // over at least `MIN_WINDOW`.
        let current = self.window_successes / elapsed.max(MIN_WINDOW).as_secs_f64();
        let accepted = match self.measured {
            Some(m) if elapsed < WINDOW / 2 => m,
            _ => current,
        };
        // A little under it, so that the server's own bucket fills again.
        let next = (CUT_TO * accepted.min(self.rate_at(now))).max(MIN_RATE);
        self.cut_at = Some(now);
        self.cut_rate = next;
        self.rate = next;
        self.burst = f64::from(default_burst(next));
        self.tokens = 0.0;
        self.last = now;
    }
}

#[cfg(test)]
mod tests;
