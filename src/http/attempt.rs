//! The attempt loop: credentials for each attempt, timeouts, the retry decision, a refresh
//! after a `401`, and the number of requests sent.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::*;
use crate::auth::{Credential, CredentialStep};
use crate::error::{Error, ErrorKind, Result, TimeoutPhase, TransportKind};
use crate::retry::{self, Decision, Outcome};

impl<'c> Call<'c> {
    /// Sends and decodes a JSON body into `T`.
    pub(crate) async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.send_raw().await?.json()
    }

    /// Sends and ignores a success body.
    pub(crate) async fn send_empty(self) -> Result<()> {
        self.send_raw().await.map(drop)
    }

    /// Sends and returns the success response as it came.
    pub(crate) async fn send_raw(self) -> Result<RawResponse> {
        #[cfg(feature = "tracing")]
        {
            use tracing::Instrument;
            let span = tracing::debug_span!(
                "userapi.request",
                operation = self.operation,
                method = %self.method,
                route = %self.target.route,
                status = tracing::field::Empty,
                attempts = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            );
            self.send_timed().instrument(span).await
        }
        #[cfg(not(feature = "tracing"))]
        self.send_timed().await
    }

    async fn send_timed(self) -> Result<RawResponse> {
        let started = Instant::now();
        let result = self.run(started).await;
        #[cfg(feature = "tracing")]
        {
            let span = tracing::Span::current();
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            match &result {
                Ok(response) => {
                    span.record("status", response.status.as_u16());
                }
                Err(err) => {
                    if let Some(status) = err.status() {
                        span.record("status", status.as_u16());
                    }
                    // The error's kind only: its text may quote the server's body.
                    tracing::debug!(error.kind = err.kind_name(), "request failed");
                }
            }
        }
        result
    }

    /// Attempts until success, a decision to stop, or the total timeout. Every request sent
    /// is counted in the result's `attempts`, replays after a credential refresh included.
    async fn run(&self, started: Instant) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let total = settings.timeouts.total().unwrap_or(Duration::MAX);
        // `None`: no total limit (a timeout too long to add to the clock).
        let end = settings
            .timeouts
            .total()
            .and_then(|t| tokio::time::Instant::from_std(started).checked_add(t));
        let mut attempt = 1;
        let mut sent: u32 = 0;
        let mut refreshed = false;
        // Whether a retried attempt may have been applied (it timed out, or got a 5xx).
        let mut unanswered = false;
        let mut replay: Option<Credential> = None;
        loop {
            let credential = match (replay.take(), &self.auth_override) {
                (Some(c), _) => c,
                (None, Some(c)) => c.clone(),
                (None, None) => match self.client.credential(&self.target) {
                    Ok(CredentialStep::Ready(c)) => c,
                    Ok(CredentialStep::Later(fetch)) => match within(end, fetch).await {
                        Some(Ok(c)) => c,
                        // A login made for this call sent requests on its behalf.
                        Some(Err(err)) => {
                            let made = err.attempts();
                            return Err(with_attempts(err, sent.saturating_add(made)));
                        }
                        None => return Err(with_attempts(self.timeout(TimeoutPhase::Total, total), sent)),
                    },
                    Err(err) => return Err(with_attempts(err, sent)),
                },
            };
            #[cfg(feature = "tracing")]
            tracing::Span::current().record("attempts", sent + 1);
            let attempt_end = settings
                .timeouts
                .attempt()
                .and_then(|d| tokio::time::Instant::now().checked_add(d));
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
            // `timeout_at` directly on the attempt (no wrapper future holding it twice); with
            // no limit, no timer at all.
            let result = match deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, self.attempt(&credential)).await {
                    Ok(result) => result,
                    Err(_) => Err(self.timeout(phase, limit)),
                },
                None => self.attempt(&credential).await,
            };
            let err = match result {
                Ok(mut response) => {
                    response.attempts = sent;
                    return Ok(response);
                }
                Err(err) => err,
            };
            let remaining = end.map(|e| e.saturating_duration_since(tokio::time::Instant::now()));
            let refreshable = self.auth_override.is_none()
                && !refreshed
                && (self.client.shared.auth.can_refresh()
                    || self.client.auth_generation() != credential.generation);
            let outcome = outcome_of(&err);
            let decision = retry::decide(
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
            match decision {
                Decision::Refresh => {
                    refreshed = true;
                    let fresh =
                        within(end, self.client.refreshed_credential(&self.target, &credential)).await;
                    match fresh {
                        Some(Ok(c)) => replay = Some(c),
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
                    unanswered |= match outcome {
                        Outcome::AttemptTimeout => true,
                        Outcome::Status { status, .. } => status.is_server_error(),
                        _ => false,
                    };
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Decision::Stop => {
                    let mut err = with_attempts(err, sent);
                    if let Some(e) = err.http_mut() {
                        e.after_unanswered = unanswered;
                    }
                    return Err(err);
                }
            }
        }
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
