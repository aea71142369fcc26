//! The one error type, [`Error`], and what it carries.
//!
//! Nothing here knows a service: each service module reads its own error shapes through an
//! [`ErrorHook`] that the pipeline calls after the generic reading below.

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

/// Method and path of a request, as errors report them. The query string is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) route: String,
}

impl Target {
    pub(crate) fn new(method: Method, path: impl Into<String>, route: impl Into<String>) -> Self {
        Target {
            method,
            path: path.into(),
            route: route.into(),
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path of the URL, percent-encoded as sent (`/api/user/42`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The route the endpoint is declared with, ids left as placeholders
    /// (`/api/user/{id}`): what spans record, safe to group by.
    pub fn route(&self) -> &str {
        &self.route
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One field the service refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    pub(crate) field: String,
    pub(crate) message: String,
}

impl FieldError {
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn new(field: &str, message: &str) -> Self {
        FieldError {
            field: clip(field),
            message: clip(message),
        }
    }

    /// Dotted path of the field as the service names it (`email`, `query.as_owner`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The service's message for it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// What the service said about a failure, read from whatever body shape it uses.
///
/// Bounded: the message and each field path and message are cut at 1,000 bytes, and at most
/// 100 field errors (and 32 KiB of them) are kept; [`fields_omitted`](Self::fields_omitted)
/// counts the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    pub(crate) message: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) fields: Vec<FieldError>,
    pub(crate) fields_omitted: usize,
    pub(crate) trace_id: Option<String>,
    /// The message repeats the first field error (`email: …`); `Display` says it once.
    pub(crate) message_is_first_field: bool,
    /// The service asked not to retry (`Dont-Retry`, or a service's own header such as
    /// Diadoc's `X-Kontur-Dont-Retry`).
    pub(crate) dont_retry: bool,
}

/// At most this many field errors are kept.
#[cfg_attr(userapi_partial, allow(dead_code))]
pub(crate) const MAX_FIELD_ERRORS: usize = 100;
/// At most this many bytes of field paths and messages are kept.
#[cfg_attr(userapi_partial, allow(dead_code))]
const MAX_FIELD_BYTES: usize = 32 * 1024;

impl ServiceError {
    /// The main message: JSON `message`, `detail` or `error`, a text body, an HTML title.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// A machine-readable code (a JSON `code`, Kontur's `X-Diadoc-ErrorCode` header).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Field-level errors (Metabase `errors`, FastAPI 422 `detail` items).
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// How many field errors were read beyond those kept. A body of more than 1,024 JSON
    /// values is read no further than that, so for such a body this is a lower bound (a
    /// body with 16,000 field errors says 988).
    pub fn fields_omitted(&self) -> usize {
        self.fields_omitted
    }

    /// A trace id to give to the service's support (`X-Kontur-Trace-Id`, `X-Request-Id`).
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    pub(crate) fn set_message(&mut self, message: &str) {
        self.message = Some(clip(message));
    }

    /// Adds a field error, within the bounds.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn push_field(&mut self, field: &str, message: &str) {
        let used: usize = self.fields.iter().map(|f| f.field.len() + f.message.len()).sum();
        if self.fields.len() >= MAX_FIELD_ERRORS || used >= MAX_FIELD_BYTES {
            self.fields_omitted += 1;
            return;
        }
        self.fields.push(FieldError::new(field, message));
    }

    #[cfg_attr(userapi_partial, allow(dead_code))]
    /// Adds every string under `value` as an error of `prefix` (nested objects extend the
    /// path with `.key`), within the bounds.
    pub(crate) fn push_fields_from(&mut self, prefix: &str, value: &Value) {
        match value {
            Value::String(s) => self.push_field(prefix, s),
            Value::Array(items) => {
                for item in items {
                    self.push_fields_from(prefix, item);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if self.fields.len() >= MAX_FIELD_ERRORS {
                        self.fields_omitted += count_leaves(v);
                        continue;
                    }
                    let path = format!("{}.{}", clip(prefix), clip(k));
                    self.push_fields_from(&path, v);
                }
            }
            Value::Null => {}
            other => self.push_field(prefix, &other.to_string()),
        }
    }

    #[cfg_attr(userapi_partial, allow(dead_code))]
    /// Uses the first field error as the message when there is no other.
    pub(crate) fn message_from_first_field(&mut self) {
        if self.message.is_none()
            && let Some(first) = self.fields.first()
        {
            self.message = Some(format!("{}: {}", first.field, first.message));
            self.message_is_first_field = true;
        }
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
fn count_leaves(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(count_leaves).sum(),
        Value::Object(map) => map.values().map(count_leaves).sum(),
        Value::Null => 0,
        _ => 1,
    }
}

/// What an [`ErrorHook`] sees of a failed response.
pub(crate) struct ErrorBody<'a> {
    /// The response headers (credential headers and cookies already removed).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) headers: &'a HeaderMap,
    /// The body parsed as JSON, bounded (see [`bounded_json`]), when it is JSON.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) json: Option<&'a Value>,
}

impl ErrorBody<'_> {
    /// A header as text, when present and not empty.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(clip)
    }

    /// A top-level member of a JSON object body.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn member(&self, key: &str) -> Option<&Value> {
        self.json?.get(key)
    }
}

/// A service's reading of its own error shapes, called after the generic reading.
pub(crate) type ErrorHook = fn(&ErrorBody<'_>, &mut ServiceError);

/// Reads a failed response: first the shapes every JSON API uses (a JSON string,
/// `message`, `error_description`, `error`, `detail` as text, `code`), a text body, an HTML
/// page's `<title>` and `X-Request-Id`; then the service's own `hook`.
pub(crate) fn read_service_error(
    content_type: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    hook: Option<ErrorHook>,
) -> ServiceError {
    let mut out = ServiceError {
        trace_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(clip),
        ..ServiceError::default()
    };
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let trimmed = body.trim_ascii();
    let looks_json = !trimmed.is_empty() && (ct.contains("json") || matches!(trimmed[0], b'{' | b'[' | b'"'));
    let json = if looks_json { bounded_json(trimmed) } else { None };
    match &json {
        Some(value) => read_generic_json(value, &mut out),
        None if trimmed.is_empty() => {}
        // JSON cut at the error-body limit (or otherwise broken): its message may still be
        // in the part that came.
        None if looks_json && let Some(message) = scan_message(trimmed) => out.message = Some(message),
        None => {
            let text = String::from_utf8_lossy(trimmed);
            if ct.contains("html")
                || starts_with_ignore_case(&text, "<!doctype html")
                || starts_with_ignore_case(&text, "<html")
            {
                out.message = html_title(&text).map(|t| clip(&t));
            } else {
                out.message = Some(clip(&text));
            }
        }
    }
    if let Some(hook) = hook {
        hook(
            &ErrorBody {
                headers,
                json: json.as_ref(),
            },
            &mut out,
        );
    }
    out
}

fn read_generic_json(value: &Value, out: &mut ServiceError) {
    match value {
        Value::String(s) => out.set_message(s),
        Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(Value::as_str).map(clip);
            out.message = text("message")
                .or_else(|| text("error_description"))
                .or_else(|| text("error"))
                .or_else(|| text("detail"));
            out.code = ["code", "error_code", "error-code"]
                .iter()
                .find_map(|k| map.get(*k))
                .and_then(|v| match v {
                    Value::String(s) => Some(clip(s)),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
        }
        _ => {}
    }
}

/// The first of the usual message members whose string value is whole in `json`, read
/// without parsing the rest.
fn scan_message(json: &[u8]) -> Option<String> {
    ["message", "detail", "error_description", "error"]
        .iter()
        .find_map(|key| {
            let quoted = format!("\"{key}\"");
            let at = json.windows(quoted.len()).position(|w| w == quoted.as_bytes())?;
            let rest = json[at + quoted.len()..].trim_ascii_start();
            let rest = rest.strip_prefix(b":")?.trim_ascii_start();
            let value: String = serde_json::Deserializer::from_slice(rest)
                .into_iter::<String>()
                .next()?
                .ok()?;
            Some(clip(&value))
        })
}

/// Most JSON values an error body is read into; the rest is skipped without being kept.
const MAX_ERROR_JSON_NODES: usize = 1024;

/// Parses an error body as JSON into at most [`MAX_ERROR_JSON_NODES`] values, each string
/// and key cut at 1,000 bytes: what an error keeps stays proportional to the body cap, however
/// the body is shaped (16,000 array items, a 32 KiB key).
pub(crate) fn bounded_json(bytes: &[u8]) -> Option<Value> {
    use serde::de::DeserializeSeed;
    let mut budget = MAX_ERROR_JSON_NODES;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Bounded { budget: &mut budget }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    value
}

/// A `Value` seed with a shared node budget: `None` once the budget is spent.
struct Bounded<'b> {
    budget: &'b mut usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Bounded<'_> {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Bounded<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(mut self, v: bool) -> Result<Self::Value, E> {
        Ok(self.take().then_some(Value::Bool(v)))
    }

    fn visit_i64<E>(mut self, v: i64) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::from(v)))
    }

    fn visit_u64<E>(mut self, v: u64) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::from(v)))
    }

    fn visit_f64<E>(mut self, v: f64) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::from(v)))
    }

    fn visit_str<E>(mut self, v: &str) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::String(clip_raw(v))))
    }

    fn visit_unit<E>(mut self) -> Result<Self::Value, E> {
        Ok(self.take().then_some(Value::Null))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.take() {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            return Ok(None);
        }
        let mut items = Vec::new();
        loop {
            if *self.budget == 0 {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                break;
            }
            match seq.next_element_seed(Bounded {
                budget: &mut *self.budget,
            })? {
                Some(Some(v)) => items.push(v),
                Some(None) => {}
                None => break,
            }
        }
        Ok(Some(Value::Array(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        if !self.take() {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(None);
        }
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if *self.budget == 0 {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            if let Some(v) = map.next_value_seed(Bounded {
                budget: &mut *self.budget,
            })? {
                out.insert(clip_raw(&key), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

impl Bounded<'_> {
    /// Spends one value of the budget; `false` once it is spent.
    fn take(&mut self) -> bool {
        match self.budget.checked_sub(1) {
            Some(left) => {
                *self.budget = left;
                true
            }
            None => false,
        }
    }
}

/// A non-success HTTP response.
#[derive(Debug)]
#[non_exhaustive]
pub struct HttpError {
    pub(crate) target: Target,
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) body_truncated: bool,
    pub(crate) service: ServiceError,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) dont_retry: bool,
    pub(crate) attempts: u32,
    /// An earlier attempt of the same call ended without an answer that rules out its
    /// having been applied (it timed out, or got a 5xx).
    pub(crate) after_unanswered: bool,
}

impl HttpError {
    /// Method and path of the request.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// `Content-Type` of the body, if sent.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// Response headers, without `Set-Cookie` and credential headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A response header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, cut at the error-body limit (64 KiB by default), echoed credentials
    /// replaced by [`REDACTED`](crate::REDACTED).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Whether `body` is only the first part of what the server sent.
    pub fn body_truncated(&self) -> bool {
        self.body_truncated
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body parsed as JSON, if it is JSON (and was not cut).
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// What the service said, read from the body and headers.
    pub fn service(&self) -> &ServiceError {
        &self.service
    }

    /// `Retry-After`, in seconds or as an HTTP date, as a delay from when it was read.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether the server asked not to be retried (`Dont-Retry: True`, or from Diadoc
    /// `X-Kontur-Dont-Retry: True`).
    pub fn dont_retry(&self) -> bool {
        self.dont_retry
    }

    /// How many requests the call sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.target, self.status)?;
        let service = &self.service;
        // When the message is only the first field error, the field errors are the message:
        // `…: email: taken; name: blank`. Otherwise they follow it in parentheses.
        let inline = service.message_is_first_field;
        match &service.message {
            Some(_) if inline => {}
            Some(m) => write!(f, ": {}", Escaped(m))?,
            None if self.body.is_empty() => f.write_str(" with an empty body")?,
            None if service.fields.is_empty() => {
                let kind = self.content_type.as_deref().unwrap_or("unknown type");
                write!(f, " with a {} byte body of {}", self.body.len(), Escaped(kind))?;
            }
            None => {}
        }
        let listed = !service.fields.is_empty() || service.fields_omitted > 0;
        if listed {
            f.write_str(if inline { ": " } else { " (" })?;
            for (i, fe) in service.fields.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{}: {}", Escaped(&fe.field), Escaped(&fe.message))?;
            }
            if service.fields_omitted > 0 {
                if !service.fields.is_empty() {
                    f.write_str("; ")?;
                }
                write!(f, "… and {} more", service.fields_omitted)?;
            }
            if !inline {
                f.write_str(")")?;
            }
        }
        if let Some(code) = &service.code {
            write!(f, " [code {}]", Escaped(code))?;
        }
        if self.body_truncated {
            f.write_str(" (body cut at the error-body limit)")?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

/// A failure reported inside a success response (NovaConnect's `code`, Rightech's
/// `success: false`).
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiError {
    pub(crate) target: Target,
    pub(crate) http_status: StatusCode,
    pub(crate) code: i64,
    pub(crate) message: Option<String>,
    pub(crate) attempts: u32,
}

impl ApiError {
    /// Method and path of the request.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The HTTP status (usually 200).
    pub fn http_status(&self) -> StatusCode {
        self.http_status
    }

    /// The service's code.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The service's message.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// How many requests the call sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: service error code {}", self.target, self.code)?;
        if let Some(m) = &self.message {
            write!(f, ": {}", Escaped(m))?;
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
#[non_exhaustive]
pub struct TransportError {
    pub(crate) target: Target,
    pub(crate) kind: TransportKind,
    pub(crate) source: BoxError,
    pub(crate) attempts: u32,
}

impl TransportError {
    /// Method and path of the request.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// What failed.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// How many requests the call sent (or tried to send).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The underlying error (a `reqwest::Error`, or the pipeline's own), for downcasting.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportKind::Connect => "could not connect",
            TransportKind::Io => "the connection failed",
            TransportKind::Tls => "TLS handshake failed",
        };
        write!(f, "{}: {what}", self.target)?;
        let causes = distinct_causes(&*self.source);
        for cause in &causes {
            write!(f, ": {}", Escaped(cause))?;
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
#[non_exhaustive]
pub struct TimeoutError {
    pub(crate) target: Target,
    pub(crate) phase: TimeoutPhase,
    pub(crate) limit: Duration,
    pub(crate) attempts: u32,
}

impl TimeoutError {
    /// Method and path of the request.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Which limit ran out.
    pub fn phase(&self) -> TimeoutPhase {
        self.phase
    }

    /// The limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// How many requests the call sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
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
#[non_exhaustive]
pub struct DecodeError {
    pub(crate) target: Target,
    pub(crate) status: StatusCode,
    pub(crate) field_path: String,
    pub(crate) message: String,
    pub(crate) content_type: Option<String>,
    pub(crate) excerpt: Option<String>,
    pub(crate) attempts: u32,
}

impl DecodeError {
    /// Method and path of the request.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Path of the failing field, e.g. `result.item.email` (`.` for the top level).
    pub fn field_path(&self) -> &str {
        &self.field_path
    }

    /// What serde said.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `Content-Type` of the body.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The start of the body (none for responses that carry credentials).
    pub fn excerpt(&self) -> Option<&str> {
        self.excerpt.as_deref()
    }

    /// How many requests the call sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: could not decode the HTTP {} response at `{}`: {}",
            self.target,
            self.status,
            Escaped(&self.field_path),
            Escaped(&self.message)
        )?;
        if let Some(ct) = &self.content_type {
            write!(f, " (content type {})", Escaped(ct))?;
        }
        if let Some(x) = &self.excerpt {
            write!(f, "; body starts: {x:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

/// A response that breaks the service's protocol; see [`Error::Protocol`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ProtocolError {
    pub(crate) target: Target,
    pub(crate) status: Option<StatusCode>,
    pub(crate) message: String,
    pub(crate) attempts: u32,
}

impl ProtocolError {
    /// Method and path of the request whose response broke the protocol.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The status of that response.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How many requests the call sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.target)?;
        if let Some(status) = self.status {
            write!(f, "the HTTP {status} response breaks the protocol: ")?;
        }
        write!(f, "{}", Escaped(&self.message))
    }
}

impl std::error::Error for ProtocolError {}

/// Writes text with every control character (C0, DEL, C1, and the bidirectional overrides
/// that reorder what a terminal shows) as a `\u{…}` escape, so that server text cannot
/// forge log lines or drive a terminal.
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(needs_escape) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or_default();
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let title = html
        .get(open_end..end)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then_some(title)
}

/// Longest message or field text kept, in bytes.
const MESSAGE_LIMIT: usize = 1000;

/// Cuts a message at a char boundary (after trimming) so an error stays readable.
pub(crate) fn clip(s: &str) -> String {
    clip_raw(s.trim())
}

fn clip_raw(s: &str) -> String {
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
