//! The caller's own data: the per-user key-value store (`/api/user-key-value`) and the login
//! history (`/api/login-history/current`).

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::models::{LoginRecord, UserKeyValue};
use super::{Metabase, non_blank};
use crate::error::Result;
use crate::http::{Call, RawResponse};

impl Metabase {
    /// `GET /api/login-history/current`: the caller's logins, newest first, each with its
    /// device, address and whether its session is still alive. An API key has none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{FakeMetabase, USER_EMAIL, USER_PASSWORD};
    /// use userapi::Auth;
    /// use userapi::auth::Password;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api_with(Auth::none())?;
    /// api.login(USER_EMAIL, &Password::new(USER_PASSWORD)).await?;
    /// let logins = api.login_history().await?;
    /// assert_eq!(logins[0].active, Some(true)); // this one
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 401 without credentials.
    pub async fn login_history(&self) -> Result<Vec<LoginRecord>> {
        self.call(
            "metabase::login_history",
            Method::GET,
            "api/login-history/current",
            &[],
        )?
        .idempotent()
        .send()
        .await
    }

    /// `PUT /api/user-key-value/namespace/:namespace/key/:key`: stores a value for the caller
    /// (each user, and each API key, has its own store) and returns it as stored. Each
    /// namespace has a schema on the server (`calendar`: `"gregory"` or `"persian"`,
    /// `last_download_format`, `data_studio`, …); another namespace or a value its schema
    /// refuses is a 400. Storing the same value twice is harmless, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let stored = api.set_user_value("calendar", "system", &UserKeyValue::new("persian")).await?;
    /// assert_eq!(stored, "persian");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace or key. HTTP 400 `Invalid Request.` for
    /// a namespace without a schema or a value it refuses; 400 with field error `expires_at`
    /// for a malformed expiry; 401 without credentials.
    pub async fn set_user_value(&self, namespace: &str, key: &str, value: &UserKeyValue) -> Result<Value> {
        const OP: &str = "metabase::set_user_value";
        self.key_value_call(OP, Method::PUT, namespace, Some(key))?
            .json(value)?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user-key-value/namespace/:namespace/key/:key`: the caller's value, or `None`
    /// when there is none, it expired, or it is `null` (the server answers 204 for all three).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// assert_eq!(api.get_user_value("calendar", "system").await?, None);
    /// api.set_user_value("calendar", "system", &UserKeyValue::new("gregory")).await?;
    /// assert_eq!(api.get_user_value("calendar", "system").await?, Some("gregory".into()));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace or key; HTTP 401 without credentials.
    pub async fn get_user_value(&self, namespace: &str, key: &str) -> Result<Option<Value>> {
        const OP: &str = "metabase::get_user_value";
        let raw = self
            .key_value_call(OP, Method::GET, namespace, Some(key))?
            .idempotent()
            .send_raw()
            .await?;
        stored_value(&raw)
    }

    /// `GET /api/user-key-value/namespace/:namespace`: every live value the caller has in a
    /// namespace, by key (empty when there are none).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.set_user_value("data_studio", "tour", &UserKeyValue::new(true)).await?;
    /// let all = api.get_user_values("data_studio").await?;
    /// assert_eq!(all["tour"], true);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace; HTTP 401 without credentials.
    pub async fn get_user_values(&self, namespace: &str) -> Result<serde_json::Map<String, Value>> {
        const OP: &str = "metabase::get_user_values";
        let raw = self
            .key_value_call(OP, Method::GET, namespace, None)?
            .idempotent()
            .send_raw()
            .await?;
        if raw.status == StatusCode::NO_CONTENT || raw.body.trim_ascii().is_empty() {
            return Ok(serde_json::Map::new());
        }
        raw.json()
    }

    /// `DELETE /api/user-key-value/namespace/:namespace/key/:key`: removes the caller's value.
    /// Returns whether there was one. Deleting twice is harmless, so it may be retried (a
    /// retried delete may then report `false`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::UserKeyValue;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.set_user_value("monitor", "tour", &UserKeyValue::new(false)).await?;
    /// assert!(api.delete_user_value("monitor", "tour").await?);
    /// assert!(!api.delete_user_value("monitor", "tour").await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank namespace or key; HTTP 401 without credentials.
    pub async fn delete_user_value(&self, namespace: &str, key: &str) -> Result<bool> {
        const OP: &str = "metabase::delete_user_value";
        let deleted: u64 = self
            .key_value_call(OP, Method::DELETE, namespace, Some(key))?
            .idempotent()
            .send()
            .await?;
        Ok(deleted > 0)
    }

    fn key_value_call(
        &self,
        op: &'static str,
        method: Method,
        namespace: &str,
        key: Option<&str>,
    ) -> Result<Call<'_>> {
        non_blank(op, "the namespace", namespace)?;
        match key {
            Some(key) => {
                non_blank(op, "the key", key)?;
                self.call(
                    op,
                    method,
                    "api/user-key-value/namespace/{namespace}/key/{key}",
                    &[namespace, key],
                )
            }
            None => self.call(
                op,
                method,
                "api/user-key-value/namespace/{namespace}",
                &[namespace],
            ),
        }
    }
}

/// A stored value as `GET` answers it: 204 is none; a string comes as `text/plain` without
/// JSON quotes; anything else is JSON.
fn stored_value(raw: &RawResponse) -> Result<Option<Value>> {
    if raw.status == StatusCode::NO_CONTENT || raw.body.is_empty() {
        return Ok(None);
    }
    let text_plain = raw
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/plain"));
    if text_plain {
        return match std::str::from_utf8(&raw.body) {
            Ok(text) => Ok(Some(Value::String(text.to_owned()))),
            Err(_) => Err(raw.decode_failure(".".into(), "the body is not UTF-8 text".into())),
        };
    }
    match raw.json::<Value>()? {
        Value::Null => Ok(None),
        value => Ok(Some(value)),
    }
}
