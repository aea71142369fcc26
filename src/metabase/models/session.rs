//! Sessions and passwords: what a password change or reset did, and the bodies of the
//! session and password endpoints.

use serde::{Deserialize, Serialize};

use crate::auth::{Secret, SessionId};
use crate::error::{Error, Result};

/// What [`Metabase::change_password`](crate::metabase::Metabase::change_password) and
/// [`Metabase::reset_password`](crate::metabase::Metabase::reset_password) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordChanged {
    /// The password changed and the server started a new session (one's own change, or a
    /// reset): the old sessions are dead and this is the new one. The client has switched to
    /// it already (on a change, when it was using a session).
    NewSession(SessionId),
    /// The password changed and no session came back: another user's password (HTTP 204),
    /// or a reset for an account with multi-factor login (log in next).
    #[default]
    Changed,
}

#[derive(Serialize)]
pub(crate) struct Login<'a> {
    pub(crate) username: &'a str,
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) password: &'a Secret,
}

/// `{"id": "<session id>"}` of a login.
#[derive(Deserialize)]
pub(crate) struct SessionIdWire {
    pub(crate) id: String,
}

#[derive(Serialize)]
pub(crate) struct NewPassword<'a> {
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) password: &'a Secret,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::auth::expose_opt_secret"
    )]
    pub(crate) old_password: Option<&'a Secret>,
}

/// `{"success": true, "session_id"?}` of a password change or reset.
#[derive(Deserialize)]
pub(crate) struct PasswordResponse {
    #[serde(default)]
    pub(crate) session_id: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct PasswordOnly<'a> {
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) password: &'a Secret,
}

#[derive(Serialize)]
pub(crate) struct EmailOnly<'a> {
    pub(crate) email: &'a str,
}

#[derive(Serialize)]
pub(crate) struct ResetPassword<'a> {
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) token: &'a Secret,
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) password: &'a Secret,
}

/// `{"valid": bool}`.
#[derive(Deserialize)]
pub(crate) struct Valid {
    #[serde(default)]
    pub(crate) valid: Option<bool>,
}

/// Refuses an empty password before sending, as `what` (the server's schema is
/// `NonBlankString`).
fn given(operation: &'static str, what: &str, password: &Secret) -> Result<()> {
    if password.is_empty() {
        return Err(Error::invalid_input(
            operation,
            format!("{what} must not be empty"),
        ));
    }
    Ok(())
}

impl Login<'_> {
    /// Refuses a blank username or an empty password before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.username.trim().is_empty() || self.password.is_empty() {
            return Err(Error::invalid_input(
                operation,
                "username and password must not be blank",
            ));
        }
        Ok(())
    }
}

impl NewPassword<'_> {
    /// Refuses an empty new password before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        given(operation, "the new password", self.password)
    }
}

impl PasswordOnly<'_> {
    /// Refuses an empty password before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        given(operation, "the password", self.password)
    }
}

impl EmailOnly<'_> {
    /// Refuses a blank email before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.email.trim().is_empty() {
            return Err(Error::invalid_input(operation, "the email must not be blank"));
        }
        Ok(())
    }
}

impl ResetPassword<'_> {
    /// Refuses a blank token or an empty new password before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.token.expose().trim().is_empty() {
            return Err(Error::invalid_input(
                operation,
                "the reset token must not be blank",
            ));
        }
        given(operation, "the new password", self.password)
    }
}
