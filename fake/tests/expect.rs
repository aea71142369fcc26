//! Expectations, as wiremock has them: counted per request, checked by `verify` and when the
//! fake is dropped.
#![cfg(all(feature = "metabase", feature = "novaconnect"))]

use userapi::Method;
use userapi_fake::Request;
use userapi_fake::metabase::FakeMetabase;
use userapi_fake::novaconnect::FakeNovaConnect;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn met_expectations_verify_and_drop_quietly() -> TestResult {
    let fake = FakeMetabase::start().await?;
    let current = fake.expect(Method::GET, "/api/user/current").times(2);
    fake.expect(Method::DELETE, "/api/session").times(0);
    fake.expect(Method::GET, "/api/user/current").times(1..=3);
    fake.expect(Method::GET, "/api/user/current"); // at least once
    let api = fake.api()?;
    api.get_me().await?;
    api.get_me().await?;
    assert_eq!(current.received(), 2);
    fake.verify()?;
    Ok(())
}

#[tokio::test]
async fn verify_names_each_unmet_expectation_and_the_requests() -> TestResult {
    let fake = FakeMetabase::start().await?;
    fake.expect(Method::GET, "/api/user/current").times(1);
    fake.expect(Method::GET, "/api/user").times(1..);
    fake.expect_that("a request with a body", |r: &Request| !r.body.is_empty())
        .times(0);
    fake.api()?.get_me().await?;
    fake.api()?.get_me().await?;
    let report = fake.verify().unwrap_err();
    assert_eq!(
        report.failed(),
        ["GET /api/user/current", "GET /api/user"],
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("the Metabase fake: 2 expectations were not met"),
        "{text}"
    );
    assert!(
        text.contains("GET /api/user/current: expected exactly 1 time, got 2 matching requests"),
        "{text}"
    );
    assert!(
        text.contains("GET /api/user: expected at least 1 time, got 0 matching requests"),
        "{text}"
    );
    assert!(text.contains("requests received (2, oldest first):"), "{text}");
    assert!(text.contains("\n  GET /api/user/current -> 200"), "{text}");
    assert!(!text.contains("a request with a body"), "{text}");
    // The report never shows headers or bodies (credentials).
    assert!(!text.to_lowercase().contains("x-metabase-session"), "{text}");
    // Settle it so the drop is quiet.
    fake.clear_expectations();
    fake.verify()?;
    Ok(())
}

#[tokio::test]
#[should_panic(expected = "POST /api/user/password: expected exactly 1 time, got 0 matching requests")]
async fn dropping_a_fake_with_an_unmet_expectation_panics() {
    let fake = FakeNovaConnect::start().await.unwrap();
    fake.expect(Method::POST, "/api/user/password").times(1);
    fake.api().unwrap().get_me().await.unwrap();
    drop(fake);
}

#[tokio::test]
#[should_panic(expected = "requests received (1, oldest first):\n  POST /api/user/get -> 200")]
async fn the_drop_report_lists_the_requests_received() {
    let fake = FakeNovaConnect::start().await.unwrap();
    fake.expect(Method::POST, "/api/user/edit");
    fake.api().unwrap().get_me().await.unwrap();
}

#[tokio::test]
#[should_panic(expected = "the test's own failure")]
async fn a_test_already_panicking_is_not_panicked_again() {
    let fake = FakeNovaConnect::start().await.unwrap();
    fake.expect(Method::POST, "/api/user/edit").times(1);
    // The drop during unwinding does not check (a panic in a panic would abort).
    panic!("the test's own failure");
}

#[tokio::test]
async fn a_matcher_sees_the_whole_request() -> TestResult {
    let fake = FakeNovaConnect::start().await?;
    let with_token = fake.expect_that("a POST with the bearer token", |r: &Request| {
        r.method == Method::POST && r.bearer() == Some(userapi_fake::novaconnect::TOKEN)
    });
    fake.api()?.get_me().await?;
    fake.api_with(userapi::Auth::none())?.get_me().await.unwrap_err();
    assert_eq!(with_token.received(), 1);
    fake.verify()?;
    Ok(())
}
