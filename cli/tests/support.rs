//! Running the binary: a clean environment (no real credentials), its own config and cache
//! directories, and a check on every run that no secret reached stdout or stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::cargo::CommandCargoExt;

/// One run's result.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Run {
    /// Asserts the exit code, showing stdout and stderr when it differs.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.out, self.err
        );
        self
    }

    /// The stdout lines parsed as JSON.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}\n{}", self.out)))
            .collect()
    }

    /// stdout as one JSON object.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let lines = self.json_lines();
        assert_eq!(lines.len(), 1, "one JSON object expected: {}", self.out);
        lines.into_iter().next().unwrap()
    }
}

/// An environment for the binary: variables, a home with config and cache directories,
/// and the secrets that must never be printed.
pub struct Env {
    pub home: PathBuf,
    vars: Vec<(String, String)>,
    secrets: Vec<String>,
    stdin: Option<String>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Env {
    pub fn new() -> Env {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let home = std::env::temp_dir().join(format!("userapi-cli-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join("config")).unwrap();
        std::fs::create_dir_all(home.join("cache")).unwrap();
        Env {
            home,
            vars: Vec::new(),
            secrets: Vec::new(),
            stdin: None,
        }
    }

    /// Sets a variable.
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Env {
        self.vars.push((name.to_owned(), value.into()));
        self
    }

    /// Sets a variable holding a secret (checked absent from every output).
    pub fn secret_var(mut self, name: &str, value: impl Into<String>) -> Env {
        let value = value.into();
        self.secrets.push(value.clone());
        self.vars.push((name.to_owned(), value));
        self
    }

    /// Another value that must never be printed.
    pub fn secret(mut self, value: impl Into<String>) -> Env {
        self.secrets.push(value.into());
        self
    }

    /// Text given on stdin.
    pub fn stdin(mut self, text: impl Into<String>) -> Env {
        self.stdin = Some(text.into());
        self
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.join("config").join("userapi")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.join("cache").join("userapi")
    }

    /// The command, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("userapi").expect("the binary is built");
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("XDG_CACHE_HOME", self.home.join("cache"))
            .env("NO_COLOR", "1")
            .args(args);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// [`run`](Self::run) with this text on stdin.
    #[track_caller]
    pub fn run_with_stdin(&self, stdin: &str, args: &[&str]) -> Run {
        self.run_inner(Some(stdin.to_owned()), args)
    }

    /// Runs the binary (off the async runtime's thread) and checks no secret was printed.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_inner(self.stdin.clone(), args)
    }

    #[track_caller]
    fn run_inner(&self, stdin: Option<String>, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let output = tokio::task::block_in_place(move || {
            let mut child = cmd.spawn().expect("spawn");
            if let Some(text) = stdin {
                use std::io::Write;
                let mut pipe = child.stdin.take().unwrap();
                pipe.write_all(text.as_bytes()).unwrap();
            }
            child.wait_with_output().expect("wait")
        });
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&output.stdout).into_owned(),
            err: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        self.assert_no_secret(&run.out, &run.err);
        run
    }

    /// No secret in either stream.
    #[track_caller]
    pub fn assert_no_secret(&self, out: &str, err: &str) {
        for s in &self.secrets {
            assert!(!s.is_empty());
            assert!(!out.contains(s.as_str()), "a secret on stdout: {out}");
            assert!(!err.contains(s.as_str()), "a secret on stderr: {err}");
        }
    }

    /// Writes the config file with this mode.
    pub fn config(&self, text: &str, mode: u32) -> PathBuf {
        let dir = self.config_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        set_mode(&path, mode);
        path
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

pub fn mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0o600
    }
}

/// The base URL of a fake, without the trailing slash a user would not type.
pub fn url(fake_url: impl std::fmt::Display) -> String {
    fake_url.to_string().trim_end_matches('/').to_owned()
}

/// The session a kept-session file holds (its `session` field).
#[track_caller]
pub fn kept_session(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", file.display()));
    v["session"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no session field", file.display()))
        .to_owned()
}

/// Writes a kept-session file as `userapi <service> login` does, mode 0600.
pub fn write_kept(file: &Path, service: &str, base_url: &str, login: &str, session: &str) {
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text = serde_json::json!({
        "version": 1,
        "service": service,
        "base_url": format!("{}/", base_url.trim_end_matches('/')),
        "login": login,
        "session": session,
    });
    std::fs::write(file, text.to_string()).unwrap();
    set_mode(file, 0o600);
}
