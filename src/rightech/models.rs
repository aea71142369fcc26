//! Rightech IoT Cloud's user types. Field names are the service's (`_id`, `webDisabled`).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::auth::{Password, Secret, Token};
use crate::error::Error;
use crate::models::{Extra, response_model};

pub use super::ids::{GroupId, ObjectId, RoleId, UserId};

response_model! {
    /// A user. Every field but `_id` may be missing: the documents disagree on which are sent.
    ///
    /// Create and update answer the whole user with `access`, `owner`, `time`, `_at` and
    /// `success: true`; list items carry only what `only` asked for. `Default` (the all-zero id,
    /// every field `None`) lets you build one for your own tests:
    ///
    /// ```
    /// use userapi::rightech::User;
    /// let mut user = User::default();
    /// user.name = Some("Sensor bot".into());
    /// user.time = Some(1_781_302_873_439);
    /// assert_eq!(
    ///     user.created_at(),
    ///     Some(std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_781_302_873_439))
    /// );
    /// ```
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct User {
        /// The user's id.
        #[serde(rename = "_id")]
        pub id: UserId,
        /// Login, unique.
        #[serde(default)]
        pub login: Option<String>,
        /// Display name.
        #[serde(default)]
        pub name: Option<String>,
        /// Email, unique.
        #[serde(default)]
        pub email: Option<String>,
        /// The user's role.
        #[serde(default)]
        pub role: Option<RoleId>,
        /// `1.5` in every example; its meaning is not documented.
        #[serde(default)]
        pub rights: Option<f64>,
        /// Defaults to true on create; its purpose is not documented.
        #[serde(default)]
        pub messages: Option<bool>,
        /// `true` on `GET /users/:id` and on create and update answers, absent on list items.
        #[serde(default)]
        pub success: Option<bool>,
        /// Creation time in milliseconds since the Unix epoch (e.g. `1781302873439`); see
        /// [`User::created_at`].
        #[serde(default)]
        pub time: Option<i64>,
        /// `_at`: the time of the last change in milliseconds since the Unix epoch, sent after an
        /// update; see [`User::changed_at`].
        #[serde(default, rename = "_at", skip_serializing_if = "Option::is_none")]
        pub at: Option<i64>,
        /// Ids with access to this user (the user's own id in the recorded answers).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub access: Option<Vec<ObjectId>>,
        /// Free-text description.
        #[serde(default)]
        pub description: Option<String>,
        /// The owning user.
        #[serde(default)]
        pub owner: Option<UserId>,
        /// The user's group.
        #[serde(default)]
        pub group: Option<GroupId>,
        /// Links; their shape is not documented, so they are kept as JSON.
        #[serde(default)]
        pub links: Option<serde_json::Value>,
        /// Phone number.
        #[serde(default)]
        pub phone: Option<String>,
        /// Locale.
        #[serde(default)]
        pub locale: Option<String>,
        /// Time-zone offset.
        #[serde(default, rename = "timezoneOffset")]
        pub timezone_offset: Option<f64>,
        /// The account is disabled.
        #[serde(default)]
        pub disabled: Option<bool>,
        /// No web-UI login (service accounts).
        #[serde(default, rename = "webDisabled")]
        pub web_disabled: Option<bool>,
        /// A temporary account.
        #[serde(default)]
        pub temp: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl User {
    /// [`time`](User::time) as a [`SystemTime`], when sent and not negative.
    pub fn created_at(&self) -> Option<SystemTime> {
        millis(self.time?)
    }

    /// [`at`](User::at) (`_at`) as a [`SystemTime`], when sent and not negative.
    pub fn changed_at(&self) -> Option<SystemTime> {
        millis(self.at?)
    }
}

/// Milliseconds since the Unix epoch as a [`SystemTime`].
fn millis(ms: i64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_millis(u64::try_from(ms).ok()?))
}

response_model! {
    /// A role: what a user's `role` names. [`Rightech::list_roles`](super::Rightech::list_roles)
    /// lists them. Every field but `_id` may be missing (a projection with `only` leaves out the
    /// rest). `Default` builds one for your own tests.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Role {
        /// The role's id: the value a user's [`role`](User::role) holds.
        #[serde(rename = "_id")]
        pub id: RoleId,
        /// Its name: free text in any language, not unique.
        #[serde(default)]
        pub name: Option<String>,
        /// Free-text description.
        #[serde(default)]
        pub description: Option<String>,
        /// The API methods the role allows. Their format is not documented: treat them as
        /// opaque strings.
        #[serde(default)]
        pub credentials: Option<Vec<String>>,
        /// Creation time in milliseconds since the Unix epoch; see [`Role::created_at`].
        #[serde(default)]
        pub time: Option<i64>,
        /// The owning user.
        #[serde(default)]
        pub owner: Option<UserId>,
        /// The role's group.
        #[serde(default)]
        pub group: Option<GroupId>,
        /// Links; their shape is not documented, so they are kept as JSON.
        #[serde(default)]
        pub links: Option<serde_json::Value>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl Role {
    /// [`time`](Role::time) as a [`SystemTime`], when sent and not negative.
    pub fn created_at(&self) -> Option<SystemTime> {
        millis(self.time?)
    }
}

/// The body of `POST /api/v1/users`. The five required fields go through [`NewUser::new`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct NewUser {
    /// The user's role.
    pub role: RoleId,
    /// Display name.
    pub name: String,
    /// Email, unique.
    pub email: String,
    /// Login, unique; 4 to 40 characters (see [`NewUser::check_login`]).
    pub login: String,
    /// Password; the default policy is in [`NewUser::check_password_policy`].
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub password: Password,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Free-text description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Create the account disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// No web-UI login: for service accounts.
    #[serde(rename = "webDisabled", skip_serializing_if = "Option::is_none")]
    pub web_disabled: Option<bool>,
    /// A temporary account, which expires after the platform's policy period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp: Option<bool>,
    /// The `messages` flag (the server defaults it to true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<bool>,
}

impl NewUser {
    /// A user with the required fields.
    pub fn new(
        role: RoleId,
        name: impl Into<String>,
        email: impl Into<String>,
        login: impl Into<String>,
        password: impl Into<Password>,
    ) -> Self {
        NewUser {
            role,
            name: name.into(),
            email: email.into(),
            login: login.into(),
            password: password.into(),
            phone: None,
            description: None,
            disabled: None,
            web_disabled: None,
            temp: None,
            messages: None,
        }
    }

    /// Sets the phone number.
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Creates the account disabled (or not).
    pub fn disabled(mut self, v: bool) -> Self {
        self.disabled = Some(v);
        self
    }

    /// Forbids (or allows) web-UI login.
    pub fn web_disabled(mut self, v: bool) -> Self {
        self.web_disabled = Some(v);
        self
    }

    /// Makes the account temporary (or not).
    pub fn temp(mut self, v: bool) -> Self {
        self.temp = Some(v);
        self
    }

    /// Sets the `messages` flag.
    pub fn messages(mut self, v: bool) -> Self {
        self.messages = Some(v);
        self
    }

    /// Checks a login against the documented rule: 4 to 40 characters. The server stays the
    /// authority (its exact character set is documented two ways); nothing checks this for you.
    ///
    /// # Errors
    /// [`Error::is_invalid_input`] when the login is shorter than 4 or longer than 40
    /// characters.
    ///
    /// ```
    /// use userapi::rightech::NewUser;
    /// assert!(NewUser::check_login("sensorbot").is_ok());
    /// assert!(NewUser::check_login("abc").unwrap_err().is_invalid_input());
    /// ```
    pub fn check_login(login: &str) -> Result<(), Error> {
        let n = login.chars().count();
        if (4..=40).contains(&n) {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "rightech::NewUser::check_login",
                format!("a login has 4 to 40 characters, this one has {n}"),
            ))
        }
    }

    /// Checks a password against the platform's default policy: at least 8 characters, with a
    /// lower-case letter, an upper-case letter and a digit. A deployment may set another
    /// policy, so the server stays the authority; nothing checks this for you.
    ///
    /// # Errors
    /// [`Error::is_invalid_input`] naming what the password lacks.
    ///
    /// ```
    /// use userapi::auth::Password;
    /// use userapi::rightech::NewUser;
    /// assert!(NewUser::check_password_policy(&Password::new("Str0ngPassw0rd")).is_ok());
    /// assert!(NewUser::check_password_policy(&Password::new("weak")).is_err());
    /// ```
    pub fn check_password_policy(password: &Password) -> Result<(), Error> {
        let password = password.expose();
        let mut missing = Vec::new();
        if password.chars().count() < 8 {
            missing.push("at least 8 characters");
        }
        if !password.chars().any(char::is_lowercase) {
            missing.push("a lower-case letter");
        }
        if !password.chars().any(char::is_uppercase) {
            missing.push("an upper-case letter");
        }
        if !password.chars().any(|c| c.is_ascii_digit()) {
            missing.push("a digit");
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "rightech::NewUser::check_password_policy",
                format!("the default password policy wants {}", missing.join(", ")),
            ))
        }
    }

    /// What is checked before sending: the five required fields are not empty.
    pub(crate) fn check(&self, op: &'static str) -> Result<(), Error> {
        for (name, value) in [
            ("name", &self.name),
            ("email", &self.email),
            ("login", &self.login),
        ] {
            if value.trim().is_empty() {
                return Err(Error::invalid_input(op, format!("{name} must not be empty")));
            }
        }
        if self.password.is_empty() {
            return Err(Error::invalid_input(op, "password must not be empty"));
        }
        Ok(())
    }
}

/// The body of `PATCH /api/v1/users/:id`: only the fields set are sent. Whether `email` can
/// change is not documented, so it is not offered.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct UserUpdate {
    /// New role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleId>,
    /// New display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// New password.
    #[serde(
        serialize_with = "crate::auth::expose_opt_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub password: Option<Password>,
    /// Disable or enable the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Forbid or allow web-UI login.
    #[serde(rename = "webDisabled", skip_serializing_if = "Option::is_none")]
    pub web_disabled: Option<bool>,
    /// Temporary or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp: Option<bool>,
    /// The `messages` flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<bool>,
}

impl UserUpdate {
    /// Changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the role.
    pub fn role(mut self, v: RoleId) -> Self {
        self.role = Some(v);
        self
    }
    /// Sets the display name.
    pub fn name(mut self, v: impl Into<String>) -> Self {
        self.name = Some(v.into());
        self
    }
    /// Sets the phone number.
    pub fn phone(mut self, v: impl Into<String>) -> Self {
        self.phone = Some(v.into());
        self
    }
    /// Sets the description.
    pub fn description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }
    /// Sets the login.
    pub fn login(mut self, v: impl Into<String>) -> Self {
        self.login = Some(v.into());
        self
    }
    /// Sets the password.
    pub fn password(mut self, v: impl Into<Password>) -> Self {
        self.password = Some(v.into());
        self
    }
    /// Disables or enables the account.
    pub fn disabled(mut self, v: bool) -> Self {
        self.disabled = Some(v);
        self
    }
    /// Forbids or allows web-UI login.
    pub fn web_disabled(mut self, v: bool) -> Self {
        self.web_disabled = Some(v);
        self
    }
    /// Makes the account temporary or not.
    pub fn temp(mut self, v: bool) -> Self {
        self.temp = Some(v);
        self
    }
    /// Sets the `messages` flag.
    pub fn messages(mut self, v: bool) -> Self {
        self.messages = Some(v);
        self
    }

    /// Whether nothing would be sent.
    pub fn is_empty(&self) -> bool {
        self.role.is_none()
            && self.name.is_none()
            && self.phone.is_none()
            && self.description.is_none()
            && self.login.is_none()
            && self.password.is_none()
            && self.disabled.is_none()
            && self.web_disabled.is_none()
            && self.temp.is_none()
            && self.messages.is_none()
    }

    /// What is checked before sending: the update sets some field.
    pub(crate) fn check(&self, op: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            return Err(Error::invalid_input(op, "the update sets no field"));
        }
        Ok(())
    }
}

/// Defines a query of a Rightech list (`limit`, `offset`, `search`, `from`, `to`, `only`, the
/// standard list parameters every collection takes) with its builders: one definition for
/// every list.
macro_rules! list_query {
    ($(#[$meta:meta])* $name:ident, $path:literal, $search:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[non_exhaustive]
        pub struct $name {
            /// Page size.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub limit: Option<u64>,
            /// Items to skip.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub offset: Option<u64>,
            #[doc = concat!("Matches ", $search, ". This is how Rightech searches: there is no search route, a search is this list with `search` (usually with `only=_id,name`).")]
            #[serde(skip_serializing_if = "Option::is_none")]
            pub search: Option<String>,
            /// Created at or after: ISO 8601 or Unix time, sent as given.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub from: Option<String>,
            /// Created at or before: ISO 8601 or Unix time, sent as given.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub to: Option<String>,
            /// Only these fields in each item (`only=_id,name`); `_id` is always decoded, so keep it.
            #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "comma_joined")]
            pub only: Vec<String>,
        }

        impl $name {
            /// No filters: the server's defaults.
            pub fn new() -> Self {
                Self::default()
            }
            /// Sets the page size.
            pub fn limit(mut self, v: u64) -> Self {
                self.limit = Some(v);
                self
            }
            /// Sets the number of items to skip.
            pub fn offset(mut self, v: u64) -> Self {
                self.offset = Some(v);
                self
            }
            #[doc = concat!("Sets the text search (", $search, ").")]
            ///
            /// ```
            #[doc = concat!("use userapi::rightech::", stringify!($name), ";")]
            #[doc = concat!("// GET ", $path, "?search=sensor&only=_id,name")]
            #[doc = concat!("let query = ", stringify!($name), "::new().search(\"sensor\").only([\"_id\", \"name\"]);")]
            /// # let _ = query;
            /// ```
            pub fn search(mut self, v: impl Into<String>) -> Self {
                self.search = Some(v.into());
                self
            }
            /// Sets the lower creation-time bound.
            pub fn from(mut self, v: impl Into<String>) -> Self {
                self.from = Some(v.into());
                self
            }
            /// Sets the upper creation-time bound.
            pub fn to(mut self, v: impl Into<String>) -> Self {
                self.to = Some(v.into());
                self
            }
            /// Projects each item onto these fields.
            pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
                self.only = fields.into_iter().map(Into::into).collect();
                self
            }
        }
    };
}

list_query! {
    /// The query of `GET /api/v1/users`. Lists are bare arrays with no total: page with `limit`
    /// and `offset` until a page comes back shorter than `limit`. It serializes to the query
    /// pairs sent (unset fields are left out; `only` is joined with commas).
    ListUsers, "/api/v1/users", "name or contacts"
}

list_query! {
    /// The query of `GET /api/v1/roles`: the same list parameters as every Rightech list
    /// (unset fields are left out; `only` is joined with commas). Rightech's own n8n node
    /// asks for `only=_id,name`.
    ListRoles, "/api/v1/roles", "the role's name"
}

/// `only=a,b`: one query value, the names joined with commas.
fn comma_joined<S: serde::Serializer>(fields: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fields.join(","))
}

/// The body of `POST /api/v1/users/tokens`. The service does not document it publicly, so
/// this is an open JSON object: set the fields your deployment expects, and put credentials
/// (a password) in with [`secret_field`](Self::secret_field), so that they are redacted from
/// errors. `Debug` shows the field names only.
///
/// ```
/// use userapi::rightech::TokenRequest;
/// let req = TokenRequest::new().field("user", "5d8a18d5d0025e0012fb6a34").secret_field("password", "s3cret");
/// assert_eq!(format!("{req:?}"), r#"TokenRequest { fields: ["user"], secret_fields: ["password"] }"#);
/// ```
#[derive(Clone, Default)]
pub struct TokenRequest {
    fields: Extra,
    secrets: std::collections::BTreeMap<String, Secret>,
}

impl TokenRequest {
    /// An empty request body (`{}`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field to the body.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        let name = name.into();
        self.secrets.remove(&name);
        self.fields.insert(name, value.into());
        self
    }

    /// Adds a field whose value is a credential: sent as a string, never shown.
    pub fn secret_field(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        let name = name.into();
        self.fields.remove(&name);
        self.secrets.insert(name, value.into());
        self
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("secret_fields", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Serialize for TokenRequest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Exposed<'a>(&'a Secret);
        impl Serialize for Exposed<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                crate::auth::expose_secret(self.0, s)
            }
        }
        let mut map = s.serialize_map(Some(self.fields.len() + self.secrets.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        for (k, v) in &self.secrets {
            map.serialize_entry(k, &Exposed(v))?;
        }
        map.end()
    }
}

/// What `POST /api/v1/users/tokens` returned. Its shape is not documented publicly: the token
/// is looked for in the usual places (`token`, `jwt`, `access_token`, or a bare JSON string),
/// and the whole response stays reachable through [`IssuedToken::raw`]. `Debug` shows only
/// the field names, never values, since the response holds a credential.
///
/// For your own tests, [`IssuedToken::from_json`] builds one from a body.
#[derive(Clone, Default)]
pub struct IssuedToken {
    pub(crate) token: Option<Token>,
    pub(crate) raw: serde_json::Value,
}

impl IssuedToken {
    /// Reads a `POST /api/v1/users/tokens` answer: the token is looked for in `token`, `jwt`
    /// and `access_token`, or is the body itself when that is a JSON string.
    ///
    /// ```
    /// use userapi::rightech::IssuedToken;
    /// let issued = IssuedToken::from_json(serde_json::json!({"_id": "6a0000000000000000000001", "token": "eyJ.x.y"}));
    /// assert_eq!(issued.token().map(|t| t.expose()), Some("eyJ.x.y"));
    /// assert_eq!(issued.id(), Some("6a0000000000000000000001"));
    /// ```
    pub fn from_json(raw: serde_json::Value) -> Self {
        let token = match &raw {
            serde_json::Value::String(s) => Some(s.as_str()),
            other => ["token", "jwt", "access_token"]
                .iter()
                .find_map(|k| other.get(*k)?.as_str()),
        };
        IssuedToken {
            token: token.filter(|t| !t.is_empty()).map(Token::new),
            raw,
        }
    }

    /// The token, if the response carried one where expected.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// The token's id (`_id`, also the JWT's `jti`), if sent.
    pub fn id(&self) -> Option<&str> {
        self.raw.get("_id").and_then(serde_json::Value::as_str)
    }

    /// The whole response as JSON. It contains the token: handle it as a secret.
    pub fn raw(&self) -> &serde_json::Value {
        &self.raw
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = match &self.raw {
            serde_json::Value::Object(map) => map.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        f.debug_struct("IssuedToken")
            .field("token", &self.token)
            .field("fields", &keys)
            .finish()
    }
}
