//! Kontur's OpenID provider, as far as the refresh-token flow goes: `POST /connect/token`
//! (form-urlencoded, `grant_type=refresh_token`), answering as an OAuth 2.0 server does
//! (RFC 6749 §5): `{"access_token", "expires_in", "token_type": "Bearer", "refresh_token"}`,
//! or 400 with `{"error": "invalid_grant" | "invalid_client" | "invalid_request" |
//! "unsupported_grant_type"}`. Refresh tokens are for one use: each refresh answers a new one
//! and the old one is refused from then on (`invalid_grant`), as Kontur's provider rotates
//! them.

use std::collections::HashMap;

use serde_json::json;
use userapi::auth::Token;

use super::{DiadocService, Response, State, USER_ID};
use crate::server::Request;

/// The token endpoint's path on the fake: `fake.base_url().join(TOKEN_PATH)`.
pub const TOKEN_PATH: &str = "connect/token";
/// The OpenID Connect client id the fake's provider knows.
pub const OIDC_CLIENT_ID: &str = "fake-diadoc-oidc-client";
/// That client's secret.
pub const OIDC_CLIENT_SECRET: &str = "fake-oidc-client-secret";
/// Seconds an access token lives, as the provider says in `expires_in`.
const EXPIRES_IN: u64 = 3600;

/// The provider's live tokens.
#[derive(Debug, Default)]
pub(super) struct Tokens {
    /// Access token → user id.
    access: HashMap<String, String>,
    /// Refresh token → user id; a used one is removed.
    refresh: HashMap<String, String>,
}

impl Tokens {
    pub(super) fn user_of_access_token(&self, token: &str) -> Option<String> {
        self.access.get(token).cloned()
    }

    pub(super) fn expire_access_tokens(&mut self) {
        self.access.clear();
    }
}

impl DiadocService {
    /// A refresh token for the seeded user, as Kontur's provider issues one to an application
    /// (for [`OIDC_CLIENT_ID`]). Each use gives a new one and ends it.
    pub fn issue_refresh_token(&self) -> Token {
        self.issue_refresh_token_for(USER_ID)
            .expect("the seeded user is never removed")
    }

    /// A refresh token for the user `user_id`; `None` for an unknown user.
    pub fn issue_refresh_token_for(&self, user_id: &str) -> Option<Token> {
        let n = self.state.next_number();
        let mut portal = self.state.lock();
        let user = portal.account(user_id)?.user.user_id.to_string();
        let token = format!("fake-refresh-{n:08}");
        portal.oidc.refresh.insert(token.clone(), user);
        Some(Token::new(token))
    }

    /// Ends every refresh token issued so far: refreshing with one gets `invalid_grant`, as
    /// after a revocation.
    pub fn revoke_refresh_tokens(&self) {
        self.state.lock().oidc.refresh.clear();
    }
}

/// An OAuth 2.0 error answer.
fn oauth_error(error: &str, description: &str) -> Response {
    Response::json(400, &json!({"error": error, "error_description": description}))
        .header("cache-control", "no-store")
}

impl State {
    pub(super) fn token_endpoint(&self, req: &Request) -> Response {
        if req.method != userapi::Method::POST {
            return Response::empty(405);
        }
        let form_type = req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return oauth_error(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            );
        }
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
        let field = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
        // The client authenticates in the body (client_secret_post) or with HTTP Basic.
        let basic = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b| base64_decode(b.trim()))
            .and_then(|b| String::from_utf8(b).ok());
        let (client_id, secret) = match &basic {
            Some(pair) => match pair.split_once(':') {
                Some((id, secret)) => (Some(id), Some(secret)),
                None => (None, None),
            },
            None => (field("client_id"), field("client_secret")),
        };
        if client_id != Some(OIDC_CLIENT_ID) || secret != Some(OIDC_CLIENT_SECRET) {
            return oauth_error("invalid_client", "unknown client or wrong secret");
        }
        match field("grant_type") {
            Some("refresh_token") => {}
            Some(_) => {
                return oauth_error("unsupported_grant_type", "this provider plays refresh_token only");
            }
            None => return oauth_error("invalid_request", "grant_type is missing"),
        }
        let Some(refresh) = field("refresh_token") else {
            return oauth_error("invalid_request", "refresh_token is missing");
        };
        let n = self.next_number();
        let mut portal = self.lock();
        let Some(user) = portal.oidc.refresh.remove(refresh) else {
            return oauth_error(
                "invalid_grant",
                "the refresh token is invalid, expired or already used",
            );
        };
        let access = format!("fake-oidc-access-{n:08}");
        let rotated = format!("fake-refresh-{n:08}-r");
        portal.oidc.access.insert(access.clone(), user.clone());
        portal.oidc.refresh.insert(rotated.clone(), user);
        Response::json(
            200,
            &json!({
                "access_token": access,
                "expires_in": EXPIRES_IN,
                "token_type": "Bearer",
                "refresh_token": rotated,
                "scope": "openid offline_access"
            }),
        )
        .header("cache-control", "no-store")
    }
}

/// Standard base64 (padding optional); `None` outside the alphabet.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let url_safe: String = text
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    if text.contains(['-', '_']) {
        return None;
    }
    crate::util::base64url_decode(&url_safe)
}
