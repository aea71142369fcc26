//! Redirects: unfollowed ones say what happened; within the origin they are followed with the
//! method HTTP says; to another origin they never carry credentials.

use super::*;
use crate::support::raw::{Action, RawServer as FaultServer, ok, response};
use crate::support::services::NOVA_OK;

/// A 3xx that is not followed says what it was.
#[tokio::test]
async fn unfollowed_redirects_say_what_happened() {
    let cases: [(u16, Option<&str>, &str); 4] = [
        (302, None, "302 Found redirect without a Location header"),
        (304, None, "304 Not Modified, but the request was not conditional"),
        (
            307,
            Some("https://elsewhere.example/users/me"),
            "redirect to another origin (https://elsewhere.example) not followed",
        ),
        (
            300,
            Some("/a"),
            "300 Multiple Choices response: redirects of this kind are not followed",
        ),
    ];
    for (status, location, want) in cases {
        let server = MockServer::start().await;
        let mut response = ResponseTemplate::new(status);
        if let Some(l) = location {
            response = response.insert_header("location", l);
        }
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        let err = common::client(&server, Auth::jwt(JWT))
            .rounds()
            .get_me()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(err.to_string().contains(want), "{status}: {err}");
        assert_eq!(requests(&server).await.len(), 1);
    }
}

/// A `reqwest::ClientBuilder` of the user's, left with reqwest's default redirect policy
/// (follow up to 10, anywhere), still gets the pipeline's same-origin rule: neither the key
/// nor a login's password reaches another origin.
#[tokio::test]
async fn a_users_reqwest_builder_keeps_the_same_origin_rule() {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(200, r#"{"id": "stolen"}"#))
        .mount(&elsewhere)
        .await;
    let home = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/api/user/current", elsewhere.uri())),
        )
        .mount(&home)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{}/api/session", elsewhere.uri())),
        )
        .mount(&home)
        .await;
    let client = Client::builder()
        .base_url(home.uri())
        .auth(userapi::metabase::auth::api_key("mb_key"))
        .http_client(reqwest::Client::builder())
        .build()
        .unwrap();
    let err = client.metabase().get_me().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{err:?}");
    let anonymous = Client::builder()
        .base_url(home.uri())
        .http_client(reqwest::Client::builder())
        .build()
        .unwrap();
    let err = anonymous
        .metabase()
        .login("ada@example.com", &userapi::auth::Password::new("s3cret-Pass"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307), "{err:?}");
    assert_eq!(
        requests(&elsewhere).await.len(),
        0,
        "nothing reached the other origin"
    );
    assert_eq!(requests(&home).await.len(), 2);
}

/// 303, and 301/302 after a POST, continue as a GET without the body; 307 and 308 repeat the
/// request as it was, body and credentials included.
#[tokio::test]
async fn same_origin_redirects_keep_or_change_the_method_as_http_says() {
    for (status, method_after, body_after) in [
        (301, "GET", false),
        (302, "GET", false),
        (303, "GET", false),
        (307, "POST", true),
        (308, "POST", true),
    ] {
        let server = MockServer::start().await;
        Mock::given(path("/old"))
            .respond_with(ResponseTemplate::new(status).insert_header("location", "/new"))
            .mount(&server)
            .await;
        Mock::given(path("/new"))
            .respond_with(json(200, r#"{"ok": true}"#))
            .mount(&server)
            .await;
        let client = common::client(&server, userapi::metabase::auth::api_key("mb_key"));
        let ok: serde_json::Value = client
            .request(Method::POST, &["old"])
            .json(&serde_json::json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(ok["ok"], true);
        let seen = requests(&server).await;
        assert_eq!(seen.len(), 2, "{status}");
        assert_eq!(seen[1].method.as_str(), method_after, "{status}");
        assert_eq!(!seen[1].body.is_empty(), body_after, "{status}");
        assert_eq!(
            seen[1].headers.get("content-type").is_some(),
            body_after,
            "{status}"
        );
        assert_eq!(
            seen[1].headers["x-api-key"], "mb_key",
            "{status}: same origin keeps credentials"
        );
    }

    // A GET stays a GET after a 303.
    let server = MockServer::start().await;
    Mock::given(path("/users/me"))
        .respond_with(ResponseTemplate::new(303).insert_header("location", "/users/other"))
        .mount(&server)
        .await;
    Mock::given(path("/users/other"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap();
    assert_eq!(requests(&server).await[1].method.as_str(), "GET");
}

/// A redirect loop within the origin ends after 5 redirects with the 3xx itself.
#[tokio::test]
async fn a_redirect_loop_ends_after_five() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/users/me"))
        .mount(&server)
        .await;
    let err = common::client(&server, Auth::jwt(JWT))
        .with_retry_policy(RetryPolicy::none())
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
    assert_eq!(requests(&server).await.len(), 6, "the request and 5 redirects");
    assert_eq!(err.attempts(), 1, "redirects are one attempt");
}

/// Every credential header, for every scheme, stays home when the server redirects to
/// another origin (another loopback port): the second server must see nothing at all.
#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn redirects_never_carry_credentials_to_another_origin() {
    let schemes: Vec<(&str, Auth)> = vec![
        ("bearer", Auth::bearer("tok-bearer-123")),
        ("jwt", Auth::jwt("aaa.bbb.ccc")),
        (
            "diadoc",
            userapi::diadoc::auth::diadoc_auth("client-id-1", Some("tok-diadoc-123".into())),
        ),
        ("metabase session", userapi::metabase::auth::session("sess-123")),
        ("metabase api key", userapi::metabase::auth::api_key("mb_key_123")),
    ];
    for (name, auth) in schemes {
        for status in [
            "301 Moved Permanently",
            "302 Found",
            "303 See Other",
            "307 Temporary Redirect",
            "308 Permanent Redirect",
        ] {
            let other = FaultServer::start(Arc::new(|_| ok("{}"))).await;
            let location = other.url("/collect");
            let first = FaultServer::start(Arc::new(move |_| {
                Action::Send(response(
                    status,
                    "text/plain",
                    b"",
                    &[("Location", location.clone())],
                ))
            }))
            .await;
            let client = Client::builder()
                .base_url(first.url("/"))
                .auth(auth.clone())
                .retry_policy(RetryPolicy::none())
                .build()
                .unwrap();
            let result = client.novaconnect().get_me().await;
            assert_eq!(
                other.hits(),
                0,
                "{name}, {status}: the other origin got {:?}",
                other.seen()
            );
            let e = result.expect_err("a cross-origin redirect is an error");
            assert_eq!(
                e.status().map(|s| s.as_u16()),
                status[..3].parse().ok(),
                "{name}: {e}"
            );
            assert_eq!(first.hits(), 1);
        }
    }
}

/// A redirect within the same origin is followed, credentials included.
#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn same_origin_redirects_are_followed() {
    let port = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&port);
    let server = FaultServer::start(Arc::new(move |n| match n {
        0 => {
            let location = format!("http://127.0.0.1:{}/moved", p.load(Ordering::SeqCst));
            Action::Send(response(
                "307 Temporary Redirect",
                "text/plain",
                b"",
                &[("Location", location)],
            ))
        }
        _ => ok(NOVA_OK),
    }))
    .await;
    port.store(server.port as usize, Ordering::SeqCst);
    let client = Client::builder()
        .base_url(server.url("/"))
        .auth(userapi::metabase::auth::session("sess-123"))
        .build()
        .unwrap();
    client.novaconnect().get_me().await.expect("followed");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].head.starts_with("POST /moved "), "{}", seen[1].head);
    assert_eq!(seen[1].header("x-metabase-session").as_deref(), Some("sess-123"));
}
