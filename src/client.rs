//! [`Client`] and [`ClientBuilder`]: base URL, credentials, timeouts, retries, limits.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::auth::{Auth, Secret};
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::tls::{Certificate, TlsBackend, TlsSettings};

/// The `User-Agent` sent unless the builder sets another.
pub const DEFAULT_USER_AGENT: &str = concat!("userapi/", env!("CARGO_PKG_VERSION"));

/// The timeouts of a call. All three are on by default.
///
/// | timeout | default | covers |
/// |---|---|---|
/// | `connect` | 10 s | opening one connection (TCP and TLS) |
/// | `attempt` | 30 s | one attempt, from sending until the last byte of the body |
/// | `total` | 60 s | the whole call: every attempt and every wait between them |
///
/// With a user-supplied `reqwest::Client` ([`ClientBuilder::http_client`]), `connect` is that
/// client's own setting; the other two still apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a connection.
    pub connect: Duration,
    /// One attempt, body included.
    pub attempt: Duration,
    /// The whole call, retries included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

/// Default cap on a success body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Default cap on the copy of an error body kept in [`HttpError`](crate::HttpError): 64 KiB.
pub const DEFAULT_MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A connection to one service: base URL, credentials and transport settings.
///
/// Cheap to clone: clones share the connection pool and the credentials, so a session that
/// one clone logs in with is used by all. `Client` is `Send + Sync`.
///
/// ```no_run
/// # async fn run() -> userapi::Result<()> {
/// use userapi::{Auth, Client};
/// let client = Client::builder()
///     .base_url("https://api.novaconnect.kz/api/")
///     .auth(Auth::bearer(std::env::var("NOVACONNECT_TOKEN").unwrap_or_default()))
///     .build()?;
/// let me = client.novaconnect().get_me().await?;
/// println!("{:?}", me.email);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) settings: Arc<Settings>,
}

pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    pub(crate) auth: RwLock<AuthState>,
}

pub(crate) struct AuthState {
    pub(crate) auth: Auth,
    /// The header of a scheme that needs no provider call, built once.
    pub(crate) header: Option<(HeaderName, HeaderValue)>,
}

impl AuthState {
    fn new(auth: Auth) -> Result<Self> {
        auth.validate()?;
        let header = auth.static_header()?;
        Ok(AuthState { auth, header })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) base: Url,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_error_body_bytes: usize,
}

impl Client {
    /// A builder with the defaults described on [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL every path is joined to (always ends with `/`).
    pub fn base_url(&self) -> &Url {
        &self.settings.base
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.settings.timeouts
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.settings.retry
    }

    /// A handle on the same pool and credentials with another retry policy: for one call,
    /// `client.with_retry_policy(RetryPolicy::none()).novaconnect().get_me()`.
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> Client {
        let mut settings = (*self.settings).clone();
        settings.retry = retry;
        Client {
            shared: Arc::clone(&self.shared),
            settings: Arc::new(settings),
        }
    }

    /// A handle on the same pool and credentials with other timeouts.
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Client {
        let mut settings = (*self.settings).clone();
        settings.timeouts = timeouts;
        Client {
            shared: Arc::clone(&self.shared),
            settings: Arc::new(settings),
        }
    }

    /// Replaces the credentials of this client and all its clones.
    ///
    /// Metabase `login` and Diadoc `authenticate_with_password` call this themselves.
    pub fn set_auth(&self, auth: Auth) -> Result<()> {
        let state = AuthState::new(auth)?;
        *self.shared.auth.write().unwrap_or_else(|e| e.into_inner()) = state;
        Ok(())
    }

    /// The credentials in use (secrets stay wrapped in [`Secret`]).
    pub fn auth(&self) -> Auth {
        self.shared
            .auth
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .auth
            .clone()
    }

    /// When the token expires, for a JWT whose `exp` claim can be read.
    pub fn token_expires_at(&self) -> Option<SystemTime> {
        self.auth().expires_at()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.settings.base.as_str())
            .field("auth", &self.auth())
            .field("timeouts", &self.settings.timeouts)
            .field("retry", &self.settings.retry)
            .finish_non_exhaustive()
    }
}

/// Anything that names a base URL: `&str`, `String` or [`Url`].
pub trait IntoBaseUrl {
    /// Parses it.
    fn into_base_url(self) -> Result<Url>;
}

impl IntoBaseUrl for Url {
    fn into_base_url(self) -> Result<Url> {
        Ok(self)
    }
}

impl IntoBaseUrl for &str {
    fn into_base_url(self) -> Result<Url> {
        Url::parse(self).map_err(|e| Error::config(format!("the base URL {self:?} does not parse: {e}")))
    }
}

impl IntoBaseUrl for String {
    fn into_base_url(self) -> Result<Url> {
        self.as_str().into_base_url()
    }
}

impl IntoBaseUrl for &String {
    fn into_base_url(self) -> Result<Url> {
        self.as_str().into_base_url()
    }
}

/// Builds a [`Client`].
///
/// Defaults: no credentials, `User-Agent: userapi/<version>`, the [`Timeouts`] defaults,
/// the [`RetryPolicy`] defaults, a 16 MiB cap on response bodies, redirects followed only
/// within the same origin, the platform's root certificates, the proxy of the environment
/// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`) except for a loopback host, and a
/// connection pool of its own.
#[derive(Default)]
pub struct ClientBuilder {
    base: Option<Result<Url>>,
    auth: Auth,
    user_agent: Option<String>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
    max_response_bytes: Option<usize>,
    max_error_body_bytes: Option<usize>,
    allow_insecure_http: bool,
    tls: TlsSettings,
    proxy: Option<String>,
    no_proxy: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("auth", &self.auth)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The service root that paths are joined to. `https://host/api` and `https://host/api/`
    /// join the same way.
    pub fn base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.base = Some(url.into_base_url());
        self
    }

    /// The credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Shorthand for `.auth(Auth::bearer(token))`.
    pub fn bearer(self, token: impl Into<Secret>) -> Self {
        self.auth(Auth::bearer(token))
    }

    /// The `User-Agent` header (default [`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Time to open one connection.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }

    /// Time for one attempt, from sending to the last byte of the body.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self
    }

    /// Time for the whole call, retries and waits included.
    pub fn total_timeout(mut self, d: Duration) -> Self {
        self.timeouts.total = d;
        self
    }

    /// All three timeouts at once.
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = t;
        self
    }

    /// The retry policy (per call: [`Client::with_retry_policy`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Use this `reqwest::Client` (and its pool) instead of building one. Build it with the
    /// crate's own [`reqwest`](crate::reqwest) re-export: a client of another reqwest version
    /// is another type.
    ///
    /// Its connect timeout, TLS settings, proxies and redirect policy are its own: set
    /// `reqwest::redirect::Policy::none()` on it, or credentials in `X-Metabase-Session` /
    /// `X-API-Key` may follow a redirect elsewhere; and build it with `.no_proxy()` for a
    /// loopback base URL. [`build`](Self::build) refuses to combine it with the settings it
    /// would ignore ([`add_root_certificate`](Self::add_root_certificate),
    /// [`tls_built_in_root_certs`](Self::tls_built_in_root_certs),
    /// [`tls_backend`](Self::tls_backend), [`proxy`](Self::proxy), [`no_proxy`](Self::no_proxy)),
    /// and refuses credentials over plain `http://` to a loopback host when the environment
    /// names a proxy for it, since this client may send them there (unless
    /// [`allow_insecure_http`](Self::allow_insecure_http)).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The largest success body accepted, in bytes (default 16 MiB). A larger one is
    /// [`Error::BodyTooLarge`], read no further than the limit.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = Some(n);
        self
    }

    /// How much of an error body is kept (default 64 KiB); the rest is not read.
    pub fn max_error_body_bytes(mut self, n: usize) -> Self {
        self.max_error_body_bytes = Some(n);
        self
    }

    /// Allow credentials over plain `http://` to a host that is not loopback. Off by
    /// default: such a client fails to build.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Trust this root certificate (or PEM bundle) as well as the built-in ones: for a
    /// server whose certificate a private CA issued. Works with either TLS backend.
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.tls.roots.push(cert);
        self
    }

    /// Whether to trust the platform's root certificates (default `true`). With `false`, only
    /// the certificates given to [`add_root_certificate`](Self::add_root_certificate) are
    /// trusted.
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> Self {
        self.tls.built_in_roots = Some(enabled);
        self
    }

    /// The TLS library to use when both the `rustls` and `native-tls` features are compiled
    /// in. Without this call that is native-tls when its feature is on, rustls otherwise.
    /// Naming a backend whose feature is off makes [`build`](Self::build) fail.
    pub fn tls_backend(mut self, backend: TlsBackend) -> Self {
        self.tls.backend = Some(backend);
        self
    }

    /// Send every call through this HTTP or HTTPS proxy (`http://proxy.corp:3128`), in place
    /// of the environment's. A user name and password in the URL are the proxy's own
    /// (`Proxy-Authorization`); they are never printed.
    ///
    /// A loopback base URL (`localhost`, `127.0.0.0/8`, `[::1]`) never goes through a proxy,
    /// this one or the environment's: credentials allowed over plain `http://` because the
    /// host is loopback never leave the machine.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Ignore the proxies named in the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`)
    /// and connect directly.
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        let mut base = self
            .base
            .ok_or_else(|| Error::config("no base URL set: call ClientBuilder::base_url"))??;
        check_base(&base, &self.auth, self.allow_insecure_http)?;
        let proxy = self.proxy.as_deref().map(parse_proxy).transpose()?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);

        let ua = self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let user_agent = HeaderValue::from_str(ua)
            .map_err(|_| Error::config("the user agent holds a character that cannot go in a header"))?;
        let auth = AuthState::new(self.auth)?;
        let loopback = is_loopback(&base);
        let http = match self.http {
            Some(http) => {
                let ignored = [
                    (!self.tls.roots.is_empty(), "add_root_certificate"),
                    (self.tls.built_in_roots.is_some(), "tls_built_in_root_certs"),
                    (self.tls.backend.is_some(), "tls_backend"),
                    (proxy.is_some(), "proxy"),
                    (self.no_proxy, "no_proxy"),
                ];
                if let Some((_, name)) = ignored.iter().find(|(set, _)| *set) {
                    return Err(Error::config(format!(
                        "ClientBuilder::{name} has no effect on a client given to \
                         ClientBuilder::http_client: set it on that reqwest::Client instead"
                    )));
                }
                if loopback
                    && base.scheme() == "http"
                    && !auth.auth.is_none()
                    && !self.allow_insecure_http
                    && environment_proxies(&base)
                {
                    return Err(Error::config(
                        "the environment names a proxy for this loopback http:// base URL, and a \
                         client given to ClientBuilder::http_client may send the credentials \
                         there in clear; build that client with .no_proxy() and call \
                         allow_insecure_http(true), or let userapi build its own client",
                    ));
                }
                http
            }
            None => {
                let mut builder = reqwest::Client::builder()
                    .connect_timeout(self.timeouts.connect)
                    .redirect(same_origin_redirects());
                // The bytes of a loopback call stay on the machine, whatever the proxies.
                if loopback || self.no_proxy {
                    builder = builder.no_proxy();
                } else if let Some(proxy) = proxy {
                    builder = builder.proxy(proxy);
                }
                self.tls
                    .apply(builder)?
                    .build()
                    .map_err(|e| Error::config(format!("the HTTP client could not be built: {e}")))?
            }
        };
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                auth: RwLock::new(auth),
            }),
            settings: Arc::new(Settings {
                base,
                user_agent,
                timeouts: self.timeouts,
                retry: self.retry,
                max_response_bytes: self.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                max_error_body_bytes: self.max_error_body_bytes.unwrap_or(DEFAULT_MAX_ERROR_BODY_BYTES),
            }),
        })
    }
}

/// Whether the host is this machine's loopback: `localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(base: &Url) -> bool {
    match base.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Whether the environment's proxy settings, read as reqwest reads them, send requests for
/// `base` to a proxy.
fn environment_proxies(base: &Url) -> bool {
    let Ok(uri) = base.as_str().parse() else {
        return false;
    };
    hyper_util::client::proxy::matcher::Matcher::from_system()
        .intercept(&uri)
        .is_some()
}

/// Checks a proxy URL. Its error never quotes it: it may hold the proxy's password.
fn parse_proxy(url: &str) -> Result<reqwest::Proxy> {
    let parsed = Url::parse(url).map_err(|e| Error::config(format!("the proxy URL does not parse: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(Error::config(
            "the proxy URL must be http://host:port or https://host:port",
        ));
    }
    reqwest::Proxy::all(parsed).map_err(|_| Error::config("the proxy URL is not usable"))
}

fn check_base(base: &Url, auth: &Auth, allow_insecure_http: bool) -> Result<()> {
    match base.scheme() {
        "https" => {
            #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
            return Err(crate::tls::no_tls(&format!(
                "the https base URL {}",
                base.origin().ascii_serialization()
            )));
        }
        "http" => {
            let loopback = is_loopback(base);
            if !loopback && !auth.is_none() && !allow_insecure_http {
                return Err(Error::config(format!(
                    "refusing to send credentials over plain http to {}; use https, or call \
                     ClientBuilder::allow_insecure_http(true) if you mean it",
                    base.host_str().unwrap_or("?")
                )));
            }
        }
        other => {
            return Err(Error::config(format!(
                "the base URL must be http or https, not {other:?}"
            )));
        }
    }
    if base.cannot_be_a_base() || base.host().is_none() {
        return Err(Error::config("the base URL needs a host"));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(Error::config(
            "the base URL carries a user name or password; pass credentials with ClientBuilder::auth",
        ));
    }
    Ok(())
}

/// Follows a redirect only within the origin it started from, so that no credential header
/// ever reaches another host; a redirect elsewhere comes back as the 3xx response itself.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if attempt.url().origin() == first.origin() {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(crlf, Error::Config(_)));
        assert!(Client::builder().base_url("ftp://h.example/").build().is_err());
        assert!(Client::builder().base_url("not a url").build().is_err());
    }

    #[test]
    fn an_injected_client_refuses_the_settings_it_would_ignore() {
        let with = |b: ClientBuilder| {
            b.base_url("https://h.example/")
                .http_client(reqwest::Client::new())
                .build()
                .unwrap_err()
                .to_string()
        };
        type Set = fn(ClientBuilder) -> ClientBuilder;
        let cases: [(&str, Set); 4] = [
            ("tls_built_in_root_certs", |b| b.tls_built_in_root_certs(false)),
            ("tls_backend", |b| b.tls_backend(TlsBackend::Rustls)),
            ("proxy", |b| b.proxy("http://proxy.example:3128")),
            ("no_proxy", |b| b.no_proxy()),
        ];
        for (name, set) in cases {
            let err = with(set(Client::builder()));
            assert!(err.contains(&format!("ClientBuilder::{name} ")), "{err}");
            assert!(err.contains("http_client"), "{err}");
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
            let cert = Certificate::from_der(ca.cert.der()).unwrap();
            let err = with(Client::builder().add_root_certificate(cert));
            assert!(err.contains("ClientBuilder::add_root_certificate "), "{err}");
        }
        Client::builder()
            .base_url("https://h.example/")
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
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
            assert!(matches!(err, Error::Config(_)), "{err:?}");
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
        assert!(matches!(err, Error::Config(_)), "{err:?}");
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
            .auth(Auth::metabase_session("5e55-secret"))
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
}
