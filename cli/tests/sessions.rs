//! A kept session belongs to one login on one server: the file records the server's base
//! URL and the login with the session, and a session of another server, another login or
//! another file format is never sent.

use userapi::auth::SessionId;
use userapi_fake::diadoc;
use userapi_fake::metabase::{ADMIN_EMAIL, ADMIN_PASSWORD, FakeMetabase, USER_EMAIL, USER_PASSWORD};

use crate::support::{Env, kept_session, mode, url, write_kept};

fn metabase_env(fake: &FakeMetabase) -> Env {
    Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .var("METABASE_USERNAME", ADMIN_EMAIL)
        .secret_var("METABASE_PASSWORD", ADMIN_PASSWORD)
}

/// Asserts no request `fake` received carried `session`.
#[track_caller]
fn never_sent(fake: &FakeMetabase, session: &str) {
    for r in fake.received_requests() {
        let header = r.header("x-metabase-session").unwrap_or_default();
        assert_ne!(header, session, "{} {} carried the session", r.method, r.path);
        assert!(
            !String::from_utf8_lossy(&r.body).contains(session),
            "{} {} carried the session in its body",
            r.method,
            r.path
        );
    }
}

/// Another login in the same profile gets its own identity, not the kept session of the
/// last one.
#[tokio::test(flavor = "multi_thread")]
async fn metabase_kept_session_is_not_used_for_another_login() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = metabase_env(&fake).secret(USER_PASSWORD);
    assert_eq!(
        admin.run(&["metabase", "me"]).code(0).json()["email"],
        ADMIN_EMAIL
    );
    // The same home (the same cache), another person's login: later variables win.
    let user = admin
        .var("METABASE_USERNAME", USER_EMAIL)
        .secret_var("METABASE_PASSWORD", USER_PASSWORD);
    assert_eq!(user.run(&["metabase", "me"]).code(0).json()["email"], USER_EMAIL);
}

#[tokio::test(flavor = "multi_thread")]
async fn diadoc_kept_token_is_not_used_for_another_login() {
    let fake = diadoc::FakeDiadoc::start().await.unwrap();
    let admin = Env::new()
        .var("DIADOC_BASE_URL", url(fake.base_url()))
        .secret_var("DIADOC_CLIENT_ID", diadoc::CLIENT_ID)
        .var("DIADOC_LOGIN", diadoc::ADMIN_LOGIN)
        .secret_var("DIADOC_PASSWORD", diadoc::ADMIN_PASSWORD)
        .secret(diadoc::PASSWORD);
    assert_eq!(
        admin.run(&["diadoc", "me"]).code(0).json()["user_id"],
        diadoc::ADMIN_USER_ID
    );
    let user = admin
        .var("DIADOC_LOGIN", diadoc::LOGIN)
        .secret_var("DIADOC_PASSWORD", diadoc::PASSWORD);
    assert_eq!(
        user.run(&["diadoc", "me"]).code(0).json()["user_id"],
        diadoc::USER_ID
    );
}

/// A session one server issued is never sent to another server.
#[tokio::test(flavor = "multi_thread")]
async fn metabase_kept_session_is_not_sent_to_another_server() {
    let first = FakeMetabase::start().await.unwrap();
    let second = FakeMetabase::start().await.unwrap();
    let env = metabase_env(&first);
    env.run(&["metabase", "me"]).code(0);
    let kept = kept_session(&env.cache_dir().join("default.metabase.session"));
    assert!(first.session_is_live(&SessionId::new(kept.clone())));
    let env = env
        .var("METABASE_URL", url(second.base_url()))
        .secret(kept.clone());
    env.run(&["metabase", "me"]).code(0);
    assert!(!second.received_requests().is_empty());
    never_sent(&second, &kept);
}

/// Without a password, only the URL: a session of another server is not sent, and the one
/// line says why and what to do (the usage code, as for a missing credential).
#[tokio::test(flavor = "multi_thread")]
async fn metabase_without_a_password_another_servers_session_is_refused_in_one_line() {
    let first = FakeMetabase::start().await.unwrap();
    let second = FakeMetabase::start().await.unwrap();
    let env = metabase_env(&first);
    env.run(&["metabase", "login"]).code(0);
    let kept = kept_session(&env.cache_dir().join("default.metabase.session"));
    let only_url = Env::new()
        .var("METABASE_URL", url(second.base_url()))
        .secret(kept.clone());
    let file = only_url.cache_dir().join("default.metabase.session");
    write_kept(&file, "metabase", &url(first.base_url()), ADMIN_EMAIL, &kept);
    let run = only_url.run(&["metabase", "me"]).code(2);
    assert_eq!(run.err.trim().lines().count(), 1, "{}", run.err);
    assert!(run.err.contains("another server"), "{}", run.err);
    assert!(run.err.contains("userapi metabase login"), "{}", run.err);
    assert!(second.received_requests().is_empty());
    // The first server's own URL, written another way (a trailing slash): the same server,
    // the session is used without a login.
    let same = Env::new()
        .var("METABASE_URL", format!("{}/", url(first.base_url())))
        .secret(kept.clone());
    write_kept(
        &same.cache_dir().join("default.metabase.session"),
        "metabase",
        &url(first.base_url()),
        ADMIN_EMAIL,
        &kept,
    );
    first.clear_requests();
    assert_eq!(same.run(&["metabase", "me"]).code(0).json()["email"], ADMIN_EMAIL);
    let sent: Vec<String> = first
        .received_requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(sent, ["GET /api/user/current"]);
}

/// Without a password but with another user name: the kept session of another login is
/// not sent.
#[tokio::test(flavor = "multi_thread")]
async fn metabase_a_user_name_without_a_password_does_not_get_another_logins_session() {
    let fake = FakeMetabase::start().await.unwrap();
    let env = metabase_env(&fake);
    env.run(&["metabase", "login"]).code(0);
    let kept = kept_session(&env.cache_dir().join("default.metabase.session"));
    let other = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .var("METABASE_USERNAME", USER_EMAIL)
        .secret(kept.clone());
    write_kept(
        &other.cache_dir().join("default.metabase.session"),
        "metabase",
        &url(fake.base_url()),
        ADMIN_EMAIL,
        &kept,
    );
    fake.clear_requests();
    let run = other.run(&["metabase", "me"]).code(2);
    assert_eq!(run.err.trim().lines().count(), 1, "{}", run.err);
    assert!(run.err.contains("another login"), "{}", run.err);
    assert!(run.err.contains("METABASE_USERNAME"), "{}", run.err);
    assert!(fake.received_requests().is_empty());
    // The same user name: it is used.
    let same = other.var("METABASE_USERNAME", ADMIN_EMAIL);
    assert_eq!(same.run(&["metabase", "me"]).code(0).json()["email"], ADMIN_EMAIL);
}

/// What the file holds: version, service, server, login and session; mode 0600; a name
/// with no secret in it.
#[tokio::test(flavor = "multi_thread")]
async fn the_kept_session_file_names_its_server_and_login() {
    let fake = FakeMetabase::start().await.unwrap();
    let env = metabase_env(&fake);
    let out = env.run(&["metabase", "login"]).code(0).json();
    let file = std::path::PathBuf::from(out["session_file"].as_str().unwrap());
    assert_eq!(file, env.cache_dir().join("default.metabase.session"));
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["service"], "metabase");
    assert_eq!(v["base_url"], format!("{}/", url(fake.base_url())));
    assert_eq!(v["login"], ADMIN_EMAIL);
    let session = v["session"].as_str().unwrap();
    assert!(fake.session_is_live(&SessionId::new(session)));
    assert!(!text.contains(ADMIN_PASSWORD));
    // No temporary file left beside it.
    let names: Vec<String> = std::fs::read_dir(env.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["default.metabase.session"]);
}

/// A file of the earlier format (the bare session) is never sent: without a password the
/// command says so; with one, the CLI logs in and replaces the file.
#[tokio::test(flavor = "multi_thread")]
async fn an_old_format_file_is_never_sent_and_is_replaced() {
    let fake = FakeMetabase::start().await.unwrap();
    let live = fake.add_session(ADMIN_EMAIL).unwrap();
    let old = live.expose().to_owned();
    let env = metabase_env(&fake).secret(old.clone());
    let file = env.cache_dir().join("default.metabase.session");
    std::fs::create_dir_all(env.cache_dir()).unwrap();
    std::fs::write(&file, &old).unwrap();
    crate::support::set_mode(&file, 0o600);

    let only_url = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .secret(old.clone());
    std::fs::create_dir_all(only_url.cache_dir()).unwrap();
    std::fs::copy(&file, only_url.cache_dir().join("default.metabase.session")).unwrap();
    crate::support::set_mode(&only_url.cache_dir().join("default.metabase.session"), 0o600);
    fake.clear_requests();
    let run = only_url.run(&["metabase", "me"]).code(2);
    assert_eq!(run.err.trim().lines().count(), 1, "{}", run.err);
    assert!(run.err.contains("userapi metabase login"), "{}", run.err);
    assert!(fake.received_requests().is_empty());

    assert_eq!(env.run(&["metabase", "me"]).code(0).json()["email"], ADMIN_EMAIL);
    never_sent(&fake, &old);
    let renewed = kept_session(&file);
    assert_ne!(renewed, old);
    assert!(fake.session_is_live(&SessionId::new(renewed)));
    assert_eq!(mode(&file), 0o600);
}

/// Diadoc, only the client id and the URL: a token kept for another server is not sent.
#[tokio::test(flavor = "multi_thread")]
async fn diadoc_kept_token_is_not_sent_to_another_server() {
    let first = diadoc::FakeDiadoc::start().await.unwrap();
    let second = diadoc::FakeDiadoc::start().await.unwrap();
    let env = Env::new()
        .var("DIADOC_BASE_URL", url(first.base_url()))
        .secret_var("DIADOC_CLIENT_ID", diadoc::CLIENT_ID)
        .var("DIADOC_LOGIN", diadoc::ADMIN_LOGIN)
        .secret_var("DIADOC_PASSWORD", diadoc::ADMIN_PASSWORD);
    let out = env.run(&["diadoc", "login"]).code(0).json();
    let token = kept_session(std::path::Path::new(out["session_file"].as_str().unwrap()));
    let elsewhere = Env::new()
        .var("DIADOC_BASE_URL", url(second.base_url()))
        .secret_var("DIADOC_CLIENT_ID", diadoc::CLIENT_ID)
        .secret(token.clone());
    write_kept(
        &elsewhere.cache_dir().join("default.diadoc.session"),
        "diadoc",
        &url(first.base_url()),
        diadoc::ADMIN_LOGIN,
        &token,
    );
    let run = elsewhere.run(&["diadoc", "me"]).code(2);
    assert!(run.err.contains("another server"), "{}", run.err);
    assert!(run.err.contains("userapi diadoc login"), "{}", run.err);
    assert!(second.received_requests().is_empty());
}

/// A kept-session file edited by hand is never sent when anything in it is off: another
/// version, another service, an empty session or one with a control character. The control
/// file (all fields right) is used, so the test is not passing because no file is read.
#[tokio::test(flavor = "multi_thread")]
async fn a_hand_edited_file_is_never_sent() {
    let fake = FakeMetabase::start().await.unwrap();
    let live = fake.add_session(ADMIN_EMAIL).unwrap().expose().to_owned();
    let base = format!("{}/", url(fake.base_url()));
    let with = |field: &str, value: serde_json::Value| {
        let mut v = serde_json::json!({
            "version": 1,
            "service": "metabase",
            "base_url": base,
            "login": ADMIN_EMAIL,
            "session": live,
        });
        v[field] = value;
        v.to_string()
    };
    let env = Env::new()
        .var("METABASE_URL", url(fake.base_url()))
        .secret(live.clone());
    let file = env.cache_dir().join("default.metabase.session");
    std::fs::create_dir_all(env.cache_dir()).unwrap();
    for (what, text) in [
        ("another version", with("version", 2.into())),
        ("another service", with("service", "diadoc".into())),
        ("an empty session", with("session", "".into())),
        ("a control character", with("session", format!("{live}\n").into())),
        (
            "a control character inside",
            with("session", format!("{live}\u{1b}x").into()),
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        crate::support::set_mode(&file, 0o600);
        fake.clear_requests();
        let run = env.run(&["metabase", "me"]).code(2);
        assert_eq!(run.err.trim().lines().count(), 1, "{what}: {}", run.err);
        assert!(run.err.contains("userapi metabase login"), "{what}: {}", run.err);
        assert!(fake.received_requests().is_empty(), "{what}");
    }
    // The control: the same file with every field right is used.
    std::fs::write(&file, with("version", 1.into())).unwrap();
    crate::support::set_mode(&file, 0o600);
    assert_eq!(env.run(&["metabase", "me"]).code(0).json()["email"], ADMIN_EMAIL);
}
