//! Users: the user object, its parts, and the bodies that create and update a user.

use serde::{Deserialize, Serialize};

use super::{GroupId, UserId};
use crate::auth::Secret;
use crate::error::{Error, Result};
use crate::models::{Extra, Patch, Timestamp, response_model, string_enum};

response_model! {
    /// A Metabase user.
    ///
    /// Field sets by endpoint: the list (as superuser) has the admin-or-self columns plus
    /// `common_name`, `group_ids`, `personal_collection_id`, `tenant_collection_id`;
    /// `GET /api/user/:id` has `user_group_memberships` and `structured_attributes` instead;
    /// `GET /api/user/current` adds the fields from `attributes` to `permissions` below; a
    /// non-admin sees only `id`, `email`, names and `common_name` of others.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct User {
        /// The user's id.
        pub id: UserId,
        /// Email, stored lower-cased.
        #[serde(default)]
        pub email: Option<String>,
        /// Given name.
        #[serde(default)]
        pub first_name: Option<String>,
        /// Family name.
        #[serde(default)]
        pub last_name: Option<String>,
        /// `first last` trimmed, or the email when both names are null.
        #[serde(default)]
        pub common_name: Option<String>,
        /// When the account was created.
        #[serde(default)]
        pub date_joined: Option<Timestamp>,
        /// Last login, if any.
        #[serde(default)]
        pub last_login: Option<Timestamp>,
        /// Last change (admin or self only).
        #[serde(default)]
        pub updated_at: Option<Timestamp>,
        /// Whether the account is active (deactivated users are kept, not deleted).
        #[serde(default)]
        pub is_active: Option<bool>,
        /// Whether the user is an admin.
        #[serde(default)]
        pub is_superuser: Option<bool>,
        /// Data analyst flag (newer versions).
        #[serde(default)]
        pub is_data_analyst: Option<bool>,
        /// Whether the query-builder intro has not been dismissed yet.
        #[serde(default)]
        pub is_qbnewb: Option<bool>,
        /// Tenant (newer versions).
        #[serde(default)]
        pub tenant_id: Option<u64>,
        /// `google`, `ldap`, `jwt`, `saml`, … for SSO users.
        #[serde(default)]
        pub sso_source: Option<String>,
        /// Login attributes (string to string).
        #[serde(default)]
        pub login_attributes: Option<serde_json::Map<String, serde_json::Value>>,
        /// JWT attributes (string to string).
        #[serde(default)]
        pub jwt_attributes: Option<serde_json::Map<String, serde_json::Value>>,
        /// Locale, normalised (`es_MX`).
        #[serde(default)]
        pub locale: Option<String>,
        /// Group ids, in no particular order (list and `/current`).
        #[serde(default)]
        pub group_ids: Option<Vec<GroupId>>,
        /// Personal collection (list as admin, and `/current`).
        #[serde(default)]
        pub personal_collection_id: Option<u64>,
        /// Tenant collection (newer versions).
        #[serde(default)]
        pub tenant_collection_id: Option<u64>,
        /// Group memberships, sorted by id (`GET /:id`, create, update).
        #[serde(default)]
        pub user_group_memberships: Option<Vec<GroupMembership>>,
        /// Structured attributes (`GET /:id` only).
        #[serde(default)]
        pub structured_attributes: Option<std::collections::BTreeMap<String, StructuredAttribute>>,
        /// `/current` only: tenant, JWT and login attributes merged.
        #[serde(default)]
        pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
        /// `/current` only: whether this user installed Metabase (id 1).
        #[serde(default)]
        pub is_installer: Option<bool>,
        /// `/current` only.
        #[serde(default)]
        pub has_invited_second_user: Option<bool>,
        /// `/current` only.
        #[serde(default)]
        pub has_question_and_dashboard: Option<bool>,
        /// `/current` only.
        #[serde(default)]
        pub has_model: Option<bool>,
        /// `/current` only: the oldest login.
        #[serde(default)]
        pub first_login: Option<Timestamp>,
        /// `/current` only: the custom home page, if set.
        #[serde(default)]
        pub custom_homepage: Option<CustomHomepage>,
        /// `/current` only (newer versions).
        #[serde(default)]
        pub can_write_any_collection: Option<bool>,
        /// `/current` only: what the user may do.
        #[serde(default)]
        pub permissions: Option<Permissions>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// Membership in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupMembership {
    /// The group's id.
    pub id: GroupId,
    /// Group manager (EE advanced permissions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_group_manager: Option<bool>,
}

impl GroupMembership {
    /// Membership in `group`.
    pub fn new(group: GroupId) -> Self {
        GroupMembership {
            id: group,
            is_group_manager: None,
        }
    }

    /// As a manager of the group (or not).
    pub fn manager(mut self, is: bool) -> Self {
        self.is_group_manager = Some(is);
        self
    }
}

string_enum! {
    /// Where a structured attribute comes from.
    pub enum AttributeSource {
        /// Set on the user.
        User => "user",
        /// From a JWT login.
        Jwt => "jwt",
        /// From the tenant.
        Tenant => "tenant",
        /// Set by Metabase.
        System => "system",
    }
}

response_model! {
    /// One structured attribute (`GET /api/user/:id`).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct StructuredAttribute {
        /// Where it comes from.
        #[serde(default)]
        pub source: Option<AttributeSource>,
        /// Whether it can be overridden.
        #[serde(default)]
        pub frozen: Option<bool>,
        /// Its value.
        #[serde(default)]
        pub value: Option<String>,
        /// The value it overrides, if any.
        #[serde(default)]
        pub original: Option<Box<StructuredAttribute>>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// `custom_homepage` on `/current`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomHomepage {
    /// The dashboard shown as home.
    #[serde(default)]
    pub dashboard_id: Option<u64>,
}

response_model! {
    /// `permissions` on `/current`; the `can_access_*` flags come with EE advanced permissions.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Permissions {
        /// May create queries.
        #[serde(default)]
        pub can_create_queries: Option<bool>,
        /// May write native (SQL) queries.
        #[serde(default)]
        pub can_create_native_queries: Option<bool>,
        /// EE: settings.
        #[serde(default)]
        pub can_access_setting: Option<bool>,
        /// EE: subscriptions.
        #[serde(default)]
        pub can_access_subscription: Option<bool>,
        /// EE: monitoring.
        #[serde(default)]
        pub can_access_monitoring: Option<bool>,
        /// EE: data model.
        #[serde(default)]
        pub can_access_data_model: Option<bool>,
        /// EE: database details.
        #[serde(default)]
        pub can_access_db_details: Option<bool>,
        /// EE: transforms.
        #[serde(default)]
        pub can_access_transforms: Option<bool>,
        /// EE: data analyst.
        #[serde(default)]
        pub is_data_analyst: Option<bool>,
        /// EE: manages a group.
        #[serde(default)]
        pub is_group_manager: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// The body of `POST /api/user`. Only `email` is required. `is_superuser` is not offered:
/// the server ignores it on create (make the user an admin with [`UserUpdate`], or list the
/// Administrators group in the memberships).
///
/// `password` is not in the documented schema, but current servers pass it through to the
/// new account (otherwise the user sets one from the invitation email). It never shows in
/// `Debug`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewUser {
    /// Email (required; unique, case-insensitively).
    pub email: String,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Groups; must include the All Users group when given (the server adds it by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_group_memberships: Option<Vec<GroupMembership>>,
    /// Login attributes (keys may not start with `@`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// `admin` (the default) or `setup`, which also adds the user to the Admin group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Tenant (newer versions, with tenants enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<u64>,
    /// The initial password (undocumented, passed through by current servers).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::auth::expose_opt_secret"
    )]
    pub password: Option<Secret>,
    /// What the invitation points the new user at (newest versions). Sent only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_target: Option<InviteTarget>,
}

string_enum! {
    /// What an [`InviteTarget`] is.
    pub enum InviteTargetKind {
        /// A dashboard.
        Dashboard => "dashboard",
        /// A question (card).
        Question => "question",
    }
}

/// `invite_target` of [`NewUser`]: the dashboard or question the invitation email links to
/// (`{"type", "id", "name"}`, newest versions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InviteTarget {
    /// Dashboard or question.
    #[serde(rename = "type")]
    pub kind: InviteTargetKind,
    /// Its id.
    pub id: u64,
    /// Its name, as the email shows it.
    pub name: String,
}

impl InviteTarget {
    /// The dashboard or question `id`, named `name`.
    pub fn new(kind: InviteTargetKind, id: u64, name: impl Into<String>) -> Self {
        InviteTarget {
            kind,
            id,
            name: name.into(),
        }
    }
}

impl NewUser {
    /// A user with this email.
    pub fn new(email: impl Into<String>) -> Self {
        NewUser {
            email: email.into(),
            ..Self::default()
        }
    }
    /// Sets the names.
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }
    /// Sets the group memberships.
    pub fn groups(mut self, groups: Vec<GroupMembership>) -> Self {
        self.user_group_memberships = Some(groups);
        self
    }
    /// Sets the login attributes.
    pub fn login_attributes(mut self, attrs: serde_json::Map<String, serde_json::Value>) -> Self {
        self.login_attributes = Some(attrs);
        self
    }
    /// Sets `source` (`admin`, the default, or `setup`).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// Sets the tenant (servers with tenants enabled).
    pub fn tenant_id(mut self, tenant: u64) -> Self {
        self.tenant_id = Some(tenant);
        self
    }
    /// Sets the initial password.
    pub fn password(mut self, password: impl Into<Secret>) -> Self {
        self.password = Some(password.into());
        self
    }
    /// Points the invitation at a dashboard or question (newest versions).
    pub fn invite_target(mut self, target: InviteTarget) -> Self {
        self.invite_target = Some(target);
        self
    }

    /// Refuses a blank email before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.email.trim().is_empty() {
            return Err(Error::invalid_input(operation, "the email must not be blank"));
        }
        Ok(())
    }
}

/// The body of `PUT /api/user/:id`: only what is set is sent. [`Patch::Clear`] sends `null`
/// (it clears a name or the locale).
///
/// There is no top-level `is_group_manager`: servers accept one but never read it. A group
/// manager (Pro/Enterprise, advanced permissions) is set per group, with
/// [`GroupMembership::manager`] in [`groups`](Self::groups).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserUpdate {
    /// New email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New given name, or `Clear`.
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub first_name: Patch<String>,
    /// New family name, or `Clear`.
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub last_name: Patch<String>,
    /// New group memberships (superusers and group managers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_group_memberships: Option<Vec<GroupMembership>>,
    /// Admin or not (superusers only; must agree with Admin-group membership).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_superuser: Option<bool>,
    /// Data analyst (newer versions; superusers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_data_analyst: Option<bool>,
    /// Login attributes (superusers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Locale such as `en` or `en_US`, or `Clear`.
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub locale: Patch<String>,
    /// Tenant, or `Clear` (newer versions; superusers only).
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub tenant_id: Patch<u64>,
}

impl UserUpdate {
    /// Changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the email.
    pub fn email(mut self, v: impl Into<String>) -> Self {
        self.email = Some(v.into());
        self
    }
    /// Sets the given name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Patch::Set(v.into());
        self
    }
    /// Sets the family name.
    pub fn last_name(mut self, v: impl Into<String>) -> Self {
        self.last_name = Patch::Set(v.into());
        self
    }
    /// Sets the locale.
    pub fn locale(mut self, v: impl Into<String>) -> Self {
        self.locale = Patch::Set(v.into());
        self
    }
    /// Makes the user an admin or not.
    pub fn is_superuser(mut self, v: bool) -> Self {
        self.is_superuser = Some(v);
        self
    }
    /// Sets the group memberships (the whole set: All Users included; a membership's
    /// [`manager`](GroupMembership::manager) flag makes a group manager on Pro/Enterprise).
    pub fn groups(mut self, groups: Vec<GroupMembership>) -> Self {
        self.user_group_memberships = Some(groups);
        self
    }
    /// Makes the user a data analyst or not (newer versions; superusers only).
    pub fn is_data_analyst(mut self, v: bool) -> Self {
        self.is_data_analyst = Some(v);
        self
    }
    /// Sets the login attributes (superusers only).
    pub fn login_attributes(mut self, attrs: serde_json::Map<String, serde_json::Value>) -> Self {
        self.login_attributes = Some(attrs);
        self
    }
    /// Moves the user to a tenant (newer versions with tenants; superusers only).
    pub fn tenant_id(mut self, tenant: u64) -> Self {
        self.tenant_id = Patch::Set(tenant);
        self
    }
    /// Whether nothing would be sent.
    pub fn is_empty(&self) -> bool {
        *self == UserUpdate::default()
    }

    /// Refuses an update that sets nothing before sending.
    pub(crate) fn check(&self, operation: &'static str) -> Result<()> {
        if self.is_empty() {
            return Err(Error::invalid_input(operation, "the update sets no field"));
        }
        Ok(())
    }
}

string_enum! {
    /// An onboarding modal [`Metabase::dismiss_modal`](crate::metabase::Metabase::dismiss_modal) marks as seen.
    pub enum Modal {
        /// The query-builder intro (`is_qbnewb`).
        QbNewb => "qbnewb",
        /// The model intro (`is_datasetnewb`).
        DatasetNewb => "datasetnewb",
    }
}

response_model! {
    /// A user as `{id, common_name}` (`updated_by` of an [`ApiKeyInfo`](super::ApiKeyInfo)).
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct UserSummary {
        /// The user's id.
        pub id: UserId,
        /// `first last`, or the email.
        #[serde(default)]
        pub common_name: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}
