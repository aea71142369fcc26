//! Reading what a failed response says: [`ServiceError`], bounded, from the shapes every
//! JSON API uses, then from a service's own [`ErrorHook`].

use std::fmt;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::escape::*;
use super::*;

/// What the service said about a failure, read from whatever body shape it uses.
///
/// Bounded: the message and each field path and message are cut at 1,000 bytes, and at most
/// 100 field errors (and 32 KiB of them) are kept; [`fields_omitted`](Self::fields_omitted)
/// counts the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    pub(crate) message: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) fields: Vec<FieldError>,
    pub(crate) fields_omitted: usize,
    pub(crate) trace_id: Option<String>,
    /// The message repeats the first field error (`email: …`); `Display` says it once.
    pub(crate) message_is_first_field: bool,
    /// The service asked not to retry (`Dont-Retry`, or a header of the service's own that
    /// its error reading knows).
    pub(crate) dont_retry: bool,
}

/// At most this many field errors are kept.
#[cfg_attr(userapi_partial, allow(dead_code))]
pub(crate) const MAX_FIELD_ERRORS: usize = 100;
/// At most this many bytes of field paths and messages are kept.
#[cfg_attr(userapi_partial, allow(dead_code))]
pub(super) const MAX_FIELD_BYTES: usize = 32 * 1024;

impl ServiceError {
    /// The main message: JSON `message`, `detail` or `error`, a text body, an HTML title.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// A machine-readable code (a JSON `code`, or a header the service's error reading knows).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Field-level errors (an `errors` object, a list of `detail` items, as the service's error reading finds them).
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// How many field errors were read beyond those kept. A body of more than 1,024 JSON
    /// values is read no further than that, so for such a body this is a lower bound (a
    /// body with 16,000 field errors says 988).
    pub fn fields_omitted(&self) -> usize {
        self.fields_omitted
    }

    /// A trace id to give to the service's support (`X-Request-Id`, or a service's own trace header).
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    pub(crate) fn set_message(&mut self, message: &str) {
        self.message = Some(clip(message));
    }

    /// Adds a field error, within the bounds.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn push_field(&mut self, field: &str, message: &str) {
        let used: usize = self.fields.iter().map(|f| f.field.len() + f.message.len()).sum();
        if self.fields.len() >= MAX_FIELD_ERRORS || used >= MAX_FIELD_BYTES {
            self.fields_omitted += 1;
            return;
        }
        self.fields.push(FieldError::new(field, message));
    }

    #[cfg_attr(userapi_partial, allow(dead_code))]
    /// Adds every string under `value` as an error of `prefix` (nested objects extend the
    /// path with `.key`), within the bounds.
    pub(crate) fn push_fields_from(&mut self, prefix: &str, value: &Value) {
        match value {
            Value::String(s) => self.push_field(prefix, s),
            Value::Array(items) => {
                for item in items {
                    self.push_fields_from(prefix, item);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if self.fields.len() >= MAX_FIELD_ERRORS {
                        self.fields_omitted += count_leaves(v);
                        continue;
                    }
                    let path = format!("{}.{}", clip(prefix), clip(k));
                    self.push_fields_from(&path, v);
                }
            }
            Value::Null => {}
            other => self.push_field(prefix, &other.to_string()),
        }
    }

    #[cfg_attr(userapi_partial, allow(dead_code))]
    /// Uses the first field error as the message when there is no other.
    pub(crate) fn message_from_first_field(&mut self) {
        if self.message.is_none()
            && let Some(first) = self.fields.first()
        {
            self.message = Some(format!("{}: {}", first.field, first.message));
            self.message_is_first_field = true;
        }
    }
}

#[cfg_attr(userapi_partial, allow(dead_code))]
pub(super) fn count_leaves(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(count_leaves).sum(),
        Value::Object(map) => map.values().map(count_leaves).sum(),
        Value::Null => 0,
        _ => 1,
    }
}

/// What an [`ErrorHook`] sees of a failed response.
pub(crate) struct ErrorBody<'a> {
    /// The response headers (credential headers and cookies already removed).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) headers: &'a HeaderMap,
    /// The body parsed as JSON, bounded (see [`bounded_json`]), when it is JSON.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) json: Option<&'a Value>,
}

impl ErrorBody<'_> {
    /// A header as text, when present and not empty.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(clip)
    }

    /// A top-level member of a JSON object body.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn member(&self, key: &str) -> Option<&Value> {
        self.json?.get(key)
    }
}

/// A service's reading of its own error shapes, called after the generic reading.
pub(crate) type ErrorHook = fn(&ErrorBody<'_>, &mut ServiceError);

/// Reads a failed response: first the shapes every JSON API uses (a JSON string,
/// `message`, `error_description`, `error`, `detail` as text, `code`), a text body, an HTML
/// page's `<title>` and `X-Request-Id`; then the service's own `hook`.
pub(crate) fn read_service_error(
    content_type: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    hook: Option<ErrorHook>,
) -> ServiceError {
    let mut out = ServiceError {
        trace_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(clip),
        ..ServiceError::default()
    };
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let trimmed = body.trim_ascii();
    let looks_json = !trimmed.is_empty() && (ct.contains("json") || matches!(trimmed[0], b'{' | b'[' | b'"'));
    let json = if looks_json { bounded_json(trimmed) } else { None };
    match &json {
        Some(value) => read_generic_json(value, &mut out),
        None if trimmed.is_empty() => {}
        // JSON cut at the error-body limit (or otherwise broken): its message may still be
        // in the part that came.
        None if looks_json && let Some(message) = scan_message(trimmed) => out.message = Some(message),
        None => {
            let text = String::from_utf8_lossy(trimmed);
            if ct.contains("html")
                || starts_with_ignore_case(&text, "<!doctype html")
                || starts_with_ignore_case(&text, "<html")
            {
                out.message = html_title(&text).map(|t| clip(&t));
            } else {
                out.message = Some(clip(&text));
            }
        }
    }
    if let Some(hook) = hook {
        hook(
            &ErrorBody {
                headers,
                json: json.as_ref(),
            },
            &mut out,
        );
    }
    out
}

pub(super) fn read_generic_json(value: &Value, out: &mut ServiceError) {
    match value {
        Value::String(s) => out.set_message(s),
        Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(Value::as_str).map(clip);
            out.message = text("message")
                .or_else(|| text("error_description"))
                .or_else(|| text("error"))
                .or_else(|| text("detail"));
            out.code = ["code", "error_code", "error-code"]
                .iter()
                .find_map(|k| map.get(*k))
                .and_then(|v| match v {
                    Value::String(s) => Some(clip(s)),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
        }
        _ => {}
    }
}

/// The first of the usual message members whose string value is whole in `json`, read
/// without parsing the rest.
pub(super) fn scan_message(json: &[u8]) -> Option<String> {
    ["message", "detail", "error_description", "error"]
        .iter()
        .find_map(|key| {
            let quoted = format!("\"{key}\"");
            let at = json.windows(quoted.len()).position(|w| w == quoted.as_bytes())?;
            let rest = json[at + quoted.len()..].trim_ascii_start();
            let rest = rest.strip_prefix(b":")?.trim_ascii_start();
            let value: String = serde_json::Deserializer::from_slice(rest)
                .into_iter::<String>()
                .next()?
                .ok()?;
            Some(clip(&value))
        })
}

/// Most JSON values an error body is read into; the rest is skipped without being kept.
pub(super) const MAX_ERROR_JSON_NODES: usize = 1024;

/// Parses an error body as JSON into at most [`MAX_ERROR_JSON_NODES`] values, each string
/// and key cut at 1,000 bytes: what an error keeps stays proportional to the body cap, however
/// the body is shaped (16,000 array items, a 32 KiB key).
pub(crate) fn bounded_json(bytes: &[u8]) -> Option<Value> {
    use serde::de::DeserializeSeed;
    let mut budget = MAX_ERROR_JSON_NODES;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Bounded { budget: &mut budget }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    value
}

/// A `Value` seed with a shared node budget: `None` once the budget is spent.
struct Bounded<'b> {
    budget: &'b mut usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Bounded<'_> {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Bounded<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(mut self, v: bool) -> Result<Self::Value, E> {
        Ok(self.take().then_some(Value::Bool(v)))
    }

    fn visit_i64<E>(mut self, v: i64) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::from(v)))
    }

    fn visit_u64<E>(mut self, v: u64) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::from(v)))
    }

    fn visit_f64<E>(mut self, v: f64) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::from(v)))
    }

    fn visit_str<E>(mut self, v: &str) -> Result<Self::Value, E> {
        Ok(self.take().then(|| Value::String(clip_raw(v))))
    }

    fn visit_unit<E>(mut self) -> Result<Self::Value, E> {
        Ok(self.take().then_some(Value::Null))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.take() {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            return Ok(None);
        }
        let mut items = Vec::new();
        loop {
            if *self.budget == 0 {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                break;
            }
            match seq.next_element_seed(Bounded {
                budget: &mut *self.budget,
            })? {
                Some(Some(v)) => items.push(v),
                Some(None) => {}
                None => break,
            }
        }
        Ok(Some(Value::Array(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        if !self.take() {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(None);
        }
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if *self.budget == 0 {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            if let Some(v) = map.next_value_seed(Bounded {
                budget: &mut *self.budget,
            })? {
                out.insert(clip_raw(&key), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

impl Bounded<'_> {
    /// Spends one value of the budget; `false` once it is spent.
    fn take(&mut self) -> bool {
        match self.budget.checked_sub(1) {
            Some(left) => {
                *self.budget = left;
                true
            }
            None => false,
        }
    }
}
