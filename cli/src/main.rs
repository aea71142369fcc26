//! `userapi`: user administration across Metabase, Kontur Diadoc, Rightech IoT Cloud,
//! NovaConnect and the rounds app, built only on the public API of the `userapi` SDK.

mod args;
mod config;
mod confirm;
mod exit;
mod output;
mod secret_input;
mod services;
mod session;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let verbose = cli.global.verbose;
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(services::run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("{}", e.render(verbose));
            ExitCode::from(e.code)
        }
    }
}
