//! The caller's login history and per-user key-value store.

use serde::Serialize;

use crate::models::{Extra, Timestamp, response_model};

response_model! {
    /// One login of the caller (`GET /api/login-history/current`).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct LoginRecord {
        /// When, in the time zone of the address when it is known, else UTC.
        #[serde(default)]
        pub timestamp: Option<Timestamp>,
        /// `<device type> (<browser>/<OS>)` from the login's `User-Agent`, e.g.
        /// `Browser (Chrome/Windows)`.
        #[serde(default)]
        pub device_description: Option<String>,
        /// The client's address (the last `X-Forwarded-For` entry behind a proxy).
        #[serde(default)]
        pub ip_address: Option<String>,
        /// Whether the login's session still exists.
        #[serde(default)]
        pub active: Option<bool>,
        /// `City, Region, Country`, `Unknown location`, or `None` when the lookup failed.
        #[serde(default)]
        pub location: Option<String>,
        /// Short time-zone name (`CET`), when known.
        #[serde(default)]
        pub timezone: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// The body of `PUT /api/user-key-value/namespace/:namespace/key/:key`: a value and, if it
/// should lapse, when.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserKeyValue {
    /// Any JSON the namespace's schema accepts; `null` stores nothing readable.
    pub value: serde_json::Value,
    /// After this instant (`2025-01-01T00:00:00Z`, with `Z` or an offset) the value reads as
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

impl UserKeyValue {
    /// This value, with no expiry.
    pub fn new(value: impl Into<serde_json::Value>) -> Self {
        UserKeyValue {
            value: value.into(),
            expires_at: None,
        }
    }
    /// Makes it lapse at `at`.
    pub fn expires_at(mut self, at: impl Into<Timestamp>) -> Self {
        self.expires_at = Some(at.into());
        self
    }
}
