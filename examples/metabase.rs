//! Metabase end to end.
//!
//! With `METABASE_URL` set it talks to that instance, with `METABASE_SESSION`, or
//! `METABASE_API_KEY`, or logging in with `METABASE_USERNAME` and `METABASE_PASSWORD`; writes
//! (a temporary user, the password set to itself, logout) run only with
//! `METABASE_ALLOW_WRITES=1`. Otherwise it starts the fake. Exits non-zero on failure.
//!
//! ```sh
//! cargo run --example metabase
//! ```

#[path = "flows/mod.rs"]
mod flows;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    flows::main_for("Metabase", flows::metabase::run(flows::Mode::EnvOrFake)).await
}
