//! Metabase passwords: changing one (and the new session that follows), checking, forgetting
//! and resetting, under cancellation and races with a login in flight.

use super::*;

#[tokio::test]
async fn own_password_change_switches_the_client_to_the_new_session() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3/password"))
        .and(header("x-metabase-session", SESSION))
        .and(body_json(
            json!({"password": "n3w-Secret", "old_password": "0ld-Secret"}),
        ))
        .respond_with(json(
            200,
            r#"{"success": true, "session_id": "8b4f5c2e-1d3a-4e6f-9a7b-0c1d2e3f4a5b"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header(
            "x-metabase-session",
            "8b4f5c2e-1d3a-4e6f-9a7b-0c1d2e3f4a5b",
        ))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let changed = api
        .change_password(&uid(3), &PasswordChange::new("n3w-Secret").current("0ld-Secret"))
        .await
        .unwrap();
    match changed {
        PasswordChanged::NewSession(s) => assert_eq!(s.expose(), "8b4f5c2e-1d3a-4e6f-9a7b-0c1d2e3f4a5b"),
        other => panic!("{other:?}"),
    }
    api.get_me().await.unwrap();
}

#[tokio::test]
async fn an_admin_changing_another_password_gets_204_and_keeps_its_key() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/5/password"))
        .and(body_json(json!({"password": "n3w-Secret"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, userapi::metabase::auth::api_key("mb_abcdefghijkl"));
    let changed = api
        .change_password(&uid(5), &PasswordChange::new("n3w-Secret"))
        .await
        .unwrap();
    assert!(matches!(changed, PasswordChanged::Changed));
    assert!(api.client().auth().scheme_name() == "metabase-api-key");
}

#[tokio::test]
async fn password_errors_are_field_errors_and_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json(
            400,
            r#"{"errors":{"password":"password is too common."},"specific-errors":{"password":["password is too common., received: \"<hidden>\""]}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .change_password(&uid(3), &PasswordChange::new("password1"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.field_errors()[0].field(), "password");
    assert_eq!(err.field_errors()[0].message(), "password is too common.");
    assert!(!err.to_string().contains("password1"));
}

#[tokio::test]
async fn fake_password_rules_old_password_and_new_session() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = fake.api_with(Auth::none()).unwrap();
    let old = rasta
        .login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    let err = rasta
        .change_password(&uid(2), &PasswordChange::new("password1").current(USER_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "password is too common.");
    let err = rasta
        .change_password(&uid(2), &PasswordChange::new("Fresh-pass9").current("wrong"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "old_password");
    let changed = rasta
        .change_password(
            &uid(2),
            &PasswordChange::new("Fresh-pass9").current(USER_PASSWORD),
        )
        .await
        .unwrap();
    let PasswordChanged::NewSession(new) = changed else {
        panic!("own change gives a session")
    };
    assert!(!fake.session_is_live(&old) && fake.session_is_live(&new));
    assert_eq!(
        rasta.get_me().await.unwrap().id,
        2,
        "the client moved to the new session"
    );
    assert!(fake.password_is(&uid(2), &Password::new("Fresh-pass9")));

    let admin = session_of(&fake, ADMIN_EMAIL);
    let changed = admin
        .change_password(&uid(2), &PasswordChange::new("Reset-pass7"))
        .await
        .unwrap();
    assert!(matches!(changed, PasswordChanged::Changed));
    assert!(!fake.session_is_live(&new), "the user's sessions ended");
    let err = session_of(&fake, "lucky@metabase.com")
        .change_password(&uid(2), &PasswordChange::new("Other-pass1"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn check_password_posts_the_candidate_and_reads_valid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/password-check"))
        .and(body_json(json!({"password": "something123"})))
        .respond_with(json(200, r#"{"valid": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    api(&server)
        .check_password(&Password::new("something123"))
        .await
        .unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            400,
            r#"{"errors": {"password": "password is too common."}, "specific-errors": {"password": ["password is too common., received: \"blah\""]}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .check_password(&Password::new("blah"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "password");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"valid": false}"#))
        .mount(&server)
        .await;
    let err = api(&server)
        .check_password(&Password::new("blah"))
        .await
        .unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
}

#[tokio::test]
async fn forgot_password_posts_the_email_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/forgot_password"))
        .and(body_json(json!({"email": "rasta@example.com"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).forgot_password("rasta@example.com").await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).forgot_password("rasta@example.com").await.is_err());
    let err = api(&server).forgot_password(" ").await.unwrap_err();
    assert!(err.is_invalid_input());
}

#[tokio::test]
async fn the_reset_token_goes_in_the_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/session/password_reset_token_valid"))
        .and(query_param("token", "100_8a266560-e3a8 4dc1"))
        .respond_with(json(200, r#"{"valid": false}"#))
        .expect(1)
        .mount(&server)
        .await;
    let valid = api(&server)
        .password_reset_token_valid(&ResetToken::new("100_8a266560-e3a8 4dc1"))
        .await
        .unwrap();
    assert!(!valid);
}

#[tokio::test]
async fn reset_password_posts_token_and_password_and_switches_to_the_new_session() {
    const NEW: &str = "3b0f8a52-6c1d-4e2a-9f7b-2d4c6e8a0b1c";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/reset_password"))
        .and(body_json(json!({"token": "2_abc", "password": "N3w-secret"})))
        .respond_with(json(
            200,
            &format!(r#"{{"success": true, "session_id": "{NEW}"}}"#),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", NEW))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::none());
    let done = api
        .reset_password(&ResetToken::new("2_abc"), &Password::new("N3w-secret"))
        .await
        .unwrap();
    assert_eq!(done, PasswordChanged::NewSession(SessionId::new(NEW)));
    api.get_me().await.unwrap();
}

#[tokio::test]
async fn a_reset_without_a_session_keeps_the_client_and_an_empty_one_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"success": true}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"success": true, "session_id": ""}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    let mfa = api
        .reset_password(&ResetToken::new("2_abc"), &Password::new("N3w-secret"))
        .await
        .unwrap();
    assert_eq!(mfa, PasswordChanged::Changed);
    let err = api
        .reset_password(&ResetToken::new("2_abc"), &Password::new("N3w-secret"))
        .await
        .unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert_eq!(
        common::metabase_session(api.client()).as_deref(),
        Some(SESSION),
        "{:?}",
        api.client().auth()
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "never retried"
    );
}

#[tokio::test]
async fn an_empty_session_from_a_password_change_keeps_the_old_one() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json(200, r#"{"success": true, "session_id": " "}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    let err = api
        .change_password(&uid(3), &PasswordChange::new("n3w-Secret").current("0ld-Secret"))
        .await
        .unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert_eq!(common::metabase_session(api.client()).as_deref(), Some(SESSION));
}

#[tokio::test]
async fn fake_checks_passwords_without_credentials() {
    let fake = FakeMetabase::start().await.unwrap();
    let anyone = fake.api_with(Auth::none()).unwrap();
    anyone
        .check_password(&Password::new("Tour-pass-2024"))
        .await
        .unwrap();
    for weak in ["blah", "password1", "nodigits"] {
        let err = anyone.check_password(&Password::new(weak)).await.unwrap_err();
        assert_eq!(
            err.field_errors()[0].message(),
            "password is too common.",
            "{weak}"
        );
    }
    let err = anyone
        .request(userapi::Method::POST, &["api", "session", "password-check"])
        .json(&json!({}))
        .send_empty()
        .await
        .unwrap_err();
    assert!(err.http().unwrap().body_text().contains(MISSING_KEY));
}

const MISSING_KEY: &str = "missing required key, received: nil";

#[tokio::test]
async fn fake_password_reset_flow() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    let old = SessionId::new(common::metabase_session(rasta.client()).expect("a session"));
    let anyone = fake.api_with(Auth::none()).unwrap();
    anyone.forgot_password("nobody@example.com").await.unwrap();
    assert!(fake.last_reset_token().is_none(), "no account, no token");
    let err = anyone.forgot_password("not-an-email").await.unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "email");

    anyone.forgot_password(USER_EMAIL).await.unwrap();
    let first = fake.last_reset_token().unwrap();
    assert!(first.expose().starts_with("2_"));
    anyone.forgot_password(USER_EMAIL).await.unwrap();
    let token = fake.last_reset_token().unwrap();
    assert!(
        !anyone.password_reset_token_valid(&first).await.unwrap(),
        "superseded"
    );
    assert!(anyone.password_reset_token_valid(&token).await.unwrap());

    let err = anyone
        .reset_password(&token, &Password::new("weak"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "password is too common.");
    assert!(
        anyone.password_reset_token_valid(&token).await.unwrap(),
        "still valid"
    );
    let err = anyone
        .reset_password(&first, &Password::new("Brand-new-pass7"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "Invalid reset token");

    let done = anyone
        .reset_password(&token, &Password::new("Brand-new-pass7"))
        .await
        .unwrap();
    let PasswordChanged::NewSession(new) = done else {
        panic!("a reset answers a session")
    };
    assert!(fake.session_is_live(&new) && !fake.session_is_live(&old));
    assert!(fake.password_is(&uid(2), &Password::new("Brand-new-pass7")));
    assert_eq!(anyone.get_me().await.unwrap().id, 2, "the client switched");
    assert!(!anyone.password_reset_token_valid(&token).await.unwrap(), "used");

    // A deactivated user's token never validates.
    let admin = fake.api().unwrap();
    anyone.forgot_password("lucky@metabase.com").await.unwrap();
    let lucky = fake.last_reset_token().unwrap();
    admin.deactivate_user(&uid(3)).await.unwrap();
    assert!(!anyone.password_reset_token_valid(&lucky).await.unwrap());
}

/// A change of one's own password, abandoned by the caller after the server applied it,
/// still switches the client to the new session: the old one is dead on the server.
#[tokio::test]
async fn an_abandoned_password_change_still_installs_the_new_session() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/password"))
        .respond_with(
            json(200, r#"{"session_id": "after-change"}"#).set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .and(header("x-metabase-session", "after-change"))
        .respond_with(json(200, CURRENT))
        .mount(&server)
        .await;
    let api = api(&server);
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        api.change_password(&uid(1), &PasswordChange::new("N3w-pass-word").current("0ld-pass")),
    )
    .await;
    assert!(abandoned.is_err(), "the caller gave up first");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        common::metabase_session(api.client()).as_deref(),
        Some("after-change"),
        "{:?}",
        api.client().auth()
    );
    api.get_me().await.expect("the new session works");
}

/// A login whose answer comes after a concurrent own-password change does not install a
/// session the change already ended: the change wins.
#[tokio::test]
async fn a_password_change_wins_over_a_login_that_was_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(
            json(200, r#"{"id": "from-slow-login"}"#).set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/password"))
        .respond_with(json(200, r#"{"session_id": "after-change"}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    let login = {
        let api = api.clone();
        tokio::spawn(async move {
            api.login("rasta@metabase.com", &Password::new("Rasta-t0ucan"))
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    api.change_password(
        &uid(1),
        &PasswordChange::new("N3w-pass-word").current("Rasta-t0ucan"),
    )
    .await
    .unwrap();
    let from_login = login.await.unwrap().expect("the login itself succeeded");
    assert_eq!(from_login.expose(), "from-slow-login");
    assert_eq!(
        common::metabase_session(api.client()).as_deref(),
        Some("after-change"),
        "the newer change stays: {:?}",
        api.client().auth()
    );
}

/// Under `metabase::auth::login`, one's own password change keeps the new session and the
/// new password, so the next login (after the session ends) uses it.
#[tokio::test]
async fn a_password_change_under_login_credentials_keeps_the_new_password() {
    let server = MockServer::start().await;
    let passwords = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&passwords);
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(move |req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            let mut seen = seen.lock().unwrap();
            seen.push(body["password"].as_str().unwrap().to_owned());
            json(200, &format!(r#"{{"id": "login-{}"}}"#, seen.len()))
        })
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/password"))
        .respond_with(json(200, r#"{"session_id": "after-change"}"#))
        .mount(&server)
        .await;
    // The session from the change is used once, then ends; then a re-login is needed.
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "after-change"))
        .respond_with(json(200, CURRENT))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "login-1"))
        .respond_with(json(200, CURRENT))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "login-2"))
        .respond_with(json(200, CURRENT))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(text(401, "Unauthenticated"))
        .mount(&server)
        .await;
    let api = api_with(
        &server,
        userapi::metabase::auth::login("rasta@metabase.com", "0ld-Pass"),
    );
    api.get_me().await.expect("a lazy login");
    api.change_password(&uid(1), &PasswordChange::new("N3w-Pass").current("0ld-Pass"))
        .await
        .unwrap();
    api.get_me().await.expect("the change's session");
    api.get_me().await.expect("a re-login with the new password");
    assert_eq!(*passwords.lock().unwrap(), ["0ld-Pass", "N3w-Pass"]);
    assert!(api.client().auth().scheme_name() == "metabase-login");
}

/// Writes whose repetition is not harmless are sent once, even when the server answers a 503
/// (which a read would retry): a password change, a reactivation, a reset.
#[tokio::test]
async fn password_changes_reactivations_and_resets_are_sent_once_on_a_503() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(text(503, "busy"))
        .mount(&server)
        .await;
    let api = api(&server);
    let pw = Password::new("N3w-password");
    let errors = [
        (
            "PUT",
            "/api/user/7/password",
            api.change_password(&uid(7), &PasswordChange::new(pw.clone()).current("0ld-password"))
                .await
                .map(|_| ()),
        ),
        (
            "PUT",
            "/api/user/7/reactivate",
            api.reactivate_user(&uid(7)).await.map(|_| ()),
        ),
        (
            "POST",
            "/api/session/reset_password",
            api.reset_password(&ResetToken::new("tok_1"), &pw)
                .await
                .map(|_| ()),
        ),
    ];
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 3, "one request each: {sent:?}");
    for ((verb, route, result), request) in errors.into_iter().zip(&sent) {
        let err = result.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{route}");
        assert_eq!(err.attempts(), 1, "{route}");
        assert_eq!((request.method.as_str(), request.url.path()), (verb, route));
    }
}

/// A reset the server answered installs its session even when the caller stopped waiting;
/// a login whose answer comes after the credentials were changed another way does not
/// overwrite them.
#[tokio::test]
async fn reset_and_login_survive_abandoned_callers_and_never_overwrite_newer_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/reset_password"))
        .respond_with(
            json(200, r#"{"success": true, "session_id": "after-reset"}"#)
                .set_delay(std::time::Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(
            json(200, r#"{"id": "from-slow-login"}"#).set_delay(std::time::Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    let anonymous = api_with(&server, Auth::none());
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        anonymous.reset_password(&ResetToken::new("tok_1"), &Password::new("N3w-password")),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        common::metabase_session(anonymous.client()).as_deref(),
        Some("after-reset"),
        "the reset's session is lost: {:?}",
        anonymous.client().auth()
    );

    let api = api(&server);
    let login = tokio::spawn({
        let api = api.clone();
        async move { api.login("a@b.io", &Password::new("pass-w0rd")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    api.client()
        .set_auth(userapi::metabase::auth::api_key("mb_set_meanwhile"))
        .unwrap();
    login.await.unwrap().unwrap();
    assert_eq!(
        common::metabase_api_key(api.client()).as_deref(),
        Some("mb_set_meanwhile")
    );
}

/// The same under `metabase::auth::login`: a login that was in flight while one's own password
/// changed does not replace the change's session (nor the login credentials), whether it
/// started before or after the client's own first login.
#[tokio::test]
async fn under_login_credentials_a_password_change_wins_over_a_login_in_flight() {
    for login_first in [false, true] {
        let server = MockServer::start().await;
        let slow = json(200, r#"{"id": "from-slow-login"}"#).set_delay(std::time::Duration::from_millis(300));
        let fast = json(200, r#"{"id": "first-session"}"#);
        // The first login to arrive gets the first answer mounted.
        let (first, then) = if login_first { (slow, fast) } else { (fast, slow) };
        Mock::given(method("POST"))
            .and(path("/api/session"))
            .respond_with(first)
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/session"))
            .respond_with(then)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/api/user/1/password"))
            .respond_with(json(200, r#"{"session_id": "after-change"}"#))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/user/current"))
            .respond_with(json(200, CURRENT))
            .mount(&server)
            .await;
        let api = api_with(
            &server,
            userapi::metabase::auth::login("rasta@metabase.com", "Rasta-t0ucan"),
        );
        let spawn_login = |api: Metabase| {
            tokio::spawn(async move {
                api.login("rasta@metabase.com", &Password::new("Rasta-t0ucan"))
                    .await
            })
        };
        let login = if login_first {
            let login = spawn_login(api.clone());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            api.get_me().await.unwrap();
            login
        } else {
            api.get_me().await.unwrap();
            let login = spawn_login(api.clone());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            login
        };
        api.change_password(
            &uid(1),
            &PasswordChange::new("N3w-pass-word").current("Rasta-t0ucan"),
        )
        .await
        .unwrap();
        login.await.unwrap().expect("the login itself succeeded");
        assert!(
            api.client().auth().scheme_name() == "metabase-login",
            "login first: {login_first}: {:?}",
            api.client().auth()
        );
        api.get_me().await.unwrap();
        let sent = server.received_requests().await.unwrap();
        let last = sent.last().unwrap();
        assert_eq!(last.url.path(), "/api/user/current");
        assert_eq!(
            last.headers.get("x-metabase-session").unwrap(),
            "after-change",
            "login first: {login_first}: the change's session stays"
        );
    }
}
