//! Rightech's ids: MongoDB ObjectIds, one type per collection.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;

/// Declares an id type over a MongoDB ObjectId: 24 hexadecimal digits.
macro_rules! object_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        ///
        /// Building one checks the shape (24 hexadecimal digits, e.g.
        /// `5d8a18d5d0025e0012fb6a34`), so a malformed id is refused with
        /// [`Error::is_invalid_input`] before anything is sent, and ids in responses decode
        /// strictly. The default is the all-zero id, `000000000000000000000000`, which no real
        /// entity has.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl Default for $name {
            fn default() -> Self {
                $name(ZERO_ID.to_owned())
            }
        }

        impl $name {
            /// The all-zero id, the default.
            pub const ZERO: &'static str = ZERO_ID;

            #[doc = concat!("Checks and wraps ", $what, ".")]
            ///
            /// # Errors
            /// [`Error::is_invalid_input`] for anything but 24 hexadecimal digits.
            pub fn new(s: &str) -> Result<Self, Error> {
                check_object_id(concat!("rightech::", stringify!($name)), s).map(|()| $name(s.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether this is the all-zero default id.
            pub fn is_zero(&self) -> bool {
                self.0 == ZERO_ID
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                $name::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self, Error> {
                $name::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if is_object_id(&s) {
                    Ok($name(s))
                } else {
                    Err(serde::de::Error::custom(format!(
                        concat!("expected ", $what, " (24 hexadecimal digits), found {:?}"),
                        crate::error::clip(&s)
                    )))
                }
            }
        }
    };
}

const ZERO_ID: &str = "000000000000000000000000";

fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_object_id(op: &'static str, s: &str) -> Result<(), Error> {
    if is_object_id(s) {
        Ok(())
    } else {
        Err(Error::invalid_input(
            op,
            format!(
                "{:?} is not an ObjectId (24 hexadecimal digits)",
                crate::error::clip(s)
            ),
        ))
    }
}

object_id!(
    /// A user's id (`_id` of a user, a user's `owner`).
    UserId,
    "a user id"
);
object_id!(
    /// A role's id (`_id` of a role, a user's `role`): roles are their own collection,
    /// listed by [`Rightech::list_roles`](super::Rightech::list_roles).
    RoleId,
    "a role id"
);
object_id!(
    /// A group's id (a user's or role's `group`).
    GroupId,
    "a group id"
);
object_id!(
    /// Any other Rightech id whose collection is not documented (the ids in a user's
    /// `access`).
    ObjectId,
    "an ObjectId"
);
