//! Retries: `Retry-After` beyond `u64`, the servers' "don't retry" headers, and the number of
//! requests every error reports.

use super::*;
use userapi::ErrorKind;

/// A `Retry-After` beyond `u64` seconds is longer than any cap: the call stops at once.
#[tokio::test]
async fn a_retry_after_beyond_u64_stops_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            json(429, r#"{"detail":"slow down"}"#).insert_header("retry-after", "99999999999999999999999"),
        )
        .mount(&server)
        .await;
    let err = common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::MAX));
    assert_eq!(err.attempts(), 1);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn every_error_counts_the_requests_sent() {
    // Refused connections, retried to the policy's 3 attempts.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/"))
        .auth(Auth::jwt(JWT))
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transport(t) if t.kind() == TransportKind::Connect),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 3);

    // Per-attempt timeouts, retried.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .auth(Auth::jwt(JWT))
        .attempt_timeout(Duration::from_millis(50))
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.attempts(), 3);

    // A decode error after two 503s.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(common::text(503, "busy"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(200, "{"))
        .mount(&server)
        .await;
    let err = common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(requests(&server).await.len(), 3);
}

/// `Dont-Retry: True` stops the retries (Kontur's own spelling is Diadoc's, in
/// tests/services/diadoc/errors.rs); an error without a body says so and has no made-up message.
#[tokio::test]
async fn dont_retry_and_empty_error_bodies() {
    for header_name in ["Dont-Retry", "dont-retry"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(common::text(503, "down").insert_header(header_name, "True"))
            .mount(&server)
            .await;
        let err = common::client(&server, Auth::jwt(JWT))
            .rounds()
            .get_me()
            .await
            .unwrap_err();
        assert!(err.http().unwrap().dont_retry(), "{header_name}");
        assert!(!err.is_retryable(), "{header_name}");
        assert_eq!(requests(&server).await.len(), 1, "{header_name}");
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let err = common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), None);
    assert!(
        err.to_string().ends_with("HTTP 404 Not Found with an empty body"),
        "{err}"
    );
}
