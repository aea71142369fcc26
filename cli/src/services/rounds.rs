//! `userapi rounds …`.

use super::Ctx;
use crate::args::RoundsCommand;
use crate::exit::{CliError, CliResult};

/// Runs a command.
pub async fn run(_ctx: &Ctx, _command: RoundsCommand) -> CliResult {
    Err(CliError::usage("not yet"))
}
