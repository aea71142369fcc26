//! [`Replay`]: a cassette served by the fakes' own server (request log, faults,
//! expectations).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::path::Path;
use std::sync::Mutex;

use bytes::Bytes;
use url::Url;
use userapi::reqwest::header::CONTENT_TYPE;
use userapi::{Auth, Client, StatusCode};

use super::matching::{MatchOn, compare};
use super::{Cassette, describe, header_map};
use crate::error::Error;
use crate::server::{Banner, DEFAULT_LOG_CAPACITY, Fake, Request, Response, Service};
use crate::util::lock;

/// A cassette as a [`Service`]: each request gets the recorded answer of the first unused
/// exchange that matches it. What [`Replay`] serves; reached through `Deref`.
#[derive(Debug)]
pub struct ReplayService {
    cassette: Cassette,
    match_on: MatchOn,
    state: Mutex<Played>,
}

#[derive(Debug, Default)]
struct Played {
    used: Vec<bool>,
    unmatched: Vec<String>,
}

impl ReplayService {
    fn new(cassette: Cassette, match_on: MatchOn) -> Self {
        let used = vec![false; cassette.entries.len()];
        ReplayService {
            cassette,
            match_on,
            state: Mutex::new(Played {
                used,
                unmatched: Vec::new(),
            }),
        }
    }

    /// The cassette it serves.
    pub fn cassette(&self) -> &Cassette {
        &self.cassette
    }

    /// What it matches on.
    pub fn match_on(&self) -> MatchOn {
        self.match_on
    }

    /// The exchanges no request has used, and the requests that matched none, so far.
    pub fn report(&self) -> ReplayReport {
        let state = lock(&self.state);
        let unused = state
            .used
            .iter()
            .enumerate()
            .filter(|(_, used)| !**used)
            .map(|(i, _)| (i + 1, self.cassette.entries[i].request.describe()))
            .collect();
        ReplayReport {
            unused,
            unmatched: state.unmatched.clone(),
        }
    }

    fn unmatched(&self, request: &Request) -> Response {
        let query = raw_query(request);
        let described = describe(request.method.as_str(), &request.path, &query);
        lock(&self.state).unmatched.push(described.clone());
        let closest = self
            .cassette
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, compare(self.match_on, request, &e.request)))
            .min_by_key(|(_, m)| m.score());
        let body = match closest {
            None => serde_json::json!({
                "error": "userapi-fake replay: no recorded request matches",
                "request": described,
                "closest": null,
                "differences": ["the cassette has no entries"],
            }),
            Some((i, matched)) => {
                let differences = if matched.is_match() {
                    let times = self
                        .cassette
                        .entries
                        .iter()
                        .filter(|e| compare(self.match_on, request, &e.request).is_match())
                        .count();
                    vec![format!(
                        "every recorded answer to this request was already used ({times} recorded)"
                    )]
                } else {
                    matched.differences
                };
                serde_json::json!({
                    "error": "userapi-fake replay: no recorded request matches",
                    "request": described,
                    "closest": {
                        "entry": i + 1,
                        "request": self.cassette.entries[i].request.describe(),
                    },
                    "differences": differences,
                    "match_on": self.match_on.to_string(),
                })
            }
        };
        Response::json(404, &body)
    }
}

fn raw_query(request: &Request) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&request.query)
        .finish()
}

impl Service for ReplayService {
    const NAME: &'static str = "replay";
    const TITLE: &'static str = "Replay";
    type Api = Client;

    /// An empty cassette: every request is unmatched.
    fn seeded() -> Self {
        ReplayService::new(Cassette::new(), MatchOn::DEFAULT)
    }

    fn handle(&self, request: &Request) -> Response {
        let found = {
            let mut state = lock(&self.state);
            let found = self
                .cassette
                .entries
                .iter()
                .enumerate()
                .find(|(i, e)| !state.used[*i] && compare(self.match_on, request, &e.request).is_match())
                .map(|(i, _)| i);
            if let Some(i) = found {
                state.used[i] = true;
            }
            found
        };
        let Some(i) = found else {
            return self.unmatched(request);
        };
        let recorded = &self.cassette.entries[i].response;
        // Both were checked when the cassette was read.
        let headers = header_map(&recorded.headers).unwrap_or_default();
        let body = recorded
            .body
            .as_ref()
            .and_then(|b| b.to_bytes())
            .unwrap_or_default();
        let mut response = Response::empty(200);
        response.status = StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers = headers;
        if response.headers.get(CONTENT_TYPE).is_none()
            && let Some(super::Body::Json(_)) = recorded.body
        {
            response
                .headers
                .insert(CONTENT_TYPE, "application/json".parse().expect("a valid header"));
        }
        response.body = Bytes::from(body);
        response
    }

    fn error_response(&self, status: StatusCode, message: &str) -> Response {
        Response::json(status.as_u16(), &serde_json::json!({"error": message}))
    }

    fn auth(&self) -> Result<Auth, Error> {
        Ok(Auth::none())
    }

    fn api(client: Client) -> Client {
        client
    }

    fn banner(&self, base_url: &Url) -> Banner {
        Banner::new(format!("curl -i {base_url}"))
            .credential("exchanges", self.cassette.entries.len().to_string())
            .credential("match on", self.match_on.to_string())
    }
}

/// What a replay saw unused and unmatched: from [`ReplayService::report`] (on a [`Replay`] through `Deref`), [`Replay::verify`], and
/// in the panic of a strict [`Replay`] dropped with either.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayReport {
    /// Exchanges no request used: (entry number from 1, `METHOD /path?query`).
    pub unused: Vec<(usize, String)>,
    /// Requests that matched no unused exchange, in arrival order (`METHOD /path?query`).
    pub unmatched: Vec<String>,
}

impl ReplayReport {
    /// Whether every exchange was used and every request matched.
    pub fn is_clean(&self) -> bool {
        self.unused.is_empty() && self.unmatched.is_empty()
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return f.write_str("replay: every exchange used, every request matched");
        }
        write!(
            f,
            "replay: {} unused exchange{}, {} unmatched request{}",
            self.unused.len(),
            if self.unused.len() == 1 { "" } else { "s" },
            self.unmatched.len(),
            if self.unmatched.len() == 1 { "" } else { "s" },
        )?;
        for (n, request) in &self.unused {
            write!(f, "\n  unused: entry {n}: {request}")?;
        }
        for request in &self.unmatched {
            write!(f, "\n  unmatched: {request}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ReplayReport {}

/// A cassette served on loopback: a [`Fake`] of [`ReplayService`], so it has the fakes'
/// request log, fault injection and expectations (through `Deref`). Point any client at
/// [`base_url`](Fake::base_url).
///
/// When dropped it reports the exchanges no request used and the requests that matched
/// nothing: on stderr, or, [`strict`](ReplayBuilder::strict), in a panic (unless the thread
/// is already panicking).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi_fake::{Cassette, Replay};
///
/// let cassette = Cassette::from_json(br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
///   {"request": {"method": "GET", "path": "/health"},
///    "response": {"status": 200, "body": {"json": {"ok": true}}}}]}"#)?;
/// let replay = Replay::builder(cassette).strict(true).start().await?;
/// let health: serde_json::Value = replay
///     .client()?
///     .request(userapi::Method::GET, &["health"])
///     .send()
///     .await?;
/// assert_eq!(health["ok"], true);
/// assert!(replay.report().is_clean());
/// # Ok(()) }
/// ```
pub struct Replay {
    fake: Fake<ReplayService>,
    strict: bool,
    reported: bool,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("addr", &self.fake.addr())
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

/// Starts a [`Replay`]: from [`Replay::builder`].
#[derive(Debug)]
#[must_use]
pub struct ReplayBuilder {
    cassette: Cassette,
    match_on: MatchOn,
    strict: bool,
    addr: SocketAddr,
    log_capacity: usize,
}

impl ReplayBuilder {
    /// What a request must share with a recorded one ([`MatchOn::DEFAULT`] otherwise).
    pub fn match_on(mut self, match_on: MatchOn) -> Self {
        self.match_on = match_on;
        self
    }

    /// Whether an unused exchange or an unmatched request fails the test: the replay panics
    /// with its [`ReplayReport`] when dropped. Off by default (the report goes to stderr).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Listens on `addr` instead of `127.0.0.1:0`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Keeps the last `capacity` requests in the log.
    pub fn log_capacity(mut self, capacity: usize) -> Self {
        self.log_capacity = capacity;
        self
    }

    /// Binds the address and serves the cassette until the replay is dropped. Needs a Tokio
    /// runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Bind`](crate::ErrorKind::Bind) when the address cannot be bound.
    pub async fn start(self) -> Result<Replay, Error> {
        let service = ReplayService::new(self.cassette, self.match_on);
        let fake = Fake::<ReplayService>::builder()
            .addr(self.addr)
            .log_capacity(self.log_capacity)
            .start_with(service)
            .await?;
        Ok(Replay {
            fake,
            strict: self.strict,
            reported: false,
        })
    }
}

impl Replay {
    /// A builder for `cassette`.
    pub fn builder(cassette: Cassette) -> ReplayBuilder {
        ReplayBuilder {
            cassette,
            match_on: MatchOn::DEFAULT,
            strict: false,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            log_capacity: DEFAULT_LOG_CAPACITY,
        }
    }

    /// Reads the cassette at `path` and serves it, not strict, matching on
    /// [`MatchOn::DEFAULT`].
    ///
    /// # Errors
    /// As [`Cassette::load`] and [`ReplayBuilder::start`].
    pub async fn start(path: impl AsRef<Path>) -> Result<Replay, Error> {
        Replay::builder(Cassette::load(path)?).start().await
    }

    /// Whether it is strict.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Checks the replay now: every exchange used, every request matched.
    ///
    /// # Errors
    /// The [`ReplayReport`] when not.
    pub fn verify(&self) -> Result<(), ReplayReport> {
        let report = self.fake.report();
        if report.is_clean() { Ok(()) } else { Err(report) }
    }
}

impl Replay {
    /// Stops the replay and returns its report, which it then neither prints nor panics
    /// with: for a caller that reports in its own way (the `userapi-fake` binary).
    pub fn into_report(mut self) -> ReplayReport {
        self.reported = true;
        self.fake.report()
    }
}

impl Deref for Replay {
    type Target = Fake<ReplayService>;

    fn deref(&self) -> &Fake<ReplayService> {
        &self.fake
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        if self.reported {
            return;
        }
        let Err(report) = self.verify() else {
            return;
        };
        if self.strict && !std::thread::panicking() {
            panic!("{report}");
        }
        eprintln!("userapi-fake: {report}");
    }
}
