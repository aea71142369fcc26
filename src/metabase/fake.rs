//! A stateful Metabase on loopback, for tests and examples.
//!
//! It behaves as an open-source Metabase does where a client can see it:
//! - credentials: sessions as `X-Metabase-Session` or the `metabase.SESSION` cookie (set by
//!   every call that starts a session, cleared by logout), API keys as `X-API-Key`; under an
//!   authenticated prefix (`/api/user`, `/api/api-key`, …) credentials are checked before the
//!   route, so bad credentials give 401 `Unauthenticated` even for a path that does not exist;
//! - a superuser (1), ordinary users (2, 3), a deactivated user (4), and an API key in the
//!   Administrators group ([`API_KEY`], id [`API_KEY_ID`]) whose own user (5) answers
//!   `GET /api/user/current`; keys' users are never listed;
//! - 403 `You don't have permissions to do that.` where the real server refuses; the `status`,
//!   `query`, `group_id`, `tenancy`, `tenant_id`, `is_data_analyst` and
//!   `can_access_data_studio` filters and `limit`/`offset` paging with `total`;
//! - updates that apply every field they accept (names, email, locale, groups,
//!   `is_superuser`, `is_data_analyst`, login attributes); case-insensitive email uniqueness;
//! - the default password rules (6+ characters, a digit, not a common password), the
//!   old-password check, a new session (and the old ones ended) on one's own password change,
//!   204 on someone else's; 400 reactivating an active user or deactivating the last admin;
//! - API keys (create, list, count, rename or move, regenerate: the old key stops working,
//!   delete: its user is deactivated); the login history; the per-user key-value store with
//!   its namespaces' schemas; password resets (tokens, 48 hours, once, throttling);
//! - validation errors `{"errors", "specific-errors"}` worded as Metabase words them, and
//!   plain-text bodies where the real server sends text.
//!
//! What it cannot model it refuses with 400 rather than ignore: tenants (`tenant_id`), and
//! group managers (`is_group_manager: true`, a Pro/Enterprise feature) — where an open-source
//! server would silently drop the flag.
//!
//! It never emails: [`FakeMetabase::last_reset_token`] reads the token a reset email would
//! carry.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> userapi::Result<()> {
//! use userapi::metabase::fake::{ADMIN_EMAIL, ADMIN_PASSWORD, FakeMetabase};
//! use userapi::Auth;
//! let fake = FakeMetabase::start().await?;
//! let metabase = fake.api_with(Auth::none())?;
//! metabase.login(ADMIN_EMAIL, &ADMIN_PASSWORD.into()).await?;
//! assert!(metabase.get_me().await?.is_superuser.unwrap_or(false));
//! # Ok(()) }
//! ```

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderValue, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use super::{IssuedApiKey, Metabase, NewApiKey, NewUser, User};
use crate::auth::{Auth, Secret};
use crate::error::{Error, Result};
use crate::fake::{Fake, FakeRequest, FakeResponse, FakeServer, Handler};

/// The superuser's email (user 1, Crowberto Corv).
pub const ADMIN_EMAIL: &str = "crowberto@metabase.com";
/// The superuser's password.
pub const ADMIN_PASSWORD: &str = "Cr0wberto-pass";
/// An ordinary user's email (user 2, Rasta Toucan).
pub const USER_EMAIL: &str = "rasta@metabase.com";
/// The ordinary user's password.
pub const USER_PASSWORD: &str = "Rasta-t0ucan";
/// The seeded API key, in the Administrators group.
pub const API_KEY: &str = "mb_fakeApiKeyForTests0123456789";
/// The seeded API key's id.
pub const API_KEY_ID: u64 = 1;
/// The seeded API key's name (and its user's `common_name`).
pub const API_KEY_NAME: &str = "Fake admin key";
/// The All Users group.
pub const ALL_USERS_GROUP: u64 = 1;
/// The Administrators group.
pub const ADMIN_GROUP: u64 = 2;
/// An ordinary group, "Analysts".
pub const ANALYSTS_GROUP: u64 = 3;

const GROUPS: [(u64, &str); 3] = [
    (ALL_USERS_GROUP, "All Users"),
    (ADMIN_GROUP, "Administrators"),
    (ANALYSTS_GROUP, "Analysts"),
];
const COMMON_PASSWORDS: [&str; 8] = [
    "password1",
    "passw0rd",
    "123456",
    "12345678",
    "qwerty1",
    "letmein1",
    "welcome1",
    "abc123",
];
const SESSION_MAX_AGE: &str = "1209600";
/// How long a reset token lasts (`MB_RESET_TOKEN_TTL_HOURS` defaults to 48).
const RESET_TOKEN_TTL: Duration = Duration::from_secs(48 * 3600);
/// The prefixes whose routes need credentials: checked before the route is looked up.
const AUTH_PREFIXES: [&str; 41] = [
    "action",
    "activity",
    "alert",
    "analytics",
    "api-key",
    "automagic-dashboards",
    "bookmark",
    "bug-reporting",
    "cache",
    "card",
    "cards",
    "channel",
    "cloud-migration",
    "collection",
    "dashboard",
    "database",
    "dataset",
    "field",
    "google",
    "ldap",
    "logger",
    "login-history",
    "model-index",
    "native-query-snippet",
    "permissions",
    "persist",
    "premium-features",
    "preview_embed",
    "revision",
    "search",
    "segment",
    "setting",
    "slack",
    "table",
    "task",
    "tiles",
    "timeline",
    "timeline-event",
    "upload",
    "user",
    "user-key-value",
];

/// A running fake Metabase. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeMetabase {
    server: FakeServer,
    state: Arc<State>,
}

type State = crate::fake::State<Instance>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Personal,
    ApiKey,
}

#[derive(Debug, Clone)]
struct ResetToken {
    token: String,
    issued: Instant,
}

#[derive(Debug, Clone)]
struct Person {
    id: u64,
    kind: Kind,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    password: String,
    active: bool,
    data_analyst: bool,
    qbnewb: bool,
    datasetnewb: bool,
    /// Sorted, All Users included; Administrators makes a superuser.
    groups: Vec<u64>,
    login_attributes: Option<Value>,
    locale: Option<String>,
    date_joined: String,
    last_login: Option<String>,
    updated_at: String,
    reset: Option<ResetToken>,
}

#[derive(Debug, Clone)]
struct KeyRecord {
    id: u64,
    name: String,
    user: u64,
    key: String,
    created_at: String,
    updated_at: String,
    updated_by: u64,
}

#[derive(Debug, Clone)]
struct LoginRow {
    user: u64,
    session: Option<String>,
    timestamp: String,
    device: String,
    ip: String,
}

#[derive(Debug, Clone)]
struct Stored {
    value: Value,
    /// Seconds since the epoch.
    expires: Option<i64>,
}

#[derive(Debug)]
struct Instance {
    people: Vec<Person>,
    /// session id → user id
    sessions: HashMap<String, u64>,
    keys: Vec<KeyRecord>,
    next_key_id: u64,
    logins: Vec<LoginRow>,
    /// (user, namespace, key) → value
    values: BTreeMap<(u64, String, String), Stored>,
    last_reset: Option<String>,
    forgot_attempts: HashMap<String, Vec<Instant>>,
    reset_attempts: Vec<Instant>,
    random: RandomState,
    counter: u64,
}

fn person(id: u64, email: &str, first: &str, last: &str, password: &str, superuser: bool) -> Person {
    let mut groups = vec![ALL_USERS_GROUP];
    if superuser {
        groups.push(ADMIN_GROUP);
    }
    Person {
        id,
        kind: Kind::Personal,
        email: email.to_owned(),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        password: password.to_owned(),
        active: true,
        data_analyst: false,
        qbnewb: true,
        datasetnewb: true,
        groups,
        login_attributes: None,
        locale: None,
        date_joined: "2024-03-01T10:15:30.123456Z".to_owned(),
        last_login: Some("2024-03-05T08:00:01.5Z".to_owned()),
        updated_at: "2024-03-05T08:00:01.5Z".to_owned(),
        reset: None,
    }
}

impl FakeMetabase {
    /// Starts an instance with a superuser (1), two ordinary users (2, 3), a deactivated
    /// user (4), and the API key [`API_KEY`] (id 1, Administrators) with its user (5). It
    /// listens on `127.0.0.1`, on a port the system picks.
    ///
    /// # Errors
    /// [`Error::Io`] when no loopback port can be bound.
    pub async fn start() -> Result<Self> {
        Self::start_on(crate::fake::loopback()).await
    }

    /// [`start`](Self::start) on `addr` (port 0: one the system picks).
    ///
    /// # Errors
    /// [`Error::Io`] when `addr` cannot be bound.
    pub async fn start_on(addr: SocketAddr) -> Result<Self> {
        let mut trash = person(4, "trashbird@metabase.com", "Trash", "Bird", "Tr4sh-bird", false);
        trash.active = false;
        let people = vec![
            person(1, ADMIN_EMAIL, "Crowberto", "Corv", ADMIN_PASSWORD, true),
            person(2, USER_EMAIL, "Rasta", "Toucan", USER_PASSWORD, false),
            person(3, "lucky@metabase.com", "Lucky", "Pigeon", "Lucky-p1geon", false),
            trash,
        ];
        let seen = |user, timestamp: &str, device: &str| LoginRow {
            user,
            session: None,
            timestamp: timestamp.to_owned(),
            device: device.to_owned(),
            ip: "127.0.0.1".to_owned(),
        };
        let mut inst = Instance {
            people,
            sessions: HashMap::new(),
            keys: Vec::new(),
            next_key_id: 1,
            logins: vec![
                seen(1, "2024-03-05T08:00:01.5Z", "Browser (Chrome/Windows)"),
                seen(2, "2024-03-05T08:00:01.5Z", "Mobile Browser (Mobile Safari/iOS)"),
            ],
            values: BTreeMap::new(),
            last_reset: None,
            forgot_attempts: HashMap::new(),
            reset_attempts: Vec::new(),
            random: RandomState::new(),
            counter: 0,
        };
        inst.create_key(API_KEY_NAME, ADMIN_GROUP, 1, Some(API_KEY.to_owned()))
            .map_err(|_| Error::config("the fake could not seed its API key"))?;
        let state = State::new(inst);
        let server = FakeServer::serve_on(addr, state.clone()).await?;
        Ok(FakeMetabase { server, state })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        self.server.url("")
    }

    /// A [`Metabase`] with a fresh session of the superuser (user 1, [`ADMIN_EMAIL`]).
    ///
    /// # Errors
    /// [`Error::Config`] if the client cannot be built.
    pub fn api(&self) -> Result<Metabase> {
        let session = self.add_session(ADMIN_EMAIL)?;
        self.api_with(crate::metabase::auth::session(session))
    }

    /// A [`Metabase`] pointed at this fake with any credentials ([`Auth::none()`] to call
    /// `login` next, [`Auth::metabase_api_key`] with [`API_KEY`], a session from
    /// [`add_session`](Self::add_session), or made-up ones).
    ///
    /// # Errors
    /// [`Error::Config`] for credentials that cannot go in a header.
    pub fn api_with(&self, auth: Auth) -> Result<Metabase> {
        Ok(Metabase::new(crate::fake::client(self.base_url(), auth)?))
    }

    /// Starts a session for the user with this email, as a login would (without writing the
    /// login history).
    ///
    /// # Errors
    /// [`Error::Config`] when no active user has that email.
    pub fn add_session(&self, email: &str) -> Result<Secret> {
        let mut inst = self.state.lock();
        let id = inst
            .people
            .iter()
            .find(|p| p.active && p.email.eq_ignore_ascii_case(email))
            .map(|p| p.id)
            .ok_or_else(|| Error::config(format!("the fake has no active user {email}")))?;
        Ok(Secret::new(inst.new_session(id)))
    }

    /// Adds a user as `POST /api/user` would, without the checks on the caller: its
    /// memberships (the Administrators group makes a superuser) and its password, if set
    /// (else one nobody knows). Returns the user as the server would answer it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> userapi::Result<()> {
    /// use userapi::metabase::fake::{ADMIN_GROUP, ALL_USERS_GROUP, FakeMetabase};
    /// use userapi::metabase::{GroupMembership, NewUser};
    /// use userapi::{Auth, Secret};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let groups = vec![GroupMembership::new(ALL_USERS_GROUP), GroupMembership::new(ADMIN_GROUP)];
    /// let ada = fake.add_user(&NewUser::new("ada@example.com").groups(groups).password("Engine-1843"))?;
    /// assert_eq!(ada.is_superuser, Some(true));
    /// fake.api_with(Auth::none())?.login("ada@example.com", &Secret::new("Engine-1843")).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for an email that is empty or taken, or a group the fake does not
    /// have.
    pub fn add_user(&self, user: &NewUser) -> Result<User> {
        let mut inst = self.state.lock();
        if user.email.trim().is_empty() || inst.email_taken(&user.email, None) {
            return Err(Error::config(format!(
                "the fake cannot add a user with the email {:?}: empty or taken",
                user.email
            )));
        }
        let mut groups = vec![ALL_USERS_GROUP];
        for m in user.user_group_memberships.iter().flatten() {
            if !group_exists(m.id) {
                return Err(Error::config(format!("the fake has no group {}", m.id)));
            }
            groups.push(m.id);
        }
        if user.source.as_deref() == Some("setup") {
            groups.push(ADMIN_GROUP);
        }
        let password = match &user.password {
            Some(p) => p.expose().to_owned(),
            None => inst.uuid(),
        };
        let id = inst.add_person(
            Kind::Personal,
            user.email.to_lowercase(),
            user.first_name.clone(),
            user.last_name.clone(),
            password,
            groups,
        );
        let person = inst.person_mut(id).expect("just added");
        person.login_attributes = user.login_attributes.clone().map(stringify_attributes);
        let rendered = person.render(View::Written);
        serde_json::from_value(rendered).map_err(|e| Error::config(format!("the fake's user: {e}")))
    }

    /// Adds an API key as `POST /api/api-key` would, created by user 1. Returns it with the
    /// key itself, as the server would answer it.
    ///
    /// # Errors
    /// [`Error::Config`] for a blank or taken name, or a group the fake does not have.
    pub fn add_api_key(&self, key: &NewApiKey) -> Result<IssuedApiKey> {
        let mut inst = self.state.lock();
        if key.name.trim().is_empty() || inst.keys.iter().any(|k| k.name == key.name) {
            return Err(Error::config(format!(
                "the fake cannot add an API key named {:?}: blank or taken",
                key.name
            )));
        }
        if !group_exists(key.group_id) {
            return Err(Error::config(format!("the fake has no group {}", key.group_id)));
        }
        let id = inst
            .create_key(&key.name, key.group_id, 1, None)
            .map_err(|_| Error::config("the fake could not add the key"))?;
        let record = inst.keys.iter().find(|k| k.id == id).expect("just added").clone();
        let api_key = serde_json::from_value(inst.present_key(&record))
            .map_err(|e| Error::config(format!("the fake's API key: {e}")))?;
        Ok(IssuedApiKey {
            key: Secret::new(record.key.clone()),
            prefix: Some(record.key[..7].to_owned()),
            api_key,
        })
    }

    /// The last password-reset token the fake issued (what the reset email would carry),
    /// if any, whether or not it is still valid.
    pub fn last_reset_token(&self) -> Option<Secret> {
        self.state.lock().last_reset.clone().map(Secret::new)
    }

    /// Whether `session` is a live session.
    pub fn session_is_live(&self, session: &Secret) -> bool {
        self.state.lock().sessions.contains_key(session.expose())
    }

    /// Whether `password` is the current password of user `id`.
    pub fn password_is(&self, id: u64, password: &Secret) -> bool {
        self.state
            .lock()
            .people
            .iter()
            .any(|p| p.id == id && p.password == password.expose())
    }

    /// Whether user `id` exists and is active.
    pub fn is_active(&self, id: u64) -> Option<bool> {
        self.state
            .lock()
            .people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.active)
    }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

fn text(status: u16, body: &str) -> FakeResponse {
    FakeResponse::text(status, body)
}

fn unauthenticated() -> FakeResponse {
    text(401, "Unauthenticated")
}

fn forbidden() -> FakeResponse {
    text(403, "You don't have permissions to do that.")
}

fn not_found() -> FakeResponse {
    text(404, "Not found.")
}

fn no_endpoint() -> FakeResponse {
    text(404, "API endpoint does not exist.")
}

fn invalid_request() -> FakeResponse {
    text(400, "Invalid Request.")
}

fn field_error(field: &str, message: &str) -> FakeResponse {
    FakeResponse::json(400, &json!({"errors": {field: message}}))
}

/// An exception the server did not expect: its message and stack-trace keys.
fn server_error(message: &str) -> FakeResponse {
    FakeResponse::json(500, &json!({"message": message, "via": [], "trace": []}))
}

fn last_admin() -> FakeResponse {
    text(400, "You cannot remove the last member of the 'Admin' group!")
}

fn with_cookie(mut response: FakeResponse, cookie: &str) -> FakeResponse {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers.append(SET_COOKIE, value);
    }
    response
}

/// The two cookies every call that starts a session sets, in the server's order.
fn session_cookies(response: FakeResponse, session: &str, remember: bool) -> FakeResponse {
    let response = with_cookie(
        response,
        &format!("metabase.TIMEOUT=alive;SameSite=Lax;Path=/;Max-Age={SESSION_MAX_AGE}"),
    );
    let mut cookie = format!("metabase.SESSION={session};SameSite=Lax;Path=/;HttpOnly");
    if remember {
        cookie.push_str(";Max-Age=");
        cookie.push_str(SESSION_MAX_AGE);
    }
    with_cookie(response, &cookie)
}

fn cleared_cookies(response: FakeResponse) -> FakeResponse {
    [
        "metabase.SESSION",
        "metabase.EMBEDDED_SESSION",
        "metabase.TIMEOUT",
    ]
    .into_iter()
    .fold(response, |r, name| {
        with_cookie(r, &format!("{name}=;Expires=Thu, 1 Jan 1970 00:00:00 GMT;Path=/"))
    })
}

// ---------------------------------------------------------------------------------------------
// The fake's own checks (never the client's helpers), worded as Metabase's schemas word them
// ---------------------------------------------------------------------------------------------

/// Collects schema failures: `{"errors": {field: description}, "specific-errors": {field: [...]}}`.
#[derive(Default)]
struct Problems {
    errors: Map<String, Value>,
    specific: Map<String, Value>,
}

/// A value as Clojure prints it after `received: `.
fn received(v: &Value) -> String {
    match v {
        Value::Null => "nil".to_owned(),
        other => other.to_string(),
    }
}

const MISSING: &str = "missing required key, received: nil";

fn nullable(message: &str, is_nullable: bool) -> String {
    if is_nullable {
        format!("nullable {message}")
    } else {
        message.to_owned()
    }
}

impl Problems {
    fn add(&mut self, field: &str, message: String, specifics: Vec<String>) {
        self.errors.insert(field.to_owned(), Value::String(message));
        self.specific.insert(field.to_owned(), json!(specifics));
    }

    fn response(self) -> Option<FakeResponse> {
        (!self.errors.is_empty()).then(|| {
            FakeResponse::json(
                400,
                &json!({"errors": self.errors, "specific-errors": self.specific}),
            )
        })
    }

    /// `NonBlankString`, required or optional, nullable or not.
    fn non_blank(
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
    fn positive_int(
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
    fn email(
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
    fn boolean(&mut self, body: &Map<String, Value>, field: &str) -> Option<bool> {
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
    fn password(&mut self, body: &Map<String, Value>, field: &str) -> Option<String> {
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
    fn login_attributes(&mut self, body: &Map<String, Value>, field: &str) {
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
    fn memberships(&mut self, body: &Map<String, Value>, field: &str) -> Option<Vec<(u64, bool)>> {
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
fn looks_like_email(s: &str) -> bool {
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

fn password_ok(p: &str) -> bool {
    p.chars().count() >= 6
        && p.chars().any(|c| c.is_ascii_digit())
        && !COMMON_PASSWORDS.contains(&p.to_lowercase().as_str())
}

/// Two letters, or two letters, `_` or `-`, two letters.
fn locale_ok(l: &str) -> bool {
    let b = l.as_bytes();
    let letters = |s: &[u8]| s.iter().all(u8::is_ascii_alphabetic);
    (b.len() == 2 && letters(b))
        || (b.len() == 5 && letters(&b[..2]) && matches!(b[2], b'_' | b'-') && letters(&b[3..]))
}

fn group_exists(id: u64) -> bool {
    GROUPS.iter().any(|(g, _)| *g == id)
}

fn group_name(id: u64) -> &'static str {
    GROUPS.iter().find(|(g, _)| *g == id).map_or("?", |(_, n)| n)
}

/// Login attribute values are stored as strings (`42` → `"42"`).
fn stringify_attributes(attrs: Map<String, Value>) -> Value {
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
fn uuid_shaped(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

// ---------------------------------------------------------------------------------------------
// Time, the fake's own
// ---------------------------------------------------------------------------------------------

fn days_to_civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn civil_to_days(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn epoch_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Now, as `2024-03-05T08:00:01.518Z`.
fn now_iso() -> String {
    let now = epoch_now();
    let secs = now.as_secs() as i64;
    let (y, mo, d) = days_to_civil(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// How an `expires_at` reads.
enum Expiry {
    /// An instant, in seconds since the epoch.
    At(i64),
    /// A date-time without an offset: it passes the string check but is no instant.
    NoOffset,
    /// Not a date-time string.
    Malformed,
}

/// `YYYY-MM-DDTHH:MM[:SS[.fff…]]` then `Z` or `±HH:MM`.
fn parse_expiry(s: &str) -> Expiry {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let num = |t: &str| t.parse::<i64>().unwrap_or(-1);
    let Some((date, time)) = s.split_once('T') else {
        return Expiry::Malformed;
    };
    let dp: Vec<&str> = date.split('-').collect();
    if dp.len() != 3
        || dp[0].len() != 4
        || dp[1].len() != 2
        || dp[2].len() != 2
        || !dp.iter().all(|p| digits(p))
    {
        return Expiry::Malformed;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, Some(0))
    } else if time.len() > 6 && matches!(time.as_bytes()[time.len() - 6], b'+' | b'-') {
        let (c, o) = time.split_at(time.len() - 6);
        let (oh, om) = (&o[1..3], &o[4..6]);
        if &o[3..4] != ":" || !digits(oh) || !digits(om) {
            return Expiry::Malformed;
        }
        let sign = if o.starts_with('-') { -1 } else { 1 };
        (c, Some(sign * (num(oh) * 3600 + num(om) * 60)))
    } else {
        (time, None)
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let tp: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&tp.len()) || !tp.iter().all(|p| p.len() == 2 && digits(p)) || !digits(frac) {
        return Expiry::Malformed;
    }
    let (y, mo, d) = (num(dp[0]), num(dp[1]), num(dp[2]));
    let (h, mi, sec) = (num(tp[0]), num(tp[1]), tp.get(2).map_or(0, |s| num(s)));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Expiry::Malformed;
    }
    let Some(offset) = offset else {
        return Expiry::NoOffset;
    };
    let days = civil_to_days(y, mo as u32, d as u32);
    Expiry::At(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/// Which column set to render.
#[derive(Clone, Copy, PartialEq)]
enum View {
    /// `GET /api/user` as a superuser.
    List,
    /// `GET /api/user/:id`.
    One,
    /// `GET /api/user/current`.
    Current,
    /// `POST` and `PUT /api/user`.
    Written,
    /// The admin-or-self columns and `common_name` (reactivation, a superuser's recipients).
    Plain,
    /// What a non-admin sees of others.
    Others,
}

impl Person {
    fn superuser(&self) -> bool {
        self.groups.contains(&ADMIN_GROUP)
    }

    fn common_name(&self) -> String {
        let name = format!(
            "{} {}",
            self.first_name.as_deref().unwrap_or(""),
            self.last_name.as_deref().unwrap_or("")
        );
        let name = name.trim();
        if name.is_empty() && self.first_name.is_none() && self.last_name.is_none() {
            self.email.clone()
        } else {
            name.to_owned()
        }
    }

    fn set_groups(&mut self, groups: impl IntoIterator<Item = u64>) {
        let mut groups: Vec<u64> = groups.into_iter().collect();
        groups.sort_unstable();
        groups.dedup();
        self.groups = groups;
    }

    fn render(&self, view: View) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("email".into(), json!(self.email));
        m.insert("first_name".into(), json!(self.first_name));
        m.insert("last_name".into(), json!(self.last_name));
        m.insert("common_name".into(), json!(self.common_name()));
        if view == View::Others {
            return Value::Object(m);
        }
        let admin_or_self = json!({
            "date_joined": self.date_joined, "last_login": self.last_login,
            "updated_at": self.updated_at, "is_active": self.active, "is_superuser": self.superuser(),
            "is_data_analyst": self.data_analyst, "is_qbnewb": self.qbnewb, "tenant_id": null, "sso_source": null,
            "login_attributes": self.login_attributes, "jwt_attributes": null, "locale": self.locale,
        });
        if let Value::Object(extra) = admin_or_self {
            m.extend(extra);
        }
        let memberships: Vec<Value> = self.groups.iter().map(|g| json!({"id": g})).collect();
        let personal_collection = match self.kind {
            Kind::Personal => json!(self.id + 100),
            Kind::ApiKey => Value::Null,
        };
        match view {
            View::List | View::Current => {
                m.insert("group_ids".into(), json!(self.groups));
                m.insert("personal_collection_id".into(), personal_collection);
                m.insert("tenant_collection_id".into(), Value::Null);
            }
            View::One => {
                m.insert("user_group_memberships".into(), json!(memberships));
                let structured: Map<String, Value> = self
                    .login_attributes
                    .as_ref()
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), json!({"source": "user", "frozen": false, "value": v})))
                    .collect();
                m.insert("structured_attributes".into(), Value::Object(structured));
            }
            View::Written => {
                m.insert("user_group_memberships".into(), json!(memberships));
            }
            View::Plain | View::Others => {}
        }
        if view == View::Current {
            let current = json!({
                "attributes": self.login_attributes.clone().unwrap_or_else(|| json!({})),
                "is_installer": self.id == 1, "has_invited_second_user": true,
                "has_question_and_dashboard": false, "has_model": false, "first_login": "2024-03-01T10:20:00Z",
                "custom_homepage": null, "can_write_any_collection": self.superuser(),
                "permissions": {"can_create_queries": true, "can_create_native_queries": self.superuser()},
            });
            if let Value::Object(extra) = current {
                m.extend(extra);
            }
        }
        Value::Object(m)
    }
}

/// Who is calling.
#[derive(Clone, Copy)]
struct Caller {
    id: u64,
    superuser: bool,
}

impl Fake for FakeMetabase {
    fn server(&self) -> &FakeServer {
        &self.server
    }
}

/// The `metabase.SESSION` cookie, if the request carries one.
fn session_cookie(req: &FakeRequest) -> Option<&str> {
    req.headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("metabase.SESSION="))
}

/// The session a request names: the cookie wins over the header; a value that is not a UUID
/// is not read.
fn session_named(req: &FakeRequest) -> Option<&str> {
    session_cookie(req)
        .or_else(|| req.header("x-metabase-session"))
        .filter(|s| uuid_shaped(s))
}

/// `<device type> (<browser>/<OS>)` from a `User-Agent`.
fn describe_agent(agent: Option<&str>) -> String {
    let ua = agent.unwrap_or("unknown");
    let os = [
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "Mac OS X"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Unknown", |(_, os)| os);
    let mobile = ua.contains("Mobile");
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, b)| b);
    match browser {
        Some(b) if mobile => format!("Mobile Browser (Mobile {b}/{os})"),
        Some(b) => format!("Browser ({b}/{os})"),
        None => {
            let name = ua
                .split(['/', ' '])
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("unknown");
            format!("Library ({name}/{os})")
        }
    }
}

/// The client's address: the last `X-Forwarded-For` entry, else loopback.
fn client_address(req: &FakeRequest) -> String {
    req.header("x-forwarded-for")
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

fn body_map(req: &FakeRequest) -> Option<Map<String, Value>> {
    if req.body.is_empty() {
        return Some(Map::new());
    }
    match req.json::<Value>() {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.parse::<u64>().ok().filter(|id| *id > 0)
}

/// The schema error for an id that is not a positive integer.
fn bad_id(raw: &str) -> FakeResponse {
    let shown = raw.parse::<i64>().map_or_else(|_| json!(raw), |n| json!(n));
    let mut p = Problems::default();
    p.add(
        "id",
        "value must be an integer greater than zero.".into(),
        vec![format!(
            "value must be an integer greater than zero., received: {}",
            received(&shown)
        )],
    );
    p.response().unwrap_or_else(invalid_request)
}

impl Instance {
    fn random(&mut self) -> u64 {
        self.counter += 1;
        let mut h = self.random.build_hasher();
        h.write_u64(self.counter);
        h.finish()
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.random(), self.random());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// `mb_` and the standard Base64 of 32 random bytes: 47 characters.
    fn new_key(&mut self) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes: Vec<u8> = (0..4).flat_map(|_| self.random().to_le_bytes()).collect();
        let mut out = String::from("mb_");
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn new_session(&mut self, user: u64) -> String {
        let session = self.uuid();
        self.sessions.insert(session.clone(), user);
        session
    }

    fn person(&self, id: u64) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    fn person_mut(&mut self, id: u64) -> Option<&mut Person> {
        self.people.iter_mut().find(|p| p.id == id)
    }

    fn email_taken(&self, email: &str, except: Option<u64>) -> bool {
        self.people
            .iter()
            .any(|p| Some(p.id) != except && p.email.eq_ignore_ascii_case(email))
    }

    fn active_admins(&self) -> usize {
        self.people
            .iter()
            .filter(|p| p.kind == Kind::Personal && p.active && p.superuser())
            .count()
    }

    fn add_person(
        &mut self,
        kind: Kind,
        email: String,
        first_name: Option<String>,
        last_name: Option<String>,
        password: String,
        groups: Vec<u64>,
    ) -> u64 {
        let id = self.people.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        let now = now_iso();
        let mut person = Person {
            id,
            kind,
            email,
            first_name,
            last_name,
            password,
            active: true,
            data_analyst: false,
            qbnewb: true,
            datasetnewb: true,
            groups: Vec::new(),
            login_attributes: None,
            locale: None,
            date_joined: now.clone(),
            last_login: None,
            updated_at: now,
            reset: None,
        };
        person.set_groups(groups);
        self.people.push(person);
        id
    }

    /// A session for a login (`POST /api/session`, a reset, one's own password change): the
    /// login history row, `last_login`, and the cookies.
    fn start_login(&mut self, user: u64, req: &FakeRequest, body: Value, remember: bool) -> FakeResponse {
        let session = self.new_session(user);
        let now = now_iso();
        self.logins.push(LoginRow {
            user,
            session: Some(session.clone()),
            timestamp: now.clone(),
            device: describe_agent(req.header("user-agent")),
            ip: client_address(req),
        });
        if let Some(p) = self.person_mut(user) {
            p.last_login = Some(now);
        }
        let body = match body {
            Value::Object(mut m) => {
                m.entry("session_id").or_insert_with(|| json!(session));
                Value::Object(m)
            }
            _ => json!({"id": session}),
        };
        session_cookies(FakeResponse::json(200, &body), &session, remember)
    }

    /// Who is calling: a live session of an active user, else a valid API key of an active
    /// key user.
    fn caller(&self, req: &FakeRequest) -> Option<Caller> {
        let by_session = session_named(req).and_then(|s| self.sessions.get(s).copied());
        let by_key = || {
            let key = req.header("x-api-key")?;
            if !(12..=254).contains(&key.len()) || !key.starts_with("mb_") {
                return None;
            }
            self.keys.iter().find(|k| k.key == key).map(|k| k.user)
        };
        let id = by_session.or_else(by_key)?;
        let p = self.person(id).filter(|p| p.active)?;
        Some(Caller {
            id,
            superuser: p.superuser(),
        })
    }

    fn route(&mut self, req: &FakeRequest) -> FakeResponse {
        let segs = req.segs();
        let ["api", prefix, rest @ ..] = segs.as_slice() else {
            return not_found();
        };
        if *prefix == "session" {
            return self.session_route(req, rest);
        }
        if !AUTH_PREFIXES.contains(prefix) {
            return no_endpoint();
        }
        let Some(caller) = self.caller(req) else {
            return unauthenticated();
        };
        match *prefix {
            "user" => self.user_route(caller, req, rest),
            "api-key" => self.key_route(caller, req, rest),
            "login-history" => match (&req.method, rest) {
                (&Method::GET, ["current"]) => self.login_history(caller),
                _ => no_endpoint(),
            },
            "user-key-value" => self.value_route(caller, req, rest),
            _ => no_endpoint(),
        }
    }

    // -- /api/session -----------------------------------------------------------------------

    fn session_route(&mut self, req: &FakeRequest, rest: &[&str]) -> FakeResponse {
        match (&req.method, rest) {
            (&Method::POST, []) => self.login(req),
            (&Method::DELETE, []) => {
                let Some(session) = session_named(req) else {
                    return not_found();
                };
                match self.sessions.remove(session) {
                    Some(_) => cleared_cookies(FakeResponse::empty(204)),
                    None => not_found(),
                }
            }
            (&Method::POST, ["password-check"]) => {
                let Some(body) = body_map(req) else {
                    return invalid_request();
                };
                let mut p = Problems::default();
                p.password(&body, "password");
                p.response()
                    .unwrap_or_else(|| FakeResponse::json(200, &json!({"valid": true})))
            }
            (&Method::POST, ["forgot_password"]) => self.forgot_password(req),
            (&Method::GET, ["password_reset_token_valid"]) => {
                let token = req.query("token");
                let mut p = Problems::default();
                let mut params = Map::new();
                if let Some(t) = token {
                    params.insert("token".into(), json!(t));
                }
                let token = p.non_blank(&params, "token", true, false);
                if let Some(bad) = p.response() {
                    return bad;
                }
                let valid = token.is_some_and(|t| self.reset_user(&t).is_some());
                FakeResponse::json(200, &json!({"valid": valid}))
            }
            (&Method::POST, ["reset_password"]) => self.reset_password(req),
            _ => no_endpoint(),
        }
    }

    fn login(&mut self, req: &FakeRequest) -> FakeResponse {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let username = p.non_blank(&body, "username", true, false);
        let password = p.non_blank(&body, "password", true, false);
        if let Some(bad) = p.response() {
            return bad;
        }
        let (Some(username), Some(password)) = (username, password) else {
            return invalid_request();
        };
        let remember = body.get("remember").and_then(Value::as_bool).unwrap_or(false);
        let found = self
            .people
            .iter()
            .find(|p| p.kind == Kind::Personal && p.email.eq_ignore_ascii_case(&username))
            .map(|p| (p.id, p.password == password, p.active));
        match found {
            Some((_, true, false)) => {
                FakeResponse::json(401, &json!({"errors": {"_error": "Your account is disabled."}}))
            }
            Some((id, true, true)) => self.start_login(id, req, Value::Null, remember),
            _ => FakeResponse::json(
                401,
                &json!({"errors": {"password": "did not match stored password"}}),
            ),
        }
    }

    fn forgot_password(&mut self, req: &FakeRequest) -> FakeResponse {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let email = p.email(&body, "email", true, false);
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(email) = email else {
            return invalid_request();
        };
        // Three requests per email (as sent) within a second; the attempt counts either way.
        let now = Instant::now();
        let attempts = self.forgot_attempts.entry(email.clone()).or_default();
        attempts.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        let throttled = attempts.len() >= 3;
        attempts.push(now);
        if throttled {
            return field_error(
                "email",
                "Too many attempts! You must wait 15 seconds before trying again.",
            );
        }
        let user = self
            .people
            .iter()
            .find(|p| p.kind == Kind::Personal && p.email.eq_ignore_ascii_case(&email))
            .map(|p| p.id);
        if let Some(id) = user {
            let token = format!("{id}_{}", self.uuid());
            if let Some(p) = self.person_mut(id) {
                p.reset = Some(ResetToken {
                    token: token.clone(),
                    issued: now,
                });
            }
            self.last_reset = Some(token);
        }
        FakeResponse::empty(204)
    }

    /// The active user whose live reset token this is.
    fn reset_user(&self, token: &str) -> Option<u64> {
        let (id, _) = token.split_once('_')?;
        let id = id.parse::<u64>().ok()?;
        let p = self.person(id).filter(|p| p.active)?;
        let reset = p.reset.as_ref()?;
        (reset.token == token && reset.issued.elapsed() < RESET_TOKEN_TTL).then_some(id)
    }

    fn reset_password(&mut self, req: &FakeRequest) -> FakeResponse {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let token = p.non_blank(&body, "token", true, false);
        let password = p.password(&body, "password");
        if let Some(bad) = p.response() {
            return bad;
        }
        let (Some(token), Some(password)) = (token, password) else {
            return invalid_request();
        };
        // Ten attempts an hour from one address, counted once the body is valid.
        let now = Instant::now();
        self.reset_attempts
            .retain(|t| now.duration_since(*t) < Duration::from_secs(3600));
        let throttled = self.reset_attempts.len() >= 10;
        self.reset_attempts.push(now);
        if throttled {
            return field_error(
                "password",
                "Too many attempts! You must wait 15 seconds before trying again.",
            );
        }
        let Some(id) = self.reset_user(&token) else {
            return field_error("password", "Invalid reset token");
        };
        if let Some(p) = self.person_mut(id) {
            p.password = password;
            p.reset = None;
        }
        self.sessions.retain(|_, user| *user != id);
        self.start_login(id, req, json!({"success": true}), false)
    }

    // -- /api/user ----------------------------------------------------------------------------

    fn user_route(&mut self, caller: Caller, req: &FakeRequest, rest: &[&str]) -> FakeResponse {
        match (&req.method, rest) {
            (&Method::GET, []) => self.list(caller, req),
            (&Method::POST, []) => self.create(caller, req),
            (&Method::GET, ["current"]) => match self.person(caller.id) {
                Some(p) => FakeResponse::json(200, &p.render(View::Current)),
                None => not_found(),
            },
            (&Method::GET, ["recipients"]) => self.recipients(caller),
            (method, [id, more @ ..]) => {
                let known = matches!(
                    (method, more),
                    (&Method::GET | &Method::PUT | &Method::DELETE, [])
                        | (&Method::PUT, ["password" | "reactivate"])
                        | (&Method::PUT, ["modal", _])
                );
                if !known {
                    return no_endpoint();
                }
                match parse_id(id) {
                    Some(id) => self.one_user_route(caller, method, id, more, req),
                    None => bad_id(id),
                }
            }
            _ => no_endpoint(),
        }
    }

    fn list(&self, caller: Caller, req: &FakeRequest) -> FakeResponse {
        if !caller.superuser {
            return forbidden();
        }
        let mut p = Problems::default();
        let flag = |p: &mut Problems, name: &str| -> Option<bool> {
            match req.query(name) {
                None | Some("") => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(other) => {
                    p.add(
                        name,
                        "nullable value must be a valid boolean string ('true' or 'false').".into(),
                        vec![format!(
                            "value must be a valid boolean string ('true' or 'false')., received: {other:?}"
                        )],
                    );
                    None
                }
            }
        };
        let include_deactivated = flag(&mut p, "include_deactivated");
        let analyst = flag(&mut p, "is_data_analyst");
        let studio = flag(&mut p, "can_access_data_studio");
        let mut ints = Map::new();
        for name in ["group_id", "tenant_id", "limit", "offset"] {
            if let Some(v) = req.query(name) {
                ints.insert(
                    name.into(),
                    v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
                );
            }
        }
        let group = p.positive_int(&ints, "group_id", false, true);
        let tenant = p.positive_int(&ints, "tenant_id", false, true);
        let tenancy = req.query("tenancy");
        if let Some(t) = tenancy
            && !matches!(t, "all" | "internal" | "external")
        {
            p.add(
                "tenancy",
                "nullable enum of :all, :internal, :external".into(),
                vec![format!(
                    "should be either :all, :internal or :external, received: {t:?}"
                )],
            );
        }
        let count = |name: &str| ints.get(name).and_then(Value::as_u64);
        let (limit, offset) = (count("limit"), count("offset"));
        if let Some(bad) = p.response() {
            return bad;
        }
        if req.query("tenancy").is_some() && req.query("tenant_id").is_some() {
            return text(400, "You cannot specify both `tenancy` and `tenant_id`");
        }
        let status = match (include_deactivated, req.query("status")) {
            (Some(true), _) => "all",
            (_, Some(s @ ("deactivated" | "all"))) => s,
            _ => "active",
        };
        let query = req.query("query").map(str::to_lowercase);
        let mut matching: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.kind == Kind::Personal)
            .filter(|p| match status {
                "all" => true,
                "deactivated" => !p.active,
                _ => p.active,
            })
            .filter(|p| {
                query.as_deref().is_none_or(|q| {
                    [
                        Some(p.email.as_str()),
                        p.first_name.as_deref(),
                        p.last_name.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_lowercase().contains(q))
                })
            })
            .filter(|p| group.is_none_or(|g| p.groups.contains(&g)))
            // No user has a tenant here: only internal users exist.
            .filter(|_| tenant.is_none() && tenancy != Some("external"))
            .filter(|p| analyst.is_none_or(|a| p.data_analyst == a))
            .filter(|p| studio.is_none_or(|s| (p.data_analyst || p.superuser()) == s))
            .collect();
        matching.sort_by_key(|p| {
            (
                p.first_name.clone().unwrap_or_default().to_lowercase(),
                p.last_name.clone().unwrap_or_default().to_lowercase(),
                p.id,
            )
        });
        let total = matching.len();
        let paged = limit.is_some() || offset.is_some();
        let (limit, offset) = (limit.unwrap_or(50) as usize, offset.unwrap_or(0) as usize);
        let data: Vec<Value> = if paged {
            matching
                .iter()
                .skip(offset)
                .take(limit)
                .map(|p| p.render(View::List))
                .collect()
        } else {
            matching.iter().map(|p| p.render(View::List)).collect()
        };
        let (limit, offset) = if paged {
            (json!(limit), json!(offset))
        } else {
            (Value::Null, Value::Null)
        };
        FakeResponse::json(
            200,
            &json!({"data": data, "total": total, "limit": limit, "offset": offset}),
        )
    }

    fn recipients(&self, caller: Caller) -> FakeResponse {
        let view = if caller.superuser {
            View::Plain
        } else {
            View::Others
        };
        let mut people: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.active && p.kind == Kind::Personal)
            .collect();
        people.sort_by_key(|p| {
            (
                p.last_name.clone().unwrap_or_default().to_lowercase(),
                p.first_name.clone().unwrap_or_default().to_lowercase(),
            )
        });
        let data: Vec<Value> = people.iter().map(|p| p.render(view)).collect();
        FakeResponse::json(
            200,
            &json!({"data": data, "total": data.len(), "limit": null, "offset": null}),
        )
    }

    /// Refusals for what the fake does not model: tenants and group managers.
    fn unsupported(
        body: &Map<String, Value>,
        memberships: Option<&[(u64, bool)]>,
        creating: bool,
    ) -> Option<FakeResponse> {
        if body.get("tenant_id").is_some_and(|t| !t.is_null()) {
            let message = if creating {
                "Cannot create a Tenant User as Tenants are not enabled for this instance."
            } else {
                "Tenants are not enabled for this instance."
            };
            return Some(field_error("tenant_id", message));
        }
        if body.get("is_group_manager").and_then(Value::as_bool) == Some(true)
            || memberships.is_some_and(|ms| ms.iter().any(|(_, manager)| *manager))
        {
            return Some(field_error(
                "user_group_memberships",
                "Group managers need the advanced-permissions feature, which this instance does not have.",
            ));
        }
        None
    }

    fn create(&mut self, caller: Caller, req: &FakeRequest) -> FakeResponse {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let first = p.non_blank(&body, "first_name", false, true);
        let last = p.non_blank(&body, "last_name", false, true);
        let email = p.email(&body, "email", true, false);
        let memberships = p.memberships(&body, "user_group_memberships");
        p.login_attributes(&body, "login_attributes");
        let source = p.non_blank(&body, "source", false, true);
        p.positive_int(&body, "tenant_id", false, true);
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(email) = email else {
            return invalid_request();
        };
        if !caller.superuser {
            return forbidden();
        }
        if self.email_taken(&email, None) {
            return field_error("email", "Email address already in use.");
        }
        if let Some(refusal) = Self::unsupported(&body, memberships.as_deref(), true) {
            return refusal;
        }
        let mut groups = vec![ALL_USERS_GROUP];
        if let Some(ms) = &memberships {
            if !ms.iter().any(|(g, _)| *g == ALL_USERS_GROUP) {
                return text(
                    400,
                    "You cannot add or remove users to/from the 'All Users' group.",
                );
            }
            if let Some((g, _)) = ms.iter().find(|(g, _)| !group_exists(*g)) {
                return server_error(&format!("no permissions group with id {g}"));
            }
            groups = ms.iter().map(|(g, _)| *g).collect();
        }
        if source.as_deref() == Some("setup") {
            groups.push(ADMIN_GROUP);
        }
        let password = match body.get("password").and_then(Value::as_str) {
            Some(p) if !p.is_empty() => p.to_owned(),
            _ => self.uuid(),
        };
        let id = self.add_person(
            Kind::Personal,
            email.to_lowercase(),
            first,
            last,
            password,
            groups,
        );
        let person = self.person_mut(id).expect("just added");
        person.login_attributes = body
            .get("login_attributes")
            .and_then(Value::as_object)
            .cloned()
            .map(stringify_attributes);
        FakeResponse::json(200, &person.render(View::Written))
    }

    fn update(&mut self, caller: Caller, id: u64, req: &FakeRequest) -> FakeResponse {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let email = p.email(&body, "email", false, true);
        p.non_blank(&body, "first_name", false, true);
        p.non_blank(&body, "last_name", false, true);
        let memberships = p.memberships(&body, "user_group_memberships");
        let is_superuser = p.boolean(&body, "is_superuser");
        p.boolean(&body, "is_group_manager");
        let analyst = p.boolean(&body, "is_data_analyst");
        p.login_attributes(&body, "login_attributes");
        p.positive_int(&body, "tenant_id", false, true);
        if let Some(Value::String(l)) = body.get("locale")
            && !locale_ok(l)
        {
            p.add(
                "locale",
                "nullable String must be a valid two-letter ISO language or language-country code e.g. 'en' or 'en_US'.".into(),
                vec![format!(
                    "String must be a valid two-letter ISO language or language-country code e.g. 'en' or 'en_US'., received: {l:?}"
                )],
            );
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        if !caller.superuser && caller.id != id {
            return forbidden();
        }
        let Some(before) = self.person(id).filter(|p| p.active).cloned() else {
            return not_found();
        };
        if let Some(email) = &email
            && self.email_taken(email, Some(id))
        {
            return field_error("email", "Email address already associated to another user.");
        }
        if caller.superuser
            && let Some(refusal) = Self::unsupported(&body, memberships.as_deref(), false)
        {
            return refusal;
        }
        // Work out the groups before changing anything, so that a refusal changes nothing.
        let mut groups = before.groups.clone();
        if caller.superuser
            && let Some(admin) = is_superuser
        {
            groups.retain(|g| *g != ADMIN_GROUP);
            if admin {
                groups.push(ADMIN_GROUP);
            }
        }
        if let Some(ms) = &memberships {
            if let Some(admin) = is_superuser
                && admin != ms.iter().any(|(g, _)| *g == ADMIN_GROUP)
            {
                return field_error(
                    "is_superuser",
                    "Value of is_superuser must correspond to presence of Admin group ID in group_ids.",
                );
            }
            let mut wanted: Vec<u64> = ms.iter().map(|(g, _)| *g).collect();
            wanted.sort_unstable();
            wanted.dedup();
            if wanted != before.groups {
                if !caller.superuser {
                    return forbidden();
                }
                if !wanted.contains(&ALL_USERS_GROUP) {
                    return text(
                        400,
                        "You cannot add or remove users to/from the 'All Users' group.",
                    );
                }
                if let Some(g) = wanted.iter().find(|g| !group_exists(**g)) {
                    return server_error(&format!("no permissions group with id {g}"));
                }
                groups = wanted;
            }
        }
        if before.superuser() && !groups.contains(&ADMIN_GROUP) && self.active_admins() <= 1 {
            return last_admin();
        }
        let person = self.person_mut(id).expect("checked above");
        for (key, slot) in [
            ("first_name", &mut person.first_name),
            ("last_name", &mut person.last_name),
        ] {
            if let Some(v) = body.get(key) {
                *slot = v.as_str().map(str::to_owned);
            }
        }
        if let Some(email) = email {
            person.email = email.to_lowercase();
        }
        if let Some(v) = body.get("locale") {
            person.locale = v.as_str().map(|l| l.replace('-', "_"));
        }
        if caller.superuser {
            if let Some(v) = body.get("login_attributes") {
                person.login_attributes = v.as_object().cloned().map(stringify_attributes);
            }
            if let Some(a) = analyst {
                person.data_analyst = a;
            }
        }
        person.set_groups(groups);
        person.updated_at = now_iso();
        FakeResponse::json(200, &person.render(View::Written))
    }

    fn password(&mut self, caller: Caller, id: u64, req: &FakeRequest) -> FakeResponse {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let new = p.password(&body, "password");
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(new) = new else {
            return invalid_request();
        };
        let own = caller.id == id;
        if !caller.superuser && !own {
            return forbidden();
        }
        let Some(person) = self.person_mut(id).filter(|p| p.active) else {
            return not_found();
        };
        if !caller.superuser
            && body.get("old_password").and_then(Value::as_str) != Some(person.password.as_str())
        {
            return field_error("old_password", "Invalid password");
        }
        person.password = new;
        // The password hash changed: every session of the user ends.
        self.sessions.retain(|_, user| *user != id);
        if own {
            self.start_login(id, req, json!({"success": true}), false)
        } else {
            FakeResponse::empty(204)
        }
    }

    fn one_user_route(
        &mut self,
        caller: Caller,
        method: &Method,
        id: u64,
        rest: &[&str],
        req: &FakeRequest,
    ) -> FakeResponse {
        match (method, rest) {
            (&Method::GET, []) => {
                if !caller.superuser && caller.id != id {
                    return forbidden();
                }
                match self.person(id) {
                    Some(p) => FakeResponse::json(200, &p.render(View::One)),
                    None => not_found(),
                }
            }
            (&Method::PUT, []) => self.update(caller, id, req),
            (&Method::PUT, ["password"]) => self.password(caller, id, req),
            (&Method::PUT, ["reactivate"]) => {
                if !caller.superuser {
                    return forbidden();
                }
                match self.person_mut(id) {
                    None => not_found(),
                    Some(p) if p.active => FakeResponse::json(
                        400,
                        &json!({"message": "Not able to reactivate an active user", "via": [], "trace": []}),
                    ),
                    Some(p) => {
                        p.active = true;
                        p.groups.retain(|g| *g != ADMIN_GROUP);
                        FakeResponse::json(200, &p.render(View::Plain))
                    }
                }
            }
            (&Method::DELETE, []) => {
                if !caller.superuser {
                    return forbidden();
                }
                let admins = self.active_admins();
                match self.person_mut(id) {
                    None => not_found(),
                    Some(p) if p.active && p.superuser() && p.kind == Kind::Personal && admins <= 1 => {
                        last_admin()
                    }
                    Some(p) => {
                        p.active = false;
                        self.sessions.retain(|_, user| *user != id);
                        FakeResponse::json(200, &json!({"success": true}))
                    }
                }
            }
            (&Method::PUT, ["modal", modal]) => {
                if !caller.superuser && caller.id != id {
                    return forbidden();
                }
                let Some(p) = self.person_mut(id) else {
                    return not_found();
                };
                match *modal {
                    "qbnewb" => p.qbnewb = false,
                    "datasetnewb" => p.datasetnewb = false,
                    _ => return not_found(),
                }
                FakeResponse::json(200, &json!({"success": true}))
            }
            _ => no_endpoint(),
        }
    }

    // -- /api/login-history -------------------------------------------------------------------

    fn login_history(&self, caller: Caller) -> FakeResponse {
        let rows: Vec<Value> = self
            .logins
            .iter()
            .rev()
            .filter(|row| row.user == caller.id)
            .map(|row| {
                let active = row
                    .session
                    .as_ref()
                    .is_some_and(|s| self.sessions.contains_key(s));
                json!({
                    "timestamp": row.timestamp, "device_description": row.device,
                    "ip_address": row.ip, "active": active,
                    "location": "Unknown location", "timezone": null,
                })
            })
            .collect();
        FakeResponse::json(200, &rows)
    }

    // -- /api/api-key -------------------------------------------------------------------------

    /// Creates a key and its user; `key` is the seeded key, or `None` for a new one.
    fn create_key(
        &mut self,
        name: &str,
        group: u64,
        by: u64,
        key: Option<String>,
    ) -> std::result::Result<u64, ()> {
        let key = key.unwrap_or_else(|| self.new_key());
        if self.keys.iter().any(|k| k.key[..7] == key[..7]) {
            return Err(());
        }
        let email = format!("api-key-user-{}@api-key.invalid", self.uuid());
        let password = self.uuid();
        let user = self.add_person(
            Kind::ApiKey,
            email,
            Some(name.to_owned()),
            Some(String::new()),
            password,
            vec![ALL_USERS_GROUP, group],
        );
        if let Some(p) = self.person_mut(user) {
            p.qbnewb = false;
        }
        let id = self.next_key_id;
        self.next_key_id += 1;
        let now = now_iso();
        self.keys.push(KeyRecord {
            id,
            name: name.to_owned(),
            user,
            key,
            created_at: now.clone(),
            updated_at: now,
            updated_by: by,
        });
        Ok(id)
    }

    fn present_key(&self, k: &KeyRecord) -> Value {
        let group = self
            .person(k.user)
            .and_then(|p| p.groups.iter().copied().find(|g| *g != ALL_USERS_GROUP))
            .unwrap_or(ALL_USERS_GROUP);
        let by = self.person(k.updated_by).map(Person::common_name);
        let masked = format!("{:*<47}", &k.key[..7]);
        json!({
            "id": k.id, "name": k.name, "group": {"id": group, "name": group_name(group)},
            "masked_key": masked, "created_at": k.created_at, "updated_at": k.updated_at,
            "updated_by": {"id": k.updated_by, "common_name": by},
        })
    }

    fn key_route(&mut self, caller: Caller, req: &FakeRequest, rest: &[&str]) -> FakeResponse {
        let known = matches!(
            (&req.method, rest),
            (&Method::GET, [] | ["count"])
                | (&Method::POST, [])
                | (&Method::PUT, [_] | [_, "regenerate"])
                | (&Method::DELETE, [_])
        );
        if !known {
            return no_endpoint();
        }
        let id = match rest.first().filter(|s| **s != "count") {
            Some(raw) => match parse_id(raw) {
                Some(id) => Some(id),
                None => return bad_id(raw),
            },
            None => None,
        };
        let body = if req.method == Method::POST || (req.method == Method::PUT && rest.len() == 1) {
            let Some(body) = body_map(req) else {
                return invalid_request();
            };
            let mut p = Problems::default();
            if req.method == Method::POST {
                p.non_blank(&body, "name", true, false);
                p.positive_int(&body, "group_id", true, false);
            } else {
                match body.get("name") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(n)) if (1..=254).contains(&n.chars().count()) => {}
                    Some(v) => p.add(
                        "name",
                        "nullable string with length between 1 and 254 inclusive".into(),
                        vec![format!(
                            "should be between 1 and 254 characters, received: {}",
                            received(v)
                        )],
                    ),
                }
                p.positive_int(&body, "group_id", false, true);
            }
            if let Some(bad) = p.response() {
                return bad;
            }
            body
        } else {
            Map::new()
        };
        if !caller.superuser {
            return forbidden();
        }
        let name = body.get("name").and_then(Value::as_str).map(str::to_owned);
        let group = body.get("group_id").and_then(Value::as_u64);
        match (&req.method, id) {
            (&Method::GET, None) if rest.is_empty() => {
                let keys: Vec<Value> = self.keys.iter().map(|k| self.present_key(k)).collect();
                FakeResponse::json(200, &keys)
            }
            (&Method::GET, None) => FakeResponse::json(200, &json!(self.keys.len())),
            (&Method::POST, None) => {
                let (Some(name), Some(group)) = (name, group) else {
                    return invalid_request();
                };
                if self.keys.iter().any(|k| k.name == name) {
                    return field_error("name", "An API key with this name already exists.");
                }
                if !group_exists(group) {
                    return server_error(&format!("no permissions group with id {group}"));
                }
                let Ok(id) = self.create_key(&name, group, caller.id, None) else {
                    return server_error("could not generate key with unique prefix");
                };
                let record = self.keys.iter().find(|k| k.id == id).expect("just added");
                let mut out = self.present_key(record);
                out["unmasked_key"] = json!(record.key);
                FakeResponse::json(200, &out)
            }
            (&Method::PUT, Some(id)) if rest.len() == 1 => {
                let Some(at) = self.keys.iter().position(|k| k.id == id) else {
                    return not_found();
                };
                if let Some(g) = group
                    && !group_exists(g)
                {
                    return server_error(&format!("no permissions group with id {g}"));
                }
                let user = self.keys[at].user;
                if let Some(name) = &name {
                    self.keys[at].name = name.clone();
                }
                if let Some(p) = self.person_mut(user) {
                    if let Some(name) = &name {
                        p.first_name = Some(name.clone());
                        p.last_name = Some(String::new());
                    }
                    if let Some(g) = group {
                        p.set_groups([ALL_USERS_GROUP, g]);
                    }
                }
                if group.is_some() {
                    self.keys[at].updated_at = now_iso();
                }
                FakeResponse::json(200, &self.present_key(&self.keys[at]))
            }
            (&Method::PUT, Some(id)) => {
                let Some(at) = self.keys.iter().position(|k| k.id == id) else {
                    return not_found();
                };
                let key = loop {
                    let key = self.new_key();
                    if !self.keys.iter().any(|k| k.key[..7] == key[..7]) {
                        break key;
                    }
                };
                let record = &mut self.keys[at];
                record.key = key;
                record.updated_by = caller.id;
                record.updated_at = now_iso();
                let masked = format!("{:*<47}", &record.key[..7]);
                FakeResponse::json(
                    200,
                    &json!({"id": record.id, "unmasked_key": record.key, "masked_key": masked, "prefix": &record.key[..7]}),
                )
            }
            (&Method::DELETE, Some(id)) => {
                let Some(at) = self.keys.iter().position(|k| k.id == id) else {
                    return not_found();
                };
                let record = self.keys.remove(at);
                if let Some(p) = self.person_mut(record.user) {
                    p.active = false;
                }
                FakeResponse::empty(204)
            }
            _ => no_endpoint(),
        }
    }

    // -- /api/user-key-value ------------------------------------------------------------------

    fn value_route(&mut self, caller: Caller, req: &FakeRequest, rest: &[&str]) -> FakeResponse {
        let (namespace, key) = match rest {
            ["namespace", ns, "key", key] => (*ns, Some(*key)),
            ["namespace", ns] if req.method == Method::GET => (*ns, None),
            _ => return no_endpoint(),
        };
        if !matches!(
            (&req.method, key),
            (&Method::GET, _) | (&Method::PUT | &Method::DELETE, Some(_))
        ) {
            return no_endpoint();
        }
        let mut params = Map::new();
        params.insert("namespace".into(), json!(namespace));
        if let Some(k) = key {
            params.insert("key".into(), json!(k));
        }
        let mut p = Problems::default();
        p.non_blank(&params, "namespace", true, false);
        if key.is_some() {
            p.non_blank(&params, "key", true, false);
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        let now = epoch_now().as_secs() as i64;
        let live = |s: &Stored| s.expires.is_none_or(|at| at > now);
        let slot = |k: &str| (caller.id, namespace.to_owned(), k.to_owned());
        match (&req.method, key) {
            (&Method::PUT, Some(key)) => {
                let Some(body) = body_map(req) else {
                    return invalid_request();
                };
                let expires = match body.get("expires_at") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => match parse_expiry(s) {
                        Expiry::At(at) => Some(at),
                        Expiry::NoOffset => return invalid_request(),
                        Expiry::Malformed => {
                            let mut p = Problems::default();
                            p.add(
                                "expires_at",
                                "nullable date-time string".into(),
                                vec![format!("should be a date-time string, received: {s:?}")],
                            );
                            return p.response().expect("one problem");
                        }
                    },
                    Some(v) => {
                        let mut p = Problems::default();
                        p.add(
                            "expires_at",
                            "nullable date-time string".into(),
                            vec![format!("should be a string, received: {}", received(v))],
                        );
                        return p.response().expect("one problem");
                    }
                };
                let value = body.get("value").cloned().unwrap_or(Value::Null);
                if namespace_accepts(namespace, &value) != Some(true) {
                    return invalid_request();
                }
                let encoded = value.to_string();
                self.values.insert(slot(key), Stored { value, expires });
                text(200, &encoded)
            }
            (&Method::GET, Some(key)) => match self.values.get(&slot(key)).filter(|s| live(s)) {
                Some(Stored {
                    value: Value::String(s),
                    ..
                }) => text(200, s),
                Some(Stored { value, .. }) if !value.is_null() => FakeResponse::json(200, value),
                _ => FakeResponse::empty(204),
            },
            (&Method::GET, None) => {
                let all: Map<String, Value> = self
                    .values
                    .iter()
                    .filter(|((user, ns, _), s)| *user == caller.id && ns == namespace && live(s))
                    .map(|((_, _, k), s)| (k.clone(), s.value.clone()))
                    .collect();
                if all.is_empty() {
                    FakeResponse::empty(204)
                } else {
                    FakeResponse::json(200, &all)
                }
            }
            (&Method::DELETE, Some(key)) => {
                let deleted = u64::from(self.values.remove(&slot(key)).is_some());
                FakeResponse::json(200, &json!(deleted))
            }
            _ => no_endpoint(),
        }
    }
}

/// Whether a namespace's schema takes `value`; `None` for a namespace with no schema.
fn namespace_accepts(namespace: &str, value: &Value) -> Option<bool> {
    let one_of = |options: &[&str]| value.as_str().is_some_and(|s| options.contains(&s));
    Some(match namespace {
        "calendar" => one_of(&["gregory", "persian"]),
        "transforms" => one_of(&["tree", "alphabetical", "last-modified"]),
        "data_studio" | "monitor" | "user_acknowledgement" => value.is_boolean(),
        "model-filter" => value.is_boolean() || value.is_null(),
        "indicator-menu" => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        "last_download_format" => value.as_object().is_some_and(|m| {
            let formats = |k: &str, allowed: &[&str]| {
                m.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|f| allowed.contains(&f))
            };
            m.len() == 2
                && formats("last_download_format", &["csv", "xlsx", "json", "png"])
                && formats("last_table_download_format", &["csv", "xlsx", "json"])
        }),
        "schema_viewer" => value.as_object().is_some_and(|m| {
            let tables = m.len() <= 1
                && m.get("table_ids")
                    .is_none_or(|t| t.as_array().is_some_and(|ids| ids.iter().all(Value::is_u64)));
            let database = m.get("databaseId").is_some_and(Value::is_u64)
                && m.get("schema").is_none_or(Value::is_string)
                && m.keys().all(|k| k == "databaseId" || k == "schema");
            tables && m.keys().all(|k| k == "table_ids") || database
        }),
        "content_diagnostics" | "dependency_diagnostics" | "dependency_list" => value.is_object(),
        _ => return None,
    })
}

impl Handler for State {
    /// Metabase's errors: an exception's JSON (`message`, `via`, `trace`) for a server error,
    /// plain text otherwise.
    fn error_response(&self, status: StatusCode, message: &str) -> FakeResponse {
        if status.is_server_error() {
            FakeResponse {
                status,
                ..server_error(message)
            }
        } else {
            text(status.as_u16(), message)
        }
    }

    fn handle(&self, req: FakeRequest) -> FakeResponse {
        self.lock().route(&req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_real_shape() {
        let mut inst = Instance {
            people: Vec::new(),
            sessions: HashMap::new(),
            keys: Vec::new(),
            next_key_id: 1,
            logins: Vec::new(),
            values: BTreeMap::new(),
            last_reset: None,
            forgot_attempts: HashMap::new(),
            reset_attempts: Vec::new(),
            random: RandomState::new(),
            counter: 0,
        };
        let key = inst.new_key();
        assert_eq!(key.len(), 47, "{key}");
        assert!(key.starts_with("mb_") && key.ends_with('='), "{key}");
        assert!(uuid_shaped(&inst.uuid()));
        assert_ne!(inst.new_key(), key);
    }

    #[test]
    fn expiry_readings() {
        assert!(matches!(
            parse_expiry("2014-01-01T00:00:00Z"),
            Expiry::At(1_388_534_400)
        ));
        assert!(matches!(
            parse_expiry("2014-01-01T01:00+01:00"),
            Expiry::At(1_388_534_400)
        ));
        assert!(matches!(
            parse_expiry("2014-01-01T00:00:00.123456Z"),
            Expiry::At(1_388_534_400)
        ));
        assert!(matches!(parse_expiry("2014-01-01T00:00:00"), Expiry::NoOffset));
        assert!(matches!(parse_expiry("yesterday"), Expiry::Malformed));
        assert!(matches!(parse_expiry("2014-13-01T00:00Z"), Expiry::Malformed));
    }

    #[test]
    fn now_is_iso() {
        let now = now_iso();
        assert!(now.len() == 24 && now.ends_with('Z'), "{now}");
        assert!(matches!(parse_expiry(&now), Expiry::At(_)));
        assert_eq!(days_to_civil(civil_to_days(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn agents_are_described() {
        assert_eq!(
            describe_agent(Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
            )),
            "Browser (Chrome/Windows)"
        );
        assert_eq!(describe_agent(Some("userapi/0.1.0")), "Library (userapi/Unknown)");
    }
}
