//! `userapi diadoc …`.

use super::Ctx;
use crate::args::DiadocCommand;
use crate::exit::{CliError, CliResult};

/// Runs a command.
pub async fn run(_ctx: &Ctx, _command: DiadocCommand) -> CliResult {
    Err(CliError::usage("not yet"))
}
