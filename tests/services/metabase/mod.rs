#![cfg(feature = "metabase")]
//! Metabase on the wire (wiremock) and against its fake, by behaviour.

mod api_keys;
mod fidelity;
mod groups;
mod history;
mod paging;
mod passwords;
mod persistence;
mod server;
mod session_file;
mod sessions;
mod typed;
mod users;

use common::text;
use serde_json::json;
use userapi::auth::{Password, ResetToken, SessionId};
use userapi::metabase::{
    ApiKeyId, ApiKeyUpdate, AttributeSource, GroupId, GroupMembership, ListUsers, Metabase, Modal, NewApiKey,
    NewUser, PasswordChanged, Tenancy, UserId, UserKeyValue, UserStatus, UserUpdate, Version,
};
use userapi::models::{PasswordChange, Patch};
use userapi::{Auth, Error};
use userapi_fake::metabase::{
    ADMIN_EMAIL, ADMIN_GROUP, ADMIN_PASSWORD, ALL_USERS_GROUP, ANALYSTS_GROUP, API_KEY, Edition,
    FakeMetabase, USER_EMAIL, USER_PASSWORD,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support as common;

const CURRENT: &str = include_str!("../../fixtures/metabase/current.json");
const BY_ID: &str = include_str!("../../fixtures/metabase/user_by_id.json");
const LIST: &str = include_str!("../../fixtures/metabase/list.json");
const BARE: &str = include_str!("../../fixtures/metabase/list_bare_array.json");
const SESSION: &str = "3d1f2f7c-6a0e-4b8a-9c55-0d5b2f1e8a11";

fn api_with(server: &MockServer, auth: Auth) -> Metabase {
    common::client(server, auth).metabase()
}

fn api(server: &MockServer) -> Metabase {
    api_with(server, userapi::metabase::auth::session(SESSION))
}

/// A client of the fake with a fresh session of the user with this email.
fn session_of(fake: &FakeMetabase, email: &str) -> Metabase {
    let session = fake.add_session(email).unwrap();
    fake.api_with(userapi::metabase::auth::session(session)).unwrap()
}

fn json(status: u16, raw: &str) -> ResponseTemplate {
    common::body(status, raw, "application/json;charset=utf-8")
}

/// A user id the test knows is not 0.
fn uid(id: u64) -> UserId {
    UserId::new(id).expect("a test id is not 0")
}

/// A group id the test knows is not 0.
fn gid(id: u64) -> GroupId {
    GroupId::new(id).expect("a test id is not 0")
}

/// An API-key id the test knows is not 0.
fn kid(id: u64) -> ApiKeyId {
    ApiKeyId::new(id).expect("a test id is not 0")
}

/// A query string's pairs in name order, joined again: the set of pairs a request sent, where
/// their order is not the point.
fn sorted_pairs(query: &str) -> String {
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort();
    pairs.join("&")
}
