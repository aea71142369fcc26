//! The attempt loop: credentials for each attempt, timeouts, the retry decision, a refresh
//! after a `401`, and the number of requests sent.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use serde::de::DeserializeOwned;

use reqwest::StatusCode;

use super::*;
use crate::auth::{Credential, CredentialStep};
use crate::error::{Error, ErrorKind, Result, TimeoutPhase, TransportKind};
use crate::observe::{AttemptRecord, CallRecord, RetryDecision};
use crate::retry::{self, Decision, Outcome};

impl<'c> Call<'c> {
    /// Sends and decodes a JSON body into `T`.
    pub(crate) async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.exchange().await?.json()
    }

    /// Sends and ignores a success body.
    pub(crate) async fn send_empty(self) -> Result<()> {
        self.exchange().await.map(drop)
    }

    /// Sends and returns the success response as it came.
    pub(crate) async fn send_raw(self) -> Result<RawResponse> {
        self.exchange().await
    }

    /// The call, in its span. It borrows the call, so that each of the `send` methods above
    /// holds the call once in its state rather than once per layer; and it is no `async fn`,
    /// which would be one more level of state, copied whole when the level above creates it.
    fn exchange(&self) -> impl Future<Output = Result<RawResponse>> + '_ {
        #[cfg(feature = "tracing")]
        {
            use tracing::Instrument;
            // OpenTelemetry's HTTP client names, and the crate's own under `userapi.`.
            let span = tracing::debug_span!(
                "userapi.request",
                userapi.operation = self.operation,
                http.request.method = %self.method,
                url.template = %self.target.route,
                server.address = self.url.host_str().unwrap_or_default(),
                server.port = self.url.port_or_known_default(),
                http.response.status_code = tracing::field::Empty,
                error.r#type = tracing::field::Empty,
                userapi.attempts = tracing::field::Empty,
                userapi.latency_ms = tracing::field::Empty,
            );
            self.send_timed().instrument(span)
        }
        #[cfg(not(feature = "tracing"))]
        self.send_timed()
    }

    async fn send_timed(&self) -> Result<RawResponse> {
        self.client.keep_timer_pending();
        // tokio's clock, as every timer's: with the clock paused (in a test), deadlines and
        // latencies follow it.
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let result = self.run(started, &mut waited).await;
        #[cfg(feature = "tracing")]
        {
            let span = tracing::Span::current();
            span.record("userapi.latency_ms", started.elapsed().as_millis() as u64);
            match &result {
                Ok(response) => {
                    span.record("http.response.status_code", response.status.as_u16());
                }
                Err(err) => {
                    match err.status() {
                        Some(status) => {
                            span.record("http.response.status_code", status.as_u16());
                            span.record("error.type", status.as_str());
                        }
                        None => {
                            span.record("error.type", err.kind_name());
                        }
                    }
                    // The error's kind only: its text may quote the server's body.
                    tracing::debug!(error.kind = err.kind_name(), "request failed");
                }
            }
        }
        if self.client.shared.observer.is_some() || cfg!(feature = "metrics") {
            let (status, attempts, error) = match &result {
                Ok(r) => (Some(r.status), r.attempts, None),
                Err(e) => (e.status(), e.attempts(), Some(e.kind_name())),
            };
            let record = CallRecord {
                operation: self.operation,
                method: &self.method,
                route: &self.target.route,
                status,
                attempts,
                latency: started.elapsed(),
                error,
                limiter_wait: waited,
            };
            if let Some(observer) = &self.client.shared.observer {
                observer.on_call(&record);
            }
            #[cfg(feature = "metrics")]
            crate::observe::record_metrics(&record);
        }
        result
    }

    /// Attempts until success, a decision to stop, or the total timeout. Every request sent
    /// is counted in the result's `attempts`, replays after a credential refresh included.
    /// `waited` adds up the time spent waiting for the client's limits.
    async fn run(&self, started: Instant, waited: &mut Duration) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let shared = &self.client.shared;
        let total = settings.timeouts.total().unwrap_or(Duration::MAX);
        // `None`: no total limit (a timeout too long to add to the clock).
        let end = settings.timeouts.total().and_then(|t| started.checked_add(t));
        let mut attempt = 1;
        let mut sent: u32 = 0;
        let mut refreshed = false;
        // What this call's retries took from the retry budget (given back on success).
        let mut spent: u32 = 0;
        // Whether a retried attempt may have been applied (it timed out, or got a 5xx).
        let mut unanswered = false;
        // The credential a refresh gave, for the next attempt. Boxed: a refresh is rare, and
        // in line it would take a credential's room in the call's state at every wait.
        let mut replay: Option<Box<Credential>> = None;
        // Whether nothing has been waited for since `started`: then the first attempt starts
        // at that reading of the clock rather than a new one.
        let mut fresh = true;
        loop {
            // A value used for one step only is bound in a block of its own (or, for a
            // temporary, in a statement of its own), so that the call's state keeps it
            // across no wait but its own: a local that is still in scope, or was ever
            // borrowed, is kept across every wait after it, and each level above holds the
            // whole state.
            let credential = 'credential: {
                let fetch = match (replay.take(), &self.auth_override) {
                    (Some(c), _) => break 'credential *c,
                    (None, Some(c)) => break 'credential c.clone(),
                    (None, None) => match self.client.credential(&self.target) {
                        Ok(CredentialStep::Ready(c)) => break 'credential c,
                        Ok(CredentialStep::Later(fetch)) => {
                            fresh = false;
                            fetch
                        }
                        Err(err) => return Err(with_attempts(err, sent)),
                    },
                };
                match Box::pin(within(end, fetch)).await {
                    Some(Ok(c)) => c,
                    // A login made for this call sent requests on its behalf.
                    Some(Err(err)) => {
                        let made = err.attempts();
                        return Err(with_attempts(err, sent.saturating_add(made)));
                    }
                    None => return Err(with_attempts(self.timeout(TimeoutPhase::Total, total), sent)),
                }
            };
            let (err, limiter_wait, attempt_started) = {
                // When this attempt starts: one reading of the clock serves the limiter, the
                // attempt's deadline and the observer.
                let mut now = if fresh { started } else { Instant::now() };
                fresh = false;
                // The client's limits: the wait counts against the total timeout, and the
                // place taken is held until this attempt is over.
                let admission = match &shared.limiter {
                    Some(limiter) => 'admitted: {
                        if let Some(admission) = limiter.try_admit(now) {
                            break 'admitted Some(admission);
                        }
                        let admitted = Box::pin(within(end, limiter.admit())).await;
                        now = Instant::now();
                        match admitted {
                            Some(admission) => Some(admission),
                            None => {
                                return Err(with_attempts(self.timeout(TimeoutPhase::Total, total), sent));
                            }
                        }
                    }
                    None => None,
                };
                let limiter_wait = admission.as_ref().map_or(Duration::ZERO, |a| a.waited);
                *waited += limiter_wait;
                #[cfg(feature = "tracing")]
                tracing::Span::current().record("userapi.attempts", sent + 1);
                let attempt_end = settings.timeouts.attempt().and_then(|d| now.checked_add(d));
                let (deadline, phase, limit) = match (attempt_end, end) {
                    (Some(a), Some(e)) if e <= a => (Some(e), TimeoutPhase::Total, total),
                    (None, Some(e)) => (Some(e), TimeoutPhase::Total, total),
                    (a, _) => (
                        a,
                        TimeoutPhase::Attempt,
                        settings.timeouts.attempt().unwrap_or(Duration::MAX),
                    ),
                };
                sent += 1;
                // The attempt and its timer in one box: in line, the attempt's state (776
                // bytes) made every level above it that much larger.
                let result = match deadline {
                    Some(deadline) => {
                        let attempt = tokio::time::timeout_at(deadline, self.attempt(&credential));
                        match Box::pin(attempt).await {
                            Ok(result) => result,
                            Err(_) => Err(self.timeout(phase, limit)),
                        }
                    }
                    // No limit: no timer at all.
                    None => Box::pin(self.attempt(&credential)).await,
                };
                drop(admission);
                if let Some(limiter) = &shared.limiter {
                    limiter.feedback(throttled(&result));
                }
                match result {
                    Ok(mut response) => {
                        response.attempts = sent;
                        shared.budget.succeeded(spent);
                        self.observe_attempt(sent, now, Some(response.status), None, None, limiter_wait);
                        return Ok(response);
                    }
                    Err(err) => (err, limiter_wait, now),
                }
            };
            let (decision, exhausted, maybe_applied) = {
                let remaining = end.map(|e| e.saturating_duration_since(Instant::now()));
                let refreshable = self.auth_override.is_none()
                    && !refreshed
                    && (shared.auth.can_refresh() || self.client.auth_generation() != credential.generation);
                let outcome = outcome_of(&err);
                let mut decision = retry::decide(
                    &settings.retry,
                    retry::Attempt {
                        number: attempt,
                        idempotent: self.idempotent,
                        refreshable,
                    },
                    outcome,
                    remaining,
                    retry::jitter(),
                );
                let mut exhausted = false;
                if let Decision::Retry(_) = decision {
                    match shared.budget.spend(outcome == Outcome::AttemptTimeout) {
                        Some(cost) => spent = spent.saturating_add(cost),
                        None => {
                            exhausted = true;
                            decision = Decision::Stop;
                        }
                    }
                }
                // Whether the request may have been acted on: it timed out, or got a 5xx.
                let maybe_applied = match outcome {
                    Outcome::AttemptTimeout => true,
                    Outcome::Status { status, .. } => status.is_server_error(),
                    _ => false,
                };
                (decision, exhausted, maybe_applied)
            };
            if shared.observer.is_some() {
                let decision = match decision {
                    Decision::Retry(wait) => RetryDecision::Retry { wait },
                    Decision::Refresh => RetryDecision::Refresh,
                    Decision::Stop if exhausted => RetryDecision::BudgetExhausted,
                    Decision::Stop => RetryDecision::Stop,
                };
                let kind = Some(err.kind_name());
                self.observe_attempt(
                    sent,
                    attempt_started,
                    err.status(),
                    kind,
                    Some(decision),
                    limiter_wait,
                );
            }
            match decision {
                Decision::Refresh => {
                    refreshed = true;
                    let fresh = Box::pin(within(
                        end,
                        self.client.refreshed_credential(&self.target, &credential),
                    ))
                    .await;
                    match fresh {
                        Some(Ok(c)) => replay = Some(Box::new(c)),
                        Some(Err(refresh_err)) => {
                            let made = refresh_err.attempts();
                            return Err(with_attempts(refresh_err, sent.saturating_add(made)));
                        }
                        None => return Err(with_attempts(self.timeout(TimeoutPhase::Total, total), sent)),
                    }
                }
                Decision::Retry(wait) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(
                        attempt,
                        status = err.status().map(|s| s.as_u16()),
                        error.kind = err.kind_name(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    unanswered |= maybe_applied;
                    Box::pin(tokio::time::sleep(wait)).await;
                    attempt += 1;
                }
                Decision::Stop => {
                    let mut err = with_attempts(err, sent);
                    if exhausted {
                        err.set_budget_exhausted();
                    }
                    if let Some(e) = err.http_mut() {
                        e.after_unanswered = unanswered;
                    }
                    return Err(err);
                }
            }
        }
    }
}

impl Call<'_> {
    /// Tells the observer, if there is one, about one attempt.
    fn observe_attempt(
        &self,
        attempt: u32,
        started: Instant,
        status: Option<StatusCode>,
        error: Option<&'static str>,
        decision: Option<RetryDecision>,
        limiter_wait: Duration,
    ) {
        if let Some(observer) = &self.client.shared.observer {
            observer.on_attempt(&AttemptRecord {
                operation: self.operation,
                method: &self.method,
                route: &self.target.route,
                attempt,
                status,
                latency: started.elapsed(),
                error,
                decision,
                limiter_wait,
            });
        }
    }
}

/// Whether an attempt's answer asks the client to slow down: a `429`, or a `503` with
/// `Retry-After`.
fn throttled(result: &Result<RawResponse>) -> bool {
    match result {
        Ok(_) => false,
        Err(err) => match err.status() {
            Some(StatusCode::TOO_MANY_REQUESTS) => true,
            Some(StatusCode::SERVICE_UNAVAILABLE) => err.retry_after().is_some(),
            _ => false,
        },
    }
}

/// Runs `f` until `deadline`; `None` when the deadline came first. No deadline: no timer.
pub(super) async fn within<F: std::future::Future>(
    deadline: Option<tokio::time::Instant>,
    f: F,
) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, f).await.ok(),
        None => Some(f.await),
    }
}

pub(super) fn outcome_of(err: &Error) -> Outcome {
    match err.kind() {
        ErrorKind::Http(e) => Outcome::Status {
            status: e.status,
            retry_after: e.retry_after,
            dont_retry: e.dont_retry,
        },
        // `TransportKind::Tls` is not transient: it falls to `Fatal`.
        ErrorKind::Transport(e) if e.kind == TransportKind::Connect => Outcome::Connect,
        ErrorKind::Timeout(e) if e.phase != TimeoutPhase::Total => Outcome::AttemptTimeout,
        _ => Outcome::Fatal,
    }
}

pub(super) fn with_attempts(mut err: Error, attempts: u32) -> Error {
    err.set_attempts(attempts);
    err
}
