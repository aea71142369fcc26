//! The HTTP server every fake runs on: [`Fake`], its request log and its fault queue.
//!
//! A [`Fake<S>`](Fake) is a real HTTP/1.1 server (by default on `127.0.0.1` with a port the
//! system picks) that hands each request to a [`Service`] and stops when dropped. Around the
//! service it keeps:
//!
//! - **a request log**: every request served, with its method, path, decoded segments and
//!   query, headers and body, and the status answered ([`ReceivedRequest`]); bounded to the
//!   last [`DEFAULT_LOG_CAPACITY`] requests (and 64 MiB of bodies), the rest only counted;
//! - **fault injection**: a queue of [`Fault`]s that the next requests take in order, one
//!   each (or only the requests a test picks): an error status with a body in the service's
//!   own error shape, a response of your own, an answer held back for a while, or a
//!   connection closed without an answer (the methods are in `fault.rs`);
//! - **expectations** ([`Fake::expect`]): checked when the fake is dropped.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use url::Url;

use userapi::{Auth, BoxFuture, Client, Method, StatusCode};

use crate::error::Error;
use crate::expect::{Expectation, Expectations, Report, Times};
pub use crate::fault::Fault;
use crate::fault::FaultQueue;
pub use crate::log::DEFAULT_LOG_CAPACITY;
pub use crate::log::ReceivedRequest;
pub(crate) use crate::log::RequestLog;
pub use crate::service::{Banner, Request, Response, Service};
pub(crate) use crate::util::lock;

/// Largest request body a fake reads.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The log, the fault queue and the expectations of one server.
#[derive(Debug)]
pub(crate) struct Control {
    log: RequestLog,
    /// Read and changed by the fault methods of [`Fake`] (in `fault.rs`).
    pub(crate) faults: FaultQueue,
    expectations: Expectations,
}

/// A running fake of the service `S`: an HTTP server on loopback with the service's state, a
/// request log, a fault queue and expectations. Dropping it stops the server, closes its
/// connections and checks the expectations (see [`expect`](Self::expect)).
///
/// It derefs to `S`, so the service's own helpers are methods of the fake
/// (`fake.last_reset_token()` on a Metabase fake).
///
/// ```
/// # #[cfg(feature = "novaconnect")]
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi_fake::novaconnect::FakeNovaConnect;
/// use userapi::{Method, StatusCode};
///
/// let fake = FakeNovaConnect::start().await?;
/// fake.fail_next(1, 503); // the first request gets 503; the call is retried
/// let me = fake.api()?.get_me().await?;
/// assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
///
/// let log = fake.received_requests();
/// assert_eq!(log.len(), 2);
/// assert_eq!(log[0].status, Some(StatusCode::SERVICE_UNAVAILABLE));
/// assert_eq!((&log[1].method, log[1].path.as_str()), (&Method::POST, "/api/user/get"));
/// # Ok(()) }
/// # #[cfg(not(feature = "novaconnect"))] fn main() {}
/// ```
pub struct Fake<S: Service> {
    addr: SocketAddr,
    control: Arc<Mutex<Control>>,
    service: Arc<S>,
    task: tokio::task::JoinHandle<()>,
}

impl<S: Service> fmt::Debug for Fake<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fake")
            .field("service", &S::NAME)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts a [`Fake`] with settings: from [`Fake::builder`]. A service may add settings of
/// its own (the Metabase fake: the version and edition it emulates).
#[derive(Clone)]
#[must_use]
pub struct FakeBuilder<S: Service> {
    addr: SocketAddr,
    log_capacity: usize,
    service: Arc<dyn Fn() -> S + Send + Sync>,
}

impl<S: Service> fmt::Debug for FakeBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeBuilder")
            .field("service", &S::NAME)
            .field("addr", &self.addr)
            .field("log_capacity", &self.log_capacity)
            .finish_non_exhaustive()
    }
}

impl<S: Service> FakeBuilder<S> {
    /// The service's own settings: `change` runs on the seeded service before it serves.
    #[cfg_attr(not(feature = "metabase"), allow(dead_code))]
    pub(crate) fn map_service(self, change: impl Fn(S) -> S + Send + Sync + 'static) -> Self {
        let make = self.service;
        FakeBuilder {
            addr: self.addr,
            log_capacity: self.log_capacity,
            service: Arc::new(move || change(make())),
        }
    }

    /// Listens on `addr` (port 0: one the system picks) instead of `127.0.0.1:0`, e.g. a
    /// fixed port for a client that is not in Rust.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Keeps the last `capacity` requests in the log ([`DEFAULT_LOG_CAPACITY`] otherwise).
    pub fn log_capacity(mut self, capacity: usize) -> Self {
        self.log_capacity = capacity;
        self
    }

    /// Binds the address and serves the seeded service until the fake is dropped. Needs a
    /// Tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Bind`](crate::ErrorKind::Bind) when the address cannot be bound (in use,
    /// not an address of this machine, a privileged port).
    pub async fn start(self) -> Result<Fake<S>, Error> {
        let service = (self.service)();
        self.start_with(service).await
    }

    /// As [`start`](Self::start), serving `service` instead of the seeded one.
    pub(crate) async fn start_with(self, service: S) -> Result<Fake<S>, Error> {
        let service = Arc::new(service);
        let handler: Arc<dyn Handler> = service.clone();
        let Listening { addr, control, task } = listen(self.addr, self.log_capacity, handler).await?;
        Ok(Fake {
            addr,
            control,
            service,
            task,
        })
    }
}

/// A server started by [`listen`].
pub(crate) struct Listening {
    pub(crate) addr: SocketAddr,
    control: Arc<Mutex<Control>>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

/// Binds `addr` and serves `handler` (with a request log and a fault queue) until the task
/// is aborted: the machinery of every [`Fake`], and of servers that are not a [`Service`].
pub(crate) async fn listen(
    addr: SocketAddr,
    log_capacity: usize,
    handler: Arc<dyn Handler>,
) -> Result<Listening, Error> {
    let listener = TcpListener::bind(addr).await.map_err(|e| Error::bind(addr, e))?;
    let addr = listener.local_addr().map_err(|e| Error::bind(addr, e))?;
    let control = Arc::new(Mutex::new(Control {
        log: RequestLog::new(log_capacity),
        faults: FaultQueue::default(),
        expectations: Expectations::default(),
    }));
    let shared = Arc::clone(&control);
    let task = tokio::spawn(async move {
        // Connections live in this set, so aborting the accept task closes them all.
        let mut connections = JoinSet::new();
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            let handler = Arc::clone(&handler);
            let control = Arc::clone(&shared);
            connections.spawn(async move {
                let service = service_fn(move |req| serve(Arc::clone(&handler), Arc::clone(&control), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Listening { addr, control, task })
}

/// What the server calls: the object-safe part of [`Service`], or a handler that answers
/// asynchronously (the recorder, which waits on its upstream).
pub(crate) trait Handler: Send + Sync + 'static {
    fn handle<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Response>;
    fn error_response(&self, status: StatusCode, message: &str) -> Response;
}

impl<S: Service> Handler for S {
    fn handle<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Response> {
        Box::pin(std::future::ready(Service::handle(self, request)))
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        Service::error_response(self, status, message)
    }
}

impl<S: Service> Fake<S> {
    /// Starts the seeded service on `127.0.0.1`, on a port the system picks. Needs a Tokio
    /// runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Bind`](crate::ErrorKind::Bind) when no loopback port can be bound.
    pub async fn start() -> Result<Self, Error> {
        Self::builder().start().await
    }

    /// A builder: another address, another log capacity.
    ///
    /// ```
    /// # #[cfg(feature = "novaconnect")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), userapi_fake::Error> {
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    ///
    /// let fake = FakeNovaConnect::builder()
    ///     .addr("127.0.0.1:0".parse().unwrap())
    ///     .log_capacity(10)
    ///     .start()
    ///     .await?;
    /// assert_eq!(fake.base_url().path(), "/api/");
    /// assert_eq!(fake.base_url().port(), Some(fake.addr().port()));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "novaconnect"))] fn main() {}
    /// ```
    pub fn builder() -> FakeBuilder<S> {
        FakeBuilder {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            log_capacity: DEFAULT_LOG_CAPACITY,
            service: Arc::new(S::seeded),
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<address>/` followed by `path`. A server listening on every address
    /// (`0.0.0.0`, `::`) is reached on loopback.
    pub fn url(&self, path: &str) -> Url {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        let base = format!("http://{addr}/{}", path.trim_start_matches('/'));
        Url::parse(&base).expect("a socket address always makes a URL")
    }

    /// The base URL of the API: `http://127.0.0.1:<port>/` and the service's
    /// [`base_path`](Service::base_path) (`/api/` for NovaConnect).
    pub fn base_url(&self) -> Url {
        self.url(S::base_path())
    }

    /// The service itself (also reached through `Deref`).
    pub fn service(&self) -> &S {
        &self.service
    }

    /// A [`Client`] pointed at this fake with the seeded user's credentials.
    ///
    /// # Errors
    /// [`ErrorKind::Client`](crate::ErrorKind::Client) when the client cannot be built;
    /// [`ErrorKind::Seed`](crate::ErrorKind::Seed) when the fake cannot make the credentials.
    pub fn client(&self) -> Result<Client, Error> {
        self.client_with(self.service.auth()?)
    }

    /// A [`Client`] pointed at this fake with any credentials ([`Auth::none()`] included).
    ///
    /// # Errors
    /// [`ErrorKind::Client`](crate::ErrorKind::Client) when `auth` holds a value that cannot
    /// go in a header.
    pub fn client_with(&self, auth: Auth) -> Result<Client, Error> {
        Client::builder()
            .base_url(self.base_url())
            .auth(auth)
            .build()
            .map_err(Error::client)
    }

    /// The service's handle pointed at this fake as the seeded user.
    ///
    /// # Errors
    /// As [`client`](Self::client).
    pub fn api(&self) -> Result<S::Api, Error> {
        self.client().map(S::api)
    }

    /// The service's handle pointed at this fake with any credentials.
    ///
    /// # Errors
    /// As [`client_with`](Self::client_with).
    pub fn api_with(&self, auth: Auth) -> Result<S::Api, Error> {
        self.client_with(auth).map(S::api)
    }

    pub(crate) fn control(&self) -> MutexGuard<'_, Control> {
        lock(&self.control)
    }

    /// The requests received, oldest first: the last [`log_capacity`](Self::log_capacity)
    /// ones (fewer if their bodies pass 64 MiB), each as it arrived, with the status it was
    /// answered and the fault it took. A request is in the log before its answer leaves, so
    /// once a call returns, all its requests are here.
    ///
    /// ```
    /// # #[cfg(feature = "rounds")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rounds::{RoundRole, UserUpdate};
    /// use userapi::{Method, StatusCode};
    /// use userapi_fake::rounds::FakeRounds;
    ///
    /// let fake = FakeRounds::start().await?;
    /// let rounds = fake.api()?;
    /// rounds.list_rounds(RoundRole::Owner).await?;
    /// rounds.update_me(&UserUpdate::new().first_name("Aruzhan")).await?;
    ///
    /// let log = fake.received_requests();
    /// assert_eq!((&log[0].method, log[0].path.as_str()), (&Method::GET, "/users/rounds"));
    /// assert_eq!(log[0].query("as_owner"), Some("true"));
    /// assert_eq!(log[1].method, Method::PATCH);
    /// let body: serde_json::Value = log[1].json().unwrap();
    /// assert_eq!(body, serde_json::json!({"first_name": "Aruzhan"}));
    /// assert_eq!(log[1].status, Some(StatusCode::OK));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "rounds"))] fn main() {}
    /// ```
    pub fn received_requests(&self) -> Vec<ReceivedRequest> {
        self.control().log.entries.iter().cloned().collect()
    }

    /// How many requests were received since the start or the last
    /// [`clear_requests`](Self::clear_requests), those no longer in the log included.
    pub fn request_count(&self) -> u64 {
        self.control().log.count()
    }

    /// Empties the log and restarts [`request_count`](Self::request_count) from 0: to look
    /// at what one step of a test sent, after setting things up through the API.
    ///
    /// ```
    /// # #[cfg(feature = "metabase")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewUser;
    /// use userapi_fake::metabase::FakeMetabase;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let metabase = fake.api()?;
    /// let ada = metabase.create_user(&NewUser::new("ada@example.com")).await?;
    /// fake.clear_requests();
    /// metabase.get_user(&ada.id).await?;
    /// assert_eq!(fake.request_count(), 1);
    /// assert_eq!(fake.received_requests()[0].path, format!("/api/user/{}", ada.id));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "metabase"))] fn main() {}
    /// ```
    pub fn clear_requests(&self) {
        self.control().log.clear();
    }

    /// How many requests the log keeps ([`DEFAULT_LOG_CAPACITY`] at first).
    pub fn log_capacity(&self) -> usize {
        self.control().log.capacity
    }

    /// Keeps only the last `capacity` requests from now on (0: none, only the count).
    ///
    /// ```
    /// # #[cfg(feature = "novaconnect")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    ///
    /// let fake = FakeNovaConnect::start().await?;
    /// fake.set_log_capacity(1);
    /// let api = fake.api()?;
    /// api.get_me().await?;
    /// api.get_me().await?;
    /// let log = fake.received_requests();
    /// assert_eq!((log.len(), log[0].seq, fake.request_count()), (1, 1, 2));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "novaconnect"))] fn main() {}
    /// ```
    pub fn set_log_capacity(&self, capacity: usize) {
        let mut control = self.control();
        control.log.capacity = capacity;
        control.log.trim();
    }

    /// Expects requests with this method and path (as sent, percent-encoded, without the
    /// query): at least one unless [`times`](Expectation::times) says otherwise. Checked by
    /// [`verify`](Self::verify) and when the fake is dropped, which panics with a report if
    /// an expectation was not met (unless the thread is already panicking).
    ///
    /// Only requests received after the call count.
    ///
    /// ```
    /// # #[cfg(feature = "metabase")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::Method;
    /// use userapi_fake::metabase::FakeMetabase;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// fake.expect(Method::GET, "/api/user/current").times(1);
    /// fake.expect(Method::DELETE, "/api/session").times(0);
    /// fake.api()?.get_me().await?;
    /// fake.verify()?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "metabase"))] fn main() {}
    /// ```
    pub fn expect(&self, method: Method, path: &str) -> Expectation {
        let description = format!("{method} {path}");
        let path = path.to_owned();
        self.expect_that(description, move |r: &Request| {
            r.method == method && r.path == path
        })
    }

    /// Expects requests `matches` accepts, described in reports as `description`: at least
    /// one unless [`times`](Expectation::times) says otherwise.
    /// `matches` runs under the fake's own lock, so it must not call the fake.
    ///
    /// ```
    /// # #[cfg(feature = "novaconnect")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::Request;
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    ///
    /// let fake = FakeNovaConnect::start().await?;
    /// fake.expect_that("a POST with a JSON body", |r: &Request| {
    ///     r.json::<serde_json::Value>().is_ok()
    /// })
    /// .times(1..=3);
    /// fake.api()?.get_me().await?;
    /// fake.verify()?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "novaconnect"))] fn main() {}
    /// ```
    pub fn expect_that(
        &self,
        description: impl Into<String>,
        matches: impl Fn(&Request) -> bool + Send + Sync + 'static,
    ) -> Expectation {
        self.control()
            .expectations
            .add(description.into(), Box::new(matches), Times::AT_LEAST_ONCE)
    }

    /// Removes every expectation: nothing is checked on drop unless added again.
    pub fn clear_expectations(&self) {
        self.control().expectations.clear();
    }

    /// Checks every expectation now.
    ///
    /// # Errors
    /// A [`Report`] naming each expectation not met, how many matching requests arrived,
    /// and the requests the fake received.
    pub fn verify(&self) -> Result<(), Report> {
        let control = self.control();
        control.expectations.verify(S::TITLE, control.log.entries.iter())
    }
}

impl<S: Service> Deref for Fake<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.service
    }
}

impl<S: Service> Drop for Fake<S> {
    fn drop(&mut self) {
        self.task.abort();
        if std::thread::panicking() {
            return;
        }
        if let Err(report) = self.verify() {
            panic!("{report}");
        }
    }
}

/// Why a connection was closed without an answer.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the fake dropped the connection, as a fault asked")
    }
}

impl std::error::Error for Dropped {}

async fn serve(
    handler: Arc<dyn Handler>,
    control: Arc<Mutex<Control>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => (collected.to_bytes(), false),
        Err(_) => (Bytes::new(), true),
    };
    let path = parts.uri.path().to_owned();
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let query = parts
        .uri
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let request = Request {
        method: parts.method,
        path,
        segments,
        query,
        headers: parts.headers,
        body,
    };
    // The number and the fault are taken together, so faults go to requests in arrival order
    // (each to the first request it applies to).
    let (seq, fault) = {
        let mut control = lock(&control);
        let seq = control.log.take_seq();
        let fault = if too_large {
            None
        } else {
            control.faults.take_for(&request)
        };
        (seq, fault)
    };
    // A service's handler runs synchronously under its own lock; it never waits on the
    // network (the recorder's does, holding no lock of the server's).
    let response = match &fault {
        _ if too_large => Some(Response::text(413, "request body too large")),
        Some(Fault::Status(status)) => {
            let reason = status.canonical_reason().unwrap_or("");
            let message = format!("{} {reason} (injected by the test)", status.as_str());
            Some(handler.error_response(*status, message.trim_end()))
        }
        Some(Fault::Respond(response)) => Some(response.clone()),
        Some(Fault::Drop) => None,
        Some(Fault::Delay(_)) | None => Some(handler.handle(&request).await),
    };
    let delay = match &fault {
        Some(Fault::Delay(d)) => Some(*d),
        _ => None,
    };
    {
        let mut guard = lock(&control);
        guard.expectations.record(&request);
        guard.log.push(ReceivedRequest {
            seq,
            request,
            status: response.as_ref().map(|r| r.status),
            fault,
        });
    }
    let Some(response) = response else {
        return Err(Dropped);
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Ok(into_hyper(response))
}

fn into_hyper(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(r.body));
    *response.status_mut() = r.status;
    *response.headers_mut() = r.headers;
    response
}

/// Decodes `%XX` escapes; invalid escapes stay as they are.
pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request refused on the way to its route (bad credentials, a wrong method): the answer
/// to send instead.
pub(crate) type Refused<T> = std::result::Result<T, Box<Response>>;

/// A fake's state: its data behind a lock, and a counter for the ids it makes up. Each
/// service's fake keeps one.
#[derive(Debug)]
pub(crate) struct State<T> {
    inner: Mutex<T>,
    next: AtomicU64,
}

impl<T> State<T> {
    /// `data`, with the id counter at 1.
    pub(crate) fn new(data: T) -> Self {
        State {
            inner: Mutex::new(data),
            next: AtomicU64::new(1),
        }
    }

    /// The data (see [`lock`]).
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        lock(&self.inner)
    }

    /// 1, 2, 3, …: for ids in the shape each service makes them.
    pub(crate) fn next_number(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("%D1%8F"), "я");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[test]
    fn a_trailing_escape_is_decoded() {
        assert_eq!(percent_decode("a%2F"), "a/");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("%D1%8F%2E"), "я.");
    }
}
