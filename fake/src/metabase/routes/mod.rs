//! The fake Metabase's routes, one module per resource.

mod groups;
mod keys;
mod session;
mod users;
mod values;
