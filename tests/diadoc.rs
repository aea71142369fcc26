#![cfg(feature = "diadoc")]
//! Kontur Diadoc on the wire (wiremock) and against its fake.

mod common;

use std::time::Duration;

use common::text;
use serde_json::json;
use userapi::diadoc::Diadoc;
use userapi::diadoc::{
    DiadocBox, DocumentAccessLevel, Employee, EmployeePermissions, FullName, InvoiceFormatVersion,
    Organization, OrganizationType, ReadyForEpdStatus, Sociability, UserToUpdate, UserV2, is_login_taken,
};
use userapi::{Auth, Client, Error, RetryPolicy, Secret};
use userapi_fake::diadoc::{
    BOX_ID, CLIENT_ID, FakeDiadoc, LEGACY_BOX_ID, LOGIN, OIDC_TOKEN, ORG_ID, OTHER_BOX_ID, PASSWORD,
    TAKEN_LOGIN, USER_ID,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const USER: &str = include_str!("fixtures/diadoc/user_v2.json");
const UNREGISTERED: &str = include_str!("fixtures/diadoc/user_v2_unregistered.json");
const ORGANIZATIONS: &str = include_str!("fixtures/diadoc/organizations.json");
const EMPLOYEE: &str = include_str!("fixtures/diadoc/employee.json");
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
async fn login_sends_login_password_and_uses_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .and(query_param("type", "password"))
        .and(auth_is("DiadocAuth ddauth_api_client_id=cid-1"))
        .and(header("accept", "text/plain"))
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
        .login("user@example.ru", &Secret::new("s3cret"))
        .await
        .unwrap();
    assert_eq!(token.expose(), "issued-token-42");
    assert_eq!(format!("{token:?} {token}"), "Secret(<redacted>) <redacted>");
    // Clones share the credentials.
    diadoc.client().clone().diadoc().get_me().await.unwrap();
}

#[tokio::test]
async fn login_is_not_retried_and_keeps_the_text_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(401, "Wrong password provided for login user@example.ru"))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let err = diadoc
        .login("user@example.ru", &Secret::new("bad-pass"))
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
async fn login_needs_the_diadoc_scheme_and_a_token_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(200, ""))
        .mount(&server)
        .await;
    let bearer = api_with(&server, Auth::bearer("oidc"));
    let err = bearer.login("a@b.ru", &Secret::new("p")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let err = diadoc.login("a@b.ru", &Secret::new("p")).await.unwrap_err();
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
    let change = UserToUpdate::new().login("taken@kontur.ru");
    let err = api(&server).update_me(&change).await.unwrap_err();
    assert!(is_login_taken(&err, &change));
    // Without a login patch the same 405 is not about a login.
    let rename = UserToUpdate::new().full_name(FullName::new("Petrova", "Anna"));
    let err = api(&server).update_me(&rename).await.unwrap_err();
    assert!(!is_login_taken(&err, &rename));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(405));
}

#[tokio::test]
async fn a_405_for_a_removed_method_is_not_a_taken_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(405, "Method Not Allowed"))
        .mount(&server)
        .await;
    let change = UserToUpdate::new().login("a@kontur.ru");
    let err = api(&server).update_me(&change).await.unwrap_err();
    assert!(!is_login_taken(&err, &change));
    Mock::given(method("GET"))
        .respond_with(text(405, "User with login a@kontur.ru is already registered"))
        .mount(&server)
        .await;
    assert!(!is_login_taken(
        &api(&server).get_me().await.unwrap_err(),
        &change
    ));
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
        .respond_with(text(503, "down").insert_header("x-kontur-dont-retry", " true "))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert!(err.http().unwrap().dont_retry(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), 1);
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

#[tokio::test]
async fn login_sends_only_the_client_id_even_while_holding_an_old_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .and(auth_is("DiadocAuth ddauth_api_client_id=cid-1"))
        .respond_with(text(200, "fresh-token=="))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .and(auth_is(
            "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=fresh-token==",
        ))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    // `api` holds `tok-1`, standing for a token whose 24 hours are over.
    let diadoc = api(&server);
    diadoc
        .login("user@example.ru", &Secret::new("s3cret"))
        .await
        .unwrap();
    diadoc.get_me().await.unwrap();
    let sent = server.received_requests().await.unwrap();
    let auth = sent[0].headers.get("authorization").unwrap().to_str().unwrap();
    assert!(!auth.contains("tok-1"), "{auth}");
}

#[tokio::test]
async fn login_reads_a_token_sent_as_a_json_string() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .respond_with(json("\"json-token/42==\"\n"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(auth_is(
            "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=json-token/42==",
        ))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let token = diadoc.login("a@b.ru", &Secret::new("p")).await.unwrap();
    assert_eq!(token.expose(), "json-token/42==");
    diadoc.get_me().await.unwrap();
}

#[tokio::test]
async fn login_refuses_an_answer_that_is_not_one_token_and_keeps_the_credentials() {
    for body in [
        "two words",
        "tok,ddauth_api_client_id=evil",
        "\"unterminated",
        "a=b",
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(text(200, body))
            .mount(&server)
            .await;
        let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
        let err = diadoc.login("a@b.ru", &Secret::new("p")).await.unwrap_err();
        assert!(
            matches!(err, Error::Decode(ref d) if d.excerpt().is_none()),
            "{body:?}: {err:?}"
        );
        assert!(!format!("{err} {err:?}").contains(body), "{err}");
        assert!(matches!(
            diadoc.client().auth(),
            Auth::DiadocAuth { token: None, .. }
        ));
    }
}

#[tokio::test]
async fn a_405_that_names_the_method_or_says_nothing_is_not_a_taken_login() {
    let bodies = [
        ("", "text/plain"),
        ("   ", "text/plain"),
        (
            "The requested resource does not support http method 'POST'.",
            "text/plain",
        ),
        (
            r#"{"Message":"The requested resource does not support http method 'POST'."}"#,
            "application/json",
        ),
        (
            "The HTTP verb POST used to access path '/UpdateMyUser' is not allowed.",
            "text/html",
        ),
        (
            "<html><head><title>405 Not Allowed</title></head><body>nginx</body></html>",
            "text/html",
        ),
        ("POST", "text/plain"),
    ];
    let change = UserToUpdate::new().login("post@kontur.ru");
    for (body, content_type) in bodies {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/UpdateMyUser"))
            .respond_with(common::body(405, body, content_type))
            .expect(1)
            .mount(&server)
            .await;
        let err = api(&server).update_me(&change).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(405));
        assert!(!is_login_taken(&err, &change), "{body:?}");
    }
    // A login that happens to spell the method is still a taken login.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(405, "User with login POST@kontur.ru is already registered"))
        .mount(&server)
        .await;
    let change = UserToUpdate::new().login("POST@kontur.ru");
    let err = api(&server).update_me(&change).await.unwrap_err();
    assert!(is_login_taken(&err, &change));
}

#[tokio::test]
async fn with_token_sends_an_oidc_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .and(auth_is("Bearer oidc-access"))
        .respond_with(json(USER))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = Diadoc::with_token(server.uri(), "oidc-access").unwrap();
    assert_eq!(diadoc.get_me().await.unwrap().user_id, USER_ID);
}

#[tokio::test]
async fn get_my_organizations_asks_not_to_register_and_decodes_every_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetMyOrganizations"))
        .and(auth_is(AUTH))
        .and(header("accept", "application/json"))
        .respond_with(json(ORGANIZATIONS))
        .expect(1)
        .mount(&server)
        .await;
    let list = api(&server).get_my_organizations(false).await.unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(sent.url.query(), Some("autoRegister=false"));
    assert!(sent.body.is_empty());
    assert!(sent.headers.get("content-type").is_none());

    assert_eq!(list.organizations.len(), 2);
    let org = &list.organizations[0];
    assert_eq!(org.org_id, ORG_ID);
    assert_eq!(org.org_id_guid.as_deref(), Some(ORG_ID));
    assert_eq!(org.inn.as_deref(), Some("6671234567"));
    assert_eq!(org.short_name.as_deref(), Some("ООО \"Ромашка\""));
    assert_eq!(org.joined_diadoc_treaty, Some(true));
    assert_eq!(org.is_employee, Some(true));
    assert_eq!(org.sociability, Some(Sociability::AllOrganizations));
    assert_eq!(org.organization_type, Some(OrganizationType::Juridical));
    assert_eq!(org.ready_for_epd_status, Some(ReadyForEpdStatus::NotReady));
    let address = org.address.as_ref().unwrap().russian_address.as_ref().unwrap();
    assert_eq!(address.city.as_deref(), Some("Екатеринбург"));
    let b = &org.boxes[0];
    assert_eq!(b.id(), BOX_ID);
    assert_eq!(b.box_id, LEGACY_BOX_ID);
    assert_eq!(b.invoice_format_version, Some(InvoiceFormatVersion::V5_02));
    assert!(org.departments.is_empty());

    // The protocol's numbers, null lists, unknown values and fields added later.
    let person = &list.organizations[1];
    assert_eq!(person.kpp.as_deref(), Some(""));
    assert_eq!(person.sociability, Some(Sociability::CounteragentsOnly));
    assert_eq!(
        person.organization_type,
        Some(OrganizationType::Unknown("7".into()))
    );
    assert_eq!(person.ready_for_epd_status, None);
    assert_eq!(
        person.boxes[0].invoice_format_version,
        Some(InvoiceFormatVersion::V5_01)
    );
    assert!(person.departments.is_empty());
    assert_eq!(person.extra["Comment"], "");
    assert!(person.extra.contains_key("DisconnectionFromOperatorDate"));
}

#[tokio::test]
async fn get_my_organizations_registers_only_when_asked_and_then_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetMyOrganizations"))
        .respond_with(text(503, "busy"))
        .mount(&server)
        .await;
    let diadoc = api(&server);
    diadoc.get_my_organizations(true).await.unwrap_err();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1, "a registering call is never repeated");
    assert_eq!(sent[0].url.query(), Some("autoRegister=true"));

    diadoc.get_my_organizations(false).await.unwrap_err();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(
        sent.len(),
        4,
        "the read is retried by the default policy (3 attempts)"
    );
    assert!(
        sent[1..]
            .iter()
            .all(|r| r.url.query() == Some("autoRegister=false"))
    );
}

#[tokio::test]
async fn get_my_organizations_keeps_the_409_for_too_many_registrations() {
    let server = MockServer::start().await;
    let words = "Too many registrations today. There were 3 attempts, but max allowed per day is 3";
    Mock::given(method("GET"))
        .respond_with(text(409, words))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).get_my_organizations(true).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.service_message(), Some(words));
}

#[tokio::test]
async fn get_my_employee_sends_the_box_id_and_decodes_the_employee() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetMyEmployee"))
        .and(query_param("boxId", LEGACY_BOX_ID))
        .and(auth_is(AUTH))
        .and(header("accept", "application/json"))
        .respond_with(json(EMPLOYEE))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_my_employee(LEGACY_BOX_ID).await.unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        sent.url.query(),
        Some("boxId=9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6%40diadoc.ru")
    );
    assert_eq!(me.user.user_id, "fccbb0a6-0700-4401-81a6-8a6a083e12e6");
    assert_eq!(me.user.full_name.unwrap().first_name.as_deref(), Some("Иван"));
    assert_eq!(me.position.as_deref(), Some("Бухгалтер"));
    assert_eq!(me.can_be_invited_for_chat, Some(true));
    let perms = me.permissions.unwrap();
    assert_eq!(perms.is_administrator, Some(false));
    assert_eq!(
        perms.document_access_level,
        Some(DocumentAccessLevel::AllDocuments)
    );
    assert_eq!(
        perms.user_department_id.as_deref(),
        Some(userapi::diadoc::HEAD_DEPARTMENT)
    );
    assert_eq!(perms.allows("SignDocuments"), Some(true));
    assert_eq!(perms.allows("AddResolutions"), Some(false));
    assert_eq!(perms.allows("NoSuchAction"), None);
    assert!(perms.selected_department_ids.is_empty() && perms.authorization_permission.is_none());
    let created = me.creation_timestamp.unwrap();
    assert_eq!(
        created.date_time.as_ref().map(|t| t.as_str()),
        Some("2018-11-01T05:40:17.6953926Z")
    );
    let at = created.to_system_time().unwrap();
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert_eq!(since.as_secs(), 1_541_050_817);
    assert_eq!(since.subsec_nanos(), 695_392_600);
}

#[tokio::test]
async fn get_my_employee_refuses_an_empty_box_and_keeps_402_and_403() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("boxId", "paid-up"))
        .respond_with(text(402, "Доступ запрещён. Необходима оплата тарифа АПИ"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("boxId", "elsewhere"))
        .respond_with(text(403, "Access to Box [elsewhere] is denied"))
        .mount(&server)
        .await;
    let diadoc = api(&server);
    for empty in ["", "  "] {
        let err = diadoc.get_my_employee(empty).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    let err = diadoc.get_my_employee("paid-up").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    assert!(!err.is_retryable());
    let err = diadoc.get_my_employee("elsewhere").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(err.service_message(), Some("Access to Box [elsewhere] is denied"));
}

#[test]
fn response_models_have_defaults_for_users_tests() {
    // `#[non_exhaustive]`: built from `Default`, then filled in.
    let mut b = DiadocBox::default();
    b.box_id = "b@diadoc.ru".into();
    let mut org = Organization::default();
    org.org_id = "o".into();
    org.boxes.push(b);
    assert_eq!(
        org.boxes[0].id(),
        "b@diadoc.ru",
        "the legacy id when there is no GUID"
    );
    let mut employee = Employee::default();
    employee.user.user_id = "u".into();
    employee.permissions = Some(EmployeePermissions::default());
    assert_eq!(employee.permissions.unwrap().allows("SignDocuments"), None);
    // Only what is set is written.
    assert_eq!(
        serde_json::to_value(&org).unwrap(),
        json!({"OrgId": "o", "Boxes": [{"BoxId": "b@diadoc.ru"}], "Departments": []})
    );
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_authenticates_and_serves_the_user() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api_with(Auth::diadoc(CLIENT_ID, None)).unwrap();
    let err = diadoc.get_me().await.unwrap_err();
    assert!(err.is_auth(), "no token yet: {err:?}");
    diadoc.login(LOGIN, &Secret::new(PASSWORD)).await.unwrap();
    let me = diadoc.get_me().await.unwrap();
    assert_eq!(me.login.as_deref(), Some(LOGIN));
    assert_eq!(me.is_registered, Some(true));
}

#[tokio::test]
async fn fake_refuses_a_wrong_password_and_a_wrong_client_id_with_text() {
    let fake = FakeDiadoc::start().await.unwrap();
    let err = fake
        .api_with(Auth::diadoc(CLIENT_ID, None))
        .unwrap()
        .login(LOGIN, &Secret::new("nope"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert!(
        err.service_message()
            .unwrap()
            .starts_with("Wrong password provided for login")
    );

    let wrong = fake
        .api_with(Auth::diadoc("other-client", Some(fake.issue_token())))
        .unwrap();
    let err = wrong.get_me().await.unwrap_err();
    assert_eq!(err.service_message(), Some("Invalid API client id"));
    assert_eq!(err.http().unwrap().service().code(), Some("Http.Auth"));
    assert!(err.http().unwrap().service().trace_id().is_some());

    let stale = fake
        .api_with(Auth::diadoc(CLIENT_ID, Some(Secret::new("forged"))))
        .unwrap();
    assert!(stale.get_me().await.unwrap_err().is_auth());
}

#[tokio::test]
async fn fake_applies_a_name_at_once_and_a_login_after_confirmation() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
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
    let diadoc = fake.api().unwrap();
    let change = UserToUpdate::new().login(TAKEN_LOGIN);
    let err = diadoc.update_me(&change).await.unwrap_err();
    assert!(is_login_taken(&err, &change), "{err:?}");
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
        .api_with(Auth::bearer(OIDC_TOKEN))
        .unwrap()
        .get_me()
        .await
        .unwrap();
    assert_eq!(me.user_id, USER_ID);
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

#[tokio::test]
async fn fake_logs_in_again_after_the_token_expired() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
    diadoc.get_me().await.unwrap();
    fake.expire_tokens();
    assert!(
        diadoc.get_me().await.unwrap_err().is_auth(),
        "the 24 hours are over"
    );
    diadoc.login(LOGIN, &Secret::new(PASSWORD)).await.unwrap();
    assert_eq!(diadoc.get_me().await.unwrap().user_id, USER_ID);
}

#[tokio::test]
async fn fake_refuses_a_token_on_authenticate_even_a_live_one() {
    let fake = FakeDiadoc::start().await.unwrap();
    let send = |authorization: String| {
        reqwest::Client::new()
            .post(fake.base_url().join("V3/Authenticate?type=password").unwrap())
            .header("authorization", authorization)
            .header("content-type", "application/json; charset=utf-8")
            .body(json!({"login": LOGIN, "password": PASSWORD}).to_string())
            .send()
    };
    let live = fake.issue_token();
    let response = send(format!(
        "DiadocAuth ddauth_api_client_id={CLIENT_ID},ddauth_token={}",
        live.expose()
    ))
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["x-diadoc-errorcode"], "Http.Auth");
    let response = send(format!("DiadocAuth ddauth_api_client_id={CLIENT_ID}"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(!response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn fake_lists_the_callers_organizations_and_never_registers() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
    let list = diadoc.get_my_organizations(false).await.unwrap();
    assert_eq!(list.organizations.len(), 1, "only where the user is an employee");
    let org = &list.organizations[0];
    assert_eq!(org.org_id, ORG_ID);
    assert_eq!(org.is_employee, Some(true));
    assert_eq!(org.boxes[0].id(), BOX_ID);
    assert_eq!(org.boxes[0].box_id, LEGACY_BOX_ID);
    assert_eq!(fake.registration_requests(), 0);

    let again = diadoc.get_my_organizations(true).await.unwrap();
    assert_eq!(again, list, "a password user is never registered anywhere");
    assert_eq!(fake.registration_requests(), 1);
    // Leaving the parameter out is asking for registration too.
    let _: serde_json::Value = diadoc
        .request(userapi::Method::GET, &["GetMyOrganizations"])
        .send()
        .await
        .unwrap();
    assert_eq!(fake.registration_requests(), 2);
    let err = diadoc
        .request(userapi::Method::GET, &["GetMyOrganizations"])
        .query("autoRegister", "maybe")
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn fake_shows_the_caller_as_an_employee_of_its_box_only() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
    for id in [BOX_ID, LEGACY_BOX_ID] {
        let me = diadoc.get_my_employee(id).await.unwrap();
        assert_eq!(me.user, fake.user());
        assert_eq!(me.position.as_deref(), Some("Бухгалтер"));
        let perms = me.permissions.unwrap();
        assert_eq!(perms.is_administrator, Some(false));
        assert_eq!(perms.allows("SignDocuments"), Some(true));
    }
    let err = diadoc.get_my_employee(OTHER_BOX_ID).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        err.service_message(),
        Some(format!("Access to Box [{OTHER_BOX_ID}] is denied").as_str())
    );
    let err = diadoc.get_my_employee("not-a-box").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    // The employee record shows the user as they are now.
    diadoc
        .update_me(&UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna")))
        .await
        .unwrap();
    let me = diadoc.get_my_employee(BOX_ID).await.unwrap();
    assert_eq!(me.user.full_name.unwrap().last_name.as_deref(), Some("Ivanova"));
}

#[tokio::test]
async fn fake_seeds_users_organizations_and_employees_from_the_models() {
    let fake = FakeDiadoc::start().await.unwrap();
    let password = Secret::new("N3w-user-pass");
    let mut user = UserV2::default();
    user.login = Some("new.user@kontur.ru".into());
    user.full_name = Some(FullName::new("Orlova", "Vera"));
    user.is_registered = Some(true);
    let user = fake.add_user(user, &password);
    assert!(!user.user_id.is_empty(), "an id is given");
    let mut b = DiadocBox::default();
    b.title = Some("Новая".into());
    let mut org = Organization::default();
    org.inn = Some("6600000001".into());
    org.full_name = Some("ООО \"Новая\"".into());
    org.boxes.push(b);
    let org = fake.add_organization(org);
    let box_id = org.boxes[0].id().to_owned();
    assert!(org.boxes[0].box_id.ends_with("@diadoc.ru"));
    let mut employee = Employee::default();
    employee.user.user_id = user.user_id.clone();
    employee.position = Some("Юрист".into());
    let added = fake.add_employee(&box_id, employee);
    assert_eq!(added.user, user, "the stored user fills the record");

    let diadoc = fake.api_with(Auth::diadoc(CLIENT_ID, None)).unwrap();
    diadoc.login("new.user@kontur.ru", &password).await.unwrap();
    let list = diadoc.get_my_organizations(false).await.unwrap();
    assert_eq!(list.organizations.len(), 1);
    assert_eq!(list.organizations[0].org_id, org.org_id);
    let me = diadoc.get_my_employee(&box_id).await.unwrap();
    assert_eq!(me.user.user_id, user.user_id);
    assert_eq!(me.position.as_deref(), Some("Юрист"));
    assert!(
        diadoc
            .get_my_employee(BOX_ID)
            .await
            .unwrap_err()
            .status()
            .is_some()
    );

    let token = fake.issue_token_for(&user.user_id).unwrap();
    let other = fake.api_with(Auth::diadoc(CLIENT_ID, Some(token))).unwrap();
    assert_eq!(
        other.get_me().await.unwrap().login.as_deref(),
        Some("new.user@kontur.ru")
    );
    assert!(fake.issue_token_for("no-such-user").is_none());
}

/// A login the server answered installs its token even when the caller stopped waiting; a
/// login whose answer comes after the credentials changed does not overwrite them.
#[tokio::test]
async fn login_survives_an_abandoned_caller_and_never_overwrites_newer_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .respond_with(text(200, "issued-token-42").set_delay(Duration::from_millis(200)))
        .mount(&server)
        .await;
    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        diadoc.login("user@example.ru", &Secret::new("s3cret")),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    tokio::time::sleep(Duration::from_millis(400)).await;
    match diadoc.client().auth() {
        Auth::DiadocAuth { token: Some(t), .. } => assert_eq!(t.expose(), "issued-token-42"),
        other => panic!("the token is lost: {other:?}"),
    }

    let diadoc = api_with(&server, Auth::diadoc("cid-1", None));
    let login = tokio::spawn({
        let diadoc = diadoc.clone();
        async move { diadoc.login("user@example.ru", &Secret::new("s3cret")).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    diadoc
        .client()
        .set_auth(Auth::diadoc("cid-2", Some(Secret::new("set-meanwhile"))))
        .unwrap();
    login.await.unwrap().unwrap();
    match diadoc.client().auth() {
        Auth::DiadocAuth { token: Some(t), .. } => assert_eq!(t.expose(), "set-meanwhile"),
        other => panic!("{other:?}"),
    }
}
