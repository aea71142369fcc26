//! [`RequestBuilder`]: the escape hatch to endpoints the crate does not model, through the
//! same pipeline.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;
use crate::client::Client;
use crate::error::{Error, Result};

/// A request to an endpoint this crate does not model yet, through the same pipeline as
/// every modelled call: credentials, per-segment encoding, timeouts, retries (only when
/// marked [`idempotent`](Self::idempotent)), body limits, error mapping and redaction.
///
/// Start one with [`Client::request`] (generic error reading) or a service handle's own
/// `request` (that service's error shapes).
///
/// With the `tracing` feature, a modelled endpoint's span records its route template
/// (`/api/user/{id}`). Here the crate cannot tell a fixed segment from an id, so the span
/// records segments made only of letters, `-` and `_` (and `v1`-style versions) as they are
/// and every other segment as `{id}`: an id that is a plain word (a user name) shows there.
///
/// ```no_run
/// # async fn run() -> userapi::Result<()> {
/// use userapi::{Auth, Client, Method};
/// let client = Client::builder()
///     .base_url("https://users.example.com/api/")
///     .auth(Auth::bearer(std::env::var("ACME_TOKEN").unwrap_or_default()))
///     .build()?;
/// // GET /api/users/a%2Fb with the client's credentials: the id stays one segment.
/// let user: serde_json::Value = client
///     .request(Method::GET, &["users", "a/b"])
///     .idempotent()
///     .send()
///     .await?;
/// println!("{}", user["email"]);
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

    /// Sets a request header (the same name again replaces its value). A name or value that
    /// cannot be a header, or a 65th name, fails the call when it is sent.
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
            let c = c.header(name, value);
            if c.own_headers() > MAX_CALL_HEADERS {
                return Err(Error::invalid_input(
                    c.operation,
                    format!("a request sends at most {MAX_CALL_HEADERS} headers of its own"),
                ));
            }
            Ok(c)
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
