//! The SDK's integration tests: one binary, grouped by behaviour.
//!
//! `support` is what the tests share. `services` is each service on the wire and against its
//! fake; `pipeline` is the one request pipeline whatever the service; the rest hold across
//! services: the fault matrix, redaction of echoed credentials, proxies, TLS, the memory one
//! error may cost, and the `tracing` feature's spans.

mod support;

mod faults;
mod memory;
mod observe;
mod pipeline;
mod proxy;
mod redaction;
mod services;
mod tls;
#[cfg(feature = "tracing")]
mod tracing;
