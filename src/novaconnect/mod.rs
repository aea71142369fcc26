//! NovaConnect (`api.novaconnect.kz`): the current user's profile.
//!
//! Every method is a `POST` with a JSON body, reads included, and every response comes in an
//! [`Envelope`] whose `code` is 200 on success. A `code` other than 200 is
//! [`crate::Error::Api`] even under HTTP 200.
//!
//! ```no_run
//! # async fn run() -> userapi::Result<()> {
//! use userapi::novaconnect::{NovaConnect, UserEdit};
//! let api = NovaConnect::with_token(std::env::var("NOVACONNECT_TOKEN").unwrap_or_default())?;
//! let me = api.get_me().await?;
//! let me = api.update_me(&UserEdit::new().first_name("Aigerim")).await?;
//! # let _ = me; Ok(()) }
//! ```

mod models;

#[cfg(feature = "fake")]
pub mod fake;

pub use models::{Envelope, EnvelopeResult, User, UserEdit, UserId};

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::{Auth, Secret};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::pipeline::Service;

/// NovaConnect's errors are its envelope, `{"code", "message"}`, which the generic reading
/// understands.
pub(crate) static SERVICE: Service = Service { read_error: None };

/// The documented base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.novaconnect.kz/api/";

/// The NovaConnect API on a [`Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct NovaConnect {
    client: Client,
    lang: Option<String>,
}

impl Client {
    /// This client as a NovaConnect API.
    pub fn novaconnect(&self) -> NovaConnect {
        NovaConnect::new(self.clone())
    }
}

impl NovaConnect {
    /// Wraps a client whose base URL points at NovaConnect's `/api/`.
    pub fn new(client: Client) -> Self {
        NovaConnect { client, lang: None }
    }

    /// A client for [`DEFAULT_BASE_URL`] with a bearer token.
    pub fn with_token(token: impl Into<Secret>) -> Result<Self> {
        let client = Client::builder()
            .base_url(DEFAULT_BASE_URL)
            .auth(Auth::bearer(token))
            .build()?;
        Ok(Self::new(client))
    }

    /// Sends `lang=<lang>` (`ru` or `en`) on every call, which selects the language of
    /// `message`. Not sent by default.
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A request to a NovaConnect endpoint this crate does not model yet, through the same
    /// pipeline (credentials, encoding, timeouts, retries only when marked idempotent,
    /// limits) with NovaConnect's error shapes read; see [`RequestBuilder`](crate::RequestBuilder).
    pub fn request(&self, method: Method, segments: &[&str]) -> crate::RequestBuilder<'_> {
        crate::RequestBuilder::new(self.client.call_segments(
            &SERVICE,
            "novaconnect::request",
            method,
            segments,
        ))
    }

    /// The current user (`POST user/get` with `{}`). Safe to retry.
    pub async fn get_me(&self) -> Result<User> {
        self.item("novaconnect::get_me", "user/get", &serde_json::json!({}), true)
            .await
    }

    /// Changes the current user's first name, last name or email (`POST user/edit`); only
    /// the fields set in `edit` are sent. Returns the updated user. Safe to retry: the same
    /// edit twice leaves the same state.
    pub async fn update_me(&self, edit: &UserEdit) -> Result<User> {
        if edit.is_empty() {
            return Err(Error::invalid_input(
                "novaconnect::update_me",
                "the edit sets no field",
            ));
        }
        self.item("novaconnect::update_me", "user/edit", edit, true).await
    }

    /// Changes the current user's password (`POST user/password`). Never retried.
    pub async fn change_password(&self, new_password: &str, old_password: &str) -> Result<User> {
        if new_password.is_empty() {
            return Err(Error::invalid_input(
                "novaconnect::change_password",
                "the new password is empty",
            ));
        }
        let body = models::PasswordChange {
            password: new_password,
            old_password,
        };
        self.item("novaconnect::change_password", "user/password", &body, false)
            .await
    }

    /// `POST <route>`, the envelope checked and `result.item` taken out.
    async fn item<B, T>(
        &self,
        operation: &'static str,
        route: &'static str,
        body: &B,
        idempotent: bool,
    ) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let mut call = self
            .client
            .call(&SERVICE, operation, Method::POST, route, &[])?
            .query_opt("lang", self.lang.as_deref())
            .json(body)?;
        if idempotent {
            call = call.idempotent();
        }
        let raw = call.send_raw().await?;
        let envelope: Envelope<T> = raw.json()?;
        if let Some(code) = envelope.code.filter(|c| *c != 200) {
            return Err(raw.api_error(code, envelope.message));
        }
        envelope
            .into_item()
            .ok_or_else(|| raw.decode_failure("result.item".into(), "missing field `item`".into()))
    }
}
