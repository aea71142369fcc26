//! Metabase's types, by resource. Which fields a response carries depends on the endpoint,
//! the caller's role, the edition and the version, so every field but `id` is optional and
//! unknown fields are kept.

mod api_keys;
mod ids;
mod key_value;
mod list;
mod session;
mod users;

pub use api_keys::{ApiKeyGroup, ApiKeyInfo, ApiKeyUpdate, IssuedApiKey, NewApiKey};
pub use ids::{ApiKeyId, GroupId, UserId};
pub use key_value::{LoginRecord, UserKeyValue};
pub use list::{ListUsers, Tenancy, UserList, UserStatus};
pub use session::PasswordChanged;
pub use users::{
    AttributeSource, CustomHomepage, GroupMembership, Modal, NewUser, Permissions, StructuredAttribute, User,
    UserSummary, UserUpdate,
};

pub(crate) use api_keys::IssuedWire;
pub(crate) use session::{
    EmailOnly, Login, NewPassword, PasswordOnly, PasswordResponse, ResetPassword, SessionIdWire, Valid,
};
