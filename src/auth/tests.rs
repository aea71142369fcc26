use std::time::{Duration, UNIX_EPOCH};

use super::jwt::base64url_decode;
use super::*;

#[test]
fn unicode_escaped_secrets_are_found_in_json_strings_only_where_they_are() {
    let secret = Secret::new("tok-abc-123");
    let r = Redactor::new([&secret]);
    let redact = |s: &str| String::from_utf8(r.bytes(bytes::Bytes::from(s.to_owned())).to_vec()).unwrap();
    // Escaped in part or whole, with an escaped quote before it in the same string.
    assert_eq!(
        redact(r#"{"a": "say \"hi\" tok\u002dabc\u002d123!", "b": "\u00e9"}"#),
        r#"{"a": "say \"hi\" <redacted>!", "b": "\u00e9"}"#
    );
    assert_eq!(redact(r#"["\u0074\u006f\u006b-abc-123"]"#), r#"["<redacted>"]"#);
    // An escaped quote does not end a string: the next one is read whole.
    assert_eq!(
        redact(r#"["\"", "tok\u002dabc\u002d123"]"#),
        r#"["\"", "<redacted>"]"#
    );
    // Other escaped strings, keys and an unterminated literal stay as they were.
    let other = r#"{"\u0074ok": "\u0041", "x": "tok-abc-12"#;
    assert_eq!(redact(other), other);
    // Plain text is left to the byte search.
    assert_eq!(redact("token tok-abc-123 rejected"), "token <redacted> rejected");
    // Percent-encoded with hex digits in either case, as a form or a path.
    let spaced = Secret::new("p@ss w/rd");
    let r = Redactor::new([&spaced]);
    let redact = |s: &str| String::from_utf8(r.bytes(bytes::Bytes::from(s.to_owned())).to_vec()).unwrap();
    for echo in [
        "p%40ss+w%2Frd",
        "p%40ss%20w%2Frd",
        "p%40ss+w%2frd",
        "p%40ss%20w%2frd",
    ] {
        assert_eq!(redact(&format!("?pw={echo}&x=1")), "?pw=<redacted>&x=1", "{echo}");
    }
    let slashes = Secret::new("a/b/c");
    let r = Redactor::new([&slashes]);
    let echoed = r.bytes(bytes::Bytes::from_static(b"path=a%2fb%2fc;"));
    assert_eq!(&echoed[..], b"path=<redacted>;");
}

#[test]
fn a_cut_body_loses_the_start_of_a_secret_it_ends_with() {
    let secret = Secret::new("tok-abc-123");
    let r = Redactor::new([&secret]);
    let cut = |s: &'static str| r.cut_bytes(bytes::Bytes::from_static(s.as_bytes()));
    assert_eq!(&cut("xx tok-a")[..], b"xx <redacted>");
    assert_eq!(&cut("xx tok-abc-12")[..], b"xx <redacted>");
    // Shorter than CUT_SECRET_MIN: kept; a whole secret is replaced as usual.
    assert_eq!(&cut("xx tok")[..], b"xx tok");
    assert_eq!(&cut("xx tok-abc-123")[..], b"xx <redacted>");
    assert_eq!(&cut("tok-")[..], b"<redacted>");
}

#[test]
fn secret_never_prints() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s}"), REDACTED);
    assert!(!format!("{s:?}").contains("hunter2"));
    let a = Auth::bearer("tok-abc");
    let dbg = format!("{a:?}");
    assert!(!dbg.contains("tok-abc"), "{dbg}");
}

#[test]
fn crlf_rejected() {
    let err = Auth::bearer("abc\r\nX-Evil: 1").fixed().unwrap_err();
    assert!(err.to_string().contains("line break"), "{err}");
    assert!(!err.to_string().contains("abc"));
}

#[test]
fn base64url_round_trips_known_values() {
    assert_eq!(base64url_decode("eyJleHAiOjEwfQ").unwrap(), br#"{"exp":10}"#);
    assert_eq!(base64url_decode("YQ").unwrap(), b"a");
    assert_eq!(base64url_decode("YWI").unwrap(), b"ab");
    assert_eq!(base64url_decode("YWJj").unwrap(), b"abc");
    assert!(base64url_decode("a b").is_none());
}

#[test]
fn jwt_exp_is_read() {
    // header {"alg":"none"} . payload {"exp":10} . no signature
    let t = "eyJhbGciOiJub25lIn0.eyJleHAiOjEwfQ.";
    assert_eq!(jwt_expiry(t), Some(UNIX_EPOCH + Duration::from_secs(10)));
    assert_eq!(jwt_expiry("not-a-jwt"), None);
    assert_eq!(jwt_expiry("a.eyJzdWIiOiJ4In0.b"), None, "no exp claim");
}

#[test]
fn a_short_secret_is_redacted_where_it_stands_alone_and_nowhere_else() {
    let e = Secret::new("e");
    let r = Redactor::new([&e]);
    let redact = |s: &str| String::from_utf8(r.bytes(bytes::Bytes::from(s.to_owned())).to_vec()).unwrap();
    // Readable: the letter inside words stays.
    assert_eq!(redact("expected value: password"), "expected value: password");
    // Every place a value stands alone is redacted.
    assert_eq!(redact(r#"{"password":"e"}"#), r#"{"password":"<redacted>"}"#);
    assert_eq!(redact("token e refused"), "token <redacted> refused");
    assert_eq!(redact("e"), "<redacted>");
    assert_eq!(redact("pw=e&x=1"), "pw=<redacted>&x=1");
    // Seven bytes is still short; eight is not: it goes wherever it is.
    let seven = Secret::new("ab1cd2e");
    let r = Redactor::new([&seven]);
    let out = r.bytes(bytes::Bytes::from_static(b"xab1cd2ey ab1cd2e"));
    assert_eq!(&out[..], b"xab1cd2ey <redacted>");
    let eight = Secret::new("ab1cd2ef");
    let r = Redactor::new([&eight]);
    let out = r.bytes(bytes::Bytes::from_static(b"xab1cd2efy"));
    assert_eq!(&out[..], b"x<redacted>y");
    // A short secret spelled with \u escapes inside a JSON string, alone there.
    let r = Redactor::new([&e]);
    assert_eq!(redact_json(&r, r#"["\u0065"]"#), r#"["<redacted>"]"#);
}

fn redact_json(r: &Redactor, s: &str) -> String {
    String::from_utf8(r.bytes(bytes::Bytes::from(s.to_owned())).to_vec()).unwrap()
}

#[test]
fn a_cut_body_loses_the_start_of_a_short_secret_only_where_it_stands_alone() {
    // A long secret's cut start goes wherever it is, inside a word too.
    let long = Secret::new("tok-abc-123");
    let r = Redactor::new([&long]);
    let cut = |r: &Redactor, s: &'static str| r.cut_bytes(bytes::Bytes::from_static(s.as_bytes()));
    assert_eq!(&cut(&r, "xxtok-a")[..], b"xx<redacted>");
    // A short one's only where nothing touches it before.
    let short = Secret::new("ab1cd2e");
    let r = Redactor::new([&short]);
    assert_eq!(&cut(&r, "token ab1c")[..], b"token <redacted>");
    assert_eq!(&cut(&r, "tokenab1c")[..], b"tokenab1c");
}
