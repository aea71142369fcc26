//! Kontur Diadoc: the current user (`GET /V2/GetMyUser`, `POST /UpdateMyUser`), the
//! organizations and boxes the user can reach (`GET /GetMyOrganizations`), the user as an
//! employee of one box (`GET /GetMyEmployee`), the administration of a box's employees
//! ([`Diadoc::list_employees`], [`Diadoc::employees`], [`Diadoc::get_employee`],
//! [`Diadoc::create_employee`], [`Diadoc::update_employee`], [`Diadoc::delete_employee`]), and
//! logging in (`POST /V3/Authenticate?type=password`).
//!
//! Diadoc speaks protobuf unless asked for JSON, so every call sends `Accept:
//! application/json` and bodies go as `application/json; charset=utf-8`; the token from
//! `Authenticate` comes back as text.
//!
//! Credentials: an OpenID Connect access token as `Bearer`, which Kontur recommends
//! ([`auth::oidc_refresh`] runs Kontur's refresh-token flow; [`Diadoc::with_token`],
//! [`Auth::bearer`](crate::Auth::bearer), or [`Auth::provider`](crate::Auth::provider) to ask
//! your code for a fresh one), or the legacy `Authorization: DiadocAuth
//! ddauth_api_client_id=<id>,ddauth_token=<token>` ([`auth::diadoc_auth`],
//! [`Diadoc::with_client_id`]), where [`Diadoc::login`] gets the token (valid 24 hours), or
//! [`auth::login`] logs in on demand and again when the token has ended.
//!
//! Which box to work in: [`Diadoc::get_my_organizations`] lists the organizations and their
//! boxes; pass a box's [`DiadocBox::id`] to [`Diadoc::get_my_employee`] and other box-scoped
//! calls.
//!
//! Errors come as plain text (sometimes empty, an nginx HTML page for 429); the message is in
//! [`Error::service_message`], the `X-Diadoc-ErrorCode` header in
//! [`ServiceError::code`](crate::ServiceError::code) and `X-Kontur-Trace-Id` in
//! [`ServiceError::trace_id`](crate::ServiceError::trace_id). See [`is_login_taken`] for the
//! 405 that `UpdateMyUser` gives for a login another user holds.

pub mod auth;
mod employees;
mod models;

pub use models::{
    Address, AuthorizationPermission, BoxId, Department, DiadocBox, DocumentAccessLevel, Employee,
    EmployeeAction, EmployeeActionName, EmployeeList, EmployeePermissions, EmployeeToCreate,
    EmployeeToCreateByCertificate, EmployeeToCreateByLogin, EmployeeToCreateCredentials, EmployeeToUpdate,
    ForeignAddress, ForeignInformation, FullName, HEAD_DEPARTMENT, InvoiceFormatVersion, ListEmployees,
    MAX_EMPLOYEES_PER_PAGE, Organization, OrganizationList, OrganizationType, ReadyForEpdStatus,
    RussianAddress, Sociability, TicksTimestamp, UserFullNamePatch, UserId, UserLoginPatch, UserToUpdate,
    UserV2,
};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::auth::{ApiKey, ChangeReason, Password, Token};
use crate::client::Client;
use crate::error::{Error, ErrorBody, Result, ServiceError};
use crate::http::{RawResponse, Service};

/// Production: `https://diadoc-api.kontur.ru/`.
pub const DEFAULT_BASE_URL: &str = "https://diadoc-api.kontur.ru/";
/// Kontur's test environment: `https://diadoc-api-staging.kontur.ru/`.
pub const STAGING_BASE_URL: &str = "https://diadoc-api-staging.kontur.ru/";

const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");

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
    if body
        .header("x-kontur-dont-retry")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        out.dont_retry = true;
    }
}

crate::client::service_handle! {
    /// The Diadoc endpoints over a [`Client`].
    pub struct Diadoc {
    }
    service: SERVICE,
    name: "diadoc",
    accessor: diadoc,
    token: crate::Auth::bearer,
}

impl Diadoc {
    /// A client for production ([`DEFAULT_BASE_URL`]) with DiadocAuth and no token yet: call
    /// [`login`](Self::login) next.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) if the client id holds `,`, `=`, white space or a control character.
    ///
    /// ```
    /// use userapi::diadoc::{self, Diadoc};
    /// let diadoc = Diadoc::with_client_id("testClient-8ee1638deae84c86")?;
    /// assert!(diadoc.client().auth().source::<diadoc::auth::DiadocAuth>().is_some_and(|a| a.token().is_none()));
    /// assert!(Diadoc::with_client_id("cid,ddauth_token=FORGED").is_err());
    /// # Ok::<(), userapi::Error>(())
    /// ```
    pub fn with_client_id(client_id: impl Into<ApiKey>) -> Result<Self> {
        let client = Client::builder()
            .base_url(DEFAULT_BASE_URL)
            .auth(auth::diadoc_auth(client_id, None))
            .build()?;
        Ok(Diadoc::new(client))
    }

    /// `GET /V2/GetMyUser`: the user the token belongs to. Safe to repeat (retried by policy).
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) with 401 when the credentials are missing or refused (no token yet,
    /// a damaged or expired token, `Invalid API client id`), 403 for a blocked API client,
    /// 429 when rate limited; [`ErrorKind::Decode`](crate::ErrorKind::Decode) if the body is not a `UserV2`; transport
    /// errors and timeouts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use userapi_fake::diadoc::{FakeDiadoc, LOGIN};
    /// # let fake = FakeDiadoc::start().await?;
    /// let me = fake.api()?.get_me().await?;
    /// assert_eq!(me.login.as_deref(), Some(LOGIN));
    /// # Ok(()) }
    /// ```
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
    /// Never retried: it sends an email.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before sending, when no patch is set, a login is not a
    /// non-empty email address, or a name lacks its last or first name. [`ErrorKind::Http`](crate::ErrorKind::Http) with
    /// 400 for a change the server refuses, 401 for refused credentials, 404 or 405 once the
    /// method is removed, 405 for a login another user holds ([`is_login_taken`] tells which);
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) if the body is not a `UserV2`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{FullName, UserToUpdate};
    /// # let fake = userapi_fake::diadoc::FakeDiadoc::start().await?;
    /// # let diadoc = fake.api()?;
    /// let change = UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna"));
    /// let me = diadoc.update_me(&change).await?;
    /// assert_eq!(me.full_name.unwrap().last_name.as_deref(), Some("Ivanova"));
    /// # Ok(()) }
    /// ```
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

    /// `GET /GetMyOrganizations?autoRegister=<auto_register>`: the organizations, and their
    /// boxes, that the current user can reach. Pass `false` to list them.
    ///
    /// `autoRegister` is always sent, because the server's own default is `true`: for a user
    /// signed in with a qualified certificate, `true` may register the certificate's
    /// organization in Diadoc and the user in it as its administrator, and each attempt counts
    /// towards a limit of 3 a day. With `false` the call only reads (and is retried by policy);
    /// with `true` it is never retried. A user who logged in with a password is never
    /// registered anywhere, whatever the flag.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) with 401 for refused credentials, 409 when `true` went past the daily
    /// limit of registration requests (`Too many registrations today…`); [`ErrorKind::Decode`](crate::ErrorKind::Decode) if
    /// the body is not an `OrganizationList`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::diadoc::FakeDiadoc::start().await?;
    /// # let diadoc = fake.api()?;
    /// let list = diadoc.get_my_organizations(false).await?;
    /// let org = &list.organizations[0];
    /// assert_eq!(org.is_employee, Some(true));
    /// assert_eq!(org.boxes[0].id().as_str(), userapi_fake::diadoc::BOX_ID);
    /// # Ok(()) }
    /// ```
    pub async fn get_my_organizations(&self, auto_register: bool) -> Result<OrganizationList> {
        let call = self
            .client
            .call(
                &SERVICE,
                "diadoc::get_my_organizations",
                Method::GET,
                "GetMyOrganizations",
                &[],
            )?
            .query("autoRegister", if auto_register { "true" } else { "false" });
        // Only the pure read may be repeated: `true` can register an organization.
        let call = if auto_register { call } else { call.idempotent() };
        call.send().await
    }

    /// `GET /GetMyEmployee?boxId=<box_id>`: the current user as an employee of the box: position
    /// and permissions. `box_id` is a box's [`DiadocBox::id`] (its `BoxIdGuid`; the legacy
    /// `…@diadoc.ru` form names the same box), or a [`BoxId`] you parsed, so its shape was
    /// checked when it was built. Safe to repeat (retried by policy).
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) with
    /// 400 for a malformed box id, 401 for refused credentials, 402 when the box's API
    /// subscription has ended, 403 when the box is not among the user's (`Access to Box
    /// [<id>] is denied`); [`ErrorKind::Decode`](crate::ErrorKind::Decode) if the body is not an `Employee`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::diadoc::FakeDiadoc::start().await?;
    /// # let diadoc = fake.api()?;
    /// let list = diadoc.get_my_organizations(false).await?;
    /// let me = diadoc.get_my_employee(list.organizations[0].boxes[0].id()).await?;
    /// assert_eq!(me.user.user_id, userapi_fake::diadoc::USER_ID);
    /// assert_eq!(me.permissions.unwrap().allows("SignDocuments"), Some(true));
    /// # Ok(()) }
    /// ```
    pub async fn get_my_employee(&self, box_id: &BoxId) -> Result<Employee> {
        const OP: &str = "diadoc::get_my_employee";
        self.client
            .call(&SERVICE, OP, Method::GET, "GetMyEmployee", &[])?
            .query("boxId", box_id.as_str())
            .idempotent()
            .send()
            .await
    }

    /// `POST /V3/Authenticate?type=password`: exchanges a login and password for a token
    /// (valid 24 hours; Kontur asks that one token be shared by all threads).
    ///
    /// Installs the token on this client and all its clones: from now on they send it as
    /// `DiadocAuth ddauth_api_client_id=<id>,ddauth_token=<token>`.
    ///
    /// The client must hold [`auth::diadoc_auth`] with the API client id. The request carries the
    /// client id alone, never the token the client holds (an expired one would fail the
    /// login). It asks for the token as text and also reads a JSON string. The token is
    /// returned as a [`Token`] so you can keep it for its lifetime. Kontur marks this method
    /// obsolete in favour of OpenID Connect ([`with_token`](Self::with_token)). Never retried.
    ///
    /// The token is installed even if the caller stops waiting once the request is out, and
    /// only if no other change of the client's credentials landed while the login was in
    /// flight (that newer change wins; the token is still returned).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before sending, when the client does not use
    /// [`auth::diadoc_auth`] or the login or password is empty. [`ErrorKind::Http`](crate::ErrorKind::Http) with 401 for a wrong
    /// login or password (`Wrong password provided for login …`) or client id (`Invalid API
    /// client id`); [`ErrorKind::Decode`](crate::ErrorKind::Decode) (with no excerpt of the body) when the answer is not one
    /// token that fits in the header. On any error the client's credentials are unchanged.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::auth::Password;
    /// use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};
    /// let fake = FakeDiadoc::start().await?;
    /// let diadoc = fake.api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))?;
    /// let token = diadoc.login(LOGIN, &Password::new(PASSWORD)).await?;
    /// assert!(!token.is_empty());
    /// assert_eq!(diadoc.get_me().await?.login.as_deref(), Some(LOGIN));
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, login: &str, password: &Password) -> Result<Token> {
        const OP: &str = "diadoc::login";
        let Some(client_id) = self
            .client
            .auth()
            .source::<auth::DiadocAuth>()
            .map(|d| d.client_id().clone())
        else {
            return Err(Error::invalid_input(
                OP,
                format!(
                    "the client must use diadoc::auth::diadoc_auth(client_id, None) to log in, not {}",
                    self.client.auth().scheme_name()
                ),
            ));
        };
        if login.trim().is_empty() || password.is_empty() {
            return Err(Error::invalid_input(OP, "login and password must not be empty"));
        }
        // The request and the switch to its token run in a task of their own: a caller that
        // stops waiting does not leave the token issued but not installed. The token is
        // installed only if no other change of credentials landed meanwhile.
        let generation = self.client.auth_generation();
        let (login, password) = (login.to_owned(), password.clone());
        self.client
            .detached(move |client| async move {
                let (token, raw) = authenticate(&client, &client_id, &login, &password).await?;
                install_token(&client, generation, client_id, token.clone()).map_err(|_| {
                    raw.decode_failure(".".into(), "the token cannot go in a DiadocAuth header".into())
                })?;
                Ok(token)
            })
            .await
    }
}

/// `POST /V3/Authenticate?type=password` with the client id alone (never a token the client
/// holds) and the password redacted from any error: [`Diadoc::login`], and the login behind
/// [`auth::login`]. The token comes back checked: one line that fits in a DiadocAuth header.
pub(crate) async fn authenticate(
    client: &Client,
    client_id: &ApiKey,
    login: &str,
    password: &Password,
) -> Result<(Token, RawResponse)> {
    let body = models::LoginPassword {
        login,
        password: password.as_secret(),
    };
    let raw = client
        .call(&SERVICE, "diadoc::login", Method::POST, "V3/Authenticate", &[])?
        .query("type", "password")
        .auth_override(&auth::diadoc_auth(client_id.clone(), None))?
        .header(ACCEPT, TEXT_PLAIN)
        .header(CONTENT_TYPE, JSON_UTF8)
        .json(&body)?
        .secret_response()
        .send_raw()
        .await?;
    let token = read_token(&raw)?;
    if auth::diadoc_auth(client_id.clone(), Some(token.clone()))
        .fixed()
        .is_err()
    {
        return Err(raw.decode_failure(".".into(), "the token cannot go in a DiadocAuth header".into()));
    }
    Ok((token, raw))
}

/// The one place a login's token becomes the client's credentials: only if they are still
/// those the login started from.
fn install_token(client: &Client, based_on: u64, client_id: ApiKey, token: Token) -> Result<bool> {
    client.set_auth_if(
        based_on,
        auth::diadoc_auth(client_id, Some(token)),
        ChangeReason::Login,
    )
}

/// The token in an `Authenticate` answer: UTF-8 text, or a JSON string from a server that
/// encodes it.
fn read_token(raw: &RawResponse) -> Result<Token> {
    let fail = |message: &str| raw.decode_failure(".".into(), message.into());
    let text = std::str::from_utf8(&raw.body).map_err(|_| fail("the token is not UTF-8 text"))?;
    let text = text.trim();
    let token = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|_| fail("the token is neither text nor a JSON string"))?
    } else {
        text.to_owned()
    };
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(fail("expected the token as one line of text"));
    }
    Ok(Token::new(token))
}

/// Whether `err`, from [`Diadoc::update_me`] with `change`, is the 405 for a login another
/// user already holds.
///
/// Diadoc answers 405 both for that and for a wrong or removed HTTP method, and Kontur is
/// removing `UpdateMyUser`. So this says `true` only when `change` asked for a new login,
/// the answer is a 405 to `POST /UpdateMyUser`, and its body has text that does not name
/// the method (`method`, `verb`, `not allowed`, `not supported`, `POST`). An empty body, or
/// any doubt, gives `false`: unknown.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi::diadoc::{UserToUpdate, is_login_taken};
/// # use userapi_fake::diadoc::{FakeDiadoc, TAKEN_LOGIN};
/// # let fake = FakeDiadoc::start().await?;
/// # let diadoc = fake.api()?;
/// let change = UserToUpdate::new().login(TAKEN_LOGIN);
/// let err = diadoc.update_me(&change).await.unwrap_err();
/// assert!(is_login_taken(&err, &change));
/// # Ok(()) }
/// ```
pub fn is_login_taken(err: &Error, change: &UserToUpdate) -> bool {
    if change.login.is_none() {
        return false;
    }
    let (Some(http), Some(target)) = (err.http(), err.target()) else {
        return false;
    };
    if http.status() != StatusCode::METHOD_NOT_ALLOWED
        || target.method() != Method::POST
        || !target.path().ends_with("/UpdateMyUser")
    {
        return false;
    }
    let body = http.body_text();
    let text = body.trim();
    !text.is_empty() && !names_the_method(text)
}

/// Whether a 405's text is about the HTTP method (ASP.NET's `does not support http method
/// 'POST'`, IIS's `HTTP verb … not allowed`, nginx's `405 Not Allowed`).
fn names_the_method(text: &str) -> bool {
    let lower = text.to_lowercase();
    let about_method = ["method", "verb", "not allowed", "not supported", "метод"]
        .iter()
        .any(|w| lower.contains(w));
    // `POST` as a word of its own, not part of an address such as `POST@kontur.ru`.
    let bytes = text.as_bytes();
    let standalone = |i: usize| {
        let edge = |b: Option<&u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || b"@._-".contains(b)));
        edge(i.checked_sub(1).and_then(|j| bytes.get(j))) && edge(bytes.get(i + 4))
    };
    about_method || text.match_indices("POST").any(|(i, _)| standalone(i))
}

#[cfg(test)]
crate::properties::service_properties! {
    service: SERVICE,
    decodes: [BoxId, UserId, UserV2, FullName, OrganizationList, Organization, Employee, EmployeeList, TicksTimestamp, Sociability, EmployeeActionName],
    schemes: [
        |t: String| auth::diadoc_auth("client-id-0123456789", Some(Token::new(t))),
        |t: String| auth::diadoc_auth(t.trim_end_matches('=').to_owned(), None),
        crate::Auth::bearer,
    ],
    body_schemes: [
        |t: String| auth::login("client-id-0123456789", "user@example.ru", t),
        |t: String| auth::OidcRefresh::new("client", t.clone(), t).into_auth(),
    ],
}
