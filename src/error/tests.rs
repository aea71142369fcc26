//! The error module's own tests: reading error bodies, escaping, `Display`.
#![allow(unused_imports)]
use super::*;
use super::{body::*, details::*, escape::*, target::*};
use crate::ErrorKind;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

fn parse(ct: &str, body: &str) -> ServiceError {
    read_service_error(Some(ct), &HeaderMap::new(), body.as_bytes(), None)
}

#[test]
fn generic_shapes() {
    let e = parse("application/json", r#"{"code":401,"message":"Invalid token"}"#);
    assert_eq!(e.message(), Some("Invalid token"));
    assert_eq!(e.code(), Some("401"));

    let e = parse("application/json", r#"{"detail":"Not authenticated"}"#);
    assert_eq!(e.message(), Some("Not authenticated"));

    let e = parse(
        "application/json",
        r#"{"error":"invalid_grant","error_description":"bad"}"#,
    );
    assert_eq!(e.message(), Some("bad"));

    let e = parse("application/json", r#""just a string""#);
    assert_eq!(e.message(), Some("just a string"));

    let e = parse("text/plain", "Unauthenticated");
    assert_eq!(e.message(), Some("Unauthenticated"));

    let e = parse(
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
    );
    assert_eq!(e.message(), Some("502 Bad Gateway"));

    let e = parse("application/json", r#"{"success":false}"#);
    assert_eq!(e.message(), None);

    let e = parse("application/json", "{not json");
    assert_eq!(e.message(), Some("{not json"));

    let e = parse(
        "application/json",
        r#"{"code": 7, "message" : "cut short", "pad": "xxxx"#,
    );
    assert_eq!(e.message(), Some("cut short"));
}

#[test]
fn hooks_run_after_the_generic_reading() {
    fn hook(body: &ErrorBody<'_>, out: &mut ServiceError) {
        if let Some(h) = body
            .member("helper")
            .and_then(|h| h.get("message"))
            .and_then(Value::as_str)
            && out.message.is_none()
        {
            out.set_message(h);
        }
        out.code = body.header("x-code");
    }
    let mut headers = HeaderMap::new();
    headers.insert("x-code", "E42".parse().unwrap());
    let e = read_service_error(
        Some("application/json"),
        &headers,
        br#"{"helper":{"message":"check the id"}}"#,
        Some(hook),
    );
    assert_eq!(e.message(), Some("check the id"));
    assert_eq!(e.code(), Some("E42"));
}

#[test]
fn long_messages_are_clipped_on_a_char_boundary() {
    let long = "я".repeat(2000);
    let c = clip(&long);
    assert!(c.len() <= MESSAGE_LIMIT + "…".len());
    assert!(c.ends_with('…'));
}

#[test]
fn field_errors_are_bounded() {
    let key = "k".repeat(32 * 1024);
    let zeros = vec!["0"; 16_000].join(",");
    let body = format!(r#"{{"errors":{{"{key}":[{zeros}]}}}}"#);
    let value = bounded_json(body.as_bytes()).unwrap();
    let mut e = ServiceError::default();
    if let Some(Value::Object(errors)) = value.get("errors") {
        for (k, v) in errors {
            e.push_fields_from(k, v);
        }
    }
    assert!(e.fields().len() <= MAX_FIELD_ERRORS);
    let kept: usize = e
        .fields()
        .iter()
        .map(|f| f.field().len() + f.message().len())
        .sum();
    assert!(kept <= MAX_FIELD_BYTES + 2 * MESSAGE_LIMIT + 8, "{kept}");
    assert!(e.fields().iter().all(|f| f.field().len() <= MESSAGE_LIMIT + 3));
    // The bounded parse kept at most its budget of values, whatever was sent.
    assert!(e.fields().len() + e.fields_omitted() < MAX_ERROR_JSON_NODES);
}

#[test]
fn bounded_json_keeps_small_bodies_whole() {
    let body = br#"{"a":[1,2,{"b":"c"}],"d":null,"e":true,"f":-1.5}"#;
    assert_eq!(
        bounded_json(body),
        Some(serde_json::from_slice::<Value>(body).unwrap())
    );
    assert_eq!(bounded_json(b"{\"a\":1} trailing"), None);
}

fn http_error(service: ServiceError, body: &str) -> HttpError {
    HttpError {
        status: StatusCode::BAD_REQUEST,
        content_type: Some("application/json".into()),
        headers: HeaderMap::new(),
        body: Bytes::copy_from_slice(body.as_bytes()),
        body_truncated: false,
        service,
        retry_after: None,
        dont_retry: false,
        after_unanswered: false,
    }
}

/// [`http_error`] as the pipeline reports it: after `POST /api/user`.
fn http(service: ServiceError, body: &str) -> Error {
    let target = Target::new(Method::POST, "/api/user", "/api/user");
    Error::http_status(&target, http_error(service, body))
}

#[test]
fn display_says_each_thing_once() {
    let mut fields = ServiceError::default();
    fields.push_field("email", "taken");
    fields.push_field("name", "blank");
    fields.fields_omitted = 3;
    let mut inline = fields.clone();
    inline.message_from_first_field();
    assert_eq!(
        http(inline, "{}").to_string(),
        "POST /api/user: HTTP 400 Bad Request: email: taken; name: blank; … and 3 more"
    );
    let mut with_message = fields;
    with_message.set_message("validation failed");
    with_message.code = Some("E1".into());
    assert_eq!(
        http(with_message, "{}").to_string(),
        "POST /api/user: HTTP 400 Bad Request: validation failed (email: taken; name: blank; … and 3 more) [code E1]"
    );
    assert_eq!(
        http(ServiceError::default(), "").to_string(),
        "POST /api/user: HTTP 400 Bad Request with an empty body"
    );
    assert_eq!(
        http(ServiceError::default(), "\x01\x02").to_string(),
        "POST /api/user: HTTP 400 Bad Request with a 2 byte body of application/json"
    );
}

#[test]
fn escaped_writes_controls_as_escapes() {
    let s = Escaped("bad\n2026-01-01 INFO admin logged in\x1b[2J\u{202e}x").to_string();
    assert_eq!(s, "bad\\n2026-01-01 INFO admin logged in\\u{1b}[2J\\u{202e}x");
    assert_eq!(Escaped("plain ё").to_string(), "plain ё");
}

/// Server text that would forge a log line, clear a terminal and reverse what follows.
const HOSTILE: &str = "bad\n2026-01-01 INFO admin logged in\x1b[2J\u{202e}";
/// How [`HOSTILE`] shows once escaped.
const HOSTILE_SHOWN: &str = "bad\\n2026-01-01 INFO admin logged in\\u{1b}[2J\\u{202e}";

/// No raw control character of [`HOSTILE`] in `shown`.
fn assert_no_raw(shown: &str) {
    for raw in ['\n', '\x1b', '\u{202e}'] {
        assert!(!shown.contains(raw), "raw {raw:?} in {shown:?}");
    }
}

/// No raw control character of [`HOSTILE`] in `shown`, and its escaped form `times` times.
fn assert_escaped(shown: &str, times: usize) {
    assert_no_raw(shown);
    assert_eq!(shown.matches(HOSTILE_SHOWN).count(), times, "{shown:?}");
}

#[test]
fn field_errors_show_escaped_field_names_and_messages() {
    let mut fields = ServiceError::default();
    fields.push_field(HOSTILE, HOSTILE);
    fields.push_field("email", HOSTILE);
    fields.push_field(HOSTILE, "taken");
    // The first field error as the message, shown once: `…: field: message; …`.
    let mut inline = fields.clone();
    inline.message_from_first_field();
    assert!(inline.message_is_first_field);
    assert_escaped(&http(inline, "{}").to_string(), 4);
    // After a message of its own, in parentheses.
    let mut with_message = fields;
    with_message.set_message("validation failed");
    let shown = http(with_message, "{}").to_string();
    assert_escaped(&shown, 4);
    assert!(shown.contains(&format!("; email: {HOSTILE_SHOWN};")), "{shown}");
}

#[test]
fn the_service_code_and_message_show_escaped() {
    // Read from the body as the pipeline reads it.
    let body = serde_json::json!({"code": HOSTILE, "message": HOSTILE}).to_string();
    let service = parse("application/json", &body);
    assert_eq!(
        (service.code(), service.message()),
        (Some(HOSTILE), Some(HOSTILE))
    );
    assert_escaped(&http(service, &body).to_string(), 2);
    // A code alone.
    let mut service = ServiceError::default();
    service.set_message("refused");
    service.code = Some(HOSTILE.into());
    let shown = http(service, "{}").to_string();
    assert_escaped(&shown, 1);
    assert!(shown.ends_with(&format!(" [code {HOSTILE_SHOWN}]")), "{shown}");
}

#[test]
fn an_error_bodys_content_type_shows_escaped() {
    // No message and no field errors: the body is described by its type.
    let mut e = http_error(ServiceError::default(), "\x01\x02");
    e.content_type = Some(HOSTILE.into());
    assert_escaped(&e.to_string(), 1);
}

#[test]
fn the_trace_id_never_shows_raw() {
    // `Display` leaves the trace id out today; if it ever shows it, escaped.
    let mut service = ServiceError::default();
    service.set_message("refused");
    service.trace_id = Some(HOSTILE.into());
    let e = http_error(service, "{}");
    assert_eq!(e.service().trace_id(), Some(HOSTILE));
    assert_no_raw(&e.to_string());
}

#[test]
fn an_api_errors_message_shows_escaped() {
    let e = ApiError {
        http_status: StatusCode::OK,
        code: -1,
        message: Some(HOSTILE.into()),
    };
    let target = Target::new(Method::GET, "/api/v1/users", "/api/v1/users");
    let shown = Error::api(&target, e, 1).to_string();
    assert_escaped(&shown, 1);
    assert_eq!(
        shown,
        format!("GET /api/v1/users: service error code -1: {HOSTILE_SHOWN} (HTTP 200 OK)")
    );
}

fn decode_error() -> DecodeError {
    DecodeError {
        status: StatusCode::OK,
        field_path: "data[0].email".into(),
        message: "invalid type: integer `1`, expected a string".into(),
        content_type: Some("application/json".into()),
        excerpt: None,
    }
}

#[test]
fn a_decode_errors_field_path_message_content_type_and_excerpt_show_escaped() {
    let mut e = decode_error();
    e.field_path = format!("data[0].{HOSTILE}");
    assert_escaped(&e.to_string(), 1);
    assert!(e.to_string().contains(&format!("at `data[0].{HOSTILE_SHOWN}`")));

    let mut e = decode_error();
    e.message = format!("unknown variant `{HOSTILE}`");
    assert_escaped(&e.to_string(), 1);

    let mut e = decode_error();
    e.content_type = Some(HOSTILE.into());
    assert_escaped(&e.to_string(), 1);

    let mut e = decode_error();
    e.excerpt = Some(format!("{{\"id\": \"{HOSTILE}\""));
    let target = Target::new(Method::GET, "/api/user", "/api/user");
    let shown = Error::decode(&target, e, 1).to_string();
    assert_escaped(&shown, 1);
}

#[test]
fn a_protocol_errors_message_shows_escaped() {
    for status in [Some(StatusCode::OK), None] {
        let target = Target::new(Method::POST, "/api/session", "/api/session");
        let message = format!("the session id {HOSTILE} is not usable");
        let e = Error::protocol(&target, status, message);
        assert_escaped(&e.to_string(), 1);
    }
}

#[test]
fn auth_input_and_config_messages_show_escaped() {
    let target = Target::new(Method::GET, "/users/me", "/users/me");
    for e in [
        Error::auth(&target, HOSTILE, None),
        Error::invalid_input("acme::get_user", HOSTILE),
        Error::config(ConfigKind::BaseUrl, HOSTILE),
    ] {
        assert_escaped(&e.to_string(), 1);
    }
}

fn transport(kind: TransportKind, cause: &str) -> Error {
    let target = Target::new(Method::GET, "/api/user/current", "/api/user/current");
    let detail = TransportError {
        kind,
        address: Some("127.0.0.1:9".into()),
        source: cause.to_owned().into(),
    };
    Error::transport(&target, detail)
}

#[test]
fn a_connection_error_names_the_address_it_tried() {
    let e = transport(
        TransportKind::Connect,
        "tcp connect error: Connection refused (os error 111)",
    );
    assert_eq!(
        e.to_string(),
        "GET /api/user/current: could not connect to 127.0.0.1:9: tcp connect error: Connection refused (os error 111)"
    );
    let ErrorKind::Transport(t) = e.kind() else {
        panic!("{e:?}")
    };
    assert_eq!(t.address(), Some("127.0.0.1:9"));
    // Other transport failures keep their words.
    let e = transport(TransportKind::Io, "connection reset");
    assert_eq!(
        e.to_string(),
        "GET /api/user/current: the connection failed: connection reset"
    );
}

#[test]
fn a_tls_record_error_hints_at_plain_http() {
    for cause in [
        "received corrupt message of type InvalidContentType",
        "error:0A00010B:SSL routines:ssl3_get_record:wrong version number",
        "error:1408F10B:SSL routines:ssl3_get_record:packet length too long",
    ] {
        let shown = transport(TransportKind::Tls, cause).to_string();
        assert!(
            shown.ends_with("(the server may speak plain HTTP on this port: try an http:// URL)"),
            "{shown}"
        );
    }
    let shown = transport(TransportKind::Tls, "invalid peer certificate: Expired").to_string();
    assert!(!shown.contains("plain HTTP"), "{shown}");
}

#[test]
fn attempts_are_recorded_once_and_not_for_failures_before_a_request() {
    let target = Target::new(Method::GET, "/users/me", "/users/me");
    let mut e = Error::timeout(&target, TimeoutPhase::Attempt, Duration::from_secs(1));
    e.set_attempts(3);
    assert_eq!((e.attempts(), e.target()), (3, Some(&target)));
    let mut e = Error::auth(&target, "expired", None);
    assert_eq!(e.attempts(), 0);
    e.set_attempts(2);
    assert_eq!(e.attempts(), 2);
    for mut e in [
        Error::invalid_input("acme::get_user", "empty id"),
        Error::config(ConfigKind::BaseUrl, "no base URL"),
    ] {
        e.set_attempts(3);
        assert_eq!((e.attempts(), e.target()), (0, None), "{e:?}");
    }
}

#[test]
fn kind_names_are_stable() {
    let target = Target::new(Method::GET, "/users/me", "/users/me");
    let names: Vec<_> = [
        Error::http_status(&target, http_error(ServiceError::default(), "")),
        Error::timeout(&target, TimeoutPhase::Total, Duration::from_secs(1)),
        Error::protocol(&target, None, "x"),
        Error::body_too_large(&target, 1),
        Error::invalid_input("op", "x"),
        Error::config(ConfigKind::Proxy, "x"),
        Error::auth(&target, "x", None),
    ]
    .iter()
    .map(Error::kind_name)
    .collect();
    assert_eq!(
        names,
        [
            "http",
            "timeout",
            "protocol",
            "body-too-large",
            "invalid-input",
            "config",
            "auth"
        ]
    );
}
