//! Metabase: the whole `/api/user` resource, sessions (`/api/session`) and API keys.
//!
//! Paths are under the instance's root (`https://metabase.example.com/`); set it as the base
//! URL. Credentials: a session id as `X-Metabase-Session` ([`Auth::metabase_session`], or
//! [`Metabase::login`] to get one; sessions last 14 days by default) or an API key as
//! `X-API-Key` ([`Auth::metabase_api_key`]).
//!
//! Errors: 401, 403, 404 and some 400s come as plain text (`Unauthenticated`, `You don't have
//! permissions to do that.`, `Not found.`), kept word for word in [`Error::service_message`];
//! validation errors `{"errors": {...}, "specific-errors": {...}}` become
//! [`Error::field_errors`]; other failures carry `{"message": ...}`.
//!
//! User ids are positive integers: `0` is an [`Error::InvalidInput`] before sending.

mod models;

#[cfg(feature = "fake")]
pub mod fake;

pub use models::{
    AttributeSource, CustomHomepage, GroupMembership, ListUsers, Modal, NewUser, PasswordChanged,
    Permissions, StructuredAttribute, Tenancy, User, UserList, UserStatus, UserUpdate,
};

use std::sync::Arc;

use reqwest::{Method, StatusCode};

use crate::auth::{Auth, Secret};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::error::{ErrorBody, ServiceError};
use crate::pager::{Fetch, Page, Pager};
use crate::pipeline::{Call, Service};
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

/// The Metabase user and session endpoints over a [`Client`].
#[derive(Debug, Clone)]
pub struct Metabase {
    client: Client,
}

impl Client {
    /// The Metabase endpoints on this client (its base URL is the instance root).
    pub fn metabase(&self) -> Metabase {
        Metabase::new(self.clone())
    }
}

fn check_id(operation: &'static str, id: u64) -> Result<String> {
    if id == 0 {
        return Err(Error::invalid_input(
            operation,
            "a user id is a positive integer, not 0",
        ));
    }
    Ok(id.to_string())
}

impl Metabase {
    /// Wraps a client whose base URL is a Metabase instance.
    pub fn new(client: Client) -> Self {
        Metabase { client }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A request to a Metabase endpoint this crate does not model yet, through the same
    /// pipeline (credentials, encoding, timeouts, retries only when marked idempotent,
    /// limits) with Metabase's error shapes read; see [`RequestBuilder`](crate::RequestBuilder).
    pub fn request(&self, method: Method, segments: &[&str]) -> crate::RequestBuilder<'_> {
        crate::RequestBuilder::new(
            self.client
                .call_segments(&SERVICE, "metabase::request", method, segments),
        )
    }

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
        let id = check_id(op, id)?;
        let mut ids = vec![id.as_str()];
        ids.extend_from_slice(more);
        self.call(op, method, route, &ids)
    }

    /// `POST /api/session`: logs in with an email and password and makes this client (and
    /// its clones) send the new session id as `X-Metabase-Session`. Returns the session id.
    ///
    /// Metabase throttles logins (10 per username): keep a session for its lifetime rather
    /// than logging in per request. Never retried.
    pub async fn login(&self, username: &str, password: &Secret) -> Result<Secret> {
        const OP: &str = "metabase::login";
        if username.trim().is_empty() || password.is_empty() {
            return Err(Error::invalid_input(
                OP,
                "username and password must not be blank",
            ));
        }
        let body = models::Login {
            username,
            password: password.expose(),
        };
        let session: models::SessionId = self
            .call(OP, Method::POST, "api/session", &[])?
            .json(&body)?
            .secret_response()
            .send()
            .await?;
        let session = Secret::new(session.id);
        self.client.set_auth(Auth::metabase_session(session.clone()))?;
        Ok(session)
    }

    /// `DELETE /api/session`: ends the current session; the client then sends no credentials.
    pub async fn logout(&self) -> Result<()> {
        self.call("metabase::logout", Method::DELETE, "api/session", &[])?
            .send_empty()
            .await?;
        self.client.set_auth(Auth::None)
    }

    /// `GET /api/user/current`: the current user, with the fields only this endpoint returns.
    pub async fn get_me(&self) -> Result<User> {
        self.call("metabase::get_me", Method::GET, "api/user/current", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user/:id`: one user (self, a superuser, or an EE group manager may read it;
    /// others get 403). Deactivated users can be read.
    pub async fn get_user(&self, id: u64) -> Result<User> {
        self.user_call("metabase::get_user", Method::GET, "api/user/{id}", id, &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user`: one page of users (superusers and EE group managers; others get 403).
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
    /// [`Pager::concurrency`] pages (default 4) are fetched at once, items still in order,
    /// so listing a large instance costs a quarter of the round trips. Memory stays at a
    /// few pages whatever the total.
    ///
    /// A server that ignores paging ends the stream with [`Error::Protocol`] rather than
    /// looping (see [`pager`](crate::pager)); an old server's bare array (no total) is read
    /// until a short page.
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
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        const OP: &str = "metabase::create_user";
        if user.email.trim().is_empty() {
            return Err(Error::invalid_input(OP, "email is required"));
        }
        self.call(OP, Method::POST, "api/user", &[])?
            .json(user)?
            .send()
            .await
    }

    /// `PUT /api/user/:id`: changes what `update` sets (self or superuser; only active users
    /// can be updated, others give 404). An empty update is refused before sending.
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
        let body = models::NewPassword {
            password: new_password.expose(),
            old_password: old_password.map(Secret::expose),
        };
        let raw = self
            .user_call(OP, Method::PUT, "api/user/{id}/password", id, &[])?
            .json(&body)?
            .secret_response()
            .send_raw()
            .await?;
        if raw.status == StatusCode::NO_CONTENT || raw.body.trim_ascii().is_empty() {
            return Ok(PasswordChanged::Changed);
        }
        let response: models::PasswordResponse = raw.json()?;
        match response.session_id {
            Some(session) => {
                let session = Secret::new(session);
                if matches!(self.client.auth(), Auth::MetabaseSession(_)) {
                    self.client.set_auth(Auth::metabase_session(session.clone()))?;
                }
                Ok(PasswordChanged::NewSession(session))
            }
            None => Ok(PasswordChanged::Changed),
        }
    }

    /// `PUT /api/user/:id/reactivate`: reactivates a deactivated user (superusers only;
    /// `is_superuser` is reset to false). An active user gives 400 `Not able to reactivate
    /// an active user`, so this is not retried.
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
}

/// The login behind [`Auth::MetabaseLogin`]: `POST /api/session` sending no credentials,
/// with the password redacted from any error, and an empty session id refused.
///
/// Boxed: it is a call through the pipeline made from inside the pipeline's credential step.
pub(crate) fn session_login<'a>(
    client: &'a Client,
    username: &'a str,
    password: &'a Secret,
) -> crate::auth::BoxFuture<'a, Result<Secret>> {
    Box::pin(session_login_inner(client, username, password))
}

async fn session_login_inner(client: &Client, username: &str, password: &Secret) -> Result<Secret> {
    let body = models::Login {
        username,
        password: password.expose(),
    };
    let raw = client
        .call(&SERVICE, "metabase::login", Method::POST, "api/session", &[])?
        .auth_override(&Auth::None)?
        .json(&body)?
        .secret(password)
        .secret_response()
        .send_raw()
        .await?;
    let session: models::SessionId = raw.json()?;
    if session.id.trim().is_empty() {
        return Err(raw.protocol_error("the login answered an empty session id"));
    }
    Ok(Secret::new(session.id))
}
