//! Where a failed request went ([`Target`]), and one field's error ([`FieldError`]).

use std::fmt;

use reqwest::Method;

use super::escape::*;

/// Method and path of a request, as errors report them. The query string is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) route: String,
}

impl Target {
    pub(crate) fn new(method: Method, path: impl Into<String>, route: impl Into<String>) -> Self {
        Target {
            method,
            path: path.into(),
            route: route.into(),
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path of the URL, percent-encoded as sent (`/api/user/42`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The route the endpoint is declared with, ids left as placeholders
    /// (`/api/user/{id}`): what spans record, safe to group by.
    pub fn route(&self) -> &str {
        &self.route
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One field the service refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    pub(crate) field: String,
    pub(crate) message: String,
}

impl FieldError {
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn new(field: &str, message: &str) -> Self {
        FieldError {
            field: clip(field),
            message: clip(message),
        }
    }

    /// Dotted path of the field as the service names it (`email`, `query.as_owner`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The service's message for it.
    pub fn message(&self) -> &str {
        &self.message
    }
}
