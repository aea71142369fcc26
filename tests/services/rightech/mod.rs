#![cfg(feature = "rightech")]
//! Rightech IoT Cloud on the wire (wiremock) and against its fake, by behaviour.

mod deletes;
mod errors;
mod paging;
mod roles;
mod tokens;
mod users;

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use userapi::auth::{Password, Token};
use userapi::rightech::{
    GroupId, IssuedToken, ListRoles, ListUsers, NewUser, ObjectId, Rightech, Role, RoleId, TokenRequest,
    User, UserId, UserUpdate,
};
use userapi::{Auth, Error, Method, Secret};
use userapi_fake::rightech::{
    ADMIN_ID, COLLEAGUE_ID, FakeRightech, GROUP_ID, OPERATOR_ROLE_ID, ROLE_ID, STRANGER_ID,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support as common;

const USERS: &str = include_str!("../../fixtures/rightech/users.json");
const USER: &str = include_str!("../../fixtures/rightech/user.json");
/// A create answer as recorded: the whole user in a one-element array.
const CREATED: &str = include_str!("../../fixtures/rightech/created.json");
/// `GET /api/v1/roles` in the recorded layout: each comma on a line of its own.
const ROLES: &str = include_str!("../../fixtures/rightech/roles.txt");
const ID: &str = "5d8a18d5d0025e0012fb6a34";

fn api(server: &MockServer) -> Rightech {
    common::client(server, Auth::bearer("ric-token")).rightech()
}

fn json(status: u16, raw: &str) -> ResponseTemplate {
    common::body(status, raw, "application/json")
}

/// An id of whichever type the call wants, from text the test knows is well formed.
fn oid<T: std::str::FromStr<Err = Error>>(s: &str) -> T {
    s.parse().unwrap()
}

/// The `(name, value)` query pairs of a request, in name order: the order is not the point.
fn pairs(url: &url::Url) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}
