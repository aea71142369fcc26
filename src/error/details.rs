//! The detail of each kind of failure: [`HttpError`], [`ApiError`], [`TransportError`],
//! [`TimeoutError`], [`DecodeError`], [`ProtocolError`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::*;

/// A non-success HTTP response.
#[derive(Debug)]
#[non_exhaustive]
pub struct HttpError {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) body_truncated: bool,
    pub(crate) service: ServiceError,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) dont_retry: bool,
    /// An earlier attempt of the same call ended without an answer that rules out its
    /// having been applied (it timed out, or got a 5xx).
    pub(crate) after_unanswered: bool,
}

impl HttpError {
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

    /// Whether the server asked not to be retried (`Dont-Retry: True`, or a header of the
    /// service's own to the same effect).
    pub fn dont_retry(&self) -> bool {
        self.dont_retry
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
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

/// A failure reported inside a success response (an envelope whose `code` says failure, a
/// `success: false`).
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiError {
    pub(crate) http_status: StatusCode,
    pub(crate) code: i64,
    pub(crate) message: Option<String>,
}

impl ApiError {
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
}

impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service error code {}", self.code)?;
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
    pub(crate) kind: TransportKind,
    /// `host:port` the connection was tried to.
    pub(crate) address: Option<String>,
    pub(crate) source: BoxError,
}

impl TransportError {
    /// What failed.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The `host:port` the connection was made or tried to (`127.0.0.1:8080`,
    /// `api.example.com:443`), as the URL names it: before DNS.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
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
        f.write_str(what)?;
        if let (TransportKind::Connect, Some(address)) = (self.kind, &self.address) {
            write!(f, " to {}", Escaped(address))?;
        }
        let causes = distinct_causes(&*self.source);
        for cause in &causes {
            write!(f, ": {}", Escaped(cause))?;
        }
        if self.kind == TransportKind::Tls && causes.iter().any(|c| names_unknown_issuer(c)) {
            f.write_str(" (the certificate's issuer is not trusted; a private CA can be trusted with ClientBuilder::add_root_certificate)")?;
        }
        if causes.iter().any(|c| names_plain_http(c)) {
            f.write_str(" (the server may speak plain HTTP on this port: try an http:// URL)")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {}

/// The texts of an error and its causes, each once: a cause whose text an earlier one already
/// holds is dropped (native-tls repeats OpenSSL's words one level down), and an earlier text
/// that a later one holds whole gives way to it.
pub(super) fn distinct_causes(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
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

pub(super) fn names_unknown_issuer(text: &str) -> bool {
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

/// Whether a TLS library's words mean that the server answered the handshake with something
/// that is not TLS: rustls's `InvalidContentType`, OpenSSL's `wrong version number` or
/// `packet length too long`.
pub(super) fn names_plain_http(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "invalidcontenttype",
        "invalid content type",
        "wrong version number",
        "packet length too long",
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
    pub(crate) phase: TimeoutPhase,
    pub(crate) limit: Duration,
}

impl TimeoutError {
    /// Which limit ran out.
    pub fn phase(&self) -> TimeoutPhase {
        self.phase
    }

    /// The limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.phase {
            TimeoutPhase::Connect => "connect timeout",
            TimeoutPhase::Attempt => "per-attempt timeout",
            TimeoutPhase::Total => "total timeout",
        };
        write!(f, "{what} of {:?} ran out", self.limit)
    }
}

impl std::error::Error for TimeoutError {}

/// A success response that could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    pub(crate) status: StatusCode,
    pub(crate) field_path: String,
    pub(crate) message: String,
    pub(crate) content_type: Option<String>,
    pub(crate) excerpt: Option<String>,
}

impl DecodeError {
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
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the HTTP {} response at `{}`: {}",
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

/// A response that breaks the service's protocol; see [`ErrorKind::Protocol`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ProtocolError {
    pub(crate) status: Option<StatusCode>,
    pub(crate) message: String,
}

impl ProtocolError {
    /// The status of that response.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "the HTTP {status} response breaks the protocol: ")?;
        }
        write!(f, "{}", Escaped(&self.message))
    }
}

impl std::error::Error for ProtocolError {}
