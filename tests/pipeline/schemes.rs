//! Credential schemes are open: the core knows none by name. A scheme of one's own gets the
//! same single-flight refresh as the crate's; every scheme names what it sends and refuses
//! an empty credential when the client is built.

use userapi::auth::{BoxFuture, Credential, CredentialSource, Obtain};
use userapi::reqwest::header::HeaderName;

use super::*;

/// A vendor scheme that "logs in" by asking a counter for a new key, sent as `X-Vendor-Key`.
struct VendorLogin {
    obtained: Arc<AtomicUsize>,
}

static VENDOR: [HeaderName; 1] = [HeaderName::from_static("x-vendor-key")];

impl CredentialSource for VendorLogin {
    fn scheme(&self) -> &'static str {
        "vendor-login"
    }

    fn header_names(&self) -> &[HeaderName] {
        &VENDOR
    }

    fn secrets(&self) -> Vec<Secret> {
        Vec::new()
    }

    fn fixed(&self) -> userapi::Result<Option<Credential>> {
        Ok(None)
    }

    fn obtain<'a>(&'a self, request: Obtain<'a>) -> BoxFuture<'a, userapi::Result<Credential>> {
        Box::pin(async move {
            // Slow enough that every concurrent 401 is waiting for this one.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let n = self.obtained.fetch_add(1, Ordering::SeqCst) + 1;
            assert_eq!(
                request.refresh(),
                n > 1,
                "the first is a first use, then refreshes"
            );
            Credential::header(VENDOR[0].clone(), &Secret::new(format!("key-{n}")))
        })
    }

    fn can_refresh(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_scheme_of_ones_own_is_obtained_once_and_refreshed_once_for_sixteen_401s() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-vendor-key", "key-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-vendor-key", "key-2"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    let obtained = Arc::new(AtomicUsize::new(0));
    let client = common::client(
        &server,
        Auth::custom(VendorLogin {
            obtained: Arc::clone(&obtained),
        }),
    );
    assert_eq!(client.auth().scheme_name(), "vendor-login");
    assert_eq!(client.auth().header_names(), &VENDOR[..]);
    let calls = (0..16).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.rounds().get_me().await })
    });
    for call in calls {
        call.await.unwrap().expect("replayed with the refreshed key");
    }
    // One first use (single-flight: 16 callers, one obtain), one refresh for 16 refusals.
    assert_eq!(obtained.load(Ordering::SeqCst), 2);
    let seen = requests(&server).await;
    let sent_with = |key: &str| seen.iter().filter(|r| r.headers["x-vendor-key"] == key).count();
    // Every call ends with one success on the new key; how many went out on the old one
    // first depends on how the callers interleave with the first refusal (1 to 16).
    assert_eq!(sent_with("key-2"), 16);
    assert!((1..=16).contains(&sent_with("key-1")), "{}", sent_with("key-1"));
    // Under the same client, the scheme's own header is refused as a default header.
    assert!(client.with_header("X-Vendor-Key", "k").unwrap_err().is_config());
}

#[test]
fn an_empty_credential_is_refused_at_build_naming_what_is_empty() {
    let cases = [
        (Auth::bearer(""), "the bearer token is empty"),
        (Auth::jwt("  "), "the JWT is empty"),
        (
            Auth::header("X-Vendor-Key", ""),
            "the x-vendor-key credential is empty",
        ),
        (
            userapi::metabase::auth::session(""),
            "the Metabase session id is empty",
        ),
        (
            userapi::metabase::auth::api_key(""),
            "the Metabase API key is empty",
        ),
        (
            userapi::metabase::auth::login("ada@example.com", ""),
            "one is empty",
        ),
        (
            userapi::diadoc::auth::diadoc_auth("", None),
            "the Diadoc client id is empty",
        ),
    ];
    for (auth, what) in cases {
        let scheme = auth.scheme_name();
        let err = Client::builder()
            .base_url("https://h.example/")
            .auth(auth)
            .build()
            .expect_err(scheme);
        assert!(err.is_config(), "{scheme}: {err:?}");
        assert!(err.to_string().contains(what), "{scheme}: {err}");
    }
    // The README's own pattern with the variable unset fails at build, not at the first call.
    let unset = std::env::var("USERAPI_TEST_SURELY_UNSET_TOKEN").unwrap_or_default();
    let err = Client::builder()
        .base_url("https://api.novaconnect.kz/api/")
        .auth(Auth::bearer(unset))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("empty (an unset environment variable?)"),
        "{err}"
    );
}

#[test]
fn a_header_name_that_is_not_one_is_refused_without_printing_it() {
    let err = Client::builder()
        .base_url("https://h.example/")
        .auth(Auth::header("tok en\n", "v"))
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert!(!err.to_string().contains("tok en"), "{err}");
}

/// A scheme that cannot renew its credential (a fixed bearer token, an API key) answers a
/// `401` at once: one request, no replay with the same refused credential, for every fixed
/// scheme the core offers.
#[tokio::test]
async fn a_401_under_a_fixed_credential_is_returned_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(401, r#"{"detail":"Could not validate credentials"}"#))
        .mount(&server)
        .await;
    let schemes = [
        Auth::bearer("fixed-token-1"),
        Auth::jwt(JWT),
        Auth::header("X-Vendor-Key", "fixed-key-1"),
    ];
    for (i, auth) in schemes.into_iter().enumerate() {
        let scheme = auth.scheme_name();
        let client = common::client(&server, auth);
        let err = client.rounds().get_me().await.unwrap_err();
        assert!(err.is_auth(), "{scheme}: {err:?}");
        assert_eq!(err.attempts(), 1, "{scheme}");
        assert_eq!(requests(&server).await.len(), i + 1, "{scheme}: one request each");
    }
}

/// A token provider asked before every attempt: after a first refresh, a later `401` asks it
/// again for a fresh token (the credential of each attempt belongs to the credentials'
/// current generation), rather than replaying the token the first refresh gave.
#[tokio::test]
async fn a_second_expiry_asks_the_provider_again() {
    let server = MockServer::start().await;
    let accepted = Arc::new(AtomicUsize::new(1)); // the server takes `tok-1`, later `tok-2`
    let seen = Arc::clone(&accepted);
    Mock::given(method("GET"))
        .respond_with(move |req: &wiremock::Request| {
            let want = format!("Bearer tok-{}", seen.load(Ordering::SeqCst));
            match req.headers.get("authorization") {
                Some(v) if v.to_str().ok() == Some(want.as_str()) => json(200, USER),
                _ => json(401, r#"{"detail":"Could not validate credentials"}"#),
            }
        })
        .mount(&server)
        .await;
    let rotation = Arc::new(AtomicUsize::new(0));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let (r, n) = (Arc::clone(&rotation), Arc::clone(&refreshes));
    let client = common::client(
        &server,
        Auth::provider(move |refresh| {
            let (r, n) = (Arc::clone(&r), Arc::clone(&n));
            async move {
                if refresh {
                    n.fetch_add(1, Ordering::SeqCst);
                    r.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Secret::new(format!("tok-{}", r.load(Ordering::SeqCst))))
            }
        }),
    );
    client
        .rounds()
        .get_me()
        .await
        .expect("tok-0 refused, tok-1 taken");
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    accepted.store(2, Ordering::SeqCst); // the server moves on
    client
        .rounds()
        .get_me()
        .await
        .expect("tok-1 refused, tok-2 taken");
    assert_eq!(
        refreshes.load(Ordering::SeqCst),
        2,
        "asked again, not the old refresh replayed"
    );
    assert_eq!(requests(&server).await.len(), 4);
}

/// The contract of `CredentialSource::obtain`: asked only when `fixed` gave nothing. A source
/// with a fixed credential that also says it can refresh is replayed once with its fixed
/// credential after a `401`, and its `obtain` is never called.
#[tokio::test]
async fn obtain_is_never_asked_of_a_source_with_a_fixed_credential() {
    struct FixedButRefreshable {
        asked: Arc<AtomicUsize>,
    }
    impl CredentialSource for FixedButRefreshable {
        fn scheme(&self) -> &'static str {
            "fixed-but-refreshable"
        }
        fn header_names(&self) -> &[HeaderName] {
            &VENDOR
        }
        fn secrets(&self) -> Vec<Secret> {
            Vec::new()
        }
        fn fixed(&self) -> userapi::Result<Option<Credential>> {
            Credential::header(VENDOR[0].clone(), &Secret::new("fixed-key")).map(Some)
        }
        fn obtain<'a>(&'a self, _: Obtain<'a>) -> BoxFuture<'a, userapi::Result<Credential>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Credential::header(VENDOR[0].clone(), &Secret::new("obtained-key")) })
        }
        fn can_refresh(&self) -> bool {
            true
        }
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(401, r#"{"detail":"no"}"#))
        .mount(&server)
        .await;
    let asked = Arc::new(AtomicUsize::new(0));
    let client = common::client(
        &server,
        Auth::custom(FixedButRefreshable {
            asked: Arc::clone(&asked),
        }),
    );
    let err = client.rounds().get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(asked.load(Ordering::SeqCst), 0);
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2, "one replay, never a loop");
    assert!(seen.iter().all(|r| r.headers["x-vendor-key"] == "fixed-key"));
}
