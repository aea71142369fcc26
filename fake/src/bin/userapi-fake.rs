//! `userapi-fake`: one service's fake as a standalone server, until Ctrl-C.
//!
//! ```text
//! cargo run -p userapi-fake -- metabase --port 3000
//! ```
//!
//! It prints the base URL, the credentials the fake accepts and a `curl` command to try,
//! then one line per request it serves (method, path, status: never headers, query or body,
//! which may hold credentials).
//!
//! It also records a real server into a cassette and replays one:
//!
//! ```text
//! userapi-fake record --upstream https://metabase.example.com/ --cassette metabase.json
//! userapi-fake replay --cassette metabase.json --strict
//! ```

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use userapi_fake::{
    Cassette, MatchOn, Recorder, RecorderBuilder, Replay, RunningFake, SERVICES, ServiceEntry,
};

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
    userapi-fake record --upstream <URL> --cassette <FILE> [--port <N>] [--host <IP>]
                        [--for <SECS>] [--ca <PEM FILE>]
    userapi-fake replay --cassette <FILE> [--port <N>] [--host <IP>] [--strict]
                        [--match method,path,query,body]

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

record: forwards every request to the upstream and returns its answer unchanged, writing
each exchange to the cassette with every credential scrubbed (atomically, after every
exchange). Stops on Ctrl-C or after --for seconds. --ca trusts a private CA (PEM).
replay: answers from the cassette; a request that matches nothing gets 404 naming the
closest recorded one. At exit it reports unused exchanges and unmatched requests; with
--strict either makes the exit code 1. --match says what must match [default:
method,path,query,body].
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

/// `record`'s command line.
#[derive(Debug)]
struct RecordArgs {
    upstream: url::Url,
    cassette: std::path::PathBuf,
    addr: SocketAddr,
    for_secs: Option<u64>,
    ca: Option<std::path::PathBuf>,
}

/// `replay`'s command line.
#[derive(Debug)]
struct ReplayArgs {
    cassette: std::path::PathBuf,
    addr: SocketAddr,
    strict: bool,
    match_on: MatchOn,
}

/// The options of `record` and `replay`, read together (each then refuses what is not its).
#[derive(Debug, Default)]
struct Options {
    upstream: Option<String>,
    cassette: Option<String>,
    port: Option<String>,
    host: Option<String>,
    for_secs: Option<String>,
    ca: Option<String>,
    strict: bool,
    match_on: Option<String>,
}

fn read_options(args: &[String], allowed: &[&str]) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if !allowed.contains(&flag) {
            return Err(if flag.starts_with('-') {
                format!("unknown option {flag}")
            } else {
                format!("unexpected argument {flag}")
            });
        }
        if flag == "--strict" {
            o.strict = true;
            continue;
        }
        let value = inline
            .or_else(|| rest.next().cloned())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let slot = match flag {
            "--upstream" => &mut o.upstream,
            "--cassette" => &mut o.cassette,
            "--port" => &mut o.port,
            "--host" => &mut o.host,
            "--for" => &mut o.for_secs,
            "--ca" => &mut o.ca,
            _ => &mut o.match_on,
        };
        *slot = Some(value);
    }
    Ok(Some(o))
}

fn address(o: &Options) -> Result<SocketAddr, String> {
    let port = match &o.port {
        Some(v) => v
            .parse()
            .map_err(|_| format!("--port {v}: not a port (0 to 65535)"))?,
        None => 0,
    };
    let host = match &o.host {
        Some(v) => v
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("--host {v}: not an IP address"))?,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    Ok(SocketAddr::new(host, port))
}

fn parse_record(args: &[String]) -> Result<Option<RecordArgs>, String> {
    let allowed = ["--upstream", "--cassette", "--port", "--host", "--for", "--ca"];
    let Some(o) = read_options(args, &allowed)? else {
        return Ok(None);
    };
    let upstream = o
        .upstream
        .as_deref()
        .ok_or("record: --upstream <URL> is required")?;
    let upstream = url::Url::parse(upstream).map_err(|e| format!("--upstream: not a URL ({e})"))?;
    let cassette = o
        .cassette
        .as_deref()
        .ok_or("record: --cassette <FILE> is required")?
        .into();
    let for_secs = match &o.for_secs {
        Some(v) => Some(
            v.parse()
                .map_err(|_| format!("--for {v}: not a number of seconds"))?,
        ),
        None => None,
    };
    Ok(Some(RecordArgs {
        upstream,
        cassette,
        addr: address(&o)?,
        for_secs,
        ca: o.ca.map(Into::into),
    }))
}

fn parse_replay(args: &[String]) -> Result<Option<ReplayArgs>, String> {
    let allowed = ["--cassette", "--port", "--host", "--strict", "--match"];
    let Some(o) = read_options(args, &allowed)? else {
        return Ok(None);
    };
    let cassette = o
        .cassette
        .as_deref()
        .ok_or("replay: --cassette <FILE> is required")?
        .into();
    let match_on = match &o.match_on {
        Some(v) => v.parse().map_err(|e| format!("--match: {e}"))?,
        None => MatchOn::DEFAULT,
    };
    Ok(Some(ReplayArgs {
        cassette,
        addr: address(&o)?,
        strict: o.strict,
        match_on,
    }))
}

fn warn_if_open(addr: SocketAddr) {
    if !addr.ip().is_loopback() {
        eprintln!(
            "userapi-fake: listening on {}, not loopback: other machines can reach this server",
            addr.ip()
        );
    }
}

async fn record(args: RecordArgs) -> ExitCode {
    warn_if_open(args.addr);
    let mut builder = Recorder::builder(args.upstream.clone(), &args.cassette).addr(args.addr);
    if let Some(ca) = &args.ca {
        match root_certificate(ca) {
            Ok(with_ca) => builder = with_ca(builder),
            Err(problem) => {
                eprintln!("userapi-fake: {problem}");
                return ExitCode::FAILURE;
            }
        }
    }
    let recorder = match builder.start().await {
        Ok(recorder) => recorder,
        Err(problem) => {
            eprintln!("userapi-fake: {problem}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let mut shown = args.upstream.clone();
        let _ = shown.set_password(None);
        let _ = shown.set_username("");
        let _ = writeln!(
            out,
            "userapi-fake: recording {shown} into {}",
            args.cassette.display()
        );
        let _ = writeln!(out, "  base URL: {}", recorder.base_url());
        let _ = writeln!(
            out,
            "Ctrl-C stops it; the cassette is written after every exchange."
        );
        let _ = out.flush();
    }
    let stop = shutdown();
    tokio::pin!(stop);
    let deadline = async {
        match args.for_secs {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut printed = 0;
    let mut failed = None;
    let signal = loop {
        tokio::select! {
            signal = &mut stop => break signal,
            () = &mut deadline => break Ok(()),
            _ = tick.tick() => {}
        }
        print_recorded(&recorder, &mut printed);
        let error = recorder.save_error();
        if error.is_some() && error != failed {
            eprintln!("userapi-fake: {}", error.as_deref().unwrap_or_default());
        }
        failed = error;
    };
    print_recorded(&recorder, &mut printed);
    match (signal, recorder.finish().map_err(|e| e.to_string())) {
        (Ok(()), Ok(cassette)) => {
            eprintln!(
                "userapi-fake: stopped; {} exchange{} in {}",
                cassette.entries.len(),
                if cassette.entries.len() == 1 { "" } else { "s" },
                args.cassette.display()
            );
            ExitCode::SUCCESS
        }
        (Err(problem), _) | (_, Err(problem)) => {
            eprintln!("userapi-fake: {problem}");
            ExitCode::FAILURE
        }
    }
}

type WithCa = Box<dyn FnOnce(RecorderBuilder) -> RecorderBuilder>;

/// What `--ca FILE` adds to the recorder.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn root_certificate(ca: &std::path::Path) -> Result<WithCa, String> {
    let pem = std::fs::read(ca).map_err(|e| format!("cannot read --ca {}: {e}", ca.display()))?;
    let cert = userapi::reqwest::Certificate::from_pem(&pem)
        .map_err(|e| format!("--ca {}: not a PEM certificate: {e}", ca.display()))?;
    Ok(Box::new(move |builder| builder.root_certificate(cert)))
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn root_certificate(_: &std::path::Path) -> Result<WithCa, String> {
    Err("--ca: this userapi-fake was built without TLS (features rustls, native-tls)".to_owned())
}

/// Prints the exchanges recorded since the last call (scrubbed: method, path, status).
fn print_recorded(recorder: &Recorder, printed: &mut usize) {
    if recorder.recorded() == *printed {
        return;
    }
    let cassette = recorder.cassette();
    let mut err = std::io::stderr().lock();
    for e in cassette.entries.iter().skip(*printed) {
        let _ = writeln!(
            err,
            "{} {} -> {} (recorded)",
            e.request.method, e.request.path, e.response.status
        );
    }
    *printed = cassette.entries.len();
}

async fn replay(args: ReplayArgs) -> ExitCode {
    warn_if_open(args.addr);
    let cassette = match Cassette::load(&args.cassette) {
        Ok(cassette) => cassette,
        Err(problem) => {
            eprintln!("userapi-fake: {problem}");
            return ExitCode::FAILURE;
        }
    };
    let started = Replay::builder(cassette)
        .match_on(args.match_on)
        .addr(args.addr)
        .start()
        .await;
    let replay = match started {
        Ok(replay) => replay,
        Err(problem) => {
            eprintln!("userapi-fake: {problem}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "userapi-fake: replaying {} ({} exchanges, matching on {})",
            args.cassette.display(),
            replay.cassette().entries.len(),
            args.match_on
        );
        let _ = writeln!(out, "  base URL: {}", replay.base_url());
        let _ = writeln!(out, "Ctrl-C stops it.");
        let _ = out.flush();
    }
    let served = serve(&*replay).await;
    let report = replay.into_report();
    eprintln!("userapi-fake: {report}");
    if let Err(problem) = served {
        eprintln!("userapi-fake: {problem}");
        return ExitCode::FAILURE;
    }
    if args.strict && !report.is_clean() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn help() -> ExitCode {
    print!("{}", usage());
    ExitCode::SUCCESS
}

fn refuse(problem: &str) -> ExitCode {
    eprintln!("userapi-fake: {problem}\n\n{}", usage());
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("record") => {
            return match parse_record(&args[1..]) {
                Ok(Some(args)) => record(args).await,
                Ok(None) => help(),
                Err(problem) => refuse(&problem),
            };
        }
        Some("replay") => {
            return match parse_replay(&args[1..]) {
                Ok(Some(args)) => replay(args).await,
                Ok(None) => help(),
                Err(problem) => refuse(&problem),
            };
        }
        _ => {}
    }
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

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn reads_record_and_replay() {
        let r = parse_record(&words(
            "--upstream https://mb.example.com/ --cassette c.json --port 3000 --for 5",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(r.upstream.as_str(), "https://mb.example.com/");
        assert_eq!((r.addr.port(), r.for_secs), (3000, Some(5)));
        let r = parse_replay(&words("--cassette=c.json --strict --match method,path"))
            .unwrap()
            .unwrap();
        assert!(r.strict);
        assert_eq!(r.match_on, MatchOn::DEFAULT.query(false).body(false));
        for (line, problem) in [
            ("--cassette c.json", "--upstream <URL> is required"),
            ("--upstream nowhere --cassette c.json", "--upstream: not a URL"),
            (
                "--upstream https://x/ --cassette c.json --strict",
                "unknown option --strict",
            ),
            (
                "--upstream https://x/ --cassette c.json --for soon",
                "not a number of seconds",
            ),
        ] {
            let got = parse_record(&words(line)).unwrap_err();
            assert!(got.contains(problem), "{line:?}: {got}");
        }
        for (line, problem) in [
            ("--strict", "--cassette <FILE> is required"),
            ("--cassette c.json --match colour", "--match: \"colour\""),
            (
                "--cassette c.json --upstream https://x/",
                "unknown option --upstream",
            ),
            ("--cassette c.json extra", "unexpected argument extra"),
        ] {
            let got = parse_replay(&words(line)).unwrap_err();
            assert!(got.contains(problem), "{line:?}: {got}");
        }
        assert!(parse_replay(&words("--help")).unwrap().is_none());
    }

    #[test]
    fn every_service_is_listed_once() {
        let names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
        assert_eq!(names, ["novaconnect", "diadoc", "rounds", "metabase", "rightech"]);
        assert!(usage().contains("metabase      Metabase"));
    }
}
