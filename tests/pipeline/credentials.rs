//! Credentials refresh: token providers asked again after a 401, once for all concurrent
//! callers, Metabase logins on demand, and where credentials may go over plain HTTP.

use super::*;
use crate::support::raw::{Action, RawServer as FaultServer, ok, response};
use crate::support::services::NOVA_OK;
use userapi::ErrorKind;

/// A provider whose first token is refused: it counts its calls and its refreshes.
fn rotating_provider(asked: Arc<AtomicUsize>, refreshed: Arc<AtomicUsize>, callers: usize) -> Auth {
    // Every caller's first ask waits until all of them have asked, so all of them hold the old
    // token before any request goes out, however late the runtime starts a task.
    let gate = Arc::new(tokio::sync::Barrier::new(callers));
    Auth::provider(move |refresh| {
        asked.fetch_add(1, Ordering::SeqCst);
        if refresh {
            refreshed.fetch_add(1, Ordering::SeqCst);
        }
        let (refreshed, gate) = (Arc::clone(&refreshed), Arc::clone(&gate));
        async move {
            if !refresh {
                gate.wait().await;
            }
            let token = if refreshed.load(Ordering::SeqCst) > 0 {
                "new"
            } else {
                "old"
            };
            Ok(Secret::new(token))
        }
    })
}

/// 64 concurrent calls refused with the same token wait for one refresh, and replay with it.
#[tokio::test]
async fn sixty_four_concurrent_401s_cost_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer old"))
        .respond_with(json(401, r#"{"detail":"Could not validate credentials"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer new"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    let (asked, refreshed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let client = common::client(
        &server,
        rotating_provider(Arc::clone(&asked), Arc::clone(&refreshed), 64),
    );
    let calls = (0..64).map(|_| {
        let api = client.rounds();
        tokio::spawn(async move { api.get_me().await })
    });
    let results = futures_join(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(refreshed.load(Ordering::SeqCst), 1, "one refresh for all 64");
    assert_eq!(
        asked.load(Ordering::SeqCst),
        65,
        "64 current tokens and one fresh one"
    );
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 128, "64 refused, 64 replays");
    let replays = seen
        .iter()
        .filter(|r| r.headers.get("authorization").is_some_and(|v| v == "Bearer new"))
        .count();
    assert_eq!(replays, 64);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

/// After a refresh and a replay, the error says two requests went out.
#[tokio::test]
async fn a_refused_replay_reports_both_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(401, r#"{"detail":"Not authenticated"}"#))
        .mount(&server)
        .await;
    let refreshes = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&refreshes);
    let client = common::client(
        &server,
        Auth::provider(move |refresh| {
            if refresh {
                r.fetch_add(1, Ordering::SeqCst);
            }
            async { Ok(Secret::new("t")) }
        }),
    );
    let err = client.rounds().get_me().await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.attempts(), 2);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(requests(&server).await.len(), 2);
}

/// A call refused with a session that another call already replaced replays with the current
/// one, asking nobody.
#[tokio::test]
async fn a_401_on_a_replaced_credential_replays_with_the_current_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "old"))
        .respond_with(common::text(401, "Unauthenticated").set_delay(Duration::from_millis(200)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "new"))
        .respond_with(json(200, r#"{"id": 1}"#))
        .mount(&server)
        .await;
    let client = common::client(&server, userapi::metabase::auth::session("old"));
    let api = client.metabase();
    let call = tokio::spawn(async move { api.get_me().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.set_auth(userapi::metabase::auth::session("new")).unwrap();
    let me = call.await.unwrap().expect("replayed with the new session");
    assert_eq!(me.id, 1);
    assert_eq!(requests(&server).await.len(), 2);
}

async fn login_server(password: &'static str) -> MockServer {
    let server = MockServer::start().await;
    let logins = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(move |req: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            if body["password"] != password {
                return json(401, r#"{"errors":{"password":"did not match stored password"}}"#);
            }
            let n = logins.fetch_add(1, Ordering::SeqCst);
            json(200, &format!(r#"{{"id":"session-{n}"}}"#))
        })
        .mount(&server)
        .await;
    // session-0 expires after its first use; session-1 lives on.
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .and(header("x-metabase-session", "session-0"))
        .respond_with(json(200, r#"{"id": 1}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .and(header("x-metabase-session", "session-1"))
        .respond_with(json(200, r#"{"id": 1}"#).set_delay(Duration::from_millis(5)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .respond_with(common::text(401, "Unauthenticated"))
        .mount(&server)
        .await;
    server
}

async fn count(server: &MockServer, verb: &str, p: &str) -> usize {
    requests(server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == p)
        .count()
}

#[tokio::test]
async fn metabase_login_logs_in_once_lazily_and_again_once_for_all_on_expiry() {
    let server = login_server("s3cret-Pass").await;
    let client = common::client(
        &server,
        userapi::metabase::auth::login("ada@example.com", "s3cret-Pass"),
    );
    assert_eq!(
        count(&server, "POST", "/api/session").await,
        0,
        "lazy: no login at build"
    );
    client.metabase().get_me().await.unwrap();
    assert_eq!(count(&server, "POST", "/api/session").await, 1);
    assert_eq!(
        count(&server, "GET", "/api/user/current").await,
        1,
        "no probe before the call"
    );
    // session-0 has expired: 16 concurrent calls are refused, one login serves them all.
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let api = client.metabase();
            tokio::spawn(async move { api.get_me().await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().expect("replayed after one re-login");
    }
    assert_eq!(
        count(&server, "POST", "/api/session").await,
        2,
        "one re-login for all"
    );
    assert_eq!(
        count(&server, "GET", "/api/user/current").await,
        1 + 16 + 16,
        "each call: refused once, replayed once"
    );
    let logins: Vec<serde_json::Value> = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/api/session")
        .map(|r| {
            assert!(
                r.headers.get("x-metabase-session").is_none(),
                "a login sends no session"
            );
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    assert_eq!(
        logins[0],
        serde_json::json!({"username": "ada@example.com", "password": "s3cret-Pass"})
    );
}

#[tokio::test]
async fn a_failed_metabase_login_ends_the_call_with_its_error_and_no_loop() {
    let server = login_server("s3cret-Pass").await;
    let client = common::client(
        &server,
        userapi::metabase::auth::login("ada@example.com", "wrong-Pass1"),
    );
    let err = client.metabase().get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.target().unwrap().path(), "/api/session");
    assert_eq!(err.field_errors()[0].message(), "did not match stored password");
    assert!(!format!("{err} {err:?}").contains("wrong-Pass1"));
    assert_eq!(count(&server, "POST", "/api/session").await, 1);
    assert_eq!(count(&server, "GET", "/api/user/current").await, 0);
    // The login went out on this call's behalf: it counts.
    assert_eq!(err.attempts(), 1, "{err:?}");
}

/// A login that fails is not tried again by every call that was waiting for it: 16
/// concurrent first calls with a wrong password cost one login (Metabase throttles failed
/// logins per user), and every call ends with an authentication error.
#[tokio::test]
async fn a_failed_login_is_shared_by_the_calls_that_waited_for_it() {
    let server = login_server("s3cret-Pass").await;
    let client = common::client(
        &server,
        userapi::metabase::auth::login("ada@example.com", "wrong-Pass1"),
    );
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let api = client.metabase();
            tokio::spawn(async move { api.get_me().await })
        })
        .collect();
    for c in calls {
        let err = c.await.unwrap().unwrap_err();
        assert!(err.is_auth(), "{err:?}");
        assert!(err.to_string().contains("did not match stored password"), "{err}");
        assert!(!format!("{err} {err:?}").contains("wrong-Pass1"));
    }
    assert_eq!(
        count(&server, "POST", "/api/session").await,
        1,
        "one login for all"
    );
    assert_eq!(count(&server, "GET", "/api/user/current").await, 0);
    // A later call tries again: the failure is not kept.
    client.metabase().get_me().await.unwrap_err();
    assert_eq!(count(&server, "POST", "/api/session").await, 2);
}

/// The same for a token provider whose refresh fails: 16 concurrent 401s cost one refresh.
#[tokio::test]
async fn a_failed_refresh_is_shared_by_the_calls_that_waited_for_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(401, r#"{"detail":"Could not validate credentials"}"#))
        .mount(&server)
        .await;
    let refreshes = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Barrier::new(16));
    let (r, g) = (Arc::clone(&refreshes), Arc::clone(&gate));
    let auth = Auth::provider(move |refresh| {
        let (r, g) = (Arc::clone(&r), Arc::clone(&g));
        async move {
            if refresh {
                r.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Err("the identity provider is down".into());
            }
            g.wait().await;
            Ok(Secret::new("old"))
        }
    });
    let client = common::client(&server, auth);
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let api = client.rounds();
            tokio::spawn(async move { api.get_me().await })
        })
        .collect();
    for c in calls {
        let err = c.await.unwrap().unwrap_err();
        assert!(err.is_auth(), "{err:?}");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("the identity provider is down"), "{err}");
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1, "one refresh for all");
    assert_eq!(requests(&server).await.len(), 16, "no replay");
}

/// A write refused with 401 under `Auth::metabase_login` is not replayed (it is not safe to
/// repeat); the next read logs in again and succeeds.
#[tokio::test]
async fn a_write_refused_under_metabase_login_is_not_replayed() {
    let server = login_server("s3cret-Pass").await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/reactivate"))
        .respond_with(common::text(401, "Unauthenticated"))
        .mount(&server)
        .await;
    let client = common::client(
        &server,
        userapi::metabase::auth::login("ada@example.com", "s3cret-Pass"),
    );
    client.metabase().get_me().await.unwrap();
    // session-0 has expired: the write is refused and ends there.
    let err = client
        .metabase()
        .reactivate_user(&userapi::metabase::UserId::new(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err:?}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(count(&server, "PUT", "/api/user/1/reactivate").await, 1);
    assert_eq!(
        count(&server, "POST", "/api/session").await,
        1,
        "no login for a write"
    );
    // A read logs in again once and goes through.
    client.metabase().get_me().await.unwrap();
    assert_eq!(count(&server, "POST", "/api/session").await, 2);
}

/// A provider that counts its calls and hands out `tok-<n>`; `refreshes` counts the calls
/// that asked for a fresh token.
#[cfg(feature = "novaconnect")]
fn counting_provider() -> (Auth, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let (c, r) = (Arc::clone(&calls), Arc::clone(&refreshes));
    let auth = Auth::provider(move |refresh| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        if refresh {
            r.fetch_add(1, Ordering::SeqCst);
        }
        async move { Ok(userapi::Secret::new(format!("tok-{n}"))) }
    });
    (auth, calls, refreshes)
}

#[cfg(feature = "novaconnect")]
fn unauthorized() -> Action {
    Action::Send(response(
        "401 Unauthorized",
        "application/json",
        br#"{"message":"token expired"}"#,
        &[],
    ))
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_401_leads_to_one_refresh_and_one_replay() {
    let server = FaultServer::start(Arc::new(|n| if n == 0 { unauthorized() } else { ok(NOVA_OK) })).await;
    let (auth, calls, refreshes) = counting_provider();
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    client.novaconnect().get_me().await.expect("the replay succeeds");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("authorization").as_deref(), Some("Bearer tok-0"));
    assert_eq!(seen[1].header("authorization").as_deref(), Some("Bearer tok-1"));
    assert_eq!(
        (calls.load(Ordering::SeqCst), refreshes.load(Ordering::SeqCst)),
        (2, 1)
    );
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_401_after_the_refresh_is_returned_not_looped() {
    let server = FaultServer::start(Arc::new(|_| unauthorized())).await;
    let (auth, calls, refreshes) = counting_provider();
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    let err = client.novaconnect().get_me().await.expect_err("still refused");
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.service_message(), Some("token expired"));
    assert_eq!(server.hits(), 2, "one request and one replay, no more");
    assert_eq!(
        (calls.load(Ordering::SeqCst), refreshes.load(Ordering::SeqCst)),
        (2, 1)
    );
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_401_on_a_write_is_not_replayed() {
    let server = FaultServer::start(Arc::new(|_| unauthorized())).await;
    let (auth, calls, _) = counting_provider();
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    let err = client
        .novaconnect()
        .change_password(&userapi::models::PasswordChange::new("n3w-Secret").current("0ld"))
        .await
        .expect_err("refused");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.hits(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_failing_provider_is_an_auth_error_and_sends_nothing() {
    let server = FaultServer::start(Arc::new(|_| ok(NOVA_OK))).await;
    let auth = Auth::provider(|_| async { Err::<userapi::Secret, _>("vault unreachable".into()) });
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    let err = client.novaconnect().get_me().await.expect_err("no token");
    assert!(matches!(err.kind(), ErrorKind::Auth(_)), "{err:?}");
    assert!(err.to_string().contains("/api/user/get"), "{err}");
    assert_eq!(server.hits(), 0);
}

/// Credentials over plain HTTP go only to loopback unless the user opts in.
#[test]
fn plain_http_with_credentials_needs_loopback_or_an_opt_in() {
    let build = |url: &str, allow: bool| {
        Client::builder()
            .base_url(url)
            .auth(userapi::metabase::auth::api_key("mb_key"))
            .allow_insecure_http(allow)
            .build()
    };
    assert!(matches!(
        build("http://metabase.example.com/", false),
        Err(ref e) if e.is_config()
    ));
    assert!(build("http://metabase.example.com/", true).is_ok());
    assert!(build("http://127.0.0.1:3000/", false).is_ok());
    assert!(build("http://[::1]:3000/", false).is_ok());
    assert!(build("http://localhost:3000/", false).is_ok());
    assert!(build("https://metabase.example.com/", false).is_ok());
    // Without credentials there is nothing to protect.
    assert!(
        Client::builder()
            .base_url("http://metabase.example.com/")
            .build()
            .is_ok()
    );
}
