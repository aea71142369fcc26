//! The CLI against a server from outside: each service's fake started as a process by the
//! `userapi-fake` binary on port 0, its base URL and credentials read from the banner it
//! prints, as a person would copy them. What the banner does not print (the Diadoc box, an
//! administrator's login) comes from the fake's constants.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use userapi_fake::{diadoc, metabase, novaconnect, rightech, rounds};

use crate::support::Env;

/// How long the fake may take to print its banner or a request line.
const DEADLINE: Duration = Duration::from_secs(30);

/// The `userapi-fake` binary next to the `userapi` binary under test, built with the same
/// profile (cargo builds only the package's own binaries for its tests). `cargo build` runs
/// once per test process when cargo is at hand: it does nothing when the binary is fresh.
fn fake_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cli = PathBuf::from(env!("CARGO_BIN_EXE_userapi"));
        let profile_dir = cli.parent().expect("the binary's directory");
        let binary = profile_dir.join(format!("userapi-fake{}", std::env::consts::EXE_SUFFIX));
        let cargo = std::env::var_os("CARGO").or_else(|| option_env!("CARGO").map(Into::into));
        if let Some(cargo) = cargo {
            build_fake(Path::new(&cargo), profile_dir);
        }
        assert!(
            binary.is_file(),
            "{} is missing: run `cargo build -p userapi-fake --bin userapi-fake`",
            binary.display()
        );
        binary
    })
}

/// `cargo build -p userapi-fake --bin userapi-fake` into the directory the CLI was built in:
/// `<target>/<profile>` or `<target>/<triple>/<profile>`.
fn build_fake(cargo: &Path, profile_dir: &Path) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("no profile in {}", profile_dir.display()),
    };
    let parent = profile_dir.parent().expect("a target directory");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "build",
        "-p",
        "userapi-fake",
        "--bin",
        "userapi-fake",
        "--profile",
        profile,
    ]);
    if parent.join("CACHEDIR.TAG").is_file() {
        cmd.arg("--target-dir").arg(parent);
    } else {
        // A cross build: <target>/<triple>/<profile>.
        let triple = parent.file_name().and_then(|n| n.to_str()).expect("a triple");
        let target = parent.parent().expect("a target directory");
        cmd.arg("--target-dir").arg(target).args(["--target", triple]);
    }
    let output = cmd.stdin(Stdio::null()).output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building userapi-fake failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A `userapi-fake <service>` process, killed on drop.
struct Outside {
    child: Child,
    /// The lines of its banner after the title, by label (`base URL`, `token`, ...).
    banner: BTreeMap<String, String>,
    /// What it printed on stderr: one line per request served.
    log: Arc<Mutex<String>>,
}

impl Outside {
    /// Starts `userapi-fake <service> --port 0` and reads its banner.
    #[track_caller]
    fn start(service: &str) -> Outside {
        let child = Command::new(fake_binary())
            .args([service, "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("userapi-fake starts");
        // The guard first: a failure below still kills the process.
        let mut fake = Outside {
            child,
            banner: BTreeMap::new(),
            log: Arc::default(),
        };
        let lines = lines_of(fake.child.stdout.take().unwrap());
        let mut stderr = fake.child.stderr.take().unwrap();
        let log = Arc::clone(&fake.log);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let until = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let line = match lines.recv_timeout(left) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => panic!("no banner in {DEADLINE:?}: {seen:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "userapi-fake {service} ended: {seen:?}\n{}",
                    fake.log.lock().unwrap()
                ),
            };
            if line == "Ctrl-C stops it." {
                break;
            }
            if line == "try:" {
                // The curl line follows; it is not a credential.
                let _ = lines.recv_timeout(left);
                continue;
            }
            if let Some((label, value)) = line.strip_prefix("  ").and_then(|l| l.split_once(": ")) {
                fake.banner.insert(label.to_owned(), value.to_owned());
            }
            seen.push(line);
        }
        assert!(
            seen.first().is_some_and(|l| l.starts_with("userapi-fake: ")),
            "{seen:?}"
        );
        fake
    }

    /// A value of the banner.
    #[track_caller]
    fn get(&self, label: &str) -> String {
        self.banner
            .get(label)
            .unwrap_or_else(|| panic!("no {label:?} in the banner: {:?}", self.banner))
            .clone()
    }

    /// The base URL as printed (with its trailing slash: what a person would copy).
    fn url(&self) -> String {
        self.get("base URL")
    }

    /// Waits until the fake has printed `line` for a request it served.
    #[track_caller]
    fn served(&self, line: &str) {
        let until = Instant::now() + DEADLINE;
        loop {
            let log = self.log.lock().unwrap().clone();
            if log.lines().any(|l| l == line) {
                return;
            }
            assert!(
                Instant::now() < until,
                "the fake never served {line:?}; its log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines of a pipe, through a channel (so that waiting on them can time out).
fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn ids(lines: &[Value], key: &str) -> Vec<String> {
    lines
        .iter()
        .map(|v| match &v[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn novaconnect_from_outside() {
    let fake = Outside::start("novaconnect");
    let env = Env::new()
        .var("NOVACONNECT_BASE_URL", fake.url())
        .secret_var("NOVACONNECT_TOKEN", fake.get("token"))
        .secret(fake.get("password"))
        .secret(novaconnect::TOKEN);
    let me = env.run(&["novaconnect", "me"]).code(0).json();
    assert_eq!(me["email"], "a.sadykova@example.kz", "{me}");
    assert_eq!(me["id"], 1);
    // NovaConnect has no write command; `request` reaches its write method.
    let edited = env
        .run(&[
            "novaconnect",
            "request",
            "POST",
            "/user/edit",
            "--data",
            r#"{"last_name":"Outside"}"#,
            "--yes",
        ])
        .code(0)
        .json();
    // The answer as the server sent it: NovaConnect's envelope.
    assert_eq!(edited["result"]["item"]["last_name"], "Outside", "{edited}");
    fake.served("POST /api/user/edit -> 200");
    let me = env.run(&["novaconnect", "me"]).code(0).json();
    assert_eq!(me["last_name"], "Outside");
}

#[test]
fn diadoc_from_outside() {
    let fake = Outside::start("diadoc");
    let client_id = fake.get("client id");
    // The banner's user, by login and password.
    let user = Env::new()
        .var("DIADOC_BASE_URL", fake.url())
        .secret_var("DIADOC_CLIENT_ID", &client_id)
        .var("DIADOC_LOGIN", fake.get("login"))
        .secret_var("DIADOC_PASSWORD", fake.get("password"))
        .secret(fake.get("token"));
    let me = user.run(&["diadoc", "me"]).code(0).json();
    assert_eq!(me["user_id"], diadoc::USER_ID, "{me}");
    assert_eq!(me["Login"], fake.get("login"), "{me}");
    fake.served("POST /V3/Authenticate -> 200");
    // The banner's token.
    let by_token = Env::new()
        .var("DIADOC_BASE_URL", fake.url())
        .secret_var("DIADOC_CLIENT_ID", &client_id)
        .secret_var("DIADOC_TOKEN", fake.get("token"));
    let me = by_token.run(&["diadoc", "me"]).code(0).json();
    assert_eq!(me["user_id"], diadoc::USER_ID, "{me}");

    // The employee methods need the box's administrator (not in the banner).
    let admin = Env::new()
        .var("DIADOC_BASE_URL", fake.url())
        .secret_var("DIADOC_CLIENT_ID", &client_id)
        .var("DIADOC_LOGIN", diadoc::ADMIN_LOGIN)
        .secret_var("DIADOC_PASSWORD", diadoc::ADMIN_PASSWORD);
    let employees = admin
        .run(&["diadoc", "employees", "list", diadoc::BOX_ID])
        .code(0)
        .json_lines();
    let listed = ids(&employees, "user_id");
    assert!(listed.contains(&diadoc::USER_ID.to_owned()), "{listed:?}");
    assert!(listed.contains(&diadoc::ADMIN_USER_ID.to_owned()), "{listed:?}");
    let one = admin
        .run(&["diadoc", "employees", "get", diadoc::BOX_ID, diadoc::USER_ID])
        .code(0)
        .json();
    assert_eq!(one["login"], diadoc::LOGIN, "{one}");
    let updated = admin
        .run(&[
            "diadoc",
            "employees",
            "update",
            diadoc::BOX_ID,
            diadoc::USER_ID,
            "--position",
            "Auditor",
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(updated["position"], "Auditor", "{updated}");
    fake.served("POST /UpdateEmployee -> 200");
    let again = admin
        .run(&["diadoc", "employees", "get", diadoc::BOX_ID, diadoc::USER_ID])
        .code(0)
        .json();
    assert_eq!(again["position"], "Auditor");
}

#[test]
fn rounds_from_outside() {
    let fake = Outside::start("rounds");
    let me_id = fake.get("user id");
    assert_eq!(me_id, rounds::ME);
    let env = Env::new()
        .var("ROUNDS_BASE_URL", fake.url())
        .secret_var("ROUNDS_TOKEN", fake.get("token"));
    let me = env.run(&["rounds", "me"]).code(0).json();
    assert_eq!(me["id"], me_id, "{me}");
    let other = env.run(&["rounds", "users", "get", rounds::OTHER]).code(0).json();
    assert_eq!(other["id"], rounds::OTHER, "{other}");
    // The rounds app has no write command; `request` reaches its write method.
    let patched = env
        .run(&[
            "rounds",
            "request",
            "PATCH",
            "/users/me",
            "--data",
            r#"{"first_name":"Outside"}"#,
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(patched["first_name"], "Outside", "{patched}");
    fake.served("PATCH /users/me -> 200");
    assert_eq!(env.run(&["rounds", "me"]).code(0).json()["first_name"], "Outside");
}

#[test]
fn metabase_from_outside() {
    let fake = Outside::start("metabase");
    let (admin_email, admin_password) = split_pair(&fake.get("admin"));
    let (user_email, user_password) = split_pair(&fake.get("user"));
    let env = Env::new()
        .var("METABASE_URL", fake.url())
        .secret_var("METABASE_API_KEY", fake.get("API key"))
        .secret(fake.get("session"))
        .secret(&admin_password)
        .secret(&user_password);
    let me = env.run(&["metabase", "me"]).code(0).json();
    assert_eq!(me["common_name"], metabase::API_KEY_NAME, "{me}");
    let users = env.run(&["metabase", "users", "list"]).code(0).json_lines();
    let emails = ids(&users, "email");
    assert!(emails.contains(&user_email), "{emails:?}");
    assert!(emails.contains(&admin_email), "{emails:?}");
    let rasta = env.run(&["metabase", "users", "get", &user_email]).code(0).json();
    assert_eq!(rasta["id"], metabase::USER_ID.get(), "{rasta}");
    let groups = env.run(&["metabase", "groups", "list"]).code(0).json_lines();
    assert!(groups.iter().any(|g| g["name"] == "Administrators"), "{groups:?}");
    let keys = env.run(&["metabase", "api-keys", "list"]).code(0).json_lines();
    assert_eq!(ids(&keys, "name"), [metabase::API_KEY_NAME]);
    let out = env
        .run(&["metabase", "users", "deactivate", &user_email, "--yes"])
        .code(0)
        .json();
    assert_eq!(out["deactivated"], true, "{out}");
    fake.served("DELETE /api/user/2 -> 200");
    let gone = env.run(&["metabase", "users", "get", "2"]).code(0).json();
    assert_eq!(gone["is_active"], false, "{gone}");

    // The banner's session, and its admin's login and password.
    let by_session = Env::new()
        .var("METABASE_URL", fake.url())
        .secret_var("METABASE_SESSION", fake.get("session"));
    let me = by_session.run(&["metabase", "me"]).code(0).json();
    assert_eq!(me["email"], admin_email);
    let by_password = Env::new()
        .var("METABASE_URL", fake.url())
        .var("METABASE_USERNAME", &admin_email)
        .secret_var("METABASE_PASSWORD", &admin_password);
    let me = by_password.run(&["metabase", "me"]).code(0).json();
    assert_eq!(me["email"], admin_email);
}

/// `email password`, as the Metabase banner prints a person.
fn split_pair(value: &str) -> (String, String) {
    let (a, b) = value.split_once(' ').expect("email and password");
    (a.to_owned(), b.to_owned())
}

#[test]
fn rightech_from_outside() {
    let fake = Outside::start("rightech");
    let admin_id = fake.get("admin id");
    let env = Env::new()
        .var("RIGHTECH_BASE_URL", fake.url())
        .secret_var("RIGHTECH_TOKEN", fake.get("token"));
    let users = env.run(&["rightech", "users", "list"]).code(0).json_lines();
    let listed = ids(&users, "_id");
    assert!(listed.contains(&admin_id), "{listed:?}");
    assert!(listed.contains(&rightech::COLLEAGUE_ID.to_owned()), "{listed:?}");
    let admin = env.run(&["rightech", "users", "get", &admin_id]).code(0).json();
    assert_eq!(admin["_id"], admin_id, "{admin}");
    let roles = env.run(&["rightech", "roles", "list"]).code(0).json_lines();
    assert!(
        ids(&roles, "_id").contains(&rightech::ROLE_ID.to_owned()),
        "{roles:?}"
    );
    let updated = env
        .run(&[
            "rightech",
            "users",
            "update",
            rightech::COLLEAGUE_ID,
            "--name",
            "Outside Name",
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(updated["name"], "Outside Name", "{updated}");
    fake.served(&format!("PATCH /api/v1/users/{} -> 200", rightech::COLLEAGUE_ID));
    let again = env
        .run(&["rightech", "users", "get", rightech::COLLEAGUE_ID])
        .code(0)
        .json();
    assert_eq!(again["name"], "Outside Name");
}

/// The guard kills the process: nothing is left running after a test.
#[cfg(target_os = "linux")]
#[test]
fn the_fake_process_ends_with_its_guard() {
    let fake = Outside::start("rounds");
    let pid = fake.child.id();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(fake);
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}
