//! Rightech deletes, and when a 404 after a retry means the delete has succeeded.

use super::*;

#[tokio::test]
async fn delete_user_is_a_delete_on_the_id() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(200, r#"{"success": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).delete_user(&oid(ID)).await.unwrap();
}

#[tokio::test]
async fn a_retried_delete_that_meets_404_has_succeeded() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(503, r#"{"message": "upstream timed out"}"#))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{ID}")))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).delete_user(&oid(ID)).await.unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.method.as_str() == "DELETE"));
}

/// Only an attempt that may have done the work makes a later 404 a success. A 429 (the
/// server did nothing) or a 401 answered by a fresh token (it refused) before the 404 leave
/// the 404 what it says: no such user.
#[tokio::test]
async fn a_404_after_a_refusal_that_did_nothing_is_still_not_found() {
    // 429, then 404.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json(429, r#"{"message": "slow down"}"#).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .mount(&server)
        .await;
    let err = api(&server).delete_user(&oid(ID)).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.attempts(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // 401 with the old token, a refresh, 404 with the new one.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(header("authorization", "Bearer old"))
        .respond_with(json(401, r#"{"message": "token expired"}"#))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(header("authorization", "Bearer new"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .mount(&server)
        .await;
    let auth = Auth::provider(|refresh| async move { Ok(Secret::new(if refresh { "new" } else { "old" })) });
    let err = common::client(&server, auth)
        .rightech()
        .delete_user(&oid(ID))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.attempts(), 2);
}

/// A delete whose first attempt timed out (it may have reached the server) and whose retry
/// meets 404 has succeeded.
#[tokio::test]
async fn a_404_after_a_timed_out_delete_has_succeeded() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json(200, r#"{"success": true}"#).set_delay(Duration::from_millis(500)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .mount(&server)
        .await;
    let client = common::client(&server, Auth::bearer("ric-token"));
    let client = client.with_timeouts(client.timeouts().with_attempt(Duration::from_millis(100)));
    client.rightech().delete_user(&oid(ID)).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_delete_that_meets_404_at_once_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json(404, r#"{"message": "user not found", "code": "404"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).delete_user(&oid(ID)).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.attempts(), 1);
}
