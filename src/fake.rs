//! The plumbing of the fake servers: a real HTTP/1.1 server on `127.0.0.1` with a random
//! port that hands each request to a service's [`Handler`], and stops when dropped.
//!
//! Each service's `fake` module builds on this: it keeps its state behind a lock, routes with
//! a `match` on method and decoded path segments, and answers in the service's own shapes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use url::Url;

/// Largest request body a fake reads.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// A request as a fake service sees it.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    /// The method.
    pub method: Method,
    /// The path as sent (percent-encoded).
    pub path: String,
    /// The path split on `/` and percent-decoded, without empty segments.
    pub segments: Vec<String>,
    /// The decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl FakeRequest {
    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// The body decoded as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The segments as `&str`, for slice patterns in a `match`.
    pub fn segs(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

/// A response from a fake service.
#[derive(Debug, Clone)]
pub struct FakeResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl FakeResponse {
    fn with(status: u16, content_type: Option<&'static str>, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        FakeResponse {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers,
            body,
        }
    }

    /// A JSON body.
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => Self::with(status, Some("application/json"), bytes.into()),
            Err(e) => Self::text(500, &format!("fake could not encode its response: {e}")),
        }
    }

    /// A `text/plain; charset=utf-8` body.
    pub fn text(status: u16, body: &str) -> Self {
        Self::with(
            status,
            Some("text/plain; charset=utf-8"),
            Bytes::copy_from_slice(body.as_bytes()),
        )
    }

    /// A `text/html` body.
    pub fn html(status: u16, body: &str) -> Self {
        Self::with(status, Some("text/html"), Bytes::copy_from_slice(body.as_bytes()))
    }

    /// No body.
    pub fn empty(status: u16) -> Self {
        Self::with(status, None, Bytes::new())
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(HeaderName::from_static(name), v);
        }
        self
    }
}

/// A fake service: turns each request into a response. State lives inside, behind a lock.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: FakeRequest) -> FakeResponse;
}

/// A running loopback HTTP server. Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and serves `handler` until dropped. Needs a Tokio runtime.
    pub async fn start(handler: Arc<dyn Handler>) -> std::io::Result<FakeServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // Connections live in this set, so aborting the accept task closes them all.
            let mut connections = JoinSet::new();
            loop {
                let stream = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                };
                let handler = Arc::clone(&handler);
                connections.spawn(async move {
                    let service = service_fn(move |req| serve(Arc::clone(&handler), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FakeServer { addr, task })
    }

    /// [`start`](Self::start) for a service's fake: the error is the crate's own.
    pub(crate) async fn serve(handler: Arc<dyn Handler>) -> crate::Result<FakeServer> {
        FakeServer::start(handler)
            .await
            .map_err(|e| crate::Error::config(format!("the fake server could not start: {e}")))
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/` followed by `path` (which should end with `/`).
    pub fn url(&self, path: &str) -> Url {
        let base = format!("http://{}/{}", self.addr, path.trim_start_matches('/'));
        Url::parse(&base).expect("a loopback URL always parses")
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    handler: Arc<dyn Handler>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(into_hyper(FakeResponse::text(413, "request body too large"))),
    };
    let path = parts.uri.path().to_owned();
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let query = parts
        .uri
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let request = FakeRequest {
        method: parts.method,
        path,
        segments,
        query,
        headers: parts.headers,
        body,
    };
    // A handler runs synchronously under its own lock; it never waits on the network.
    Ok(into_hyper(handler.handle(request)))
}

fn into_hyper(r: FakeResponse) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(r.body));
    *response.status_mut() = r.status;
    *response.headers_mut() = r.headers;
    response
}

/// Decodes `%XX` escapes; invalid escapes stay as they are.
pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Locks a fake's state. A handler that panicked mid-request leaves the state as it was; the
/// fake keeps serving rather than failing every later request.
pub(crate) fn lock<T>(state: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("%D1%8F"), "я");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%4"), "%4");
    }
}
