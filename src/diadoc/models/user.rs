//! The user (`UserV2`) and the obsolete update of it (`UserToUpdate`).

use serde::Serialize;

use crate::models::{Extra, response_model};

use super::*;

response_model! {
    /// A person's name: `LastName` and `FirstName` are required by the protocol.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct FullName {
        /// Family name (required by the protocol; `None` only if a server leaves it out).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_name: Option<String>,
        /// Given name (required by the protocol).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub first_name: Option<String>,
        /// Patronymic, optional.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub middle_name: Option<String>,
        /// Fields this version does not model (skipped when sending).
        #[serde(skip)]
        pub extra: Extra,
    }
}

impl FullName {
    /// A name with both required parts.
    pub fn new(last_name: impl Into<String>, first_name: impl Into<String>) -> Self {
        FullName {
            last_name: Some(last_name.into()),
            first_name: Some(first_name.into()),
            middle_name: None,
            extra: Extra::new(),
        }
    }

    /// Sets the patronymic.
    pub fn middle_name(mut self, middle_name: impl Into<String>) -> Self {
        self.middle_name = Some(middle_name.into());
        self
    }

    pub(super) fn is_empty(&self) -> bool {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        blank(&self.last_name) || blank(&self.first_name)
    }
}

response_model! {
    /// `UserV2`: a user of the portal (the current one from `GetMyUser`, or an employee's).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct UserV2 {
        /// The user's id (a GUID). It changes once an unregistered user registers.
        pub user_id: UserId,
        /// The login (an email). After a login change it keeps the old value until the user
        /// confirms the new address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub login: Option<String>,
        /// The user's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub full_name: Option<FullName>,
        /// `false` while the user has not confirmed their email; the `user_id` then changes on
        /// registration. Required by the protocol; `None` only if a server leaves it out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_registered: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// `UserLoginPatch`: a new login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UserLoginPatch {
    /// The new login: a non-empty email address.
    pub login: String,
}

/// `UserFullNamePatch`: a new name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UserFullNamePatch {
    /// The new name, both required parts set.
    pub full_name: FullName,
}

/// `UserToUpdate`: the changes [`Diadoc::update_me`](crate::diadoc::Diadoc::update_me) sends. Unset
/// patches are not sent; at least one must be set.
///
/// ```
/// use userapi::diadoc::{FullName, UserToUpdate};
/// let change = UserToUpdate::new().full_name(FullName::new("Petrova", "Anna").middle_name("S."));
/// # let _ = change;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UserToUpdate {
    /// A login change; applies only after the user confirms the email sent to the new address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<UserLoginPatch>,
    /// A name change; applies at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<UserFullNamePatch>,
}

impl UserToUpdate {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a new login (an email address).
    pub fn login(mut self, login: impl Into<String>) -> Self {
        self.login = Some(UserLoginPatch { login: login.into() });
        self
    }

    /// Sets a new name.
    pub fn full_name(mut self, full_name: FullName) -> Self {
        self.full_name = Some(UserFullNamePatch { full_name });
        self
    }

    /// The documented rules, checked before sending: at least one patch; a login patch holds a
    /// non-empty email-shaped login; a name patch has its last and first names.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.login.is_none() && self.full_name.is_none() {
            return Err("set Login or FullName: the service refuses an empty change");
        }
        if let Some(patch) = &self.login
            && !email_shaped(&patch.login)
        {
            return Err("Login must be a non-empty email address");
        }
        if let Some(patch) = &self.full_name
            && patch.full_name.is_empty()
        {
            return Err("FullName needs non-empty LastName and FirstName");
        }
        Ok(())
    }
}

/// `LoginPassword`, the JSON body of `POST /V3/Authenticate?type=password`. The documented
/// JSON example uses lower-case keys.
#[derive(Serialize)]
pub(crate) struct LoginPassword<'a> {
    pub(crate) login: &'a str,
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) password: &'a crate::auth::Secret,
}
