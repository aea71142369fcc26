//! The one request pipeline every endpoint goes through: build the URL from encoded path
//! segments, attach credentials, send, retry by policy, read the body within its limit, map
//! failures to [`Error`], decode.
//!
//! An endpoint method names its operation, method, path segments, body and result type, and
//! hands them to [`Client::call`]; nothing else in the crate talks to `reqwest`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{
    ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER,
    SET_COOKIE, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{Auth, CREDENTIAL_HEADERS, Credential, CredentialStep, Redactor, Secret};
use crate::client::{Client, usable};
use crate::error::{
    DecodeError, Error, ErrorHook, HttpError, Result, Target, TimeoutError, TimeoutPhase, TransportError,
    TransportKind, read_service_error,
};
use crate::retry::{self, Decision, Outcome};

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const EXCERPT_CHARS: usize = 200;

/// One request on its way through the pipeline.
#[must_use = "a call does nothing until it is sent"]
pub(crate) struct Call<'c> {
    client: &'c Client,
    service: &'static Service,
    /// Secrets the body carries, redacted wherever the server echoes them.
    body_secrets: Vec<Secret>,
    /// A credential sent instead of the client's.
    auth_override: Option<Credential>,
    /// The operation's stable name, for spans.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    operation: &'static str,
    method: Method,
    url: Url,
    /// Shared with the response, so a success costs no copy of the path.
    target: Arc<Target>,
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
    target: Arc<Target>,
    secret: bool,
    /// The secrets the request sent (its credential's, and its body's), redacted from
    /// decode excerpts.
    credential_secrets: Arc<[Secret]>,
    body_secrets: Vec<Secret>,
    /// Requests sent to get it.
    attempts: u32,
}

/// A service as the pipeline needs to know it: its name and how it words its errors.
#[derive(Debug)]
pub(crate) struct Service {
    /// Reads the service's own error shapes after the generic reading.
    pub(crate) read_error: Option<ErrorHook>,
}

/// No service knowledge: the generic error reading only.
pub(crate) static GENERIC: Service = Service { read_error: None };

/// Longest id accepted as one path segment, in bytes before encoding.
pub(crate) const MAX_SEGMENT_BYTES: usize = 1024;

impl Client {
    /// Starts a call to `route` under the base URL. `route` is the endpoint's template
    /// (`api/user/{id}/password`); each `{…}` placeholder takes the next of `ids`, which is
    /// percent-encoded byte by byte on its own, so an id such as `a/b`, `?x` or `m\te` stays
    /// one segment and means what it says. Empty, `.` and `..` ids, and ids over
    /// [`MAX_SEGMENT_BYTES`], are refused, since a server would read them as path steps.
    #[cfg_attr(
        not(any(
            feature = "novaconnect",
            feature = "diadoc",
            feature = "rounds",
            feature = "metabase",
            feature = "rightech"
        )),
        allow(dead_code)
    )]
    pub(crate) fn call(
        &self,
        service: &'static Service,
        operation: &'static str,
        method: Method,
        route: &'static str,
        ids: &[&str],
    ) -> Result<Call<'_>> {
        let base = &self.settings.base;
        let mut path = String::with_capacity(base.path().len() + route.len() + 16);
        path.push_str(base.path());
        let mut ids = ids.iter();
        for (i, literal) in route.split('/').enumerate() {
            if i > 0 {
                path.push('/');
            }
            if literal.starts_with('{') && literal.ends_with('}') {
                let Some(id) = ids.next() else {
                    return Err(Error::invalid_input(
                        operation,
                        "the route has more placeholders than ids",
                    ));
                };
                push_segment(operation, &mut path, id)?;
            } else if literal.contains(['{', '}']) {
                return Err(Error::invalid_input(
                    operation,
                    format!("the route segment {literal:?} is neither a word nor a placeholder"),
                ));
            } else {
                path.push_str(literal);
            }
        }
        if ids.next().is_some() {
            return Err(Error::invalid_input(
                operation,
                "more ids than the route has placeholders",
            ));
        }
        let mut route_path = String::with_capacity(base.path().len() + route.len());
        route_path.push_str(base.path());
        route_path.push_str(route);
        self.start(service, operation, method, path, route_path)
    }

    /// Starts a call to `segments` (each percent-encoded on its own) under the base URL.
    pub(crate) fn call_segments(
        &self,
        service: &'static Service,
        operation: &'static str,
        method: Method,
        segments: &[&str],
    ) -> Result<Call<'_>> {
        let base = &self.settings.base;
        let mut path = base.path().to_owned();
        let mut route = base.path().to_owned();
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                path.push('/');
                route.push('/');
            }
            push_segment(operation, &mut path, segment)?;
            route.push_str(if word_like(segment) { segment } else { "{id}" });
        }
        self.start(service, operation, method, path, route)
    }

    fn start(
        &self,
        service: &'static Service,
        operation: &'static str,
        method: Method,
        path: String,
        route: String,
    ) -> Result<Call<'_>> {
        let mut url = self.settings.base.clone();
        url.set_path(&path);
        // The URL parser may still read something into a path (dot segments); what is sent
        // must be exactly what was built, or nothing is sent.
        if url.path() != path {
            return Err(Error::invalid_input(
                operation,
                "an id would change the request path; refused",
            ));
        }
        let target = Arc::new(Target::new(method.clone(), path, route));
        // Every header but the credential, once per call: the client's defaults, then the
        // call's own (which win), then `User-Agent`.
        let settings = &self.settings;
        let mut headers = HeaderMap::with_capacity(settings.headers.len() + 6);
        headers.extend(settings.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        headers.insert(ACCEPT, APPLICATION_JSON);
        headers.insert(USER_AGENT, settings.user_agent.clone());
        Ok(Call {
            client: self,
            service,
            body_secrets: Vec::new(),
            auth_override: None,
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

/// Appends `id`, percent-encoded, as one path segment.
fn push_segment(operation: &'static str, path: &mut String, id: &str) -> Result<()> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(Error::invalid_input(
            operation,
            format!("{id:?} cannot be used as a path segment"),
        ));
    }
    if id.len() > MAX_SEGMENT_BYTES {
        return Err(Error::invalid_input(
            operation,
            format!(
                "an id of {} bytes is longer than the {MAX_SEGMENT_BYTES} bytes a path segment may have",
                id.len()
            ),
        ));
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in id.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(b));
        } else {
            path.push('%');
            path.push(char::from(HEX[usize::from(b >> 4)]));
            path.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    Ok(())
}

/// A segment that reads as a word of a route (`current`, `GetMyUser`, `v1`), not as an id.
fn word_like(segment: &str) -> bool {
    let version =
        |s: &str| s.len() <= 3 && s.starts_with(['v', 'V']) && s[1..].bytes().all(|b| b.is_ascii_digit());
    version(segment)
        || (segment.len() <= 32
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'-' | b'_')))
}

impl<'c> Call<'c> {
    /// Appends a query parameter.
    pub(crate) fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.url.query_pairs_mut().append_pair(name, value.as_ref());
        self
    }

    /// Appends a query parameter when `value` is set.
    #[cfg_attr(
        not(any(feature = "novaconnect", feature = "metabase", feature = "rightech")),
        allow(dead_code)
    )]
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
    /// Secrets in the body (fields written with `expose_secret`) are noted for redaction.
    pub(crate) fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let (bytes, secrets) = crate::auth::noting_secrets(|| serde_json::to_vec(body));
        self.body_secrets.extend(secrets);
        let bytes = bytes.map_err(|e| {
            Error::invalid_input(
                self.operation,
                format!("the request body cannot be written as JSON: {e}"),
            )
        })?;
        self.body = Some(Bytes::from(bytes));
        self.headers.entry(CONTENT_TYPE).or_insert(APPLICATION_JSON);
        Ok(self)
    }

    /// Sends this credential instead of the client's (`Auth::None` for a login).
    #[cfg_attr(not(any(feature = "metabase", feature = "diadoc")), allow(dead_code))]
    pub(crate) fn auth_override(mut self, auth: &Auth) -> Result<Self> {
        auth.validate()?;
        self.auth_override = Some(Credential {
            header: auth.static_header()?,
            secrets: auth.secrets().into(),
            generation: 0,
        });
        Ok(self)
    }

    /// Method, path and route of this call, for tests.
    #[cfg(test)]
    pub(crate) fn target_for_test(&self) -> &Target {
        &self.target
    }

    /// Marks the operation as safe to repeat, so the retry policy may replay it.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Marks the response as carrying a credential: decode errors then keep no excerpt.
    #[cfg_attr(
        not(any(feature = "diadoc", feature = "metabase", feature = "rightech")),
        allow(dead_code)
    )]
    pub(crate) fn secret_response(mut self) -> Self {
        self.secret_response = true;
        self
    }

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
                    tracing::debug!(error.kind = error_kind(err), "request failed");
                }
            }
        }
        result
    }

    /// Attempts until success, a decision to stop, or the total timeout. Every request sent
    /// is counted in the result's `attempts`, replays after a credential refresh included.
    async fn run(&self, started: Instant) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let total = settings.timeouts.total();
        // `None`: no total limit (a timeout too long to add to the clock).
        let end = usable(total).and_then(|t| tokio::time::Instant::from_std(started).checked_add(t));
        let mut attempt = 1;
        let mut sent = 0;
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
                        Some(Err(err)) => return Err(with_attempts(err, sent)),
                        None => return Err(with_attempts(self.timeout(TimeoutPhase::Total, total), sent)),
                    },
                    Err(err) => return Err(with_attempts(err, sent)),
                },
            };
            #[cfg(feature = "tracing")]
            tracing::Span::current().record("attempts", sent + 1);
            let attempt_end =
                usable(settings.timeouts.attempt()).and_then(|d| tokio::time::Instant::now().checked_add(d));
            let (deadline, phase, limit) = match (attempt_end, end) {
                (Some(a), Some(e)) if e <= a => (Some(e), TimeoutPhase::Total, total),
                (None, Some(e)) => (Some(e), TimeoutPhase::Total, total),
                (a, _) => (a, TimeoutPhase::Attempt, settings.timeouts.attempt()),
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
                        Some(Err(refresh_err)) => return Err(with_attempts(refresh_err, sent)),
                        None => return Err(with_attempts(self.timeout(TimeoutPhase::Total, total), sent)),
                    }
                }
                Decision::Retry(wait) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(
                        attempt,
                        status = err.status().map(|s| s.as_u16()),
                        error.kind = error_kind(&err),
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
                    if let Error::Http(e) = &mut err {
                        e.after_unanswered = unanswered;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// One attempt: the request, and the redirects within the origin it leads to.
    async fn attempt(&self, credential: &Credential) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let mut method = self.method.clone();
        let mut url = self.url.clone();
        let mut body = self.body.clone();
        let mut redirects = 0;
        loop {
            let mut headers = self.headers.clone();
            if body.is_none() {
                headers.remove(CONTENT_TYPE);
            }
            if let Some((name, value)) = &credential.header {
                headers.insert(name.clone(), value.clone());
            }
            // A `Request` built directly: no builder merging headers, and no per-request
            // timer (the pipeline's own deadline covers the attempt, body included).
            let mut request = reqwest::Request::new(method.clone(), url.clone());
            *request.headers_mut() = headers;
            if let Some(body) = &body {
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
                let body = match read_body(&mut response, settings.max_response_bytes, false).await {
                    Ok((body, false)) => body,
                    Ok((_, true)) => {
                        return Err(Error::BodyTooLarge {
                            target: Target::clone(&self.target),
                            limit: settings.max_response_bytes,
                            attempts: 1,
                        });
                    }
                    Err(e) => return Err(self.transport(e)),
                };
                return Ok(RawResponse {
                    status,
                    headers: std::mem::take(response.headers_mut()),
                    body,
                    target: Arc::clone(&self.target),
                    secret: self.secret_response,
                    credential_secrets: Arc::clone(&credential.secrets),
                    body_secrets: self.body_secrets.clone(),
                    attempts: 1,
                });
            }
            if let Some(next) = self.same_origin_redirect(status, response.headers(), &url)
                && redirects < MAX_REDIRECTS
            {
                redirects += 1;
                // 303, and 301/302 after a POST, continue as a GET without a body; 307 and
                // 308 repeat the request as it was.
                let to_get = status == StatusCode::SEE_OTHER
                    || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                        && method == Method::POST);
                if to_get && method != Method::HEAD {
                    method = Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
            let mut headers = std::mem::take(response.headers_mut());
            // A broken error body still leaves the status to report, so read errors are
            // dropped; a body longer than the limit is kept up to the limit.
            let (body, body_truncated) = read_body(&mut response, settings.max_error_body_bytes, true)
                .await
                .unwrap_or_default();
            return Err(self.http_error(status, &mut headers, body, body_truncated, &url, credential));
        }
    }

    /// The next URL of a redirect that may be followed: a 301, 302, 303, 307 or 308 with a
    /// `Location` in the same origin.
    fn same_origin_redirect(&self, status: StatusCode, headers: &HeaderMap, from: &Url) -> Option<Url> {
        if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let location = headers.get(LOCATION)?.to_str().ok()?;
        let next = from.join(location).ok()?;
        same_origin(&next, from).then_some(next)
    }

    fn secrets(&self, credential: &Credential) -> Vec<Secret> {
        credential
            .secrets
            .iter()
            .chain(&self.body_secrets)
            .cloned()
            .collect()
    }

    fn http_error(
        &self,
        status: StatusCode,
        headers: &mut HeaderMap,
        body: Bytes,
        body_truncated: bool,
        url: &Url,
        credential: &Credential,
    ) -> Error {
        headers.remove(SET_COOKIE);
        for name in CREDENTIAL_HEADERS {
            headers.remove(name);
        }
        let secrets = self.secrets(credential);
        let redactor = Redactor::new(&secrets);
        redactor.headers(headers);
        let body = if body_truncated {
            redactor.cut_bytes(body)
        } else {
            redactor.bytes(body)
        };
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut service =
            read_service_error(content_type.as_deref(), headers, &body, self.service.read_error);
        if status.is_redirection() && service.message.is_none() {
            service.message = Some(redirect_message(status, headers, url));
        }
        redactor.option(&mut service.message);
        redactor.option(&mut service.code);
        redactor.option(&mut service.trace_id);
        for field in &mut service.fields {
            redactor.string(&mut field.field);
            redactor.string(&mut field.message);
        }
        // Any server may ask not to be retried; a service's own spelling is read by its hook.
        let dont_retry = service.dont_retry || header_true(headers, "dont-retry");
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        Error::Http(Box::new(HttpError {
            target: Target::clone(&self.target),
            status,
            content_type,
            headers: std::mem::take(headers),
            body,
            body_truncated,
            service,
            retry_after,
            dont_retry,
            attempts: 1,
            after_unanswered: false,
        }))
    }

    fn transport(&self, e: reqwest::Error) -> Error {
        let settings = &self.client.settings;
        if e.is_timeout() {
            let (phase, limit) = if e.is_connect() {
                (TimeoutPhase::Connect, settings.timeouts.connect())
            } else {
                (TimeoutPhase::Attempt, settings.timeouts.attempt())
            };
            return self.timeout(phase, limit);
        }
        // A TLS failure is also a failure to connect, but retrying cannot mend it.
        let kind = if crate::tls::is_tls_failure(&e) {
            TransportKind::Tls
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Io
        };
        Error::Transport(Box::new(TransportError {
            target: Target::clone(&self.target),
            kind,
            source: Box::new(e.without_url()),
            attempts: 1,
        }))
    }

    fn timeout(&self, phase: TimeoutPhase, limit: Duration) -> Error {
        Error::Timeout(Box::new(TimeoutError {
            target: Target::clone(&self.target),
            phase,
            limit,
            attempts: 1,
        }))
    }
}

/// Whether two URLs have one origin (scheme, host, port), without building either origin.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Redirects followed within the origin, at most.
const MAX_REDIRECTS: u32 = 5;

/// What a 3xx that was not followed means, in words.
fn redirect_message(status: StatusCode, headers: &HeaderMap, from: &Url) -> String {
    let location = headers.get(LOCATION).and_then(|v| v.to_str().ok());
    match (status.as_u16(), location) {
        (304, _) => "HTTP 304 Not Modified, but the request was not conditional".to_owned(),
        (301 | 302 | 303 | 307 | 308, None) => format!("a {status} redirect without a Location header"),
        (301 | 302 | 303 | 307 | 308, Some(location)) => match from.join(location) {
            Ok(next) if !same_origin(&next, from) => format!(
                "redirect to another origin ({}) not followed: credentials stay with {}",
                next.origin().ascii_serialization(),
                from.origin().ascii_serialization()
            ),
            Ok(_) => format!("more than {MAX_REDIRECTS} redirects within the origin"),
            Err(_) => "a redirect whose Location is not a URL".to_owned(),
        },
        _ => format!("a {status} response: redirects of this kind are not followed"),
    }
}

/// Runs `f` until `deadline`; `None` when the deadline came first. No deadline: no timer.
async fn within<F: std::future::Future>(deadline: Option<tokio::time::Instant>, f: F) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, f).await.ok(),
        None => Some(f.await),
    }
}

/// Whether a header says `true` (any case, surrounding space ignored).
pub(crate) fn header_true(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

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
            target: Arc::new(Target::new(Method::GET, "/test", "/test")),
            secret: false,
            credential_secrets: Arc::from(Vec::new()),
            body_secrets: Vec::new(),
            attempts: 1,
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
        let redactor = Redactor::new(self.credential_secrets.iter().chain(&self.body_secrets));
        let excerpt = (!self.secret && !self.body.is_empty()).then(|| {
            let mut text = String::from_utf8_lossy(&self.body).into_owned();
            redactor.string(&mut text);
            text.chars().take(EXCERPT_CHARS).collect()
        });
        let (mut message, mut field_path) = (message, field_path);
        redactor.string(&mut message);
        redactor.string(&mut field_path);
        Error::Decode(Box::new(DecodeError {
            target: Target::clone(&self.target),
            status: self.status,
            field_path,
            message,
            content_type: self
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            excerpt,
            attempts: self.attempts,
        }))
    }

    /// A response that breaks the service's protocol (an empty session id, a missing
    /// created id).
    #[cfg_attr(not(any(feature = "metabase", feature = "rightech")), allow(dead_code))]
    pub(crate) fn protocol_error(&self, message: impl Into<String>) -> Error {
        let mut message = message.into();
        Redactor::new(self.credential_secrets.iter().chain(&self.body_secrets)).string(&mut message);
        let mut err = Error::protocol(&self.target, Some(self.status), message);
        err.set_attempts(self.attempts);
        err
    }

    /// A failure the service reported inside this success response (an envelope's code,
    /// `success: false`).
    #[cfg_attr(not(any(feature = "novaconnect", feature = "rightech")), allow(dead_code))]
    pub(crate) fn api_error(&self, code: i64, message: Option<String>) -> Error {
        let mut message = message;
        Redactor::new(self.credential_secrets.iter().chain(&self.body_secrets)).option(&mut message);
        Error::Api(Box::new(crate::error::ApiError {
            target: Target::clone(&self.target),
            http_status: self.status,
            code,
            message,
            attempts: self.attempts,
        }))
    }

    /// Method and path of the request.
    #[cfg_attr(not(any(feature = "metabase", feature = "rightech")), allow(dead_code))]
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }
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
        Error::Protocol(_) => "protocol",
        Error::Io(_) => "io",
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
    err.set_attempts(attempts);
    err
}

/// `Retry-After` as delay-seconds or an HTTP date.
///
/// Delay-seconds too large for a `u64` are [`Duration::MAX`]: longer than any cap, so the
/// call stops at once.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = crate::time::parse_http_date(value)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Reads a body up to `limit` bytes. Returns the bytes and whether the body was longer: a
/// longer body is read no further than the limit. A body in one chunk is not copied; any
/// other is copied once, into a buffer of exactly its length, so that nothing but the body
/// stays allocated while it is decoded.
///
/// A declared length over the limit ends the read at once, unless `keep_prefix` (error
/// bodies: their first `limit` bytes still carry the server's message). A body reqwest
/// decompresses has no declared length (reqwest drops `Content-Length` with the encoding), so
/// the limit applies to the decompressed bytes as they come.
async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    keep_prefix: bool,
) -> Result<(Bytes, bool), reqwest::Error> {
    // The whole length, read before any chunk: `content_length()` tells only what is still to
    // come (sizing the buffer from it after two chunks once made it short, and doubled).
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or_else(|| response.content_length());
    if !keep_prefix && declared.is_some_and(|len| len > limit as u64) {
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
    if let Some(len) = declared {
        // The length is known (and at most the limit, or only a prefix is kept): one buffer of
        // that size, filled as the chunks come.
        let capacity = (len.min(limit as u64) as usize).max((first.len() + second.len()).min(limit));
        let mut buf = BytesMut::with_capacity(capacity);
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
        return Ok((buf.freeze(), false));
    }
    // Unknown length (chunked, or decompressed): keep the chunks, then copy them once into a
    // buffer of the exact total. Growing one buffer instead would leave up to half of it
    // unused, and allocated, while the body is decoded. Small chunks are gathered as they
    // come, so a server that sends its body a few bytes at a time cannot make the list of
    // chunks outgrow the body.
    const SMALL: usize = 16 * 1024;
    let mut parts: Vec<Bytes> = Vec::new();
    let mut small = BytesMut::new();
    let mut total = 0;
    let mut truncated = false;
    let mut next = Some(first);
    let mut then = Some(second);
    while let Some(mut chunk) = next {
        if total + chunk.len() > limit {
            chunk = chunk.slice(..limit - total);
            truncated = true;
        }
        total += chunk.len();
        if chunk.len() < SMALL {
            small.extend_from_slice(&chunk);
            if small.len() >= 4 * SMALL {
                parts.push(small.split().freeze());
            }
        } else {
            if !small.is_empty() {
                parts.push(small.split().freeze());
            }
            parts.push(chunk);
        }
        if truncated {
            break;
        }
        next = match then.take() {
            Some(chunk) => Some(chunk),
            None => response.chunk().await?,
        };
    }
    if truncated && !keep_prefix {
        // Too large, and nothing of it is kept.
        return Ok((Bytes::new(), true));
    }
    if !small.is_empty() {
        parts.push(small.split().freeze());
    }
    if parts.len() == 1 {
        return Ok((parts.swap_remove(0), truncated));
    }
    let mut buf = BytesMut::with_capacity(total);
    for part in parts {
        buf.extend_from_slice(&part);
    }
    Ok((buf.freeze(), truncated))
}

/// A request to an endpoint this crate does not model yet, through the same pipeline as
/// every modelled call: credentials, per-segment encoding, timeouts, retries (only when
/// marked [`idempotent`](Self::idempotent)), body limits, error mapping and redaction.
///
/// Start one with [`Client::request`] (generic error reading) or a service's own `request`
/// (that service's error shapes), e.g. [`Metabase::request`](crate::metabase::Metabase::request).
///
/// With the `tracing` feature, a modelled endpoint's span records its route template
/// (`/api/user/{id}`). Here the crate cannot tell a fixed segment from an id, so the span
/// records segments made only of letters, `-` and `_` (and `v1`-style versions) as they are
/// and every other segment as `{id}`: an id that is a plain word (a user name) shows there.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # #[cfg(feature = "rounds")] {
/// use userapi::Method;
/// # let fake = userapi_fake::rounds::FakeRounds::start().await?;
/// # let client = fake.api()?.client().clone();
/// // GET /users/<id> with the client's credentials; the id is encoded as one segment.
/// let user: serde_json::Value = client
///     .request(Method::GET, &["users", userapi_fake::rounds::OTHER])
///     .idempotent()
///     .send()
///     .await?;
/// assert_eq!(user["id"], userapi_fake::rounds::OTHER);
/// # }
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder<'c> {
    call: Result<Call<'c>>,
}

impl std::fmt::Debug for RequestBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.call {
            Ok(call) => f
                .debug_struct("RequestBuilder")
                .field("target", &call.target)
                .field("idempotent", &call.idempotent)
                .finish_non_exhaustive(),
            Err(e) => f.debug_tuple("RequestBuilder").field(e).finish(),
        }
    }
}

impl<'c> RequestBuilder<'c> {
    pub(crate) fn new(call: Result<Call<'c>>) -> Self {
        RequestBuilder { call }
    }

    /// Appends a query parameter (encoded).
    pub fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.call = self.call.map(|c| c.query(name, value));
        self
    }

    /// Sets a request header. A name or value that cannot be a header fails the call when
    /// it is sent.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.call = self.call.and_then(|c| {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid_input(c.operation, format!("{name:?} is not a header name")))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::invalid_input(
                    c.operation,
                    "a header value holds a character that cannot go in a header",
                )
            })?;
            Ok(c.header(name, value))
        });
        self
    }

    /// A JSON body.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.call = self.call.and_then(|c| c.json(body));
        self
    }

    /// Marks the request as safe to repeat, so the retry policy may replay it (and a `401`
    /// with a token provider may be replayed once with a fresh token).
    pub fn idempotent(mut self) -> Self {
        self.call = self.call.map(Call::idempotent);
        self
    }

    /// Sends and decodes a JSON body into `T`.
    ///
    /// # Errors
    /// Any [`Error`]: the request could not be built, the server refused it, the body does
    /// not decode into `T`.
    pub async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.call?.send().await
    }

    /// Sends and ignores a success body.
    ///
    /// # Errors
    /// As [`send`](Self::send), but the body is not read as JSON.
    pub async fn send_empty(self) -> Result<()> {
        self.call?.send_empty().await
    }

    /// Sends and returns the success body as it came.
    ///
    /// # Errors
    /// As [`send_empty`](Self::send_empty).
    pub async fn send_bytes(self) -> Result<Bytes> {
        Ok(self.call?.send_raw().await?.body)
    }
}

impl Client {
    /// A request to `segments` under the base URL (each segment percent-encoded on its own),
    /// for an endpoint this crate does not model; see [`RequestBuilder`]. Errors are read
    /// the generic way; a service's own `request` reads that service's error shapes.
    pub fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder<'_> {
        RequestBuilder::new(self.call_segments(&GENERIC, "request", method, segments))
    }
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
    fn ids_are_encoded_one_by_one() {
        let c = client();
        let call = c
            .call(&GENERIC, "t", Method::GET, "users/{id}", &["a/b?c#d e"])
            .unwrap();
        assert_eq!(call.url.as_str(), "https://h.example/api/users/a%2Fb%3Fc%23d%20e");
        assert_eq!(call.target.path(), "/api/users/a%2Fb%3Fc%23d%20e");
        assert_eq!(call.target.route(), "/api/users/{id}");
        let call = c
            .call(&GENERIC, "t", Method::GET, "users/{id}", &["..%2Fadmin"])
            .unwrap();
        assert_eq!(call.url.path(), "/api/users/..%252Fadmin");
        for bad in ["..", ".", ""] {
            let err = c
                .call(&GENERIC, "t", Method::GET, "users/{id}", &[bad])
                .err()
                .unwrap();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad:?}");
        }
    }

    #[test]
    fn control_characters_never_vanish_from_a_segment() {
        let c = client();
        for (id, want) in [
            ("m\te", "/api/users/m%09e"),
            ("..\t", "/api/users/..%09"),
            ("\t", "/api/users/%09"),
            ("\r\n", "/api/users/%0D%0A"),
            ("ё", "/api/users/%D1%91"),
            ("%2e%2e", "/api/users/%252e%252e"),
        ] {
            let call = c.call(&GENERIC, "t", Method::GET, "users/{id}", &[id]).unwrap();
            assert_eq!(call.url.path(), want, "{id:?}");
        }
    }

    #[test]
    fn long_ids_are_refused_with_a_short_message() {
        let c = client();
        let id = "x".repeat(1024 * 1024);
        let err = c
            .call(&GENERIC, "t", Method::GET, "users/{id}", &[&id])
            .err()
            .unwrap();
        assert!(matches!(err, Error::InvalidInput { .. }));
        assert!(err.to_string().len() < 200, "{}", err.to_string().len());
        let ok = "x".repeat(MAX_SEGMENT_BYTES);
        assert!(c.call(&GENERIC, "t", Method::GET, "users/{id}", &[&ok]).is_ok());
    }

    #[test]
    fn placeholders_and_ids_must_match() {
        let c = client();
        let message = |route: &'static str, ids: &[&str]| match c.call(&GENERIC, "t", Method::GET, route, ids)
        {
            Err(Error::InvalidInput { message, .. }) => message,
            Err(other) => panic!("{other:?}"),
            Ok(call) => panic!("{route} built {}", call.url),
        };
        assert!(message("users/{id}", &[]).contains("more placeholders than ids"));
        assert!(message("users", &["x"]).contains("more ids than"));
        assert!(message("users/id}", &["x"]).contains("neither a word nor a placeholder"));
        assert!(message("users/{id", &["x"]).contains("neither a word nor a placeholder"));
        // Refused for what they are, before the check of the built path would catch them.
        for id in ["", ".", ".."] {
            assert!(
                message("users/{id}", &[id]).contains("cannot be used as a path segment"),
                "{id:?}"
            );
        }
    }

    #[test]
    fn query_is_encoded() {
        let c = client();
        let call = c
            .call(&GENERIC, "t", Method::GET, "x", &[])
            .unwrap()
            .query("q", "a&b=c d")
            .query_opt("n", Some(5))
            .query_opt::<u8>("none", None);
        assert_eq!(call.url.query(), Some("q=a%26b%3Dc+d&n=5"));
    }

    #[test]
    fn escape_hatch_routes_hide_ids() {
        let c = client();
        let cases: [(&[&str], &str); 4] = [
            (&["api", "user", "42"], "/api/api/user/{id}"),
            (&["users", "alice.private@example.com"], "/api/users/{id}"),
            (&["api", "user", "current"], "/api/api/user/current"),
            (&["V2", "GetMyUser"], "/api/V2/GetMyUser"),
        ];
        for (segments, want) in cases {
            let call = c.call_segments(&GENERIC, "t", Method::GET, segments).unwrap();
            assert_eq!(call.target.route(), want, "{segments:?}");
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
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(Duration::MAX),
            "beyond u64: longer than any cap"
        );
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(Duration::ZERO),
            "RFC 850, in the past"
        );
    }
}
