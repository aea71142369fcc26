//! Rightech users: ids and rules, listing and searching, reading, creating and updating.

use super::*;
use userapi::ErrorKind;

const BAD_IDS: [&str; 6] = [
    "",
    "5d8a18d5d0025e0012fb6a3",
    "5d8a18d5d0025e0012fb6a345",
    "5d8a18d5d0025e0012fb6a3g",
    "../admin",
    "me",
];

#[test]
fn object_ids_are_24_hex_digits() {
    assert_eq!(oid::<UserId>(ID).as_str(), ID);
    assert_eq!(ID.parse::<ObjectId>().unwrap().to_string(), ID);
    for bad in BAD_IDS {
        let err = ObjectId::new(bad).unwrap_err();
        assert!(err.is_invalid_input(), "{bad:?}");
        assert!(UserId::new(bad).unwrap_err().is_invalid_input(), "{bad:?}");
        assert!(RoleId::new(bad).unwrap_err().is_invalid_input(), "{bad:?}");
        assert!(GroupId::new(bad).unwrap_err().is_invalid_input(), "{bad:?}");
    }
}

#[test]
fn login_and_password_rules() {
    assert!(NewUser::check_login("abcd").is_ok() && NewUser::check_login(&"x".repeat(40)).is_ok());
    assert!(NewUser::check_login("abc").is_err() && NewUser::check_login(&"x".repeat(41)).is_err());
    assert!(NewUser::check_password_policy(&Password::new("Str0ngPassw0rd")).is_ok());
    let err = NewUser::check_password_policy(&Password::new("weak"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("8 characters") && err.contains("upper-case") && err.contains("digit"),
        "{err}"
    );
    assert!(NewUser::check_password_policy(&Password::new("alllower1x")).is_err());
    assert!(NewUser::check_login("abc").unwrap_err().is_invalid_input());
}

#[tokio::test]
async fn typed_ids_refuse_bad_values_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(200, USER))
        .expect(0)
        .mount(&server)
        .await;
    let api = api(&server);
    for bad in BAD_IDS {
        // A call takes only a typed id, so a bad one stops at its construction.
        let err = match bad.parse::<UserId>() {
            Ok(id) => api.get_user(&id).await.map(drop).unwrap_err(),
            Err(e) => e,
        };
        assert!(err.is_invalid_input(), "{bad:?}: {err:?}");
        let err = match bad.parse::<RoleId>() {
            Ok(role) => api
                .create_user(&NewUser::new(role, "n", "e@x.io", "login", "Passw0rdX"))
                .await
                .map(drop)
                .unwrap_err(),
            Err(e) => e,
        };
        assert!(err.is_invalid_input(), "{bad:?}: {err:?}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[test]
fn ids_decode_strictly_and_unknown_fields_never_fail() {
    let user: User = serde_json::from_value(json!({
        "_id": ID, "role": ROLE_ID, "group": GROUP_ID, "owner": ADMIN_ID, "access": [ID], "brandNew": {"x": 1}
    }))
    .unwrap();
    assert_eq!(user.id, oid::<UserId>(ID));
    assert_eq!(user.role, Some(oid::<RoleId>(ROLE_ID)));
    assert_eq!(user.group, Some(oid::<GroupId>(GROUP_ID)));
    assert_eq!(user.owner, Some(oid::<UserId>(ADMIN_ID)));
    assert_eq!(user.extra["brandNew"]["x"], 1);
    for bad in [
        json!({"_id": "me"}),
        json!({"_id": ID, "role": "admin"}),
        json!({"_id": ID, "group": 7}),
    ] {
        assert!(serde_json::from_value::<User>(bad.clone()).is_err(), "{bad}");
    }
    assert!(serde_json::from_value::<Role>(json!({"_id": "signup"})).is_err());
    // Serde both ways: an id writes itself as its text.
    assert_eq!(
        serde_json::to_value(oid::<RoleId>(ROLE_ID)).unwrap(),
        json!(ROLE_ID)
    );
}

#[tokio::test]
async fn list_users_sends_every_filter_and_decodes_all_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .and(header("authorization", "Bearer ric-token"))
        .and(query_param("limit", "50"))
        .and(query_param("offset", "100"))
        .and(query_param("search", "svc & co"))
        .and(query_param("from", "2024-01-01T00:00:00Z"))
        .and(query_param("to", "1714000000"))
        .and(query_param("only", "_id,name,login"))
        .respond_with(json(200, USERS))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListUsers::new()
        .limit(50)
        .offset(100)
        .search("svc & co")
        .from("2024-01-01T00:00:00Z")
        .to("1714000000")
        .only(["_id", "name", "login"]);
    let users = api(&server).list_users(&query).await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].id.as_str(), ID);
    assert_eq!(users[0].rights, Some(1.5));
    assert_eq!(
        users[0].role.as_ref().map(RoleId::as_str),
        Some("5cc89f6af79a4969291dcbd7")
    );
    let svc = &users[1];
    assert_eq!(svc.web_disabled, Some(true));
    assert_eq!(svc.timezone_offset, Some(-180.0));
    assert_eq!(svc.description, None);
    assert_eq!(svc.links.as_ref().unwrap()[0]["rel"], "x");
    assert_eq!(svc.extra["tenant"], "t-1");
    let url = &server.received_requests().await.unwrap()[0].url;
    let expected = url::Url::parse(
        "http://x/?limit=50&offset=100&search=svc+%26+co&from=2024-01-01T00%3A00%3A00Z&to=1714000000&only=_id%2Cname%2Clogin",
    )
    .unwrap();
    assert_eq!(pairs(url), pairs(&expected));
}

#[tokio::test]
async fn list_users_without_filters_sends_no_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(json(200, "[]"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(
        api(&server)
            .list_users(&ListUsers::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.received_requests().await.unwrap()[0].url.query(), None);
}

#[tokio::test]
async fn a_search_is_the_list_with_search_and_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .and(query_param("search", "serv"))
        .and(query_param("only", "_id,name"))
        .respond_with(json(
            200,
            r#"[{"_id": "5d8a18d5d0025e0012fb6a35", "name": "Service"}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let found = api(&server)
        .list_users(&ListUsers::new().search("serv").only(["_id", "name"]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name.as_deref(), Some("Service"));
    assert_eq!(found[0].login, None);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.path(), "/api/v1/users");
    assert_eq!(
        pairs(&sent[0].url),
        [
            ("only".to_owned(), "_id,name".to_owned()),
            ("search".to_owned(), "serv".to_owned())
        ]
    );
}

#[tokio::test]
async fn get_user_reads_one_user_with_success() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    let user = api(&server).get_user(&oid(ID)).await.unwrap();
    assert_eq!(user.login.as_deref(), Some("user_login"));
    assert_eq!(user.success, Some(true));
}

#[tokio::test]
async fn create_user_sends_required_and_set_fields_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/users"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "role": ROLE_ID, "name": "Service account", "email": "svc@example.com", "login": "svcaccount",
            "password": "Str0ngPassw0rd", "webDisabled": true
        })))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    let new = NewUser::new(
        oid(ROLE_ID),
        "Service account",
        "svc@example.com",
        "svcaccount",
        "Str0ngPassw0rd",
    )
    .web_disabled(true);
    assert!(!format!("{new:?}").contains("Str0ngPassw0rd"));
    let created = api(&server).create_user(&new).await.unwrap();
    assert_eq!(created.id.as_str(), ID);
}

#[tokio::test]
async fn create_user_reads_the_whole_user_from_a_one_element_array() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/users"))
        .and(body_json(json!({
            "role": ROLE_ID, "name": "Sensor bot", "email": "bot@example.com", "login": "sensorbot",
            "password": "Str0ngPassw0rd", "description": "reads the boiler", "webDisabled": true
        })))
        .respond_with(json(200, CREATED))
        .expect(1)
        .mount(&server)
        .await;
    let new = NewUser::new(
        oid(ROLE_ID),
        "Sensor bot",
        "bot@example.com",
        "sensorbot",
        "Str0ngPassw0rd",
    )
    .description("reads the boiler")
    .web_disabled(true);
    let created = api(&server).create_user(&new).await.unwrap();
    assert_eq!(created.id.as_str(), "6a2c00000000000000000b07");
    assert_eq!(created.access, Some(vec![oid("6a2c00000000000000000b07")]));
    assert_eq!(created.owner, Some(oid(ADMIN_ID)));
    assert_eq!(created.time, Some(1_781_302_873_439));
    assert_eq!(
        created.created_at(),
        Some(UNIX_EPOCH + Duration::from_millis(1_781_302_873_439))
    );
    assert_eq!(created.success, Some(true));
    assert!(created.extra.is_empty(), "{:?}", created.extra);
}

#[tokio::test]
async fn create_user_without_a_user_id_is_a_protocol_error_and_never_retried() {
    let new = NewUser::new(oid(ROLE_ID), "n", "e@x.io", "logn", "Passw0rdX");
    for body in [
        r#"{"success": true}"#,
        "",
        "[]",
        r#"[{"success": true}]"#,
        r#"[{"_id": 7}]"#,
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json(200, body))
            .expect(1)
            .mount(&server)
            .await;
        let err = api(&server).create_user(&new).await.unwrap_err();
        assert!(err.is_protocol(), "{body:?}: {err:?}");
        assert!(err.to_string().contains("POST /api/v1/users"), "{err}");
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            r#"[{"_id": "5d8a18d5d0025e0012fb6a34"}, {"_id": "5d8a18d5d0025e0012fb6a35"}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).create_user(&new).await.unwrap_err().is_protocol());
}

#[tokio::test]
async fn a_created_user_that_does_not_decode_names_the_field_in_the_array() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            r#"[{"_id": "5d8a18d5d0025e0012fb6a34", "time": "yesterday"}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let new = NewUser::new(oid(ROLE_ID), "n", "e@x.io", "logn", "Passw0rdX");
    match api(&server).create_user(&new).await.unwrap_err().kind() {
        ErrorKind::Decode(e) => assert_eq!(e.field_path(), "[0].time"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn create_user_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(503, r#"{"message": "busy"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let new = NewUser::new(oid(ROLE_ID), "n", "e@x.io", "logn", "Passw0rdX");
    assert_eq!(
        api(&server)
            .create_user(&new)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(503)
    );
}

#[tokio::test]
async fn create_user_refuses_empty_required_fields_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, USER))
        .expect(0)
        .mount(&server)
        .await;
    for new in [
        NewUser::new(oid(ROLE_ID), "", "e@x.io", "login", "Passw0rdX"),
        NewUser::new(oid(ROLE_ID), "n", " ", "login", "Passw0rdX"),
        NewUser::new(oid(ROLE_ID), "n", "e@x.io", "", "Passw0rdX"),
        NewUser::new(oid(ROLE_ID), "n", "e@x.io", "login", ""),
    ] {
        assert!(
            api(&server)
                .create_user(&new)
                .await
                .unwrap_err()
                .is_invalid_input()
        );
    }
}

#[tokio::test]
async fn update_user_patches_only_set_fields_and_returns_the_user() {
    let server = MockServer::start().await;
    let answer = r#"[{"_id": "5d8a18d5d0025e0012fb6a34", "name": "New name", "description": "night shift",
        "time": 1781302873439, "_at": 1781302934135, "disabled": true, "success": true}]"#;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v1/users/{ID}")))
        .and(body_json(json!({
            "name": "New name", "description": "night shift", "password": "N3wPassword", "disabled": true
        })))
        .respond_with(json(200, answer))
        .expect(1)
        .mount(&server)
        .await;
    let update = UserUpdate::new()
        .name("New name")
        .description("night shift")
        .password("N3wPassword")
        .disabled(true);
    assert!(!format!("{update:?}").contains("N3wPassword"));
    let user = api(&server).update_user(&oid(ID), &update).await.unwrap();
    assert_eq!(user.description.as_deref(), Some("night shift"));
    assert_eq!(user.at, Some(1_781_302_934_135));
    assert_eq!(
        user.changed_at(),
        Some(UNIX_EPOCH + Duration::from_millis(1_781_302_934_135))
    );
    let err = api(&server)
        .update_user(&oid(ID), &UserUpdate::new())
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());
}

#[tokio::test]
async fn update_user_reads_an_object_and_refuses_a_bare_success() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(json(200, USER))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(json(200, r#"{"success": true}"#))
        .mount(&server)
        .await;
    let update = UserUpdate::new().name("x");
    let user = api(&server).update_user(&oid(ID), &update).await.unwrap();
    assert_eq!(user.login.as_deref(), Some("user_login"));
    let err = api(&server).update_user(&oid(ID), &update).await.unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("get_user"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[test]
fn response_models_can_be_built_for_tests() {
    let mut user = User::default();
    user.name = Some("Bot".into());
    assert!(user.id.is_zero() && user.login.is_none());
    let mut role = Role::default();
    role.credentials = Some(vec!["objects.read".into()]);
    assert_eq!(role.id, RoleId::default());
    let issued = IssuedToken::from_json(json!({"token": "t0k3n"}));
    assert_eq!(issued.token().map(Token::expose), Some("t0k3n"));
    assert!(IssuedToken::default().token().is_none());
}

#[tokio::test]
async fn fake_scopes_everything_to_the_callers_group() {
    let fake = FakeRightech::start().await.unwrap();
    let api = fake.api().unwrap();
    let ids: Vec<String> = api
        .list_users(&ListUsers::new())
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id.to_string())
        .collect();
    assert_eq!(ids, [ADMIN_ID, COLLEAGUE_ID]);
    assert!(api.get_user(&oid(STRANGER_ID)).await.unwrap_err().is_not_found());
    let page = api
        .list_users(&ListUsers::new().limit(1).offset(1).only(["_id", "login"]))
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].login.as_deref(), Some("colleague"));
    assert_eq!(page[0].email, None);
}

#[tokio::test]
async fn fake_creates_updates_and_deletes() {
    let fake = FakeRightech::start().await.unwrap();
    let api = fake.api().unwrap();
    let new = NewUser::new(
        oid(ROLE_ID),
        "Sensor bot",
        "bot@example.com",
        "sensorbot",
        "Str0ngPassw0rd",
    )
    .web_disabled(true);
    let created = api.create_user(&new).await.unwrap();
    assert_eq!(created.web_disabled, Some(true));
    assert_eq!(created.owner, Some(oid(ADMIN_ID)));
    assert_eq!(created.access, Some(vec![oid(created.id.as_str())]));
    assert!(created.time.is_some_and(|t| t > 1_700_000_000_000));
    assert_eq!(created.success, Some(true));
    assert!(
        created.extra.get("password").is_none(),
        "the password is never returned"
    );
    let updated = api
        .update_user(
            &created.id,
            &UserUpdate::new().name("Sensor robot").description("boiler room"),
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Sensor robot"));
    assert_eq!(updated.description.as_deref(), Some("boiler room"));
    assert!(updated.at.is_some_and(|at| at >= updated.time.unwrap()));
    assert_eq!(
        api.get_user(&created.id).await.unwrap().name.as_deref(),
        Some("Sensor robot")
    );
    api.delete_user(&created.id).await.unwrap();
    assert!(api.get_user(&created.id).await.unwrap_err().is_not_found());
    assert!(fake.has_user(created.id.as_str()) && fake.group_of(created.id.as_str()).is_none());
}

#[tokio::test]
async fn fake_enforces_uniqueness_and_the_password_policy() {
    let fake = FakeRightech::start().await.unwrap();
    let api = fake.api().unwrap();
    let taken = NewUser::new(oid(ROLE_ID), "x", "new@example.com", "ADMIN", "Str0ngPassw0rd");
    let err = api.create_user(&taken).await.unwrap_err();
    assert_eq!(
        (
            err.status().map(|s| s.as_u16()),
            err.service_message(),
            err.service_code()
        ),
        (Some(409), Some("login already exists"), None)
    );
    let taken = NewUser::new(
        oid(ROLE_ID),
        "x",
        "Colleague@Example.com",
        "newlogin",
        "Str0ngPassw0rd",
    );
    assert_eq!(
        api.create_user(&taken).await.unwrap_err().service_message(),
        Some("email already exists")
    );
    let weak = NewUser::new(oid(ROLE_ID), "x", "w@example.com", "weakling", "password");
    let err = api.create_user(&weak).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(
        err.http().unwrap().body_json().unwrap()["helper"]["message"],
        "at least 8 characters, with lower case, upper case and a digit"
    );
    let short = NewUser::new(oid(ROLE_ID), "x", "s@example.com", "abc", "Str0ngPassw0rd");
    assert_eq!(
        api.create_user(&short)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(400)
    );
}

#[tokio::test]
async fn fake_has_no_search_route_and_searches_through_the_list() {
    let fake = FakeRightech::start().await.unwrap();
    let api = fake.api().unwrap();
    let err = api
        .request(Method::GET, &["api", "v1", "users", "search"])
        .query("search", "colle")
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.service_message(), Some("invalid id"));
    let found = api
        .list_users(&ListUsers::new().search("COLLE").only(["_id", "name"]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), COLLEAGUE_ID);
    assert_eq!(found[0].name.as_deref(), Some("Colleague"));
    assert_eq!(found[0].email, None);
}

#[tokio::test]
async fn fake_seeding_adds_users_and_roles_of_the_crates_own_types() {
    let fake = FakeRightech::start().await.unwrap();
    let mut role = Role::default();
    role.name = Some("Auditor".into());
    role.group = Some(oid(GROUP_ID));
    let role = fake.add_role(role);
    assert!(!role.id.is_zero() && role.time.is_some());
    let mut user = User::default();
    user.login = Some("auditor".into());
    user.role = Some(role.id.clone());
    let user = fake.add_user(user);
    assert!(!user.id.is_zero());
    assert_eq!(user.group, Some(oid(GROUP_ID)));
    let api = fake.api().unwrap();
    let got = api.get_user(&user.id).await.unwrap();
    assert_eq!(got.login.as_deref(), Some("auditor"));
    assert_eq!(got.role, Some(role.id.clone()));
    assert!(
        api.list_roles(&ListRoles::new())
            .await
            .unwrap()
            .iter()
            .any(|r| r.id == role.id)
    );
    // The added user can act through a token of its own.
    let as_auditor = fake
        .api_with(Auth::bearer(fake.token_for(user.id.as_str()).unwrap()))
        .unwrap();
    assert_eq!(as_auditor.list_users(&ListUsers::new()).await.unwrap().len(), 3);
    assert!(fake.token_for("6a0000000000000000000fff").is_none());
}

#[tokio::test]
async fn fake_checks_rules_with_its_own_code() {
    let fake = FakeRightech::start().await.unwrap();
    let api = fake.api().unwrap();
    // 41 characters: the fake's own rule, not the client's check_login.
    let long = NewUser::new(
        oid(ROLE_ID),
        "x",
        "l@example.com",
        "x".repeat(41),
        "Str0ngPassw0rd",
    );
    let err = api.create_user(&long).await.unwrap_err();
    assert_eq!(
        (err.status().map(|s| s.as_u16()), err.service_message()),
        (Some(400), Some("login must have 4 to 40 characters"))
    );
    let no_digit = UserUpdate::new().password("NoDigitsHere");
    let err = api.update_user(&oid(COLLEAGUE_ID), &no_digit).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    let err = api
        .update_user(&oid(STRANGER_ID), &UserUpdate::new().name("x"))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

/// Rightech's own recorded answers show `GET /api/v1/users/:id` as a one-element array, the
/// form create and update answer in.
#[tokio::test]
async fn get_user_accepts_the_one_element_array() {
    let server = MockServer::start().await;
    let one: serde_json::Value = serde_json::from_str(USER).unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/users/{ID}")))
        .and(header("authorization", "Bearer ric-token"))
        .respond_with(json(200, &json!([one]).to_string()))
        .expect(1)
        .mount(&server)
        .await;
    let user = api(&server).get_user(&oid(ID)).await.unwrap();
    assert_eq!(user.id.as_str(), ID);
    assert_eq!(user, serde_json::from_str::<User>(USER).unwrap());
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::GET);
    assert_eq!(sent[0].url.query(), None);
}

#[tokio::test]
async fn get_user_refuses_arrays_of_other_lengths_and_reads_a_refusal_inside_one() {
    let other = "5d8a18d5d0025e0012fb6a35";
    let server = MockServer::start().await;
    let one: serde_json::Value = serde_json::from_str(USER).unwrap();
    for (id, body) in [
        (ID, "[]".to_owned()),
        (other, json!([one.clone(), one.clone()]).to_string()),
        (
            "5d8a18d5d0025e0012fb6a36",
            r#"[{"success": false, "message": "user not found", "code": 404}]"#.to_owned(),
        ),
        ("5d8a18d5d0025e0012fb6a37", r#"[{"_id": 5}]"#.to_owned()),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/users/{id}")))
            .respond_with(json(200, &body))
            .mount(&server)
            .await;
    }
    let api = api(&server);
    let err = api.get_user(&oid(ID)).await.unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("list of 0 items"), "{err}");
    let err = api.get_user(&oid(other)).await.unwrap_err();
    assert!(
        err.is_protocol() && err.to_string().contains("list of 2 items"),
        "{err}"
    );
    let err = api.get_user(&oid("5d8a18d5d0025e0012fb6a36")).await.unwrap_err();
    assert_eq!(err.service_message(), Some("user not found"));
    let err = api.get_user(&oid("5d8a18d5d0025e0012fb6a37")).await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert!(err.to_string().contains("[0]"), "{err}");
}
