//! What observers and the `metrics` feature record, for every service: route templates,
//! never an id, whatever the id looks like.

use std::sync::{Arc, Mutex};

use userapi::observe::{CallRecord, Observer};
use userapi::{Auth, Client, RetryPolicy};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An id of every kind, each distinctive enough to find in any record.
const ROUNDS_ID: &str = "private-round-user-7731";
const METABASE_ID: u64 = 987_654_321;
const RIGHTECH_ID: &str = "5f0c1a2b3c4d5e6f7a8b9c0d";
const BOX_ID: &str = "8d3c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d";

/// One call with an id per service (NovaConnect's calls take none), against a server that
/// answers 404 to everything.
async fn call_every_service(client: &Client) {
    let rounds = userapi::rounds::UserId::new(ROUNDS_ID).unwrap();
    let _ = client.rounds().get_user(&rounds).await;
    let metabase = userapi::metabase::UserId::new(METABASE_ID).unwrap();
    let _ = client.metabase().get_user(&metabase).await;
    let rightech = userapi::rightech::UserId::new(RIGHTECH_ID).unwrap();
    let _ = client.rightech().get_user(&rightech).await;
    let box_id = userapi::diadoc::BoxId::new(BOX_ID).unwrap();
    let _ = client.diadoc().get_my_employee(&box_id).await;
    let _ = client.novaconnect().get_me().await;
}

fn assert_no_id(text: &str) {
    for id in [ROUNDS_ID, &METABASE_ID.to_string(), RIGHTECH_ID, BOX_ID] {
        assert!(!text.contains(id), "{id} in {text}");
    }
}

const TEMPLATES: [&str; 5] = [
    "/users/{id}",
    "/api/user/{id}",
    "/api/v1/users/{id}",
    "/GetMyEmployee",
    "/user/get",
];

async fn not_found() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> userapi::ClientBuilder {
    Client::builder()
        .base_url(server.uri())
        .auth(Auth::bearer("tok-observe"))
        .retry_policy(RetryPolicy::none())
}

#[derive(Default, Clone)]
struct Routes(Arc<Mutex<Vec<String>>>);

impl Observer for Routes {
    fn on_call(&self, call: &CallRecord<'_>) {
        self.0.lock().unwrap().push(format!("{call:?}"));
    }
}

#[tokio::test]
async fn observers_see_route_templates_for_every_service() {
    let server = not_found().await;
    let routes = Routes::default();
    let client = client(&server).observer(routes.clone()).build().unwrap();
    call_every_service(&client).await;
    let records = routes.0.lock().unwrap().clone();
    assert_eq!(records.len(), 5, "{records:?}");
    for (record, template) in records.iter().zip(TEMPLATES) {
        assert!(record.contains(&format!("route: \"{template}\"")), "{record}");
        assert_no_id(record);
    }
}

#[cfg(feature = "metrics")]
mod metrics_feature {
    use std::sync::atomic::{AtomicU64, Ordering};

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString,
        Unit,
    };

    use super::*;

    /// One registered instrument: its name, its labels and what it got.
    type Instrument = (String, Vec<(String, String)>, Arc<Values>);

    /// Every instrument registered and every value it got.
    #[derive(Default, Clone)]
    struct Kept(Arc<Mutex<Vec<Instrument>>>);

    #[derive(Default)]
    struct Values {
        count: AtomicU64,
        samples: Mutex<Vec<f64>>,
    }

    impl CounterFn for Values {
        fn increment(&self, value: u64) {
            self.count.fetch_add(value, Ordering::SeqCst);
        }
        fn absolute(&self, value: u64) {
            self.count.store(value, Ordering::SeqCst);
        }
    }

    impl HistogramFn for Values {
        fn record(&self, value: f64) {
            self.samples.lock().unwrap().push(value);
        }
    }

    impl Kept {
        fn keep(&self, key: &Key) -> Arc<Values> {
            let values = Arc::new(Values::default());
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            self.0
                .lock()
                .unwrap()
                .push((key.name().to_owned(), labels, Arc::clone(&values)));
            values
        }
    }

    impl Recorder for Kept {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.keep(key))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(self.keep(key))
        }
    }

    /// The duration histogram and the attempt counter, once per call, labelled by operation,
    /// method, route template and status class: never an id.
    #[tokio::test(flavor = "current_thread")]
    async fn metrics_are_labelled_by_route_template_for_every_service() {
        let server = not_found().await;
        let client = client(&server).build().unwrap();
        let kept = Kept::default();
        let _guard = metrics::set_default_local_recorder(&kept);
        call_every_service(&client).await;
        let kept = kept.0.lock().unwrap();
        let durations: Vec<_> = kept
            .iter()
            .filter(|(name, ..)| name == userapi::observe::DURATION)
            .collect();
        let attempts: Vec<_> = kept
            .iter()
            .filter(|(name, ..)| name == userapi::observe::ATTEMPTS)
            .collect();
        assert_eq!(durations.len(), 5);
        assert_eq!(attempts.len(), 5);
        for ((_, labels, values), template) in durations.iter().zip(TEMPLATES) {
            let label = |k: &str| labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            assert_eq!(label("url.template"), Some(template), "{labels:?}");
            assert_eq!(label("http.response.status_class"), Some("4xx"));
            assert!(label("userapi.operation").is_some_and(|op| op.contains("::")));
            assert!(label("http.request.method").is_some());
            assert_eq!(labels.len(), 4, "{labels:?}");
            assert_no_id(&format!("{labels:?}"));
            let samples = values.samples.lock().unwrap();
            assert_eq!(samples.len(), 1);
            assert!(samples[0] > 0.0 && samples[0] < 60.0, "seconds: {samples:?}");
        }
        for (_, labels, values) in &attempts {
            assert_no_id(&format!("{labels:?}"));
            assert_eq!(values.count.load(Ordering::SeqCst), 1);
        }
    }
}
