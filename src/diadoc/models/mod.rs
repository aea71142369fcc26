//! Diadoc's types, as the protocol defines them: PascalCase JSON, absent optional fields not
//! sent. Response types keep the fields this version does not model in `extra`; every field
//! a server may leave out is an `Option` (or an empty list), and enums decode values added
//! later, and the protocol's numbers, without failing.

mod employees;
mod ids;
mod organizations;
mod user;

pub use employees::*;
pub use ids::*;
pub use organizations::*;
pub use user::*;

/// `local@domain.tld` with no white space: a shape check before sending, not validation; the
/// server stays the authority.
pub(super) fn email_shaped(s: &str) -> bool {
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
