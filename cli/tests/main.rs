//! The `userapi` binary as a process, against the fakes. One test binary; each module a
//! group of behaviour.

mod support;

mod framework;
mod metabase;
mod services;
#[cfg(target_os = "linux")]
mod tty;
