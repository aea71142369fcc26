use super::*;
use crate::auth::Auth;
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
use crate::tls::Certificate;
#[cfg(not(feature = "native-tls"))]
use crate::tls::TlsBackend;

#[test]
fn base_with_and_without_slash_join_the_same() {
    let a = Client::builder()
        .base_url("https://h.example/api")
        .build()
        .unwrap();
    let b = Client::builder()
        .base_url("https://h.example/api/")
        .build()
        .unwrap();
    assert_eq!(a.base_url(), b.base_url());
    assert_eq!(a.base_url().as_str(), "https://h.example/api/");
}

#[test]
fn config_errors() {
    let no_base = Client::builder().build().unwrap_err();
    assert!(no_base.to_string().contains("no base URL"));
    let insecure = Client::builder()
        .base_url("http://api.example.com/")
        .bearer("t")
        .build()
        .unwrap_err();
    assert!(insecure.to_string().contains("plain http"), "{insecure}");
    Client::builder()
        .base_url("http://api.example.com/")
        .bearer("t")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    Client::builder()
        .base_url("http://127.0.0.1:9/")
        .bearer("t")
        .build()
        .unwrap();
    Client::builder()
        .base_url("http://[::1]:9/")
        .bearer("t")
        .build()
        .unwrap();
    Client::builder()
        .base_url("http://localhost:9/")
        .bearer("t")
        .build()
        .unwrap();
    let userinfo = Client::builder()
        .base_url("https://u:p@h.example/")
        .build()
        .unwrap_err();
    assert!(!userinfo.to_string().contains(":p@"));
    let crlf = Client::builder()
        .base_url("https://h.example/")
        .bearer("a\nb")
        .build()
        .unwrap_err();
    assert!(crlf.is_config());
    assert!(Client::builder().base_url("ftp://h.example/").build().is_err());
    assert!(Client::builder().base_url("not a url").build().is_err());
}

/// A base URL that does not parse never repeats a password, however the URL is spelled:
/// no slashes after the scheme, one slash, a raw `/`, `?`, `#` or `@` in the password.
#[test]
fn unparsable_base_urls_never_print_their_password() {
    for bad in [
        "https://user:hunter2@h.example:99999/",
        "http:user:hunter2@h.example:99999/",
        "https:/user:hunter2@h.example:99999",
        "https://u:pa/hunter2@h.example:99999",
        "https://u:pa?hunter2@h.example:99999",
        "https://u:pa#hunter2@h.example:99999",
        "https://u:hunter2@x@h.example:99999/",
        "https:\\\\u:hunter2@h.example:99999",
        "user:hunter2@h.example:99999",
    ] {
        let err = Client::builder().base_url(bad).build().unwrap_err();
        assert!(err.is_config(), "{bad}: {err:?}");
        assert!(!err.to_string().contains("hunter2"), "{bad}: {err}");
        assert!(!format!("{err:?}").contains("hunter2"), "{bad}: {err:?}");
        // What is left of the URL still says what was wrong with it.
        if !bad.starts_with("user:") {
            assert!(err.to_string().contains("@h.example:99999"), "{bad}: {err}");
        }
    }
}

#[test]
fn proxy_urls_are_checked_and_never_printed() {
    let build = |proxy: &str| {
        Client::builder()
            .base_url("https://h.example/")
            .proxy(proxy)
            .build()
    };
    for bad in [
        "socks9://user:hunter2@proxy.example:1080",
        "http://user:hunter2@[::1",
        "hunter2",
        "hunter2:hunter2@proxy.example:3128",
    ] {
        let err = build(bad).unwrap_err();
        assert!(err.is_config(), "{err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    }
    build("http://user:hunter2@proxy.example:3128").unwrap();
    build("https://proxy.example/").unwrap();
    let builder = Client::builder().proxy("http://user:hunter2@proxy.example:3128");
    assert!(!format!("{builder:?}").contains("hunter2"));
}

#[cfg(not(feature = "native-tls"))]
#[test]
fn a_backend_whose_feature_is_off_is_refused() {
    let err = Client::builder()
        .base_url("https://h.example/")
        .tls_backend(TlsBackend::NativeTls)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`native-tls` feature"), "{err}");
}

/// Built without TLS, an `https` base URL is refused when the client is built, naming the
/// features that would make it work (not at the first call, as a retryable error).
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
#[test]
fn without_tls_https_is_refused_at_build() {
    let err = Client::builder()
        .base_url("https://h.example/api/")
        .build()
        .unwrap_err();
    assert!(err.is_config(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("https://h.example"), "{text}");
    assert!(
        text.contains("`rustls`") && text.contains("`native-tls`"),
        "{text}"
    );
    assert!(Certificate::from_pem(b"").is_err());
    Client::builder()
        .base_url("http://127.0.0.1:9/")
        .bearer("t")
        .build()
        .unwrap();
}

#[test]
fn debug_never_shows_secrets() {
    let c = Client::builder()
        .base_url("https://h.example/")
        .auth(Auth::header("x-vendor-session", "5e55-secret"))
        .build()
        .unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("5e55-secret"), "{dbg}");
    assert!(dbg.contains("redacted"));
}

#[test]
fn client_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Client>();
}
