//! When to try a request again, and how long to wait first.
//!
//! [`RetryPolicy`] holds the knobs; [`decide`] is the whole decision as a pure function of
//! the policy, the attempt, the operation's idempotency, what went wrong and a jitter value,
//! so that it can be tested with a table.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;

/// How often and how patiently a call is retried.
///
/// Defaults: 3 attempts in all, exponential backoff from 200 ms capped at 20 s, with full
/// jitter (each wait is uniform between zero and the exponential value). A `Retry-After`
/// from the server (seconds or an HTTP date) replaces the backoff; when it asks for longer
/// than `max_delay`, or longer than what is left of the total timeout, the call stops at once
/// and the error carries the wait ([`Error::retry_after`](crate::Error::retry_after)).
///
/// Only operations that are safe to repeat are retried; each endpoint declares that itself
/// (a read sent as a POST can be safe; password changes, creates and token issuing never are).
/// Retried: connection failures, per-attempt timeouts, and HTTP 429, 502, 503 and 504, unless
/// the response carries `Dont-Retry: True` or a header the service's own error reading treats
/// the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The backoff before the first retry, doubled for each further one.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The longest single wait: backoff is capped at it, and a longer `Retry-After` ends the call.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before retry number `retry` (0 for the first), for a jitter in `[0, 1)`:
    /// `jitter` times the exponential value, which is capped at `max_delay`.
    ///
    /// Never panics: the exponential value saturates at `max_delay`, a jitter outside `[0, 1]`
    /// is clamped to it (`-inf` to 0, `+inf` to 1), and a NaN jitter counts as 1, the full
    /// wait, so that a broken jitter source slows retries down instead of removing the wait.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .checked_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        if jitter.is_nan() || jitter >= 1.0 {
            return exp;
        }
        if jitter <= 0.0 {
            return Duration::ZERO;
        }
        // `exp` as f64 seconds may round up past `Duration::MAX` (then the product overflows)
        // or past `exp` itself; either way the wait is at most `exp`.
        Duration::try_from_secs_f64(exp.as_secs_f64() * jitter).map_or(exp, |d| d.min(exp))
    }
}

/// A budget for retries, shared by a client and all its clones (as the retry token bucket of
/// the AWS SDKs): each retry spends from it, each success puts a little back, and a
/// retryable failure that finds it empty is returned at once
/// ([`Error::retry_budget_exhausted`](crate::Error::retry_budget_exhausted)).
///
/// It bounds what retries add to the traffic of a failing server: with the defaults
/// (capacity 500, a retry costs 5 and a retry after a timeout 10, a success returns 1 and
/// gives back what its own retries spent) at most 100 retries go out before calls start
/// succeeding again, however many calls are made. A healthy server, where a retry is rare
/// and followed by success, never meets the limit.
///
/// ```
/// use userapi::{Client, RetryBudget};
/// let client = Client::builder()
///     .base_url("https://metabase.example.com/")
///     .retry_budget(RetryBudget::default().with_capacity(50))
///     .build()?;
/// assert_eq!(client.retry_budget().capacity(), 50);
/// assert!(Client::builder()
///     .base_url("https://metabase.example.com/")
///     .retry_budget(RetryBudget::default().with_capacity(4))
///     .build()
///     .unwrap_err()
///     .is_config());
/// # Ok::<(), userapi::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryBudget {
    enabled: bool,
    capacity: u32,
    retry_cost: u32,
    timeout_retry_cost: u32,
    success_refill: u32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            enabled: true,
            capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            success_refill: 1,
        }
    }
}

impl RetryBudget {
    /// No budget: every retry the [`RetryPolicy`] allows is made.
    pub fn disabled() -> Self {
        RetryBudget {
            enabled: false,
            ..RetryBudget::default()
        }
    }

    /// The most the budget holds, and what it starts with (default 500).
    pub fn with_capacity(mut self, n: u32) -> Self {
        self.capacity = n;
        self
    }

    /// What a retry costs (default 5).
    pub fn with_retry_cost(mut self, n: u32) -> Self {
        self.retry_cost = n;
        self
    }

    /// What a retry after a timeout costs (default 10): a server too slow to answer is the
    /// one that can least take more.
    pub fn with_timeout_retry_cost(mut self, n: u32) -> Self {
        self.timeout_retry_cost = n;
        self
    }

    /// What a success puts back (default 1), besides what its own retries spent.
    pub fn with_success_refill(mut self, n: u32) -> Self {
        self.success_refill = n;
        self
    }

    /// Whether retries draw from the budget.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The most the budget holds.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// What a retry costs.
    pub fn retry_cost(&self) -> u32 {
        self.retry_cost
    }

    /// What a retry after a timeout costs.
    pub fn timeout_retry_cost(&self) -> u32 {
        self.timeout_retry_cost
    }

    /// What a success puts back.
    pub fn success_refill(&self) -> u32 {
        self.success_refill
    }

    /// Checks the numbers: the error `build()` gives.
    pub(crate) fn check(&self) -> crate::Result<()> {
        if self.enabled && self.capacity < self.retry_cost.max(self.timeout_retry_cost) {
            return Err(crate::Error::config(
                crate::ConfigKind::Limits,
                "a retry budget smaller than the cost of one retry would never allow a retry; \
                 use RetryPolicy::none() to turn retries off",
            ));
        }
        Ok(())
    }
}

/// The budget's level, shared by a client's clones.
#[derive(Debug)]
pub(crate) struct Budget {
    config: RetryBudget,
    level: AtomicU32,
}

impl Budget {
    pub(crate) fn new(config: RetryBudget) -> Self {
        let level = AtomicU32::new(config.capacity);
        Budget { config, level }
    }

    pub(crate) fn config(&self) -> &RetryBudget {
        &self.config
    }

    /// Spends for one retry; `None` when the budget cannot pay (nothing is spent then).
    pub(crate) fn spend(&self, after_timeout: bool) -> Option<u32> {
        if !self.config.enabled {
            return Some(0);
        }
        let cost = if after_timeout {
            self.config.timeout_retry_cost
        } else {
            self.config.retry_cost
        };
        self.level
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |level| {
                level.checked_sub(cost)
            })
            .ok()
            .map(|_| cost)
    }

    /// A call succeeded after spending `spent` on its retries.
    pub(crate) fn succeeded(&self, spent: u32) {
        if !self.config.enabled {
            return;
        }
        let refill = self.config.success_refill.saturating_add(spent);
        let capacity = self.config.capacity;
        // A healthy client's budget is full: nothing to write.
        if self.level.load(Ordering::Acquire) >= capacity {
            return;
        }
        let _ = self
            .level
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |level| {
                Some(level.saturating_add(refill).min(capacity))
            });
    }

    /// What is left.
    #[cfg(test)]
    pub(crate) fn level(&self) -> u32 {
        self.level.load(Ordering::Acquire)
    }
}

/// What happened on one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The server answered with this status.
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        dont_retry: bool,
    },
    /// No connection could be made.
    Connect,
    /// The attempt's own timeout ran out.
    AttemptTimeout,
    /// Anything else (decode errors, broken bodies, refused redirects).
    Fatal,
}

/// Retry after this wait, replay once with a fresh credential, or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Retry(Duration),
    /// Get a fresh credential (or the current one, if it changed since this attempt's was
    /// taken) and replay at once. Not a retry: it does not count against `max_attempts`.
    Refresh,
    Stop,
}

/// The call as far as the decision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// 1-based number of the attempt that just failed (a replay after a refresh keeps it).
    pub(crate) number: u32,
    /// Whether the operation is safe to repeat.
    pub(crate) idempotent: bool,
    /// Whether a fresh credential can be had and none was tried yet in this call.
    pub(crate) refreshable: bool,
}

/// The retry decision. `remaining` is what is left of the total timeout, if one is set.
pub(crate) fn decide(
    policy: &RetryPolicy,
    attempt: Attempt,
    outcome: Outcome,
    remaining: Option<Duration>,
    jitter: f64,
) -> Decision {
    if !attempt.idempotent {
        return Decision::Stop;
    }
    if let Outcome::Status { status, .. } = outcome
        && status == StatusCode::UNAUTHORIZED
        && attempt.refreshable
    {
        return Decision::Refresh;
    }
    if attempt.number >= policy.max_attempts {
        return Decision::Stop;
    }
    let delay = match outcome {
        Outcome::Connect | Outcome::AttemptTimeout => policy.backoff(attempt.number - 1, jitter),
        Outcome::Status {
            status,
            retry_after,
            dont_retry,
        } => {
            if !crate::error::transient(status) || dont_retry {
                return Decision::Stop;
            }
            match retry_after {
                // Retrying before the server's time is up would only be refused again.
                Some(d) if d > policy.max_delay => return Decision::Stop,
                Some(d) => d,
                None => policy.backoff(attempt.number - 1, jitter),
            }
        }
        Outcome::Fatal => return Decision::Stop,
    };
    match remaining {
        Some(left) if delay >= left => Decision::Stop,
        _ => Decision::Retry(delay),
    }
}

/// A uniform value in `[0, 1)` for jitter; not for cryptography.
pub(crate) fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let h = RandomState::new().hash_one(n);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn status(code: u16, retry_after: Option<Duration>, dont_retry: bool) -> Outcome {
        Outcome::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after,
            dont_retry,
        }
    }

    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        let s = Duration::from_secs;
        type Row = (u32, bool, Outcome, Option<Duration>, f64, Decision);
        let table: &[Row] = &[
            // attempt, idempotent, outcome, remaining, jitter => decision
            (1, true, Outcome::Connect, None, 1.0, Decision::Retry(MS(200))),
            (2, true, Outcome::Connect, None, 1.0, Decision::Retry(MS(400))),
            (3, true, Outcome::Connect, None, 1.0, Decision::Stop),
            (1, true, Outcome::Connect, None, 0.5, Decision::Retry(MS(100))),
            (1, true, Outcome::Connect, None, 0.0, Decision::Retry(MS(0))),
            (1, false, Outcome::Connect, None, 1.0, Decision::Stop),
            (
                1,
                true,
                Outcome::AttemptTimeout,
                None,
                1.0,
                Decision::Retry(MS(200)),
            ),
            (
                1,
                true,
                status(429, None, false),
                None,
                1.0,
                Decision::Retry(MS(200)),
            ),
            (
                1,
                true,
                status(502, None, false),
                None,
                1.0,
                Decision::Retry(MS(200)),
            ),
            (
                1,
                true,
                status(503, None, false),
                None,
                1.0,
                Decision::Retry(MS(200)),
            ),
            (
                1,
                true,
                status(504, None, false),
                None,
                1.0,
                Decision::Retry(MS(200)),
            ),
            (1, true, status(500, None, false), None, 1.0, Decision::Stop),
            (1, true, status(400, None, false), None, 1.0, Decision::Stop),
            (1, true, status(401, None, false), None, 1.0, Decision::Stop),
            (1, true, status(404, None, false), None, 1.0, Decision::Stop),
            (1, false, status(503, None, false), None, 1.0, Decision::Stop),
            (1, true, status(503, None, true), None, 1.0, Decision::Stop),
            (
                1,
                true,
                status(429, Some(s(3)), false),
                None,
                0.1,
                Decision::Retry(s(3)),
            ),
            (
                1,
                true,
                status(429, Some(s(90)), false),
                None,
                0.1,
                Decision::Stop,
            ),
            (
                1,
                true,
                status(503, Some(s(20)), false),
                None,
                0.1,
                Decision::Retry(s(20)),
            ),
            (
                1,
                true,
                status(429, Some(s(3)), false),
                Some(s(2)),
                0.1,
                Decision::Stop,
            ),
            (
                1,
                true,
                status(429, Some(s(3)), false),
                Some(s(4)),
                0.1,
                Decision::Retry(s(3)),
            ),
            (1, true, Outcome::Fatal, None, 1.0, Decision::Stop),
        ];
        for (i, (number, idempotent, outcome, remaining, jitter, want)) in table.iter().enumerate() {
            let attempt = Attempt {
                number: *number,
                idempotent: *idempotent,
                refreshable: false,
            };
            let got = decide(&p, attempt, *outcome, *remaining, *jitter);
            assert_eq!(got, *want, "row {i}: {outcome:?} attempt {number}");
        }
    }

    #[test]
    fn refresh_decisions() {
        let p = RetryPolicy::default();
        let at = |number, idempotent, refreshable| Attempt {
            number,
            idempotent,
            refreshable,
        };
        let unauthorized = status(401, None, false);
        // A 401 on a call safe to repeat, with a credential that can be renewed: refresh,
        // even when no retries are left (a refresh is not a retry).
        assert_eq!(
            decide(&p, at(1, true, true), unauthorized, None, 0.5),
            Decision::Refresh
        );
        assert_eq!(
            decide(&p, at(3, true, true), unauthorized, None, 0.5),
            Decision::Refresh
        );
        assert_eq!(
            decide(&RetryPolicy::none(), at(1, true, true), unauthorized, None, 0.5),
            Decision::Refresh
        );
        // Not for writes, not twice, not for a 403, not for other failures.
        assert_eq!(
            decide(&p, at(1, false, true), unauthorized, None, 0.5),
            Decision::Stop
        );
        assert_eq!(
            decide(&p, at(1, true, false), unauthorized, None, 0.5),
            Decision::Stop
        );
        assert_eq!(
            decide(&p, at(1, true, true), status(403, None, false), None, 0.5),
            Decision::Stop
        );
        assert_eq!(
            decide(&p, at(1, true, true), status(503, None, false), None, 1.0),
            Decision::Retry(MS(200))
        );
        assert_eq!(
            decide(&p, at(1, true, true), Outcome::Fatal, None, 0.5),
            Decision::Stop
        );
    }

    #[test]
    fn waits_never_outlast_the_total() {
        let p = RetryPolicy::default();
        let at = Attempt {
            number: 1,
            idempotent: true,
            refreshable: false,
        };
        // A wait equal to what is left stops; one shorter goes ahead.
        assert_eq!(
            decide(&p, at, Outcome::Connect, Some(MS(200)), 1.0),
            Decision::Stop
        );
        assert_eq!(
            decide(&p, at, Outcome::Connect, Some(MS(201)), 1.0),
            Decision::Retry(MS(200))
        );
        // A Retry-After of Duration::MAX (beyond u64 seconds) stops at once.
        assert_eq!(
            decide(&p, at, status(429, Some(Duration::MAX), false), None, 1.0),
            Decision::Stop
        );
        // Exactly the cap is allowed; one past it is not.
        assert_eq!(
            decide(
                &p,
                at,
                status(429, Some(Duration::from_secs(20)), false),
                None,
                1.0
            ),
            Decision::Retry(Duration::from_secs(20))
        );
    }

    #[test]
    fn backoff_caps_and_never_overflows() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, 1.0), MS(200));
        assert_eq!(p.backoff(3, 1.0), MS(1600));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(20));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(20));
        assert_eq!(RetryPolicy::none().attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }

    #[test]
    fn backoff_never_panics_at_the_extremes() {
        let max = RetryPolicy::default()
            .base_delay(Duration::MAX)
            .max_delay(Duration::MAX);
        assert_eq!(max.backoff(0, 1.0), Duration::MAX);
        assert_eq!(max.backoff(u32::MAX, 1.0), Duration::MAX);
        assert_eq!(max.backoff(u32::MAX, 0.0), Duration::ZERO);
        assert!(max.backoff(0, 0.5) <= Duration::MAX);
        assert!(max.backoff(0, 0.999_999_999_999) <= Duration::MAX);
        let p = RetryPolicy::default();
        let full = p.backoff(0, 1.0);
        // Jitter outside [0, 1] is clamped; NaN counts as 1 (the full wait: a broken jitter
        // source must not turn backoff into retrying at once).
        for (jitter, want) in [
            (f64::NAN, full),
            (-f64::NAN, full),
            (f64::INFINITY, full),
            (f64::NEG_INFINITY, Duration::ZERO),
            (-0.5, Duration::ZERO),
            (-0.0, Duration::ZERO),
            (1.5, full),
            (f64::MAX, full),
            (f64::MIN_POSITIVE, Duration::ZERO),
        ] {
            assert_eq!(p.backoff(0, jitter), want, "jitter {jitter}");
            assert_eq!(
                max.backoff(u32::MAX, jitter).is_zero(),
                want.is_zero(),
                "jitter {jitter}"
            );
        }
        let tiny = RetryPolicy::default()
            .base_delay(Duration::from_nanos(1))
            .max_delay(Duration::ZERO);
        assert_eq!(tiny.backoff(u32::MAX, f64::NAN), Duration::ZERO);
    }

    proptest! {
        #[test]
        fn backoff_is_total_and_capped(
            base in duration(),
            max in duration(),
            retry in prop_oneof![0u32..70, any::<u32>()],
            jitter in prop_oneof![
                any::<f64>(),
                0.0..=1.0f64,
                prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0, 1.0, 0.0]),
            ],
        ) {
            let p = RetryPolicy::default().base_delay(base).max_delay(max);
            let wait = p.backoff(retry, jitter);
            prop_assert!(wait <= max, "{wait:?} > {max:?}");
            prop_assert!(wait <= p.backoff(retry, 1.0));
        }
    }

    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            (0u64..100_000).prop_map(Duration::from_millis),
            (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        ]
    }

    #[test]
    fn the_knobs_are_kept() {
        let p = RetryPolicy::default()
            .max_attempts(5)
            .base_delay(MS(50))
            .max_delay(Duration::from_secs(1));
        assert_eq!(p.attempts(), 5);
        assert_eq!(p.backoff(0, 1.0), MS(50));
        assert_eq!(p.backoff(2, 1.0), MS(200));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(1), "capped at max_delay");
        assert_eq!(p.backoff(2, 0.5), MS(100));
        let at = |number| Attempt {
            number,
            idempotent: true,
            refreshable: false,
        };
        assert_eq!(
            decide(&p, at(4), Outcome::Connect, None, 1.0),
            Decision::Retry(MS(400))
        );
        assert_eq!(decide(&p, at(5), Outcome::Connect, None, 1.0), Decision::Stop);
        assert_eq!(
            decide(&p, at(1), status(429, Some(MS(1500)), false), None, 1.0),
            Decision::Stop,
            "a Retry-After past this policy's max_delay"
        );
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let values: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn the_budget_pays_for_retries_until_empty_and_successes_refill_it() {
        let budget = Budget::new(RetryBudget::default().with_capacity(12).with_retry_cost(5));
        assert_eq!(budget.spend(false), Some(5));
        assert_eq!(budget.spend(false), Some(5));
        assert_eq!(budget.level(), 2);
        // Empty for a retry: nothing is taken.
        assert_eq!(budget.spend(false), None);
        assert_eq!(budget.level(), 2);
        // A timeout retry costs more (10 by default).
        assert_eq!(budget.spend(true), None);
        let timeouts = Budget::new(
            RetryBudget::default()
                .with_capacity(12)
                .with_timeout_retry_cost(4),
        );
        assert_eq!(timeouts.spend(true), Some(4));
        assert_eq!(timeouts.level(), 8);
        // Successes put back 1 each, and what their own retries spent.
        budget.succeeded(0);
        budget.succeeded(0);
        budget.succeeded(0);
        assert_eq!(budget.level(), 5);
        assert_eq!(budget.spend(false), Some(5));
        budget.succeeded(5);
        assert_eq!(budget.level(), 6);
        // Never above the capacity.
        for _ in 0..100 {
            budget.succeeded(u32::MAX);
        }
        assert_eq!(budget.level(), 12);
        // Disabled: always pays, costs nothing.
        let off = Budget::new(RetryBudget::disabled().with_capacity(0));
        for _ in 0..1000 {
            assert_eq!(off.spend(true), Some(0));
        }
    }

    #[test]
    fn a_budget_smaller_than_one_retry_is_refused() {
        assert!(RetryBudget::default().with_capacity(9).check().is_err());
        assert!(RetryBudget::default().with_capacity(10).check().is_ok());
        assert!(RetryBudget::disabled().with_capacity(0).check().is_ok());
        assert!(RetryBudget::default().with_capacity(u32::MAX).check().is_ok());
    }

    #[test]
    fn the_budget_settings_read_back_and_a_success_returns_its_refill() {
        let b = RetryBudget::default()
            .with_capacity(40)
            .with_retry_cost(3)
            .with_timeout_retry_cost(7)
            .with_success_refill(2);
        let read = |b: &RetryBudget| {
            (
                b.is_enabled(),
                b.capacity(),
                b.retry_cost(),
                b.timeout_retry_cost(),
                b.success_refill(),
            )
        };
        assert_eq!(read(&b), (true, 40, 3, 7, 2));
        assert_eq!(read(&RetryBudget::default()), (true, 500, 5, 10, 1));
        assert!(!RetryBudget::disabled().is_enabled());
        let budget = Budget::new(b.clone());
        assert_eq!(budget.config(), &b);
        assert_eq!(budget.spend(false), Some(3));
        assert_eq!(budget.spend(true), Some(7));
        assert_eq!(budget.level(), 30);
        budget.succeeded(0);
        assert_eq!(budget.level(), 32);
    }
}
