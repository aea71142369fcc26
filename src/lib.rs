//! # userapi
//!
//! Typed, async clients for the user-account APIs of five services:
//!
//! | module | service | feature |
//! |---|---|---|
//! | [`novaconnect`] | NovaConnect (`user/get`, `user/edit`, `user/password`) | `novaconnect` |
//! | [`diadoc`] | Kontur Diadoc (`GetMyUser`, `UpdateMyUser`, `GetMyOrganizations`, `GetMyEmployee`, `Authenticate`) | `diadoc` |
//! | [`rounds`] | the FastAPI rounds app (`/users/me`, `/users/{id}`, `/users/rounds`) | `rounds` |
//! | [`metabase`] | Metabase (`/api/user`, `/api/session` and password resets, `/api/api-key`, login history, key-value store) | `metabase` |
//! | [`rightech`] | Rightech IoT Cloud (`/api/v1/users` CRUD, `/api/v1/users/tokens`, `/api/v1/roles`) | `rightech` |
//!
//! One [`Client`] holds the base URL, the credentials ([`Auth`]) and the transport settings
//! (timeouts, [`RetryPolicy`], limits, its own connection pool). Each service module wraps it
//! in a handle (`client.metabase()`, or `Metabase::with_token(base_url, key)`) and offers the
//! same verbs, with the same shape wherever a service has them:
//!
//! | verb | shape | novaconnect | diadoc | rounds | metabase | rightech |
//! |---|---|---|---|---|---|---|
//! | `get_me` | `() -> User` | ✓ | ✓ (`UserV2`) | ✓ | ✓ | — |
//! | `update_me` | `(&Update) -> User` | ✓ (`UserEdit`) | ✓ (`UserToUpdate`) | ✓ (`UserUpdate`) | — | — |
//! | `get_user` | `(&UserId) -> User` | — | — | ✓ | ✓ | ✓ |
//! | `list_users` | `(&ListUsers) -> one page` | — | — | — | ✓ | ✓ |
//! | `users` | `(ListUsers) -> Pager<User>` | — | — | — | ✓ | ✓ |
//! | `create_user` | `(&NewUser) -> User` | — | — | — | ✓ | ✓ |
//! | `update_user` | `(&UserId, &UserUpdate) -> User` | — | — | — | ✓ | ✓ |
//! | `deactivate_user`, `reactivate_user` | `(&UserId)` | — | — | — | ✓ | — |
//! | `delete_user` | `(&UserId)` | — | — | — | — | ✓ |
//! | `change_password` | `([&UserId,] &PasswordChange)` | ✓ | — | — | ✓ (with the id) | — |
//! | `login` (installs what it gets) | `(&str, &Password) -> SessionId / Token` | — | ✓ (`Token`) | — | ✓ (`SessionId`) | — |
//!
//! Ids are typed per service (a Metabase [`metabase::UserId`] is never 0, a rounds
//! [`rounds::UserId`] is never `me`), secrets per role ([`auth::Password`],
//! [`auth::ResetToken`], …), so arguments cannot be swapped. Each service keeps its own names
//! where its documents use them (Diadoc's `UserToUpdate` and `UserV2`). The table is compiled:
//!
//! ```no_run
//! # #[cfg(all(feature = "novaconnect", feature = "diadoc", feature = "rounds", feature = "metabase", feature = "rightech"))]
//! # async fn verbs(
//! #     nova: userapi::novaconnect::NovaConnect,
//! #     diadoc: userapi::diadoc::Diadoc,
//! #     rounds: userapi::rounds::Rounds,
//! #     metabase: userapi::metabase::Metabase,
//! #     rightech: userapi::rightech::Rightech,
//! # ) -> userapi::Result<()> {
//! use userapi::auth::Password;
//! use userapi::models::PasswordChange;
//! use userapi::{diadoc, metabase, novaconnect, rightech, rounds};
//!
//! let change = PasswordChange::new("N3w-pass-word").current("0ld-pass-word");
//! let password = Password::new("pass-w0rd");
//!
//! // get_me
//! let _: novaconnect::User = nova.get_me().await?;
//! let _: diadoc::UserV2 = diadoc.get_me().await?;
//! let _: rounds::User = rounds.get_me().await?;
//! let _: metabase::User = metabase.get_me().await?;
//! // update_me
//! let _: novaconnect::User = nova.update_me(&novaconnect::UserEdit::new()).await?;
//! let _: diadoc::UserV2 = diadoc.update_me(&diadoc::UserToUpdate::new()).await?;
//! let _: rounds::User = rounds.update_me(&rounds::UserUpdate::new()).await?;
//! // get_user
//! let _: rounds::User = rounds.get_user(&rounds::UserId::new("u1")?).await?;
//! let mb_id = metabase::UserId::try_from(1)?;
//! let _: metabase::User = metabase.get_user(&mb_id).await?;
//! let rt_id = rightech::UserId::new("5d8a18d5d0025e0012fb6a34")?;
//! let _: rightech::User = rightech.get_user(&rt_id).await?;
//! // list_users and users
//! let _: metabase::UserList = metabase.list_users(&metabase::ListUsers::new()).await?;
//! let _: Vec<rightech::User> = rightech.list_users(&rightech::ListUsers::new()).await?;
//! let _: userapi::Pager<metabase::User> = metabase.users(metabase::ListUsers::new());
//! let _: userapi::Pager<rightech::User> = rightech.users(rightech::ListUsers::new());
//! // create_user, update_user
//! let _: metabase::User = metabase.create_user(&metabase::NewUser::new("ada@example.com")).await?;
//! let _: metabase::User = metabase.update_user(&mb_id, &metabase::UserUpdate::new()).await?;
//! let _: rightech::User = rightech.update_user(&rt_id, &rightech::UserUpdate::new()).await?;
//! // deactivate / reactivate (Metabase), delete (Rightech)
//! let _: () = metabase.deactivate_user(&mb_id).await?;
//! let _: metabase::User = metabase.reactivate_user(&mb_id).await?;
//! let _: () = rightech.delete_user(&rt_id).await?;
//! // change_password
//! let _: novaconnect::User = nova.change_password(&change).await?;
//! let _: metabase::PasswordChanged = metabase.change_password(&mb_id, &change).await?;
//! // login, which installs the session or token on the client and its clones
//! let _: userapi::auth::SessionId = metabase.login("ada@example.com", &password).await?;
//! let _: userapi::auth::Token = diadoc.login("ada", &password).await?;
//! # Ok(()) }
//! ```
//!
//! Every call goes through one pipeline that percent-encodes path segments, sends JSON,
//! retries only operations that are safe to repeat, caps response sizes, and turns every
//! failure into one [`Error`] that names the method and path and keeps the server's words.
//! Secrets live in [`Secret`] and its role types, whose `Debug` and `Display` never show them.
//!
//! The core ([`auth`], the client, the pipeline, [`Error`], [`models`]) knows no service:
//! credentials come from an open [`CredentialSource`] (services add theirs:
//! `metabase::auth::login`, `diadoc::auth::diadoc_auth`, …), and each service describes itself
//! once (its error shapes, its handle). [`env::EnvCredentials`] reads a service's credentials
//! from `<SERVICE>_TOKEN`, `<SERVICE>_BASE_URL` and the like, as the examples do.
//!
//! Each service also has a stateful fake server on loopback, in the `userapi-fake` crate (a
//! dev-dependency), for testing code that uses this crate without credentials.
//!
//! # Quick start
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi::{Auth, Client};
//!
//! let client = Client::builder()
//!     .base_url("https://api.novaconnect.kz/api/")
//!     .auth(Auth::bearer(std::env::var("NOVACONNECT_TOKEN").unwrap_or_default()))
//!     .build()?;
//! let me = client.novaconnect().get_me().await?;
//! println!("{} {}", me.first_name.unwrap_or_default(), me.last_name.unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! The same against a fake from the `userapi-fake` crate, as a test of your own code would
//! run it:
//!
//! ```
//! # #[cfg(feature = "novaconnect")]
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use userapi_fake::novaconnect::FakeNovaConnect;
//!
//! let fake = FakeNovaConnect::start().await?; // a real HTTP server on 127.0.0.1
//! let me = fake.api()?.get_me().await?;
//! assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
//! # Ok(()) }
//! # #[cfg(not(feature = "novaconnect"))] fn main() {}
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | TLS through rustls |
//! | `native-tls` | no | TLS through the platform's library (OpenSSL on Linux); with both, pick one with [`ClientBuilder::tls_backend`] |
//! | `gzip` | yes | `Accept-Encoding: gzip` and decompression; the body cap counts decompressed bytes |
//! | `novaconnect`, `diadoc`, `rounds`, `metabase`, `rightech` | yes | one module per service |
//! | `tracing` | no | a `userapi.request` span per call with OpenTelemetry's HTTP client fields (`http.request.method`, `url.template`, `http.response.status_code`, `server.address`, `server.port`, `error.type`) and `userapi.operation`, `userapi.attempts`; never credentials, ids or bodies |
//! | `metrics` | no | [`observe`]'s instruments through the `metrics` facade: `http.client.request.duration` (seconds) and `userapi.client.attempts`, labelled by operation, method, route template and status class |
//! | `chrono`, `time`, `jiff` | no | [`models::Timestamp`] conversions into those crates' types |
//!
//! Without `rustls` or `native-tls` only `http://` base URLs can be used: `https://` is refused
//! by [`ClientBuilder::build`].
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod client;
pub mod env;
mod error;
mod http;
mod limit;
pub mod models;
pub mod observe;
pub mod pager;
#[cfg(test)]
mod properties;
mod retry;
mod time;
mod tls;

#[cfg(feature = "diadoc")]
#[cfg_attr(docsrs, doc(cfg(feature = "diadoc")))]
pub mod diadoc;
#[cfg(feature = "metabase")]
#[cfg_attr(docsrs, doc(cfg(feature = "metabase")))]
pub mod metabase;
#[cfg(feature = "novaconnect")]
#[cfg_attr(docsrs, doc(cfg(feature = "novaconnect")))]
pub mod novaconnect;
#[cfg(feature = "rightech")]
#[cfg_attr(docsrs, doc(cfg(feature = "rightech")))]
pub mod rightech;
#[cfg(feature = "rounds")]
#[cfg_attr(docsrs, doc(cfg(feature = "rounds")))]
pub mod rounds;

pub use auth::{Auth, BoxFuture, Credential, CredentialSource, REDACTED, Secret, TokenProvider, jwt_expiry};
pub use client::{
    Client, ClientBuilder, DEFAULT_MAX_ERROR_BODY_BYTES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_USER_AGENT,
    IntoBaseUrl, Timeouts,
};
pub use error::{
    ApiError, AuthError, BodyTooLarge, BoxError, ConfigError, ConfigKind, DecodeError, Error, ErrorKind,
    FieldError, HttpError, InvalidInput, ProtocolError, Result, ServiceError, Target, TimeoutError,
    TimeoutPhase, TransportError, TransportKind,
};
pub use http::RequestBuilder;
pub use limit::RateLimit;
pub use pager::Pager;
pub use retry::{RetryBudget, RetryPolicy};
pub use tls::{Certificate, TlsBackend};

// The README's Rust examples are compiled and run as doc tests, so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// `reqwest` types that appear in this crate's API.
pub use reqwest::{Method, StatusCode};

/// The `serde_json` whose `Value` and `Map` appear in this crate's API (unknown fields in
/// `extra`, the escape hatch's bodies, key-value stores).
pub use serde_json;

/// The `reqwest` this crate is built on, for a builder to pass to
/// [`ClientBuilder::http_client`]: a `reqwest::ClientBuilder` of another version is another
/// type.
pub use reqwest;
