//! Rightech IoT Cloud end to end.
//!
//! With `RIGHTECH_TOKEN` set (and `RIGHTECH_BASE_URL`, default `https://dev.rightech.io/`) it
//! reads from that server, and writes (create, update, token, delete of a temporary user) only
//! with `RIGHTECH_ALLOW_WRITES=1`; otherwise it starts the fake. Exits non-zero on failure.
//!
//! ```sh
//! cargo run --example rightech
//! ```

#[path = "flows/mod.rs"]
mod flows;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    flows::main_for("Rightech IoT Cloud", flows::rightech::run(flows::Mode::EnvOrFake)).await
}
