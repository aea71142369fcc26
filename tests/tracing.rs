//! The `tracing` feature: one span per request with operation, method, route, status,
//! attempts and latency, and never a credential or a body.
#![cfg(all(feature = "tracing", feature = "novaconnect"))]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;
use userapi::{Auth, Client, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Default)]
struct Log {
    spans: Vec<(&'static str, BTreeMap<String, String>)>,
    metadata: Vec<&'static Metadata<'static>>,
    events: Vec<BTreeMap<String, String>>,
    stack: Vec<u64>,
}

/// A subscriber that keeps every span's fields and every event, for assertions.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut log = self.0.lock().unwrap();
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        log.spans.push((attrs.metadata().name(), fields));
        log.metadata.push(attrs.metadata());
        Id::from_u64(log.spans.len() as u64)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut log = self.0.lock().unwrap();
        let i = id.into_u64() as usize - 1;
        values.record(&mut Fields(&mut log.spans[i].1));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().events.push(fields);
    }
    fn enter(&self, id: &Id) {
        self.0.lock().unwrap().stack.push(id.into_u64());
    }
    fn exit(&self, _: &Id) {
        self.0.lock().unwrap().stack.pop();
    }
    fn current_span(&self) -> Current {
        let log = self.0.lock().unwrap();
        match log.stack.last() {
            Some(&id) => Current::new(Id::from_u64(id), log.metadata[id as usize - 1]),
            None => Current::none(),
        }
    }
}

const TOKEN: &str = "span-secret-token-0123456789";

#[tokio::test(flavor = "current_thread")]
async fn one_span_per_request_with_its_outcome_and_no_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/get"))
        .respond_with(ResponseTemplate::new(503).set_body_string(format!("echo {TOKEN}")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "code": 200, "result": {"item": {"id": 7, "email": "private@example.kz"}}
        })))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(format!("{}/api/", server.uri()))
        .auth(Auth::bearer(TOKEN))
        .retry_policy(RetryPolicy::default().base_delay(std::time::Duration::from_millis(1)))
        .build()
        .unwrap();
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let me = client.novaconnect().get_me().await.unwrap();
    assert_eq!(me.email.as_deref(), Some("private@example.kz"));

    let log = recorder.0.lock().unwrap();
    let requests: Vec<_> = log
        .spans
        .iter()
        .filter(|(name, _)| *name == "userapi.request")
        .collect();
    assert_eq!(requests.len(), 1, "{:?}", log.spans);
    let fields = &requests[0].1;
    // OpenTelemetry's HTTP client names, and the crate's own under `userapi.`.
    assert_eq!(fields["userapi.operation"], "novaconnect::get_me");
    assert_eq!(fields["http.request.method"], "POST");
    assert_eq!(fields["url.template"], "/api/user/get");
    assert_eq!(fields["server.address"], "127.0.0.1");
    assert_eq!(fields["server.port"], server.address().port().to_string());
    assert_eq!(fields["http.response.status_code"], "200");
    assert_eq!(fields["userapi.attempts"], "2");
    assert!(!fields.contains_key("error.type"), "{fields:?}");
    assert!(fields["userapi.latency_ms"].parse::<u64>().is_ok(), "{fields:?}");
    let retry = log
        .events
        .iter()
        .find(|e| e.get("message").map(String::as_str) == Some("retrying"));
    let retry = retry.expect("an event for the retry");
    assert_eq!(retry["status"], "503");
    assert_eq!(retry["error.kind"], "http");
    let everything = format!("{:?} {:?}", log.spans, log.events);
    assert!(!everything.contains(TOKEN), "{everything}");
    assert!(
        !everything.contains("private@example.kz"),
        "a body leaked: {everything}"
    );
}

/// Spans record the route template, never the concrete id, whatever the id looks like.
#[cfg(feature = "rounds")]
#[tokio::test(flavor = "current_thread")]
async fn spans_record_the_route_template_not_the_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string(r#"{"detail":"User not found"}"#))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .auth(Auth::bearer(TOKEN))
        .build()
        .unwrap();
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    for id in [
        "alice.private@example.com",
        "Alice Private",
        "42",
        "secret-project",
    ] {
        let id = userapi::rounds::UserId::new(id).unwrap();
        let err = client.rounds().get_user(&id).await.unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(err.target().unwrap().route(), "/users/{id}");
    }
    let log = recorder.0.lock().unwrap();
    let routes: Vec<&str> = log
        .spans
        .iter()
        .filter(|(name, _)| *name == "userapi.request")
        .map(|(_, f)| f["url.template"].as_str())
        .collect();
    assert_eq!(routes, ["/users/{id}"; 4]);
    // A failed call names its error as OpenTelemetry does for HTTP: by the status.
    for (_, fields) in log.spans.iter().filter(|(name, _)| *name == "userapi.request") {
        assert_eq!(fields["error.type"], "404", "{fields:?}");
        assert_eq!(fields["http.response.status_code"], "404", "{fields:?}");
    }
    let everything = format!("{:?} {:?}", log.spans, log.events);
    for id in ["alice.private", "Alice", "secret-project"] {
        assert!(!everything.contains(id), "{everything}");
    }
}
