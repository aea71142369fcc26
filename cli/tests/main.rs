//! The `userapi` binary as a process, against the fakes. One test binary; each module a
//! group of behaviour.

mod support;

mod bad_input;
mod framework;
mod help;
mod metabase;
mod outside;
mod services;
mod sessions;
#[cfg(target_os = "linux")]
mod tty;
