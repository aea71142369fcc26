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
    /// "Remember me": a session cookie that lasts as long as the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) remember: Option<bool>,
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

/// A link that lets one user set a new password, from
/// [`Metabase::password_reset_url`](crate::metabase::Metabase::password_reset_url): to hand
/// over by a channel other than email. It holds a reset token, so it is a credential: it never
/// shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordResetUrl {
    /// The whole link (`<site-url>/auth/reset_password/<token>`).
    pub url: Secret,
    /// The token in it, when the link has the usual form: what
    /// [`Metabase::reset_password`](crate::metabase::Metabase::reset_password) takes.
    pub token: Option<crate::auth::ResetToken>,
}

impl std::fmt::Debug for PasswordResetUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetUrl")
            .field("url", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl PasswordResetUrl {
    /// The link from an answer: a JSON string, or an object holding it (the answer's shape is
    /// not documented; the first string that looks like a link is taken, a known key first).
    pub(crate) fn from_answer(value: &serde_json::Value) -> Option<PasswordResetUrl> {
        let link = |v: &serde_json::Value| {
            v.as_str()
                .map(str::trim)
                .filter(|s| s.starts_with("http://") || s.starts_with("https://") || s.starts_with('/'))
                .map(str::to_owned)
        };
        let url = match value {
            serde_json::Value::Object(map) => ["password_reset_url", "url", "reset_url", "link"]
                .iter()
                .find_map(|k| map.get(*k).and_then(link))
                .or_else(|| map.values().find_map(link))?,
            other => link(other)?,
        };
        let token = url
            .split_once("/auth/reset_password/")
            .map(|(_, t)| t.split(['#', '?']).next().unwrap_or(t))
            .filter(|t| !t.trim().is_empty())
            .map(|t| crate::auth::ResetToken::new(t.to_owned()));
        Some(PasswordResetUrl {
            url: Secret::from(url),
            token,
        })
    }
}
