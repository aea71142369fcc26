//! The Metabase fake answers as the real server does where it used to differ (each test
//! failed against the fake before), on both sides of each version difference.

use super::*;

fn status(err: &Error) -> Option<u16> {
    err.status().map(|s| s.as_u16())
}

#[tokio::test]
async fn dismiss_modal_refuses_unknown_modals_with_400_and_unknown_users_with_500() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let err = admin
        .request(userapi::Method::PUT, &["api", "user", "2", "modal", "nosuch"])
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(400));
    assert_eq!(err.field_errors()[0].field(), "modal");
    let err = admin.dismiss_modal(&uid(99), Modal::QbNewb).await.unwrap_err();
    assert_eq!(
        (status(&err), err.service_message()),
        (Some(500), Some("Internal server error."))
    );
}

#[tokio::test]
async fn api_key_users_are_not_people() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let key_user = fake
        .api_with(userapi::metabase::auth::api_key(API_KEY))
        .unwrap()
        .get_me()
        .await
        .unwrap()
        .id;
    let change = PasswordChange::new("Another-pass9");
    assert!(
        admin
            .change_password(&key_user, &change)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(admin.reactivate_user(&key_user).await.unwrap_err().is_not_found());
    // DELETE answers 200 and changes nothing: the key still works.
    admin.deactivate_user(&key_user).await.unwrap();
    assert_eq!(fake.is_active(&key_user), Some(true));
    let err = admin.dismiss_modal(&key_user, Modal::QbNewb).await.unwrap_err();
    assert_eq!(status(&err), Some(500));
}

#[tokio::test]
async fn locales_are_only_those_the_server_has_and_normalised() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    for bad in ["zz", "xx", "xx-yy"] {
        let err = admin
            .update_user(&uid(2), &UserUpdate::new().locale(bad))
            .await
            .unwrap_err();
        assert_eq!(status(&err), Some(400), "{bad}");
        assert_eq!(err.field_errors()[0].field(), "locale");
    }
    let user = admin
        .update_user(&uid(2), &UserUpdate::new().locale("PT-br"))
        .await
        .unwrap();
    assert_eq!(user.locale.as_deref(), Some("pt_BR"));
    let user = admin
        .update_user(&uid(2), &UserUpdate::new().locale("es-MX"))
        .await
        .unwrap();
    assert_eq!(user.locale.as_deref(), Some("es_MX"));
}

#[tokio::test]
async fn at_keys_are_refused_before_0_57_and_dropped_from_it() {
    let mut attrs = serde_json::Map::new();
    attrs.insert("@internal".into(), json!("x"));
    attrs.insert("region".into(), json!("EU"));
    let update = UserUpdate::new().login_attributes(attrs);
    let older = FakeMetabase::builder()
        .version(&Version::new(56, 4))
        .start()
        .await
        .unwrap();
    let err = session_of(&older, ADMIN_EMAIL)
        .update_user(&uid(2), &update)
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(400));
    let newer = FakeMetabase::start().await.unwrap();
    let user = session_of(&newer, ADMIN_EMAIL)
        .update_user(&uid(2), &update)
        .await
        .unwrap();
    let kept = user.login_attributes.unwrap();
    assert_eq!(kept.keys().collect::<Vec<_>>(), ["region"]);
}

#[tokio::test]
async fn a_duplicate_email_carries_an_error_code_from_0_57() {
    let older = FakeMetabase::builder()
        .version(&Version::new(56, 4))
        .start()
        .await
        .unwrap();
    let raw = older
        .api()
        .unwrap()
        .request(userapi::Method::POST, &["api", "user"])
        .json(&json!({"email": USER_EMAIL}))
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(!raw.to_string().contains("email-already-in-use"), "{raw}");
    let newer = FakeMetabase::start().await.unwrap();
    let err = newer
        .api()
        .unwrap()
        .create_user(&NewUser::new(USER_EMAIL))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "Email address already in use.");
    assert!(err.to_string().contains("email-already-in-use"), "{err}");
}

#[tokio::test]
async fn logins_are_throttled_per_user_name_unless_switched_off() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api_with(Auth::none()).unwrap();
    for _ in 0..10 {
        let err = api
            .login(USER_EMAIL, &Password::new("wrong-pass1"))
            .await
            .unwrap_err();
        assert_eq!(err.field_errors()[0].field(), "password");
    }
    // The 11th, even with the right password.
    let err = api
        .login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.field_errors()[0].field(), "username");
    assert!(
        err.field_errors()[0].message().starts_with("Too many attempts!"),
        "{err}"
    );
    // Another user name is not throttled (until the address's 50).
    api.login(ADMIN_EMAIL, &Password::new(ADMIN_PASSWORD))
        .await
        .unwrap();

    let relaxed = FakeMetabase::builder()
        .throttle_logins(false)
        .start()
        .await
        .unwrap();
    let api = relaxed.api_with(Auth::none()).unwrap();
    for _ in 0..12 {
        api.login(USER_EMAIL, &Password::new(USER_PASSWORD))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn current_user_flags_come_from_the_fakes_own_state() {
    let fake = FakeMetabase::start().await.unwrap();
    let me = fake.api().unwrap().get_me().await.unwrap();
    assert_eq!(me.has_invited_second_user, Some(true), "user 1, with others");
    assert_eq!(
        me.first_login.as_ref().map(|t| t.as_str().to_owned()),
        Some("2024-03-05T08:00:01.5Z".to_owned())
    );
    let rasta = session_of(&fake, USER_EMAIL).get_me().await.unwrap();
    assert_eq!(rasta.has_invited_second_user, Some(false));
}

#[tokio::test]
async fn content_types_are_metabases() {
    let fake = FakeMetabase::start().await.unwrap();
    let http = reqwest::Client::new();
    let json = http.get(fake.url("api/session/properties")).send().await.unwrap();
    assert_eq!(json.headers()["content-type"], "application/json;charset=utf-8");
    let text = http.get(fake.url("api/user/current")).send().await.unwrap();
    assert_eq!(text.status().as_u16(), 401);
    assert_eq!(text.headers()["content-type"], "text/plain");
    assert_eq!(text.text().await.unwrap(), "Unauthenticated");
}
