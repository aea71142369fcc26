//! A tour of every service, each on its fake: no credentials needed.
//!
//! ```sh
//! cargo run --example tour
//! ```
//!
//! Exits non-zero if any service's flow fails.

#[path = "flows/mod.rs"]
mod flows;

use std::process::ExitCode;

#[allow(unused_imports)]
use flows::{FlowResult, Mode};

#[tokio::main]
async fn main() -> ExitCode {
    #[allow(unused_mut)]
    let mut results: Vec<(&str, FlowResult)> = Vec::new();
    #[cfg(feature = "novaconnect")]
    results.push(("NovaConnect", flows::novaconnect::run(Mode::Fake).await));
    #[cfg(feature = "diadoc")]
    results.push(("Kontur Diadoc", flows::diadoc::run(Mode::Fake).await));
    #[cfg(feature = "rounds")]
    results.push(("Rounds", flows::rounds::run(Mode::Fake).await));
    #[cfg(feature = "metabase")]
    results.push(("Metabase", flows::metabase::run(Mode::Fake).await));
    #[cfg(feature = "rightech")]
    results.push(("Rightech IoT Cloud", flows::rightech::run(Mode::Fake).await));
    let mut failed = 0;
    println!();
    for (name, result) in &results {
        match result {
            Ok(()) => println!("ok      {name}"),
            Err(e) => {
                failed += 1;
                println!("FAILED  {name}: {e}");
            }
        }
    }
    println!(
        "tour: {} of {} services ran every call",
        results.len() - failed,
        results.len()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
