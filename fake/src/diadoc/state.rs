//! What the fake Diadoc holds: the portal's users, organizations, employees and tokens, and
//! the lookups the routes share.

use std::collections::HashMap;

use userapi::auth::Password;
use userapi::diadoc::{Employee, Organization, UserV2};

use super::{State, oidc};

/// A user of the portal and what signs them in.
#[derive(Debug)]
pub(super) struct Account {
    pub(super) user: UserV2,
    /// `None` for a user created by `CreateEmployee`, who has not registered.
    pub(super) password: Option<Password>,
    pub(super) pending_login: Option<String>,
}

/// Everything the fake Diadoc holds.
#[derive(Debug, Default)]
pub(super) struct Portal {
    pub(super) accounts: Vec<Account>,
    pub(super) organizations: Vec<Organization>,
    /// (box GUID, employee); the employee's `User.UserId` names the account.
    pub(super) employees: Vec<(String, Employee)>,
    /// (box GUID, user id) of employees deleted from a box: deleting them again succeeds.
    pub(super) deleted: Vec<(String, String)>,
    /// Live tokens and the user each belongs to.
    pub(super) tokens: HashMap<String, String>,
    /// OpenID Connect: live access tokens and refresh tokens, and the user of each.
    pub(super) oidc: oidc::Tokens,
    pub(super) registration_requests: u32,
}

impl Portal {
    /// The account of `user_id` (case-insensitive).
    pub(super) fn account(&self, user_id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.user.user_id.as_str().eq_ignore_ascii_case(user_id))
    }

    /// The account whose login is `login` (case-insensitive, as Diadoc compares logins).
    pub(super) fn account_by_login(&self, login: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| {
            a.user
                .login
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(login))
        })
    }

    /// The account of `user_id` (case-insensitive), to change.
    pub(super) fn account_mut(&mut self, user_id: &str) -> Option<&mut Account> {
        self.accounts
            .iter_mut()
            .find(|a| a.user.user_id.as_str().eq_ignore_ascii_case(user_id))
    }

    /// The GUID of the box `id` names, in either form (case-insensitive).
    pub(super) fn box_guid(&self, id: &str) -> Option<String> {
        self.organizations
            .iter()
            .flat_map(|o| &o.boxes)
            .find(|b| {
                b.box_id.as_str().eq_ignore_ascii_case(id)
                    || b.box_id_guid
                        .as_ref()
                        .is_some_and(|g| g.as_str().eq_ignore_ascii_case(id))
            })
            .and_then(|b| Some(b.box_id_guid.as_ref()?.to_string()))
    }

    /// The employee record of `user_id` in the box `box_guid`.
    pub(super) fn employee(&self, box_guid: &str, user_id: &str) -> Option<&Employee> {
        self.employees
            .iter()
            .find(|(b, e)| b == box_guid && e.user.user_id.as_str().eq_ignore_ascii_case(user_id))
            .map(|(_, e)| e)
    }
}

impl State {
    /// A new `DiadocAuth` token of the user `user_id`, live until the tokens expire.
    pub(super) fn issue(&self, user_id: &str) -> String {
        let n = self.next_number();
        // base64-like, with padding, as real tokens are.
        let token = format!("ZmFrZS1kZGF1dGg/{n:08}+tok==");
        self.lock().tokens.insert(token.clone(), user_id.to_owned());
        token
    }

    /// A new GUID, unique in this fake.
    pub(super) fn guid(&self) -> String {
        let n = self.next_number();
        format!("00000000-0000-4000-8000-{n:012x}")
    }
}

/// The fake's own reading of a login: `local@domain.tld`, no white space.
pub(super) fn looks_like_email(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|part| !part.is_empty())
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// The GUID a legacy `<32 hex>@diadoc.ru` box id spells, dashes put back.
pub(super) fn guid_of_legacy(legacy: &str) -> String {
    let hex = legacy.trim_end_matches("@diadoc.ru");
    let mut out = String::with_capacity(36);
    for (i, c) in hex.chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// A GUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` or a legacy `<32 hex>@diadoc.ru` box id.
pub(super) fn box_id_shaped(id: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(legacy) = id.strip_suffix("@diadoc.ru") {
        return hex(legacy, 32);
    }
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| hex(p, n))
}
