//! The one error type, [`Error`], what kind of failure it is ([`ErrorKind`]) and the detail
//! of each kind.
//!
//! Nothing here knows a service: each service module reads its own error shapes through an
//! [`ErrorHook`] that the pipeline calls after the generic reading in [`body`].

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

mod body;
mod details;
mod escape;
mod local;
mod target;
#[cfg(test)]
mod tests;

pub use body::ServiceError;
#[cfg(test)]
pub(crate) use body::bounded_json;
#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use body::{ErrorBody, ErrorHook, read_service_error};
pub use details::{
    ApiError, DecodeError, HttpError, ProtocolError, TimeoutError, TimeoutPhase, TransportError,
    TransportKind,
};
#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use escape::{Escaped, clip};
pub use local::{AuthError, BodyTooLarge, ConfigError, ConfigKind, InvalidInput};
pub use target::{FieldError, Target};

/// A boxed error from user code (a [`TokenProvider`](crate::TokenProvider), for example).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call.
///
/// One pointer wide, so a `Result` stays small on the success path. What kind of failure it
/// is, with its detail, is [`kind`](Self::kind); the method and path of the request
/// ([`target`](Self::target)) and the number of requests sent ([`attempts`](Self::attempts))
/// are the same for every kind. The predicates (`is_retryable`, `is_auth`, `is_not_found`,
/// …) answer the common questions without matching.
///
/// `Display` says what happened, where (method and path) and, when the server answered,
/// what it said, with control characters escaped so that an error is safe to write to a
/// log. No error ever holds a credential: values the client sent as credentials are
/// replaced by [`REDACTED`](crate::REDACTED) wherever the server echoes them.
///
/// ```
/// use userapi::{Error, ErrorKind};
///
/// fn describe(err: &Error) -> String {
///     match err.kind() {
///         ErrorKind::Http(http) => format!("refused with {}", http.status()),
///         ErrorKind::Timeout(t) => format!("gave up after {:?}", t.limit()),
///         _ if err.is_invalid_input() => "a bad argument".to_owned(),
///         _ => err.to_string(),
///     }
/// }
/// ```
pub struct Error(Box<Inner>);

struct Inner {
    kind: Kind,
    /// Method and path of the request; `None` for failures before there was one.
    target: Option<Target>,
    /// Requests sent for the call.
    attempts: u32,
    /// The failure could have been retried, but the retry budget was empty.
    budget_exhausted: bool,
}

/// The detail, owned; [`ErrorKind`] is its public, borrowed view.
#[derive(Debug)]
enum Kind {
    Http(HttpError),
    Api(ApiError),
    Transport(TransportError),
    Timeout(TimeoutError),
    Decode(DecodeError),
    Protocol(ProtocolError),
    BodyTooLarge(BodyTooLarge),
    InvalidInput(InvalidInput),
    Config(ConfigError),
    Auth(AuthError),
}

/// What kind of failure an [`Error`] is, with its detail; from [`Error::kind`].
///
/// New kinds may come in a minor release: a `match` needs a `_` arm.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ErrorKind<'a> {
    /// The server answered with a status that is not a success.
    Http(&'a HttpError),
    /// The server answered with a success status, but its body reports a failure
    /// (an envelope whose `code` says failure, a `success: false`).
    Api(&'a ApiError),
    /// The request or the response failed below HTTP: connection refused or reset, DNS,
    /// TLS, a body cut short.
    Transport(&'a TransportError),
    /// A timeout ran out.
    Timeout(&'a TimeoutError),
    /// A success response whose body is not what the service documents.
    Decode(&'a DecodeError),
    /// Responses that decode but break the service's protocol: a pager whose server does not
    /// advance, a login that answers an empty session, a create that answers no id.
    Protocol(&'a ProtocolError),
    /// The response body is larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes).
    BodyTooLarge(&'a BodyTooLarge),
    /// An argument was refused before anything was sent.
    InvalidInput(&'a InvalidInput),
    /// The client was configured in a way that cannot work.
    Config(&'a ConfigError),
    /// A credential problem found without asking the server: an expired JWT, a failing
    /// token provider or one that gave an unusable token, a call that needs a credential the
    /// client does not have.
    Auth(&'a AuthError),
}

impl Error {
    fn new(kind: Kind, target: Option<&Target>, attempts: u32) -> Self {
        Error(Box::new(Inner {
            kind,
            target: target.cloned(),
            attempts,
            budget_exhausted: false,
        }))
    }

    pub(crate) fn config(kind: ConfigKind, message: impl Into<String>) -> Self {
        let message = message.into();
        Error::new(Kind::Config(ConfigError { kind, message }), None, 0)
    }

    pub(crate) fn invalid_input(operation: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Error::new(Kind::InvalidInput(InvalidInput { operation, message }), None, 0)
    }

    pub(crate) fn auth(target: &Target, message: impl Into<String>, source: Option<BoxError>) -> Self {
        let message = message.into();
        Error::new(Kind::Auth(AuthError { message, source }), Some(target), 0)
    }

    pub(crate) fn protocol(target: &Target, status: Option<StatusCode>, message: impl Into<String>) -> Self {
        let message = message.into();
        Error::new(Kind::Protocol(ProtocolError { status, message }), Some(target), 1)
    }

    pub(crate) fn http_status(target: &Target, detail: HttpError) -> Self {
        Error::new(Kind::Http(detail), Some(target), 1)
    }

    pub(crate) fn api(target: &Target, detail: ApiError, attempts: u32) -> Self {
        Error::new(Kind::Api(detail), Some(target), attempts)
    }

    pub(crate) fn transport(target: &Target, detail: TransportError) -> Self {
        Error::new(Kind::Transport(detail), Some(target), 1)
    }

    pub(crate) fn timeout(target: &Target, phase: TimeoutPhase, limit: Duration) -> Self {
        Error::new(Kind::Timeout(TimeoutError { phase, limit }), Some(target), 1)
    }

    pub(crate) fn decode(target: &Target, detail: DecodeError, attempts: u32) -> Self {
        Error::new(Kind::Decode(detail), Some(target), attempts)
    }

    pub(crate) fn body_too_large(target: &Target, limit: usize) -> Self {
        Error::new(Kind::BodyTooLarge(BodyTooLarge { limit }), Some(target), 1)
    }

    /// What kind of failure this is, with its detail.
    pub fn kind(&self) -> ErrorKind<'_> {
        match &self.0.kind {
            Kind::Http(e) => ErrorKind::Http(e),
            Kind::Api(e) => ErrorKind::Api(e),
            Kind::Transport(e) => ErrorKind::Transport(e),
            Kind::Timeout(e) => ErrorKind::Timeout(e),
            Kind::Decode(e) => ErrorKind::Decode(e),
            Kind::Protocol(e) => ErrorKind::Protocol(e),
            Kind::BodyTooLarge(e) => ErrorKind::BodyTooLarge(e),
            Kind::InvalidInput(e) => ErrorKind::InvalidInput(e),
            Kind::Config(e) => ErrorKind::Config(e),
            Kind::Auth(e) => ErrorKind::Auth(e),
        }
    }

    /// The detail as an error of its own: what `Display` prints after the target, and whose
    /// `source` is this error's.
    fn detail(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        match &self.0.kind {
            Kind::Http(e) => e,
            Kind::Api(e) => e,
            Kind::Transport(e) => e,
            Kind::Timeout(e) => e,
            Kind::Decode(e) => e,
            Kind::Protocol(e) => e,
            Kind::BodyTooLarge(e) => e,
            Kind::InvalidInput(e) => e,
            Kind::Config(e) => e,
            Kind::Auth(e) => e,
        }
    }

    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.0.kind {
            Kind::Http(e) => Some(e.status),
            Kind::Api(e) => Some(e.http_status),
            Kind::Decode(e) => Some(e.status),
            Kind::Protocol(e) => e.status,
            _ => None,
        }
    }

    /// Whether trying again later may succeed: connection failures, per-attempt timeouts,
    /// and the statuses 429, 502, 503 and 504 (unless the server said not to retry).
    pub fn is_retryable(&self) -> bool {
        match &self.0.kind {
            Kind::Http(e) => !e.dont_retry && transient(e.status),
            Kind::Transport(e) => e.kind == TransportKind::Connect,
            Kind::Timeout(e) => e.phase != TimeoutPhase::Total,
            _ => false,
        }
    }

    /// Whether the credentials were refused or are unusable: HTTP 401 or 403, a service
    /// error code meaning the same, or a credential problem found before sending.
    pub fn is_auth(&self) -> bool {
        match &self.0.kind {
            Kind::Http(e) => matches!(e.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
            Kind::Api(e) => e.code == 401 || e.code == 403,
            Kind::Auth(_) => true,
            _ => false,
        }
    }

    /// Whether the thing asked for does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(&self.0.kind, Kind::Http(e) if e.status == StatusCode::NOT_FOUND)
    }

    /// Whether a timeout ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self.0.kind, Kind::Timeout(_))
    }

    /// Whether an argument was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self.0.kind, Kind::InvalidInput(_))
    }

    /// Whether the client's configuration cannot work (refused by `build()`, or by a call
    /// that installs credentials).
    pub fn is_config(&self) -> bool {
        matches!(self.0.kind, Kind::Config(_))
    }

    /// Whether the request or response failed below HTTP (connection, DNS, TLS, a body cut
    /// short).
    pub fn is_transport(&self) -> bool {
        matches!(self.0.kind, Kind::Transport(_))
    }

    /// Whether a success response's body is not what the service documents.
    pub fn is_decode(&self) -> bool {
        matches!(self.0.kind, Kind::Decode(_))
    }

    /// Whether the server broke its own protocol (paging that does not advance, an empty
    /// session id).
    pub fn is_protocol(&self) -> bool {
        matches!(self.0.kind, Kind::Protocol(_))
    }

    /// The service's own words about the failure, as it sent them (credentials it echoed
    /// replaced by [`REDACTED`](crate::REDACTED); not escaped: escape it before writing it
    /// anywhere that interprets control characters).
    pub fn service_message(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::Http(e) => e.service.message.as_deref(),
            Kind::Api(e) => e.message.as_deref(),
            _ => None,
        }
    }

    /// The service's machine-readable error code, when it sent one.
    pub fn service_code(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::Http(e) => e.service.code.as_deref(),
            _ => None,
        }
    }

    /// Per-field validation errors the service reported (empty when there are none).
    pub fn field_errors(&self) -> &[FieldError] {
        match &self.0.kind {
            Kind::Http(e) => &e.service.fields,
            _ => &[],
        }
    }

    /// Method and path of the request, when there was one (none for
    /// [`ErrorKind::InvalidInput`] and [`ErrorKind::Config`]).
    pub fn target(&self) -> Option<&Target> {
        self.0.target.as_ref()
    }

    /// How many requests were sent for this call before it failed: 0 when it failed before
    /// sending anything, more than 1 after retries or a credential refresh.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// The failed HTTP response, when the error is [`ErrorKind::Http`].
    pub fn http(&self) -> Option<&HttpError> {
        match &self.0.kind {
            Kind::Http(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn http_mut(&mut self) -> Option<&mut HttpError> {
        match &mut self.0.kind {
            Kind::Http(e) => Some(e),
            _ => None,
        }
    }

    /// How long the server asked the client to wait (`Retry-After`), if it did. A value too
    /// large to represent is [`Duration::MAX`].
    pub fn retry_after(&self) -> Option<Duration> {
        self.http().and_then(|e| e.retry_after)
    }

    /// Records how many requests the call sent. Failures found before a request was built
    /// (invalid input, configuration) stay at 0.
    pub(crate) fn set_attempts(&mut self, n: u32) {
        if !matches!(self.0.kind, Kind::InvalidInput(_) | Kind::Config(_)) {
            self.0.attempts = n;
        }
    }

    /// Whether the call stopped although its failure could have been retried, because the
    /// client's [`RetryBudget`](crate::RetryBudget) was empty (many calls failing at once).
    pub fn retry_budget_exhausted(&self) -> bool {
        self.0.budget_exhausted
    }

    pub(crate) fn set_budget_exhausted(&mut self) {
        self.0.budget_exhausted = true;
    }

    /// A stable, body-free name for the kind, for logs.
    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.0.kind {
            Kind::Http(_) => "http",
            Kind::Api(_) => "api",
            Kind::Transport(_) => "transport",
            Kind::Timeout(_) => "timeout",
            Kind::Decode(_) => "decode",
            Kind::BodyTooLarge(_) => "body-too-large",
            Kind::InvalidInput(_) => "invalid-input",
            Kind::Config(_) => "config",
            Kind::Auth(_) => "auth",
            Kind::Protocol(_) => "protocol",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(target) = &self.0.target {
            write!(f, "{target}: ")?;
        }
        fmt::Display::fmt(self.detail(), f)?;
        if self.0.budget_exhausted {
            f.write_str(" (not retried: the client's retry budget is exhausted)")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("target", &self.0.target)
            .field("attempts", &self.0.attempts)
            .field("budget_exhausted", &self.0.budget_exhausted)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.detail().source()
    }
}

/// Whether a status means "try again later": 429, 502, 503, 504. The one list the retry
/// decision and [`Error::is_retryable`] share.
pub(crate) fn transient(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}
