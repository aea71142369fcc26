//! Kept sessions: `userapi <service> login` keeps the session (or token) a server issued in
//! the user's cache directory, and later commands reuse it.
//!
//! A kept session belongs to one login on one server. The file records, with the session,
//! the base URL it was issued for (normalised: scheme and host in lower case, no default
//! port, no user name or password, one trailing `/`) and the login that obtained it:
//!
//! ```json
//! {"version":1,"service":"metabase","base_url":"https://metabase.example.com/","login":"ada@example.com","session":"…"}
//! ```
//!
//! A session whose server or login differs from the command's is never sent, nor is one in
//! a file of another format (the bare session of earlier versions, a later version, a
//! damaged file). The file is the user's only (mode 0600; a file others can read is removed
//! and not used) and is written to a temporary file renamed into place. Its name holds the
//! profile and the service only, never a secret.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use userapi::Secret;
use userapi::auth::{ChangeReason, CredentialChange};

use crate::exit::{CliError, CliResult};

/// The version of the file format this build writes and reads.
const VERSION: u32 = 1;

/// The kept session of one service in one profile, for the server a command talks to.
#[derive(Debug, Clone)]
pub struct Kept {
    file: PathBuf,
    service: &'static str,
    /// The command's base URL, normalised.
    server: String,
}

/// What the file holds for a command, for one login (or any login).
pub enum Lookup {
    /// A session issued by this server for this login: it may be sent.
    Found(Secret),
    /// No kept session.
    Missing,
    /// A session issued by another server: never sent.
    OtherServer,
    /// A session of another login: never sent.
    OtherLogin,
    /// A file of another format (an earlier or later version, or damaged): never sent.
    Unreadable,
}

/// The file as written (the session stays in the caller's [`Secret`] until written).
#[derive(Deserialize)]
struct Stored {
    version: u32,
    service: String,
    base_url: String,
    login: String,
    session: String,
}

/// `base_url` normalised, so that `https://Host:443/path` and `https://host/path/` name the
/// same server; a user name or password written into the URL is left out. `None` when it
/// does not parse.
pub fn normalise(base_url: &str) -> Option<String> {
    let mut url = url::Url::parse(base_url.trim()).ok()?;
    // Neither fails for a URL with a host, the only kind that can carry a user name.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url.into())
}

impl Kept {
    /// The kept session of `service` in `file`, for commands sent to `base_url`.
    ///
    /// # Errors
    /// A base URL that does not parse: exit code 2, naming `url_var` (the URL itself is not
    /// repeated: it may hold a password).
    pub fn new(file: PathBuf, service: &'static str, base_url: &str, url_var: &str) -> CliResult<Kept> {
        let server = normalise(base_url).ok_or_else(|| {
            CliError::usage(format!("{url_var} is not a URL")).hint(format!(
                "set {url_var} to the server's address, such as https://host/"
            ))
        })?;
        Ok(Kept {
            file,
            service,
            server,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The kept session, if it was issued by this server for `login` (any login when
    /// `None`).
    pub fn load(&self, login: Option<&str>) -> Lookup {
        let Ok(meta) = std::fs::metadata(&self.file) else {
            return Lookup::Missing;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "note: {} can be read by others: not using it (log in again)",
                    self.file.display()
                );
                let _ = std::fs::remove_file(&self.file);
                return Lookup::Missing;
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let Ok(text) = std::fs::read_to_string(&self.file) else {
            return Lookup::Unreadable;
        };
        let Ok(stored) = serde_json::from_str::<Stored>(&text) else {
            return Lookup::Unreadable;
        };
        let session = Secret::new(stored.session);
        let s = session.expose();
        if stored.version != VERSION
            || stored.service != self.service
            || s.is_empty()
            || s.chars().any(char::is_control)
        {
            return Lookup::Unreadable;
        }
        if normalise(&stored.base_url).as_deref() != Some(self.server.as_str()) {
            return Lookup::OtherServer;
        }
        if login.is_some_and(|l| l.trim() != stored.login) {
            return Lookup::OtherLogin;
        }
        Lookup::Found(session)
    }

    /// Keeps `session`, issued by this server for `login`: mode 0600, written to a temporary
    /// file and renamed into place.
    ///
    /// # Errors
    /// The directory or the file cannot be written.
    pub fn store(&self, login: &str, session: &Secret) -> std::io::Result<()> {
        let text = serde_json::json!({
            "version": VERSION,
            "service": self.service,
            "base_url": self.server,
            "login": login.trim(),
            "session": session.expose(),
        })
        .to_string();
        write_private(&self.file, text.as_bytes())
    }

    /// Forgets the kept session.
    ///
    /// # Errors
    /// The file exists and cannot be removed.
    pub fn remove(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The `on_credential_change` hook that keeps the sessions a client obtains for `login`
    /// (and forgets the kept one on logout).
    pub fn keeper(&self, login: &str) -> impl Fn(&CredentialChange) + Send + Sync + 'static {
        let kept = self.clone();
        let login = login.trim().to_owned();
        move |change| {
            let result = match &change.credential {
                Some(session) => kept.store(&login, session),
                None if change.reason == ChangeReason::Logout => kept.remove(),
                None => return,
            };
            if let Err(e) = result {
                eprintln!("note: could not keep the session in {}: {e}", kept.file.display());
            }
        }
    }
}

impl Lookup {
    /// The session, if it may be sent.
    pub fn found(self) -> Option<Secret> {
        match self {
            Lookup::Found(s) => Some(s),
            _ => None,
        }
    }

    /// For a command that has no credential but the kept session: the session, or why there
    /// is none to send (exit code 2). `service` names it (`Metabase`), `url_var` and
    /// `login_var` the variables the session is matched with, `login_command` the command that
    /// replaces it, `credentials` the variables that would do instead.
    ///
    /// # Errors
    /// No kept session, or none that may be sent here.
    pub fn or_explain(
        self,
        service: &str,
        url_var: &str,
        login_var: &str,
        login_command: &str,
        credentials: &str,
    ) -> CliResult<Secret> {
        let why = match self {
            Lookup::Found(s) => return Ok(s),
            Lookup::Missing => {
                return Err(
                    CliError::usage(format!("no {service} credential")).hint(format!("set {credentials}"))
                );
            }
            Lookup::OtherServer => format!("was issued by another server than {url_var}"),
            Lookup::OtherLogin => format!("belongs to another login than {login_var}"),
            Lookup::Unreadable => "is in a format this version does not read".to_owned(),
        };
        Err(
            CliError::usage(format!("the kept {service} session {why}: not sending it")).hint(format!(
                "run `{login_command}` to replace it, or set {credentials}"
            )),
        )
    }
}

/// Writes `bytes` to `file` readable by its owner only (the directory too), through a
/// temporary file renamed into place: a reader sees the old file or the new one.
fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let mut tmp_name = file.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = file.with_file_name(tmp_name);
    // A leftover of a crashed run may have any mode: start afresh.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut out| {
        out.write_all(bytes)?;
        out.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&tmp, file));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn one_server_however_its_url_is_written() {
        let one = normalise("https://metabase.example.com/").unwrap();
        for same in [
            "https://metabase.example.com",
            "HTTPS://Metabase.Example.COM:443",
            " https://metabase.example.com/ ",
            "https://user:pa55@metabase.example.com/#top",
        ] {
            assert_eq!(normalise(same).unwrap(), one, "{same}");
        }
        for other in [
            "http://metabase.example.com/",
            "https://metabase.example.com:8443/",
            "https://metabase.example.org/",
            "https://metabase.example.com/other/",
        ] {
            assert_ne!(normalise(other).unwrap(), one, "{other}");
        }
        assert_eq!(
            normalise("https://h/api").unwrap(),
            normalise("https://h/api/").unwrap()
        );
        assert!(!normalise("https://u:pa55@h/").unwrap().contains("pa55"));
        assert_eq!(normalise("not a url"), None);
    }
}
