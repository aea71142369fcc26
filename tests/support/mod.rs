//! What the tests share: one way to build a client, wiremock responses, one scripted raw TCP
//! server ([`raw`]) and one table of the five services ([`services`]).
// Which helpers a build uses depends on the services enabled.
#![allow(dead_code)]

pub mod changes;
pub mod raw;
pub mod services;

use std::time::Duration;

use userapi::{Auth, Client, ClientBuilder, IntoBaseUrl, RetryPolicy};
use wiremock::{MockServer, ResponseTemplate};

/// A client builder for `base` that retries after 1 ms instead of 200 ms, so that retry
/// tests stay fast. Everything else (credentials, timeouts, limits, another retry policy) is
/// the caller's to add.
pub fn client_builder(base: impl IntoBaseUrl) -> ClientBuilder {
    Client::builder()
        .base_url(base)
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
}

/// A client for the mock server with `auth`, retrying after 1 ms (see [`client_builder`]).
pub fn client(server: &MockServer, auth: Auth) -> Client {
    client_builder(server.uri())
        .auth(auth)
        .build()
        .expect("a client for the mock server")
}

/// A response with this status, body and content type.
pub fn body(status: u16, raw: &str, content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(raw.as_bytes().to_vec(), content_type)
}

/// A `text/plain` response.
pub fn text(status: u16, raw: &str) -> ResponseTemplate {
    body(status, raw, "text/plain; charset=utf-8")
}

/// The session id a client sends under `metabase::auth::session`, if that is its scheme.
pub fn metabase_session(client: &userapi::Client) -> Option<String> {
    let auth = client.auth();
    auth.source::<userapi::metabase::auth::Session>()
        .map(|s| s.id().expose().to_owned())
}

/// The key a client sends under `metabase::auth::api_key`, if that is its scheme.
pub fn metabase_api_key(client: &userapi::Client) -> Option<String> {
    let auth = client.auth();
    auth.source::<userapi::metabase::auth::ApiKey>()
        .map(|k| k.key().expose().to_owned())
}

/// The token of a client under `diadoc::auth::diadoc_auth`: `None` under another scheme,
/// `Some(None)` before a login.
pub fn diadoc_token(client: &userapi::Client) -> Option<Option<String>> {
    let auth = client.auth();
    auth.source::<userapi::diadoc::auth::DiadocAuth>()
        .map(|d| d.token().map(|t| t.expose().to_owned()))
}
