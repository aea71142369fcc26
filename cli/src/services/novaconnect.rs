//! `userapi novaconnect …`.

use super::Ctx;
use crate::args::NovaConnectCommand;
use crate::exit::{CliError, CliResult};

/// Runs a command.
pub async fn run(_ctx: &Ctx, _command: NovaConnectCommand) -> CliResult {
    Err(CliError::usage("not yet"))
}
