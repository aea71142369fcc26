//! A stateful rounds app on loopback, for tests and examples.
//!
//! It answers in the order a FastAPI app does: routing first (an unknown path is 404
//! `{"detail": "Not Found"}`, a known path with another method 405 `{"detail": "Method Not
//! Allowed"}` with `Allow`, both before any credential is looked at), then the token, then
//! the body.
//!
//! It mints JWTs (`{"sub": <user id>, "exp": <unix time>}`, signed with a fixed fake
//! signature) and checks them on every route: no token gets 401 `{"detail": "Not
//! authenticated"}` with `WWW-Authenticate: Bearer`, a forged one 401 `Could not validate
//! credentials`, an expired one 401 `Not authenticated`. It holds three users and rounds they
//! own or joined, applies `PATCH /users/me` (a `null` clears a field), answers 404 for unknown
//! ids and 422 in FastAPI's (Pydantic v2) shape for bad input: malformed JSON is
//! `{"type": "json_invalid", "loc": ["body", <character position>], "ctx": {"error": …}}`, a
//! missing body `loc: ["body"]`, a body that is not an object `model_attributes_type`, a
//! non-string name `["body", "first_name"]`, a non-boolean `as_owner` `["query", "as_owner"]`
//! (`bool_parsing`; `as_owner` takes every spelling Pydantic reads as a boolean, in any case:
//! `1`/`0`, `true`/`false`, `t`/`f`, `yes`/`no`, `y`/`n`, `on`/`off`).
//!
//! [`FakeRounds::add_user`](RoundsService::add_user) and [`FakeRounds::add_round`](RoundsService::add_round) seed it with the crate's own types.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::rounds::RoundRole;
//! use userapi_fake::rounds::FakeRounds;
//! let fake = FakeRounds::start().await?;
//! let rounds = fake.api()?;
//! assert_eq!(rounds.get_me().await?.first_name.as_deref(), Some("Dana"));
//! assert_eq!(rounds.list_rounds(RoundRole::Owner).await?.len(), 1);
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde_json::{Value, json};
use url::Url;
use userapi::reqwest::{Method, StatusCode};

use crate::error::Error;
use crate::server::{Banner, Fake, Refused, Request, Response, Service};
use crate::util::{base64url, base64url_decode, now_secs};
use userapi::auth::Token;
use userapi::rounds::{Round, Rounds, User, UserId};
use userapi::{Auth, Client};

/// The current user of [`FakeRounds::api`](Fake::api).
pub const ME: &str = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
/// Another user, who organises a round the current user joined.
pub const OTHER: &str = "0b7d9c1e-2f3a-4b5c-8d6e-7f8091a2b3c4";
const SIGNATURE: &str = "fake-signature";

/// The rounds app service the fake plays: its state and its helpers (the [`Fake`] derefs to it).
#[derive(Debug)]
pub struct RoundsService {
    state: State,
}

/// A running fake rounds app: [`Fake`] serving [`RoundsService`], whose helpers it derefs to.
pub type FakeRounds = Fake<RoundsService>;

type State = crate::server::State<Data>;

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

impl RoundsService {
    /// The service with its seeded data (see the module docs).
    fn new_seeded() -> Self {
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
        let state = State::new(Data { users, rounds });
        RoundsService { state }
    }

    /// A JWT for `user_id` that expires after `valid_for`. A zero duration gives a token that
    /// is already expired; a duration past what the `exp` claim can hold saturates at the
    /// largest one (never panics).
    pub fn token_for(&self, user_id: &str, valid_for: Duration) -> Token {
        let exp = now_secs().saturating_add(i64::try_from(valid_for.as_secs()).unwrap_or(i64::MAX));
        Token::new(mint(user_id, exp))
    }

    /// A JWT for the current user that expired `ago` before now. A duration past what the
    /// `exp` claim can hold saturates at the smallest one (never panics).
    pub fn expired_token(&self, ago: Duration) -> Token {
        let exp = now_secs().saturating_sub(i64::try_from(ago.as_secs()).unwrap_or(i64::MAX));
        Token::new(mint(ME, exp))
    }

    /// A user id no user holds yet, in the shape of the seeded ones (a UUID).
    pub fn new_user_id(&self) -> UserId {
        UserId::new(&self.state.new_id()).expect("a UUID is a user id")
    }

    /// Adds a user as it is, for tests of your own code (build one with
    /// [`User::new`] and [`new_user_id`](Self::new_user_id)). Returns the user as the fake
    /// holds it. A user with the id of one already held replaces it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use userapi::Auth;
    /// use userapi::rounds::User;
    /// use userapi_fake::rounds::FakeRounds;
    /// let fake = FakeRounds::start().await?;
    /// let mut user = User::new(fake.new_user_id());
    /// user.first_name = Some("Aruzhan".into());
    /// let user = fake.add_user(user);
    /// let as_her = fake.api_with(Auth::jwt(fake.token_for(user.id.as_str(), Duration::from_secs(60))))?;
    /// assert_eq!(as_her.get_me().await?.first_name.as_deref(), Some("Aruzhan"));
    /// # Ok(()) }
    /// ```
    pub fn add_user(&self, user: User) -> User {
        let value = serde_json::to_value(&user).unwrap_or_default();
        let mut data = self.state.lock();
        data.users.retain(|u| u["id"] != user.id.as_str());
        data.users.push(value);
        user
    }

    /// Adds a round as it is, with the ids of its participants; an empty `id` gets a new one.
    /// Returns the round as the fake holds it. A round with the id of one already held
    /// replaces it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rounds::{Round, RoundRole};
    /// use userapi_fake::rounds::{FakeRounds, ME, OTHER};
    /// let fake = FakeRounds::start().await?;
    /// let mut round = Round::default();
    /// round.owner_id = Some(OTHER.parse()?);
    /// round.entry_fee = Some("99.90".into());
    /// fake.add_round(round, &[ME]);
    /// assert_eq!(fake.api()?.list_rounds(RoundRole::Participant).await?.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn add_round(&self, mut round: Round, participants: &[&str]) -> Round {
        if round.id.is_empty() {
            round.id = format!("r-{}", self.state.new_id());
        }
        let value = serde_json::to_value(&round).unwrap_or_default();
        let mut data = self.state.lock();
        data.rounds.retain(|(r, _)| r["id"] != round.id.as_str());
        data.rounds
            .push((value, participants.iter().map(|p| (*p).to_owned()).collect()));
        round
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

fn mint(sub: &str, exp: i64) -> String {
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = base64url(json!({"sub": sub, "exp": exp}).to_string().as_bytes());
    format!("{header}.{claims}.{SIGNATURE}")
}

fn detail(status: u16, text: &str) -> Response {
    Response::json(status, &json!({"detail": text}))
}

/// Pydantic v2's reading of a string as a `bool`: one that, lower-cased, is `1`, `on`, `t`,
/// `true`, `y` or `yes` is true, `0`, `off`, `f`, `false`, `n` or `no` false
/// (<https://docs.pydantic.dev/2.3/usage/types/booleans/>); anything else,
/// the empty string and surrounding space included, is returned for the 422.
fn pydantic_bool(s: &str) -> Result<bool, &str> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
        "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
        _ => Err(s),
    }
}

/// One Pydantic v2 validation error, as FastAPI sends it under 422.
fn invalid(loc: Value, msg: &str, kind: &str, input: &Value) -> Response {
    Response::json(
        422,
        &json!({"detail": [{"type": kind, "loc": loc, "msg": msg, "input": input}]}),
    )
}

/// FastAPI's answer to a body that is not JSON: the position (in characters) where Python's
/// decoder stopped, and its message in `ctx.error`.
fn json_invalid(body: &[u8], err: &serde_json::Error) -> Response {
    let text = String::from_utf8_lossy(body);
    // serde_json counts lines from 1 and columns (bytes) from 1; Python counts characters
    // from 0 over the whole text.
    let line_start: usize = text
        .split_inclusive('\n')
        .take(err.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let byte = (line_start + err.column().saturating_sub(1)).min(text.len());
    let byte = (0..=byte).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let said = err.to_string();
    let (error, byte) = if said.starts_with("EOF while parsing a string") {
        // Python points at the opening quote.
        (
            "Unterminated string starting at",
            text[..byte].rfind('"').unwrap_or(byte),
        )
    } else if said.starts_with("EOF while parsing a value") {
        ("Expecting value", text.len())
    } else if said.starts_with("EOF while parsing") {
        ("Expecting ',' delimiter", text.len())
    } else if said.starts_with("key must be a string") {
        ("Expecting property name enclosed in double quotes", byte)
    } else if said.starts_with("trailing comma") {
        if text[byte..].starts_with(']') {
            ("Expecting value", byte)
        } else {
            ("Expecting property name enclosed in double quotes", byte)
        }
    } else if said.starts_with("expected `,` or") {
        ("Expecting ',' delimiter", byte)
    } else if said.starts_with("expected `:`") {
        ("Expecting ':' delimiter", byte)
    } else if said.starts_with("trailing characters") {
        ("Extra data", byte)
    } else {
        ("Expecting value", byte)
    };
    let position = text[..byte].chars().count();
    Response::json(
        422,
        &json!({"detail": [{
            "type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
            "input": {}, "ctx": {"error": error}
        }]}),
    )
}

impl State {
    /// A new id in the shape of the seeded ones (a UUID).
    fn new_id(&self) -> String {
        let n = self.next_number();
        format!("a0000000-0000-4000-8000-{n:012x}")
    }

    /// The user id the request's token is for, or the refusal.
    fn caller(&self, req: &Request) -> Refused<String> {
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
        let claims: Option<Value> = base64url_decode(claims).and_then(|b| serde_json::from_slice(&b).ok());
        let (Some(sub), Some(exp)) = (
            claims.as_ref().and_then(|c| c["sub"].as_str()),
            claims.as_ref().and_then(|c| c["exp"].as_i64()),
        ) else {
            return Err(Box::new(detail(401, "Could not validate credentials")));
        };
        if exp <= now_secs() {
            return Err(not_authenticated());
        }
        Ok(sub.to_owned())
    }

    fn patch_me(&self, me: &str, req: &Request) -> Response {
        if req.body.is_empty() {
            return invalid(json!(["body"]), "Field required", "missing", &Value::Null);
        }
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => {
                return invalid(
                    json!(["body"]),
                    "Input should be a valid dictionary or object to extract fields from",
                    "model_attributes_type",
                    &other,
                );
            }
            Err(e) => return json_invalid(&req.body, &e),
        };
        for field in ["first_name", "last_name", "avatar_url"] {
            if let Some(v) = body.get(field)
                && !(v.is_string() || v.is_null())
            {
                return invalid(
                    json!(["body", field]),
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
        Response::json(200, user)
    }

    fn rounds_of(&self, me: &str, req: &Request) -> Response {
        let as_owner = match req.query("as_owner").map(pydantic_bool) {
            None => false,
            Some(Ok(b)) => b,
            Some(Err(other)) => {
                return invalid(
                    json!(["query", "as_owner"]),
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
        Response::json(200, &list)
    }
}

/// The app's routes in the order the seed lists them: (method, path pattern). `{id}` matches
/// any one segment. Starlette tries them in order; the first that matches path and method
/// serves the request.
const ROUTES: [(Method, [&str; 2]); 4] = [
    (Method::GET, ["users", "me"]),
    (Method::GET, ["users", "{id}"]),
    (Method::PATCH, ["users", "me"]),
    (Method::GET, ["users", "rounds"]),
];

/// Routing as Starlette does it: the first route matching path and method; failing that, 405
/// naming the methods of the first route matching the path; failing that, 404.
fn route(method: &Method, segs: &[&str]) -> Refused<usize> {
    let path_matches = |pattern: &[&str; 2]| {
        segs.len() == 2 && pattern.iter().zip(segs).all(|(p, s)| *p == "{id}" || p == s)
    };
    // A route with fixed segments is declared for `me` and `rounds`, so `{id}` never takes
    // them; every other id goes to `{id}`.
    let fixed = |s: &str| s == "me" || s == "rounds";
    let candidates: Vec<usize> = (0..ROUTES.len())
        .filter(|&i| path_matches(&ROUTES[i].1))
        .filter(|&i| ROUTES[i].1[1] != "{id}" || !fixed(segs[1]))
        .collect();
    if let Some(&i) = candidates.iter().find(|&&i| ROUTES[i].0 == *method) {
        return Ok(i);
    }
    match candidates.first() {
        Some(&i) => Err(Box::new(
            detail(405, "Method Not Allowed").header("allow", ROUTES[i].0.as_str()),
        )),
        None => Err(Box::new(detail(404, "Not Found"))),
    }
}

impl State {
    /// FastAPI's errors: `{"detail": <message>}`.
    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        detail(status.as_u16(), message)
    }

    fn handle(&self, req: &Request) -> Response {
        let segs = req.segs();
        let route = match route(&req.method, &segs) {
            Ok(i) => ROUTES[i].1,
            Err(refused) => return *refused,
        };
        let me = match self.caller(req) {
            Ok(me) => me,
            Err(refused) => return *refused,
        };
        match (req.method.clone(), route) {
            (Method::GET, [_, "me"]) => {
                let data = self.lock();
                match data.users.iter().find(|u| u["id"] == me.as_str()) {
                    Some(u) => Response::json(200, u),
                    None => detail(404, "User not found"),
                }
            }
            (Method::PATCH, _) => self.patch_me(&me, req),
            (Method::GET, [_, "rounds"]) => self.rounds_of(&me, req),
            _ => {
                let data = self.lock();
                match data.users.iter().find(|u| u["id"] == segs[1]) {
                    Some(u) => Response::json(200, u),
                    None => detail(404, "User not found"),
                }
            }
        }
    }
}

impl Service for RoundsService {
    const NAME: &'static str = "rounds";
    const TITLE: &'static str = "rounds";
    type Api = Rounds;

    /// Three users and three rounds: one the current user organised, one they joined, one
    /// they have nothing to do with.
    fn seeded() -> Self {
        Self::new_seeded()
    }

    fn handle(&self, request: &Request) -> Response {
        self.state.handle(request)
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        self.state.error_response(status, message)
    }

    /// [`ME`], with a token valid for an hour.
    fn auth(&self) -> Result<Auth, Error> {
        Ok(Auth::jwt(self.token_for(ME, Duration::from_secs(3600))))
    }

    fn api(client: Client) -> Rounds {
        Rounds::new(client)
    }

    fn banner(&self, base: &Url) -> Banner {
        // Long enough for any session with the fake.
        let token = self.token_for(ME, Duration::from_secs(30 * 24 * 3600));
        Banner::new(format!(
            "curl -H 'Authorization: Bearer {}' {base}users/me",
            token.expose()
        ))
        .credential("user id", ME)
        .credential("token", token.expose())
        .credential("header", format!("Authorization: Bearer {}", token.expose()))
    }
}

/// What a recording of the rounds app scrubs besides what every recording does (see
/// [`Secrets`](crate::Secrets)): an `access_token` wherever it appears (the JWT a token route
/// of a FastAPI app answers; the bearer token itself is scrubbed as the `Authorization`
/// header's).
pub fn recorded_secrets() -> crate::Secrets {
    crate::Secrets::new().field("access_token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_carry_their_expiry() {
        let token = mint("u1", 2_000_000_000);
        let exp = userapi::jwt_expiry(&token).unwrap();
        assert_eq!(exp, std::time::UNIX_EPOCH + Duration::from_secs(2_000_000_000));
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        for text in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            "{\"sub\":\"я\"}".as_bytes(),
            &[0xfb, 0xff],
        ] {
            assert_eq!(base64url_decode(&base64url(text)).as_deref(), Some(text));
        }
        assert_eq!(base64url_decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(base64url_decode("+/8="), None, "the URL alphabet only");
    }

    #[test]
    fn routing_comes_before_credentials() {
        assert_eq!(route(&Method::GET, &["users", "me"]).ok(), Some(0));
        assert_eq!(route(&Method::GET, &["users", "rounds"]).ok(), Some(3));
        assert_eq!(route(&Method::GET, &["users", "u1"]).ok(), Some(1));
        assert_eq!(route(&Method::PATCH, &["users", "me"]).ok(), Some(2));
        let refused = route(&Method::DELETE, &["users", "me"]).unwrap_err();
        assert_eq!(refused.status.as_u16(), 405);
        assert_eq!(refused.headers["allow"], "GET");
        assert_eq!(
            route(&Method::PATCH, &["users", "u1"])
                .unwrap_err()
                .status
                .as_u16(),
            405
        );
        assert_eq!(route(&Method::GET, &["users"]).unwrap_err().status.as_u16(), 404);
    }

    #[test]
    fn json_errors_read_as_pythons_decoder_reads_them() {
        // (body, Python's `JSONDecodeError.msg`, `.pos`), from `json.loads(body)`.
        let cases = [
            ("{\"first_name\": \"Дана\",\n \"x\": }", "Expecting value", 29),
            ("{\"a\" 1}", "Expecting ':' delimiter", 5),
            ("{a:1}", "Expecting property name enclosed in double quotes", 1),
            (
                "{\"a\":1,}",
                "Expecting property name enclosed in double quotes",
                7,
            ),
            ("{\"a\":1} x", "Extra data", 8),
            ("{\"a\": \"x", "Unterminated string starting at", 6),
            ("[1,2", "Expecting ',' delimiter", 4),
            ("{\"a\":", "Expecting value", 5),
        ];
        for (body, msg, pos) in cases {
            let err = serde_json::from_str::<Value>(body).unwrap_err();
            let r = json_invalid(body.as_bytes(), &err);
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            let item = &v["detail"][0];
            assert_eq!(item["loc"], json!(["body", pos]), "{body:?}: {err}");
            assert_eq!(item["ctx"]["error"], msg, "{body:?}: {err}");
            assert_eq!(
                (&item["type"], &item["input"]),
                (&json!("json_invalid"), &json!({}))
            );
        }
    }
}
