//! Building blocks every service's models share.
//!
//! One forward-compatibility rule holds for every response type in the crate:
//! - fields this version does not know are kept, in a flattened [`Extra`] map named `extra`;
//! - any field a real server may leave out or send as `null` is an `Option`;
//! - enums are `#[non_exhaustive]` and decode values added later as `Unknown(String)`.

mod enums;
mod extra;
mod password;
mod patch;
#[cfg(test)]
mod tests;
mod timestamp;

#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use enums::string_enum;
#[cfg_attr(userapi_partial, allow(unused_imports))]
pub(crate) use extra::{response_model, with_extra};
pub use password::PasswordChange;
pub use patch::Patch;
pub use timestamp::Timestamp;

/// Response fields this version of the crate does not model, kept as the server sent them.
pub type Extra = serde_json::Map<String, serde_json::Value>;
