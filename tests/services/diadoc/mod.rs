#![cfg(feature = "diadoc")]
//! Kontur Diadoc on the wire (wiremock) and against its fake, by behaviour.

mod employees;
mod errors;
mod login;
mod organizations;
mod profile;
mod relogin;

use std::time::Duration;

use common::text;
use serde_json::json;
use userapi::auth::{Password, Token};
use userapi::diadoc::Diadoc;
use userapi::diadoc::{
    BoxId, DiadocBox, DocumentAccessLevel, Employee, EmployeePermissions, FullName, InvoiceFormatVersion,
    Organization, OrganizationType, ReadyForEpdStatus, Sociability, UserToUpdate, UserV2, is_login_taken,
};
use userapi::{Auth, Client, RetryPolicy};
use userapi_fake::diadoc::{
    BOX_ID, CLIENT_ID, FakeDiadoc, LEGACY_BOX_ID, LOGIN, OIDC_TOKEN, ORG_ID, OTHER_BOX_ID, PASSWORD,
    TAKEN_LOGIN, USER_ID,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support as common;

const USER: &str = include_str!("../../fixtures/diadoc/user_v2.json");
const UNREGISTERED: &str = include_str!("../../fixtures/diadoc/user_v2_unregistered.json");
const ORGANIZATIONS: &str = include_str!("../../fixtures/diadoc/organizations.json");
const EMPLOYEE: &str = include_str!("../../fixtures/diadoc/employee.json");
const AUTH: &str = "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=tok-1";

fn api_with(server: &MockServer, auth: Auth) -> Diadoc {
    common::client(server, auth).diadoc()
}

fn api(server: &MockServer) -> Diadoc {
    api_with(
        server,
        userapi::diadoc::auth::diadoc_auth("cid-1", Some(Token::new("tok-1"))),
    )
}

/// The whole `Authorization` value: wiremock's `header` matcher splits values on commas,
/// and DiadocAuth has one.
fn auth_is(expected: &'static str) -> impl Fn(&Request) -> bool {
    move |req: &Request| req.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected)
}

/// A box id the test knows is well formed.
fn bid(s: &str) -> BoxId {
    BoxId::new(s).unwrap()
}

fn json(raw: &str) -> ResponseTemplate {
    common::body(200, raw, "application/json; charset=utf-8")
}
