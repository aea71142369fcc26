//! API keys: the key as listed (never the key itself), the key as issued (the only time it is
//! shown), and the bodies that create and update a key.

use serde::{Deserialize, Serialize};

use super::{ApiKeyId, GroupId, UserSummary};
use crate::auth::ApiKey;
use crate::error::{Error, Result};
use crate::models::{Extra, Timestamp, response_model};

response_model! {
    /// An API key as listed (`GET /api/api-key`) and updated: what is known about it, never
    /// the key itself, which is shown once, as the [`ApiKey`] in [`IssuedApiKey::key`].
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct ApiKeyInfo {
        /// The key's id.
        pub id: ApiKeyId,
        /// Its name, unique among keys when created.
        #[serde(default)]
        pub name: Option<String>,
        /// The group whose permissions it has (All Users when that is its only group).
        #[serde(default)]
        pub group: Option<ApiKeyGroup>,
        /// The prefix and `*`s, e.g. `mb_q4Zr****…`: enough to recognise a key.
        #[serde(default)]
        pub masked_key: Option<String>,
        /// When it was created.
        #[serde(default)]
        pub created_at: Option<Timestamp>,
        /// When it last changed.
        #[serde(default)]
        pub updated_at: Option<Timestamp>,
        /// Who created it, or last regenerated it.
        #[serde(default)]
        pub updated_by: Option<UserSummary>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl ApiKeyInfo {
    /// The key's prefix (its first 7 characters, unique among keys), read from `masked_key`.
    pub fn prefix(&self) -> Option<&str> {
        let masked = self.masked_key.as_deref()?;
        let end = masked.find('*').unwrap_or(masked.len());
        Some(&masked[..end]).filter(|p| !p.is_empty())
    }
}

response_model! {
    /// `group` of an [`ApiKeyInfo`].
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct ApiKeyGroup {
        /// The group's id.
        pub id: GroupId,
        /// The group's name.
        #[serde(default)]
        pub name: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// A key as created or regenerated: the only time the key itself is shown.
///
/// `api_key` holds the rest of the answer: on create the whole [`ApiKeyInfo`]; on regenerate
/// current servers send only `id`, `masked_key` and `prefix`, older ones the whole key.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IssuedApiKey {
    /// The key (`mb_…`), to send as `X-API-Key` ([`metabase::auth::api_key`](crate::metabase::auth::api_key)).
    pub key: ApiKey,
    /// The key's prefix, when the server sent it (regenerate).
    pub prefix: Option<String>,
    /// Everything else about the key.
    pub api_key: ApiKeyInfo,
}

impl IssuedApiKey {
    /// A key as issued: the key itself, its prefix if the answer held one, and the rest (for
    /// fakes and tests; the SDK builds it from the server's answer).
    pub fn new(key: ApiKey, prefix: Option<String>, api_key: ApiKeyInfo) -> Self {
        IssuedApiKey { key, prefix, api_key }
    }
}

/// The body of `POST /api/api-key`: both fields are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewApiKey {
    /// A name no other key has.
    pub name: String,
    /// The group whose permissions the key gets (Administrators makes it a superuser).
    pub group_id: GroupId,
}

impl NewApiKey {
    /// A key named `name` in group `group_id`.
    pub fn new(name: impl Into<String>, group_id: GroupId) -> Self {
        NewApiKey {
            name: name.into(),
            group_id,
        }
    }

    /// Refuses a blank name before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input(
                operation,
                "the key's name must not be blank",
            ));
        }
        Ok(())
    }
}

/// The body of `PUT /api/api-key/:id`: only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApiKeyUpdate {
    /// A new name (1 to 254 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new group: the key's user then has All Users and this group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
}

impl ApiKeyUpdate {
    /// Changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Renames the key.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Moves the key to another group.
    pub fn group_id(mut self, group: GroupId) -> Self {
        self.group_id = Some(group);
        self
    }
    /// Whether nothing would be sent.
    pub fn is_empty(&self) -> bool {
        *self == ApiKeyUpdate::default()
    }

    /// Refuses an update that sets nothing before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.is_empty() {
            return Err(Error::invalid_input(operation, "the update sets no field"));
        }
        Ok(())
    }
}

/// A created or regenerated key on the wire: the key is taken out before the rest is decoded,
/// so it never lands in `extra`.
#[derive(Deserialize)]
pub(crate) struct IssuedWire {
    #[serde(default)]
    pub(crate) unmasked_key: Option<String>,
    #[serde(default)]
    pub(crate) prefix: Option<String>,
    #[serde(flatten)]
    pub(crate) rest: ApiKeyInfo,
}
