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
