//! What a fake serves: the [`Service`] trait, and the [`Request`]s and [`Response`]s it
//! handles.

use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use userapi::reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use userapi::{Auth, Client, Method, StatusCode};

use crate::error::Error;

/// The only headers whose values [`Request`]'s `Debug` shows: ones that never carry a
/// credential. Every other value is hidden, so no list of credential headers (each service's
/// scheme declares its own, and a user's scheme may use any name) has to be kept here.
const SHOWN_HEADERS: [&str; 8] = [
    "accept",
    "accept-encoding",
    "connection",
    "content-length",
    "content-type",
    "host",
    "transfer-encoding",
    "user-agent",
];

/// A request as a fake service sees it.
///
/// Its `Debug` output shows the method, path, query and header names, but only the values of
/// headers that never carry a credential (`Content-Type`, `Accept`, `User-Agent`, …; every
/// other value, `Authorization`, `Cookie` or a vendor's key header, is `<redacted>`), and not
/// the body (which may hold a password): read those from the fields.
#[derive(Clone)]
#[non_exhaustive]
pub struct Request {
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

impl Request {
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
    ///
    /// # Errors
    /// When the body is not JSON, or not in the shape of `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The segments as `&str`, for slice patterns in a `match`.
    pub fn segs(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'a>(&'a HeaderMap);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    if SHOWN_HEADERS.contains(&name.as_str()) {
                        map.entry(&name.as_str(), value);
                    } else {
                        map.entry(&name.as_str(), &userapi::REDACTED);
                    }
                }
                map.finish()
            }
        }
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &Headers(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish_non_exhaustive()
    }
}

/// A response from a fake service.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    fn with(status: u16, content_type: Option<&'static str>, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        Response {
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

/// One service's fake: its seeded state and how it answers. [`Fake<S>`](crate::Fake) serves it.
///
/// Each service module implements it once (`metabase::MetabaseService`, …); a fake of your
/// own implements it too:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi_fake::{Banner, Fake, Request, Response, Service};
///
/// struct Health;
/// impl Service for Health {
///     const NAME: &'static str = "health";
///     const TITLE: &'static str = "Health";
///     type Api = userapi::Client;
///     fn seeded() -> Self { Health }
///     fn handle(&self, request: &Request) -> Response {
///         match request.segs().as_slice() {
///             ["health"] => Response::json(200, &serde_json::json!({"ok": true})),
///             _ => Response::text(404, "no such page"),
///         }
///     }
///     fn auth(&self) -> Result<userapi::Auth, userapi_fake::Error> { Ok(userapi::Auth::none()) }
///     fn api(client: userapi::Client) -> userapi::Client { client }
///     fn banner(&self, base_url: &url::Url) -> Banner {
///         Banner::new(format!("curl {base_url}health"))
///     }
/// }
///
/// let fake = Fake::<Health>::start().await?;
/// fake.fail_next(1, 503); // the default error body: text
/// let health: serde_json::Value = fake
///     .client()?
///     .request(userapi::Method::GET, &["health"])
///     .idempotent()
///     .send()
///     .await?; // the 503 was retried
/// assert_eq!(health["ok"], true);
/// assert_eq!(fake.request_count(), 2);
/// # Ok(()) }
/// ```
pub trait Service: Send + Sync + 'static {
    /// The name on the command line of `userapi-fake` (`"metabase"`).
    const NAME: &'static str;
    /// The service's name as people write it (`"Metabase"`).
    const TITLE: &'static str;
    /// The SDK's handle for the service (`userapi::metabase::Metabase`).
    type Api;

    /// The service with its seeded data (the constants of its module).
    fn seeded() -> Self
    where
        Self: Sized;

    /// Answers one request.
    fn handle(&self, request: &Request) -> Response;

    /// An error response in the service's own error shape, for `status` with `message`: what
    /// [`Fault::Status`](crate::Fault::Status) answers. By default a `text/plain` body holding `message`.
    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        Response::text(status.as_u16(), message)
    }

    /// The credentials [`Fake::api`](crate::Fake::api) uses: the seeded user's.
    ///
    /// # Errors
    /// When the fake cannot make them (e.g. Metabase's seeded admin was deactivated).
    fn auth(&self) -> Result<Auth, Error>;

    /// The path of the API under the server's root, ending with `/` (`"api/"` for
    /// NovaConnect); empty by default.
    fn base_path() -> &'static str {
        ""
    }

    /// The SDK's handle around `client`.
    fn api(client: Client) -> Self::Api;

    /// What `userapi-fake` prints about a running fake at `base_url`: the credentials it
    /// accepts and a `curl` line.
    fn banner(&self, base_url: &Url) -> Banner;
}

/// What `userapi-fake` prints about a running fake (see [`Service::banner`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Banner {
    /// (label, value) pairs, printed as `  label: value`.
    pub credentials: Vec<(&'static str, String)>,
    /// A `curl` command to try.
    pub curl: String,
}

impl Banner {
    /// A banner with this `curl` line and no credentials yet.
    pub fn new(curl: impl Into<String>) -> Self {
        Banner {
            credentials: Vec::new(),
            curl: curl.into(),
        }
    }

    /// Adds a credential line.
    #[must_use]
    pub fn credential(mut self, label: &'static str, value: impl Into<String>) -> Self {
        self.credentials.push((label, value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requests_debug_shows_only_headers_that_never_carry_a_credential() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer tok-123456"));
        headers.insert(
            HeaderName::from_static("x-vendor-key"),
            HeaderValue::from_static("vendor-secret-99"),
        );
        let request = Request {
            method: Method::POST,
            path: "/login".into(),
            segments: vec!["login".into()],
            query: Vec::new(),
            headers,
            body: Bytes::from_static(br#"{"password":"pw-in-body-77"}"#),
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("application/json"), "{shown}");
        for secret in ["tok-123456", "vendor-secret-99", "pw-in-body-77"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("x-vendor-key"), "the name stays: {shown}");
    }
}
