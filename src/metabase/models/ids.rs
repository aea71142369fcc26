//! Metabase's ids: positive integers, so `0` is refused when the id is made, before anything
//! is sent, and an id that is not a positive integer fails a response's decoding.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

macro_rules! positive_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, $op:literal, $example:literal) => {
        $(#[$meta])*
        ///
        /// A positive integer (a [`NonZeroU64`] inside): [`new`](Self::new) gives `None` for
        /// `0`, and [`TryFrom<u64>`] and [`FromStr`] give an error for which
        /// [`Error::is_invalid_input`] is true. Serialized as a JSON number; decoding refuses
        /// `0`, negative numbers and strings.
        ///
        /// ```
        #[doc = concat!("use userapi::metabase::", stringify!($name), ";")]
        #[doc = concat!("let id = ", stringify!($name), "::new(", $example, ").expect(\"not 0\");")]
        #[doc = concat!("assert_eq!(id.get(), ", $example, ");")]
        #[doc = concat!("assert_eq!(id.to_string(), \"", $example, "\");")]
        #[doc = concat!("assert_eq!(\"", $example, "\".parse::<", stringify!($name), ">()?, id);")]
        #[doc = concat!("assert!(", stringify!($name), "::new(0).is_none());")]
        #[doc = concat!("assert!(", stringify!($name), "::try_from(0).unwrap_err().is_invalid_input());")]
        /// # Ok::<(), userapi::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(NonZeroU64);

        impl $name {
            #[doc = concat!("The ", $what, " id `id`, or `None` for `0`.")]
            pub const fn new(id: u64) -> Option<Self> {
                match NonZeroU64::new(id) {
                    Some(id) => Some($name(id)),
                    None => None,
                }
            }

            /// The id as a number.
            pub const fn get(self) -> u64 {
                self.0.get()
            }
        }

        impl From<NonZeroU64> for $name {
            fn from(id: NonZeroU64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for NonZeroU64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> Self {
                id.get()
            }
        }

        impl TryFrom<u64> for $name {
            type Error = Error;

            fn try_from(id: u64) -> Result<Self> {
                $name::new(id).ok_or_else(|| {
                    Error::invalid_input($op, concat!($what, " id is a positive integer, not 0"))
                })
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                let id: u64 = s.trim().parse().map_err(|_| {
                    Error::invalid_input($op, concat!($what, " id is a positive integer"))
                })?;
                $name::try_from(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl PartialEq<u64> for $name {
            fn eq(&self, other: &u64) -> bool {
                self.get() == *other
            }
        }
    };
}

positive_id!(
    /// A Metabase user's id (`User.id`, `/api/user/:id`).
    UserId,
    "a user",
    "metabase::UserId",
    "2"
);
positive_id!(
    /// A Metabase API key's id (`ApiKeyInfo.id`, `/api/api-key/:id`).
    ApiKeyId,
    "an API key",
    "metabase::ApiKeyId",
    "1"
);
positive_id!(
    /// A Metabase permissions group's id (All Users is 1 and Administrators 2 on a fresh
    /// instance).
    GroupId,
    "a group",
    "metabase::GroupId",
    "3"
);
positive_id!(
    /// A Metabase group membership's id (`membership_id` in `/api/permissions/membership`,
    /// `/api/permissions/membership/:id`): one user in one group.
    MembershipId,
    "a membership",
    "metabase::MembershipId",
    "12"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_zero_and_decode_strictly() {
        assert!(UserId::new(0).is_none());
        assert!(ApiKeyId::try_from(0).unwrap_err().is_invalid_input());
        assert!("0".parse::<GroupId>().unwrap_err().is_invalid_input());
        assert!("x".parse::<UserId>().unwrap_err().is_invalid_input());
        assert_eq!(serde_json::from_str::<UserId>("7").unwrap(), 7);
        assert!(serde_json::from_str::<UserId>("0").is_err());
        assert!(serde_json::from_str::<UserId>("-1").is_err());
        assert!(serde_json::from_str::<UserId>("\"7\"").is_err());
        assert_eq!(serde_json::to_string(&GroupId::new(3).unwrap()).unwrap(), "3");
        assert!(MembershipId::new(0).is_none());
        assert!(serde_json::from_str::<MembershipId>("0").is_err());
        // A map keyed by user id, as `GET /api/permissions/membership` answers it.
        let by_user: std::collections::BTreeMap<UserId, u8> = serde_json::from_str(r#"{"7": 1}"#).unwrap();
        assert_eq!(by_user.keys().next().map(|u| u.get()), Some(7));
        assert!(serde_json::from_str::<std::collections::BTreeMap<UserId, u8>>(r#"{"0": 1}"#).is_err());
    }
}
