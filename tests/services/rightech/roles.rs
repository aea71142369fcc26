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
    let roles = api(&server).list_roles(&ListRoles::new()).await.unwrap();
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
    let roles = fake.api().unwrap().list_roles(&ListRoles::new()).await.unwrap();
    assert_eq!(roles.len(), 3);
    let operator = roles.iter().find(|r| r.id.as_str() == OPERATOR_ROLE_ID).unwrap();
    assert_eq!(operator.group, Some(oid(GROUP_ID)));
    assert!(operator.credentials.as_ref().is_some_and(|c| !c.is_empty()));
    let stranger = fake
        .api_with(Auth::bearer(fake.token_for(STRANGER_ID).unwrap()))
        .unwrap();
    let theirs: Vec<String> = stranger
        .list_roles(&ListRoles::new())
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
        .list_roles(&ListRoles::new())
        .await
        .unwrap_err();
    assert!(err.is_auth());
}

#[tokio::test]
async fn list_roles_sends_the_documented_list_parameters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/roles"))
        .and(header("authorization", "Bearer ric-token"))
        .respond_with(json(
            200,
            r#"[{"_id": "5cc89f6af79a4969291dcbd7", "name": "[rightech] signup"}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListRoles::new()
        .limit(10)
        .offset(20)
        .search("сигнал & co")
        .from("2024-01-01T00:00:00Z")
        .to("1735689600")
        .only(["_id", "name"]);
    let roles = api(&server).list_roles(&query).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].id.as_str(), ROLE_ID);
    assert_eq!(roles[0].credentials, None);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(
        pairs(&sent[0].url),
        [
            ("from", "2024-01-01T00:00:00Z"),
            ("limit", "10"),
            ("offset", "20"),
            ("only", "_id,name"),
            ("search", "сигнал & co"),
            ("to", "1735689600"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert!(sent[0].body.is_empty());
}

#[tokio::test]
async fn fake_searches_pages_and_projects_roles() {
    let fake = FakeRightech::start().await.unwrap();
    let api = fake.api().unwrap();
    let found = api
        .list_roles(&ListRoles::new().search("OPERATOR").only(["_id", "name"]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), OPERATOR_ROLE_ID);
    assert_eq!(found[0].credentials, None);
    assert_eq!(found[0].group, None, "projected away");
    let second = api
        .list_roles(&ListRoles::new().offset(1).limit(1))
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id.as_str(), ROLE_ID);
    let last = fake.received_requests().pop().unwrap();
    let mut q = last.query.clone();
    q.sort();
    assert_eq!(
        q,
        [
            ("limit".to_owned(), "1".to_owned()),
            ("offset".to_owned(), "1".to_owned())
        ]
    );
}
