//! Bodies and limits: error bodies over the cap, control characters in server text, and the
//! body limit at its edge, with and without a length, in one chunk or many.

use super::*;
use crate::support::raw::{chunked, raw_server};
use userapi::ErrorKind;

/// An error body announced longer than the cap keeps its first bytes, and the message in them.
#[tokio::test]
async fn an_error_body_over_the_cap_keeps_its_prefix_and_message() {
    let server = MockServer::start().await;
    let body = format!(
        r#"{{"message":"quota exceeded for this key","pad":"{}"}}"#,
        "x".repeat(200 * 1024)
    );
    Mock::given(method("GET"))
        .respond_with(json(400, &body))
        .mount(&server)
        .await;
    let err = common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let http = err.http().unwrap();
    assert!(http.body_truncated());
    assert_eq!(http.body().len(), userapi::DEFAULT_MAX_ERROR_BODY_BYTES);
    assert!(body.as_bytes().starts_with(http.body()));
    assert_eq!(err.service_message(), Some("quota exceeded for this key"));
    assert!(err.to_string().contains("cut at the error-body limit"), "{err}");
}

/// What a server says is escaped in `Display`: no forged log lines, no terminal escapes.
#[tokio::test]
async fn server_text_with_control_characters_is_escaped_in_display() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(common::text(
            400,
            "bad\n2026-01-01 INFO admin logged in\u{1b}[2J\r\u{202e}",
        ))
        .mount(&server)
        .await;
    let err = common::client(&server, Auth::jwt(JWT))
        .rounds()
        .get_me()
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(!shown.contains('\u{202e}'), "{shown:?}");
    assert!(
        shown.contains("bad\\n2026-01-01 INFO admin logged in\\u{1b}[2J\\r"),
        "{shown}"
    );
    // The accessor keeps the text as sent.
    assert!(err.service_message().unwrap().contains('\n'));
}

/// A JSON string of exactly `n` bytes.
fn json_string(n: usize) -> Vec<u8> {
    format!("\"{}\"", "x".repeat(n - 2)).into_bytes()
}

async fn fetch(port: u16, limit: usize) -> userapi::Result<String> {
    common::client_builder(format!("http://127.0.0.1:{port}/"))
        .max_response_bytes(limit)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .request(Method::GET, &["x"])
        .send()
        .await
}

#[tokio::test]
async fn a_body_exactly_at_the_limit_is_read_and_one_byte_more_is_not() {
    const LIMIT: usize = 4096;
    for (len, fits) in [(LIMIT, true), (LIMIT + 1, false)] {
        let body = json_string(len);
        // With Content-Length, in one write.
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
        );
        let port = raw_server(head, vec![body.clone()]);
        let got = fetch(port, LIMIT).await;
        assert_eq!(got.is_ok(), fits, "content-length {len}: {got:?}");
        if !fits {
            assert!(
                matches!(&got, Err(e) if matches!(e.kind(), ErrorKind::BodyTooLarge(b) if b.limit() == LIMIT)),
                "{got:?}"
            );
        }
        // With Content-Length, in several writes.
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
        );
        let port = raw_server(head, body.chunks(1000).map(<[u8]>::to_vec).collect());
        let got = fetch(port, LIMIT).await;
        assert_eq!(got.is_ok(), fits, "content-length {len}, in writes: {got:?}");
        // Chunked, no length announced, in several writes.
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_owned();
        let port = raw_server(head.clone(), chunked(body.chunks(1000)));
        let got = fetch(port, LIMIT).await;
        assert_eq!(got.is_ok(), fits, "chunked {len}: {got:?}");
        // Chunked, the whole body in one chunk.
        let port = raw_server(head, vec![chunked([&body[..]]).concat()]);
        let got = fetch(port, LIMIT).await;
        assert_eq!(got.is_ok(), fits, "one chunk {len}: {got:?}");
        if let Ok(text) = got {
            assert_eq!(text.len(), len - 2);
        }
    }
}

/// An error body longer than the kept limit keeps exactly its first `limit` bytes, whether
/// its length is announced or not, and however it is split.
#[tokio::test]
async fn an_error_body_keeps_exactly_its_first_bytes_however_it_comes() {
    const KEEP: usize = 2500;
    let body: Vec<u8> = (0..6000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let cases = [
        (
            format!("HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()),
            body.chunks(1000).map(<[u8]>::to_vec).collect::<Vec<_>>(),
        ),
        (
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_owned(),
            chunked(body.chunks(1000)),
        ),
    ];
    for (head, chunks) in cases {
        let port = raw_server(head.clone(), chunks);
        let err = Client::builder()
            .base_url(format!("http://127.0.0.1:{port}/"))
            .max_error_body_bytes(KEEP)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
            .request(Method::GET, &["x"])
            .send_empty()
            .await
            .unwrap_err();
        let http = err.http().unwrap();
        assert!(http.body_truncated(), "{head}");
        assert_eq!(http.body(), &body[..KEEP], "{head}");
    }
}

/// A chunked body in several large chunks (each kept as it came) arrives whole, and
/// `send_bytes` gives it as it came.
#[tokio::test]
async fn a_body_in_large_chunks_arrives_whole() {
    let body = json_string(60 * 1024);
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_owned();
    let chunks = chunked(body.chunks(20 * 1024));
    let port = raw_server(head.clone(), chunks.clone());
    let text = fetch(port, 1 << 20).await.unwrap();
    assert_eq!(text.len(), body.len() - 2);
    let port = raw_server(head, chunks);
    let bytes = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/"))
        .build()
        .unwrap()
        .request(Method::GET, &["x"])
        .send_bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], &body[..]);

    // Small and large chunks mixed: gathered small ones keep their place, and the last
    // ones are not lost.
    let body: Vec<u8> = (0..55_500u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut parts = Vec::new();
    let mut at = 0;
    for size in [1000, 20_000, 1000, 1000, 30_000, 1500, 1000] {
        parts.push(&body[at..at + size]);
        at += size;
    }
    assert_eq!(at, body.len());
    let chunks = chunked(parts);
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_owned();
    let port = raw_server(head, chunks);
    let bytes = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/"))
        .build()
        .unwrap()
        .request(Method::GET, &["x"])
        .send_bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len(), body.len());
    assert!(bytes[..] == body[..], "the body came out of order");
}
