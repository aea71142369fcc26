//! The rounds app end to end.
//!
//! With `ROUNDS_BASE_URL` and `ROUNDS_TOKEN` (a JWT access token) set it talks to that
//! server; otherwise it starts the fake. Exits non-zero if any call fails.
//!
//! ```sh
//! cargo run --example rounds
//! ```

#[path = "flows/mod.rs"]
mod flows;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    flows::main_for("Rounds", flows::rounds::run(flows::Mode::EnvOrFake)).await
}
