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
//! User, API-key and group ids are positive integers, typed [`UserId`], [`ApiKeyId`] and
//! [`GroupId`]: `0` cannot be made into one, so it is never sent.
//!
//! Secrets are role-typed ([`Password`](crate::auth::Password),
//! [`ResetToken`](crate::auth::ResetToken), [`SessionId`](crate::auth::SessionId),
//! [`ApiKey`](crate::auth::ApiKey)). What the API says about a key is an [`ApiKeyInfo`]; the
//! key itself, shown once, is the [`ApiKey`](crate::auth::ApiKey) in [`IssuedApiKey::key`].
//!
//! Three calls start a new session and switch the client to it: [`login`](Metabase::login),
//! [`change_password`](Metabase::change_password) on one's own account (when the client was
//! using a session) and [`reset_password`](Metabase::reset_password). A session id that comes
//! back empty is an [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) and the client keeps what it had.
//!
//! The endpoints, by resource: sessions and passwords (`session.rs`), users (`users.rs`), API
//! keys (`api_keys.rs`), the key-value store and login history (`key_value.rs`).
//!
//! Every example on this page runs against `userapi_fake::metabase::FakeMetabase`.

mod api_keys;
pub mod auth;
mod groups;
mod key_value;
mod models;
mod server;
mod session;
mod users;

pub use models::{
    ApiKeyGroup, ApiKeyId, ApiKeyInfo, ApiKeyUpdate, AttributeSource, CustomHomepage, Group, GroupId,
    GroupMember, GroupMembership, InviteTarget, InviteTargetKind, IssuedApiKey, ListGroups, ListUsers,
    LoginRecord, MagicGroup, Membership, MembershipId, Modal, NewApiKey, NewGroup, NewMembership, NewUser,
    PasswordChanged, PasswordComplexity, PasswordResetUrl, Permissions, ServerInfo, StructuredAttribute,
    Tenancy, User, UserId, UserKeyValue, UserList, UserStatus, UserSummary, UserUpdate, Version, VersionInfo,
};

pub(crate) use session::session_login;

use reqwest::Method;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::error::{ErrorBody, ServiceError};
use crate::http::{Call, Service};

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
    /// The Metabase user and session endpoints over a [`Client`](crate::Client).
    pub struct Metabase {
    }
    service: SERVICE,
    name: "metabase",
    accessor: metabase,
    token: auth::api_key,
}

/// Refuses a blank route parameter or body field before sending (the server's schema is
/// `NonBlankString`): the one check for the string arguments that have no type of their own.
fn non_blank(operation: &'static str, what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(
            operation,
            format!("{what} must not be blank"),
        ));
    }
    Ok(())
}

impl Metabase {
    fn call(&self, op: &'static str, method: Method, route: &'static str, ids: &[&str]) -> Result<Call<'_>> {
        self.client.call(&SERVICE, op, method, route, ids)
    }
}

#[cfg(test)]
crate::properties::service_properties! {
    service: SERVICE,
    decodes: [User, UserList, StructuredAttribute, Permissions, UserStatus],
    schemes: [auth::session, auth::api_key],
    body_schemes: [|t: String| auth::login("ada@example.com", t)],
}
