//! The job of `examples/metabase_job.rs`, and the file it keeps its session in. The
//! integration tests run this same code against the fake.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use userapi::auth::{ChangeReason, CredentialChange};
use userapi::metabase::ListUsers;
use userapi::{Client, Secret};

/// What one run did.
#[derive(Debug)]
pub struct Report {
    /// Whether the run found a usable stored session.
    pub started_from_file: bool,
    /// The users the job counted.
    pub users: usize,
}

/// One run of the job: start from the stored session if there is a good one, log in only
/// when it is missing or refused, and keep whatever session the client ends up with.
pub async fn run(
    base_url: &str,
    username: &str,
    password: &str,
    file: &Path,
) -> Result<Report, Box<dyn std::error::Error>> {
    let stored = load(file)?;
    let started_from_file = stored.is_some();
    let keep = file.to_path_buf();
    let mut builder = Client::builder()
        .base_url(base_url)
        .auth(userapi::metabase::auth::login(username, password.to_owned()))
        .on_credential_change(move |change| {
            if let Err(e) = store(&keep, change) {
                eprintln!("could not keep the session in {}: {e}", keep.display());
            }
        });
    if let Some(session) = stored {
        builder = builder.stored_credential(session);
    }
    let api = builder.build()?.metabase();
    let me = api.get_me().await?;
    println!("  working as {}", me.email.as_deref().unwrap_or("?"));
    let users = api.list_users(&ListUsers::new()).await?;
    // The session may have changed on the last call: keep it before the process ends.
    api.client().flush_credential_changes().await;
    Ok(Report {
        started_from_file,
        users: users.data.len(),
    })
}

/// The stored session, if the file holds one that only its owner can read. A file others
/// can read is not trusted (anyone who could read it could have used the session): it is
/// removed, and the job logs in.
pub fn load(file: &Path) -> std::io::Result<Option<Secret>> {
    let metadata = match fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "  {} can be read by others: not using it, logging in instead",
                file.display()
            );
            fs::remove_file(file)?;
            return Ok(None);
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    // A file edited by hand or cut short holds no session a header can carry: log in.
    let text = fs::read_to_string(file).unwrap_or_default();
    let session = text.trim();
    if session.is_empty() || session.chars().any(char::is_control) {
        return Ok(None);
    }
    Ok(Some(Secret::new(session.to_owned())))
}

/// Keeps the credential a change hands over (mode 0600, written to a temporary file and
/// renamed into place, so a crash leaves the old file or the new one), or removes the file
/// when the client holds none any more.
pub fn store(file: &Path, change: &CredentialChange) -> std::io::Result<()> {
    let Some(session) = &change.credential else {
        if change.reason == ChangeReason::Logout {
            return match fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        return Ok(());
    };
    let tmp = temporary(file);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options.open(&tmp)?;
    out.write_all(session.expose().as_bytes())?;
    out.sync_all()?;
    drop(out);
    fs::rename(&tmp, file)
}

fn temporary(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    file.with_file_name(name)
}
