//! The one request pipeline every endpoint goes through: build the URL from encoded path
//! segments, attach credentials, send, retry by policy, read the body within its limit, map
//! failures to [`Error`], decode.
//!
//! An endpoint method names its operation, method, path segments, body and result type, and
//! hands them to [`Client::call`]; nothing else in the crate talks to `reqwest`.

mod attempt;
mod body;
mod builder;
mod exchange;
mod response;
mod route;
#[cfg(test)]
mod tests;

pub use builder::RequestBuilder;
#[cfg(test)]
pub(crate) use exchange::parse_retry_after;
pub(crate) use response::RawResponse;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use url::Url;

use crate::auth::{Auth, Credential, Secret};
use crate::client::Client;
use crate::error::{ConfigKind, Error, ErrorHook, Result, Target};

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const FORM_URLENCODED: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");
const EXCERPT_CHARS: usize = 200;

/// One request on its way through the pipeline: its parts in one box, so that the call moves
/// as a pointer from the endpoint that builds it into the future that sends it (in line, some
/// 400 bytes, an endpoint's future held it three times over).
#[must_use = "a call does nothing until it is sent"]
pub(crate) struct Call<'c>(Box<CallParts<'c>>);

impl<'c> std::ops::Deref for Call<'c> {
    type Target = CallParts<'c>;

    fn deref(&self) -> &CallParts<'c> {
        &self.0
    }
}

impl std::ops::DerefMut for Call<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// What a [`Call`] holds.
pub(crate) struct CallParts<'c> {
    client: &'c Client,
    service: &'static Service,
    /// Secrets the body carries, redacted wherever the server echoes them.
    body_secrets: Vec<Secret>,
    /// A credential sent instead of the client's.
    auth_override: Option<Credential>,
    /// The operation's stable name, for spans and observers.
    operation: &'static str,
    method: Method,
    url: Url,
    /// Shared with the response, so a success costs no copy of the path.
    target: Arc<Target>,
    /// The call's own headers (none for most calls): each attempt's request starts from the
    /// client's, and these win over them.
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: bool,
    secret_response: bool,
}

/// A service as the pipeline needs to know it: its name and how it words its errors.
#[derive(Debug)]
pub(crate) struct Service {
    /// Reads the service's own error shapes after the generic reading.
    pub(crate) read_error: Option<ErrorHook>,
}

/// No service knowledge: the generic error reading only.
pub(crate) static GENERIC: Service = Service { read_error: None };

/// The most headers of its own a request made with the escape hatch may set (distinct
/// names): the bound of a client's default headers.
pub(crate) const MAX_CALL_HEADERS: usize = crate::client::MAX_DEFAULT_HEADERS;

/// Longest id accepted as one path segment, in bytes before encoding.
pub(crate) const MAX_SEGMENT_BYTES: usize = 1024;

impl<'c> Call<'c> {
    /// Appends a query parameter.
    pub(crate) fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.url.query_pairs_mut().append_pair(name, value.as_ref());
        self
    }

    /// Appends a query parameter when `value` is set.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn query_opt<V: ToString>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v.to_string()),
            None => self,
        }
    }

    /// Appends the fields of a query struct: each field that is set, in the order of their
    /// names; a list as the same name repeated; `None` and empty lists left out (with nothing
    /// set, the URL keeps no `?`). Only strings, numbers and booleans (and lists of them) make
    /// sense in a query.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `query` does not serialize to an object of such values.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn query_struct<Q: Serialize + ?Sized>(mut self, query: &Q) -> Result<Self> {
        let bad = |what: String| Error::invalid_input(self.operation, format!("the query {what}"));
        let value = serde_json::to_value(query).map_err(|e| bad(format!("does not serialize: {e}")))?;
        let serde_json::Value::Object(fields) = value else {
            return Err(bad("is not a struct".into()));
        };
        let mut pairs = Vec::new();
        for (name, value) in &fields {
            let values = match value {
                serde_json::Value::Array(items) => items.as_slice(),
                other => std::slice::from_ref(other),
            };
            for value in values {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => return Err(bad(format!("field {name} is not a string, number or boolean"))),
                };
                pairs.push((name.as_str(), text));
            }
        }
        if !pairs.is_empty() {
            self.url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(self)
    }

    /// Sets a request header.
    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// How many headers of its own the call sets.
    pub(crate) fn own_headers(&self) -> usize {
        self.headers.len()
    }

    /// A JSON body, sent with `Content-Type: application/json` unless a content type was set.
    /// Secrets in the body (fields written with `expose_secret`) are noted for redaction.
    pub(crate) fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let (bytes, secrets) = crate::auth::noting_secrets(|| serde_json::to_vec(body));
        self.body_secrets.extend(secrets);
        let bytes = bytes.map_err(|e| {
            Error::invalid_input(
                self.operation,
                format!("the request body cannot be written as JSON: {e}"),
            )
        })?;
        self.body = Some(Bytes::from(bytes));
        if !self.headers.contains_key(CONTENT_TYPE)
            && !self.client.settings.headers.contains_key(CONTENT_TYPE)
        {
            self.headers.insert(CONTENT_TYPE, APPLICATION_JSON);
        }
        Ok(self)
    }

    /// A form body (`application/x-www-form-urlencoded`), as an OAuth 2.0 token endpoint
    /// takes it. `secrets` are values in it to redact wherever the server echoes them.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn form(mut self, pairs: &[(&str, &str)], secrets: impl IntoIterator<Item = Secret>) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body_secrets.extend(secrets);
        self.body = Some(Bytes::from(body));
        self.headers.insert(CONTENT_TYPE, FORM_URLENCODED);
        self
    }

    /// Sends this credential instead of the client's (`Auth::none()` for a login). Only a
    /// scheme with a fixed credential can stand in.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn auth_override(mut self, auth: &Auth) -> Result<Self> {
        let credential = auth.fixed()?.ok_or_else(|| {
            Error::config(
                ConfigKind::Credential,
                format!(
                    "the {} scheme has no fixed credential to send in place of the client's",
                    auth.scheme_name()
                ),
            )
        })?;
        self.auth_override = Some(credential.redacting(auth.secrets()));
        Ok(self)
    }

    /// Method, path and route of this call, for tests.
    #[cfg(test)]
    pub(crate) fn target_for_test(&self) -> &Target {
        &self.target
    }

    /// Marks the operation as safe to repeat, so the retry policy may replay it.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Marks the response as carrying a credential: decode errors then keep no excerpt.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn secret_response(mut self) -> Self {
        self.secret_response = true;
        self
    }
}
