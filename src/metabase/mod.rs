//! Metabase: the whole `/api/user` resource, sessions and password resets (`/api/session`),
//! API keys (`/api/api-key`), the caller's login history and per-user key-value store.
//!
//! Paths are under the instance's root (`https://metabase.example.com/`); set it as the base
//! URL. Credentials: a session id as `X-Metabase-Session` ([`auth::session`], or
//! [`Metabase::login`] to get one; sessions last 14 days by default) or an API key as
//! `X-API-Key` ([`auth::api_key`]; [`Metabase::create_api_key`] makes one).
//!
//! Errors: 401, 403, 404 and some 400s come as plain text (`Unauthenticated`, `You don't have
//! permissions to do that.`, `Not found.`), kept word for word in [`Error::service_message`];
//! validation errors `{"errors": {...}, "specific-errors": {...}}` become
//! [`Error::field_errors`]; other failures carry `{"message": ...}`.
//!
//! User and API-key ids are positive integers: `0` is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before
//! sending.
//!
//! Three calls start a new session and switch the client to it: [`login`](Metabase::login),
//! [`change_password`](Metabase::change_password) on one's own account (when the client was
//! using a session) and [`reset_password`](Metabase::reset_password). A session id that comes
//! back empty is an [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) and the client keeps what it had.
//!
//! Every example on this page runs against `userapi_fake::metabase::FakeMetabase`.

pub mod auth;
mod models;

pub use models::{
    ApiKey, ApiKeyGroup, ApiKeyUpdate, AttributeSource, CustomHomepage, GroupMembership, IssuedApiKey,
    ListUsers, LoginRecord, Modal, NewApiKey, NewUser, PasswordChanged, Permissions, StructuredAttribute,
    Tenancy, User, UserKeyValue, UserList, UserStatus, UserSummary, UserUpdate,
};

use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};

use crate::auth::{Auth, Credential, Secret};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::error::{ErrorBody, ServiceError};
use crate::http::{Call, RawResponse, Service};
use crate::pager::{Fetch, Page, Pager};
use serde_json::Value;

pub(crate) static SERVICE: Service = Service {
    read_error: Some(read_error),
};

/// Metabase's error shapes: `{"errors": {field: message}, "specific-errors": {...}}` for
/// validation (the field errors; `_error` is a form-wide message), `{"message": ...}` and
/// plain text otherwise (read by the generic reading).
fn read_error(body: &ErrorBody<'_>, out: &mut ServiceError) {
    let Some(Value::Object(errors)) = body.member("errors") else {
        return;
    };
    for (key, value) in errors {
        if key == "_error" {
            if out.message().is_none()
                && let Some(m) = value.as_str()
            {
                out.set_message(m);
            }
        } else {
            out.push_fields_from(key, value);
        }
    }
    out.message_from_first_field();
}

crate::client::service_handle! {
    /// The Metabase user and session endpoints over a [`Client`].
    pub struct Metabase {
    }
    service: SERVICE,
    name: "metabase",
    accessor: metabase,
    token: auth::api_key,
}

fn check_id(operation: &'static str, what: &str, id: u64) -> Result<String> {
    if id == 0 {
        return Err(Error::invalid_input(
            operation,
            format!("{what} id is a positive integer, not 0"),
        ));
    }
    Ok(id.to_string())
}

/// Refuses a blank route parameter or body field before sending (the server's schema is
/// `NonBlankString`).
fn non_blank(operation: &'static str, what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(
            operation,
            format!("{what} must not be blank"),
        ));
    }
    Ok(())
}

/// When a session a call answered becomes the client's.
enum Install {
    /// A login or a reset: only if no other change of credentials landed while it was in
    /// flight (a password change meanwhile ended the sessions it could have known).
    IfUnchanged(u64),
    /// One's own password change: always, since the server has just ended every older
    /// session of the user. Under [`auth::login`] the new password is kept for the
    /// next login.
    Always { new_password: Secret },
}

/// The one place a session from the server becomes the client's credentials (sent as
/// `X-Metabase-Session`). A client using an API key keeps its key.
fn install_session(client: &Client, session: &Secret, rule: Install) -> Result<bool> {
    let current = client.auth();
    if current.source::<auth::ApiKey>().is_some() {
        return Ok(false);
    }
    match rule {
        Install::IfUnchanged(generation) => client.set_auth_if(generation, auth::session(session.clone())),
        Install::Always { new_password } => {
            if let Some(login) = current.source::<auth::Login>() {
                client.set_auth_with_obtained(
                    auth::login(login.username.clone(), new_password),
                    Credential::header(auth::SESSION_HEADER, session)?,
                )?;
            } else if current.source::<auth::Session>().is_some() {
                client.set_auth(auth::session(session.clone()))?;
            } else {
                return Ok(false);
            }
            Ok(true)
        }
    }
}

/// A session id from a response: absent stays absent, but an empty one, or one no header can
/// carry, breaks the protocol.
fn session_in(raw: &RawResponse, session: Option<String>) -> Result<Option<Secret>> {
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
        Some(s) => Ok(Some(Secret::new(s))),
        None => Ok(None),
    }
}

impl Metabase {
    fn call(&self, op: &'static str, method: Method, route: &'static str, ids: &[&str]) -> Result<Call<'_>> {
        self.client.call(&SERVICE, op, method, route, ids)
    }

    fn user_call(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        id: u64,
        more: &[&str],
    ) -> Result<Call<'_>> {
        let id = check_id(op, "a user", id)?;
        let mut ids = vec![id.as_str()];
        ids.extend_from_slice(more);
        self.call(op, method, route, &ids)
    }

    fn key_call(&self, op: &'static str, method: Method, route: &'static str, id: u64) -> Result<Call<'_>> {
        let id = check_id(op, "an API key", id)?;
        self.call(op, method, route, &[id.as_str()])
    }

    /// `POST /api/session`: logs in with an email and password and makes this client (and
    /// its clones) send the new session id as `X-Metabase-Session`. Returns the session id.
    ///
    /// Metabase throttles logins (10 per username): keep a session for its lifetime rather
    /// than logging in per request. Never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL, USER_PASSWORD};
    /// use userapi::{Auth, Secret};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// let session = api.login(USER_EMAIL, &Secret::new(USER_PASSWORD)).await?;
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
    pub async fn login(&self, username: &str, password: &Secret) -> Result<Secret> {
        const OP: &str = "metabase::login";
        if username.trim().is_empty() || password.is_empty() {
            return Err(Error::invalid_input(
                OP,
                "username and password must not be blank",
            ));
        }
        let (username, password) = (username.to_owned(), password.clone());
        let generation = self.client.auth_generation();
        self.client
            .detached(move |client| async move {
                let session = session_login(&client, &username, &password).await?;
                install_session(&client, &session, Install::IfUnchanged(generation))?;
                Ok(session)
            })
            .await
    }

    /// `DELETE /api/session`: ends the current session; the client then sends no credentials.
    ///
    /// Logging out ends a session: a client that uses an API key (or nothing) keeps what it
    /// has and gets an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), with nothing sent. Once the server has
    /// answered, the client drops the session even if the caller stopped waiting; a session
    /// another call installed meanwhile (a login) is kept.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{API_KEY, FakeMetabase};
    /// use userapi::{Auth, Error};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api()?; // a session
    /// api.logout().await?;
    /// assert!(api.client().auth().is_none());
    ///
    /// let keyed = fake.api_with(userapi::metabase::auth::api_key(API_KEY))?;
    /// assert!(matches!(keyed.logout().await, Err(ref e) if e.is_invalid_input()));
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
        if current.source::<auth::Session>().is_none() {
            return Err(Error::invalid_input(
                OP,
                "logout ends a session; this client has none",
            ));
        }
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
                client.set_auth_if(generation, Auth::none())?;
                Ok(())
            })
            .await
    }

    /// `POST /api/session/password-check`: whether the instance's password rules accept
    /// `password` (by default 6 characters or more, a digit, not a common password), before
    /// setting it. No credentials needed; no side effects, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::Secret;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.check_password(&Secret::new("Tour-pass-2024")).await?;
    /// let weak = api.check_password(&Secret::new("blah")).await.unwrap_err();
    /// assert_eq!(weak.field_errors()[0].message(), "password is too common.");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 with field error `password` (`password is too common.`, whatever the rule
    /// that failed) when the rules refuse it; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty password.
    pub async fn check_password(&self, password: &Secret) -> Result<()> {
        const OP: &str = "metabase::check_password";
        if password.is_empty() {
            return Err(Error::invalid_input(OP, "the password must not be empty"));
        }
        let raw = self
            .call(OP, Method::POST, "api/session/password-check", &[])?
            .json(&models::PasswordOnly { password })?
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
        non_blank(OP, "the email", email)?;
        self.call(OP, Method::POST, "api/session/forgot_password", &[])?
            .json(&models::EmailOnly { email })?
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
    /// use userapi::{Auth, Secret};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let anyone = fake.api_with(Auth::none())?;
    /// anyone.forgot_password(USER_EMAIL).await?;
    /// let token = fake.last_reset_token().expect("a token was issued");
    /// assert!(anyone.password_reset_token_valid(&token).await?);
    /// assert!(!anyone.password_reset_token_valid(&Secret::new("2_made-up")).await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank token; transport and server errors as usual.
    pub async fn password_reset_token_valid(&self, token: &Secret) -> Result<bool> {
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
    /// use userapi::{Auth, Secret};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// api.forgot_password(USER_EMAIL).await?;
    /// let token = fake.last_reset_token().expect("a token was issued");
    /// let done = api.reset_password(&token, &Secret::new("Brand-new-pass7")).await?;
    /// assert!(matches!(done, PasswordChanged::NewSession(_)));
    /// assert_eq!(api.get_me().await?.email.as_deref(), Some(USER_EMAIL)); // logged in
    /// let again = api.reset_password(&token, &Secret::new("Other-pass8")).await.unwrap_err();
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
    pub async fn reset_password(&self, token: &Secret, new_password: &Secret) -> Result<PasswordChanged> {
        const OP: &str = "metabase::reset_password";
        non_blank(OP, "the reset token", token.expose())?;
        if new_password.is_empty() {
            return Err(Error::invalid_input(OP, "the new password must not be empty"));
        }
        let (token, new_password) = (token.clone(), new_password.clone());
        let generation = self.client.auth_generation();
        self.client
            .detached(move |client| async move {
                let raw = client
                    .call(&SERVICE, OP, Method::POST, "api/session/reset_password", &[])?
                    .json(&models::ResetPassword {
                        token: &token,
                        password: &new_password,
                    })?
                    .secret_response()
                    .send_raw()
                    .await?;
                let response: models::PasswordResponse = raw.json()?;
                match session_in(&raw, response.session_id)? {
                    Some(session) => {
                        install_session(&client, &session, Install::IfUnchanged(generation))?;
                        Ok(PasswordChanged::NewSession(session))
                    }
                    None => Ok(PasswordChanged::Changed),
                }
            })
            .await
    }

    /// `GET /api/user/current`: the current user, with the fields only this endpoint returns.
    /// With an API key it is the key's own user (`api-key-user-…@api-key.invalid`, named
    /// after the key).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_EMAIL, FakeMetabase};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let me = fake.api()?.get_me().await?;
    /// assert_eq!(me.email.as_deref(), Some(ADMIN_EMAIL));
    /// assert_eq!(me.is_superuser, Some(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 401 ([`Error::is_auth`]) without valid credentials.
    pub async fn get_me(&self) -> Result<User> {
        self.call("metabase::get_me", Method::GET, "api/user/current", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user/:id`: one user (self, a superuser, or an EE group manager may read it;
    /// others get 403). Deactivated users can be read.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let rasta = fake.api()?.get_user(2).await?;
    /// assert_eq!(rasta.common_name.as_deref(), Some("Rasta Toucan"));
    /// assert!(rasta.user_group_memberships.is_some());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0; HTTP 403 for another user's account without the
    /// rights; 404 ([`Error::is_not_found`]) for an unknown id; 401 without credentials.
    pub async fn get_user(&self, id: u64) -> Result<User> {
        self.user_call("metabase::get_user", Method::GET, "api/user/{id}", id, &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user`: one page of users (superusers and EE group managers; others get 403).
    /// API keys' users are never listed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::{ListUsers, UserStatus};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let page = fake.api()?.list_users(&ListUsers::new().status(UserStatus::All).limit(2)).await?;
    /// assert_eq!((page.data.len(), page.total, page.limit), (2, Some(4), Some(2)));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for a caller who may not list users; 400 for a filter the server refuses
    /// (`tenancy` together with `tenant_id`, a filter an older server does not know is simply
    /// ignored); 401 without credentials.
    pub async fn list_users(&self, query: &ListUsers) -> Result<UserList> {
        self.list_call(query)?.send().await
    }

    fn list_call(&self, query: &ListUsers) -> Result<Call<'_>> {
        Ok(self
            .call("metabase::list_users", Method::GET, "api/user", &[])?
            .query_opt("status", query.status.as_ref())
            .query_opt("include_deactivated", query.include_deactivated)
            .query_opt("query", query.query.as_deref())
            .query_opt("group_id", query.group_id)
            .query_opt("tenancy", query.tenancy.as_ref())
            .query_opt("tenant_id", query.tenant_id)
            .query_opt("is_data_analyst", query.is_data_analyst)
            .query_opt("can_access_data_studio", query.can_access_data_studio)
            .query_opt("limit", query.limit)
            .query_opt("offset", query.offset)
            .idempotent())
    }

    /// Every user matching `query`, as a [`Pager`]: `query.limit` per page (default 100), from
    /// `query.offset`. The first page tells the total; then up to
    /// [`Pager::concurrency`] pages (default 6) are fetched at once, items still in order,
    /// so listing a large instance costs about a sixth of the round trips. Memory stays at a
    /// few pages whatever the total.
    ///
    /// A server that ignores paging ends the stream with [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) rather than
    /// looping (see [`pager`](crate::pager)); an old server's bare array (no total) is read
    /// until a short page.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::{ListUsers, UserStatus};
    /// use userapi_fake::metabase::FakeMetabase;
    /// let fake = FakeMetabase::start().await?;
    /// let mut users = fake.api()?.users(ListUsers::new().status(UserStatus::All).limit(2));
    /// let mut ids = Vec::new();
    /// while let Some(user) = users.next().await {
    ///     ids.push(user?.id);
    /// }
    /// assert_eq!(Some(ids.len() as u64), users.total());
    /// let first_two = fake.api()?.users(ListUsers::new().limit(2)).next_page().await.unwrap()?;
    /// assert_eq!(first_two.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn users(&self, query: ListUsers) -> Pager<User> {
        let page_size = query.limit.unwrap_or(100).max(1);
        let start = query.offset.unwrap_or(0);
        let api = self.clone();
        let fetch: Fetch<User> = Arc::new(move |offset, limit| {
            let api = api.clone();
            let query = query.clone().offset(offset).limit(limit);
            Box::pin(async move {
                let raw = api.list_call(&query)?.send_raw().await?;
                let list: UserList = raw.json()?;
                Ok(Page {
                    items: list.data,
                    total: list.total,
                    offset: list.offset,
                    target: raw.target().clone(),
                    status: raw.status,
                })
            })
        });
        Pager::new(fetch, |user| user.id, start, page_size)
    }

    /// `GET /api/user/recipients`: the users the caller may send things to (any user may
    /// call it; which users it returns depends on the instance's user-visibility setting).
    /// Current servers echo but do not apply paging here, so there is no paging to ask for.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let everyone = fake.api()?.list_recipients().await?;
    /// assert_eq!(everyone.total, Some(3)); // the active people
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 401 without credentials.
    pub async fn list_recipients(&self) -> Result<UserList> {
        self.call(
            "metabase::list_recipients",
            Method::GET,
            "api/user/recipients",
            &[],
        )?
        .idempotent()
        .send()
        .await
    }

    /// `POST /api/user`: creates a user (superusers only). Answers 200 with the user, its
    /// `user_group_memberships` included. Never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewUser;
    /// use userapi::{Auth, Secret};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let new = NewUser::new("ada@example.com").name("Ada", "Byron").password("Analyt1cal-engine");
    /// let ada = fake.api()?.create_user(&new).await?;
    /// assert_eq!(ada.common_name.as_deref(), Some("Ada Byron"));
    /// let as_ada = fake.api_with(Auth::none())?;
    /// as_ada.login("ada@example.com", &Secret::new("Analyt1cal-engine")).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank email. HTTP 400 with field error `email` for an
    /// invalid or taken address (`Email address already in use.`), 400 for memberships
    /// without the All Users group, or a tenant on an instance without tenants; 403 for a
    /// caller who is not a superuser.
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        const OP: &str = "metabase::create_user";
        non_blank(OP, "the email", &user.email)?;
        self.call(OP, Method::POST, "api/user", &[])?
            .json(user)?
            .send()
            .await
    }

    /// `PUT /api/user/:id`: changes what `update` sets (self or superuser; only active users
    /// can be updated, others give 404). An empty update is refused before sending. The same
    /// update twice gives the same user, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ALL_USERS_GROUP};
    /// use userapi::metabase::{GroupMembership, UserUpdate};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let groups = vec![GroupMembership::new(ALL_USERS_GROUP), GroupMembership::new(ADMIN_GROUP)];
    /// let user = fake.api()?.update_user(3, &UserUpdate::new().first_name("Lucky").groups(groups)).await?;
    /// assert_eq!(user.is_superuser, Some(true)); // the Administrators group
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0 or an empty update. HTTP 404 for an unknown or
    /// deactivated user; 403 for someone else's account, or a non-superuser changing groups;
    /// 400 with field errors (`email`: `Email address already associated to another user.`,
    /// `locale`, `is_superuser` disagreeing with the Administrators group, …).
    pub async fn update_user(&self, id: u64, update: &UserUpdate) -> Result<User> {
        const OP: &str = "metabase::update_user";
        if update.is_empty() {
            return Err(Error::invalid_input(OP, "the update sets no field"));
        }
        self.user_call(OP, Method::PUT, "api/user/{id}", id, &[])?
            .json(update)?
            .idempotent()
            .send()
            .await
    }

    /// `PUT /api/user/:id/password`: sets a new password. Never retried.
    ///
    /// `old_password` is required in practice unless the caller is a superuser. On one's own
    /// account the server answers with a **new session** and the old one stops working: if
    /// this client was using a session, it switches to the new one itself, and the result is
    /// [`PasswordChanged::NewSession`]. A superuser changing another user's password gets
    /// [`PasswordChanged::Changed`] (HTTP 204); that user's sessions end.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_PASSWORD, FakeMetabase};
    /// use userapi::metabase::PasswordChanged;
    /// use userapi::Secret;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api()?; // user 1's session
    /// let new = Secret::new("Fresh-pass9");
    /// let changed = api.change_password(1, &new, Some(&Secret::new(ADMIN_PASSWORD))).await?;
    /// assert!(matches!(changed, PasswordChanged::NewSession(_)));
    /// api.get_me().await?; // already on the new session
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0 or an empty password. HTTP 400 with field error
    /// `password` (`password is too common.`) or `old_password` (`Invalid password`); 403 for
    /// someone else's password without being a superuser; 404 for an unknown or deactivated
    /// user. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for an empty session id (the client keeps its credentials).
    pub async fn change_password(
        &self,
        id: u64,
        new_password: &Secret,
        old_password: Option<&Secret>,
    ) -> Result<PasswordChanged> {
        const OP: &str = "metabase::change_password";
        if new_password.is_empty() {
            return Err(Error::invalid_input(OP, "the new password must not be empty"));
        }
        let id = check_id(OP, "a user", id)?;
        let (new_password, old_password) = (new_password.clone(), old_password.cloned());
        // The request and the switch to the new session run in a task of their own: once the
        // server has applied the change it has ended the old session, so the new one must be
        // installed even if the caller stops waiting.
        self.client
            .detached(move |client| async move {
                let body = models::NewPassword {
                    password: &new_password,
                    old_password: old_password.as_ref(),
                };
                let raw = client
                    .call(&SERVICE, OP, Method::PUT, "api/user/{id}/password", &[&id])?
                    .json(&body)?
                    .secret_response()
                    .send_raw()
                    .await?;
                if raw.status == StatusCode::NO_CONTENT || raw.body.trim_ascii().is_empty() {
                    return Ok(PasswordChanged::Changed);
                }
                let response: models::PasswordResponse = raw.json()?;
                match session_in(&raw, response.session_id)? {
                    Some(session) => {
                        install_session(&client, &session, Install::Always { new_password })?;
                        Ok(PasswordChanged::NewSession(session))
                    }
                    None => Ok(PasswordChanged::Changed),
                }
            })
            .await
    }

    /// `PUT /api/user/:id/reactivate`: reactivates a deactivated user (superusers only;
    /// `is_superuser` is reset to false). An active user gives 400 `Not able to reactivate
    /// an active user`, so this is not retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let back = fake.api()?.reactivate_user(4).await?; // the fake's deactivated user
    /// assert_eq!(back.is_active, Some(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0. HTTP 400 (`Not able to reactivate an active user`)
    /// for an active user; 404 for an unknown id; 403 for a caller who is not a superuser.
    pub async fn reactivate_user(&self, id: u64) -> Result<User> {
        self.user_call(
            "metabase::reactivate_user",
            Method::PUT,
            "api/user/{id}/reactivate",
            id,
            &[],
        )?
        .send()
        .await
    }

    /// `DELETE /api/user/:id`: **deactivates** the user; it is not deleted and can be
    /// reactivated with [`reactivate_user`](Self::reactivate_user). Superusers only;
    /// deactivating the last admin gives 400. Safe to repeat (an inactive user answers 200).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// fake.api()?.deactivate_user(3).await?;
    /// assert_eq!(fake.is_active(3), Some(false));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0. HTTP 400 (`You cannot remove the last member of the
    /// 'Admin' group!`); 404 for an unknown id; 403 for a caller who is not a superuser.
    pub async fn deactivate_user(&self, id: u64) -> Result<()> {
        let _: serde::de::IgnoredAny = self
            .user_call(
                "metabase::deactivate_user",
                Method::DELETE,
                "api/user/{id}",
                id,
                &[],
            )?
            .idempotent()
            .send()
            .await?;
        Ok(())
    }

    /// `PUT /api/user/:id/modal/:modal`: marks an onboarding modal as seen (self or superuser).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::Modal;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.dismiss_modal(1, Modal::QbNewb).await?;
    /// assert_eq!(api.get_me().await?.is_qbnewb, Some(false));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0. HTTP 403 for someone else's account without being a
    /// superuser; 404 for an unknown id.
    pub async fn dismiss_modal(&self, id: u64, modal: Modal) -> Result<()> {
        let _: serde::de::IgnoredAny = self
            .user_call(
                "metabase::dismiss_modal",
                Method::PUT,
                "api/user/{id}/modal/{modal}",
                id,
                &[modal.as_str()],
            )?
            .idempotent()
            .send()
            .await?;
        Ok(())
    }

    /// `GET /api/login-history/current`: the caller's logins, newest first, each with its
    /// device, address and whether its session is still alive. An API key has none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL, USER_PASSWORD};
    /// use userapi::{Auth, Secret};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// api.login(USER_EMAIL, &Secret::new(USER_PASSWORD)).await?;
    /// let logins = api.login_history().await?;
    /// assert_eq!(logins[0].active, Some(true)); // this one
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 401 without credentials.
    pub async fn login_history(&self) -> Result<Vec<LoginRecord>> {
        self.call(
            "metabase::login_history",
            Method::GET,
            "api/login-history/current",
            &[],
        )?
        .idempotent()
        .send()
        .await
    }

    /// `GET /api/api-key`: every API key (superusers only), without the keys themselves.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let keys = fake.api()?.list_api_keys().await?;
    /// assert_eq!(keys[0].prefix(), Some("mb_fake")); // the fake's seeded key
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for a caller who is not a superuser (an API key outside the Administrators
    /// group included); 401 without credentials.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        self.call("metabase::list_api_keys", Method::GET, "api/api-key", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/api-key/count`: how many API keys there are (superusers only).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// assert_eq!(fake.api()?.count_api_keys().await?, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`list_api_keys`](Self::list_api_keys).
    pub async fn count_api_keys(&self) -> Result<u64> {
        self.call("metabase::count_api_keys", Method::GET, "api/api-key/count", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `POST /api/api-key`: creates an API key in a group (superusers only). The answer is the
    /// only time the key is shown: keep [`IssuedApiKey::key`]. The key gets a user of its own
    /// (`api-key-user-…@api-key.invalid`) in All Users and that group. Never retried (a
    /// repeat would meet its own name: `An API key with this name already exists.`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewApiKey;
    /// use userapi_fake::metabase::ANALYSTS_GROUP;
    /// use userapi::Auth;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let issued = fake.api()?.create_api_key(&NewApiKey::new("Reporting bot", ANALYSTS_GROUP)).await?;
    /// let bot = fake.api_with(userapi::metabase::auth::api_key(issued.key.clone()))?;
    /// assert_eq!(bot.get_me().await?.common_name.as_deref(), Some("Reporting bot"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank name or group 0. HTTP 400 with field error `name`
    /// (`An API key with this name already exists.`); 403 for a caller who is not a
    /// superuser; a 500 when the group does not exist. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the answer
    /// holds no key.
    pub async fn create_api_key(&self, key: &NewApiKey) -> Result<IssuedApiKey> {
        const OP: &str = "metabase::create_api_key";
        non_blank(OP, "the key's name", &key.name)?;
        check_id(OP, "a group", key.group_id)?;
        let raw = self
            .call(OP, Method::POST, "api/api-key", &[])?
            .json(key)?
            .secret_response()
            .send_raw()
            .await?;
        issued(&raw)
    }

    /// `PUT /api/api-key/:id`: renames a key or moves it to another group (superusers only).
    /// The same update twice gives the same key, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::ApiKeyUpdate;
    /// use userapi_fake::metabase::API_KEY_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let key = fake.api()?.update_api_key(API_KEY_ID, &ApiKeyUpdate::new().name("Renamed")).await?;
    /// assert_eq!(key.name.as_deref(), Some("Renamed"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0 or an empty update. HTTP 404 for an unknown key; 400
    /// when the server's schema refuses a field; 403 for a caller who is not a superuser.
    pub async fn update_api_key(&self, id: u64, update: &ApiKeyUpdate) -> Result<ApiKey> {
        const OP: &str = "metabase::update_api_key";
        if update.is_empty() {
            return Err(Error::invalid_input(OP, "the update sets no field"));
        }
        self.key_call(OP, Method::PUT, "api/api-key/{id}", id)?
            .json(update)?
            .idempotent()
            .send()
            .await
    }

    /// `PUT /api/api-key/:id/regenerate`: replaces a key with a new one (superusers only). The
    /// old key stops working at once; a client that authenticates with it must switch:
    /// `client.set_auth(userapi::metabase::auth::api_key(issued.key.clone()))`. Never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{API_KEY, API_KEY_ID};
    /// use userapi::Auth;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let issued = fake.api()?.regenerate_api_key(API_KEY_ID).await?;
    /// let old = fake.api_with(userapi::metabase::auth::api_key(API_KEY))?;
    /// assert!(old.get_me().await.unwrap_err().is_auth());
    /// let new = fake.api_with(userapi::metabase::auth::api_key(issued.key))?;
    /// new.get_me().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0. HTTP 404 for an unknown key; 403 for a caller who is
    /// not a superuser. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the answer holds no key.
    pub async fn regenerate_api_key(&self, id: u64) -> Result<IssuedApiKey> {
        const OP: &str = "metabase::regenerate_api_key";
        let raw = self
            .key_call(OP, Method::PUT, "api/api-key/{id}/regenerate", id)?
            .secret_response()
            .send_raw()
            .await?;
        issued(&raw)
    }

    /// `DELETE /api/api-key/:id`: deletes a key (superusers only); its user is deactivated and
    /// the key gets 401 from then on.
    ///
    /// Not retried: a second delete answers 404, so a retry after a lost answer would report
    /// a failure for a delete that worked. After a timeout, [`list_api_keys`](Self::list_api_keys)
    /// tells whether the key is gone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::API_KEY_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.delete_api_key(API_KEY_ID).await?;
    /// assert!(api.delete_api_key(API_KEY_ID).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for id 0. HTTP 404 for an unknown (or already deleted) key; 403
    /// for a caller who is not a superuser.
    pub async fn delete_api_key(&self, id: u64) -> Result<()> {
        self.key_call("metabase::delete_api_key", Method::DELETE, "api/api-key/{id}", id)?
            .send_empty()
            .await
    }

    /// `PUT /api/user-key-value/namespace/:namespace/key/:key`: stores a value for the caller
    /// (each user, and each API key, has its own store) and returns it as stored. Each
    /// namespace has a schema on the server (`calendar`: `"gregory"` or `"persian"`,
    /// `last_download_format`, `data_studio`, …); another namespace or a value its schema
    /// refuses is a 400. Storing the same value twice is harmless, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let stored = api.set_user_value("calendar", "system", &UserKeyValue::new("persian")).await?;
    /// assert_eq!(stored, "persian");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace or key. HTTP 400 `Invalid Request.` for
    /// a namespace without a schema or a value it refuses; 400 with field error `expires_at`
    /// for a malformed expiry; 401 without credentials.
    pub async fn set_user_value(&self, namespace: &str, key: &str, value: &UserKeyValue) -> Result<Value> {
        const OP: &str = "metabase::set_user_value";
        self.key_value_call(OP, Method::PUT, namespace, Some(key))?
            .json(value)?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user-key-value/namespace/:namespace/key/:key`: the caller's value, or `None`
    /// when there is none, it expired, or it is `null` (the server answers 204 for all three).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// assert_eq!(api.get_user_value("calendar", "system").await?, None);
    /// api.set_user_value("calendar", "system", &UserKeyValue::new("gregory")).await?;
    /// assert_eq!(api.get_user_value("calendar", "system").await?, Some("gregory".into()));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace or key; HTTP 401 without credentials.
    pub async fn get_user_value(&self, namespace: &str, key: &str) -> Result<Option<Value>> {
        const OP: &str = "metabase::get_user_value";
        let raw = self
            .key_value_call(OP, Method::GET, namespace, Some(key))?
            .idempotent()
            .send_raw()
            .await?;
        stored_value(&raw)
    }

    /// `GET /api/user-key-value/namespace/:namespace`: every live value the caller has in a
    /// namespace, by key (empty when there are none).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.set_user_value("data_studio", "tour", &UserKeyValue::new(true)).await?;
    /// let all = api.get_user_values("data_studio").await?;
    /// assert_eq!(all["tour"], true);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace; HTTP 401 without credentials.
    pub async fn get_user_values(&self, namespace: &str) -> Result<serde_json::Map<String, Value>> {
        const OP: &str = "metabase::get_user_values";
        let raw = self
            .key_value_call(OP, Method::GET, namespace, None)?
            .idempotent()
            .send_raw()
            .await?;
        if raw.status == StatusCode::NO_CONTENT || raw.body.trim_ascii().is_empty() {
            return Ok(serde_json::Map::new());
        }
        raw.json()
    }

    /// `DELETE /api/user-key-value/namespace/:namespace/key/:key`: removes the caller's value.
    /// Returns whether there was one. Deleting twice is harmless, so it may be retried (a
    /// retried delete may then report `false`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.set_user_value("monitor", "tour", &UserKeyValue::new(false)).await?;
    /// assert!(api.delete_user_value("monitor", "tour").await?);
    /// assert!(!api.delete_user_value("monitor", "tour").await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace or key; HTTP 401 without credentials.
    pub async fn delete_user_value(&self, namespace: &str, key: &str) -> Result<bool> {
        const OP: &str = "metabase::delete_user_value";
        let deleted: u64 = self
            .key_value_call(OP, Method::DELETE, namespace, Some(key))?
            .idempotent()
            .send()
            .await?;
        Ok(deleted > 0)
    }

    fn key_value_call(
        &self,
        op: &'static str,
        method: Method,
        namespace: &str,
        key: Option<&str>,
    ) -> Result<Call<'_>> {
        non_blank(op, "the namespace", namespace)?;
        match key {
            Some(key) => {
                non_blank(op, "the key", key)?;
                self.call(
                    op,
                    method,
                    "api/user-key-value/namespace/{namespace}/key/{key}",
                    &[namespace, key],
                )
            }
            None => self.call(
                op,
                method,
                "api/user-key-value/namespace/{namespace}",
                &[namespace],
            ),
        }
    }
}

/// A created or regenerated key: the key must be there, and it never reaches `extra`.
fn issued(raw: &RawResponse) -> Result<IssuedApiKey> {
    let wire: models::IssuedWire = raw.json()?;
    match wire.unmasked_key {
        Some(key) if !key.trim().is_empty() => Ok(IssuedApiKey {
            key: Secret::new(key),
            prefix: wire.prefix,
            api_key: wire.rest,
        }),
        _ => Err(raw.protocol_error("the answer holds no key (`unmasked_key`)")),
    }
}

/// A stored value as `GET` answers it: 204 is none; a string comes as `text/plain` without
/// JSON quotes; anything else is JSON.
fn stored_value(raw: &RawResponse) -> Result<Option<Value>> {
    if raw.status == StatusCode::NO_CONTENT || raw.body.is_empty() {
        return Ok(None);
    }
    let text_plain = raw
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/plain"));
    if text_plain {
        return match std::str::from_utf8(&raw.body) {
            Ok(text) => Ok(Some(Value::String(text.to_owned()))),
            Err(_) => Err(raw.decode_failure(".".into(), "the body is not UTF-8 text".into())),
        };
    }
    match raw.json::<Value>()? {
        Value::Null => Ok(None),
        value => Ok(Some(value)),
    }
}

/// `POST /api/session` sending no credentials, with the password redacted from any error and
/// an empty session id refused: [`Metabase::login`], and the login behind [`auth::login`].
pub(crate) async fn session_login(client: &Client, username: &str, password: &Secret) -> Result<Secret> {
    let body = models::Login { username, password };
    let raw = client
        .call(&SERVICE, "metabase::login", Method::POST, "api/session", &[])?
        .auth_override(&Auth::none())?
        .json(&body)?
        .secret_response()
        .send_raw()
        .await?;
    let response: models::SessionId = raw.json()?;
    session_in(&raw, Some(response.id))?.ok_or_else(|| raw.protocol_error("the login answered no session id"))
}

#[cfg(test)]
crate::properties::service_properties! {
    service: SERVICE,
    decodes: [User, UserList, StructuredAttribute, Permissions, UserStatus],
    schemes: [auth::session, auth::api_key],
    body_schemes: [|t: String| auth::login("ada@example.com", t)],
}
