//! The fakes as a product: every fake's request log and fault injection, seen through the
//! SDK's own calls.
//!
//! For each service: the log shows what the SDK sent (method, path, query, body) and what the
//! fake answered; `fail_next(2, 503)` makes a call that is safe to repeat succeed on its third
//! request, while a write that is not is sent once and fails with the service's own error
//! body; a delay longer than the attempt timeout is `ErrorKind::Timeout`. Then the harness itself:
//! faults in order, dropped connections, the log's bound, clearing. Last, `userapi-fake`.
#![cfg(all(
    feature = "novaconnect",
    feature = "diadoc",
    feature = "rounds",
    feature = "metabase",
    feature = "rightech"
))]

use std::time::Duration;

use serde_json::{Value, json};
use userapi::{Client, Error, ErrorKind, Method, RetryPolicy, StatusCode, Timeouts, TransportKind};
use userapi_fake::{Fake, Fault, ReceivedRequest, Service};

/// A test that mixes the SDK's errors and the fake crate's.
type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The same client with retries after 1 ms instead of 200 ms.
fn fast(client: &Client) -> Client {
    client.with_retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
}

/// The same client with a 100 ms attempt timeout and no retries.
fn impatient(client: &Client) -> Client {
    client
        .with_retry_policy(RetryPolicy::none())
        .with_timeouts(Timeouts::default().with_attempt(Duration::from_millis(100)))
}

/// A delay no test waits out: the call under test gives up long before.
const LONG: Duration = Duration::from_secs(30);

fn statuses(log: &[ReceivedRequest]) -> Vec<Option<u16>> {
    log.iter().map(|r| r.status.map(|s| s.as_u16())).collect()
}

fn faults(log: &[ReceivedRequest]) -> Vec<Option<Fault>> {
    log.iter().map(|r| r.fault.clone()).collect()
}

/// Three requests: two refused with 503 by injection, the third served.
fn assert_third_time_lucky(log: &[ReceivedRequest]) {
    assert_eq!(statuses(log), [Some(503), Some(503), Some(200)]);
    let unavailable = Some(Fault::Status(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(faults(log), [unavailable.clone(), unavailable, None]);
    assert!(
        log.windows(2)
            .all(|w| w[0].path == w[1].path && w[0].body == w[1].body)
    );
    assert!(log.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
}

/// One request, refused by injection; the second fault is still waiting.
fn assert_sent_once<S: Service>(fake: &Fake<S>, err: &Error) {
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE), "{err}");
    assert_eq!(err.attempts(), 1);
    let message = err.service_message().unwrap_or_default();
    assert!(
        message.contains("injected"),
        "the service's own error body: {err:?}"
    );
    assert_eq!(statuses(&fake.received_requests()), [Some(503)]);
    assert_eq!(fake.pending_faults(), 1);
}

/// The error's body as JSON.
fn body(err: &Error) -> Value {
    serde_json::from_slice(err.http().expect("an HTTP error").body()).expect("a JSON error body")
}

/// One request, whose answer was held past the attempt timeout.
fn assert_timed_out<S: Service>(fake: &Fake<S>, err: &Error) {
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_timeout());
    let log = fake.received_requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].fault, Some(Fault::Delay(LONG)));
}

mod novaconnect {
    use super::*;
    use userapi::auth::Password;
    use userapi::models::PasswordChange;
    use userapi::novaconnect::{NovaConnect, UserEdit};
    use userapi_fake::novaconnect::{FakeNovaConnect, PASSWORD, TOKEN};

    #[tokio::test]
    async fn the_log_shows_the_sdks_calls() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        let api = fake.api()?;
        api.get_me().await?;
        api.update_me(&UserEdit::new().first_name("Dana")).await?;
        let log = fake.received_requests();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].method, Method::POST);
        assert_eq!(log[0].path, "/api/user/get");
        assert_eq!(log[0].json::<Value>().unwrap(), json!({}));
        assert_eq!(log[1].method, Method::POST);
        assert_eq!(log[1].path, "/api/user/edit");
        assert_eq!(log[1].segments, ["api", "user", "edit"]);
        assert!(log[1].query.is_empty());
        assert_eq!(log[1].json::<Value>().unwrap(), json!({"first_name": "Dana"}));
        assert_eq!(log[1].bearer(), Some(TOKEN));
        assert_eq!(statuses(&log), [Some(200), Some(200)]);
        assert_eq!(faults(&log), [None, None]);
        Ok(())
    }

    #[tokio::test]
    async fn a_read_succeeds_on_the_third_request() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        fake.fail_next(2, 503);
        let api = NovaConnect::new(fast(fake.api()?.client()));
        assert_eq!(api.get_me().await?.first_name.as_deref(), Some("Aigerim"));
        assert_third_time_lucky(&fake.received_requests());
        assert_eq!(fake.pending_faults(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_password_change_is_sent_once() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        fake.fail_next(2, 503);
        let api = NovaConnect::new(fast(fake.api()?.client()));
        let err = api
            .change_password(&PasswordChange::new("N3w-secret").current(PASSWORD))
            .await
            .unwrap_err();
        assert_sent_once(&fake, &err);
        // NovaConnect's envelope, its code equal to the status.
        assert_eq!(body(&err)["code"], 503);
        assert!(fake.password_is(&Password::new(PASSWORD)));
        Ok(())
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        fake.delay_next(1, LONG);
        let err = NovaConnect::new(impatient(fake.api()?.client()))
            .get_me()
            .await
            .unwrap_err();
        assert_timed_out(&fake, &err);
        Ok(())
    }
}

mod diadoc {
    use super::*;
    use userapi::diadoc::{Diadoc, FullName, UserToUpdate};
    use userapi_fake::diadoc::FakeDiadoc;

    #[tokio::test]
    async fn the_log_shows_the_sdks_calls() -> TestResult {
        let fake = FakeDiadoc::start().await?;
        let api = fake.api()?;
        api.get_my_organizations(false).await?;
        api.update_me(&UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna")))
            .await?;
        let log = fake.received_requests();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].method, Method::GET);
        assert_eq!(log[0].path, "/GetMyOrganizations");
        assert_eq!(log[0].query, [("autoRegister".to_owned(), "false".to_owned())]);
        assert!(log[0].body.is_empty());
        assert_eq!(log[1].method, Method::POST);
        assert_eq!(log[1].path, "/UpdateMyUser");
        let body: Value = log[1].json().unwrap();
        assert_eq!(
            body.pointer("/FullName/FullName/LastName"),
            Some(&json!("Ivanova"))
        );
        assert!(log[1].header("authorization").unwrap().starts_with("DiadocAuth "));
        assert_eq!(statuses(&log), [Some(200), Some(200)]);
        Ok(())
    }

    #[tokio::test]
    async fn a_read_succeeds_on_the_third_request() -> TestResult {
        let fake = FakeDiadoc::start().await?;
        fake.fail_next(2, 503);
        let api = Diadoc::new(fast(fake.api()?.client()));
        assert!(api.get_me().await?.login.is_some());
        assert_third_time_lucky(&fake.received_requests());
        Ok(())
    }

    #[tokio::test]
    async fn an_update_is_sent_once() -> TestResult {
        let fake = FakeDiadoc::start().await?;
        fake.fail_next(2, 503);
        let api = Diadoc::new(fast(fake.api()?.client()));
        let change = UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna"));
        let err = api.update_me(&change).await.unwrap_err();
        assert_sent_once(&fake, &err);
        // Diadoc's error bodies carry a trace id.
        assert!(err.http().unwrap().header("x-kontur-trace-id").is_some());
        let name = fake.user().full_name.unwrap();
        assert_eq!(name.last_name.as_deref(), Some("Petrova"));
        Ok(())
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() -> TestResult {
        let fake = FakeDiadoc::start().await?;
        fake.delay_next(1, LONG);
        let err = Diadoc::new(impatient(fake.api()?.client()))
            .get_me()
            .await
            .unwrap_err();
        assert_timed_out(&fake, &err);
        Ok(())
    }
}

mod rounds {
    use super::*;
    use userapi::rounds::{RoundRole, Rounds, UserUpdate};
    use userapi_fake::rounds::FakeRounds;

    #[tokio::test]
    async fn the_log_shows_the_sdks_calls() -> TestResult {
        let fake = FakeRounds::start().await?;
        let api = fake.api()?;
        api.list_rounds(RoundRole::Owner).await?;
        api.update_me(&UserUpdate::new().first_name("Aruzhan")).await?;
        let log = fake.received_requests();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].method, Method::GET);
        assert_eq!(log[0].path, "/users/rounds");
        assert_eq!(log[0].query("as_owner"), Some("true"));
        assert_eq!(log[1].method, Method::PATCH);
        assert_eq!(log[1].path, "/users/me");
        assert_eq!(log[1].json::<Value>().unwrap(), json!({"first_name": "Aruzhan"}));
        assert!(log[1].bearer().is_some());
        assert_eq!(statuses(&log), [Some(200), Some(200)]);
        Ok(())
    }

    #[tokio::test]
    async fn a_read_succeeds_on_the_third_request() -> TestResult {
        let fake = FakeRounds::start().await?;
        fake.fail_next(2, 503);
        let api = Rounds::new(fast(fake.api()?.client()));
        assert_eq!(api.get_me().await?.first_name.as_deref(), Some("Dana"));
        assert_third_time_lucky(&fake.received_requests());
        Ok(())
    }

    #[tokio::test]
    async fn a_write_not_declared_safe_is_sent_once() -> TestResult {
        // Every rounds endpoint is safe to repeat; a request built by hand is not, unless
        // it says so.
        let fake = FakeRounds::start().await?;
        fake.fail_next(2, 503);
        let api = Rounds::new(fast(fake.api()?.client()));
        let err = api
            .request(Method::PATCH, &["users", "me"])
            .json(&json!({"first_name": "Aruzhan"}))
            .send::<Value>()
            .await
            .unwrap_err();
        assert_sent_once(&fake, &err);
        // FastAPI's `detail`.
        assert!(body(&err)["detail"].as_str().unwrap().contains("injected"));
        let me = fake.user(userapi_fake::rounds::ME).unwrap();
        assert_eq!(me.first_name.as_deref(), Some("Dana"));
        Ok(())
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() -> TestResult {
        let fake = FakeRounds::start().await?;
        fake.delay_next(1, LONG);
        let err = Rounds::new(impatient(fake.api()?.client()))
            .get_me()
            .await
            .unwrap_err();
        assert_timed_out(&fake, &err);
        Ok(())
    }
}

mod metabase {
    use super::*;
    use userapi::metabase::{ListUsers, Metabase, NewUser};
    use userapi_fake::metabase::FakeMetabase;

    #[tokio::test]
    async fn the_log_shows_the_sdks_calls() -> TestResult {
        let fake = FakeMetabase::start().await?;
        let api = fake.api()?;
        api.list_users(&ListUsers::new().limit(2).offset(1)).await?;
        api.create_user(&NewUser::new("ada@example.com").name("Ada", "Lovelace"))
            .await?;
        let log = fake.received_requests();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].method, Method::GET);
        assert_eq!(log[0].path, "/api/user");
        assert_eq!(log[0].query("limit"), Some("2"));
        assert_eq!(log[0].query("offset"), Some("1"));
        assert_eq!(log[1].method, Method::POST);
        assert_eq!(log[1].path, "/api/user");
        let body: Value = log[1].json().unwrap();
        assert_eq!(body["email"], "ada@example.com");
        assert_eq!(body["first_name"], "Ada");
        assert!(log[1].header("x-metabase-session").is_some());
        assert_eq!(statuses(&log), [Some(200), Some(200)]);
        Ok(())
    }

    #[tokio::test]
    async fn a_read_succeeds_on_the_third_request() -> TestResult {
        let fake = FakeMetabase::start().await?;
        fake.fail_next(2, 503);
        let api = Metabase::new(fast(fake.api()?.client()));
        assert_eq!(api.get_me().await?.id, 1);
        assert_third_time_lucky(&fake.received_requests());
        Ok(())
    }

    #[tokio::test]
    async fn a_create_is_sent_once() -> TestResult {
        let fake = FakeMetabase::start().await?;
        fake.fail_next(2, 503);
        let api = Metabase::new(fast(fake.api()?.client()));
        let err = api
            .create_user(&NewUser::new("ada@example.com"))
            .await
            .unwrap_err();
        assert_sent_once(&fake, &err);
        // A server error from Metabase is its exception's JSON.
        assert!(body(&err)["via"].is_array());
        // Not created: the address is still free.
        fake.add_user(&NewUser::new("ada@example.com"))?;
        Ok(())
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() -> TestResult {
        let fake = FakeMetabase::start().await?;
        fake.delay_next(1, LONG);
        let err = Metabase::new(impatient(fake.api()?.client()))
            .get_me()
            .await
            .unwrap_err();
        assert_timed_out(&fake, &err);
        Ok(())
    }
}

mod rightech {
    use super::*;
    use userapi::rightech::{ListUsers, NewUser, Rightech, RoleId};
    use userapi_fake::rightech::{FakeRightech, ROLE_ID, TOKEN};

    fn new_user() -> NewUser {
        let role = RoleId::new(ROLE_ID).unwrap();
        NewUser::new(role, "Sensor", "sensor7@example.com", "sensor7", "Str0ngPassw0rd")
    }

    #[tokio::test]
    async fn the_log_shows_the_sdks_calls() -> TestResult {
        let fake = FakeRightech::start().await?;
        let api = fake.api()?;
        api.list_users(&ListUsers::new().search("coll")).await?;
        api.create_user(&new_user()).await?;
        let log = fake.received_requests();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].method, Method::GET);
        assert_eq!(log[0].path, "/api/v1/users");
        assert_eq!(log[0].query("search"), Some("coll"));
        assert_eq!(log[1].method, Method::POST);
        assert_eq!(log[1].path, "/api/v1/users");
        let body: Value = log[1].json().unwrap();
        assert_eq!(body["login"], "sensor7");
        assert_eq!(body["role"], ROLE_ID);
        assert_eq!(log[1].bearer(), Some(TOKEN));
        assert_eq!(statuses(&log), [Some(200), Some(200)]);
        Ok(())
    }

    #[tokio::test]
    async fn a_read_succeeds_on_the_third_request() -> TestResult {
        let fake = FakeRightech::start().await?;
        fake.fail_next(2, 503);
        let api = Rightech::new(fast(fake.api()?.client()));
        assert_eq!(api.list_users(&ListUsers::new()).await?.len(), 2);
        assert_third_time_lucky(&fake.received_requests());
        Ok(())
    }

    #[tokio::test]
    async fn a_create_is_sent_once() -> TestResult {
        let fake = FakeRightech::start().await?;
        fake.fail_next(2, 503);
        let api = Rightech::new(fast(fake.api()?.client()));
        let err = api.create_user(&new_user()).await.unwrap_err();
        assert_sent_once(&fake, &err);
        // Rightech's error body has no code: the status is the code.
        assert_eq!(err.service_code(), None);
        fake.clear_faults();
        assert_eq!(api.list_users(&ListUsers::new()).await?.len(), 2);
        Ok(())
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() -> TestResult {
        let fake = FakeRightech::start().await?;
        fake.delay_next(1, LONG);
        let err = Rightech::new(impatient(fake.api()?.client()))
            .list_roles(&userapi::rightech::ListRoles::new())
            .await
            .unwrap_err();
        assert_timed_out(&fake, &err);
        Ok(())
    }
}

mod harness {
    use super::*;
    use userapi::auth::Password;
    use userapi::metabase::{ListGroups, Metabase};
    use userapi::models::PasswordChange;
    use userapi::novaconnect::{NovaConnect, UserEdit};
    use userapi_fake::Response;
    use userapi_fake::metabase::FakeMetabase;
    use userapi_fake::novaconnect::FakeNovaConnect;

    #[tokio::test]
    async fn faults_are_taken_in_the_order_they_were_added() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        fake.fail_next(1, 502);
        fake.fail_next(1, 504);
        assert_eq!(fake.pending_faults(), 2);
        NovaConnect::new(fast(fake.api()?.client())).get_me().await?;
        assert_eq!(
            statuses(&fake.received_requests()),
            [Some(502), Some(504), Some(200)]
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_picked_fault_waits_for_a_request_it_picks() -> TestResult {
        let fake = FakeMetabase::start().await?;
        fake.inject_where(1, Fault::Status(StatusCode::BAD_REQUEST), |r| {
            r.path == "/api/permissions/group"
        });
        fake.fail_next(1, 502);
        let api = Metabase::new(fast(fake.api()?.client()));
        // The first request is not picked: it passes the first fault by and takes the second.
        assert_eq!(api.get_me().await?.id, 1);
        assert_eq!(fake.pending_faults(), 1);
        let err = api.list_groups(&ListGroups::new()).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(fake.pending_faults(), 0);
        let log = fake.received_requests();
        assert_eq!(statuses(&log), [Some(502), Some(200), Some(400)]);
        assert_eq!(log[2].path, "/api/permissions/group");
        Ok(())
    }

    #[tokio::test]
    async fn a_fault_for_usize_max_requests_holds_until_cleared() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        fake.fail_next(usize::MAX, 503);
        fake.inject_where(usize::MAX, Fault::Drop, |r| r.path == "/nowhere");
        let api = NovaConnect::new(fast(fake.api()?.client()));
        let err = api.get_me().await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        let sent = fake.request_count();
        assert_eq!(sent, u64::from(err.attempts()));
        // Counted without overflow: every request still to come, twice over.
        assert_eq!(fake.pending_faults(), usize::MAX);
        fake.clear_faults();
        assert_eq!(fake.pending_faults(), 0);
        api.get_me().await?;
        assert_eq!(fake.request_count(), sent + 1);
        Ok(())
    }

    #[tokio::test]
    async fn an_injected_response_is_sent_as_it_is() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        let busy = Response::text(429, "slow down").header("retry-after", "0");
        fake.inject(1, Fault::Respond(busy));
        NovaConnect::new(fast(fake.api()?.client())).get_me().await?;
        let log = fake.received_requests();
        assert_eq!(statuses(&log), [Some(429), Some(200)]);
        assert!(matches!(&log[0].fault, Some(Fault::Respond(r)) if &r.body[..] == b"slow down"));
        Ok(())
    }

    #[tokio::test]
    async fn a_slow_answer_is_retried_when_safe() -> TestResult {
        let fake = FakeMetabase::start().await?;
        fake.delay_next(1, LONG);
        let client = impatient(fake.api()?.client())
            .with_retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)));
        assert_eq!(Metabase::new(client).get_me().await?.id, 1);
        let log = fake.received_requests();
        assert_eq!(faults(&log), [Some(Fault::Delay(LONG)), None]);
        Ok(())
    }

    #[tokio::test]
    async fn a_dropped_connection_is_an_io_error() -> TestResult {
        // The client does not retry a connection that broke after the request went out, not
        // even for a read (as tests/faults.rs pins down with a raw TCP server).
        let fake = FakeNovaConnect::start().await?;
        fake.drop_next(2);
        let api = NovaConnect::new(fast(fake.api()?.client()));
        let err = api.get_me().await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport(t) if t.kind() == TransportKind::Io),
            "{err:?}"
        );
        let log = fake.received_requests();
        assert_eq!(statuses(&log), [None]);
        assert_eq!(faults(&log), [Some(Fault::Drop)]);
        assert_eq!(fake.pending_faults(), 1);
        fake.clear_faults();
        api.get_me().await?; // a new connection
        assert_eq!(statuses(&fake.received_requests()), [None, Some(200)]);
        Ok(())
    }

    #[tokio::test]
    async fn a_dropped_connection_fails_a_write_once() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        fake.drop_next(2);
        let api = NovaConnect::new(fast(fake.api()?.client()));
        let err = api
            .change_password(&PasswordChange::new("N3w-secret").current("0ld-secret"))
            .await
            .unwrap_err();
        assert!(err.is_transport(), "{err:?}");
        assert_eq!(fake.received_requests().len(), 1);
        assert_eq!(fake.pending_faults(), 1);
        assert!(
            fake.password_is(&Password::new("0ld-secret")),
            "the service never saw it"
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_log_keeps_the_last_requests_and_counts_all() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        assert_eq!(fake.log_capacity(), 10_000);
        fake.set_log_capacity(3);
        let api = fake.api()?;
        for name in ["a", "b", "c", "d", "e"] {
            api.update_me(&UserEdit::new().first_name(name)).await?;
        }
        let log = fake.received_requests();
        let names: Vec<Value> = log
            .iter()
            .map(|r| r.json::<Value>().unwrap()["first_name"].clone())
            .collect();
        assert_eq!(names, [json!("c"), json!("d"), json!("e")]);
        assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(fake.request_count(), 5);
        Ok(())
    }

    #[tokio::test]
    async fn clearing_empties_the_log_and_restarts_the_count() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        let api = fake.api()?;
        api.get_me().await?;
        fake.clear_requests();
        assert!(fake.received_requests().is_empty());
        assert_eq!(fake.request_count(), 0);
        api.get_me().await?;
        assert_eq!(fake.received_requests().len(), 1);
        assert_eq!(fake.request_count(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn credentials_in_the_log_do_not_print() -> TestResult {
        let fake = FakeNovaConnect::start().await?;
        let api = fake.api()?;
        api.change_password(&PasswordChange::new("N3w-secret").current("0ld-secret"))
            .await?;
        let log = fake.received_requests();
        // The log holds what was sent, for assertions…
        assert!(log[0].bearer().is_some());
        assert!(String::from_utf8_lossy(&log[0].body).contains("N3w-secret"));
        // …but its Debug output shows neither the token nor the body.
        let printed = format!("{:?}", log[0]);
        assert!(!printed.contains(userapi_fake::novaconnect::TOKEN), "{printed}");
        assert!(!printed.contains("N3w-secret"), "{printed}");
        assert!(printed.contains("/api/user/password"), "{printed}");
        Ok(())
    }
}

/// `userapi-fake`, the built binary: started, read, called through the SDK with what it
/// printed, stopped.
mod standalone {
    use std::collections::HashMap;
    use std::process::Stdio;

    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::process::{Child, Command};
    use userapi::{Auth, Client};

    const BIN: &str = env!("CARGO_BIN_EXE_userapi-fake");

    /// A running `userapi-fake` and what it printed before `Ctrl-C stops it.`, by label.
    struct Running {
        child: Child,
        printed: HashMap<String, String>,
    }

    impl Running {
        async fn start(args: &[&str]) -> Running {
            let mut child = Command::new(BIN)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("userapi-fake starts");
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut printed = HashMap::new();
            // A guard against a binary that never prints, not a timing assertion.
            let read = async {
                while let Some(line) = lines.next_line().await.unwrap() {
                    if line == "Ctrl-C stops it." {
                        return;
                    }
                    if let Some((label, value)) = line.trim().split_once(": ") {
                        printed.entry(label.to_owned()).or_insert(value.to_owned());
                    }
                }
                panic!("userapi-fake ended before it was ready");
            };
            tokio::time::timeout(std::time::Duration::from_secs(60), read)
                .await
                .expect("userapi-fake prints its banner");
            Running { child, printed }
        }

        fn get(&self, label: &str) -> &str {
            self.printed
                .get(label)
                .unwrap_or_else(|| panic!("no {label:?} in {:?}", self.printed))
        }

        fn client(&self, auth: Auth) -> Client {
            Client::builder()
                .base_url(self.get("base URL"))
                .auth(auth)
                .build()
                .unwrap()
        }

        async fn stop(mut self) {
            self.child.kill().await.unwrap();
        }
    }

    #[tokio::test]
    async fn novaconnect_with_the_printed_token() {
        let fake = Running::start(&["novaconnect"]).await;
        assert!(fake.get("base URL").starts_with("http://127.0.0.1:"));
        assert!(fake.get("base URL").ends_with("/api/"));
        let client = fake.client(Auth::bearer(fake.get("token")));
        let me = client.novaconnect().get_me().await.unwrap();
        assert_eq!(me.first_name.as_deref(), Some("Aigerim"));
        fake.stop().await;
    }

    #[tokio::test]
    async fn metabase_with_the_printed_key_session_and_password() {
        let fake = Running::start(&["metabase", "--host", "127.0.0.1"]).await;
        let by_key = fake.client(userapi::metabase::auth::api_key(fake.get("API key")));
        assert_eq!(
            by_key.metabase().get_me().await.unwrap().common_name.as_deref(),
            Some("Fake admin key")
        );
        let by_session = fake.client(userapi::metabase::auth::session(fake.get("session")));
        assert_eq!(by_session.metabase().get_me().await.unwrap().id, 1);
        let (email, password) = fake.get("user").split_once(' ').unwrap();
        let anonymous = fake.client(Auth::none()).metabase();
        anonymous.login(email, &password.into()).await.unwrap();
        assert_eq!(anonymous.get_me().await.unwrap().email.as_deref(), Some(email));
        fake.stop().await;
    }

    #[tokio::test]
    async fn diadoc_login_with_the_printed_client_id_and_password() {
        let fake = Running::start(&["diadoc"]).await;
        let diadoc = fake
            .client(userapi::diadoc::auth::diadoc_auth(fake.get("client id"), None))
            .diadoc();
        diadoc
            .login(fake.get("login"), &fake.get("password").into())
            .await
            .unwrap();
        assert_eq!(
            diadoc.get_me().await.unwrap().login.as_deref(),
            Some(fake.get("login"))
        );
        fake.stop().await;
    }

    #[tokio::test]
    async fn a_given_port_is_used() {
        // A port that was free a moment ago (should another process take it in between, the
        // binary reports the bind error and this test fails: rare, and not silent).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let fake = Running::start(&["rightech", "--port", &port.to_string()]).await;
        assert_eq!(fake.get("base URL"), format!("http://127.0.0.1:{port}/"));
        let client = fake.client(Auth::bearer(fake.get("token")));
        let users = client
            .rightech()
            .list_users(&userapi::rightech::ListUsers::new())
            .await
            .unwrap();
        assert_eq!(users.len(), 2);
        fake.stop().await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn ctrl_c_stops_it_cleanly_and_no_credential_is_in_its_request_lines() {
        let mut fake = Running::start(&["rounds"]).await;
        let token = fake.get("token").to_owned();
        let client = fake.client(Auth::jwt(token.clone()));
        client.rounds().get_me().await.unwrap();
        let pid = fake.child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = fake.child.wait().await.unwrap();
        assert!(status.success(), "{status:?}");
        let mut stderr = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut fake.child.stderr.take().unwrap(), &mut stderr)
            .await
            .unwrap();
        assert!(stderr.contains("GET /users/me -> 200"), "{stderr}");
        assert!(!stderr.contains(&token), "{stderr}");
    }

    #[tokio::test]
    async fn help_and_mistakes() {
        let help = Command::new(BIN).arg("--help").output().await.unwrap();
        assert!(help.status.success());
        let text = String::from_utf8(help.stdout).unwrap();
        for word in [
            "novaconnect",
            "diadoc",
            "rounds",
            "metabase",
            "rightech",
            "--port",
            "--host",
        ] {
            assert!(text.contains(word), "{word} in {text}");
        }
        let wrong = Command::new(BIN).arg("mongodb").output().await.unwrap();
        assert_eq!(wrong.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("no service \"mongodb\""));
    }
}

/// A port that is taken is the fake crate's bind error, for every fake, naming the address.
#[tokio::test]
async fn a_fake_on_a_taken_port_is_a_bind_error() {
    use userapi_fake::{ErrorKind, diadoc, metabase, novaconnect, rightech, rounds};
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let errors = [
        novaconnect::FakeNovaConnect::builder()
            .addr(addr)
            .start()
            .await
            .err(),
        diadoc::FakeDiadoc::builder().addr(addr).start().await.err(),
        rounds::FakeRounds::builder().addr(addr).start().await.err(),
        metabase::FakeMetabase::builder().addr(addr).start().await.err(),
        rightech::FakeRightech::builder().addr(addr).start().await.err(),
    ];
    for err in errors {
        let err = err.expect("a taken port cannot be served");
        assert_eq!((err.kind(), err.addr()), (ErrorKind::Bind, Some(addr)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&addr.to_string()), "{text}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
