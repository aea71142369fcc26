//! Rightech roles, in the recorded layout.

use super::*;

#[tokio::test]
async fn list_roles_reads_the_recorded_layout_and_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/roles"))
        .and(header("authorization", "Bearer ric-token"))
        .respond_with(json(503, r#"{"message": "busy"}"#))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/roles"))
        .respond_with(json(200, ROLES))
        .expect(1)
        .mount(&server)
        .await;
    let roles = api(&server).list_roles().await.unwrap();
    let ids: Vec<&str> = roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["5c5061c11af9ac1100e8d55f", ROLE_ID, "5cc89f6af79a4969291dcbd8"]
    );
    assert_eq!(roles[1].name.as_deref(), Some("[rightech] signup"));
    assert_eq!(roles[1].credentials, None);
    let full = &roles[2];
    assert_eq!(full.name.as_deref(), Some("Оператор"));
    assert_eq!(
        full.credentials.as_deref(),
        Some(&["objects.read".to_owned(), "objects.command".to_owned()][..])
    );
    assert_eq!(full.group, Some(oid(GROUP_ID)));
    assert_eq!(
        full.created_at(),
        Some(UNIX_EPOCH + Duration::from_millis(1_556_651_882_000))
    );
    assert_eq!(full.extra["colour"], "teal");
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url.query(), None);
}

#[tokio::test]
async fn fake_lists_come_in_the_recorded_layout() {
    let fake = FakeRightech::start().await.unwrap();
    let body = reqwest::Client::new()
        .get(fake.base_url().join("api/v1/roles?only=_id,name").unwrap())
        .bearer_auth(userapi_fake::rightech::TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("[\n{") && body.ends_with("}\n]\n"), "{body:?}");
    assert_eq!(body.matches("\n,\n").count(), 2, "{body:?}");
    assert!(!body.contains("credentials"), "{body:?}");
}

#[tokio::test]
async fn fake_lists_the_groups_roles_and_the_shared_ones() {
    let fake = FakeRightech::start().await.unwrap();
    let roles = fake.api().unwrap().list_roles().await.unwrap();
    assert_eq!(roles.len(), 3);
    let operator = roles.iter().find(|r| r.id.as_str() == OPERATOR_ROLE_ID).unwrap();
    assert_eq!(operator.group, Some(oid(GROUP_ID)));
    assert!(operator.credentials.as_ref().is_some_and(|c| !c.is_empty()));
    let stranger = fake
        .api_with(Auth::bearer(fake.token_for(STRANGER_ID).unwrap()))
        .unwrap();
    let theirs: Vec<String> = stranger
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(theirs.len(), 2);
    assert!(!theirs.contains(&OPERATOR_ROLE_ID.to_owned()));
    let err = fake
        .api_with(Auth::none())
        .unwrap()
        .list_roles()
        .await
        .unwrap_err();
    assert!(err.is_auth());
}
