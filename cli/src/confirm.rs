//! Safety for writes: `--dry-run` prints the request instead of sending it; otherwise a
//! write asks on a terminal, proceeds with `--yes`, and is refused (exit 2) without either.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::Value;

use crate::exit::{CliError, CliResult};

/// A request a write would send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The HTTP method.
    pub method: &'static str,
    /// The path under the base URL.
    pub path: String,
    /// The JSON body, if any (secrets are redacted when printed).
    pub body: Option<Value>,
}

impl Plan {
    /// A request without a body.
    pub fn new(method: &'static str, path: impl Into<String>) -> Plan {
        Plan {
            method,
            path: path.into(),
            body: None,
        }
    }

    /// With a JSON body.
    pub fn body(mut self, body: &impl serde::Serialize) -> Plan {
        self.body = serde_json::to_value(body).ok();
        self
    }

    /// The line `--dry-run` prints (and the prompt shows): secrets in the query string and
    /// the body redacted.
    pub fn render(&self) -> String {
        let mut line = format!(
            "{} {}",
            self.method,
            crate::exit::one_line(&redact_query(&self.path))
        );
        if let Some(body) = &self.body {
            line.push(' ');
            line.push_str(&redact(body).to_string());
        }
        line
    }
}

/// Field names whose values are secrets.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password", "token", "secret", "api_key", "apikey", "session", "key",
    ]
    .iter()
    .any(|s| {
        k == *s
            || k.contains("password")
            || k.contains("token")
            || k.contains("secret")
            || k.ends_with("_key")
    })
}

/// The path with the value of every secret query parameter (`?token=…`) replaced by
/// `<redacted>`.
pub fn redact_query(path: &str) -> String {
    let Some((route, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_key(key) => format!("{key}=<redacted>"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{route}?{}", pairs.join("&"))
}

/// A copy with every secret field's value replaced by `<redacted>`.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !v.is_null() {
                        Value::String("<redacted>".into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// What a write does after the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    /// Send it.
    Send,
    /// `--dry-run`: it was printed, send nothing.
    DryRun,
}

/// The checks for writes.
#[derive(Debug, Clone, Copy)]
pub struct Safety {
    /// `--yes`.
    pub yes: bool,
    /// `--dry-run`.
    pub dry_run: bool,
}

impl Safety {
    /// For one or more requests described as `what`: prints them under `--dry-run`, else
    /// asks (or checks `--yes`).
    ///
    /// # Errors
    /// Exit code 2 when the write is refused or cannot be confirmed.
    pub fn check(&self, what: &str, plans: &[Plan]) -> CliResult<Go> {
        if self.dry_run {
            let mut out = std::io::stdout().lock();
            for plan in plans {
                let _ = writeln!(out, "DRY-RUN {}", plan.render());
            }
            let _ = out.flush();
            eprintln!("dry run: nothing was sent");
            return Ok(Go::DryRun);
        }
        if self.yes {
            return Ok(Go::Send);
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(CliError::usage(format!(
                "{what}: refusing to write without confirmation (no terminal to ask on)"
            ))
            .hint("pass --yes to confirm, or --dry-run to see the requests"));
        }
        // `what` may hold what the user typed (a path): escaped, as the plan lines are.
        eprintln!("About to {}:", crate::exit::one_line(what));
        for plan in plans {
            eprintln!("  {}", plan.render());
        }
        eprint!("Proceed? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(Go::Send)
        } else {
            Err(CliError::usage(format!("{what}: not confirmed")))
        }
    }
}
