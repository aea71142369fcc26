//! The fake's own checks of request bodies (never the client's helpers), worded as Metabase's schemas word them.

#![allow(unused_imports)]

use super::*;

use std::collections::HashSet;
use std::sync::LazyLock;

// ---------------------------------------------------------------------------------------------
// The fake's own checks (never the client's helpers), worded as Metabase's schemas word them
// ---------------------------------------------------------------------------------------------

/// Collects schema failures: `{"errors": {field: description}, "specific-errors": {field: [...]}}`.
#[derive(Default)]
pub(crate) struct Problems {
    pub(crate) errors: Map<String, Value>,
    pub(crate) specific: Map<String, Value>,
}

/// A value as Clojure prints it after `received: `.
pub(crate) fn received(v: &Value) -> String {
    match v {
        Value::Null => "nil".to_owned(),
        other => other.to_string(),
    }
}

pub(crate) const MISSING: &str = "missing required key, received: nil";

pub(crate) fn nullable(message: &str, is_nullable: bool) -> String {
    if is_nullable {
        format!("nullable {message}")
    } else {
        message.to_owned()
    }
}

impl Problems {
    pub(crate) fn add(&mut self, field: &str, message: String, specifics: Vec<String>) {
        self.errors.insert(field.to_owned(), Value::String(message));
        self.specific.insert(field.to_owned(), json!(specifics));
    }

    pub(crate) fn response(self) -> Option<Response> {
        (!self.errors.is_empty()).then(|| {
            Response::json(
                400,
                &json!({"errors": self.errors, "specific-errors": self.specific}),
            )
        })
    }

    /// `NonBlankString`, required or optional, nullable or not.
    pub(crate) fn non_blank(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
        is_nullable: bool,
    ) -> Option<String> {
        let message = nullable("value must be a non-blank string.", is_nullable);
        match body.get(field) {
            None if required => self.add(field, message, vec![MISSING.into()]),
            None => {}
            Some(Value::Null) if is_nullable => {}
            Some(Value::String(s)) if s.is_empty() => self.add(
                field,
                message,
                vec![
                    "should be at least 1 character, received: \"\"".into(),
                    "non-blank string, received: \"\"".into(),
                ],
            ),
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.add(field, message, vec![format!("non-blank string, received: {s:?}")])
            }
            Some(Value::String(s)) => return Some(s.clone()),
            Some(other) => self.add(
                field,
                message,
                vec![format!("should be a string, received: {}", received(other))],
            ),
        }
        None
    }

    /// `PositiveInt`.
    pub(crate) fn positive_int(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
        is_nullable: bool,
    ) -> Option<u64> {
        const MESSAGE: &str = "value must be an integer greater than zero.";
        let message = nullable(MESSAGE, is_nullable);
        match body.get(field) {
            None if required => self.add(field, message, vec![MISSING.into()]),
            None => {}
            Some(Value::Null) if is_nullable => {}
            Some(v) => match v.as_u64().filter(|n| *n > 0) {
                Some(n) => return Some(n),
                None => self.add(
                    field,
                    message,
                    vec![format!("{MESSAGE}, received: {}", received(v))],
                ),
            },
        }
        None
    }

    /// `Email`.
    pub(crate) fn email(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
        is_nullable: bool,
    ) -> Option<String> {
        const MESSAGE: &str = "value must be a valid email address.";
        let message = nullable(MESSAGE, is_nullable);
        match body.get(field) {
            None if required => self.add(field, message, vec![MISSING.into()]),
            None => {}
            Some(Value::Null) if is_nullable => {}
            Some(Value::String(s)) if looks_like_email(s) => return Some(s.clone()),
            Some(v) => self.add(
                field,
                message,
                vec![format!("{MESSAGE}, received: {}", received(v))],
            ),
        }
        None
    }

    /// A boolean or null.
    pub(crate) fn boolean(&mut self, body: &Map<String, Value>, field: &str) -> Option<bool> {
        match body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => {
                self.add(
                    field,
                    "nullable boolean".into(),
                    vec![format!("should be a boolean, received: {}", received(v))],
                );
                None
            }
        }
    }

    /// `ValidPassword`: the default (`normal`) rules.
    pub(crate) fn password(&mut self, body: &Map<String, Value>, field: &str) -> Option<String> {
        const MESSAGE: &str = "password is too common.";
        match body.get(field) {
            None => self.add(field, MESSAGE.into(), vec![MISSING.into()]),
            Some(Value::String(p)) if password_ok(p) => return Some(p.clone()),
            Some(_) => self.add(
                field,
                MESSAGE.into(),
                vec![format!("{MESSAGE}, received: \"<hidden>\"")],
            ),
        }
        None
    }

    /// Login attributes: a map whose keys do not start with `@`.
    pub(crate) fn login_attributes(&mut self, body: &Map<String, Value>, field: &str) {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Object(attrs)) => {
                let (mut errors, mut specific) = (Map::new(), Map::new());
                for key in attrs.keys().filter(|k| k.starts_with('@')) {
                    errors.insert(
                        key.clone(),
                        json!("nullable map from <keyword or string> to <anything>"),
                    );
                    specific.insert(
                        key.clone(),
                        json!([format!(
                            "login attribute keys must not start with `@`, received: {key:?}"
                        )]),
                    );
                }
                if !errors.is_empty() {
                    self.errors.insert(field.to_owned(), Value::Object(errors));
                    self.specific.insert(field.to_owned(), Value::Object(specific));
                }
            }
            Some(v) => self.add(
                field,
                "nullable map from <keyword or string> to <anything>".into(),
                vec![format!("invalid type, received: {}", received(v))],
            ),
        }
    }

    /// `user_group_memberships`: `[{"id": PositiveInt, "is_group_manager"?: bool}]` or null.
    pub(crate) fn memberships(&mut self, body: &Map<String, Value>, field: &str) -> Option<Vec<(u64, bool)>> {
        let items = match body.get(field) {
            None | Some(Value::Null) => return None,
            Some(Value::Array(items)) => items,
            Some(v) => {
                self.add(
                    field,
                    "nullable sequence of map".into(),
                    vec![format!("invalid type, received: {}", received(v))],
                );
                return None;
            }
        };
        let mut out = Vec::new();
        for item in items {
            let id = item.get("id").and_then(Value::as_u64).filter(|n| *n > 0);
            let manager = match item.get("is_group_manager") {
                None | Some(Value::Null) => Some(false),
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => None,
            };
            match (id, manager) {
                (Some(id), Some(manager)) => out.push((id, manager)),
                _ => {
                    self.add(
                        field,
                        "nullable sequence of map".into(),
                        vec![format!("invalid membership, received: {}", received(item))],
                    );
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// `local@domain.tld` without white space: the fake's own reading of an email address.
pub(crate) fn looks_like_email(s: &str) -> bool {
    let mut parts = s.splitn(2, '@');
    let (Some(local), Some(domain)) = (parts.next(), parts.next()) else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && !domain.contains('@')
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && !s.chars().any(char::is_whitespace)
}

/// The default (`normal`) password rules as Metabase applies them: at least six characters
/// counted as Java counts them (UTF-16 units), at least one decimal digit of any script
/// (`Character.isDigit` on each unit), and not on its list of common passwords, compared
/// lower-cased.
pub(crate) fn password_ok(p: &str) -> bool {
    p.encode_utf16().count() >= 6
        && p.encode_utf16().any(is_java_digit)
        && !COMMON_PASSWORDS.contains(p.to_lowercase().as_str())
}

/// The common passwords Metabase refuses (12,692, lower-case): the entries of Dropbox's
/// zxcvbn list with six or more characters and a digit, which is how Metabase built its
/// own. Source, derivation and license: `common_passwords.NOTICE` next to the list.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// The first code point of each run of ten decimal digits (Unicode category `Nd`) in the
/// Basic Multilingual Plane (Unicode 14; the same runs as Java 17 and 21 know). A UTF-16 unit
/// outside it, such as half of a supplementary-plane digit, is no digit to Java.
const DIGIT_ZEROS: [u16; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
];

/// `Character.isDigit` of one UTF-16 unit.
fn is_java_digit(unit: u16) -> bool {
    DIGIT_ZEROS.iter().any(|zero| (*zero..*zero + 10).contains(&unit))
}

/// A locale as the server normalises it (`es-MX`, `ES_mx` → `es_MX`), if it is one the server
/// has: listed, or a country variant of a listed language. Metabase's own tests expect `zz`,
/// `xx` and `xx-yy` to be refused.
pub(crate) fn normalise_locale(l: &str) -> Option<String> {
    let b = l.as_bytes();
    let letters = |s: &[u8]| s.iter().all(u8::is_ascii_alphabetic);
    let normal = if b.len() == 2 && letters(b) {
        l.to_ascii_lowercase()
    } else if b.len() == 5 && letters(&b[..2]) && matches!(b[2], b'_' | b'-') && letters(&b[3..]) {
        format!("{}_{}", l[..2].to_ascii_lowercase(), l[3..].to_ascii_uppercase())
    } else {
        return None;
    };
    let known = |code: &str| AVAILABLE_LOCALES.iter().any(|(c, _)| *c == code);
    (known(&normal) || known(&normal[..2])).then_some(normal)
}

/// Login attribute values are stored as strings (`42` → `"42"`).
pub(crate) fn stringify_attributes(attrs: Map<String, Value>) -> Value {
    Value::Object(
        attrs
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => Value::String(s),
                    Value::Null => Value::Null,
                    other => Value::String(other.to_string()),
                };
                (k, v)
            })
            .collect(),
    )
}

/// 8-4-4-4-12 hexadecimal digits: the only session ids the server reads.
pub(crate) fn uuid_shaped(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `limit` and `offset` as the server's paging middleware reads them, before any route or
/// credential: `Ok(None)` when the request is not paged, `Ok(Some((limit, offset)))` (the
/// missing one defaulted to 50 or 0) when it is.
///
/// Before 0.50 each value went through Java's `Integer.parseUnsignedInt`, and one that does
/// not parse is a 400 with the exception's JSON. From 0.50 (PR metabase#40821, April 2024) a
/// value that does not parse is ignored; if neither parses the request is not paged.
pub(crate) fn paging(req: &Request, config: &Config) -> Result<Option<(u64, u64)>, Box<Response>> {
    let (limit, offset) = (req.query("limit"), req.query("offset"));
    if !config.since(PAGING_LENIENT_SINCE) {
        if req.query("page").is_none() && limit.is_none() && offset.is_none() {
            return Ok(None);
        }
        let parse = |raw: Option<&str>, default| raw.map_or(Ok(default), parse_unsigned_int);
        return match (parse(limit, 50), parse(offset, 0)) {
            (Ok(limit), Ok(offset)) => Ok(Some((limit, offset))),
            (Err(cause), _) | (_, Err(cause)) => Err(Box::new(Response::json(
                400,
                &json!({
                    "message": format!("Error parsing paging parameters: {cause}"),
                    "cause": cause,
                    "via": [{"type": "java.lang.NumberFormatException", "message": cause, "at": []}],
                    "trace": [],
                }),
            ))),
        };
    }
    let read = |raw: Option<&str>| raw.and_then(|v| v.parse::<i64>().ok());
    match (read(limit), read(offset)) {
        (None, None) => Ok(None),
        // The fake does not model what a database makes of a negative value.
        (limit, offset) => Ok(Some((
            limit.map_or(50, |n| n.max(0) as u64),
            offset.map_or(0, |n| n.max(0) as u64),
        ))),
    }
}

/// Java's `Integer.parseUnsignedInt(s)`, with its exception messages.
fn parse_unsigned_int(s: &str) -> Result<u64, String> {
    if s.starts_with('-') {
        return Err(format!("Illegal leading minus sign on unsigned string {s}."));
    }
    if let Ok(n) = s.parse::<u32>() {
        return Ok(u64::from(n));
    }
    // Longer strings go through `Long.parseLong` first.
    if s.len() > 9 && s.parse::<i64>().is_ok() {
        return Err(format!("String value {s} exceeds range of unsigned int."));
    }
    Err(format!("For input string: {s:?}"))
}
