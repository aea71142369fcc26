//! NovaConnect request and response types.

use serde::{Deserialize, Serialize};

use crate::auth::Secret;
use crate::error::Error;
use crate::models::{Extra, PasswordChange, response_model};

response_model! {
    /// The envelope every NovaConnect response comes in.
    ///
    /// Single objects come as `result.item`; lists as top-level `items` (and possibly
    /// `result.items`). `code` is 200 on success, whatever the HTTP status says. `Default` (every
    /// field `None`) and [`Envelope::ok_item`] build one for your own tests.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Envelope<T> {
        /// 200 on success.
        #[serde(default)]
        pub code: Option<i64>,
        /// The service's message, in the language asked for with `lang`.
        #[serde(default)]
        pub message: Option<String>,
        /// Items in this response (seen on some single-object responses too).
        #[serde(default)]
        pub count: Option<u64>,
        /// Items in total across pages.
        #[serde(default)]
        pub all_count: Option<u64>,
        /// The payload of single-object responses.
        #[serde(default = "none", skip_serializing_if = "Option::is_none")]
        pub result: Option<EnvelopeResult<T>>,
        /// The payload of list responses.
        #[serde(default = "none", skip_serializing_if = "Option::is_none")]
        pub items: Option<Vec<T>>,
        /// Fields this version does not know.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `result` of an [`Envelope`]. `Default` builds an empty one.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct EnvelopeResult<T> {
        /// One object.
        #[serde(default = "none", skip_serializing_if = "Option::is_none")]
        pub item: Option<T>,
        /// A list of objects.
        #[serde(default = "none", skip_serializing_if = "Option::is_none")]
        pub items: Option<Vec<T>>,
        /// Fields this version does not know.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

// `#[serde(default)]` on `Option<T>` would demand `T: Default`.
fn none<T>() -> Option<T> {
    None
}

// Written out, since a derive would demand `T: Default`.
impl<T> Default for Envelope<T> {
    fn default() -> Self {
        Envelope {
            code: None,
            message: None,
            count: None,
            all_count: None,
            result: None,
            items: None,
            extra: Extra::new(),
        }
    }
}

impl<T> Default for EnvelopeResult<T> {
    fn default() -> Self {
        EnvelopeResult {
            item: None,
            items: None,
            extra: Extra::new(),
        }
    }
}

impl<T> Envelope<T> {
    /// An envelope with `code: 200`, `message: "OK"` and one item: what a successful call
    /// answers, for tests of your own code.
    pub fn ok_item(item: T) -> Self {
        Envelope {
            code: Some(200),
            message: Some("OK".to_owned()),
            count: Some(1),
            all_count: Some(1),
            result: Some(EnvelopeResult {
                item: Some(item),
                items: None,
                extra: Extra::new(),
            }),
            items: None,
            extra: Extra::new(),
        }
    }

    /// An error envelope with this code and message, for tests of your own code.
    pub fn error(code: i64, message: impl Into<String>) -> Self {
        Envelope {
            code: Some(code),
            message: Some(message.into()),
            count: None,
            all_count: None,
            result: None,
            items: None,
            extra: Extra::new(),
        }
    }

    /// The single item, from `result.item`.
    pub fn into_item(self) -> Option<T> {
        self.result.and_then(|r| r.item)
    }

    /// The list, from top-level `items` or `result.items`.
    pub fn into_items(self) -> Option<Vec<T>> {
        self.items.or_else(|| self.result.and_then(|r| r.items))
    }
}

/// A user id. The documents do not say whether it is a number or a string, so both decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserId {
    /// A numeric id.
    Number(i64),
    /// A textual id.
    Text(String),
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserId::Number(n) => write!(f, "{n}"),
            UserId::Text(s) => f.write_str(s),
        }
    }
}

response_model! {
    /// A NovaConnect user ("Пользователь").
    ///
    /// The service does not publish the object's full field list: every field is optional and
    /// everything else it sends is kept in `extra`. `Default` builds one for your own tests.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct User {
        /// The id, when sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<UserId>,
        /// First name.
        #[serde(default)]
        pub first_name: Option<String>,
        /// Last name.
        #[serde(default)]
        pub last_name: Option<String>,
        /// Email address.
        #[serde(default)]
        pub email: Option<String>,
        /// Fields this version does not know.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// The body of `user/edit`: only the fields that are set are sent.
///
/// The current user's password cannot be changed here; use
/// [`NovaConnect::change_password`](super::NovaConnect::change_password).
///
/// ```
/// let edit = userapi::novaconnect::UserEdit::new().first_name("Aigerim");
/// assert_eq!(serde_json::to_string(&edit).unwrap(), r#"{"first_name":"Aigerim"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserEdit {
    /// New first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// New last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// New email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl UserEdit {
    /// An edit that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the first name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Some(v.into());
        self
    }

    /// Sets the last name.
    pub fn last_name(mut self, v: impl Into<String>) -> Self {
        self.last_name = Some(v.into());
        self
    }

    /// Sets the email address.
    pub fn email(mut self, v: impl Into<String>) -> Self {
        self.email = Some(v.into());
        self
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Refuses an edit that sets nothing, before it is sent.
    pub(crate) fn check(&self, operation: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            return Err(Error::invalid_input(operation, "the edit sets no field"));
        }
        Ok(())
    }
}

/// The body of `user/password`: the new password and the current one, both required.
#[derive(Serialize)]
pub(crate) struct PasswordBody<'a> {
    #[serde(serialize_with = "crate::auth::expose_secret")]
    password: &'a Secret,
    #[serde(serialize_with = "crate::auth::expose_secret")]
    old_password: &'a Secret,
}

impl<'a> PasswordBody<'a> {
    /// The body for `change`, refused before sending when the new password is empty or the
    /// current one is missing or empty (NovaConnect requires it).
    pub(crate) fn checked(change: &'a PasswordChange, operation: &'static str) -> Result<Self, Error> {
        if change.new_password().is_empty() {
            return Err(Error::invalid_input(operation, "the new password is empty"));
        }
        let old_password = match change.current_password() {
            None => {
                return Err(Error::invalid_input(
                    operation,
                    "NovaConnect requires the current password: use PasswordChange::current",
                ));
            }
            Some(p) if p.is_empty() => {
                return Err(Error::invalid_input(operation, "the current password is empty"));
            }
            Some(p) => p.as_secret(),
        };
        Ok(PasswordBody {
            password: change.new_password().as_secret(),
            old_password,
        })
    }
}
