//! [`BoxId`] and [`UserId`]: ids checked when built.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;

/// A box id, the `boxId` of box-scoped calls: a GUID (`BoxIdGuid`,
/// `9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6`) or the legacy form of the same id (`BoxId`,
/// `9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6@diadoc.ru`). Both name the same box.
///
/// Building one checks that shape, so a malformed id is refused with
/// [`Error::is_invalid_input`] before anything is sent; ids in responses decode strictly. Take
/// one from [`DiadocBox::id`](super::DiadocBox::id), or parse one you stored. The default is the nil GUID
/// (`00000000-0000-0000-0000-000000000000`), which names no box.
///
/// ```
/// use userapi::diadoc::BoxId;
/// let id = BoxId::new("9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6")?;
/// assert_eq!(id.to_string(), "9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6");
/// assert!("9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6@diadoc.ru".parse::<BoxId>().is_ok());
/// assert!(BoxId::new("").unwrap_err().is_invalid_input());
/// assert!(BoxId::new("box&x=1").unwrap_err().is_invalid_input());
/// # Ok::<(), userapi::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BoxId(String);

/// The nil GUID: [`BoxId::default`].
pub(super) const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

impl Default for BoxId {
    fn default() -> Self {
        BoxId(NIL_GUID.to_owned())
    }
}

impl BoxId {
    /// Checks and wraps a box id, in either form.
    ///
    /// # Errors
    /// [`Error::is_invalid_input`] for anything but a GUID (`8-4-4-4-12` hexadecimal digits)
    /// or `<32 hexadecimal digits>@diadoc.ru`.
    pub fn new(s: &str) -> Result<Self, Error> {
        if box_id_shaped(s) {
            Ok(BoxId(s.to_owned()))
        } else {
            Err(Error::invalid_input(
                "diadoc::BoxId",
                format!(
                    "{:?} is not a box id (a GUID, or <32 hexadecimal digits>@diadoc.ru)",
                    crate::error::clip(s)
                ),
            ))
        }
    }

    /// The id as text, as it is sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the legacy `…@diadoc.ru` form.
    pub fn is_legacy(&self) -> bool {
        self.0.ends_with("@diadoc.ru")
    }

    /// Whether this is the nil GUID, the [default](BoxId::default), which names no box.
    pub fn is_nil(&self) -> bool {
        self.0 == NIL_GUID
    }
}

/// A GUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` or a legacy `<32 hex>@diadoc.ru` box id.
pub(super) fn box_id_shaped(id: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(legacy) = id.strip_suffix("@diadoc.ru") {
        return hex(legacy, 32);
    }
    guid_shaped(id)
}

impl fmt::Display for BoxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BoxId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        BoxId::new(s)
    }
}

impl TryFrom<&str> for BoxId {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        BoxId::new(s)
    }
}

impl<'de> Deserialize<'de> for BoxId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if box_id_shaped(&s) {
            Ok(BoxId(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a box id (a GUID, or <32 hexadecimal digits>@diadoc.ru), found {:?}",
                crate::error::clip(&s)
            )))
        }
    }
}

/// A GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hexadecimal digits, either case).
pub(super) fn guid_shaped(id: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut parts = id.split('-');
    [8, 4, 4, 4, 12]
        .iter()
        .all(|&n| parts.next().is_some_and(|p| hex(p, n)))
        && parts.next().is_none()
}

/// A user's id, `UserV2.UserId`: a GUID such as `d064f6ba-7b81-432d-a41d-93b23eebe579`, the
/// `userId` of the employee calls.
///
/// Building one checks that shape, so a malformed id is refused with
/// [`Error::is_invalid_input`] before anything is sent; ids in responses decode strictly. Take
/// one from [`UserV2::user_id`](super::UserV2::user_id), or parse one you stored. It compares
/// equal to its text (`user.user_id == "d064f6ba-…"`). The default is the nil GUID, which
/// names no user.
///
/// An unregistered user's id (`IsRegistered: false`) changes when the user registers: look
/// the user up again rather than keep the old id.
///
/// ```
/// use userapi::diadoc::UserId;
/// let id = UserId::new("d064f6ba-7b81-432d-a41d-93b23eebe579")?;
/// assert_eq!(id, "d064f6ba-7b81-432d-a41d-93b23eebe579");
/// assert!(UserId::new("me").unwrap_err().is_invalid_input());
/// assert!(UserId::new("d064f6ba-7b81-432d-a41d-93b23eebe579&boxId=x").unwrap_err().is_invalid_input());
/// # Ok::<(), userapi::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl Default for UserId {
    fn default() -> Self {
        UserId(NIL_GUID.to_owned())
    }
}

impl UserId {
    /// Checks and wraps a user id.
    ///
    /// # Errors
    /// [`Error::is_invalid_input`] for anything but a GUID (`8-4-4-4-12` hexadecimal digits).
    pub fn new(s: &str) -> Result<Self, Error> {
        if guid_shaped(s) {
            Ok(UserId(s.to_owned()))
        } else {
            Err(Error::invalid_input(
                "diadoc::UserId",
                format!("{:?} is not a user id (a GUID)", crate::error::clip(s)),
            ))
        }
    }

    /// The id as text, as it is sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the nil GUID, the [default](UserId::default), which names no user.
    pub fn is_nil(&self) -> bool {
        self.0 == NIL_GUID
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

impl PartialEq<String> for UserId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if guid_shaped(&s) {
            Ok(UserId(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a user id (a GUID), found {:?}",
                crate::error::clip(&s)
            )))
        }
    }
}
