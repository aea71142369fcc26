//! Building blocks every service's models share.
//!
//! One forward-compatibility rule holds for every response type in the crate:
//! - fields this version does not know are kept, in a flattened [`Extra`] map named `extra`;
//! - any field a real server may leave out or send as `null` is an `Option`;
//! - enums are `#[non_exhaustive]` and decode values added later as `Unknown(String)`.

use std::fmt;
use std::time::SystemTime;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
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

    /// Seconds and nanoseconds since the Unix epoch (the nanoseconds always forward, as the
    /// date crates count them), if the text is RFC 3339.
    #[cfg(any(feature = "chrono", feature = "time"))]
    fn unix_parts(&self) -> Option<(i64, u32)> {
        let (secs, nanos) = match self.to_system_time()?.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => (i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
            Err(before) => {
                let d = before.duration();
                let secs = i64::try_from(d.as_secs()).ok()?;
                match d.subsec_nanos() {
                    0 => (-secs, 0),
                    n => (-secs - 1, 1_000_000_000 - n),
                }
            }
        };
        Some((secs, nanos))
    }

    /// The instant as a `chrono` UTC date-time, if the text is RFC 3339 (and within chrono's
    /// range, which every RFC 3339 instant is).
    #[cfg(feature = "chrono")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    pub fn to_chrono(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        // Not `From<SystemTime>`, which panics outside chrono's range.
        let (secs, nanos) = self.unix_parts()?;
        chrono::DateTime::from_timestamp(secs, nanos)
    }

    /// The instant as a `time` date-time in UTC, if the text is RFC 3339 and within the
    /// `time` crate's range (up to the end of year 9999 without its `large-dates` feature:
    /// `9999-12-31T23:59:60Z` or `9999-12-31T23:59:59-01:00` is past it).
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub fn to_time(&self) -> Option<time::OffsetDateTime> {
        // Not `From<SystemTime>`, which panics outside time's range.
        let (secs, nanos) = self.unix_parts()?;
        let nanos = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    }

    /// The instant as a `jiff` timestamp, if the text is RFC 3339 and within jiff's range
    /// (which ends at `9999-12-30T22:00:00.999999999Z`, so that every offset stays in 9999).
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

// ---------------------------------------------------------------------------------------------
// Unknown fields into `extra`, without serde's `flatten`
// ---------------------------------------------------------------------------------------------
//
// `#[serde(flatten)]` on a map switches serde's derive to its generic road for the whole
// struct: a map instead of a struct, keys that may have to be kept, and every unknown value
// copied into serde's private `Content` tree before it is converted again into the map. On
// the 10,000-user Metabase page (no unknown field at all) that cost 2.2% more instructions
// than the same struct without `extra`; and a number serde_json cannot hold (`1e400`) in any
// unknown field failed the whole response.
//
// Instead, `response_model!` derives an ordinary (non-flatten) `Deserialize` for the known
// fields on a private mirror of the struct (serde's `remote` derive, which builds the public
// struct), and runs it through `Capture`, a thin deserializer wrapper: known keys and values
// pass straight through to serde_json. The derived code skips the value of a key it does not
// know as `IgnoredAny`; the wrapper answers that one `deserialize_ignored_any` by reading the
// value into `extra` under the key it saw last. The same page now costs 0.7% more
// instructions than without `extra` (cachegrind), and decodes ~4% faster than with `flatten`.
// Serialization is the derived one, with `extra` still flattened.

/// Defines a response model whose fields this version does not know land in its
/// `extra: Extra` field, without serde's `flatten` on the decoding side (see above).
///
/// Write the struct as usual, in this order: doc comments, `#[derive(...)]` with `Serialize`
/// but not `Deserialize` (the macro implements it), other attributes (`#[serde(...)]`,
/// `#[non_exhaustive]`); every field `pub`. Mark `extra` `#[serde(flatten,
/// skip_deserializing)]` (flattened when serialized) or `#[serde(skip)]` (never serialized);
/// either way it is filled when decoding.
#[allow(unused_macros)]
macro_rules! response_model {
    (
        $(#[doc = $doc:literal])*
        #[derive($($derive:path),* $(,)?)]
        $(#[$meta:meta])*
        pub struct $name:ident $(<$($gen:ident),+>)? {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive($($derive),*)]
        $(#[$meta])*
        pub struct $name $(<$($gen),+>)? {
            $( $(#[$fmeta])* pub $field : $ty ),*
        }

        const _: () = {
            type Remote $(<$($gen),+>)? = $name $(<$($gen),+>)?;

            /// The known fields, decoded the fast (non-flatten) way.
            #[derive(::serde::Deserialize)]
            #[serde(remote = "Remote")]
            $(#[$meta])*
            #[allow(dead_code)]
            struct Known $(<$($gen),+>)? {
                $( $(#[$fmeta])* $field : $ty ),*
            }

            impl<'de $(, $($gen: ::serde::Deserialize<'de>),+)?> ::serde::Deserialize<'de>
                for $name $(<$($gen),+>)?
            {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    $crate::models::with_extra(
                        d,
                        stringify!($name),
                        |c| Known::deserialize(c),
                        |v: &mut Self| &mut v.extra,
                    )
                }
            }
        };
    };
}
#[allow(unused_imports)]
pub(crate) use response_model;

#[cfg_attr(userapi_partial, allow(dead_code))]
/// Runs the derived decoder of the known fields (`known`) through [`Capture`], then stores the
/// unknown fields it collected where `extra_of` says.
#[inline(always)]
pub(crate) fn with_extra<'de, D, T, F, G>(
    d: D,
    name: &'static str,
    known: F,
    extra_of: G,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: for<'a> FnOnce(Capture<'a, D>) -> Result<T, D::Error>,
    G: FnOnce(&mut T) -> &mut Extra,
{
    let mut extra = Extra::new();
    let mut result = known(Capture {
        inner: d,
        name,
        extra: &mut extra,
    });
    // In place: the model is a few hundred bytes, and every move of it shows in a large page.
    if let Ok(value) = &mut result {
        *extra_of(value) = extra;
    }
    result
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// The deserializer the derived code of a model's known fields sees (see [`with_extra`]).
pub(crate) struct Capture<'a, D> {
    inner: D,
    /// The model's name, for "expected struct User" (the derived code knows only its mirror).
    name: &'static str,
    extra: &'a mut Extra,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Capture<'_, D> {
    type Error = D::Error;

    #[inline(always)]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // A map, as the `flatten` derive asked for: a JSON array is not accepted as a struct.
        self.inner.deserialize_map(CaptureVisitor {
            visitor,
            name: self.name,
            extra: self.extra,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(CaptureVisitor {
            visitor,
            name: self.name,
            extra: self.extra,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
struct CaptureVisitor<'a, V> {
    visitor: V,
    name: &'static str,
    extra: &'a mut Extra,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for CaptureVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.name)
    }

    #[inline(always)]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(CaptureMap {
            map,
            extra: self.extra,
            key: Key::None,
            buf: String::new(),
        })
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// The last key read: borrowed from the input, or copied into `buf` when the input could
/// not lend it (an escaped key, a reader).
enum Key<'de> {
    None,
    Borrowed(&'de str),
    Buffered,
}

#[cfg_attr(userapi_partial, allow(dead_code))]
struct CaptureMap<'a, 'de, A> {
    map: A,
    extra: &'a mut Extra,
    key: Key<'de>,
    buf: String,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CaptureMap<'_, 'de, A> {
    type Error = A::Error;

    #[inline(always)]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(KeySeed {
            seed,
            key: &mut self.key,
            buf: &mut self.buf,
        })
    }

    #[inline]
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        // The derived code skips an unknown field's value as `IgnoredAny`, a zero-sized type;
        // no known field of a model is zero-sized. So only zero-sized values take the wrapper
        // that can catch the skip (and forwards anything else unchanged); the branch is
        // decided at compile time and every known value goes straight to serde_json.
        if std::mem::size_of::<S::Value>() != 0 {
            return self.map.next_value_seed(seed);
        }
        let CaptureMap { map, extra, key, buf } = self;
        map.next_value_seed(ValueSeed {
            seed,
            extra,
            key,
            buf,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Forwards every `deserialize_*` of a wrapper to its `inner` deserializer, but those named
/// before the `;`.
macro_rules! forward_to_inner {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.inner.$method(visitor)
            }
        )*
        fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.deserialize_unit_struct(name, visitor)
        }
        fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.deserialize_newtype_struct(name, visitor)
        }
        fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.deserialize_tuple(len, visitor)
        }
        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.inner.deserialize_tuple_struct(name, len, visitor)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.inner.deserialize_struct(name, fields, visitor)
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.inner.deserialize_enum(name, variants, visitor)
        }
        fn is_human_readable(&self) -> bool {
            self.inner.is_human_readable()
        }
    };
}

#[cfg_attr(userapi_partial, allow(dead_code))]
struct KeySeed<'a, 'de, K> {
    seed: K,
    key: &'a mut Key<'de>,
    buf: &'a mut String,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, K> {
    type Value = K::Value;

    #[inline(always)]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDe {
            inner: d,
            key: self.key,
            buf: self.buf,
        })
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// The deserializer of a key: notes the key's text on its way to the derived field visitor.
struct KeyDe<'a, 'de, D> {
    inner: D,
    key: &'a mut Key<'de>,
    buf: &'a mut String,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, 'de, D> {
    type Error = D::Error;

    #[inline(always)]
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_identifier(KeyVisitor {
            visitor,
            key: self.key,
            buf: self.buf,
        })
    }

    forward_to_inner! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_ignored_any
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
struct KeyVisitor<'a, 'de, V> {
    visitor: V,
    key: &'a mut Key<'de>,
    buf: &'a mut String,
}

impl<'de, V: Visitor<'de>> KeyVisitor<'_, 'de, V> {
    #[cold]
    fn buffer(&mut self, s: &str) {
        self.buf.clear();
        self.buf.push_str(s);
        *self.key = Key::Buffered;
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    #[inline(always)]
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<V::Value, E> {
        *self.key = Key::Borrowed(s);
        self.visitor.visit_borrowed_str(s)
    }

    #[inline(always)]
    fn visit_str<E: de::Error>(mut self, s: &str) -> Result<V::Value, E> {
        self.buffer(s);
        self.visitor.visit_str(s)
    }

    fn visit_string<E: de::Error>(mut self, s: String) -> Result<V::Value, E> {
        self.buffer(&s);
        self.visitor.visit_string(s)
    }

    fn visit_borrowed_bytes<E: de::Error>(mut self, b: &'de [u8]) -> Result<V::Value, E> {
        match std::str::from_utf8(b) {
            Ok(s) => *self.key = Key::Borrowed(s),
            Err(_) => self.buffer(&String::from_utf8_lossy(b)),
        }
        self.visitor.visit_borrowed_bytes(b)
    }

    fn visit_bytes<E: de::Error>(mut self, b: &[u8]) -> Result<V::Value, E> {
        self.buffer(&String::from_utf8_lossy(b));
        self.visitor.visit_bytes(b)
    }

    fn visit_byte_buf<E: de::Error>(mut self, b: Vec<u8>) -> Result<V::Value, E> {
        self.buffer(&String::from_utf8_lossy(&b));
        self.visitor.visit_byte_buf(b)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<V::Value, E> {
        self.visitor.visit_u64(n)
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
struct ValueSeed<'a, 'de, S> {
    seed: S,
    extra: &'a mut Extra,
    key: &'a mut Key<'de>,
    buf: &'a mut String,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ValueSeed<'_, 'de, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(ValueDe {
            inner: d,
            extra: self.extra,
            key: self.key,
            buf: self.buf,
        })
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// The deserializer of a value: passes known fields through; the value the derived code
/// skips (an unknown field's) is read into `extra` instead.
struct ValueDe<'a, 'de, D> {
    inner: D,
    extra: &'a mut Extra,
    key: &'a mut Key<'de>,
    buf: &'a mut String,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ValueDe<'_, 'de, D> {
    type Error = D::Error;

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let name = match std::mem::replace(self.key, Key::None) {
            Key::Borrowed(s) => s.to_owned(),
            Key::Buffered => std::mem::take(self.buf),
            Key::None => return self.inner.deserialize_ignored_any(visitor),
        };
        if let Some(value) = unknown_value(self.inner)? {
            self.extra.insert(name, value);
        }
        visitor.visit_unit()
    }

    forward_to_inner! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// Reads an unknown field's value. Through serde_json it is first taken as raw text (its
/// `raw_value` path, which checks the syntax but converts no number) and then parsed: a value
/// serde_json cannot hold without `arbitrary_precision` (a number such as `1e400`) leaves the
/// field out (`None`) instead of failing the whole response. Other deserializers hand the value
/// over as it is.
fn unknown_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    d.deserialize_newtype_struct(raw_value_token(), UnknownVisitor)
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// The name serde_json's `RawValue` asks its deserializer for; found once by asking
/// `RawValue` itself, so nothing private is spelled here. Empty if it could not be found
/// (then numbers out of range fail the response as they would anywhere else).
fn raw_value_token() -> &'static str {
    static TOKEN: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        struct Probe(Option<&'static str>);
        impl<'de> Deserializer<'de> for &mut Probe {
            type Error = de::value::Error;
            fn deserialize_newtype_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                _: V,
            ) -> Result<V::Value, Self::Error> {
                self.0 = Some(name);
                Err(de::Error::custom("probe"))
            }
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(de::Error::custom("probe"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct seq tuple tuple_struct map struct enum
                identifier ignored_any
            }
        }
        let mut probe = Probe(None);
        let _ = <Box<serde_json::value::RawValue> as Deserialize>::deserialize(&mut probe);
        probe.0.unwrap_or("")
    })
}

#[cfg_attr(userapi_partial, allow(dead_code))]
struct UnknownVisitor;

impl<'de> Visitor<'de> for UnknownVisitor {
    type Value = Option<serde_json::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Some(serde_json::Value::Object(Extra::new())));
        };
        if first == raw_value_token() {
            let raw = map.next_value::<std::borrow::Cow<'de, str>>()?;
            return Ok(serde_json::from_str(&raw).ok());
        }
        // Another format's plain map.
        let mut object = Extra::new();
        object.insert(first, map.next_value()?);
        while let Some((k, v)) = map.next_entry()? {
            object.insert(k, v);
        }
        Ok(Some(serde_json::Value::Object(object)))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        serde_json::Value::deserialize(d).map(Some)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        serde_json::Value::deserialize(d).map(Some)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Some)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(serde_json::Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(serde_json::Value::Null))
    }
}

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

    response_model! {
        /// A model with unknown fields kept.
        #[derive(Debug, Clone, Default, PartialEq, Serialize)]
        #[non_exhaustive]
        pub struct Probe {
            /// Required.
            pub id: u64,
            /// Optional, renamed on the wire.
            #[serde(default, rename = "Name", skip_serializing_if = "Option::is_none")]
            pub name: Option<String>,
            /// A nested model.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub inner: Option<Box<Probe>>,
            /// The rest.
            #[serde(flatten, skip_deserializing)]
            pub extra: Extra,
        }
    }

    #[test]
    fn unknown_fields_land_in_extra_once() {
        let json = r#"{"new":[1,{"a":null}],"id":7,"Name":"n","inner":{"id":8,"deep":true},"flag":false}"#;
        let p: Probe = serde_json::from_str(json).unwrap();
        assert_eq!((p.id, p.name.as_deref()), (7, Some("n")));
        assert_eq!(p.extra.len(), 2, "{:?}", p.extra);
        assert_eq!(p.extra["new"], serde_json::json!([1, {"a": null}]));
        assert_eq!(p.extra["flag"], false);
        // Known keys are not duplicated, and a nested model keeps its own unknown fields.
        assert!(!p.extra.contains_key("id") && !p.extra.contains_key("Name"));
        let inner = p.inner.as_deref().unwrap();
        assert_eq!((inner.id, inner.extra["deep"].as_bool()), (8, Some(true)));
        // Serializing gives the same object back.
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
        // The same from a `Value` (another deserializer: keys arrive owned).
        let again: Probe = serde_json::from_value(back).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn unknown_fields_with_escaped_keys_duplicates_and_from_a_reader() {
        let json = r#"{"id":1,"a\u0062c":2,"x":1,"x":2,"\u0069d2":3}"#;
        for p in [
            serde_json::from_str::<Probe>(json).unwrap(),
            serde_json::from_reader::<_, Probe>(json.as_bytes()).unwrap(),
        ] {
            assert_eq!(p.id, 1);
            assert_eq!(p.extra["abc"], 2);
            assert_eq!(
                p.extra["x"], 2,
                "the last of a repeated unknown key wins, as with flatten"
            );
            assert_eq!(p.extra["id2"], 3);
            assert_eq!(p.extra.len(), 3);
        }
    }

    #[test]
    fn a_number_serde_json_cannot_hold_drops_only_its_unknown_field() {
        let p: Probe =
            serde_json::from_str(r#"{"huge":1e400,"id":3,"nested":{"n":-1e999},"ok":1.5}"#).unwrap();
        assert_eq!(p.id, 3);
        assert!(!p.extra.contains_key("huge") && !p.extra.contains_key("nested"));
        assert_eq!(p.extra["ok"], 1.5);
        // In a known field it is still an error, as it is anywhere else.
        assert!(serde_json::from_str::<Probe>(r#"{"id":1e400}"#).is_err());
        // Broken JSON inside an unknown field is still an error.
        assert!(serde_json::from_str::<Probe>(r#"{"id":1,"bad":[1,}"#).is_err());
    }

    #[test]
    fn decode_errors_name_the_field_and_refuse_what_flatten_refused() {
        let json = r#"{"id":1,"skip":{"a":[1,2]},"inner":{"id":2,"Name":5}}"#;
        let de = &mut serde_json::Deserializer::from_str(json);
        let err = serde_path_to_error::deserialize::<_, Probe>(de).unwrap_err();
        assert_eq!(err.path().to_string(), "inner.Name");
        let de = &mut serde_json::Deserializer::from_str(r#"[{"id":1},{"id":2,"x":1},{"id":"3"}]"#);
        let err = serde_path_to_error::deserialize::<_, Vec<Probe>>(de).unwrap_err();
        assert_eq!(err.path().to_string(), "[2].id");
        // A missing required field, an array for an object, null: errors, as before.
        assert!(
            serde_json::from_str::<Probe>(r#"{"Name":"n"}"#)
                .unwrap_err()
                .to_string()
                .contains("missing field `id`")
        );
        assert!(serde_json::from_str::<Probe>("[1]").is_err());
        let null = serde_json::from_str::<Probe>("null").unwrap_err().to_string();
        assert!(null.contains("expected struct Probe"), "{null}");
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

    /// The parser accepts second 60 and offsets up to ±99:59 on any date from year 0001 to
    /// 9999, so an instant can fall past the end of 9999: beyond `time` (without
    /// `large-dates`) and `jiff` (whose last instant is 9999-12-30T22:00:00.999999999Z, so
    /// that every offset keeps it in 9999). Each conversion answers `None` there, never panics.
    #[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
    #[test]
    fn timestamp_conversions_at_the_edges_never_panic() {
        use std::time::UNIX_EPOCH;
        const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        const FIRST: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
        const JIFF_LAST: i64 = LAST - (25 * 3600 + 59 * 60 + 59);
        const OFFSET: i64 = 99 * 3600 + 59 * 60;
        // text => Unix seconds of the instant, if it parses at all
        let cases: &[(&str, Option<i64>)] = &[
            ("9999-12-30T22:00:00.999999999Z", Some(JIFF_LAST)),
            ("9999-12-30T22:00:01Z", Some(JIFF_LAST + 1)),
            ("9999-12-31T23:59:59Z", Some(LAST)),
            ("9999-12-31T23:59:59.999999999Z", Some(LAST)),
            ("9999-12-31T23:59:60Z", Some(LAST + 1)),
            ("9999-12-31T23:59:59-01:00", Some(LAST + 3600)),
            ("9999-12-31T23:59:60.999999999-99:59", Some(LAST + 1 + OFFSET)),
            ("0001-01-01T00:00:00Z", Some(FIRST)),
            ("0001-01-01T00:00:00+99:59", Some(FIRST - OFFSET)),
            ("0001-01-01T00:00:00-99:59", Some(FIRST + OFFSET)),
            ("0000-01-01T00:00:00Z", None),
            ("0000-01-01T00:00:00-99:59", None),
            ("0000-01-01T00:00:00+99:59", None),
        ];
        for &(text, secs) in cases {
            let ts = Timestamp::new(text);
            let parsed = ts.to_system_time().map(|t| match t.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_secs() as i64,
                Err(e) => -(e.duration().as_secs() as i64),
            });
            assert_eq!(parsed, secs, "{text}");
            #[cfg(feature = "chrono")]
            assert_eq!(ts.to_chrono().map(|t| t.timestamp()), secs, "chrono {text}");
            #[cfg(feature = "time")]
            assert_eq!(
                ts.to_time().map(|t| t.unix_timestamp()),
                secs.filter(|&s| s <= LAST),
                "time {text}"
            );
            #[cfg(feature = "jiff")]
            assert_eq!(
                ts.to_jiff().map(|t| t.as_second()),
                secs.filter(|&s| s <= JIFF_LAST),
                "jiff {text}"
            );
        }
    }

    #[test]
    fn timestamp_parses_on_demand() {
        let t: Timestamp = serde_json::from_str(r#""2024-03-05T08:00:01.5Z""#).unwrap();
        assert_eq!(t.as_str(), "2024-03-05T08:00:01.5Z");
        assert!(t.to_system_time().is_some());
        assert!(Timestamp::new("yesterday").to_system_time().is_none());
    }
}
