//! The README's "Testing against your real server" example, run as the README's doc tests
//! run it: from the workspace root. Its text is `tests/readme/replay.rs`, word for word.
#![cfg(feature = "metabase")]

mod example {
    include!("readme/replay.rs");

    #[test]
    fn the_readme_example_replays_its_cassette() {
        std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
        main().unwrap();
    }
}

const EXAMPLE: &str = include_str!("readme/replay.rs");

/// The README's section shows this example, word for word.
#[test]
fn the_readme_shows_the_example_as_it_runs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let Ok(readme) = std::fs::read_to_string(path) else {
        return; // the crate outside its workspace
    };
    let (_, section) = readme
        .split_once("## Testing against your real server")
        .expect("the README's section on recording and replaying");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a Rust block in the section");
    assert_eq!(block.trim(), EXAMPLE.trim());
}
