//! Diadoc's types, as the protocol defines them: PascalCase JSON, absent optional fields not
//! sent. Response types keep the fields this version does not model in `extra`; every field
//! a server may leave out is an `Option` (or an empty list), and enums decode values added
//! later, and the protocol's numbers, without failing.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;
use crate::models::{Extra, Timestamp, response_model, string_enum};

/// A box id, the `boxId` of box-scoped calls: a GUID (`BoxIdGuid`,
/// `9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6`) or the legacy form of the same id (`BoxId`,
/// `9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6@diadoc.ru`). Both name the same box.
///
/// Building one checks that shape, so a malformed id is refused with
/// [`Error::is_invalid_input`] before anything is sent; ids in responses decode strictly. Take
/// one from [`DiadocBox::id`], or parse one you stored. The default is the nil GUID
/// (`00000000-0000-0000-0000-000000000000`), which names no box.
///
/// ```
/// use userapi::diadoc::BoxId;
/// let id = BoxId::new("9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6")?;
/// assert_eq!(id.to_string(), "9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6");
/// assert!("9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6@diadoc.ru".parse::<BoxId>().is_ok());
/// assert!(BoxId::new("").unwrap_err().is_invalid_input());
/// assert!(BoxId::new("box&x=1").unwrap_err().is_invalid_input());
/// # Ok::<(), userapi::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BoxId(String);

/// The nil GUID: [`BoxId::default`].
const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

impl Default for BoxId {
    fn default() -> Self {
        BoxId(NIL_GUID.to_owned())
    }
}

impl BoxId {
    /// Checks and wraps a box id, in either form.
    ///
    /// # Errors
    /// [`Error::is_invalid_input`] for anything but a GUID (`8-4-4-4-12` hexadecimal digits)
    /// or `<32 hexadecimal digits>@diadoc.ru`.
    pub fn new(s: &str) -> Result<Self, Error> {
        if box_id_shaped(s) {
            Ok(BoxId(s.to_owned()))
        } else {
            Err(Error::invalid_input(
                "diadoc::BoxId",
                format!(
                    "{:?} is not a box id (a GUID, or <32 hexadecimal digits>@diadoc.ru)",
                    crate::error::clip(s)
                ),
            ))
        }
    }

    /// The id as text, as it is sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the legacy `…@diadoc.ru` form.
    pub fn is_legacy(&self) -> bool {
        self.0.ends_with("@diadoc.ru")
    }

    /// Whether this is the nil GUID, the [default](BoxId::default), which names no box.
    pub fn is_nil(&self) -> bool {
        self.0 == NIL_GUID
    }
}

/// A GUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` or a legacy `<32 hex>@diadoc.ru` box id.
fn box_id_shaped(id: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(legacy) = id.strip_suffix("@diadoc.ru") {
        return hex(legacy, 32);
    }
    let mut parts = id.split('-');
    [8, 4, 4, 4, 12]
        .iter()
        .all(|&n| parts.next().is_some_and(|p| hex(p, n)))
        && parts.next().is_none()
}

impl fmt::Display for BoxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BoxId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        BoxId::new(s)
    }
}

impl TryFrom<&str> for BoxId {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        BoxId::new(s)
    }
}

impl<'de> Deserialize<'de> for BoxId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if box_id_shaped(&s) {
            Ok(BoxId(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a box id (a GUID, or <32 hexadecimal digits>@diadoc.ru), found {:?}",
                crate::error::clip(&s)
            )))
        }
    }
}

response_model! {
    /// A person's name: `LastName` and `FirstName` are required by the protocol.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct FullName {
        /// Family name (required by the protocol; `None` only if a server leaves it out).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_name: Option<String>,
        /// Given name (required by the protocol).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub first_name: Option<String>,
        /// Patronymic, optional.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub middle_name: Option<String>,
        /// Fields this version does not model (skipped when sending).
        #[serde(skip)]
        pub extra: Extra,
    }
}

impl FullName {
    /// A name with both required parts.
    pub fn new(last_name: impl Into<String>, first_name: impl Into<String>) -> Self {
        FullName {
            last_name: Some(last_name.into()),
            first_name: Some(first_name.into()),
            middle_name: None,
            extra: Extra::new(),
        }
    }

    /// Sets the patronymic.
    pub fn middle_name(mut self, middle_name: impl Into<String>) -> Self {
        self.middle_name = Some(middle_name.into());
        self
    }

    fn is_empty(&self) -> bool {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        blank(&self.last_name) || blank(&self.first_name)
    }
}

response_model! {
    /// `UserV2`: a user of the portal (the current one from `GetMyUser`, or an employee's).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct UserV2 {
        /// The user's id (a GUID). It changes once an unregistered user registers.
        pub user_id: String,
        /// The login (an email). After a login change it keeps the old value until the user
        /// confirms the new address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub login: Option<String>,
        /// The user's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub full_name: Option<FullName>,
        /// `false` while the user has not confirmed their email; the `user_id` then changes on
        /// registration. Required by the protocol; `None` only if a server leaves it out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_registered: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// `UserLoginPatch`: a new login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UserLoginPatch {
    /// The new login: a non-empty email address.
    pub login: String,
}

/// `UserFullNamePatch`: a new name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UserFullNamePatch {
    /// The new name, both required parts set.
    pub full_name: FullName,
}

/// `UserToUpdate`: the changes [`Diadoc::update_me`](super::Diadoc::update_me) sends. Unset
/// patches are not sent; at least one must be set.
///
/// ```
/// use userapi::diadoc::{FullName, UserToUpdate};
/// let change = UserToUpdate::new().full_name(FullName::new("Petrova", "Anna").middle_name("S."));
/// # let _ = change;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UserToUpdate {
    /// A login change; applies only after the user confirms the email sent to the new address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<UserLoginPatch>,
    /// A name change; applies at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<UserFullNamePatch>,
}

impl UserToUpdate {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a new login (an email address).
    pub fn login(mut self, login: impl Into<String>) -> Self {
        self.login = Some(UserLoginPatch { login: login.into() });
        self
    }

    /// Sets a new name.
    pub fn full_name(mut self, full_name: FullName) -> Self {
        self.full_name = Some(UserFullNamePatch { full_name });
        self
    }

    /// The documented rules, checked before sending: at least one patch; a login patch holds a
    /// non-empty email-shaped login; a name patch has its last and first names.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.login.is_none() && self.full_name.is_none() {
            return Err("set Login or FullName: the service refuses an empty change");
        }
        if let Some(patch) = &self.login
            && !email_shaped(&patch.login)
        {
            return Err("Login must be a non-empty email address");
        }
        if let Some(patch) = &self.full_name
            && patch.full_name.is_empty()
        {
            return Err("FullName needs non-empty LastName and FirstName");
        }
        Ok(())
    }
}

/// `LoginPassword`, the JSON body of `POST /V3/Authenticate?type=password`. The documented
/// JSON example uses lower-case keys.
#[derive(Serialize)]
pub(crate) struct LoginPassword<'a> {
    pub(crate) login: &'a str,
    #[serde(serialize_with = "crate::auth::expose_secret")]
    pub(crate) password: &'a crate::auth::Secret,
}

// ---------------------------------------------------------------------------------------------
// Organizations and boxes (`GET /GetMyOrganizations`)
// ---------------------------------------------------------------------------------------------

/// An enum the protocol may send as its name or as its number.
trait ProtoEnum: for<'a> From<&'a str> {
    /// The name of the value numbered `n` in the `.proto`, if known.
    fn name_of(n: i64) -> Option<&'static str>;
}

/// Reads a [`ProtoEnum`] from a string, a number or `null`. An unknown number is kept as its
/// digits in `Unknown`.
fn proto_enum<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
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
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
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
    /// Whether the action named `name` (`SignDocuments`, `CreateDocuments`, …) is allowed;
    /// `None` when the server did not list it.
    pub fn allows(&self, name: &str) -> Option<bool> {
        self.actions
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .and_then(|a| a.is_allowed)
    }
}

response_model! {
    /// `EmployeeAction`: one action (`CreateDocuments`, `DeleteRestoreDocuments`,
    /// `SignDocuments`, `AddResolutions`, `RequestResolutions`, `ManageCounteragents`, or one
    /// added later) and whether it is allowed.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "PascalCase")]
    #[non_exhaustive]
    pub struct EmployeeAction {
        /// The action's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Whether it is allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_allowed: Option<bool>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

impl EmployeeAction {
    /// An action and whether it is allowed.
    pub fn new(name: impl Into<String>, is_allowed: bool) -> Self {
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
const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

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

/// `local@domain.tld` with no white space: a shape check before sending, not validation; the
/// server stays the authority.
fn email_shaped(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}
