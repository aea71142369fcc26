//! Who is calling: `DiadocAuth` (client id, token) or an OpenID Connect bearer token, and
//! `POST /V3/Authenticate`, which issues the tokens.

use serde_json::Value;

use super::{CLIENT_ID, OIDC_TOKEN, Response, State, USER_ID, certificate, text};
use crate::server::{Refused, Request};

/// A 401 as Diadoc refuses credentials: text, with `X-Diadoc-ErrorCode: Http.Auth`.
pub(super) fn auth_error(body: &str) -> Box<Response> {
    Box::new(text(401, body).header("x-diadoc-errorcode", "Http.Auth"))
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

/// Who is calling.
pub(super) enum Caller {
    /// A valid client id and no token.
    ClientOnly,
    /// A valid token (DiadocAuth with the client id, or an OIDC bearer token) of this user.
    User(String),
}

impl State {
    /// Who sent `req`, or the 401 its credentials get.
    pub(super) fn caller(&self, req: &Request) -> Refused<Caller> {
        let header = req.header("authorization").unwrap_or("");
        if let Some(bearer) = req.bearer() {
            if bearer == OIDC_TOKEN {
                return Ok(Caller::User(USER_ID.to_owned()));
            }
            // Bearer is OpenID Connect, and nothing else.
            return match self.lock().oidc.user_of_access_token(bearer) {
                Some(user) => Ok(Caller::User(user)),
                None => Err(auth_error("Invalid auth token")),
            };
        }
        let Some((id, token)) = parse_diadoc_auth(header) else {
            return Err(Box::new(text(401, "Authorization header is missing or invalid")));
        };
        if id != Some(CLIENT_ID) {
            return Err(auth_error("Invalid API client id"));
        }
        match token {
            None => Ok(Caller::ClientOnly),
            Some(t) => match self.lock().tokens.get(t) {
                Some(user) => Ok(Caller::User(user.clone())),
                None => Err(auth_error("Invalid auth token")),
            },
        }
    }

    /// `POST /V3/Authenticate?type=`.
    pub(super) fn authenticate(&self, req: &Request) -> Response {
        // The client id alone: a token here, even a live one, is refused.
        let header = req.header("authorization").unwrap_or("");
        match parse_diadoc_auth(header) {
            Some((Some(CLIENT_ID), None)) => {}
            Some((Some(CLIENT_ID), Some(_))) => {
                return *auth_error("Authenticate takes ddauth_api_client_id only, without ddauth_token");
            }
            Some(_) => return *auth_error("Invalid API client id"),
            None => return text(401, "Authorization header is missing or invalid"),
        }
        match req.query("type") {
            Some("password") => self.authenticate_by_password(req),
            Some("certificate") => match certificate::thumbprint(&req.body) {
                // Every certificate is one Diadoc does not know: the fake cannot encrypt a
                // token to a GOST key.
                Some(thumbprint) => text(
                    401,
                    &format!("Certificate with thumbprint {thumbprint} is not authorized."),
                )
                .header("x-diadoc-errorcode", "Http.Auth.Auth.CertNotValid"),
                None => text(400, "Could not deserialize certificate from the request body"),
            },
            // The fake's own words: Kontur's for these are not on record.
            Some("sid") => *auth_error("Unknown auth.sid"),
            Some("trust") => *auth_error("Unknown trusted service key"),
            _ => text(400, "Unsupported authentication type"),
        }
    }

    /// `type=password`: the login and password in the JSON body.
    fn authenticate_by_password(&self, req: &Request) -> Response {
        let Ok(body) = req.json::<Value>() else {
            return text(400, "Request body is not valid JSON");
        };
        let field = |a: &str, b: &str| body.get(a).or_else(|| body.get(b)).and_then(Value::as_str);
        let (Some(login), Some(password)) = (field("login", "Login"), field("password", "Password")) else {
            return text(400, "Login and Password are required");
        };
        let user_id = {
            let portal = self.lock();
            portal
                .account_by_login(login)
                .filter(|a| a.password.as_ref().is_some_and(|p| p.expose() == password))
                .map(|a| a.user.user_id.to_string())
        };
        match user_id {
            // The token as UTF-8 text, whatever `Accept` says.
            Some(id) => Response::text(200, &self.issue(&id)),
            None => text(401, &format!("Wrong password provided for login {login}")),
        }
    }
}
