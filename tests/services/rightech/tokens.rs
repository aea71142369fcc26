//! Rightech tokens: the raw answer kept and redacted, and tokens the fake then accepts.

use super::*;

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
    assert!(err.is_decode());
    assert!(!format!("{err} {err:?}").contains("secret"));
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
