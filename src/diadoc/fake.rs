//! A stateful Diadoc on loopback, for tests and examples.
//!
//! As the documents say: `DiadocAuth` is parsed and checked (a wrong client id gets 401
//! `Invalid API client id` with `X-Diadoc-ErrorCode: Http.Auth`; a missing or wrong token
//! gets 401 too, as text), `POST /V3/Authenticate?type=password` issues tokens as plain text,
//! a name change applies at once, a login change stays pending (the old login keeps showing)
//! until the test calls [`FakeDiadoc::confirm_login`], a login another user holds gets 405,
//! an empty change gets 400. Every error body is plain text and carries `X-Kontur-Trace-Id`.
//! An OpenID Connect access token ([`OIDC_TOKEN`]) is accepted as `Bearer` too.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> userapi::Result<()> {
//! use userapi::diadoc::fake::{FakeDiadoc, LOGIN, PASSWORD};
//! let fake = FakeDiadoc::start().await?;
//! let diadoc = fake.unauthenticated()?;
//! diadoc.authenticate_with_password(LOGIN, &PASSWORD.into()).await?;
//! assert_eq!(diadoc.get_me().await?.login.as_deref(), Some(LOGIN));
//! # Ok(()) }
//! ```

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{Diadoc, FullName, UserV2};
use crate::auth::{Auth, Secret};
use crate::client::Client;
use crate::error::Result;
use crate::fake::{FakeRequest, FakeResponse, FakeServer, Handler};
use crate::models::Extra;

/// The API client id the fake accepts.
pub const CLIENT_ID: &str = "fake-diadoc-client-id";
/// The seeded user's login.
pub const LOGIN: &str = "login@kontur.ru";
/// The seeded user's password.
pub const PASSWORD: &str = "Pa55-word";
/// A login another user of the portal already holds.
pub const TAKEN_LOGIN: &str = "taken@kontur.ru";
/// An OpenID Connect access token the fake accepts as `Bearer`.
pub const OIDC_TOKEN: &str = "fake-oidc-access-token";
/// The seeded user's id.
pub const USER_ID: &str = "d064f6ba-7b81-432d-a41d-93b23eebe579";

/// A running fake Diadoc. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeDiadoc {
    server: FakeServer,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    inner: Mutex<Portal>,
    next: AtomicU64,
}

#[derive(Debug)]
struct Portal {
    me: UserV2,
    pending_login: Option<String>,
    tokens: HashSet<String>,
}

impl FakeDiadoc {
    /// Starts the server with one registered user (`login@kontur.ru`, Anna Petrova).
    pub async fn start() -> Result<Self> {
        let me = UserV2 {
            user_id: USER_ID.to_owned(),
            login: Some(LOGIN.to_owned()),
            full_name: Some(FullName::new("Petrova", "Anna").middle_name("Sergeevna")),
            is_registered: Some(true),
            extra: Extra::new(),
        };
        let state = Arc::new(State {
            inner: Mutex::new(Portal {
                me,
                pending_login: None,
                tokens: HashSet::new(),
            }),
            next: AtomicU64::new(1),
        });
        let server = FakeServer::serve(state.clone()).await?;
        Ok(FakeDiadoc { server, state })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        self.server.url("")
    }

    /// A token issued as if the seeded user had authenticated.
    pub fn issue_token(&self) -> Secret {
        Secret::new(self.state.issue())
    }

    /// A [`Diadoc`] with the client id and no token: call `authenticate_with_password` next.
    pub fn unauthenticated(&self) -> Result<Diadoc> {
        self.api(Auth::diadoc(CLIENT_ID, None))
    }

    /// A [`Diadoc`] with the client id and a freshly issued token.
    pub fn authenticated(&self) -> Result<Diadoc> {
        self.api(Auth::diadoc(CLIENT_ID, Some(self.issue_token())))
    }

    /// A [`Diadoc`] pointed at this fake with any credentials.
    pub fn api(&self, auth: Auth) -> Result<Diadoc> {
        Ok(Diadoc::new(
            Client::builder().base_url(self.base_url()).auth(auth).build()?,
        ))
    }

    /// The user as the fake holds it now.
    pub fn user(&self) -> UserV2 {
        self.state.lock().me.clone()
    }

    /// The login change waiting for its confirmation email to be followed.
    pub fn pending_login(&self) -> Option<String> {
        self.state.lock().pending_login.clone()
    }

    /// Follows the confirmation link: the pending login becomes the login. Returns it.
    pub fn confirm_login(&self) -> Option<String> {
        let mut portal = self.state.lock();
        let login = portal.pending_login.take()?;
        portal.me.login = Some(login.clone());
        Some(login)
    }
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Portal> {
        crate::fake::lock(&self.inner)
    }

    fn issue(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let token = format!("fake-ddauth-token-{n:08}");
        self.lock().tokens.insert(token.clone());
        token
    }
}

fn text(status: u16, body: &str) -> FakeResponse {
    FakeResponse::text(status, body).header("x-kontur-trace-id", "fake-trace-0001")
}

/// `DiadocAuth ddauth_api_client_id=<id>[, ]ddauth_token=<token>` into (client id, token).
fn parse_diadoc_auth(value: &str) -> Option<(Option<&str>, Option<&str>)> {
    let params = value.strip_prefix("DiadocAuth ")?;
    let (mut id, mut token) = (None, None);
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("ddauth_api_client_id", v)) => id = Some(v),
            Some(("ddauth_token", v)) => token = Some(v),
            _ => {}
        }
    }
    Some((id, token))
}

enum Caller {
    /// A valid client id and no token.
    ClientOnly,
    /// A valid client id and token, or an OIDC bearer token.
    User,
}

impl State {
    fn caller(&self, req: &FakeRequest) -> std::result::Result<Caller, Box<FakeResponse>> {
        let header = req.header("authorization").unwrap_or("");
        if header.strip_prefix("Bearer ") == Some(OIDC_TOKEN) {
            return Ok(Caller::User);
        }
        let Some((id, token)) = parse_diadoc_auth(header) else {
            return Err(Box::new(text(401, "Authorization header is missing or invalid")));
        };
        if id != Some(CLIENT_ID) {
            return Err(Box::new(
                text(401, "Invalid API client id").header("x-diadoc-errorcode", "Http.Auth"),
            ));
        }
        match token {
            None => Ok(Caller::ClientOnly),
            Some(t) if self.lock().tokens.contains(t) => Ok(Caller::User),
            Some(_) => Err(Box::new(
                text(401, "Token is damaged or expired").header("x-diadoc-errorcode", "Http.Auth"),
            )),
        }
    }

    fn authenticate(&self, req: &FakeRequest) -> FakeResponse {
        if req.query("type") != Some("password") {
            return text(400, "Unsupported authentication type");
        }
        let Ok(body) = req.json::<Value>() else {
            return text(400, "Request body is not valid JSON");
        };
        let field = |a: &str, b: &str| body.get(a).or_else(|| body.get(b)).and_then(Value::as_str);
        let (Some(login), Some(password)) = (field("login", "Login"), field("password", "Password")) else {
            return text(400, "Login and Password are required");
        };
        let known = self.lock().me.login.as_deref() == Some(login);
        if !known || password != PASSWORD {
            return text(401, &format!("Wrong password provided for login {login}"));
        }
        FakeResponse::text(200, &self.issue())
    }

    fn update(&self, req: &FakeRequest) -> FakeResponse {
        let Ok(body) = req.json::<Value>() else {
            return text(400, "Request body is not valid JSON");
        };
        let login = body.pointer("/Login/Login").map(|v| v.as_str().unwrap_or(""));
        let name = body.pointer("/FullName/FullName");
        if login.is_none() && name.is_none() {
            return text(400, "At least one of Login or FullName must be set");
        }
        if let Some(login) = login
            && !crate::models::email_shaped(login)
        {
            return text(400, "Login must be a valid email address");
        }
        let name = match name.map(|n| serde_json::from_value::<FullName>(n.clone())) {
            Some(Ok(n)) if n.last_name.is_some() && n.first_name.is_some() => Some(n),
            Some(_) => return text(400, "FullName requires LastName and FirstName"),
            None => None,
        };
        let mut portal = self.lock();
        if let Some(login) = login {
            if login.eq_ignore_ascii_case(TAKEN_LOGIN) {
                return text(405, &format!("User with login {login} is already registered"));
            }
            // Applies only once the user follows the link in the email.
            portal.pending_login = Some(login.to_owned());
        }
        if let Some(name) = name {
            portal.me.full_name = Some(name);
        }
        FakeResponse::json(200, &portal.me)
    }
}

impl Handler for State {
    fn handle(&self, req: FakeRequest) -> FakeResponse {
        let route = (req.method.clone(), req.path.as_str());
        let wants_json = req
            .header("accept")
            .is_some_and(|a| a.contains("application/json"));
        match route {
            (Method::POST, "/V3/Authenticate") => match self.caller(&req) {
                Err(refused) => *refused,
                Ok(_) => self.authenticate(&req),
            },
            (Method::GET, "/V2/GetMyUser") | (Method::POST, "/UpdateMyUser") => {
                match self.caller(&req) {
                    Err(refused) => return *refused,
                    Ok(Caller::ClientOnly) => return text(401, "ddauth_token is missing"),
                    Ok(Caller::User) => {}
                }
                if !wants_json {
                    return text(406, "this fake speaks JSON only: send Accept: application/json");
                }
                if req.method == Method::GET {
                    FakeResponse::json(200, &self.lock().me)
                } else {
                    self.update(&req)
                }
            }
            (_, "/V3/Authenticate" | "/V2/GetMyUser" | "/UpdateMyUser") => text(405, "Method not allowed"),
            _ => text(404, "Not found"),
        }
    }
}
