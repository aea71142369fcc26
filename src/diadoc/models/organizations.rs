//! Organizations, boxes, departments and employees (`GET /GetMyOrganizations`,
//! `GET /GetMyEmployee`), and the protocol's enums.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};

use crate::models::{Extra, Timestamp, response_model, string_enum};

use super::*;

// ---------------------------------------------------------------------------------------------
// Organizations and boxes (`GET /GetMyOrganizations`)
// ---------------------------------------------------------------------------------------------

/// An enum the protocol may send as its name or as its number.
pub(super) trait ProtoEnum: for<'a> From<&'a str> {
    /// The name of the value numbered `n` in the `.proto`, if known.
    fn name_of(n: i64) -> Option<&'static str>;
}

/// Reads a [`ProtoEnum`] from a string, a number or `null`. An unknown number is kept as its
/// digits in `Unknown`.
pub(super) fn proto_enum<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: ProtoEnum,
{
    use serde::de::Error as _;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(T::from(s.as_str()))),
        Some(serde_json::Value::Number(n)) => {
            let digits = n.to_string();
            let name = n.as_i64().and_then(T::name_of).unwrap_or(&digits);
            Ok(Some(T::from(name)))
        }
        Some(other) => Err(D::Error::custom(format!(
            "expected an enum name or number, found {other}"
        ))),
    }
}

/// A repeated field: absent and `null` read as empty.
pub(super) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

macro_rules! proto_numbers {
    ($name:ident { $($n:literal => $text:literal),+ $(,)? }) => {
        impl ProtoEnum for $name {
            fn name_of(n: i64) -> Option<&'static str> {
                match n {
                    $($n => Some($text),)+
                    _ => None,
                }
            }
        }
    };
}

string_enum! {
    /// `Sociability`: who may find the organization and send it documents.
    pub enum Sociability {
        /// Any organization.
        AllOrganizations => "AllOrganizations",
        /// Its counteragents only.
        CounteragentsOnly => "CounteragentsOnly",
    }
}
proto_numbers!(Sociability { 0 => "AllOrganizations", 1 => "CounteragentsOnly" });

string_enum! {
    /// `OrganizationType`.
    pub enum OrganizationType {
        /// Not known to the server.
        UnknownOrganizationType => "UnknownOrganizationType",
        /// A sole proprietor.
        Individual => "Individual",
        /// A legal entity.
        Juridical => "Juridical",
        /// A natural person.
        PhysicalPerson => "PhysicalPerson",
    }
}
proto_numbers!(OrganizationType {
    0 => "UnknownOrganizationType",
    1 => "Individual",
    2 => "Juridical",
    3 => "PhysicalPerson",
});

string_enum! {
    /// `ReadyForEpdStatus`: whether the organization is ready for electronic waybills.
    pub enum ReadyForEpdStatus {
        /// Not known to the server.
        UnknownEpdStatus => "UnknownEpdStatus",
        /// Not determined.
        UndefinedEpdStatus => "UndefinedEpdStatus",
        /// Ready.
        Ready => "Ready",
        /// Not ready.
        NotReady => "NotReady",
    }
}
proto_numbers!(ReadyForEpdStatus {
    0 => "UnknownEpdStatus",
    1 => "UndefinedEpdStatus",
    2 => "Ready",
    3 => "NotReady",
});

string_enum! {
    /// `OrganizationInvoiceFormatVersion` of a box (`v5_02` when not sent).
    pub enum InvoiceFormatVersion {
        /// Format 5.01.
        V5_01 => "v5_01",
        /// Format 5.02.
        V5_02 => "v5_02",
    }
}
proto_numbers!(InvoiceFormatVersion { 1 => "v5_01", 2 => "v5_02" });

string_enum! {
    /// `DocumentAccessLevel`: which documents an employee sees.
    pub enum DocumentAccessLevel {
        /// A level newer than the server thinks this client knows.
        UnknownDocumentAccessLevel => "UnknownDocumentAccessLevel",
        /// The employee's department only.
        DepartmentOnly => "DepartmentOnly",
        /// The department and its subdepartments.
        DepartmentAndSubdepartments => "DepartmentAndSubdepartments",
        /// Every document of the box.
        AllDocuments => "AllDocuments",
        /// The departments in `SelectedDepartmentIds`.
        SelectedDepartments => "SelectedDepartments",
    }
}
proto_numbers!(DocumentAccessLevel {
    -1 => "UnknownDocumentAccessLevel",
    0 => "DepartmentOnly",
    1 => "DepartmentAndSubdepartments",
    2 => "AllDocuments",
    3 => "SelectedDepartments",
});

response_model! {
    /// `OrganizationList`, the answer of `GET /GetMyOrganizations`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct OrganizationList {
        /// The organizations whose boxes the user can reach.
        #[serde(default, deserialize_with = "list")]
        pub organizations: Vec<Organization>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `Organization`: a company or person registered in Diadoc, with its box.
    ///
    /// The protocol marks `Inn`, `FullName`, `Sociability`, `OrganizationType` and
    /// `ReadyForEpdStatus` required, but older servers leave the last two out, so all but `OrgId`
    /// are `Option`. `Box.Organization` (only `GetBox` fills it) and fields added later stay in
    /// `extra`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct Organization {
        /// The organization's id (a GUID).
        pub org_id: String,
        /// The same id; sent in JSON only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub org_id_guid: Option<String>,
        /// ИНН: 10 digits for a company, 12 for a sole proprietor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub inn: Option<String>,
        /// КПП; empty for sole proprietors.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub kpp: Option<String>,
        /// The full name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub full_name: Option<String>,
        /// The short name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub short_name: Option<String>,
        /// Whether the organization joined Diadoc's treaty; sent in JSON only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub joined_diadoc_treaty: Option<bool>,
        /// Its boxes (one per organization); pass a box's
        /// [`box_id_guid`](DiadocBox::box_id_guid) as `boxId`.
        #[serde(default, deserialize_with = "list")]
        pub boxes: Vec<DiadocBox>,
        /// ОГРН.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ogrn: Option<String>,
        /// The participant id of the electronic document operator.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fns_participant_id: Option<String>,
        /// The legal address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<Address>,
        /// Obsolete; e.g. `10.09.2019`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fns_registration_date: Option<String>,
        /// Every department except the head one.
        #[serde(default, deserialize_with = "list")]
        pub departments: Vec<Department>,
        /// The tax office code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ifns_code: Option<String>,
        /// A pilot organization.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_pilot: Option<bool>,
        /// Active.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_active: Option<bool>,
        /// A test organization.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_test: Option<bool>,
        /// A branch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_branch: Option<bool>,
        /// Works through a roaming operator.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_roaming: Option<bool>,
        /// The current user is an employee (filled by `GetMyOrganizations` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_employee: Option<bool>,
        /// Invitations count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub invitation_count: Option<i32>,
        /// Search count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub search_count: Option<i32>,
        /// Who may find the organization.
        #[serde(
            default,
            deserialize_with = "proto_enum",
            skip_serializing_if = "Option::is_none"
        )]
        pub sociability: Option<Sociability>,
        /// When it was liquidated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub liquidation_date: Option<String>,
        /// Registry certificate details.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub certificate_of_registry_info: Option<String>,
        /// A foreign organization.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_foreign: Option<bool>,
        /// Has a certificate that can sign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub has_certificate_to_sign: Option<bool>,
        /// Legal entity, sole proprietor, natural person.
        #[serde(
            default,
            deserialize_with = "proto_enum",
            skip_serializing_if = "Option::is_none"
        )]
        pub organization_type: Option<OrganizationType>,
        /// Not documented.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_owner: Option<bool>,
        /// Details of a foreign organization.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub foreign_information: Option<ForeignInformation>,
        /// Readiness for electronic waybills.
        #[serde(
            default,
            deserialize_with = "proto_enum",
            skip_serializing_if = "Option::is_none"
        )]
        pub ready_for_epd_status: Option<ReadyForEpdStatus>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `Box`: an organization's mailbox for documents. Named `DiadocBox` here so that it does not
    /// shadow `std::boxed::Box`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct DiadocBox {
        /// The legacy id, `<32 hex>@diadoc.ru`.
        pub box_id: BoxId,
        /// The same id as a GUID: the value to pass as `boxId`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub box_id_guid: Option<BoxId>,
        /// The box's title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// The invoice format (`v5_02` when not sent).
        #[serde(
            default,
            deserialize_with = "proto_enum",
            skip_serializing_if = "Option::is_none"
        )]
        pub invoice_format_version: Option<InvoiceFormatVersion>,
        /// Whether encrypted documents may be sent to it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub encrypted_documents_allowed: Option<bool>,
        /// Fields this version does not model (`Organization`, filled only by `GetBox`).
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl DiadocBox {
    /// The id to pass as `boxId`: [`box_id_guid`](Self::box_id_guid), or the legacy
    /// [`box_id`](Self::box_id) when a server leaves the GUID out.
    pub fn id(&self) -> &BoxId {
        self.box_id_guid.as_ref().unwrap_or(&self.box_id)
    }
}

response_model! {
    /// `Address`: Russian or foreign.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct Address {
        /// A Russian address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub russian_address: Option<RussianAddress>,
        /// A foreign address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub foreign_address: Option<ForeignAddress>,
        /// The address code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address_code: Option<String>,
        /// Fields this version does not model (`GarAddress`).
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `RussianAddress`. `Region` is the region's code.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    #[allow(missing_docs)]
    pub struct RussianAddress {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub zip_code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub region: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub territory: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub city: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub locality: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub street: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub building: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub apartment: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `ForeignAddress`: a country code and the address as text.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct ForeignAddress {
        /// The country's code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub country: Option<String>,
        /// The address text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `ForeignInformation` of a foreign organization.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct ForeignInformation {
        /// The foreign taxpayer code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub foreign_taxpayer_code: Option<String>,
        /// Status identification.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub identification_of_status: Option<String>,
        /// Anything else.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub other_information: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `Department` of an organization.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct Department {
        /// The department's id (a GUID).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub department_id: Option<String>,
        /// The parent's id; the head department is `00000000-0000-0000-0000-000000000000`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_department_id: Option<String>,
        /// The name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// The abbreviation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub abbreviation: Option<String>,
        /// The department's КПП.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub kpp: Option<String>,
        /// Disabled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_disabled: Option<bool>,
        /// Fields this version does not model (`Address`).
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

// ---------------------------------------------------------------------------------------------
// The caller as an employee (`GET /GetMyEmployee`)
// ---------------------------------------------------------------------------------------------

response_model! {
    /// `Employee`: a user's place in one box.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct Employee {
        /// The user.
        pub user: UserV2,
        /// What the user may do in the box.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub permissions: Option<EmployeePermissions>,
        /// The job title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub position: Option<String>,
        /// Whether others may invite the user to a chat.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub can_be_invited_for_chat: Option<bool>,
        /// When the employee was added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub creation_timestamp: Option<TicksTimestamp>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `EmployeePermissions`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct EmployeePermissions {
        /// The employee's department; [`HEAD_DEPARTMENT`] for the head one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_department_id: Option<String>,
        /// An administrator of the box.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_administrator: Option<bool>,
        /// Which documents the employee sees.
        #[serde(
            default,
            deserialize_with = "proto_enum",
            skip_serializing_if = "Option::is_none"
        )]
        pub document_access_level: Option<DocumentAccessLevel>,
        /// With [`DocumentAccessLevel::SelectedDepartments`]: those departments.
        #[serde(default, deserialize_with = "list", skip_serializing_if = "Vec::is_empty")]
        pub selected_department_ids: Vec<String>,
        /// Actions and whether each is allowed.
        #[serde(default, deserialize_with = "list")]
        pub actions: Vec<EmployeeAction>,
        /// Whether the employee's sign-in is blocked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub authorization_permission: Option<AuthorizationPermission>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// The id of an organization's head department.
pub const HEAD_DEPARTMENT: &str = "00000000-0000-0000-0000-000000000000";

impl EmployeePermissions {
    /// Whether the action `name` ([`EmployeeActionName::SignDocuments`], or its name as text,
    /// `"SignDocuments"`) is allowed; `None` when the server did not list it.
    pub fn allows(&self, name: impl Into<EmployeeActionName>) -> Option<bool> {
        let name = name.into();
        self.actions
            .iter()
            .find(|a| a.name.as_ref() == Some(&name))
            .and_then(|a| a.is_allowed)
    }
}

string_enum! {
    /// `EmployeeAction.Name`: what an employee may do. The protocol has it as a string, so
    /// actions added later decode as `Unknown` with their name.
    pub enum EmployeeActionName {
        /// Create documents.
        CreateDocuments => "CreateDocuments",
        /// Delete and restore documents.
        DeleteRestoreDocuments => "DeleteRestoreDocuments",
        /// Sign documents.
        SignDocuments => "SignDocuments",
        /// Add resolutions.
        AddResolutions => "AddResolutions",
        /// Request resolutions.
        RequestResolutions => "RequestResolutions",
        /// Manage counteragents.
        ManageCounteragents => "ManageCounteragents",
    }
}

response_model! {
    /// `EmployeeAction`: one action and whether it is allowed.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct EmployeeAction {
        /// The action's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<EmployeeActionName>,
        /// Whether it is allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_allowed: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl EmployeeAction {
    /// An action and whether it is allowed: `EmployeeAction::new(EmployeeActionName::SignDocuments,
    /// true)`, or with the name as text.
    pub fn new(name: impl Into<EmployeeActionName>, is_allowed: bool) -> Self {
        EmployeeAction {
            name: Some(name.into()),
            is_allowed: Some(is_allowed),
            extra: Extra::new(),
        }
    }
}

response_model! {
    /// `AuthorizationPermission`: whether the user's sign-in is blocked, and why.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct AuthorizationPermission {
        /// Blocked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_blocked: Option<bool>,
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub comment: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// Diadoc's `Timestamp` in JSON: `{"DateTime": "<ISO>Z", "Ticks": <100-ns ticks since
    /// 0001-01-01 UTC>}`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct TicksTimestamp {
        /// The instant as text, e.g. `2018-11-01T05:40:17.6953926Z`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_time: Option<Timestamp>,
        /// The instant in .NET ticks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ticks: Option<i64>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// .NET ticks at 1970-01-01T00:00:00Z.
pub(super) const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

impl TicksTimestamp {
    /// The instant, from `Ticks`, or from `DateTime` when there are no ticks.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        match self.ticks {
            Some(ticks) if ticks >= UNIX_EPOCH_TICKS => {
                let since = (ticks - UNIX_EPOCH_TICKS) as u64;
                let whole = Duration::from_secs(since / 10_000_000);
                UNIX_EPOCH.checked_add(whole + Duration::from_nanos(since % 10_000_000 * 100))
            }
            Some(_) => None,
            None => self.date_time.as_ref()?.to_system_time(),
        }
    }
}
