//! Metabase API keys: listing, counting, creating, regenerating, updating and deleting.

use super::*;

const KEY: &str = r#"{"id": 2, "name": "Reporting bot", "group": {"id": 3, "name": "Analysts"},
  "masked_key": "mb_q4Zr****************************************",
  "created_at": "2024-03-05T08:12:44.318Z", "updated_at": "2024-03-05T08:12:44.318Z",
  "updated_by": {"id": 1, "common_name": "Ada Byron"}, "scope_v2": "later"}"#;
const UNMASKED: &str = "mb_q4Zr0Hc1N0rjQm5x8mSg0lUe3aW6k5K9pXyV2dTbF7o=";

/// The body of the single request a server received, as JSON (`Null` when empty).
async fn only_body(server: &MockServer) -> serde_json::Value {
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1, "exactly one request");
    if seen[0].body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&seen[0].body).unwrap()
    }
}

#[tokio::test]
async fn api_keys_are_listed_and_counted_with_gets_that_may_be_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/api-key"))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/api-key"))
        .respond_with(json(200, &format!("[{KEY}]")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/api-key/count"))
        .respond_with(json(200, "1"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let keys = api.list_api_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!((key.id, key.name.as_deref()), (kid(2), Some("Reporting bot")));
    assert_eq!(key.group.as_ref().map(|g| g.id), Some(gid(3)));
    assert_eq!(key.prefix(), Some("mb_q4Zr"));
    assert_eq!(
        key.updated_by.as_ref().unwrap().common_name.as_deref(),
        Some("Ada Byron")
    );
    assert_eq!(key.extra["scope_v2"], "later");
    assert_eq!(api.count_api_keys().await.unwrap(), 1);
    let lists = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/api-key")
        .count();
    assert_eq!(lists, 2, "the 503 was retried");
}

#[tokio::test]
async fn create_api_key_posts_name_and_group_and_keeps_the_key_secret() {
    let server = MockServer::start().await;
    let created = KEY.replacen("{", &format!(r#"{{"unmasked_key": "{UNMASKED}","#), 1);
    Mock::given(method("POST"))
        .and(path("/api/api-key"))
        .respond_with(json(200, &created))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server)
        .create_api_key(&NewApiKey::new("Reporting bot", gid(3)))
        .await
        .unwrap();
    assert_eq!(
        only_body(&server).await,
        json!({"name": "Reporting bot", "group_id": 3})
    );
    assert_eq!(issued.key.expose(), UNMASKED);
    assert_eq!(issued.api_key.id, 2);
    assert!(
        !issued.api_key.extra.contains_key("unmasked_key"),
        "the key never reaches extra"
    );
    assert!(!format!("{issued:?}").contains(UNMASKED));
}

#[tokio::test]
async fn create_api_key_is_never_retried_and_checks_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    assert!(api.create_api_key(&NewApiKey::new("bot", gid(3))).await.is_err());
    let blank = api
        .create_api_key(&NewApiKey::new("  ", gid(3)))
        .await
        .unwrap_err();
    let group_zero = async {
        api.create_api_key(&NewApiKey::new("bot", GroupId::try_from(0)?))
            .await
    }
    .await
    .unwrap_err();
    for err in [blank, group_zero] {
        assert!(err.is_invalid_input(), "{err:?}");
    }
}

#[tokio::test]
async fn an_issued_key_without_the_key_is_a_protocol_error_whose_text_quotes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2/regenerate"))
        .respond_with(json(200, r#"{"id": 2, "masked_key": "mb_q4Zr****"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).regenerate_api_key(&kid(2)).await.unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
}

#[tokio::test]
async fn regenerate_reads_the_current_and_the_older_answer_and_sends_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2/regenerate"))
        .respond_with(json(
            200,
            &format!(r#"{{"id": 2, "unmasked_key": "{UNMASKED}", "masked_key": "mb_q4Zr****", "prefix": "mb_q4Zr"}}"#),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server).regenerate_api_key(&kid(2)).await.unwrap();
    assert_eq!(only_body(&server).await, serde_json::Value::Null);
    assert_eq!(
        (issued.key.expose(), issued.prefix.as_deref(), issued.api_key.id),
        (UNMASKED, Some("mb_q4Zr"), kid(2))
    );
    // Builds up to 06f5232b answered the whole key.
    let server = MockServer::start().await;
    let older = KEY.replacen("{", &format!(r#"{{"unmasked_key": "{UNMASKED}","#), 1);
    Mock::given(method("PUT"))
        .respond_with(json(200, &older))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server).regenerate_api_key(&kid(2)).await.unwrap();
    assert_eq!(issued.api_key.name.as_deref(), Some("Reporting bot"));
    assert_eq!(issued.prefix, None);
    // Not retried: the old key would already be dead.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).regenerate_api_key(&kid(2)).await.is_err());
}

#[tokio::test]
async fn update_api_key_puts_only_what_is_set_and_may_be_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2"))
        .and(body_json(json!({"group_id": 4})))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2"))
        .and(body_json(json!({"group_id": 4})))
        .respond_with(json(200, KEY))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let key = api
        .update_api_key(&kid(2), &ApiKeyUpdate::new().group_id(gid(4)))
        .await
        .unwrap();
    assert_eq!(key.id, 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    for err in [
        api.update_api_key(&kid(2), &ApiKeyUpdate::new())
            .await
            .unwrap_err(),
        async {
            api.update_api_key(&ApiKeyId::try_from(0)?, &ApiKeyUpdate::new().name("x"))
                .await
        }
        .await
        .unwrap_err(),
    ] {
        assert!(err.is_invalid_input(), "{err:?}");
    }
}

#[tokio::test]
async fn delete_api_key_is_a_delete_answered_204_and_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/api-key/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).delete_api_key(&kid(2)).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).delete_api_key(&kid(2)).await.is_err());
}

#[tokio::test]
async fn fake_api_key_lifecycle() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    assert_eq!(admin.count_api_keys().await.unwrap(), 1);
    let issued = admin
        .create_api_key(&NewApiKey::new("Reporting bot", ANALYSTS_GROUP))
        .await
        .unwrap();
    assert_eq!(issued.key.expose().len(), 47);
    assert_eq!(issued.api_key.prefix(), Some(&issued.key.expose()[..7]));
    assert_eq!(
        issued.api_key.group.as_ref().map(|g| (g.id, g.name.as_deref())),
        Some((ANALYSTS_GROUP, Some("Analysts")))
    );
    assert_eq!(
        issued.api_key.updated_by.as_ref().unwrap().common_name.as_deref(),
        Some("Crowberto Corv")
    );
    let bot = fake
        .api_with(userapi::metabase::auth::api_key(issued.key.clone()))
        .unwrap();
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.common_name.as_deref(), Some("Reporting bot"));
    assert_eq!(me.group_ids, Some(vec![ALL_USERS_GROUP, ANALYSTS_GROUP]));
    assert_eq!((me.last_login.clone(), me.personal_collection_id), (None, None));
    assert_eq!(
        bot.list_api_keys()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403),
        "a key outside Administrators is no superuser"
    );
    assert!(bot.login_history().await.unwrap().is_empty());
    let err = admin
        .create_api_key(&NewApiKey::new("Reporting bot", ANALYSTS_GROUP))
        .await
        .unwrap_err();
    assert_eq!(
        err.field_errors()[0].message(),
        "An API key with this name already exists."
    );
    let listed = admin
        .list_users(&ListUsers::new().status(UserStatus::All))
        .await
        .unwrap();
    assert!(
        listed.data.iter().all(|u| u.id != me.id),
        "keys' users are never listed"
    );

    let id = issued.api_key.id;
    let renamed = admin
        .update_api_key(
            &id,
            &ApiKeyUpdate::new().name("Nightly bot").group_id(ADMIN_GROUP),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Nightly bot"));
    let me = bot.get_me().await.unwrap();
    assert_eq!(
        (me.common_name.as_deref(), me.is_superuser),
        (Some("Nightly bot"), Some(true))
    );

    let fresh = admin.regenerate_api_key(&id).await.unwrap();
    assert_ne!(fresh.key, issued.key);
    assert!(
        bot.get_me().await.unwrap_err().is_auth(),
        "the old key stops at once"
    );
    let bot = fake
        .api_with(userapi::metabase::auth::api_key(fresh.key))
        .unwrap();
    bot.get_me().await.unwrap();

    admin.delete_api_key(&id).await.unwrap();
    assert!(bot.get_me().await.unwrap_err().is_auth());
    assert!(admin.delete_api_key(&id).await.unwrap_err().is_not_found());
    assert_eq!(fake.is_active(&me.id), Some(false), "its user is deactivated");
    assert_eq!(admin.count_api_keys().await.unwrap(), 1);

    let rasta = session_of(&fake, USER_EMAIL);
    let err = rasta
        .create_api_key(&NewApiKey::new("mine", ANALYSTS_GROUP))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    let err = admin
        .request(userapi::Method::GET, &["api", "api-key", "1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("API endpoint does not exist."));
}
