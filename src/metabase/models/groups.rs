//! Permission groups and memberships (`/api/permissions/group`, `/api/permissions/membership`):
//! the group, its members, a membership, and the bodies and query of those endpoints.

use serde::Serialize;

use super::{GroupId, MembershipId, Tenancy, UserId};
use crate::error::{Error, Result};
use crate::models::{Extra, response_model, string_enum};

string_enum! {
    /// What makes a group one of Metabase's own (`magic_group_type`). Magic groups cannot be
    /// renamed or deleted, and All Users cannot be joined, left or cleared; Administrators
    /// membership **is** superuser status.
    pub enum MagicGroup {
        /// All Users (`all-internal-users`): every user is in it.
        AllUsers => "all-internal-users",
        /// Administrators (`admin`).
        Admin => "admin",
        /// All tenant users (`all-external-users`, newer versions with tenants).
        AllExternalUsers => "all-external-users",
        /// Data Analysts (`data-analyst`, newest versions).
        DataAnalyst => "data-analyst",
    }
}

response_model! {
    /// A permission group. `GET /api/permissions/group` adds [`member_count`](Self::member_count),
    /// `GET /api/permissions/group/:id` adds [`members`](Self::members); create and rename
    /// answer neither.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Group {
        /// The group's id (All Users is 1 and Administrators 2 on a fresh instance; prefer
        /// [`magic_group_type`](Self::magic_group_type) to fixed ids).
        pub id: GroupId,
        /// Its name, unique case-insensitively.
        #[serde(default)]
        pub name: Option<String>,
        /// A 21-character stable id (newer versions).
        #[serde(default)]
        pub entity_id: Option<String>,
        /// Which of Metabase's own groups it is; `None` for an ordinary group.
        #[serde(default)]
        pub magic_group_type: Option<MagicGroup>,
        /// A tenant group (newer versions).
        #[serde(default)]
        pub is_tenant_group: Option<bool>,
        /// Active members, API-key users included (the list only).
        #[serde(default)]
        pub member_count: Option<u64>,
        /// Its active members (one group only).
        #[serde(default)]
        pub members: Option<Vec<GroupMember>>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl Group {
    /// Whether this is one of Metabase's own groups, which cannot be renamed or deleted.
    pub fn is_magic(&self) -> bool {
        self.magic_group_type.is_some()
    }
}

response_model! {
    /// A member of a group: `members` of [`Metabase::get_group`](crate::metabase::Metabase::get_group)
    /// and the answer of [`Metabase::add_membership`](crate::metabase::Metabase::add_membership).
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct GroupMember {
        /// The user's id (the server sends it twice, as `id` and `user_id`).
        pub id: UserId,
        /// The user's id again.
        #[serde(default)]
        pub user_id: Option<UserId>,
        /// The membership: what [`Metabase::remove_membership`](crate::metabase::Metabase::remove_membership) takes.
        #[serde(default)]
        pub membership_id: Option<MembershipId>,
        /// The group.
        #[serde(default)]
        pub group_id: Option<GroupId>,
        /// Given name.
        #[serde(default)]
        pub first_name: Option<String>,
        /// Family name.
        #[serde(default)]
        pub last_name: Option<String>,
        /// `first last`, or the email.
        #[serde(default)]
        pub common_name: Option<String>,
        /// Email.
        #[serde(default)]
        pub email: Option<String>,
        /// Whether the user is an admin.
        #[serde(default)]
        pub is_superuser: Option<bool>,
        /// Whether the user manages this group (with EE advanced permissions only).
        #[serde(default)]
        pub is_group_manager: Option<bool>,
        /// `personal` or `api-key` (newest versions).
        #[serde(default, rename = "type")]
        pub user_type: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// One user in one group: an item of [`Metabase::list_memberships`](crate::metabase::Metabase::list_memberships)
    /// (`membership_id`) and the answer of
    /// [`Metabase::set_group_manager`](crate::metabase::Metabase::set_group_manager) (`id`).
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Membership {
        /// The membership's id.
        #[serde(alias = "id")]
        pub membership_id: MembershipId,
        /// The group.
        pub group_id: GroupId,
        /// The user.
        pub user_id: UserId,
        /// Whether the user manages the group (always false without EE advanced permissions).
        #[serde(default)]
        pub is_group_manager: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// The query of `GET /api/permissions/group`: `limit`/`offset` paging (the server pages this
/// list; it sends no total) and, on versions with tenants, internal or tenant groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ListGroups {
    /// Page size (the server defaults it to 50 when only `offset` is sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Groups to skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// `internal` or `external` groups (newer versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<Tenancy>,
}

impl ListGroups {
    /// Every group, unpaged.
    pub fn new() -> Self {
        Self::default()
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
    /// Internal or tenant groups (newer versions).
    pub fn tenancy(mut self, v: Tenancy) -> Self {
        self.tenancy = Some(v);
        self
    }
}

/// The body of `POST /api/permissions/group`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewGroup {
    /// The name (not blank; unique case-insensitively).
    pub name: String,
    /// A tenant group (newer versions; the `tenants` feature, else 402).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tenant_group: Option<bool>,
}

impl NewGroup {
    /// A group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        NewGroup {
            name: name.into(),
            is_tenant_group: None,
        }
    }
    /// Makes it a tenant group (or not).
    pub fn tenant_group(mut self, v: bool) -> Self {
        self.is_tenant_group = Some(v);
        self
    }
    /// Refuses a blank name before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        GroupName { name: &self.name }.check(operation)
    }
}

/// `{"name": ...}` of a rename.
#[derive(Serialize)]
pub(crate) struct GroupName<'a> {
    pub(crate) name: &'a str,
}

impl GroupName<'_> {
    /// Refuses a blank name before sending (the server's schema is `NonBlankString`).
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input(
                operation,
                "the group name must not be blank",
            ));
        }
        Ok(())
    }
}

/// The body of `POST /api/permissions/membership`: a user joins a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewMembership {
    /// The group (not All Users, which every user is in already).
    pub group_id: GroupId,
    /// The user.
    pub user_id: UserId,
    /// As a manager of the group (EE advanced permissions; 402 otherwise). Sent only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_group_manager: Option<bool>,
}

impl NewMembership {
    /// `user` joins `group`.
    pub fn new(group: GroupId, user: UserId) -> Self {
        NewMembership {
            group_id: group,
            user_id: user,
            is_group_manager: None,
        }
    }
    /// As a manager of the group (or not).
    pub fn manager(mut self, is: bool) -> Self {
        self.is_group_manager = Some(is);
        self
    }
}

/// `{"is_group_manager": bool}` of `PUT /api/permissions/membership/:id`.
#[derive(Serialize)]
pub(crate) struct ManagerFlag {
    pub(crate) is_group_manager: bool,
}

/// `GET /api/permissions/membership` as the server answers it: user id (a string key) to that
/// user's memberships.
pub(crate) type MembershipsWire = std::collections::BTreeMap<UserId, Vec<Membership>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_memberships_decode_as_the_server_sends_them() {
        let member: GroupMember = serde_json::from_str(
            r#"{"id": 3, "user_id": 3, "first_name": "Rasta", "last_name": "Toucan", "common_name": "Rasta Toucan",
                "email": "rasta@example.com", "is_superuser": false, "type": "personal", "group_id": 4,
                "membership_id": 12, "later": 1}"#,
        )
        .unwrap();
        assert_eq!(
            (member.id, member.user_id),
            (UserId::new(3).unwrap(), UserId::new(3))
        );
        assert_eq!(member.membership_id.map(MembershipId::get), Some(12));
        assert_eq!(member.user_type.as_deref(), Some("personal"));
        assert_eq!(member.extra["later"], 1);
        let row: Membership =
            serde_json::from_str(r#"{"id": 5, "user_id": 3, "group_id": 4, "is_group_manager": true}"#)
                .unwrap();
        assert_eq!(row.membership_id, 5);
        let listed: Membership = serde_json::from_str(
            r#"{"membership_id": 6, "user_id": 3, "group_id": 4, "is_group_manager": false}"#,
        )
        .unwrap();
        assert_eq!(listed.membership_id, 6);
        let group: Group = serde_json::from_str(
            r#"{"id": 1, "name": "All Users", "magic_group_type": "all-internal-users", "member_count": 4}"#,
        )
        .unwrap();
        assert_eq!(group.magic_group_type, Some(MagicGroup::AllUsers));
        assert!(group.is_magic());
        let newer: Group = serde_json::from_str(r#"{"id": 9, "magic_group_type": "robots"}"#).unwrap();
        assert!(newer.is_magic(), "an unknown magic type is kept, not refused");
    }
}
