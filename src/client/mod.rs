//! [`Client`] and [`ClientBuilder`]: base URL, credentials, timeouts, retries, limits.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderName, HeaderValue, PROXY_AUTHORIZATION};
use url::Url;

mod base_url;
mod builder;
mod handle;
#[cfg(test)]
mod tests;
mod timer;

pub use base_url::IntoBaseUrl;
pub use builder::ClientBuilder;

#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use handle::service_handle;

use crate::auth::{Auth, AuthCell, ChangeReason};
use crate::error::{ConfigKind, Error, Result};
use crate::retry::RetryPolicy;

/// The `User-Agent` sent unless the builder sets another.
pub const DEFAULT_USER_AGENT: &str = concat!("userapi/", env!("CARGO_PKG_VERSION"));

/// The timeouts of a call. All three are on by default; each can be turned off.
///
/// | timeout | default | covers |
/// |---|---|---|
/// | `connect` | 10 s | opening one connection (TCP and TLS) |
/// | `attempt` | 30 s | one attempt, from sending until the last byte of the body |
/// | `total` | 60 s | the whole call: every attempt and every wait between them |
///
/// "No limit" is a state of its own ([`without_total`](Self::without_total) and the like;
/// the getters answer `None`), not a magic number. A duration too long to add to a clock
/// (thirty years or more, [`Duration::MAX`]) is accepted and means the same. Without a
/// connect limit, a builder given to [`ClientBuilder::http_client`] keeps its own.
///
/// ```
/// use std::time::Duration;
/// use userapi::Timeouts;
/// let t = Timeouts::default().without_total().with_attempt(Duration::from_secs(5));
/// assert_eq!(t.attempt(), Some(Duration::from_secs(5)));
/// assert_eq!(t.connect(), Some(Duration::from_secs(10)));
/// assert_eq!(t.total(), None);
/// assert_eq!(Timeouts::default().with_total(Duration::MAX), t.with_attempt(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    connect: Option<Duration>,
    attempt: Option<Duration>,
    total: Option<Duration>,
}

impl Timeouts {
    /// Opening a connection; `None`: no limit.
    pub fn connect(&self) -> Option<Duration> {
        self.connect
    }

    /// One attempt, body included; `None`: no limit.
    pub fn attempt(&self) -> Option<Duration> {
        self.attempt
    }

    /// The whole call, retries and waits included; `None`: no limit.
    pub fn total(&self) -> Option<Duration> {
        self.total
    }

    /// With this connect timeout ([`Duration::MAX`]: none).
    pub fn with_connect(mut self, d: Duration) -> Self {
        self.connect = usable(d);
        self
    }

    /// With this per-attempt timeout ([`Duration::MAX`]: none).
    pub fn with_attempt(mut self, d: Duration) -> Self {
        self.attempt = usable(d);
        self
    }

    /// With this total timeout ([`Duration::MAX`]: none).
    pub fn with_total(mut self, d: Duration) -> Self {
        self.total = usable(d);
        self
    }

    /// With no connect timeout.
    pub fn without_connect(mut self) -> Self {
        self.connect = None;
        self
    }

    /// With no per-attempt timeout.
    pub fn without_attempt(mut self) -> Self {
        self.attempt = None;
        self
    }

    /// With no total timeout.
    pub fn without_total(mut self) -> Self {
        self.total = None;
        self
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(10)),
            attempt: Some(Duration::from_secs(30)),
            total: Some(Duration::from_secs(60)),
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
///     .base_url("https://users.example.com/api/")
///     .auth(Auth::bearer(std::env::var("ACME_TOKEN").unwrap_or_default()))
///     .build()?;
/// // Every service handle wraps a client (`client.<service>()`); any endpoint also goes
/// // through the same pipeline by hand:
/// let me: serde_json::Value = client.request(userapi::Method::GET, &["users", "me"]).idempotent().send().await?;
/// println!("{}", me["email"]);
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
    /// The rate limit and the cap on requests in flight, if any.
    pub(crate) limiter: Option<crate::limit::Limiter>,
    pub(crate) budget: crate::retry::Budget,
    pub(crate) observer: Option<Box<dyn crate::observe::Observer>>,
    /// The timer kept pending so that the calls' own timers do not wake the runtime.
    pub(crate) pending_timer: timer::PendingTimer,
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

    /// The retry budget this client and its clones share.
    pub fn retry_budget(&self) -> &crate::retry::RetryBudget {
        self.shared.budget.config()
    }

    /// A handle on the same pool and credentials with another retry policy: for one call,
    /// `client.with_retry_policy(RetryPolicy::none())`, then the service handle's call on it.
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
    /// call (a request id, a locale header, …).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the name or value cannot be a header, names a credential
    /// header (set credentials with [`Auth`]), or would be the 65th default header.
    pub fn with_header(&self, name: &str, value: &str) -> Result<Client> {
        let (name, value) = header_pair(name, value, &self.auth())?;
        let mut settings = (*self.settings).clone();
        settings.headers.insert(name, value);
        if settings.headers.len() > MAX_DEFAULT_HEADERS {
            return Err(too_many_default_headers());
        }
        Ok(Client {
            shared: Arc::clone(&self.shared),
            settings: Arc::new(settings),
        })
    }

    /// Replaces the credentials of this client and all its clones.
    ///
    /// A service's login and a change of one's own password install credentials themselves; a login installs its session only if no other change of
    /// credentials landed while it was in flight (a password change meanwhile ended that
    /// session), while a password change always installs its new session.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when a secret holds a character that cannot go in a header.
    pub fn set_auth(&self, auth: Auth) -> Result<()> {
        self.shared.auth.set(auth, ChangeReason::Replaced)
    }

    /// Whether the client holds a credential it obtained (a login's session).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn holds_obtained(&self) -> bool {
        self.shared.auth.holds_obtained()
    }

    /// Waits until the callback set with
    /// [`ClientBuilder::on_credential_change`] has seen every change made so far: call it
    /// before a process that stores its credentials exits, so the last change is not lost.
    /// Returns at once without a callback.
    pub async fn flush_credential_changes(&self) {
        self.shared.auth.flush_changes().await;
    }

    /// Replaces the credentials for `reason` (a service's own change, such as a password
    /// change that answered a new session).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn replace_auth(&self, auth: Auth, reason: ChangeReason) -> Result<()> {
        self.shared.auth.set(auth, reason)
    }

    /// The credentials in use (secrets stay wrapped in [`Secret`](crate::Secret)).
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
    pub(crate) fn set_auth_with_obtained(
        &self,
        auth: Auth,
        obtained: crate::auth::Credential,
        reason: ChangeReason,
    ) -> Result<()> {
        self.shared.auth.set_with_obtained(auth, obtained, reason)
    }

    /// Installs `auth` only if the credentials are still those of generation `based_on`.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn set_auth_if(&self, based_on: u64, auth: Auth, reason: ChangeReason) -> Result<bool> {
        self.shared.auth.set_if(based_on, auth, reason)
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
            Err(_) => Err(Error::config(
                ConfigKind::Runtime,
                "the runtime shut down while a call was in flight",
            )),
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

/// A timeout that can be added to the clock, or `None` for "no limit".
fn usable(d: Duration) -> Option<Duration> {
    // Thirty years is beyond any call; longer values are taken as "no limit" rather than
    // risk an overflow in a timer.
    (d < Duration::from_secs(30 * 365 * 24 * 3600)).then_some(d)
}

/// The most default headers a client sends (distinct names): far more than any service needs,
/// few enough that every request stays well under what servers accept (often 100 fields).
pub(crate) const MAX_DEFAULT_HEADERS: usize = 64;

/// The error for a client with more than [`MAX_DEFAULT_HEADERS`] default headers.
pub(crate) fn too_many_default_headers() -> Error {
    Error::config(
        ConfigKind::Header,
        format!("a client sends at most {MAX_DEFAULT_HEADERS} default headers"),
    )
}

/// Header names that carry credentials by convention, whatever the service: never a default
/// header (send a credential with [`Auth`], which keeps it out of errors and logs).
const CONVENTIONAL_CREDENTIAL_HEADERS: [HeaderName; 5] = [
    AUTHORIZATION,
    PROXY_AUTHORIZATION,
    COOKIE,
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static("x-auth-token"),
];

/// A header for every call, checked: never one that carries credentials (a conventional
/// credential header, or one the client's scheme sends).
fn header_pair(name: &str, value: &str, auth: &Auth) -> Result<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::config(ConfigKind::Header, format!("{:?} is not a header name", name)))?;
    let credential = CONVENTIONAL_CREDENTIAL_HEADERS.contains(&name) || auth.header_names().contains(&name);
    if credential {
        return Err(Error::config(
            ConfigKind::Header,
            format!("{name} carries credentials; set them with ClientBuilder::auth"),
        ));
    }
    let value = HeaderValue::from_str(value).map_err(|_| {
        Error::config(
            ConfigKind::Header,
            format!("the value of {name} cannot go in a header"),
        )
    })?;
    Ok((name, value))
}

impl crate::auth::Obtain<'_> {
    /// Reports a change of credentials the source made by itself, for the callback set with
    /// [`ClientBuilder::on_credential_change`]: a refresh token its provider rotated, which
    /// the application must store to start again. A refresh the client asked for
    /// ([`refresh`](Self::refresh)) that ends with the same credential reports it once.
    pub fn credential_changed(&self, reason: ChangeReason, credential: crate::Secret) {
        self.client().shared.auth.report(reason, credential);
    }

    /// The client whose credentials are wanted. A login through it must send no credential
    /// of its own (the call that logs in replaces the client's).
    pub fn client(&self) -> &Client {
        // Only the client itself makes an `Obtain` (its credential step), with itself as the
        // caller.
        self.caller
            .downcast_ref::<Client>()
            .expect("an Obtain is made by the client it names")
    }
}

impl Client {
    /// Starts the task that keeps a timer pending, on the first call (see `timer`).
    pub(crate) fn keep_timer_pending(&self) {
        self.shared.pending_timer.start(&self.shared);
    }

    /// The credential for the next attempt (see [`AuthCell::credential`]).
    pub(crate) fn credential<'a>(
        &'a self,
        target: &'a crate::error::Target,
    ) -> Result<crate::auth::CredentialStep<'a>> {
        self.shared.auth.credential(self, target)
    }

    /// A fresh credential after `stale` was refused (see [`AuthCell::refreshed_credential`]).
    pub(crate) fn refreshed_credential<'a>(
        &'a self,
        target: &'a crate::error::Target,
        stale: &crate::auth::Credential,
    ) -> crate::auth::BoxFuture<'a, Result<crate::auth::Credential>> {
        self.shared.auth.refreshed_credential(self, target, stale)
    }
}
