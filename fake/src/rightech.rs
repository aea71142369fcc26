//! A stateful Rightech IoT Cloud on loopback, for tests and examples.
//!
//! Users live in groups; a caller (found by its bearer token) sees and changes only users of
//! its own group, as the service's list does. What it enforces, with its own checks (not the
//! client's):
//! - logins and emails are unique (case-insensitive), passwords meet the default policy
//!   (8 characters with a lower-case letter, an upper-case letter and a digit), logins have 4
//!   to 40 characters, ids are 24 hexadecimal digits; refusals are 400 or 409 (the real
//!   statuses are not documented) with the service's error body as Rightech's own client
//!   (`lib/api.ts`) reads it: `{"message", "tags"?, "helper"?: {"message"?, "links"?}}`, no
//!   `code` (the official client takes the code from the HTTP status);
//! - there is no search route: `GET /api/v1/users/search` reads `search` as an id and is
//!   refused with 400, as the real service refuses it; search is `GET /api/v1/users?search=`;
//! - create and update answer the whole user with `access`, `owner`, `time` and (after an
//!   update) `_at`, in milliseconds, and `success: true`; the password is never returned;
//! - lists (`/api/v1/users`, `/api/v1/roles`) come in the layout the service was recorded
//!   with: one item per line, each comma on a line of its own; `only` projects them;
//! - `GET /api/v1/roles` lists the caller's group's roles and the shared ones, with `limit`,
//!   `offset`, `search` (name or description) and `only` as for users;
//! - `POST /api/v1/users/tokens` with `{"user": "<id>"}` (or `{}` for the caller) issues a
//!   token that the fake then accepts as `Bearer`;
//! - deleting removes the user from the group (the entity stays; [`FakeRightech::has_user`](RightechService::has_user)).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::rightech::{ListUsers, User};
//! use userapi_fake::rightech::FakeRightech;
//! let fake = FakeRightech::start().await?;
//! let mut user = User::default();
//! user.login = Some("sensor7".into());
//! let added = fake.add_user(user); // in the admin's group, with a new id
//! let users = fake.api()?.list_users(&ListUsers::new()).await?;
//! assert_eq!(users.len(), 3); // admin, colleague, sensor7; the stranger is in another group
//! assert!(users.iter().any(|u| u.id == added.id));
//! # Ok(()) }
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{Map, Value, json};
use url::Url;
use userapi::reqwest::{Method, StatusCode};

use crate::error::Error;
use crate::server::{Banner, Fake, Refused, Request, Response, Service};
use userapi::auth::Token;
use userapi::rightech::{Rightech, Role, User};
use userapi::{Auth, Client};

/// The admin's token, used by [`FakeRightech::api`](Fake::api).
pub const TOKEN: &str = "fake-rightech-admin-token";
/// The admin's id.
pub const ADMIN_ID: &str = "5d8a18d5d0025e0012fb6a34";
/// The id of the other user in the admin's group.
pub const COLLEAGUE_ID: &str = "5d8a18d5d0025e0012fb6a35";
/// The id of a user in another group.
pub const STRANGER_ID: &str = "5d8a18d5d0025e0012fb6a36";
/// The role every seeded user has: `[rightech] signup`, shared by every project.
pub const ROLE_ID: &str = "5cc89f6af79a4969291dcbd7";
/// A role of the admin's group, `Operator`.
pub const OPERATOR_ROLE_ID: &str = "5cc89f6af79a4969291dcbd8";
/// The admin's group, where [`FakeRightech::add_user`](RightechService::add_user) puts users that name none.
pub const GROUP_ID: &str = "5f0000000000000000000001";
const OTHER_GROUP: &str = "5f0000000000000000000002";
const SEED_TIME: i64 = 1_700_000_000_000;

/// The Rightech service the fake plays: its state and its helpers (the [`Fake`] derefs to it).
#[derive(Debug)]
pub struct RightechService {
    state: State,
}

/// A running fake Rightech: [`Fake`] serving [`RightechService`], whose helpers it derefs to.
pub type FakeRightech = Fake<RightechService>;

type State = crate::server::State<Data>;

#[derive(Debug)]
struct Data {
    users: Vec<Value>,
    roles: Vec<Value>,
    /// (token, user id)
    tokens: Vec<(String, String)>,
}

fn seed_user(id: &str, login: &str, name: &str, group: &str) -> Value {
    json!({
        "_id": id, "login": login, "name": name, "email": format!("{login}@example.com"),
        "rights": 1.5, "role": ROLE_ID, "messages": true, "group": group, "owner": ADMIN_ID,
        "access": [id], "time": SEED_TIME
    })
}

fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl RightechService {
    /// The service with its seeded data (see the module docs).
    fn new_seeded() -> Self {
        let users = vec![
            seed_user(ADMIN_ID, "admin", "Admin", GROUP_ID),
            seed_user(COLLEAGUE_ID, "colleague", "Colleague", GROUP_ID),
            seed_user(STRANGER_ID, "stranger", "Stranger", OTHER_GROUP),
        ];
        let roles = vec![
            json!({"_id": "5c5061c11af9ac1100e8d55f", "name": "[rightcar] base role", "time": 1_548_771_777_000i64,
                   "credentials": ["objects.read"]}),
            json!({"_id": ROLE_ID, "name": "[rightech] signup", "time": 1_556_651_882_000i64,
                   "description": "maximum rights to manage entities",
                   "credentials": ["objects.read", "objects.write", "users.read", "users.write", "roles.read"]}),
            json!({"_id": OPERATOR_ROLE_ID, "name": "Operator", "time": 1_556_651_883_000i64,
                   "description": "views objects and sends commands", "group": GROUP_ID, "owner": ADMIN_ID,
                   "credentials": ["objects.read", "objects.command"]}),
        ];
        let state = State::new(Data {
            users,
            roles,
            tokens: vec![(TOKEN.to_owned(), ADMIN_ID.to_owned())],
        });
        RightechService { state }
    }

    /// Adds a user as it is, for tests of your own code. The all-zero id (the default) gets
    /// a new id; no group puts the user in the admin's ([`GROUP_ID`]); no `time` gets now.
    /// No rule is checked. Returns the user as the fake holds it.
    pub fn add_user(&self, user: User) -> User {
        let mut value = serde_json::to_value(&user).unwrap_or_default();
        if user.id.is_zero() {
            value["_id"] = json!(self.state.new_id());
        }
        if user.group.is_none() {
            value["group"] = json!(GROUP_ID);
        }
        if user.time.is_none() {
            value["time"] = json!(now_ms());
        }
        if let Some(map) = value.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        self.state.lock().users.push(value.clone());
        serde_json::from_value(value).unwrap_or(user)
    }

    /// Adds a role as it is. The all-zero id (the default) gets a new id; no `time` gets now.
    /// A role without a group is shared: every caller lists it. Returns the role as held.
    pub fn add_role(&self, role: Role) -> Role {
        let mut value = serde_json::to_value(&role).unwrap_or_default();
        if role.id.is_zero() {
            value["_id"] = json!(self.state.new_id());
        }
        if role.time.is_none() {
            value["time"] = json!(now_ms());
        }
        if let Some(map) = value.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        self.state.lock().roles.push(value.clone());
        serde_json::from_value(value).unwrap_or(role)
    }

    /// A token the fake accepts as the user `id` (seeded, added or created), or `None` for
    /// an unknown id. Use it with [`api_with`](crate::Fake::api_with) to act as that user.
    pub fn token_for(&self, id: &str) -> Option<Token> {
        let mut data = self.state.lock();
        if !data.users.iter().any(|u| u["_id"] == id) {
            return None;
        }
        let token = format!("fake-rightech-token-{}", self.state.new_id());
        data.tokens.push((token.clone(), id.to_owned()));
        Some(Token::new(token))
    }

    /// Whether a user with this id exists in any group (or none).
    pub fn has_user(&self, id: &str) -> bool {
        self.state.lock().users.iter().any(|u| u["_id"] == id)
    }

    /// The group of a user, if it has one.
    pub fn group_of(&self, id: &str) -> Option<String> {
        let data = self.state.lock();
        data.users.iter().find(|u| u["_id"] == id)?["group"]
            .as_str()
            .map(str::to_owned)
    }
}

/// The service's error body: `message`, `tags`, and a `helper` when there is a hint.
fn error(status: u16, message: &str, helper: Option<&str>) -> Response {
    let mut body = json!({"message": message, "tags": ["users"]});
    if let Some(h) = helper {
        body["helper"] = json!({"message": h, "links": ["https://rightech.io/en/developers/http/"]});
    }
    Response::json(status, &body)
}

/// A list in the recorded layout: `[`, one item per line, each comma on its own line, `]`.
fn streamed(items: &[Value]) -> Response {
    let mut body = String::from("[\n");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push_str(",\n");
        }
        body.push_str(&item.to_string());
        body.push('\n');
    }
    body.push_str("]\n");
    let mut response = Response::json(200, &json!([]));
    response.body = Bytes::from(body);
    response
}

/// Keeps only the fields `only=a,b` names.
fn project(items: &mut [Value], only: Option<&str>) {
    let Some(only) = only else { return };
    let keep: Vec<&str> = only.split(',').map(str::trim).collect();
    for item in items {
        if let Some(map) = item.as_object_mut() {
            map.retain(|k, _| keep.contains(&k.as_str()));
        }
    }
}

/// The user as the service returns it: never the password.
fn public(user: &Value) -> Value {
    let mut user = user.clone();
    if let Some(map) = user.as_object_mut() {
        map.remove("password");
    }
    user
}

/// The fake's own reading of an id: 24 hexadecimal digits.
fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The fake's own password rule: the platform's default policy.
fn weak_password(p: &str) -> bool {
    p.chars().count() < 8
        || !p.chars().any(char::is_lowercase)
        || !p.chars().any(char::is_uppercase)
        || !p.chars().any(|c| c.is_ascii_digit())
}

/// Fields a create or an update may set.
const WRITABLE: [&str; 11] = [
    "role",
    "name",
    "email",
    "login",
    "password",
    "phone",
    "description",
    "disabled",
    "webDisabled",
    "temp",
    "messages",
];

impl State {
    fn new_id(&self) -> String {
        format!("6a{:022x}", self.next_number())
    }

    /// The caller's (id, group), or the refusal.
    fn caller(&self, req: &Request) -> Refused<(String, Option<String>)> {
        let data = self.lock();
        let id = req
            .bearer()
            .and_then(|t| data.tokens.iter().find(|(token, _)| token == t))
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                Box::new(error(
                    401,
                    "unauthorized",
                    Some("send a valid API token as Bearer"),
                ))
            })?;
        let group = data
            .users
            .iter()
            .find(|u| u["_id"] == id.as_str())
            .and_then(|u| u["group"].as_str());
        Ok((id.clone(), group.map(str::to_owned)))
    }

    fn conflict(
        data: &Data,
        login: Option<&str>,
        email: Option<&str>,
        except: Option<&str>,
    ) -> Option<Response> {
        let same = |a: &Value, b: Option<&str>| {
            b.is_some_and(|b| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(b)))
        };
        for user in data
            .users
            .iter()
            .filter(|u| except.is_none_or(|id| u["_id"] != id))
        {
            if same(&user["login"], login) {
                return Some(error(409, "login already exists", None));
            }
            if same(&user["email"], email) {
                return Some(error(409, "email already exists", None));
            }
        }
        None
    }

    fn check_rules(body: &Map<String, Value>) -> Option<Response> {
        if let Some(login) = body.get("login").and_then(Value::as_str)
            && !(4..=40).contains(&login.chars().count())
        {
            return Some(error(400, "login must have 4 to 40 characters", None));
        }
        if let Some(password) = body.get("password").and_then(Value::as_str)
            && weak_password(password)
        {
            return Some(error(
                400,
                "password does not meet the password policy",
                Some("at least 8 characters, with lower case, upper case and a digit"),
            ));
        }
        if let Some(role) = body.get("role")
            && !role.as_str().is_some_and(is_object_id)
        {
            return Some(error(400, "role must be an ObjectId", None));
        }
        None
    }

    fn create(&self, me: &str, group: Option<String>, req: &Request) -> Response {
        let Ok(Value::Object(body)) = req.json::<Value>() else {
            return error(400, "invalid JSON", None);
        };
        for field in ["role", "name", "email", "login", "password"] {
            if body.get(field).and_then(Value::as_str).is_none_or(str::is_empty) {
                return error(400, &format!("{field} is required"), None);
            }
        }
        if let Some(refused) = Self::check_rules(&body) {
            return refused;
        }
        let id = self.new_id();
        let mut data = self.lock();
        let (login, email) = (body["login"].as_str(), body["email"].as_str());
        if let Some(refused) = Self::conflict(&data, login, email, None) {
            return refused;
        }
        let mut user: Map<String, Value> = body
            .into_iter()
            .filter(|(k, _)| WRITABLE.contains(&k.as_str()))
            .collect();
        user.insert("_id".into(), json!(id));
        user.insert("access".into(), json!([id]));
        user.insert("rights".into(), json!(1.5));
        user.entry("messages").or_insert(json!(true));
        user.insert("owner".into(), json!(me));
        user.insert("group".into(), json!(group));
        user.insert("time".into(), json!(now_ms()));
        let user = Value::Object(user);
        data.users.push(user.clone());
        let mut out = public(&user);
        out["success"] = json!(true);
        Response::json(200, &out)
    }

    fn update(&self, group: Option<&str>, id: &str, req: &Request) -> Response {
        let Ok(Value::Object(changes)) = req.json::<Value>() else {
            return error(400, "invalid JSON", None);
        };
        if let Some(refused) = Self::check_rules(&changes) {
            return refused;
        }
        let mut data = self.lock();
        let login = changes.get("login").and_then(Value::as_str);
        if let Some(refused) = Self::conflict(&data, login, None, Some(id)) {
            return refused;
        }
        let Some(user) = data
            .users
            .iter_mut()
            .find(|u| u["_id"] == id && u["group"].as_str() == group)
        else {
            return error(404, "user not found", Some("check the id"));
        };
        // Whether `email` can change is not documented; the fake leaves it as it is.
        for (k, v) in changes {
            if WRITABLE.contains(&k.as_str()) && k != "email" {
                user[k.as_str()] = v;
            }
        }
        user["_at"] = json!(now_ms());
        let mut out = public(user);
        out["success"] = json!(true);
        Response::json(200, &out)
    }

    fn issue(&self, caller: &str, group: Option<&str>, req: &Request) -> Response {
        let body: Value = req.json().unwrap_or(json!({}));
        let target = body
            .get("user")
            .and_then(Value::as_str)
            .unwrap_or(caller)
            .to_owned();
        let jti = self.new_id();
        let mut data = self.lock();
        if !data
            .users
            .iter()
            .any(|u| u["_id"] == target.as_str() && u["group"].as_str() == group)
        {
            return error(404, "user not found", None);
        }
        let token = format!("fake-rightech-token-{jti}");
        data.tokens.push((token.clone(), target.clone()));
        Response::json(
            200,
            &json!({"_id": jti, "token": token, "user": target, "success": true}),
        )
    }

    fn list_users(&self, group: Option<&str>, req: &Request) -> Response {
        let num = |k: &str| req.query(k).and_then(|v| v.parse::<usize>().ok());
        let search = req.query("search").map(str::to_lowercase);
        let data = self.lock();
        let mut list: Vec<Value> = data
            .users
            .iter()
            .filter(|u| u["group"].as_str() == group)
            .filter(|u| {
                search.as_deref().is_none_or(|s| {
                    ["name", "login", "email", "phone"]
                        .iter()
                        .any(|k| u[*k].as_str().is_some_and(|v| v.to_lowercase().contains(s)))
                })
            })
            .skip(num("offset").unwrap_or(0))
            .take(num("limit").unwrap_or(usize::MAX))
            .map(public)
            .collect();
        project(&mut list, req.query("only"));
        streamed(&list)
    }

    fn list_roles(&self, group: Option<&str>, req: &Request) -> Response {
        let num = |k: &str| req.query(k).and_then(|v| v.parse::<usize>().ok());
        let search = req.query("search").map(str::to_lowercase);
        let data = self.lock();
        let mut list: Vec<Value> = data
            .roles
            .iter()
            .filter(|r| r["group"].is_null() || r["group"].as_str() == group)
            .filter(|r| {
                search.as_deref().is_none_or(|s| {
                    ["name", "description"]
                        .iter()
                        .any(|k| r[*k].as_str().is_some_and(|v| v.to_lowercase().contains(s)))
                })
            })
            .skip(num("offset").unwrap_or(0))
            .take(num("limit").unwrap_or(usize::MAX))
            .cloned()
            .collect();
        project(&mut list, req.query("only"));
        streamed(&list)
    }
}

impl State {
    /// Rightech's error body: `message` and `tags`.
    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        error(status.as_u16(), message, None)
    }

    fn handle(&self, req: &Request) -> Response {
        let segs = req.segs();
        let (collection, rest) = match segs.as_slice() {
            ["api", "v1", c @ ("users" | "roles"), rest @ ..] => (*c, rest.to_vec()),
            _ => return error(404, "not found", None),
        };
        let (me, group) = match self.caller(req) {
            Ok(c) => c,
            Err(refused) => return *refused,
        };
        let group = group.as_deref();
        match (collection, req.method.clone(), rest.as_slice()) {
            ("roles", Method::GET, []) => self.list_roles(group, req),
            ("roles", _, []) => error(405, "method not allowed", None),
            ("roles", _, _) => error(404, "not found", None),
            (_, Method::GET, []) => self.list_users(group, req),
            (_, Method::POST, []) => self.create(&me, group.map(str::to_owned), req),
            (_, Method::POST, ["tokens"]) => self.issue(&me, group, req),
            // `search` (or any other word) lands here: the real route is `/users/:id`.
            (_, _, [id]) if !is_object_id(id) => error(400, "invalid id", Some("ids are ObjectIds")),
            (_, Method::GET, [id]) => {
                let data = self.lock();
                match data
                    .users
                    .iter()
                    .find(|u| u["_id"] == *id && u["group"].as_str() == group)
                {
                    Some(u) => {
                        let mut out = public(u);
                        out["success"] = json!(true);
                        Response::json(200, &out)
                    }
                    None => error(404, "user not found", Some("check the id")),
                }
            }
            (_, Method::PATCH, [id]) => self.update(group, id, req),
            (_, Method::DELETE, [id]) => {
                let mut data = self.lock();
                match data
                    .users
                    .iter_mut()
                    .find(|u| u["_id"] == *id && u["group"].as_str() == group)
                {
                    Some(u) => {
                        u["group"] = Value::Null;
                        Response::json(200, &json!({"success": true}))
                    }
                    None => error(404, "user not found", Some("check the id")),
                }
            }
            _ => error(405, "method not allowed", None),
        }
    }
}

impl Service for RightechService {
    const NAME: &'static str = "rightech";
    const TITLE: &'static str = "Rightech";
    type Api = Rightech;

    /// The admin ([`ADMIN_ID`], [`TOKEN`]), a colleague, a stranger and their roles.
    fn seeded() -> Self {
        Self::new_seeded()
    }

    fn handle(&self, request: &Request) -> Response {
        self.state.handle(request)
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        self.state.error_response(status, message)
    }

    /// The admin: `Bearer` [`TOKEN`].
    fn auth(&self) -> Result<Auth, Error> {
        Ok(Auth::bearer(TOKEN))
    }

    fn api(client: Client) -> Rightech {
        Rightech::new(client)
    }

    fn banner(&self, base: &Url) -> Banner {
        Banner::new(format!(
            "curl -H 'Authorization: Bearer {TOKEN}' {base}api/v1/users"
        ))
        .credential("token", TOKEN)
        .credential("header", format!("Authorization: Bearer {TOKEN}"))
        .credential("admin id", ADMIN_ID)
    }
}

/// What a recording of a Rightech server scrubs besides what every recording does (see
/// [`Secrets`](crate::Secrets)): the token `POST /api/v1/users/tokens` issues (`token`).
pub fn recorded_secrets() -> crate::Secrets {
    crate::Secrets::new().issued_field(userapi::Method::POST, "/api/v1/users/tokens", "token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_use_the_recorded_layout() {
        let r = streamed(&[json!({"_id": "a"}), json!({"_id": "b"})]);
        assert_eq!(&r.body[..], b"[\n{\"_id\":\"a\"}\n,\n{\"_id\":\"b\"}\n]\n");
        assert_eq!(&streamed(&[]).body[..], b"[\n]\n");
    }

    #[test]
    fn the_fakes_own_rules() {
        assert!(is_object_id(ADMIN_ID) && !is_object_id("search") && !is_object_id(""));
        assert!(weak_password("password") && weak_password("Sh0rt") && !weak_password("Str0ngPassw0rd"));
    }
}
