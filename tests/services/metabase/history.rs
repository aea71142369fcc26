//! Metabase login history and the per-user key-value store.

use super::*;

#[tokio::test]
async fn login_history_decodes_the_documented_rows() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/login-history/current"))
        .respond_with(json(
            200,
            r#"[{"timestamp": "2024-03-05T08:00:01.5Z", "device_description": "Browser (Chrome/Windows)",
                 "ip_address": "127.0.0.1", "active": true, "location": "Unknown location", "timezone": null},
                {"timestamp": "2021-03-18T20:52:41.808482+01:00", "device_description": "Mobile Browser (Mobile Safari/iOS)",
                 "ip_address": "185.233.100.23", "active": false, "location": null, "timezone": "CET", "new": 1}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let rows = api(&server).login_history().await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].active, Some(true));
    assert_eq!(rows[1].location, None);
    assert_eq!(rows[1].timezone.as_deref(), Some("CET"));
    assert!(rows[1].timestamp.as_ref().unwrap().to_system_time().is_some());
    assert_eq!(rows[1].extra["new"], 1);
}

#[tokio::test]
async fn user_values_use_their_paths_and_decode_by_content_type() {
    let server = MockServer::start().await;
    let stored = json!({"last_download_format": "xlsx", "last_table_download_format": "csv"});
    Mock::given(method("PUT"))
        .and(path(
            "/api/user-key-value/namespace/last_download_format/key/download_format_preference",
        ))
        .and(body_json(
            json!({"value": stored, "expires_at": "2030-01-01T00:00:00Z"}),
        ))
        .respond_with(text(200, &stored.to_string()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/calendar/key/a%20b"))
        .respond_with(text(200, "persian"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/calendar/key/gone"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/indicator-menu/key/k"))
        .respond_with(json(200, r#"["a", "b"]"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/calendar"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/user-key-value/namespace/calendar/key/system"))
        .respond_with(json(200, "0"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let value = UserKeyValue::new(stored.clone()).expires_at("2030-01-01T00:00:00Z");
    let back = api
        .set_user_value("last_download_format", "download_format_preference", &value)
        .await
        .unwrap();
    assert_eq!(back, stored, "the text/plain answer holds JSON");
    assert_eq!(
        api.get_user_value("calendar", "a b").await.unwrap(),
        Some(json!("persian")),
        "a string comes unquoted"
    );
    assert_eq!(api.get_user_value("calendar", "gone").await.unwrap(), None);
    assert_eq!(
        api.get_user_value("indicator-menu", "k").await.unwrap(),
        Some(json!(["a", "b"]))
    );
    assert!(api.get_user_values("calendar").await.unwrap().is_empty());
    assert!(!api.delete_user_value("calendar", "system").await.unwrap());
    for err in [
        api.get_user_value(" ", "k").await.unwrap_err(),
        api.set_user_value("calendar", "  ", &UserKeyValue::new("persian"))
            .await
            .unwrap_err(),
    ] {
        assert!(err.is_invalid_input(), "{err:?}");
    }
}

#[tokio::test]
async fn fake_login_history_is_newest_first_and_follows_the_session() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api_with(Auth::none()).unwrap();
    api.login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    let rows = api.login_history().await.unwrap();
    assert_eq!(rows.len(), 2, "the seeded login and this one");
    assert_eq!(rows[0].active, Some(true));
    assert_eq!(rows[0].ip_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(rows[0].location.as_deref(), Some("Unknown location"));
    assert!(
        rows[0]
            .device_description
            .as_deref()
            .unwrap()
            .starts_with("Library (userapi/"),
        "{:?}",
        rows[0].device_description
    );
    assert_eq!(rows[1].active, Some(false));
    let other = fake.api_with(Auth::none()).unwrap();
    other
        .login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    api.logout().await.unwrap();
    let rows = other.login_history().await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.active).collect::<Vec<_>>(),
        [Some(true), Some(false), Some(false)],
        "the logged-out session's row turned inactive"
    );
}

#[tokio::test]
async fn fake_user_values_are_per_user_checked_and_expire() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    let stored = admin
        .set_user_value("calendar", "system", &UserKeyValue::new("persian"))
        .await
        .unwrap();
    assert_eq!(stored, "persian");
    assert_eq!(
        admin.get_user_value("calendar", "system").await.unwrap(),
        Some(json!("persian"))
    );
    assert_eq!(rasta.get_user_value("calendar", "system").await.unwrap(), None);
    let keyed = fake.api_with(userapi::metabase::auth::api_key(API_KEY)).unwrap();
    assert_eq!(keyed.get_user_value("calendar", "system").await.unwrap(), None);

    let format = json!({"last_download_format": "xlsx", "last_table_download_format": "csv"});
    admin
        .set_user_value("last_download_format", "pref", &UserKeyValue::new(format.clone()))
        .await
        .unwrap();
    assert_eq!(
        admin
            .get_user_value("last_download_format", "pref")
            .await
            .unwrap(),
        Some(format)
    );
    for (namespace, value) in [
        ("no-such-namespace", json!(true)),
        ("calendar", json!("julian")),
        ("data_studio", json!("yes")),
        ("last_download_format", json!({"last_download_format": "csv"})),
    ] {
        let err = admin
            .set_user_value(namespace, "k", &UserKeyValue::new(value))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{namespace}");
        assert_eq!(err.service_message(), Some("Invalid Request."));
    }
    admin
        .set_user_value(
            "monitor",
            "old",
            &UserKeyValue::new(true).expires_at("2014-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        admin.get_user_value("monitor", "old").await.unwrap(),
        None,
        "expired"
    );
    let err = admin
        .set_user_value("monitor", "x", &UserKeyValue::new(true).expires_at("soon"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "expires_at");
    admin
        .set_user_value(
            "model-filter",
            "null",
            &UserKeyValue::new(serde_json::Value::Null),
        )
        .await
        .unwrap();
    assert_eq!(admin.get_user_value("model-filter", "null").await.unwrap(), None);
    admin
        .set_user_value("monitor", "live", &UserKeyValue::new(false))
        .await
        .unwrap();
    let all = admin.get_user_values("monitor").await.unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["live"]);
    assert!(admin.delete_user_value("monitor", "live").await.unwrap());
    assert!(!admin.delete_user_value("monitor", "live").await.unwrap());
    assert!(
        rasta
            .get_user_values("no-such-namespace")
            .await
            .unwrap()
            .is_empty()
    );
}
