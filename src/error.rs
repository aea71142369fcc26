//! The one error type, [`Error`], and what it carries.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A boxed error from user code (a [`TokenProvider`](crate::TokenProvider), for example).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call.
///
/// Every variant's `Display` says what happened, where (method and path) and, when the
/// server answered, what it said. No variant ever holds a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status that is not a success.
    #[error(transparent)]
    Http(Box<HttpError>),
    /// The server answered with a success status, but its body reports a failure
    /// (NovaConnect's envelope with `code != 200`).
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
    /// The response body is larger than [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes).
    #[error("{target}: the response body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// Method and path of the request.
        target: Target,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// An argument was refused before anything was sent.
    #[error("invalid input to {operation}: {message}")]
    InvalidInput {
        /// The SDK operation, e.g. `metabase::get_user`.
        operation: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The client was configured in a way that cannot work.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A credential problem found without asking the server: an expired JWT, a failing
    /// token provider, a call that needs a credential the client does not have.
    #[error("{target}: {message}")]
    Auth {
        /// Method and path of the request.
        target: Target,
        /// What is wrong.
        message: String,
        /// The token provider's own error, if it failed.
        #[source]
        source: Option<BoxError>,
    },
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

    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Http(e) => Some(e.status),
            Error::Api(e) => Some(e.http_status),
            Error::Decode(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: connection failures, timeouts, and the
    /// statuses 429, 502, 503 and 504 (unless the server said not to retry).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(e) => {
                !e.dont_retry
                    && matches!(
                        e.status,
                        StatusCode::TOO_MANY_REQUESTS
                            | StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    )
            }
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
        self.status() == Some(StatusCode::NOT_FOUND) && matches!(self, Error::Http(_))
    }

    /// Whether a timeout ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// The service's own words about the failure, as it sent them.
    pub fn service_message(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.service.message.as_deref(),
            Error::Api(e) => e.message.as_deref(),
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
            Error::BodyTooLarge { target, .. } | Error::Auth { target, .. } => Some(target),
            Error::InvalidInput { .. } | Error::Config(_) => None,
        }
    }

    /// The failed HTTP response, when the error is [`Error::Http`].
    pub fn http(&self) -> Option<&HttpError> {
        match self {
            Error::Http(e) => Some(e),
            _ => None,
        }
    }

    /// How long the server asked the client to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.http().and_then(|e| e.retry_after)
    }
}

/// Method and path of a request, as errors report them. The query string is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// HTTP method.
    pub method: Method,
    /// Path of the URL, percent-encoded as sent.
    pub path: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One field the service refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field as the service names it (`email`, `query.as_owner`).
    pub field: String,
    /// The service's message for it.
    pub message: String,
}

/// What the service said about a failure, read from whatever body shape it uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceError {
    /// The main message: JSON `message`, `detail` or `error`, or a text body.
    pub message: Option<String>,
    /// A machine-readable code: JSON `code` / `error_code`, or the `X-Diadoc-ErrorCode` header.
    pub code: Option<String>,
    /// Field-level errors (Metabase `errors`, FastAPI 422 `detail` items).
    pub fields: Vec<FieldError>,
    /// A trace id to give to the service's support (`X-Kontur-Trace-Id`, `X-Request-Id`).
    pub trace_id: Option<String>,
}

/// A non-success HTTP response.
#[derive(Debug)]
pub struct HttpError {
    /// Method and path of the request.
    pub target: Target,
    /// The status.
    pub status: StatusCode,
    /// `Content-Type` of the body, if sent.
    pub content_type: Option<String>,
    /// Response headers, without `Set-Cookie` and credential headers.
    pub headers: HeaderMap,
    /// The body, cut at the error-body limit (64 KiB by default).
    pub body: Bytes,
    /// Whether `body` was cut.
    pub body_truncated: bool,
    /// What the service said, parsed from the body and headers.
    pub service: ServiceError,
    /// `Retry-After`, in seconds or as an HTTP date, as a delay from when it was read.
    pub retry_after: Option<Duration>,
    /// Whether the server sent `Dont-Retry: True` or `X-Kontur-Dont-Retry: True`.
    pub dont_retry: bool,
    /// How many attempts were made.
    pub attempts: u32,
}

impl HttpError {
    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A response header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.target, self.status)?;
        match &self.service.message {
            Some(m) => write!(f, ": {m}")?,
            None if self.body.is_empty() => f.write_str(" with an empty body")?,
            None => {
                let kind = self.content_type.as_deref().unwrap_or("unknown type");
                write!(f, " with a {} byte body of {kind}", self.body.len())?;
            }
        }
        if let Some(code) = &self.service.code {
            write!(f, " [code {code}]")?;
        }
        for (i, fe) in self.service.fields.iter().enumerate() {
            f.write_str(if i == 0 { " (" } else { "; " })?;
            write!(f, "{}: {}", fe.field, fe.message)?;
            if i + 1 == self.service.fields.len() {
                f.write_str(")")?;
            }
        }
        Ok(())
    }
}

/// A failure reported inside a success response (NovaConnect's `code`).
#[derive(Debug)]
pub struct ApiError {
    /// Method and path of the request.
    pub target: Target,
    /// The HTTP status (usually 200).
    pub http_status: StatusCode,
    /// The service's code.
    pub code: i64,
    /// The service's message.
    pub message: Option<String>,
}

impl std::error::Error for HttpError {}

impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: service error code {}", self.target, self.code)?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        write!(f, " (HTTP {})", self.http_status)
    }
}

/// What failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made (refused, DNS). Nothing reached the server.
    Connect,
    /// The connection broke while sending or receiving.
    Io,
    /// The server redirected to another origin, or redirected too often.
    Redirect,
    /// The TLS handshake failed: the server's certificate is not trusted, has expired or names
    /// another host, or no protocol could be agreed. Nothing reached the server, and trying
    /// again would fail the same way, so it is not retried. A private CA is trusted with
    /// [`ClientBuilder::add_root_certificate`](crate::ClientBuilder::add_root_certificate).
    Tls,
}

/// A transport failure.
///
/// Its `Display` already holds the text of every cause in `source`'s chain, each once, so
/// `std::error::Error::source()` returns `None`: a reporter that walks the chain (anyhow's
/// `{:#}`) prints each cause once. The underlying error stays in the `source` field, for
/// downcasting.
#[derive(Debug)]
pub struct TransportError {
    /// Method and path of the request.
    pub target: Target,
    /// What failed.
    pub kind: TransportKind,
    /// The underlying error.
    pub source: BoxError,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportKind::Connect => "could not connect",
            TransportKind::Io => "the connection failed",
            TransportKind::Redirect => "redirect refused",
            TransportKind::Tls => "TLS handshake failed",
        };
        write!(f, "{}: {what}", self.target)?;
        let causes = distinct_causes(&*self.source);
        for cause in &causes {
            write!(f, ": {cause}")?;
        }
        if self.kind == TransportKind::Tls && causes.iter().any(|c| names_unknown_issuer(c)) {
            f.write_str(" (the certificate's issuer is not trusted; a private CA can be trusted with ClientBuilder::add_root_certificate)")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {}

/// The texts of an error and its causes, each once: a cause whose text an earlier one already
/// holds is dropped (native-tls repeats OpenSSL's words one level down), and an earlier text
/// that a later one holds whole gives way to it.
fn distinct_causes(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cause = Some(err);
    while let Some(c) = cause {
        let text = c.to_string();
        let text = text.trim();
        if !text.is_empty() && !out.iter().any(|t| t.contains(text)) {
            out.retain(|t| !text.contains(t.as_str()));
            out.push(text.to_owned());
        }
        cause = c.source();
    }
    out
}

fn names_unknown_issuer(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "unknownissuer",
        "unknown issuer",
        "unable to get local issuer",
        "self-signed certificate",
        "self signed certificate",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// Which timeout ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Connecting.
    Connect,
    /// One attempt: from sending until the whole body has arrived.
    Attempt,
    /// The whole call, retries and waits included.
    Total,
}

/// A timeout.
#[derive(Debug)]
pub struct TimeoutError {
    /// Method and path of the request.
    pub target: Target,
    /// Which limit ran out.
    pub phase: TimeoutPhase,
    /// The limit.
    pub limit: Duration,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.phase {
            TimeoutPhase::Connect => "connect timeout",
            TimeoutPhase::Attempt => "per-attempt timeout",
            TimeoutPhase::Total => "total timeout",
        };
        write!(f, "{}: {what} of {:?} ran out", self.target, self.limit)
    }
}

impl std::error::Error for TimeoutError {}

/// A success response that could not be decoded.
#[derive(Debug)]
pub struct DecodeError {
    /// Method and path of the request.
    pub target: Target,
    /// The status of the response.
    pub status: StatusCode,
    /// Path of the failing field, e.g. `result.item.email` (`.` for the top level).
    pub field_path: String,
    /// What serde said.
    pub message: String,
    /// `Content-Type` of the body.
    pub content_type: Option<String>,
    /// The start of the body (none for responses that carry credentials).
    pub excerpt: Option<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: could not decode the HTTP {} response at `{}`: {}",
            self.target, self.status, self.field_path, self.message
        )?;
        if let Some(ct) = &self.content_type {
            write!(f, " (content type {ct})")?;
        }
        if let Some(x) = &self.excerpt {
            write!(f, "; body starts: {x:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

const MESSAGE_LIMIT: usize = 1000;

impl ServiceError {
    /// Reads the service's message, code and field errors from a failed response.
    ///
    /// Understands every shape the five services use: JSON `{"message"}`, `{"detail": "…"}`,
    /// FastAPI's `{"detail": [{"loc", "msg"}]}`, Metabase's `{"errors": {…}}`, Rightech's
    /// `{"message", "helper"}`, NovaConnect's `{"code", "message"}`, a JSON string, plain text,
    /// and HTML pages (their `<title>`).
    pub fn parse(content_type: Option<&str>, headers: &HeaderMap, body: &[u8]) -> ServiceError {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut out = ServiceError {
            code: header("x-diadoc-errorcode"),
            trace_id: header("x-kontur-trace-id").or_else(|| header("x-request-id")),
            ..ServiceError::default()
        };
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() {
            return out;
        }
        let looks_json = ct.contains("json") || matches!(trimmed[0], b'{' | b'[' | b'"');
        if looks_json && let Ok(value) = serde_json::from_slice::<Value>(trimmed) {
            out.read_json(&value);
            return out;
        }
        let text = String::from_utf8_lossy(trimmed);
        if ct.contains("html")
            || starts_with_ignore_case(&text, "<!doctype html")
            || starts_with_ignore_case(&text, "<html")
        {
            out.message = html_title(&text).map(|t| clip(&t));
        } else {
            out.message = Some(clip(&text));
        }
        out
    }

    fn read_json(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.message = Some(clip(s)),
            Value::Object(map) => {
                let text = |key: &str| map.get(key).and_then(Value::as_str).map(clip);
                self.message = text("message")
                    .or_else(|| text("error_description"))
                    .or_else(|| text("error"));
                if self.code.is_none() {
                    self.code = ["code", "error_code", "error-code"]
                        .iter()
                        .find_map(|k| map.get(*k))
                        .and_then(|v| match v {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        });
                }
                match map.get("detail") {
                    Some(Value::String(s)) if self.message.is_none() => self.message = Some(clip(s)),
                    Some(Value::Array(items)) => {
                        for item in items {
                            let loc = item.get("loc").and_then(Value::as_array).map(|parts| {
                                parts
                                    .iter()
                                    .map(|p| match p {
                                        Value::String(s) => s.clone(),
                                        other => other.to_string(),
                                    })
                                    .collect::<Vec<_>>()
                                    .join(".")
                            });
                            let msg = item.get("msg").and_then(Value::as_str);
                            if let (Some(field), Some(msg)) = (loc, msg) {
                                self.fields.push(FieldError {
                                    field,
                                    message: clip(msg),
                                });
                            }
                        }
                        if self.message.is_none() && !self.fields.is_empty() {
                            self.message = Some("request validation failed".to_owned());
                        }
                    }
                    Some(other @ Value::Object(_)) if self.message.is_none() => {
                        self.message = other.get("message").and_then(Value::as_str).map(clip);
                    }
                    _ => {}
                }
                if let Some(Value::Object(errors)) = map.get("errors") {
                    for (key, v) in errors {
                        flatten_field_errors(key, v, &mut self.fields);
                    }
                    if self.message.is_none() {
                        self.message = match errors.get("_error").and_then(Value::as_str) {
                            Some(m) => Some(clip(m)),
                            None => self.fields.first().map(|f| format!("{}: {}", f.field, f.message)),
                        };
                    }
                }
                if self.message.is_none() {
                    self.message = map
                        .get("helper")
                        .and_then(|h| h.get("message"))
                        .and_then(Value::as_str)
                        .map(clip);
                }
            }
            _ => {}
        }
    }
}

fn flatten_field_errors(prefix: &str, value: &Value, out: &mut Vec<FieldError>) {
    match value {
        Value::String(s) => out.push(FieldError {
            field: prefix.to_owned(),
            message: clip(s),
        }),
        Value::Array(items) => {
            for item in items {
                flatten_field_errors(prefix, item, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten_field_errors(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Null => {}
        other => out.push(FieldError {
            field: prefix.to_owned(),
            message: other.to_string(),
        }),
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let title = html[open_end..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then_some(title)
}

/// Cuts a message at a char boundary so an error stays readable.
pub(crate) fn clip(s: &str) -> String {
    let s = s.trim();
    if s.len() <= MESSAGE_LIMIT {
        return s.to_owned();
    }
    let mut end = MESSAGE_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(ct: &str, body: &str) -> ServiceError {
        ServiceError::parse(Some(ct), &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn shapes() {
        let e = parse("application/json", r#"{"code":401,"message":"Invalid token"}"#);
        assert_eq!(e.message.as_deref(), Some("Invalid token"));
        assert_eq!(e.code.as_deref(), Some("401"));

        let e = parse("application/json", r#"{"detail":"Not authenticated"}"#);
        assert_eq!(e.message.as_deref(), Some("Not authenticated"));

        let e = parse(
            "application/json",
            r#"{"detail":[{"loc":["query","as_owner"],"msg":"Input should be a valid boolean","type":"bool_parsing"}]}"#,
        );
        assert_eq!(
            e.fields,
            vec![FieldError {
                field: "query.as_owner".into(),
                message: "Input should be a valid boolean".into()
            }]
        );

        let e = parse(
            "application/json",
            r#"{"errors":{"email":"value must be a valid email address."},"specific-errors":{"email":["x"]}}"#,
        );
        assert_eq!(e.fields[0].field, "email");
        assert_eq!(
            e.message.as_deref(),
            Some("email: value must be a valid email address.")
        );

        let e = parse(
            "application/json",
            r#"{"errors":{"_error":"Your account is disabled."}}"#,
        );
        assert_eq!(e.message.as_deref(), Some("Your account is disabled."));

        let e = parse("text/plain", "Unauthenticated");
        assert_eq!(e.message.as_deref(), Some("Unauthenticated"));

        let e = parse(
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        );
        assert_eq!(e.message.as_deref(), Some("502 Bad Gateway"));

        let e = parse(
            "application/json",
            r#"{"message":"user not found","tags":["users"],"helper":{"message":"check the id"}}"#,
        );
        assert_eq!(e.message.as_deref(), Some("user not found"));

        let e = parse("application/json", r#"{"success":false}"#);
        assert_eq!(e.message, None);

        let e = parse("application/json", "{not json");
        assert_eq!(e.message.as_deref(), Some("{not json"));
    }

    #[test]
    fn headers_are_read() {
        let mut h = HeaderMap::new();
        h.insert("x-diadoc-errorcode", "Http.Auth".parse().unwrap());
        h.insert("x-kontur-trace-id", "abc123".parse().unwrap());
        let e = ServiceError::parse(Some("text/plain"), &h, b"Invalid API client id");
        assert_eq!(e.code.as_deref(), Some("Http.Auth"));
        assert_eq!(e.trace_id.as_deref(), Some("abc123"));
        assert_eq!(e.message.as_deref(), Some("Invalid API client id"));
    }

    #[test]
    fn long_messages_are_clipped_on_a_char_boundary() {
        let long = "я".repeat(2000);
        let c = clip(&long);
        assert!(c.len() <= MESSAGE_LIMIT + "…".len());
        assert!(c.ends_with('…'));
    }
}
