//! [`Client`] and [`ClientBuilder`]: base URL, credentials, timeouts, retries, limits.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderName, HeaderValue, PROXY_AUTHORIZATION};
use url::Url;

mod handle;

#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use handle::service_handle;

use crate::auth::{Auth, AuthCell, Secret};
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
/// [`Duration::MAX`] (or anything too long to add to the clock) means no limit, and for
/// `connect` leaves the connect timeout of a builder given to [`ClientBuilder::http_client`]
/// as it was.
///
/// ```
/// use std::time::Duration;
/// use userapi::Timeouts;
/// let t = Timeouts::default().with_total(Duration::MAX).with_attempt(Duration::from_secs(5));
/// assert_eq!(t.attempt(), Duration::from_secs(5));
/// assert_eq!(t.connect(), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    connect: Duration,
    attempt: Duration,
    total: Duration,
}

impl Timeouts {
    /// Opening a connection.
    pub fn connect(&self) -> Duration {
        self.connect
    }

    /// One attempt, body included.
    pub fn attempt(&self) -> Duration {
        self.attempt
    }

    /// The whole call, retries and waits included.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// With this connect timeout.
    pub fn with_connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }

    /// With this per-attempt timeout.
    pub fn with_attempt(mut self, d: Duration) -> Self {
        self.attempt = d;
        self
    }

    /// With this total timeout.
    pub fn with_total(mut self, d: Duration) -> Self {
        self.total = d;
        self
    }
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
    pub(crate) auth: AuthCell,
}

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) base: Url,
    pub(crate) user_agent: HeaderValue,
    /// Sent on every call (a call's own headers win).
    pub(crate) headers: HeaderMap,
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

    /// A handle on the same pool and credentials that also sends `name: value` on every
    /// call (a request id, `X-Metabase-Locale`, …).
    ///
    /// # Errors
    /// [`Error::Config`] when the name or value cannot be a header, or names a credential
    /// header (set credentials with [`Auth`]).
    pub fn with_header(&self, name: &str, value: &str) -> Result<Client> {
        let (name, value) = header_pair(name, value, &self.auth())?;
        let mut settings = (*self.settings).clone();
        settings.headers.insert(name, value);
        Ok(Client {
            shared: Arc::clone(&self.shared),
            settings: Arc::new(settings),
        })
    }

    /// Replaces the credentials of this client and all its clones.
    ///
    /// Logging in (Metabase, Diadoc) and a change of one's own Metabase password install
    /// credentials themselves; a login installs its session only if no other change of
    /// credentials landed while it was in flight (a password change meanwhile ended that
    /// session), while a password change always installs its new session.
    ///
    /// # Errors
    /// [`Error::Config`] when a secret holds a character that cannot go in a header.
    pub fn set_auth(&self, auth: Auth) -> Result<()> {
        self.shared.auth.set(auth)
    }

    /// The credentials in use (secrets stay wrapped in [`Secret`]).
    pub fn auth(&self) -> Auth {
        self.shared.auth.auth()
    }

    /// The generation of the credentials: bumped by every change.
    pub(crate) fn auth_generation(&self) -> u64 {
        self.shared.auth.generation()
    }

    /// Installs `auth` with a credential already obtained for it (the session a password
    /// change answered, under a login-on-demand scheme).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn set_auth_with_obtained(&self, auth: Auth, obtained: crate::auth::Credential) -> Result<()> {
        self.shared.auth.set_with_obtained(auth, obtained)
    }

    /// Installs `auth` only if the credentials are still those of generation `based_on`.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn set_auth_if(&self, based_on: u64, auth: Auth) -> Result<bool> {
        self.shared.auth.set_if(based_on, auth)
    }

    #[cfg_attr(userapi_partial, allow(dead_code))]
    /// Runs `f` on a clone of this client in a task of its own and waits for it. Used for
    /// calls that change credentials on the server (a password change ends the old session):
    /// if the caller stops waiting, the task still installs what the server answered.
    pub(crate) async fn detached<F, Fut, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        match tokio::spawn(f(self.clone())).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::config("the runtime shut down while a call was in flight")),
        }
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
            .field(
                "default_headers",
                &self.settings.headers.keys().collect::<Vec<_>>(),
            )
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
        Url::parse(self).map_err(|e| {
            Error::config(format!(
                "the base URL {:?} does not parse: {e}",
                without_userinfo(self)
            ))
        })
    }
}

/// The URL text with everything between its scheme and its last `@` replaced, so that an
/// error never repeats a password written into a URL, however it is spelled (`http:u:p@h`,
/// `http:/u:p@h`, a raw `/`, `?`, `#` or `@` in the password). An `@` later in the path hides
/// more than the userinfo, which is the safe side.
fn without_userinfo(url: &str) -> String {
    let Some(at) = url.rfind('@') else {
        return url.to_owned();
    };
    let scheme_end = url
        .find(':')
        .filter(|&i| {
            url[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                && url[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
        .map_or(0, |i| i + 1);
    let slashes = url[scheme_end..]
        .bytes()
        .take_while(|b| matches!(b, b'/' | b'\\'))
        .count();
    let start = (scheme_end + slashes).min(at);
    format!("{}{}{}", &url[..start], crate::auth::REDACTED, &url[at..])
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
    headers: Vec<(String, String)>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    http: Option<reqwest::ClientBuilder>,
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

    /// A header sent on every call, e.g. Diadoc's `X-Solution-Info` or Metabase's
    /// `X-Metabase-Locale`. A bad name or value, or a credential header, fails `build()`.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
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

    /// Start from this `reqwest::ClientBuilder` (pool sizes, DNS, local address, HTTP/2
    /// settings…) instead of a default one. Make it with the crate's own
    /// [`reqwest`](crate::reqwest) re-export: a builder of another reqwest version is another
    /// type.
    ///
    /// [`build`](Self::build) finishes it, and the guarantees hold whatever it says:
    /// redirects are turned off in it (the pipeline follows them itself, within the same
    /// origin, so no credential and no password in a body reaches another host), a loopback
    /// base URL is reached without any proxy, and this builder's settings are applied on top:
    /// the connect timeout, [`add_root_certificate`](Self::add_root_certificate),
    /// [`tls_built_in_root_certs`](Self::tls_built_in_root_certs),
    /// [`tls_backend`](Self::tls_backend), [`proxy`](Self::proxy), [`no_proxy`](Self::no_proxy).
    /// A finished `reqwest::Client` is not accepted, since its redirect policy cannot be
    /// seen; to share one connection pool, clone the [`Client`] this builds.
    pub fn http_client(mut self, http: reqwest::ClientBuilder) -> Self {
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
    ///
    /// # Errors
    /// [`Error::Config`] for a missing or unusable base URL, credentials over plain `http`
    /// to a host that is not loopback (unless allowed), a secret or header that cannot go
    /// in a header, or an HTTP client that cannot be built.
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
        // A query on the base URL (`?tenant=7`) is kept and sent on every call.
        if base.query() == Some("") {
            base.set_query(None);
        }
        base.set_fragment(None);

        let ua = self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let user_agent = HeaderValue::from_str(ua)
            .map_err(|_| Error::config("the user agent holds a character that cannot go in a header"))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let (name, value) = header_pair(name, value, &self.auth)?;
            headers.insert(name, value);
        }
        let auth = AuthCell::new(self.auth)?;
        let loopback = is_loopback(&base);
        let builder = self
            .http
            .unwrap_or_else(reqwest::Client::builder)
            .redirect(reqwest::redirect::Policy::none());
        let builder = match usable(self.timeouts.connect) {
            Some(connect) => builder.connect_timeout(connect),
            None => builder,
        };
        // The bytes of a loopback call stay on the machine, whatever the proxies (`no_proxy`
        // also clears any proxy a given builder had).
        let builder = if loopback || self.no_proxy {
            builder.no_proxy()
        } else if let Some(proxy) = proxy {
            builder.proxy(proxy)
        } else {
            builder
        };
        let http = self
            .tls
            .apply(builder)?
            .build()
            .map_err(|e| Error::config(format!("the HTTP client could not be built: {e}")))?;
        Ok(Client {
            shared: Arc::new(Shared { http, auth }),
            settings: Arc::new(Settings {
                base,
                user_agent,
                headers,
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

/// A timeout that can be added to the clock, or `None` for "no limit".
pub(crate) fn usable(d: Duration) -> Option<Duration> {
    // Thirty years is beyond any call; longer values are taken as "no limit" rather than
    // risk an overflow in a timer.
    (d < Duration::from_secs(30 * 365 * 24 * 3600)).then_some(d)
}

/// A header for every call, checked: never one that carries credentials (`Authorization`,
/// `Cookie`, `Proxy-Authorization`, or a header the client's scheme sends).
fn header_pair(name: &str, value: &str, auth: &Auth) -> Result<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::config(format!("{:?} is not a header name", name)))?;
    let credential =
        [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION].contains(&name) || auth.header_names().contains(&name);
    if credential {
        return Err(Error::config(format!(
            "{name} carries credentials; set them with ClientBuilder::auth"
        )));
    }
    let value = HeaderValue::from_str(value)
        .map_err(|_| Error::config(format!("the value of {name} cannot go in a header")))?;
    Ok((name, value))
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
            assert!(matches!(err, Error::Config(_)), "{bad}: {err:?}");
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
            .auth(Auth::header("x-metabase-session", "5e55-secret"))
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
