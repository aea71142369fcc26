//! [`ClientBuilder`]: settings checked once, in `build()`.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use super::*;
use crate::auth::{Auth, AuthCell, Secret};
use crate::auth::{CredentialChange, Notifier};
use crate::error::{ConfigKind, Error, Result};
use crate::limit::{Limiter, RateLimit};
use crate::observe::Observer;
use crate::retry::{Budget, RetryBudget, RetryPolicy};
use crate::tls::{Certificate, TlsBackend, TlsSettings};

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
    rate_limit: Option<RateLimit>,
    max_in_flight: Option<u32>,
    retry_budget: RetryBudget,
    observer: Option<Box<dyn Observer>>,
    on_credential_change: Option<Notifier>,
    stored_credential: Option<Secret>,
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

    /// A header sent on every call, e.g. a vendor's `X-Solution-Info` or a locale header; the
    /// same name again replaces the value. A bad name or value, a credential header, or more
    /// than 64 names fail `build()`.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Time to open one connection ([`Duration::MAX`]: none; see also
    /// [`no_connect_timeout`](Self::no_connect_timeout)).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts = self.timeouts.with_connect(d);
        self
    }

    /// Time for one attempt, from sending to the last byte of the body ([`Duration::MAX`]:
    /// none).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.timeouts = self.timeouts.with_attempt(d);
        self
    }

    /// Time for the whole call, retries and waits included ([`Duration::MAX`]: none).
    pub fn total_timeout(mut self, d: Duration) -> Self {
        self.timeouts = self.timeouts.with_total(d);
        self
    }

    /// No limit on opening a connection (a builder given to
    /// [`http_client`](Self::http_client) keeps its own).
    pub fn no_connect_timeout(mut self) -> Self {
        self.timeouts = self.timeouts.without_connect();
        self
    }

    /// No limit on one attempt.
    pub fn no_attempt_timeout(mut self) -> Self {
        self.timeouts = self.timeouts.without_attempt();
        self
    }

    /// No limit on the whole call.
    pub fn no_total_timeout(mut self) -> Self {
        self.timeouts = self.timeouts.without_total();
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

    /// Limits the rate of requests this client and all its clones send (every attempt
    /// counts, retries included): a fixed rate, or [`RateLimit::adaptive`], learned from the
    /// server's `429` answers. A call waiting for its turn counts against its total timeout,
    /// and a call dropped while it waits gives its turn back.
    pub fn rate_limit(mut self, rate: RateLimit) -> Self {
        self.rate_limit = Some(rate);
        self
    }

    /// At most `n` requests of this client and its clones on the wire at once (a request
    /// holds its place from sending until its body is read; waits between retries hold
    /// none). `0` makes [`build`](Self::build) fail.
    pub fn max_in_flight(mut self, n: u32) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// The budget retries draw from (default [`RetryBudget::default`]; off with
    /// [`RetryBudget::disabled`]).
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = budget;
        self
    }

    /// A hook called once per attempt and once per finished call (see [`Observer`]).
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Called whenever the credentials of this client and its clones change: a login, a
    /// re-login after a `401`, a token provider's new token after a `401`, a password change
    /// or reset that answered a session, a logout,
    /// [`Client::set_auth`](crate::Client::set_auth). Changes arrive one at a time, in the
    /// order they happened, on tokio's blocking pool: the call that made the change does not
    /// wait for the callback, which may write a file. The credential stays a
    /// [`Secret`](crate::Secret).
    ///
    /// Store [`CredentialChange::credential`] and give it to
    /// [`stored_credential`](Self::stored_credential) when the process starts again; before
    /// the process exits, [`Client::flush_credential_changes`] waits for the callback to
    /// have seen every change.
    pub fn on_credential_change(
        mut self,
        callback: impl Fn(&CredentialChange) + Send + Sync + 'static,
    ) -> Self {
        self.on_credential_change = Some(Notifier::new(callback));
        self
    }

    /// Starts from a credential an earlier run stored (a session id a login-on-demand scheme
    /// obtained), instead of obtaining a new one on the first call. When the server refuses
    /// it, the scheme obtains a new one as after any `401`. Only schemes that obtain their
    /// credentials can start from a stored one (`metabase::auth::login` can); with another,
    /// [`build`](Self::build) fails with
    /// [`ConfigKind::StoredCredential`](crate::ConfigKind::StoredCredential).
    pub fn stored_credential(mut self, stored: impl Into<Secret>) -> Self {
        self.stored_credential = Some(stored.into());
        self
    }

    /// Start from this `reqwest::ClientBuilder` (pool sizes, DNS, local address, HTTP/2
    /// settings…) instead of a default one. Make it with the crate's own
    /// [`reqwest`](https://docs.rs/reqwest/0.13/reqwest/) re-export: a builder of another reqwest version is another
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
    /// [`ErrorKind::BodyTooLarge`](crate::ErrorKind::BodyTooLarge), read no further than the limit.
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
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a missing or unusable base URL, credentials over plain `http`
    /// to a host that is not loopback (unless allowed), a secret or header that cannot go
    /// in a header, or an HTTP client that cannot be built.
    pub fn build(self) -> Result<Client> {
        let mut base = self.base.ok_or_else(|| {
            Error::config(
                ConfigKind::BaseUrl,
                "no base URL set: call ClientBuilder::base_url",
            )
        })??;
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
        let user_agent = HeaderValue::from_str(ua).map_err(|_| {
            Error::config(
                ConfigKind::Header,
                "the user agent holds a character that cannot go in a header",
            )
        })?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let (name, value) = header_pair(name, value, &self.auth)?;
            headers.insert(name, value);
            // Checked as they come: a header map past 32,768 entries would panic.
            if headers.len() > MAX_DEFAULT_HEADERS {
                return Err(too_many_default_headers());
            }
        }
        let auth = AuthCell::new(
            self.auth,
            self.stored_credential.as_ref(),
            self.on_credential_change,
        )?;
        let limiter = Limiter::new(self.rate_limit, self.max_in_flight)?;
        self.retry_budget.check()?;
        let loopback = is_loopback(&base);
        let builder = self
            .http
            .unwrap_or_else(reqwest::Client::builder)
            .redirect(reqwest::redirect::Policy::none());
        let builder = match self.timeouts.connect() {
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
        let http = self.tls.apply(builder)?.build().map_err(|e| {
            Error::config(
                ConfigKind::Tls,
                format!("the HTTP client could not be built: {e}"),
            )
        })?;
        let shared = Arc::new(Shared {
            http,
            auth,
            limiter,
            budget: Budget::new(self.retry_budget),
            observer: self.observer,
            pending_timer: super::timer::PendingTimer::new(&self.timeouts),
        });
        Ok(Client {
            shared,
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
pub(super) fn is_loopback(base: &Url) -> bool {
    match base.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks a proxy URL. Its error never quotes it: it may hold the proxy's password.
pub(super) fn parse_proxy(url: &str) -> Result<reqwest::Proxy> {
    let parsed = Url::parse(url)
        .map_err(|e| Error::config(ConfigKind::Proxy, format!("the proxy URL does not parse: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(Error::config(
            ConfigKind::Proxy,
            "the proxy URL must be http://host:port or https://host:port",
        ));
    }
    reqwest::Proxy::all(parsed).map_err(|_| Error::config(ConfigKind::Proxy, "the proxy URL is not usable"))
}

pub(super) fn check_base(base: &Url, auth: &Auth, allow_insecure_http: bool) -> Result<()> {
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
                return Err(Error::config(
                    ConfigKind::BaseUrl,
                    format!(
                        "refusing to send credentials over plain http to {}; use https, or call \
                     ClientBuilder::allow_insecure_http(true) if you mean it",
                        base.host_str().unwrap_or("?")
                    ),
                ));
            }
        }
        other => {
            return Err(Error::config(
                ConfigKind::BaseUrl,
                format!("the base URL must be http or https, not {other:?}"),
            ));
        }
    }
    if base.cannot_be_a_base() || base.host().is_none() {
        return Err(Error::config(ConfigKind::BaseUrl, "the base URL needs a host"));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(Error::config(
            ConfigKind::BaseUrl,
            "the base URL carries a user name or password; pass credentials with ClientBuilder::auth",
        ));
    }
    Ok(())
}
