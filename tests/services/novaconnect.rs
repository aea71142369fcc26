#![cfg(feature = "novaconnect")]
//! NovaConnect on the wire (wiremock) and against its fake.

use std::time::{Duration, Instant};

use serde_json::json;
use userapi::auth::Password;
use userapi::models::PasswordChange;
use userapi::novaconnect::{DEFAULT_BASE_URL, Envelope, NovaConnect, User, UserEdit, UserId};
use userapi::{Auth, Client, ErrorKind, RetryPolicy, StatusCode, TimeoutPhase};
use userapi_fake::novaconnect::{FakeNovaConnect, PASSWORD, TOKEN};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::client_builder;

const FIXTURE_GET: &str = include_str!("../fixtures/novaconnect/user_get.json");
const FIXTURE_EDIT: &str = include_str!("../fixtures/novaconnect/user_edit.json");
const FIXTURE_CODE: &str = include_str!("../fixtures/novaconnect/error_code.json");
const FIXTURE_WRONG_TYPE: &str = include_str!("../fixtures/novaconnect/wrong_type.json");

fn api(server: &MockServer) -> NovaConnect {
    api_with(server, |b| b)
}

fn api_with(
    server: &MockServer,
    f: impl FnOnce(userapi::ClientBuilder) -> userapi::ClientBuilder,
) -> NovaConnect {
    let builder = client_builder(format!("{}/api", server.uri())).auth(Auth::bearer("t0k"));
    f(builder).build().unwrap().novaconnect()
}

fn json_body(raw: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(raw.as_bytes().to_vec(), "application/json")
}

#[tokio::test]
async fn get_me_sends_documented_request_and_decodes_extra_fields_and_nulls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/get"))
        .and(header("authorization", "Bearer t0k"))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(header(
            "user-agent",
            concat!("userapi/", env!("CARGO_PKG_VERSION")),
        ))
        .and(query_param_is_missing("lang"))
        .and(body_json(json!({})))
        .respond_with(json_body(FIXTURE_GET))
        .expect(1)
        .mount(&server)
        .await;

    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.id, Some(UserId::Number(4127)));
    assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
    assert_eq!(me.last_name, None);
    assert_eq!(me.email.as_deref(), Some("a.sadykova@example.kz"));
    assert_eq!(me.extra["role"]["name"], "operator");
    assert_eq!(me.extra["phone"], serde_json::Value::Null);
    assert!(me.extra.contains_key("created_at"));
}

#[tokio::test]
async fn base_url_with_trailing_slash_joins_the_same_way() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/get"))
        .respond_with(json_body(FIXTURE_GET))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(format!("{}/api/", server.uri()))
        .bearer("t0k")
        .build()
        .unwrap();
    client.novaconnect().get_me().await.unwrap();
}

#[tokio::test]
async fn update_me_sends_only_the_fields_set_and_the_lang_parameter() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/edit"))
        .and(query_param("lang", "en"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"first_name": "Dana", "email": "new.address@example.kz"}),
        ))
        .respond_with(json_body(FIXTURE_EDIT))
        .expect(1)
        .mount(&server)
        .await;
    let edit = UserEdit::new().first_name("Dana").email("new.address@example.kz");
    let user = api(&server).lang("en").update_me(&edit).await.unwrap();
    assert_eq!(user.id, Some(UserId::Text("u-77".into())));
    assert_eq!(user.email.as_deref(), Some("new.address@example.kz"));
}

#[tokio::test]
async fn empty_edit_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(FIXTURE_EDIT))
        .expect(0)
        .mount(&server)
        .await;
    let err = api(&server).update_me(&UserEdit::new()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidInput(e) if e.operation() == "novaconnect::update_me"),
        "{err}"
    );
}

#[tokio::test]
async fn change_password_sends_both_passwords_and_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/password"))
        .and(body_json(
            json!({"password": "N3w-secret", "old_password": "0ld-secret"}),
        ))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .change_password(&PasswordChange::new("N3w-secret").current("0ld-secret"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("N3w-secret") && !text.contains("0ld-secret"),
        "{text}"
    );
}

#[tokio::test]
async fn change_password_sends_the_new_password_as_password_and_the_current_as_old_password() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/password"))
        .and(query_param("lang", "ru"))
        .and(header("authorization", "Bearer t0k"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"password": "N3w-secret", "old_password": "0ld-secret"}),
        ))
        .respond_with(json_body(FIXTURE_EDIT))
        .expect(1)
        .mount(&server)
        .await;
    let change = PasswordChange::new(Password::new("N3w-secret")).current(Password::new("0ld-secret"));
    let user = api(&server).lang("ru").change_password(&change).await.unwrap();
    assert_eq!(user.id, Some(UserId::Text("u-77".into())));
    assert_eq!(user.email.as_deref(), Some("new.address@example.kz"));
}

#[tokio::test]
async fn a_password_change_without_a_current_password_or_with_an_empty_one_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(FIXTURE_EDIT))
        .expect(0)
        .mount(&server)
        .await;
    let api = api(&server);
    for (change, why) in [
        (PasswordChange::new("N3w-secret"), "no current password"),
        (
            PasswordChange::new("N3w-secret").current(""),
            "empty current password",
        ),
        (
            PasswordChange::new("").current("0ld-secret"),
            "empty new password",
        ),
        (PasswordChange::new(""), "nothing at all"),
    ] {
        let err = api.change_password(&change).await.unwrap_err();
        assert!(err.is_invalid_input(), "{why}: {err:?}");
        assert!(!format!("{err} {err:?}").contains("N3w-secret"), "{why}: {err:?}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn update_me_sends_every_field_of_the_edit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/edit"))
        .and(query_param_is_missing("lang"))
        .and(header("authorization", "Bearer t0k"))
        .and(body_json(json!({
            "first_name": "Dana",
            "last_name": "Omarova",
            "email": "new.address@example.kz"
        })))
        .respond_with(json_body(FIXTURE_EDIT))
        .expect(1)
        .mount(&server)
        .await;
    let update = UserEdit::new()
        .first_name("Dana")
        .last_name("Omarova")
        .email("new.address@example.kz");
    let user = api(&server).update_me(&update).await.unwrap();
    assert_eq!(user.email.as_deref(), Some("new.address@example.kz"));
}

#[tokio::test]
async fn get_me_is_a_post_but_safe_to_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/get"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/get"))
        .respond_with(json_body(FIXTURE_GET))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
}

#[tokio::test]
async fn http_401_with_a_text_body_keeps_status_message_and_target() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_raw("Invalid token", "text/plain"))
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert!(err.is_auth());
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.service_message(), Some("Invalid token"));
    let http = err.http().unwrap();
    assert_eq!(http.content_type(), Some("text/plain"));
    assert_eq!(http.body_text(), "Invalid token");
    assert_eq!(
        err.to_string(),
        "POST /api/user/get: HTTP 401 Unauthorized: Invalid token"
    );
    assert!(!format!("{err:?}").contains("t0k"));
}

#[tokio::test]
async fn http_200_with_an_error_code_is_an_api_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(FIXTURE_CODE))
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    match err.kind() {
        ErrorKind::Api(e) => {
            assert_eq!(e.code(), 401);
            assert_eq!(e.http_status(), StatusCode::OK);
            assert_eq!(e.message(), Some("Токен недействителен"));
        }
        other => panic!("expected ErrorKind::Api, got {other:?}"),
    }
    assert!(err.is_auth());
    assert_eq!(err.service_message(), Some("Токен недействителен"));
    assert_eq!(
        err.to_string(),
        "POST /api/user/get: service error code 401: Токен недействителен (HTTP 200 OK)"
    );
}

#[tokio::test]
async fn a_wrongly_typed_field_names_its_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(FIXTURE_WRONG_TYPE))
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    match err.kind() {
        ErrorKind::Decode(d) => {
            assert_eq!(d.field_path(), "result.item.email");
            assert!(d.excerpt().unwrap().contains("\"email\": 42"));
        }
        other => panic!("expected ErrorKind::Decode, got {other:?}"),
    }
    assert!(err.to_string().contains("`result.item.email`"), "{err}");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"code": 200, "result": {"item": {"#, "application/json"),
        )
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("POST /api/user/get: could not decode"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_item_is_a_decode_error_naming_result_item() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(r#"{"code":200,"message":"OK"}"#))
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    match err.kind() {
        ErrorKind::Decode(d) => assert_eq!(d.field_path(), "result.item"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_html_502_page_is_an_http_error_with_its_title() {
    let server = MockServer::start().await;
    let page = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>";
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(page, "text/html"))
        .expect(3)
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert!(err.is_retryable());
    assert_eq!(err.service_message(), Some("502 Bad Gateway"));
    assert_eq!(err.attempts(), 3);
}

#[tokio::test]
async fn an_oversize_body_is_an_error_not_an_allocation() {
    let server = MockServer::start().await;
    let big = format!(
        r#"{{"code":200,"result":{{"item":{{"first_name":"{}"}}}}}}"#,
        "x".repeat(64 * 1024)
    );
    Mock::given(method("POST"))
        .respond_with(json_body(&big))
        .mount(&server)
        .await;
    let err = api_with(&server, |b| b.max_response_bytes(16 * 1024))
        .get_me()
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::BodyTooLarge(b) => {
            assert_eq!(b.limit(), 16 * 1024);
            assert_eq!(err.target().unwrap().path(), "/api/user/get");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stalled_server_times_out_within_the_configured_limit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(FIXTURE_GET).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = api_with(&server, |b| {
        b.attempt_timeout(Duration::from_millis(200))
            .retry_policy(RetryPolicy::none())
    })
    .get_me()
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    match err.kind() {
        ErrorKind::Timeout(t) => assert_eq!(t.phase(), TimeoutPhase::Attempt),
        other => panic!("{other:?}"),
    }
    assert!(err.is_timeout() && err.is_retryable());
}

#[tokio::test]
async fn the_total_timeout_bounds_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(FIXTURE_GET).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = api_with(&server, |b| {
        b.attempt_timeout(Duration::from_millis(300))
            .total_timeout(Duration::from_millis(500))
            .retry_policy(
                RetryPolicy::default()
                    .max_attempts(10)
                    .base_delay(Duration::from_millis(1)),
            )
    })
    .get_me()
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match err.kind() {
        ErrorKind::Timeout(t) => assert_eq!(t.phase(), TimeoutPhase::Total),
        other => panic!("{other:?}"),
    }
}

// --- the fake ---

#[tokio::test]
async fn fake_serves_the_seeded_user_and_applies_edits() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let api = fake.api().unwrap();
    let me = api.get_me().await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
    let edited = api
        .update_me(&UserEdit::new().last_name("Omarova").email("dana@example.kz"))
        .await
        .unwrap();
    assert_eq!(edited.first_name.as_deref(), Some("Aigerim"), "unset fields stay");
    assert_eq!(edited.last_name.as_deref(), Some("Omarova"));
    assert_eq!(fake.user().email.as_deref(), Some("dana@example.kz"));
    assert_eq!(api.get_me().await.unwrap(), edited);
}

#[tokio::test]
async fn fake_refuses_a_wrong_token_with_the_service_error() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let client = Client::builder()
        .base_url(fake.base_url())
        .bearer("wrong")
        .build()
        .unwrap();
    let err = client.novaconnect().get_me().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(err.is_auth());
    assert_eq!(
        err.service_message(),
        Some("Unauthorized: invalid or missing token")
    );
    assert_eq!(err.http().unwrap().service().code(), Some("401"));
}

#[tokio::test]
async fn fake_checks_the_old_password() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let api = fake.api().unwrap();
    let new = Password::new("N3w-secret");
    let err = api
        .change_password(&PasswordChange::new(new.clone()).current("not-it"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http(_)), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(err.service_code(), Some("400"));
    assert_eq!(err.service_message(), Some("The old password is wrong"));
    assert!(!err.is_auth());
    assert!(fake.password_is(&Password::new(PASSWORD)));

    api.change_password(&PasswordChange::new(new.clone()).current(PASSWORD))
        .await
        .unwrap();
    assert!(fake.password_is(&new));
}

#[tokio::test]
async fn fake_refuses_a_password_sent_to_user_edit() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let response = reqwest::Client::new()
        .post(fake.base_url().join("user/edit").unwrap())
        .bearer_auth(TOKEN)
        .json(&json!({"first_name": "X", "password": "sneaky"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], 400);
    assert!(body["message"].as_str().unwrap().contains("user/password"));
    assert!(fake.password_is(&Password::new(PASSWORD)));
    assert_eq!(
        fake.user().first_name.as_deref(),
        Some("Aigerim"),
        "nothing applied"
    );
}

#[tokio::test]
async fn fake_validates_the_email() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let err = fake
        .api()
        .unwrap()
        .update_me(&UserEdit::new().email("no-at-sign"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(err.service_code(), Some("400"));
    assert_eq!(err.service_message(), Some("email is not a valid email address"));
}

#[tokio::test]
async fn fake_stops_when_dropped() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let api = fake.api().unwrap();
    api.get_me().await.unwrap();
    drop(fake);
    tokio::task::yield_now().await;
    let client = api.client().with_retry_policy(RetryPolicy::none());
    let err = client.novaconnect().get_me().await.unwrap_err();
    assert!(err.is_transport() || err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn a_non_2xx_status_with_the_envelope_keeps_its_message_and_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/password"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"code": 400, "message": "Старый пароль неверен", "result": null}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .change_password(&PasswordChange::new("N3w-secret").current("0ld"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http(_)), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(err.service_message(), Some("Старый пароль неверен"));
    assert_eq!(err.service_code(), Some("400"));
}

#[test]
fn with_token_takes_the_base_url_and_the_token() {
    let api = NovaConnect::with_token(DEFAULT_BASE_URL, "t0k").unwrap();
    assert_eq!(api.client().base_url().as_str(), DEFAULT_BASE_URL);
    let api = NovaConnect::with_token("https://nova.example.kz/api", "t0k").unwrap();
    assert_eq!(api.client().base_url().as_str(), "https://nova.example.kz/api/");
    assert!(NovaConnect::with_token(DEFAULT_BASE_URL, "bad\r\ntoken").is_err());
}

#[test]
fn response_models_can_be_built_for_tests() {
    let mut user = User::default();
    user.first_name = Some("Dana".into());
    let envelope = Envelope::ok_item(user.clone());
    assert_eq!(envelope.code, Some(200));
    assert_eq!(envelope.into_item(), Some(user));
    let empty: Envelope<User> = Envelope::default();
    assert!(empty.code.is_none() && empty.into_item().is_none());
}

#[tokio::test]
async fn fake_seeding_and_any_credentials() {
    let fake = FakeNovaConnect::start().await.unwrap();
    let mut user = User::default();
    user.id = Some(UserId::Text("u-7".into()));
    user.email = Some("dana@example.kz".into());
    let held = fake.set_user(user.clone());
    assert_eq!(held, user);
    assert_eq!(fake.api().unwrap().get_me().await.unwrap(), user);
    fake.set_password(&Password::new("S3t-by-test"));
    assert!(fake.password_is(&Password::new("S3t-by-test")));
    let err = fake.api_with(Auth::none()).unwrap().get_me().await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.service_code(), Some("401"));
}
