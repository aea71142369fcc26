//! The fake Metabase's routes, one module per resource.

mod keys;
mod session;
mod users;
mod values;
