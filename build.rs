//! Tells the core whether this build leaves out a service.
//!
//! Core helpers serve whichever services use them. In a build with only some services (the
//! features are one per service), a helper that only the others use is unused; items marked
//! `#[cfg_attr(userapi_partial, allow(dead_code))]` are allowed to be, and only then. A full
//! build still warns about every unused item.

/// The service features, as cargo spells them in `CARGO_FEATURE_*`.
const SERVICES: [&str; 5] = ["NOVACONNECT", "DIADOC", "ROUNDS", "METABASE", "RIGHTECH"];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(userapi_partial)");
    println!("cargo::rerun-if-changed=build.rs");
    let partial = SERVICES
        .iter()
        .any(|s| std::env::var_os(format!("CARGO_FEATURE_{s}")).is_none());
    if partial {
        println!("cargo::rustc-cfg=userapi_partial");
    }
}
