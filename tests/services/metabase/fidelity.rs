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

#[tokio::test]
async fn the_common_password_list_is_realistic_and_any_unicode_digit_counts() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api().unwrap();
    // On Metabase's list (about 12,700 entries), compared case-insensitively.
    for common in ["trustno1", "Jordan23", "BLINK182", "p@ssw0rd", "q1w2e3r4t5"] {
        let err = api.check_password(&Password::new(common)).await.unwrap_err();
        assert_eq!(status(&err), Some(400), "{common}");
        assert_eq!(err.field_errors()[0].message(), "password is too common.");
    }
    // A decimal digit of any script counts (Arabic-Indic three, Devanagari seven, full-width
    // one); a superscript two or a Roman numeral is no digit.
    for fine in ["pässwörd٣", "Mountain७", "Sunshine１"] {
        api.check_password(&Password::new(fine))
            .await
            .unwrap_or_else(|e| panic!("{fine}: {e}"));
    }
    for no_digit in ["Mountain²", "MountainⅫ"] {
        let err = api.check_password(&Password::new(no_digit)).await.unwrap_err();
        assert_eq!(status(&err), Some(400), "{no_digit}");
    }
    // Length counts UTF-16 units, as Java strings do: two emoji and three more make seven.
    api.check_password(&Password::new("😀😀ab1")).await.unwrap();
    let err = api.check_password(&Password::new("😀ab1")).await.unwrap_err();
    assert_eq!(status(&err), Some(400));
}

#[tokio::test]
async fn listing_users_checks_parameters_before_permissions() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    let err = rasta
        .request(userapi::Method::GET, &["api", "user"])
        .query("group_id", "abc")
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(400), "{err}");
    assert_eq!(err.field_errors()[0].field(), "group_id");
    // Valid parameters: then the permission check.
    let err = rasta.list_users(&ListUsers::new()).await.unwrap_err();
    assert_eq!(status(&err), Some(403));
}

/// Before 0.50 the paging middleware refused a `limit`/`offset` that is not an unsigned int
/// (400, the exception's JSON, before any credentials are read); from 0.50 such a value is
/// ignored.
#[tokio::test]
async fn an_unparsable_limit_is_400_before_0_50_and_ignored_from_it() {
    let http = reqwest::Client::new();
    let older = FakeMetabase::builder()
        .version(&Version::new(49, 3))
        .start()
        .await
        .unwrap();
    let session = older.add_session(ADMIN_EMAIL).unwrap();
    for (query, cause) in [
        ("limit=abc", "For input string: \"abc\""),
        ("offset=-1", "Illegal leading minus sign on unsigned string -1."),
        (
            "limit=99999999999",
            "String value 99999999999 exceeds range of unsigned int.",
        ),
    ] {
        let answer = http
            .get(older.url(&format!("api/user?{query}")))
            .header("X-Metabase-Session", session.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 400, "{query}");
        assert_eq!(answer.headers()["content-type"], "application/json;charset=utf-8");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body["message"],
            json!(format!("Error parsing paging parameters: {cause}")),
            "{query}"
        );
        assert_eq!(body["cause"], json!(cause));
        assert!(body["via"].is_array() && body["trace"].is_array(), "{body}");
    }
    // Before credentials: the middleware runs first.
    let anonymous = http.get(older.url("api/user?limit=x")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 400);

    let newer = FakeMetabase::start().await.unwrap();
    let session = newer.add_session(ADMIN_EMAIL).unwrap();
    let answer: serde_json::Value = http
        .get(newer.url("api/user?limit=abc"))
        .header("X-Metabase-Session", session.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (answer["limit"].clone(), answer["total"].clone()),
        (json!(null), json!(3))
    );
    assert_eq!(answer["data"].as_array().unwrap().len(), 3);
    // One that parses still pages.
    let answer: serde_json::Value = http
        .get(newer.url("api/user?limit=abc&offset=1"))
        .header("X-Metabase-Session", session.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (answer["limit"].clone(), answer["offset"].clone()),
        (json!(50), json!(1))
    );
}

#[tokio::test]
async fn enterprise_shows_group_managers_on_one_user() {
    let ee = FakeMetabase::builder()
        .edition(Edition::Enterprise)
        .start()
        .await
        .unwrap();
    let admin = ee.api().unwrap();
    let groups = vec![
        GroupMembership::new(ALL_USERS_GROUP),
        GroupMembership::new(ANALYSTS_GROUP).manager(true),
    ];
    admin
        .update_user(&uid(3), &UserUpdate::new().groups(groups))
        .await
        .unwrap();
    let lucky = admin.get_user(&uid(3)).await.unwrap();
    let flags: Vec<(GroupId, Option<bool>)> = lucky
        .user_group_memberships
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.is_group_manager))
        .collect();
    assert_eq!(
        flags,
        [(ALL_USERS_GROUP, Some(false)), (ANALYSTS_GROUP, Some(true))]
    );
    // A group manager may read a user.
    let manager = session_of(&ee, "lucky@metabase.com");
    assert_eq!(manager.get_user(&uid(2)).await.unwrap().id, uid(2));

    let oss = FakeMetabase::start().await.unwrap();
    let rasta = oss.api().unwrap().get_user(&uid(2)).await.unwrap();
    assert!(
        rasta
            .user_group_memberships
            .unwrap()
            .iter()
            .all(|m| m.is_group_manager.is_none())
    );
}

#[tokio::test]
async fn data_analysts_may_list_users_from_0_59() {
    let analyst = UserUpdate::new().is_data_analyst(true);
    let older = FakeMetabase::builder()
        .edition(Edition::Enterprise)
        .version(&Version::new(58, 7))
        .start()
        .await
        .unwrap();
    older.api().unwrap().update_user(&uid(2), &analyst).await.unwrap();
    let err = session_of(&older, USER_EMAIL)
        .list_users(&ListUsers::new())
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(403));

    let newer = FakeMetabase::builder()
        .edition(Edition::Enterprise)
        .version(&Version::new(59, 0))
        .start()
        .await
        .unwrap();
    let admin = newer.api().unwrap();
    // `is_data_analyst` is membership of the Data Analysts group, both ways.
    let groups = admin.list_groups(&Default::default()).await.unwrap();
    let analysts = groups
        .iter()
        .find(|g| g.name.as_deref() == Some("Data Analysts"))
        .expect("a Data Analysts group");
    let rasta = admin.update_user(&uid(2), &analyst).await.unwrap();
    assert_eq!(rasta.is_data_analyst, Some(true));
    let ids: Vec<GroupId> = rasta
        .user_group_memberships
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert!(ids.contains(&analysts.id), "{ids:?}");
    admin
        .add_membership(&userapi::metabase::NewMembership::new(analysts.id, uid(3)))
        .await
        .unwrap();
    assert_eq!(admin.get_user(&uid(3)).await.unwrap().is_data_analyst, Some(true));

    let page = session_of(&newer, USER_EMAIL)
        .list_users(&ListUsers::new())
        .await
        .unwrap();
    assert_eq!(page.total, Some(3));
    // Not an admin's view: no groups, no collections.
    assert!(
        page.data
            .iter()
            .all(|u| u.group_ids.is_none() && u.email.is_some())
    );
}
