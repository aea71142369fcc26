//! Metabase sessions: the session header or API key on every call, login and logout, session ids
//! the server must not be trusted with, the session cookie, and logging in again on demand.

use super::*;

#[tokio::test]
async fn get_me_sends_the_session_header_and_decodes_current_only_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .and(header("x-metabase-session", SESSION))
        .and(header("accept", "application/json"))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.id, 3);
    assert_eq!(me.common_name.as_deref(), Some("Rasta Toucan"));
    assert_eq!(
        me.date_joined.as_ref().unwrap().as_str(),
        "2024-03-01T10:15:30.123456Z"
    );
    assert!(me.last_login.as_ref().unwrap().to_system_time().is_some());
    assert_eq!(me.group_ids, Some(vec![gid(4), gid(1)]));
    assert_eq!(me.personal_collection_id, Some(7));
    assert_eq!(me.tenant_collection_id, None);
    assert_eq!(me.login_attributes.as_ref().unwrap()["region"], "EU");
    assert_eq!(me.is_installer, Some(false));
    assert_eq!(me.custom_homepage.as_ref().unwrap().dashboard_id, Some(12));
    let perms = me.permissions.as_ref().unwrap();
    assert_eq!(
        (perms.can_create_queries, perms.can_create_native_queries),
        (Some(true), Some(false))
    );
    assert_eq!(perms.extra["can_do_new_thing"], true);
    assert_eq!(me.extra["is_new_in_v60"], "yes");
}

#[tokio::test]
async fn an_api_key_goes_in_x_api_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-api-key", "mb_abcdefghijkl"))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    api_with(&server, userapi::metabase::auth::api_key("mb_abcdefghijkl"))
        .get_me()
        .await
        .unwrap();
    let seen = &server.received_requests().await.unwrap()[0];
    assert!(seen.headers.get("x-metabase-session").is_none());
}

#[tokio::test]
async fn login_posts_credentials_and_uses_the_session_then_logout_drops_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .and(body_json(
            json!({"username": "rasta@metabase.com", "password": "Rasta-t0ucan"}),
        ))
        .respond_with(
            json(200, &format!(r#"{{"id": "{SESSION}"}}"#)).insert_header("set-cookie", "metabase.SESSION=x"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/session"))
        .and(header("x-metabase-session", SESSION))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::none());
    let session = api
        .login("rasta@metabase.com", &Password::new("Rasta-t0ucan"))
        .await
        .unwrap();
    assert_eq!(session.expose(), SESSION);
    assert!(api.client().auth().scheme_name() == "metabase-session");
    api.logout().await.unwrap();
    assert!(api.client().auth().is_none());
}

#[tokio::test]
async fn login_errors_keep_the_servers_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            401,
            r#"{"errors":{"password":"did not match stored password"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api_with(&server, Auth::none())
        .login("a@b.io", &Password::new("wrong-pass"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.field_errors()[0].message(), "did not match stored password");
    assert!(!format!("{err} {err:?}").contains("wrong-pass"));
}

#[tokio::test]
async fn fake_login_get_me_and_logout() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api_with(Auth::none()).unwrap();
    assert_eq!(
        api.get_me().await.unwrap_err().service_message(),
        Some("Unauthenticated")
    );
    let session = api
        .login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    let me = api.get_me().await.unwrap();
    assert_eq!((me.id, me.is_superuser), (uid(2), Some(false)));
    assert!(me.permissions.is_some());
    api.logout().await.unwrap();
    assert!(!fake.session_is_live(&session));
    let admin = fake.api_with(Auth::none()).unwrap();
    admin
        .login(ADMIN_EMAIL, &Password::new(ADMIN_PASSWORD))
        .await
        .unwrap();
    assert_eq!(admin.get_me().await.unwrap().is_superuser, Some(true));
    let keyed = fake.api_with(userapi::metabase::auth::api_key(API_KEY)).unwrap();
    assert_eq!(keyed.list_users(&ListUsers::new()).await.unwrap().total, Some(3));
    let err = api
        .login(USER_EMAIL, &Password::new("nope-123"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "did not match stored password");
}

#[tokio::test]
async fn an_empty_session_id_is_a_protocol_error_and_the_old_credential_stays() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(json(200, r#"{"id": ""}"#))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let err = api
        .login("a@b.io", &Password::new("pass-w0rd"))
        .await
        .unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert_eq!(
        common::metabase_session(api.client()).as_deref(),
        Some(SESSION),
        "the old session is gone: {:?}",
        api.client().auth()
    );
}

/// A session id that could never go in a header (a line break, a control character) is the
/// server breaking the protocol, not the caller's configuration; the old session stays.
#[tokio::test]
async fn a_session_id_with_control_characters_is_a_protocol_error() {
    for id in ["abc\r\nX-Evil: 1", "abc\u{7}def"] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/session"))
            .respond_with(json(200, &serde_json::json!({ "id": id }).to_string()))
            .expect(1)
            .mount(&server)
            .await;
        let api = api(&server);
        let err = api
            .login("a@b.io", &Password::new("pass-w0rd"))
            .await
            .unwrap_err();
        assert!(err.is_protocol(), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        assert!(!err.to_string().contains("X-Evil"), "{err}");
        assert_eq!(
            common::metabase_session(api.client()).as_deref(),
            Some(SESSION),
            "the old session is gone: {:?}",
            api.client().auth()
        );
    }
}

#[tokio::test]
async fn logout_with_an_api_key_keeps_the_key_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let api = api_with(&server, userapi::metabase::auth::api_key("mb_abcdefghijkl"));
    let err = api.logout().await.unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(api.client().auth().scheme_name() == "metabase-api-key");
}

#[tokio::test]
async fn fake_checks_credentials_before_routing() {
    let fake = FakeMetabase::start().await.unwrap();
    let wrong = fake
        .api_with(userapi::metabase::auth::api_key("mb_notTheRightKey123"))
        .unwrap();
    let err = wrong
        .request(userapi::Method::GET, &["api", "card", "1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.service_message(), Some("Unauthenticated"));
}

#[tokio::test]
async fn fake_answers_the_api_key_user_on_current() {
    let fake = FakeMetabase::start().await.unwrap();
    let keyed = fake.api_with(userapi::metabase::auth::api_key(API_KEY)).unwrap();
    let me = keyed.get_me().await.unwrap();
    assert!(
        me.email.as_deref().unwrap().ends_with("@api-key.invalid"),
        "{:?}",
        me.email
    );
    assert_eq!(me.last_name.as_deref(), Some(""));
    assert_eq!(me.is_superuser, Some(true));
}

#[tokio::test]
async fn fake_missing_username_says_missing_required_key() {
    let fake = FakeMetabase::start().await.unwrap();
    let err = fake
        .api_with(Auth::none())
        .unwrap()
        .request(userapi::Method::POST, &["api", "session"])
        .json(&json!({"password": "x"}))
        .send_empty()
        .await
        .unwrap_err();
    let body = String::from_utf8_lossy(err.http().unwrap().body()).into_owned();
    assert!(body.contains("missing required key, received: nil"), "{body}");
}

#[tokio::test]
async fn fake_sets_and_accepts_the_session_cookie() {
    let fake = FakeMetabase::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = fake.base_url();
    let login = http
        .post(url.join("api/session").unwrap())
        .json(&json!({"username": USER_EMAIL, "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find_map(|c| c.strip_prefix("metabase.SESSION="))
        .and_then(|c| c.split(';').next())
        .expect("a metabase.SESSION cookie")
        .to_owned();
    assert!(
        cookies.iter().any(|c| c.starts_with("metabase.TIMEOUT=alive;")),
        "{cookies:?}"
    );
    let me = http
        .get(url.join("api/user/current").unwrap())
        .header("cookie", format!("metabase.SESSION={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn fake_routing_answers_as_the_server_does() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    let nobody = fake.api_with(Auth::none()).unwrap();
    let bad_key = fake
        .api_with(userapi::metabase::auth::api_key("mb_notTheRightKey123"))
        .unwrap();
    let status = |r: Result<(), Error>| r.unwrap_err().status().map(|s| s.as_u16());
    for (api, segments, want) in [
        (&nobody, &["api", "user", "abc"][..], 401),
        (&bad_key, &["api", "api-key"][..], 401),
        (&bad_key, &["api", "login-history", "current"][..], 401),
        (&admin, &["api", "user", "2", "nope"][..], 404),
        (&admin, &["api", "card", "1"][..], 404),
        (&nobody, &["api", "nonexistent"][..], 404),
    ] {
        let got = status(api.request(userapi::Method::GET, segments).send_empty().await);
        assert_eq!(got, Some(want), "{segments:?}");
    }
    let err = admin
        .request(userapi::Method::GET, &["api", "card", "1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("API endpoint does not exist."));
    let err = async { admin.get_user(&UserId::try_from(0)?).await }.await;
    assert!(err.unwrap_err().is_invalid_input());
    let err = admin
        .request(userapi::Method::GET, &["api", "user", "-1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "id");
}

#[tokio::test]
async fn fake_cookie_wins_over_the_header_and_logout_clears_it() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = fake.add_session(USER_EMAIL).unwrap();
    let admin = fake.add_session(ADMIN_EMAIL).unwrap();
    let http = reqwest::Client::new();
    let url = fake.base_url();
    let me: serde_json::Value = http
        .get(url.join("api/user/current").unwrap())
        .header("cookie", format!("other=1; metabase.SESSION={}", rasta.expose()))
        .header("x-metabase-session", admin.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], 2);
    let out = http
        .delete(url.join("api/session").unwrap())
        .header("cookie", format!("metabase.SESSION={}", rasta.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let cleared: Vec<&str> = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("metabase.SESSION=;Expires=Thu, 1 Jan 1970")),
        "{cleared:?}"
    );
    assert!(!fake.session_is_live(&rasta));
}

/// Under `metabase::auth::login`, a session the server ended and a password that no longer
/// works: the read is refused, the one re-login fails, and the call ends with the login's
/// error. No loop, and no replay.
#[tokio::test]
async fn a_failed_re_login_ends_the_call_with_the_login_error() {
    let fake = FakeMetabase::start().await.unwrap();
    let user = fake
        .api_with(userapi::metabase::auth::login(USER_EMAIL, USER_PASSWORD))
        .unwrap();
    let me = user.get_me().await.unwrap();
    // An admin sets a new password: the server ends every session of the user.
    let admin = session_of(&fake, ADMIN_EMAIL);
    admin
        .change_password(&me.id, &PasswordChange::new("Someone-else-s-1"))
        .await
        .unwrap();
    fake.clear_requests();
    let err = user.get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.target().unwrap().path(), "/api/session", "the login's error");
    assert!(!format!("{err} {err:?}").contains(USER_PASSWORD));
    let seen: Vec<(String, String)> = fake
        .received_requests()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".to_owned(), "/api/user/current".to_owned()),
            ("POST".to_owned(), "/api/session".to_owned()),
        ]
    );
}

/// A logout the server has answered drops the session even when the caller stopped waiting
/// first; the client does not keep sending a session the server ended.
#[tokio::test]
async fn an_abandoned_logout_still_drops_the_session() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(204).set_delay(std::time::Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(50), api.logout()).await;
    assert!(gave_up.is_err(), "the caller stopped waiting");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(api.client().auth().is_none(), "{:?}", api.client().auth());
}

/// A session installed while a logout was in flight (another login) is kept: the logout
/// ended the session it was sent with, not the new one.
#[tokio::test]
async fn a_logout_keeps_a_session_installed_while_it_was_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(204).set_delay(std::time::Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let logout = tokio::spawn({
        let api = api.clone();
        async move { api.logout().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    api.client()
        .set_auth(userapi::metabase::auth::session("session-from-a-new-login"))
        .unwrap();
    logout.await.unwrap().unwrap();
    assert_eq!(
        common::metabase_session(api.client()).as_deref(),
        Some("session-from-a-new-login"),
        "the new session is gone: {:?}",
        api.client().auth()
    );
}

/// Two logins from the same credentials, in flight together: the one that lands first
/// installs its session; the later one, started before that change, does not overwrite it
/// (each install moves the credentials to a new generation, and a login installs only over
/// the generation it started from).
#[tokio::test]
async fn of_two_logins_in_flight_the_first_to_land_wins() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .and(wiremock::matchers::body_partial_json(
            json!({"username": "slow@example.com"}),
        ))
        .respond_with(json(200, r#"{"id":"session-slow"}"#).set_delay(std::time::Duration::from_millis(400)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .and(wiremock::matchers::body_partial_json(
            json!({"username": "fast@example.com"}),
        ))
        .respond_with(json(200, r#"{"id":"session-fast"}"#).set_delay(std::time::Duration::from_millis(50)))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::none());
    let password = Password::new("pass-w0rd");
    let (slow, fast) = tokio::join!(
        api.login("slow@example.com", &password),
        api.login("fast@example.com", &password),
    );
    assert_eq!(
        slow.unwrap().expose(),
        "session-slow",
        "each login returns its own session"
    );
    assert_eq!(fast.unwrap().expose(), "session-fast");
    assert_eq!(
        common::metabase_session(api.client()).as_deref(),
        Some("session-fast")
    );
}
