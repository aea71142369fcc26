//! Timeouts: `Duration::MAX` means no limit, and the earlier of the attempt and total
//! deadlines ends an attempt.

use super::*;
use userapi::ErrorKind;

/// `Duration::MAX` is a user's natural "no timeout": every call works with it, whichever of
/// the three it is set on.
#[tokio::test]
async fn duration_max_means_no_limit_for_every_timeout() {
    let server = user_server().await;
    let builders = [
        Client::builder().total_timeout(Duration::MAX),
        Client::builder().attempt_timeout(Duration::MAX),
        Client::builder().connect_timeout(Duration::MAX),
        Client::builder()
            .total_timeout(Duration::MAX)
            .attempt_timeout(Duration::MAX)
            .connect_timeout(Duration::MAX),
        Client::builder().timeouts(
            Timeouts::default()
                .with_connect(Duration::MAX)
                .with_attempt(Duration::MAX)
                .with_total(Duration::MAX),
        ),
        Client::builder()
            .no_total_timeout()
            .no_attempt_timeout()
            .no_connect_timeout(),
    ];
    for (i, builder) in builders.into_iter().enumerate() {
        let client = builder
            .base_url(server.uri())
            .auth(Auth::jwt(JWT))
            .build()
            .unwrap();
        let me = client.rounds().get_me().await;
        assert!(me.is_ok(), "builder {i}: {me:?}");
    }
    assert_eq!(requests(&server).await.len(), 6);
    // The two spellings are one state: no limit.
    let max = Timeouts::default()
        .with_total(Duration::MAX)
        .with_attempt(Duration::MAX);
    assert_eq!(max, Timeouts::default().without_total().without_attempt());
    assert_eq!((max.total(), max.attempt()), (None, None));
}

/// The explicit "no limit" arms no timer either (see below for `Duration::MAX`).
#[tokio::test(start_paused = true)]
async fn the_explicit_no_limit_arms_no_timer() {
    let server = user_server().await;
    let client = Client::builder()
        .no_connect_timeout()
        .no_attempt_timeout()
        .no_total_timeout()
        .base_url(server.uri())
        .auth(Auth::jwt(JWT))
        .build()
        .unwrap();
    assert_eq!(client.timeouts().total(), None);
    for _ in 0..3 {
        let me = client.rounds().get_me().await;
        assert!(me.is_ok(), "{me:?}");
    }
}

/// "No limit" arms no timer at all: with tokio's clock paused, which jumps to the next timer
/// whenever the runtime waits (a stand-in for a call that takes years), a call with every
/// timeout at `Duration::MAX` still waits for its answer.
#[tokio::test(start_paused = true)]
async fn no_limit_arms_no_timer() {
    let server = user_server().await;
    let client = Client::builder()
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::MAX)
                .with_attempt(Duration::MAX)
                .with_total(Duration::MAX),
        )
        .base_url(server.uri())
        .auth(Auth::jwt(JWT))
        .build()
        .unwrap();
    for _ in 0..3 {
        let me = client.rounds().get_me().await;
        assert!(me.is_ok(), "{me:?}");
    }
}

/// A total timeout shorter than the attempt's ends the call as a total timeout: the attempt's
/// own limit would come too late.
#[tokio::test]
async fn the_earlier_of_the_two_deadlines_ends_an_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let short_total = Client::builder()
        .base_url(server.uri())
        .auth(Auth::jwt(JWT))
        .total_timeout(Duration::from_millis(300))
        .attempt_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let err = short_total.rounds().get_me().await.unwrap_err();
    match err.kind() {
        ErrorKind::Timeout(t) => {
            assert_eq!(t.phase(), userapi::TimeoutPhase::Total);
            assert_eq!(t.limit(), Duration::from_millis(300));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.attempts(), 1);

    let short_attempt = Client::builder()
        .base_url(server.uri())
        .auth(Auth::jwt(JWT))
        .total_timeout(Duration::from_secs(20))
        .attempt_timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = short_attempt.rounds().get_me().await.unwrap_err();
    match err.kind() {
        ErrorKind::Timeout(t) => {
            assert_eq!(t.phase(), userapi::TimeoutPhase::Attempt);
            assert_eq!(t.limit(), Duration::from_millis(100));
        }
        other => panic!("{other:?}"),
    }
}

/// The deadlines follow tokio's clock, as every timer does: a test that pauses the clock and
/// lets three days pass before a call (as a cron job's test would) gets its answer, not a
/// timeout that counted the days against the call. The server runs on the test's own
/// runtime, so that the paused clock does not jump while the server has work to do.
#[tokio::test(start_paused = true)]
async fn deadlines_follow_tokios_clock_when_it_is_paused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert_ne!(n, 0, "the request ended early");
            head.extend_from_slice(&buf[..n]);
        }
        let answer = crate::support::raw::response("200 OK", "application/json", USER.as_bytes(), &[]);
        stream.write_all(&answer).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    // Long limits, so that a jump of the paused clock while a socket is not yet ready (a
    // busy machine) goes to the client's own pending timer, not to a deadline.
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/"))
        .auth(Auth::jwt(JWT))
        .attempt_timeout(Duration::from_secs(86_400))
        .total_timeout(Duration::from_secs(2 * 86_400))
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3 * 86_400)).await;
    let me = client.rounds().get_me().await;
    assert!(me.is_ok(), "{me:?}");
    let head = server.await.unwrap();
    assert!(head.starts_with("GET /users/me HTTP/1.1\r\n"), "{head}");
}
