//! A success response with its body read, and decoding it.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;

use super::*;
use crate::auth::{Redactor, Secret};
use crate::error::{DecodeError, Error, Result, Target};

/// A success response with its body read.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(super) target: Arc<Target>,
    pub(super) secret: bool,
    /// The secrets the request sent (its credential's, and its body's), redacted from
    /// decode excerpts.
    pub(super) credential_secrets: Arc<[Secret]>,
    pub(super) body_secrets: Vec<Secret>,
    /// Requests sent to get it.
    pub(super) attempts: u32,
}

impl RawResponse {
    /// A response as if it had come from the server, for tests of decoding.
    #[cfg(test)]
    pub(crate) fn for_test(status: StatusCode, content_type: Option<&str>, body: Vec<u8>) -> RawResponse {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
            headers.insert(CONTENT_TYPE, ct);
        }
        RawResponse {
            status,
            headers,
            body: Bytes::from(body),
            target: Arc::new(Target::new(Method::GET, "/test", "/test")),
            secret: false,
            credential_secrets: Arc::from(Vec::new()),
            body_secrets: Vec::new(),
            attempts: 1,
        }
    }

    /// Decodes the body as JSON. The fast path is a plain `serde_json::from_slice`; only when
    /// it fails is the body decoded again to find the failing field's path.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        match serde_json::from_slice(&self.body) {
            Ok(value) => Ok(value),
            Err(_) => Err(self.decode_error::<T>()),
        }
    }

    #[cold]
    fn decode_error<T: DeserializeOwned>(&self) -> Error {
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        let (field_path, message) = match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(_) => (
                ".".to_owned(),
                "trailing characters after the JSON value".to_owned(),
            ),
            Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        };
        let message = if self.body.trim_ascii().is_empty() {
            "the body is empty, JSON was expected".to_owned()
        } else {
            message
        };
        self.decode_failure(field_path, message)
    }

    /// A decode error about this response.
    pub(crate) fn decode_failure(&self, field_path: String, message: String) -> Error {
        let redactor = Redactor::new(self.credential_secrets.iter().chain(&self.body_secrets));
        let excerpt = (!self.secret && !self.body.is_empty()).then(|| {
            let mut text = String::from_utf8_lossy(&self.body).into_owned();
            redactor.string(&mut text);
            text.chars().take(EXCERPT_CHARS).collect()
        });
        let (mut message, mut field_path) = (message, field_path);
        redactor.string(&mut message);
        redactor.string(&mut field_path);
        let content_type = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let detail = DecodeError {
            status: self.status,
            field_path,
            message,
            content_type,
            excerpt,
        };
        Error::decode(&self.target, detail, self.attempts)
    }

    /// A response that breaks the service's protocol (an empty session id, a missing
    /// created id).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn protocol_error(&self, message: impl Into<String>) -> Error {
        let mut message = message.into();
        Redactor::new(self.credential_secrets.iter().chain(&self.body_secrets)).string(&mut message);
        let mut err = Error::protocol(&self.target, Some(self.status), message);
        err.set_attempts(self.attempts);
        err
    }

    /// A failure the service reported inside this success response (an envelope's code,
    /// `success: false`).
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn api_error(&self, code: i64, message: Option<String>) -> Error {
        let mut message = message;
        Redactor::new(self.credential_secrets.iter().chain(&self.body_secrets)).option(&mut message);
        let detail = crate::error::ApiError {
            http_status: self.status,
            code,
            message,
        };
        Error::api(&self.target, detail, self.attempts)
    }

    /// Method and path of the request.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }
}
