//! API keys: list, count, create, update, regenerate and delete (`/api/api-key`, superusers
//! only).

use reqwest::Method;

use super::Metabase;
use super::models::{self, ApiKeyId, ApiKeyInfo, ApiKeyUpdate, IssuedApiKey, NewApiKey};
use crate::auth::ApiKey;
use crate::error::Result;
use crate::http::{Call, RawResponse};

impl Metabase {
    /// A call on `/api/api-key/{id}…` (the id is typed, so never 0).
    fn key_call(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        id: &ApiKeyId,
    ) -> Result<Call<'_>> {
        self.call(op, method, route, &[id.to_string().as_str()])
    }

    /// `GET /api/api-key`: every API key (superusers only), without the keys themselves.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let keys = fake.api()?.list_api_keys().await?;
    /// assert_eq!(keys[0].prefix(), Some("mb_fake")); // the fake's seeded key
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for a caller who is not a superuser (an API key outside the Administrators
    /// group included); 401 without credentials.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        self.call("metabase::list_api_keys", Method::GET, "api/api-key", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/api-key/count`: how many API keys there are (superusers only).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// assert_eq!(fake.api()?.count_api_keys().await?, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`list_api_keys`](Self::list_api_keys).
    pub async fn count_api_keys(&self) -> Result<u64> {
        self.call("metabase::count_api_keys", Method::GET, "api/api-key/count", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `POST /api/api-key`: creates an API key in a group (superusers only). The answer is the
    /// only time the key is shown: keep [`IssuedApiKey::key`]. The key gets a user of its own
    /// (`api-key-user-…@api-key.invalid`) in All Users and that group. Never retried (a
    /// repeat would meet its own name: `An API key with this name already exists.`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewApiKey;
    /// use userapi_fake::metabase::ANALYSTS_GROUP;
    /// use userapi::Auth;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let issued = fake.api()?.create_api_key(&NewApiKey::new("Reporting bot", ANALYSTS_GROUP)).await?;
    /// let bot = fake.api_with(userapi::metabase::auth::api_key(issued.key.clone()))?;
    /// assert_eq!(bot.get_me().await?.common_name.as_deref(), Some("Reporting bot"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank name. HTTP 400 with field error `name`
    /// (`An API key with this name already exists.`); 403 for a caller who is not a
    /// superuser; a 500 when the group does not exist. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the answer
    /// holds no key.
    pub async fn create_api_key(&self, key: &NewApiKey) -> Result<IssuedApiKey> {
        const OP: &str = "metabase::create_api_key";
        key.check(OP)?;
        let raw = self
            .call(OP, Method::POST, "api/api-key", &[])?
            .json(key)?
            .secret_response()
            .send_raw()
            .await?;
        issued(&raw)
    }

    /// `PUT /api/api-key/:id`: renames a key or moves it to another group (superusers only).
    /// The same update twice gives the same key, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::ApiKeyUpdate;
    /// use userapi_fake::metabase::API_KEY_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let key = fake.api()?.update_api_key(&API_KEY_ID, &ApiKeyUpdate::new().name("Renamed")).await?;
    /// assert_eq!(key.name.as_deref(), Some("Renamed"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty update. HTTP 404 for an unknown key; 400
    /// when the server's schema refuses a field; 403 for a caller who is not a superuser.
    pub async fn update_api_key(&self, id: &ApiKeyId, update: &ApiKeyUpdate) -> Result<ApiKeyInfo> {
        const OP: &str = "metabase::update_api_key";
        update.check(OP)?;
        self.key_call(OP, Method::PUT, "api/api-key/{id}", id)?
            .json(update)?
            .idempotent()
            .send()
            .await
    }

    /// `PUT /api/api-key/:id/regenerate`: replaces a key with a new one (superusers only). The
    /// old key stops working at once; a client that authenticates with it must switch:
    /// `client.set_auth(userapi::metabase::auth::api_key(issued.key.clone()))`. Never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{API_KEY, API_KEY_ID};
    /// use userapi::Auth;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let issued = fake.api()?.regenerate_api_key(&API_KEY_ID).await?;
    /// let old = fake.api_with(userapi::metabase::auth::api_key(API_KEY))?;
    /// assert!(old.get_me().await.unwrap_err().is_auth());
    /// let new = fake.api_with(userapi::metabase::auth::api_key(issued.key))?;
    /// new.get_me().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 404 for an unknown key; 403 for a caller who is not a superuser.
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the answer holds no key.
    pub async fn regenerate_api_key(&self, id: &ApiKeyId) -> Result<IssuedApiKey> {
        const OP: &str = "metabase::regenerate_api_key";
        let raw = self
            .key_call(OP, Method::PUT, "api/api-key/{id}/regenerate", id)?
            .secret_response()
            .send_raw()
            .await?;
        issued(&raw)
    }

    /// `DELETE /api/api-key/:id`: deletes a key (superusers only); its user is deactivated and
    /// the key gets 401 from then on.
    ///
    /// Not retried: a second delete answers 404, so a retry after a lost answer would report
    /// a failure for a delete that worked. After a timeout, [`list_api_keys`](Self::list_api_keys)
    /// tells whether the key is gone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::API_KEY_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.delete_api_key(&API_KEY_ID).await?;
    /// assert!(api.delete_api_key(&API_KEY_ID).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 404 for an unknown (or already deleted) key; 403 for a caller who is not a
    /// superuser.
    pub async fn delete_api_key(&self, id: &ApiKeyId) -> Result<()> {
        self.key_call("metabase::delete_api_key", Method::DELETE, "api/api-key/{id}", id)?
            .send_empty()
            .await
    }
}

/// A created or regenerated key: the key must be there, and it never reaches `extra`.
fn issued(raw: &RawResponse) -> Result<IssuedApiKey> {
    let wire: models::IssuedWire = raw.json()?;
    match wire.unmasked_key {
        Some(key) if !key.trim().is_empty() => Ok(IssuedApiKey {
            key: ApiKey::new(key),
            prefix: wire.prefix,
            api_key: wire.rest,
        }),
        _ => Err(raw.protocol_error("the answer holds no key (`unmasked_key`)")),
    }
}
