//! Credentials: the [`Secret`] wrapper, the [`Auth`] schemes every service uses, and
//! [`TokenProvider`] for tokens that come from elsewhere and expire.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::error::{BoxError, Error};

/// What `Debug` and `Display` print in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// A credential: token, password, session id or API key.
///
/// `Debug` and `Display` print [`REDACTED`]; only [`Secret::expose`] gives the value, so a
/// secret cannot reach a log line or an error message by accident. Cloning is cheap.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }

    /// The value itself. Call this only where the value must leave the process.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Rejects values that would break or smuggle an HTTP header.
    pub(crate) fn check_header_safe(&self, what: &str) -> Result<(), Error> {
        if self.0.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(Error::config(format!(
                "{what} contains a line break (CR or LF), which is never valid in a credential"
            )));
        }
        if self.0.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(Error::config(format!(
                "{what} contains a control character, which is never valid in a credential"
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Secret::new(value.as_str())
    }
}

/// A boxed future, as [`TokenProvider::token`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of bearer tokens that the client asks before each request.
///
/// Use it where tokens expire and something else issues them (an OpenID Connect flow, a
/// JWT refresh endpoint, a vault). The client calls `token(false)` before every attempt, so
/// the provider should cache. When a request that is safe to repeat comes back `401`, the
/// client calls `token(true)` once, replays the request once, and never loops.
///
/// A closure works too: see [`Auth::provider`].
pub trait TokenProvider: Send + Sync + 'static {
    /// A current token; with `refresh` set, a new one (the last one was refused).
    fn token(&self, refresh: bool) -> BoxFuture<'_, Result<Secret, BoxError>>;
}

struct FnProvider<F>(F);

impl<F, Fut> TokenProvider for FnProvider<F>
where
    F: Fn(bool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Secret, BoxError>> + Send + 'static,
{
    fn token(&self, refresh: bool) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin((self.0)(refresh))
    }
}

/// How a client proves who it is. One scheme per client.
///
/// | scheme | header sent |
/// |---|---|
/// | [`Auth::Bearer`] | `Authorization: Bearer <token>` |
/// | [`Auth::Jwt`] | `Authorization: Bearer <jwt>`, refused before sending once `exp` has passed |
/// | [`Auth::DiadocAuth`] | `Authorization: DiadocAuth ddauth_api_client_id=<id>[,ddauth_token=<token>]` |
/// | [`Auth::MetabaseSession`] | `X-Metabase-Session: <session id>` |
/// | [`Auth::MetabaseApiKey`] | `X-API-Key: <key>` |
/// | [`Auth::Provider`] | `Authorization: Bearer <token from the provider>` |
/// | [`Auth::None`] | nothing |
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// An opaque bearer token (NovaConnect, Rightech, Diadoc OpenID Connect).
    Bearer(Secret),
    /// A JSON Web Token sent as a bearer token. Its `exp` claim is read (not verified) so the
    /// client can report when it expires and refuse to send it afterwards.
    Jwt(Secret),
    /// Kontur Diadoc's own scheme: the API client id, and the token once there is one.
    DiadocAuth {
        /// `ddauth_api_client_id`.
        client_id: Secret,
        /// `ddauth_token`; `None` before authenticating.
        token: Option<Secret>,
    },
    /// A Metabase session id from `POST /api/session`.
    MetabaseSession(Secret),
    /// A Metabase API key (`mb_…`).
    MetabaseApiKey(Secret),
    /// Bearer tokens from a [`TokenProvider`].
    Provider(Arc<dyn TokenProvider>),
    /// Metabase credentials: the client logs in (`POST /api/session`) on first use, sends
    /// the session as `X-Metabase-Session`, and logs in again once when a call that is safe
    /// to repeat comes back `401` (the session expired or was ended); see
    /// [`Auth::metabase_login`].
    #[cfg(feature = "metabase")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metabase")))]
    MetabaseLogin {
        /// The email (or LDAP user name) to log in with.
        username: String,
        /// The password.
        password: Secret,
    },
}

impl Auth {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Auth::Bearer(token.into())
    }

    /// A JWT sent as a bearer token, with its expiry tracked.
    pub fn jwt(token: impl Into<Secret>) -> Self {
        Auth::Jwt(token.into())
    }

    /// Diadoc's scheme with a client id and, when known, a token.
    pub fn diadoc(client_id: impl Into<Secret>, token: Option<Secret>) -> Self {
        Auth::DiadocAuth {
            client_id: client_id.into(),
            token,
        }
    }

    /// `X-Metabase-Session: <id>`.
    pub fn metabase_session(session_id: impl Into<Secret>) -> Self {
        Auth::MetabaseSession(session_id.into())
    }

    /// `X-API-Key: <key>`.
    pub fn metabase_api_key(key: impl Into<Secret>) -> Self {
        Auth::MetabaseApiKey(key.into())
    }

    /// Metabase credentials that renew their own session: the client logs in lazily on its
    /// first call, and again (once, and once for all concurrent calls) when a call that is
    /// safe to repeat comes back `401`. Metabase throttles logins per user name, so the
    /// client never logs in per call, and a failed login ends the call with its error.
    #[cfg(feature = "metabase")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metabase")))]
    pub fn metabase_login(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Auth::MetabaseLogin {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Bearer tokens from an async closure; its argument is `true` when the last token was
    /// refused and a fresh one is wanted.
    ///
    /// ```
    /// use userapi::{Auth, Secret};
    /// let auth = Auth::provider(|_refresh| async { Ok(Secret::new("fresh-token")) });
    /// # let _ = auth;
    /// ```
    pub fn provider<F, Fut>(f: F) -> Self
    where
        F: Fn(bool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Secret, BoxError>> + Send + 'static,
    {
        Auth::Provider(Arc::new(FnProvider(f)))
    }

    /// Whether this scheme sends any credential.
    pub fn is_none(&self) -> bool {
        matches!(self, Auth::None)
    }

    /// A short name of the scheme, safe to print.
    pub fn scheme_name(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Bearer(_) => "bearer",
            Auth::Jwt(_) => "jwt",
            Auth::DiadocAuth { .. } => "diadoc",
            Auth::MetabaseSession(_) => "metabase-session",
            Auth::MetabaseApiKey(_) => "metabase-api-key",
            Auth::Provider(_) => "token-provider",
            #[cfg(feature = "metabase")]
            Auth::MetabaseLogin { .. } => "metabase-login",
        }
    }

    /// When the JWT of an [`Auth::Jwt`] expires, if its `exp` claim can be read.
    pub fn expires_at(&self) -> Option<SystemTime> {
        match self {
            Auth::Jwt(token) => jwt_expiry(token.expose()),
            _ => None,
        }
    }

    /// Checks every secret for characters that cannot go in a header.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self {
            Auth::None | Auth::Provider(_) => Ok(()),
            #[cfg(feature = "metabase")]
            Auth::MetabaseLogin { username, password } => {
                if username.trim().is_empty() || password.is_empty() {
                    return Err(Error::config(
                        "Auth::metabase_login needs a user name and a password",
                    ));
                }
                Ok(())
            }
            Auth::Bearer(s) | Auth::Jwt(s) => s.check_header_safe("the bearer token"),
            Auth::MetabaseSession(s) => s.check_header_safe("the Metabase session id"),
            Auth::MetabaseApiKey(s) => s.check_header_safe("the Metabase API key"),
            Auth::DiadocAuth { client_id, token } => {
                client_id.check_header_safe("the Diadoc client id")?;
                diadoc_param(client_id.expose(), "the Diadoc client id")?;
                match token {
                    Some(t) => {
                        t.check_header_safe("the Diadoc token")?;
                        // Tokens are base64: `=` only as the trailing padding.
                        diadoc_param(t.expose().trim_end_matches('='), "the Diadoc token")
                    }
                    None => Ok(()),
                }
            }
        }
    }

    /// The header this scheme sends, for the schemes that need no provider call.
    pub(crate) fn static_header(&self) -> Result<Option<(HeaderName, HeaderValue)>, Error> {
        let (name, value) = match self {
            Auth::None | Auth::Provider(_) => return Ok(None),
            #[cfg(feature = "metabase")]
            Auth::MetabaseLogin { .. } => return Ok(None),
            Auth::Bearer(t) | Auth::Jwt(t) => (AUTHORIZATION, format!("Bearer {}", t.expose())),
            Auth::DiadocAuth { client_id, token } => {
                let mut v = format!("DiadocAuth ddauth_api_client_id={}", client_id.expose());
                if let Some(t) = token {
                    v.push_str(",ddauth_token=");
                    v.push_str(t.expose());
                }
                (AUTHORIZATION, v)
            }
            Auth::MetabaseSession(s) => (
                HeaderName::from_static("x-metabase-session"),
                s.expose().to_owned(),
            ),
            Auth::MetabaseApiKey(k) => (HeaderName::from_static("x-api-key"), k.expose().to_owned()),
        };
        Ok(Some((name, sensitive_value(&value)?)))
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::DiadocAuth { token, .. } => f
                .debug_struct("DiadocAuth")
                .field("client_id", &REDACTED)
                .field("token", &token.as_ref().map(|_| REDACTED))
                .finish(),
            other => write!(f, "Auth::{}({REDACTED})", other.scheme_name()),
        }
    }
}

impl Auth {
    /// The secret values this scheme sends, for redaction of echoes.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        match self {
            Auth::None | Auth::Provider(_) => Vec::new(),
            Auth::Bearer(s) | Auth::Jwt(s) | Auth::MetabaseSession(s) | Auth::MetabaseApiKey(s) => {
                vec![s.clone()]
            }
            Auth::DiadocAuth { client_id, token } => {
                let mut v = vec![client_id.clone()];
                v.extend(token.iter().cloned());
                v
            }
            #[cfg(feature = "metabase")]
            Auth::MetabaseLogin { password, .. } => vec![password.clone()],
        }
    }

    /// Whether the client can get a fresh credential itself after a `401`.
    pub(crate) fn can_refresh(&self) -> bool {
        match self {
            Auth::Provider(_) => true,
            #[cfg(feature = "metabase")]
            Auth::MetabaseLogin { .. } => true,
            _ => false,
        }
    }
}

/// A credential at hand, or the work to get one (a provider's token, a login).
pub(crate) enum CredentialStep<'a> {
    Ready(Credential),
    Later(BoxFuture<'a, Result<Credential, Error>>),
}

/// The credential one attempt sends: its header, the secrets in it (for redaction), and the
/// generation of the client's credentials it belongs to.
#[derive(Clone, Default)]
pub(crate) struct Credential {
    pub(crate) header: Option<(HeaderName, HeaderValue)>,
    pub(crate) secrets: Arc<[Secret]>,
    pub(crate) generation: u64,
}

/// The credentials a client and all its clones share.
///
/// Every change bumps `generation`: a change computed from an older generation (a login
/// that was in flight while the password changed) can then be refused, and a `401` on a
/// credential older than the current one replays with the current one instead of asking for
/// another. Refreshes run one at a time (`refresh`), so 64 concurrent `401`s cost one refresh;
/// and when that refresh fails, the calls that were waiting for it end with its failure
/// instead of each trying again (a failed Metabase login counts against the user's limit).
pub(crate) struct AuthCell {
    state: std::sync::RwLock<AuthState>,
    refresh: tokio::sync::Mutex<Option<FailedRefresh>>,
    /// How many refreshes (or logins) have failed: a call that sees it move while it waited
    /// for the lock shares the failure that moved it.
    failures: std::sync::atomic::AtomicU64,
}

/// The last failed refresh: for which generation, and what it said.
struct FailedRefresh {
    generation: u64,
    message: String,
    source: Option<String>,
}

struct AuthState {
    auth: Auth,
    generation: u64,
    /// The header of a scheme that needs no provider or login, built once.
    header: Option<(HeaderName, HeaderValue)>,
    secrets: Arc<[Secret]>,
    /// A credential the client obtained for `auth` itself: a refreshed provider token, a
    /// Metabase session from a login.
    obtained: Option<Credential>,
}

impl AuthState {
    fn new(auth: Auth, generation: u64) -> Result<Self, Error> {
        auth.validate()?;
        let header = auth.static_header()?;
        let secrets = auth.secrets().into();
        Ok(AuthState {
            auth,
            generation,
            header,
            secrets,
            obtained: None,
        })
    }
}

impl AuthCell {
    pub(crate) fn new(auth: Auth) -> Result<Self, Error> {
        Ok(AuthCell {
            state: std::sync::RwLock::new(AuthState::new(auth, 0)?),
            refresh: tokio::sync::Mutex::new(None),
            failures: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, AuthState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, AuthState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn auth(&self) -> Auth {
        self.read().auth.clone()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.read().generation
    }

    pub(crate) fn can_refresh(&self) -> bool {
        self.read().auth.can_refresh()
    }

    /// Replaces the credentials.
    pub(crate) fn set(&self, auth: Auth) -> Result<(), Error> {
        let mut state = self.write();
        *state = AuthState::new(auth, state.generation + 1)?;
        Ok(())
    }

    /// Replaces the credentials only if nothing changed them since `based_on`; whether it did.
    #[cfg_attr(not(any(feature = "metabase", feature = "diadoc")), allow(dead_code))]
    pub(crate) fn set_if(&self, based_on: u64, auth: Auth) -> Result<bool, Error> {
        let mut state = self.write();
        if state.generation != based_on {
            return Ok(false);
        }
        *state = AuthState::new(auth, based_on + 1)?;
        Ok(true)
    }

    /// Replaces the credentials and records a credential obtained for them (a session from
    /// a login under [`Auth::MetabaseLogin`]).
    #[cfg(feature = "metabase")]
    pub(crate) fn set_with_obtained(&self, auth: Auth, obtained: (HeaderName, Secret)) -> Result<(), Error> {
        let mut state = self.write();
        let mut next = AuthState::new(auth, state.generation + 1)?;
        next.obtained = Some(obtained_credential(obtained.0, &obtained.1, &next)?);
        *state = next;
        Ok(())
    }
}

#[cfg(feature = "metabase")]
fn obtained_credential(name: HeaderName, value: &Secret, state: &AuthState) -> Result<Credential, Error> {
    value.check_header_safe("the credential the client obtained")?;
    let mut secrets: Vec<Secret> = state.secrets.to_vec();
    secrets.push(value.clone());
    Ok(Credential {
        header: Some((name, sensitive_value(value.expose())?)),
        secrets: secrets.into(),
        generation: state.generation,
    })
}

impl crate::client::Client {
    /// The credential for the next attempt: the static header, the provider's current
    /// token, or (under [`Auth::MetabaseLogin`]) the session, logging in first if there is none.
    ///
    /// Synchronous for every scheme that has its header at hand (the common case, so a call
    /// carries no future for it); the provider's answer or a login come as a boxed future.
    pub(crate) fn credential<'a>(
        &'a self,
        target: &'a crate::error::Target,
    ) -> Result<CredentialStep<'a>, Error> {
        enum Next {
            Ready(Credential),
            Ask(Arc<dyn TokenProvider>, u64),
            #[cfg(feature = "metabase")]
            LogIn(u64),
        }
        let next = {
            let state = self.shared.auth.read();
            let current = || Credential {
                header: state.header.clone(),
                secrets: Arc::clone(&state.secrets),
                generation: state.generation,
            };
            match &state.auth {
                Auth::Provider(p) => Next::Ask(Arc::clone(p), state.generation),
                #[cfg(feature = "metabase")]
                Auth::MetabaseLogin { .. } => match &state.obtained {
                    Some(c) => Next::Ready(c.clone()),
                    None => Next::LogIn(state.generation),
                },
                Auth::Jwt(_) => {
                    if let Some(exp) = state.auth.expires_at()
                        && exp <= SystemTime::now()
                    {
                        let ago = SystemTime::now().duration_since(exp).unwrap_or_default();
                        return Err(Error::auth(
                            target,
                            format!(
                                "the JWT expired {} s ago; get a new token (or use a token provider)",
                                ago.as_secs()
                            ),
                            None,
                        ));
                    }
                    Next::Ready(current())
                }
                _ => Next::Ready(current()),
            }
        };
        match next {
            Next::Ready(c) => Ok(CredentialStep::Ready(c)),
            Next::Ask(provider, generation) => Ok(CredentialStep::Later(Box::pin(async move {
                let token = provider
                    .token(false)
                    .await
                    .map_err(|source| Error::auth(target, "the token provider failed", Some(source)))?;
                provider_credential(target, &token, generation)
            }))),
            #[cfg(feature = "metabase")]
            Next::LogIn(generation) => Ok(CredentialStep::Later(Box::pin(
                self.obtain(target, generation, false),
            ))),
        }
    }

    /// A fresh credential after `stale` was refused with a `401`: the current one when the
    /// credentials changed since `stale` was taken, otherwise one new token from the provider
    /// or one new login. One refresh at a time for the client and all its clones.
    pub(crate) fn refreshed_credential<'a>(
        &'a self,
        target: &'a crate::error::Target,
        stale: &Credential,
    ) -> BoxFuture<'a, Result<Credential, Error>> {
        Box::pin(self.obtain(target, stale.generation, true))
    }

    /// Gets a credential for generation `seen` under the refresh lock: if another call
    /// already did (the generation moved on, or a first login landed), that one is used.
    async fn obtain(
        &self,
        target: &crate::error::Target,
        seen: u64,
        refresh: bool,
    ) -> Result<Credential, Error> {
        use std::sync::atomic::Ordering;
        let cell = &self.shared.auth;
        let failures = cell.failures.load(Ordering::SeqCst);
        let mut last_failure = cell.refresh.lock().await;
        let (auth, generation) = {
            let state = cell.read();
            // The refresh this call waited for failed, for these same credentials.
            if let Some(failed) = last_failure.as_ref()
                && cell.failures.load(Ordering::SeqCst) != failures
                && failed.generation == seen
                && state.generation == seen
            {
                return Err(Error::auth(
                    target,
                    format!(
                        "a concurrent call's attempt to renew the credentials failed: {}",
                        failed.message
                    ),
                    failed.source.clone().map(Into::into),
                ));
            }
            if state.generation != seen || (!refresh && state.obtained.is_some()) {
                if let Some(c) = &state.obtained {
                    return Ok(c.clone());
                }
                if state.header.is_some() || state.auth.is_none() {
                    return Ok(Credential {
                        header: state.header.clone(),
                        secrets: Arc::clone(&state.secrets),
                        generation: state.generation,
                    });
                }
            }
            (state.auth.clone(), state.generation)
        };
        let obtained = match &auth {
            Auth::Provider(p) => p
                .token(true)
                .await
                .map_err(|source| Error::auth(target, "the token provider failed", Some(source)))
                .and_then(|token| provider_credential(target, &token, generation)),
            #[cfg(feature = "metabase")]
            Auth::MetabaseLogin { username, password } => {
                crate::metabase::session_login(self, username, password)
                    .await
                    .and_then(|session| {
                        let state = cell.read();
                        obtained_credential(HeaderName::from_static("x-metabase-session"), &session, &state)
                    })
            }
            _ => {
                let state = cell.read();
                return Ok(Credential {
                    header: state.header.clone(),
                    secrets: Arc::clone(&state.secrets),
                    generation: state.generation,
                });
            }
        };
        let obtained = match obtained {
            Ok(c) => {
                *last_failure = None;
                c
            }
            Err(err) => {
                *last_failure = Some(FailedRefresh {
                    generation,
                    message: err.to_string(),
                    source: std::error::Error::source(&err).map(ToString::to_string),
                });
                cell.failures.fetch_add(1, Ordering::SeqCst);
                return Err(err);
            }
        };
        let mut state = cell.write();
        if state.generation != generation {
            // The credentials were replaced while this one was being obtained: it belongs
            // to the old ones, so it is used for this call only.
            return Ok(obtained);
        }
        state.generation += 1;
        let credential = Credential {
            generation: state.generation,
            ..obtained
        };
        state.obtained = Some(credential.clone());
        Ok(credential)
    }
}

fn provider_credential(
    target: &crate::error::Target,
    token: &Secret,
    generation: u64,
) -> Result<Credential, Error> {
    token
        .check_header_safe("the token from the provider")
        .map_err(|e| Error::auth(target, e.to_string(), None))?;
    let value = sensitive_value(&format!("Bearer {}", token.expose()))
        .map_err(|e| Error::auth(target, e.to_string(), None))?;
    Ok(Credential {
        header: Some((AUTHORIZATION, value)),
        secrets: Arc::from(vec![token.clone()]),
        generation,
    })
}

thread_local! {
    /// The secrets written by [`expose_secret`] while a request body is being serialized.
    static WRITTEN: std::cell::RefCell<Option<Vec<Secret>>> = const { std::cell::RefCell::new(None) };
}

#[cfg_attr(
    not(any(
        feature = "novaconnect",
        feature = "diadoc",
        feature = "metabase",
        feature = "rightech"
    )),
    allow(dead_code)
)]
/// Writes a secret's value into a request body (`#[serde(serialize_with = ...)]`), and notes
/// it so that an error never shows it if the server echoes it. Only request bodies use this.
pub(crate) fn expose_secret<S: serde::Serializer, T: std::borrow::Borrow<Secret>>(
    secret: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    let secret = secret.borrow();
    WRITTEN.with(|w| {
        if let Some(written) = w.borrow_mut().as_mut() {
            written.push(secret.clone());
        }
    });
    s.serialize_str(secret.expose())
}

#[cfg_attr(not(any(feature = "metabase", feature = "rightech")), allow(dead_code))]
/// [`expose_secret`] for an optional secret.
pub(crate) fn expose_opt_secret<S: serde::Serializer, T: std::borrow::Borrow<Secret>>(
    secret: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(v) => expose_secret(v, s),
        None => s.serialize_none(),
    }
}

/// Runs `write` (a body's serialization) and returns what it wrote with the secrets in it.
pub(crate) fn noting_secrets<T>(write: impl FnOnce() -> T) -> (T, Vec<Secret>) {
    let outer = WRITTEN.with(|w| w.borrow_mut().replace(Vec::new()));
    let out = write();
    let written = WRITTEN.with(|w| std::mem::replace(&mut *w.borrow_mut(), outer));
    (out, written.unwrap_or_default())
}

/// Replaces every occurrence of the secrets a request sent (as they are, JSON-escaped, and
/// percent-encoded) with [`REDACTED`] in what the server answered, before an error keeps it.
/// A JSON string that spells a secret with `\u` escapes is rewritten with the secret
/// replaced, and a body cut in the middle of a secret loses the cut start too.
pub(crate) struct Redactor {
    /// Longest first, so that an escaped form is replaced whole.
    needles: Vec<Vec<u8>>,
    /// The secrets as they are, for matching decoded JSON strings.
    raw: Vec<String>,
}

/// The shortest start of a secret that a cut body loses: shorter ones say too little to
/// matter, and would make every body that ends in a common letter look like a leak.
const CUT_SECRET_MIN: usize = 4;

impl Redactor {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        let mut raws = Vec::new();
        for secret in secrets {
            let raw = secret.expose();
            if raw.is_empty() {
                continue;
            }
            raws.push(raw.to_owned());
            needles.push(raw.as_bytes().to_vec());
            if let Ok(json) = serde_json::to_string(raw) {
                needles.push(json.as_bytes()[1..json.len() - 1].to_vec());
            }
            // Percent-encoded as a form (`+` for a space) or a path (`%20`), with the hex
            // digits in either case.
            let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
            let path = form.replace('+', "%20");
            for encoded in [form, path] {
                needles.push(lower_hex(&encoded));
                needles.push(encoded.into_bytes());
            }
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Redactor { needles, raw: raws }
    }

    /// Whether `haystack` holds any secret.
    fn found_in(&self, haystack: &[u8]) -> bool {
        self.needles.iter().any(|n| find(haystack, n, 0).is_some())
    }

    /// The bytes with every secret replaced (the same buffer when there is none).
    pub(crate) fn bytes(&self, input: bytes::Bytes) -> bytes::Bytes {
        let escaped = self.unicode_escapes(&input);
        let input = escaped.map_or(input, bytes::Bytes::from);
        if !self.found_in(&input) {
            return input;
        }
        self.replace_all(&input).into()
    }

    /// The bytes of a body cut at a limit, with every secret replaced, and the end replaced
    /// too when it is the start of a secret (at least [`CUT_SECRET_MIN`] bytes of it).
    pub(crate) fn cut_bytes(&self, input: bytes::Bytes) -> bytes::Bytes {
        let input = self.bytes(input);
        let cut = self
            .needles
            .iter()
            .filter_map(|n| {
                (CUT_SECRET_MIN..n.len().min(input.len() + 1))
                    .rev()
                    .find(|&k| input.ends_with(&n[..k]))
            })
            .max();
        match cut {
            Some(k) => {
                let mut out = input[..input.len() - k].to_vec();
                out.extend_from_slice(REDACTED.as_bytes());
                out.into()
            }
            None => input,
        }
    }

    /// The text with every secret replaced.
    pub(crate) fn string(&self, input: &mut String) {
        if let Some(out) = self.unicode_escapes(input.as_bytes()) {
            *input = String::from_utf8_lossy(&out).into_owned();
        }
        if !self.found_in(input.as_bytes()) {
            return;
        }
        let out = self.replace_all(input.as_bytes());
        *input = String::from_utf8_lossy(&out).into_owned();
    }

    /// `None` when no JSON string literal in `input` spells a secret with `\u` escapes;
    /// otherwise the bytes with each such literal decoded, the secret replaced, and written
    /// back as JSON.
    fn unicode_escapes(&self, input: &[u8]) -> Option<Vec<u8>> {
        if self.raw.is_empty() || find(input, b"\\u", 0).is_none() {
            return None;
        }
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut i = 0;
        while i < input.len() {
            if input[i] != b'"' {
                i += 1;
                continue;
            }
            // A literal: up to the next quote that no backslash escapes.
            let start = i;
            let mut j = i + 1;
            let mut has_u = false;
            while j < input.len() && input[j] != b'"' {
                if input[j] == b'\\' {
                    has_u |= input.get(j + 1) == Some(&b'u');
                    j += 1;
                }
                j += 1;
            }
            if j >= input.len() {
                break;
            }
            let literal = &input[start..=j];
            if has_u
                && let Ok(decoded) = serde_json::from_slice::<String>(literal)
                && self.raw.iter().any(|s| decoded.contains(s.as_str()))
            {
                let mut clean = decoded;
                for secret in &self.raw {
                    clean = clean.replace(secret.as_str(), REDACTED);
                }
                let buf = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
                buf.extend_from_slice(&input[copied..start]);
                buf.extend_from_slice(serde_json::to_string(&clean).unwrap_or_default().as_bytes());
                copied = j + 1;
            }
            i = j + 1;
        }
        let mut out = out?;
        out.extend_from_slice(&input[copied..]);
        Some(out)
    }

    pub(crate) fn option(&self, input: &mut Option<String>) {
        if let Some(s) = input {
            self.string(s);
        }
    }

    /// Every header value with a secret in it, rewritten.
    pub(crate) fn headers(&self, headers: &mut reqwest::header::HeaderMap) {
        for value in headers.values_mut() {
            if self.found_in(value.as_bytes()) {
                let clean = self.bytes(bytes::Bytes::copy_from_slice(value.as_bytes()));
                *value = HeaderValue::from_bytes(&clean).unwrap_or(HeaderValue::from_static(REDACTED));
            }
        }
    }
}

/// Percent-encoded text with the two hex digits after each `%` in lower case.
fn lower_hex(encoded: &str) -> Vec<u8> {
    let mut out = encoded.as_bytes().to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'%' {
            for b in out.iter_mut().skip(i + 1).take(2) {
                b.make_ascii_lowercase();
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len())
        .find(|&i| haystack[i] == needle[0] && haystack[i..].starts_with(needle))
}

impl Redactor {
    /// One pass: at each position the longest secret that starts there is replaced, and the
    /// marker itself is never searched again.
    fn replace_all(&self, haystack: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(haystack.len());
        let mut i = 0;
        while i < haystack.len() {
            match self.needles.iter().find(|n| haystack[i..].starts_with(n)) {
                Some(n) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += n.len();
                }
                None => {
                    out.push(haystack[i]);
                    i += 1;
                }
            }
        }
        out
    }
}

/// A DiadocAuth parameter value: `,`, `=` or white space would end it and start another
/// parameter (a client id `cid,ddauth_token=x` forges a token).
fn diadoc_param(value: &str, what: &str) -> Result<(), Error> {
    if value.chars().any(|c| c == ',' || c == '=' || c.is_whitespace()) {
        return Err(Error::config(format!(
            "{what} contains ',', '=' or white space, which would change the DiadocAuth parameters"
        )));
    }
    Ok(())
}

/// Every header name that carries a credential in one of the schemes above.
pub(crate) const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "x-metabase-session", "x-api-key"];

pub(crate) fn sensitive_value(value: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| Error::config("a credential holds a character that cannot go in an HTTP header"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Reads the `exp` claim of a JWT without verifying the signature.
pub fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    #[derive(serde::Deserialize)]
    struct Claims {
        exp: Option<f64>,
    }
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.exp?;
    if !exp.is_finite() || exp < 0.0 {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs_f64(exp.min(1e15)))
}

/// Decodes unpadded or padded base64url; `None` on any character outside the alphabet.
pub(crate) fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let input = input.trim_end_matches('=');
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in input.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
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
        let a = Auth::diadoc("client-xyz", Some(Secret::new("tok-abc")));
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("client-xyz") && !dbg.contains("tok-abc"), "{dbg}");
    }

    #[test]
    fn crlf_rejected() {
        let err = Auth::bearer("abc\r\nX-Evil: 1").validate().unwrap_err();
        assert!(err.to_string().contains("line break"), "{err}");
        assert!(!err.to_string().contains("abc"));
    }

    #[test]
    fn diadoc_header_shape() {
        let (name, value) = Auth::diadoc("cid", Some(Secret::new("tok")))
            .static_header()
            .unwrap()
            .unwrap();
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(value, "DiadocAuth ddauth_api_client_id=cid,ddauth_token=tok");
        assert!(value.is_sensitive());
        let (_, value) = Auth::diadoc("cid", None).static_header().unwrap().unwrap();
        assert_eq!(value, "DiadocAuth ddauth_api_client_id=cid");
    }

    #[test]
    fn diadoc_parameters_cannot_smuggle_others() {
        for id in ["cid,ddauth_token=FORGED", "cid=x", "c id", "cid\t", "cid,"] {
            let err = Auth::diadoc(id, None).validate().unwrap_err();
            assert!(err.to_string().contains("DiadocAuth"), "{id:?}: {err}");
            assert!(!err.to_string().contains(id), "{err}");
        }
        for token in ["t,ddauth_api_client_id=other", "a=b", "a b"] {
            assert!(
                Auth::diadoc("cid", Some(Secret::new(token))).validate().is_err(),
                "{token:?}"
            );
        }
        // Real tokens are base64 with padding.
        assert!(
            Auth::diadoc("testClient-8ee1", Some(Secret::new("3IU0/Ui5+WSq6lrPw==")))
                .validate()
                .is_ok()
        );
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
}
