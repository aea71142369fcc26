//! Helpers the service test binaries share.
#![allow(dead_code)]

use std::time::Duration;

use userapi::{Auth, Client, RetryPolicy};
use wiremock::{MockServer, ResponseTemplate};

/// A client for the mock server with `auth`, retrying after 1 ms instead of 200 ms so that
/// retry tests stay fast.
pub fn client(server: &MockServer, auth: Auth) -> Client {
    Client::builder()
        .base_url(server.uri())
        .auth(auth)
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
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
