//! The fake crate's own error: [`Error`] and its [`ErrorKind`].

use std::fmt;
use std::net::SocketAddr;

/// What went wrong, in kinds a test can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server could not listen on its address ([`Error::addr`] names it).
    Bind,
    /// A helper that seeds the fake's data was given something the fake refuses: a
    /// duplicate email, a group it does not have, a user it does not know.
    Seed,
    /// A client for the fake could not be built (the source is the `userapi::Error`).
    Client,
    /// A cassette could not be read or written: a file error, text that is not a cassette,
    /// a format version this crate does not read, or an entry that is wrong (the message
    /// names the entry and the problem).
    Cassette,
    /// The recorder could not be set up to reach its upstream (a URL it cannot forward to,
    /// an HTTP client it cannot build).
    Upstream,
}

/// An error of the fakes themselves (never of the service a fake plays).
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    addr: Option<SocketAddr>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn bind(addr: SocketAddr, source: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Bind,
            message: format!("the fake server could not listen on {addr}"),
            addr: Some(addr),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn seed(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Seed,
            message: message.into(),
            addr: None,
            source: None,
        }
    }

    pub(crate) fn client(source: userapi::Error) -> Self {
        Error {
            kind: ErrorKind::Client,
            message: "the fake could not build a client".to_owned(),
            addr: None,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn cassette(message: impl Into<String>, source: Option<std::io::Error>) -> Self {
        Error {
            kind: ErrorKind::Cassette,
            message: message.into(),
            addr: None,
            source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
        }
    }

    pub(crate) fn upstream(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Upstream,
            message: message.into(),
            addr: None,
            source: None,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The address that could not be bound, for [`ErrorKind::Bind`].
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The `userapi::Error` behind an [`ErrorKind::Client`].
    pub fn client_error(&self) -> Option<&userapi::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// The I/O error behind an [`ErrorKind::Bind`].
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.source.as_deref()?.downcast_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.source) {
            (ErrorKind::Bind | ErrorKind::Cassette, Some(source)) => write!(f, "{}: {source}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_accessors() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let e = Error::bind(addr, std::io::Error::from(std::io::ErrorKind::AddrInUse));
        assert_eq!((e.kind(), e.addr()), (ErrorKind::Bind, Some(addr)));
        assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
        assert!(e.io_error().is_some());
        let e = Error::seed("the fake already has a user ada@example.com");
        assert_eq!((e.kind(), e.addr()), (ErrorKind::Seed, None));
        assert!(std::error::Error::source(&e).is_none());
    }
}
