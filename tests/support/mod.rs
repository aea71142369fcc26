//! What the tests share: one way to build a client, wiremock responses, one scripted raw TCP
//! server ([`raw`]) and one table of the five services ([`services`]).
// Which helpers a build uses depends on the services enabled.
#![allow(dead_code)]

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
