//! Metabase's types, by resource. Which fields a response carries depends on the endpoint,
//! the caller's role, the edition and the version, so every field but `id` is optional and
//! unknown fields are kept.

mod api_keys;
mod groups;
mod ids;
mod key_value;
mod list;
mod server;
mod session;
mod users;

pub use api_keys::{ApiKeyGroup, ApiKeyInfo, ApiKeyUpdate, IssuedApiKey, NewApiKey};
pub use groups::{Group, GroupMember, ListGroups, MagicGroup, Membership, NewGroup, NewMembership};
pub use ids::{ApiKeyId, GroupId, MembershipId, UserId};
pub use key_value::{LoginRecord, UserKeyValue};
pub use list::{ListUsers, Tenancy, UserList, UserStatus};
pub use server::{PasswordComplexity, ServerInfo, Version, VersionInfo};
pub use session::{PasswordChanged, PasswordResetUrl};
pub use users::{
    AttributeSource, CustomHomepage, GroupMembership, InviteTarget, InviteTargetKind, Modal, NewUser,
    Permissions, StructuredAttribute, User, UserSummary, UserUpdate,
};

pub(crate) use api_keys::IssuedWire;
pub(crate) use groups::{GroupName, ManagerFlag, MembershipsWire};
pub(crate) use session::{
    EmailOnly, Login, NewPassword, PasswordOnly, PasswordResponse, ResetPassword, SessionIdWire, Valid,
};
