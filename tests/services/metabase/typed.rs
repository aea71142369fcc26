//! The typed shapes on the wire: ids that cannot be 0 (refused before anything is sent),
//! ids decoded strictly, role-typed secrets in and out, the list query as pairs.

use super::*;

/// A server that answers anything, and fails the test if anything reaches it.
async fn silent_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(200, BY_ID))
        .expect(0)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn an_api_key_id_of_zero_is_refused_before_sending() {
    let server = silent_server().await;
    let api = api(&server);
    let key = |raw: u64| ApiKeyId::try_from(raw);
    let results = [
        async {
            api.update_api_key(&key(0)?, &ApiKeyUpdate::new().name("x"))
                .await
                .map(drop)
        }
        .await,
        async { api.regenerate_api_key(&key(0)?).await.map(drop) }.await,
        async { api.delete_api_key(&"0".parse()?).await }.await,
    ];
    for r in results {
        let err = r.unwrap_err();
        assert!(err.is_invalid_input(), "{err:?}");
        assert!(err.to_string().contains("positive integer"), "{err}");
    }
    assert!(ApiKeyId::new(0).is_none());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn a_group_id_of_zero_is_refused_before_sending() {
    let server = silent_server().await;
    let api = api(&server);
    let group = |raw: u64| GroupId::try_from(raw);
    let results = [
        async {
            api.create_api_key(&NewApiKey::new("bot", group(0)?))
                .await
                .map(drop)
        }
        .await,
        async {
            api.list_users(&ListUsers::new().group_id(group(0)?))
                .await
                .map(drop)
        }
        .await,
        async {
            api.update_api_key(&kid(2), &ApiKeyUpdate::new().group_id("0".parse()?))
                .await
                .map(drop)
        }
        .await,
        async {
            let memberships = vec![GroupMembership::new(group(0)?)];
            api.update_user(&uid(3), &UserUpdate::new().groups(memberships))
                .await
                .map(drop)
        }
        .await,
    ];
    for r in results {
        let err = r.unwrap_err();
        assert!(err.is_invalid_input(), "{err:?}");
    }
    assert!(GroupId::new(0).is_none());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn typed_ids_go_out_as_path_segments_and_body_numbers() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3"))
        .and(body_json(
            json!({"user_group_memberships": [{"id": 1}, {"id": 4}]}),
        ))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/7"))
        .and(body_json(json!({"group_id": 4})))
        .respond_with(json(
            200,
            r#"{"id": 7, "name": "bot", "group": {"id": 4, "name": "Analysts"}, "masked_key": "mb_q4Zr****"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/api-key"))
        .and(body_json(json!({"name": "bot", "group_id": 4})))
        .respond_with(json(
            200,
            r#"{"id": 8, "name": "bot", "unmasked_key": "mb_q4ZrSecretSecretSecret", "masked_key": "mb_q4Zr****"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let memberships = vec![GroupMembership::new(gid(1)), GroupMembership::new(gid(4))];
    let user = api
        .update_user(&uid(3), &UserUpdate::new().groups(memberships))
        .await
        .unwrap();
    let user_id: UserId = user.id;
    assert_eq!(user_id.get(), user.id.get());
    let key = api
        .update_api_key(&kid(7), &ApiKeyUpdate::new().group_id(gid(4)))
        .await
        .unwrap();
    assert_eq!((key.id, key.group.map(|g| g.id)), (kid(7), Some(gid(4))));
    let issued = api.create_api_key(&NewApiKey::new("bot", gid(4))).await.unwrap();
    let secret: userapi::auth::ApiKey = issued.key;
    assert_eq!(secret.expose(), "mb_q4ZrSecretSecretSecret");
    assert_eq!(format!("{secret:?}"), "ApiKey(<redacted>)");
    assert_eq!(issued.api_key.id, kid(8));
}

#[tokio::test]
async fn an_id_that_is_not_a_positive_integer_fails_the_decoding_but_extra_fields_never_do() {
    let server = MockServer::start().await;
    for (id, body) in [
        (1, r#"{"id": 0, "email": "a@b.io"}"#),
        (2, r#"{"id": -3, "email": "a@b.io"}"#),
        (3, r#"{"id": "3", "email": "a@b.io"}"#),
        (4, r#"{"id": 4, "email": "a@b.io", "group_ids": [1, 0]}"#),
        (5, r#"{"id": 5, "email": "a@b.io", "brand_new_field": {"id": 0}}"#),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/api/user/{id}")))
            .respond_with(json(200, body))
            .mount(&server)
            .await;
    }
    let api = api(&server);
    for id in 1..=4 {
        let err = api.get_user(&uid(id)).await.unwrap_err();
        assert!(err.is_decode(), "{id}: {err:?}");
    }
    let user = api.get_user(&uid(5)).await.unwrap();
    assert_eq!(user.id, uid(5));
    assert!(user.extra.contains_key("brand_new_field"));
}

#[tokio::test]
async fn the_list_query_is_the_struct_as_pairs() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(json(200, LIST))
        .expect(2)
        .mount(&server)
        .await;
    let api = api(&server);
    api.list_users(&ListUsers::new()).await.unwrap();
    api.list_users(
        &ListUsers::new()
            .group_id(gid(2))
            .query("crow")
            .status(UserStatus::All),
    )
    .await
    .unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].url.query(), None, "no filter, no query");
    assert_eq!(
        sent[1].url.query().map(sorted_pairs),
        Some(sorted_pairs("status=all&query=crow&group_id=2"))
    );
}

#[tokio::test]
async fn fake_ids_read_naturally_and_secrets_keep_their_roles() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    let page = admin
        .list_users(&ListUsers::new().status(UserStatus::All))
        .await
        .unwrap();
    for listed in &page.data {
        let one = admin.get_user(&listed.id).await.unwrap();
        assert_eq!(one.id, listed.id);
    }
    let anyone = fake.api_with(Auth::none()).unwrap();
    let session: SessionId = anyone
        .login(USER_EMAIL, &Password::new(USER_PASSWORD))
        .await
        .unwrap();
    assert!(fake.session_is_live(&session));
    // The role types go straight into the credential constructors.
    let again = fake.api_with(userapi::metabase::auth::session(session)).unwrap();
    assert_eq!(again.get_me().await.unwrap().email.as_deref(), Some(USER_EMAIL));
    let issued = admin
        .create_api_key(&NewApiKey::new("typed bot", ANALYSTS_GROUP))
        .await
        .unwrap();
    let bot = fake
        .api_with(userapi::metabase::auth::api_key(issued.key))
        .unwrap();
    assert_eq!(
        bot.get_me().await.unwrap().common_name.as_deref(),
        Some("typed bot")
    );
}
