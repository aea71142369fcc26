//! A stateful rounds app on loopback, for tests and examples.
//!
//! It mints JWTs (`{"sub": <user id>, "exp": <unix time>}`, signed with a fixed fake
//! signature) and checks them on every route: no token gets 401 `{"detail": "Not
//! authenticated"}` with `WWW-Authenticate: Bearer`, a forged one 401 `Could not validate
//! credentials`, an expired one 401 `Not authenticated`. It holds three users and rounds they
//! own or joined, applies `PATCH /users/me` (a `null` clears a field), answers 404 for unknown
//! ids and 422 in FastAPI's shape for wrongly typed input (a non-string name, a non-boolean
//! `as_owner`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> userapi::Result<()> {
//! use userapi::rounds::{RoundRole, fake::FakeRounds};
//! let fake = FakeRounds::start().await?;
//! let rounds = fake.api()?;
//! assert_eq!(rounds.get_me().await?.first_name.as_deref(), Some("Dana"));
//! assert_eq!(rounds.list_rounds(RoundRole::Owner).await?.len(), 1);
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use super::{Round, Rounds, User};
use crate::auth::{Auth, Secret};
use crate::client::Client;
use crate::error::Result;
use crate::fake::{FakeRequest, FakeResponse, FakeServer, Handler};

/// The current user of [`FakeRounds::api`].
pub const ME: &str = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
/// Another user, who organises a round the current user joined.
pub const OTHER: &str = "0b7d9c1e-2f3a-4b5c-8d6e-7f8091a2b3c4";
const SIGNATURE: &str = "fake-signature";

/// A running fake rounds app. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeRounds {
    server: FakeServer,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    inner: Mutex<Data>,
}

#[derive(Debug)]
struct Data {
    users: Vec<Value>,
    /// Each round with the ids of its participants.
    rounds: Vec<(Value, Vec<String>)>,
}

fn user(id: &str, phone: &str, first: Option<&str>, last: Option<&str>, avatar: Option<&str>) -> Value {
    json!({"id": id, "phone": phone, "first_name": first, "last_name": last, "avatar_url": avatar, "is_verified": true})
}

fn round(id: &str, status: &str, fee: &str, owner: &str, product: &str, price: u64) -> Value {
    json!({
        "id": id, "status": status, "entry_fee": fee, "is_active": status == "open", "owner_id": owner,
        "product": {
            "id": format!("p-{id}"), "name": product, "price": price,
            "main_picture_url": format!("https://cdn.example.com/products/{id}.jpg"), "is_active": true,
            "quantity": 3, "store_id": 12, "detail_desc": "Over-ear, noise cancelling", "question_id": 9,
            "format_price": format!("{price} ₸")
        }
    })
}

impl FakeRounds {
    /// Starts the server with three users and three rounds: one the current user organised,
    /// one they joined, one they have nothing to do with.
    pub async fn start() -> Result<Self> {
        let users = vec![
            user(
                ME,
                "+77011234567",
                Some("Dana"),
                Some("Omarova"),
                Some("https://cdn.example.com/avatars/dana.png"),
            ),
            user(OTHER, "+77017654321", Some("Arman"), Some("Seitkali"), None),
            user(
                "c3d4e5f6-0000-4000-8000-000000000003",
                "+77010000003",
                None,
                None,
                None,
            ),
        ];
        let rounds = vec![
            (
                round("r-1042", "open", "500.00", ME, "Wireless headphones", 45_000),
                vec![OTHER.to_owned()],
            ),
            (
                round("r-1043", "open", "250.50", OTHER, "Smart watch", 30_000),
                vec![ME.to_owned()],
            ),
            (
                round("r-1044", "finished", "100", OTHER, "Coffee maker", 20_000),
                vec![],
            ),
        ];
        let state = Arc::new(State {
            inner: Mutex::new(Data { users, rounds }),
        });
        let server = FakeServer::serve(state.clone()).await?;
        Ok(FakeRounds { server, state })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        self.server.url("")
    }

    /// A JWT for `user_id` that expires after `valid_for` (a zero or past duration gives an
    /// expired token).
    pub fn token_for(&self, user_id: &str, valid_for: Duration) -> Secret {
        let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + valid_for;
        Secret::new(mint(user_id, exp.as_secs() as i64))
    }

    /// A JWT for the current user, valid for an hour, already expired by `ago`.
    pub fn expired_token(&self, ago: Duration) -> Secret {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Secret::new(mint(ME, now.as_secs() as i64 - ago.as_secs() as i64))
    }

    /// A [`Rounds`] pointed at this fake as [`ME`], with a token valid for an hour.
    pub fn api(&self) -> Result<Rounds> {
        self.api_with(Auth::jwt(self.token_for(ME, Duration::from_secs(3600))))
    }

    /// A [`Rounds`] pointed at this fake with any credentials.
    pub fn api_with(&self, auth: Auth) -> Result<Rounds> {
        Ok(Rounds::new(
            Client::builder().base_url(self.base_url()).auth(auth).build()?,
        ))
    }

    /// A user as the fake holds it now.
    pub fn user(&self, id: &str) -> Option<User> {
        let data = self.state.lock();
        let found = data.users.iter().find(|u| u["id"] == id)?;
        serde_json::from_value(found.clone()).ok()
    }

    /// Every round, as the fake holds them.
    pub fn rounds(&self) -> Vec<Round> {
        let data = self.state.lock();
        data.rounds
            .iter()
            .filter_map(|(r, _)| serde_json::from_value(r.clone()).ok())
            .collect()
    }
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn mint(sub: &str, exp: i64) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = b64url(json!({"sub": sub, "exp": exp}).to_string().as_bytes());
    format!("{header}.{claims}.{SIGNATURE}")
}

fn detail(status: u16, text: &str) -> FakeResponse {
    FakeResponse::json(status, &json!({"detail": text}))
}

fn invalid(loc: [&str; 2], msg: &str, kind: &str, input: &Value) -> FakeResponse {
    FakeResponse::json(
        422,
        &json!({"detail": [{"loc": loc, "msg": msg, "type": kind, "input": input}]}),
    )
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Data> {
        crate::fake::lock(&self.inner)
    }

    /// The user id the request's token is for, or the refusal.
    fn caller(&self, req: &FakeRequest) -> std::result::Result<String, Box<FakeResponse>> {
        let not_authenticated =
            || Box::new(detail(401, "Not authenticated").header("www-authenticate", "Bearer"));
        let Some(token) = req.bearer() else {
            return Err(not_authenticated());
        };
        let mut parts = token.split('.');
        let (Some(_), Some(claims), Some(SIGNATURE), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Box::new(detail(401, "Could not validate credentials")));
        };
        let claims: Option<Value> =
            crate::auth::base64url_decode(claims).and_then(|b| serde_json::from_slice(&b).ok());
        let (Some(sub), Some(exp)) = (
            claims.as_ref().and_then(|c| c["sub"].as_str()),
            claims.as_ref().and_then(|c| c["exp"].as_i64()),
        ) else {
            return Err(Box::new(detail(401, "Could not validate credentials")));
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        if exp <= now {
            return Err(not_authenticated());
        }
        Ok(sub.to_owned())
    }

    fn patch_me(&self, me: &str, req: &FakeRequest) -> FakeResponse {
        let body: Value = match req.json() {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => {
                return invalid(
                    ["body", ""],
                    "Input should be a valid dictionary",
                    "dict_type",
                    &other,
                );
            }
            Err(_) => return invalid(["body", ""], "JSON decode error", "json_invalid", &Value::Null),
        };
        for field in ["first_name", "last_name", "avatar_url"] {
            if let Some(v) = body.get(field)
                && !(v.is_string() || v.is_null())
            {
                return invalid(
                    ["body", field],
                    "Input should be a valid string",
                    "string_type",
                    v,
                );
            }
        }
        let mut data = self.lock();
        let Some(user) = data.users.iter_mut().find(|u| u["id"] == me) else {
            return detail(404, "User not found");
        };
        for field in ["first_name", "last_name", "avatar_url"] {
            if let Some(v) = body.get(field) {
                user[field] = v.clone();
            }
        }
        FakeResponse::json(200, user)
    }

    fn rounds_of(&self, me: &str, req: &FakeRequest) -> FakeResponse {
        let as_owner = match req.query("as_owner") {
            None => false,
            Some("1" | "True" | "true" | "on" | "yes") => true,
            Some("0" | "False" | "false" | "off" | "no") => false,
            Some(other) => {
                return invalid(
                    ["query", "as_owner"],
                    "Input should be a valid boolean, unable to interpret input",
                    "bool_parsing",
                    &Value::from(other),
                );
            }
        };
        let data = self.lock();
        let list: Vec<&Value> = data
            .rounds
            .iter()
            .filter(|(r, members)| {
                if as_owner {
                    r["owner_id"] == me
                } else {
                    members.iter().any(|m| m == me)
                }
            })
            .map(|(r, _)| r)
            .collect();
        FakeResponse::json(200, &list)
    }
}

impl Handler for State {
    fn handle(&self, req: FakeRequest) -> FakeResponse {
        let segs = req.segs();
        let known = matches!(segs.as_slice(), ["users", _]);
        if !known {
            return detail(404, "Not Found");
        }
        let me = match self.caller(&req) {
            Ok(me) => me,
            Err(refused) => return *refused,
        };
        match (req.method.clone(), segs.as_slice()) {
            (Method::GET, ["users", "me"]) => {
                let data = self.lock();
                match data.users.iter().find(|u| u["id"] == me.as_str()) {
                    Some(u) => FakeResponse::json(200, u),
                    None => detail(404, "User not found"),
                }
            }
            (Method::PATCH, ["users", "me"]) => self.patch_me(&me, &req),
            (Method::GET, ["users", "rounds"]) => self.rounds_of(&me, &req),
            (Method::GET, ["users", id]) => {
                let data = self.lock();
                match data.users.iter().find(|u| u["id"] == *id) {
                    Some(u) => FakeResponse::json(200, u),
                    None => detail(404, "User not found"),
                }
            }
            _ => detail(405, "Method Not Allowed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_carry_their_expiry() {
        let token = mint("u1", 2_000_000_000);
        let exp = crate::auth::jwt_expiry(&token).unwrap();
        assert_eq!(exp, UNIX_EPOCH + Duration::from_secs(2_000_000_000));
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
    }
}
