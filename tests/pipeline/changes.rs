//! Credential changes beyond Metabase's: a token provider's new token after a `401`, a
//! Diadoc login, and credentials the application installs itself, each reaching the
//! callback once.

use super::*;
use userapi::auth::{ChangeReason, CredentialChange, Password};

use common::changes::Seen;

fn recorder() -> (Seen, impl Fn(&CredentialChange) + Send + Sync + 'static) {
    let seen = Seen::default();
    let callback = seen.callback();
    (seen, callback)
}

/// A token provider asked again after a `401`: its new token is a change; the tokens it
/// gives before every attempt are its own business and are not.
#[tokio::test]
async fn a_token_providers_refresh_is_one_change() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer old"))
        .respond_with(json(401, r#"{"detail":"expired"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer new"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    let (seen, on_change) = recorder();
    let client = common::client_builder(server.uri())
        .auth(Auth::provider(|refresh| async move {
            Ok(Secret::new(if refresh { "new" } else { "old" }))
        }))
        .on_credential_change(on_change)
        .build()
        .unwrap();
    client.rounds().get_me().await.unwrap();
    let seen = seen.settle(1).await;
    assert_eq!(
        seen,
        [(ChangeReason::Refresh, "token-provider", Some("new".to_owned()))]
    );
}

/// A Diadoc login is one change, carrying the token (not the client id).
#[tokio::test]
async fn a_diadoc_login_is_one_change_with_the_token() {
    use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};
    let fake = FakeDiadoc::start().await.unwrap();
    let (seen, on_change) = recorder();
    let client = Client::builder()
        .base_url(fake.base_url())
        .auth(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))
        .on_credential_change(on_change)
        .build()
        .unwrap();
    let token = client
        .diadoc()
        .login(LOGIN, &Password::new(PASSWORD))
        .await
        .unwrap();
    let seen = seen.settle(1).await;
    assert_eq!(
        seen,
        [(ChangeReason::Login, "diadoc", Some(token.expose().to_owned()))]
    );
}

/// `set_auth` is a change too, also from code that runs outside any runtime.
#[test]
fn set_auth_is_a_change_even_outside_a_runtime() {
    let (seen, on_change) = recorder();
    let client = Client::builder()
        .base_url("https://example.com/")
        .on_credential_change(on_change)
        .build()
        .unwrap();
    client.set_auth(Auth::bearer("tok-1")).unwrap();
    client.set_auth(Auth::none()).unwrap();
    // Delivered at once without a runtime.
    let seen = seen.now();
    assert_eq!(
        seen,
        [
            (ChangeReason::Replaced, "bearer", Some("tok-1".to_owned())),
            (ChangeReason::Replaced, "none", None),
        ]
    );
}

/// A callback that panics loses its own change, not the ones after it.
#[test]
fn a_panicking_callback_does_not_stop_later_changes() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    let client = Client::builder()
        .base_url("https://example.com/")
        .on_credential_change(move |_| {
            if c.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("the application's callback failed");
            }
        })
        .build()
        .unwrap();
    let _ = client.set_auth(Auth::bearer("a"));
    let _ = client.set_auth(Auth::bearer("b"));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

/// Kontur's OpenID Connect: what an application stores is the refresh token, rotated on
/// every refresh; each rotation reaches the callback once (the first refresh, and the one
/// after a `401`), never the access token.
#[tokio::test]
async fn each_rotated_refresh_token_reaches_the_callback_once() {
    use userapi::diadoc::auth::OidcRefresh;
    use userapi_fake::diadoc::{FakeDiadoc, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, TOKEN_PATH};
    let fake = FakeDiadoc::start().await.unwrap();
    let first = fake.issue_refresh_token();
    let (seen, on_change) = recorder();
    let auth = OidcRefresh::new(OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, first.clone())
        .token_endpoint(fake.base_url().join(TOKEN_PATH).unwrap().as_str())
        .into_auth();
    let client = Client::builder()
        .base_url(fake.base_url())
        .auth(auth)
        .on_credential_change(on_change)
        .build()
        .unwrap();
    let diadoc = client.diadoc();
    diadoc.get_me().await.unwrap();
    diadoc.get_me().await.unwrap();
    fake.expire_tokens();
    diadoc.get_me().await.unwrap();
    let seen = seen.settle(2).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let current = client
        .auth()
        .source::<OidcRefresh>()
        .unwrap()
        .refresh_token()
        .expose()
        .to_owned();
    assert!(
        seen.iter()
            .all(|(reason, scheme, _)| *reason == ChangeReason::Refresh && *scheme == "diadoc-oidc")
    );
    assert_ne!(seen[0].2.as_deref(), Some(first.expose()));
    assert_eq!(seen[1].2.as_deref(), Some(current.as_str()));
    assert!(
        seen.iter()
            .all(|(_, _, c)| !c.as_deref().unwrap().starts_with("fake-oidc-access"))
    );
}

/// A Diadoc login-on-demand client starts from a stored token: no login until the server
/// refuses it, then exactly one.
#[tokio::test]
async fn a_stored_diadoc_token_saves_the_login_and_a_stale_one_costs_one() {
    use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};
    let fake = FakeDiadoc::start().await.unwrap();
    let stored = fake.issue_token();
    let logins = |fake: &FakeDiadoc| {
        fake.received_requests()
            .iter()
            .filter(|r| r.path == "/V3/Authenticate")
            .count()
    };
    let build = |stored: &str| {
        Client::builder()
            .base_url(fake.base_url())
            .auth(userapi::diadoc::auth::login(CLIENT_ID, LOGIN, PASSWORD))
            .stored_credential(stored.to_owned())
            .build()
            .unwrap()
    };
    build(stored.expose()).diadoc().get_me().await.unwrap();
    assert_eq!(logins(&fake), 0);
    fake.expire_tokens();
    fake.clear_requests();
    build(stored.expose()).diadoc().get_me().await.unwrap();
    assert_eq!(logins(&fake), 1);
    assert_eq!(fake.request_count() as usize, fake.received_requests().len());
}

/// `flush_credential_changes` returns only once the callback has finished with every change,
/// also one it is still working on (a slow file write).
#[tokio::test]
async fn flush_waits_for_a_callback_still_running() {
    let done = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&done);
    let client = Client::builder()
        .base_url("https://example.com/")
        .on_credential_change(move |_| {
            std::thread::sleep(Duration::from_millis(200));
            d.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    client.set_auth(Auth::bearer("a")).unwrap();
    // Let the delivery start: the change is out of the queue, in the callback.
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.flush_credential_changes().await;
    assert_eq!(done.load(Ordering::SeqCst), 1);
}
