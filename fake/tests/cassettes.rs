//! Record and replay: each service's calls recorded through the [`Recorder`] against its
//! fake and replayed to the same results; no secret in a cassette; the binary killed
//! mid-recording; reports and strictness of a replay.
#![cfg(all(
    feature = "novaconnect",
    feature = "diadoc",
    feature = "rounds",
    feature = "metabase",
    feature = "rightech"
))]

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use userapi::auth::Password;
use userapi::{Auth, Client, Method};
use userapi_fake::{Cassette, ErrorKind, MatchOn, Recorder, Replay};

type Calls = Vec<String>;

/// Credentials the upstream issued, as the client saw them while recording.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// The issued credentials seen while recording (the replay's are placeholders).
fn real(seen: &Seen) -> Vec<String> {
    let seen = seen.lock().unwrap();
    let real: Vec<String> = seen
        .iter()
        .filter(|s| !s.starts_with("<redacted:"))
        .cloned()
        .collect();
    assert!(!real.is_empty() && real.len() < seen.len(), "{seen:?}");
    real
}

/// A fresh directory for one test, removed with everything in it when dropped (a test
/// that fails leaves nothing behind either).
struct Scratch(PathBuf);

impl Scratch {
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "userapi-cassettes-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Runs `calls` through a recorder in front of `upstream`, then against a strict replay of
/// the cassette, and checks both give the same results; returns the cassette's text.
async fn record_and_replay<F, Fut>(
    name: &str,
    upstream: url::Url,
    auth: impl Fn() -> Auth,
    calls: F,
) -> String
where
    F: Fn(Client) -> Fut,
    Fut: Future<Output = Calls>,
{
    let dir = scratch(name);
    let path = dir.join("cassette.json");
    let recorder = Recorder::start(upstream, &path).await.unwrap();
    let recorded = calls(recorder.client_with(auth()).unwrap()).await;
    let cassette = recorder.finish().unwrap();
    assert!(!cassette.entries.is_empty());
    assert_eq!(Cassette::load(&path).unwrap(), cassette);

    let replay = Replay::builder(Cassette::load(&path).unwrap())
        .strict(true)
        .start()
        .await
        .unwrap();
    let replayed = calls(replay.client_with(auth()).unwrap()).await;
    assert_eq!(recorded, replayed, "{name}: the replay decodes to other results");
    replay.verify().unwrap();
    std::fs::read_to_string(&path).unwrap()
}

fn assert_scrubbed(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} is in the cassette:\n{text}");
    }
    assert!(text.contains("<redacted:1>"), "{text}");
}

#[tokio::test]
async fn novaconnect_records_and_replays() {
    use userapi::models::PasswordChange;
    use userapi::novaconnect::{NovaConnect, UserEdit};
    use userapi_fake::novaconnect::{FakeNovaConnect, PASSWORD, TOKEN};

    let fake = FakeNovaConnect::start().await.unwrap();
    let text = record_and_replay(
        "novaconnect",
        fake.base_url(),
        || Auth::bearer(TOKEN),
        |client| async move {
            let api = NovaConnect::new(client);
            let me = api.get_me().await.unwrap();
            let edited = api.update_me(&UserEdit::new().first_name("Dana")).await.unwrap();
            let after = api
                .change_password(&PasswordChange::new("N3w-secret-pw").current(PASSWORD))
                .await
                .unwrap();
            vec![format!("{me:?}"), format!("{edited:?}"), format!("{after:?}")]
        },
    )
    .await;
    assert_scrubbed(&text, &[TOKEN, PASSWORD, "N3w-secret-pw"]);
}

#[tokio::test]
async fn rounds_records_and_replays() {
    use userapi::rounds::{RoundRole, Rounds, UserUpdate};
    use userapi_fake::Service;
    use userapi_fake::rounds::FakeRounds;

    let fake = FakeRounds::start().await.unwrap();
    let text = record_and_replay(
        "rounds",
        fake.base_url(),
        || fake.auth().unwrap(),
        |client| async move {
            let api = Rounds::new(client);
            let me = api.get_me().await.unwrap();
            let same = api.get_user(&me.id).await.unwrap();
            let after = api
                .update_me(&UserUpdate::new().first_name("Dana"))
                .await
                .unwrap();
            let owned = api.list_rounds(RoundRole::Owner).await.unwrap();
            let joined = api.list_rounds(RoundRole::Participant).await.unwrap();
            vec![
                format!("{me:?}"),
                format!("{same:?}"),
                format!("{after:?}"),
                format!("{owned:?}"),
                format!("{joined:?}"),
            ]
        },
    )
    .await;
    // The JWT's signature and payload never reach the disk.
    assert!(!text.contains("eyJ"), "{text}");
    assert_scrubbed(&text, &[]);
}

#[tokio::test]
async fn rightech_records_and_replays() {
    use userapi::rightech::{ListUsers, NewUser, Rightech, TokenRequest, UserUpdate};
    use userapi_fake::rightech::{FakeRightech, TOKEN};

    let fake = FakeRightech::start().await.unwrap();
    let seen = Seen::default();
    let text = record_and_replay(
        "rightech",
        fake.base_url(),
        || Auth::bearer(TOKEN),
        |client| {
            let seen = seen.clone();
            async move {
                let api = Rightech::new(client);
                let users = api.list_users(&ListUsers::new().limit(50)).await.unwrap();
                let roles = api
                    .list_roles(&userapi::rightech::ListRoles::new())
                    .await
                    .unwrap();
                let one = api.get_user(&users[0].id).await.unwrap();
                let role = one.role.clone().unwrap_or_else(|| roles[0].id.clone());
                let new = NewUser::new(
                    role,
                    "SDK tour",
                    "sdktour1@example.com",
                    "sdktour1",
                    "Tour1-secret-Pw",
                );
                let created = api.create_user(&new).await.unwrap();
                let updated = api
                    .update_user(&created.id, &UserUpdate::new().name("SDK tour (renamed)"))
                    .await
                    .unwrap();
                let issued = api
                    .create_token(&TokenRequest::new().field("user", created.id.as_str()))
                    .await
                    .unwrap();
                api.delete_user(&created.id).await.unwrap();
                seen.lock()
                    .unwrap()
                    .push(issued.token().unwrap().expose().to_owned());
                vec![
                    format!("{users:?}"),
                    format!("{roles:?}"),
                    format!("{one:?}"),
                    format!("{created:?}"),
                    format!("{updated:?}"),
                ]
            }
        },
    )
    .await;
    let issued = real(&seen);
    assert_scrubbed(
        &text,
        &[TOKEN, "Tour1-secret-Pw", "fake-rightech-token-", &issued[0]],
    );
}

#[tokio::test]
async fn diadoc_records_and_replays() {
    use userapi::diadoc::Diadoc;
    use userapi::diadoc::auth::diadoc_auth;
    use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};

    let fake = FakeDiadoc::start().await.unwrap();
    let seen = Seen::default();
    let text = record_and_replay(
        "diadoc",
        fake.base_url(),
        || diadoc_auth(CLIENT_ID, None),
        |client| {
            let seen = seen.clone();
            async move {
                let api = Diadoc::new(client);
                let token = api.login(LOGIN, &Password::new(PASSWORD)).await.unwrap();
                seen.lock().unwrap().push(token.expose().to_owned());
                let me = api.get_me().await.unwrap();
                let orgs = api.get_my_organizations(false).await.unwrap();
                let box_id = orgs.organizations[0].boxes[0].id().clone();
                let employee = api.get_my_employee(&box_id).await.unwrap();
                vec![format!("{me:?}"), format!("{orgs:?}"), format!("{employee:?}")]
            }
        },
    )
    .await;
    let token = real(&seen);
    // The issued token (`ZmFrZS1kZGF1dGg/00000001+tok==`) in every spelling.
    assert_scrubbed(
        &text,
        &[
            CLIENT_ID,
            PASSWORD,
            &token[0],
            "tok==",
            "ZmFrZS1kZGF1dGg",
            "tok%3D%3D",
        ],
    );
}

#[tokio::test]
async fn metabase_records_and_replays() {
    use userapi::metabase::{ListUsers, Metabase, NewApiKey};
    use userapi_fake::metabase::{ADMIN_EMAIL, ADMIN_GROUP, ADMIN_PASSWORD, FakeMetabase};

    let fake = FakeMetabase::start().await.unwrap();
    let seen = Seen::default();
    let text = record_and_replay("metabase", fake.base_url(), Auth::none, |client| {
        let seen = seen.clone();
        async move {
            let api = Metabase::new(client);
            let session = api
                .login(ADMIN_EMAIL, &Password::new(ADMIN_PASSWORD))
                .await
                .unwrap();
            seen.lock().unwrap().push(session.expose().to_owned());
            let me = api.get_me().await.unwrap();
            let users = api.list_users(&ListUsers::new().limit(2)).await.unwrap();
            let key = api
                .create_api_key(&NewApiKey::new("recorded key", ADMIN_GROUP))
                .await
                .unwrap();
            seen.lock().unwrap().push(key.key.expose().to_owned());
            let keys = api.count_api_keys().await.unwrap();
            let logins = api.login_history().await.unwrap();
            vec![
                format!("{session:?}"),
                format!("{me:?}"),
                format!("{users:?}"),
                format!("{key:?}"),
                format!("{keys}"),
                format!("{}", logins.len()),
            ]
        }
    })
    .await;
    let issued = real(&seen);
    assert_eq!(issued.len(), 2, "a session and a key");
    let mut secrets: Vec<&str> = vec![ADMIN_PASSWORD];
    secrets.extend(issued.iter().map(String::as_str));
    assert_scrubbed(&text, &secrets);
    assert!(!text.contains("\"unmasked_key\": \"mb_"), "{text}");
}

#[tokio::test]
async fn reordered_json_keys_and_scrubbed_values_match() {
    let cassette = Cassette::from_json(
        br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
        {"request": {"method": "POST", "path": "/login", "body": {"json": {"user": "a", "password": "<redacted:1>", "opts": {"x": 1, "y": [true, null]}}}},
         "response": {"status": 200, "body": {"json": {"session": "<redacted:2>"}}}}]}"#,
    )
    .unwrap();
    let replay = Replay::builder(cassette).strict(true).start().await.unwrap();
    let answer = reqwest::Client::new()
        .post(replay.url("login"))
        .header("content-type", "application/json")
        .body(r#"{"opts":{"y":[true,null],"x":1},"password":"any thing","user":"a"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), r#"{"session":"<redacted:2>"}"#);
    // The SDK's own client, with the keys in another order.
    let strict = Replay::builder(replay.cassette().clone())
        .strict(true)
        .start()
        .await
        .unwrap();
    let answer: serde_json::Value = strict
        .client()
        .unwrap()
        .request(Method::POST, &["login"])
        .json(&serde_json::json!({"user": "a", "opts": {"x": 1, "y": [true, null]}, "password": "pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer["session"], "<redacted:2>");
}

#[tokio::test]
async fn unmatched_and_unused_are_reported_exactly() {
    let cassette = Cassette::from_json(
        br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
        {"request": {"method": "GET", "path": "/users/1", "query": "full=true"}, "response": {"status": 200, "body": {"text": "one"}}},
        {"request": {"method": "GET", "path": "/users/1", "query": "full=true"}, "response": {"status": 200, "body": {"text": "again"}}},
        {"request": {"method": "DELETE", "path": "/users/2"}, "response": {"status": 204}}]}"#,
    )
    .unwrap();
    let replay = Replay::builder(cassette).start().await.unwrap();
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(replay.url(path)).send();
    // Repeated requests get the recorded answers in order, then none.
    assert_eq!(
        get("users/1?full=true").await.unwrap().text().await.unwrap(),
        "one"
    );
    assert_eq!(
        get("users/1?full=true").await.unwrap().text().await.unwrap(),
        "again"
    );
    let used_up = get("users/1?full=true").await.unwrap();
    assert_eq!(used_up.status(), 404);
    let body: serde_json::Value = serde_json::from_str(&used_up.text().await.unwrap()).unwrap();
    assert!(
        body["differences"][0]
            .as_str()
            .unwrap()
            .contains("already used (2 recorded)"),
        "{body}"
    );
    // A request that differs is answered 404 naming the closest and what differs.
    let other = get("users/1?full=false").await.unwrap();
    assert_eq!(other.status(), 404);
    let body: serde_json::Value = serde_json::from_str(&other.text().await.unwrap()).unwrap();
    assert_eq!(body["closest"]["entry"], 1, "{body}");
    assert_eq!(body["closest"]["request"], "GET /users/1?full=true");
    assert!(
        body["differences"][0].as_str().unwrap().starts_with("query:"),
        "{body}"
    );
    let wrong_method = http.post(replay.url("users/2")).send().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&wrong_method.text().await.unwrap()).unwrap();
    assert_eq!(body["closest"]["entry"], 3, "{body}");
    assert_eq!(body["differences"][0], "method: POST, recorded DELETE", "{body}");

    let report = replay.report();
    assert_eq!(report.unused, [(3, "DELETE /users/2".to_owned())]);
    assert_eq!(
        report.unmatched,
        [
            "GET /users/1?full=true",
            "GET /users/1?full=false",
            "POST /users/2"
        ]
    );
    assert!(replay.verify().is_err());
    let shown = report.to_string();
    assert!(
        shown.contains("1 unused exchange, 3 unmatched requests"),
        "{shown}"
    );
    // The replay's request log and statuses are the fakes'.
    let log = replay.received_requests();
    assert_eq!(log.len(), 5);
    assert_eq!(log[2].status.map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn the_replay_takes_faults_and_match_on_settings() {
    let cassette = Cassette::from_json(
        br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
        {"request": {"method": "POST", "path": "/items", "body": {"json": {"name": "item-1700000000"}}}, "response": {"status": 201, "body": {"json": {"id": 7}}}}]}"#,
    )
    .unwrap();
    let replay = Replay::builder(cassette)
        .match_on("method,path".parse::<MatchOn>().unwrap())
        .strict(true)
        .start()
        .await
        .unwrap();
    replay.fail_next(1, 503);
    let http = reqwest::Client::new();
    let post = || {
        http.post(replay.url("items"))
            .header("content-type", "application/json")
            .body(r#"{"name": "item-1800000000"}"#)
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 503);
    let created = post().await.unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.text().await.unwrap(), r#"{"id":7}"#);
    assert_eq!(replay.received_requests().len(), 2);
}

#[test]
fn a_strict_replay_fails_the_test_when_dropped() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cassette = Cassette::from_json(
        br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
        {"request": {"method": "GET", "path": "/a"}, "response": {"status": 200}}]}"#,
    )
    .unwrap();
    let strict = runtime
        .block_on(Replay::builder(cassette.clone()).strict(true).start())
        .unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(strict))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("unused: entry 1: GET /a"), "{message}");
    // Not strict: reported, no panic.
    let lenient = runtime.block_on(Replay::builder(cassette).start()).unwrap();
    drop(lenient);
}

#[tokio::test]
async fn concurrent_requests_are_each_recorded_once() {
    use userapi_fake::Service;
    use userapi_fake::rounds::FakeRounds;
    let fake = FakeRounds::start().await.unwrap();
    let dir = scratch("concurrent");
    let path = dir.join("c.json");
    let recorder = Recorder::start(fake.base_url(), &path).await.unwrap();
    let client = recorder.client_with(fake.auth().unwrap()).unwrap();
    let api = userapi::rounds::Rounds::new(client);
    let calls = (0..16).map(|_| api.get_me());
    let results = futures_join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let cassette = recorder.finish().unwrap();
    assert_eq!(cassette.entries.len(), 16);
    assert_eq!(fake.request_count(), 16);
    assert_eq!(Cassette::load(&path).unwrap().entries.len(), 16);
}

/// Awaits every future concurrently (no futures crate here).
async fn futures_join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in set.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn a_cassette_of_another_version_or_cut_short_is_refused() {
    let dir = scratch("refused");
    let path = dir.join("future.json");
    std::fs::write(
        &path,
        br#"{"format": "userapi-fake cassette", "version": 2, "entries": []}"#,
    )
    .unwrap();
    let err = Replay::start(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cassette);
    assert!(
        err.to_string()
            .contains("format version 2 is not one this userapi-fake reads"),
        "{err}"
    );
    assert!(err.to_string().contains("future.json"), "{err}");

    let good = Cassette::from_json(
        br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
        {"request": {"method": "GET", "path": "/a"}, "response": {"status": 200, "body": {"text": "a"}}},
        {"request": {"method": "GET", "path": "/b"}, "response": {"status": 200, "body": {"text": "b"}}}]}"#,
    )
    .unwrap()
    .to_json();
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &good[..good.len() - 40]).unwrap();
    let err = Cassette::load(&cut).unwrap_err().to_string();
    assert!(err.contains("cut short") && err.contains("in entry 2"), "{err}");
}

/// The binary as a process: killed (SIGKILL) while an exchange is in flight, it leaves the
/// cassette of the exchanges before, complete.
#[tokio::test]
async fn the_binary_killed_mid_recording_leaves_a_valid_cassette() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Duration;
    use userapi_fake::novaconnect::{FakeNovaConnect, TOKEN};

    let fake = FakeNovaConnect::start().await.unwrap();
    let dir = scratch("killed");
    let path = dir.join("nova.json");
    // A previous cassette, replaced only by a complete new one.
    Cassette::new().save(&path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_userapi-fake"))
        .args(["record", "--upstream", fake.base_url().as_str(), "--cassette"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let base = tokio::task::spawn_blocking(move || {
        let lines = BufReader::new(stdout).lines();
        for line in lines {
            let line = line.unwrap();
            if let Some(url) = line.trim().strip_prefix("base URL: ") {
                return url.to_owned();
            }
        }
        panic!("no base URL printed");
    })
    .await
    .unwrap();
    let client = Client::builder()
        .base_url(base.as_str())
        .auth(Auth::bearer(TOKEN))
        .build()
        .unwrap();
    let api = userapi::novaconnect::NovaConnect::new(client);
    for _ in 0..3 {
        api.get_me().await.unwrap();
    }
    assert_eq!(Cassette::load(&path).unwrap().entries.len(), 3);
    // The next answer is held back upstream: the process dies with the exchange in flight.
    fake.delay_next(1, Duration::from_secs(30));
    let in_flight = tokio::spawn(async move { api.get_me().await });
    while fake.request_count() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(in_flight.await.unwrap().is_err());
    let cassette = Cassette::load(&path).unwrap();
    assert_eq!(cassette.entries.len(), 3);
    assert!(!std::fs::read_to_string(&path).unwrap().contains(TOKEN));
}

/// `replay --strict` exits with 1 when an exchange went unused; 0 when all were used.
#[tokio::test]
async fn the_binary_replays_and_strict_sets_the_exit_code() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = scratch("binary-replay");
    let path = dir.join("c.json");
    Cassette::from_json(
        br#"{"format": "userapi-fake cassette", "version": 1, "entries": [
        {"request": {"method": "GET", "path": "/a"}, "response": {"status": 200, "body": {"text": "a"}}},
        {"request": {"method": "GET", "path": "/b"}, "response": {"status": 200, "body": {"text": "b"}}}]}"#,
    )
    .unwrap()
    .save(&path)
    .unwrap();
    for (paths, code) in [(&["a", "b"][..], 0), (&["a"][..], 1)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_userapi-fake"))
            .args(["replay", "--strict", "--cassette"])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let base = tokio::task::spawn_blocking(move || {
            for line in BufReader::new(stdout).lines() {
                if let Some(url) = line.unwrap().trim().strip_prefix("base URL: ") {
                    return url.to_owned();
                }
            }
            panic!("no base URL printed");
        })
        .await
        .unwrap();
        for p in paths {
            let text = reqwest::get(format!("{base}{p}"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(&text, p);
        }
        // SIGTERM: the binary stops as on Ctrl-C and reports.
        Command::new("kill").arg(child.id().to_string()).status().unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        if code == 1 {
            assert!(stderr.contains("unused: entry 2: GET /b"), "{stderr}");
        }
    }
}

mod no_secret_reaches_the_disk {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use userapi_fake::{Banner, Fake, Request, Response, Service};

    /// An upstream that issues what the login asks it to, and echoes every secret it is sent
    /// in its errors: raw, JSON-escaped, `\u`-escaped, percent-encoded, in headers and bodies.
    struct Echo;

    fn unicode_escaped(text: &str) -> String {
        text.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
    }

    fn path_encoded(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    }

    impl Service for Echo {
        const NAME: &'static str = "echo";
        const TITLE: &'static str = "Echo";
        type Api = Client;

        fn seeded() -> Self {
            Echo
        }

        fn handle(&self, r: &Request) -> Response {
            let body: Value = r.json().unwrap_or_default();
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            match (r.method.as_str(), r.segs().as_slice()) {
                ("POST", ["login"]) => Response::json(
                    200,
                    &json!({"access_token": body["issue"], "token_type": "bearer", "user": body["username"]}),
                ),
                ("GET", ["echo"]) => {
                    let token = r.query("token").unwrap_or_default();
                    let message = format!(
                        "bad token {token}; you sent {} and {}",
                        r.header("authorization").unwrap_or_default(),
                        r.header("cookie").unwrap_or_default()
                    );
                    Response::text(400, &message).header("x-echo", &path_encoded(token))
                }
                ("POST", ["change"]) => {
                    let (new, old) = (text(&body["new_password"]), text(&body["old_password"]));
                    let key = r.header("x-api-key").unwrap_or_default().to_owned();
                    let raw = format!(
                        r#"{{"detail":"{}","also":{},"key":{}}}"#,
                        unicode_escaped(&new),
                        serde_json::to_string(&format!("password {old} refused")).unwrap(),
                        serde_json::to_string(&format!("{key} / {}", path_encoded(&key))).unwrap(),
                    );
                    let mut response = Response::json(422, &Value::Null);
                    response.body = raw.into();
                    response
                }
                ("POST", ["form"]) => {
                    Response::text(400, &format!("bad form: {}", String::from_utf8_lossy(&r.body)))
                }
                _ => Response::text(404, "no such route"),
            }
        }

        fn auth(&self) -> Result<Auth, userapi_fake::Error> {
            Ok(Auth::none())
        }

        fn api(client: Client) -> Client {
            client
        }

        fn banner(&self, base_url: &url::Url) -> Banner {
            Banner::new(format!("curl {base_url}"))
        }
    }

    /// Text secrets: any character, quotes, backslashes, controls and non-ASCII included,
    /// with four letters or digits so that they cannot occur in a cassette by chance.
    fn text_secret() -> impl Strategy<Value = String> {
        ("[A-Za-z0-9]{4}", "[A-Za-z0-9 ._~+/=%&?#\"\\\\:é€\u{1}\t-]{4,20}")
            .prop_map(|(a, b)| format!("{a}{b}"))
    }

    /// Secrets that go in headers: visible ASCII of tokens.
    fn header_secret() -> impl Strategy<Value = String> {
        ("[A-Za-z0-9]{4}", "[A-Za-z0-9._~+/=-]{8,28}").prop_map(|(a, b)| format!("{a}{b}"))
    }

    #[derive(Debug, Clone)]
    struct Secrets {
        password: String,
        new_password: String,
        form_password: String,
        query_token: String,
        issued: String,
        cookie: String,
        api_key: String,
    }

    fn secrets() -> impl Strategy<Value = Secrets> {
        (
            text_secret(),
            text_secret(),
            text_secret(),
            text_secret(),
            header_secret(),
            header_secret(),
            header_secret(),
        )
            .prop_map(
                |(password, new_password, form_password, query_token, issued, cookie, api_key)| Secrets {
                    password,
                    new_password,
                    form_password,
                    query_token,
                    issued,
                    cookie,
                    api_key,
                },
            )
    }

    async fn record(s: &Secrets) -> Vec<u8> {
        let upstream = Fake::<Echo>::start().await.unwrap();
        let dir = scratch("proptest");
        let path = dir.join("echo.json");
        let recorder = Recorder::start(upstream.base_url(), &path).await.unwrap();
        let base = recorder.base_url();
        let http = reqwest::Client::new();
        let json = |v: Value| serde_json::to_vec(&v).unwrap();
        let login = http
            .post(base.join("login").unwrap())
            .header("content-type", "application/json")
            .body(json(
                json!({"username": "ada", "password": s.password, "issue": s.issued}),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let mut echo = base.join("echo").unwrap();
        echo.query_pairs_mut().append_pair("token", &s.query_token);
        let echoed = http
            .get(echo)
            .header("authorization", format!("Bearer {}", s.issued))
            .header("cookie", format!("sid={}", s.cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(echoed.status(), 400);
        let changed = http
            .post(base.join("change").unwrap())
            .header("content-type", "application/json")
            .header("x-api-key", &s.api_key)
            .body(json(
                json!({"old_password": s.password, "new_password": s.new_password}),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 422);
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user", "ada")
            .append_pair("password", &s.form_password)
            .finish();
        let formed = http
            .post(base.join("form").unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(formed.status(), 400);
        assert_eq!(recorder.finish().unwrap().entries.len(), 4);
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        #[test]
        fn no_secret_of_any_kind_is_in_the_cassette(s in secrets()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let bytes = runtime.block_on(record(&s));
            let text = String::from_utf8_lossy(&bytes);
            // The cassette still reads, and the placeholders pair what they replaced.
            let cassette = Cassette::from_json(&bytes).unwrap();
            prop_assert_eq!(cassette.entries.len(), 4);
            for secret in [&s.password, &s.new_password, &s.form_password, &s.query_token, &s.issued, &s.cookie, &s.api_key] {
                for spelling in userapi::auth::spellings(secret) {
                    let found = bytes.windows(spelling.len()).any(|w| w == spelling.as_slice());
                    prop_assert!(!found, "{:?} (spelled {:?}) in\n{}", secret, String::from_utf8_lossy(&spelling), text);
                }
                let escaped = unicode_escaped(secret);
                prop_assert!(!text.contains(&escaped), "{:?} \\u-escaped in\n{}", secret, text);
            }
        }
    }
}
