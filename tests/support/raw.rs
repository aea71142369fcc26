//! One scripted raw TCP server, for what a well-behaved HTTP server cannot do: reset a
//! connection mid-body, stall before or after the headers, lie about the length, frame a body
//! in chunks of a chosen size, or answer as a proxy.
//!
//! It reads one request per connection (head and `Content-Length` body), logs the head,
//! counts connections and requests, and answers the `n`th request (0-based) as its script
//! says. It runs on a thread of its own with its own runtime, so it works from synchronous
//! tests too, never competes with the test's runtime, and its allocations happen on its own
//! thread (see `memory.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with the `n`th request (0-based) it reads.
#[derive(Clone)]
pub enum Action {
    /// Writes these bytes and closes the connection.
    Send(Vec<u8>),
    /// Writes each part on its own, flushed, 2 ms apart, and closes the connection.
    SendInWrites(Vec<Vec<u8>>),
    /// Writes these bytes, then resets the connection (RST, not FIN).
    SendThenReset(Vec<u8>),
    /// Writes these bytes, then keeps the connection open and silent.
    SendThenStall(Vec<u8>),
}

/// The server's answer to its `n`th request.
pub type Script = Arc<dyn Fn(usize) -> Action + Send + Sync>;

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub head: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.head, name)
    }
}

/// The value of header `name` in a request head.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

pub struct RawServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
    /// Dropping it stops the server and closes every connection it holds.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RawServer {
    /// Starts a server on `127.0.0.1` that answers as `script` says.
    pub async fn start(script: Script) -> RawServer {
        RawServer::spawn(script)
    }

    /// [`RawServer::start`] for a test without a runtime.
    pub fn spawn(script: Script) -> RawServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (log, accepted) = (Arc::clone(&seen), Arc::clone(&connections));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let count = Arc::new(AtomicUsize::new(0));
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            return;
                        };
                        accepted.fetch_add(1, Ordering::SeqCst);
                        let (script, log, count) =
                            (Arc::clone(&script), Arc::clone(&log), Arc::clone(&count));
                        tokio::spawn(serve(stream, script, log, count));
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        RawServer {
            port,
            seen,
            connections,
            _stop: stop,
        }
    }

    /// Keeps the server running until the test process ends; its port.
    pub fn leak(self) -> u16 {
        let port = self.port;
        std::mem::forget(self);
        port
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests read whole.
    pub fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Connections accepted, whether or not a request came on them.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
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
        Action::SendInWrites(parts) => {
            for part in parts {
                let _ = stream.write_all(&part).await;
                let _ = stream.flush().await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
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

/// A whole response with `Content-Length` and `Connection: close`.
pub fn response(status: &str, content_type: &str, body: &[u8], extra: &[(&str, String)]) -> Vec<u8> {
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

/// A 200 with this JSON body.
pub fn ok(body: &str) -> Action {
    Action::Send(response("200 OK", "application/json", body.as_bytes(), &[]))
}

/// Headers that promise `declared` bytes, followed by only `body`.
pub fn short_response(body: &[u8], declared: usize) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// `parts` framed as HTTP/1.1 chunks, one write each, then the last chunk.
pub fn chunked<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<Vec<u8>> {
    parts
        .into_iter()
        .map(|c| {
            let mut framed = format!("{:x}\r\n", c.len()).into_bytes();
            framed.extend_from_slice(c);
            framed.extend_from_slice(b"\r\n");
            framed
        })
        .chain([b"0\r\n\r\n".to_vec()])
        .collect()
}

/// A chunked response of `total` bytes of JSON-ish filler (rounded up to whole chunks of
/// 16 KiB), with no length announced.
pub fn chunked_response(total: usize) -> Vec<u8> {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    let filler = vec![b' '; 16 * 1024];
    let parts = std::iter::repeat_n(&filler[..], total.div_ceil(filler.len()));
    bytes.extend(chunked(parts).concat());
    bytes
}

/// A server that answers every request with `head` and then `chunks`, each written (and
/// flushed) on its own, for as long as the test process runs; its port.
pub fn raw_server(head: String, chunks: Vec<Vec<u8>>) -> u16 {
    let parts: Vec<Vec<u8>> = std::iter::once(head.into_bytes()).chain(chunks).collect();
    RawServer::spawn(Arc::new(move |_| Action::SendInWrites(parts.clone()))).leak()
}
