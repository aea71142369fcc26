//! `userapi rightech …`.

use super::Ctx;
use crate::args::RightechCommand;
use crate::exit::{CliError, CliResult};

/// Runs a command.
pub async fn run(_ctx: &Ctx, _command: RightechCommand) -> CliResult {
    Err(CliError::usage("not yet"))
}
