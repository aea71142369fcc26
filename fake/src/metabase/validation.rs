//! The fake's own checks of request bodies (never the client's helpers), worded as Metabase's schemas word them.

#![allow(unused_imports)]

use super::*;

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

pub(crate) fn password_ok(p: &str) -> bool {
    p.chars().count() >= 6
        && p.chars().any(|c| c.is_ascii_digit())
        && !COMMON_PASSWORDS.contains(&p.to_lowercase().as_str())
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
