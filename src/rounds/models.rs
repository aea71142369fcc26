//! The rounds app's types. Values are kept as the service sends them (string ids, integer
//! `store_id` / `question_id`, `entry_fee` as text, `price` as an exact JSON number); the
//! helpers read them into typed values where that helps.

use serde::Serialize;

use crate::models::{Extra, Patch, response_model, string_enum};

response_model! {
    /// A user. Every profile field may be `null` for someone who registered by phone and has not
    /// filled in a profile. `Default` (an empty id, every field `None`) builds one for your own
    /// tests.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct User {
        /// The user's id (a string; its format is not documented).
        pub id: String,
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
        pub owner_id: Option<String>,
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
        self.owner_id.as_deref() == Some(user.id.as_str())
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
