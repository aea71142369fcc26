//! Employee administration: the list of a box's employees (`EmployeeList`), the query that
//! pages it (`ListEmployees`), and the bodies of `CreateEmployee` (`EmployeeToCreate`) and
//! `UpdateEmployee` (`EmployeeToUpdate`).

use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::models::{Extra, Patch, response_model};

use super::*;

response_model! {
    /// `EmployeeList`, one page of `GET /GetEmployees`: the employees and how many the box
    /// has in all. Employees without a Diadoc account (`IsRegistered: false`) come first,
    /// then the others by the date they were added, oldest first.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct EmployeeList {
        /// The employees on this page.
        #[serde(default, deserialize_with = "list")]
        pub employees: Vec<Employee>,
        /// The number of employees of the box, not of this page. Required by the protocol;
        /// `None` only if a server leaves it out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_count: Option<u64>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// The most employees one page of `GET /GetEmployees` holds, and its default size.
pub const MAX_EMPLOYEES_PER_PAGE: u32 = 50;

/// The query of `GET /GetEmployees`: which page (from 1) and how many per page (1 to
/// [`MAX_EMPLOYEES_PER_PAGE`]). Unset, the server's defaults apply (page 1, 50 per page).
///
/// ```
/// use userapi::diadoc::ListEmployees;
/// // GET /GetEmployees?boxId=…&count=20&page=2
/// let query = ListEmployees::new().page(2).count(20);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ListEmployees {
    /// The page, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Employees per page, 1 to 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl ListEmployees {
    /// The server's defaults: the first page of 50.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page (from 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Sets the page size (1 to 50).
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// The documented ranges, checked before sending: `page` from 1, `count` 1 to 50.
    pub(crate) fn check(&self, op: &'static str) -> Result<(), Error> {
        if self.page == Some(0) {
            return Err(Error::invalid_input(op, "page counts from 1"));
        }
        if let Some(count) = self.count
            && !(1..=MAX_EMPLOYEES_PER_PAGE).contains(&count)
        {
            return Err(Error::invalid_input(
                op,
                format!("count must be 1 to {MAX_EMPLOYEES_PER_PAGE}, not {count}"),
            ));
        }
        Ok(())
    }
}

impl EmployeePermissions {
    /// Permissions for a new employee ([`EmployeeToCreate`]): the department
    /// ([`HEAD_DEPARTMENT`] for the head one) and which documents the employee sees; not an
    /// administrator, no action listed. Add actions with [`action`](Self::action).
    ///
    /// ```
    /// use userapi::diadoc::{DocumentAccessLevel, EmployeeActionName, EmployeePermissions, HEAD_DEPARTMENT};
    /// let permissions = EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments)
    ///     .action(EmployeeActionName::SignDocuments, true);
    /// assert_eq!(permissions.allows(EmployeeActionName::SignDocuments), Some(true));
    /// ```
    pub fn new(department_id: impl Into<String>, document_access_level: DocumentAccessLevel) -> Self {
        EmployeePermissions {
            user_department_id: Some(department_id.into()),
            is_administrator: Some(false),
            document_access_level: Some(document_access_level),
            ..Self::default()
        }
    }

    /// Makes the employee an administrator of the box, or not.
    pub fn administrator(mut self, is_administrator: bool) -> Self {
        self.is_administrator = Some(is_administrator);
        self
    }

    /// The departments whose documents the employee sees, with
    /// [`DocumentAccessLevel::SelectedDepartments`].
    pub fn selected_departments<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.selected_department_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Allows or forbids an action (replacing an earlier entry for the same action).
    pub fn action(mut self, name: impl Into<EmployeeActionName>, is_allowed: bool) -> Self {
        let action = EmployeeAction::new(name, is_allowed);
        self.actions.retain(|a| a.name != action.name);
        self.actions.push(action);
        self
    }

    /// The rules of a create body, checked before sending.
    fn check(&self) -> Result<(), String> {
        match self.user_department_id.as_deref() {
            Some(id) if guid_shaped(id) => {}
            Some(_) => return Err("Permissions.UserDepartmentId must be a department id (a GUID)".into()),
            None => return Err("Permissions.UserDepartmentId is required".into()),
        }
        if self.is_administrator.is_none() {
            return Err("Permissions.IsAdministrator is required".into());
        }
        match &self.document_access_level {
            None => return Err("Permissions.DocumentAccessLevel is required".into()),
            Some(level) => check_level(level)?,
        }
        check_departments(&self.selected_department_ids)?;
        check_actions(&self.actions)?;
        if let Some(p) = &self.authorization_permission {
            check_authorization(p)?;
        }
        Ok(())
    }
}

fn check_level(level: &DocumentAccessLevel) -> Result<(), String> {
    match level {
        DocumentAccessLevel::UnknownDocumentAccessLevel | DocumentAccessLevel::Unknown(_) => Err(format!(
            "DocumentAccessLevel {level} cannot be sent: use a level the service documents"
        )),
        _ => Ok(()),
    }
}

fn check_departments(ids: &[String]) -> Result<(), String> {
    match ids.iter().find(|id| !guid_shaped(id)) {
        Some(id) => Err(format!(
            "{:?} in SelectedDepartmentIds is not a department id (a GUID)",
            crate::error::clip(id)
        )),
        None => Ok(()),
    }
}

fn check_actions(actions: &[EmployeeAction]) -> Result<(), String> {
    if actions.iter().any(|a| a.name.is_none() || a.is_allowed.is_none()) {
        return Err("every action needs its Name and IsAllowed".into());
    }
    Ok(())
}

/// The longest `AuthorizationPermission.Comment` the service takes.
const MAX_COMMENT_CHARS: usize = 500;

fn check_authorization(p: &AuthorizationPermission) -> Result<(), String> {
    if p.is_blocked.is_none() {
        return Err("AuthorizationPermission.IsBlocked is required".into());
    }
    if p.comment
        .as_deref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(format!(
            "AuthorizationPermission.Comment has more than {MAX_COMMENT_CHARS} characters"
        ));
    }
    Ok(())
}

/// `EmployeeToCreate`, the body of `POST /CreateEmployee`: who (by login or by certificate),
/// the position, whether others may invite the employee to a chat, and the permissions.
///
/// ```
/// use userapi::diadoc::{DocumentAccessLevel, EmployeeActionName, EmployeePermissions, EmployeeToCreate, FullName, HEAD_DEPARTMENT};
/// let new = EmployeeToCreate::by_login(
///     "ivan@example.com",
///     EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments)
///         .action(EmployeeActionName::SignDocuments, true),
/// )
/// .full_name(FullName::new("Иванов", "Иван"))
/// .position("Бухгалтер");
/// # let _ = new;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EmployeeToCreate {
    /// Who: exactly one of a login or a certificate.
    pub credentials: EmployeeToCreateCredentials,
    /// The job title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Whether others may invite the employee to a chat.
    pub can_be_invited_for_chat: bool,
    /// What the employee may do; [`EmployeePermissions::new`] sets the required parts.
    pub permissions: EmployeePermissions,
}

/// `EmployeeToCreateCredentials`: exactly one of `Login` and `Certificate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EmployeeToCreateCredentials {
    /// By the login (email) of a Diadoc user, who is created when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<EmployeeToCreateByLogin>,
    /// By a qualified certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<EmployeeToCreateByCertificate>,
}

/// `EmployeeToCreateByLogin`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EmployeeToCreateByLogin {
    /// The user's login, an email address.
    pub login: String,
    /// The name of a user the service creates because no user has that login; ignored
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<FullName>,
}

/// `EmployeeToCreateByCertificate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EmployeeToCreateByCertificate {
    /// The X.509 certificate, DER (sent as base64).
    #[serde(serialize_with = "base64")]
    pub content: Vec<u8>,
    /// The basis of the employee's authority, needed when the certificate's INN is not the
    /// organization's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_basis: Option<String>,
    /// The login of a user found without one or created, and where the notice goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl EmployeeToCreate {
    /// An employee by login (an email address): the Diadoc user with that login, or a new
    /// one (give its [`full_name`](Self::full_name)), who then gets an email.
    pub fn by_login(login: impl Into<String>, permissions: EmployeePermissions) -> Self {
        EmployeeToCreate {
            credentials: EmployeeToCreateCredentials {
                login: Some(EmployeeToCreateByLogin {
                    login: login.into(),
                    full_name: None,
                }),
                certificate: None,
            },
            position: None,
            can_be_invited_for_chat: false,
            permissions,
        }
    }

    /// An employee by qualified certificate (DER bytes); set
    /// [`email`](Self::email) and, when the certificate's INN is not the organization's,
    /// [`access_basis`](Self::access_basis).
    pub fn by_certificate(der: impl Into<Vec<u8>>, permissions: EmployeePermissions) -> Self {
        EmployeeToCreate {
            credentials: EmployeeToCreateCredentials {
                login: None,
                certificate: Some(EmployeeToCreateByCertificate {
                    content: der.into(),
                    access_basis: None,
                    email: None,
                }),
            },
            position: None,
            can_be_invited_for_chat: false,
            permissions,
        }
    }

    /// The name of a user created by login (both required parts).
    pub fn full_name(mut self, full_name: FullName) -> Self {
        if let Some(login) = &mut self.credentials.login {
            login.full_name = Some(full_name);
        }
        self
    }

    /// The email of an employee by certificate.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        if let Some(c) = &mut self.credentials.certificate {
            c.email = Some(email.into());
        }
        self
    }

    /// The basis of authority of an employee by certificate.
    pub fn access_basis(mut self, basis: impl Into<String>) -> Self {
        if let Some(c) = &mut self.credentials.certificate {
            c.access_basis = Some(basis.into());
        }
        self
    }

    /// The job title.
    pub fn position(mut self, position: impl Into<String>) -> Self {
        self.position = Some(position.into());
        self
    }

    /// Whether others may invite the employee to a chat (default `false`).
    pub fn can_be_invited_for_chat(mut self, can: bool) -> Self {
        self.can_be_invited_for_chat = can;
        self
    }

    /// The documented rules, checked before sending.
    pub(crate) fn check(&self, op: &'static str) -> Result<(), Error> {
        self.check_rules().map_err(|m| Error::invalid_input(op, m))
    }

    fn check_rules(&self) -> Result<(), String> {
        match (&self.credentials.login, &self.credentials.certificate) {
            (Some(_), Some(_)) | (None, None) => {
                return Err("Credentials needs exactly one of Login and Certificate".into());
            }
            (Some(by_login), None) => {
                if !email_shaped(&by_login.login) {
                    return Err("Credentials.Login.Login must be an email address".into());
                }
                if by_login.full_name.as_ref().is_some_and(FullName::is_empty) {
                    return Err("FullName needs non-empty LastName and FirstName".into());
                }
            }
            (None, Some(by_cert)) => {
                if by_cert.content.is_empty() {
                    return Err("Credentials.Certificate.Content is empty".into());
                }
                if by_cert.email.as_deref().is_some_and(|e| !email_shaped(e)) {
                    return Err("Credentials.Certificate.Email must be an email address".into());
                }
            }
        }
        self.permissions.check()
    }
}

/// Standard base64 with padding, as protobuf's JSON mapping writes `bytes`.
fn base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    s.serialize_str(&out)
}

/// `EmployeeToUpdate`, the body of `POST /UpdateEmployee`: a patch. Only what is set is
/// sent; the rest stays as it is. On the wire every value sits in a wrapper of its own
/// (`"Position": {"Position": "…"}`), which this type writes for you. Actions are a delta:
/// those listed are allowed or forbidden, the others keep their value.
///
/// ```
/// use userapi::diadoc::{DocumentAccessLevel, EmployeeActionName, EmployeeToUpdate};
/// let update = EmployeeToUpdate::new()
///     .position("Главный бухгалтер")
///     .document_access_level(DocumentAccessLevel::AllDocuments)
///     .action(EmployeeActionName::SignDocuments, false);
/// assert_eq!(
///     serde_json::to_value(&update)?,
///     serde_json::json!({
///         "Permissions": {
///             "DocumentAccessLevel": {"DocumentAccessLevel": "AllDocuments"},
///             "Actions": [{"Name": "SignDocuments", "IsAllowed": false}]
///         },
///         "Position": {"Position": "Главный бухгалтер"}
///     })
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct EmployeeToUpdate {
    /// The job title: set, cleared (an empty wrapper), or left alone.
    pub position: Patch<String>,
    /// Whether others may invite the employee to a chat.
    pub can_be_invited_for_chat: Option<bool>,
    /// The employee's department ([`HEAD_DEPARTMENT`] for the head one).
    pub department_id: Option<String>,
    /// Administrator of the box, or not.
    pub is_administrator: Option<bool>,
    /// Which documents the employee sees.
    pub document_access_level: Option<DocumentAccessLevel>,
    /// The departments seen with [`DocumentAccessLevel::SelectedDepartments`].
    pub selected_department_ids: Option<Vec<String>>,
    /// Actions to allow or forbid; unlisted ones keep their value.
    pub actions: Vec<EmployeeAction>,
    /// Block or unblock the employee's sign-in, with a comment (at most 500 characters).
    pub authorization_permission: Option<AuthorizationPermission>,
}

impl EmployeeToUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the job title.
    pub fn position(mut self, position: impl Into<String>) -> Self {
        self.position = Patch::Set(position.into());
        self
    }

    /// Clears the job title.
    pub fn clear_position(mut self) -> Self {
        self.position = Patch::Clear;
        self
    }

    /// Whether others may invite the employee to a chat.
    pub fn can_be_invited_for_chat(mut self, can: bool) -> Self {
        self.can_be_invited_for_chat = Some(can);
        self
    }

    /// Moves the employee to a department.
    pub fn department(mut self, department_id: impl Into<String>) -> Self {
        self.department_id = Some(department_id.into());
        self
    }

    /// Makes the employee an administrator of the box, or not.
    pub fn administrator(mut self, is_administrator: bool) -> Self {
        self.is_administrator = Some(is_administrator);
        self
    }

    /// Sets which documents the employee sees.
    pub fn document_access_level(mut self, level: DocumentAccessLevel) -> Self {
        self.document_access_level = Some(level);
        self
    }

    /// Sets the departments seen with [`DocumentAccessLevel::SelectedDepartments`].
    pub fn selected_departments<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.selected_department_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Allows or forbids an action (replacing an earlier entry for the same action).
    pub fn action(mut self, name: impl Into<EmployeeActionName>, is_allowed: bool) -> Self {
        let action = EmployeeAction::new(name, is_allowed);
        self.actions.retain(|a| a.name != action.name);
        self.actions.push(action);
        self
    }

    /// Blocks the employee's sign-in, saying why.
    pub fn block(mut self, comment: impl Into<String>) -> Self {
        self.authorization_permission = Some(AuthorizationPermission {
            is_blocked: Some(true),
            comment: Some(comment.into()),
            extra: Extra::new(),
        });
        self
    }

    /// Unblocks the employee's sign-in.
    pub fn unblock(mut self) -> Self {
        self.authorization_permission = Some(AuthorizationPermission {
            is_blocked: Some(false),
            comment: None,
            extra: Extra::new(),
        });
        self
    }

    fn permissions_set(&self) -> bool {
        self.department_id.is_some()
            || self.is_administrator.is_some()
            || self.document_access_level.is_some()
            || self.selected_department_ids.is_some()
            || !self.actions.is_empty()
            || self.authorization_permission.is_some()
    }

    /// The documented rules, checked before sending: something to change, ids shaped as
    /// GUIDs, a level the service documents, a comment of at most 500 characters.
    pub(crate) fn check(&self, op: &'static str) -> Result<(), Error> {
        self.check_rules().map_err(|m| Error::invalid_input(op, m))
    }

    fn check_rules(&self) -> Result<(), String> {
        if !self.permissions_set() && self.position.is_unchanged() && self.can_be_invited_for_chat.is_none() {
            return Err("set something to change: the update is empty".into());
        }
        if let Some(id) = &self.department_id
            && !guid_shaped(id)
        {
            return Err("the department id must be a GUID".into());
        }
        if let Some(level) = &self.document_access_level {
            check_level(level)?;
        }
        if let Some(ids) = &self.selected_department_ids {
            check_departments(ids)?;
        }
        check_actions(&self.actions)?;
        if let Some(p) = &self.authorization_permission {
            check_authorization(p)?;
        }
        Ok(())
    }
}

impl Serialize for EmployeeToUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Wire<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            permissions: Option<PermissionsPatch<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            position: Option<PositionPatch<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            can_be_invited_for_chat: Option<ChatPatch>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct PermissionsPatch<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            department: Option<DepartmentPatch<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            is_administrator: Option<AdministratorPatch>,
            #[serde(skip_serializing_if = "Option::is_none")]
            document_access_level: Option<LevelPatch<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            selected_departments: Option<SelectedPatch<'a>>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            actions: &'a [EmployeeAction],
            #[serde(skip_serializing_if = "Option::is_none")]
            authorization_permission: Option<&'a AuthorizationPermission>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct PositionPatch<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            position: Option<&'a str>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct ChatPatch {
            can_be_invited_for_chat: bool,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct DepartmentPatch<'a> {
            department_id: &'a str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct AdministratorPatch {
            is_administrator: bool,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct LevelPatch<'a> {
            document_access_level: &'a DocumentAccessLevel,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct SelectedPatch<'a> {
            selected_department_ids: &'a [String],
        }
        let permissions = self.permissions_set().then(|| PermissionsPatch {
            department: self
                .department_id
                .as_deref()
                .map(|department_id| DepartmentPatch { department_id }),
            is_administrator: self
                .is_administrator
                .map(|is_administrator| AdministratorPatch { is_administrator }),
            document_access_level: self.document_access_level.as_ref().map(|document_access_level| {
                LevelPatch {
                    document_access_level,
                }
            }),
            selected_departments: self
                .selected_department_ids
                .as_deref()
                .map(|selected_department_ids| SelectedPatch {
                    selected_department_ids,
                }),
            actions: &self.actions,
            authorization_permission: self.authorization_permission.as_ref(),
        });
        let position = match &self.position {
            Patch::Unchanged => None,
            Patch::Clear => Some(PositionPatch { position: None }),
            Patch::Set(p) => Some(PositionPatch { position: Some(p) }),
        };
        Wire {
            permissions,
            position,
            can_be_invited_for_chat: self
                .can_be_invited_for_chat
                .map(|can_be_invited_for_chat| ChatPatch {
                    can_be_invited_for_chat,
                }),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_protobuf_json_writes_bytes() {
        let enc = |b: &[u8]| {
            let mut out = Vec::new();
            base64(b, &mut serde_json::Serializer::new(&mut out)).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(enc(b""), r#""""#);
        assert_eq!(enc(b"f"), r#""Zg==""#);
        assert_eq!(enc(b"fo"), r#""Zm8=""#);
        assert_eq!(enc(b"foo"), r#""Zm9v""#);
        assert_eq!(enc(b"foob"), r#""Zm9vYg==""#);
        assert_eq!(enc(&[0xff, 0xfe, 0x00]), r#""//4A""#);
    }

    #[test]
    fn list_employees_ranges() {
        let op = "t";
        assert!(ListEmployees::new().check(op).is_ok());
        assert!(ListEmployees::new().page(1).count(1).check(op).is_ok());
        assert!(ListEmployees::new().count(50).check(op).is_ok());
        for bad in [
            ListEmployees::new().page(0),
            ListEmployees::new().count(0),
            ListEmployees::new().count(51),
        ] {
            assert!(bad.check(op).unwrap_err().is_invalid_input(), "{bad:?}");
        }
    }

    #[test]
    fn update_rules() {
        let op = "t";
        assert!(EmployeeToUpdate::new().check(op).is_err(), "empty");
        assert!(EmployeeToUpdate::new().clear_position().check(op).is_ok());
        assert!(EmployeeToUpdate::new().department("x").check(op).is_err());
        assert!(EmployeeToUpdate::new().block("é".repeat(500)).check(op).is_ok());
        assert!(EmployeeToUpdate::new().block("é".repeat(501)).check(op).is_err());
        assert!(
            EmployeeToUpdate::new()
                .document_access_level(DocumentAccessLevel::UnknownDocumentAccessLevel)
                .check(op)
                .is_err()
        );
        assert!(
            EmployeeToUpdate::new()
                .selected_departments(["15d57c9b-645d-4710-85fa-b166e2cfcfc8", "../x"])
                .check(op)
                .is_err()
        );
        let json = serde_json::to_value(
            EmployeeToUpdate::new()
                .clear_position()
                .can_be_invited_for_chat(true),
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"Position": {}, "CanBeInvitedForChat": {"CanBeInvitedForChat": true}})
        );
    }

    #[test]
    fn create_rules() {
        let op = "t";
        let perms = || EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments);
        assert!(EmployeeToCreate::by_login("a@b.ru", perms()).check(op).is_ok());
        assert!(
            EmployeeToCreate::by_login("not an email", perms())
                .check(op)
                .is_err()
        );
        assert!(
            EmployeeToCreate::by_certificate(Vec::new(), perms())
                .check(op)
                .is_err()
        );
        assert!(
            EmployeeToCreate::by_certificate(vec![0x30], perms())
                .check(op)
                .is_ok()
        );
        let mut both = EmployeeToCreate::by_login("a@b.ru", perms());
        both.credentials.certificate = Some(EmployeeToCreateByCertificate::default());
        assert!(both.check(op).is_err());
        let mut no_admin = perms();
        no_admin.is_administrator = None;
        assert!(EmployeeToCreate::by_login("a@b.ru", no_admin).check(op).is_err());
        assert!(
            EmployeeToCreate::by_login(
                "a@b.ru",
                EmployeePermissions::new("head", DocumentAccessLevel::AllDocuments)
            )
            .check(op)
            .is_err()
        );
    }
}
