//! Routing, and `/api/session`: login, logout, password resets.

#![allow(unused_imports)]

use crate::metabase::*;

impl Instance {
    pub(crate) fn route(&mut self, req: &Request) -> Response {
        let segs = req.segs();
        let ["api", prefix, rest @ ..] = segs.as_slice() else {
            return not_found();
        };
        // The paging middleware runs before routes and credentials.
        if let Err(bad) = paging(req, &self.config) {
            return *bad;
        }
        if *prefix == "session" {
            return self.session_route(req, rest);
        }
        if !AUTH_PREFIXES.contains(prefix) {
            return no_endpoint();
        }
        let Some(caller) = self.caller(req) else {
            return unauthenticated();
        };
        match *prefix {
            "user" => self.user_route(caller, req, rest),
            "api-key" => self.key_route(caller, req, rest),
            "permissions" => self.permissions_route(caller, req, rest),
            "login-history" => match (&req.method, rest) {
                (&Method::GET, ["current"]) => self.login_history(caller),
                _ => no_endpoint(),
            },
            "user-key-value" => self.value_route(caller, req, rest),
            _ => no_endpoint(),
        }
    }

    // -- /api/session -----------------------------------------------------------------------

    pub(crate) fn session_route(&mut self, req: &Request, rest: &[&str]) -> Response {
        match (&req.method, rest) {
            (&Method::POST, []) => self.login(req),
            (&Method::DELETE, []) => {
                let Some(session) = session_named(req) else {
                    return not_found();
                };
                match self.sessions.remove(session) {
                    Some(_) => cleared_cookies(Response::empty(204)),
                    None => not_found(),
                }
            }
            (&Method::POST, ["password-check"]) => {
                let Some(body) = body_map(req) else {
                    return invalid_request();
                };
                let mut p = Problems::default();
                p.password(&body, "password");
                p.response()
                    .unwrap_or_else(|| Response::json(200, &json!({"valid": true})))
            }
            (&Method::POST, ["forgot_password"]) => self.forgot_password(req),
            (&Method::GET, ["properties"]) => self.properties(req),
            (&Method::GET, ["password_reset_token_valid"]) => {
                let token = req.query("token");
                let mut p = Problems::default();
                let mut params = Map::new();
                if let Some(t) = token {
                    params.insert("token".into(), json!(t));
                }
                let token = p.non_blank(&params, "token", true, false);
                if let Some(bad) = p.response() {
                    return bad;
                }
                let valid = token.is_some_and(|t| self.reset_user(&t).is_some());
                Response::json(200, &json!({"valid": valid}))
            }
            (&Method::POST, ["reset_password"]) => self.reset_password(req),
            _ => no_endpoint(),
        }
    }

    /// `GET /api/session/properties`: the public settings (and, signed in, a few more), as
    /// the emulated version and edition publish them.
    pub(crate) fn properties(&self, req: &Request) -> Response {
        let enterprise = self.config.enterprise();
        let features: Map<String, Value> = [
            "advanced_permissions",
            "audit_app",
            "sandboxes",
            "sso_google",
            "sso_jwt",
            "sso_ldap",
            "sso_saml",
            "whitelabel",
            "embedding",
            "scim",
            "serialization",
            "tenants",
            "support-users",
        ]
        .into_iter()
        .map(|f| (f.to_owned(), json!(enterprise)))
        .collect();
        let mut out = json!({
            "version": {"tag": self.config.tag(), "hash": "f4ce0de", "date": "2025-12-15"},
            "token-features": features,
            "password-complexity": {"total": 6, "digit": 1},
            "available-locales": AVAILABLE_LOCALES.iter().map(|(c, n)| json!([c, n])).collect::<Vec<_>>(),
            "site-name": "Fake Metabase",
            "site-url": null,
            "setup-token": null,
            "enable-password-login": true,
            "session-cookies": null,
        });
        if self.caller(req).is_some() {
            out["has-sample-database?"] = json!(false);
        }
        Response::json(200, &out)
    }

    pub(crate) fn login(&mut self, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let username = p.non_blank(&body, "username", true, false);
        let password = p.non_blank(&body, "password", true, false);
        if let Some(bad) = p.response() {
            return bad;
        }
        let (Some(username), Some(password)) = (username, password) else {
            return invalid_request();
        };
        // Throttled per user name (10) and per address (50), every attempt counted; the
        // attempt past the limit is refused before the password is looked at.
        if let Some(wait) = self
            .throttled(format!("login-user:{}", username.to_lowercase()), 10)
            .or_else(|| self.throttled(format!("login-ip:{}", client_address(req)), 50))
        {
            return Response::json(
                401,
                &json!({"errors": {"username": format!("Too many attempts! You must wait {wait} seconds before trying again.")}}),
            );
        }
        let remember = body.get("remember").and_then(Value::as_bool).unwrap_or(false);
        let found = self
            .people
            .iter()
            .find(|p| p.kind == Kind::Personal && p.email.eq_ignore_ascii_case(&username))
            .map(|p| (p.id, p.password == password, p.active));
        match found {
            Some((_, true, false)) => {
                Response::json(401, &json!({"errors": {"_error": "Your account is disabled."}}))
            }
            Some((id, true, true)) => self.start_login(id, req, Value::Null, remember),
            _ => Response::json(
                401,
                &json!({"errors": {"password": "did not match stored password"}}),
            ),
        }
    }

    pub(crate) fn forgot_password(&mut self, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let email = p.email(&body, "email", true, false);
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(email) = email else {
            return invalid_request();
        };
        // Three requests per email (as sent) within a second; the attempt counts either way.
        let now = Instant::now();
        let attempts = self.forgot_attempts.entry(email.clone()).or_default();
        attempts.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        let throttled = attempts.len() >= 3;
        attempts.push(now);
        let by_address = self.throttled(format!("forgot-ip:{}", client_address(req)), 50);
        if (throttled && self.config.throttle) || by_address.is_some() {
            return field_error(
                "email",
                "Too many attempts! You must wait 15 seconds before trying again.",
            );
        }
        let user = self
            .people
            .iter()
            .find(|p| p.kind == Kind::Personal && p.email.eq_ignore_ascii_case(&email))
            .map(|p| p.id);
        if let Some(id) = user {
            let token = format!("{id}_{}", self.uuid());
            if let Some(p) = self.person_mut(id) {
                p.reset = Some(ResetToken {
                    token: token.clone(),
                    issued: now,
                });
            }
            self.last_reset = Some(token);
        }
        Response::empty(204)
    }

    /// Records an attempt under `key` and, past `limit` attempts within an hour, the seconds
    /// to wait (15 × excess^1.5, as Metabase's throttler); `None` when throttling is off.
    pub(crate) fn throttled(&mut self, key: String, limit: usize) -> Option<u64> {
        if !self.config.throttle {
            return None;
        }
        let now = Instant::now();
        let attempts = self.login_attempts.entry(key).or_default();
        attempts.retain(|t| now.duration_since(*t) < Duration::from_secs(3600));
        attempts.push(now);
        let excess = attempts.len().saturating_sub(limit);
        (excess > 0).then(|| (15.0 * (excess as f64).powf(1.5)).round() as u64)
    }

    /// The active user whose live reset token this is.
    pub(crate) fn reset_user(&self, token: &str) -> Option<u64> {
        let (id, _) = token.split_once('_')?;
        let id = id.parse::<u64>().ok()?;
        let p = self.person(id).filter(|p| p.active)?;
        let reset = p.reset.as_ref()?;
        (reset.token == token && reset.issued.elapsed() < RESET_TOKEN_TTL).then_some(id)
    }

    pub(crate) fn reset_password(&mut self, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let token = p.non_blank(&body, "token", true, false);
        let password = p.password(&body, "password");
        if let Some(bad) = p.response() {
            return bad;
        }
        let (Some(token), Some(password)) = (token, password) else {
            return invalid_request();
        };
        // Ten attempts an hour from one address, counted once the body is valid.
        let now = Instant::now();
        self.reset_attempts
            .retain(|t| now.duration_since(*t) < Duration::from_secs(3600));
        let throttled = self.reset_attempts.len() >= 10;
        self.reset_attempts.push(now);
        if throttled {
            return field_error(
                "password",
                "Too many attempts! You must wait 15 seconds before trying again.",
            );
        }
        let Some(id) = self.reset_user(&token) else {
            return field_error("password", "Invalid reset token");
        };
        if let Some(p) = self.person_mut(id) {
            p.password = password;
            p.reset = None;
        }
        self.sessions.retain(|_, user| *user != id);
        self.start_login(id, req, json!({"success": true}), false)
    }
}
