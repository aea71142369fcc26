//! Property tests: decoding and parsing never panic, ids never change a path, and secrets
//! never show.
//!
//! The core's own parsers and schemes are checked here; each service declares its response
//! types, error reading and credential schemes once with [`service_properties!`], which runs
//! the same properties on them in the service's module: every response type is decoded from
//! arbitrary bytes and from arbitrary JSON-shaped text and must come back `Ok` or `Err`;
//! every credential scheme is built from arbitrary tokens, and no `Debug` or `Display` of the
//! auth value, the client or an error the client returns may contain the token.

use proptest::prelude::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::http::RawResponse;
use crate::{Auth, Client, Error, Secret};

/// Decodes `body` as each listed type; only a panic can fail this.
macro_rules! decode_each {
    ($raw:expr; $($ty:ty),* $(,)?) => {
        $( let _ = $raw.json::<$ty>(); )*
    };
}

fn decode_everything(body: &[u8]) {
    let raw = RawResponse::for_test(StatusCode::OK, Some("application/json"), body.to_vec());
    decode_each!(raw; serde_json::Value, crate::models::Timestamp);
}

/// Text that is often nearly JSON: braces, quotes, keys the models know, numbers, nulls.
pub(crate) fn jsonish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("\"id\"".to_owned()),
        Just("\"code\"".to_owned()),
        Just("\"result\"".to_owned()),
        Just("\"item\"".to_owned()),
        Just("\"data\"".to_owned()),
        Just("\"total\"".to_owned()),
        Just("\"email\"".to_owned()),
        Just("\"UserId\"".to_owned()),
        Just("\"_id\"".to_owned()),
        Just("\"status\"".to_owned()),
        Just("\"detail\"".to_owned()),
        Just("\"FullName\"".to_owned()),
        Just("\"product\"".to_owned()),
        Just("\"token\"".to_owned()),
        Just("\"structured_attributes\"".to_owned()),
        Just("\"success\"".to_owned()),
        Just("\"offset\"".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        "\"[^\"\\\\]{0,12}\"".prop_map(|s| s),
    ];
    prop::collection::vec(token, 0..40).prop_map(|parts| parts.concat())
}

pub(crate) const CONTENT_TYPES: [&str; 5] = [
    "application/json",
    "text/plain; charset=utf-8",
    "text/html",
    "application/problem+json",
    "",
];

/// Arbitrary text that includes control and other odd characters. `any::<String>()` is the
/// regex `\PC*`, which never yields a control character (tab, CR, LF, NUL, DEL, U+202E…), so
/// it could not find an id whose tab the URL parser drops; `any::<char>()` can.
pub(crate) fn odd_text() -> impl Strategy<Value = String> {
    let odd = prop::sample::select(vec![
        '\t', '\r', '\n', '\0', '\u{7f}', '\u{202e}', '/', '.', '%', '?', '#', ' ', '+', 'ё',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), odd], 0..40).prop_map(|v| v.into_iter().collect())
}

/// Tokens long enough that finding one in printed text is not a coincidence.
pub(crate) fn token() -> impl Strategy<Value = String> {
    // base64-like: `=` only as trailing padding.
    "[A-Za-z0-9_.~+/-]{16,48}={0,2}"
}

fn shows(value: &impl std::fmt::Debug, token: &str) -> bool {
    format!("{value:?}").contains(token) || format!("{value:#?}").contains(token)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(body in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&body);
    }

    #[test]
    fn decoding_jsonish_text_never_panics(body in jsonish()) {
        decode_everything(body.as_bytes());
    }

    #[test]
    fn parsing_error_bodies_never_panics(
        body in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), jsonish().prop_map(String::into_bytes)],
        ct in prop::sample::select(&CONTENT_TYPES[..]),
    ) {
        let ct = (!ct.is_empty()).then_some(ct);
        for service in services() {
            let parsed = crate::error::read_service_error(
                ct,
                &HeaderMap::new(),
                &body,
                service.read_error,
            );
            let _ = format!("{parsed:?}");
        }
    }

}

proptest! {
    /// Every parser a server's bytes reach, fed arbitrary Unicode: each answers, none panics.
    #[test]
    fn parsers_never_panic(text in odd_text(), other in odd_text()) {
        let _ = crate::time::parse_rfc3339(&text);
        let _ = crate::time::parse_http_date(&text);
        let _ = crate::http::parse_retry_after(&text);
        let _ = crate::auth::jwt_expiry(&text);
        let _ = crate::auth::jwt_expiry(&format!("e30.{text}.x"));
        let _ = crate::error::bounded_json(text.as_bytes());
        let a = crate::models::Timestamp::new(text.clone());
        let b = crate::models::Timestamp::new(other);
        let _ = a.cmp(&b);
        let _ = a.to_system_time();
        let _ = crate::error::Escaped(&text).to_string();
        for service in services() {
            for ct in CONTENT_TYPES {
                let ct = (!ct.is_empty()).then_some(ct);
                let _ = crate::error::read_service_error(
                    ct, &HeaderMap::new(), text.as_bytes(), service.read_error,
                );
            }
        }
    }

    /// Text that looks almost like a timestamp: parsing answers without panicking, and a
    /// parsed value never lies about being RFC 3339.
    #[test]
    fn near_timestamps_never_panic(prefix in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}", tail in ".{0,12}") {
        let text = format!("{prefix}{tail}");
        if crate::time::parse_rfc3339(&text).is_some() {
            prop_assert!(text.is_ascii());
        }
    }

    /// An id is one path segment, whatever it holds: the built path decodes back to exactly
    /// the route with that id, or the id is refused before anything is sent.
    #[test]
    fn ids_never_change_the_path(id in odd_text()) {
        static CLIENT: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
        let client = CLIENT.get_or_init(|| Client::builder().base_url("https://h.example/api/").build().unwrap());
        match client.call(&crate::http::GENERIC, "t", reqwest::Method::GET, "users/{id}/detail", &[&id]) {
            Ok(call) => {
                let path = call.target_for_test().path().to_owned();
                let segments: Vec<&str> = path.split('/').collect();
                prop_assert_eq!(segments.len(), 5, "{}", path);
                prop_assert_eq!(&segments[..3], &["", "api", "users"][..]);
                prop_assert_eq!(segments[4], "detail");
                let decoded = url::form_urlencoded::parse(format!("x={}", segments[3].replace('+', "%2B")).as_bytes())
                    .next().map(|(_, v)| v.into_owned());
                prop_assert_eq!(decoded.as_deref(), Some(id.as_str()));
            }
            Err(ref e) if e.is_invalid_input() => {
                prop_assert!(id.is_empty() || id == "." || id == ".." || id.len() > crate::http::MAX_SEGMENT_BYTES);
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

proptest! {
    // Building a client loads TLS roots (tens of milliseconds in a debug build), so these
    // properties run fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn secrets_never_show(token in token()) {
        let schemes = [
            Auth::bearer(token.clone()),
            Auth::jwt(token.clone()),
            Auth::header("x-vendor-key", token.clone()),
        ];
        for auth in schemes {
            prop_assert!(!shows(&auth, &token), "{auth:?}");
            let client = Client::builder()
                .base_url("https://example.invalid/api/")
                .auth(auth.clone())
                .build()
                .expect("a valid client");
            prop_assert!(!shows(&client, &token));
            prop_assert!(!shows(&client.auth(), &token));
        }
        let secret = Secret::new(token.clone());
        prop_assert!(!shows(&secret, &token) && !secret.to_string().contains(&token));
    }

    #[test]
    fn errors_about_bad_secrets_never_show_them(token in token(), cut in 0usize..16, breaker in prop::sample::select(&["\r", "\n", "\r\n", "\0"][..])) {
        let cut = cut.min(token.len());
        let bad = format!("{}{breaker}{}", &token[..cut], &token[cut..]);
        for auth in [Auth::bearer(bad.clone()), Auth::jwt(bad.clone()), Auth::header("x-vendor-key", bad.clone())] {
            let err: Error = Client::builder()
                .base_url("https://example.invalid/")
                .auth(auth)
                .build()
                .expect_err("a secret with a line break is refused");
            let shown = format!("{err} {err:?}");
            // Neither whole nor either side of the break may show.
            for part in [&token[..cut], &token[cut..]] {
                if part.len() >= 8 {
                    prop_assert!(!shown.contains(part), "{shown}");
                }
            }
        }
    }

    #[test]
    fn expired_jwt_errors_never_show_the_token(signature in token()) {
        // {"alg":"HS256"} . {"exp":1} . signature
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.{signature}");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = Client::builder().base_url("https://example.invalid/").auth(Auth::jwt(jwt.clone())).build().unwrap();
        let err = rt.block_on(async { client.call(&crate::http::GENERIC, "probe", reqwest::Method::GET, "x", &[])?.send_empty().await }).expect_err("expired");
        prop_assert!(err.is_auth());
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&signature) && !shown.contains(&jwt), "{shown}");
    }
}

/// The generic error reading; each service checks its own with [`service_properties!`].
fn services() -> Vec<&'static crate::http::Service> {
    vec![&crate::http::GENERIC]
}

/// A service's own properties, declared in its module: every response type it lists decodes
/// arbitrary bytes and JSON-shaped text without panicking, its error reading parses any body,
/// and every credential scheme it lists never shows its token in `Debug`, in a client's
/// `Debug`, or in the error about a token with a line break.
///
/// ```ignore
/// #[cfg(test)]
/// crate::properties::service_properties! {
///     service: SERVICE,
///     decodes: [User, Vec<User>],
///     schemes: [|token: String| auth::api_key(token)],
///     body_schemes: [|password: String| auth::login("ada@example.com", password)],
/// }
/// ```
macro_rules! service_properties {
    (
        service: $service:path,
        decodes: [$($ty:ty),* $(,)?],
        schemes: [$($scheme:expr),* $(,)?]
        $(, body_schemes: [$($body_scheme:expr),* $(,)?])? $(,)?
    ) => {
        mod properties {
            #![allow(unused_imports)]
            use super::*;
            use proptest::prelude::*;

            fn decode_all(body: &[u8]) {
                let raw = crate::http::RawResponse::for_test(
                    reqwest::StatusCode::OK,
                    Some("application/json"),
                    body.to_vec(),
                );
                $( let _ = raw.json::<$ty>(); )*
            }

            /// Schemes that send the token in a header: a line break in it is refused.
            fn schemes(token: &str) -> Vec<crate::Auth> {
                let token = token.to_owned();
                vec![$(($scheme)(token.clone())),*]
            }

            /// Schemes that send the token in a body (a login's password).
            fn body_schemes(token: &str) -> Vec<crate::Auth> {
                let token = token.to_owned();
                let _ = &token;
                vec![$($(($body_scheme)(token.clone())),*)?]
            }

            proptest! {
                #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

                #[test]
                fn decoding_arbitrary_bytes_never_panics(body in prop::collection::vec(any::<u8>(), 0..512)) {
                    decode_all(&body);
                }

                #[test]
                fn decoding_jsonish_text_never_panics(body in crate::properties::jsonish()) {
                    decode_all(body.as_bytes());
                }

                #[test]
                fn parsing_error_bodies_never_panics(
                    body in prop_oneof![
                        prop::collection::vec(any::<u8>(), 0..512),
                        crate::properties::jsonish().prop_map(String::into_bytes),
                        crate::properties::odd_text().prop_map(String::into_bytes),
                    ],
                    ct in prop::sample::select(&crate::properties::CONTENT_TYPES[..]),
                ) {
                    let ct = (!ct.is_empty()).then_some(ct);
                    let parsed = crate::error::read_service_error(
                        ct, &reqwest::header::HeaderMap::new(), &body, $service.read_error,
                    );
                    let _ = format!("{parsed:?}");
                }
            }

            proptest! {
                #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

                #[test]
                fn secrets_never_show(token in crate::properties::token()) {
                    for auth in schemes(&token).into_iter().chain(body_schemes(&token)) {
                        crate::properties::check_never_shows(auth, &token)?;
                    }
                }

                #[test]
                fn errors_about_bad_secrets_never_show_them(
                    token in crate::properties::token(),
                    cut in 0usize..16,
                    breaker in prop::sample::select(&["\r", "\n", "\r\n", "\0"][..]),
                ) {
                    let cut = cut.min(token.len());
                    let bad = format!("{}{breaker}{}", &token[..cut], &token[cut..]);
                    for auth in schemes(&bad) {
                        crate::properties::check_refused_unseen(auth, &token, cut)?;
                    }
                }
            }
        }
    };
}

pub(crate) use service_properties;

/// `auth` never shows `token`: not in its `Debug`, nor in a client's.
pub(crate) fn check_never_shows(auth: Auth, token: &str) -> Result<(), TestCaseError> {
    prop_assert!(!shows(&auth, token), "{auth:?}");
    let client = Client::builder()
        .base_url("https://example.invalid/api/")
        .auth(auth.clone())
        .build()
        .expect("a valid client");
    prop_assert!(!shows(&client, token));
    prop_assert!(!shows(&client.auth(), token));
    Ok(())
}

/// `auth`, holding `token` with a line break at `cut`, is refused by `build()` and the error
/// shows neither side of the break.
pub(crate) fn check_refused_unseen(auth: Auth, token: &str, cut: usize) -> Result<(), TestCaseError> {
    let err: Error = Client::builder()
        .base_url("https://example.invalid/")
        .auth(auth)
        .build()
        .expect_err("a secret with a line break is refused");
    let shown = format!("{err} {err:?}");
    for part in [&token[..cut], &token[cut..]] {
        if part.len() >= 8 {
            prop_assert!(!shown.contains(part), "{shown}");
        }
    }
    Ok(())
}
