//! One attempt on the wire: the request, the redirects within its origin, and what a failed
//! answer becomes.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER, SET_COOKIE, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use url::Url;

use super::body::read_body;
use super::response::*;
use super::*;
use crate::auth::{Credential, Redactor, Secret};
use crate::error::{
    Error, HttpError, Result, TimeoutPhase, TransportError, TransportKind, read_service_error,
};

impl<'c> Call<'c> {
    /// One attempt: the request, and the redirects within the origin it leads to.
    pub(super) async fn attempt(&self, credential: &Credential) -> Result<RawResponse> {
        let settings = &self.client.settings;
        let mut method = self.method.clone();
        // The call's own URL until a redirect leads elsewhere: each request takes its copy.
        let mut url: Cow<'_, Url> = Cow::Borrowed(&self.url);
        let mut body = self.body.clone();
        let mut redirects = 0;
        loop {
            // The request is built by a plain function and handed over at once, so that it
            // takes no room in this future's state while the answer is awaited.
            let request = self.request(credential, &method, &url, body.as_ref());
            let mut response = self
                .client
                .shared
                .http
                .execute(request)
                .await
                .map_err(|e| self.transport(e, &url))?;
            let status = response.status();
            if status.is_success() {
                let body = match read_body(&mut response, settings.max_response_bytes, false).await {
                    Ok((body, false)) => body,
                    Ok((_, true)) => {
                        return Err(Error::body_too_large(&self.target, settings.max_response_bytes));
                    }
                    Err(e) => return Err(self.transport(e, &url)),
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
                url = Cow::Owned(next);
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

    /// The request of one attempt: the client's headers, then `Accept` and `User-Agent`, then
    /// the call's own headers (which win), the credential, the body. One header map, built
    /// here: a `Request` built directly, with no builder merging headers and no per-request
    /// timer (the pipeline's own deadline covers the attempt, body included).
    fn request(
        &self,
        credential: &Credential,
        method: &Method,
        url: &Url,
        body: Option<&Bytes>,
    ) -> reqwest::Request {
        let settings = &self.client.settings;
        let mut headers = HeaderMap::with_capacity(settings.headers.len() + self.headers.len() + 4);
        headers.extend(settings.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        headers.insert(ACCEPT, APPLICATION_JSON);
        headers.insert(USER_AGENT, settings.user_agent.clone());
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        if body.is_none() {
            headers.remove(CONTENT_TYPE);
        }
        if let Some((name, value)) = &credential.header {
            headers.insert(name.clone(), value.clone());
        }
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        *request.headers_mut() = headers;
        if let Some(body) = body {
            *request.body_mut() = Some(body.clone().into());
        }
        request
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
        headers.remove(AUTHORIZATION);
        if let Some(name) = credential.header_name() {
            headers.remove(name);
        }
        for name in self.client.auth().header_names() {
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
        Error::http_status(
            &self.target,
            HttpError {
                status,
                content_type,
                headers: std::mem::take(headers),
                body,
                body_truncated,
                service,
                retry_after,
                dont_retry,
                after_unanswered: false,
            },
        )
    }

    fn transport(&self, e: reqwest::Error, url: &Url) -> Error {
        let settings = &self.client.settings;
        if e.is_timeout() {
            let (phase, limit) = if e.is_connect() {
                (
                    TimeoutPhase::Connect,
                    settings.timeouts.connect().unwrap_or(Duration::MAX),
                )
            } else {
                (
                    TimeoutPhase::Attempt,
                    settings.timeouts.attempt().unwrap_or(Duration::MAX),
                )
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
        Error::transport(
            &self.target,
            TransportError {
                kind,
                address: Some(address(url)),
                source: Box::new(e.without_url()),
            },
        )
    }

    pub(super) fn timeout(&self, phase: TimeoutPhase, limit: Duration) -> Error {
        Error::timeout(&self.target, phase, limit)
    }
}

/// `host:port` of a URL, as a connection to it is tried.
fn address(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Whether two URLs have one origin (scheme, host, port), without building either origin.
pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Redirects followed within the origin, at most.
pub(super) const MAX_REDIRECTS: u32 = 5;

/// What a 3xx that was not followed means, in words.
pub(super) fn redirect_message(status: StatusCode, headers: &HeaderMap, from: &Url) -> String {
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

/// Whether a header says `true` (any case, surrounding space ignored).
pub(crate) fn header_true(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
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
