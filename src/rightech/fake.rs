//! A stateful Rightech IoT Cloud on loopback, for tests and examples.
//!
//! Users live in groups; a caller (found by its bearer token) sees and changes only users of
//! its own group, as the service's list does. Logins and emails are unique (case-insensitive),
//! passwords must meet the default policy, logins must have 4 to 40 characters; the fake
//! answers these with 400 or 409 and a `{message, tags, helper}` body (the real statuses are
//! not documented). `POST /api/v1/users/tokens` with `{"user": "<id>"}` (or `{}` for the
//! caller) issues a token that the fake then accepts as `Bearer`. Deleting removes the user
//! from the group.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> userapi::Result<()> {
//! use userapi::rightech::{ListUsers, fake::FakeRightech};
//! let fake = FakeRightech::start().await?;
//! let users = fake.api()?.list_users(&ListUsers::new()).await?;
//! assert_eq!(users.len(), 2); // the third user is in another group
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use super::{ObjectId, Rightech, check_login, check_password_policy};
use crate::client::Client;
use crate::error::Result;
use crate::fake::{FakeRequest, FakeResponse, FakeServer, Handler};

/// The admin's token, accepted by [`FakeRightech::api`].
pub const TOKEN: &str = "fake-rightech-admin-token";
/// The admin's id.
pub const ADMIN_ID: &str = "5d8a18d5d0025e0012fb6a34";
/// The id of the other user in the admin's group.
pub const COLLEAGUE_ID: &str = "5d8a18d5d0025e0012fb6a35";
/// The id of a user in another group.
pub const STRANGER_ID: &str = "5d8a18d5d0025e0012fb6a36";
/// A role id that exists.
pub const ROLE_ID: &str = "5cc89f6af79a4969291dcbd7";
const GROUP: &str = "5f0000000000000000000001";
const OTHER_GROUP: &str = "5f0000000000000000000002";

/// A running fake Rightech. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeRightech {
    server: FakeServer,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    inner: Mutex<Data>,
    next: AtomicU64,
}

#[derive(Debug)]
struct Data {
    users: Vec<Value>,
    /// (token, user id)
    tokens: Vec<(String, String)>,
}

fn seed_user(id: &str, login: &str, name: &str, group: &str) -> Value {
    json!({
        "_id": id, "login": login, "name": name, "email": format!("{login}@example.com"),
        "rights": 1.5, "role": ROLE_ID, "messages": true, "group": group, "time": 1_700_000_000_000u64
    })
}

impl FakeRightech {
    /// Starts the server with an admin and a colleague in one group and a stranger in another.
    pub async fn start() -> Result<Self> {
        let users = vec![
            seed_user(ADMIN_ID, "admin", "Admin", GROUP),
            seed_user(COLLEAGUE_ID, "colleague", "Colleague", GROUP),
            seed_user(STRANGER_ID, "stranger", "Stranger", OTHER_GROUP),
        ];
        let state = Arc::new(State {
            inner: Mutex::new(Data {
                users,
                tokens: vec![(TOKEN.to_owned(), ADMIN_ID.to_owned())],
            }),
            next: AtomicU64::new(1),
        });
        let server = FakeServer::serve(state.clone()).await?;
        Ok(FakeRightech { server, state })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        self.server.url("")
    }

    /// A [`Rightech`] pointed at this fake as the admin.
    pub fn api(&self) -> Result<Rightech> {
        self.api_with_token(TOKEN)
    }

    /// A [`Rightech`] pointed at this fake with any bearer token.
    pub fn api_with_token(&self, token: &str) -> Result<Rightech> {
        Ok(Rightech::new(
            Client::builder()
                .base_url(self.base_url())
                .bearer(token)
                .build()?,
        ))
    }

    /// Whether a user with this id exists in any group.
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

fn error(status: u16, message: &str, helper: Option<&str>) -> FakeResponse {
    let mut body = json!({"message": message, "tags": ["users"]});
    if let Some(h) = helper {
        body["helper"] = json!({"message": h, "links": ["https://rightech.io/en/developers/http/"]});
    }
    FakeResponse::json(status, &body)
}

/// The user as the service returns it: never the password.
fn public(user: &Value) -> Value {
    let mut user = user.clone();
    if let Some(map) = user.as_object_mut() {
        map.remove("password");
    }
    user
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Data> {
        crate::fake::lock(&self.inner)
    }

    fn new_id(&self) -> String {
        format!("6a{:022x}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The caller's (id, group), or the refusal.
    fn caller(&self, req: &FakeRequest) -> std::result::Result<(String, Option<String>), Box<FakeResponse>> {
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
    ) -> Option<FakeResponse> {
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

    fn check_rules(body: &Value) -> Option<FakeResponse> {
        if let Some(login) = body.get("login").and_then(Value::as_str)
            && check_login(login).is_err()
        {
            return Some(error(400, "login must have 4 to 40 characters", None));
        }
        if let Some(password) = body.get("password").and_then(Value::as_str)
            && check_password_policy(password).is_err()
        {
            return Some(error(
                400,
                "password does not meet the password policy",
                Some("at least 8 characters, with lower case, upper case and a digit"),
            ));
        }
        if let Some(role) = body.get("role")
            && role.as_str().and_then(|r| ObjectId::parse(r).ok()).is_none()
        {
            return Some(error(400, "role must be an ObjectId", None));
        }
        None
    }

    fn create(&self, group: Option<String>, req: &FakeRequest) -> FakeResponse {
        let Ok(mut body) = req.json::<Value>() else {
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
        body["_id"] = json!(id);
        body["group"] = json!(group);
        body["rights"] = json!(1.5);
        if body.get("messages").is_none() {
            body["messages"] = json!(true);
        }
        data.users.push(body.clone());
        let mut out = public(&body);
        out["success"] = json!(true);
        FakeResponse::json(200, &out)
    }

    fn update(&self, group: Option<&str>, id: &str, req: &FakeRequest) -> FakeResponse {
        let Ok(Value::Object(changes)) = req.json::<Value>() else {
            return error(400, "invalid JSON", None);
        };
        if let Some(refused) = Self::check_rules(&Value::Object(changes.clone())) {
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
        for (k, v) in changes {
            if [
                "role",
                "name",
                "phone",
                "login",
                "password",
                "disabled",
                "webDisabled",
                "temp",
                "messages",
            ]
            .contains(&k.as_str())
            {
                user[k.as_str()] = v;
            }
        }
        let mut out = public(user);
        out["success"] = json!(true);
        FakeResponse::json(200, &out)
    }

    fn issue(&self, caller: &str, group: Option<&str>, req: &FakeRequest) -> FakeResponse {
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
        FakeResponse::json(
            200,
            &json!({"_id": jti, "token": token, "user": target, "success": true}),
        )
    }
}

impl Handler for State {
    fn handle(&self, req: FakeRequest) -> FakeResponse {
        let segs = req.segs();
        let rest = match segs.as_slice() {
            ["api", "v1", "users", rest @ ..] => rest.to_vec(),
            _ => return error(404, "not found", None),
        };
        let (me, group) = match self.caller(&req) {
            Ok(c) => c,
            Err(refused) => return *refused,
        };
        let group = group.as_deref();
        match (req.method.clone(), rest.as_slice()) {
            (Method::GET, []) => {
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
                if let Some(only) = req.query("only") {
                    let keep: Vec<&str> = only.split(',').collect();
                    for u in &mut list {
                        if let Some(map) = u.as_object_mut() {
                            map.retain(|k, _| keep.contains(&k.as_str()));
                        }
                    }
                }
                FakeResponse::json(200, &list)
            }
            (Method::GET, ["search"]) => {
                let search = req.query("search").unwrap_or("").to_lowercase();
                let data = self.lock();
                let found: Vec<Value> = data
                    .users
                    .iter()
                    .filter(|u| u["group"].as_str() == group)
                    .filter(|u| {
                        u["name"]
                            .as_str()
                            .is_some_and(|n| n.to_lowercase().contains(&search))
                    })
                    .map(|u| json!({"_id": u["_id"], "name": u["name"]}))
                    .collect();
                FakeResponse::json(200, &found)
            }
            (Method::POST, []) => self.create(group.map(str::to_owned), &req),
            (Method::POST, ["tokens"]) => self.issue(&me, group, &req),
            (_, [id]) if ObjectId::parse(id).is_err() => error(400, "invalid id", Some("ids are ObjectIds")),
            (Method::GET, [id]) => {
                let data = self.lock();
                match data
                    .users
                    .iter()
                    .find(|u| u["_id"] == *id && u["group"].as_str() == group)
                {
                    Some(u) => {
                        let mut out = public(u);
                        out["success"] = json!(true);
                        FakeResponse::json(200, &out)
                    }
                    None => error(404, "user not found", Some("check the id")),
                }
            }
            (Method::PATCH, [id]) => self.update(group, id, &req),
            (Method::DELETE, [id]) => {
                let mut data = self.lock();
                match data
                    .users
                    .iter_mut()
                    .find(|u| u["_id"] == *id && u["group"].as_str() == group)
                {
                    Some(u) => {
                        u["group"] = Value::Null;
                        FakeResponse::json(200, &json!({"success": true}))
                    }
                    None => error(404, "user not found", Some("check the id")),
                }
            }
            _ => error(405, "method not allowed", None),
        }
    }
}
