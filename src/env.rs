//! Credentials from the environment, the same way for every service: [`EnvCredentials`].
//!
//! The variables are `<PREFIX>_<NAME>`, with one prefix per service (the crate's examples use
//! each service's module name in capitals):
//!
//! | variable | read by |
//! |---|---|
//! | `<PREFIX>_BASE_URL`, or `<PREFIX>_URL` | [`base_url`](EnvCredentials::base_url) |
//! | `<PREFIX>_TOKEN` | [`token`](EnvCredentials::token) |
//! | `<PREFIX>_PASSWORD` | [`password`](EnvCredentials::password) |
//! | `<PREFIX>_LOGIN`, `<PREFIX>_USERNAME` | [`login`](EnvCredentials::login), [`username`](EnvCredentials::username) |
//! | `<PREFIX>_CLIENT_ID` | [`client_id`](EnvCredentials::client_id) |
//! | `<PREFIX>_SESSION` | [`session`](EnvCredentials::session) |
//! | `<PREFIX>_API_KEY` | [`api_key`](EnvCredentials::api_key) |
//! | `<PREFIX>_ALLOW_WRITES` (`1`, `true`, `yes`) | [`allow_writes`](EnvCredentials::allow_writes) |
//!
//! A variable that is unset, empty or only white space counts as unset (so a credential is
//! never an empty string that comes back as a bare `401`), and a missing one is named in the
//! error of the `require_*` methods. Secrets come back role-typed, so they never print.
//!
//! ```
//! use userapi::env::EnvCredentials;
//! let env = EnvCredentials::from_vars("ACME", [("ACME_URL", "https://acme.example/"), ("ACME_TOKEN", " ")]);
//! assert_eq!(env.base_url(), Some("https://acme.example/"));
//! assert!(env.token().is_none(), "blank is unset");
//! let err = env.require_token().unwrap_err();
//! assert_eq!(err.to_string(), "set ACME_TOKEN (no credential in the environment)");
//! ```

use std::collections::HashMap;
use std::fmt;

use crate::auth::{ApiKey, Password, SessionId, Token};

/// The credentials and settings one service's variables hold. `Debug` shows which variables
/// are set, never a secret.
#[derive(Clone)]
pub struct EnvCredentials {
    prefix: String,
    vars: HashMap<String, String>,
}

/// A variable the caller needs is not set: its `Display` names it (`set ACME_API_KEY …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingVar {
    names: Vec<String>,
}

impl MissingVar {
    /// The variables of which one would do.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl fmt::Display for MissingVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "set {} (no credential in the environment)",
            self.names.join(" or ")
        )
    }
}

impl std::error::Error for MissingVar {}

/// The names read after the prefix.
const NAMES: [&str; 10] = [
    "BASE_URL",
    "URL",
    "TOKEN",
    "PASSWORD",
    "LOGIN",
    "USERNAME",
    "CLIENT_ID",
    "SESSION",
    "API_KEY",
    "ALLOW_WRITES",
];

impl EnvCredentials {
    /// Reads `<prefix>_*` from the process environment.
    pub fn read(prefix: &str) -> Self {
        let prefix = prefix.to_ascii_uppercase();
        let vars = NAMES
            .iter()
            .filter_map(|name| {
                let var = format!("{prefix}_{name}");
                std::env::var(&var).ok().map(|value| (var, value))
            })
            .collect::<Vec<_>>();
        Self::from_vars(&prefix, vars)
    }

    /// From given variables instead of the environment (for tests, or a config file's
    /// values): the same rules.
    pub fn from_vars<K: AsRef<str>, V: AsRef<str>>(
        prefix: &str,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let prefix = prefix.to_ascii_uppercase();
        let vars = vars
            .into_iter()
            .filter(|(_, v)| !v.as_ref().trim().is_empty())
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .filter(|(k, _)| k.starts_with(&format!("{prefix}_")))
            .collect();
        EnvCredentials { prefix, vars }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(&format!("{}_{name}", self.prefix))
            .map(String::as_str)
    }

    fn missing(&self, names: &[&str]) -> MissingVar {
        MissingVar {
            names: names.iter().map(|n| format!("{}_{n}", self.prefix)).collect(),
        }
    }

    /// The prefix, upper case.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<PREFIX>_BASE_URL`, else `<PREFIX>_URL`.
    pub fn base_url(&self) -> Option<&str> {
        self.get("BASE_URL").or_else(|| self.get("URL"))
    }

    /// `<PREFIX>_TOKEN`.
    pub fn token(&self) -> Option<Token> {
        self.get("TOKEN").map(Token::new)
    }

    /// `<PREFIX>_PASSWORD`.
    pub fn password(&self) -> Option<Password> {
        self.get("PASSWORD").map(Password::new)
    }

    /// `<PREFIX>_LOGIN`, else `<PREFIX>_USERNAME`.
    pub fn login(&self) -> Option<&str> {
        self.get("LOGIN").or_else(|| self.get("USERNAME"))
    }

    /// `<PREFIX>_USERNAME`, else `<PREFIX>_LOGIN`.
    pub fn username(&self) -> Option<&str> {
        self.get("USERNAME").or_else(|| self.get("LOGIN"))
    }

    /// `<PREFIX>_CLIENT_ID` (an API client id is a credential too).
    pub fn client_id(&self) -> Option<crate::Secret> {
        self.get("CLIENT_ID").map(crate::Secret::new)
    }

    /// `<PREFIX>_SESSION`.
    pub fn session(&self) -> Option<SessionId> {
        self.get("SESSION").map(SessionId::new)
    }

    /// `<PREFIX>_API_KEY`.
    pub fn api_key(&self) -> Option<ApiKey> {
        self.get("API_KEY").map(ApiKey::new)
    }

    /// Whether `<PREFIX>_ALLOW_WRITES` is `1`, `true` or `yes` (any case): examples and the
    /// command line write to a real server only then.
    pub fn allow_writes(&self) -> bool {
        self.get("ALLOW_WRITES")
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
    }

    /// Whether any variable of this prefix is set.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// [`base_url`](Self::base_url), or an error naming both variables.
    ///
    /// # Errors
    /// [`MissingVar`] when neither is set.
    pub fn require_base_url(&self) -> Result<&str, MissingVar> {
        self.base_url().ok_or_else(|| self.missing(&["BASE_URL", "URL"]))
    }

    /// [`token`](Self::token), or an error naming the variable.
    ///
    /// # Errors
    /// [`MissingVar`] when it is not set.
    pub fn require_token(&self) -> Result<Token, MissingVar> {
        self.token().ok_or_else(|| self.missing(&["TOKEN"]))
    }

    /// [`password`](Self::password), or an error naming the variable.
    ///
    /// # Errors
    /// [`MissingVar`] when it is not set.
    pub fn require_password(&self) -> Result<Password, MissingVar> {
        self.password().ok_or_else(|| self.missing(&["PASSWORD"]))
    }
}

impl fmt::Debug for EnvCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        set.sort_unstable();
        f.debug_struct("EnvCredentials")
            .field("prefix", &self.prefix)
            .field("set", &set)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_read_by_prefix_and_secrets_never_print() {
        let env = EnvCredentials::from_vars(
            "acme",
            [
                ("ACME_URL", "https://mb.example/"),
                ("ACME_API_KEY", "mb_s3cret-key"),
                ("ACME_USERNAME", "ada@example.com"),
                ("ACME_PASSWORD", ""),
                ("ACME_ALLOW_WRITES", "Yes"),
                ("OTHER_TOKEN", "not-ours"),
            ],
        );
        assert_eq!(env.prefix(), "ACME");
        assert_eq!(env.require_base_url(), Ok("https://mb.example/"));
        assert_eq!(
            env.api_key().map(|k| k.expose().to_owned()).as_deref(),
            Some("mb_s3cret-key")
        );
        assert_eq!(env.username(), Some("ada@example.com"));
        assert_eq!(env.login(), Some("ada@example.com"));
        assert!(env.password().is_none(), "empty is unset");
        assert!(env.token().is_none(), "another prefix's variable is not read");
        assert!(env.allow_writes());
        let shown = format!("{env:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("ACME_API_KEY"),
            "{shown}"
        );
        assert_eq!(
            env.require_password().unwrap_err().to_string(),
            "set ACME_PASSWORD (no credential in the environment)"
        );
        let none = EnvCredentials::from_vars("X", [("X_ALLOW_WRITES", "0")]);
        assert!(!none.allow_writes());
        assert_eq!(
            none.require_base_url().unwrap_err().names(),
            ["X_BASE_URL".to_owned(), "X_URL".to_owned()]
        );
    }
}
