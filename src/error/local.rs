//! The failures found without a response to read: [`BodyTooLarge`], [`InvalidInput`],
//! [`ConfigError`] with its [`ConfigKind`], and [`AuthError`].

use std::fmt;

use super::*;

/// A response body larger than
/// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes).
#[derive(Debug)]
#[non_exhaustive]
pub struct BodyTooLarge {
    pub(crate) limit: usize,
}

impl BodyTooLarge {
    /// The configured limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the response body is larger than the limit of {} bytes",
            self.limit
        )
    }
}

impl std::error::Error for BodyTooLarge {}

/// An argument refused before anything was sent.
#[derive(Debug)]
#[non_exhaustive]
pub struct InvalidInput {
    pub(crate) operation: &'static str,
    pub(crate) message: String,
}

impl InvalidInput {
    /// The SDK operation, e.g. `<service>::get_user`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid input to {}: {}",
            self.operation,
            Escaped(&self.message)
        )
    }
}

impl std::error::Error for InvalidInput {}

/// What part of the client's configuration cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigKind {
    /// The base URL: missing, unparsable, without a host, with a user name or password, a
    /// scheme other than `http` or `https`, or plain `http` with credentials to another host.
    BaseUrl,
    /// A credential: empty, holding a character that cannot go in a header, or a scheme that
    /// cannot stand in where it was asked to.
    Credential,
    /// A default header or the user agent: a name or value that cannot be a header, or a
    /// header that names a credential.
    Header,
    /// TLS: a certificate that does not decode, a backend that was not compiled in, an HTTP
    /// client whose TLS could not be set up.
    Tls,
    /// The proxy URL.
    Proxy,
    /// The async runtime the client runs on went away.
    Runtime,
    /// A rate limit, a cap on requests in flight or a retry budget whose numbers cannot
    /// work (a rate of zero, a cap of zero, a budget smaller than one retry).
    Limits,
    /// A stored credential the client's scheme cannot start from.
    StoredCredential,
}

/// A client configured in a way that cannot work.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConfigError {
    pub(crate) kind: ConfigKind,
    pub(crate) message: String,
}

impl ConfigError {
    /// What part of the configuration is wrong.
    pub fn kind(&self) -> ConfigKind {
        self.kind
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid client configuration: {}", Escaped(&self.message))
    }
}

impl std::error::Error for ConfigError {}

/// A credential problem found without asking the server: an expired JWT, a failing token
/// provider or one that gave an unusable token, a call that needs a credential the client
/// does not have.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthError {
    pub(crate) message: String,
    pub(crate) source: Option<BoxError>,
}

impl AuthError {
    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.message))
    }
}

impl std::error::Error for AuthError {
    /// The token provider's own error, if it failed.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
