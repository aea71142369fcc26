//! The flow of each service, shared by its own example and by the tour.
//!
//! A flow uses a real server when its environment variables are set (and it was asked to),
//! and otherwise starts the service's fake. A call whose credential is missing is skipped
//! with the reason printed, never faked.

#![allow(dead_code)]

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

use std::future::Future;
use std::process::ExitCode;

/// What a flow returns.
pub type FlowResult = Result<(), Box<dyn std::error::Error>>;

/// Where a flow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always on the fake.
    Fake,
    /// On the real service when its variables are set, else on the fake.
    EnvOrFake,
}

/// A non-empty environment variable, for the few a service's flow reads beyond
/// [`userapi::env::EnvCredentials`] (Diadoc's OpenID Connect access token, a Metabase reset
/// token from an email).
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Prints why a call was not made.
pub fn skip(call: &str, reason: &str) {
    println!("  {call}: skipped ({reason})");
}

/// Runs one flow as a program: prints the error and exits non-zero if it fails.
pub async fn main_for(name: &str, flow: impl Future<Output = FlowResult>) -> ExitCode {
    match flow.await {
        Ok(()) => {
            println!("{name}: all calls succeeded");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
