//! Client-side limits shared by a client and all its clones: a request rate ([`RateLimit`],
//! fixed or adaptive) and a cap on requests in flight.
//!
//! The rate is kept on tokio's clock: a fixed rate as the time the next request is due (one
//! atomic word, taken without a lock), an adaptive one as a token bucket that learns. Waiters
//! queue in order behind one fair lock and only the one at the front sleeps, so a waiter that
//! is dropped takes nothing with it: no request's place in the rate is taken before it really
//! goes out, and no place in the queue is held by a call that gave up. (A reservation scheme
//! would leave a hole where a cancelled caller stood, or let two requests share one slot.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    pace: Pace,
}

enum Pace {
    Fixed(Schedule),
    Adaptive(Mutex<Bucket>),
}

/// A fixed rate as the time the next request is due (the "generic cell rate algorithm"): a
/// request may go while that time is at most `burst` intervals ahead of the clock, and moves
/// it one interval on (from now, if it lies in the past). The same requests go through as
/// with a token bucket of `burst` tokens refilled at the rate, but taking one is a single
/// compare-and-swap, with no lock.
struct Schedule {
    /// When the next request is due, in ticks since `origin`.
    due: AtomicU64,
    origin: Instant,
    /// Ticks between two requests at the rate: rounded up, so never faster than asked.
    interval: u64,
    /// How far ahead of the clock `due` may run: `burst` intervals (saturating: fewer, never
    /// more).
    ahead: u64,
    /// The rate as it was set, in requests per second.
    #[cfg(test)]
    per_second: f64,
}

/// Ticks in a nanosecond: fine enough for a rate of four billion a second to keep an
/// interval of its own, coarse enough for `u64` ticks to last 36 years.
const TICKS_PER_NANO: u64 = 16;

/// One place in the queue, given back when dropped (a call that gives up included).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An adaptive rate: a token bucket whose rate is learnt from the server's refusals.
struct Bucket {
    /// Requests per second; infinite until the first refusal.
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
            let pace = match r {
                RateLimit::Fixed { requests, per, burst } => Pace::Fixed(Schedule::new(requests, per, burst)),
                RateLimit::Adaptive => Pace::Adaptive(Mutex::new(Bucket {
                    rate: f64::INFINITY,
                    burst: 1.0,
                    tokens: 1.0,
                    last: Instant::now(),
                    cut_at: None,
                    cut_rate: f64::INFINITY,
                    window_start: None,
                    window_successes: 0.0,
                    measured: None,
                })),
            };
            Rate {
                turn: tokio::sync::Mutex::new(()),
                queued: AtomicUsize::new(0),
                pace,
            }
        });
        let in_flight = in_flight.map(|n| Semaphore::new((n as usize).min(Semaphore::MAX_PERMITS)));
        Ok(Some(Limiter { rate, in_flight }))
    }

    /// A place in flight and a token, if both are at hand and nobody is queued: no future,
    /// no timer (the common case of a limit that is not reached). `now` is the caller's
    /// reading of the clock: one older than another caller's since only refills nothing.
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
        if let Some(Rate {
            pace: Pace::Adaptive(bucket),
            ..
        }) = &self.rate
        {
            lock(bucket).feedback(throttled, Instant::now());
        }
    }

    /// The rate in force, in requests per second (`None`: not limited).
    #[cfg(test)]
    pub(crate) fn current_rate(&self) -> Option<f64> {
        match &self.rate.as_ref()?.pace {
            Pace::Fixed(schedule) => Some(schedule.per_second),
            Pace::Adaptive(bucket) => Some(lock(bucket).rate_at(Instant::now())).filter(|r| r.is_finite()),
        }
    }
}

fn lock(bucket: &Mutex<Bucket>) -> std::sync::MutexGuard<'_, Bucket> {
    bucket.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pace {
    /// Takes a request's place at `now`, or says how long until there is one.
    fn try_take(&self, now: Instant) -> Option<Duration> {
        match self {
            Pace::Fixed(schedule) => schedule.try_take(now),
            Pace::Adaptive(bucket) => lock(bucket).try_take(now),
        }
    }
}

impl Schedule {
    fn new(requests: u32, per: Duration, burst: u32) -> Self {
        // A period is at most a day (checked before): 1.4e15 ticks, so an interval fits.
        let period = per.as_nanos().saturating_mul(u128::from(TICKS_PER_NANO));
        let interval = period.div_ceil(u128::from(requests.max(1))).max(1);
        let interval = u64::try_from(interval).unwrap_or(u64::MAX);
        Schedule {
            due: AtomicU64::new(0),
            origin: Instant::now(),
            interval,
            ahead: interval.saturating_mul(u64::from(burst)),
            #[cfg(test)]
            per_second: f64::from(requests) / per.as_secs_f64(),
        }
    }

    /// `now` in ticks since the schedule began (an earlier reading counts as its start).
    fn ticks(&self, now: Instant) -> u64 {
        let nanos = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.saturating_mul(u128::from(TICKS_PER_NANO))).unwrap_or(u64::MAX)
    }

    fn try_take(&self, now: Instant) -> Option<Duration> {
        let now = self.ticks(now);
        let mut due = self.due.load(Ordering::Acquire);
        loop {
            // Due no earlier than now: time that passed unused refills up to `burst`. A
            // reading older than another caller's only makes the check stricter.
            let next = due.max(now).saturating_add(self.interval);
            let early = next - now;
            if early > self.ahead {
                // At least a millisecond: the timer's grain, and no busy loop on rounding.
                let wait = Duration::from_nanos((early - self.ahead).div_ceil(TICKS_PER_NANO));
                return Some(wait.max(Duration::from_millis(1)));
            }
            match self
                .due
                .compare_exchange_weak(due, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return None,
                Err(seen) => due = seen,
            }
        }
    }
}

impl Rate {
    /// Takes a token if one is at hand and nobody is queued for one.
    fn try_take(&self, now: Instant) -> bool {
        self.queued.load(Ordering::Acquire) == 0 && self.pace.try_take(now).is_none()
    }

    async fn take(&self) {
        if self.try_take(Instant::now()) {
            return;
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let _queued = Queued(&self.queued);
        let _turn = self.turn.lock().await;
        loop {
            let wait = self.pace.try_take(Instant::now());
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
