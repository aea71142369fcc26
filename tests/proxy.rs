//! Proxies, from the environment (`HTTP_PROXY`, `http_proxy`, `ALL_PROXY`) or from
//! `ClientBuilder::proxy`, against a proxy-like listener on loopback that records every request
//! it reads and answers it itself. The guarantee under test: credentials allowed over plain
//! `http://` because the host is loopback never go to a proxy.
//!
//! The environment is process-wide, and other tests of this binary run beside these ones (and
//! resolve names, which reads it from C): so no test here changes its own environment. Each
//! case runs [`child`], a test of this binary, in a process of its own whose environment holds
//! the proxy variables of the case; the listeners stay in the parent, which reads what they saw.
#![cfg(feature = "novaconnect")]

use std::sync::Arc;

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
/// Set in a child's environment: the base URL its client calls.
const CHILD_BASE: &str = "USERAPI_TEST_PROXY_CHILD_BASE";

/// How the child builds its client.
#[derive(Default)]
struct Case<'a> {
    /// The proxy variables of the child's environment (every other one is removed).
    env: &'a [(&'a str, &'a str)],
    base: &'a str,
    allow_insecure_http: bool,
    no_proxy: bool,
    /// `ClientBuilder::proxy`.
    proxy: Option<&'a str>,
    /// A `reqwest::ClientBuilder` with `Proxy::all` of this URL, given to `http_client`.
    builder_proxy: Option<&'a str>,
    /// Whether the call must succeed (a case that checks the proxy alone may not reach a
    /// target).
    must_succeed: bool,
}

/// Runs `case` in a process of its own (this test binary, running [`child`] alone), and fails
/// with the child's output if the child failed.
async fn run(case: Case<'_>) {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([
        "--exact",
        "proxy::child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for k in PROXY_VARS {
        cmd.env_remove(k);
    }
    for (k, v) in case.env {
        cmd.env(k, v);
    }
    cmd.env(CHILD_BASE, case.base);
    let flag = |on: bool| if on { "1" } else { "" };
    cmd.env(
        "USERAPI_TEST_PROXY_CHILD_INSECURE",
        flag(case.allow_insecure_http),
    )
    .env("USERAPI_TEST_PROXY_CHILD_NO_PROXY", flag(case.no_proxy))
    .env("USERAPI_TEST_PROXY_CHILD_PROXY", case.proxy.unwrap_or(""))
    .env(
        "USERAPI_TEST_PROXY_CHILD_BUILDER_PROXY",
        case.builder_proxy.unwrap_or(""),
    )
    .env("USERAPI_TEST_PROXY_CHILD_SUCCEED", flag(case.must_succeed));
    // Off the runtime's thread: the listeners the child calls are served on it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the child's thread")
        .expect("the child starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// One case, in a process of its own: builds the client [`run`] described in the environment
/// and makes one call. Run by the tests below, never alone (without its variables it does
/// nothing).
#[tokio::test]
#[ignore = "run by the proxy tests in a process of their own"]
async fn child() {
    let Ok(base) = std::env::var(CHILD_BASE) else {
        return;
    };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut builder = client(&base);
    if var("USERAPI_TEST_PROXY_CHILD_INSECURE").is_some() {
        builder = builder.allow_insecure_http(true);
    }
    if var("USERAPI_TEST_PROXY_CHILD_NO_PROXY").is_some() {
        builder = builder.no_proxy();
    }
    let explicit = var("USERAPI_TEST_PROXY_CHILD_PROXY");
    if let Some(proxy) = &explicit {
        builder = builder.proxy(proxy.clone());
    }
    if let Some(proxy) = var("USERAPI_TEST_PROXY_CHILD_BUILDER_PROXY") {
        builder = builder.http_client(
            userapi::reqwest::Client::builder().proxy(userapi::reqwest::Proxy::all(proxy).unwrap()),
        );
    }
    let c = builder.build().unwrap();
    if let Some(proxy) = explicit {
        // The proxy's own password never shows in the client's `Debug`.
        let password = url::Url::parse(&proxy).unwrap().password().map(str::to_owned);
        if let Some(password) = password {
            assert!(!format!("{c:?}").contains(&password));
        }
    }
    if var("USERAPI_TEST_PROXY_CHILD_SUCCEED").is_some() {
        get_me(&c).await;
    } else {
        let _ = c.novaconnect().get_me().await;
    }
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
        let base = format!("http://{host}:{}/api/", target.port);
        let proxy_url = proxy.url();
        if host == "[::1]" {
            // The target listens on 127.0.0.1 only; [::1] is checked for the proxy alone.
            run(Case {
                env: &[(var, &proxy_url)],
                base: &base,
                ..Case::default()
            })
            .await;
            assert_eq!(proxy.connections(), 0, "{var} {host}: {:?}", proxy.heads());
            continue;
        }
        run(Case {
            env: &[(var, &proxy_url)],
            base: &base,
            must_succeed: true,
            ..Case::default()
        })
        .await;
        assert_direct(&target, &proxy, &format!("{var} {host}"));
    }
}

/// The control: the same environment does send a call for another host to the proxy, so the
/// test above is not passing because the variable is ignored.
#[tokio::test]
async fn environment_proxies_carry_calls_to_other_hosts() {
    let proxy = Recorder::start().await;
    run(Case {
        env: &[("HTTP_PROXY", &proxy.url())],
        base: "http://api.example.invalid/api/",
        allow_insecure_http: true,
        must_succeed: true,
        ..Case::default()
    })
    .await;
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
    run(Case {
        base: &base,
        proxy: Some(&proxy.url()),
        must_succeed: true,
        ..Case::default()
    })
    .await;
    assert_direct(&target, &proxy, "explicit proxy");
}

/// `proxy()` sends calls for other hosts through the proxy, with the proxy's own credentials
/// from its URL, in place of the environment's proxy.
#[tokio::test]
async fn an_explicit_proxy_carries_other_calls_with_its_own_credentials() {
    let proxy = Recorder::start().await;
    let env_proxy = Recorder::start().await;
    let with_credentials = format!("http://puser:ppass@127.0.0.1:{}", proxy.port);
    run(Case {
        env: &[("HTTP_PROXY", &env_proxy.url())],
        base: "http://api.example.invalid/api/",
        allow_insecure_http: true,
        proxy: Some(&with_credentials),
        must_succeed: true,
        ..Case::default()
    })
    .await;
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
}

/// `no_proxy()` ignores the environment. The host is `0.0.0.0`, which is not loopback by name
/// (so the environment's proxy would apply) but which Linux connects to on this machine.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn no_proxy_ignores_the_environment() {
    let proxy = Recorder::start().await;
    let target = Recorder::start().await;
    let base = format!("http://0.0.0.0:{}/api/", target.port);
    let proxy_url = proxy.url();
    run(Case {
        env: &[("HTTP_PROXY", &proxy_url)],
        base: &base,
        allow_insecure_http: true,
        no_proxy: true,
        must_succeed: true,
        ..Case::default()
    })
    .await;
    assert_eq!(proxy.connections(), 0, "{:?}", proxy.heads());
    assert_eq!(target.heads().len(), 1);

    // Without `no_proxy()` the same environment sends the call to the proxy.
    run(Case {
        env: &[("HTTP_PROXY", &proxy_url)],
        base: &base,
        allow_insecure_http: true,
        must_succeed: true,
        ..Case::default()
    })
    .await;
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
    let proxy_url = proxy.url();
    run(Case {
        env: &[("HTTP_PROXY", &proxy_url)],
        base: &base,
        builder_proxy: Some(&proxy_url),
        must_succeed: true,
        ..Case::default()
    })
    .await;
    assert_direct(&target, &proxy, "a user's builder with a proxy");

    run(Case {
        base: "http://api.example.invalid/api/",
        allow_insecure_http: true,
        builder_proxy: Some(&proxy_url),
        must_succeed: true,
        ..Case::default()
    })
    .await;
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("POST http://api.example.invalid/api/user/get "),
        "{}",
        heads[0]
    );
}
