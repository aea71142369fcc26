//! The rounds app's types. Values are kept as the service sends them (string ids, integer
//! `store_id` / `question_id`, `entry_fee` as text, `price` as an exact JSON number); the
//! helpers read them into typed values where that helps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;
use crate::models::{Extra, Patch, response_model, string_enum};

/// A user's id: a non-empty string (its format is not documented; the service's example is a
/// UUID) that can stand as the `{id}` of `GET /users/{id}`.
///
/// `me` and `rounds` are fixed routes under `/users/`, and the empty id, `.` and `..` are
/// path steps, so none of them is a user id; nor is anything over 1 KiB. Those are refused
/// when the id is made, so [`Rounds::get_user`](super::Rounds::get_user) can never be pointed
/// at another route. Decoding a response checks the same way.
///
/// ```
/// use userapi::rounds::UserId;
/// let id = UserId::new("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")?;
/// assert_eq!(id.as_str(), "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b");
/// assert!(UserId::new("me").unwrap_err().is_invalid_input());
/// assert!("rounds".parse::<UserId>().is_err());
/// # Ok::<(), userapi::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// The longest id, in bytes.
    pub const MAX_BYTES: usize = crate::http::MAX_SEGMENT_BYTES;

    /// Checks `id` and wraps it.
    ///
    /// # Errors
    /// [`Error::is_invalid_input`] for `me`, `rounds`, an empty id, `.`, `..`, or an id over
    /// [`MAX_BYTES`](Self::MAX_BYTES).
    pub fn new(id: &str) -> Result<UserId, Error> {
        Self::check(id)?;
        Ok(UserId(id.to_owned()))
    }

    fn check(id: &str) -> Result<(), Error> {
        const OP: &str = "rounds::UserId::new";
        let why = match id {
            "" => "is empty",
            "me" => "is the `/users/me` route; use get_me",
            "rounds" => "is the `/users/rounds` route; use list_rounds",
            "." | ".." => "is a path step",
            _ if id.len() > Self::MAX_BYTES => {
                return Err(Error::invalid_input(
                    OP,
                    format!(
                        "a user id of {} bytes is longer than {} bytes",
                        id.len(),
                        Self::MAX_BYTES
                    ),
                ));
            }
            _ => return Ok(()),
        };
        Err(Error::invalid_input(
            OP,
            format!("{id:?} is not a user id: it {why}"),
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UserId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        UserId::new(s)
    }
}

impl TryFrom<&str> for UserId {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self, Error> {
        UserId::new(s)
    }
}

impl TryFrom<String> for UserId {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Error> {
        Self::check(&s)?;
        Ok(UserId(s))
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for UserId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for UserId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UserId::try_from(s).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

response_model! {
    /// A user. Every profile field may be `null` for someone who registered by phone and has not
    /// filled in a profile. [`User::new`] (an id, every other field `None`) builds one for your
    /// own tests.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct User {
        /// The user's id.
        pub id: UserId,
        /// Phone number, e.g. `+77011234567`.
        #[serde(default)]
        pub phone: Option<String>,
        /// Given name.
        #[serde(default)]
        pub first_name: Option<String>,
        /// Family name.
        #[serde(default)]
        pub last_name: Option<String>,
        /// Avatar image URL.
        #[serde(default)]
        pub avatar_url: Option<String>,
        /// Whether the phone number has been verified.
        #[serde(default)]
        pub is_verified: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl User {
    /// A user with this id and every other field `None`, for tests of your own code.
    ///
    /// ```
    /// use userapi::rounds::{User, UserId};
    /// let user = User::new(UserId::new("u1")?);
    /// assert_eq!(user.id, "u1");
    /// # Ok::<(), userapi::Error>(())
    /// ```
    pub fn new(id: UserId) -> Self {
        User {
            id,
            phone: None,
            first_name: None,
            last_name: None,
            avatar_url: None,
            is_verified: None,
            extra: Extra::new(),
        }
    }
}

/// The body of `PATCH /users/me`: only the fields that are not [`Patch::Unchanged`] are sent.
///
/// [`Patch::Set`] sends a value; [`Patch::Clear`] sends `null`. The service does not document
/// whether `null` clears a field, so use `Clear` only where you have seen your server accept it.
///
/// ```
/// use userapi::rounds::UserUpdate;
/// let update = UserUpdate::new().first_name("Dana").clear_avatar_url();
/// # let _ = update;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserUpdate {
    /// New given name.
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub first_name: Patch<String>,
    /// New family name.
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub last_name: Patch<String>,
    /// New avatar URL.
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    pub avatar_url: Patch<String>,
}

impl UserUpdate {
    /// Changes nothing yet.
    pub fn new() -> Self {
        Self::default()
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

    /// Sets the avatar URL.
    pub fn avatar_url(mut self, v: impl Into<String>) -> Self {
        self.avatar_url = Patch::Set(v.into());
        self
    }

    /// Sends `"avatar_url": null`.
    pub fn clear_avatar_url(mut self) -> Self {
        self.avatar_url = Patch::Clear;
        self
    }

    /// Whether nothing would be sent.
    pub fn is_empty(&self) -> bool {
        self.first_name.is_unchanged() && self.last_name.is_unchanged() && self.avatar_url.is_unchanged()
    }

    /// Refuses an update that sets nothing, before it is sent.
    pub(crate) fn check(&self, operation: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            return Err(Error::invalid_input(operation, "the update sets no field"));
        }
        Ok(())
    }
}

string_enum! {
    /// A round's status. The service does not document the set of values; `open` is the one
    /// its example shows, and any other comes back as `Unknown` with its text.
    pub enum RoundStatus {
        /// Open for entries.
        Open => "open",
    }
}

/// Which rounds [`Rounds::list_rounds`](super::Rounds::list_rounds) returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoundRole {
    /// Rounds the current user takes part in (no query parameter).
    #[default]
    Participant,
    /// Rounds the current user organised (`as_owner=true`).
    Owner,
}

response_model! {
    /// A prize round. `Default` (an empty id, every field `None`) builds one for your own tests.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Round {
        /// The round's id.
        pub id: String,
        /// Its status.
        #[serde(default)]
        pub status: Option<RoundStatus>,
        /// The entry fee as the service sends it: a decimal amount as text, e.g. `"500.00"`.
        /// See [`Round::entry_fee_hundredths`].
        #[serde(default)]
        pub entry_fee: Option<String>,
        /// Whether the round is active.
        #[serde(default)]
        pub is_active: Option<bool>,
        /// The organiser's user id.
        #[serde(default)]
        pub owner_id: Option<UserId>,
        /// The prize.
        #[serde(default)]
        pub product: Option<Product>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl Round {
    /// The entry fee in hundredths of the currency unit, exactly (`"500.00"` → `50000`,
    /// `"500.5"` → `50050`); `None` if it is missing, negative, has more than two decimals,
    /// or is not a plain decimal number.
    pub fn entry_fee_hundredths(&self) -> Option<u64> {
        parse_hundredths(self.entry_fee.as_deref()?)
    }

    /// Whether `user` organised this round.
    pub fn is_owned_by(&self, user: &User) -> bool {
        self.owner_id.as_ref() == Some(&user.id)
    }
}

response_model! {
    /// The product a round is for. `Default` builds one for your own tests.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Product {
        /// The product's id (a string).
        pub id: String,
        /// Its name.
        #[serde(default)]
        pub name: Option<String>,
        /// Its price as the exact JSON number sent (integer or decimal is not documented).
        #[serde(default)]
        pub price: Option<serde_json::Number>,
        /// Main picture URL.
        #[serde(default)]
        pub main_picture_url: Option<String>,
        /// Whether the product is active.
        #[serde(default)]
        pub is_active: Option<bool>,
        /// How many are available.
        #[serde(default)]
        pub quantity: Option<i64>,
        /// The store's id (an integer, unlike the other ids).
        #[serde(default)]
        pub store_id: Option<i64>,
        /// Description.
        #[serde(default)]
        pub detail_desc: Option<String>,
        /// The id of the question tied to the product (an integer).
        #[serde(default)]
        pub question_id: Option<i64>,
        /// The price formatted for display, e.g. `45 000 ₸`.
        #[serde(default)]
        pub format_price: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

fn parse_hundredths(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return None;
    }
    let frac: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.parse::<u64>().ok()?.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::parse_hundredths;

    #[test]
    fn entry_fees_parse_exactly() {
        let cases = [
            ("500.00", Some(50_000)),
            ("500", Some(50_000)),
            ("500.5", Some(50_050)),
            ("0.07", Some(7)),
            ("1.005", None),
            ("-1", None),
            ("", None),
            ("1e3", None),
            (".5", None),
            ("99999999999999999999", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_hundredths(text), want, "{text:?}");
        }
    }
}
