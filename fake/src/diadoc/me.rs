//! The caller's own records: `UpdateMyUser`, `GetMyOrganizations`, `GetMyEmployee`.

use serde_json::Value;
use userapi::diadoc::{FullName, Organization, OrganizationList};
use userapi::models::Extra;

use super::state::{box_id_shaped, looks_like_email};
use super::{Response, State, text};
use crate::server::Request;

impl State {
    /// `POST /UpdateMyUser`.
    pub(super) fn update(&self, user_id: &str, req: &Request) -> Response {
        let Ok(body) = req.json::<Value>() else {
            return text(400, "Request body is not valid JSON");
        };
        let login = body.pointer("/Login/Login").map(|v| v.as_str().unwrap_or(""));
        let name = body.pointer("/FullName/FullName");
        if login.is_none() && name.is_none() {
            return text(400, "At least one of Login or FullName must be set");
        }
        if let Some(login) = login
            && !looks_like_email(login)
        {
            return text(400, "Login must be a valid email address");
        }
        // Read by the fake's own field names, not through the client's model.
        let name = match name {
            None => None,
            Some(n) => {
                let part = |key: &str| n.get(key).and_then(Value::as_str);
                let filled = |key: &str| part(key).filter(|s| !s.trim().is_empty());
                let (Some(last), Some(first)) = (filled("LastName"), filled("FirstName")) else {
                    return text(400, "FullName requires LastName and FirstName");
                };
                let mut full = FullName::new(last, first);
                if let Some(middle) = part("MiddleName") {
                    full = full.middle_name(middle);
                }
                Some(full)
            }
        };
        let mut portal = self.lock();
        if let Some(login) = login {
            let taken = portal.accounts.iter().any(|a| {
                a.user.user_id != user_id
                    && a.user
                        .login
                        .as_deref()
                        .is_some_and(|l| l.eq_ignore_ascii_case(login))
            });
            if taken {
                return text(405, &format!("User with login {login} is already registered"));
            }
        }
        let Some(account) = portal.account_mut(user_id) else {
            return text(401, "Invalid auth token");
        };
        if let Some(login) = login {
            // Applies only once the user follows the link in the email.
            account.pending_login = Some(login.to_owned());
        }
        if let Some(name) = name {
            account.user.full_name = Some(name);
        }
        Response::json(200, &account.user)
    }

    /// `GET /GetMyOrganizations`.
    pub(super) fn organizations(&self, user_id: &str, req: &Request) -> Response {
        let register = match req.query("autoRegister") {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => return text(400, &format!("The value '{v}' is not valid for autoRegister")),
        };
        let mut portal = self.lock();
        if register {
            // A password user is never registered anywhere; the request is noted all the same.
            portal.registration_requests += 1;
        }
        let mine = |o: &&Organization| {
            o.boxes.iter().any(|b| {
                b.box_id_guid
                    .as_ref()
                    .is_some_and(|g| portal.employee(g.as_str(), user_id).is_some())
            })
        };
        let organizations = portal
            .organizations
            .iter()
            .filter(mine)
            .map(|o| {
                let mut o = o.clone();
                o.is_employee = Some(true);
                o
            })
            .collect();
        Response::json(
            200,
            &crate::util::build!(OrganizationList {
                organizations,
                extra: Extra::new(),
            }),
        )
    }

    /// `GET /GetMyEmployee`.
    pub(super) fn employee(&self, user_id: &str, req: &Request) -> Response {
        let Some(box_id) = req.query("boxId").filter(|b| !b.is_empty()) else {
            return text(400, "boxId is required");
        };
        if !box_id_shaped(box_id) {
            return text(400, &format!("Invalid boxId: {box_id}"));
        }
        let portal = self.lock();
        let found = portal
            .box_guid(box_id)
            .and_then(|guid| portal.employee(&guid, user_id).cloned());
        let Some(mut employee) = found else {
            return text(403, &format!("Access to Box [{box_id}] is denied"));
        };
        if let Some(account) = portal.account(user_id) {
            employee.user = account.user.clone();
        }
        Response::json(200, &employee)
    }
}
