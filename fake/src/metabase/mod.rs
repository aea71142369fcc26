//! A stateful Metabase on loopback, for tests and examples.
//!
//! It behaves as an open-source Metabase does where a client can see it:
//! - credentials: sessions as `X-Metabase-Session` or the `metabase.SESSION` cookie (set by
//!   every call that starts a session, cleared by logout), API keys as `X-API-Key`; under an
//!   authenticated prefix (`/api/user`, `/api/api-key`, …) credentials are checked before the
//!   route, so bad credentials give 401 `Unauthenticated` even for a path that does not exist;
//! - a superuser ([`ADMIN_ID`]), ordinary users ([`USER_ID`], [`OTHER_USER_ID`]), a deactivated
//!   user ([`DEACTIVATED_USER_ID`]), and an API key in the
//!   Administrators group ([`API_KEY`], id [`API_KEY_ID`]) whose own user (5) answers
//!   `GET /api/user/current`; keys' users are never listed;
//! - 403 `You don't have permissions to do that.` where the real server refuses (after the
//!   query's schema: a malformed `GET /api/user` query is 400 for anyone); the `status`,
//!   `query`, `group_id`, `tenancy`, `tenant_id`, `is_data_analyst` and
//!   `can_access_data_studio` filters and `limit`/`offset` paging with `total`; a `limit` or
//!   `offset` that does not parse is ignored, or before 0.50 a 400 on any route, as the
//!   server's paging middleware answers;
//! - updates that apply every field they accept (names, email, locale, groups,
//!   `is_superuser`, `is_data_analyst`, login attributes); case-insensitive email uniqueness;
//! - the default password rules (6+ characters counted in UTF-16 units, a decimal digit of
//!   any script, not one of the 12,692 common passwords Metabase bundles, derived from
//!   Dropbox's zxcvbn list: see `common_passwords.NOTICE`), the
//!   old-password check, a new session (and the old ones ended) on one's own password change,
//!   204 on someone else's; 400 reactivating an active user or deactivating the last admin;
//! - API keys (create, list, count, rename or move, regenerate: the old key stops working,
//!   delete: its user is deactivated); the login history; the per-user key-value store with
//!   its namespaces' schemas; password resets (tokens, 48 hours, once, throttling);
//! - validation errors `{"errors", "specific-errors"}` worded as Metabase words them, and
//!   plain-text bodies where the real server sends text.
//!
//! - permission groups and memberships (`/api/permissions`) with the special groups' rules
//!   (All Users and Administrators cannot be renamed, deleted or cleared; nobody joins or
//!   leaves All Users; Administrators membership is superuser status; the last active admin
//!   stays), `/api/session/properties`, login throttling (10 per user name, 50 per address).
//!
//! It emulates one release and edition, chosen when it is built ([`FakeMetabaseBuilder`]):
//! open source 0.58.7 by default. Open source drops group-manager flags silently (200);
//! Enterprise applies them, shows them on `user_group_memberships`, and lets group managers
//! read users and list the members of their groups. From 0.59 the fake has the Data Analysts
//! group (id 4): `is_data_analyst` is membership of it, and its members may list users. It has no tenants: a tenant on create is refused as Metabase
//! refuses it, and on update fails as the database would (500).
//!
//! It never emails: [`FakeMetabase::last_reset_token`](MetabaseService::last_reset_token) reads the token a reset email would
//! carry.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi_fake::metabase::{ADMIN_EMAIL, ADMIN_PASSWORD, FakeMetabase};
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
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use url::Url;
use userapi::reqwest::header::{HeaderValue, SET_COOKIE};
use userapi::reqwest::{Method, StatusCode};

use crate::error::Error;
use crate::server::{Banner, Fake, Request, Response, Service};
use userapi::auth::{ApiKey, Password, SessionId};
use userapi::metabase::{ApiKeyId, GroupId, IssuedApiKey, Metabase, NewApiKey, NewUser, User, UserId};
use userapi::{Auth, Client};

use crate::util::{civil_to_days, epoch_now, now_iso};

mod render;
mod routes;
mod state;
mod validation;

use render::*;
use state::*;
use validation::*;

/// The superuser (Crowberto Corv).
pub const ADMIN_ID: UserId = UserId::new(1).unwrap();
/// An ordinary user (Rasta Toucan, [`USER_EMAIL`]).
pub const USER_ID: UserId = UserId::new(2).unwrap();
/// Another ordinary user (Lucky Pigeon, `lucky@metabase.com`).
pub const OTHER_USER_ID: UserId = UserId::new(3).unwrap();
/// A deactivated user (Trash Bird, `trashbird@metabase.com`).
pub const DEACTIVATED_USER_ID: UserId = UserId::new(4).unwrap();
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
pub const API_KEY_ID: ApiKeyId = ApiKeyId::new(1).unwrap();
/// The seeded API key's name (and its user's `common_name`).
pub const API_KEY_NAME: &str = "Fake admin key";
/// The All Users group.
pub const ALL_USERS_GROUP: GroupId = GroupId::new(1).unwrap();
/// The Administrators group.
pub const ADMIN_GROUP: GroupId = GroupId::new(2).unwrap();
/// An ordinary group, "Analysts".
pub const ANALYSTS_GROUP: GroupId = GroupId::new(3).unwrap();

/// The groups as the fake's state keeps them: plain numbers.
const ALL_USERS: u64 = ALL_USERS_GROUP.get();
const ADMINS: u64 = ADMIN_GROUP.get();
const ANALYSTS: u64 = ANALYSTS_GROUP.get();

/// The Metabase service the fake plays: its state and its helpers (the [`Fake`] derefs to it).
#[derive(Debug)]
pub struct MetabaseService {
    state: State,
}

/// A running fake Metabase: [`Fake`] serving [`MetabaseService`], whose helpers it derefs to.
pub type FakeMetabase = Fake<MetabaseService>;

type State = crate::server::State<Instance>;

/// The edition the fake emulates: open source (the default) or Pro/Enterprise with a token
/// whose features are all on (`advanced_permissions` among them: group managers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Edition {
    /// Open-source Metabase (`v0.…` tags, every token feature off).
    #[default]
    OpenSource,
    /// Pro/Enterprise (`v1.…` tags) with every token feature on.
    Enterprise,
}

/// The release the fake emulates unless told otherwise: 0.58.7 (see [`FakeMetabaseBuilder`]).
pub const DEFAULT_VERSION: (u32, u32) = (58, 7);

/// Where Metabase changed behaviour, the first release (major, point) the fake answers the
/// newer way from. Releases before the `@`-key change refuse such keys with 400; from it
/// they are dropped with 200, and a duplicate email's 400 carries `error_code`.
pub(crate) const AT_KEYS_DROPPED_SINCE: (u32, u32) = (57, 0);
/// `"error_code": "email-already-in-use"` on a duplicate email.
pub(crate) const EMAIL_ERROR_CODE_SINCE: (u32, u32) = (57, 0);
/// A `limit`/`offset` that does not parse is ignored, not a 400 (PR metabase#40821, merged in
/// April 2024: 0.50).
pub(crate) const PAGING_LENIENT_SINCE: (u32, u32) = (50, 0);
/// Data analysts (members of the "Data Analysts" group, which `is_data_analyst` follows) may
/// list users (PR metabase#69033, merged in February 2026; the fake assumes 0.59).
pub(crate) const DATA_ANALYSTS_SINCE: (u32, u32) = (59, 0);
/// `POST /api/user/:id/password-reset-url` (added in March 2026; the first release carrying
/// it is not confirmed: the fake assumes 0.59).
pub(crate) const RESET_URL_SINCE: (u32, u32) = (59, 0);

/// What the fake emulates: set with the [`FakeMetabaseBuilder`] methods.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) edition: Edition,
    /// Major and point release.
    pub(crate) version: (u32, u32),
    /// Login and forgotten-password throttling.
    pub(crate) throttle: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            edition: Edition::OpenSource,
            version: DEFAULT_VERSION,
            throttle: true,
        }
    }
}

impl Config {
    pub(crate) fn enterprise(&self) -> bool {
        self.edition == Edition::Enterprise
    }

    pub(crate) fn since(&self, release: (u32, u32)) -> bool {
        self.version >= release
    }

    /// The tag the server reports: `v0.58.7`, or `v1.58.7` on Enterprise.
    pub(crate) fn tag(&self) -> String {
        let edition = u8::from(self.enterprise());
        format!("v{edition}.{}.{}", self.version.0, self.version.1)
    }
}

/// The builder of a [`FakeMetabase`] ([`FakeMetabase::builder`]) with the Metabase settings:
/// the edition and release it emulates, and login throttling.
///
/// Defaults: open source ([`Edition::OpenSource`]), release 0.58.7 ([`DEFAULT_VERSION`]),
/// throttling on (as the real server: 10 logins per user name and 50 per address an hour).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi::metabase::Version;
/// use userapi_fake::metabase::{Edition, FakeMetabase};
/// let fake = FakeMetabase::builder()
///     .edition(Edition::Enterprise)
///     .version(&Version::new(59, 1))
///     .throttle_logins(false)
///     .start()
///     .await?;
/// let info = fake.api()?.server_info().await?;
/// assert_eq!(info.version.as_ref().unwrap().tag.as_deref(), Some("v1.59.1"));
/// assert_eq!(info.feature("advanced_permissions"), Some(true));
/// # Ok(()) }
/// ```
pub type FakeMetabaseBuilder = crate::FakeBuilder<MetabaseService>;

impl crate::FakeBuilder<MetabaseService> {
    fn configure(self, change: impl Fn(&mut Config) + Send + Sync + 'static) -> Self {
        self.map_service(move |service| {
            let mut config = service.state.lock().config.clone();
            change(&mut config);
            MetabaseService::seeded_with(config)
        })
    }

    /// Emulates this edition (default: open source).
    pub fn edition(self, edition: Edition) -> Self {
        self.configure(move |c| c.edition = edition)
    }

    /// Emulates this release: its major and point numbers count (default: 0.58.7).
    pub fn version(self, version: &userapi::metabase::Version) -> Self {
        let release = (version.major(), version.point());
        self.configure(move |c| c.version = release)
    }

    /// Turns login and forgotten-password throttling on (the default, as the server) or
    /// off, for tests that log in often.
    pub fn throttle_logins(self, on: bool) -> Self {
        self.configure(move |c| c.throttle = on)
    }
}

impl MetabaseService {
    /// The service with its seeded data (see the module docs), emulating the defaults.
    fn new_seeded() -> Self {
        Self::seeded_with(Config::default())
    }

    /// The service with its seeded data, emulating `config`.
    fn seeded_with(config: Config) -> Self {
        let mut trash = person(4, "trashbird@metabase.com", "Trash", "Bird", "Tr4sh-bird", false);
        trash.active = false;
        let mut rasta = person(2, USER_EMAIL, "Rasta", "Toucan", USER_PASSWORD, false);
        rasta.set_groups([ALL_USERS, ANALYSTS]);
        let people = vec![
            person(1, ADMIN_EMAIL, "Crowberto", "Corv", ADMIN_PASSWORD, true),
            rasta,
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
        let mut inst = Instance::empty(config);
        inst.people = people;
        inst.logins = vec![
            seen(1, "2024-03-05T08:00:01.5Z", "Browser (Chrome/Windows)"),
            seen(2, "2024-03-05T08:00:01.5Z", "Mobile Browser (Mobile Safari/iOS)"),
        ];
        inst.create_key(API_KEY_NAME, ADMINS, 1, Some(API_KEY.to_owned()))
            .expect("the fake seeds its API key");
        inst.sync_memberships();
        let state = State::new(inst);
        MetabaseService { state }
    }

    /// Starts a session for the user with this email, as a login would (without writing the
    /// login history).
    ///
    /// # Errors
    /// [`ErrorKind::Seed`](crate::ErrorKind::Seed) when no active user has that email.
    pub fn add_session(&self, email: &str) -> Result<SessionId, Error> {
        let mut inst = self.state.lock();
        let id = inst
            .people
            .iter()
            .find(|p| p.active && p.email.eq_ignore_ascii_case(email))
            .map(|p| p.id)
            .ok_or_else(|| Error::seed(format!("the fake has no active user {email}")))?;
        Ok(SessionId::new(inst.new_session(id)))
    }

    /// Adds a user as `POST /api/user` would, without the checks on the caller: its
    /// memberships (the Administrators group makes a superuser) and its password, if set
    /// (else one nobody knows). Returns the user as the server would answer it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ALL_USERS_GROUP, FakeMetabase};
    /// use userapi::metabase::{GroupMembership, NewUser};
    /// use userapi::Auth;
    /// use userapi::auth::Password;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let groups = vec![GroupMembership::new(ALL_USERS_GROUP), GroupMembership::new(ADMIN_GROUP)];
    /// let ada = fake.add_user(&NewUser::new("ada@example.com").groups(groups).password("Engine-1843"))?;
    /// assert_eq!(ada.is_superuser, Some(true));
    /// fake.api_with(Auth::none())?.login("ada@example.com", &Password::new("Engine-1843")).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Seed`](crate::ErrorKind::Seed) for an email that is empty or taken, or a group the fake does not
    /// have.
    pub fn add_user(&self, user: &NewUser) -> Result<User, Error> {
        let mut inst = self.state.lock();
        if user.email.trim().is_empty() || inst.email_taken(&user.email, None) {
            return Err(Error::seed(format!(
                "the fake cannot add a user with the email {:?}: empty or taken",
                user.email
            )));
        }
        let mut groups = vec![ALL_USERS];
        for m in user.user_group_memberships.iter().flatten() {
            if !inst.group_exists(m.id.get()) {
                return Err(Error::seed(format!("the fake has no group {}", m.id)));
            }
            groups.push(m.id.get());
        }
        if user.source.as_deref() == Some("setup") {
            groups.push(ADMINS);
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
        inst.sync_memberships();
        let person = inst.person_mut(id).expect("just added");
        person.login_attributes = user.login_attributes.clone().map(stringify_attributes);
        let rendered = person.render(View::Written);
        serde_json::from_value(rendered).map_err(|e| Error::seed(format!("the fake's user: {e}")))
    }

    /// Adds an API key as `POST /api/api-key` would, created by user 1. Returns it with the
    /// key itself, as the server would answer it.
    ///
    /// # Errors
    /// [`ErrorKind::Seed`](crate::ErrorKind::Seed) for a blank or taken name, or a group the fake does not have.
    pub fn add_api_key(&self, key: &NewApiKey) -> Result<IssuedApiKey, Error> {
        let mut inst = self.state.lock();
        if key.name.trim().is_empty() || inst.keys.iter().any(|k| k.name == key.name) {
            return Err(Error::seed(format!(
                "the fake cannot add an API key named {:?}: blank or taken",
                key.name
            )));
        }
        if !inst.group_exists(key.group_id.get()) {
            return Err(Error::seed(format!("the fake has no group {}", key.group_id)));
        }
        let id = inst
            .create_key(&key.name, key.group_id.get(), 1, None)
            .map_err(|_| Error::seed("the fake could not add the key"))?;
        inst.sync_memberships();
        let record = inst.keys.iter().find(|k| k.id == id).expect("just added").clone();
        let api_key = serde_json::from_value(inst.present_key(&record))
            .map_err(|e| Error::seed(format!("the fake's API key: {e}")))?;
        Ok(IssuedApiKey::new(
            ApiKey::new(record.key.clone()),
            Some(record.key[..7].to_owned()),
            api_key,
        ))
    }

    /// The last password-reset token the fake issued (what the reset email would carry),
    /// if any, whether or not it is still valid.
    pub fn last_reset_token(&self) -> Option<userapi::auth::ResetToken> {
        self.state
            .lock()
            .last_reset
            .clone()
            .map(userapi::auth::ResetToken::new)
    }

    /// Whether `session` is a live session.
    pub fn session_is_live(&self, session: &SessionId) -> bool {
        self.state.lock().sessions.contains_key(session.expose())
    }

    /// Whether `password` is the current password of user `id`.
    pub fn password_is(&self, id: &UserId, password: &Password) -> bool {
        self.state
            .lock()
            .people
            .iter()
            .any(|p| p.id == id.get() && p.password == password.expose())
    }

    /// Whether user `id` exists and is active.
    pub fn is_active(&self, id: &UserId) -> Option<bool> {
        self.state
            .lock()
            .people
            .iter()
            .find(|p| p.id == id.get())
            .map(|p| p.active)
    }
}

impl State {
    /// Metabase's errors: an exception's JSON (`message`, `via`, `trace`) for a server error,
    /// plain text otherwise.
    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        if status.is_server_error() {
            Response {
                status,
                ..server_error(message)
            }
        } else {
            text(status.as_u16(), message)
        }
    }

    fn handle(&self, req: &Request) -> Response {
        let mut inst = self.lock();
        let response = inst.route(req);
        inst.sync_memberships();
        metabase_content_type(response)
    }
}

/// Content types as Metabase writes them: `application/json;charset=utf-8` for JSON, bare
/// `text/plain` for a string body.
fn metabase_content_type(mut response: Response) -> Response {
    use userapi::reqwest::header::CONTENT_TYPE;
    let sent = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(sent) = sent else {
        return response;
    };
    let metabase = if sent.starts_with("application/json") {
        "application/json;charset=utf-8"
    } else if sent.starts_with("text/plain") {
        "text/plain"
    } else {
        return response;
    };
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(metabase));
    response
}

impl Service for MetabaseService {
    const NAME: &'static str = "metabase";
    const TITLE: &'static str = "Metabase";
    type Api = Metabase;

    /// The seeded users, groups and API key (see the module docs).
    fn seeded() -> Self {
        Self::new_seeded()
    }

    fn handle(&self, request: &Request) -> Response {
        self.state.handle(request)
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        self.state.error_response(status, message)
    }

    /// A fresh session of the superuser (user 1, [`ADMIN_EMAIL`]).
    fn auth(&self) -> Result<Auth, Error> {
        self.add_session(ADMIN_EMAIL)
            .map(userapi::metabase::auth::session)
    }

    fn api(client: Client) -> Metabase {
        Metabase::new(client)
    }

    fn banner(&self, base: &Url) -> Banner {
        let session = self.add_session(ADMIN_EMAIL).map(|s| s.expose().to_owned());
        let session = session.unwrap_or_else(|e| format!("(none: {e})"));
        Banner::new(format!("curl -H 'X-API-Key: {API_KEY}' {base}api/user/current"))
            .credential("API key", API_KEY)
            .credential("header", format!("X-API-Key: {API_KEY}"))
            .credential("session", session.clone())
            .credential("session header", format!("X-Metabase-Session: {session}"))
            .credential("admin", format!("{ADMIN_EMAIL} {ADMIN_PASSWORD}"))
            .credential("user", format!("{USER_EMAIL} {USER_PASSWORD}"))
    }
}

/// What a recording of a Metabase server scrubs besides what every recording does (see
/// [`Secrets`](crate::Secrets)): the session id a login answers (`POST /api/session` ->
/// `id`), the session id a password change or reset answers (`session_id`), an API key as
/// created or regenerated (`unmasked_key`), and the `X-Metabase-Session` header.
pub fn recorded_secrets() -> crate::Secrets {
    crate::Secrets::new()
        .issued_field(userapi::Method::POST, "/api/session", "id")
        .field("session_id")
        .field("unmasked_key")
        .header("x-metabase-session")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_real_shape() {
        let mut inst = Instance::empty(Config::default());
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
        assert_eq!(
            crate::util::days_to_civil(civil_to_days(2024, 2, 29)),
            (2024, 2, 29)
        );
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
