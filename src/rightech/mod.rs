//! Rightech IoT Cloud: `/api/v1/users` (list, search, get, create, update, delete) and token issuing
//! (`POST /api/v1/users/tokens`), with `Authorization: Bearer <token>`.
//!
//! Ids are [`ObjectId`]s, checked before sending. Lists are bare arrays with no total
//! ([`Rightech::user_pages`] pages through them). Error
//! bodies are `{"message", "tags"?, "helper"?: {"message", "links"}}` (the message is in
//! [`Error::service_message`], the rest in [`HttpError::body_json`](crate::HttpError::body_json));
//! a proxy in front of the service may answer with an HTML page, whose title becomes the
//! message. A body with `"success": false`, even under HTTP 200, is an [`Error::Api`].
//!
//! The bodies of create, update, delete and token responses are not documented publicly;
//! each method says what it does with them.

mod models;

#[cfg(feature = "fake")]
pub mod fake;

pub use models::{IssuedToken, ListUsers, NewUser, ObjectId, TokenRequest, User, UserUpdate};

use reqwest::Method;
use serde_json::Value;

use crate::auth::Secret;
use crate::client::Client;
use crate::error::{Error, ErrorBody, Result, ServiceError};
use crate::pager::{Fetch, Page, Pager};
use crate::pipeline::{Call, RawResponse, Service};
use std::sync::Arc;

/// Rightech's public cloud: `https://dev.rightech.io/`.
pub const DEFAULT_BASE_URL: &str = "https://dev.rightech.io/";

pub(crate) static SERVICE: Service = Service {
    read_error: Some(read_error),
};

/// Rightech's `{"message", "tags"?, "helper"?: {"message", "links"}}`: the helper's message
/// when there is no other, and `codes[]` when there is no `code`.
fn read_error(body: &ErrorBody<'_>, out: &mut ServiceError) {
    if out.message().is_none()
        && let Some(m) = body
            .member("helper")
            .and_then(|h| h.get("message"))
            .and_then(Value::as_str)
    {
        out.set_message(m);
    }
    if out.code().is_none()
        && let Some(Value::Array(codes)) = body.member("codes")
    {
        let codes: Vec<String> = codes
            .iter()
            .filter_map(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect();
        if !codes.is_empty() {
            out.code = Some(crate::error::clip(&codes.join(",")));
        }
    }
}

/// The Rightech user endpoints over a [`Client`].
#[derive(Debug, Clone)]
pub struct Rightech {
    client: Client,
}

impl Client {
    /// The Rightech endpoints on this client (its base URL is the host, e.g.
    /// [`DEFAULT_BASE_URL`]; paths start with `api/v1/`).
    pub fn rightech(&self) -> Rightech {
        Rightech::new(self.clone())
    }
}

/// Checks a login against the documented rule: 4 to 40 characters. The server stays the
/// authority (its exact character set is documented two ways); nothing checks this for you.
pub fn check_login(login: &str) -> Result<()> {
    let n = login.chars().count();
    if (4..=40).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "rightech::check_login",
            format!("a login has 4 to 40 characters, this one has {n}"),
        ))
    }
}

/// Checks a password against the platform's default policy: at least 8 characters, with a
/// lower-case letter, an upper-case letter and a digit. A deployment may set another policy,
/// so the server stays the authority; nothing checks this for you.
pub fn check_password_policy(password: &str) -> Result<()> {
    let mut missing = Vec::new();
    if password.chars().count() < 8 {
        missing.push("at least 8 characters");
    }
    if !password.chars().any(char::is_lowercase) {
        missing.push("a lower-case letter");
    }
    if !password.chars().any(char::is_uppercase) {
        missing.push("an upper-case letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        missing.push("a digit");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "rightech::check_password_policy",
            format!("the default password policy wants {}", missing.join(", ")),
        ))
    }
}

impl Rightech {
    /// Wraps a client whose base URL is a Rightech host.
    pub fn new(client: Client) -> Self {
        Rightech { client }
    }

    /// A client for [`DEFAULT_BASE_URL`] with a bearer token.
    pub fn with_token(token: impl Into<Secret>) -> Result<Self> {
        Ok(Rightech::new(
            Client::builder()
                .base_url(DEFAULT_BASE_URL)
                .bearer(token)
                .build()?,
        ))
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A request to a Rightech endpoint this crate does not model yet, through the same
    /// pipeline (credentials, encoding, timeouts, retries only when marked idempotent,
    /// limits) with Rightech's error shapes read; see [`RequestBuilder`](crate::RequestBuilder).
    pub fn request(&self, method: Method, segments: &[&str]) -> crate::RequestBuilder<'_> {
        crate::RequestBuilder::new(
            self.client
                .call_segments(&SERVICE, "rightech::request", method, segments),
        )
    }

    /// `GET /api/v1/users`: the users in the caller's group, one page.
    pub async fn list_users(&self, query: &ListUsers) -> Result<Vec<User>> {
        self.list("rightech::list_users", "api/v1/users", query).await
    }

    /// Every user in the caller's group, as a [`Pager`] over `GET /api/v1/users` with
    /// `limit` (from `query.limit`, default 100) and `offset` (from `query.offset`). The
    /// service sends no total, so the last page is the first one shorter than the page size,
    /// and the next page is fetched while the current one is consumed.
    ///
    /// A server that ignores paging (the same page again) ends the stream with
    /// [`Error::Protocol`] rather than looping.
    ///
    /// ```no_run
    /// # async fn run(api: userapi::rightech::Rightech) -> userapi::Result<()> {
    /// use userapi::rightech::ListUsers;
    /// let mut users = api.users(ListUsers::new().limit(500));
    /// while let Some(user) = users.next().await {
    ///     println!("{}", user?.id);
    /// }
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
                let raw = api
                    .list_call("rightech::list_users", "api/v1/users", &query)?
                    .send_raw()
                    .await?;
                Ok(Page {
                    items: raw.json()?,
                    total: None,
                    offset: None,
                    target: raw.target().clone(),
                    status: raw.status,
                })
            })
        });
        Pager::new(fetch, |user: &User| hash_key(user.id.as_str()), start, page_size)
    }

    /// `GET /api/v1/users/search`: users matching `query.search`, as short items (`_id` and
    /// `name`; the other fields are usually absent). Which parameters beyond the standard
    /// list ones it accepts is not documented.
    pub async fn search_users(&self, query: &ListUsers) -> Result<Vec<User>> {
        self.list("rightech::search_users", "api/v1/users/search", query)
            .await
    }

    async fn list(&self, op: &'static str, route: &'static str, query: &ListUsers) -> Result<Vec<User>> {
        self.list_call(op, route, query)?.send().await
    }

    fn list_call(&self, op: &'static str, route: &'static str, query: &ListUsers) -> Result<Call<'_>> {
        let only = (!query.only.is_empty()).then(|| query.only.join(","));
        Ok(self
            .client
            .call(&SERVICE, op, Method::GET, route, &[])?
            .query_opt("limit", query.limit)
            .query_opt("offset", query.offset)
            .query_opt("search", query.search.as_deref())
            .query_opt("from", query.from.as_deref())
            .query_opt("to", query.to.as_deref())
            .query_opt("only", only)
            .idempotent())
    }

    /// `GET /api/v1/users/:id`: one user.
    pub async fn get_user(&self, id: &ObjectId) -> Result<User> {
        let raw = self
            .client
            .call(
                &SERVICE,
                "rightech::get_user",
                Method::GET,
                "api/v1/users/{id}",
                &[id.as_str()],
            )?
            .idempotent()
            .send_raw()
            .await?;
        let user: User = raw.json()?;
        if user.success == Some(false) {
            return Err(refusal(&raw, &raw.json::<Value>().unwrap_or_default()));
        }
        Ok(user)
    }

    /// `POST /api/v1/users`: creates a user. Never retried.
    ///
    /// The response body is not documented: when it is a user object (it has `_id`) it comes
    /// back as `Some(user)`; when it is only `{"success": true}`, as `None`. The five required
    /// fields must not be empty (checked before sending); [`check_login`] and
    /// [`check_password_policy`] check the documented rules if you want them checked.
    pub async fn create_user(&self, user: &NewUser) -> Result<Option<User>> {
        const OP: &str = "rightech::create_user";
        for (name, value) in [
            ("name", &user.name),
            ("email", &user.email),
            ("login", &user.login),
        ] {
            if value.trim().is_empty() {
                return Err(Error::invalid_input(OP, format!("{name} must not be empty")));
            }
        }
        if user.password.is_empty() {
            return Err(Error::invalid_input(OP, "password must not be empty"));
        }
        let raw = self
            .client
            .call(&SERVICE, OP, Method::POST, "api/v1/users", &[])?
            .json(user)?
            .send_raw()
            .await?;
        maybe_user(&raw)
    }

    /// `PATCH /api/v1/users/:id`: changes the fields set in `update`. An empty update is
    /// refused before sending. Not retried (it may change the password).
    ///
    /// Returns the user when the response is a user object, `None` when it is only
    /// `{"success": true}` (the body is not documented).
    pub async fn update_user(&self, id: &ObjectId, update: &UserUpdate) -> Result<Option<User>> {
        const OP: &str = "rightech::update_user";
        if update.is_empty() {
            return Err(Error::invalid_input(OP, "the update sets no field"));
        }
        let raw = self
            .client
            .call(&SERVICE, OP, Method::PATCH, "api/v1/users/{id}", &[id.as_str()])?
            .json(update)?
            .send_raw()
            .await?;
        maybe_user(&raw)
    }

    /// `DELETE /api/v1/users/:id`. The service's page calls it deleting but says it "removes
    /// an account from a group"; which of the two a deployment does is not documented. Safe
    /// to retry.
    pub async fn delete_user(&self, id: &ObjectId) -> Result<()> {
        let raw = self
            .client
            .call(
                &SERVICE,
                "rightech::delete_user",
                Method::DELETE,
                "api/v1/users/{id}",
                &[id.as_str()],
            )?
            .idempotent()
            .send_raw()
            .await?;
        maybe_user(&raw).map(drop)
    }

    /// `POST /api/v1/users/tokens`: issues an API token for a user. Never retried; the
    /// response is treated as a credential (never quoted in errors or `Debug`).
    ///
    /// Neither the request nor the response body is documented publicly: `request` is an open
    /// JSON object, and the result finds the token where it usually is and keeps the whole
    /// response reachable ([`IssuedToken::raw`]).
    pub async fn create_token(&self, request: &TokenRequest) -> Result<IssuedToken> {
        let raw = self
            .client
            .call(
                &SERVICE,
                "rightech::create_token",
                Method::POST,
                "api/v1/users/tokens",
                &[],
            )?
            .json(request)?
            .secret_response()
            .send_raw()
            .await?;
        let value: Value = raw.json()?;
        if value.get("success") == Some(&Value::Bool(false)) {
            return Err(refusal(&raw, &value));
        }
        Ok(IssuedToken::from_raw(value))
    }
}

/// A stable 64-bit key of an id, for the pager's loop guards.
fn hash_key(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// A success body that is a user, `{"success": true}`, or empty; `success: false` is an error.
fn maybe_user(raw: &RawResponse) -> Result<Option<User>> {
    if raw.body.trim_ascii().is_empty() {
        return Ok(None);
    }
    let value: Value = raw.json()?;
    if value.get("success") == Some(&Value::Bool(false)) {
        return Err(refusal(raw, &value));
    }
    if value.get("_id").is_none() {
        return Ok(None);
    }
    raw.json().map(Some)
}

/// `{"success": false, "message"?, "code"?}` under a success status.
fn refusal(raw: &RawResponse, body: &Value) -> Error {
    let code = body
        .get("code")
        .and_then(Value::as_i64)
        .unwrap_or(i64::from(raw.status.as_u16()));
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| Some("the service answered success: false".to_owned()));
    raw.api_error(code, message)
}
