//! The one error type from real calls: each kind with its detail, the method and path and
//! the attempts stored once, each class of configuration mistake with its kind; and what a
//! failure below HTTP says about where it went: the address a connection was tried to, and a
//! hint when `https` meets a server that speaks plain HTTP.

use super::*;
use userapi::{ConfigKind, Error, ErrorKind};

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

#[tokio::test]
async fn a_refused_connection_names_the_host_and_port() {
    let port = closed_port();
    let client = common::client_builder(format!("http://127.0.0.1:{port}/"))
        .auth(Auth::jwt(JWT))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("GET /users/me: could not connect to 127.0.0.1:{port}: ")),
        "{text}"
    );
}

#[tokio::test]
async fn a_dns_failure_names_the_host() {
    let client = common::client_builder("https://no-such-host.invalid:8123/")
        .auth(Auth::jwt(JWT))
        .retry_policy(RetryPolicy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    let text = err.to_string();
    assert!(err.is_transport(), "{text}");
    assert!(
        text.starts_with("GET /users/me: could not connect to no-such-host.invalid:8123: "),
        "{text}"
    );
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_it_may_speak_plain_http() {
    let server = user_server().await;
    let port = server.address().port();
    let client = common::client_builder(format!("https://127.0.0.1:{port}/"))
        .auth(Auth::jwt(JWT))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.rounds().get_me().await.unwrap_err();
    let text = err.to_string();
    assert!(err.is_transport(), "{text}");
    assert!(text.contains("the server may speak plain HTTP"), "{text}");
    assert!(requests(&server).await.is_empty());
}

/// `{"alg":"HS256"}` . `{"sub":"u1","exp":1}` (1970) . signature
const EXPIRED: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6MX0.c2ln";

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn rounds_of(server: &MockServer) -> userapi::rounds::Rounds {
    common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .rounds()
}

/// Asserts the target and the attempts every error carries, once, whatever its kind.
fn assert_where(err: &Error, target: Option<&str>, attempts: u32) {
    assert_eq!(err.target().map(|t| t.to_string()).as_deref(), target, "{err:?}");
    assert_eq!(err.attempts(), attempts, "{err:?}");
    // `Display` starts with the target when there is one.
    if let Some(t) = target {
        assert!(err.to_string().starts_with(&format!("{t}: ")), "{err}");
    }
}

#[tokio::test]
async fn every_kind_from_a_real_call_with_its_target_and_attempts() {
    // Http: a refusal, after the default policy's three attempts of a 503.
    let server = answering(json(503, r#"{"detail":"busy"}"#)).await;
    let err = common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let ErrorKind::Http(http) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(http.status(), 503);
    assert_where(&err, Some("GET /users/me"), 3);
    assert_eq!(
        err.to_string(),
        "GET /users/me: HTTP 503 Service Unavailable: busy"
    );

    // Api: a failure inside a success response.
    let server = answering(json(200, include_str!("../fixtures/novaconnect/error_code.json"))).await;
    let nova = common::client(&server, Auth::bearer("t0ken")).novaconnect();
    let err = nova.get_me().await.unwrap_err();
    let ErrorKind::Api(api) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(api.code(), 401);
    assert_where(&err, Some("POST /user/get"), 1);

    // Transport: refused, retried to three attempts.
    let port = closed_port();
    let err = common::client_builder(format!("http://127.0.0.1:{port}/"))
        .auth(Auth::jwt(JWT))
        .build()
        .unwrap()
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let ErrorKind::Transport(t) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportKind::Connect);
    assert_eq!(t.address(), Some(format!("127.0.0.1:{port}").as_str()));
    assert_where(&err, Some("GET /users/me"), 3);

    // Timeout.
    let server = answering(json(200, USER).set_delay(Duration::from_secs(5))).await;
    let err = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .attempt_timeout(Duration::from_millis(50))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let ErrorKind::Timeout(t) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(t.limit(), Duration::from_millis(50));
    assert_where(&err, Some("GET /users/me"), 1);

    // Decode.
    let server = answering(json(200, r#"{"id": []}"#)).await;
    let err = rounds_of(&server).get_me().await.unwrap_err();
    let ErrorKind::Decode(d) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(d.field_path(), "id");
    assert_where(&err, Some("GET /users/me"), 1);

    // Protocol: a login that answers an empty session.
    let server = answering(json(200, r#"{"id": ""}"#)).await;
    let metabase = common::client(&server, userapi::metabase::auth::session("s3ssion")).metabase();
    let err = metabase
        .login("a@b.io", &userapi::auth::Password::new("pass-w0rd"))
        .await
        .unwrap_err();
    let ErrorKind::Protocol(p) = err.kind() else {
        panic!("{err:?}")
    };
    assert!(!p.message().is_empty());
    assert_where(&err, Some("POST /api/session"), 1);

    // BodyTooLarge.
    let server = answering(json(200, USER)).await;
    let err = common::client_builder(server.uri())
        .auth(Auth::jwt(JWT))
        .max_response_bytes(8)
        .build()
        .unwrap()
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let ErrorKind::BodyTooLarge(b) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(b.limit(), 8);
    assert_where(&err, Some("GET /users/me"), 1);
    assert_eq!(
        err.to_string(),
        "GET /users/me: the response body is larger than the limit of 8 bytes"
    );

    // InvalidInput: nothing sent, no target.
    let before = requests(&server).await.len();
    let err = rounds_of(&server)
        .update_me(&userapi::rounds::UserUpdate::new())
        .await
        .unwrap_err();
    let ErrorKind::InvalidInput(i) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(i.operation(), "rounds::update_me");
    assert_where(&err, None, 0);
    assert!(
        err.to_string()
            .starts_with("invalid input to rounds::update_me: "),
        "{err}"
    );
    assert_eq!(requests(&server).await.len(), before, "nothing sent");

    // Config: refused by `build()`, no target.
    let err = Client::builder().base_url("not a url").build().unwrap_err();
    let ErrorKind::Config(c) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(c.kind(), ConfigKind::BaseUrl);
    assert_where(&err, None, 0);
    assert!(
        err.to_string().starts_with("invalid client configuration: "),
        "{err}"
    );

    // Auth: an expired JWT, found before sending.
    let err = common::client(&server, Auth::jwt(EXPIRED))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let ErrorKind::Auth(a) = err.kind() else {
        panic!("{err:?}")
    };
    assert!(!a.message().is_empty());
    assert!(err.is_auth());
    assert_where(&err, Some("GET /users/me"), 0);
    assert_eq!(err.to_string(), format!("GET /users/me: {}", a.message()));
}

/// Each class of configuration mistake has its kind.
#[test]
fn each_config_mistake_has_its_kind() {
    let kind = |built: userapi::Result<Client>| match built.map(|_| ()).unwrap_err().kind() {
        ErrorKind::Config(c) => c.kind(),
        other => panic!("not a config error: {other:?}"),
    };
    let base = || Client::builder().base_url("https://h.example/");
    for bad in [
        Client::builder(),
        Client::builder().base_url("not a url"),
        Client::builder().base_url("ftp://h.example/"),
        Client::builder().base_url("https://user:pw@h.example/"),
        Client::builder().base_url("http://h.example/").bearer("t0ken"),
    ] {
        assert_eq!(kind(bad.build()), ConfigKind::BaseUrl);
    }
    for bad in [base().bearer(""), base().bearer("a\nb"), base().bearer("a\u{7}b")] {
        assert_eq!(kind(bad.build()), ConfigKind::Credential);
    }
    for bad in [
        base().user_agent("a\nb"),
        base().default_header("bad name", "v"),
        base().default_header("x-ok", "a\nb"),
        base().default_header("Authorization", "Bearer x"),
    ] {
        assert_eq!(kind(bad.build()), ConfigKind::Header);
    }
    let client = base().build().unwrap();
    assert_eq!(kind(client.with_header("bad name", "v")), ConfigKind::Header);
    assert_eq!(kind(base().proxy("not a url").build()), ConfigKind::Proxy);
    assert_eq!(
        kind(base().proxy("ftp://proxy.example/").build()),
        ConfigKind::Proxy
    );
    for bad in [
        userapi::Certificate::from_pem(b"no certificate here").map(|_| ()),
        userapi::Certificate::from_der(b"not DER").map(|_| ()),
    ] {
        let err = bad.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config(c) if c.kind() == ConfigKind::Tls),
            "{err:?}"
        );
    }
}

/// One pointer: a `Result` of a small value stays small on the success path.
#[test]
fn an_error_is_one_pointer_wide() {
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    assert_eq!(
        std::mem::size_of::<userapi::Result<()>>(),
        std::mem::size_of::<usize>()
    );
}

/// A failing token provider's error is the `source` of the call's error.
#[tokio::test]
async fn an_auth_error_keeps_the_providers_error_as_its_source() {
    let server = answering(json(200, USER)).await;
    let err = common::client(&server, Auth::jwt(EXPIRED))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    // No provider here: no source, and none invented.
    assert!(std::error::Error::source(&err).is_none());
    // A provider that fails: its error is the source, the message says the rest.
    let auth = Auth::provider(|_| async { Err::<Secret, _>("vault unreachable".into()) });
    let failed = common::client(&server, auth).rounds().get_me().await.unwrap_err();
    assert!(matches!(failed.kind(), ErrorKind::Auth(_)), "{failed:?}");
    let source = std::error::Error::source(&failed).expect("the provider's error");
    assert_eq!(source.to_string(), "vault unreachable");
    // Debug names the kind and the target, and no credential.
    let debug = format!("{err:?}");
    assert!(debug.starts_with("Error { kind: Auth("), "{debug}");
    assert!(debug.contains("/users/me"), "{debug}");
    assert!(!debug.contains(EXPIRED), "{debug}");
}
