//! `userapi-fake`: one service's fake as a standalone server, until Ctrl-C.
//!
//! ```text
//! cargo run -p userapi-fake -- metabase --port 3000
//! ```
//!
//! It prints the base URL, the credentials the fake accepts and a `curl` command to try,
//! then one line per request it serves (method, path, status: never headers, query or body,
//! which may hold credentials).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use userapi_fake::{RunningFake, SERVICES, ServiceEntry};

fn usage() -> String {
    let mut services = String::new();
    for s in SERVICES {
        services.push_str(&format!("    {:<13} {}\n", s.name, s.summary));
    }
    format!(
        "\
userapi-fake: serves one service's fake from the userapi-fake crate until Ctrl-C

USAGE:
    userapi-fake <SERVICE> [--port <N>] [--host <IP>]

SERVICES:
{services}
OPTIONS:
    --port <N>          The port to listen on [default: 0, one the system picks]
    --host <IP>         The IP address to listen on [default: 127.0.0.1]. Another one lets
                        other machines in, with credentials printed here: the fake has no
                        real security.
    -h, --help          Prints this text

It prints the base URL, the credentials the fake accepts (tokens, API keys, users and
passwords, client ids) and a curl command to try, then one line per request served: method,
path and status, never headers, query or body. State lives in memory and is lost on exit.
"
    )
}

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    service: &'static ServiceEntry,
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
                let names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
                let found = ServiceEntry::find(name)
                    .ok_or_else(|| format!("no service {name:?}: one of {}", names.join(", ")))?;
                service = Some(found);
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

fn print_banner(fake: &dyn RunningFake) {
    let banner = fake.banner();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "userapi-fake: {} fake", fake.title());
    let _ = writeln!(out, "  base URL: {}", fake.base_url());
    for (label, value) in &banner.credentials {
        let _ = writeln!(out, "  {label}: {value}");
    }
    let _ = writeln!(out, "try:\n  {}", banner.curl);
    let _ = writeln!(out, "Ctrl-C stops it.");
    let _ = out.flush();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("userapi-fake: {problem}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    if !args.addr.ip().is_loopback() {
        eprintln!(
            "userapi-fake: listening on {}, not loopback: other machines can reach this fake and the credentials below",
            args.addr.ip()
        );
    }
    let fake = match args.service.start(args.addr).await {
        Ok(fake) => fake,
        Err(problem) => {
            eprintln!("userapi-fake: {problem}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(fake.as_ref());
    match serve(fake.as_ref()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("userapi-fake: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Prints each request served (method, path, status) until Ctrl-C or, on Unix, SIGTERM.
async fn serve(fake: &dyn RunningFake) -> Result<(), String> {
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

fn print_new(fake: &dyn RunningFake, counted: &mut u64, next_seq: &mut u64) {
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

// The tests name services: they need all five.
#[cfg(all(
    test,
    feature = "novaconnect",
    feature = "diadoc",
    feature = "rounds",
    feature = "metabase",
    feature = "rightech"
))]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<Args>, String> {
        parse(&line.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn reads_the_command_line() {
        let a = args("metabase --port 3000").unwrap().unwrap();
        assert_eq!(a.service.name, "metabase");
        assert_eq!(a.addr, "127.0.0.1:3000".parse().unwrap());
        let a = args("--host=::1 rounds --port=8080").unwrap().unwrap();
        assert_eq!(
            (a.service.name, a.addr),
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

    #[test]
    fn every_service_is_listed_once() {
        let names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
        assert_eq!(names, ["novaconnect", "diadoc", "rounds", "metabase", "rightech"]);
        assert!(usage().contains("metabase      Metabase"));
    }
}
