//! [`Secret`]: a credential that never prints, and the helpers that let request bodies carry
//! one while noting it for redaction.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

use crate::error::{ConfigKind, Error};

/// What `Debug` and `Display` print in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// A credential: token, password, session id or API key.
///
/// `Debug` and `Display` print [`REDACTED`]; only [`Secret::expose`] gives the value, so a
/// secret cannot reach a log line or an error message by accident. Cloning is cheap.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }

    /// The value itself. Call this only where the value must leave the process.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Rejects values that would break or smuggle an HTTP header.
    pub(crate) fn check_header_safe(&self, what: &str) -> Result<(), Error> {
        if self.0.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(Error::config(
                ConfigKind::Credential,
                format!("{what} contains a line break (CR or LF), which is never valid in a credential"),
            ));
        }
        if self.0.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(Error::config(
                ConfigKind::Credential,
                format!("{what} contains a control character, which is never valid in a credential"),
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Secret::new(value.as_str())
    }
}

thread_local! {
    /// The secrets written by [`expose_secret`] while a request body is being serialized.
    static WRITTEN: std::cell::RefCell<Option<Vec<Secret>>> = const { std::cell::RefCell::new(None) };
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// Writes a secret's value into a request body (`#[serde(serialize_with = ...)]`), and notes
/// it so that an error never shows it if the server echoes it. Only request bodies use this.
pub(crate) fn expose_secret<S: serde::Serializer, T: std::borrow::Borrow<Secret>>(
    secret: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    let secret = secret.borrow();
    WRITTEN.with(|w| {
        if let Some(written) = w.borrow_mut().as_mut() {
            written.push(secret.clone());
        }
    });
    s.serialize_str(secret.expose())
}

#[cfg_attr(userapi_partial, allow(dead_code))]
/// [`expose_secret`] for an optional secret.
pub(crate) fn expose_opt_secret<S: serde::Serializer, T: std::borrow::Borrow<Secret>>(
    secret: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(v) => expose_secret(v, s),
        None => s.serialize_none(),
    }
}

/// Runs `write` (a body's serialization) and returns what it wrote with the secrets in it.
pub(crate) fn noting_secrets<T>(write: impl FnOnce() -> T) -> (T, Vec<Secret>) {
    let outer = WRITTEN.with(|w| w.borrow_mut().replace(Vec::new()));
    let out = write();
    let written = WRITTEN.with(|w| std::mem::replace(&mut *w.borrow_mut(), outer));
    (out, written.unwrap_or_default())
}

/// A header value marked sensitive (kept out of reqwest's and hyper's `Debug`).
pub(crate) fn sensitive_value(value: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config(
            ConfigKind::Credential,
            "a credential holds a character that cannot go in an HTTP header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}
