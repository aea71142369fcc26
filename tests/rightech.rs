#![cfg(feature = "rightech")]
//! Rightech IoT Cloud on the wire (wiremock) and against its fake.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use userapi::rightech::{
    IssuedToken, ListUsers, NewUser, ObjectId, Rightech, Role, TokenRequest, User, UserUpdate, check_login,
    check_password_policy,
};
use userapi::{Auth, Error, Method, Secret};
use userapi_fake::rightech::{
    ADMIN_ID, COLLEAGUE_ID, FakeRightech, GROUP_ID, OPERATOR_ROLE_ID, ROLE_ID, STRANGER_ID,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USERS: &str = include_str!("fixtures/rightech/users.json");
const USER: &str = include_str!("fixtures/rightech/user.json");
/// A create answer as recorded: the whole user in a one-element array.
const CREATED: &str = include_str!("fixtures/rightech/created.json");
/// `GET /api/v1/roles` in the recorded layout: each comma on a line of its own.
const ROLES: &str = include_str!("fixtures/rightech/roles.txt");
const ID: &str = "5d8a18d5d0025e0012fb6a34";

fn api(server: &MockServer) -> Rightech {
    common::client(server, Auth::bearer("ric-token")).rightech()
}

fn json(status: u16, raw: &str) -> ResponseTemplate {
    common::body(status, raw, "application/json")
}

fn oid(s: &str) -> ObjectId {
    ObjectId::parse(s).unwrap()
}

#[test]
fn object_ids_are_24_hex_digits() {
    assert_eq!(oid(ID).as_str(), ID);
    assert_eq!(ID.parse::<ObjectId>().unwrap().to_string(), ID);
    for bad in [
        "",
        "5d8a18d5d0025e0012fb6a3",
        "5d8a18d5d0025e0012fb6a345",
        "5d8a18d5d0025e0012fb6a3g",
        "../admin",
    ] {
        let err = ObjectId::parse(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{bad:?}");
    }
}

#[test]
fn login_and_password_rules() {
    assert!(check_login("abcd").is_ok() && check_login(&"x".repeat(40)).is_ok());
    assert!(check_login("abc").is_err() && check_login(&"x".repeat(41)).is_err());
    assert!(check_password_policy(&Secret::new("Str0ngPassw0rd")).is_ok());
    let err = check_password_policy(&Secret::new("weak"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("8 characters") && err.contains("upper-case") && err.contains("digit"),
        "{err}"
    );
    assert!(check_password_policy(&Secret::new("alllower1x")).is_err());
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
        users[0].role.as_ref().map(ObjectId::as_str),
        Some("5cc89f6af79a4969291dcbd7")
    );
    let svc = &users[1];
    assert_eq!(svc.web_disabled, Some(true));
    assert_eq!(svc.timezone_offset, Some(-180.0));
    assert_eq!(svc.description, None);
    assert_eq!(svc.links.as_ref().unwrap()[0]["rel"], "x");
    assert_eq!(svc.extra["tenant"], "t-1");
    let url = &server.received_requests().await.unwrap()[0].url;
    assert_eq!(
        url.query(),
        Some(
            "limit=50&offset=100&search=svc+%26+co&from=2024-01-01T00%3A00%3A00Z&to=1714000000&only=_id%2Cname%2Clogin"
        )
    );
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
    assert_eq!(sent[0].url.query(), Some("search=serv&only=_id%2Cname"));
}

#[tokio::test]
async fn users_walk_limit_and_offset_until_a_short_page() {
    let server = MockServer::start().await;
    let user = |i: u32| json!({"_id": format!("{i:024x}"), "name": format!("u{i}")});
    for (offset, ids) in [(0, vec![1, 2]), (2, vec![3, 4]), (4, vec![5])] {
        Mock::given(method("GET"))
            .and(path("/api/v1/users"))
            .and(query_param("limit", "2"))
            .and(query_param("offset", offset.to_string()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(ids.into_iter().map(user).collect::<Vec<_>>()),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut pages = api(&server).users(ListUsers::new().limit(2));
    let mut names = Vec::new();
    while let Some(page) = pages.next_page().await {
        names.extend(page.unwrap().into_iter().map(|u| u.name.unwrap()));
    }
    assert_eq!(names, ["u1", "u2", "u3", "u4", "u5"]);
    assert!(pages.next().await.is_none());
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
async fn success_false_under_200_is_an_api_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            r#"{"_id": "5d8a18d5d0025e0012fb6a34", "success": false, "message": "no access"}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(200, r#"{"success": false}"#))
        .mount(&server)
        .await;
    let err = api(&server).get_user(&oid(ID)).await.unwrap_err();
    match &err {
        Error::Api(e) => {
            assert_eq!(e.http_status().as_u16(), 200);
            assert_eq!(e.message(), Some("no access"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.service_message(), Some("no access"));
    let err = api(&server).delete_user(&oid(ID)).await.unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("DELETE /api/v1/users/5d8a18d5d0025e0012fb6a34"),
        "{err}"
    );
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
        assert!(matches!(err, Error::Protocol(_)), "{body:?}: {err:?}");
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
    assert!(matches!(
        api(&server).create_user(&new).await.unwrap_err(),
        Error::Protocol(_)
    ));
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
    match api(&server).create_user(&new).await.unwrap_err() {
        Error::Decode(e) => assert_eq!(e.field_path(), "[0].time"),
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
        assert!(matches!(
            api(&server).create_user(&new).await.unwrap_err(),
            Error::InvalidInput { .. }
        ));
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
    assert!(matches!(err, Error::InvalidInput { .. }));
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
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("get_user"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn delete_user_is_a_delete_on_the_id() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(200, r#"{"success": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).delete_user(&oid(ID)).await.unwrap();
}

#[tokio::test]
async fn a_retried_delete_that_meets_404_has_succeeded() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(503, r#"{"message": "upstream timed out"}"#))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).delete_user(&oid(ID)).await.unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.method.as_str() == "DELETE"));
}

/// Only an attempt that may have done the work makes a later 404 a success. A 429 (the
/// server did nothing) or a 401 answered by a fresh token (it refused) before the 404 leave
/// the 404 what it says: no such user.
#[tokio::test]
async fn a_404_after_a_refusal_that_did_nothing_is_still_not_found() {
    // 429, then 404.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json(429, r#"{"message": "slow down"}"#).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .mount(&server)
        .await;
    let err = api(&server).delete_user(&oid(ID)).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.attempts(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // 401 with the old token, a refresh, 404 with the new one.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(header("authorization", "Bearer old"))
        .respond_with(json(401, r#"{"message": "token expired"}"#))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(header("authorization", "Bearer new"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .mount(&server)
        .await;
    let auth = Auth::provider(|refresh| async move { Ok(Secret::new(if refresh { "new" } else { "old" })) });
    let err = common::client(&server, auth)
        .rightech()
        .delete_user(&oid(ID))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.attempts(), 2);
}

/// A delete whose first attempt timed out (it may have reached the server) and whose retry
/// meets 404 has succeeded.
#[tokio::test]
async fn a_404_after_a_timed_out_delete_has_succeeded() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json(200, r#"{"success": true}"#).set_delay(Duration::from_millis(500)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .mount(&server)
        .await;
    let client = common::client(&server, Auth::bearer("ric-token"));
    let client = client.with_timeouts(client.timeouts().with_attempt(Duration::from_millis(100)));
    client.rightech().delete_user(&oid(ID)).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_delete_that_meets_404_at_once_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).delete_user(&oid(ID)).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn create_token_keeps_the_raw_response_and_redacts_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/users/tokens"))
        .and(body_json(json!({"user": ID})))
        .respond_with(json(
            200,
            r#"{"_id": "6a0000000000000000000001", "token": "eyJ.secret.jwt", "exp": 1716498000}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server)
        .create_token(&TokenRequest::new().field("user", ID))
        .await
        .unwrap();
    assert_eq!(issued.token().unwrap().expose(), "eyJ.secret.jwt");
    assert_eq!(issued.id(), Some("6a0000000000000000000001"));
    assert_eq!(issued.raw()["exp"], 1716498000);
    let shown = format!("{issued:?}");
    assert!(
        !shown.contains("eyJ.secret.jwt") && shown.contains("exp"),
        "{shown}"
    );
}

#[tokio::test]
async fn create_token_decode_errors_never_quote_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"token": "eyJ.secret.jwt""#))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).create_token(&TokenRequest::new()).await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)));
    assert!(!format!("{err} {err:?}").contains("secret"));
}

#[tokio::test]
async fn error_bodies_keep_message_and_helper() {
    let server = MockServer::start().await;
    let body = r#"{"message": "user not found", "tags": ["users"], "helper": {"message": "check the id", "links": ["https://rightech.io/en/developers/http/"]}}"#;
    Mock::given(method("GET"))
        .respond_with(json(404, body))
        .mount(&server)
        .await;
    let err = api(&server).get_user(&oid(ID)).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.service_message(), Some("user not found"));
    let json = err.http().unwrap().body_json().unwrap();
    assert_eq!(json["helper"]["message"], "check the id");
    assert_eq!(json["tags"][0], "users");
}

#[tokio::test]
async fn error_codes_are_read_as_strings_numbers_and_codes_lists() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(
            404,
            r#"{"message": "user not found", "code": "404", "codes": ["404"], "tags": ["users"]}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(json(400, r#"{"message": "bad query", "codes": ["E_LIMIT", 17]}"#))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(
            200,
            r#"{"success": false, "code": "403", "message": "no access"}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(json(200, r#"{"success": false, "codes": ["409"]}"#))
        .mount(&server)
        .await;
    let err = api(&server).get_user(&oid(ID)).await.unwrap_err();
    assert_eq!(
        (err.service_code(), err.service_message()),
        (Some("404"), Some("user not found"))
    );
    let err = api(&server).list_users(&ListUsers::new()).await.unwrap_err();
    assert_eq!(err.service_code(), Some("E_LIMIT,17"));
    match api(&server).delete_user(&oid(ID)).await.unwrap_err() {
        Error::Api(e) => assert_eq!((e.code(), e.message()), (403, Some("no access"))),
        other => panic!("{other:?}"),
    }
    match api(&server)
        .update_user(&oid(ID), &UserUpdate::new().name("x"))
        .await
        .unwrap_err()
    {
        Error::Api(e) => assert_eq!(e.code(), 409),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn list_roles_reads_the_recorded_layout_and_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/roles"))
        .and(header("authorization", "Bearer ric-token"))
        .respond_with(json(503, r#"{"message": "busy"}"#))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/roles"))
        .respond_with(json(200, ROLES))
        .expect(1)
        .mount(&server)
        .await;
    let roles = api(&server).list_roles().await.unwrap();
    let ids: Vec<&str> = roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["5c5061c11af9ac1100e8d55f", ROLE_ID, "5cc89f6af79a4969291dcbd8"]
    );
    assert_eq!(roles[1].name.as_deref(), Some("[rightech] signup"));
    assert_eq!(roles[1].credentials, None);
    let full = &roles[2];
    assert_eq!(full.name.as_deref(), Some("Оператор"));
    assert_eq!(
        full.credentials.as_deref(),
        Some(&["objects.read".to_owned(), "objects.command".to_owned()][..])
    );
    assert_eq!(full.group, Some(oid(GROUP_ID)));
    assert_eq!(
        full.created_at(),
        Some(UNIX_EPOCH + Duration::from_millis(1_556_651_882_000))
    );
    assert_eq!(full.extra["colour"], "teal");
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url.query(), None);
}

#[test]
fn response_models_can_be_built_for_tests() {
    let mut user = User::default();
    user.name = Some("Bot".into());
    assert!(user.id.is_zero() && user.login.is_none());
    let mut role = Role::default();
    role.credentials = Some(vec!["objects.read".into()]);
    assert_eq!(role.id, ObjectId::default());
    let issued = IssuedToken::from_json(json!({"token": "t0k3n"}));
    assert_eq!(issued.token().map(Secret::expose), Some("t0k3n"));
    assert!(IssuedToken::default().token().is_none());
}

#[tokio::test]
async fn an_nginx_page_from_a_proxy_gives_its_title() {
    let server = MockServer::start().await;
    let page = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(504).set_body_raw(page, "text/html"))
        .mount(&server)
        .await;
    let err = api(&server).list_users(&ListUsers::new()).await.unwrap_err();
    assert_eq!(err.service_message(), Some("504 Gateway Time-out"));
    assert!(err.is_retryable());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "a list is retried"
    );
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

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
    assert_eq!(created.access, Some(vec![created.id.clone()]));
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
        (Some(409), Some("login already exists"), Some("409"))
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
async fn fake_issues_tokens_it_then_accepts() {
    let fake = FakeRightech::start().await.unwrap();
    let issued = fake
        .api()
        .unwrap()
        .create_token(&TokenRequest::new().field("user", COLLEAGUE_ID))
        .await
        .unwrap();
    let token = issued.token().unwrap().expose().to_owned();
    let as_colleague = fake.api_with(Auth::bearer(token)).unwrap();
    assert_eq!(as_colleague.list_users(&ListUsers::new()).await.unwrap().len(), 2);
    let err = fake
        .api_with(Auth::bearer("forged"))
        .unwrap()
        .list_users(&ListUsers::new())
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.service_message(), Some("unauthorized"));
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
async fn fake_lists_come_in_the_recorded_layout() {
    let fake = FakeRightech::start().await.unwrap();
    let body = reqwest::Client::new()
        .get(fake.base_url().join("api/v1/roles?only=_id,name").unwrap())
        .bearer_auth(userapi_fake::rightech::TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("[\n{") && body.ends_with("}\n]\n"), "{body:?}");
    assert_eq!(body.matches("\n,\n").count(), 2, "{body:?}");
    assert!(!body.contains("credentials"), "{body:?}");
}

#[tokio::test]
async fn fake_lists_the_groups_roles_and_the_shared_ones() {
    let fake = FakeRightech::start().await.unwrap();
    let roles = fake.api().unwrap().list_roles().await.unwrap();
    assert_eq!(roles.len(), 3);
    let operator = roles.iter().find(|r| r.id.as_str() == OPERATOR_ROLE_ID).unwrap();
    assert_eq!(operator.group, Some(oid(GROUP_ID)));
    assert!(operator.credentials.as_ref().is_some_and(|c| !c.is_empty()));
    let stranger = fake
        .api_with(Auth::bearer(fake.token_for(STRANGER_ID).unwrap()))
        .unwrap();
    let theirs: Vec<String> = stranger
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(theirs.len(), 2);
    assert!(!theirs.contains(&OPERATOR_ROLE_ID.to_owned()));
    let err = fake.api_with(Auth::None).unwrap().list_roles().await.unwrap_err();
    assert!(err.is_auth());
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
    assert!(api.list_roles().await.unwrap().iter().any(|r| r.id == role.id));
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

/// Every user id the stream yields (as the number it was made from) and the error that ended
/// it, within a few seconds: a pager that loops fails the test instead of hanging it.
async fn drain_within_seconds(stream: &mut userapi::Pager<User>) -> (Vec<u32>, Option<Error>) {
    tokio::time::timeout(Duration::from_secs(5), async {
        let mut ids = Vec::new();
        while let Some(user) = stream.next().await {
            match user {
                Ok(u) => ids.push(u32::from_str_radix(u.id.as_str(), 16).unwrap()),
                Err(e) => return (ids, Some(e)),
            }
        }
        (ids, None)
    })
    .await
    .expect("the stream ends within 5 s")
}

/// A list item whose id is the number `i` in 24 hex digits.
fn numbered(i: u32) -> serde_json::Value {
    json!({"_id": format!("{i:024x}"), "name": format!("u{i}")})
}

/// The `offset` of a request, as a number.
fn offset_of(req: &wiremock::Request) -> u64 {
    req.url
        .query_pairs()
        .find(|(k, _)| k == "offset")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap()
}

async fn queries(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_server_that_ignores_paging_ends_the_stream_after_two_requests() {
    // The same full page whatever `offset` and `limit` say.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json((1..=3).map(numbered).collect::<Vec<_>>()))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3], "the first page once, nothing repeated");
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("the page at offset 3 repeats the page before it"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(queries(&server).await, ["limit=3&offset=0", "limit=3&offset=3"]);
}

#[tokio::test]
async fn a_server_that_reorders_the_same_page_ends_the_stream_after_two_requests() {
    // The same items in another order: still a page whose items all came on the page before.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(|req: &wiremock::Request| {
            let ids: Vec<u32> = if offset_of(req) == 0 {
                vec![1, 2, 3]
            } else {
                vec![3, 1, 2]
            };
            ResponseTemplate::new(200).set_body_json(ids.into_iter().map(numbered).collect::<Vec<_>>())
        })
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3]);
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("repeats the page before it"), "{err}");
    assert_eq!(queries(&server).await, ["limit=3&offset=0", "limit=3&offset=3"]);
}

#[tokio::test]
async fn a_server_that_wraps_around_ends_the_stream_where_a_page_starts_again() {
    // Honours `limit` but reads `offset` modulo its four users: pages 1–2, 3–4, then 1–2
    // again, which is not the page before but starts where the first page started.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(|req: &wiremock::Request| {
            let start = offset_of(req) % 4;
            let ids = (start..start + 2)
                .map(|i| numbered(i as u32 + 1))
                .collect::<Vec<_>>();
            ResponseTemplate::new(200).set_body_json(ids)
        })
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3, 4], "each user once");
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("the page at offset 4 starts where an earlier page started"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(
        queries(&server).await,
        ["limit=2&offset=0", "limit=2&offset=2", "limit=2&offset=4"]
    );
}

#[tokio::test]
async fn a_server_whose_pages_overlap_and_cycle_ends_the_stream_within_a_bound() {
    // Five users in a ring; each page starts one user further on than the page before,
    // whatever `offset` says, so consecutive pages overlap by two. Pages starting at users
    // 1, 2, 3, 4, 5 pass (a list that shifts while it is read overlaps like this too); the
    // sixth starts at user 1 again and ends the stream.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(|req: &wiremock::Request| {
            let page = offset_of(req) / 3;
            let ids = (0..3)
                .map(|i| numbered(((page + i) % 5) as u32 + 1))
                .collect::<Vec<_>>();
            ResponseTemplate::new(200).set_body_json(ids)
        })
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids[..3], [1, 2, 3]);
    assert!(ids.len() <= 15, "{ids:?}");
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(
        err.to_string().contains("starts where an earlier page started"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(queries(&server).await.len(), 6);
}
