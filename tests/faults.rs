//! The fault matrix: every service's read (and write) call against a loopback server that
//! misbehaves in one way at a time. Each cell checks the documented typed error or the
//! documented recovery, that it came within the configured total timeout, and how many
//! requests reached the server. The suite prints `N passed, M failed` for the matrix.
//!
//! The fault server is raw TCP, so it can do what a well-behaved HTTP server cannot: reset a
//! connection mid-body, stall before or after the headers, lie about the length.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use userapi::{Auth, Client, Error, RetryPolicy, TimeoutPhase, Timeouts, TransportKind};

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// One call of a service against a client.
type CallFn = fn(Client) -> BoxFut<userapi::Result<()>>;

// ---------------------------------------------------------------------------------------------
// The fault server
// ---------------------------------------------------------------------------------------------

/// What the server does with the `n`th request (0-based) it reads.
#[derive(Clone)]
enum Action {
    /// Writes these bytes and closes the connection.
    Send(Vec<u8>),
    /// Writes these bytes, then resets the connection (RST, not FIN).
    SendThenReset(Vec<u8>),
    /// Writes these bytes, then keeps the connection open and silent.
    SendThenStall(Vec<u8>),
}

type Script = Arc<dyn Fn(usize) -> Action + Send + Sync>;

/// A request as the server read it.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

struct FaultServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    async fn start(script: Script) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let log = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (script, log, count) = (Arc::clone(&script), Arc::clone(&log), Arc::clone(&count));
                held.push(tokio::spawn(serve(stream, script, log, count)));
            }
        });
        FaultServer { port, seen, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, script: Script, log: Arc<Mutex<Vec<Seen>>>, count: Arc<AtomicUsize>) {
    // One request per connection: every response says `Connection: close`.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let seen = Seen { head };
    let length: usize = seen
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    log.lock().unwrap().push(seen);
    let n = count.fetch_add(1, Ordering::SeqCst);
    match script(n) {
        Action::Send(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Action::SendThenReset(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let std = stream.into_std().unwrap();
            let sock = socket_linger_zero(std);
            drop(sock);
        }
        Action::SendThenStall(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
}

/// Closing a socket whose linger is zero sends RST instead of FIN.
fn socket_linger_zero(stream: std::net::TcpStream) -> std::net::TcpStream {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        #[repr(C)]
        struct Linger {
            l_onoff: i32,
            l_linger: i32,
        }
        unsafe extern "C" {
            fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
        }
        #[cfg(target_os = "linux")]
        const SOL_SOCKET: i32 = 1;
        #[cfg(target_os = "linux")]
        const SO_LINGER: i32 = 13;
        #[cfg(not(target_os = "linux"))]
        const SOL_SOCKET: i32 = 0xffff;
        #[cfg(not(target_os = "linux"))]
        const SO_LINGER: i32 = 0x0080;
        let linger = Linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket descriptor and a correctly sized `struct linger`.
        unsafe {
            setsockopt(
                stream.as_raw_fd(),
                SOL_SOCKET,
                SO_LINGER,
                &linger,
                size_of::<Linger>() as u32,
            );
        }
    }
    stream
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn response(status: &str, content_type: &str, body: &[u8], extra: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Headers that promise `declared` bytes, followed by only `body`.
fn short_response(body: &[u8], declared: usize) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A chunked response of `total` bytes of JSON-ish filler, with no length announced.
fn chunked_response(total: usize) -> Vec<u8> {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    let chunk = vec![b' '; 16 * 1024];
    let mut sent = 0;
    while sent < total {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(&chunk);
        bytes.extend_from_slice(b"\r\n");
        sent += chunk.len();
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    bytes
}

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

// ---------------------------------------------------------------------------------------------
// The services
// ---------------------------------------------------------------------------------------------

/// One service as the matrix sees it: how to reach it, a valid success body for its read
/// call, the read call (declared idempotent) and a write call (never retried).
struct Service {
    name: &'static str,
    /// Path of the base URL on the fault server.
    base_path: &'static str,
    auth: fn() -> Auth,
    ok_body: &'static str,
    read: CallFn,
    /// A call that is never retried, where the service has one.
    write: Option<CallFn>,
}

fn services() -> Vec<Service> {
    #[allow(unused_mut)]
    let mut list = Vec::new();
    #[cfg(feature = "novaconnect")]
    list.push(Service {
        name: "novaconnect",
        base_path: "/api/",
        auth: || Auth::bearer("fault-token"),
        ok_body: NOVA_OK,
        read: |c| Box::pin(async move { c.novaconnect().get_me().await.map(drop) }),
        write: Some(|c| {
            Box::pin(async move {
                c.novaconnect()
                    .change_password(&userapi::Secret::new("n3w-Secret"), &userapi::Secret::new("0ld"))
                    .await
                    .map(drop)
            })
        }),
    });
    #[cfg(feature = "diadoc")]
    list.push(Service {
        name: "diadoc",
        base_path: "/diadoc/",
        auth: || Auth::diadoc("client-id", Some("fault-token".into())),
        ok_body: r#"{"UserId":"d064f6ba-7b81-432d-a41d-93b23eebe579","Login":"a@kontur.ru","IsRegistered":true}"#,
        read: |c| Box::pin(async move { c.diadoc().get_me().await.map(drop) }),
        write: Some(|c| {
            Box::pin(async move {
                let change = userapi::diadoc::UserToUpdate::new().login("new@kontur.ru");
                c.diadoc().update_me(&change).await.map(drop)
            })
        }),
    });
    #[cfg(feature = "rounds")]
    list.push(Service {
        name: "rounds",
        base_path: "/rounds/",
        auth: || Auth::bearer("fault-token"),
        ok_body: r#"{"id":"6f1c2a9e","phone":"+77011234567","first_name":"Dana","last_name":null,"avatar_url":null,"is_verified":true}"#,
        read: |c| Box::pin(async move { c.rounds().get_me().await.map(drop) }),
        // Every rounds call is safe to repeat (PATCH /users/me sets values), so none is exempt.
        write: None,
    });
    #[cfg(feature = "metabase")]
    list.push(Service {
        name: "metabase",
        base_path: "/metabase/",
        auth: || Auth::metabase_session("3d1f2f7c-6a0e-4b8a-9c55-0d5b2f1e8a11"),
        ok_body: r#"{"id":1,"email":"crowberto@metabase.com","first_name":"Crowberto","is_superuser":true,"group_ids":[1,2]}"#,
        read: |c| Box::pin(async move { c.metabase().get_me().await.map(drop) }),
        write: Some(|c| {
            Box::pin(async move {
                c.metabase().create_user(&userapi::metabase::NewUser::new("a@b.io")).await.map(drop)
            })
        }),
    });
    #[cfg(feature = "rightech")]
    list.push(Service {
        name: "rightech",
        base_path: "/rightech/",
        auth: || Auth::bearer("fault-token"),
        ok_body: r#"{"_id":"5d8a18d5d0025e0012fb6a34","login":"user_login","rights":1.5,"success":true}"#,
        read: |c| {
            Box::pin(async move {
                let id = userapi::rightech::ObjectId::parse("5d8a18d5d0025e0012fb6a34")?;
                c.rightech().get_user(&id).await.map(drop)
            })
        },
        write: Some(|c| {
            Box::pin(async move {
                let new = userapi::rightech::NewUser::new(
                    userapi::rightech::ObjectId::parse("5cc89f6af79a4969291dcbd7")?,
                    "n",
                    "e@x.io",
                    "login",
                    "Passw0rdX",
                );
                c.rightech().create_user(&new).await.map(drop)
            })
        }),
    });
    list
}

// ---------------------------------------------------------------------------------------------
// The faults
// ---------------------------------------------------------------------------------------------

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
    Client::builder()
        .base_url(base)
        .auth((svc.auth)())
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

fn ok(body: &str) -> Action {
    Action::Send(response("200 OK", "application/json", body.as_bytes(), &[]))
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
            check: |run| match err(run)? {
                Error::Transport(t)
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
            check: |run| match err(run)? {
                Error::Transport(t) if t.kind() == TransportKind::Io => Ok(()),
                e => Err(format!("expected an I/O transport error, got {e:?}")),
            },
        },
        Fault {
            name: "stall before headers",
            write: false,
            requests: 3,
            attempts: 3,
            script: |_, _| Arc::new(|_| Action::SendThenStall(Vec::new())),
            check: |run| match err(run)? {
                Error::Timeout(t)
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
            check: |run| match err(run)? {
                Error::Timeout(t) if t.phase() == TimeoutPhase::Attempt => Ok(()),
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
            check: |run| match err(run)? {
                Error::Decode(d) if d.excerpt().is_some() && run.hits == 1 => Ok(()),
                e => Err(format!("expected a decode error with an excerpt, got {e:?}")),
            },
        },
        Fault {
            name: "malformed JSON",
            write: false,
            requests: 1,
            attempts: 1,
            script: |_, _| Arc::new(|_| ok(r#"{"id": 1,, "name": ]"#)),
            check: |run| match err(run)? {
                Error::Decode(_) => Ok(()),
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
                let http = e
                    .http()
                    .ok_or_else(|| format!("expected an HTTP error, got {e:?}"))?;
                if e.status().map(|s| s.as_u16()) == Some(502)
                    && e.service_message() == Some("502 Bad Gateway")
                    && http.attempts() == 3
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
            check: |run| match err(run)? {
                Error::Decode(d) if d.message().contains("empty") => Ok(()),
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
            check: |run| match err(run)? {
                Error::Decode(d) if d.content_type() == Some("text/html") => Ok(()),
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
            check: |run| match err(run)? {
                Error::BodyTooLarge { limit, .. } if *limit == LIMIT => Ok(()),
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
            check: |run| match err(run)? {
                Error::BodyTooLarge { limit, .. } if *limit == LIMIT => Ok(()),
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
            check: |run| match err(run)? {
                Error::BodyTooLarge { limit, .. } if cfg!(feature = "gzip") && *limit == LIMIT => Ok(()),
                // Without the `gzip` feature the body is not decompressed: it is not JSON.
                Error::Decode(_) if !cfg!(feature = "gzip") => Ok(()),
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
    let result = match tokio::time::timeout(TOTAL * 3, call).await {
        Ok(result) => result,
        Err(_) => Err(Error::Config("HUNG past three times the total timeout".into())),
    };
    Run {
        result,
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
                let mut verdict = (fault.check)(&run);
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

// ---------------------------------------------------------------------------------------------
// Credentials and redirects
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "novaconnect")]
const NOVA_OK: &str =
    r#"{"code":200,"result":{"item":{"id":1,"first_name":"A","last_name":"B","email":"a@b.kz"}}}"#;

/// Every credential header, for every scheme, stays home when the server redirects to
/// another origin (another loopback port): the second server must see nothing at all.
#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn redirects_never_carry_credentials_to_another_origin() {
    let schemes: Vec<(&str, Auth)> = vec![
        ("bearer", Auth::bearer("tok-bearer-123")),
        ("jwt", Auth::jwt("aaa.bbb.ccc")),
        (
            "diadoc",
            Auth::diadoc("client-id-1", Some("tok-diadoc-123".into())),
        ),
        ("metabase session", Auth::metabase_session("sess-123")),
        ("metabase api key", Auth::metabase_api_key("mb_key_123")),
    ];
    for (name, auth) in schemes {
        for status in [
            "301 Moved Permanently",
            "302 Found",
            "303 See Other",
            "307 Temporary Redirect",
            "308 Permanent Redirect",
        ] {
            let other = FaultServer::start(Arc::new(|_| ok("{}"))).await;
            let location = other.url("/collect");
            let first = FaultServer::start(Arc::new(move |_| {
                Action::Send(response(
                    status,
                    "text/plain",
                    b"",
                    &[("Location", location.clone())],
                ))
            }))
            .await;
            let client = Client::builder()
                .base_url(first.url("/"))
                .auth(auth.clone())
                .retry_policy(RetryPolicy::none())
                .build()
                .unwrap();
            let result = client.novaconnect().get_me().await;
            assert_eq!(
                other.hits(),
                0,
                "{name}, {status}: the other origin got {:?}",
                other.seen()
            );
            let e = result.expect_err("a cross-origin redirect is an error");
            assert_eq!(
                e.status().map(|s| s.as_u16()),
                status[..3].parse().ok(),
                "{name}: {e}"
            );
            assert_eq!(first.hits(), 1);
        }
    }
}

/// A redirect within the same origin is followed, credentials included.
#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn same_origin_redirects_are_followed() {
    let port = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&port);
    let server = FaultServer::start(Arc::new(move |n| match n {
        0 => {
            let location = format!("http://127.0.0.1:{}/moved", p.load(Ordering::SeqCst));
            Action::Send(response(
                "307 Temporary Redirect",
                "text/plain",
                b"",
                &[("Location", location)],
            ))
        }
        _ => ok(NOVA_OK),
    }))
    .await;
    port.store(server.port as usize, Ordering::SeqCst);
    let client = Client::builder()
        .base_url(server.url("/"))
        .auth(Auth::metabase_session("sess-123"))
        .build()
        .unwrap();
    client.novaconnect().get_me().await.expect("followed");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].head.starts_with("POST /moved "), "{}", seen[1].head);
    assert_eq!(seen[1].header("x-metabase-session").as_deref(), Some("sess-123"));
}

// ---------------------------------------------------------------------------------------------
// Token providers
// ---------------------------------------------------------------------------------------------

/// A provider that counts its calls and hands out `tok-<n>`; `refreshes` counts the calls
/// that asked for a fresh token.
#[cfg(feature = "novaconnect")]
fn counting_provider() -> (Auth, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let (c, r) = (Arc::clone(&calls), Arc::clone(&refreshes));
    let auth = Auth::provider(move |refresh| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        if refresh {
            r.fetch_add(1, Ordering::SeqCst);
        }
        async move { Ok(userapi::Secret::new(format!("tok-{n}"))) }
    });
    (auth, calls, refreshes)
}

#[cfg(feature = "novaconnect")]
fn unauthorized() -> Action {
    Action::Send(response(
        "401 Unauthorized",
        "application/json",
        br#"{"message":"token expired"}"#,
        &[],
    ))
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_401_leads_to_one_refresh_and_one_replay() {
    let server = FaultServer::start(Arc::new(|n| if n == 0 { unauthorized() } else { ok(NOVA_OK) })).await;
    let (auth, calls, refreshes) = counting_provider();
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    client.novaconnect().get_me().await.expect("the replay succeeds");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("authorization").as_deref(), Some("Bearer tok-0"));
    assert_eq!(seen[1].header("authorization").as_deref(), Some("Bearer tok-1"));
    assert_eq!(
        (calls.load(Ordering::SeqCst), refreshes.load(Ordering::SeqCst)),
        (2, 1)
    );
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_401_after_the_refresh_is_returned_not_looped() {
    let server = FaultServer::start(Arc::new(|_| unauthorized())).await;
    let (auth, calls, refreshes) = counting_provider();
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    let err = client.novaconnect().get_me().await.expect_err("still refused");
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.service_message(), Some("token expired"));
    assert_eq!(server.hits(), 2, "one request and one replay, no more");
    assert_eq!(
        (calls.load(Ordering::SeqCst), refreshes.load(Ordering::SeqCst)),
        (2, 1)
    );
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_401_on_a_write_is_not_replayed() {
    let server = FaultServer::start(Arc::new(|_| unauthorized())).await;
    let (auth, calls, _) = counting_provider();
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    let err = client
        .novaconnect()
        .change_password(&userapi::Secret::new("n3w-Secret"), &userapi::Secret::new("0ld"))
        .await
        .expect_err("refused");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.hits(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[cfg(feature = "novaconnect")]
#[tokio::test]
async fn a_failing_provider_is_an_auth_error_and_sends_nothing() {
    let server = FaultServer::start(Arc::new(|_| ok(NOVA_OK))).await;
    let auth = Auth::provider(|_| async { Err::<userapi::Secret, _>("vault unreachable".into()) });
    let client = Client::builder()
        .base_url(server.url("/api/"))
        .auth(auth)
        .build()
        .unwrap();
    let err = client.novaconnect().get_me().await.expect_err("no token");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("/api/user/get"), "{err}");
    assert_eq!(server.hits(), 0);
}

/// Credentials over plain HTTP go only to loopback unless the user opts in.
#[test]
fn plain_http_with_credentials_needs_loopback_or_an_opt_in() {
    let build = |url: &str, allow: bool| {
        Client::builder()
            .base_url(url)
            .auth(Auth::metabase_api_key("mb_key"))
            .allow_insecure_http(allow)
            .build()
    };
    assert!(matches!(
        build("http://metabase.example.com/", false),
        Err(Error::Config(_))
    ));
    assert!(build("http://metabase.example.com/", true).is_ok());
    assert!(build("http://127.0.0.1:3000/", false).is_ok());
    assert!(build("http://[::1]:3000/", false).is_ok());
    assert!(build("http://localhost:3000/", false).is_ok());
    assert!(build("https://metabase.example.com/", false).is_ok());
    // Without credentials there is nothing to protect.
    assert!(
        Client::builder()
            .base_url("http://metabase.example.com/")
            .build()
            .is_ok()
    );
}
