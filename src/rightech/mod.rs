//! Rightech IoT Cloud: `/api/v1/users` (list, get, create, update, delete), token issuing
//! (`POST /api/v1/users/tokens`) and `GET /api/v1/roles`, with `Authorization: Bearer <token>`.
//!
//! Ids are MongoDB ObjectIds (24 hexadecimal digits), one type per collection: [`UserId`],
//! [`RoleId`], [`GroupId`] (and [`ObjectId`] where the collection is not documented), checked
//! when built, so a malformed id is refused before sending. Lists are bare arrays with no total
//! ([`Rightech::users`] pages through them), sometimes laid out one item per line with
//! each comma on a line of its own; they are read as JSON, whatever the layout. There is no
//! search route: a search is the list with [`ListUsers::search`].
//!
//! There is no `get_me`: the service has no route for the current user (`/api/v1/users/me`
//! would be read as the id `me`), and a token is opaque to the client.
//!
//! Error bodies are `{"message", "code"?, "codes"?, "tags"?, "helper"?: {"message", "links"}}`:
//! the message is in [`Error::service_message`], `code` (a string such as `"404"`, or a
//! number) or else `codes[]` in [`Error::service_code`], the rest in
//! [`HttpError::body_json`](crate::HttpError::body_json). A proxy in front of the service may
//! answer with an HTML page, whose title becomes the message. A body with `"success": false`,
//! even under HTTP 200, is an [`ErrorKind::Api`](crate::ErrorKind::Api).
//!
//! Times (`time`, `_at`) are milliseconds since the Unix epoch.

mod ids;
mod models;

pub use models::{
    GroupId, IssuedToken, ListRoles, ListUsers, NewUser, ObjectId, Role, RoleId, TokenRequest, User, UserId,
    UserUpdate,
};

use reqwest::Method;
use serde_json::Value;

use crate::error::{Error, ErrorBody, Result, ServiceError};
use crate::http::{Call, RawResponse, Service};
use crate::pager::{Fetch, Listing, Pager, decode_later};
use std::sync::Arc;

/// Rightech's public cloud: `https://dev.rightech.io/`.
pub const DEFAULT_BASE_URL: &str = "https://dev.rightech.io/";

pub(crate) static SERVICE: Service = Service {
    read_error: Some(read_error),
};

/// Rightech's `{"message", "tags"?, "helper"?: {"message", "links"}}`: the helper's message
/// when there is no other, and `codes[]` when there is no `code` (a body may carry either,
/// though Rightech's own client reads neither). `tags` are categories, not codes: left in
/// the body.
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

crate::client::service_handle! {
    /// The Rightech user endpoints over a [`Client`](crate::Client).
    pub struct Rightech {
    }
    service: SERVICE,
    name: "rightech",
    accessor: rightech,
    token: crate::Auth::bearer,
}

impl Rightech {
    /// `GET /api/v1/users`: the users in the caller's group, one page, with the filters set
    /// in `query` (`limit`, `offset`, `search`, `from`, `to`, `only`). Safe to retry.
    ///
    /// A search is this call with [`ListUsers::search`]: Rightech has no search route.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) for a refusal (401 for a bad token), [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the body is
    /// not a list of users, and the transport errors of every call.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rightech::ListUsers;
    /// use userapi_fake::rightech::FakeRightech;
    /// let fake = FakeRightech::start().await?;
    /// let api = fake.api()?;
    /// assert_eq!(api.list_users(&ListUsers::new()).await?.len(), 2);
    /// // GET /api/v1/users?search=colle&only=_id,name
    /// let found = api
    ///     .list_users(&ListUsers::new().search("colle").only(["_id", "name"]))
    ///     .await?;
    /// assert_eq!(found[0].name.as_deref(), Some("Colleague"));
    /// assert_eq!(found[0].login, None);
    /// # Ok(()) }
    /// ```
    pub async fn list_users(&self, query: &ListUsers) -> Result<Vec<User>> {
        self.list_call("rightech::list_users", "api/v1/users", query)?
            .send()
            .await
    }

    /// Every user in the caller's group, as a [`Pager`] over `GET /api/v1/users` with
    /// `limit` (from `query.limit`, default 100) and `offset` (from `query.offset`). The
    /// service sends no total, so the last page is the first one shorter than the page size,
    /// and the next page is fetched while the current one is consumed.
    ///
    /// A server that ignores paging (the same page again) ends the stream with
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) rather than looping.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rightech::ListUsers;
    /// use userapi_fake::rightech::FakeRightech;
    /// let fake = FakeRightech::start().await?;
    /// // Pages of one: GET /api/v1/users?limit=1&offset=0, then offset=1, … until a short page.
    /// let mut users = fake.api()?.users(ListUsers::new().limit(1));
    /// let mut ids = Vec::new();
    /// while let Some(user) = users.next().await {
    ///     ids.push(user?.id);
    /// }
    /// assert_eq!(ids.len(), 2);
    /// assert_eq!(users.total(), None, "Rightech sends no total");
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
                Ok(decode_later(raw, Listing::items))
            })
        });
        Pager::new(fetch, |user: &User| hash_key(user.id.as_str()), start, page_size)
    }

    fn list_call(
        &self,
        op: &'static str,
        route: &'static str,
        query: &impl serde::Serialize,
    ) -> Result<Call<'_>> {
        Ok(self
            .client
            .call(&SERVICE, op, Method::GET, route, &[])?
            .query_struct(query)?
            .idempotent())
    }

    /// `GET /api/v1/users/:id`: one user. Safe to retry.
    ///
    /// The user comes as an object, or as a one-element array of it (the form Rightech's own
    /// recorded answers show, as create and update answer).
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) 404 ([`Error::is_not_found`]) for a user outside the caller's group or
    /// unknown, [`ErrorKind::Api`](crate::ErrorKind::Api) for `"success": false` under HTTP 200, [`ErrorKind::Decode`](crate::ErrorKind::Decode) for a
    /// body that is not a user, [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for an
    /// array of any other length than one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rightech::UserId;
    /// use userapi_fake::rightech::{COLLEAGUE_ID, FakeRightech};
    /// let fake = FakeRightech::start().await?;
    /// let user = fake.api()?.get_user(&UserId::new(COLLEAGUE_ID)?).await?;
    /// assert_eq!(user.login.as_deref(), Some("colleague"));
    /// # Ok(()) }
    /// ```
    pub async fn get_user(&self, id: &UserId) -> Result<User> {
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
        let (item, path) = single(&raw)?;
        if item.get("success") == Some(&Value::Bool(false)) {
            return Err(refusal(&raw, &item));
        }
        decode_user(&raw, item, path)
    }

    /// `POST /api/v1/users`: creates a user and returns it as the service answers (with its
    /// new `_id`, `owner`, `access`, `time`). Never retried.
    ///
    /// The five required fields must not be empty (checked before sending);
    /// [`NewUser::check_login`] and [`NewUser::check_password_policy`] check the documented
    /// rules if you want them checked. A role id comes from [`list_roles`](Self::list_roles).
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty required field, before sending.
    /// - [`ErrorKind::Http`](crate::ErrorKind::Http) for a refusal (a taken login or email, a weak password).
    /// - [`ErrorKind::Api`](crate::ErrorKind::Api) for `"success": false` under HTTP 200.
    /// - [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when a success answer carries no user id (neither an object
    ///   with `_id` nor a one-element array of one): the user may have been created, so look
    ///   it up by login before trying again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rightech::{NewUser, RoleId};
    /// use userapi_fake::rightech::{FakeRightech, ROLE_ID};
    /// let fake = FakeRightech::start().await?;
    /// let new = NewUser::new(
    ///     RoleId::new(ROLE_ID)?,
    ///     "Sensor bot",
    ///     "bot@example.com",
    ///     "sensorbot",
    ///     "Str0ngPassw0rd",
    /// )
    /// .web_disabled(true);
    /// let created = fake.api()?.create_user(&new).await?;
    /// assert!(fake.has_user(created.id.as_str()));
    /// assert!(created.time.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        const OP: &str = "rightech::create_user";
        user.check(OP)?;
        let raw = self
            .client
            .call(&SERVICE, OP, Method::POST, "api/v1/users", &[])?
            .json(user)?
            .send_raw()
            .await?;
        written_user(&raw, "the user may have been created; look it up by login")
    }

    /// `PATCH /api/v1/users/:id`: changes the fields set in `update` and returns the user as
    /// the service answers (the whole user, `_at` set to the time of the change). An empty
    /// update is refused before sending. Not retried (it may change the password).
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an update that sets no field, before sending.
    /// - [`ErrorKind::Http`](crate::ErrorKind::Http) for a refusal (404 for a user outside the caller's group).
    /// - [`ErrorKind::Api`](crate::ErrorKind::Api) for `"success": false` under HTTP 200.
    /// - [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when a success answer carries no user (the recorded answers
    ///   always do): the change may have been applied; [`get_user`](Self::get_user) tells.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rightech::{UserId, UserUpdate};
    /// use userapi_fake::rightech::{COLLEAGUE_ID, FakeRightech};
    /// let fake = FakeRightech::start().await?;
    /// let update = UserUpdate::new().name("Colleague (ops)").description("on call");
    /// let user = fake.api()?.update_user(&UserId::new(COLLEAGUE_ID)?, &update).await?;
    /// assert_eq!(user.description.as_deref(), Some("on call"));
    /// assert!(user.changed_at().is_some());
    /// # Ok(()) }
    /// ```
    pub async fn update_user(&self, id: &UserId, update: &UserUpdate) -> Result<User> {
        const OP: &str = "rightech::update_user";
        update.check(OP)?;
        let raw = self
            .client
            .call(&SERVICE, OP, Method::PATCH, "api/v1/users/{id}", &[id.as_str()])?
            .json(update)?
            .send_raw()
            .await?;
        written_user(&raw, "the change may have been applied; get_user tells")
    }

    /// `DELETE /api/v1/users/:id`. The service's page calls it deleting but says it "removes
    /// an account from a group"; which of the two a deployment does is not documented.
    ///
    /// Retried like a read (the end state is the same however often it is sent), with one
    /// rule: **a 404 after an attempt that may have done the work counts as success**. That
    /// is an attempt that timed out or got a 5xx: it may have removed the user, and the 404
    /// then says the user is gone, which is what was asked. A 404 on the first attempt, or
    /// after a refusal that did nothing (a 429, a 401 answered by a fresh token, a failed
    /// connect), is an error as usual. With retries off
    /// ([`RetryPolicy::none`](crate::RetryPolicy::none)) every 404 is an error.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) 404 ([`Error::is_not_found`]) when there is no such user in the
    /// caller's group and no earlier attempt may have removed it, other [`ErrorKind::Http`](crate::ErrorKind::Http) refusals, [`ErrorKind::Api`](crate::ErrorKind::Api) for
    /// `"success": false` under HTTP 200.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rightech::UserId;
    /// use userapi_fake::rightech::{COLLEAGUE_ID, FakeRightech};
    /// let fake = FakeRightech::start().await?;
    /// let api = fake.api()?;
    /// let id = UserId::new(COLLEAGUE_ID)?;
    /// api.delete_user(&id).await?;
    /// assert!(api.get_user(&id).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn delete_user(&self, id: &UserId) -> Result<()> {
        let sent = self
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
            .await;
        match sent {
            Ok(raw) => match serde_json::from_slice::<Value>(&raw.body) {
                Ok(body) if body.get("success") == Some(&Value::Bool(false)) => Err(refusal(&raw, &body)),
                _ => Ok(()),
            },
            // An earlier attempt got no answer and may have done the work.
            Err(err) if err.is_not_found() && err.http().is_some_and(|e| e.after_unanswered) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// `POST /api/v1/users/tokens`: issues an API token for a user. Never retried; the
    /// response is treated as a credential (never quoted in errors or `Debug`).
    ///
    /// It issues a token for someone and does NOT install it: this client keeps its own
    /// credentials. To act with the new token, build a client with
    /// [`Auth::bearer`](crate::Auth::bearer) of [`IssuedToken::token`].
    ///
    /// Neither the request nor the response body is documented publicly: `request` is an open
    /// JSON object, and the result finds the token where it usually is and keeps the whole
    /// response reachable ([`IssuedToken::raw`]).
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) for a refusal, [`ErrorKind::Api`](crate::ErrorKind::Api) for `"success": false` under HTTP 200,
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) (without an excerpt of the body) when the answer is not JSON.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::Auth;
    /// use userapi::rightech::{ListUsers, TokenRequest};
    /// use userapi_fake::rightech::{COLLEAGUE_ID, FakeRightech};
    /// let fake = FakeRightech::start().await?;
    /// let issued = fake
    ///     .api()?
    ///     .create_token(&TokenRequest::new().field("user", COLLEAGUE_ID))
    ///     .await?;
    /// let token = issued.token().expect("the fake sends `token`").clone();
    /// let as_colleague = fake.api_with(Auth::bearer(token))?;
    /// assert_eq!(as_colleague.list_users(&ListUsers::new()).await?.len(), 2);
    /// # Ok(()) }
    /// ```
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
        Ok(IssuedToken::from_json(value))
    }

    /// `GET /api/v1/roles`: the roles the caller can see (its project's own and shared ones),
    /// whose ids go in [`NewUser::new`] and [`UserUpdate::role`], filtered by `query` (the
    /// list parameters every Rightech list takes: `limit`, `offset`, `search`, `from`, `to`,
    /// `only`). A bare list; [`ListRoles::new`] sends no parameter, as the service's own client
    /// reads it. Safe to retry.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) for a refusal (401 for a bad token, 403 for a role that may not list
    /// roles), [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the body is not a list of roles.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::rightech::{FakeRightech, ROLE_ID};
    /// let fake = FakeRightech::start().await?;
    /// use userapi::rightech::ListRoles;
    /// let roles = fake.api()?.list_roles(&ListRoles::new()).await?;
    /// let signup = roles.iter().find(|r| r.id.as_str() == ROLE_ID).expect("seeded");
    /// assert_eq!(signup.name.as_deref(), Some("[rightech] signup"));
    /// // GET /api/v1/roles?search=signup&only=_id,name
    /// let found = fake.api()?.list_roles(&ListRoles::new().search("signup").only(["_id", "name"])).await?;
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].credentials, None, "projected away");
    /// # Ok(()) }
    /// ```
    pub async fn list_roles(&self, query: &ListRoles) -> Result<Vec<Role>> {
        self.list_call("rightech::list_roles", "api/v1/roles", query)?
            .send()
            .await
    }
}

/// A stable 64-bit key of an id, for the pager's loop guards.
fn hash_key(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// A create or update answer: the user as an object or a one-element array. `success: false`
/// is an error; a success without a user id is a protocol error, `hint` saying what may
/// have happened.
fn written_user(raw: &RawResponse, hint: &str) -> Result<User> {
    let no_user = || raw.protocol_error(format!("the service answered success without a user id; {hint}"));
    if raw.body.trim_ascii().is_empty() {
        return Err(no_user());
    }
    let (item, path) = single(raw)?;
    if item.get("success") == Some(&Value::Bool(false)) {
        return Err(refusal(raw, &item));
    }
    if !item.get("_id").is_some_and(Value::is_string) {
        return Err(no_user());
    }
    decode_user(raw, item, path)
}

/// The one item of an answer that is an object or a one-element array of it, and the path
/// that names it in errors (`""` or `"[0]"`).
fn single(raw: &RawResponse) -> Result<(Value, &'static str)> {
    match raw.json::<Value>()? {
        Value::Array(mut items) if items.len() == 1 => Ok((items.swap_remove(0), "[0]")),
        Value::Array(items) => Err(raw.protocol_error(format!(
            "the service answered a list of {} items where one user was expected",
            items.len()
        ))),
        other => Ok((other, "")),
    }
}

/// A user from the item [`single`] found, a decode error naming the field.
fn decode_user(raw: &RawResponse, item: Value, path: &str) -> Result<User> {
    serde_path_to_error::deserialize(item).map_err(|e| {
        let inner = e.path().to_string();
        let field = match (path, inner.as_str()) {
            ("", _) => inner.clone(),
            (p, ".") => p.to_owned(),
            (p, i) => format!("{p}.{i}"),
        };
        raw.decode_failure(field, e.into_inner().to_string())
    })
}

/// `{"success": false, "message"?, "code"?, "codes"?}` under a success status. `code` may be
/// a number or a string (`"404"`); without one, the first numeric `codes[]` entry, else the
/// HTTP status.
fn refusal(raw: &RawResponse, body: &Value) -> Error {
    let numeric = |v: &Value| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let code = body
        .get("code")
        .and_then(numeric)
        .or_else(|| body.get("codes")?.as_array()?.iter().find_map(numeric))
        .unwrap_or(i64::from(raw.status.as_u16()));
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| Some("the service answered success: false".to_owned()));
    raw.api_error(code, message)
}

#[cfg(test)]
crate::properties::service_properties! {
    service: SERVICE,
    decodes: [User, Vec<User>, UserId, RoleId, GroupId, ObjectId, Role, Vec<Role>, serde_json::Value],
    schemes: [crate::Auth::bearer],
}
