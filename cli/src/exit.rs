//! Exit codes and the one-line error a failed command prints.

use std::fmt::Write as _;

/// Success.
pub const OK: u8 = 0;
/// Anything else.
pub const OTHER: u8 = 1;
/// Usage, bad input, missing credential, refused confirmation.
pub const USAGE: u8 = 2;
/// Authentication (401/403).
pub const AUTH: u8 = 3;
/// Not found.
pub const NOT_FOUND: u8 = 4;
/// Another 4xx.
pub const REFUSED: u8 = 5;
/// 5xx.
pub const SERVER: u8 = 6;
/// Network or timeout.
pub const NETWORK: u8 = 7;

/// A failed command: its exit code, one line, a hint, and (for `--verbose`) the chain.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: u8,
    /// What failed (one line, no secret).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The error's sources, outermost first.
    pub chain: Vec<String>,
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// An error with this code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: one_line(&message.into()),
            hint: None,
            chain: Vec::new(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(one_line(&hint.into()));
        self
    }

    /// An SDK error from `what` (e.g. `metabase users get`), with a hint naming the
    /// variables of `service` (`METABASE`) to check.
    pub fn api(what: &str, err: &userapi::Error, credential_vars: &str, url_var: &str) -> Self {
        let code = code_of(err);
        let mut e = CliError::new(code, format!("{what}: {err}"));
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            e.chain.push(one_line(&s.to_string()));
            source = s.source();
        }
        e.hint = match code {
            AUTH => Some(format!("check {credential_vars}")),
            NETWORK => Some(format!("check {url_var} and that the server is reachable")),
            USAGE if err.is_config() => Some(format!("check {url_var} and {credential_vars}")),
            _ => None,
        };
        e
    }

    /// The text printed on stderr.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = format!("error: {}", self.message);
        if let Some(hint) = &self.hint {
            let _ = write!(out, " (hint: {hint})");
        }
        if verbose {
            for cause in &self.chain {
                let _ = write!(out, "\n  caused by: {cause}");
            }
        }
        out
    }
}

/// The exit code for an SDK error.
pub fn code_of(err: &userapi::Error) -> u8 {
    let status = err.status().map(|s| s.as_u16());
    if err.is_auth() || matches!(status, Some(401 | 403)) {
        AUTH
    } else if err.is_not_found() || status == Some(404) {
        NOT_FOUND
    } else if let Some(s) = status {
        match s {
            400..=499 => REFUSED,
            500..=599 => SERVER,
            _ => OTHER,
        }
    } else if err.is_transport() || err.is_timeout() {
        NETWORK
    } else if err.is_invalid_input() || err.is_config() {
        USAGE
    } else {
        OTHER
    }
}

/// Control characters (a server's message may hold any) escaped, so an error is one line.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::new(OTHER, format!("i/o: {e}"))
    }
}
