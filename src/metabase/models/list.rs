//! Lists of users: the page `GET /api/user` answers, and its query.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{GroupId, User};
use crate::models::string_enum;

/// One page of users: `{"data", "total", "limit", "offset"}`. Very old servers answer with a
/// bare array, which decodes with `total`, `limit` and `offset` unset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserList {
    /// The users on this page.
    pub data: Vec<User>,
    /// Matching users in all, ignoring paging.
    pub total: Option<u64>,
    /// The page size applied (`None`: no paging).
    pub limit: Option<u64>,
    /// The offset applied (`None`: no paging).
    pub offset: Option<u64>,
}

impl<'de> Deserialize<'de> for UserList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A hand-written visitor rather than `#[serde(untagged)]`: untagged buffers the whole
        // body before trying each shape, which doubles the memory of a large page.
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = UserList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user list envelope or an array of users")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserList, A::Error> {
                let mut data = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(user) = seq.next_element()? {
                    data.push(user);
                }
                Ok(UserList {
                    data,
                    total: None,
                    limit: None,
                    offset: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UserList, A::Error> {
                let (mut data, mut total, mut limit, mut offset) = (None, None, None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "data" => data = Some(map.next_value::<Vec<User>>()?),
                        "total" => total = map.next_value()?,
                        "limit" => limit = map.next_value()?,
                        "offset" => offset = map.next_value()?,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(UserList {
                    data: data.ok_or_else(|| de::Error::missing_field("data"))?,
                    total,
                    limit,
                    offset,
                })
            }
        }
        d.deserialize_any(ListVisitor)
    }
}

string_enum! {
    /// Which users `GET /api/user` lists (superuser only).
    pub enum UserStatus {
        /// Active users (the server's default).
        Active => "active",
        /// Deactivated users only.
        Deactivated => "deactivated",
        /// Both.
        All => "all",
    }
}

string_enum! {
    /// Internal and/or external (tenant) users, on versions with tenants.
    pub enum Tenancy {
        /// Both.
        All => "all",
        /// Internal users only.
        Internal => "internal",
        /// Tenant users only.
        External => "external",
    }
}

/// The query of `GET /api/user`. Every filter is optional; unset ones are not sent. Sent as
/// query pairs named as the fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ListUsers {
    /// Active, deactivated or all (superuser only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Legacy alias of `status` (true = all). If both are sent the documents say `status`
    /// wins but current servers let `include_deactivated=true` win: send one of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_deactivated: Option<bool>,
    /// Case-insensitive match on first name, last name and email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Members of this group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// Internal / external users (newer versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<Tenancy>,
    /// Users of this tenant (newer versions; not together with `tenancy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<u64>,
    /// Data analysts only, or not (newest versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_data_analyst: Option<bool>,
    /// Users with data-studio access, or not (newest versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_access_data_studio: Option<bool>,
    /// Page size (the server defaults it to 50 when only `offset` is sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Users to skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl ListUsers {
    /// No filters.
    pub fn new() -> Self {
        Self::default()
    }
    /// Filters by status.
    pub fn status(mut self, v: UserStatus) -> Self {
        self.status = Some(v);
        self
    }
    /// Sets the legacy `include_deactivated` flag.
    pub fn include_deactivated(mut self, v: bool) -> Self {
        self.include_deactivated = Some(v);
        self
    }
    /// Filters by a text match.
    pub fn query(mut self, v: impl Into<String>) -> Self {
        self.query = Some(v.into());
        self
    }
    /// Filters by group.
    pub fn group_id(mut self, v: GroupId) -> Self {
        self.group_id = Some(v);
        self
    }
    /// Filters by tenancy.
    pub fn tenancy(mut self, v: Tenancy) -> Self {
        self.tenancy = Some(v);
        self
    }
    /// Filters by tenant.
    pub fn tenant_id(mut self, v: u64) -> Self {
        self.tenant_id = Some(v);
        self
    }
    /// Filters by the data-analyst flag.
    pub fn is_data_analyst(mut self, v: bool) -> Self {
        self.is_data_analyst = Some(v);
        self
    }
    /// Filters by data-studio access.
    pub fn can_access_data_studio(mut self, v: bool) -> Self {
        self.can_access_data_studio = Some(v);
        self
    }
    /// Sets the page size.
    pub fn limit(mut self, v: u64) -> Self {
        self.limit = Some(v);
        self
    }
    /// Sets the offset.
    pub fn offset(mut self, v: u64) -> Self {
        self.offset = Some(v);
        self
    }
}
