//! `userapi-fake`: one service's fake as a standalone server, until Ctrl-C.
//!
//! ```text
//! cargo run --features fake --bin userapi-fake -- metabase --port 3000
//! ```
//!
//! It prints the base URL, the credentials the fake accepts and a `curl` command to try,
//! then one line per request it serves (method, path, status: never headers, query or body,
//! which may hold credentials).

// Built without any service, it only refuses every service name.
#![cfg_attr(
    not(any(
        feature = "novaconnect",
        feature = "diadoc",
        feature = "rounds",
        feature = "metabase",
        feature = "rightech"
    )),
    allow(dead_code, unused_variables, unused_imports)
)]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use userapi::fake::Fake;

const USAGE: &str = "\
userapi-fake: serves one service's fake from the userapi crate until Ctrl-C

USAGE:
    userapi-fake <SERVICE> [--port <N>] [--host <IP>]

SERVICES:
    novaconnect   NovaConnect (`user/get`, `user/edit`, `user/password` under /api/)
    diadoc        Kontur Diadoc (GetMyUser, UpdateMyUser, GetMyOrganizations, GetMyEmployee,
                  V3/Authenticate)
    rounds        the FastAPI rounds app (/users/me, /users/{id}, /users/rounds)
    metabase      Metabase (/api/user, /api/session, /api/api-key, login history, key-value store)
    rightech      Rightech IoT Cloud (/api/v1/users, /api/v1/users/tokens, /api/v1/roles)

OPTIONS:
    --port <N>          The port to listen on [default: 0, one the system picks]
    --host <IP>         The IP address to listen on [default: 127.0.0.1]. Another one lets
                        other machines in, with credentials printed here: the fake has no
                        real security.
    -h, --help          Prints this text

It prints the base URL, the credentials the fake accepts (tokens, API keys, users and
passwords, client ids) and a curl command to try, then one line per request served: method,
path and status, never headers, query or body. State lives in memory and is lost on exit.
";

const SERVICES: [&str; 5] = ["novaconnect", "diadoc", "rounds", "metabase", "rightech"];

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    service: String,
    addr: SocketAddr,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let (mut service, mut port, mut host) = (None, 0u16, IpAddr::V4(Ipv4Addr::LOCALHOST));
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let v = value("--port")?;
                port = v
                    .parse()
                    .map_err(|_| format!("--port {v}: not a port (0 to 65535)"))?;
            }
            "--host" => {
                let v = value("--host")?;
                host = v
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse()
                    .map_err(|_| format!("--host {v}: not an IP address"))?;
            }
            f if f.starts_with('-') => return Err(format!("unknown option {f}")),
            name if service.is_none() => {
                if !SERVICES.contains(&name) {
                    return Err(format!("no service {name:?}: one of {}", SERVICES.join(", ")));
                }
                service = Some(name.to_owned());
            }
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    let service = service.ok_or("which service? name one")?;
    Ok(Some(Args {
        service,
        addr: SocketAddr::new(host, port),
    }))
}

/// What to print about a running fake.
struct Banner {
    title: &'static str,
    base_url: String,
    /// (label, value), printed as `  label: value`.
    credentials: Vec<(&'static str, String)>,
    curl: String,
}

impl Banner {
    fn print(&self) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "userapi-fake: {} fake", self.title);
        let _ = writeln!(out, "  base URL: {}", self.base_url);
        for (label, value) in &self.credentials {
            let _ = writeln!(out, "  {label}: {value}");
        }
        let _ = writeln!(out, "try:\n  {}", self.curl);
        let _ = writeln!(out, "Ctrl-C stops it.");
        let _ = out.flush();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("userapi-fake: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !args.addr.ip().is_loopback() {
        eprintln!(
            "userapi-fake: listening on {}, not loopback: other machines can reach this fake and the credentials below",
            args.addr.ip()
        );
    }
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("userapi-fake: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let addr = args.addr;
    let failed = |e: userapi::Error| e.to_string();
    match args.service.as_str() {
        #[cfg(feature = "novaconnect")]
        "novaconnect" => {
            use userapi::novaconnect::fake::{FakeNovaConnect, PASSWORD, TOKEN};
            let fake = FakeNovaConnect::start_on(addr).await.map_err(failed)?;
            let base = fake.base_url();
            Banner {
                title: "NovaConnect",
                base_url: base.to_string(),
                credentials: vec![
                    ("token", TOKEN.to_owned()),
                    ("header", format!("Authorization: Bearer {TOKEN}")),
                    ("password", PASSWORD.to_owned()),
                ],
                curl: format!(
                    "curl -X POST -H 'Authorization: Bearer {TOKEN}' -H 'Content-Type: application/json' -d '{{}}' {base}user/get"
                ),
            }
            .print();
            serve(&fake).await
        }
        #[cfg(feature = "diadoc")]
        "diadoc" => {
            use userapi::diadoc::fake::{CLIENT_ID, FakeDiadoc, LOGIN, OIDC_TOKEN, PASSWORD};
            let fake = FakeDiadoc::start_on(addr).await.map_err(failed)?;
            let base = fake.base_url();
            let token = fake.issue_token();
            let header = format!(
                "Authorization: DiadocAuth ddauth_api_client_id={CLIENT_ID},ddauth_token={}",
                token.expose()
            );
            Banner {
                title: "Diadoc",
                base_url: base.to_string(),
                credentials: vec![
                    ("client id", CLIENT_ID.to_owned()),
                    ("login", LOGIN.to_owned()),
                    ("password", PASSWORD.to_owned()),
                    ("token", token.expose().to_owned()),
                    ("header", header.clone()),
                    ("OpenID Connect token", OIDC_TOKEN.to_owned()),
                ],
                curl: format!("curl -H '{header}' -H 'Accept: application/json' {base}V2/GetMyUser"),
            }
            .print();
            serve(&fake).await
        }
        #[cfg(feature = "rounds")]
        "rounds" => {
            use userapi::rounds::fake::{FakeRounds, ME};
            let fake = FakeRounds::start_on(addr).await.map_err(failed)?;
            let base = fake.base_url();
            // Long enough for any session with the fake.
            let token = fake.token_for(ME, Duration::from_secs(30 * 24 * 3600));
            Banner {
                title: "rounds",
                base_url: base.to_string(),
                credentials: vec![
                    ("user id", ME.to_owned()),
                    ("token", token.expose().to_owned()),
                    ("header", format!("Authorization: Bearer {}", token.expose())),
                ],
                curl: format!(
                    "curl -H 'Authorization: Bearer {}' {base}users/me",
                    token.expose()
                ),
            }
            .print();
            serve(&fake).await
        }
        #[cfg(feature = "metabase")]
        "metabase" => {
            use userapi::metabase::fake::{
                ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY, FakeMetabase, USER_EMAIL, USER_PASSWORD,
            };
            let fake = FakeMetabase::start_on(addr).await.map_err(failed)?;
            let base = fake.base_url();
            let session = fake.add_session(ADMIN_EMAIL).map_err(failed)?;
            Banner {
                title: "Metabase",
                base_url: base.to_string(),
                credentials: vec![
                    ("API key", API_KEY.to_owned()),
                    ("header", format!("X-API-Key: {API_KEY}")),
                    ("session", session.expose().to_owned()),
                    (
                        "session header",
                        format!("X-Metabase-Session: {}", session.expose()),
                    ),
                    ("admin", format!("{ADMIN_EMAIL} {ADMIN_PASSWORD}")),
                    ("user", format!("{USER_EMAIL} {USER_PASSWORD}")),
                ],
                curl: format!("curl -H 'X-API-Key: {API_KEY}' {base}api/user/current"),
            }
            .print();
            serve(&fake).await
        }
        #[cfg(feature = "rightech")]
        "rightech" => {
            use userapi::rightech::fake::{ADMIN_ID, FakeRightech, TOKEN};
            let fake = FakeRightech::start_on(addr).await.map_err(failed)?;
            let base = fake.base_url();
            Banner {
                title: "Rightech",
                base_url: base.to_string(),
                credentials: vec![
                    ("token", TOKEN.to_owned()),
                    ("header", format!("Authorization: Bearer {TOKEN}")),
                    ("admin id", ADMIN_ID.to_owned()),
                ],
                curl: format!("curl -H 'Authorization: Bearer {TOKEN}' {base}api/v1/users"),
            }
            .print();
            serve(&fake).await
        }
        other => Err(format!(
            "this build has no {other} fake: build with the `{other}` feature"
        )),
    }
}

/// Prints each request served (method, path, status) until Ctrl-C or, on Unix, SIGTERM.
async fn serve(fake: &impl Fake) -> Result<(), String> {
    // The log is read for printing only; a shorter one is cheaper to look through.
    fake.set_log_capacity(1000);
    let stop = shutdown();
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let (mut counted, mut next_seq) = (0, 0);
    loop {
        tokio::select! {
            signal = &mut stop => {
                print_new(fake, &mut counted, &mut next_seq);
                eprintln!("userapi-fake: stopped");
                return signal;
            }
            _ = tick.tick() => print_new(fake, &mut counted, &mut next_seq),
        }
    }
}

fn print_new(fake: &impl Fake, counted: &mut u64, next_seq: &mut u64) {
    let count = fake.request_count();
    if count == *counted {
        return;
    }
    *counted = count;
    let mut err = std::io::stderr().lock();
    let from = *next_seq;
    for r in fake.received_requests().iter().filter(|r| r.seq >= from) {
        let status = r.status.map_or("dropped".to_owned(), |s| s.as_u16().to_string());
        let _ = writeln!(err, "{} {} -> {status}", r.method, r.path);
        *next_seq = r.seq + 1;
    }
}

async fn shutdown() -> Result<(), String> {
    let interrupted = async {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot wait for SIGTERM: {e}"))?;
        tokio::select! {
            r = interrupted => r,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    interrupted.await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<Args>, String> {
        parse(&line.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn reads_the_command_line() {
        let a = args("metabase --port 3000").unwrap().unwrap();
        assert_eq!(a.service, "metabase");
        assert_eq!(a.addr, "127.0.0.1:3000".parse().unwrap());
        let a = args("--host=::1 rounds --port=8080").unwrap().unwrap();
        assert_eq!(
            (a.service.as_str(), a.addr),
            ("rounds", "[::1]:8080".parse().unwrap())
        );
        assert_eq!(args("rightech").unwrap().unwrap().addr.port(), 0);
        assert!(args("--help").unwrap().is_none());
        assert!(args("metabase -h").unwrap().is_none());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for (line, problem) in [
            ("", "which service"),
            ("metabase --port", "--port needs a value"),
            ("metabase --port 70000", "not a port"),
            ("metabase --host localhost", "not an IP address"),
            ("metabase --verbose", "unknown option --verbose"),
            ("metabase rounds", "unexpected argument rounds"),
            ("mongodb", "no service \"mongodb\""),
        ] {
            let got = args(line).unwrap_err();
            assert!(got.contains(problem), "{line:?}: {got}");
        }
    }
}
