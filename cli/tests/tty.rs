//! The write confirmation on a real terminal: the binary runs with stdin and stderr (and,
//! in some tests, stdout) on a pseudo-terminal, in a session of its own with the terminal
//! as its controlling terminal, as under a shell. Every read of the terminal has a deadline:
//! a test that waits for a prompt that never comes fails, it does not hang.

use std::ffi::CStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use userapi::Method;
use userapi_fake::metabase::{API_KEY, FakeMetabase, USER_EMAIL, USER_ID};
use userapi_fake::rightech::{self, FakeRightech};

use crate::metabase::setup;
use crate::support::{Env, url};

/// How long any wait on the terminal or the process may take.
const DEADLINE: Duration = Duration::from_secs(15);

/// The prompt's last words.
const PROCEED: &str = "Proceed? [y/N] ";

/// Where the child's stdout goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stdout {
    /// A pipe, read separately (machine output).
    Pipe,
    /// The terminal too (what a person sees).
    Terminal,
}

/// The binary on a pseudo-terminal.
struct Terminal {
    child: Child,
    /// `None` once hung up.
    master: Option<File>,
    /// Everything the terminal showed so far (`\r` removed).
    screen: String,
    stdout: Option<std::thread::JoinHandle<String>>,
}

/// What the run left.
struct Finished {
    code: Option<i32>,
    /// The signal that ended it, if one did.
    signal: Option<i32>,
    /// What the terminal showed (stderr, the echo of what was typed, and stdout when it was
    /// on the terminal).
    screen: String,
    /// stdout when it was a pipe.
    out: String,
    /// Whether the terminal echoed what is typed once the process had ended (`None` when it
    /// was hung up).
    echo: Option<bool>,
}

fn check(rc: libc::c_int, what: &str) {
    assert!(rc == 0, "{what}: {}", std::io::Error::last_os_error());
}

/// A new pseudo-terminal: the master, and the slave's path.
fn open_pty() -> (File, String) {
    // SAFETY: posix_openpt returns a new descriptor (or -1), owned from here on.
    let fd = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
    // SAFETY: fd is open and owned by nobody else.
    let master = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let raw = master.as_raw_fd();
    // SAFETY: calls on the master this function holds open; ptsname_r writes at most
    // `name.len()` bytes, NUL-terminated on success; the window size is read from a local.
    unsafe {
        check(libc::grantpt(raw), "grantpt");
        check(libc::unlockpt(raw), "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        check(libc::ptsname_r(raw, name.as_mut_ptr(), name.len()), "ptsname_r");
        // A terminal of a usual size (a new one is 0 by 0).
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        check(libc::ioctl(raw, libc::TIOCSWINSZ, &size), "TIOCSWINSZ");
        let path = CStr::from_ptr(name.as_ptr()).to_str().unwrap().to_owned();
        (master, path)
    }
}

impl Terminal {
    /// Starts `userapi args` on a new terminal.
    fn spawn(env: &Env, args: &[&str], stdout: Stdout) -> Terminal {
        let (master, path) = open_pty();
        // Looked at before the child starts: once it runs, it may turn echo off at any time.
        assert!(echo_of(&master), "a new terminal echoes");
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(&path)
            .unwrap();
        let mut cmd = env.command(args);
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        match stdout {
            Stdout::Pipe => cmd.stdout(Stdio::piped()),
            Stdout::Terminal => cmd.stdout(Stdio::from(slave.try_clone().unwrap())),
        };
        // SAFETY: setsid and ioctl are async-signal-safe and touch only the child: a session
        // of its own, with the terminal (already its stdin) as the controlling terminal.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn");
        // Only the child holds the slave now: the master reads EIO once it has exited.
        drop(cmd);
        drop(slave);
        let stdout = child.stdout.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        Terminal {
            child,
            master: Some(master),
            screen: String::new(),
            stdout,
        }
    }

    /// Reads what the terminal shows until `until`; false once the terminal is closed (the
    /// child and every copy of the slave gone) or the deadline passed.
    fn read_some(&mut self, until: Instant) -> bool {
        let Some(master) = self.master.as_mut() else {
            return false;
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut poll = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: one pollfd, alive for the call.
        let ready = unsafe { libc::poll(&mut poll, 1, ms) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "poll: {e}");
            return true;
        }
        if ready == 0 {
            return true;
        }
        let mut buf = [0u8; 4096];
        match master.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.screen
                    .push_str(&String::from_utf8_lossy(&buf[..n]).replace('\r', ""));
                true
            }
            // EIO: no process holds the slave any more.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => true,
            Err(e) => panic!("reading the terminal: {e}"),
        }
    }

    /// Reads until the terminal has shown `pattern`; fails the test after the deadline.
    #[track_caller]
    fn expect(&mut self, pattern: &str) {
        let until = Instant::now() + DEADLINE;
        while !self.screen.contains(pattern) && self.read_some(until) {}
        assert!(
            self.screen.contains(pattern),
            "the terminal never showed {pattern:?}; it showed:\n{}",
            self.screen
        );
    }

    /// Types `text`.
    fn send(&mut self, text: &str) {
        let master = self.master.as_mut().expect("the terminal is open");
        master.write_all(text.as_bytes()).unwrap();
        master.flush().unwrap();
    }

    /// Whether the terminal echoes what is typed now (the slave's modes, read through the
    /// master).
    fn echo(&self) -> bool {
        echo_of(self.master.as_ref().expect("the terminal is open"))
    }

    /// Closes the master: the terminal hangs up.
    fn hang_up(&mut self) {
        self.master = None;
    }

    /// Waits for the process to end, reading the terminal meanwhile; kills it and fails the
    /// test after the deadline.
    #[track_caller]
    fn finish(mut self) -> Finished {
        let until = Instant::now() + DEADLINE;
        while self.read_some(until) {}
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "userapi did not end within {DEADLINE:?}; the terminal showed:\n{}",
                    self.screen
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = self.stdout.take().map(|t| t.join().unwrap()).unwrap_or_default();
        let echo = self.master.as_ref().map(echo_of);
        use std::os::unix::process::ExitStatusExt;
        Finished {
            code: status.code(),
            signal: status.signal(),
            screen: std::mem::take(&mut self.screen),
            out,
            echo,
        }
    }
}

/// Whether the terminal whose master is `master` echoes input.
fn echo_of(master: &File) -> bool {
    // SAFETY: termios is plain data; tcgetattr fills it from a descriptor `master` keeps open.
    let mut modes: libc::termios = unsafe { std::mem::zeroed() };
    check(
        unsafe { libc::tcgetattr(master.as_raw_fd(), &mut modes) },
        "tcgetattr",
    );
    modes.c_lflag & libc::ECHO != 0
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs off the runtime's worker (the fake answers on the others).
/// Runs `args` on a terminal, waits for the confirmation prompt, types `answer`, and
/// returns what happened (off the runtime's thread).
fn answered(env: &Env, args: &[&str], stdout: Stdout, answer: &str) -> Finished {
    blocking(|| {
        let mut tty = Terminal::spawn(env, args, stdout);
        tty.expect(PROCEED);
        tty.send(answer);
        tty.finish()
    })
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn requests(fake: &FakeMetabase) -> Vec<String> {
    fake.received_requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn writes(fake: &FakeMetabase) -> Vec<String> {
    fake.received_requests()
        .iter()
        .filter(|r| r.method != Method::GET)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Asserts the run showed no secret, on the terminal or on stdout.
#[track_caller]
fn no_secret(env: &Env, run: &Finished) {
    env.assert_no_secret(&run.out, &run.screen);
}

#[tokio::test(flavor = "multi_thread")]
async fn answering_yes_sends_the_write_once() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    let run = blocking(|| {
        let mut tty = Terminal::spawn(&env, &["metabase", "users", "deactivate", "2"], Stdout::Pipe);
        tty.expect(PROCEED);
        // Nothing goes out before the answer.
        assert!(fake.received_requests().is_empty(), "{:?}", requests(&fake));
        tty.send("y\r");
        tty.finish()
    });
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(
        run.screen
            .contains("About to deactivate Metabase user 2:\n  DELETE /api/user/2\n"),
        "{}",
        run.screen
    );
    let out: serde_json::Value = serde_json::from_str(run.out.trim()).unwrap();
    assert_eq!(out["deactivated"], true, "{}", run.out);
    assert_eq!(requests(&fake), ["DELETE /api/user/2"]);
    assert_eq!(fake.is_active(&USER_ID), Some(false));

    // "yes" in capitals, for a create: one POST.
    fake.clear_requests();
    let run = answered(
        &env,
        &["metabase", "users", "create", "--email", "tty@example.com"],
        Stdout::Pipe,
        "YES\r",
    );
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(run.screen.contains("  POST /api/user {"), "{}", run.screen);
    let created: serde_json::Value = serde_json::from_str(run.out.trim()).unwrap();
    assert_eq!(created["email"], "tty@example.com");
    assert_eq!(requests(&fake), ["POST /api/user"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn any_other_answer_sends_nothing_and_exits_2() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    // "n", Enter alone (the default is No), and words that only start like "yes".
    for answer in ["n\r", "\r", "no\r", "yess\r", "y es\r", "oui\r"] {
        let run = answered(
            &env,
            &["metabase", "users", "deactivate", "2"],
            Stdout::Pipe,
            answer,
        );
        no_secret(&env, &run);
        assert_eq!(run.code, Some(2), "{answer:?}: {}", run.screen);
        assert!(run.screen.contains("not confirmed"), "{answer:?}: {}", run.screen);
        assert!(run.out.is_empty(), "{answer:?}: {}", run.out);
    }
    assert!(fake.received_requests().is_empty(), "{:?}", requests(&fake));
    assert_eq!(fake.is_active(&USER_ID), Some(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn end_of_input_or_a_hang_up_sends_nothing() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    // Ctrl-D at the prompt: end of input, refused with the usage code.
    let run = answered(
        &env,
        &["metabase", "users", "deactivate", "2"],
        Stdout::Pipe,
        "\x04",
    );
    no_secret(&env, &run);
    assert_eq!(run.code, Some(2), "{}", run.screen);
    assert!(run.screen.contains("not confirmed"), "{}", run.screen);

    // The terminal goes away at the prompt: the process ends (by the hang-up signal or with
    // an error), and sends nothing.
    let run = blocking(|| {
        let mut tty = Terminal::spawn(&env, &["metabase", "users", "deactivate", "2"], Stdout::Pipe);
        tty.expect(PROCEED);
        tty.hang_up();
        tty.finish()
    });
    assert!(
        run.code == Some(2) || run.signal == Some(libc::SIGHUP),
        "{:?} {:?}: {}",
        run.code,
        run.signal,
        run.screen
    );
    assert!(fake.received_requests().is_empty(), "{:?}", requests(&fake));
    assert_eq!(fake.is_active(&USER_ID), Some(true));
}

/// A password change through `request`: the prompt names the method and the path, and
/// shows the body with the secrets redacted; nothing the terminal shows holds a secret.
#[tokio::test(flavor = "multi_thread")]
async fn the_prompt_names_the_request_and_hides_secrets() {
    let (fake, env) = setup().await;
    let new_password = "Tty-n3w-passw0rd-42";
    let env = env.secret(new_password);
    let data = format!(r#"{{"password":"{new_password}","first_name":"Visible"}}"#);
    fake.clear_requests();
    let run = blocking(|| {
        let mut tty = Terminal::spawn(
            &env,
            &[
                "metabase",
                "request",
                "PUT",
                "/api/user/2/password",
                "--data",
                &data,
            ],
            Stdout::Terminal,
        );
        tty.expect(PROCEED);
        assert!(fake.received_requests().is_empty());
        tty.send("y\r");
        tty.finish()
    });
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(
        run.screen.contains("About to send PUT /api/user/2/password:\n"),
        "{}",
        run.screen
    );
    assert!(
        run.screen
            .contains(r#"  PUT /api/user/2/password {"first_name":"Visible","password":"<redacted>"}"#),
        "{}",
        run.screen
    );
    assert_eq!(requests(&fake), ["PUT /api/user/2/password"]);
    assert!(fake.password_is(&USER_ID, &userapi::auth::Password::new(new_password)));

    // A new API key: the prompt shows the request, the terminal never the key.
    fake.clear_requests();
    let run = answered(
        &env,
        &["metabase", "api-keys", "create", "tty key", "--group", "1"],
        Stdout::Terminal,
        "y\r",
    );
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(
        run.screen
            .contains(r#"  POST /api/api-key {"group_id":1,"name":"tty key"}"#),
        "{}",
        run.screen
    );
    assert_eq!(requests(&fake), ["POST /api/api-key"]);
    // A table on the terminal, with the key redacted; only masked keys (7 characters, then
    // stars) may show.
    assert!(run.screen.contains("<redacted>"), "{}", run.screen);
    assert!(run.screen.contains("--show-secret"), "{}", run.screen);
    for (at, _) in run.screen.match_indices("mb_") {
        let shown: String = run.screen[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        assert!(
            shown.len() <= 7,
            "a key on the terminal: {shown:?}\n{}",
            run.screen
        );
    }
    assert!(!run.screen.contains(API_KEY));
}

/// Every step of an offboarding is listed in the one prompt; "n" sends no write.
#[tokio::test(flavor = "multi_thread")]
async fn the_prompt_lists_every_step_of_an_offboarding() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    let run = answered(
        &env,
        &["metabase", "users", "offboard", USER_EMAIL, "--revoke-keys"],
        Stdout::Pipe,
        "n\r",
    );
    no_secret(&env, &run);
    assert_eq!(run.code, Some(2), "{}", run.screen);
    let prompt = run.screen.split("About to ").nth(1).unwrap_or_default();
    assert!(
        prompt.starts_with("offboard Metabase user 2 (rasta@metabase.com):\n"),
        "{}",
        run.screen
    );
    assert!(prompt.contains("\n  DELETE /api/user/2\n"), "{}", run.screen);
    assert!(writes(&fake).is_empty(), "{:?}", requests(&fake));
    assert_eq!(fake.is_active(&USER_ID), Some(true));
}

/// `--yes` on a terminal: no prompt, nothing read, the write sent once.
#[tokio::test(flavor = "multi_thread")]
async fn yes_on_a_terminal_does_not_prompt() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    let run = blocking(|| {
        Terminal::spawn(
            &env,
            &["metabase", "users", "deactivate", "2", "--yes"],
            Stdout::Terminal,
        )
        .finish()
    });
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(!run.screen.contains("Proceed?"), "{}", run.screen);
    assert!(!run.screen.contains("About to"), "{}", run.screen);
    // On a terminal the result is a table.
    assert!(run.screen.contains("deactivated"), "{}", run.screen);
    assert!(serde_json::from_str::<serde_json::Value>(run.screen.trim()).is_err());
    assert_eq!(requests(&fake), ["DELETE /api/user/2"]);

    // --dry-run on a terminal: no prompt either, nothing sent.
    fake.clear_requests();
    let run = blocking(|| {
        Terminal::spawn(
            &env,
            &["metabase", "users", "reactivate", "2", "--dry-run"],
            Stdout::Terminal,
        )
        .finish()
    });
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(!run.screen.contains("Proceed?"), "{}", run.screen);
    assert!(
        run.screen.contains("DRY-RUN PUT /api/user/2/reactivate"),
        "{}",
        run.screen
    );
    assert!(fake.received_requests().is_empty(), "{:?}", requests(&fake));
}

/// A secret in `--query` (a token or key some endpoints take in the query string) is
/// redacted in the prompt and in `--dry-run`, as a secret in the body is; the request still
/// carries it.
#[tokio::test(flavor = "multi_thread")]
async fn query_secrets_are_redacted_in_the_prompt_and_the_dry_run() {
    let (fake, env) = setup().await;
    let secret = "Qu3ry-s3cret-value";
    let env = env.secret(secret);
    let token = format!("reset_token={secret}");
    let args = [
        "metabase",
        "request",
        "PUT",
        "/api/user/4/reactivate",
        "--query",
        "verbose=1",
        "--query",
        &token,
    ];
    fake.clear_requests();
    let dry = env.run(&[&args[..], &["--dry-run"]].concat()).code(0);
    assert_eq!(
        dry.out.trim(),
        "DRY-RUN PUT /api/user/4/reactivate?verbose=1&reset_token=<redacted>"
    );
    assert!(fake.received_requests().is_empty());
    let run = answered(&env, &args, Stdout::Terminal, "y\r");
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert!(
        run.screen
            .contains("  PUT /api/user/4/reactivate?verbose=1&reset_token=<redacted>\n"),
        "{}",
        run.screen
    );
    let sent = fake.received_requests();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .query
            .iter()
            .any(|(k, v)| k == "reset_token" && v == secret),
        "{:?}",
        sent[0].query
    );
}

/// `request` with a path holding an escape sequence and a newline: the prompt's first line
/// shows them escaped, as the plan line does; nothing raw reaches the terminal.
#[tokio::test(flavor = "multi_thread")]
async fn the_prompt_escapes_control_characters_in_the_path() {
    let (fake, env) = setup().await;
    fake.clear_requests();
    let run = answered(
        &env,
        &[
            "metabase",
            "request",
            "PUT",
            "/api/user/2\u{1b}[31m\nred",
            "--data",
            "{}",
        ],
        Stdout::Terminal,
        "n\r",
    );
    no_secret(&env, &run);
    assert_eq!(run.code, Some(2), "{}", run.screen);
    assert!(
        run.screen.contains(
            "About to send PUT /api/user/2\\u{1b}[31m\\nred:\n  PUT /api/user/2\\u{1b}[31m\\nred {}\n"
        ),
        "{}",
        run.screen
    );
    assert!(!run.screen.contains('\u{1b}'), "{:?}", run.screen);
    assert!(!run.screen.contains("\nred"), "{:?}", run.screen);
    assert!(fake.received_requests().is_empty(), "{:?}", requests(&fake));
}

async fn rightech_setup() -> (FakeRightech, Env) {
    let fake = FakeRightech::start().await.unwrap();
    let env = Env::new()
        .var("RIGHTECH_BASE_URL", url(fake.base_url()))
        .secret_var("RIGHTECH_TOKEN", rightech::TOKEN);
    (fake, env)
}

const CREATE: [&str; 12] = [
    "rightech",
    "users",
    "create",
    "--email",
    "tty@example.com",
    "--login",
    "tty_user",
    "--name",
    "Tty",
    "--role",
    rightech::ROLE_ID,
    "--password-stdin",
];

/// The prompt `--password-stdin` shows on a terminal.
const PASSWORD_PROMPT: &str = "Password (not shown): ";

/// `--password-stdin` on a terminal: echo is off while the password is typed, so the
/// terminal never shows it, and on again afterwards; the password is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_typed_on_the_terminal_is_not_shown() {
    let (fake, env) = rightech_setup().await;
    let password = "Typ3d-0n-the-tty!";
    let env = env.secret(password);
    let run = blocking(|| {
        let mut tty = Terminal::spawn(&env, &CREATE, Stdout::Pipe);
        tty.expect(PASSWORD_PROMPT);
        assert!(!tty.echo(), "echo is off while the password is typed");
        tty.send(&format!("{password}\r"));
        tty.expect(PROCEED);
        assert!(tty.echo(), "echo is back for the confirmation");
        tty.send("y\r");
        tty.finish()
    });
    no_secret(&env, &run);
    assert_eq!(run.code, Some(0), "{}", run.screen);
    assert_eq!(run.echo, Some(true));
    let sent = fake
        .received_requests()
        .into_iter()
        .find(|r| r.method == Method::POST && r.path == "/api/v1/users")
        .expect("the user was created");
    assert!(String::from_utf8_lossy(&sent.body).contains(password));
}

/// Echo comes back on every way out of the password prompt: end of input (Ctrl-D), an
/// interrupt (Ctrl-C), a password the policy refuses; nothing is sent.
#[tokio::test(flavor = "multi_thread")]
async fn echo_is_restored_on_every_way_out_of_the_password_prompt() {
    let (fake, env) = rightech_setup().await;
    fake.clear_requests();
    // Ctrl-D: no password, the usage code.
    let run = blocking(|| {
        let mut tty = Terminal::spawn(&env, &CREATE, Stdout::Pipe);
        tty.expect(PASSWORD_PROMPT);
        tty.send("\x04");
        tty.finish()
    });
    assert_eq!(run.code, Some(2), "{}", run.screen);
    assert!(run.screen.contains("no password"), "{}", run.screen);
    assert_eq!(run.echo, Some(true), "{}", run.screen);

    // Ctrl-C: interrupted, as without a prompt, with the terminal as it was.
    let run = blocking(|| {
        let mut tty = Terminal::spawn(&env, &CREATE, Stdout::Pipe);
        tty.expect(PASSWORD_PROMPT);
        tty.send("half-typed\x03");
        tty.finish()
    });
    assert!(
        run.signal == Some(libc::SIGINT) || run.code == Some(130),
        "{:?} {:?}: {}",
        run.code,
        run.signal,
        run.screen
    );
    assert!(!run.screen.contains("half-typed"), "{}", run.screen);
    assert_eq!(run.echo, Some(true), "{}", run.screen);

    // A password the policy refuses: the usage code, echo back.
    let run = blocking(|| {
        let mut tty = Terminal::spawn(&env, &CREATE, Stdout::Pipe);
        tty.expect(PASSWORD_PROMPT);
        tty.send("short\r");
        tty.finish()
    });
    assert_eq!(run.code, Some(2), "{}", run.screen);
    assert!(!run.screen.contains("short\n"), "{}", run.screen);
    assert_eq!(run.echo, Some(true), "{}", run.screen);
    assert!(
        fake.received_requests().is_empty(),
        "{:?}",
        fake.received_requests()
    );
}
