//! [`Recorder`]: a loopback server that forwards every request to an upstream and writes
//! each exchange, scrubbed, to a cassette.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;
use userapi::reqwest;
use userapi::reqwest::header::{CONTENT_TYPE, HeaderMap};
use userapi::{Auth, BoxFuture, Client, StatusCode};

use super::scrub::{Raw, Scrubber, Secrets, is_volatile};
use super::{Body, Cassette, Exchange, RecordedRequest, RecordedResponse, write_atomically};
use crate::error::Error;
use crate::server::{DEFAULT_LOG_CAPACITY, Handler, Request, Response, listen};
use crate::util::lock;

/// The largest answer the recorder reads from its upstream (16 MiB): a larger one is not
/// recorded, and the caller gets `502` saying so. Requests are read up to 1 MiB (a larger
/// one gets `413`), as by every fake.
pub const MAX_RECORDED_BODY: usize = 16 * 1024 * 1024;

/// Headers not forwarded to the upstream: the connection's own, and `Accept-Encoding` (the
/// upstream answers uncompressed, so the recording can be read and scrubbed).
const NOT_FORWARDED: [&str; 9] = [
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "accept-encoding",
];

/// A recording in progress: a server on loopback that forwards every request to its
/// upstream (method, path under the upstream's URL, query, headers but the connection's own
/// and `Accept-Encoding`, body) and returns the upstream's answer unchanged, while writing
/// each exchange to the cassette file, scrubbed (see [`Secrets`]).
///
/// The cassette is written atomically after every exchange, before the answer goes back to
/// the caller: once a call returns, its exchange is on disk, and a recording stopped at any
/// moment (killed, a test that panicked) leaves the previous cassette or a complete new one.
/// Until the first exchange the previous cassette stays untouched; [`finish`](Self::finish)
/// writes the cassette even with no exchange.
///
/// TLS and proxies are those of `reqwest`, as the SDK's client uses it: rustls with the
/// system's roots by default, `HTTP(S)_PROXY` / `NO_PROXY` honoured, redirects not followed
/// (the caller gets them).
///
/// ```
/// # #[cfg(feature = "novaconnect")]
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi::Auth;
/// use userapi::novaconnect::NovaConnect;
/// use userapi_fake::Recorder;
/// use userapi_fake::novaconnect::{FakeNovaConnect, TOKEN};
///
/// let upstream = FakeNovaConnect::start().await?; // your real server in real life
/// let dir = std::env::temp_dir().join(format!("recorder-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("novaconnect.json");
///
/// let recorder = Recorder::start(upstream.base_url(), &path).await?;
/// let api = NovaConnect::new(recorder.client_with(Auth::bearer(TOKEN))?);
/// let me = api.get_me().await?;
/// assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
/// let cassette = recorder.finish()?;
/// assert_eq!(cassette.entries.len(), 1);
/// assert!(!std::fs::read_to_string(&path)?.contains(TOKEN));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// # #[cfg(not(feature = "novaconnect"))] fn main() {}
/// ```
pub struct Recorder {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    shared: Arc<Shared>,
    finished: bool,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("addr", &self.addr)
            .field("cassette", &self.shared.path)
            .finish_non_exhaustive()
    }
}

/// Starts a [`Recorder`]: from [`Recorder::builder`].
#[derive(Debug)]
#[must_use]
pub struct RecorderBuilder {
    upstream: Url,
    path: PathBuf,
    addr: SocketAddr,
    secrets: Secrets,
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    roots: Vec<reqwest::Certificate>,
}

impl RecorderBuilder {
    /// Listens on `addr` instead of `127.0.0.1:0`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// What to scrub: [`Secrets::known`] otherwise. Add to it rather than replace it
    /// (`Secrets::known().field("ssn")`), or lose the services' knowledge.
    pub fn secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    /// Trusts this root certificate too (an upstream with a private CA). With the `rustls`
    /// or `native-tls` feature.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub fn root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.roots.push(certificate);
        self
    }

    /// Binds the address and records until [`finish`](Recorder::finish) or drop. Needs a
    /// Tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Upstream`](crate::ErrorKind::Upstream) when the upstream URL is not an
    /// `http` or `https` URL with a host, or the HTTP client cannot be built;
    /// [`ErrorKind::Bind`](crate::ErrorKind::Bind) when the address cannot be bound.
    pub async fn start(self) -> Result<Recorder, Error> {
        let mut upstream = self.upstream;
        if !["http", "https"].contains(&upstream.scheme()) || upstream.host().is_none() {
            return Err(Error::upstream(format!(
                "the upstream must be an http or https URL with a host, not {:?}",
                upstream.scheme()
            )));
        }
        let mut scrubber = Scrubber::new(self.secrets);
        if let Some(password) = upstream.password() {
            scrubber.learn(&crate::server::percent_decode(password));
            scrubber.learn(password);
        }
        if !upstream.username().is_empty() {
            scrubber.learn(&crate::server::percent_decode(upstream.username()));
        }
        upstream.set_query(None);
        upstream.set_fragment(None);
        let mut shown = upstream.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .connect_timeout(Duration::from_secs(30));
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        let client = self
            .roots
            .into_iter()
            .fold(client, |client, root| client.add_root_certificate(root));
        let client = client
            .build()
            .map_err(|e| Error::upstream(format!("cannot build the HTTP client: {e}")))?;
        let shared = Arc::new(Shared {
            client,
            upstream,
            path: self.path,
            state: Mutex::new(Recording {
                scrubber,
                cassette: Cassette {
                    upstream: Some(shown.to_string()),
                    entries: Vec::new(),
                },
                learned_at_save: 0,
                written: false,
                error: None,
                stopped: false,
            }),
        });
        let handler: Arc<dyn Handler> = Arc::new(Forward(Arc::clone(&shared)));
        let listening = listen(self.addr, DEFAULT_LOG_CAPACITY, handler).await?;
        Ok(Recorder {
            addr: listening.addr,
            task: listening.task,
            shared,
            finished: false,
        })
    }
}

struct Shared {
    client: reqwest::Client,
    upstream: Url,
    path: PathBuf,
    state: Mutex<Recording>,
}

struct Recording {
    scrubber: Scrubber,
    cassette: Cassette,
    /// How many secrets the scrubber knew when the entries were last scrubbed as a whole.
    learned_at_save: usize,
    written: bool,
    error: Option<String>,
    /// Set by `finish` and drop: an exchange still in flight then is not recorded, so the
    /// file is not written after `finish` returned.
    stopped: bool,
}

impl Recording {
    /// Scrubs every entry again if a secret was learned since (a password sent now may have
    /// been echoed earlier), then writes the cassette.
    fn save(&mut self, path: &Path) -> Result<(), Error> {
        if self.scrubber.len() != self.learned_at_save {
            for entry in &mut self.cassette.entries {
                self.scrubber.exchange(entry);
            }
            self.learned_at_save = self.scrubber.len();
        }
        let result = write_atomically(path, &self.cassette.to_json());
        match &result {
            Ok(()) => {
                self.written = true;
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        result
    }
}

impl Recorder {
    /// A builder recording `upstream` into the cassette at `cassette`.
    pub fn builder(upstream: Url, cassette: impl Into<PathBuf>) -> RecorderBuilder {
        RecorderBuilder {
            upstream,
            path: cassette.into(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            secrets: Secrets::known(),
            #[cfg(any(feature = "rustls", feature = "native-tls"))]
            roots: Vec::new(),
        }
    }

    /// Records `upstream` into the cassette at `cassette`, on `127.0.0.1`, scrubbing
    /// [`Secrets::known`].
    ///
    /// # Errors
    /// As [`RecorderBuilder::start`].
    pub async fn start(upstream: Url, cassette: impl Into<PathBuf>) -> Result<Recorder, Error> {
        Recorder::builder(upstream, cassette).start().await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<address>/`: use it where the upstream's URL would go. A request to
    /// `<base_url>x/y` is forwarded to `<upstream>x/y`.
    pub fn base_url(&self) -> Url {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        Url::parse(&format!("http://{addr}/")).expect("a socket address always makes a URL")
    }

    /// A [`Client`] pointed at the recorder with these credentials.
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

    /// The cassette file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// How many exchanges it recorded so far.
    pub fn recorded(&self) -> usize {
        lock(&self.shared.state).cassette.entries.len()
    }

    /// How many distinct secrets it found so far (each has its placeholder).
    pub fn secrets_found(&self) -> usize {
        lock(&self.shared.state).scrubber.len()
    }

    /// The cassette as recorded so far (scrubbed with the secrets found so far).
    pub fn cassette(&self) -> Cassette {
        lock(&self.shared.state).cassette.clone()
    }

    /// Why the last write of the cassette failed, if it did.
    pub fn save_error(&self) -> Option<String> {
        lock(&self.shared.state).error.clone()
    }

    /// Stops recording, writes the cassette (even with no exchange) and returns it as
    /// written.
    ///
    /// # Errors
    /// [`ErrorKind::Cassette`](crate::ErrorKind::Cassette) when this or an earlier write of
    /// the cassette failed.
    pub fn finish(mut self) -> Result<Cassette, Error> {
        self.finished = true;
        self.task.abort();
        let mut state = lock(&self.shared.state);
        state.stopped = true;
        if let Some(problem) = state.error.take() {
            return Err(Error::cassette(
                format!("the recording was not saved: {problem}"),
                None,
            ));
        }
        state.save(&self.shared.path)?;
        Ok(state.cassette.clone())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
        if self.finished {
            return;
        }
        let mut state = lock(&self.shared.state);
        state.stopped = true;
        if let Some(problem) = &state.error {
            eprintln!("userapi-fake: the recording was not saved: {problem}");
        } else if state.written
            && let Err(e) = state.save(&self.shared.path)
        {
            eprintln!("userapi-fake: {e}");
        }
    }
}

/// The recorder's handler.
struct Forward(Arc<Shared>);

impl Handler for Forward {
    fn handle<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Response> {
        Box::pin(self.0.forward(request))
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        Response::text(status.as_u16(), message)
    }
}

fn bad_gateway(message: &str) -> Response {
    Response::text(502, &format!("userapi-fake record: {message}"))
}

impl Shared {
    async fn forward(&self, request: &Request) -> Response {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&request.query)
            .finish();
        let mut url = self.upstream.clone();
        let base = self.upstream.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{}", request.path));
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            if !NOT_FORWARDED.contains(&name.as_str()) {
                headers.append(name.clone(), value.clone());
            }
        }
        let sent = self
            .client
            .request(request.method.clone(), url)
            .headers(headers)
            .body(request.body.clone())
            .send()
            .await;
        let mut answer = match sent {
            Ok(answer) => answer,
            Err(e) => return bad_gateway(&format!("the upstream did not answer: {}", e.without_url())),
        };
        let (status, response_headers) = (answer.status(), answer.headers().clone());
        let mut body = Vec::new();
        loop {
            match answer.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > MAX_RECORDED_BODY => {
                    return bad_gateway(&format!(
                        "the upstream's answer is over {} MiB: not recorded",
                        MAX_RECORDED_BODY >> 20
                    ));
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    return bad_gateway(&format!("the upstream's answer broke off: {}", e.without_url()));
                }
            }
        }
        self.record(request, &query, status, &response_headers, &body);
        let mut response = Response::empty(200);
        response.status = status;
        for (name, value) in &response_headers {
            if !["connection", "keep-alive", "transfer-encoding", "content-length"].contains(&name.as_str()) {
                response.headers.append(name.clone(), value.clone());
            }
        }
        response.body = body.into();
        response
    }

    fn record(
        &self,
        request: &Request,
        query: &str,
        status: StatusCode,
        response_headers: &HeaderMap,
        body: &[u8],
    ) {
        let request_headers = pairs(&request.headers);
        let answer_headers = pairs(response_headers);
        let raw = Raw {
            method: request.method.as_str(),
            path: &request.path,
            query,
            request_headers: &request_headers,
            request_body: &request.body,
            status: status.as_u16(),
            response_headers: &answer_headers,
            response_body: body,
        };
        let content_type = |headers: &HeaderMap| {
            headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let mut exchange = Exchange {
            request: RecordedRequest {
                method: request.method.as_str().to_owned(),
                path: request.path.clone(),
                query: query.to_owned(),
                headers: kept(&request_headers),
                body: Body::from_bytes(&request.body, content_type(&request.headers).as_deref()),
            },
            response: RecordedResponse {
                status: status.as_u16(),
                headers: kept(&answer_headers),
                body: Body::from_bytes(body, content_type(response_headers).as_deref()),
            },
        };
        let mut state = lock(&self.state);
        if state.stopped {
            return;
        }
        state.scrubber.learn_from(&raw);
        state.scrubber.exchange(&mut exchange);
        state.cassette.entries.push(exchange);
        // An error is kept for `finish` and the binary; the caller still gets its answer.
        let _ = state.save(&self.path);
    }
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn kept(headers: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if !is_volatile(name) {
            out.entry(name.clone()).or_default().push(value.clone());
        }
    }
    out
}
