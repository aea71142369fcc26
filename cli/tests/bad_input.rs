//! An email that matches no user (issue 24, "Bad input"): a one-line message and the usage
//! code, for reads and writes alike, and no write sent (the lookup itself is a read).

use userapi::Method;

use crate::metabase::setup;

#[tokio::test(flavor = "multi_thread")]
async fn an_email_matching_no_user_is_a_usage_error_and_sends_no_write() {
    let (fake, env) = setup().await;
    for args in [
        &["metabase", "users", "get", "nobody@example.com"][..],
        &["metabase", "users", "deactivate", "nobody@example.com", "--yes"],
        &["metabase", "users", "reactivate", "nobody@example.com", "--yes"],
        &[
            "metabase",
            "users",
            "update",
            "nobody@example.com",
            "--last-name",
            "X",
            "--yes",
        ],
        &[
            "metabase",
            "groups",
            "add-member",
            "3",
            "nobody@example.com",
            "--yes",
        ],
        &[
            "metabase",
            "users",
            "offboard",
            "nobody@example.com",
            "--revoke-keys",
            "--yes",
        ],
        // Control characters in the email do not reach the terminal.
        &[
            "metabase",
            "users",
            "deactivate",
            "no\u{1b}[2Jbody@example.com",
            "--yes",
        ],
    ] {
        fake.clear_requests();
        let run = env.run(args).code(2);
        assert_eq!(run.err.trim_end().lines().count(), 1, "{args:?}: {}", run.err);
        assert!(
            run.err.contains("no Metabase user has the email"),
            "{args:?}: {}",
            run.err
        );
        assert!(!run.err.contains('\u{1b}'), "{args:?}: {:?}", run.err);
        assert!(run.out.is_empty(), "{args:?}: {}", run.out);
        let sent = fake.received_requests();
        assert!(
            sent.iter().all(|r| r.method == Method::GET),
            "{args:?}: {:?}",
            sent.iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect::<Vec<_>>()
        );
    }
}
