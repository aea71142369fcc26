//! Kontur Diadoc end to end.
//!
//! With `DIADOC_BASE_URL` and `DIADOC_CLIENT_ID` set it talks to that server, using
//! `DIADOC_TOKEN`, or getting a token with `DIADOC_LOGIN` and `DIADOC_PASSWORD`; otherwise it
//! starts the fake. Exits non-zero if any call fails.
//!
//! ```sh
//! cargo run --example diadoc
//! ```

#[path = "flows/mod.rs"]
mod flows;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    flows::main_for("Kontur Diadoc", flows::diadoc::run(flows::Mode::EnvOrFake)).await
}
