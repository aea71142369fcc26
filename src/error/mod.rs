//! The one error type, [`Error`], and what it carries.
//!
//! Nothing here knows a service: each service module reads its own error shapes through an
//! [`ErrorHook`] that the pipeline calls after the generic reading in [`body`].

use std::time::Duration;

use reqwest::StatusCode;

mod body;
mod details;
mod escape;
mod target;

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
pub use target::{FieldError, Target};

/// A boxed error from user code (a [`TokenProvider`](crate::TokenProvider), for example).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call.
///
/// Every variant's `Display` says what happened, where (method and path) and, when the
/// server answered, what it said, with control characters escaped so that an error is safe
/// to write to a log. No variant ever holds a credential: values the client sent as
/// credentials are replaced by [`REDACTED`](crate::REDACTED) wherever the server echoes them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status that is not a success.
    #[error(transparent)]
    Http(Box<HttpError>),
    /// The server answered with a success status, but its body reports a failure
    /// (NovaConnect's envelope with `code != 200`, Rightech's `success: false`).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request or the response failed below HTTP: connection refused or reset, DNS,
    /// TLS, a body cut short.
    #[error(transparent)]
    Transport(Box<TransportError>),
    /// A timeout ran out.
    #[error(transparent)]
    Timeout(Box<TimeoutError>),
    /// A success response whose body is not what the service documents.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// Responses that decode but break the service's protocol: a pager whose server does not
    /// advance, a login that answers an empty session, a create that answers no id.
    #[error(transparent)]
    Protocol(Box<ProtocolError>),
    /// The response body is larger than [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes).
    #[error("{target}: the response body is larger than the limit of {limit} bytes")]
    #[non_exhaustive]
    BodyTooLarge {
        /// Method and path of the request.
        target: Target,
        /// The configured limit in bytes.
        limit: usize,
        /// Requests sent.
        attempts: u32,
    },
    /// An argument was refused before anything was sent.
    #[error("invalid input to {operation}: {}", Escaped(message))]
    #[non_exhaustive]
    InvalidInput {
        /// The SDK operation, e.g. `metabase::get_user`.
        operation: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The client was configured in a way that cannot work.
    #[error("invalid client configuration: {}", Escaped(.0))]
    Config(String),
    /// A credential problem found without asking the server: an expired JWT, a failing
    /// token provider or one that gave an unusable token, a call that needs a credential the
    /// client does not have.
    #[error("{target}: {}", Escaped(message))]
    #[non_exhaustive]
    Auth {
        /// Method and path of the request.
        target: Target,
        /// What is wrong.
        message: String,
        /// The token provider's own error, if it failed.
        #[source]
        source: Option<BoxError>,
        /// Requests sent before the problem was found.
        attempts: u32,
    },
    /// A local I/O failure that is not a request: a fake server that could not bind its port.
    #[error("local I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    pub(crate) fn invalid_input(operation: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            operation,
            message: message.into(),
        }
    }

    pub(crate) fn auth(target: &Target, message: impl Into<String>, source: Option<BoxError>) -> Self {
        Error::Auth {
            target: target.clone(),
            message: message.into(),
            source,
            attempts: 0,
        }
    }

    pub(crate) fn protocol(target: &Target, status: Option<StatusCode>, message: impl Into<String>) -> Self {
        Error::Protocol(Box::new(ProtocolError {
            target: target.clone(),
            status,
            message: message.into(),
            attempts: 1,
        }))
    }

    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Http(e) => Some(e.status),
            Error::Api(e) => Some(e.http_status),
            Error::Decode(e) => Some(e.status),
            Error::Protocol(e) => e.status,
            _ => None,
        }
    }

    /// Whether trying again later may succeed: connection failures, per-attempt timeouts,
    /// and the statuses 429, 502, 503 and 504 (unless the server said not to retry).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(e) => !e.dont_retry && transient(e.status),
            Error::Transport(e) => e.kind == TransportKind::Connect,
            Error::Timeout(e) => e.phase != TimeoutPhase::Total,
            _ => false,
        }
    }

    /// Whether the credentials were refused or are unusable: HTTP 401 or 403, a service
    /// error code meaning the same, or a credential problem found before sending.
    pub fn is_auth(&self) -> bool {
        match self {
            Error::Http(e) => matches!(e.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
            Error::Api(e) => e.code == 401 || e.code == 403,
            Error::Auth { .. } => true,
            _ => false,
        }
    }

    /// Whether the thing asked for does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Http(e) if e.status == StatusCode::NOT_FOUND)
    }

    /// Whether a timeout ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// Whether an argument was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput { .. })
    }

    /// Whether the client's configuration cannot work (refused by `build()`, or by a call
    /// that installs credentials).
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config(_))
    }

    /// Whether the request or response failed below HTTP (connection, DNS, TLS, a body cut
    /// short).
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport(_))
    }

    /// Whether a success response's body is not what the service documents.
    pub fn is_decode(&self) -> bool {
        matches!(self, Error::Decode(_))
    }

    /// Whether the server broke its own protocol (paging that does not advance, an empty
    /// session id).
    pub fn is_protocol(&self) -> bool {
        matches!(self, Error::Protocol(_))
    }

    /// The service's own words about the failure, as it sent them (credentials it echoed
    /// replaced by [`REDACTED`](crate::REDACTED); not escaped: escape it before writing it
    /// anywhere that interprets control characters).
    pub fn service_message(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.service.message.as_deref(),
            Error::Api(e) => e.message.as_deref(),
            _ => None,
        }
    }

    /// The service's machine-readable error code, when it sent one.
    pub fn service_code(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.service.code.as_deref(),
            _ => None,
        }
    }

    /// Per-field validation errors the service reported (empty when there are none).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Http(e) => &e.service.fields,
            _ => &[],
        }
    }

    /// Method and path of the request, when there was one.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Error::Http(e) => Some(&e.target),
            Error::Api(e) => Some(&e.target),
            Error::Transport(e) => Some(&e.target),
            Error::Timeout(e) => Some(&e.target),
            Error::Decode(e) => Some(&e.target),
            Error::Protocol(e) => Some(&e.target),
            Error::BodyTooLarge { target, .. } | Error::Auth { target, .. } => Some(target),
            Error::InvalidInput { .. } | Error::Config(_) | Error::Io(_) => None,
        }
    }

    /// How many requests were sent for this call before it failed: 0 when it failed before
    /// sending anything, more than 1 after retries or a credential refresh.
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Http(e) => e.attempts,
            Error::Api(e) => e.attempts,
            Error::Transport(e) => e.attempts,
            Error::Timeout(e) => e.attempts,
            Error::Decode(e) => e.attempts,
            Error::Protocol(e) => e.attempts,
            Error::BodyTooLarge { attempts, .. } | Error::Auth { attempts, .. } => *attempts,
            Error::InvalidInput { .. } | Error::Config(_) | Error::Io(_) => 0,
        }
    }

    /// The failed HTTP response, when the error is [`Error::Http`].
    pub fn http(&self) -> Option<&HttpError> {
        match self {
            Error::Http(e) => Some(e),
            _ => None,
        }
    }

    /// How long the server asked the client to wait (`Retry-After`), if it did. A value too
    /// large to represent is [`Duration::MAX`].
    pub fn retry_after(&self) -> Option<Duration> {
        self.http().and_then(|e| e.retry_after)
    }

    /// Records how many requests the call sent.
    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Http(e) => e.attempts = n,
            Error::Api(e) => e.attempts = n,
            Error::Transport(e) => e.attempts = n,
            Error::Timeout(e) => e.attempts = n,
            Error::Decode(e) => e.attempts = n,
            Error::Protocol(e) => e.attempts = n,
            Error::BodyTooLarge { attempts, .. } | Error::Auth { attempts, .. } => *attempts = n,
            Error::InvalidInput { .. } | Error::Config(_) | Error::Io(_) => {}
        }
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

#[cfg(test)]
mod tests {
    #![allow(unused_imports)]
    use super::*;
    use super::{body::*, details::*, escape::*, target::*};
    use bytes::Bytes;
    use reqwest::header::HeaderMap;
    use reqwest::{Method, StatusCode};
    use serde_json::Value;
    use std::time::Duration;

    fn parse(ct: &str, body: &str) -> ServiceError {
        read_service_error(Some(ct), &HeaderMap::new(), body.as_bytes(), None)
    }

    #[test]
    fn generic_shapes() {
        let e = parse("application/json", r#"{"code":401,"message":"Invalid token"}"#);
        assert_eq!(e.message(), Some("Invalid token"));
        assert_eq!(e.code(), Some("401"));

        let e = parse("application/json", r#"{"detail":"Not authenticated"}"#);
        assert_eq!(e.message(), Some("Not authenticated"));

        let e = parse(
            "application/json",
            r#"{"error":"invalid_grant","error_description":"bad"}"#,
        );
        assert_eq!(e.message(), Some("bad"));

        let e = parse("application/json", r#""just a string""#);
        assert_eq!(e.message(), Some("just a string"));

        let e = parse("text/plain", "Unauthenticated");
        assert_eq!(e.message(), Some("Unauthenticated"));

        let e = parse(
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        );
        assert_eq!(e.message(), Some("502 Bad Gateway"));

        let e = parse("application/json", r#"{"success":false}"#);
        assert_eq!(e.message(), None);

        let e = parse("application/json", "{not json");
        assert_eq!(e.message(), Some("{not json"));

        let e = parse(
            "application/json",
            r#"{"code": 7, "message" : "cut short", "pad": "xxxx"#,
        );
        assert_eq!(e.message(), Some("cut short"));
    }

    #[test]
    fn hooks_run_after_the_generic_reading() {
        fn hook(body: &ErrorBody<'_>, out: &mut ServiceError) {
            if let Some(h) = body
                .member("helper")
                .and_then(|h| h.get("message"))
                .and_then(Value::as_str)
                && out.message.is_none()
            {
                out.set_message(h);
            }
            out.code = body.header("x-code");
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-code", "E42".parse().unwrap());
        let e = read_service_error(
            Some("application/json"),
            &headers,
            br#"{"helper":{"message":"check the id"}}"#,
            Some(hook),
        );
        assert_eq!(e.message(), Some("check the id"));
        assert_eq!(e.code(), Some("E42"));
    }

    #[test]
    fn long_messages_are_clipped_on_a_char_boundary() {
        let long = "я".repeat(2000);
        let c = clip(&long);
        assert!(c.len() <= MESSAGE_LIMIT + "…".len());
        assert!(c.ends_with('…'));
    }

    #[test]
    fn field_errors_are_bounded() {
        let key = "k".repeat(32 * 1024);
        let zeros = vec!["0"; 16_000].join(",");
        let body = format!(r#"{{"errors":{{"{key}":[{zeros}]}}}}"#);
        let value = bounded_json(body.as_bytes()).unwrap();
        let mut e = ServiceError::default();
        if let Some(Value::Object(errors)) = value.get("errors") {
            for (k, v) in errors {
                e.push_fields_from(k, v);
            }
        }
        assert!(e.fields().len() <= MAX_FIELD_ERRORS);
        let kept: usize = e
            .fields()
            .iter()
            .map(|f| f.field().len() + f.message().len())
            .sum();
        assert!(kept <= MAX_FIELD_BYTES + 2 * MESSAGE_LIMIT + 8, "{kept}");
        assert!(e.fields().iter().all(|f| f.field().len() <= MESSAGE_LIMIT + 3));
        // The bounded parse kept at most its budget of values, whatever was sent.
        assert!(e.fields().len() + e.fields_omitted() < MAX_ERROR_JSON_NODES);
    }

    #[test]
    fn bounded_json_keeps_small_bodies_whole() {
        let body = br#"{"a":[1,2,{"b":"c"}],"d":null,"e":true,"f":-1.5}"#;
        assert_eq!(
            bounded_json(body),
            Some(serde_json::from_slice::<Value>(body).unwrap())
        );
        assert_eq!(bounded_json(b"{\"a\":1} trailing"), None);
    }

    fn http_error(service: ServiceError, body: &str) -> HttpError {
        HttpError {
            target: Target::new(Method::POST, "/api/user", "/api/user"),
            status: StatusCode::BAD_REQUEST,
            content_type: Some("application/json".into()),
            headers: HeaderMap::new(),
            body: Bytes::copy_from_slice(body.as_bytes()),
            body_truncated: false,
            service,
            retry_after: None,
            dont_retry: false,
            after_unanswered: false,
            attempts: 1,
        }
    }

    #[test]
    fn display_says_each_thing_once() {
        let mut fields = ServiceError::default();
        fields.push_field("email", "taken");
        fields.push_field("name", "blank");
        fields.fields_omitted = 3;
        let mut inline = fields.clone();
        inline.message_from_first_field();
        assert_eq!(
            http_error(inline, "{}").to_string(),
            "POST /api/user: HTTP 400 Bad Request: email: taken; name: blank; … and 3 more"
        );
        let mut with_message = fields;
        with_message.set_message("validation failed");
        with_message.code = Some("E1".into());
        assert_eq!(
            http_error(with_message, "{}").to_string(),
            "POST /api/user: HTTP 400 Bad Request: validation failed (email: taken; name: blank; … and 3 more) [code E1]"
        );
        assert_eq!(
            http_error(ServiceError::default(), "").to_string(),
            "POST /api/user: HTTP 400 Bad Request with an empty body"
        );
        assert_eq!(
            http_error(ServiceError::default(), "\x01\x02").to_string(),
            "POST /api/user: HTTP 400 Bad Request with a 2 byte body of application/json"
        );
    }

    #[test]
    fn escaped_writes_controls_as_escapes() {
        let s = Escaped("bad\n2026-01-01 INFO admin logged in\x1b[2J\u{202e}x").to_string();
        assert_eq!(s, "bad\\n2026-01-01 INFO admin logged in\\u{1b}[2J\\u{202e}x");
        assert_eq!(Escaped("plain ё").to_string(), "plain ё");
    }

    /// Server text that would forge a log line, clear a terminal and reverse what follows.
    const HOSTILE: &str = "bad\n2026-01-01 INFO admin logged in\x1b[2J\u{202e}";
    /// How [`HOSTILE`] shows once escaped.
    const HOSTILE_SHOWN: &str = "bad\\n2026-01-01 INFO admin logged in\\u{1b}[2J\\u{202e}";

    /// No raw control character of [`HOSTILE`] in `shown`.
    fn assert_no_raw(shown: &str) {
        for raw in ['\n', '\x1b', '\u{202e}'] {
            assert!(!shown.contains(raw), "raw {raw:?} in {shown:?}");
        }
    }

    /// No raw control character of [`HOSTILE`] in `shown`, and its escaped form `times` times.
    fn assert_escaped(shown: &str, times: usize) {
        assert_no_raw(shown);
        assert_eq!(shown.matches(HOSTILE_SHOWN).count(), times, "{shown:?}");
    }

    #[test]
    fn field_errors_show_escaped_field_names_and_messages() {
        let mut fields = ServiceError::default();
        fields.push_field(HOSTILE, HOSTILE);
        fields.push_field("email", HOSTILE);
        fields.push_field(HOSTILE, "taken");
        // The first field error as the message, shown once: `…: field: message; …`.
        let mut inline = fields.clone();
        inline.message_from_first_field();
        assert!(inline.message_is_first_field);
        assert_escaped(&http_error(inline, "{}").to_string(), 4);
        // After a message of its own, in parentheses.
        let mut with_message = fields;
        with_message.set_message("validation failed");
        let shown = http_error(with_message, "{}").to_string();
        assert_escaped(&shown, 4);
        assert!(shown.contains(&format!("; email: {HOSTILE_SHOWN};")), "{shown}");
    }

    #[test]
    fn the_service_code_and_message_show_escaped() {
        // Read from the body as the pipeline reads it.
        let body = serde_json::json!({"code": HOSTILE, "message": HOSTILE}).to_string();
        let service = parse("application/json", &body);
        assert_eq!(
            (service.code(), service.message()),
            (Some(HOSTILE), Some(HOSTILE))
        );
        assert_escaped(&Error::Http(Box::new(http_error(service, &body))).to_string(), 2);
        // A code alone.
        let mut service = ServiceError::default();
        service.set_message("refused");
        service.code = Some(HOSTILE.into());
        let shown = http_error(service, "{}").to_string();
        assert_escaped(&shown, 1);
        assert!(shown.ends_with(&format!(" [code {HOSTILE_SHOWN}]")), "{shown}");
    }

    #[test]
    fn an_error_bodys_content_type_shows_escaped() {
        // No message and no field errors: the body is described by its type.
        let mut e = http_error(ServiceError::default(), "\x01\x02");
        e.content_type = Some(HOSTILE.into());
        assert_escaped(&e.to_string(), 1);
    }

    #[test]
    fn the_trace_id_never_shows_raw() {
        // `Display` leaves the trace id out today; if it ever shows it, escaped.
        let mut service = ServiceError::default();
        service.set_message("refused");
        service.trace_id = Some(HOSTILE.into());
        let e = http_error(service, "{}");
        assert_eq!(e.service().trace_id(), Some(HOSTILE));
        assert_no_raw(&e.to_string());
    }

    #[test]
    fn an_api_errors_message_shows_escaped() {
        let e = ApiError {
            target: Target::new(Method::GET, "/api/v1/users", "/api/v1/users"),
            http_status: StatusCode::OK,
            code: -1,
            message: Some(HOSTILE.into()),
            attempts: 1,
        };
        let shown = Error::Api(Box::new(e)).to_string();
        assert_escaped(&shown, 1);
        assert_eq!(
            shown,
            format!("GET /api/v1/users: service error code -1: {HOSTILE_SHOWN} (HTTP 200 OK)")
        );
    }

    fn decode_error() -> DecodeError {
        DecodeError {
            target: Target::new(Method::GET, "/api/user", "/api/user"),
            status: StatusCode::OK,
            field_path: "data[0].email".into(),
            message: "invalid type: integer `1`, expected a string".into(),
            content_type: Some("application/json".into()),
            excerpt: None,
            attempts: 1,
        }
    }

    #[test]
    fn a_decode_errors_field_path_message_content_type_and_excerpt_show_escaped() {
        let mut e = decode_error();
        e.field_path = format!("data[0].{HOSTILE}");
        assert_escaped(&e.to_string(), 1);
        assert!(e.to_string().contains(&format!("at `data[0].{HOSTILE_SHOWN}`")));

        let mut e = decode_error();
        e.message = format!("unknown variant `{HOSTILE}`");
        assert_escaped(&e.to_string(), 1);

        let mut e = decode_error();
        e.content_type = Some(HOSTILE.into());
        assert_escaped(&e.to_string(), 1);

        let mut e = decode_error();
        e.excerpt = Some(format!("{{\"id\": \"{HOSTILE}\""));
        let shown = Error::Decode(Box::new(e)).to_string();
        assert_escaped(&shown, 1);
    }

    #[test]
    fn a_protocol_errors_message_shows_escaped() {
        for status in [Some(StatusCode::OK), None] {
            let e = ProtocolError {
                target: Target::new(Method::POST, "/api/session", "/api/session"),
                status,
                message: format!("the session id {HOSTILE} is not usable"),
                attempts: 1,
            };
            assert_escaped(&Error::Protocol(Box::new(e)).to_string(), 1);
        }
    }

    #[test]
    fn auth_input_and_config_messages_show_escaped() {
        let target = Target::new(Method::GET, "/users/me", "/users/me");
        for e in [
            Error::auth(&target, HOSTILE, None),
            Error::invalid_input("rounds::get_user", HOSTILE),
            Error::config(HOSTILE),
        ] {
            assert_escaped(&e.to_string(), 1);
        }
    }
}
