//! Metabase server properties, the admin's reset link, "remember me", invite targets, finding
//! a user by email, and logging out a login-on-demand client.

use super::*;
use userapi::metabase::{InviteTarget, InviteTargetKind};

#[tokio::test]
async fn server_info_is_read_without_credentials_and_keeps_unknown_settings() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/session/properties"))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/session/properties"))
        .respond_with(json(
            200,
            r#"{"version": {"tag": "v1.57.3.1", "hash": "abc1234", "date": "2025-10-01"},
                "token-features": {"advanced_permissions": true, "transforms-python": false},
                "password-complexity": {"total": 8, "lower": 2, "upper": 2, "digit": 1, "special": 1},
                "available-locales": [["en", "English"]], "setup-token": "a-secret-setup-token",
                "site-name": "Acme", "engines": {"h2": {}}}"#,
        ))
        .mount(&server)
        .await;
    let info = api_with(&server, Auth::none()).server_info().await.unwrap();
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2, "the 503 was retried");
    assert!(seen[1].headers.get("x-metabase-session").is_none());
    assert_eq!(info.version_at_least(&Version::new(57, 3)), Some(true));
    assert_eq!(
        info.version_at_least(&Version::new(57, 3).with_hotfix(2)),
        Some(false)
    );
    assert_eq!(info.is_enterprise_build(), Some(true));
    assert_eq!(info.feature("advanced_permissions"), Some(true));
    assert_eq!(info.password_complexity.as_ref().unwrap().special, Some(1));
    assert_eq!(info.setup_pending, Some(true));
    assert!(info.extra.contains_key("engines"));
    assert!(!format!("{info:?}").contains("a-secret-setup-token"));
}

#[tokio::test]
async fn the_fake_reports_its_version_and_edition() {
    let open = FakeMetabase::start().await.unwrap();
    let info = open.api_with(Auth::none()).unwrap().server_info().await.unwrap();
    assert_eq!(info.version.as_ref().unwrap().tag.as_deref(), Some("v0.58.7"));
    assert_eq!(info.feature("advanced_permissions"), Some(false));
    assert!(
        info.available_locales
            .as_ref()
            .unwrap()
            .iter()
            .any(|(code, _)| code == "pt_BR")
    );
    let ee = FakeMetabase::builder()
        .edition(Edition::Enterprise)
        .version(&Version::new(50, 3))
        .start()
        .await
        .unwrap();
    let info = ee.api().unwrap().server_info().await.unwrap();
    assert_eq!(info.release().map(|v| v.to_string()), Some("v1.50.3".to_owned()));
    assert_eq!(info.feature("advanced_permissions"), Some(true));
    assert!(
        info.extra.contains_key("has-sample-database?"),
        "signed in: more settings"
    );
}

#[tokio::test]
async fn password_reset_url_posts_nothing_and_keeps_the_link_secret() {
    let server = MockServer::start().await;
    let link = "https://mb.example.com/auth/reset_password/3_8a266560-e3a8-4dc1-9cd1-b4471dcd56d7";
    Mock::given(method("POST"))
        .and(path("/api/user/3/password-reset-url"))
        .respond_with(json(200, &format!(r#"{{"password_reset_url": "{link}"}}"#)))
        .expect(1)
        .mount(&server)
        .await;
    let got = api(&server).password_reset_url(&uid(3)).await.unwrap();
    assert_eq!(got.url.expose(), link);
    assert_eq!(
        got.token.as_ref().unwrap().expose(),
        "3_8a266560-e3a8-4dc1-9cd1-b4471dcd56d7"
    );
    assert!(!format!("{got:?}").contains("8a266560"));
    let seen = &server.received_requests().await.unwrap()[0];
    assert!(seen.body.is_empty());
}

#[tokio::test]
async fn password_reset_url_reads_a_bare_link_and_refuses_an_answer_without_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/3/password-reset-url"))
        .respond_with(json(200, r#""https://mb.example.com/auth/reset_password/3_abc""#))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/4/password-reset-url"))
        .respond_with(json(200, r#"{"success": true}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    assert_eq!(
        api.password_reset_url(&uid(3))
            .await
            .unwrap()
            .token
            .unwrap()
            .expose(),
        "3_abc"
    );
    assert!(api.password_reset_url(&uid(4)).await.unwrap_err().is_protocol());
}

#[tokio::test]
async fn the_fake_hands_out_reset_links_from_0_59_only() {
    let newer = FakeMetabase::builder()
        .version(&Version::new(59, 0))
        .start()
        .await
        .unwrap();
    let link = newer.api().unwrap().password_reset_url(&uid(2)).await.unwrap();
    let anyone = newer.api_with(Auth::none()).unwrap();
    assert!(
        anyone
            .password_reset_token_valid(link.token.as_ref().unwrap())
            .await
            .unwrap()
    );
    let rasta = session_of(&newer, USER_EMAIL);
    assert_eq!(
        rasta
            .password_reset_url(&uid(3))
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403)
    );
    let older = FakeMetabase::start().await.unwrap();
    let err = older
        .api()
        .unwrap()
        .password_reset_url(&uid(2))
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("API endpoint does not exist."));
}

#[tokio::test]
async fn login_remembered_sends_remember_and_plain_login_does_not() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api_with(Auth::none()).unwrap();
    api.login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    api.login_remembered(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    let log = fake.received_requests();
    let bodies: Vec<serde_json::Value> = log
        .iter()
        .map(|r| serde_json::from_slice(&r.request.body).unwrap())
        .collect();
    assert!(bodies[0].get("remember").is_none());
    assert_eq!(bodies[1]["remember"], true);
    assert_eq!(bodies[1]["username"], USER_EMAIL);
    assert_eq!(log[1].request.path, "/api/session");
    assert!(common::metabase_session(api.client()).is_some());
}

#[tokio::test]
async fn invite_target_is_sent_only_when_set() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user"))
        .respond_with(json(200, r#"{"id": 9, "email": "a@example.com"}"#))
        .expect(2)
        .mount(&server)
        .await;
    let api = api(&server);
    api.create_user(&NewUser::new("a@example.com")).await.unwrap();
    let target = InviteTarget::new(InviteTargetKind::Dashboard, 12, "Sales — Q3");
    api.create_user(&NewUser::new("a@example.com").invite_target(target))
        .await
        .unwrap();
    let seen = server.received_requests().await.unwrap();
    let first: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(first, json!({"email": "a@example.com"}));
    assert_eq!(
        second,
        json!({"email": "a@example.com", "invite_target": {"type": "dashboard", "id": 12, "name": "Sales — Q3"}})
    );
}

#[tokio::test]
async fn find_user_by_email_matches_exactly_and_pages_until_found() {
    let server = MockServer::start().await;
    let page = |offset: u64, emails: &[&str]| {
        let data: Vec<_> = emails
            .iter()
            .enumerate()
            .map(|(i, e)| json!({"id": offset + i as u64 + 1, "email": e}))
            .collect();
        json!({"data": data, "total": 150, "limit": 100, "offset": offset}).to_string()
    };
    let first: Vec<String> = (0..100).map(|i| format!("ann.{i}@example.com.evil")).collect();
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .and(query_param("offset", "0"))
        .respond_with(json(200, &page(0, &first)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .and(query_param("offset", "100"))
        .respond_with(json(200, &page(100, &["xann@example.com", "ann@example.com"])))
        .expect(1)
        .mount(&server)
        .await;
    let found = api(&server)
        .find_user_by_email(" Ann@Example.COM ")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, uid(102));
    let url = &server.received_requests().await.unwrap()[0].url;
    assert_eq!(
        sorted_pairs(url.query().unwrap()),
        "limit=100&offset=0&query=Ann%40Example.COM&status=all"
    );
}

#[tokio::test]
async fn find_user_by_email_stops_on_a_server_that_ignores_paging() {
    let server = MockServer::start().await;
    let data: Vec<_> = (1..=100)
        .map(|i| json!({"id": i, "email": format!("x{i}@example.com")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(json(
            200,
            &json!({"data": data, "total": 1000, "limit": null, "offset": null}).to_string(),
        ))
        .mount(&server)
        .await;
    let err = api(&server)
        .find_user_by_email("nobody@example.com")
        .await
        .unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(server.received_requests().await.unwrap().len() <= 3);
    assert!(
        api(&server)
            .find_user_by_email(" ")
            .await
            .unwrap_err()
            .is_invalid_input()
    );
}

#[tokio::test]
async fn find_user_by_email_on_the_fake_finds_deactivated_users_and_none() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api().unwrap();
    assert_eq!(
        api.find_user_by_email("TRASHBIRD@metabase.com")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(uid(4))
    );
    assert!(api.find_user_by_email("metabase.com").await.unwrap().is_none());
}

#[tokio::test]
async fn logout_under_login_ends_the_session_it_holds_and_logs_in_again_later() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake
        .api_with(userapi::metabase::auth::login(USER_EMAIL, USER_PASSWORD))
        .unwrap();
    api.get_me().await.unwrap();
    let held = fake.received_requests()[1]
        .request
        .header("x-metabase-session")
        .unwrap()
        .to_owned();
    let held = SessionId::new(held);
    assert!(fake.session_is_live(&held));
    fake.clear_requests();
    api.logout().await.unwrap();
    let log = fake.received_requests();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (&log[0].request.method, log[0].request.path.as_str()),
        (&userapi::Method::DELETE, "/api/session")
    );
    assert_eq!(log[0].request.header("x-metabase-session"), Some(held.expose()));
    assert!(!fake.session_is_live(&held));
    assert_eq!(api.client().auth().scheme_name(), "metabase-login");
    api.get_me().await.unwrap();
    let log = fake.received_requests();
    assert_eq!(log[1].request.path, "/api/session", "logged in again");
}
