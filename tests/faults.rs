//! The fault matrix: every service's read (and write) call against a loopback server that
//! misbehaves in one way at a time. Each cell checks the documented typed error or the
//! documented recovery, that it came within the configured total timeout, and how many
//! requests reached the server. The suite prints `N passed, M failed` for the matrix.
//!
//! The fault server is raw TCP, so it can do what a well-behaved HTTP server cannot: reset a
//! connection mid-body, stall before or after the headers, lie about the length.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use userapi::{Client, Error, ErrorKind, RetryPolicy, TimeoutPhase, Timeouts, TransportKind};

use crate::support::client_builder;
use crate::support::raw::{
    Action, RawServer as FaultServer, Script, Seen, chunked_response, ok, response, short_response,
};
use crate::support::services::{Service, services};

/// A gzip body under `LIMIT` that expands to 32 MiB of zeros (made once).
fn gzip_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..32 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(
            bomb.len() < LIMIT,
            "the bomb itself fits the limit: {} bytes",
            bomb.len()
        );
        bomb
    })
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for a moment.
fn http_date(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!(
        "{weekday}, {day:02} {name} {year} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

const ATTEMPT: Duration = Duration::from_millis(1000);
const TOTAL: Duration = Duration::from_secs(5);
/// Cells run this many at a time: enough to finish quickly, few enough that a loaded CI
/// machine does not turn scheduling delays into timeouts.
const PARALLEL_CELLS: usize = 6;
/// How far past the total timeout a call may end and still count as "within" it: scheduling
/// on a loaded CI machine.
const SLACK: Duration = Duration::from_millis(750);
const LIMIT: usize = 64 * 1024;

fn client(svc: &Service, base: &str) -> Client {
    client_builder(base)
        .auth((svc.credentials[0].auth)())
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(1))
                .with_attempt(ATTEMPT)
                .with_total(TOTAL),
        )
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(20))
                .max_delay(Duration::from_secs(3)),
        )
        .max_response_bytes(LIMIT)
        .build()
        .expect("client")
}

/// What a cell observed.
struct Run {
    result: userapi::Result<()>,
    /// The call did not end within three times the total timeout (`result` is then `Ok`).
    hung: bool,
    elapsed: Duration,
    hits: usize,
    /// Requests the redirect target received.
    elsewhere: Vec<Seen>,
}

type Check = fn(&Run) -> Result<(), String>;

struct Fault {
    name: &'static str,
    /// Uses the service's write call instead of its read call.
    write: bool,
    /// Requests the server must see, exactly; and what the error must say it sent (for
    /// refused connections the server sees none, but three were tried).
    requests: usize,
    attempts: u32,
    script: fn(&Service, u16) -> Script,
    check: Check,
}

fn expect_ok(run: &Run, hits: usize) -> Result<(), String> {
    match &run.result {
        Ok(()) if run.hits == hits => Ok(()),
        Ok(()) => Err(format!(
            "recovered, but after {} requests instead of {hits}",
            run.hits
        )),
        Err(e) => Err(format!("expected recovery, got {e}")),
    }
}

fn err(run: &Run) -> Result<&Error, String> {
    run.result
        .as_ref()
        .err()
        .ok_or_else(|| "expected an error, got Ok".to_owned())
}

fn faults() -> Vec<Fault> {
    vec![
        Fault {
            name: "connection refused",
            write: false,
            requests: 0,
            attempts: 3,
            script: |_, _| Arc::new(|_| Action::Send(Vec::new())),
            check: |run| match err(run)?.kind() {
                ErrorKind::Transport(t)
                    if t.kind() == TransportKind::Connect
                        && run.result.as_ref().unwrap_err().is_retryable() =>
                {
                    Ok(())
                }
                e => Err(format!("expected a connect error, got {e:?}")),
            },
        },
        Fault {
            name: "reset mid-body",
            write: false,
            requests: 1,
            attempts: 1,
            script: |svc, _| {
                let body = svc.ok_body.as_bytes()[..svc.ok_body.len() / 2].to_vec();
                let declared = svc.ok_body.len();
                Arc::new(move |_| Action::SendThenReset(short_response(&body, declared)))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::Transport(t) if t.kind() == TransportKind::Io => Ok(()),
                e => Err(format!("expected an I/O transport error, got {e:?}")),
            },
        },
        Fault {
            name: "stall before headers",
            write: false,
            requests: 3,
            attempts: 3,
            script: |_, _| Arc::new(|_| Action::SendThenStall(Vec::new())),
            check: |run| match err(run)?.kind() {
                ErrorKind::Timeout(t)
                    if matches!(t.phase(), TimeoutPhase::Attempt | TimeoutPhase::Total) && run.hits >= 2 =>
                {
                    Ok(())
                }
                e => Err(format!(
                    "expected a timeout after retries, got {e:?} after {} requests",
                    run.hits
                )),
            },
        },
        Fault {
            name: "stall mid-body",
            write: false,
            requests: 3,
            attempts: 3,
            script: |svc, _| {
                let body = svc.ok_body.as_bytes()[..svc.ok_body.len() / 2].to_vec();
                let declared = svc.ok_body.len();
                Arc::new(move |_| Action::SendThenStall(short_response(&body, declared)))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::Timeout(t) if t.phase() == TimeoutPhase::Attempt => Ok(()),
                e => Err(format!("expected a per-attempt timeout, got {e:?}")),
            },
        },
        Fault {
            name: "truncated JSON",
            write: false,
            requests: 1,
            attempts: 1,
            script: |svc, _| {
                let body = &svc.ok_body.as_bytes()[..svc.ok_body.len() - 3];
                let bytes = response("200 OK", "application/json", body, &[]);
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::Decode(d) if d.excerpt().is_some() && run.hits == 1 => Ok(()),
                e => Err(format!("expected a decode error with an excerpt, got {e:?}")),
            },
        },
        Fault {
            name: "malformed JSON",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| Arc::new(|_| ok(r#"{"id": 1,, "name": ]"#)),
            check: |run| match err(run)?.kind() {
                ErrorKind::Decode(_) => Ok(()),
                e => Err(format!("expected a decode error, got {e:?}")),
            },
        },
        Fault {
            name: "HTML 502 page",
            write: false,
            requests: 3,
            attempts: 3,
            script: |_, _| {
                let page =
                    b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>";
                let bytes = response("502 Bad Gateway", "text/html", page, &[]);
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| {
                let e = err(run)?;
                e.http()
                    .ok_or_else(|| format!("expected an HTTP error, got {e:?}"))?;
                if e.status().map(|s| s.as_u16()) == Some(502)
                    && e.service_message() == Some("502 Bad Gateway")
                    && e.attempts() == 3
                    && run.hits == 3
                {
                    Ok(())
                } else {
                    Err(format!(
                        "expected 502 with the page title after 3 attempts, got {e:?}, {} hits",
                        run.hits
                    ))
                }
            },
        },
        Fault {
            name: "empty 200 body",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| Arc::new(|_| ok("")),
            check: |run| match err(run)?.kind() {
                ErrorKind::Decode(d) if d.message().contains("empty") => Ok(()),
                e => Err(format!("expected a decode error about an empty body, got {e:?}")),
            },
        },
        Fault {
            name: "wrong content type: HTML under 200",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| {
                let bytes = response("200 OK", "text/html", b"<html><body>Welcome</body></html>", &[]);
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::Decode(d) if d.content_type() == Some("text/html") => Ok(()),
                e => Err(format!("expected a decode error naming text/html, got {e:?}")),
            },
        },
        Fault {
            name: "wrong content type: JSON labelled text/plain",
            write: false,
            requests: 1,
            attempts: 1,
            script: |svc, _| {
                let bytes = response("200 OK", "text/plain", svc.ok_body.as_bytes(), &[]);
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| expect_ok(run, 1),
        },
        Fault {
            name: "429 with Retry-After in seconds",
            write: false,
            requests: 2,
            attempts: 2,
            script: |svc, _| {
                let body = svc.ok_body;
                Arc::new(move |n| match n {
                    0 => Action::Send(response(
                        "429 Too Many Requests",
                        "text/plain",
                        b"slow down",
                        &[("Retry-After", "1".into())],
                    )),
                    _ => ok(body),
                })
            },
            check: |run| {
                expect_ok(run, 2)?;
                if run.elapsed >= Duration::from_millis(950) {
                    Ok(())
                } else {
                    Err(format!("retried after {:?}, before Retry-After", run.elapsed))
                }
            },
        },
        Fault {
            name: "429 with Retry-After as an HTTP date",
            write: false,
            requests: 2,
            attempts: 2,
            script: |svc, _| {
                let body = svc.ok_body;
                Arc::new(move |n| match n {
                    0 => {
                        let at = http_date(SystemTime::now() + Duration::from_secs(2));
                        Action::Send(response(
                            "429 Too Many Requests",
                            "text/plain",
                            b"slow down",
                            &[("Retry-After", at)],
                        ))
                    }
                    _ => ok(body),
                })
            },
            check: |run| {
                expect_ok(run, 2)?;
                // The date has whole seconds, so the wait is between one and two of them.
                if run.elapsed >= Duration::from_millis(900) {
                    Ok(())
                } else {
                    Err(format!("retried after {:?}, before the date", run.elapsed))
                }
            },
        },
        Fault {
            name: "429 with a far Retry-After date",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| {
                Arc::new(|_| {
                    let at = http_date(SystemTime::now() + Duration::from_secs(3600));
                    Action::Send(response(
                        "429 Too Many Requests",
                        "text/plain",
                        b"quota",
                        &[("Retry-After", at)],
                    ))
                })
            },
            check: |run| {
                let e = err(run)?;
                // Waiting an hour would overrun the total timeout: the 429 comes back at once,
                // with the server's wish readable.
                match e.retry_after() {
                    Some(d)
                        if d > Duration::from_secs(3000)
                            && run.hits == 1
                            && run.elapsed < Duration::from_secs(1) =>
                    {
                        Ok(())
                    }
                    _ => Err(format!(
                        "expected an immediate 429 with retry_after, got {e:?} after {:?}",
                        run.elapsed
                    )),
                }
            },
        },
        Fault {
            name: "503 then success",
            write: false,
            requests: 2,
            attempts: 2,
            script: |svc, _| {
                let body = svc.ok_body;
                Arc::new(move |n| match n {
                    0 => Action::Send(response("503 Service Unavailable", "text/plain", b"busy", &[])),
                    _ => ok(body),
                })
            },
            check: |run| expect_ok(run, 2),
        },
        Fault {
            name: "503 on a write is not retried",
            write: true,
            requests: 1,
            attempts: 1,
            script: |_, _| {
                Arc::new(|_| Action::Send(response("503 Service Unavailable", "text/plain", b"busy", &[])))
            },
            check: |run| match err(run)? {
                e if e.status().map(|s| s.as_u16()) == Some(503) && run.hits == 1 => Ok(()),
                e => Err(format!(
                    "expected one 503 and no retry, got {e:?} after {} requests",
                    run.hits
                )),
            },
        },
        Fault {
            name: "Dont-Retry on a 503",
            write: false,
            requests: 1,
            attempts: 1,
            // Diadoc's own spelling for Diadoc, the generic one for the others.
            script: |service, _| {
                let header = if service.name == "diadoc" {
                    "X-Kontur-Dont-Retry"
                } else {
                    "Dont-Retry"
                };
                Arc::new(move |_| {
                    Action::Send(response(
                        "503 Service Unavailable",
                        "text/plain",
                        b"down",
                        &[(header, "True".into())],
                    ))
                })
            },
            check: |run| match err(run)? {
                e if e.status().map(|s| s.as_u16()) == Some(503) && run.hits == 1 => Ok(()),
                e => Err(format!("expected one 503, got {e:?} after {} requests", run.hits)),
            },
        },
        Fault {
            name: "oversize body with Content-Length",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| {
                let body = vec![b' '; LIMIT * 4];
                let bytes = response("200 OK", "application/json", &body, &[]);
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::BodyTooLarge(b) if b.limit() == LIMIT => Ok(()),
                e => Err(format!("expected BodyTooLarge, got {e:?}")),
            },
        },
        Fault {
            name: "oversize chunked body",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| {
                let bytes = chunked_response(LIMIT * 4);
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::BodyTooLarge(b) if b.limit() == LIMIT => Ok(()),
                e => Err(format!("expected BodyTooLarge, got {e:?}")),
            },
        },
        Fault {
            // 32 MiB of zeros in a gzip body smaller than the limit: the limit counts the
            // decompressed bytes, so the read stops at 64 KiB of them.
            name: "gzip bomb",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| {
                let bytes = response(
                    "200 OK",
                    "application/json",
                    gzip_bomb(),
                    &[("Content-Encoding", "gzip".to_owned())],
                );
                Arc::new(move |_| Action::Send(bytes.clone()))
            },
            check: |run| match err(run)?.kind() {
                ErrorKind::BodyTooLarge(b) if cfg!(feature = "gzip") && b.limit() == LIMIT => Ok(()),
                // Without the `gzip` feature the body is not decompressed: it is not JSON.
                ErrorKind::Decode(_) if !cfg!(feature = "gzip") => Ok(()),
                e => Err(format!("expected BodyTooLarge, got {e:?}")),
            },
        },
        Fault {
            name: "redirect to another host",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, other| {
                let location = format!("http://127.0.0.1:{other}/stolen");
                Arc::new(move |_| {
                    Action::Send(response(
                        "307 Temporary Redirect",
                        "text/plain",
                        b"",
                        &[("Location", location.clone())],
                    ))
                })
            },
            check: |run| {
                if !run.elsewhere.is_empty() {
                    return Err(format!("the other host received {:?}", run.elsewhere));
                }
                match err(run)? {
                    e if e.status().map(|s| s.as_u16()) == Some(307)
                        && e.service_message().is_some_and(|m| m.contains("not followed")) =>
                    {
                        Ok(())
                    }
                    e => Err(format!("expected the 307 itself, got {e:?}")),
                }
            },
        },
    ]
}

async fn run_cell(svc: &Service, fault: &Fault) -> Run {
    let elsewhere = FaultServer::start(Arc::new(|_| ok("{}"))).await;
    let script = (fault.script)(svc, elsewhere.port);
    let server = FaultServer::start(script).await;
    let base = if fault.name == "connection refused" {
        // A port that was just free: nobody listens there.
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        format!("http://127.0.0.1:{port}{}", svc.base_path)
    } else {
        server.url(svc.base_path)
    };
    let client = client(svc, &base);
    let call = match (fault.write, svc.write) {
        (true, Some(write)) => write(client),
        _ => (svc.read)(client),
    };
    let started = Instant::now();
    // The outer limit only keeps a broken cell from hanging the suite; the check below is
    // against the client's own total timeout.
    let (result, hung) = match tokio::time::timeout(TOTAL * 3, call).await {
        Ok(result) => (result, false),
        Err(_) => (Ok(()), true),
    };
    Run {
        result,
        hung,
        elapsed: started.elapsed(),
        hits: server.hits(),
        elsewhere: elsewhere.seen(),
    }
}

/// Writes a line of the matrix to stderr directly, so it shows even when the test harness
/// captures output (it captures only the `print!` family).
fn report(line: String) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_matrix() {
    let services = Arc::new(services());
    let faults = Arc::new(faults());
    let mut cells = tokio::task::JoinSet::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL_CELLS));
    for s in 0..services.len() {
        for f in 0..faults.len() {
            if faults[f].write && services[s].write.is_none() {
                continue;
            }
            let (services, faults) = (Arc::clone(&services), Arc::clone(&faults));
            let permits = Arc::clone(&permits);
            cells.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("the semaphore stays open");
                let (svc, fault) = (&services[s], &faults[f]);
                let run = run_cell(svc, fault).await;
                let mut verdict = if run.hung {
                    Err("HUNG past three times the total timeout".to_owned())
                } else {
                    (fault.check)(&run)
                };
                if verdict.is_ok() && run.hits != fault.requests {
                    verdict = Err(format!(
                        "the server saw {} requests, not {}",
                        run.hits, fault.requests
                    ));
                }
                if verdict.is_ok()
                    && let Err(e) = &run.result
                    && e.attempts() != fault.attempts
                {
                    verdict = Err(format!(
                        "the error says {} requests were sent, not {}",
                        e.attempts(),
                        fault.attempts
                    ));
                }
                if verdict.is_ok() && run.elapsed > TOTAL + SLACK {
                    verdict = Err(format!(
                        "took {:?}, past the total timeout of {TOTAL:?}",
                        run.elapsed
                    ));
                }
                if let Err(e) = &run.result {
                    // Every error names where it happened and never panics to print.
                    let shown = e.to_string();
                    if verdict.is_ok() && !shown.contains(svc.base_path.trim_end_matches('/')) {
                        verdict = Err(format!("the error does not name the path: {shown}"));
                    }
                }
                (s, f, run.elapsed, verdict)
            });
        }
    }
    let mut rows = Vec::new();
    while let Some(cell) = cells.join_next().await {
        rows.push(cell.expect("a cell panicked"));
    }
    rows.sort_by_key(|(s, f, ..)| (*s, *f));
    let mut failed = 0;
    for (s, f, elapsed, verdict) in &rows {
        let (svc, fault) = (&services[*s], &faults[*f]);
        match verdict {
            // Passing cells only with `--nocapture`; failures and the total always show.
            Ok(()) => println!(
                "ok    {:<12} {:<45} {:>6} ms",
                svc.name,
                fault.name,
                elapsed.as_millis()
            ),
            Err(why) => {
                failed += 1;
                report(format!(
                    "FAIL  {:<12} {:<45} {:>6} ms  {why}",
                    svc.name,
                    fault.name,
                    elapsed.as_millis()
                ));
            }
        }
    }
    report(format!(
        "fault matrix: {} passed, {failed} failed",
        rows.len() - failed
    ));
    assert!(!rows.is_empty(), "no service is enabled");
    assert_eq!(failed, 0, "{failed} cells of the fault matrix failed");
}
