//! Credentials: [`Auth`], the scheme a client uses; [`CredentialSource`], the open trait every
//! scheme implements; the generic schemes (bearer, JWT, a named header, a [`TokenProvider`]);
//! and [`Secret`], which never prints.
//!
//! A service whose API has a scheme of its own implements [`CredentialSource`] in its own
//! module and offers constructors that return an [`Auth`]. The core knows no scheme by name:
//! it asks the source for the credential of the next attempt, for a fresh one after a `401`
//! (one refresh in flight for the client and all its clones), for the headers it sends and
//! for the secrets to redact.

mod cell;
mod change;
mod jwt;
mod redact;
mod roles;
mod secret;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::error::{BoxError, ConfigKind, Error, Target};

pub(crate) use cell::{AuthCell, CredentialStep};
pub(crate) use change::Notifier;
pub use change::{ChangeReason, CredentialChange};
pub use jwt::jwt_expiry;
pub(crate) use redact::Redactor;
pub use redact::spellings;
pub use roles::{ApiKey, Password, ResetToken, SessionId, Token};
pub use secret::{REDACTED, Secret};
#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use secret::{expose_opt_secret, expose_secret};
pub(crate) use secret::{noting_secrets, sensitive_value};

/// A boxed future, as [`TokenProvider::token`] and [`CredentialSource::obtain`] return.
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

/// What one attempt sends: one header (or none), and the secrets an error must never show
/// if the server echoes them.
///
/// `Debug` names the header, never its value.
#[derive(Clone, Default)]
pub struct Credential {
    pub(crate) header: Option<(HeaderName, HeaderValue)>,
    pub(crate) secrets: Arc<[Secret]>,
    /// What an application keeps to start again from this credential (the session id, the
    /// token): see [`CredentialChange`].
    pub(crate) keep: Option<Secret>,
    /// The generation of the client's credentials it belongs to.
    pub(crate) generation: u64,
}

impl Credential {
    /// Sends nothing.
    pub fn none() -> Self {
        Credential::default()
    }

    /// Sends `name: value`, the value marked sensitive (kept out of `Debug` of the HTTP
    /// stack) and redacted from every error.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the value holds a line break or another control character, or
    /// a byte a header cannot carry.
    pub fn header(name: HeaderName, value: &Secret) -> Result<Self, Error> {
        value.check_header_safe(&format!("the {name} credential"))?;
        Ok(Credential {
            header: Some((name, sensitive_value(value.expose())?)),
            secrets: Arc::from(vec![value.clone()]),
            keep: Some(value.clone()),
            generation: 0,
        })
    }

    /// `Authorization: Bearer <token>`, with the token redacted from every error.
    ///
    /// # Errors
    /// As [`header`](Self::header).
    pub fn bearer(token: &Secret) -> Result<Self, Error> {
        token.check_header_safe("the bearer token")?;
        Credential::header(AUTHORIZATION, &Secret::new(format!("Bearer {}", token.expose())))
            .map(|c| c.redacting([token.clone()]).keeping(token.clone()))
    }

    /// What an application stores to start again from this credential, when that is not the
    /// whole header value (a token inside a multi-part scheme). Defaults to the header value
    /// (for [`bearer`](Self::bearer), the token).
    pub fn keeping(mut self, secret: Secret) -> Self {
        self.keep = Some(secret);
        self
    }

    /// Also redacts these secrets from errors (parts of the header value a server may echo
    /// on their own, such as one parameter of a multi-part scheme).
    pub fn redacting(mut self, secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut all = self.secrets.to_vec();
        all.extend(secrets);
        self.secrets = all.into();
        self
    }

    /// The name of the header it sends, if any.
    pub fn header_name(&self) -> Option<&HeaderName> {
        self.header.as_ref().map(|(name, _)| name)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("header", &self.header_name().map(|n| n.as_str()))
            .field("value", &self.header.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// The client that asks a source for a credential, seen from here without naming its type
/// (the client holds the credentials, so this module sits below it). [`Obtain::client`],
/// written beside the client, gives it back.
pub(crate) type Caller = dyn Any + Send + Sync;

/// What [`CredentialSource::obtain`] is asked for: the client to make a call with (a login,
/// see [`client`](Obtain::client)), and whether the last credential was refused.
pub struct Obtain<'a> {
    pub(crate) caller: &'a Caller,
    pub(crate) target: &'a Target,
    pub(crate) refresh: bool,
}

impl Obtain<'_> {
    /// Whether a credential was refused (`401`) and a new one is wanted, rather than a first
    /// one.
    pub fn refresh(&self) -> bool {
        self.refresh
    }

    /// An authentication error for the call that asked, with `message` and the failure
    /// behind it.
    pub fn failure(&self, message: impl Into<String>, source: Option<BoxError>) -> Error {
        Error::auth(self.target, message, source)
    }
}

/// Where a client's credentials come from: one scheme.
///
/// The crate's own schemes implement it (see [`Auth`]), each service module adds the schemes
/// of its API (a session, an API key, a login that renews its own session, a vendor's
/// multi-part header), and so can you. The client
/// keeps the source and asks it:
///
/// - once, when it is installed: [`fixed`](Self::fixed), a credential that never changes
///   (checked then, so a bad one fails [`ClientBuilder::build`](crate::ClientBuilder::build));
/// - otherwise, before an attempt: [`obtain`](Self::obtain), whose answer is kept for later
///   calls when [`keeps_obtained`](Self::keeps_obtained) says so (a login's session), or
///   asked for again every attempt (a token provider, which caches by itself);
/// - after a `401` on a call that is safe to repeat, when [`can_refresh`](Self::can_refresh):
///   `obtain` with [`Obtain::refresh`] set, one at a time for the client and all its clones,
///   and the call replays once. A failed refresh ends every call that waited for it.
///
/// ```
/// use userapi::auth::{CredentialSource, Credential};
/// use userapi::{Auth, Client, Secret};
/// use userapi::reqwest::header::HeaderName;
///
/// /// A vendor's `X-Vendor-Key` header.
/// struct VendorKey(Secret);
///
/// static NAMES: [HeaderName; 1] = [HeaderName::from_static("x-vendor-key")];
///
/// impl CredentialSource for VendorKey {
///     fn scheme(&self) -> &'static str { "vendor-key" }
///     fn header_names(&self) -> &[HeaderName] { &NAMES }
///     fn secrets(&self) -> Vec<Secret> { vec![self.0.clone()] }
///     fn fixed(&self) -> userapi::Result<Option<Credential>> {
///         Credential::header(NAMES[0].clone(), &self.0).map(Some)
///     }
/// }
///
/// let client = Client::builder()
///     .base_url("https://vendor.example/")
///     .auth(Auth::custom(VendorKey(Secret::new("k-123"))))
///     .build()?;
/// assert_eq!(client.auth().scheme_name(), "vendor-key");
/// # Ok::<(), userapi::Error>(())
/// ```
pub trait CredentialSource: Any + Send + Sync {
    /// A short name of the scheme, safe to print (`"bearer"`, `"jwt"`, `"vendor-session"`).
    fn scheme(&self) -> &'static str;

    /// Every header this scheme may send: never copied into an error or a log, and refused
    /// as a default header of the client.
    fn header_names(&self) -> &[HeaderName];

    /// The secrets this scheme holds, redacted wherever a server echoes them.
    fn secrets(&self) -> Vec<Secret>;

    /// The credential, when it never changes; `None` when it must be obtained. Called once
    /// when the scheme is installed.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for settings that cannot work (an empty token, a line break in a
    /// header value): the client refuses the scheme.
    fn fixed(&self) -> Result<Option<Credential>, Error>;

    /// When the credential stops being valid, if that is known (a JWT's `exp`): the client
    /// refuses to send it afterwards.
    fn expires_at(&self) -> Option<SystemTime> {
        None
    }

    /// Gets a credential: a first one, or with [`Obtain::refresh`] a new one after a `401`.
    /// Only asked when [`fixed`](Self::fixed) gave none.
    fn obtain<'a>(&'a self, request: Obtain<'a>) -> BoxFuture<'a, Result<Credential, Error>> {
        Box::pin(async move {
            Err(request.failure(
                format!("the {} scheme cannot obtain a credential", self.scheme()),
                None,
            ))
        })
    }

    /// Whether an obtained credential is kept for later calls until a `401` (a login's
    /// session), rather than obtained again for every attempt (a token provider that caches
    /// by itself).
    fn keeps_obtained(&self) -> bool {
        true
    }

    /// Whether a `401` can be answered with a new credential from [`obtain`](Self::obtain).
    fn can_refresh(&self) -> bool {
        false
    }

    /// The credential to start from, given one an application stored (what
    /// [`CredentialChange::credential`] handed it), so that a new process does not obtain a
    /// new one: `None` (the default) when the scheme cannot start from a stored credential.
    /// Only a scheme that [`keeps_obtained`](Self::keeps_obtained) credentials can; when the
    /// stored one is refused, a call that is safe to repeat obtains a new one as after any
    /// `401`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the stored credential cannot be sent (empty, a line break).
    fn restore(&self, stored: &Secret) -> Option<Result<Credential, Error>> {
        let _ = stored;
        None
    }
}

/// How a client proves who it is: one [`CredentialSource`], or none.
///
/// | constructor | header sent |
/// |---|---|
/// | [`Auth::none`] | nothing |
/// | [`Auth::bearer`] | `Authorization: Bearer <token>` |
/// | [`Auth::jwt`] | `Authorization: Bearer <jwt>`, refused before sending once `exp` has passed |
/// | [`Auth::header`] | `<name>: <value>` |
/// | [`Auth::provider`] | `Authorization: Bearer <token from the provider>`, renewed after a `401` |
/// | [`Auth::custom`] | whatever the source sends |
///
/// Services with schemes of their own offer constructors in their modules (`<service>::auth`).
///
/// `Debug` names the scheme, never a secret.
#[derive(Clone, Default)]
pub struct Auth(Option<Arc<dyn CredentialSource>>);

impl Auth {
    /// No credentials.
    pub const NONE: Auth = Auth(None);

    /// No credentials.
    pub fn none() -> Self {
        Auth(None)
    }

    /// `Authorization: Bearer <token>`. An empty token fails `build()`.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Auth::custom(Bearer {
            token: token.into(),
            jwt: false,
        })
    }

    /// A JWT sent as a bearer token. Its `exp` claim is read (not verified) so the client can
    /// report when it expires and refuse to send it afterwards.
    pub fn jwt(token: impl Into<Secret>) -> Self {
        Auth::custom(Bearer {
            token: token.into(),
            jwt: true,
        })
    }

    /// `<name>: <value>` on every call: an API key in a header of the vendor's choosing. A
    /// name that is not a header name, or an empty value, fails `build()`.
    pub fn header(name: &str, value: impl Into<Secret>) -> Self {
        Auth::custom(NamedHeader {
            name: HeaderName::from_bytes(name.as_bytes()).map_err(|_| name.chars().count()),
            value: value.into(),
        })
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
        Auth::token_provider(Arc::new(FnProvider(f)))
    }

    /// Bearer tokens from a [`TokenProvider`].
    pub fn token_provider(provider: Arc<dyn TokenProvider>) -> Self {
        Auth::custom(Provided(provider))
    }

    /// A scheme of your own (or a service's).
    pub fn custom(source: impl CredentialSource) -> Self {
        Auth(Some(Arc::new(source)))
    }

    /// Whether this scheme sends any credential.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// A short name of the scheme, safe to print: `none`, `bearer`, `jwt`, `header`,
    /// `token-provider`, or the name a service's scheme gives itself.
    pub fn scheme_name(&self) -> &'static str {
        self.0.as_ref().map_or("none", |s| s.scheme())
    }

    /// When the credential expires, if that is known (the `exp` of a JWT).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.0.as_ref().and_then(|s| s.expires_at())
    }

    /// The headers this scheme may send.
    pub fn header_names(&self) -> &[HeaderName] {
        self.0.as_ref().map_or(&[], |s| s.header_names())
    }

    /// The source behind this scheme, if it is a `T`.
    pub fn source<T: CredentialSource>(&self) -> Option<&T> {
        let source: &dyn Any = self.0.as_deref()?;
        source.downcast_ref::<T>()
    }

    pub(crate) fn source_dyn(&self) -> Option<&dyn CredentialSource> {
        self.0.as_deref()
    }

    /// The secret values this scheme holds, for redaction of echoes.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        self.0.as_ref().map(|s| s.secrets()).unwrap_or_default()
    }

    /// The credential it sends when nothing must be obtained: checked here.
    pub(crate) fn fixed(&self) -> Result<Option<Credential>, Error> {
        match &self.0 {
            None => Ok(Some(Credential::none())),
            Some(s) => s.fixed(),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Auth::none"),
            Some(s) => write!(f, "Auth::{}({REDACTED})", s.scheme()),
        }
    }
}

/// Refuses an empty secret, naming it: an unset environment variable read with
/// `unwrap_or_default()` would otherwise go out and come back as a bare `401`.
pub(crate) fn non_empty(secret: &Secret, what: &str) -> Result<(), Error> {
    if secret.expose().trim().is_empty() {
        return Err(Error::config(
            ConfigKind::Credential,
            format!("{what} is empty (an unset environment variable?)"),
        ));
    }
    Ok(())
}

static AUTHORIZATION_ONLY: [HeaderName; 1] = [AUTHORIZATION];

/// `Authorization: Bearer`, with a JWT's expiry tracked when it is one.
struct Bearer {
    token: Secret,
    jwt: bool,
}

impl CredentialSource for Bearer {
    fn scheme(&self) -> &'static str {
        if self.jwt { "jwt" } else { "bearer" }
    }

    fn header_names(&self) -> &[HeaderName] {
        &AUTHORIZATION_ONLY
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![self.token.clone()]
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        let what = if self.jwt { "the JWT" } else { "the bearer token" };
        non_empty(&self.token, what)?;
        self.token.check_header_safe(what)?;
        Credential::bearer(&self.token).map(Some)
    }

    fn expires_at(&self) -> Option<SystemTime> {
        if self.jwt {
            jwt_expiry(self.token.expose())
        } else {
            None
        }
    }
}

/// A header with a name of the caller's choosing.
struct NamedHeader {
    /// The name, or how many characters the refused one had (it is never printed: a
    /// careless caller may have swapped name and value).
    name: Result<HeaderName, usize>,
    value: Secret,
}

impl CredentialSource for NamedHeader {
    fn scheme(&self) -> &'static str {
        "header"
    }

    fn header_names(&self) -> &[HeaderName] {
        match &self.name {
            Ok(name) => std::slice::from_ref(name),
            Err(_) => &[],
        }
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![self.value.clone()]
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        let name = self.name.clone().map_err(|chars| {
            Error::config(
                ConfigKind::Credential,
                format!("Auth::header: the name ({chars} characters) is not an HTTP header name"),
            )
        })?;
        non_empty(&self.value, &format!("the {name} credential"))?;
        Credential::header(name, &self.value).map(Some)
    }
}

/// Bearer tokens from a [`TokenProvider`], asked before every attempt.
struct Provided(Arc<dyn TokenProvider>);

impl CredentialSource for Provided {
    fn scheme(&self) -> &'static str {
        "token-provider"
    }

    fn header_names(&self) -> &[HeaderName] {
        &AUTHORIZATION_ONLY
    }

    fn secrets(&self) -> Vec<Secret> {
        Vec::new()
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        Ok(None)
    }

    fn obtain<'a>(&'a self, request: Obtain<'a>) -> BoxFuture<'a, Result<Credential, Error>> {
        Box::pin(async move {
            let token = self
                .0
                .token(request.refresh)
                .await
                .map_err(|source| request.failure("the token provider failed", Some(source)))?;
            Credential::bearer(&token).map_err(|e| request.failure(e.to_string(), None))
        })
    }

    fn keeps_obtained(&self) -> bool {
        false
    }

    fn can_refresh(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
