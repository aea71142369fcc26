//! One secret type per role, so that a call taking two secrets cannot get them swapped: a
//! [`Password`] is not a [`ResetToken`], a [`SessionId`] is not an [`ApiKey`]. Each wraps a
//! [`Secret`] and keeps its redaction: `Debug` and `Display` never show the value.

use std::fmt;

use super::secret::{REDACTED, Secret};

macro_rules! role_secret {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Secret);

        impl $name {
            #[doc = concat!("Wraps ", $what, ".")]
            pub fn new(value: impl Into<String>) -> Self {
                $name(Secret::new(value))
            }

            /// The value itself. Call this only where the value must leave the process.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// Whether the value is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// As a plain [`Secret`].
            pub fn as_secret(&self) -> &Secret {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), REDACTED)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(REDACTED)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name::new(value)
            }
        }

        impl From<&String> for $name {
            fn from(value: &String) -> Self {
                $name::new(value.as_str())
            }
        }

        impl From<Secret> for $name {
            fn from(value: Secret) -> Self {
                $name(value)
            }
        }

        impl From<$name> for Secret {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::borrow::Borrow<Secret> for $name {
            fn borrow(&self) -> &Secret {
                &self.0
            }
        }
    };
}

role_secret!(
    /// A user's password.
    Password,
    "a password"
);
role_secret!(
    /// A bearer or service token (an OpenID Connect access token, a token a login answered, a JWT).
    Token,
    "a token"
);
role_secret!(
    /// A session id a login answered.
    SessionId,
    "a session id"
);
role_secret!(
    /// An API key.
    ApiKey,
    "an API key"
);
role_secret!(
    /// A one-time token from a password-reset email.
    ResetToken,
    "a reset token"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_never_print_and_convert_both_ways() {
        let p = Password::new("hunter2-pass");
        assert_eq!(format!("{p} {p:?}"), "<redacted> Password(<redacted>)");
        let s: Secret = p.clone().into();
        assert_eq!(s.expose(), "hunter2-pass");
        assert_eq!(ResetToken::from(s).expose(), "hunter2-pass");
        assert!(SessionId::new("").is_empty());
    }
}
