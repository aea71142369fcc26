//! Kontur Diadoc: the current user (`GET /V2/GetMyUser`, `POST /UpdateMyUser`) and getting a
//! token (`POST /V3/Authenticate?type=password`).
//!
//! Diadoc speaks protobuf unless asked for JSON, so every call sends `Accept:
//! application/json` and bodies go as `application/json; charset=utf-8`.
//!
//! Credentials: the legacy `Authorization: DiadocAuth ddauth_api_client_id=<id>,ddauth_token=<token>`
//! ([`Auth::diadoc`]), where [`Diadoc::authenticate_with_password`] gets the token, or an
//! OpenID Connect access token as `Bearer` ([`Auth::bearer`], or [`Auth::provider`] to ask
//! your code for a fresh one), which Kontur now recommends.
//!
//! Errors come as plain text (sometimes empty, an nginx HTML page for 429); the message is in
//! [`Error::service_message`], the `X-Diadoc-ErrorCode` header in
//! [`ServiceError::code`](crate::ServiceError::code) and `X-Kontur-Trace-Id` in
//! [`ServiceError::trace_id`](crate::ServiceError::trace_id). See [`is_login_taken`] for the
//! 405 that `UpdateMyUser` gives for a login another user holds.

mod models;

#[cfg(feature = "fake")]
pub mod fake;

pub use models::{FullName, UserFullNamePatch, UserLoginPatch, UserToUpdate, UserV2};

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::auth::{Auth, Secret};
use crate::client::Client;
use crate::error::{Error, ErrorBody, Result, ServiceError};
use crate::pipeline::Service;

/// Production: `https://diadoc-api.kontur.ru/`.
pub const DEFAULT_BASE_URL: &str = "https://diadoc-api.kontur.ru/";
/// Kontur's test environment: `https://diadoc-api-staging.kontur.ru/`.
pub const STAGING_BASE_URL: &str = "https://diadoc-api-staging.kontur.ru/";

const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

pub(crate) static SERVICE: Service = Service {
    read_error: Some(read_error),
};

/// Kontur's error headers: `X-Diadoc-ErrorCode` and `X-Kontur-Trace-Id` (the pipeline honours
/// `X-Kontur-Dont-Retry` for every service); the body is text, read by the generic reading.
fn read_error(body: &ErrorBody<'_>, out: &mut ServiceError) {
    if let Some(code) = body.header("x-diadoc-errorcode") {
        out.code = Some(code);
    }
    if let Some(trace) = body.header("x-kontur-trace-id") {
        out.trace_id = Some(trace);
    }
}

/// The Diadoc user endpoints over a [`Client`].
#[derive(Debug, Clone)]
pub struct Diadoc {
    client: Client,
}

impl Client {
    /// The Diadoc endpoints on this client.
    pub fn diadoc(&self) -> Diadoc {
        Diadoc::new(self.clone())
    }
}

impl Diadoc {
    /// Wraps a client whose base URL is a Diadoc API host.
    pub fn new(client: Client) -> Self {
        Diadoc { client }
    }

    /// A client for production ([`DEFAULT_BASE_URL`]) with DiadocAuth and no token yet: call
    /// [`authenticate_with_password`](Self::authenticate_with_password) next.
    pub fn with_client_id(client_id: impl Into<Secret>) -> Result<Self> {
        let client = Client::builder()
            .base_url(DEFAULT_BASE_URL)
            .auth(Auth::diadoc(client_id, None))
            .build()?;
        Ok(Diadoc::new(client))
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A request to a Diadoc endpoint this crate does not model yet, through the same
    /// pipeline (credentials, encoding, timeouts, retries only when marked idempotent,
    /// limits) with Diadoc's error shapes read; see [`RequestBuilder`](crate::RequestBuilder).
    pub fn request(&self, method: Method, segments: &[&str]) -> crate::RequestBuilder<'_> {
        crate::RequestBuilder::new(
            self.client
                .call_segments(&SERVICE, "diadoc::request", method, segments),
        )
    }

    /// `GET /V2/GetMyUser`: the user the token belongs to.
    pub async fn get_me(&self) -> Result<UserV2> {
        self.client
            .call(&SERVICE, "diadoc::get_me", Method::GET, "V2/GetMyUser", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `POST /UpdateMyUser`: changes the current user's name and/or login and returns the user.
    ///
    /// Kontur marked this method obsolete in 2024 and its SDKs dropped it in 2025; a server
    /// that has removed it answers 404 or 405. What it does where it still exists:
    /// - a name change applies at once;
    /// - a login change sends a confirmation email to the new address and applies only after
    ///   the user follows its link; until then `Login` (here and in [`get_me`](Self::get_me))
    ///   shows the **old** value, which is the normal outcome, not a failure;
    /// - a login another user already holds gives 405 (see [`is_login_taken`]).
    ///
    /// Checked before sending, as [`Error::InvalidInput`]: at least one patch is set, a login
    /// is a non-empty email address, a name has its last and first names. Never retried: it
    /// sends an email.
    pub async fn update_me(&self, change: &UserToUpdate) -> Result<UserV2> {
        const OP: &str = "diadoc::update_me";
        change.check().map_err(|m| Error::invalid_input(OP, m))?;
        self.client
            .call(&SERVICE, OP, Method::POST, "UpdateMyUser", &[])?
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(change)?
            .send()
            .await
    }

    /// `POST /V3/Authenticate?type=password`: exchanges a login and password for a token
    /// (valid 24 hours; Kontur asks that one token be shared by all threads), and makes this
    /// client (and its clones) send it from now on as
    /// `DiadocAuth ddauth_api_client_id=<id>,ddauth_token=<token>`.
    ///
    /// The client must hold [`Auth::diadoc`] with the API client id. The token is returned as
    /// a [`Secret`] so you can keep it for its lifetime. Kontur marks this method obsolete in
    /// favour of OpenID Connect (use [`Auth::bearer`] with an access token). Never retried.
    pub async fn authenticate_with_password(&self, login: &str, password: &Secret) -> Result<Secret> {
        const OP: &str = "diadoc::authenticate_with_password";
        let client_id = match self.client.auth() {
            Auth::DiadocAuth { client_id, .. } => client_id,
            other => {
                return Err(Error::invalid_input(
                    OP,
                    format!(
                        "the client must use Auth::diadoc(client_id, None) to authenticate, not {}",
                        other.scheme_name()
                    ),
                ));
            }
        };
        if login.trim().is_empty() || password.is_empty() {
            return Err(Error::invalid_input(OP, "login and password must not be empty"));
        }
        let body = models::LoginPassword {
            login,
            password: password.expose(),
        };
        let raw = self
            .client
            .call(&SERVICE, OP, Method::POST, "V3/Authenticate", &[])?
            .query("type", "password")
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(&body)?
            .secret_response()
            .send_raw()
            .await?;
        let text = String::from_utf8_lossy(&raw.body);
        let token = Secret::new(text.trim());
        if token.is_empty() || token.expose().contains(['\r', '\n']) {
            return Err(raw.decode_failure(".".into(), "expected the token as one line of text".into()));
        }
        self.client
            .set_auth(Auth::diadoc(client_id, Some(token.clone())))?;
        Ok(token)
    }
}

/// Whether `err` is `UpdateMyUser`'s 405 for a login another user already holds.
///
/// Diadoc uses 405 both for that and for a wrong HTTP method (or a removed method); this SDK
/// always sends the documented method, so a 405 from `update_me` with a login patch means the
/// login is taken unless the text says the method is not allowed.
pub fn is_login_taken(err: &Error) -> bool {
    let Some(http) = err.http() else {
        return false;
    };
    if http.status() != StatusCode::METHOD_NOT_ALLOWED || !http.target().path().ends_with("/UpdateMyUser") {
        return false;
    }
    let text = http.service().message().unwrap_or("").to_ascii_lowercase();
    !(text.contains("method not allowed") || text.contains("not supported"))
}
