#![cfg(feature = "diadoc")]
//! Kontur Diadoc on the wire (wiremock) and against its fake.

mod common;

use std::time::Duration;

use common::text;
use serde_json::json;
use userapi::diadoc::fake::{CLIENT_ID, FakeDiadoc, LOGIN, OIDC_TOKEN, PASSWORD, TAKEN_LOGIN};
use userapi::diadoc::{Diadoc, FullName, UserToUpdate, is_login_taken};
use userapi::{Auth, Client, Error, RetryPolicy, Secret};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const USER: &str = include_str!("fixtures/diadoc/user_v2.json");
const UNREGISTERED: &str = include_str!("fixtures/diadoc/user_v2_unregistered.json");
const AUTH: &str = "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=tok-1";

fn api_with(server: &MockServer, auth: Auth) -> Diadoc {
    common::client(server, auth).diadoc()
}

fn api(server: &MockServer) -> Diadoc {
    api_with(server, Auth::diadoc("cid-1", Some(Secret::new("tok-1"))))
}

/// The whole `Authorization` value: wiremock's `header` matcher splits values on commas,
/// and DiadocAuth has one.
fn auth_is(expected: &'static str) -> impl Fn(&Request) -> bool {
    move |req: &Request| req.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected)
}

fn json(raw: &str) -> ResponseTemplate {
    common::body(200, raw, "application/json; charset=utf-8")
}

#[tokio::test]
async fn get_me_is_a_get_with_diadoc_auth_and_json_negotiation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .and(auth_is(AUTH))
        .and(header("accept", "application/json"))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.user_id, "d064f6ba-7b81-432d-a41d-93b23eebe579");
    assert_eq!(me.login.as_deref(), Some("login@kontur.ru"));
    let name = me.full_name.unwrap();
    assert_eq!(name.first_name.as_deref(), Some("NewFirstName"));
    assert_eq!(name.middle_name.as_deref(), Some("NewMiddleName"));
    assert_eq!(name.extra["Suffix"], "jr");
    assert_eq!(me.is_registered, Some(true));
    assert_eq!(me.extra["CreationTimestamp"], json!(636965170070000000u64));
    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].body.is_empty());
    assert!(requests[0].headers.get("content-type").is_none());
}

#[tokio::test]
async fn an_unregistered_user_with_null_login_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .respond_with(json(UNREGISTERED))
        .mount(&server)
        .await;
    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.is_registered, Some(false));
    assert_eq!(me.login, None);
    assert_eq!(me.full_name, None);
}

#[tokio::test]
async fn update_me_sends_only_the_patches_set_in_pascal_case() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/UpdateMyUser"))
        .and(auth_is(AUTH))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({
            "FullName": {"FullName": {"LastName": "NewLastName", "FirstName": "NewFirstName", "MiddleName": "NewMiddleName"}}
        })))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    let change = UserToUpdate::new()
        .full_name(FullName::new("NewLastName", "NewFirstName").middle_name("NewMiddleName"));
    let me = api(&server).update_me(&change).await.unwrap();
    assert_eq!(me.full_name.unwrap().last_name.as_deref(), Some("NewLastName"));
}

#[tokio::test]
async fn update_me_with_both_patches_matches_the_documented_example() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/UpdateMyUser"))
        .and(body_json(json!({
            "Login": {"Login": "newLogin@kontur.ru"},
            "FullName": {"FullName": {"FirstName": "NewFirstName", "LastName": "NewLastName"}}
        })))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    let change = UserToUpdate::new()
        .login("newLogin@kontur.ru")
        .full_name(FullName::new("NewLastName", "NewFirstName"));
    let me = api(&server).update_me(&change).await.unwrap();
    // The login shows the old value until the user confirms the new address.
    assert_eq!(me.login.as_deref(), Some("login@kontur.ru"));
}

#[tokio::test]
async fn invalid_changes_are_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(USER))
        .expect(0)
        .mount(&server)
        .await;
    let cases = [
        (UserToUpdate::new(), "Login or FullName"),
        (UserToUpdate::new().login(""), "email"),
        (UserToUpdate::new().login("not-an-email"), "email"),
        (UserToUpdate::new().login("a b@kontur.ru"), "email"),
        (
            UserToUpdate::new().full_name(FullName::new("", "Anna")),
            "LastName",
        ),
        (
            UserToUpdate::new().full_name(FullName::new("Petrova", " ")),
            "FirstName",
        ),
    ];
    for (change, words) in cases {
        let err = api(&server).update_me(&change).await.unwrap_err();
        match &err {
            Error::InvalidInput {
                operation, message, ..
            } => {
                assert_eq!(*operation, "diadoc::update_me");
                assert!(message.contains(words), "{message}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn update_me_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .update_me(&UserToUpdate::new().login("a@b.ru"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn get_me_is_retried_and_honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(text(503, "").insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(USER))
        .mount(&server)
        .await;
    assert!(api(&server).get_me().await.is_ok());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn authenticate_with_password_sends_login_password_and_uses_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .and(query_param("type", "password"))
        .and(header("authorization", "DiadocAuth ddauth_api_client_id=cid-1"))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_json(
            json!({"login": "user@example.ru", "password": "s3cret"}),
        ))
        .respond_with(text(200, "issued-token-42\n"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .and(auth_is(
            "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=issued-token-42",
        ))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let token = diadoc
        .authenticate_with_password("user@example.ru", &Secret::new("s3cret"))
        .await
        .unwrap();
    assert_eq!(token.expose(), "issued-token-42");
    assert_eq!(format!("{token:?} {token}"), "Secret(<redacted>) <redacted>");
    // Clones share the credentials.
    diadoc.client().clone().diadoc().get_me().await.unwrap();
}

#[tokio::test]
async fn authenticate_is_not_retried_and_keeps_the_text_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(401, "Wrong password provided for login user@example.ru"))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let err = diadoc
        .authenticate_with_password("user@example.ru", &Secret::new("bad-pass"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(
        err.service_message(),
        Some("Wrong password provided for login user@example.ru")
    );
    assert!(!format!("{err} {err:?}").contains("bad-pass"));
    assert!(matches!(
        diadoc.client().auth(),
        Auth::DiadocAuth { token: None, .. }
    ));
}

#[tokio::test]
async fn authenticate_needs_the_diadoc_scheme_and_a_token_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(200, ""))
        .mount(&server)
        .await;
    let bearer = api_with(&server, Auth::bearer("oidc"));
    let err = bearer
        .authenticate_with_password("a@b.ru", &Secret::new("p"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let err = diadoc
        .authenticate_with_password("a@b.ru", &Secret::new("p"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Decode(ref d) if d.excerpt().is_none()),
        "{err:?}"
    );
}

#[tokio::test]
async fn oidc_bearer_is_the_alternative() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer access-token"))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    api_with(&server, Auth::bearer("access-token"))
        .get_me()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_401_keeps_the_text_the_error_code_and_the_trace_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            text(401, "Invalid API client id")
                .insert_header("x-diadoc-errorcode", "Http.Auth")
                .insert_header("x-kontur-trace-id", "trace-abc"),
        )
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.service_message(), Some("Invalid API client id"));
    let http = err.http().unwrap();
    assert_eq!(http.service().code(), Some("Http.Auth"));
    assert_eq!(http.service().trace_id(), Some("trace-abc"));
    assert_eq!(http.header("x-kontur-trace-id"), Some("trace-abc"));
    let shown = err.to_string();
    assert!(
        shown.contains("GET /V2/GetMyUser") && shown.contains("Http.Auth"),
        "{shown}"
    );
    assert!(!shown.contains("tok-1"));
}

#[tokio::test]
async fn a_405_for_a_taken_login_is_recognisable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(405, "User with login taken@kontur.ru is already registered"))
        .mount(&server)
        .await;
    let err = api(&server)
        .update_me(&UserToUpdate::new().login("taken@kontur.ru"))
        .await
        .unwrap_err();
    assert!(is_login_taken(&err));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(405));
}

#[tokio::test]
async fn a_405_for_a_removed_method_is_not_a_taken_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(405, "Method Not Allowed"))
        .mount(&server)
        .await;
    let err = api(&server)
        .update_me(&UserToUpdate::new().login("a@kontur.ru"))
        .await
        .unwrap_err();
    assert!(!is_login_taken(&err));
    Mock::given(method("GET"))
        .respond_with(text(405, ""))
        .mount(&server)
        .await;
    assert!(!is_login_taken(&api(&server).get_me().await.unwrap_err()));
}

#[tokio::test]
async fn a_402_and_an_nginx_429_are_clear() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(text(402, "API subscription of the box has expired"))
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    assert!(!err.is_retryable());
    assert_eq!(
        err.service_message(),
        Some("API subscription of the box has expired")
    );

    let server = MockServer::start().await;
    let page =
        "<html><head><title>429 Too Many Requests</title></head><body><center>nginx</center></body></html>";
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_raw(page, "text/html")
                .insert_header("retry-after", "30"),
        )
        .mount(&server)
        .await;
    let api = Client::builder()
        .base_url(server.uri())
        .auth(Auth::diadoc("cid-1", Some(Secret::new("tok-1"))))
        .retry_policy(RetryPolicy::default().max_delay(Duration::from_secs(5)))
        .build()
        .unwrap()
        .diadoc();
    let err = api.get_me().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.is_retryable());
    assert_eq!(err.service_message(), Some("429 Too Many Requests"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    // 30 s is past the policy's 5 s max_delay: no early retry.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn dont_retry_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(text(503, "down").insert_header("x-kontur-dont-retry", "True"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).get_me().await.is_err());
}

#[tokio::test]
async fn an_empty_error_body_still_names_status_and_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let err = api_with(&server, Auth::bearer("x")).get_me().await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("GET /V2/GetMyUser") && shown.contains("500") && shown.contains("empty body"),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_authenticates_and_serves_the_user() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.unauthenticated().unwrap();
    let err = diadoc.get_me().await.unwrap_err();
    assert!(err.is_auth(), "no token yet: {err:?}");
    diadoc
        .authenticate_with_password(LOGIN, &Secret::new(PASSWORD))
        .await
        .unwrap();
    let me = diadoc.get_me().await.unwrap();
    assert_eq!(me.login.as_deref(), Some(LOGIN));
    assert_eq!(me.is_registered, Some(true));
}

#[tokio::test]
async fn fake_refuses_a_wrong_password_and_a_wrong_client_id_with_text() {
    let fake = FakeDiadoc::start().await.unwrap();
    let err = fake
        .unauthenticated()
        .unwrap()
        .authenticate_with_password(LOGIN, &Secret::new("nope"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert!(
        err.service_message()
            .unwrap()
            .starts_with("Wrong password provided for login")
    );

    let wrong = fake
        .api(Auth::diadoc("other-client", Some(fake.issue_token())))
        .unwrap();
    let err = wrong.get_me().await.unwrap_err();
    assert_eq!(err.service_message(), Some("Invalid API client id"));
    assert_eq!(err.http().unwrap().service().code(), Some("Http.Auth"));
    assert!(err.http().unwrap().service().trace_id().is_some());

    let stale = fake
        .api(Auth::diadoc(CLIENT_ID, Some(Secret::new("forged"))))
        .unwrap();
    assert!(stale.get_me().await.unwrap_err().is_auth());
}

#[tokio::test]
async fn fake_applies_a_name_at_once_and_a_login_after_confirmation() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.authenticated().unwrap();
    let after = diadoc
        .update_me(
            &UserToUpdate::new()
                .login("new@kontur.ru")
                .full_name(FullName::new("Ivanova", "Anna")),
        )
        .await
        .unwrap();
    assert_eq!(after.full_name.unwrap().last_name.as_deref(), Some("Ivanova"));
    assert_eq!(after.login.as_deref(), Some(LOGIN), "old login until confirmed");
    assert_eq!(fake.pending_login().as_deref(), Some("new@kontur.ru"));
    assert_eq!(diadoc.get_me().await.unwrap().login.as_deref(), Some(LOGIN));
    assert_eq!(fake.confirm_login().as_deref(), Some("new@kontur.ru"));
    assert_eq!(
        diadoc.get_me().await.unwrap().login.as_deref(),
        Some("new@kontur.ru")
    );
}

#[tokio::test]
async fn fake_gives_405_for_a_taken_login_and_400_for_an_empty_patch() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.authenticated().unwrap();
    let err = diadoc
        .update_me(&UserToUpdate::new().login(TAKEN_LOGIN))
        .await
        .unwrap_err();
    assert!(is_login_taken(&err), "{err:?}");
    assert_eq!(fake.pending_login(), None);

    // The SDK refuses an empty patch itself, so send one by hand to see the fake's answer.
    let response = reqwest::Client::new()
        .post(fake.base_url().join("UpdateMyUser").unwrap())
        .header(
            "authorization",
            format!(
                "DiadocAuth ddauth_api_client_id={CLIENT_ID}, ddauth_token={}",
                fake.issue_token().expose()
            ),
        )
        .header("accept", "application/json")
        .header("content-type", "application/json; charset=utf-8")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
}

#[tokio::test]
async fn fake_accepts_an_oidc_bearer_token() {
    let fake = FakeDiadoc::start().await.unwrap();
    let me = fake
        .api(Auth::bearer(OIDC_TOKEN))
        .unwrap()
        .get_me()
        .await
        .unwrap();
    assert_eq!(me.user_id, userapi::diadoc::fake::USER_ID);
}

#[tokio::test]
async fn fake_checks_the_method() {
    let fake = FakeDiadoc::start().await.unwrap();
    let response = reqwest::Client::new()
        .get(fake.base_url().join("UpdateMyUser").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

#[test]
fn requests_serialize_without_unset_fields() {
    let body = serde_json::to_value(UserToUpdate::new().login("a@b.ru")).unwrap();
    assert_eq!(body, json!({"Login": {"Login": "a@b.ru"}}));
}
