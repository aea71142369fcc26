//! Profiles in `$XDG_CONFIG_HOME/userapi/config.toml`, the environment, and the cache
//! directory that keeps sessions.
//!
//! ```toml
//! default_profile = "work"
//!
//! [profiles.work.metabase]
//! url = "https://metabase.example.com"
//! api_key = "env:WORK_METABASE_KEY"   # read from that variable
//!
//! [profiles.work.rightech]
//! token = "env:RIGHTECH_WORK_TOKEN"
//! ```
//!
//! Keys are the variable names without the service prefix, in lower case (`url`,
//! `base_url`, `api_key`, `session`, `username`, `login`, `password`, `token`,
//! `client_id`). A file that holds a secret written out (not `env:VAR`) must be readable by
//! its owner only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;
use serde::Deserialize;
use userapi::env::EnvCredentials;

use crate::exit::{CliError, CliResult};

/// The names after a service's prefix that the CLI reads.
pub const NAMES: [&str; 10] = [
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

/// Keys whose values are credentials.
const SECRET_KEYS: [&str; 5] = ["token", "password", "api_key", "session", "client_id"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
}

/// Where the values come from: the chosen profile (if any) and the environment.
#[derive(Debug, Default)]
pub struct Settings {
    /// The profile's name (`default` when none is configured).
    pub profile: String,
    /// Whether `--profile` named it (then its values win over the environment).
    explicit: bool,
    /// service -> key -> value (`env:` resolved).
    values: BTreeMap<String, BTreeMap<String, String>>,
}

/// The user's configuration directory for the CLI.
pub fn config_dir() -> CliResult<PathBuf> {
    Ok(base()?.config_dir().join("userapi"))
}

/// The user's cache directory for the CLI (sessions).
pub fn cache_dir() -> CliResult<PathBuf> {
    Ok(base()?.cache_dir().join("userapi"))
}

fn base() -> CliResult<impl BaseStrategy> {
    etcetera::choose_base_strategy().map_err(|_| {
        CliError::usage("no home directory").hint("set HOME or XDG_CONFIG_HOME and XDG_CACHE_HOME")
    })
}

impl Settings {
    /// Reads the config file (if there is one) and picks the profile.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, holds secrets and is readable by others, or
    /// lacks the profile `--profile` names: exit code 2.
    pub fn load(profile: Option<&str>) -> CliResult<Settings> {
        let path = config_dir()?.join("config.toml");
        let file = read_file(&path)?;
        let explicit = profile.is_some();
        let chosen = profile
            .map(str::to_owned)
            .or_else(|| std::env::var("USERAPI_PROFILE").ok().filter(|p| !p.is_empty()))
            .or_else(|| file.as_ref().and_then(|f| f.default_profile.clone()))
            .unwrap_or_else(|| "default".to_owned());
        let raw = file.as_ref().and_then(|f| f.profiles.get(&chosen).cloned());
        let raw = match raw {
            Some(r) => r,
            None if explicit => {
                return Err(
                    CliError::usage(format!("no profile {chosen:?} in {}", path.display()))
                        .hint("add a [profiles.NAME.<service>] table, or drop --profile"),
                );
            }
            None => BTreeMap::new(),
        };
        let mut values = BTreeMap::new();
        for (service, keys) in raw {
            let mut resolved = BTreeMap::new();
            for (key, value) in keys {
                let key = key.to_ascii_lowercase();
                if !NAMES.iter().any(|n| n.eq_ignore_ascii_case(&key)) {
                    return Err(CliError::usage(format!(
                        "{}: unknown key {key:?} in profile {chosen:?} ({service})",
                        path.display()
                    )));
                }
                let value = match value.strip_prefix("env:") {
                    Some(var) => std::env::var(var.trim()).unwrap_or_default(),
                    None => value,
                };
                resolved.insert(key, value);
            }
            values.insert(service.to_ascii_lowercase(), resolved);
        }
        Ok(Settings {
            profile: chosen,
            explicit: explicit && file.is_some(),
            values,
        })
    }

    /// The credentials of `service` (`metabase`) under the variable prefix `prefix`
    /// (`METABASE`), with `aliases` (`MB_URL` -> `URL`) read when the main name is unset.
    pub fn vars(&self, service: &str, prefix: &str, aliases: &[(&str, &str)]) -> EnvCredentials {
        let mut merged: BTreeMap<String, String> = BTreeMap::new();
        let env_value = |name: &str| -> Option<String> {
            let main = std::env::var(format!("{prefix}_{name}"))
                .ok()
                .filter(|v| !v.trim().is_empty());
            main.or_else(|| {
                aliases
                    .iter()
                    .filter(|(_, n)| *n == name)
                    .find_map(|(alias, _)| std::env::var(alias).ok().filter(|v| !v.trim().is_empty()))
            })
        };
        let profile = self.values.get(service);
        for name in NAMES {
            let from_profile = profile
                .and_then(|p| p.get(&name.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
                .cloned();
            let from_env = env_value(name);
            let value = if self.explicit {
                from_profile.or(from_env)
            } else {
                from_env.or(from_profile)
            };
            if let Some(v) = value {
                merged.insert(format!("{prefix}_{name}"), v);
            }
        }
        EnvCredentials::from_vars(prefix, merged)
    }
}

fn read_file(path: &Path) -> CliResult<Option<File>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::usage(format!("cannot read {}: {e}", path.display())));
        }
    };
    let file: File = toml::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{} is not a valid config: {}",
            path.display(),
            e.message()
        ))
    })?;
    let holds_secret = file.profiles.values().flat_map(|p| p.values()).any(|keys| {
        keys.iter()
            .any(|(k, v)| SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) && !v.starts_with("env:"))
    });
    if holds_secret {
        check_private(path)?;
    }
    Ok(Some(file))
}

#[cfg(unix)]
fn check_private(path: &Path) -> CliResult {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(CliError::usage(format!(
            "{} holds secrets and is readable by group or others (mode {:o}); refusing to use it",
            path.display(),
            mode & 0o777
        ))
        .hint(format!(
            "run `chmod 600 {}`, or write the secrets as env:VAR",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> CliResult {
    Ok(())
}
