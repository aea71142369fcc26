//! What every command shares: flags anywhere, formats, exit codes, errors, safety,
//! --verbose, profiles, completions, streaming.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use userapi::StatusCode;
use userapi::metabase::NewUser;
use userapi_fake::Fault;
use userapi_fake::metabase::{API_KEY, FakeMetabase};

use crate::metabase::setup;
use crate::support::{Env, url};

#[tokio::test(flavor = "multi_thread")]
async fn global_flags_anywhere_on_the_line() {
    let (_fake, env) = setup().await;
    let before = env.run(&["--json", "metabase", "me"]).code(0).json();
    let after = env.run(&["metabase", "me", "--json"]).code(0).json();
    let middle = env.run(&["metabase", "--format", "json", "me"]).code(0).json();
    assert_eq!(before["email"], after["email"]);
    assert_eq!(before["email"], middle["email"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn formats_json_by_default_off_a_terminal_then_table_csv_jsonl() {
    let (_fake, env) = setup().await;
    let default = env.run(&["metabase", "users", "list"]).code(0);
    assert!(
        default.json_lines().len() >= 3,
        "JSON Lines when stdout is a pipe"
    );
    let jsonl = env
        .run(&["metabase", "users", "list", "--format", "jsonl"])
        .code(0);
    assert_eq!(jsonl.out, default.out);
    let table = env
        .run(&["metabase", "users", "list", "--format", "table"])
        .code(0);
    assert!(
        table.out.contains("email") && table.out.contains("rasta@metabase.com"),
        "{}",
        table.out
    );
    assert!(serde_json::from_str::<serde_json::Value>(table.out.lines().next().unwrap()).is_err());
    let csv = env.run(&["metabase", "users", "list", "--format", "csv"]).code(0);
    assert_eq!(
        csv.out.lines().count(),
        default.out.lines().count() + 1,
        "a header row"
    );
    // Notes go to stderr; stdout stays machine-readable.
    let dry = env
        .run(&["metabase", "users", "deactivate", "2", "--dry-run"])
        .code(0);
    assert!(dry.err.contains("nothing was sent"));
    assert!(!dry.out.contains("nothing was sent"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_for_each_error_class() {
    let (fake, env) = setup().await;
    // 3: authentication refused; the one-line error names the variables.
    let bad = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .secret_var("METABASE_API_KEY", "mb_not-the-right-key-at-all");
    let refused = bad.run(&["metabase", "me"]).code(3);
    assert_eq!(refused.err.trim().lines().count(), 1, "{}", refused.err);
    assert!(refused.err.contains("METABASE_API_KEY"), "{}", refused.err);
    // 4: not found.
    env.run(&["metabase", "users", "get", "999"]).code(4);
    // 5: another 4xx (validation): an email the server refuses.
    let invalid = env
        .run(&["metabase", "users", "create", "--email", "not-an-email", "--yes"])
        .code(5);
    assert_eq!(invalid.err.trim().lines().count(), 1, "{}", invalid.err);
    // 6: a server error, after the retries.
    fake.fail_next(10, 500);
    env.run(&["metabase", "me"]).code(6);
    fake.clear_faults();
    // 7: nobody listening.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        Env::new()
            .var("METABASE_URL", format!("http://127.0.0.1:{port}"))
            .secret_var("METABASE_API_KEY", API_KEY)
    };
    let down = closed.run(&["metabase", "me"]).code(7);
    assert!(down.err.contains("METABASE_URL"), "{}", down.err);
    // 2: usage: unknown service, unknown command, malformed id, missing credential.
    fake.clear_requests();
    env.run(&["nosuchservice", "me"]).code(2);
    env.run(&["metabase", "frobnicate"]).code(2);
    env.run(&["metabase", "users", "get", "abc"]).code(2);
    env.run(&["metabase", "users", "get", "0"]).code(2);
    env.run(&["metabase", "users", "get", "1\u{7}\n2"]).code(2);
    assert!(fake.received_requests().is_empty(), "nothing sent for bad input");
    let nothing = Env::new().var("METABASE_URL", url(fake.base_url()));
    let missing = nothing.run(&["metabase", "me"]).code(2);
    assert!(missing.err.contains("METABASE_API_KEY"), "{}", missing.err);
    let no_url = Env::new().run(&["metabase", "me"]).code(2);
    assert!(no_url.err.contains("METABASE_URL"), "{}", no_url.err);
    // An email that matches nobody.
    env.run(&["metabase", "users", "get", "nobody@example.com"])
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_message_is_escaped_on_one_line_and_verbose_shows_the_chain() {
    let (fake, env) = setup().await;
    fake.inject(
        1,
        userapi_fake::Fault::Respond(userapi_fake::Response::json(
            400,
            &serde_json::json!({"message": "bad\nthing\u{1b}[31m"}),
        )),
    );
    let run = env.run(&["metabase", "users", "get", "2"]).code(5);
    assert_eq!(run.err.trim_end().lines().count(), 1, "{:?}", run.err);
    assert!(!run.err.contains('\u{1b}'), "{:?}", run.err);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_sends_nothing_and_confirmation_is_needed_off_a_terminal() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    for args in [
        &["metabase", "users", "deactivate", "2", "--dry-run"][..],
        &["metabase", "users", "reactivate", "4", "--dry-run"],
        &[
            "metabase",
            "users",
            "update",
            "2",
            "--last-name",
            "X",
            "--dry-run",
        ],
        &[
            "metabase",
            "users",
            "create",
            "--email",
            "n@example.com",
            "--dry-run",
        ],
        &["metabase", "api-keys", "delete", "1", "--dry-run"],
        &["metabase", "api-keys", "create", "k", "--group", "1", "--dry-run"],
        &["metabase", "groups", "add-member", "3", "2", "--dry-run"],
        &["metabase", "request", "DELETE", "/api/user/2", "--dry-run"],
        &["metabase", "me", "--dry-run"],
        &["metabase", "users", "list", "--dry-run"],
    ] {
        let run = env.run(args).code(0);
        assert!(run.out.starts_with("DRY-RUN "), "{args:?}: {}", run.out);
    }
    assert!(
        fake.received_requests().is_empty(),
        "{:?}",
        fake.received_requests()
    );
    let dry = env.run(&[
        "metabase",
        "users",
        "update",
        "2",
        "--last-name",
        "X",
        "--dry-run",
    ]);
    assert_eq!(dry.out.trim(), r#"DRY-RUN PUT /api/user/2 {"last_name":"X"}"#);

    for args in [
        &["metabase", "users", "deactivate", "2"][..],
        &["metabase", "api-keys", "delete", "1"],
        &["metabase", "request", "POST", "/api/user", "--data", "{}"],
    ] {
        let run = env.run(args).code(2);
        assert!(run.err.contains("--yes"), "{}", run.err);
    }
    assert!(fake.received_requests().is_empty());
    assert_eq!(fake.is_active(&userapi_fake::metabase::USER_ID), Some(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_shows_each_call_and_no_secret() {
    let (fake, env) = setup().await;
    fake.fail_next(1, 503);
    let run = env.run(&["metabase", "users", "get", "2", "--verbose"]).code(0);
    assert!(
        run.err.contains("GET /api/user/{id} -> 200 (2 attempts, "),
        "{}",
        run.err
    );
    let failed = env.run(&["-v", "metabase", "users", "get", "999"]).code(4);
    assert!(failed.err.contains("-> 404"), "{}", failed.err);
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_with_env_secrets_and_refused_permissions() {
    let fake = FakeMetabase::start().await.unwrap();
    let env = Env::new().secret_var("WORK_KEY", API_KEY);
    let base = url(fake.base_url());
    // env: secrets: a world-readable file is fine.
    env.config(
        &format!("default_profile = \"work\"\n[profiles.work.metabase]\nurl = \"{base}\"\napi_key = \"env:WORK_KEY\"\n"),
        0o644,
    );
    env.run(&["metabase", "me"]).code(0);
    env.run(&["metabase", "me", "--profile", "work"]).code(0);
    let missing = env.run(&["metabase", "me", "--profile", "nope"]).code(2);
    assert!(missing.err.contains("nope"), "{}", missing.err);

    // A secret written out, readable by others: refused, with the fix.
    let env = Env::new().secret(API_KEY);
    let path = env.config(
        &format!("[profiles.default.metabase]\nurl = \"{base}\"\napi_key = \"{API_KEY}\"\n"),
        0o640,
    );
    let refused = env.run(&["metabase", "me"]).code(2);
    assert!(refused.err.contains("chmod 600"), "{}", refused.err);
    assert!(refused.err.contains(&path.display().to_string()));
    crate::support::set_mode(&path, 0o600);
    env.run(&["metabase", "me"]).code(0);
    // An invalid file: usage, one line.
    env.config("[profiles\n", 0o600);
    env.run(&["metabase", "me"]).code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn help_and_completions() {
    let env = Env::new();
    let help = env.run(&["--help"]).code(0);
    assert!(
        help.out.contains("Exit codes") && help.out.contains("7  network"),
        "{}",
        help.out
    );
    for cmd in [
        &["metabase", "users", "offboard", "--help"][..],
        &["diadoc", "employees", "list", "--help"],
        &["rightech", "tokens", "create", "--help"],
    ] {
        let run = env.run(cmd).code(0);
        assert!(run.out.contains("Example:"), "{cmd:?}: {}", run.out);
    }
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = env.run(&["completions", shell]).code(0);
        assert!(run.out.contains("userapi") && run.out.len() > 1000, "{shell}");
    }
    env.run(&["completions", "tcsh"]).code(2);
}

/// The first line is out before the last page is requested: the pages are slowed down,
/// and the request count is read when the first line arrives.
#[tokio::test(flavor = "multi_thread")]
async fn json_lines_are_streamed_page_by_page() {
    let (fake, env) = setup().await;
    for i in 0..30 {
        fake.add_user(&NewUser::new(format!("u{i}@example.com")).name("U", format!("{i}")))
            .unwrap();
    }
    fake.clear_requests();
    fake.delay_next(100, Duration::from_millis(150));
    let mut cmd = env.command(&["metabase", "users", "export", "--page-size", "2"]);
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null());
    let (at_first, lines) = tokio::task::block_in_place(|| {
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let at_first = fake.received_requests().len();
        #[cfg(target_os = "linux")]
        assert_pipe_widened(out.get_ref());
        let rest = out.lines().count();
        assert!(child.wait().unwrap().success());
        (at_first, rest + 1)
    });
    let total = fake.received_requests().len();
    assert!(lines >= 33, "{lines}");
    assert!(
        at_first < total,
        "first line after {at_first} of {total} requests"
    );
}

/// A page that fails after a page that came with it: every user read before it is on
/// stdout, then the error. Pages that have arrived are written together, and those still
/// waiting to be written when the failing page is reached must not be dropped.
#[tokio::test(flavor = "multi_thread")]
async fn users_read_before_a_failing_page_are_all_written() {
    let (fake, env) = setup().await;
    for i in 0..7 {
        fake.add_user(&NewUser::new(format!("f{i}@example.com")).name("F", format!("{i}")))
            .unwrap();
    }
    let all = env
        .run(&["metabase", "users", "export"])
        .code(0)
        .out
        .lines()
        .count();
    // Three pages: the last is asked for with the second, so nothing new is asked for
    // between the second page and the third.
    let page = all.div_ceil(3);
    fake.clear_requests();
    // The first page at once; the second slowly, so that the third (refused) has arrived
    // when the second is written. The second and third are sent together, so each fault
    // picks its page by offset, not by order of arrival.
    let at = |offset: usize| {
        let offset = offset.to_string();
        move |r: &userapi_fake::Request| r.query("offset") == Some(offset.as_str())
    };
    fake.inject_where(1, Fault::Delay(Duration::from_millis(300)), at(page));
    fake.inject_where(1, Fault::Status(StatusCode::BAD_REQUEST), at(2 * page));
    let run = env
        .run(&["metabase", "users", "export", "--page-size", &page.to_string()])
        .code(5);
    let mut ids: Vec<u64> = run
        .out
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        2 * page,
        "the first two pages, then the error: {ids:?}"
    );
    // On the wire: the first two pages answered, the third refused.
    let status_at = |offset: usize| {
        fake.received_requests()
            .iter()
            .find(|r| r.query("offset") == Some(offset.to_string().as_str()))
            .and_then(|r| r.status)
            .map(|s| s.as_u16())
    };
    assert_eq!(status_at(0), Some(200));
    assert_eq!(status_at(page), Some(200));
    assert_eq!(status_at(2 * page), Some(400));
    assert_eq!(fake.pending_faults(), 0, "both faults met");
}

/// An export widens the pipe it writes to (a page is larger than a default pipe), up to
/// 1 MiB or the system's limit.
#[cfg(target_os = "linux")]
fn assert_pipe_widened(pipe: &std::process::ChildStdout) {
    use std::os::fd::AsRawFd;
    let max: i32 = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1 << 20);
    // SAFETY: F_GETPIPE_SZ only reads the capacity of a pipe this process holds open.
    let capacity = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_GETPIPE_SZ) };
    assert_eq!(capacity, max.min(1 << 20), "the pipe's capacity");
}
