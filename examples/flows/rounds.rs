//! PLACEHOLDER for the rounds flow; replaced when the module lands.

use super::{FlowResult, Mode};

/// Not built yet.
pub async fn run(_mode: Mode) -> FlowResult {
    Err("the rounds flow is not built yet".into())
}
