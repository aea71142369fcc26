//! Unknown response fields kept in `extra`, without serde's `flatten`.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::*;

// ---------------------------------------------------------------------------------------------
// Unknown fields into `extra`, without serde's `flatten`
// ---------------------------------------------------------------------------------------------
//
// `#[serde(flatten)]` on a map switches serde's derive to its generic road for the whole
// struct: a map instead of a struct, keys that may have to be kept, and every unknown value
// copied into serde's private `Content` tree before it is converted again into the map. On
// the benchmark's 10,000-user page (no unknown field at all) that cost 2.2% more instructions
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
#[cfg_attr(userapi_partial, allow(unused_macros))]
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
#[cfg_attr(userapi_partial, allow(unused_imports))]
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
