//! `--help` on every command, walked from the top: each one shows an example (README: "`userapi
//! <service> <command> --help` shows an example of each command").

use crate::support::Env;

/// The subcommands a help text lists (two spaces in, under `Commands:`; wrapped descriptions
/// are indented further), without `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_shows_an_example() {
    let env = Env::new();
    let mut leaves = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = env.run(&args).code(0);
        let subs = subcommands(&run.out);
        if subs.is_empty() {
            assert!(
                run.out.contains("Example"),
                "`userapi {}` has no example:\n{}",
                path.join(" "),
                run.out
            );
            leaves.push(path.join(" "));
        }
        for sub in subs {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
    }
    // The walk found the tree, not an empty list: every service, and commands deep in it.
    for expected in [
        "novaconnect me",
        "diadoc employees update",
        "rounds users get",
        "metabase users offboard",
        "metabase api-keys regenerate",
        "rightech tokens create",
        "completions",
    ] {
        assert!(
            leaves.iter().any(|l| l == expected),
            "{expected} not found in {leaves:?}"
        );
    }
    assert!(leaves.len() >= 40, "{} commands: {leaves:?}", leaves.len());
}
