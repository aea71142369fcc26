//! A stateful NovaConnect on loopback, for tests and examples.
//!
//! It behaves as the documents say: every call is a `POST` under `/api/`, the bearer token is
//! checked (a wrong one gets HTTP 401 with `{"code": 401, "message": …}`), `user/edit` applies
//! the fields it is given and refuses a password (the current user's password can only change
//! through `user/password`), and `user/password` checks `old_password`.
//!
//! Every failure is a non-2xx status with the envelope as its body, its `code` equal to the
//! status: the form the service's known client reads (`message` from the body of a non-2xx
//! response). Refused input (a wrong old password, a bad email, a password sent to
//! `user/edit`) is HTTP 400 `{"code": 400, "message": …}`. The fake never answers HTTP 200
//! with an error `code`, though the client reads that form too (`ErrorKind::Api`, an [`ErrorKind`](userapi::ErrorKind)).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi_fake::novaconnect::FakeNovaConnect;
//! let fake = FakeNovaConnect::start().await?;
//! let me = fake.api()?.get_me().await?;
//! assert_eq!(me.email.as_deref(), Some("a.sadykova@example.kz"));
//! # Ok(()) }
//! ```

use serde_json::{Map, Value, json};
use url::Url;
use userapi::reqwest::StatusCode;

use crate::error::Error;
use crate::server::{Banner, Fake, Request, Response, Service};
use userapi::auth::{Password, Token};
use userapi::novaconnect::{NovaConnect, User, UserId};
use userapi::{Auth, Client};

/// The token the fake accepts.
pub const TOKEN: &str = "novaconnect-fake-token";
/// The seeded user's password.
pub const PASSWORD: &str = "0ld-secret";

/// The NovaConnect service the fake plays: its state and its helpers (the [`Fake`] derefs to it).
#[derive(Debug)]
pub struct NovaConnectService {
    state: State,
}

/// A running fake NovaConnect: [`Fake`] serving [`NovaConnectService`], whose helpers it derefs to.
pub type FakeNovaConnect = Fake<NovaConnectService>;

type State = crate::server::State<Account>;

#[derive(Debug)]
struct Account {
    user: User,
    password: String,
}

impl NovaConnectService {
    /// The service with its seeded data (see the module docs).
    fn new_seeded() -> Self {
        let user = crate::util::build!(User {
            id: Some(UserId::Number(1)),
            first_name: Some("Aigerim".into()),
            last_name: Some("Sadykova".into()),
            email: Some("a.sadykova@example.kz".into()),
            extra: Map::new(),
        });
        let state = State::new(Account {
            user,
            password: PASSWORD.to_owned(),
        });
        NovaConnectService { state }
    }

    /// The token it accepts.
    pub fn token(&self) -> Token {
        Token::new(TOKEN)
    }

    /// The user as the fake holds it now.
    pub fn user(&self) -> User {
        self.state.lock().user.clone()
    }

    /// Replaces the current user (the only one NovaConnect's profile calls see), for tests of
    /// your own code. Returns the user as the fake holds it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::novaconnect::{User, UserId};
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    /// let fake = FakeNovaConnect::start().await?;
    /// let mut user = User::default();
    /// user.id = Some(UserId::Number(42));
    /// user.first_name = Some("Dana".into());
    /// fake.set_user(user);
    /// assert_eq!(fake.api()?.get_me().await?.id, Some(UserId::Number(42)));
    /// # Ok(()) }
    /// ```
    pub fn set_user(&self, user: User) -> User {
        self.state.lock().user = user.clone();
        user
    }

    /// Sets the current user's password.
    pub fn set_password(&self, password: &Password) {
        self.state.lock().password = password.expose().to_owned();
    }

    /// Whether `password` is the user's current password.
    pub fn password_is(&self, password: &Password) -> bool {
        self.state.lock().password == password.expose()
    }
}

/// A failure: the status and the envelope's `code` agree. The fake's own envelope, not the
/// client's model.
fn fail(status: u16, message: &str) -> Response {
    Response::json(status, &json!({"code": status, "message": message}))
}

/// A success: the envelope around the user.
fn ok(user: &User) -> Response {
    Response::json(
        200,
        &json!({"code": 200, "message": "OK", "count": 1, "all_count": 1, "result": {"item": user}}),
    )
}

impl State {
    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        fail(status.as_u16(), message)
    }

    fn handle(&self, req: &Request) -> Response {
        if req.bearer() != Some(TOKEN) {
            return fail(401, "Unauthorized: invalid or missing token");
        }
        let action = match req.segs().as_slice() {
            ["api", "user", action @ ("get" | "edit" | "password")] => (*action).to_owned(),
            _ => return fail(404, "Method not found"),
        };
        if req.method != userapi::Method::POST {
            return fail(405, "Only POST is supported");
        }
        let body: Map<String, Value> = match req.json() {
            Ok(body) => body,
            Err(_) => return fail(400, "The body must be a JSON object"),
        };
        let mut account = self.lock();
        match action.as_str() {
            "get" => {}
            "edit" => {
                if body.contains_key("password") || body.contains_key("old_password") {
                    return fail(
                        400,
                        "The current user's password cannot be changed with user/edit; use user/password",
                    );
                }
                let mut next = account.user.clone();
                for (key, slot) in [
                    ("first_name", &mut next.first_name),
                    ("last_name", &mut next.last_name),
                    ("email", &mut next.email),
                ] {
                    match body.get(key) {
                        None => {}
                        Some(Value::String(s)) => *slot = Some(s.clone()),
                        Some(_) => return fail(400, &format!("{key} must be a string")),
                    }
                }
                if next.email.as_deref().is_some_and(|e| !e.contains('@')) {
                    return fail(400, "email is not a valid email address");
                }
                account.user = next;
            }
            _ => {
                let text = |k: &str| body.get(k).and_then(Value::as_str);
                let (Some(new), Some(old)) = (text("password"), text("old_password")) else {
                    return fail(400, "password and old_password are required");
                };
                if old != account.password {
                    return fail(400, "The old password is wrong");
                }
                if new.is_empty() {
                    return fail(400, "The new password is empty");
                }
                account.password = new.to_owned();
            }
        }
        ok(&account.user)
    }
}

impl Service for NovaConnectService {
    const NAME: &'static str = "novaconnect";
    const TITLE: &'static str = "NovaConnect";
    type Api = NovaConnect;

    /// One user (Aigerim Sadykova), [`TOKEN`] and [`PASSWORD`].
    fn seeded() -> Self {
        Self::new_seeded()
    }

    fn handle(&self, request: &Request) -> Response {
        self.state.handle(request)
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        self.state.error_response(status, message)
    }

    /// `Bearer` [`TOKEN`].
    fn auth(&self) -> Result<Auth, Error> {
        Ok(Auth::bearer(TOKEN))
    }

    /// `api/`: every call is under `/api/`.
    fn base_path() -> &'static str {
        "api/"
    }

    fn api(client: Client) -> NovaConnect {
        NovaConnect::new(client)
    }

    fn banner(&self, base: &Url) -> Banner {
        Banner::new(format!(
            "curl -X POST -H 'Authorization: Bearer {TOKEN}' -H 'Content-Type: application/json' -d '{{}}' {base}user/get"
        ))
        .credential("token", TOKEN)
        .credential("header", format!("Authorization: Bearer {TOKEN}"))
        .credential("password", PASSWORD)
    }
}

/// What a recording of a NovaConnect server scrubs besides what every recording does (see
/// [`Secrets`](crate::Secrets)): nothing it issues (its token is static, scrubbed as the
/// `Authorization` header's); the passwords of `user/password` are secret fields already
/// (`password`, `old_password`).
pub fn recorded_secrets() -> crate::Secrets {
    crate::Secrets::new()
}
