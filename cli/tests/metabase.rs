//! Every Metabase command against the fake.

use serde_json::Value;
use userapi::Method;
use userapi::metabase::{NewApiKey, NewMembership, NewUser, UserUpdate};
use userapi_fake::metabase::{
    ADMIN_EMAIL, ADMIN_GROUP, ADMIN_PASSWORD, ANALYSTS_GROUP, API_KEY, API_KEY_NAME, FakeMetabase,
    USER_EMAIL, USER_PASSWORD,
};

use crate::support::{Env, kept_session, mode, url, write_kept};

/// A fake and an environment with its URL and API key (both through the official CLI's
/// names in half the tests would hide a bug: the SDK examples' names here, MB_* in one test).
pub async fn setup() -> (FakeMetabase, Env) {
    let fake = FakeMetabase::start().await.unwrap();
    let env = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .secret_var("METABASE_API_KEY", API_KEY)
        .secret(ADMIN_PASSWORD)
        .secret(USER_PASSWORD);
    (fake, env)
}

fn paths(fake: &FakeMetabase) -> Vec<String> {
    fake.received_requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn me_in_json_and_table() {
    let (_fake, env) = setup().await;
    // The API key acts as its own user.
    let me = env.run(&["metabase", "me"]).code(0).json();
    assert_eq!(me["common_name"], API_KEY_NAME);
    let table = env.run(&["metabase", "me", "--format", "table"]).code(0);
    assert!(
        table.out.contains("email") && table.out.contains("@api-key.invalid"),
        "{}",
        table.out
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn official_cli_variables_are_read() {
    let fake = FakeMetabase::start().await.unwrap();
    let env = Env::new()
        .var("MB_URL", url(fake.base_url()))
        .secret_var("MB_API_KEY", API_KEY);
    assert_eq!(
        env.run(&["metabase", "me"]).code(0).json()["common_name"],
        API_KEY_NAME
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn users_list_get_by_id_and_email() {
    let (fake, env) = setup().await;
    let users = env.run(&["metabase", "users", "list"]).code(0).json_lines();
    assert!(users.iter().any(|u| u["email"] == USER_EMAIL), "{users:?}");
    let all = env
        .run(&[
            "metabase", "users", "list", "--status", "all", "--all", "--limit", "1",
        ])
        .code(0)
        .json_lines();
    assert!(all.len() > users.len(), "deactivated users too");
    let found = env
        .run(&["metabase", "users", "list", "--query", "rasta"])
        .code(0)
        .json_lines();
    assert_eq!(found.len(), 1);
    let by_id = env.run(&["metabase", "users", "get", "2"]).code(0).json();
    assert_eq!(by_id["email"], USER_EMAIL);
    fake.clear_requests();
    let by_email = env.run(&["metabase", "users", "get", USER_EMAIL]).code(0).json();
    assert_eq!(by_email["id"], 2);
    assert!(paths(&fake).contains(&"GET /api/user/2".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn users_create_update_deactivate_reactivate() {
    let (fake, env) = setup().await;
    let created = env
        .run(&[
            "metabase",
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--group",
            "3",
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(created["email"], "ada@example.com");
    let id = created["id"].as_u64().unwrap().to_string();
    let sent = fake
        .received_requests()
        .into_iter()
        .find(|r| r.method == Method::POST && r.path == "/api/user")
        .unwrap();
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body["first_name"], "Ada");
    assert_eq!(body["user_group_memberships"][1]["id"], 3);

    let updated = env
        .run(&[
            "metabase",
            "users",
            "update",
            &id,
            "--first-name",
            "Augusta",
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(updated["first_name"], "Augusta");
    let out = env
        .run(&["metabase", "users", "deactivate", "ada@example.com", "--yes"])
        .code(0)
        .json();
    assert_eq!(out["deactivated"], true);
    assert_eq!(fake.is_active(&id.parse().unwrap()), Some(false));
    let back = env
        .run(&["metabase", "users", "reactivate", &id, "--yes"])
        .code(0)
        .json();
    assert_eq!(back["is_active"], true);
    // Nothing to update is a usage error, sent nowhere.
    fake.clear_requests();
    env.run(&["metabase", "users", "update", &id, "--yes"]).code(2);
    assert!(fake.received_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn users_export_jsonl_and_csv_quoting() {
    let (fake, env) = setup().await;
    fake.add_user(&NewUser::new("q@example.com").name("Quote \"Q\", Esq.", "Line\nBreak"))
        .unwrap();
    let lines = env
        .run(&[
            "metabase",
            "users",
            "export",
            "--status",
            "all",
            "--page-size",
            "2",
        ])
        .code(0)
        .json_lines();
    assert!(lines.len() >= 5, "{lines:?}");
    let csv = env
        .run(&[
            "metabase",
            "users",
            "export",
            "--format",
            "csv",
            "--page-size",
            "2",
        ])
        .code(0)
        .out
        .clone();
    assert!(
        csv.starts_with("id,email,first_name,last_name,is_active,is_superuser,last_login\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\"Quote \"\"Q\"\", Esq.\",\"Line\nBreak\""),
        "RFC 4180 quoting: {csv}"
    );
    // The table format is not a stream format: export writes JSON Lines then.
    let table = env
        .run(&["metabase", "users", "export", "--format", "table"])
        .code(0);
    assert!(table.json_lines().len() >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn offboard_removes_groups_deactivates_and_revokes_keys() {
    let (fake, env) = setup().await;
    // An admin who made an API key: in the Administrators group, the key's last updater.
    let ops = fake
        .add_user(&NewUser::new("ops@example.com").name("Op", "S"))
        .unwrap();
    let admin = fake.api().unwrap();
    admin
        .update_user(&ops.id, &UserUpdate::new().is_superuser(true))
        .await
        .unwrap();
    admin
        .add_membership(&NewMembership::new(ANALYSTS_GROUP, ops.id))
        .await
        .unwrap();
    let session = fake.add_session("ops@example.com").unwrap();
    let as_ops = fake.api_with(userapi::metabase::auth::session(session)).unwrap();
    let key = as_ops
        .create_api_key(&NewApiKey::new("ops key", ADMIN_GROUP))
        .await
        .unwrap();
    let env = env.secret(key.key.expose());

    // Dry run: reads only, the plan printed.
    fake.clear_requests();
    let dry = env
        .run(&[
            "metabase",
            "users",
            "offboard",
            "ops@example.com",
            "--revoke-keys",
            "--dry-run",
        ])
        .code(0);
    assert!(
        fake.received_requests().iter().all(|r| r.method == Method::GET),
        "{:?}",
        paths(&fake)
    );
    assert!(dry.out.contains("DRY-RUN DELETE /api/user/"), "{}", dry.out);
    assert!(
        dry.out
            .contains(&format!("DRY-RUN DELETE /api/api-key/{}", key.api_key.id))
    );
    assert_eq!(fake.is_active(&ops.id), Some(true));

    // Without --revoke-keys the key is listed and kept.
    let steps = env
        .run(&["metabase", "users", "offboard", "ops@example.com", "--yes"])
        .code(0)
        .json_lines();
    let text = format!("{steps:?}");
    assert!(
        text.contains("remove from group") && text.contains("deactivate"),
        "{text}"
    );
    assert!(text.contains("kept (pass --revoke-keys"), "{text}");
    assert_eq!(fake.is_active(&ops.id), Some(false));
    let memberships = admin.list_memberships().await.unwrap();
    let left: Vec<_> = memberships
        .get(&ops.id)
        .map(|ms| ms.iter().map(|m| m.group_id.get()).collect())
        .unwrap_or_default();
    assert!(left.iter().all(|g| *g == 1), "only All Users left: {left:?}");
    assert_eq!(admin.list_api_keys().await.unwrap().len(), 2);

    // With --revoke-keys the key goes.
    env.run(&[
        "metabase",
        "users",
        "offboard",
        "ops@example.com",
        "--revoke-keys",
        "--yes",
    ])
    .code(0);
    let keys = admin.list_api_keys().await.unwrap();
    assert!(keys.iter().all(|k| k.id != key.api_key.id));
    // An email nobody has: usage.
    env.run(&["metabase", "users", "offboard", "nobody@example.com", "--yes"])
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_commands() {
    let (fake, env) = setup().await;
    let groups = env.run(&["metabase", "groups", "list"]).code(0).json_lines();
    assert!(groups.iter().any(|g| g["name"] == "Administrators"), "{groups:?}");
    let shown = env.run(&["metabase", "groups", "show", "2"]).code(0).json();
    assert_eq!(shown["id"], 2);
    let new = fake.add_user(&NewUser::new("g@example.com")).unwrap();
    let id = new.id.to_string();
    let members = env
        .run(&["metabase", "groups", "add-member", "3", "g@example.com", "--yes"])
        .code(0)
        .json_lines();
    assert!(members.iter().any(|m| m["id"] == new.id.get()), "{members:?}");
    let removed = env
        .run(&["metabase", "groups", "remove-member", "3", &id, "--yes"])
        .code(0)
        .json();
    assert_eq!(removed["removed"], true);
    env.run(&["metabase", "groups", "remove-member", "3", &id, "--yes"])
        .code(4);
    env.run(&["metabase", "groups", "show", "999"]).code(4);
    let table = env
        .run(&["metabase", "groups", "list", "--format", "table"])
        .code(0);
    assert!(table.out.contains("Administrators"));
    drop(fake);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_commands_never_print_a_key_unless_asked() {
    let (fake, env) = setup().await;
    let listed = env.run(&["metabase", "api-keys", "list"]).code(0).json_lines();
    assert_eq!(listed.len(), 1);
    let created = env
        .run(&["metabase", "api-keys", "create", "ci", "--group", "1", "--yes"])
        .code(0);
    let made = created.json();
    assert_eq!(made["key"], "<redacted>");
    assert!(created.err.contains("--show-secret"));
    let id = made["id"].as_u64().unwrap().to_string();
    let shown = env
        .run(&[
            "metabase",
            "api-keys",
            "regenerate",
            &id,
            "--yes",
            "--show-secret",
        ])
        .code(0)
        .json();
    let key = shown["key"].as_str().unwrap();
    assert!(key.starts_with("mb_") && key != "<redacted>", "{shown}");
    env.run(&["metabase", "api-keys", "delete", &id, "--yes"]).code(0);
    assert_eq!(fake.api().unwrap().list_api_keys().await.unwrap().len(), 1);
    env.run(&["metabase", "api-keys", "delete", "0", "--yes"]).code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn request_escape_hatch() {
    let (fake, env) = setup().await;
    let me = env
        .run(&["metabase", "request", "GET", "/api/user/current"])
        .code(0)
        .json();
    assert_eq!(me["common_name"], API_KEY_NAME);
    let users = env
        .run(&["metabase", "request", "GET", "api/user", "--query", "query=rasta"])
        .code(0)
        .json();
    assert_eq!(users["data"].as_array().unwrap().len(), 1);
    let put = env
        .run(&[
            "metabase",
            "request",
            "PUT",
            "/api/user/2",
            "--data",
            r#"{"first_name":"Ra"}"#,
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(put["first_name"], "Ra");
    fake.clear_requests();
    env.run(&[
        "metabase",
        "request",
        "PUT",
        "/api/user/2",
        "--data",
        "{not json",
        "--yes",
    ])
    .code(2);
    env.run(&["metabase", "request", "NOT A METHOD", "/api/user"])
        .code(2);
    let dry = env
        .run(&[
            "metabase",
            "request",
            "POST",
            "/api/session",
            "--data",
            r#"{"username":"a","password":"hunter2-secret"}"#,
            "--dry-run",
        ])
        .code(0);
    assert!(dry.out.contains("\"password\":\"<redacted>\""), "{}", dry.out);
    assert!(!dry.out.contains("hunter2-secret"));
    assert!(fake.received_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn login_keeps_the_session_0600_and_later_commands_reuse_it() {
    let fake = FakeMetabase::start().await.unwrap();
    let base = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .var("METABASE_USERNAME", ADMIN_EMAIL)
        .secret_var("METABASE_PASSWORD", ADMIN_PASSWORD);
    let out = base.run(&["metabase", "login"]).code(0).json();
    let file = std::path::PathBuf::from(out["session_file"].as_str().unwrap());
    assert!(file.starts_with(base.cache_dir()), "{file:?}");
    assert_eq!(mode(&file), 0o600);
    let session = kept_session(&file);
    assert!(fake.session_is_live(&userapi::auth::SessionId::new(session.clone())));

    // Only the URL now: the kept session is used.
    let env = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .secret(session.clone());
    std::fs::create_dir_all(env.cache_dir()).unwrap();
    let kept = env.cache_dir().join("default.metabase.session");
    std::fs::copy(&file, &kept).unwrap();
    crate::support::set_mode(&kept, 0o600);
    fake.clear_requests();
    assert_eq!(env.run(&["metabase", "me"]).code(0).json()["email"], ADMIN_EMAIL);
    assert_eq!(paths(&fake), ["GET /api/user/current"]);

    // A refused session (of this login on this server) with a password at hand: sent
    // once, replaced once, and the new one kept.
    let server = url(fake.base_url());
    write_kept(&file, "metabase", &server, ADMIN_EMAIL, "not-a-live-session");
    fake.clear_requests();
    assert_eq!(base.run(&["metabase", "me"]).code(0).json()["email"], ADMIN_EMAIL);
    assert_eq!(
        paths(&fake),
        [
            "GET /api/user/current",
            "POST /api/session",
            "GET /api/user/current"
        ]
    );
    let renewed = kept_session(&file);
    assert_ne!(renewed, "not-a-live-session");
    assert!(fake.session_is_live(&userapi::auth::SessionId::new(renewed)));
    assert_eq!(mode(&file), 0o600);

    // A refused session without a password: exit 3, no loop.
    write_kept(&kept, "metabase", &server, ADMIN_EMAIL, "not-a-live-session");
    fake.clear_requests();
    let refused = env.run(&["metabase", "me"]).code(3);
    assert!(refused.err.contains("userapi metabase login"), "{}", refused.err);
    assert_eq!(fake.received_requests().len(), 1);
}

/// Every whole API key in `text` (`mb_` and more than the 4 characters a masked key shows).
fn whole_keys(text: &str) -> Vec<String> {
    text.match_indices("mb_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_+/=-".contains(*c))
                .collect::<String>()
        })
        .filter(|k| k.len() > 7)
        .collect()
}

/// `--show-secret` is the one deliberate exception to "no secret is ever printed": the help
/// of each command that has it says so, and without it a new key reaches neither stdout
/// nor stderr.
#[tokio::test(flavor = "multi_thread")]
async fn show_secret_is_the_one_exception_and_the_help_says_so() {
    let (_fake, env) = setup().await;
    for command in [
        ["metabase", "api-keys", "create"],
        ["metabase", "api-keys", "regenerate"],
        ["rightech", "tokens", "create"],
    ] {
        let help = env.run(&[&command[..], &["--help"]].concat()).code(0);
        let text = help.out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("--show-secret"), "{command:?}: {}", help.out);
        assert!(
            text.contains("the one exception to \"no secret is ever printed\""),
            "{command:?}: {}",
            help.out
        );
    }
    let created = env
        .run(&[
            "metabase", "api-keys", "create", "hidden", "--group", "1", "--yes",
        ])
        .code(0);
    assert!(whole_keys(&created.out).is_empty(), "{}", created.out);
    assert!(whole_keys(&created.err).is_empty(), "{}", created.err);
    let id = created.json()["id"].as_u64().unwrap().to_string();
    for format in ["json", "table", "csv"] {
        let again = env
            .run(&[
                "metabase",
                "api-keys",
                "regenerate",
                &id,
                "--yes",
                "--format",
                format,
            ])
            .code(0);
        assert!(whole_keys(&again.out).is_empty(), "{format}: {}", again.out);
        assert!(whole_keys(&again.err).is_empty(), "{format}: {}", again.err);
        assert!(again.err.contains("--show-secret"), "{}", again.err);
    }
    // With the flag the key is printed, once: the check above would have seen it.
    let shown = env
        .run(&[
            "metabase",
            "api-keys",
            "regenerate",
            &id,
            "--yes",
            "--show-secret",
        ])
        .code(0);
    assert_eq!(whole_keys(&shown.out).len(), 1, "{}", shown.out);
    assert!(whole_keys(&shown.err).is_empty(), "{}", shown.err);
}
