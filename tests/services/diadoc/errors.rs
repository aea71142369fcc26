//! Diadoc errors: the text, error code and trace id kept, a taken login told apart from a
//! removed method, and the "don't retry" header.

use super::*;

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
        .auth(userapi::diadoc::auth::diadoc_auth(
            "cid-1",
            Some(Token::new("tok-1")),
        ))
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
