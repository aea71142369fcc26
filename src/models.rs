//! Building blocks every service's models share.
//!
//! One forward-compatibility rule holds for every response type in the crate:
//! - fields this version does not know are kept, in a flattened [`Extra`] map named `extra`;
//! - any field a real server may leave out or send as `null` is an `Option`;
//! - enums are `#[non_exhaustive]` and decode values added later as `Unknown(String)`.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Response fields this version of the crate does not model, kept as the server sent them.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// A timestamp exactly as the service sent it, e.g. `2024-03-05T08:00:01.5Z`.
///
/// Kept as text so that nothing is lost in a round trip and an unexpected format never fails
/// a whole response; [`Timestamp::to_system_time`] parses RFC 3339 on demand (and, with the
/// features of the same names, `to_chrono`, `to_time` and `to_jiff`).
///
/// Equality is on the text. Ordering is by instant: `…01Z < …01.5Z` and
/// `10:00+03:00 < 08:00:01Z`; two texts for the same instant are ordered by their text, and
/// text that is not RFC 3339 sorts after every instant.
///
/// ```
/// use userapi::models::Timestamp;
/// assert!(Timestamp::new("2024-03-05T08:00:01Z") < Timestamp::new("2024-03-05T08:00:01.5Z"));
/// assert!(Timestamp::new("2024-03-05T10:00:00+03:00") < Timestamp::new("2024-03-05T08:00:01Z"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self.to_system_time(), other.to_system_time()) {
            (Some(a), Some(b)) => a.cmp(&b).then_with(|| self.0.cmp(&other.0)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.0.cmp(&other.0),
        }
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Timestamp {
    /// Wraps a timestamp string.
    pub fn new(value: impl Into<String>) -> Self {
        Timestamp(value.into())
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant, if the text is RFC 3339 (with any number of fractional digits).
    pub fn to_system_time(&self) -> Option<SystemTime> {
        crate::time::parse_rfc3339(&self.0)
    }

    /// The instant as a `chrono` UTC date-time, if the text is RFC 3339.
    #[cfg(feature = "chrono")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    pub fn to_chrono(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.to_system_time().map(chrono::DateTime::<chrono::Utc>::from)
    }

    /// The instant as a `time` date-time in UTC, if the text is RFC 3339.
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub fn to_time(&self) -> Option<time::OffsetDateTime> {
        self.to_system_time().map(time::OffsetDateTime::from)
    }

    /// The instant as a `jiff` timestamp, if the text is RFC 3339 and within jiff's range.
    #[cfg(feature = "jiff")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jiff")))]
    pub fn to_jiff(&self) -> Option<jiff::Timestamp> {
        self.to_system_time()
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Timestamp {
    fn from(s: &str) -> Self {
        Timestamp(s.to_owned())
    }
}

/// Defines a string enum that is forward compatible: known values as variants, anything else
/// as `Unknown(String)`, with `as_str`, `Display`, `FromStr` and serde both ways.
///
/// ```ignore
/// string_enum! {
///     /// Status of a round.
///     pub enum RoundStatus {
///         /// Open for entries.
///         Open => "open",
///     }
/// }
/// ```
#[allow(unused_macros)]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Unknown(s) => s,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $text => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                })
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s.parse() {
                    Ok(v) => v,
                    Err(never) => match never {},
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok($name::from(&*s))
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use string_enum;

/// A value that a patch can set, clear (send `null`), or leave alone (send nothing).
///
/// Use it in update types where clearing a field is meaningful. A field of this type needs
/// `#[serde(default, skip_serializing_if = "Patch::is_unchanged")]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not sent: the server keeps its value.
    #[default]
    Unchanged,
    /// Sent as `null`: the server clears the value.
    Clear,
    /// Sent as this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether nothing is sent.
    pub fn is_unchanged(&self) -> bool {
        matches!(self, Patch::Unchanged)
    }
}

impl<T> From<T> for Patch<T> {
    fn from(v: T) -> Self {
        Patch::Set(v)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(v) => v.serialize(s),
            Patch::Clear | Patch::Unchanged => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    string_enum! {
        /// Test enum.
        pub enum Colour {
            /// Red.
            Red => "red",
            /// Blue.
            Blue => "blue",
        }
    }

    #[test]
    fn string_enum_round_trips_and_keeps_unknown() {
        let v: Vec<Colour> = serde_json::from_str(r#"["red","blue","ultraviolet"]"#).unwrap();
        assert_eq!(
            v,
            vec![Colour::Red, Colour::Blue, Colour::Unknown("ultraviolet".into())]
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["red","blue","ultraviolet"]"#
        );
        assert_eq!(Colour::Unknown("x".into()).to_string(), "x");
    }

    #[test]
    fn patch_three_states() {
        #[derive(Serialize, Deserialize, Default)]
        struct P {
            #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
            a: Patch<String>,
            #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
            b: Patch<String>,
            #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
            c: Patch<String>,
        }
        let p = P {
            a: Patch::Set("x".into()),
            b: Patch::Clear,
            c: Patch::Unchanged,
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"a":"x","b":null}"#);
        let back: P = serde_json::from_str(r#"{"a":"x","b":null}"#).unwrap();
        assert_eq!(
            (back.a, back.b, back.c),
            (Patch::Set("x".into()), Patch::Clear, Patch::Unchanged)
        );
    }

    #[test]
    fn timestamps_order_by_instant() {
        let t = Timestamp::new;
        assert!(t("2024-03-05T08:00:01Z") < t("2024-03-05T08:00:01.5Z"));
        assert!(t("2024-03-05T10:00:00+03:00") < t("2024-03-05T08:00:01Z"));
        assert!(t("2024-03-05T08:00:01Z") < t("yesterday"));
        // Same instant, other text: not equal, and ordered consistently with `Eq`.
        let (a, b) = (t("2024-03-05T08:00:01Z"), t("2024-03-05T08:00:01.0Z"));
        assert_ne!(a, b);
        assert_ne!(a.cmp(&b), std::cmp::Ordering::Equal);
        assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        let mut v = [
            t("b"),
            t("2030-01-01T00:00:00Z"),
            t("a"),
            t("2020-01-01T00:00:00+01:00"),
        ];
        v.sort();
        let texts: Vec<&str> = v.iter().map(Timestamp::as_str).collect();
        assert_eq!(
            texts,
            ["2020-01-01T00:00:00+01:00", "2030-01-01T00:00:00Z", "a", "b"]
        );
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn timestamp_to_chrono() {
        let c = Timestamp::new("2024-03-05T10:00:01.5+02:00").to_chrono().unwrap();
        assert_eq!(c.to_rfc3339(), "2024-03-05T08:00:01.500+00:00");
    }

    #[cfg(feature = "time")]
    #[test]
    fn timestamp_to_time() {
        let t = Timestamp::new("2024-03-05T08:00:01Z").to_time().unwrap();
        assert_eq!(t.unix_timestamp(), 1_709_625_601);
    }

    #[cfg(feature = "jiff")]
    #[test]
    fn timestamp_to_jiff() {
        let t = Timestamp::new("2024-03-05T08:00:01Z").to_jiff().unwrap();
        assert_eq!(t.as_second(), 1_709_625_601);
    }

    #[test]
    fn timestamp_parses_on_demand() {
        let t: Timestamp = serde_json::from_str(r#""2024-03-05T08:00:01.5Z""#).unwrap();
        assert_eq!(t.as_str(), "2024-03-05T08:00:01.5Z");
        assert!(t.to_system_time().is_some());
        assert!(Timestamp::new("yesterday").to_system_time().is_none());
    }
}
