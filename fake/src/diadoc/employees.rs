//! Employee administration, as Diadoc documents it: `GetEmployees`, `GetEmployee`,
//! `CreateEmployee`, `UpdateEmployee`, `DeleteEmployee`, for administrators of the box only.
//! Bodies are read by the fake's own field names, not through the client's models.

use serde_json::{Map, Value, json};
use userapi::diadoc::{Employee, EmployeePermissions, FullName, HEAD_DEPARTMENT, TicksTimestamp, UserV2};
use userapi::models::Timestamp;

use super::state::{Account, Portal, box_id_shaped, looks_like_email};
use super::{Response, State, text};
use crate::server::Request;

/// The most employees one page holds, and the default page size.
const MAX_COUNT: u64 = 50;
/// The longest `AuthorizationPermission.Comment`.
const MAX_COMMENT: usize = 500;

/// The documented access levels, by name and number.
const LEVELS: [(&str, i64); 4] = [
    ("DepartmentOnly", 0),
    ("DepartmentAndSubdepartments", 1),
    ("AllDocuments", 2),
    ("SelectedDepartments", 3),
];

type Refusal = Box<Response>;

fn bad(message: &str) -> Refusal {
    Box::new(text(400, message))
}

/// A GUID, `8-4-4-4-12` hexadecimal digits.
fn guid_shaped(s: &str) -> bool {
    !s.contains('@') && box_id_shaped(s)
}

/// .NET ticks at the Unix epoch.
const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// Now, as Diadoc's JSON `Timestamp`.
fn now_timestamp() -> TicksTimestamp {
    let since = crate::util::epoch_now();
    let ticks = UNIX_EPOCH_TICKS + i64::try_from(since.as_nanos() / 100).unwrap_or(0);
    let iso = crate::util::now_iso();
    crate::util::build!(TicksTimestamp {
        date_time: Some(Timestamp::new(iso)),
        ticks: Some(ticks)
    })
}

impl State {
    /// The box named by `boxId`, if the caller administers it; else the refusal. `GetEmployees`
    /// answers 404 for a box that does not exist (as documented); the others 403.
    fn administered_box(
        &self,
        portal: &Portal,
        caller: &str,
        req: &Request,
        unknown: u16,
    ) -> Result<String, Refusal> {
        let Some(box_id) = req.query("boxId").filter(|b| !b.is_empty()) else {
            return Err(bad("boxId is required"));
        };
        if !box_id_shaped(box_id) {
            return Err(bad(&format!("Invalid boxId: {box_id}")));
        }
        let Some(guid) = portal.box_guid(box_id) else {
            return Err(Box::new(if unknown == 404 {
                text(404, &format!("Box [{box_id}] not found"))
            } else {
                text(403, &format!("Access to Box [{box_id}] is denied"))
            }));
        };
        let Some(me) = portal.employee(&guid, caller) else {
            return Err(Box::new(text(
                403,
                &format!("Access to Box [{box_id}] is denied"),
            )));
        };
        if me.permissions.as_ref().and_then(|p| p.is_administrator) != Some(true) {
            // Diadoc does not document this text; the status is its.
            return Err(Box::new(text(
                403,
                &format!(
                    "Access to Box [{box_id}] is denied: the user is not an administrator of the organization"
                ),
            )));
        }
        Ok(guid)
    }

    /// The `userId` of a request about one employee.
    fn user_param(req: &Request) -> Result<String, Refusal> {
        match req.query("userId").filter(|u| !u.is_empty()) {
            None => Err(bad("userId is required")),
            Some(u) if !guid_shaped(u) => Err(bad(&format!("Invalid userId: {u}"))),
            Some(u) => Ok(u.to_owned()),
        }
    }

    pub(super) fn list_employees(&self, caller: &str, req: &Request) -> Response {
        let portal = self.lock();
        let guid = match self.administered_box(&portal, caller, req, 404) {
            Ok(g) => g,
            Err(refused) => return *refused,
        };
        let number = |name: &str, default: u64| match req.query(name) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| bad(&format!("The value '{v}' is not valid for {name}"))),
        };
        let (page, count) = match (number("page", 1), number("count", MAX_COUNT)) {
            (Ok(p), Ok(c)) => (p, c),
            (Err(r), _) | (_, Err(r)) => return *r,
        };
        if page < 1 {
            return text(400, "page must be 1 or more");
        }
        if !(1..=MAX_COUNT).contains(&count) {
            return text(400, &format!("count must be between 1 and {MAX_COUNT}"));
        }
        let mut all: Vec<Employee> = portal
            .employees
            .iter()
            .filter(|(b, _)| *b == guid)
            .map(|(_, e)| portal.current(e))
            .collect();
        // Those without a Diadoc account first, then by the date they were added.
        all.sort_by_key(|e| e.user.is_registered == Some(true));
        let total = all.len();
        let start = usize::try_from((page - 1).saturating_mul(count)).unwrap_or(usize::MAX);
        let employees: Vec<Employee> = all
            .into_iter()
            .skip(start)
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .collect();
        Response::json(200, &json!({"Employees": employees, "TotalCount": total}))
    }

    pub(super) fn get_employee(&self, caller: &str, req: &Request) -> Response {
        let portal = self.lock();
        let found = self
            .administered_box(&portal, caller, req, 403)
            .and_then(|guid| Ok((guid, Self::user_param(req)?)));
        let (guid, user) = match found {
            Ok(f) => f,
            Err(refused) => return *refused,
        };
        match portal.employee(&guid, &user) {
            Some(e) => Response::json(200, &portal.current(e)),
            None => text(404, &format!("User with id {user} not found in the box")),
        }
    }

    pub(super) fn create_employee(&self, caller: &str, req: &Request) -> Response {
        let guid = {
            let portal = self.lock();
            match self.administered_box(&portal, caller, req, 403) {
                Ok(g) => g,
                Err(refused) => return *refused,
            }
        };
        let Ok(Value::Object(body)) = req.json::<Value>() else {
            return text(400, "Request body is not valid JSON");
        };
        let new = match read_create(&body) {
            Ok(n) => n,
            Err(refused) => return *refused,
        };
        let new_id = self.guid();
        let mut portal = self.lock();
        let existing = portal
            .account_by_login(&new.login)
            .map(|a| a.user.user_id.to_string());
        let user_id = match existing {
            Some(id) => {
                if portal.employee(&guid, &id).is_some() {
                    return text(
                        409,
                        &format!("User {} is already an employee of the box", new.login),
                    );
                }
                id
            }
            None => {
                // No user has that login: one is created, unregistered until they confirm.
                let user = crate::util::build!(UserV2 {
                    user_id: new_id.parse().expect("the fake's GUIDs are user ids"),
                    login: Some(new.login.clone()),
                    full_name: new.full_name.clone(),
                    is_registered: Some(false)
                });
                portal.accounts.push(Account {
                    user,
                    password: None,
                    pending_login: None,
                });
                new_id
            }
        };
        let user = portal
            .account(&user_id)
            .expect("found or added above")
            .user
            .clone();
        let employee = crate::util::build!(Employee {
            user,
            permissions: Some(new.permissions),
            position: new.position,
            can_be_invited_for_chat: Some(new.can_be_invited_for_chat),
            creation_timestamp: Some(now_timestamp())
        });
        portal
            .deleted
            .retain(|(b, u)| !(*b == guid && u.eq_ignore_ascii_case(&user_id)));
        portal.employees.push((guid, employee.clone()));
        Response::json(200, &employee)
    }

    pub(super) fn update_employee(&self, caller: &str, req: &Request) -> Response {
        let mut portal = self.lock();
        let found = self
            .administered_box(&portal, caller, req, 403)
            .and_then(|guid| Ok((guid, Self::user_param(req)?)));
        let (guid, user) = match found {
            Ok(f) => f,
            Err(refused) => return *refused,
        };
        let Ok(Value::Object(body)) = req.json::<Value>() else {
            return text(400, "Request body is not valid JSON");
        };
        let departments = portal.departments_of(&guid);
        let Some(employee) = portal
            .employees
            .iter_mut()
            .find(|(b, e)| *b == guid && e.user.user_id.as_str().eq_ignore_ascii_case(&user))
            .map(|(_, e)| e)
        else {
            return text(404, &format!("User with id {user} not found in the box"));
        };
        // Everything is checked on a copy first: a refused update changes nothing.
        let mut changed = employee.clone();
        if let Err(refused) = apply_update(&mut changed, &body, &departments) {
            return *refused;
        }
        *employee = changed.clone();
        Response::json(200, &portal.current(&changed))
    }

    pub(super) fn delete_employee(&self, caller: &str, req: &Request) -> Response {
        let mut portal = self.lock();
        let found = self
            .administered_box(&portal, caller, req, 403)
            .and_then(|guid| Ok((guid, Self::user_param(req)?)));
        let (guid, user) = match found {
            Ok(f) => f,
            Err(refused) => return *refused,
        };
        let before = portal.employees.len();
        portal
            .employees
            .retain(|(b, e)| !(*b == guid && e.user.user_id.as_str().eq_ignore_ascii_case(&user)));
        if portal.employees.len() < before {
            portal.deleted.push((guid, user.to_ascii_lowercase()));
            return Response::empty(200);
        }
        if portal
            .deleted
            .iter()
            .any(|(b, u)| *b == guid && u.eq_ignore_ascii_case(&user))
        {
            // Already deleted: nothing to do, and a success.
            return Response::empty(200);
        }
        text(404, &format!("Employee with id {user} not found"))
    }
}

impl Portal {
    /// An employee with the user as the portal holds it now.
    fn current(&self, employee: &Employee) -> Employee {
        let mut e = employee.clone();
        if let Some(account) = self.account(employee.user.user_id.as_str()) {
            e.user = account.user.clone();
        }
        e
    }

    /// The departments an employee of the box may be put in: the head one and the
    /// organization's.
    fn departments_of(&self, box_guid: &str) -> Vec<String> {
        let org = self.organizations.iter().find(|o| {
            o.boxes
                .iter()
                .any(|b| b.box_id_guid.as_ref().is_some_and(|g| g.as_str() == box_guid))
        });
        std::iter::once(HEAD_DEPARTMENT.to_owned())
            .chain(
                org.into_iter()
                    .flat_map(|o| &o.departments)
                    .filter_map(|d| d.department_id.clone()),
            )
            .collect()
    }
}

/// A `CreateEmployee` body as the fake read it.
struct NewEmployee {
    login: String,
    full_name: Option<FullName>,
    position: Option<String>,
    can_be_invited_for_chat: bool,
    permissions: EmployeePermissions,
}

fn read_create(body: &Map<String, Value>) -> Result<NewEmployee, Refusal> {
    let credentials = body.get("Credentials").and_then(Value::as_object);
    let by_login = credentials.and_then(|c| c.get("Login")).filter(|v| !v.is_null());
    let by_cert = credentials
        .and_then(|c| c.get("Certificate"))
        .filter(|v| !v.is_null());
    let by_login = match (by_login, by_cert) {
        (Some(l), None) => l,
        (None, Some(_)) => {
            return Err(bad(
                "this fake plays Credentials.Login only: it cannot read a certificate's owner",
            ));
        }
        _ => {
            return Err(bad(
                "Exactly one of Credentials.Login and Credentials.Certificate must be set",
            ));
        }
    };
    let login = by_login.get("Login").and_then(Value::as_str).unwrap_or("");
    if !looks_like_email(login) {
        return Err(bad("Credentials.Login.Login must be a valid email address"));
    }
    let full_name = match by_login.get("FullName") {
        None | Some(Value::Null) => None,
        Some(n) => Some(read_full_name(n)?),
    };
    let position = match body.get("Position") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => return Err(bad("Position must be a string")),
    };
    let Some(can_be_invited_for_chat) = body.get("CanBeInvitedForChat").and_then(Value::as_bool) else {
        return Err(bad("CanBeInvitedForChat is required"));
    };
    let Some(p) = body.get("Permissions").and_then(Value::as_object) else {
        return Err(bad("Permissions is required"));
    };
    let Some(department) = p
        .get("UserDepartmentId")
        .and_then(Value::as_str)
        .filter(|d| guid_shaped(d))
    else {
        return Err(bad("Permissions.UserDepartmentId is required"));
    };
    let Some(is_admin) = p.get("IsAdministrator").and_then(Value::as_bool) else {
        return Err(bad("Permissions.IsAdministrator is required"));
    };
    let level = read_level(p.get("DocumentAccessLevel"))?;
    let mut permissions = EmployeePermissions::new(department, level.into()).administrator(is_admin);
    if let Some(ids) = p.get("SelectedDepartmentIds").filter(|v| !v.is_null()) {
        permissions.selected_department_ids = read_ids(ids)?;
    }
    if let Some(actions) = p.get("Actions").filter(|v| !v.is_null()) {
        for (name, allowed) in read_actions(actions)? {
            permissions = permissions.action(name.as_str(), allowed);
        }
    }
    if let Some(a) = p.get("AuthorizationPermission").filter(|v| !v.is_null()) {
        let (blocked, comment) = read_authorization(a)?;
        let mut auth = userapi::diadoc::AuthorizationPermission::default();
        auth.is_blocked = Some(blocked);
        auth.comment = comment;
        permissions.authorization_permission = Some(auth);
    }
    Ok(NewEmployee {
        login: login.to_owned(),
        full_name,
        position,
        can_be_invited_for_chat,
        permissions,
    })
}

fn read_full_name(n: &Value) -> Result<FullName, Refusal> {
    let part = |key: &str| n.get(key).and_then(Value::as_str);
    let filled = |key: &str| part(key).filter(|s| !s.trim().is_empty());
    let (Some(last), Some(first)) = (filled("LastName"), filled("FirstName")) else {
        return Err(bad("FullName requires LastName and FirstName"));
    };
    let mut full = FullName::new(last, first);
    if let Some(middle) = part("MiddleName") {
        full = full.middle_name(middle);
    }
    Ok(full)
}

/// A documented level, by name or number.
fn read_level(v: Option<&Value>) -> Result<&'static str, Refusal> {
    let found = match v {
        Some(Value::String(s)) => LEVELS.iter().find(|(name, _)| name == s),
        Some(Value::Number(n)) => LEVELS.iter().find(|(_, num)| n.as_i64() == Some(*num)),
        _ => return Err(bad("DocumentAccessLevel is required")),
    };
    found.map(|(name, _)| *name).ok_or_else(|| {
        bad(&format!(
            "Unknown DocumentAccessLevel: {}",
            v.map(Value::to_string).unwrap_or_default()
        ))
    })
}

fn read_ids(v: &Value) -> Result<Vec<String>, Refusal> {
    let Some(items) = v.as_array() else {
        return Err(bad("SelectedDepartmentIds must be a list"));
    };
    items
        .iter()
        .map(|i| match i.as_str() {
            Some(s) if guid_shaped(s) => Ok(s.to_owned()),
            _ => Err(bad(&format!("Invalid department id: {i}"))),
        })
        .collect()
}

fn read_actions(v: &Value) -> Result<Vec<(String, bool)>, Refusal> {
    let Some(items) = v.as_array() else {
        return Err(bad("Actions must be a list"));
    };
    items
        .iter()
        .map(|a| {
            match (
                a.get("Name").and_then(Value::as_str),
                a.get("IsAllowed").and_then(Value::as_bool),
            ) {
                (Some(name), Some(allowed)) if !name.is_empty() => Ok((name.to_owned(), allowed)),
                _ => Err(bad("Every action needs Name and IsAllowed")),
            }
        })
        .collect()
}

fn read_authorization(a: &Value) -> Result<(bool, Option<String>), Refusal> {
    let Some(blocked) = a.get("IsBlocked").and_then(Value::as_bool) else {
        return Err(bad("AuthorizationPermission.IsBlocked is required"));
    };
    let comment = a.get("Comment").and_then(Value::as_str).map(str::to_owned);
    if comment
        .as_deref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT)
    {
        return Err(bad(&format!(
            "AuthorizationPermission.Comment is longer than {MAX_COMMENT} characters"
        )));
    }
    Ok((blocked, comment))
}

/// The wrapper `body[key]`, which must be an object when present.
fn wrapper<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Map<String, Value>>, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(bad(&format!("{key} must be an object ({{\"{key}\": …}})"))),
    }
}

/// Applies an `EmployeeToUpdate`: only the wrappers present change anything; actions are a
/// delta.
fn apply_update(e: &mut Employee, body: &Map<String, Value>, departments: &[String]) -> Result<(), Refusal> {
    if let Some(p) = wrapper(body, "Position")? {
        e.position = match p.get("Position") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("Position.Position must be a string")),
        };
    }
    if let Some(c) = wrapper(body, "CanBeInvitedForChat")? {
        let Some(can) = c.get("CanBeInvitedForChat").and_then(Value::as_bool) else {
            return Err(bad("CanBeInvitedForChat.CanBeInvitedForChat is required"));
        };
        e.can_be_invited_for_chat = Some(can);
    }
    let Some(p) = wrapper(body, "Permissions")? else {
        return Ok(());
    };
    let perms = e.permissions.get_or_insert_with(EmployeePermissions::default);
    if let Some(d) = wrapper(p, "Department")? {
        let Some(id) = d.get("DepartmentId").and_then(Value::as_str) else {
            return Err(bad("Department.DepartmentId is required"));
        };
        if !departments.iter().any(|known| known.eq_ignore_ascii_case(id)) {
            return Err(bad(&format!("Department {id} not found in the organization")));
        }
        perms.user_department_id = Some(id.to_owned());
    }
    if let Some(a) = wrapper(p, "IsAdministrator")? {
        let Some(admin) = a.get("IsAdministrator").and_then(Value::as_bool) else {
            return Err(bad("IsAdministrator.IsAdministrator is required"));
        };
        perms.is_administrator = Some(admin);
    }
    if let Some(l) = wrapper(p, "DocumentAccessLevel")? {
        perms.document_access_level = Some(read_level(l.get("DocumentAccessLevel"))?.into());
    }
    if let Some(s) = wrapper(p, "SelectedDepartments")? {
        perms.selected_department_ids = match s.get("SelectedDepartmentIds") {
            None | Some(Value::Null) => Vec::new(),
            Some(ids) => read_ids(ids)?,
        };
    }
    if let Some(actions) = p.get("Actions").filter(|v| !v.is_null()) {
        for (name, allowed) in read_actions(actions)? {
            let action = userapi::diadoc::EmployeeAction::new(name.as_str(), allowed);
            match perms.actions.iter_mut().find(|a| a.name == action.name) {
                Some(existing) => existing.is_allowed = Some(allowed),
                None => perms.actions.push(action),
            }
        }
    }
    if let Some(a) = p.get("AuthorizationPermission").filter(|v| !v.is_null()) {
        let (blocked, comment) = read_authorization(a)?;
        let auth = perms
            .authorization_permission
            .get_or_insert_with(Default::default);
        auth.is_blocked = Some(blocked);
        auth.comment = comment;
    }
    Ok(())
}
