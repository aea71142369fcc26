//! The Diadoc user: reading it, and changing the name and login by patches.

use super::*;
use userapi::ErrorKind;

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
        match err.kind() {
            ErrorKind::InvalidInput(e) => {
                assert_eq!(e.operation(), "diadoc::update_me");
                assert!(e.message().contains(words), "{}", e.message());
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

#[test]
fn response_models_have_defaults_for_users_tests() {
    // `#[non_exhaustive]`: built from `Default`, then filled in.
    let mut b = DiadocBox::default();
    b.box_id = bid(LEGACY_BOX_ID);
    let mut org = Organization::default();
    org.org_id = "o".into();
    org.boxes.push(b);
    assert_eq!(
        org.boxes[0].id().as_str(),
        LEGACY_BOX_ID,
        "the legacy id when there is no GUID"
    );
    let mut employee = Employee::default();
    employee.user.user_id = "fccbb0a6-0700-4401-81a6-8a6a083e12e6".parse().unwrap();
    employee.permissions = Some(EmployeePermissions::default());
    assert_eq!(employee.permissions.unwrap().allows("SignDocuments"), None);
    // Only what is set is written.
    assert_eq!(
        serde_json::to_value(&org).unwrap(),
        json!({"OrgId": "o", "Boxes": [{"BoxId": LEGACY_BOX_ID}], "Departments": []})
    );
}

#[tokio::test]
async fn fake_authenticates_and_serves_the_user() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake
        .api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))
        .unwrap();
    let err = diadoc.get_me().await.unwrap_err();
    assert!(err.is_auth(), "no token yet: {err:?}");
    diadoc.login(LOGIN, &Password::new(PASSWORD)).await.unwrap();
    let me = diadoc.get_me().await.unwrap();
    assert_eq!(me.login.as_deref(), Some(LOGIN));
    assert_eq!(me.is_registered, Some(true));
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
async fn a_protobuf_answer_is_a_decode_error_naming_its_content_type() {
    // What a Diadoc that ignored `Accept: application/json` would send: protobuf bytes.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(b"\x0a\x24d064f6ba\x10\x01".to_vec(), "application/x-protobuf"),
        )
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    let ErrorKind::Decode(decode) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(decode.content_type(), Some("application/x-protobuf"));
    assert!(err.to_string().contains("application/x-protobuf"), "{err}");
}

#[tokio::test]
async fn the_sdk_sends_accept_json_on_every_call_to_the_fake() {
    let fake = FakeDiadoc::start().await.unwrap();
    let api = fake.api().unwrap();
    api.get_me().await.unwrap();
    api.get_my_organizations(true).await.unwrap();
    api.get_my_employee(&bid(BOX_ID)).await.unwrap();
    api.update_me(&UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna")))
        .await
        .unwrap();
    let log = fake.received_requests();
    assert_eq!(log.len(), 4);
    for r in &log {
        assert_eq!(
            r.header("accept"),
            Some("application/json"),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(r.status.map(|s| s.as_u16()), Some(200), "{} {}", r.method, r.path);
    }
}
