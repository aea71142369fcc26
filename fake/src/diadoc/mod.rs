//! A stateful Diadoc on loopback, for tests and examples.
//!
//! As the documents say:
//! - `DiadocAuth` is parsed and checked: a wrong client id gets 401 `Invalid API client id`
//!   with `X-Diadoc-ErrorCode: Http.Auth`; a missing, unknown or expired token gets 401 too,
//!   as text. An OpenID Connect access token ([`OIDC_TOKEN`]) is accepted as `Bearer`.
//! - `POST /V3/Authenticate?type=password` takes the client id **alone** (a request that
//!   also carries a token, even a valid one, gets 401), checks the login and password, and
//!   answers a new token as plain text. [`FakeDiadoc::expire_tokens`](DiadocService::expire_tokens) ends every token issued
//!   so far, as 24 hours would.
//! - The other types of `Authenticate` are refused as Diadoc refuses credentials it does not
//!   know, since the fake knows none: it cannot answer the token Diadoc encrypts to a known
//!   certificate (GOST crypto), and has no Kontur web sessions or trusted services.
//!   `type=certificate` answers as Kontur's issue threads show Diadoc answering
//!   (diadoc/diadocapi-docs #916, #846 and #226, diadoc/diadocsdk-1c-docs #756): a body that is
//!   not one DER X.509 certificate (base64 or PEM text is not) gets 400 `Could not deserialize
//!   certificate from the request body`; a certificate gets 401 `Certificate with thumbprint
//!   <THUMBPRINT> is not authorized.` (the SHA-1 of the DER, 40 uppercase hex digits) with
//!   `X-Diadoc-ErrorCode: Http.Auth.Auth.CertNotValid`. `type=sid` (an `auth.sid`) and
//!   `type=trust` (the C# SDK's trusted-service headers) get 401 with `X-Diadoc-ErrorCode:
//!   Http.Auth`, as Diadoc's other credential refusals; their texts (`Unknown auth.sid`,
//!   `Unknown trusted service key`) are the fake's own, as Kontur's are not on record. Any
//!   other type gets 400 `Unsupported authentication type`.
//! - `POST /UpdateMyUser`: a name change applies at once; a login change stays pending (the
//!   old login keeps showing) until the test calls [`FakeDiadoc::confirm_login`](DiadocService::confirm_login); a login
//!   another user holds gets 405 with text; an empty or malformed change gets 400.
//! - `GET /GetMyOrganizations` lists the organizations with a box the caller is an employee
//!   of (`IsEmployee: true`). Its callers logged in with a password, so nothing is ever
//!   registered; a request that leaves `autoRegister` at its default `true` is counted
//!   ([`FakeDiadoc::registration_requests`](DiadocService::registration_requests)), a value that is not a boolean gets 400.
//! - `GET /GetMyEmployee?boxId=` takes the GUID or the legacy `…@diadoc.ru` id: 400 when it
//!   is missing or malformed, 403 `Access to Box [<id>] is denied` when the caller is not an
//!   employee of it.
//! - The employee methods (`GetEmployees`, `GetEmployee`, `CreateEmployee`,
//!   `UpdateEmployee`, `DeleteEmployee`) answer administrators of the box only (403
//!   otherwise; `GetEmployees` 404 for a box that does not exist). `GetEmployees` pages from 1
//!   with `count` 1 to 50 (400 outside), unregistered employees first, with `TotalCount`.
//!   `CreateEmployee` adds the user with that login, or creates one (`IsRegistered: false`,
//!   the name given); 409 when already an employee; by certificate it answers 400 (the fake
//!   cannot read a certificate). `UpdateEmployee` applies the wrappers present, actions as a
//!   delta, and refuses a malformed wrapper with 400 without changing anything; 404 for a user
//!   who is no employee. `DeleteEmployee` answers 200 with no body, again for an employee
//!   already deleted, 404 for one who never was.
//! - OpenID Connect: `POST /connect/token` ([`TOKEN_PATH`]) plays Kontur's provider for the
//!   refresh-token flow (client [`OIDC_CLIENT_ID`] / [`OIDC_CLIENT_SECRET`], refresh tokens from
//!   [`issue_refresh_token`](DiadocService::issue_refresh_token), rotated on every use, `invalid_grant`
//!   for a used one); the access tokens it issues are accepted as `Bearer`.
//! - Protobuf unless asked for JSON, as Diadoc: a call without `Accept: application/json`
//!   is served all the same and its answer comes as `application/x-protobuf` with an opaque
//!   body ([`PROTOBUF_STAND_IN`], not the route's message: the fake encodes no protobuf), so a
//!   client that forgets the header sees bytes it cannot read as JSON. Every error body is
//!   plain text and carries `X-Kontur-Trace-Id`; a wrong method gets 405.
//!
//! Seeded by [`FakeDiadoc::start`](Fake::start): the user [`LOGIN`] / [`PASSWORD`] ([`USER_ID`]), an
//! employee of the box [`BOX_ID`] of organization [`ORG_ID`]; that box's administrator
//! [`ADMIN_LOGIN`] / [`ADMIN_PASSWORD`] ([`ADMIN_USER_ID`], [`admin_auth`](DiadocService::admin_auth)); a second user holding
//! [`TAKEN_LOGIN`], employee of [`OTHER_BOX_ID`] of another organization. Add more with
//! [`add_user`](DiadocService::add_user), [`add_organization`](DiadocService::add_organization)
//! and [`add_employee`](DiadocService::add_employee).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::Auth;
//! use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};
//! let fake = FakeDiadoc::start().await?;
//! let diadoc = fake.api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))?;
//! diadoc.login(LOGIN, &PASSWORD.into()).await?;
//! assert_eq!(diadoc.get_me().await?.login.as_deref(), Some(LOGIN));
//! # Ok(()) }
//! ```

mod auth;
mod certificate;
mod employees;
mod me;
mod oidc;
mod state;

pub use oidc::{OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, TOKEN_PATH};

use url::Url;
use userapi::reqwest::{Method, StatusCode};

use crate::error::Error;
use crate::server::{Banner, Fake, Request, Response, Service};
use auth::{Caller, auth_error};
use state::{Account, Portal, guid_of_legacy};
use userapi::auth::{Password, Token};
use userapi::diadoc::{
    Diadoc, DiadocBox, DocumentAccessLevel, Employee, EmployeeAction, EmployeePermissions, FullName,
    HEAD_DEPARTMENT, InvoiceFormatVersion, Organization, OrganizationType, ReadyForEpdStatus, Sociability,
    TicksTimestamp, UserV2,
};
use userapi::models::Timestamp;
use userapi::{Auth, Client};

/// The API client id the fake accepts.
pub const CLIENT_ID: &str = "fake-diadoc-client-id";
/// The seeded user's login.
pub const LOGIN: &str = "login@kontur.ru";
/// The seeded user's password.
pub const PASSWORD: &str = "Pa55-word";
/// The seeded user's id.
pub const USER_ID: &str = "d064f6ba-7b81-432d-a41d-93b23eebe579";
/// A login another user of the portal already holds.
pub const TAKEN_LOGIN: &str = "taken@kontur.ru";
/// The id of the user holding [`TAKEN_LOGIN`].
pub const OTHER_USER_ID: &str = "5b0f7c2e-3a41-4d8e-9f60-2c7e1d4a8b93";
/// The administrator of [`BOX_ID`]: [`FakeDiadoc::admin_auth`](DiadocService::admin_auth)
/// signs in as this user, who may call the employee methods there.
pub const ADMIN_USER_ID: &str = "a3c1e5f0-2b4d-4c6e-8f10-3a5b7c9d1e2f";
/// The administrator's login.
pub const ADMIN_LOGIN: &str = "admin@kontur.ru";
/// The administrator's password.
pub const ADMIN_PASSWORD: &str = "Adm1n-pass";
/// An OpenID Connect access token the fake accepts as `Bearer` (for the seeded user).
pub const OIDC_TOKEN: &str = "fake-oidc-access-token";
/// The seeded user's organization.
pub const ORG_ID: &str = "7c1e2a44-5b6d-4f3e-9a1b-2c3d4e5f6a7b";
/// The box of [`ORG_ID`], as a GUID (`BoxIdGuid`).
pub const BOX_ID: &str = "9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6";
/// The same box in the legacy form (`BoxId`).
pub const LEGACY_BOX_ID: &str = "9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6@diadoc.ru";
/// A box of another organization, where the seeded user is not an employee.
pub const OTHER_BOX_ID: &str = "3e8b1f7a-0c2d-4e5f-8a9b-7c6d5e4f3a2b";

/// The body of a successful answer to a call that did not ask for JSON: valid protobuf wire
/// format (field 1 varint `1`, field 2 the bytes `opaque stand-in`) but no Diadoc message.
/// The content type `application/x-protobuf` is the fake's choice: the facts do not say
/// which one Diadoc sends.
pub const PROTOBUF_STAND_IN: &[u8] = b"\x08\x01\x12\x0fopaque stand-in";

/// The Diadoc service the fake plays: its state and its helpers (the [`Fake`] derefs to it).
#[derive(Debug)]
pub struct DiadocService {
    state: State,
}

/// A running fake Diadoc: [`Fake`] serving [`DiadocService`], whose helpers it derefs to.
pub type FakeDiadoc = Fake<DiadocService>;

type State = crate::server::State<Portal>;

impl DiadocService {
    /// The service with its seeded data (see the module docs).
    fn new_seeded() -> Self {
        let state = State::new(Portal::default());
        let fake = DiadocService { state };
        fake.seed();
        fake
    }

    fn seed(&self) {
        let user = |id: &str, login: &str, name: FullName| {
            crate::util::build!(UserV2 {
                user_id: id.parse().expect("a seeded user id"),
                login: Some(login.to_owned()),
                full_name: Some(name),
                is_registered: Some(true)
            })
        };
        let anna = user(
            USER_ID,
            LOGIN,
            FullName::new("Petrova", "Anna").middle_name("Sergeevna"),
        );
        self.add_user(anna.clone(), &Password::new(PASSWORD));
        let other = user(OTHER_USER_ID, TAKEN_LOGIN, FullName::new("Sidorov", "Oleg"));
        self.add_user(other.clone(), &Password::new("An0ther-pass"));
        let admin = user(ADMIN_USER_ID, ADMIN_LOGIN, FullName::new("Kuznetsova", "Maria"));
        self.add_user(admin.clone(), &Password::new(ADMIN_PASSWORD));

        let org = |id: &str, inn: &str, name: &str, box_id: &str, legacy: &str| {
            crate::util::build!(Organization {
                org_id: id.to_owned(),
                org_id_guid: Some(id.to_owned()),
                inn: Some(inn.to_owned()),
                kpp: Some(format!("{}01001", &inn[..4])),
                full_name: Some(format!("Общество с ограниченной ответственностью \"{name}\"")),
                short_name: Some(format!("ООО \"{name}\"")),
                boxes: vec![crate::util::build!(DiadocBox {
                    box_id: legacy.parse().expect("a seeded legacy box id"),
                    box_id_guid: Some(box_id.parse().expect("a seeded box GUID")),
                    title: Some(format!("ООО \"{name}\"")),
                    invoice_format_version: Some(InvoiceFormatVersion::V5_02),
                    encrypted_documents_allowed: Some(false)
                })],
                is_active: Some(true),
                is_test: Some(true),
                sociability: Some(Sociability::AllOrganizations),
                organization_type: Some(OrganizationType::Juridical),
                ready_for_epd_status: Some(ReadyForEpdStatus::NotReady)
            })
        };
        self.add_organization(org(ORG_ID, "6671234567", "Ромашка", BOX_ID, LEGACY_BOX_ID));
        self.add_organization(org(
            "2f6a8c1d-4b3e-4a7f-9e1c-5d8b0a2c4e6f",
            "7707654321",
            "Лютик",
            OTHER_BOX_ID,
            "3e8b1f7a0c2d4e5f8a9b7c6d5e4f3a2b@diadoc.ru",
        ));

        let employee = |user: UserV2, position: &str, admin: bool| {
            crate::util::build!(Employee {
                user,
                permissions: Some(crate::util::build!(EmployeePermissions {
                    user_department_id: Some(HEAD_DEPARTMENT.to_owned()),
                    is_administrator: Some(admin),
                    document_access_level: Some(DocumentAccessLevel::AllDocuments),
                    actions: [
                        ("CreateDocuments", true),
                        ("DeleteRestoreDocuments", true),
                        ("SignDocuments", true),
                        ("AddResolutions", false),
                        ("RequestResolutions", false),
                        ("ManageCounteragents", admin),
                    ]
                    .into_iter()
                    .map(|(name, allowed)| EmployeeAction::new(name, allowed))
                    .collect()
                })),
                position: Some(position.to_owned()),
                can_be_invited_for_chat: Some(true),
                creation_timestamp: Some(crate::util::build!(TicksTimestamp {
                    date_time: Some(Timestamp::new("2018-11-01T05:40:17.6953926Z")),
                    ticks: Some(636_766_476_176_953_926)
                }))
            })
        };
        self.add_employee(BOX_ID, employee(anna, "Бухгалтер", false));
        self.add_employee(BOX_ID, employee(admin, "Директор", true));
        self.add_employee(OTHER_BOX_ID, employee(other, "Директор", true));
    }

    /// `DiadocAuth` as the administrator of [`BOX_ID`] ([`ADMIN_USER_ID`]), who may call the
    /// employee methods there: `fake.api_with(fake.admin_auth())`.
    pub fn admin_auth(&self) -> Auth {
        let token = Token::new(self.state.issue(ADMIN_USER_ID));
        userapi::diadoc::auth::diadoc_auth(CLIENT_ID, Some(token))
    }

    /// A token issued as if the seeded user had logged in.
    pub fn issue_token(&self) -> Token {
        Token::new(self.state.issue(USER_ID))
    }

    /// A token issued as if the user `user_id` had logged in; `None` for an unknown user.
    pub fn issue_token_for(&self, user_id: &str) -> Option<Token> {
        self.state.lock().account(user_id)?;
        Some(Token::new(self.state.issue(user_id)))
    }

    /// Ends every token issued so far, as their 24 hours would: calls with them get 401.
    /// OpenID Connect access tokens the fake issued end too (their refresh tokens stay).
    pub fn expire_tokens(&self) {
        let mut portal = self.state.lock();
        portal.tokens.clear();
        portal.oidc.expire_access_tokens();
    }

    /// Adds a user who can log in with `password`. A user with the nil `user_id` (the
    /// default) gets a new one. Returns the user as stored.
    pub fn add_user(&self, mut user: UserV2, password: &Password) -> UserV2 {
        if user.user_id.is_nil() {
            user.user_id = self.state.guid().parse().expect("the fake's GUIDs are user ids");
        }
        self.state.lock().accounts.push(Account {
            user: user.clone(),
            password: Some(password.clone()),
            pending_login: None,
        });
        user
    }

    /// Adds an organization. An empty `org_id` gets a new GUID (and `org_id_guid` follows it);
    /// each box without ids (the nil default `BoxId`) gets a new
    /// `BoxIdGuid` and the matching `…@diadoc.ru` `BoxId`; a box with only its legacy id gets
    /// the GUID it spells.
    /// Returns the organization as stored.
    pub fn add_organization(&self, mut org: Organization) -> Organization {
        if org.org_id.is_empty() {
            org.org_id = self.state.guid();
        }
        if org.org_id_guid.is_none() {
            org.org_id_guid = Some(org.org_id.clone());
        }
        for b in &mut org.boxes {
            let guid = match (&b.box_id_guid, b.box_id.is_nil()) {
                (Some(g), _) => g.as_str().to_owned(),
                (None, true) => self.state.guid(),
                (None, false) => guid_of_legacy(b.box_id.as_str()),
            };
            if b.box_id.is_nil() {
                b.box_id = format!("{}@diadoc.ru", guid.replace('-', ""))
                    .parse()
                    .expect("a GUID spells a legacy box id");
            }
            b.box_id_guid = Some(guid.parse().expect("the fake's GUIDs are box ids"));
        }
        self.state.lock().organizations.push(org.clone());
        org
    }

    /// Makes `employee.user` an employee of the box `box_id` (GUID or legacy form). Returns
    /// the employee as `GetMyEmployee` will show it.
    ///
    /// # Panics
    /// When no organization has that box, or no user has `employee.user.user_id`: a seeding
    /// mistake in the test.
    pub fn add_employee(&self, box_id: &str, mut employee: Employee) -> Employee {
        let mut portal = self.state.lock();
        let Some(guid) = portal.box_guid(box_id) else {
            panic!("FakeDiadoc::add_employee: no organization has the box {box_id}");
        };
        let Some(account) = portal.account(employee.user.user_id.as_str()) else {
            panic!(
                "FakeDiadoc::add_employee: no user {} (add_user first)",
                employee.user.user_id
            );
        };
        employee.user = account.user.clone();
        portal
            .employees
            .retain(|(b, e)| !(*b == guid && e.user.user_id == employee.user.user_id));
        portal
            .deleted
            .retain(|(b, u)| !(*b == guid && employee.user.user_id == *u));
        portal.employees.push((guid, employee.clone()));
        employee
    }

    /// The seeded user as the fake holds it now.
    pub fn user(&self) -> UserV2 {
        self.user_by_id(USER_ID)
            .expect("the seeded user is never removed")
    }

    /// A user as the fake holds it now.
    pub fn user_by_id(&self, user_id: &str) -> Option<UserV2> {
        Some(self.state.lock().account(user_id)?.user.clone())
    }

    /// The seeded user's login change waiting for its confirmation email to be followed.
    pub fn pending_login(&self) -> Option<String> {
        self.state.lock().account(USER_ID)?.pending_login.clone()
    }

    /// Follows the seeded user's confirmation link: the pending login becomes the login.
    /// Returns it.
    pub fn confirm_login(&self) -> Option<String> {
        let mut portal = self.state.lock();
        let account = portal.account_mut(USER_ID)?;
        let login = account.pending_login.take()?;
        account.user.login = Some(login.clone());
        Some(login)
    }

    /// How many `GET /GetMyOrganizations` requests asked for autoregistration (sent
    /// `autoRegister=true` or left it out).
    pub fn registration_requests(&self) -> u32 {
        self.state.lock().registration_requests
    }
}

/// Diadoc's errors are plain text, with a trace id.
fn text(status: u16, body: &str) -> Response {
    Response::text(status, body).header("x-kontur-trace-id", "fake-trace-0001")
}

impl State {
    /// Diadoc's errors: text, with a trace id.
    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        text(status.as_u16(), message)
    }

    fn handle(&self, req: &Request) -> Response {
        const ROUTES: [&str; 10] = [
            "/V3/Authenticate",
            "/V2/GetMyUser",
            "/UpdateMyUser",
            "/GetMyOrganizations",
            "/GetMyEmployee",
            "/GetEmployees",
            "/GetEmployee",
            "/CreateEmployee",
            "/UpdateEmployee",
            "/DeleteEmployee",
        ];
        if req.path.strip_prefix('/') == Some(TOKEN_PATH) {
            return self.token_endpoint(req);
        }
        let expected = match req.path.as_str() {
            "/V3/Authenticate" | "/UpdateMyUser" | "/CreateEmployee" | "/UpdateEmployee"
            | "/DeleteEmployee" => Method::POST,
            path if ROUTES.contains(&path) => Method::GET,
            _ => return text(404, "Not found"),
        };
        if req.method != expected {
            return text(405, "Method not allowed");
        }
        if req.path == "/V3/Authenticate" {
            return self.authenticate(req);
        }
        let user_id = match self.caller(req) {
            Err(refused) => return *refused,
            Ok(Caller::ClientOnly) => return *auth_error("ddauth_token is missing"),
            Ok(Caller::User(id)) => id,
        };
        let wants_json = req
            .header("accept")
            .is_some_and(|a| a.contains("application/json"));
        let response = match req.path.as_str() {
            "/V2/GetMyUser" => match self.lock().account(&user_id) {
                Some(account) => Response::json(200, &account.user),
                None => *auth_error("Invalid auth token"),
            },
            "/UpdateMyUser" => self.update(&user_id, req),
            "/GetMyOrganizations" => self.organizations(&user_id, req),
            "/GetMyEmployee" => self.employee(&user_id, req),
            "/GetEmployees" => self.list_employees(&user_id, req),
            "/GetEmployee" => self.get_employee(&user_id, req),
            "/CreateEmployee" => self.create_employee(&user_id, req),
            "/UpdateEmployee" => self.update_employee(&user_id, req),
            _ => self.delete_employee(&user_id, req),
        };
        if wants_json || !response.status.is_success() || response.body.is_empty() {
            // Errors are text whatever `Accept` says.
            return response;
        }
        Response {
            body: bytes::Bytes::from_static(PROTOBUF_STAND_IN),
            ..response
        }
        .header("content-type", "application/x-protobuf")
    }
}

impl Service for DiadocService {
    const NAME: &'static str = "diadoc";
    const TITLE: &'static str = "Diadoc";
    type Api = Diadoc;

    /// The seeded users, organizations and employees (see the module docs).
    fn seeded() -> Self {
        Self::new_seeded()
    }

    fn handle(&self, request: &Request) -> Response {
        self.state.handle(request)
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        self.state.error_response(status, message)
    }

    /// The seeded user: `DiadocAuth` with [`CLIENT_ID`] and a token the fake issued.
    fn auth(&self) -> Result<Auth, Error> {
        Ok(userapi::diadoc::auth::diadoc_auth(
            CLIENT_ID,
            Some(self.issue_token()),
        ))
    }

    fn api(client: Client) -> Diadoc {
        Diadoc::new(client)
    }

    fn banner(&self, base: &Url) -> Banner {
        let token = self.issue_token();
        let header = format!(
            "Authorization: DiadocAuth ddauth_api_client_id={CLIENT_ID},ddauth_token={}",
            token.expose()
        );
        Banner::new(format!(
            "curl -H '{header}' -H 'Accept: application/json' {base}V2/GetMyUser"
        ))
        .credential("client id", CLIENT_ID)
        .credential("login", LOGIN)
        .credential("password", PASSWORD)
        .credential("token", token.expose())
        .credential("header", header)
        .credential("OpenID Connect token", OIDC_TOKEN)
    }
}

/// What a recording of a Diadoc server scrubs besides what every recording does (see
/// [`Secrets`](crate::Secrets)): the token `POST /V3/Authenticate` answers as its whole body.
/// (`DiadocAuth`'s parameters, client id and token, are scrubbed as the `Authorization`
/// header's; the login's `password` as a secret field.)
pub fn recorded_secrets() -> crate::Secrets {
    crate::Secrets::new().issued_body(userapi::Method::POST, "/V3/Authenticate")
}
