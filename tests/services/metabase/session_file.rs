//! The session file of `examples/metabase_job.rs`, run against the fake: the README's
//! promise that a second run logs in 0 times, a refused session costs 1, and the file is
//! readable only by its owner.

#[path = "../../../examples/metabase_job/job.rs"]
#[allow(dead_code)]
mod job;

use super::*;

fn logins(fake: &FakeMetabase) -> usize {
    fake.received_requests()
        .iter()
        .filter(|r| r.method == userapi::Method::POST && r.path == "/api/session")
        .count()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("userapi-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("session")
}

#[tokio::test]
async fn a_second_run_logs_in_zero_times_and_a_refused_session_costs_one() {
    let fake = FakeMetabase::start().await.unwrap();
    let file = scratch("job-runs");
    let base = fake.base_url().to_string();

    let first = job::run(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &file).await.unwrap();
    assert!(!first.started_from_file);
    assert_eq!(logins(&fake), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(fake.session_is_live(&SessionId::new(stored.clone())));

    fake.clear_requests();
    let second = job::run(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &file).await.unwrap();
    assert!(second.started_from_file);
    assert_eq!(logins(&fake), 0);

    // The server ends the session: the next run is refused once and logs in once, and the
    // file then holds the new session.
    fake.api_with(userapi::metabase::auth::session(stored.clone()))
        .unwrap()
        .logout()
        .await
        .unwrap();
    fake.clear_requests();
    let third = job::run(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &file).await.unwrap();
    assert!(third.started_from_file);
    assert_eq!(logins(&fake), 1);
    let renewed = std::fs::read_to_string(&file).unwrap();
    assert_ne!(renewed, stored);
    assert!(fake.session_is_live(&SessionId::new(renewed)));
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

/// A session file others can read is not trusted, and one edited into nonsense is not
/// sent: either way the job logs in.
#[tokio::test]
async fn a_file_others_can_read_or_that_holds_no_session_means_a_login() {
    let fake = FakeMetabase::start().await.unwrap();
    let base = fake.base_url().to_string();
    let live = fake.add_session(ADMIN_EMAIL).unwrap();
    let file = scratch("job-files");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&file, live.expose()).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        fake.clear_requests();
        let report = job::run(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &file).await.unwrap();
        assert!(!report.started_from_file);
        assert_eq!(logins(&fake), 1);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    for junk in ["", "   \n", "abc\r\nX-Evil: 1"] {
        std::fs::write(&file, junk).unwrap();
        fake.clear_requests();
        let report = job::run(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &file).await.unwrap();
        assert!(!report.started_from_file, "{junk:?}");
        assert_eq!(logins(&fake), 1, "{junk:?}");
        assert!(
            fake.received_requests().iter().all(|r| !r.path.contains("Evil")),
            "{junk:?}"
        );
    }
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}
