//! Sessions and passwords: login, logout, the password check, forgotten and reset passwords,
//! and the one place a session from the server becomes the client's.

use reqwest::Method;

use super::models::{self, PasswordChanged};
use super::{Metabase, SERVICE, auth, non_blank};
use crate::auth::{Auth, ChangeReason, Credential, Password, ResetToken, Secret, SessionId};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::RawResponse;

impl Metabase {
    /// `POST /api/session`: logs in with an email and password. Returns the session id.
    ///
    /// Installs the session (or token) on this client and all its clones: they send it as
    /// `X-Metabase-Session` from then on.
    ///
    /// Metabase throttles logins (10 per username): keep a session for its lifetime rather
    /// than logging in per request. Never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL, USER_PASSWORD};
    /// use userapi::Auth;
    /// use userapi::auth::Password;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// let session = api.login(USER_EMAIL, &Password::new(USER_PASSWORD)).await?;
    /// assert!(fake.session_is_live(&session));
    /// assert_eq!(api.get_me().await?.email.as_deref(), Some(USER_EMAIL));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank username or an empty password (nothing is sent).
    /// HTTP 401 ([`Error::is_auth`]) for a wrong password or unknown user (field error
    /// `password`: `did not match stored password`), a disabled account, or throttling; 400
    /// when the server's schema refuses the body. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the answer holds
    /// an empty session id: the client then keeps its old credentials.
    pub async fn login(&self, username: &str, password: &Password) -> Result<SessionId> {
        self.login_with(username, password, None).await
    }

    /// [`login`](Self::login) with Metabase's "remember me" flag (`"remember": true`): the
    /// session cookie the server sets then lasts as long as the session (14 days by
    /// default) instead of the browser session. The session itself is the same.
    ///
    /// Installs the session (or token) on this client and all its clones: they send it as
    /// `X-Metabase-Session` from then on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL, USER_PASSWORD};
    /// use userapi::Auth;
    /// use userapi::auth::Password;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// let session = api.login_remembered(USER_EMAIL, &Password::new(USER_PASSWORD)).await?;
    /// assert!(fake.session_is_live(&session));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`login`](Self::login).
    pub async fn login_remembered(&self, username: &str, password: &Password) -> Result<SessionId> {
        self.login_with(username, password, Some(true)).await
    }

    /// `POST /api/session` with the `remember` flag as given, installing the session.
    async fn login_with(
        &self,
        username: &str,
        password: &Password,
        remember: Option<bool>,
    ) -> Result<SessionId> {
        const OP: &str = "metabase::login";
        models::Login {
            username,
            password: password.as_secret(),
            remember,
        }
        .check(OP)?;
        let (username, password) = (username.to_owned(), password.clone());
        let generation = self.client.auth_generation();
        self.client
            .detached(move |client| async move {
                let session = login_call(&client, &username, password.as_secret(), remember).await?;
                install_session(
                    &client,
                    &session,
                    Install::IfUnchanged(generation, ChangeReason::Login),
                )?;
                Ok(session)
            })
            .await
    }

    /// `DELETE /api/session`: ends the current session; the client then sends no credentials.
    /// A client built with [`auth::login`] ends the session it logged in for and keeps its
    /// user name and password: its next call logs in again. If it has not logged in yet,
    /// there is no session to end: nothing is sent (a login only to log out would count
    /// against Metabase's login throttle).
    ///
    /// Logging out ends a session: a client that uses an API key (or nothing) keeps what it
    /// has and gets an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), with nothing sent. Once the server has
    /// answered, the client drops the session even if the caller stopped waiting; a session
    /// another call installed meanwhile (a login) is kept.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{API_KEY, FakeMetabase};
    /// use userapi::Auth;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api()?; // a session
    /// api.logout().await?;
    /// assert!(api.client().auth().is_none());
    ///
    /// let keyed = fake.api_with(userapi::metabase::auth::api_key(API_KEY))?;
    /// assert!(keyed.logout().await.unwrap_err().is_invalid_input());
    ///
    /// use userapi_fake::metabase::{USER_EMAIL, USER_PASSWORD};
    /// let renewing = fake.api_with(userapi::metabase::auth::login(USER_EMAIL, USER_PASSWORD))?;
    /// renewing.get_me().await?; // logs in
    /// renewing.logout().await?; // ends that session
    /// renewing.get_me().await?; // logs in again
    /// assert_eq!(keyed.client().auth().scheme_name(), "metabase-api-key", "the key stays");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the client has no session. HTTP 404 when the server knows
    /// no such session (it expired or was ended); the client keeps it then.
    pub async fn logout(&self) -> Result<()> {
        const OP: &str = "metabase::logout";
        let current = self.client.auth();
        if current.source::<auth::ApiKey>().is_some() {
            return Err(Error::invalid_input(
                OP,
                "logout ends a session; this client uses an API key, which it keeps",
            ));
        }
        // Under `auth::login` the session is the one the client logged in for; once it has
        // ended, the client keeps its user name and password and logs in again on its next
        // call.
        let after = if current.source::<auth::Login>().is_some() {
            if !self.client.holds_obtained() {
                return Ok(());
            }
            current.clone()
        } else if current.source::<auth::Session>().is_some() {
            Auth::none()
        } else {
            return Err(Error::invalid_input(
                OP,
                "logout ends a session; this client has none",
            ));
        };
        // Like a login, in a task of its own (a caller that stops waiting still drops the
        // ended session), and only over the credentials it ended: a session a concurrent
        // login installed meanwhile stays.
        let generation = self.client.auth_generation();
        self.client
            .detached(move |client| async move {
                client
                    .call(&SERVICE, OP, Method::DELETE, "api/session", &[])?
                    .send_empty()
                    .await?;
                client.set_auth_if(generation, after, ChangeReason::Logout)?;
                Ok(())
            })
            .await
    }

    /// `POST /api/session/password-check`: whether the instance's password rules accept
    /// `password` (by default 6 characters or more, a decimal digit of any script, and not
    /// one of about 12,700 common passwords, compared case-insensitively), before
    /// setting it. No credentials needed; no side effects, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::auth::Password;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.check_password(&Password::new("Tour-pass-2024")).await?;
    /// let weak = api.check_password(&Password::new("blah")).await.unwrap_err();
    /// assert_eq!(weak.field_errors()[0].message(), "password is too common.");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 with field error `password` (`password is too common.`, whatever the rule
    /// that failed) when the rules refuse it; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty password.
    pub async fn check_password(&self, password: &Password) -> Result<()> {
        const OP: &str = "metabase::check_password";
        let body = models::PasswordOnly {
            password: password.as_secret(),
        };
        body.check(OP)?;
        let raw = self
            .call(OP, Method::POST, "api/session/password-check", &[])?
            .json(&body)?
            .idempotent()
            .send_raw()
            .await?;
        match raw.json::<models::Valid>()?.valid {
            Some(true) => Ok(()),
            other => Err(raw.protocol_error(format!(
                "a password check answered 200 with valid = {other:?}; refusals come as 400"
            ))),
        }
    }

    /// `POST /api/session/forgot_password`: asks the server to email `email` a link to reset
    /// the password. The answer (204) is the same whether or not an account has that email.
    /// No credentials needed.
    ///
    /// Each call issues a new token (the previous one stops working) and sends an email, so
    /// it is never retried. Metabase refuses a 4th request for the same email within a second.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL};
    /// use userapi::Auth;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let anyone = fake.api_with(Auth::none())?;
    /// anyone.forgot_password(USER_EMAIL).await?;
    /// assert!(fake.last_reset_token().is_some()); // the fake's stand-in for the email
    /// anyone.forgot_password("nobody@example.com").await?; // the same answer
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank email. HTTP 400 with field error `email` for an
    /// address the server does not accept, or when throttled (`Too many attempts! …`).
    pub async fn forgot_password(&self, email: &str) -> Result<()> {
        const OP: &str = "metabase::forgot_password";
        let body = models::EmailOnly { email };
        body.check(OP)?;
        self.call(OP, Method::POST, "api/session/forgot_password", &[])?
            .json(&body)?
            .send_empty()
            .await
    }

    /// `GET /api/session/password_reset_token_valid`: whether a reset token (from the email
    /// [`forgot_password`](Self::forgot_password) sent) can still be used. Made-up, used,
    /// superseded and expired tokens (48 hours by default) are `false`, not errors. No
    /// credentials needed; safe to retry.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL};
    /// use userapi::Auth;
    /// use userapi::auth::ResetToken;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let anyone = fake.api_with(Auth::none())?;
    /// anyone.forgot_password(USER_EMAIL).await?;
    /// let token = fake.last_reset_token().expect("a token was issued");
    /// assert!(anyone.password_reset_token_valid(&token).await?);
    /// assert!(!anyone.password_reset_token_valid(&ResetToken::new("2_made-up")).await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank token; transport and server errors as usual.
    pub async fn password_reset_token_valid(&self, token: &ResetToken) -> Result<bool> {
        const OP: &str = "metabase::password_reset_token_valid";
        non_blank(OP, "the reset token", token.expose())?;
        let valid: models::Valid = self
            .call(OP, Method::GET, "api/session/password_reset_token_valid", &[])?
            .query("token", token.expose())
            .idempotent()
            .send()
            .await?;
        Ok(valid.valid == Some(true))
    }

    /// `POST /api/session/reset_password`: sets a new password with a reset token. The token
    /// works once; every session of the account ends. The server answers a new session, and
    /// this client switches to it as [`login`](Self::login) does
    /// ([`PasswordChanged::NewSession`]); an account with multi-factor login gets no session
    /// ([`PasswordChanged::Changed`]) and logs in next. No credentials needed; never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL};
    /// use userapi::metabase::PasswordChanged;
    /// use userapi::Auth;
    /// use userapi::auth::Password;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// api.forgot_password(USER_EMAIL).await?;
    /// let token = fake.last_reset_token().expect("a token was issued");
    /// let done = api.reset_password(&token, &Password::new("Brand-new-pass7")).await?;
    /// assert!(matches!(done, PasswordChanged::NewSession(_)));
    /// assert_eq!(api.get_me().await?.email.as_deref(), Some(USER_EMAIL)); // logged in
    /// let again = api.reset_password(&token, &Password::new("Other-pass8")).await.unwrap_err();
    /// assert_eq!(again.field_errors()[0].message(), "Invalid reset token");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank token or an empty password. HTTP 400 with field
    /// error `password`: `Invalid reset token` (unknown, used, superseded or expired token, or
    /// a deactivated account), `password is too common.` (the rules refuse the password; the
    /// token stays valid), or `Too many attempts! …`. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for an empty
    /// session id (the client keeps its credentials).
    pub async fn reset_password(
        &self,
        token: &ResetToken,
        new_password: &Password,
    ) -> Result<PasswordChanged> {
        const OP: &str = "metabase::reset_password";
        models::ResetPassword {
            token: token.as_secret(),
            password: new_password.as_secret(),
        }
        .check(OP)?;
        let (token, new_password) = (token.clone(), new_password.clone());
        let generation = self.client.auth_generation();
        self.client
            .detached(move |client| async move {
                let raw = client
                    .call(&SERVICE, OP, Method::POST, "api/session/reset_password", &[])?
                    .json(&models::ResetPassword {
                        token: token.as_secret(),
                        password: new_password.as_secret(),
                    })?
                    .secret_response()
                    .send_raw()
                    .await?;
                let response: models::PasswordResponse = raw.json()?;
                match session_in(&raw, response.session_id)? {
                    Some(session) => {
                        install_session(
                            &client,
                            &session,
                            Install::IfUnchanged(generation, ChangeReason::PasswordReset),
                        )?;
                        Ok(PasswordChanged::NewSession(session))
                    }
                    None => Ok(PasswordChanged::Changed),
                }
            })
            .await
    }
}

/// When a session a call answered becomes the client's.
pub(super) enum Install {
    /// A login or a reset: only if no other change of credentials landed while it was in
    /// flight (a password change meanwhile ended the sessions it could have known).
    IfUnchanged(u64, ChangeReason),
    /// One's own password change: always, since the server has just ended every older
    /// session of the user. Under [`auth::login`] the new password is kept for the
    /// next login.
    Always { new_password: Password },
}

/// The one place a session from the server becomes the client's credentials (sent as
/// `X-Metabase-Session`). A client using an API key keeps its key.
pub(super) fn install_session(client: &Client, session: &SessionId, rule: Install) -> Result<bool> {
    let current = client.auth();
    if current.source::<auth::ApiKey>().is_some() {
        return Ok(false);
    }
    match rule {
        Install::IfUnchanged(generation, reason) => {
            client.set_auth_if(generation, auth::session(session.clone()), reason)
        }
        Install::Always { new_password } => {
            if let Some(login) = current.source::<auth::Login>() {
                client.set_auth_with_obtained(
                    auth::login(login.username.clone(), new_password),
                    Credential::header(auth::SESSION_HEADER, session.as_secret())?,
                    ChangeReason::PasswordChange,
                )?;
            } else if current.source::<auth::Session>().is_some() {
                client.replace_auth(auth::session(session.clone()), ChangeReason::PasswordChange)?;
            } else {
                return Ok(false);
            }
            Ok(true)
        }
    }
}

/// A session id from a response: absent stays absent, but an empty one, or one no header can
/// carry, breaks the protocol.
pub(super) fn session_in(raw: &RawResponse, session: Option<String>) -> Result<Option<SessionId>> {
    match session {
        Some(s) if s.trim().is_empty() => {
            Err(raw
                .protocol_error("the server answered an empty session id; the client keeps its credentials"))
        }
        // Never quoted: the id is a credential, and its bytes are what broke the rule.
        Some(s) if s.bytes().any(|b| b.is_ascii_control() && b != b'\t') => Err(raw.protocol_error(
            "the server answered a session id with a control character, which no header can carry; \
             the client keeps its credentials",
        )),
        Some(s) => Ok(Some(SessionId::new(s))),
        None => Ok(None),
    }
}

/// `POST /api/session` sending no credentials, with the password redacted from any error and
/// an empty session id refused: [`Metabase::login`], and the login behind [`auth::login`].
pub(crate) async fn session_login(client: &Client, username: &str, password: &Secret) -> Result<SessionId> {
    login_call(client, username, password, None).await
}

/// The login itself, with `remember` sent only when set.
async fn login_call(
    client: &Client,
    username: &str,
    password: &Secret,
    remember: Option<bool>,
) -> Result<SessionId> {
    let body = models::Login {
        username,
        password,
        remember,
    };
    let raw = client
        .call(&SERVICE, "metabase::login", Method::POST, "api/session", &[])?
        .auth_override(&Auth::none())?
        .json(&body)?
        .secret_response()
        .send_raw()
        .await?;
    let response: models::SessionIdWire = raw.json()?;
    session_in(&raw, Some(response.id))?.ok_or_else(|| raw.protocol_error("the login answered no session id"))
}
