//! How the fake Metabase answers: its error bodies, cookies, and users as each endpoint shows them; what it reads off a request.

#![allow(unused_imports)]

use super::*;

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

pub(crate) fn text(status: u16, body: &str) -> Response {
    Response::text(status, body)
}

pub(crate) fn unauthenticated() -> Response {
    text(401, "Unauthenticated")
}

pub(crate) fn forbidden() -> Response {
    text(403, "You don't have permissions to do that.")
}

pub(crate) fn not_found() -> Response {
    text(404, "Not found.")
}

pub(crate) fn no_endpoint() -> Response {
    text(404, "API endpoint does not exist.")
}

pub(crate) fn invalid_request() -> Response {
    text(400, "Invalid Request.")
}

pub(crate) fn field_error(field: &str, message: &str) -> Response {
    Response::json(400, &json!({"errors": {field: message}}))
}

/// An exception the server did not expect: its message and stack-trace keys.
pub(crate) fn server_error(message: &str) -> Response {
    Response::json(500, &json!({"message": message, "via": [], "trace": []}))
}

pub(crate) fn last_admin() -> Response {
    text(400, "You cannot remove the last member of the 'Admin' group!")
}

pub(crate) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers.append(SET_COOKIE, value);
    }
    response
}

/// The two cookies every call that starts a session sets, in the server's order.
pub(crate) fn session_cookies(response: Response, session: &str, remember: bool) -> Response {
    let response = with_cookie(
        response,
        &format!("metabase.TIMEOUT=alive;SameSite=Lax;Path=/;Max-Age={SESSION_MAX_AGE}"),
    );
    let mut cookie = format!("metabase.SESSION={session};SameSite=Lax;Path=/;HttpOnly");
    if remember {
        cookie.push_str(";Max-Age=");
        cookie.push_str(SESSION_MAX_AGE);
    }
    with_cookie(response, &cookie)
}

pub(crate) fn cleared_cookies(response: Response) -> Response {
    [
        "metabase.SESSION",
        "metabase.EMBEDDED_SESSION",
        "metabase.TIMEOUT",
    ]
    .into_iter()
    .fold(response, |r, name| {
        with_cookie(r, &format!("{name}=;Expires=Thu, 1 Jan 1970 00:00:00 GMT;Path=/"))
    })
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/// Which column set to render.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum View {
    /// `GET /api/user` as a superuser.
    List,
    /// `GET /api/user/:id`.
    One,
    /// `GET /api/user/current`.
    Current,
    /// `POST` and `PUT /api/user`.
    Written,
    /// The admin-or-self columns and `common_name` (reactivation, a superuser's recipients).
    Plain,
    /// What a non-admin sees of others.
    Others,
    /// `GET /api/user` as an Enterprise group manager: the group-manager columns,
    /// `common_name` and `group_ids`.
    Manager,
}

impl Person {
    pub(crate) fn superuser(&self) -> bool {
        self.groups.contains(&ADMINS)
    }

    pub(crate) fn common_name(&self) -> String {
        let name = format!(
            "{} {}",
            self.first_name.as_deref().unwrap_or(""),
            self.last_name.as_deref().unwrap_or("")
        );
        let name = name.trim();
        if name.is_empty() && self.first_name.is_none() && self.last_name.is_none() {
            self.email.clone()
        } else {
            name.to_owned()
        }
    }

    pub(crate) fn set_groups(&mut self, groups: impl IntoIterator<Item = u64>) {
        let mut groups: Vec<u64> = groups.into_iter().collect();
        groups.sort_unstable();
        groups.dedup();
        self.groups = groups;
    }

    pub(crate) fn render(&self, view: View) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("email".into(), json!(self.email));
        m.insert("first_name".into(), json!(self.first_name));
        m.insert("last_name".into(), json!(self.last_name));
        m.insert("common_name".into(), json!(self.common_name()));
        if view == View::Others {
            return Value::Object(m);
        }
        if view == View::Manager {
            m.insert("is_superuser".into(), json!(self.superuser()));
            m.insert("last_login".into(), json!(self.last_login));
            m.insert("group_ids".into(), json!(self.groups));
            return Value::Object(m);
        }
        let admin_or_self = json!({
            "date_joined": self.date_joined, "last_login": self.last_login,
            "updated_at": self.updated_at, "is_active": self.active, "is_superuser": self.superuser(),
            "is_data_analyst": self.data_analyst, "is_qbnewb": self.qbnewb, "tenant_id": null, "sso_source": null,
            "login_attributes": self.login_attributes, "jwt_attributes": null, "locale": self.locale,
        });
        if let Value::Object(extra) = admin_or_self {
            m.extend(extra);
        }
        let memberships: Vec<Value> = self.groups.iter().map(|g| json!({"id": g})).collect();
        let personal_collection = match self.kind {
            Kind::Personal => json!(self.id + 100),
            Kind::ApiKey => Value::Null,
        };
        match view {
            View::List | View::Current => {
                m.insert("group_ids".into(), json!(self.groups));
                m.insert("personal_collection_id".into(), personal_collection);
                m.insert("tenant_collection_id".into(), Value::Null);
            }
            View::One => {
                m.insert("user_group_memberships".into(), json!(memberships));
                let structured: Map<String, Value> = self
                    .login_attributes
                    .as_ref()
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), json!({"source": "user", "frozen": false, "value": v})))
                    .collect();
                m.insert("structured_attributes".into(), Value::Object(structured));
            }
            View::Written => {
                m.insert("user_group_memberships".into(), json!(memberships));
            }
            View::Plain | View::Others | View::Manager => {}
        }
        if view == View::Current {
            let current = json!({
                "attributes": self.login_attributes.clone().unwrap_or_else(|| json!({})),
                "is_installer": self.id == 1, "has_invited_second_user": true,
                "has_question_and_dashboard": false, "has_model": false, "first_login": "2024-03-01T10:20:00Z",
                "custom_homepage": null, "can_write_any_collection": self.superuser(),
                "permissions": {"can_create_queries": true, "can_create_native_queries": self.superuser()},
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
pub(crate) struct Caller {
    pub(crate) id: u64,
    pub(crate) superuser: bool,
}

/// The `metabase.SESSION` cookie, if the request carries one.
pub(crate) fn session_cookie(req: &Request) -> Option<&str> {
    req.headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("metabase.SESSION="))
}

/// The session a request names: the cookie wins over the header; a value that is not a UUID
/// is not read.
pub(crate) fn session_named(req: &Request) -> Option<&str> {
    session_cookie(req)
        .or_else(|| req.header("x-metabase-session"))
        .filter(|s| uuid_shaped(s))
}

/// `<device type> (<browser>/<OS>)` from a `User-Agent`.
pub(crate) fn describe_agent(agent: Option<&str>) -> String {
    let ua = agent.unwrap_or("unknown");
    let os = [
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "Mac OS X"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Unknown", |(_, os)| os);
    let mobile = ua.contains("Mobile");
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, b)| b);
    match browser {
        Some(b) if mobile => format!("Mobile Browser (Mobile {b}/{os})"),
        Some(b) => format!("Browser ({b}/{os})"),
        None => {
            let name = ua
                .split(['/', ' '])
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("unknown");
            format!("Library ({name}/{os})")
        }
    }
}

/// The client's address: the last `X-Forwarded-For` entry, else loopback.
pub(crate) fn client_address(req: &Request) -> String {
    req.header("x-forwarded-for")
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

pub(crate) fn body_map(req: &Request) -> Option<Map<String, Value>> {
    if req.body.is_empty() {
        return Some(Map::new());
    }
    match req.json::<Value>() {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

pub(crate) fn parse_id(raw: &str) -> Option<u64> {
    raw.parse::<u64>().ok().filter(|id| *id > 0)
}

/// The schema error for an id that is not a positive integer.
pub(crate) fn bad_id(raw: &str) -> Response {
    let shown = raw.parse::<i64>().map_or_else(|_| json!(raw), |n| json!(n));
    let mut p = Problems::default();
    p.add(
        "id",
        "value must be an integer greater than zero.".into(),
        vec![format!(
            "value must be an integer greater than zero., received: {}",
            received(&shown)
        )],
    );
    p.response().unwrap_or_else(invalid_request)
}
