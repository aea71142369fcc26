//! Watching calls: the [`Observer`] hook, and the `metrics` feature's instruments.
//!
//! What an observer is shown is safe to keep anywhere: the operation's name, the method, the
//! route template (`/api/user/{id}`, never the path with its ids), the status, the attempt's
//! number, latencies, the error's kind, the retry decision and the time spent waiting for
//! the client's limiter. Never a credential, a header, a query or a body.

use std::time::Duration;

use reqwest::{Method, StatusCode};

/// A read-only hook called once per attempt and once per finished call, set with
/// [`ClientBuilder::observer`](crate::ClientBuilder::observer) and shared by every clone of
/// the client.
///
/// It runs on the task of the call, between attempts: keep it short (count, push to a
/// channel), and do not block.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use userapi::observe::{CallRecord, Observer};
///
/// #[derive(Default)]
/// struct Failures(AtomicU32);
///
/// impl Observer for Failures {
///     fn on_call(&self, call: &CallRecord<'_>) {
///         if call.error.is_some() {
///             self.0.fetch_add(1, Ordering::Relaxed);
///             eprintln!("{} {} failed after {} attempts", call.method, call.route, call.attempts);
///         }
///     }
/// }
/// let client = userapi::Client::builder()
///     .base_url("https://metabase.example.com/")
///     .observer(Failures::default())
///     .build()?;
/// # Ok::<(), userapi::Error>(())
/// ```
pub trait Observer: Send + Sync + 'static {
    /// One request went out and came back (or failed): called before the retry wait.
    fn on_attempt(&self, attempt: &AttemptRecord<'_>) {
        let _ = attempt;
    }

    /// A call finished, successfully or not.
    fn on_call(&self, call: &CallRecord<'_>) {
        let _ = call;
    }
}

/// One attempt, as an [`Observer`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptRecord<'a> {
    /// The operation's stable name (`metabase::get_user`).
    pub operation: &'a str,
    /// The HTTP method.
    pub method: &'a Method,
    /// The route template, ids as placeholders (`/api/user/{id}`).
    pub route: &'a str,
    /// 1 for the first request of the call; a replay after a credential refresh counts too.
    pub attempt: u32,
    /// The status the server answered, if it answered.
    pub status: Option<StatusCode>,
    /// From sending to the end of the body (or the failure), on tokio's clock as the
    /// timeouts are (with the clock paused in a test, the virtual time).
    pub latency: Duration,
    /// What kind of failure it was (`"http"`, `"timeout"`, `"transport"`, …), if it failed.
    pub error: Option<&'static str>,
    /// What the call does next, if the attempt failed.
    pub decision: Option<RetryDecision>,
    /// How long this attempt waited for the client's rate limit and in-flight cap.
    pub limiter_wait: Duration,
}

/// A finished call, as an [`Observer`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CallRecord<'a> {
    /// The operation's stable name (`metabase::get_user`).
    pub operation: &'a str,
    /// The HTTP method.
    pub method: &'a Method,
    /// The route template, ids as placeholders (`/api/user/{id}`).
    pub route: &'a str,
    /// The last status the server answered, if any.
    pub status: Option<StatusCode>,
    /// Requests sent for the call (as [`Error::attempts`](crate::Error::attempts)).
    pub attempts: u32,
    /// The whole call: attempts, waits, a login made for it (on tokio's clock, as above).
    pub latency: Duration,
    /// What kind of failure ended it, if it failed.
    pub error: Option<&'static str>,
    /// Time spent waiting for the client's limits, over all attempts.
    pub limiter_wait: Duration,
}

/// What the call did after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Tries again after this wait.
    Retry {
        /// The backoff, or the server's `Retry-After`.
        wait: Duration,
    },
    /// Replays at once with a fresh credential (after a `401`).
    Refresh,
    /// Stops: the failure is not one to retry, or attempts or time ran out.
    Stop,
    /// Stops although the failure could be retried: the client's
    /// [`RetryBudget`](crate::RetryBudget) is empty.
    BudgetExhausted,
}

/// The class of a status for metric labels: `2xx` … `5xx`, or `none` when no answer came.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) fn status_class(status: Option<StatusCode>) -> &'static str {
    match status.map(|s| s.as_u16() / 100) {
        Some(1) => "1xx",
        Some(2) => "2xx",
        Some(3) => "3xx",
        Some(4) => "4xx",
        Some(5) => "5xx",
        _ => "none",
    }
}

/// The `metrics` feature: OpenTelemetry's `http.client.request.duration` (a histogram in
/// seconds) and `userapi.client.attempts` (a counter of requests sent), each labelled with
/// `userapi.operation`, `http.request.method`, `url.template` and `http.response.status_class`.
/// Labels come from route templates and fixed names only, so their number is bounded by the
/// endpoints the crate has.
#[cfg(feature = "metrics")]
pub(crate) fn record_metrics(call: &CallRecord<'_>) {
    let labels = [
        ("userapi.operation", call.operation.to_owned()),
        ("http.request.method", call.method.as_str().to_owned()),
        ("url.template", call.route.to_owned()),
        ("http.response.status_class", status_class(call.status).to_owned()),
    ];
    metrics::histogram!(DURATION, &labels).record(call.latency.as_secs_f64());
    metrics::counter!(ATTEMPTS, &labels).increment(u64::from(call.attempts));
}

/// The name of the call-duration histogram (seconds), as OpenTelemetry names it.
#[cfg(feature = "metrics")]
pub const DURATION: &str = "http.client.request.duration";
/// The name of the counter of requests sent.
#[cfg(feature = "metrics")]
pub const ATTEMPTS: &str = "userapi.client.attempts";
