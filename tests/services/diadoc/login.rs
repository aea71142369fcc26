//! Diadoc login: the DiadocAuth scheme, the token it yields, OIDC bearer tokens as the
//! alternative, and credentials that survive abandoned callers.

use super::*;
use userapi::ErrorKind;

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
    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let token = diadoc
        .login("user@example.ru", &Password::new("s3cret"))
        .await
        .unwrap();
    assert_eq!(token.expose(), "issued-token-42");
    assert_eq!(format!("{token:?} {token}"), "Token(<redacted>) <redacted>");
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
    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let err = diadoc
        .login("user@example.ru", &Password::new("bad-pass"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(
        err.service_message(),
        Some("Wrong password provided for login user@example.ru")
    );
    assert!(!format!("{err} {err:?}").contains("bad-pass"));
    assert_eq!(common::diadoc_token(diadoc.client()), Some(None));
}

#[tokio::test]
async fn login_needs_the_diadoc_scheme_and_a_token_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(200, ""))
        .mount(&server)
        .await;
    let bearer = api_with(&server, Auth::bearer("oidc"));
    let err = bearer.login("a@b.ru", &Password::new("p")).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let err = diadoc.login("a@b.ru", &Password::new("p")).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode(d) if d.excerpt().is_none()),
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
        .login("user@example.ru", &Password::new("s3cret"))
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
    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let token = diadoc.login("a@b.ru", &Password::new("p")).await.unwrap();
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
        let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
        let err = diadoc.login("a@b.ru", &Password::new("p")).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode(d) if d.excerpt().is_none()),
            "{body:?}: {err:?}"
        );
        assert!(!format!("{err} {err:?}").contains(body), "{err}");
        assert_eq!(common::diadoc_token(diadoc.client()), Some(None));
    }
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
async fn fake_refuses_a_wrong_password_and_a_wrong_client_id_with_text() {
    let fake = FakeDiadoc::start().await.unwrap();
    let err = fake
        .api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))
        .unwrap()
        .login(LOGIN, &Password::new("nope"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert!(
        err.service_message()
            .unwrap()
            .starts_with("Wrong password provided for login")
    );

    let wrong = fake
        .api_with(userapi::diadoc::auth::diadoc_auth(
            "other-client",
            Some(fake.issue_token()),
        ))
        .unwrap();
    let err = wrong.get_me().await.unwrap_err();
    assert_eq!(err.service_message(), Some("Invalid API client id"));
    assert_eq!(err.http().unwrap().service().code(), Some("Http.Auth"));
    assert!(err.http().unwrap().service().trace_id().is_some());

    let stale = fake
        .api_with(userapi::diadoc::auth::diadoc_auth(
            CLIENT_ID,
            Some(Token::new("forged")),
        ))
        .unwrap();
    assert!(stale.get_me().await.unwrap_err().is_auth());
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
async fn fake_logs_in_again_after_the_token_expired() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
    diadoc.get_me().await.unwrap();
    fake.expire_tokens();
    assert!(
        diadoc.get_me().await.unwrap_err().is_auth(),
        "the 24 hours are over"
    );
    diadoc.login(LOGIN, &Password::new(PASSWORD)).await.unwrap();
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
    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        diadoc.login("user@example.ru", &Password::new("s3cret")),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        common::diadoc_token(diadoc.client()),
        Some(Some("issued-token-42".to_owned())),
        "the token is lost: {:?}",
        diadoc.client().auth()
    );

    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let login = tokio::spawn({
        let diadoc = diadoc.clone();
        async move { diadoc.login("user@example.ru", &Password::new("s3cret")).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    diadoc
        .client()
        .set_auth(userapi::diadoc::auth::diadoc_auth(
            "cid-2",
            Some(Token::new("set-meanwhile")),
        ))
        .unwrap();
    login.await.unwrap().unwrap();
    assert_eq!(
        common::diadoc_token(diadoc.client()),
        Some(Some("set-meanwhile".to_owned())),
        "{:?}",
        diadoc.client().auth()
    );
}

#[tokio::test]
async fn login_sends_the_password_in_the_body_and_returns_a_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .and(query_param("type", "password"))
        .and(auth_is("DiadocAuth ddauth_api_client_id=cid-1"))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_json(
            json!({"login": "user@example.ru", "password": "s3cret"}),
        ))
        .respond_with(common::text(200, "tok-xyz"))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api_with(&server, userapi::diadoc::auth::diadoc_auth("cid-1", None));
    let token: Token = diadoc
        .login("user@example.ru", &Password::new("s3cret"))
        .await
        .unwrap();
    assert_eq!(token.expose(), "tok-xyz");
    assert_eq!(
        common::diadoc_token(diadoc.client()),
        Some(Some("tok-xyz".to_owned())),
        "installed on the client"
    );
}
