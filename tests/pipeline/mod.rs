#![cfg(all(feature = "rounds", feature = "novaconnect", feature = "metabase"))]
//! The one pipeline on the wire, whatever the service: hostile servers and careless callers.
//! Timeouts without limits, base URLs with a query, ids that try to change the path,
//! `Retry-After` beyond `u64`, redirects, default headers, the escape hatch, the number of
//! requests every error reports, credentials refreshed and replayed, and the body limit.

mod bodies;
mod changes;
mod credentials;
mod errors;
mod limits;
mod redirects;
mod retries;
mod routes;
mod schemes;
mod timeouts;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use userapi::{Auth, Client, Method, RetryPolicy, Secret, Timeouts, TransportKind};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support as common;

const USER: &str = include_str!("../fixtures/rounds/user.json");
/// `{"alg":"HS256"}` . `{"sub":"u1","exp":4102444800}` (2100-01-01) . signature
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln";

fn json(status: u16, raw: &str) -> ResponseTemplate {
    common::body(status, raw, "application/json")
}

async fn user_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}
