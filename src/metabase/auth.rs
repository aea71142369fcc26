//! Metabase's credentials: a session id (`X-Metabase-Session`), an API key (`X-API-Key`), or
//! a user name and password that log in on demand and renew their own session.

use reqwest::header::HeaderName;

use super::session_login;
use crate::auth::{Auth, BoxFuture, Credential, CredentialSource, Obtain, Secret, non_empty};
use crate::error::Error;

/// The header a session travels in.
pub(crate) const SESSION_HEADER: HeaderName = HeaderName::from_static("x-metabase-session");
static SESSION_NAMES: [HeaderName; 1] = [SESSION_HEADER];
static API_KEY_NAMES: [HeaderName; 1] = [HeaderName::from_static("x-api-key")];

/// `X-Metabase-Session: <id>`: a session from [`Metabase::login`](super::Metabase::login) or
/// `POST /api/session`. An empty id fails `build()`.
pub fn session(session_id: impl Into<Secret>) -> Auth {
    Auth::custom(Session(session_id.into()))
}

/// `X-API-Key: <key>`: a key from Admin settings or
/// [`Metabase::create_api_key`](super::Metabase::create_api_key). An empty key fails `build()`.
pub fn api_key(key: impl Into<Secret>) -> Auth {
    Auth::custom(ApiKey(key.into()))
}

/// A user name (email, or LDAP name) and password: the client logs in lazily on its first
/// call (`POST /api/session`), sends the session as `X-Metabase-Session`, and logs in again,
/// once for all concurrent calls, when a call that is safe to repeat comes back `401`.
/// Metabase throttles logins per user name, so the client never logs in per call, and a
/// failed login ends the call with its error. A blank user name or empty password fails
/// `build()`.
///
/// ```
/// use userapi::metabase;
/// let auth = metabase::auth::login("ada@example.com", "s3cret-pass");
/// assert_eq!(auth.scheme_name(), "metabase-login");
/// ```
pub fn login(username: impl Into<String>, password: impl Into<Secret>) -> Auth {
    Auth::custom(Login {
        username: username.into(),
        password: password.into(),
    })
}

/// The scheme behind [`session`]; `client.auth().source::<Session>()` finds it.
pub struct Session(Secret);

impl Session {
    /// The session id sent.
    pub fn id(&self) -> &Secret {
        &self.0
    }
}

/// The scheme behind [`api_key`]; `client.auth().source::<ApiKey>()` finds it.
pub struct ApiKey(Secret);

impl ApiKey {
    /// The key sent.
    pub fn key(&self) -> &Secret {
        &self.0
    }
}

/// The scheme behind [`login`]; `client.auth().source::<Login>()` finds it.
pub struct Login {
    pub(crate) username: String,
    password: Secret,
}

impl Login {
    /// The user name it logs in with.
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl CredentialSource for Session {
    fn scheme(&self) -> &'static str {
        "metabase-session"
    }

    fn header_names(&self) -> &[HeaderName] {
        &SESSION_NAMES
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![self.0.clone()]
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        non_empty(&self.0, "the Metabase session id")?;
        self.0.check_header_safe("the Metabase session id")?;
        Credential::header(SESSION_HEADER, &self.0).map(Some)
    }
}

impl CredentialSource for ApiKey {
    fn scheme(&self) -> &'static str {
        "metabase-api-key"
    }

    fn header_names(&self) -> &[HeaderName] {
        &API_KEY_NAMES
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![self.0.clone()]
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        non_empty(&self.0, "the Metabase API key")?;
        self.0.check_header_safe("the Metabase API key")?;
        Credential::header(API_KEY_NAMES[0].clone(), &self.0).map(Some)
    }
}

impl CredentialSource for Login {
    fn scheme(&self) -> &'static str {
        "metabase-login"
    }

    fn header_names(&self) -> &[HeaderName] {
        &SESSION_NAMES
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![self.password.clone()]
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        if self.username.trim().is_empty() || self.password.is_empty() {
            return Err(Error::config(
                crate::ConfigKind::Credential,
                "metabase::auth::login needs a user name and a password (one is empty)",
            ));
        }
        Ok(None)
    }

    fn obtain<'a>(&'a self, request: Obtain<'a>) -> BoxFuture<'a, Result<Credential, Error>> {
        Box::pin(async move {
            let session = session_login(request.client(), &self.username, &self.password).await?;
            session
                .as_secret()
                .check_header_safe("the credential the client obtained")?;
            Credential::header(SESSION_HEADER, session.as_secret())
        })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    /// A session stored by an earlier run: sent until the server refuses it, then one login.
    fn restore(&self, stored: &Secret) -> Option<Result<Credential, Error>> {
        Some(
            crate::auth::non_empty(stored, "the stored Metabase session")
                .and_then(|()| Credential::header(SESSION_HEADER, stored)),
        )
    }
}
