//! Diadoc, Rightech, rounds and NovaConnect commands against their fakes.

use std::time::Duration;

use userapi::Method;
use userapi_fake::{diadoc, novaconnect, rightech, rounds};

use crate::support::{Env, mode, url};

async fn diadoc_env() -> (diadoc::FakeDiadoc, Env) {
    let fake = diadoc::FakeDiadoc::start().await.unwrap();
    let env = Env::new()
        .var("DIADOC_BASE_URL", url(fake.base_url()))
        .secret_var("DIADOC_CLIENT_ID", diadoc::CLIENT_ID)
        .var("DIADOC_LOGIN", diadoc::ADMIN_LOGIN)
        .secret_var("DIADOC_PASSWORD", diadoc::ADMIN_PASSWORD)
        .secret(diadoc::PASSWORD);
    (fake, env)
}

#[tokio::test(flavor = "multi_thread")]
async fn diadoc_me_and_employees() {
    let (fake, env) = diadoc_env().await;
    let me = env.run(&["diadoc", "me"]).code(0).json();
    assert_eq!(me["user_id"], diadoc::ADMIN_USER_ID);
    let list = env
        .run(&["diadoc", "employees", "list", diadoc::BOX_ID])
        .code(0)
        .json_lines();
    assert!(list.iter().any(|e| e["user_id"] == diadoc::USER_ID), "{list:?}");
    let all = env
        .run(&[
            "diadoc",
            "employees",
            "list",
            diadoc::BOX_ID,
            "--all",
            "--limit",
            "1",
        ])
        .code(0)
        .json_lines();
    assert_eq!(all.len(), list.len());
    let csv = env
        .run(&["diadoc", "employees", "list", diadoc::BOX_ID, "--format", "csv"])
        .code(0);
    assert!(
        csv.out
            .starts_with("user_id,login,name,position,is_administrator,department\n"),
        "{}",
        csv.out
    );
    let one = env
        .run(&["diadoc", "employees", "get", diadoc::BOX_ID, diadoc::USER_ID])
        .code(0)
        .json();
    assert_eq!(one["login"], diadoc::LOGIN);
    let updated = env
        .run(&[
            "diadoc",
            "employees",
            "update",
            diadoc::BOX_ID,
            diadoc::USER_ID,
            "--position",
            "Accountant",
            "--yes",
        ])
        .code(0)
        .json();
    assert_eq!(updated["position"], "Accountant");
    let created = env
        .run(&[
            "diadoc",
            "employees",
            "create",
            diadoc::BOX_ID,
            "--login",
            "new@kontur.ru",
            "--yes",
        ])
        .code(0)
        .json();
    let new_id = created["user_id"].as_str().unwrap().to_owned();
    fake.clear_requests();
    env.run(&[
        "diadoc",
        "employees",
        "delete",
        diadoc::BOX_ID,
        &new_id,
        "--dry-run",
    ])
    .code(0);
    assert!(fake.received_requests().is_empty());
    env.run(&["diadoc", "employees", "delete", diadoc::BOX_ID, &new_id])
        .code(2);
    env.run(&["diadoc", "employees", "delete", diadoc::BOX_ID, &new_id, "--yes"])
        .code(0);
    env.run(&["diadoc", "employees", "get", diadoc::BOX_ID, "not a guid\u{7}"])
        .code(2);
    env.run(&[
        "diadoc",
        "employees",
        "get",
        diadoc::OTHER_BOX_ID,
        diadoc::USER_ID,
    ])
    .code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn diadoc_login_keeps_the_token() {
    let (fake, env) = diadoc_env().await;
    let out = env.run(&["diadoc", "login"]).code(0).json();
    let file = std::path::PathBuf::from(out["session_file"].as_str().unwrap());
    assert_eq!(mode(&file), 0o600);
    let token = crate::support::kept_session(&file);
    // Without the password the kept token is used.
    let only = Env::new()
        .var("DIADOC_BASE_URL", url(fake.base_url()))
        .secret_var("DIADOC_CLIENT_ID", diadoc::CLIENT_ID)
        .secret(token.clone());
    std::fs::create_dir_all(only.cache_dir()).unwrap();
    let kept = only.cache_dir().join("default.diadoc.session");
    std::fs::copy(&file, &kept).unwrap();
    crate::support::set_mode(&kept, 0o600);
    fake.clear_requests();
    assert_eq!(
        only.run(&["diadoc", "me"]).code(0).json()["user_id"],
        diadoc::ADMIN_USER_ID
    );
    assert!(
        fake.received_requests()
            .iter()
            .all(|r| !r.path.contains("Authenticate"))
    );
    // No client id: usage, with the variable named.
    let none = Env::new().var("DIADOC_BASE_URL", url(fake.base_url()));
    let run = none.run(&["diadoc", "me"]).code(2);
    assert!(run.err.contains("DIADOC_CLIENT_ID"), "{}", run.err);
}

async fn rightech_env() -> (rightech::FakeRightech, Env) {
    let fake = rightech::FakeRightech::start().await.unwrap();
    let env = Env::new()
        .var("RIGHTECH_BASE_URL", url(fake.base_url()))
        .secret_var("RIGHTECH_TOKEN", rightech::TOKEN);
    (fake, env)
}

#[tokio::test(flavor = "multi_thread")]
async fn rightech_users_roles_tokens() {
    let (fake, env) = rightech_env().await;
    let users = env.run(&["rightech", "users", "list"]).code(0).json_lines();
    assert!(
        users.iter().any(|u| u["_id"] == rightech::COLLEAGUE_ID),
        "{users:?}"
    );
    let paged = env
        .run(&["rightech", "users", "list", "--all", "--limit", "1"])
        .code(0)
        .json_lines();
    assert_eq!(paged.len(), users.len());
    let exported = env
        .run(&["rightech", "users", "export", "--page-size", "1"])
        .code(0)
        .json_lines();
    assert_eq!(exported.len(), users.len());
    let one = env
        .run(&["rightech", "users", "get", rightech::COLLEAGUE_ID])
        .code(0)
        .json();
    assert_eq!(one["_id"], rightech::COLLEAGUE_ID);
    env.run(&["rightech", "users", "get", "5d8a18d5d0025e0012fb6fff"])
        .code(4);
    env.run(&["rightech", "users", "get", "../x"]).code(2);
    let roles = env.run(&["rightech", "roles", "list"]).code(0).json_lines();
    assert!(roles.iter().any(|r| r["_id"] == rightech::ROLE_ID), "{roles:?}");

    let created = env
        .run_with_stdin(
            "Str0ng-passw0rd!\n",
            &[
                "rightech",
                "users",
                "create",
                "--email",
                "ada@example.com",
                "--login",
                "ada_l",
                "--name",
                "Ada",
                "--role",
                rightech::ROLE_ID,
                "--password-stdin",
                "--yes",
            ],
        )
        .code(0)
        .json();
    let id = created["_id"].as_str().unwrap().to_owned();
    let sent = fake
        .received_requests()
        .into_iter()
        .find(|r| r.method == Method::POST && r.path == "/api/v1/users")
        .unwrap();
    assert!(String::from_utf8_lossy(&sent.body).contains("Str0ng-passw0rd!"));
    let updated = env
        .run(&["rightech", "users", "update", &id, "--name", "Ada L", "--yes"])
        .code(0)
        .json();
    assert_eq!(updated["name"], "Ada L");
    let issued = env
        .run(&["rightech", "tokens", "create", &id, "--yes"])
        .code(0)
        .json();
    assert_eq!(issued["token"], "<redacted>");
    // No issued token anywhere without --show-secret, in any format; with it, printed.
    for format in ["json", "table", "csv"] {
        let run = env
            .run(&["rightech", "tokens", "create", &id, "--yes", "--format", format])
            .code(0);
        assert!(!run.out.contains("fake-rightech-token-"), "{format}: {}", run.out);
        assert!(!run.err.contains("fake-rightech-token-"), "{format}: {}", run.err);
        assert!(run.err.contains("--show-secret"), "{}", run.err);
    }
    let shown = env
        .run(&["rightech", "tokens", "create", &id, "--yes", "--show-secret"])
        .code(0);
    assert!(
        shown.json()["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("fake-rightech-token-")),
        "{}",
        shown.out
    );
    let token = fake.token_for(&id).expect("a token was issued");
    let env = env.secret(token.expose());
    env.run(&["rightech", "users", "delete", &id, "--yes"]).code(0);
    env.run(&["rightech", "users", "delete", &id, "--yes"]).code(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn rightech_create_dry_run_redacts_the_password() {
    let (fake, env) = rightech_env().await;
    let env = env.secret("Str0ng-passw0rd!").stdin("Str0ng-passw0rd!\n");
    let run = env
        .run(&[
            "rightech",
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--login",
            "ada_l",
            "--name",
            "Ada",
            "--role",
            rightech::ROLE_ID,
            "--password-stdin",
            "--dry-run",
        ])
        .code(0);
    assert!(run.out.contains(r#""password":"<redacted>""#), "{}", run.out);
    assert!(fake.received_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn rounds_me_and_users_get() {
    let fake = rounds::FakeRounds::start().await.unwrap();
    let token = fake.token_for(rounds::ME, Duration::from_secs(3600));
    let env = Env::new()
        .var("ROUNDS_BASE_URL", url(fake.base_url()))
        .secret_var("ROUNDS_TOKEN", token.expose());
    let me = env.run(&["rounds", "me"]).code(0).json();
    assert_eq!(me["id"], rounds::ME);
    let other = env.run(&["rounds", "users", "get", rounds::OTHER]).code(0).json();
    assert_eq!(other["id"], rounds::OTHER);
    let table = env
        .run(&["rounds", "users", "get", rounds::OTHER, "--format", "table"])
        .code(0);
    assert!(table.out.contains(rounds::OTHER));
    env.run(&["rounds", "users", "get", "me"]).code(2);
    env.run(&["rounds", "users", "get", "no-such-user"]).code(4);
    let expired = Env::new()
        .var("ROUNDS_BASE_URL", url(fake.base_url()))
        .secret_var(
            "ROUNDS_TOKEN",
            fake.expired_token(Duration::from_secs(60)).expose(),
        );
    let run = expired.run(&["rounds", "me"]).code(3);
    assert!(run.err.contains("ROUNDS_TOKEN"), "{}", run.err);
}

#[tokio::test(flavor = "multi_thread")]
async fn novaconnect_me() {
    let fake = novaconnect::FakeNovaConnect::start().await.unwrap();
    let env = Env::new()
        .var("NOVACONNECT_BASE_URL", url(fake.base_url()))
        .secret_var("NOVACONNECT_TOKEN", novaconnect::TOKEN)
        .secret(novaconnect::PASSWORD);
    let me = env.run(&["novaconnect", "me"]).code(0).json();
    assert_eq!(me["email"], fake.user().email.unwrap());
    let csv = env.run(&["novaconnect", "me", "--format", "csv"]).code(0);
    assert!(
        csv.out.starts_with("id,email,first_name,last_name,phone\n"),
        "{}",
        csv.out
    );
    let wrong = Env::new()
        .var("NOVACONNECT_BASE_URL", url(fake.base_url()))
        .secret_var("NOVACONNECT_TOKEN", "not-the-token");
    wrong.run(&["novaconnect", "me"]).code(3);
    fake.clear_requests();
    env.run(&["novaconnect", "me", "--dry-run"]).code(0);
    assert!(fake.received_requests().is_empty());
    // Commands a service does not have are usage errors.
    env.run(&["novaconnect", "users", "list"]).code(2);
    env.run(&["rounds", "users", "list"]).code(2);
    env.run(&["rightech", "me"]).code(2);
}
