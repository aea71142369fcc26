//! NovaConnect (`api.novaconnect.kz`): the current user's profile.
//!
//! Every method is a `POST` with a JSON body, reads included, and every response comes in an
//! [`Envelope`] whose `code` is 200 on success. Failures come both ways and both are read:
//! a non-2xx status with the envelope as its body is [`ErrorKind::Http`](crate::ErrorKind::Http) (the envelope's
//! `message` in [`Error::service_message`], its `code` in [`Error::service_code`]); a `code`
//! other than 200 under HTTP 200 is [`ErrorKind::Api`](crate::ErrorKind::Api).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::novaconnect::{DEFAULT_BASE_URL, NovaConnect, UserEdit};
//! let token = std::env::var("NOVACONNECT_TOKEN").unwrap_or_default();
//! let api = NovaConnect::with_token(DEFAULT_BASE_URL, token)?;
//! let me = api.get_me().await?;
//! let me = api.update_me(&UserEdit::new().first_name("Aigerim")).await?;
//! # let _ = me; Ok(()) }
//! ```

mod models;

pub use models::{Envelope, EnvelopeResult, User, UserEdit, UserId};

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::http::Service;
use crate::models::PasswordChange;

/// NovaConnect's errors are its envelope, `{"code", "message"}`, which the generic reading
/// understands.
pub(crate) static SERVICE: Service = Service { read_error: None };

/// The documented base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.novaconnect.kz/api/";

crate::client::service_handle! {
    /// The NovaConnect API on a [`Client`](crate::Client). Cheap to clone.
    pub struct NovaConnect {
    lang: Option<String> = None,
    }
    service: SERVICE,
    name: "novaconnect",
    accessor: novaconnect,
    token: crate::Auth::bearer,
}

impl NovaConnect {
    /// Sends `lang=<lang>` (`ru` or `en`) on every call, which selects the language of
    /// `message`. Not sent by default.
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    /// The current user (`POST user/get` with `{}`). Safe to retry.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) for a refusal (401 for a bad token, [`Error::is_auth`]),
    /// [`ErrorKind::Api`](crate::ErrorKind::Api) for an envelope `code` other than 200 under HTTP 200,
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when `result.item` is missing or is not a user.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    /// let fake = FakeNovaConnect::start().await?;
    /// let me = fake.api()?.get_me().await?;
    /// assert_eq!(me.email.as_deref(), Some("a.sadykova@example.kz"));
    /// # Ok(()) }
    /// ```
    pub async fn get_me(&self) -> Result<User> {
        self.item("novaconnect::get_me", "user/get", &serde_json::json!({}), true)
            .await
    }

    /// Changes the current user's first name, last name or email (`POST user/edit`); only
    /// the fields set in `update` are sent. Returns the updated user. Safe to retry: the same
    /// edit twice leaves the same state.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) ([`Error::is_invalid_input`]) for an edit that sets nothing,
    /// before sending; otherwise as [`get_me`](Self::get_me) (a refused value is
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) or [`ErrorKind::Api`](crate::ErrorKind::Api) with the service's message).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::novaconnect::UserEdit;
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    /// let fake = FakeNovaConnect::start().await?;
    /// let me = fake.api()?.update_me(&UserEdit::new().last_name("Omarova")).await?;
    /// assert_eq!(me.last_name.as_deref(), Some("Omarova"));
    /// assert_eq!(fake.user().last_name.as_deref(), Some("Omarova"));
    /// # Ok(()) }
    /// ```
    pub async fn update_me(&self, update: &UserEdit) -> Result<User> {
        const OP: &str = "novaconnect::update_me";
        update.check(OP)?;
        self.item(OP, "user/edit", update, true).await
    }

    /// Changes the current user's password (`POST user/password` with `password`, the new
    /// one, and `old_password`, the current one) and returns the user. NovaConnect requires
    /// the current password, so `change` must carry one
    /// ([`PasswordChange::current`]). Never retried.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) ([`Error::is_invalid_input`]) for an empty new password, or a
    /// missing or empty current one, before sending; otherwise as [`get_me`](Self::get_me)
    /// (a wrong current password is refused with the service's message).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::auth::Password;
    /// use userapi::models::PasswordChange;
    /// use userapi_fake::novaconnect::{FakeNovaConnect, PASSWORD};
    /// let fake = FakeNovaConnect::start().await?;
    /// let change = PasswordChange::new("N3w-secret").current(PASSWORD);
    /// fake.api()?.change_password(&change).await?;
    /// assert!(fake.password_is(&Password::new("N3w-secret")));
    /// # Ok(()) }
    /// ```
    pub async fn change_password(&self, change: &PasswordChange) -> Result<User> {
        const OP: &str = "novaconnect::change_password";
        let body = models::PasswordBody::checked(change, OP)?;
        self.item(OP, "user/password", &body, false).await
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

#[cfg(test)]
crate::properties::service_properties! {
    service: SERVICE,
    decodes: [User, Envelope<User>, Envelope<serde_json::Value>, UserId],
    schemes: [crate::Auth::bearer],
}
