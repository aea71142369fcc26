//! A stateful Metabase on loopback, for tests and examples.
//!
//! Faithful to the facts where a client can see them: sessions (`POST`/`DELETE /api/session`)
//! and an API key; a superuser and ordinary users, with 403 `You don't have permissions to do
//! that.` where the real server refuses; active and deactivated users; the `status`, `query`,
//! `group_id` filters and `limit`/`offset` paging with `total`; case-insensitive email
//! uniqueness; the default password rules (6+ characters, a digit, not a common password);
//! the old-password check; a new session (and the old one ended) on one's own password change,
//! 204 on someone else's; 400 reactivating an active user; 400 deactivating the last admin;
//! and plain-text bodies (`Unauthenticated`, `Not found.`) where the real server sends text.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> userapi::Result<()> {
//! use userapi::metabase::fake::{ADMIN_EMAIL, ADMIN_PASSWORD, FakeMetabase};
//! let fake = FakeMetabase::start().await?;
//! let metabase = fake.unauthenticated()?;
//! metabase.login(ADMIN_EMAIL, &ADMIN_PASSWORD.into()).await?;
//! assert!(metabase.get_me().await?.is_superuser.unwrap_or(false));
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use reqwest::Method;
use serde_json::{Map, Value, json};
use url::Url;

use super::Metabase;
use crate::auth::{Auth, Secret};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::fake::{FakeRequest, FakeResponse, FakeServer, Handler};
use crate::models::email_shaped;

/// The superuser's email (user 1, Crowberto Corv).
pub const ADMIN_EMAIL: &str = "crowberto@metabase.com";
/// The superuser's password.
pub const ADMIN_PASSWORD: &str = "Cr0wberto-pass";
/// An ordinary user's email (user 2, Rasta Toucan).
pub const USER_EMAIL: &str = "rasta@metabase.com";
/// The ordinary user's password.
pub const USER_PASSWORD: &str = "Rasta-t0ucan";
/// An API key with the Administrators group's permissions.
pub const API_KEY: &str = "mb_fakeApiKeyForTests0123456789";
/// The All Users group.
pub const ALL_USERS_GROUP: u64 = 1;
/// The Administrators group.
pub const ADMIN_GROUP: u64 = 2;
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

/// A running fake Metabase. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeMetabase {
    server: FakeServer,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    inner: Mutex<Instance>,
    next_session: AtomicU64,
}

#[derive(Debug, Clone)]
struct Person {
    id: u64,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    password: String,
    active: bool,
    superuser: bool,
    qbnewb: bool,
    datasetnewb: bool,
    groups: Vec<u64>,
    login_attributes: Option<Value>,
    locale: Option<String>,
}

#[derive(Debug)]
struct Instance {
    people: Vec<Person>,
    /// session id → user id
    sessions: HashMap<String, u64>,
}

fn person(id: u64, email: &str, first: &str, last: &str, password: &str, superuser: bool) -> Person {
    let mut groups = vec![ALL_USERS_GROUP];
    if superuser {
        groups.push(ADMIN_GROUP);
    }
    Person {
        id,
        email: email.to_owned(),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        password: password.to_owned(),
        active: true,
        superuser,
        qbnewb: true,
        datasetnewb: true,
        groups,
        login_attributes: None,
        locale: None,
    }
}

impl FakeMetabase {
    /// Starts an instance with a superuser (1), two ordinary users (2, 3) and a deactivated
    /// user (4).
    pub async fn start() -> Result<Self> {
        let mut trash = person(4, "trashbird@metabase.com", "Trash", "Bird", "Tr4sh-bird", false);
        trash.active = false;
        let people = vec![
            person(1, ADMIN_EMAIL, "Crowberto", "Corv", ADMIN_PASSWORD, true),
            person(2, USER_EMAIL, "Rasta", "Toucan", USER_PASSWORD, false),
            person(3, "lucky@metabase.com", "Lucky", "Pigeon", "Lucky-p1geon", false),
            trash,
        ];
        let state = Arc::new(State {
            inner: Mutex::new(Instance {
                people,
                sessions: HashMap::new(),
            }),
            next_session: AtomicU64::new(1),
        });
        let server = FakeServer::serve(state.clone()).await?;
        Ok(FakeMetabase { server, state })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        self.server.url("")
    }

    /// A [`Metabase`] with no credentials: call `login` next.
    pub fn unauthenticated(&self) -> Result<Metabase> {
        self.api(Auth::None)
    }

    /// A [`Metabase`] with a fresh session for the user with this email.
    pub fn session_for(&self, email: &str) -> Result<Metabase> {
        let id = self
            .state
            .lock()
            .people
            .iter()
            .find(|p| p.email == email)
            .map(|p| p.id)
            .ok_or_else(|| Error::config(format!("the fake has no user {email}")))?;
        let session = self.state.new_session(id);
        self.api(Auth::metabase_session(session))
    }

    /// A [`Metabase`] using the superuser's API key.
    pub fn with_api_key(&self) -> Result<Metabase> {
        self.api(Auth::metabase_api_key(API_KEY))
    }

    /// A [`Metabase`] pointed at this fake with any credentials.
    pub fn api(&self, auth: Auth) -> Result<Metabase> {
        Ok(Metabase::new(
            Client::builder().base_url(self.base_url()).auth(auth).build()?,
        ))
    }

    /// Whether `session` is a live session.
    pub fn session_is_live(&self, session: &Secret) -> bool {
        self.state.lock().sessions.contains_key(session.expose())
    }

    /// Whether `password` is the current password of user `id`.
    pub fn password_is(&self, id: u64, password: &str) -> bool {
        self.state
            .lock()
            .people
            .iter()
            .any(|p| p.id == id && p.password == password)
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

fn field_error(field: &str, message: &str) -> FakeResponse {
    FakeResponse::json(400, &json!({"errors": {field: message}}))
}

fn schema_error(field: &str, message: &str, received: &Value) -> FakeResponse {
    FakeResponse::json(
        400,
        &json!({"errors": {field: message}, "specific-errors": {field: [format!("{message}, received: {received}")]}}),
    )
}

fn password_ok(p: &str) -> bool {
    p.chars().count() >= 6
        && p.chars().any(|c| c.is_ascii_digit())
        && !COMMON_PASSWORDS.contains(&p.to_lowercase().as_str())
}

/// Which column set to render.
#[derive(Clone, Copy, PartialEq)]
enum View {
    List,
    One,
    Current,
    Written,
    Reactivated,
    /// What a non-admin sees of others.
    Others,
}

impl Person {
    fn common_name(&self) -> String {
        let name = format!(
            "{} {}",
            self.first_name.as_deref().unwrap_or(""),
            self.last_name.as_deref().unwrap_or("")
        );
        let name = name.trim();
        if name.is_empty() {
            self.email.clone()
        } else {
            name.to_owned()
        }
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
            "date_joined": "2024-03-01T10:15:30.123456Z", "last_login": "2024-03-05T08:00:01.5Z",
            "updated_at": "2024-03-05T08:00:01.5Z", "is_active": self.active, "is_superuser": self.superuser,
            "is_data_analyst": false, "is_qbnewb": self.qbnewb, "tenant_id": null, "sso_source": null,
            "login_attributes": self.login_attributes, "jwt_attributes": null, "locale": self.locale,
        });
        if let Value::Object(extra) = admin_or_self {
            m.extend(extra);
        }
        let memberships: Vec<Value> = self.groups.iter().map(|g| json!({"id": g})).collect();
        match view {
            View::List | View::Current => {
                m.insert("group_ids".into(), json!(self.groups));
                m.insert("personal_collection_id".into(), json!(self.id + 100));
                m.insert("tenant_collection_id".into(), Value::Null);
            }
            View::One => {
                m.insert("user_group_memberships".into(), json!(memberships));
                m.insert("structured_attributes".into(), json!({}));
            }
            View::Written => {
                m.insert("user_group_memberships".into(), json!(memberships));
            }
            View::Reactivated | View::Others => {}
        }
        if view == View::Current {
            let current = json!({
                "attributes": {}, "is_installer": self.id == 1, "has_invited_second_user": true,
                "has_question_and_dashboard": false, "has_model": false, "first_login": "2024-03-01T10:20:00Z",
                "custom_homepage": null, "can_write_any_collection": self.superuser,
                "permissions": {"can_create_queries": true, "can_create_native_queries": self.superuser},
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
    id: Option<u64>,
    superuser: bool,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Instance> {
        crate::fake::lock(&self.inner)
    }

    fn new_session(&self, user: u64) -> String {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        // UUID-shaped, as the real server's.
        let session = format!("8b4f5c2e-1d3a-4e6f-9a7b-{n:012x}");
        self.lock().sessions.insert(session.clone(), user);
        session
    }

    fn caller(&self, req: &FakeRequest) -> Option<Caller> {
        let inst = self.lock();
        if let Some(session) = req.header("x-metabase-session")
            && let Some(id) = inst.sessions.get(session)
        {
            let superuser = inst.people.iter().any(|p| p.id == *id && p.superuser);
            return Some(Caller {
                id: Some(*id),
                superuser,
            });
        }
        if req.header("x-api-key") == Some(API_KEY) {
            return Some(Caller {
                id: None,
                superuser: true,
            });
        }
        None
    }

    fn login(&self, req: &FakeRequest) -> FakeResponse {
        let body: Value = req.json().unwrap_or(Value::Null);
        let username = body
            .get("username")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty());
        let password = body
            .get("password")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty());
        let Some(username) = username else {
            return schema_error("username", "value must be a non-blank string.", &Value::Null);
        };
        let Some(password) = password else {
            return schema_error("password", "value must be a non-blank string.", &Value::Null);
        };
        let found = {
            let inst = self.lock();
            inst.people
                .iter()
                .find(|p| p.email.eq_ignore_ascii_case(username))
                .cloned()
        };
        match found {
            Some(p) if p.password == password && !p.active => {
                FakeResponse::json(401, &json!({"errors": {"_error": "Your account is disabled."}}))
            }
            Some(p) if p.password == password => {
                FakeResponse::json(200, &json!({"id": self.new_session(p.id)}))
            }
            _ => FakeResponse::json(
                401,
                &json!({"errors": {"password": "did not match stored password"}}),
            ),
        }
    }

    fn list(&self, caller: Caller, req: &FakeRequest) -> FakeResponse {
        if !caller.superuser {
            return forbidden();
        }
        let status = match (req.query("include_deactivated"), req.query("status")) {
            (Some("true"), _) => "all",
            (_, Some(s @ ("deactivated" | "all"))) => s,
            _ => "active",
        };
        let query = req.query("query").map(str::to_lowercase);
        let group = req.query("group_id").and_then(|g| g.parse::<u64>().ok());
        let limit = req.query("limit").and_then(|v| v.parse::<usize>().ok());
        let offset = req.query("offset").and_then(|v| v.parse::<usize>().ok());
        let inst = self.lock();
        let mut matching: Vec<&Person> = inst
            .people
            .iter()
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
        let (limit, offset) = (limit.unwrap_or(50), offset.unwrap_or(0));
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

    fn create(&self, caller: Caller, req: &FakeRequest) -> FakeResponse {
        if !caller.superuser {
            return forbidden();
        }
        let body: Value = req.json().unwrap_or(Value::Null);
        let email = body.get("email").and_then(Value::as_str).unwrap_or("");
        if !email_shaped(email) {
            return schema_error("email", "value must be a valid email address.", &body["email"]);
        }
        let mut inst = self.lock();
        if inst.people.iter().any(|p| p.email.eq_ignore_ascii_case(email)) {
            return field_error("email", "Email address already in use.");
        }
        let groups: Vec<u64> = match body.get("user_group_memberships").and_then(Value::as_array) {
            Some(items) => items.iter().filter_map(|m| m["id"].as_u64()).collect(),
            None => vec![ALL_USERS_GROUP],
        };
        if !groups.contains(&ALL_USERS_GROUP) {
            return text(
                400,
                "You cannot add or remove users to/from the 'All Users' group.",
            );
        }
        let id = inst.people.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        let name = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        let person = Person {
            id,
            email: email.to_lowercase(),
            first_name: name("first_name"),
            last_name: name("last_name"),
            password: format!("unset-{id}"),
            active: true,
            superuser: false,
            qbnewb: true,
            datasetnewb: true,
            groups,
            login_attributes: body.get("login_attributes").cloned().filter(|v| !v.is_null()),
            locale: None,
        };
        let out = person.render(View::Written);
        inst.people.push(person);
        FakeResponse::json(200, &out)
    }

    fn update(&self, caller: Caller, id: u64, req: &FakeRequest) -> FakeResponse {
        if !caller.superuser && caller.id != Some(id) {
            return forbidden();
        }
        let Ok(Value::Object(body)) = req.json::<Value>() else {
            return text(400, "Invalid Request.");
        };
        let mut inst = self.lock();
        if let Some(email) = body.get("email").and_then(Value::as_str) {
            if !email_shaped(email) {
                return schema_error(
                    "email",
                    "nullable value must be a valid email address.",
                    &json!(email),
                );
            }
            if inst
                .people
                .iter()
                .any(|p| p.id != id && p.email.eq_ignore_ascii_case(email))
            {
                return field_error("email", "Email address already associated to another user.");
            }
        }
        if let Some(locale) = body.get("locale").and_then(Value::as_str)
            && !(locale.len() == 2 || (locale.len() == 5 && matches!(locale.as_bytes()[2], b'_' | b'-')))
        {
            return field_error(
                "locale",
                "nullable String must be a valid two-letter ISO language or language-country code e.g. 'en' or 'en_US'.",
            );
        }
        let admins = inst.people.iter().filter(|p| p.active && p.superuser).count();
        let Some(person) = inst.people.iter_mut().find(|p| p.id == id && p.active) else {
            return not_found();
        };
        for (key, slot) in [
            ("first_name", &mut person.first_name),
            ("last_name", &mut person.last_name),
        ] {
            if let Some(v) = body.get(key) {
                *slot = v.as_str().map(str::to_owned);
            }
        }
        if let Some(email) = body.get("email").and_then(Value::as_str) {
            person.email = email.to_lowercase();
        }
        if let Some(v) = body.get("locale") {
            person.locale = v.as_str().map(|l| l.replace('-', "_"));
        }
        if caller.superuser {
            if let Some(v) = body.get("is_superuser").and_then(Value::as_bool) {
                if !v && person.superuser && admins <= 1 {
                    return text(400, "You cannot remove the last member of the 'Admin' group!");
                }
                person.superuser = v;
                person.groups.retain(|g| *g != ADMIN_GROUP);
                if v {
                    person.groups.push(ADMIN_GROUP);
                }
            }
            if let Some(v) = body.get("login_attributes") {
                person.login_attributes = Some(v.clone()).filter(|v| !v.is_null());
            }
        }
        FakeResponse::json(200, &person.render(View::Written))
    }

    fn password(&self, caller: Caller, id: u64, req: &FakeRequest) -> FakeResponse {
        let own = caller.id == Some(id);
        if !caller.superuser && !own {
            return forbidden();
        }
        let body: Value = req.json().unwrap_or(Value::Null);
        let new = body.get("password").and_then(Value::as_str).unwrap_or("");
        if !password_ok(new) {
            return schema_error("password", "password is too common.", &json!("<hidden>"));
        }
        let mut inst = self.lock();
        let Some(person) = inst.people.iter_mut().find(|p| p.id == id && p.active) else {
            return not_found();
        };
        if !caller.superuser
            && body.get("old_password").and_then(Value::as_str) != Some(person.password.as_str())
        {
            return field_error("old_password", "Invalid password");
        }
        person.password = new.to_owned();
        // The password hash changed: every session of the user ends.
        inst.sessions.retain(|_, user| *user != id);
        drop(inst);
        if own {
            let session = self.new_session(id);
            FakeResponse::json(200, &json!({"success": true, "session_id": session}))
        } else {
            FakeResponse::empty(204)
        }
    }

    fn user_route(
        &self,
        caller: Caller,
        method: &Method,
        id: u64,
        rest: &[&str],
        req: &FakeRequest,
    ) -> FakeResponse {
        match (method, rest) {
            (&Method::GET, []) => {
                if !caller.superuser && caller.id != Some(id) {
                    return forbidden();
                }
                match self.lock().people.iter().find(|p| p.id == id) {
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
                let mut inst = self.lock();
                match inst.people.iter_mut().find(|p| p.id == id) {
                    None => not_found(),
                    Some(p) if p.active => FakeResponse::json(
                        400,
                        &json!({"message": "Not able to reactivate an active user", "via": [], "trace": []}),
                    ),
                    Some(p) => {
                        p.active = true;
                        p.superuser = false;
                        p.groups.retain(|g| *g != ADMIN_GROUP);
                        FakeResponse::json(200, &p.render(View::Reactivated))
                    }
                }
            }
            (&Method::DELETE, []) => {
                if !caller.superuser {
                    return forbidden();
                }
                let mut inst = self.lock();
                let admins = inst.people.iter().filter(|p| p.active && p.superuser).count();
                match inst.people.iter_mut().find(|p| p.id == id) {
                    None => not_found(),
                    Some(p) if p.active && p.superuser && admins <= 1 => {
                        text(400, "You cannot remove the last member of the 'Admin' group!")
                    }
                    Some(p) => {
                        p.active = false;
                        inst.sessions.retain(|_, user| *user != id);
                        FakeResponse::json(200, &json!({"success": true}))
                    }
                }
            }
            (&Method::PUT, ["modal", modal]) => {
                if !caller.superuser && caller.id != Some(id) {
                    return forbidden();
                }
                let mut inst = self.lock();
                let Some(p) = inst.people.iter_mut().find(|p| p.id == id) else {
                    return not_found();
                };
                match *modal {
                    "qbnewb" => p.qbnewb = false,
                    "datasetnewb" => p.datasetnewb = false,
                    _ => return not_found(),
                }
                FakeResponse::json(200, &json!({"success": true}))
            }
            _ => not_found(),
        }
    }
}

impl Handler for State {
    fn handle(&self, req: FakeRequest) -> FakeResponse {
        let segs = req.segs();
        match (&req.method, segs.as_slice()) {
            (&Method::POST, ["api", "session"]) => return self.login(&req),
            (&Method::DELETE, ["api", "session"]) => {
                let session = req.header("x-metabase-session").unwrap_or("");
                return match self.lock().sessions.remove(session) {
                    Some(_) => FakeResponse::empty(204),
                    None => not_found(),
                };
            }
            (_, ["api", "user", ..]) => {}
            _ => return not_found(),
        }
        let Some(caller) = self.caller(&req) else {
            return unauthenticated();
        };
        match (&req.method, &segs[2..]) {
            (&Method::GET, []) => self.list(caller, &req),
            (&Method::POST, []) => self.create(caller, &req),
            (&Method::GET, ["current"]) => {
                let inst = self.lock();
                match caller.id.and_then(|id| inst.people.iter().find(|p| p.id == id)) {
                    Some(p) => FakeResponse::json(200, &p.render(View::Current)),
                    None => not_found(),
                }
            }
            (&Method::GET, ["recipients"]) => {
                let inst = self.lock();
                let view = if caller.superuser {
                    View::List
                } else {
                    View::Others
                };
                let mut people: Vec<&Person> = inst.people.iter().filter(|p| p.active).collect();
                people.sort_by_key(|p| (p.last_name.clone(), p.first_name.clone()));
                let data: Vec<Value> = people.iter().map(|p| p.render(view)).collect();
                FakeResponse::json(
                    200,
                    &json!({"data": data, "total": data.len(), "limit": null, "offset": null}),
                )
            }
            (method, [id, rest @ ..]) => match id.parse::<u64>() {
                Ok(id) if id > 0 => self.user_route(caller, method, id, rest, &req),
                _ => schema_error("id", "value must be an integer greater than zero.", &json!(id)),
            },
            _ => not_found(),
        }
    }
}
