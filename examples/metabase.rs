//! Metabase end to end.
//!
//! With `METABASE_URL` set it talks to that instance, with `METABASE_SESSION`, or
//! `METABASE_API_KEY`, or logging in with `METABASE_USERNAME` and `METABASE_PASSWORD`; writes
//! (a temporary user and a temporary API key, a key-value pair written back or removed, the
//! password set to itself, logout) run only with `METABASE_ALLOW_WRITES=1`. The reset flow
//! needs the token a real server emails, in `METABASE_RESET_TOKEN` (the new password is
//! `METABASE_RESET_PASSWORD`, else `METABASE_PASSWORD`). Otherwise it starts the fake, which
//! hands out its own token. Exits non-zero on failure.
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
