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
//! `cargo run -p userapi-fake -- metabase --port 3000`.
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
    Body, Cassette, Exchange, FORMAT, FORMAT_VERSION, MAX_RECORDED_BODY, MatchOn, Matched, PLACEHOLDER_PREFIX,
    RecordedRequest, RecordedResponse, Recorder, RecorderBuilder, Replay, ReplayBuilder, ReplayReport,
    ReplayService, Secrets,
};
pub use error::{Error, ErrorKind};
pub use expect::{Expectation, Report, Times};
pub use registry::{RunningFake, SERVICES, ServiceEntry, Started};
pub use server::{
    Banner, DEFAULT_LOG_CAPACITY, Fake, FakeBuilder, Fault, ReceivedRequest, Request, Response, Service,
};
