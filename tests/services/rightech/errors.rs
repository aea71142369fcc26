//! Rightech errors: `success: false` under a 200, messages and helpers, error codes of every
//! shape, and a proxy's nginx page.

use super::*;
use userapi::ErrorKind;

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
    match err.kind() {
        ErrorKind::Api(e) => {
            assert_eq!(e.http_status().as_u16(), 200);
            assert_eq!(e.message(), Some("no access"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.service_message(), Some("no access"));
    let err = api(&server).delete_user(&oid(ID)).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Api(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("DELETE /api/v1/users/5d8a18d5d0025e0012fb6a34"),
        "{err}"
    );
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
    match api(&server).delete_user(&oid(ID)).await.unwrap_err().kind() {
        ErrorKind::Api(e) => assert_eq!((e.code(), e.message()), (403, Some("no access"))),
        other => panic!("{other:?}"),
    }
    match api(&server)
        .update_user(&oid(ID), &UserUpdate::new().name("x"))
        .await
        .unwrap_err()
        .kind()
    {
        ErrorKind::Api(e) => assert_eq!(e.code(), 409),
        other => panic!("{other:?}"),
    }
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

#[tokio::test]
async fn a_body_as_rightechs_client_reads_it_has_no_code_and_no_fields() {
    // `lib/api.ts`: `message`, and optionally `tags` and `helper`; the code is the status.
    let server = MockServer::start().await;
    let body = r#"{"message": "login already exists", "tags": ["users", "validation"], "helper": {"message": "choose another login", "links": ["https://rightech.io/en/developers/http/"]}}"#;
    Mock::given(method("GET"))
        .respond_with(json(409, body))
        .mount(&server)
        .await;
    let err = api(&server).get_user(&oid(ID)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.service_message(), Some("login already exists"));
    // Neither a tag nor the helper is taken for a code or a field error.
    assert_eq!(err.service_code(), None);
    let service = err.http().unwrap().service();
    assert!(service.fields().is_empty(), "{service:?}");
    assert!(err.to_string().contains("login already exists"), "{err}");
    assert!(!err.to_string().contains("validation"), "{err}");
}

#[tokio::test]
async fn the_fakes_error_body_is_rightechs() {
    let fake = FakeRightech::start().await.unwrap();
    let err = fake
        .api()
        .unwrap()
        .get_user(&oid("5d8a18d5d0025e0012fb6aff"))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.service_message(), Some("user not found"));
    assert_eq!(err.service_code(), None);
    let json = err.http().unwrap().body_json().unwrap();
    assert_eq!(json["helper"]["message"], "check the id");
    assert_eq!(json["tags"], json!(["users"]));
    assert!(
        json.get("code").is_none() && json.get("codes").is_none(),
        "{json}"
    );
}
