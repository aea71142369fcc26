//! The client's limits on the wire: a rate shared by clones, a place in flight, a wait that
//! counts against the total timeout, the retry budget in an outage and after it, and the
//! observer's records.

use std::sync::Mutex;
use std::time::Instant;

use super::*;
use userapi::observe::{AttemptRecord, CallRecord, Observer, RetryDecision};
use userapi::{RateLimit, RetryBudget, StatusCode};

async fn always(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(status, body))
        .mount(&server)
        .await;
    server
}

/// Clones share one limiter: six calls from two clones at 20 per second (burst 1) take at
/// least the five gaps of 50 ms between them.
#[tokio::test]
async fn clones_share_one_rate_limit() {
    let server = always(200, USER).await;
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .rate_limit(RateLimit::per_second(20))
        .build()
        .unwrap();
    let other = client.clone();
    let started = Instant::now();
    let (a, b) = tokio::join!(
        async {
            for _ in 0..3 {
                client.rounds().get_me().await.unwrap();
            }
        },
        async {
            for _ in 0..3 {
                other.rounds().get_me().await.unwrap();
            }
        }
    );
    let ((), ()) = (a, b);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await.len(), 6);
}

/// A call waiting for the limiter gives up at its total timeout, having sent nothing.
#[tokio::test]
async fn a_call_waiting_for_the_limiter_times_out_at_its_total_timeout() {
    let server = always(200, USER).await;
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .rate_limit(RateLimit::new(1, Duration::from_secs(3600)))
        .total_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.rounds().get_me().await.unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.attempts(), 0);
    assert_eq!(requests(&server).await.len(), 1);
}

/// With one place in flight, a call dropped while it waits leaves the place free.
#[tokio::test]
async fn a_call_dropped_while_it_waits_for_a_place_leaves_it_free() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .max_in_flight(1)
        .build()
        .unwrap();
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.rounds().get_me().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Waits for the place the slow call holds, and is dropped.
    let waiting = tokio::time::timeout(Duration::from_millis(50), client.rounds().get_me()).await;
    assert!(waiting.is_err());
    slow.await.unwrap().unwrap();
    // The place came back: this call goes out (it would hang with a leaked place).
    tokio::time::timeout(Duration::from_secs(5), client.rounds().get_me())
        .await
        .expect("the place was given back")
        .unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

/// In an outage, retries stop when the budget is spent: exact request counts, an error that
/// says so, and retries again once successes have refilled it.
#[tokio::test]
async fn the_retry_budget_caps_retries_in_an_outage_and_refills_after_it() {
    let server = always(503, r#"{"detail":"down"}"#).await;
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .retry_budget(RetryBudget::default().with_capacity(10).with_retry_cost(5))
        .build()
        .unwrap();
    // The first call retries twice (3 attempts), spending all 10.
    let err = client.rounds().get_me().await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert!(!err.retry_budget_exhausted());
    // The budget is empty: the next calls are not retried, and say why.
    for _ in 0..4 {
        let err = client.clone().rounds().get_me().await.unwrap_err();
        assert_eq!(err.attempts(), 1);
        assert!(err.retry_budget_exhausted());
        assert!(err.to_string().contains("retry budget is exhausted"), "{err}");
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    }
    assert_eq!(requests(&server).await.len(), 3 + 4);

    // The server recovers: five successes put 5 back.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    for _ in 0..5 {
        client.rounds().get_me().await.unwrap();
    }
    // The next failure is retried once (5 spent), and only once.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(json(503, r#"{"detail":"down"}"#))
        .mount(&server)
        .await;
    let err = client.rounds().get_me().await.unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert!(err.retry_budget_exhausted());
    assert_eq!(requests(&server).await.len(), 2);
}

/// Without a budget, every retry the policy allows is made.
#[tokio::test]
async fn a_disabled_budget_retries_every_call() {
    let server = always(503, r#"{"detail":"down"}"#).await;
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .retry_budget(RetryBudget::disabled())
        .build()
        .unwrap();
    for _ in 0..40 {
        let err = client.rounds().get_me().await.unwrap_err();
        assert_eq!(err.attempts(), 3);
        assert!(!err.retry_budget_exhausted());
    }
    assert_eq!(requests(&server).await.len(), 120);
}

#[derive(Default, Clone)]
struct Records {
    attempts: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Observer for Records {
    fn on_attempt(&self, a: &AttemptRecord<'_>) {
        self.attempts.lock().unwrap().push(format!(
            "{} {} {} #{} {:?} {:?} {:?}",
            a.operation,
            a.method,
            a.route,
            a.attempt,
            a.status.map(|s| s.as_u16()),
            a.error,
            a.decision.map(|d| match d {
                RetryDecision::Retry { .. } => "retry",
                RetryDecision::Refresh => "refresh",
                RetryDecision::Stop => "stop",
                RetryDecision::BudgetExhausted => "budget",
                _ => "other",
            }),
        ));
    }

    fn on_call(&self, c: &CallRecord<'_>) {
        self.calls.lock().unwrap().push(format!(
            "{} {} {} {:?} {} {:?}",
            c.operation,
            c.method,
            c.route,
            c.status.map(|s| s.as_u16()),
            c.attempts,
            c.error
        ));
    }
}

/// The observer sees each attempt and each call, by route template, never the id.
#[tokio::test]
async fn the_observer_sees_attempts_and_calls_by_route_template() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(503, r#"{"detail":"busy"}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    let records = Records::default();
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .observer(records.clone())
        .build()
        .unwrap();
    let id = userapi::rounds::UserId::new("secret-id-42").unwrap();
    client.rounds().get_user(&id).await.unwrap();
    let attempts = records.attempts.lock().unwrap().clone();
    assert_eq!(
        attempts,
        [
            "rounds::get_user GET /users/{id} #1 Some(503) Some(\"http\") Some(\"retry\")",
            "rounds::get_user GET /users/{id} #2 Some(200) None None",
        ]
    );
    let calls = records.calls.lock().unwrap().clone();
    assert_eq!(calls, ["rounds::get_user GET /users/{id} Some(200) 2 None"]);
    assert!(!format!("{attempts:?}{calls:?}").contains("secret-id-42"));
}

/// The observer tells a last attempt the policy stops at from one the retry budget stops:
/// `Stop` for a `404` or when the retries allowed are used up, `BudgetExhausted` when the
/// budget is empty.
#[tokio::test]
async fn the_observer_tells_a_stop_from_an_exhausted_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(json(503, r#"{"detail":"down"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(404, r#"{"detail":"no such user"}"#))
        .mount(&server)
        .await;
    let records = Records::default();
    let client = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .retry_budget(RetryBudget::default().with_capacity(10).with_retry_cost(5))
        .observer(records.clone())
        .build()
        .unwrap();
    let id = userapi::rounds::UserId::new("7").unwrap();
    client.rounds().get_user(&id).await.unwrap_err();
    // Three attempts (the budget's 10 spent on two retries), then one the budget stops.
    client.rounds().get_me().await.unwrap_err();
    client.rounds().get_me().await.unwrap_err();
    let decisions: Vec<String> = records
        .attempts
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.rsplit(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        decisions,
        [
            "Some(\"stop\")",
            "Some(\"retry\")",
            "Some(\"retry\")",
            "Some(\"stop\")",
            "Some(\"budget\")",
        ]
    );
}

/// A call's latency runs to its end, not to its last attempt's: a refresh after a `401`
/// that takes 300 ms and fails is in the call's latency and in no attempt's.
#[tokio::test]
async fn the_calls_latency_counts_what_came_after_its_last_attempt() {
    #[derive(Clone, Default)]
    struct Latencies(Arc<Mutex<(Vec<Duration>, Vec<Duration>)>>);
    impl Observer for Latencies {
        fn on_attempt(&self, a: &AttemptRecord<'_>) {
            self.0.lock().unwrap().0.push(a.latency);
        }
        fn on_call(&self, c: &CallRecord<'_>) {
            self.0.lock().unwrap().1.push(c.latency);
        }
    }
    let server = always(401, r#"{"detail":"Not authenticated"}"#).await;
    let auth = Auth::provider(|refresh| async move {
        if refresh {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return Err("the identity provider is down".into());
        }
        Ok(Secret::new("old"))
    });
    let latencies = Latencies::default();
    let client = common::client_builder(server.uri())
        .auth(auth)
        .observer(latencies.clone())
        .build()
        .unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    assert_eq!(err.attempts(), 1, "{err:?}");
    let (attempts, calls) = latencies.0.lock().unwrap().clone();
    assert_eq!((attempts.len(), calls.len()), (1, 1));
    assert!(
        calls[0] >= attempts[0] + Duration::from_millis(300),
        "call {:?}, attempt {:?}",
        calls[0],
        attempts[0]
    );
}

/// `max_in_flight(4)` (Kontur's advice for Diadoc): 32 concurrent calls, never more than 4
/// requests at the server at once, all of them answered.
#[tokio::test]
async fn max_in_flight_caps_the_requests_the_server_sees_at_once() {
    use std::sync::atomic::AtomicUsize;

    use http_body_util::Full;
    use hyper::body::Bytes;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n, m) = (Arc::clone(&now), Arc::clone(&most));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (n, m) = (Arc::clone(&n), Arc::clone(&m));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| {
                    let (n, m) = (Arc::clone(&n), Arc::clone(&m));
                    async move {
                        let here = n.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(here, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        n.fetch_sub(1, Ordering::SeqCst);
                        let mut response = hyper::Response::new(Full::new(Bytes::from(USER)));
                        response
                            .headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let client = common::client_builder(format!("http://{addr}/"))
        .auth(Auth::jwt(JWT))
        .max_in_flight(4)
        .build()
        .unwrap();
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.rounds().get_me().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 4);
}
