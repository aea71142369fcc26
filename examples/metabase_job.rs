//! A job that runs again and again (cron, CI) and keeps its Metabase session between runs
//! in a file only its owner can read (mode 0600), so that it logs in only when the session
//! is missing or the server refuses it: Metabase throttles logins (10 per user name) and may
//! email the user about each login from a new device.
//!
//! With `METABASE_URL`, `METABASE_USERNAME` and `METABASE_PASSWORD` set it runs once against
//! that server, keeping the session in `METABASE_SESSION_FILE` (default: a file in the
//! temporary directory). It only reads. Otherwise it starts the fake and runs twice, to
//! show the second run starting from the file.
//!
//! ```sh
//! cargo run --example metabase_job
//! ```

#[path = "metabase_job/job.rs"]
mod job;

use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("metabase_job failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::var_os("METABASE_SESSION_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("userapi-metabase-job.session"));
    if let Ok(url) = std::env::var("METABASE_URL") {
        let (Ok(username), Ok(password)) = (
            std::env::var("METABASE_USERNAME"),
            std::env::var("METABASE_PASSWORD"),
        ) else {
            println!(
                "skipped: the job logs in with METABASE_USERNAME and METABASE_PASSWORD, and one is not set"
            );
            return Ok(());
        };
        let report = job::run(&url, &username, &password, &file).await?;
        println!(
            "{} users; {} ({})",
            report.users,
            if report.started_from_file {
                "started from the stored session"
            } else {
                "logged in"
            },
            file.display()
        );
        return Ok(());
    }
    use userapi_fake::metabase::{ADMIN_EMAIL, ADMIN_PASSWORD, FakeMetabase};
    let fake = FakeMetabase::start().await?;
    let dir = std::env::temp_dir().join(format!("userapi-metabase-job-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("session");
    let base = fake.base_url().to_string();
    for run in 1..=2 {
        println!("run {run}:");
        fake.clear_requests();
        let report = job::run(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &file).await?;
        let logins = fake
            .received_requests()
            .iter()
            .filter(|r| r.path == "/api/session" && r.method == userapi::Method::POST)
            .count();
        println!(
            "  {} users, {logins} login(s), {}",
            report.users,
            if report.started_from_file {
                "started from the stored session"
            } else {
                "no stored session"
            }
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
