//! Sessions that survive restarts: every change of a client's credentials reaches the
//! application's callback once, in order, and a new process starts from the stored session
//! (no login), logging in once only when the server refuses it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use userapi::auth::{ChangeReason, CredentialChange};
use userapi::metabase::PasswordChanged;

use super::*;

use common::changes::Seen;

fn recorder() -> (Seen, impl Fn(&CredentialChange) + Send + Sync + 'static) {
    let seen = Seen::default();
    let callback = seen.callback();
    (seen, callback)
}

fn logins(fake: &FakeMetabase) -> usize {
    fake.received_requests()
        .iter()
        .filter(|r| r.method == userapi::Method::POST && r.path == "/api/session")
        .count()
}

fn login_client(
    fake: &FakeMetabase,
    stored: Option<&str>,
    on_change: impl Fn(&CredentialChange) + Send + Sync + 'static,
) -> Metabase {
    let mut builder = userapi::Client::builder()
        .base_url(fake.base_url())
        .auth(userapi::metabase::auth::login(USER_EMAIL, USER_PASSWORD))
        .on_credential_change(on_change);
    if let Some(stored) = stored {
        builder = builder.stored_credential(stored.to_owned());
    }
    builder.build().unwrap().metabase()
}

/// Login, re-login after a `401`, password change, password reset and logout: one change
/// each, in order, with the session the client then holds.
#[tokio::test]
async fn every_change_reaches_the_callback_once_in_order() {
    let fake = FakeMetabase::start().await.unwrap();
    let (seen, on_change) = recorder();
    let api = login_client(&fake, None, on_change);

    // 1. The first call logs in.
    let me = api.get_me().await.unwrap();
    let first = seen.settle(1).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].0, ChangeReason::Login);
    let s1 = first[0].2.clone().expect("the session");
    assert!(fake.session_is_live(&SessionId::new(s1.clone())));

    // 2. The server ends that session: the next read logs in again.
    fake.api_with(userapi::metabase::auth::session(s1.clone()))
        .unwrap()
        .logout()
        .await
        .unwrap();
    api.get_me().await.unwrap();
    let second = seen.settle(2).await;
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(second[1].0, ChangeReason::Refresh);
    let s2 = second[1].2.clone().unwrap();
    assert_ne!(s2, s1);

    // 3. One's own password change answers a new session.
    let changed = api
        .change_password(
            &me.id,
            &PasswordChange::new("Brand-new-pass-7").current(USER_PASSWORD),
        )
        .await
        .unwrap();
    let PasswordChanged::NewSession(s3) = changed else {
        panic!("{changed:?}")
    };
    let third = seen.settle(3).await;
    assert_eq!(third.len(), 3, "{third:?}");
    assert_eq!(
        third[2],
        (
            ChangeReason::PasswordChange,
            "metabase-login",
            Some(s3.expose().to_owned())
        )
    );

    // 4. A reset answers a session too.
    api.forgot_password(USER_EMAIL).await.unwrap();
    let token = fake.last_reset_token().unwrap();
    let PasswordChanged::NewSession(s4) = api
        .reset_password(&token, &Password::new("Reset-pass-2024x"))
        .await
        .unwrap()
    else {
        panic!("a session")
    };
    let fourth = seen.settle(4).await;
    assert_eq!(fourth.len(), 4, "{fourth:?}");
    assert_eq!(
        fourth[3],
        (
            ChangeReason::PasswordReset,
            "metabase-session",
            Some(s4.expose().to_owned())
        )
    );

    // 5. A logout leaves nothing to store.
    api.logout().await.unwrap();
    let all = seen.settle(5).await;
    assert_eq!(all.len(), 5, "{all:?}");
    assert_eq!(all[4], (ChangeReason::Logout, "none", None));
}

/// A second run starts from the stored session and logs in 0 times; a stored session the
/// server refuses costs exactly 1 login, whose session reaches the callback.
#[tokio::test]
async fn a_stored_session_saves_the_login_and_a_stale_one_costs_exactly_one() {
    let fake = FakeMetabase::start().await.unwrap();

    // Run 1: logs in once and hands the session over.
    let (seen, on_change) = recorder();
    let run1 = login_client(&fake, None, on_change);
    run1.get_me().await.unwrap();
    run1.get_me().await.unwrap();
    assert_eq!(logins(&fake), 1);
    let stored = seen.settle(1).await[0].2.clone().unwrap();

    // Run 2: a new client from the stored session: no login at all, and nothing to store.
    fake.clear_requests();
    let (seen2, on_change) = recorder();
    let run2 = login_client(&fake, Some(&stored), on_change);
    run2.get_me().await.unwrap();
    run2.get_me().await.unwrap();
    assert_eq!(logins(&fake), 0);
    let sent = fake.received_requests();
    assert!(
        sent.iter()
            .all(|r| r.header("x-metabase-session") == Some(stored.as_str())),
        "every call sends the stored session"
    );
    assert!(seen2.settle(0).await.is_empty());

    // The session ends on the server (it expired): run 3 is refused once and logs in once.
    fake.api_with(userapi::metabase::auth::session(stored.clone()))
        .unwrap()
        .logout()
        .await
        .unwrap();
    fake.clear_requests();
    let (seen3, on_change) = recorder();
    let run3 = login_client(&fake, Some(&stored), on_change);
    let me = run3.get_me().await.unwrap();
    assert_eq!(me.email.as_deref(), Some(USER_EMAIL));
    assert_eq!(logins(&fake), 1);
    let statuses: Vec<_> = fake
        .received_requests()
        .iter()
        .map(|r| (r.path.clone(), r.status.map(|s| s.as_u16())))
        .collect();
    assert_eq!(
        statuses,
        [
            ("/api/user/current".to_owned(), Some(401)),
            ("/api/session".to_owned(), Some(200)),
            ("/api/user/current".to_owned(), Some(200)),
        ]
    );
    let changes = seen3.settle(1).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].0, ChangeReason::Refresh);
    assert_ne!(changes[0].2.as_deref(), Some(stored.as_str()));
}

/// A stored credential that cannot be sent, or a scheme that cannot start from one, fails
/// `build()` with a configuration error that does not quote it.
#[test]
fn a_stored_credential_that_cannot_work_fails_build() {
    let login = || userapi::metabase::auth::login(USER_EMAIL, USER_PASSWORD);
    for (auth, stored) in [
        (login(), "line\r\nbreak-secret"),
        (login(), "   "),
        (userapi::metabase::auth::session("s-123"), "stored-secret"),
        (userapi::metabase::auth::api_key("mb_key"), "stored-secret"),
    ] {
        let err = userapi::Client::builder()
            .base_url("https://metabase.example.com/")
            .auth(auth)
            .stored_credential(stored)
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{err}");
        assert!(!format!("{err} {err:?}").contains("secret"), "{err}");
    }
}

/// The change never shows its credential in `Debug`.
#[tokio::test]
async fn a_change_never_prints_its_credential() {
    let fake = FakeMetabase::start().await.unwrap();
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&printed);
    let api = login_client(&fake, None, move |change| {
        sink.lock().unwrap().push(format!("{change:?}"));
    });
    api.get_me().await.unwrap();
    for _ in 0..500 {
        if !printed.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = fake.received_requests();
    let session = sent
        .last()
        .unwrap()
        .header("x-metabase-session")
        .unwrap()
        .to_owned();
    let printed = printed.lock().unwrap().clone();
    assert_eq!(printed.len(), 1);
    assert!(printed[0].contains("Login"), "{printed:?}");
    assert!(!printed[0].contains(&session), "{printed:?}");
    assert!(!printed[0].contains(USER_PASSWORD), "{printed:?}");
}

/// A login-on-demand client that has not logged in has no session to end: its logout sends
/// nothing (no login just to log out) and changes nothing.
#[tokio::test]
async fn logout_before_any_login_sends_nothing() {
    let fake = FakeMetabase::start().await.unwrap();
    let (seen, on_change) = recorder();
    let api = login_client(&fake, None, on_change);
    api.logout().await.unwrap();
    assert_eq!(fake.request_count(), 0);
    assert!(seen.settle(0).await.is_empty());
    // After a login, logout ends that session and the next call logs in again.
    api.get_me().await.unwrap();
    api.logout().await.unwrap();
    api.get_me().await.unwrap();
    assert_eq!(logins(&fake), 2);
    let changes: Vec<_> = seen.settle(3).await.into_iter().map(|c| c.0).collect();
    assert_eq!(
        changes,
        [ChangeReason::Login, ChangeReason::Logout, ChangeReason::Login]
    );
}
