//! Proxies, from the environment (`HTTP_PROXY`, `http_proxy`, `ALL_PROXY`) or from
//! `ClientBuilder::proxy`, against a proxy-like listener on loopback that records every request
//! it reads and answers it itself. The guarantee under test: credentials allowed over plain
//! `http://` because the host is loopback never go to a proxy.
//!
//! The environment is process-global: every test sets it only while it builds its clients,
//! under one lock, and puts back what was there before (reqwest reads it in `build()`).
#![cfg(feature = "novaconnect")]

use std::sync::{Arc, Mutex};

use userapi::{Client, ClientBuilder, RetryPolicy};

use crate::support::client_builder;
use crate::support::raw::{RawServer, header, ok};

const TOKEN: &str = "loopback-only-token";
const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

static ENV: Mutex<()> = Mutex::new(());

/// Runs `f` with the proxy variables set to `vars` (all others unset), then restores them.
fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce() -> T) -> T {
    let _lock = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let saved: Vec<_> = PROXY_VARS.iter().map(|k| (*k, std::env::var_os(k))).collect();
    // SAFETY: every test in this binary reads and writes the environment only under `ENV`.
    unsafe {
        for k in PROXY_VARS {
            std::env::remove_var(k);
        }
        for (k, v) in vars {
            std::env::set_var(k, v);
        }
    }
    let out = f();
    // SAFETY: as above.
    unsafe {
        for (k, v) in saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
    out
}

/// An HTTP/1.1 listener that records each request head and answers NovaConnect's envelope.
/// As a proxy it sees absolute-form targets (`POST http://host/path`).
struct Recorder {
    port: u16,
    server: RawServer,
}

impl Recorder {
    async fn start() -> Recorder {
        let body = r#"{"code":200,"message":"OK","result":{"item":{"first_name":"A"}}}"#;
        let server = RawServer::start(Arc::new(move |_| ok(body))).await;
        Recorder {
            port: server.port,
            server,
        }
    }

    fn url(&self) -> String {
        self.server.url("")
    }

    fn connections(&self) -> usize {
        self.server.connections()
    }

    fn heads(&self) -> Vec<String> {
        self.server.seen().into_iter().map(|seen| seen.head).collect()
    }
}

fn client(base: &str) -> ClientBuilder {
    client_builder(base)
        .bearer(TOKEN)
        .retry_policy(RetryPolicy::none())
}

async fn get_me(client: &Client) {
    let me = client.novaconnect().get_me().await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("A"));
}

/// The target saw the call with its credentials, and the proxy saw nothing at all.
fn assert_direct(target: &Recorder, proxy: &Recorder, what: &str) {
    assert_eq!(
        proxy.connections(),
        0,
        "{what}: the proxy saw {:?}",
        proxy.heads()
    );
    let heads = target.heads();
    assert_eq!(heads.len(), 1, "{what}: {heads:?}");
    assert!(
        heads[0].starts_with("POST /api/user/get HTTP/1.1"),
        "{what}: {}",
        heads[0]
    );
    assert_eq!(
        header(&heads[0], "authorization").as_deref(),
        Some(format!("Bearer {TOKEN}").as_str()),
        "{what}"
    );
}

#[tokio::test]
async fn environment_proxies_never_carry_loopback_calls() {
    for (var, host) in [
        ("HTTP_PROXY", "127.0.0.1"),
        ("http_proxy", "127.0.0.1"),
        ("ALL_PROXY", "127.0.0.1"),
        ("http_proxy", "localhost"),
        ("HTTP_PROXY", "[::1]"),
    ] {
        let proxy = Recorder::start().await;
        let target = Recorder::start().await;
        if host == "[::1]" {
            // The target listens on 127.0.0.1 only; [::1] is checked for the proxy alone.
            let c = with_env(&[(var, &proxy.url())], || {
                client(&format!("http://[::1]:{}/api/", target.port)).build()
            })
            .unwrap();
            let _ = c.novaconnect().get_me().await;
            assert_eq!(proxy.connections(), 0, "{var} {host}: {:?}", proxy.heads());
            continue;
        }
        let base = format!("http://{host}:{}/api/", target.port);
        let c = with_env(&[(var, &proxy.url())], || client(&base).build()).unwrap();
        get_me(&c).await;
        assert_direct(&target, &proxy, &format!("{var} {host}"));
    }
}

/// The control: the same environment does send a call for another host to the proxy, so the
/// test above is not passing because the variable is ignored.
#[tokio::test]
async fn environment_proxies_carry_calls_to_other_hosts() {
    let proxy = Recorder::start().await;
    let c = with_env(&[("HTTP_PROXY", &proxy.url())], || {
        client("http://api.example.invalid/api/")
            .allow_insecure_http(true)
            .build()
    })
    .unwrap();
    get_me(&c).await;
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("POST http://api.example.invalid/api/user/get HTTP/1.1"),
        "{}",
        heads[0]
    );
}

#[tokio::test]
async fn an_explicit_proxy_never_carries_loopback_calls() {
    let proxy = Recorder::start().await;
    let target = Recorder::start().await;
    let base = format!("http://127.0.0.1:{}/api/", target.port);
    let c = with_env(&[], || client(&base).proxy(proxy.url()).build()).unwrap();
    get_me(&c).await;
    assert_direct(&target, &proxy, "explicit proxy");
}

/// `proxy()` sends calls for other hosts through the proxy, with the proxy's own credentials
/// from its URL, in place of the environment's proxy.
#[tokio::test]
async fn an_explicit_proxy_carries_other_calls_with_its_own_credentials() {
    let proxy = Recorder::start().await;
    let env_proxy = Recorder::start().await;
    let with_credentials = format!("http://puser:ppass@127.0.0.1:{}", proxy.port);
    let c = with_env(&[("HTTP_PROXY", &env_proxy.url())], || {
        client("http://api.example.invalid/api/")
            .allow_insecure_http(true)
            .proxy(with_credentials)
            .build()
    })
    .unwrap();
    get_me(&c).await;
    assert_eq!(env_proxy.connections(), 0);
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("POST http://api.example.invalid/api/user/get "),
        "{}",
        heads[0]
    );
    // base64("puser:ppass")
    assert_eq!(
        header(&heads[0], "proxy-authorization").as_deref(),
        Some("Basic cHVzZXI6cHBhc3M=")
    );
    assert!(!format!("{c:?}").contains("ppass"));
}

/// `no_proxy()` ignores the environment. The host is `0.0.0.0`, which is not loopback by name
/// (so the environment's proxy would apply) but which Linux connects to on this machine.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn no_proxy_ignores_the_environment() {
    let proxy = Recorder::start().await;
    let target = Recorder::start().await;
    let base = format!("http://0.0.0.0:{}/api/", target.port);
    let direct = with_env(&[("HTTP_PROXY", &proxy.url())], || {
        client(&base).allow_insecure_http(true).no_proxy().build()
    })
    .unwrap();
    get_me(&direct).await;
    assert_eq!(proxy.connections(), 0, "{:?}", proxy.heads());
    assert_eq!(target.heads().len(), 1);

    // Without `no_proxy()` the same environment sends the call to the proxy.
    let proxied = with_env(&[("HTTP_PROXY", &proxy.url())], || {
        client(&base).allow_insecure_http(true).build()
    })
    .unwrap();
    get_me(&proxied).await;
    assert_eq!(proxy.heads().len(), 1);
    assert_eq!(target.heads().len(), 1);
}

/// A `reqwest::ClientBuilder` given to `http_client` with a proxy of its own, or under an
/// environment that names one: a loopback call still goes straight to the target, while a
/// call for another host takes the builder's proxy (the control).
#[tokio::test]
async fn a_users_builder_never_sends_loopback_calls_to_its_proxy() {
    let proxy = Recorder::start().await;
    let target = Recorder::start().await;
    let base = format!("http://127.0.0.1:{}/api/", target.port);
    let with_proxy =
        || userapi::reqwest::Client::builder().proxy(userapi::reqwest::Proxy::all(proxy.url()).unwrap());
    let c = with_env(&[("HTTP_PROXY", &proxy.url())], || {
        client(&base).http_client(with_proxy()).build()
    })
    .unwrap();
    get_me(&c).await;
    assert_direct(&target, &proxy, "a user's builder with a proxy");

    let other = with_env(&[], || {
        client("http://api.example.invalid/api/")
            .allow_insecure_http(true)
            .http_client(with_proxy())
            .build()
    })
    .unwrap();
    get_me(&other).await;
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("POST http://api.example.invalid/api/user/get "),
        "{}",
        heads[0]
    );
}
