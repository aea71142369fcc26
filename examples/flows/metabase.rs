//! PLACEHOLDER for the metabase flow; replaced when the module lands.

use super::{FlowResult, Mode};

/// Not built yet.
pub async fn run(_mode: Mode) -> FlowResult {
    Err("the metabase flow is not built yet".into())
}
