//! NovaConnect end to end.
//!
//! With `NOVACONNECT_BASE_URL` and `NOVACONNECT_TOKEN` set it talks to that server (and
//! changes the password only when `NOVACONNECT_PASSWORD` is set, to the same value);
//! otherwise it starts the fake. Exits non-zero if any call fails.
//!
//! ```sh
//! cargo run --example novaconnect
//! ```

#[path = "flows/mod.rs"]
mod flows;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    flows::main_for("NovaConnect", flows::novaconnect::run(flows::Mode::EnvOrFake)).await
}
