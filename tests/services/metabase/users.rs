//! Metabase users: reading, creating, updating, (de)activating and modals, and how user
//! errors read.

use super::*;

#[tokio::test]
async fn get_user_decodes_memberships_and_structured_attributes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/3"))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let user = api(&server).get_user(&uid(3)).await.unwrap();
    assert_eq!(user.is_active, Some(false));
    assert_eq!(user.last_login, None);
    let memberships = user.user_group_memberships.unwrap();
    assert_eq!(memberships[1], GroupMembership::new(gid(4)).manager(true));
    let attrs = user.structured_attributes.unwrap();
    assert_eq!(attrs["region"].source, Some(AttributeSource::User));
    assert_eq!(
        attrs["team"].source,
        Some(AttributeSource::Unknown("scim".into()))
    );
    assert_eq!(
        attrs["team"].original.as_ref().unwrap().value.as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn a_zero_id_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(200, BY_ID))
        .expect(0)
        .mount(&server)
        .await;
    let api = api(&server);
    let user = |raw: u64| UserId::try_from(raw);
    let results = [
        async { api.get_user(&user(0)?).await.map(drop) }.await,
        async {
            api.update_user(&user(0)?, &UserUpdate::new().first_name("x"))
                .await
                .map(drop)
        }
        .await,
        async {
            api.change_password(&user(0)?, &PasswordChange::new("n3w-pass"))
                .await
                .map(drop)
        }
        .await,
        async { api.reactivate_user(&user(0)?).await.map(drop) }.await,
        async { api.deactivate_user(&user(0)?).await }.await,
        async { api.dismiss_modal(&"0".parse()?, Modal::QbNewb).await }.await,
    ];
    for r in results {
        let err = r.unwrap_err();
        assert!(err.is_invalid_input(), "{err:?}");
        assert!(err.to_string().contains("positive integer"), "{err}");
    }
    assert!(UserId::new(0).is_none());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn list_recipients_is_a_plain_get() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/recipients"))
        .respond_with(json(200, LIST))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(api(&server).list_recipients().await.unwrap().data.len(), 2);
    assert_eq!(server.received_requests().await.unwrap()[0].url.query(), None);
}

#[tokio::test]
async fn create_user_posts_only_what_is_set_and_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user"))
        .and(body_json(json!({
            "email": "new.analyst@example.com", "first_name": "New", "last_name": "Analyst",
            "user_group_memberships": [{"id": 1}, {"id": 4, "is_group_manager": false}],
            "login_attributes": {"region": "EU"}
        })))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let mut attrs = serde_json::Map::new();
    attrs.insert("region".into(), json!("EU"));
    let new = NewUser::new("new.analyst@example.com")
        .name("New", "Analyst")
        .groups(vec![
            GroupMembership::new(gid(1)),
            GroupMembership::new(gid(4)).manager(false),
        ])
        .login_attributes(attrs);
    api(&server).create_user(&new).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).create_user(&NewUser::new("a@b.io")).await.is_err());
}

#[tokio::test]
async fn update_user_puts_set_fields_and_nulls_for_cleared_ones() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3"))
        .and(body_json(
            json!({"email": "r@metabase.com", "last_name": null, "is_superuser": true, "locale": "en_US"}),
        ))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let mut update = UserUpdate::new()
        .email("r@metabase.com")
        .is_superuser(true)
        .locale("en_US");
    update.last_name = Patch::Clear;
    api(&server).update_user(&uid(3), &update).await.unwrap();
    let err = api(&server)
        .update_user(&uid(3), &UserUpdate::new())
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());
}

#[tokio::test]
async fn reactivate_deactivate_and_modal_use_their_paths() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/4/reactivate"))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/user/4"))
        .respond_with(json(200, r#"{"success": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/user/4/modal/datasetnewb"))
        .respond_with(json(200, r#"{"success": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    api.reactivate_user(&uid(4)).await.unwrap();
    api.deactivate_user(&uid(4)).await.unwrap();
    api.dismiss_modal(&uid(4), Modal::DatasetNewb).await.unwrap();
    let modal = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path().contains("modal"))
        .unwrap();
    assert!(modal.body.is_empty(), "the modal call has no body");
}

#[tokio::test]
async fn text_errors_are_kept_word_for_word() {
    let cases = [
        (401, "Unauthenticated"),
        (403, "You don't have permissions to do that."),
        (404, "Not found."),
        (400, "You cannot remove the last member of the 'Admin' group!"),
    ];
    for (status, body) in cases {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .respond_with(text(status, body))
            .mount(&server)
            .await;
        let err = api(&server).deactivate_user(&uid(1)).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.service_message(), Some(body));
        assert_eq!(err.is_auth(), status == 401 || status == 403);
        assert_eq!(err.is_not_found(), status == 404);
    }
}

#[tokio::test]
async fn message_bodies_with_stack_traces_keep_only_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json(400, r#"{"message": "Not able to reactivate an active user", "via": [{"type": "x"}], "trace": ["a", "b"]}"#))
        .mount(&server)
        .await;
    let err = api(&server).reactivate_user(&uid(2)).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("Not able to reactivate an active user")
    );
    assert_eq!(
        err.to_string(),
        "PUT /api/user/2/reactivate: HTTP 400 Bad Request: Not able to reactivate an active user"
    );
}

#[tokio::test]
async fn fake_refuses_ordinary_users_where_the_server_does() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    for err in [
        rasta.list_users(&ListUsers::new()).await.unwrap_err(),
        rasta.get_user(&uid(1)).await.unwrap_err(),
        rasta.create_user(&NewUser::new("x@y.io")).await.unwrap_err(),
        rasta.deactivate_user(&uid(3)).await.unwrap_err(),
    ] {
        assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
        assert_eq!(
            err.service_message(),
            Some("You don't have permissions to do that.")
        );
    }
    assert_eq!(rasta.get_user(&uid(2)).await.unwrap().id, 2, "self is allowed");
    assert_eq!(rasta.list_recipients().await.unwrap().data.len(), 3);
}

#[tokio::test]
async fn fake_creates_with_unique_emails_and_updates() {
    // A release before the duplicate-email `error_code` (see `fidelity` for both sides).
    let fake = FakeMetabase::builder()
        .version(&Version::new(56, 2))
        .start()
        .await
        .unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let created = admin
        .create_user(&NewUser::new("New.Analyst@Example.com").name("New", "Analyst"))
        .await
        .unwrap();
    assert_eq!(created.email.as_deref(), Some("new.analyst@example.com"));
    assert_eq!(
        created.user_group_memberships,
        Some(vec![GroupMembership::new(gid(1))])
    );
    let err = admin
        .create_user(&NewUser::new("RASTA@metabase.com"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "Email address already in use.");
    // The message is the first field error; `Display` says it once.
    assert_eq!(
        err.service_message(),
        Some("email: Email address already in use.")
    );
    let shown = err.to_string();
    assert_eq!(
        shown.matches("Email address already in use.").count(),
        1,
        "{shown}"
    );
    assert!(
        shown.ends_with("HTTP 400 Bad Request: email: Email address already in use."),
        "{shown}"
    );
    let err = admin
        .create_user(&NewUser::new("not-an-email"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "email");
    let mut update = UserUpdate::new().first_name("Newer");
    update.last_name = Patch::Clear;
    let updated = admin.update_user(&created.id, &update).await.unwrap();
    assert_eq!(
        (updated.first_name.as_deref(), updated.last_name.as_deref()),
        (Some("Newer"), None)
    );
    let err = admin
        .update_user(&created.id, &UserUpdate::new().email("lucky@metabase.com"))
        .await
        .unwrap_err();
    assert_eq!(
        err.field_errors()[0].message(),
        "Email address already associated to another user."
    );
    assert!(
        admin
            .update_user(&uid(4), &UserUpdate::new().first_name("x"))
            .await
            .unwrap_err()
            .is_not_found(),
        "inactive"
    );
}

#[tokio::test]
async fn fake_deactivates_reactivates_and_guards_the_last_admin() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api_with(userapi::metabase::auth::api_key(API_KEY)).unwrap();
    admin.deactivate_user(&uid(3)).await.unwrap();
    assert_eq!(fake.is_active(&uid(3)), Some(false));
    admin.deactivate_user(&uid(3)).await.unwrap();
    let err = admin.reactivate_user(&uid(2)).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("Not able to reactivate an active user")
    );
    let back = admin.reactivate_user(&uid(3)).await.unwrap();
    assert_eq!((back.is_active, back.is_superuser), (Some(true), Some(false)));
    let err = admin.deactivate_user(&uid(1)).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("You cannot remove the last member of the 'Admin' group!")
    );
    assert!(
        err.http()
            .unwrap()
            .content_type()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(admin.get_user(&uid(99)).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn fake_dismisses_modals() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    assert_eq!(rasta.get_me().await.unwrap().is_qbnewb, Some(true));
    rasta.dismiss_modal(&uid(2), Modal::QbNewb).await.unwrap();
    assert_eq!(rasta.get_me().await.unwrap().is_qbnewb, Some(false));
    assert_eq!(
        rasta
            .dismiss_modal(&uid(3), Modal::QbNewb)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403)
    );
}

#[tokio::test]
async fn fake_applies_group_memberships_and_data_analyst_on_put() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let mut update =
        UserUpdate::new().groups(vec![GroupMembership::new(gid(1)), GroupMembership::new(gid(2))]);
    update.is_data_analyst = Some(true);
    let updated = admin.update_user(&uid(3), &update).await.unwrap();
    assert_eq!(
        updated.user_group_memberships,
        Some(vec![GroupMembership::new(gid(1)), GroupMembership::new(gid(2))])
    );
    assert_eq!(
        updated.is_superuser,
        Some(true),
        "the Administrators group makes an admin"
    );
    assert_eq!(updated.is_data_analyst, Some(true));
    let rasta = session_of(&fake, USER_EMAIL);
    let err = rasta
        .update_user(
            &uid(2),
            &UserUpdate::new().groups(vec![GroupMembership::new(gid(1)), GroupMembership::new(gid(2))]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    let mut tenant = UserUpdate::new();
    tenant.tenant_id = Patch::Set(7);
    let err = admin.update_user(&uid(3), &tenant).await.unwrap_err();
    // Metabase writes the tenant id as is: with no such tenant the database refuses it (500);
    // the 400 "Tenants are not enabled" the fake used to answer exists nowhere in Metabase.
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(
        err.service_message().unwrap_or_default().contains("foreign key"),
        "{err:?}"
    );
}

#[tokio::test]
async fn fake_superuser_recipients_carry_admin_columns_only() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let page = admin.list_recipients().await.unwrap();
    let first = &page.data[0];
    assert!(first.group_ids.is_none() && first.personal_collection_id.is_none());
    assert!(!first.extra.contains_key("tenant_collection_id"));
    assert!(first.is_active.is_some());
}

#[tokio::test]
async fn a_new_users_password_is_sent_but_never_printed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user"))
        .and(body_json(
            json!({"email": "a@b.io", "password": "Init1al-pass", "source": "admin"}),
        ))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let new = NewUser::new("a@b.io").password("Init1al-pass").source("admin");
    assert!(!format!("{new:?}").contains("Init1al-pass"));
    api(&server).create_user(&new).await.unwrap();
}

#[tokio::test]
async fn user_update_builders_send_their_fields_and_no_group_manager_flag() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3"))
        .and(body_json(json!({
            "user_group_memberships": [{"id": 1}, {"id": 4, "is_group_manager": true}],
            "is_data_analyst": true, "login_attributes": {"region": "EU"}, "tenant_id": 9
        })))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let mut attrs = serde_json::Map::new();
    attrs.insert("region".into(), json!("EU"));
    let update = UserUpdate::new()
        .groups(vec![
            GroupMembership::new(gid(1)),
            GroupMembership::new(gid(4)).manager(true),
        ])
        .is_data_analyst(true)
        .login_attributes(attrs)
        .tenant_id(9);
    api(&server).update_user(&uid(3), &update).await.unwrap();
}

#[tokio::test]
async fn fake_seeding_adds_users_sessions_and_keys() {
    let fake = FakeMetabase::start().await.unwrap();
    let ada = fake
        .add_user(
            &NewUser::new("Ada@Example.com")
                .name("Ada", "Byron")
                .password("Engine-1843"),
        )
        .unwrap();
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    assert!(fake.password_is(&ada.id, &Password::new("Engine-1843")));
    assert!(fake.add_user(&NewUser::new("ADA@example.com")).is_err(), "taken");
    let session = fake.add_session("ada@example.com").unwrap();
    let as_ada = fake.api_with(userapi::metabase::auth::session(session)).unwrap();
    assert_eq!(as_ada.get_me().await.unwrap().id, ada.id);
    let issued = fake
        .add_api_key(&NewApiKey::new("Seeded", ANALYSTS_GROUP))
        .unwrap();
    let keyed = fake
        .api_with(userapi::metabase::auth::api_key(issued.key))
        .unwrap();
    assert_eq!(
        keyed.get_me().await.unwrap().common_name.as_deref(),
        Some("Seeded")
    );
    assert!(fake.add_session("nobody@example.com").is_err());
}

#[tokio::test]
async fn a_user_without_names_and_with_new_fields_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/9"))
        .respond_with(json(
            200,
            r#"{"id": 9, "email": "x@example.com", "first_name": null, "last_name": null,
                "common_name": null, "last_login": null, "brand_new": {"a": 1}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let user = api(&server).get_user(&uid(9)).await.unwrap();
    assert_eq!(
        (user.first_name, user.last_name, user.common_name),
        (None, None, None)
    );
    assert_eq!(user.extra["brand_new"]["a"], 1);
}

/// Group managers (an Enterprise feature): open-source Metabase silently drops the flag (200,
/// a plain membership), Enterprise applies it; neither answers 400. A top-level
/// `is_group_manager` is accepted and never read.
#[tokio::test]
async fn fake_drops_group_managers_on_open_source_and_applies_them_on_enterprise() {
    let update = UserUpdate::new().groups(vec![
        GroupMembership::new(ALL_USERS_GROUP),
        GroupMembership::new(ANALYSTS_GROUP).manager(true),
    ]);
    let open = FakeMetabase::start().await.unwrap();
    let admin = session_of(&open, ADMIN_EMAIL);
    let user = admin.update_user(&uid(2), &update).await.unwrap();
    assert_eq!(
        user.user_group_memberships,
        Some(vec![
            GroupMembership::new(ALL_USERS_GROUP),
            GroupMembership::new(ANALYSTS_GROUP)
        ])
    );
    let top: serde_json::Value = admin
        .request(userapi::Method::PUT, &["api", "user", "2"])
        .json(&json!({"is_group_manager": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(top["id"], 2);
    let by_user = admin.list_memberships().await.unwrap();
    assert!(by_user[&uid(2)].iter().all(|m| m.is_group_manager == Some(false)));

    let ee = FakeMetabase::builder()
        .edition(Edition::Enterprise)
        .start()
        .await
        .unwrap();
    let admin = session_of(&ee, ADMIN_EMAIL);
    let user = admin.update_user(&uid(2), &update).await.unwrap();
    assert_eq!(
        user.user_group_memberships,
        Some(vec![
            GroupMembership::new(ALL_USERS_GROUP).manager(false),
            GroupMembership::new(ANALYSTS_GROUP).manager(true)
        ])
    );
    let by_user = admin.list_memberships().await.unwrap();
    let analysts = by_user[&uid(2)]
        .iter()
        .find(|m| m.group_id == ANALYSTS_GROUP)
        .unwrap();
    assert_eq!(analysts.is_group_manager, Some(true));
    // A group manager may now list the users of the group it manages? Not on this route; but
    // it may read its group.
    let rasta = session_of(&ee, USER_EMAIL);
    assert!(rasta.get_group(&ANALYSTS_GROUP).await.is_ok());
    assert_eq!(
        rasta
            .get_group(&ADMIN_GROUP)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403)
    );
}
