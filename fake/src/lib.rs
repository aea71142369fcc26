//! # userapi-fake
//!
//! Stateful fake servers for the services of [`userapi`]: NovaConnect, Kontur Diadoc, the
//! FastAPI rounds app, Metabase and Rightech IoT Cloud. Each is a real HTTP/1.1 server on
//! loopback that keeps its data in memory, checks credentials and answers in the service's
//! own shapes, so code that uses `userapi` can be tested without credentials or a network.
//!
//! Add it as a dev-dependency, with the services you test against:
//!
//! ```toml
//! [dev-dependencies]
//! userapi-fake = { version = "0.1", default-features = false, features = ["metabase"] }
//! ```
//!
//! Every fake is a [`Fake<S>`](Fake) of a [`Service`]; each service module names its own
//! (`metabase::FakeMetabase`, `novaconnect::FakeNovaConnect`, …). Around the service the
//! fake keeps a request log ([`Fake::received_requests`]), a fault queue
//! ([`Fake::fail_next`], [`Fake::delay_next`], [`Fake::drop_next`], [`Fake::inject`]) and
//! expectations ([`Fake::expect`]) checked when it is dropped:
//!
//! ```
//! # #[cfg(feature = "metabase")]
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::Method;
//! use userapi_fake::metabase::{FakeMetabase, USER_EMAIL};
//!
//! let fake = FakeMetabase::start().await?; // a real HTTP server on 127.0.0.1
//! fake.expect(Method::GET, "/api/user/current").times(1);
//! let me = fake.api()?.get_me().await?; // as the seeded admin
//! assert!(me.is_superuser.unwrap_or_default());
//! assert!(fake.add_session(USER_EMAIL).is_ok()); // the service's own helpers, through Deref
//! # Ok(()) }
//! # #[cfg(not(feature = "metabase"))] fn main() {}
//! ```
//!
//! The `userapi-fake` binary serves one fake until Ctrl-C, for clients not written in Rust:
//! `cargo run -p userapi-fake -- metabase --port 3000`; it also records and replays (below).
//!
//! # Recording and replay
//!
//! A [`Recorder`] (or `userapi-fake record --upstream URL --cassette FILE`) stands between a
//! client and a real server: it forwards every request and returns the answer unchanged,
//! writing each exchange to a [`Cassette`] file with every credential scrubbed. A [`Replay`]
//! (or `userapi-fake replay --cassette FILE [--strict] [--match …]`) serves the recorded
//! answers: a fake whose service is the cassette, with the same request log, faults and
//! expectations as the others.
//!
//! ```
//! # #[cfg(feature = "rightech")]
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::rightech::Rightech;
//! use userapi_fake::rightech::{FakeRightech, TOKEN};
//! use userapi_fake::{Cassette, Recorder, Replay};
//!
//! let server = FakeRightech::start().await?; // stands in for your real server
//! let path = std::env::temp_dir().join(format!("rightech-{}.json", std::process::id()));
//!
//! let recorder = Recorder::start(server.base_url(), &path).await?;
//! let api = Rightech::new(recorder.client_with(userapi::Auth::bearer(TOKEN))?);
//! let roles = api.list_roles(&userapi::rightech::ListRoles::new()).await?;
//! recorder.finish()?;
//! assert!(!std::fs::read_to_string(&path)?.contains(TOKEN)); // scrubbed
//!
//! let replay = Replay::builder(Cassette::load(&path)?).strict(true).start().await?;
//! let api = Rightech::new(replay.client_with(userapi::Auth::bearer("any token"))?);
//! assert_eq!(api.list_roles(&userapi::rightech::ListRoles::new()).await?, roles);
//! # std::fs::remove_file(&path)?;
//! # Ok(()) }
//! # #[cfg(not(feature = "rightech"))] fn main() {}
//! ```
//!
//! **Scrubbing** happens before anything reaches the disk ([`Secrets`]): the values of
//! credential headers (`Authorization` with each parameter of a scheme such as DiadocAuth,
//! `Cookie`, `Set-Cookie`, `X-API-Key`, `X-Metabase-Session`, …); secret fields of request
//! and response bodies and queries (passwords, tokens, session ids, API keys); and what each
//! service issues (a Metabase session id or API key, a Diadoc token, a Rightech token: each
//! service module's `recorded_secrets`). Each value found is then replaced wherever it
//! appears in the recording, in headers, paths, queries and bodies, in every spelling
//! `userapi` redacts ([`userapi::auth::spellings`]: raw, JSON-escaped, percent-encoded) and
//! inside JSON strings whatever their `\u` escapes, by a placeholder stable per secret
//! (`<redacted:1>`, `<redacted:2>`, …), so a login's answer still pairs with the calls that
//! send it back. A secret shorter than 8 bytes is replaced, outside the fields and headers
//! that hold it, only where no letter or digit touches it. A body that is compressed or
//! binary (stored as base64url) is searched byte for byte only; the recorder asks the
//! upstream for uncompressed answers.
//!
//! **Matching** ([`MatchOn`]): by method, path, query and body (JSON compared as values,
//! key order ignored) unless told otherwise; a placeholder in a recorded request matches any
//! text, and credentials are never compared. Repeated identical requests get the recorded
//! answers in order. A request that matches no unused exchange gets `404` with a JSON body:
//! `{"error", "request", "closest": {"entry", "request"}, "differences": [...], "match_on"}`.
//! Unused exchanges and unmatched requests are reported ([`ReplayReport`]) on drop, as a
//! panic when strict.
//!
//! **Bounds**: requests are read up to 1 MiB, answers up to [`MAX_RECORDED_BODY`] (16 MiB);
//! a larger answer is not recorded and the caller gets `502`. The whole recording is kept in
//! memory (scrubbed) and the file rewritten after each exchange.
//!
//! ## The cassette format
//!
//! A UTF-8 JSON file, pretty-printed, keys in a fixed order (struct fields in the order
//! below, maps sorted), so that a diff reads:
//!
//! ```json
//! {
//!   "format": "userapi-fake cassette",
//!   "version": 1,
//!   "upstream": "https://metabase.example.com/",
//!   "entries": [
//!     {
//!       "request": {
//!         "method": "POST",
//!         "path": "/api/session",
//!         "headers": {"content-type": ["application/json"]},
//!         "body": {"json": {"password": "<redacted:1>", "username": "ada@example.com"}}
//!       },
//!       "response": {
//!         "status": 200,
//!         "headers": {"content-type": ["application/json"]},
//!         "body": {"json": {"id": "<redacted:2>"}}
//!       }
//!     }
//!   ]
//! }
//! ```
//!
//! - `format` is always `"userapi-fake cassette"`; `version` is [`FORMAT_VERSION`] (1). A
//!   cassette of another version is refused with an error saying so, never half-read.
//! - `upstream` (optional, informational): the URL recorded from, without credentials.
//! - `entries`: one per exchange, in the order the answers arrived ([`Exchange`]).
//! - `request.path`: under the upstream's URL, as sent (percent-encoded); `query` as sent
//!   without `?` (left out when empty); `headers`: lower-case names, each with its list of
//!   values (left out when empty), without the connection's own headers and volatile ones
//!   (`Date`, `Server`, `ETag`, trace and request ids, …).
//! - `body` (left out when empty): `{"json": <value>}` for a body whose `Content-Type` is JSON
//!   and that parses (replayed as compact JSON), `{"text": "…"}` for other UTF-8,
//!   `{"base64url": "…"}` (unpadded) for anything else.
//! - Unknown fields are refused. A cassette that does not read gives an
//!   [`ErrorKind::Cassette`] error naming the entry (from 1) and the problem (`entry 3:
//!   response.status: …`), or, for text cut short, the line, column and entry where it
//!   stops; never a panic.
//!
//! The file is written atomically: to `.<name>.tmp-<pid>` beside it, synced, then renamed
//! into place, so it holds the previous cassette or a complete new one (a process killed
//! mid-write can leave the temporary file behind, never a broken cassette).
//!
//! # Features
//!
//! One per service, all on by default: `novaconnect`, `diadoc`, `rounds`, `metabase`,
//! `rightech`. The default also turns on `userapi/rustls`.
#![deny(missing_docs)]
// With only some services, helpers the others use (dates, base64url, the id counter) idle.
#![cfg_attr(
    not(all(
        feature = "novaconnect",
        feature = "diadoc",
        feature = "rounds",
        feature = "metabase",
        feature = "rightech"
    )),
    allow(dead_code, unused_imports, unused_macros)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cassette;
mod error;
mod expect;
mod fault;
mod log;
mod registry;
mod server;
mod service;
mod util;

#[cfg(feature = "diadoc")]
pub mod diadoc;
#[cfg(feature = "metabase")]
pub mod metabase;
#[cfg(feature = "novaconnect")]
pub mod novaconnect;
#[cfg(feature = "rightech")]
pub mod rightech;
#[cfg(feature = "rounds")]
pub mod rounds;

pub use cassette::{
    Body, Cassette, Exchange, FORMAT, FORMAT_VERSION, MAX_RECORDED_BODY, MatchOn, Matched,
    PLACEHOLDER_PREFIX, RecordedRequest, RecordedResponse, Recorder, RecorderBuilder, Replay, ReplayBuilder,
    ReplayReport, ReplayService, Secrets,
};
pub use error::{Error, ErrorKind};
pub use expect::{Expectation, Report, Times};
pub use registry::{RunningFake, SERVICES, ServiceEntry, Started};
pub use server::{
    Banner, DEFAULT_LOG_CAPACITY, Fake, FakeBuilder, Fault, ReceivedRequest, Request, Response, Service,
};
