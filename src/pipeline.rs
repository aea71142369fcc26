//! The one request pipeline every endpoint goes through: build the URL from encoded path
//! segments, attach credentials, send, retry by policy, read the body within its limit, map
//! failures to [`Error`], decode.
//!
//! An endpoint method names its operation, method, path segments, body and result type, and
//! hands them to [`Client::call`]; nothing else in the crate talks to `reqwest`.

use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER,
    SET_COOKIE, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{Auth, CREDENTIAL_HEADERS, sensitive_value};
use crate::client::Client;
use crate::error::{
    DecodeError, Error, HttpError, Result, ServiceError, Target, TimeoutError, TimeoutPhase, TransportError,
    TransportKind,
};
use crate::retry::{self, Decision, Outcome};

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const EXCERPT_CHARS: usize = 200;

/// One request on its way through the pipeline.
#[must_use = "a call does nothing until it is sent"]
pub(crate) struct Call<'c> {
    client: &'c Client,
    /// The operation's stable name, for spans.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    operation: &'static str,
    method: Method,
    url: Url,
    target: Target,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: bool,
    secret_response: bool,
}

/// A success response with its body read.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    target: Target,
    secret: bool,
}

impl Client {
    /// Starts a call to `segments` under the base URL. Each segment is percent-encoded on its
    /// own, so an id such as `a/b` or `?x` stays one segment; empty, `.` and `..` segments are
    /// refused, since a server would read them as path steps.
    pub(crate) fn call(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
    ) -> Result<Call<'_>> {
        let mut url = self.settings.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| Error::config("the base URL cannot take a path"))?;
            path.pop_if_empty();
            for segment in segments {
                if segment.is_empty() || *segment == "." || *segment == ".." {
                    return Err(Error::invalid_input(
                        operation,
                        format!("{segment:?} cannot be used as a path segment"),
                    ));
                }
                path.push(segment);
            }
        }
        let target = Target {
            method: method.clone(),
            path: url.path().to_owned(),
        };
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(ACCEPT, APPLICATION_JSON);
        Ok(Call {
            client: self,
            operation,
            method,
            url,
            target,
            headers,
            body: None,
            idempotent: false,
            secret_response: false,
        })
    }
}

// Some helpers serve only some services; with a service's feature off they may be unused.
#[allow(dead_code)]
impl<'c> Call<'c> {
    /// Appends a query parameter.
    pub(crate) fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.url.query_pairs_mut().append_pair(name, value.as_ref());
        self
    }

    /// Appends a query parameter when `value` is set.
    pub(crate) fn query_opt<V: ToString>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v.to_string()),
            None => self,
        }
    }

    /// Sets a request header.
    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// A JSON body, sent with `Content-Type: application/json` unless a content type was set.
    pub(crate) fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Config(format!("request body: {e}")))?;
        self.body = Some(Bytes::from(bytes));
        self.headers.entry(CONTENT_TYPE).or_insert(APPLICATION_JSON);
        Ok(self)
    }

    /// A body of raw bytes with its content type.
    pub(crate) fn body(mut self, body: impl Into<Bytes>, content_type: HeaderValue) -> Self {
        self.body = Some(body.into());
        self.headers.insert(CONTENT_TYPE, content_type);
        self
    }

    /// Marks the operation as safe to repeat, so the retry policy may replay it.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Marks the response as carrying a credential: decode errors then keep no excerpt.
    pub(crate) fn secret_response(mut self) -> Self {
        self.secret_response = true;
        self
    }

    /// Sends and decodes a JSON body into `T`.
    pub(crate) async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.send_raw().await?.json()
    }

    /// Sends and returns the body as text.
    pub(crate) async fn send_text(self) -> Result<String> {
        self.send_raw().await?.text()
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
                route = %route_template(&self.target.path),
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
                    tracing::debug!(error.kind = error_kind(err), "request failed");
                }
            }
        }
        result
    }

    async fn run(&self, started: Instant) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let mut attempt = 1;
        let mut refresh = false;
        let mut refreshed = false;
        // One timer per attempt, at whichever comes first: the attempt's own limit or the
        // end of the whole call. Waits between attempts are kept inside the total by `decide`.
        let total = settings.timeouts.total;
        let end = tokio::time::Instant::from_std(started) + total;
        loop {
            let auth = match tokio::time::timeout_at(end, self.auth_header(refresh)).await {
                Ok(auth) => auth?,
                Err(_) => return Err(self.timeout(TimeoutPhase::Total, total)),
            };
            refresh = false;
            #[cfg(feature = "tracing")]
            tracing::Span::current().record("attempts", attempt);
            let attempt_end = tokio::time::Instant::now() + settings.timeouts.attempt;
            let (deadline, phase, limit) = if attempt_end < end {
                (attempt_end, TimeoutPhase::Attempt, settings.timeouts.attempt)
            } else {
                (end, TimeoutPhase::Total, total)
            };
            let result = match tokio::time::timeout_at(deadline, self.attempt(auth)).await {
                Ok(result) => result,
                Err(_) => Err(self.timeout(phase, limit)),
            };
            let err = match result {
                Ok(response) => return Ok(response),
                Err(err) => err,
            };
            let outcome = outcome_of(&err);
            if err.status() == Some(StatusCode::UNAUTHORIZED)
                && self.idempotent
                && !refreshed
                && self.has_provider()
            {
                refresh = true;
                refreshed = true;
                continue;
            }
            let remaining = settings.timeouts.total.saturating_sub(started.elapsed());
            match retry::decide(
                &settings.retry,
                attempt,
                self.idempotent,
                outcome,
                Some(remaining),
                retry::jitter(),
            ) {
                Decision::Retry(wait) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(
                        attempt,
                        status = err.status().map(|s| s.as_u16()),
                        error.kind = error_kind(&err),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Decision::Stop => return Err(with_attempts(err, attempt)),
            }
        }
    }

    fn has_provider(&self) -> bool {
        let state = self.client.shared.auth.read().unwrap_or_else(|e| e.into_inner());
        matches!(state.auth, Auth::Provider(_))
    }

    async fn auth_header(&self, refresh: bool) -> Result<Option<(HeaderName, HeaderValue)>> {
        let provider = {
            let state = self.client.shared.auth.read().unwrap_or_else(|e| e.into_inner());
            match &state.auth {
                Auth::Provider(p) => p.clone(),
                Auth::Jwt(_) => {
                    if let Some(exp) = state.auth.expires_at()
                        && exp <= SystemTime::now()
                    {
                        let ago = SystemTime::now().duration_since(exp).unwrap_or_default();
                        return Err(Error::Auth {
                            target: self.target.clone(),
                            message: format!(
                                "the JWT expired {} s ago; get a new token (or use a token provider)",
                                ago.as_secs()
                            ),
                            source: None,
                        });
                    }
                    return Ok(state.header.clone());
                }
                _ => return Ok(state.header.clone()),
            }
        };
        let token = provider.token(refresh).await.map_err(|source| Error::Auth {
            target: self.target.clone(),
            message: "the token provider failed".to_owned(),
            source: Some(source),
        })?;
        token.check_header_safe("the token from the provider")?;
        Ok(Some((
            AUTHORIZATION,
            sensitive_value(&format!("Bearer {}", token.expose()))?,
        )))
    }

    async fn attempt(&self, auth: Option<(HeaderName, HeaderValue)>) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let mut headers = self.headers.clone();
        headers.insert(USER_AGENT, settings.user_agent.clone());
        if let Some((name, value)) = auth {
            headers.insert(name, value);
        }
        // A `Request` built directly: no builder merging headers, and no per-request timer
        // (the pipeline's own deadline covers the attempt, body included).
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        *request.headers_mut() = headers;
        if let Some(body) = &self.body {
            *request.body_mut() = Some(body.clone().into());
        }
        let mut response = self
            .client
            .shared
            .http
            .execute(request)
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        if status.is_success() {
            let body = match read_body(&mut response, settings.max_response_bytes).await {
                Ok((body, false)) => body,
                Ok((_, true)) => {
                    return Err(Error::BodyTooLarge {
                        target: self.target.clone(),
                        limit: settings.max_response_bytes,
                    });
                }
                Err(e) => return Err(self.transport(e)),
            };
            return Ok(RawResponse {
                status,
                headers: std::mem::take(response.headers_mut()),
                body,
                target: self.target.clone(),
                secret: self.secret_response,
            });
        }
        let mut headers = std::mem::take(response.headers_mut());
        // A broken error body still leaves the status to report, so read errors are dropped.
        let (body, body_truncated) = read_body(&mut response, settings.max_error_body_bytes)
            .await
            .unwrap_or_default();
        Err(self.http_error(status, &mut headers, body, body_truncated))
    }

    fn http_error(
        &self,
        status: StatusCode,
        headers: &mut HeaderMap,
        body: Bytes,
        body_truncated: bool,
    ) -> Error {
        headers.remove(SET_COOKIE);
        for name in CREDENTIAL_HEADERS {
            headers.remove(name);
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut service = ServiceError::parse(content_type.as_deref(), headers, &body);
        if status.is_redirection() && service.message.is_none() {
            let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("?");
            service.message = Some(format!("redirect to {location} not followed: another origin"));
        }
        let header_true = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        let dont_retry = header_true("dont-retry") || header_true("x-kontur-dont-retry");
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        Error::Http(Box::new(HttpError {
            target: self.target.clone(),
            status,
            content_type,
            headers: std::mem::take(headers),
            body,
            body_truncated,
            service,
            retry_after,
            dont_retry,
            attempts: 1,
        }))
    }

    fn transport(&self, e: reqwest::Error) -> Error {
        let settings = &self.client.settings;
        if e.is_timeout() {
            let (phase, limit) = if e.is_connect() {
                (TimeoutPhase::Connect, settings.timeouts.connect)
            } else {
                (TimeoutPhase::Attempt, settings.timeouts.attempt)
            };
            return self.timeout(phase, limit);
        }
        // A TLS failure is also a failure to connect, but retrying cannot mend it.
        let kind = if crate::tls::is_tls_failure(&e) {
            TransportKind::Tls
        } else if e.is_connect() {
            TransportKind::Connect
        } else if e.is_redirect() {
            TransportKind::Redirect
        } else {
            TransportKind::Io
        };
        Error::Transport(Box::new(TransportError {
            target: self.target.clone(),
            kind,
            source: Box::new(e.without_url()),
        }))
    }

    fn timeout(&self, phase: TimeoutPhase, limit: Duration) -> Error {
        Error::Timeout(Box::new(TimeoutError {
            target: self.target.clone(),
            phase,
            limit,
        }))
    }
}

#[allow(dead_code)]
impl RawResponse {
    /// A response as if it had come from the server, for tests of decoding.
    #[cfg(test)]
    pub(crate) fn for_test(status: StatusCode, content_type: Option<&str>, body: Vec<u8>) -> RawResponse {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
            headers.insert(CONTENT_TYPE, ct);
        }
        RawResponse {
            status,
            headers,
            body: Bytes::from(body),
            target: Target {
                method: Method::GET,
                path: "/test".to_owned(),
            },
            secret: false,
        }
    }

    /// Decodes the body as JSON. The fast path is a plain `serde_json::from_slice`; only when
    /// it fails is the body decoded again to find the failing field's path.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        match serde_json::from_slice(&self.body) {
            Ok(value) => Ok(value),
            Err(_) => Err(self.decode_error::<T>()),
        }
    }

    #[cold]
    fn decode_error<T: DeserializeOwned>(&self) -> Error {
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        let (field_path, message) = match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(_) => (
                ".".to_owned(),
                "trailing characters after the JSON value".to_owned(),
            ),
            Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        };
        let message = if self.body.trim_ascii().is_empty() {
            "the body is empty, JSON was expected".to_owned()
        } else {
            message
        };
        self.decode_failure(field_path, message)
    }

    /// A decode error about this response.
    pub(crate) fn decode_failure(&self, field_path: String, message: String) -> Error {
        let excerpt = (!self.secret && !self.body.is_empty()).then(|| {
            let text = String::from_utf8_lossy(&self.body);
            text.chars().take(EXCERPT_CHARS).collect()
        });
        Error::Decode(Box::new(DecodeError {
            target: self.target.clone(),
            status: self.status,
            field_path,
            message,
            content_type: self
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            excerpt,
        }))
    }

    /// The body as UTF-8 text.
    pub(crate) fn text(self) -> Result<String> {
        match String::from_utf8(self.body.to_vec()) {
            Ok(s) => Ok(s),
            Err(_) => Err(self.decode_failure(".".into(), "the body is not UTF-8 text".into())),
        }
    }

    /// A failure the service reported inside this success response (an envelope's code,
    /// `success: false`).
    pub(crate) fn api_error(&self, code: i64, message: Option<String>) -> Error {
        Error::Api(Box::new(crate::error::ApiError {
            target: self.target.clone(),
            http_status: self.status,
            code,
            message,
        }))
    }

    /// Method and path of the request.
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }
}

/// The path with its id-like segments (numbers, 24-hex object ids, UUIDs, anything
/// percent-encoded) replaced by `{id}`, so that spans group by endpoint and carry no ids.
#[cfg(any(feature = "tracing", test))]
fn route_template(path: &str) -> String {
    fn id_like(seg: &str) -> bool {
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
        (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()))
            || (seg.len() == 24 && hex(seg))
            || (seg.len() == 36 && hex(&seg.replace('-', "")) && seg.matches('-').count() == 4)
            || seg.contains('%')
    }
    path.split('/')
        .map(|seg| if id_like(seg) { "{id}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// A stable, body-free name for what went wrong, for logs.
#[cfg(feature = "tracing")]
fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::Http(_) => "http",
        Error::Api(_) => "api",
        Error::Transport(_) => "transport",
        Error::Timeout(_) => "timeout",
        Error::Decode(_) => "decode",
        Error::BodyTooLarge { .. } => "body-too-large",
        Error::InvalidInput { .. } => "invalid-input",
        Error::Config(_) => "config",
        Error::Auth { .. } => "auth",
    }
}

fn outcome_of(err: &Error) -> Outcome {
    match err {
        Error::Http(e) => Outcome::Status {
            status: e.status,
            retry_after: e.retry_after,
            dont_retry: e.dont_retry,
        },
        // `TransportKind::Tls` is not transient: it falls to `Fatal`.
        Error::Transport(e) if e.kind == TransportKind::Connect => Outcome::Connect,
        Error::Timeout(e) if e.phase != TimeoutPhase::Total => Outcome::AttemptTimeout,
        _ => Outcome::Fatal,
    }
}

fn with_attempts(mut err: Error, attempts: u32) -> Error {
    if let Error::Http(e) = &mut err {
        e.attempts = attempts;
    }
    err
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = crate::time::parse_http_date(value)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Reads a body up to `limit` bytes. Returns the bytes and whether the body was longer: a
/// longer body is read no further than the limit. A body in one chunk is not copied.
async fn read_body(response: &mut reqwest::Response, limit: usize) -> Result<(Bytes, bool), reqwest::Error> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Ok((Bytes::new(), true));
    }
    let Some(first) = response.chunk().await? else {
        return Ok((Bytes::new(), false));
    };
    if first.len() > limit {
        return Ok((first.slice(..limit), true));
    }
    let Some(second) = response.chunk().await? else {
        return Ok((first, false));
    };
    let hint = response.content_length().map_or(0, |n| n as usize).min(limit);
    let mut buf = BytesMut::with_capacity(hint.max(first.len() + second.len()));
    buf.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if buf.len() + chunk.len() > limit {
            let room = limit - buf.len();
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf.freeze(), true));
        }
        buf.extend_from_slice(&chunk);
        next = response.chunk().await?;
    }
    Ok((buf.freeze(), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder()
            .base_url("https://h.example/api")
            .build()
            .unwrap()
    }

    #[test]
    fn segments_are_encoded_one_by_one() {
        let c = client();
        let call = c.call("t", Method::GET, &["users", "a/b?c#d e"]).unwrap();
        assert_eq!(call.url.as_str(), "https://h.example/api/users/a%2Fb%3Fc%23d%20e");
        assert_eq!(call.target.path, "/api/users/a%2Fb%3Fc%23d%20e");
        let call = c.call("t", Method::GET, &["users", "..%2Fadmin"]).unwrap();
        assert_eq!(call.url.path(), "/api/users/..%252Fadmin");
        for bad in ["..", ".", ""] {
            let err = c.call("t", Method::GET, &["users", bad]).err().unwrap();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad:?}");
        }
    }

    #[test]
    fn query_is_encoded() {
        let c = client();
        let call = c
            .call("t", Method::GET, &["x"])
            .unwrap()
            .query("q", "a&b=c d")
            .query_opt("n", Some(5))
            .query_opt::<u8>("none", None);
        assert_eq!(call.url.query(), Some("q=a%26b%3Dc+d&n=5"));
    }

    #[test]
    fn route_templates_hide_ids() {
        let cases = [
            ("/api/user/42", "/api/user/{id}"),
            ("/api/v1/users/5f2b6c1e9d3a4b0012345678", "/api/v1/users/{id}"),
            ("/users/6f1c2b9e-0d3a-4c5b-8e7f-123456789abc", "/users/{id}"),
            ("/users/a%2Fb", "/users/{id}"),
            ("/api/user/current", "/api/user/current"),
            ("/V2/GetMyUser", "/V2/GetMyUser"),
            ("/api/user/7/modal/qbnewb", "/api/user/{id}/modal/qbnewb"),
        ];
        for (path, want) in cases {
            assert_eq!(route_template(path), want, "{path}");
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT").unwrap();
        assert!(later > Duration::from_secs(3600 * 24 * 365));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
