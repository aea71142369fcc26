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
