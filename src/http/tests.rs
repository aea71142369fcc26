use super::*;
use crate::client::Client;
use std::time::Duration;

use reqwest::Method;

fn client() -> Client {
    Client::builder()
        .base_url("https://h.example/api")
        .build()
        .unwrap()
}

#[test]
fn ids_are_encoded_one_by_one() {
    let c = client();
    let call = c
        .call(&GENERIC, "t", Method::GET, "users/{id}", &["a/b?c#d e"])
        .unwrap();
    assert_eq!(call.url.as_str(), "https://h.example/api/users/a%2Fb%3Fc%23d%20e");
    assert_eq!(call.target.path(), "/api/users/a%2Fb%3Fc%23d%20e");
    assert_eq!(call.target.route(), "/api/users/{id}");
    let call = c
        .call(&GENERIC, "t", Method::GET, "users/{id}", &["..%2Fadmin"])
        .unwrap();
    assert_eq!(call.url.path(), "/api/users/..%252Fadmin");
    for bad in ["..", ".", ""] {
        let err = c
            .call(&GENERIC, "t", Method::GET, "users/{id}", &[bad])
            .err()
            .unwrap();
        assert!(err.is_invalid_input(), "{bad:?}");
    }
}

#[test]
fn control_characters_never_vanish_from_a_segment() {
    let c = client();
    for (id, want) in [
        ("m\te", "/api/users/m%09e"),
        ("..\t", "/api/users/..%09"),
        ("\t", "/api/users/%09"),
        ("\r\n", "/api/users/%0D%0A"),
        ("ё", "/api/users/%D1%91"),
        ("%2e%2e", "/api/users/%252e%252e"),
    ] {
        let call = c.call(&GENERIC, "t", Method::GET, "users/{id}", &[id]).unwrap();
        assert_eq!(call.url.path(), want, "{id:?}");
    }
}

#[test]
fn long_ids_are_refused_with_a_short_message() {
    let c = client();
    let id = "x".repeat(1024 * 1024);
    let err = c
        .call(&GENERIC, "t", Method::GET, "users/{id}", &[&id])
        .err()
        .unwrap();
    assert!(err.is_invalid_input());
    assert!(err.to_string().len() < 200, "{}", err.to_string().len());
    let ok = "x".repeat(MAX_SEGMENT_BYTES);
    assert!(c.call(&GENERIC, "t", Method::GET, "users/{id}", &[&ok]).is_ok());
}

#[test]
fn placeholders_and_ids_must_match() {
    let c = client();
    let message = |route: &'static str, ids: &[&str]| match c.call(&GENERIC, "t", Method::GET, route, ids) {
        Err(e) if e.is_invalid_input() => e.to_string(),
        Err(other) => panic!("{other:?}"),
        Ok(call) => panic!("{route} built {}", call.url),
    };
    assert!(message("users/{id}", &[]).contains("more placeholders than ids"));
    assert!(message("users", &["x"]).contains("more ids than"));
    assert!(message("users/id}", &["x"]).contains("neither a word nor a placeholder"));
    assert!(message("users/{id", &["x"]).contains("neither a word nor a placeholder"));
    // Refused for what they are, before the check of the built path would catch them.
    for id in ["", ".", ".."] {
        assert!(
            message("users/{id}", &[id]).contains("cannot be used as a path segment"),
            "{id:?}"
        );
    }
}

#[test]
fn query_is_encoded() {
    let c = client();
    let call = c
        .call(&GENERIC, "t", Method::GET, "x", &[])
        .unwrap()
        .query("q", "a&b=c d")
        .query_opt("n", Some(5))
        .query_opt::<u8>("none", None);
    assert_eq!(call.url.query(), Some("q=a%26b%3Dc+d&n=5"));
}

#[test]
fn escape_hatch_routes_hide_ids() {
    let c = client();
    let cases: [(&[&str], &str); 4] = [
        (&["api", "user", "42"], "/api/api/user/{id}"),
        (&["users", "alice.private@example.com"], "/api/users/{id}"),
        (&["api", "user", "current"], "/api/api/user/current"),
        (&["V2", "GetMyUser"], "/api/V2/GetMyUser"),
    ];
    for (segments, want) in cases {
        let call = c.call_segments(&GENERIC, "t", Method::GET, segments).unwrap();
        assert_eq!(call.target.route(), want, "{segments:?}");
    }
}

#[test]
fn retry_after_forms() {
    assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    assert_eq!(
        parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
        Some(Duration::ZERO)
    );
    let later = parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT").unwrap();
    assert!(later > Duration::from_secs(3600 * 24 * 365));
    assert_eq!(parse_retry_after("soon"), None);
    assert_eq!(
        parse_retry_after("99999999999999999999999"),
        Some(Duration::MAX),
        "beyond u64: longer than any cap"
    );
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(
        parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT"),
        Some(Duration::ZERO),
        "RFC 850, in the past"
    );
}

#[test]
fn query_structs_serialize_what_is_set() {
    #[derive(serde::Serialize)]
    struct Query {
        status: Option<&'static str>,
        limit: Option<u64>,
        all: bool,
        ids: Vec<u32>,
        q: Option<&'static str>,
    }
    let c = client();
    let call = c
        .call(&GENERIC, "t", Method::GET, "users", &[])
        .unwrap()
        .query_struct(&Query {
            status: Some("a&b=c"),
            limit: Some(u64::MAX),
            all: false,
            ids: vec![1, 2],
            q: None,
        })
        .unwrap();
    assert_eq!(
        call.url.query(),
        Some("all=false&ids=1&ids=2&limit=18446744073709551615&status=a%26b%3Dc")
    );
    #[derive(serde::Serialize)]
    struct Empty {
        q: Option<String>,
        ids: Vec<u32>,
    }
    let call = c
        .call(&GENERIC, "t", Method::GET, "users", &[])
        .unwrap()
        .query_struct(&Empty { q: None, ids: vec![] })
        .unwrap();
    assert_eq!(call.url.as_str(), "https://h.example/api/users");
    let err = c
        .call(&GENERIC, "t", Method::GET, "users", &[])
        .unwrap()
        .query_struct(&serde_json::json!({"nested": {"a": 1}}))
        .err()
        .unwrap();
    assert!(err.to_string().contains("field nested"), "{err}");
}
