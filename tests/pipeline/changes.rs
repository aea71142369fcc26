//! Credential changes beyond Metabase's: a token provider's new token after a `401`, a
//! Diadoc login, and credentials the application installs itself, each reaching the
//! callback once.

use std::sync::Mutex;

use super::*;
use userapi::auth::{ChangeReason, CredentialChange, Password};

type Seen = Arc<Mutex<Vec<(ChangeReason, &'static str, Option<String>)>>>;

fn recorder() -> (Seen, impl Fn(&CredentialChange) + Send + Sync + 'static) {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    (seen, move |c: &CredentialChange| {
        sink.lock().unwrap().push((
            c.reason,
            c.scheme,
            c.credential.as_ref().map(|s| s.expose().to_owned()),
        ));
    })
}

async fn settle(seen: &Seen, n: usize) -> Vec<(ChangeReason, &'static str, Option<String>)> {
    for _ in 0..500 {
        if seen.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    seen.lock().unwrap().clone()
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
    let seen = settle(&seen, 1).await;
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
    let seen = settle(&seen, 1).await;
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
    let seen = seen.lock().unwrap().clone();
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
