//! Metabase permission groups and memberships: on the wire, and the special groups' rules on
//! the fake.

use super::*;
use userapi::metabase::{ListGroups, MagicGroup, MembershipId, NewGroup, NewMembership};

const GROUPS: &str = r#"[
  {"id": 2, "name": "Administrators", "entity_id": "aaaaaaaaaaaaaaaaaaaa2", "magic_group_type": "admin", "member_count": 1},
  {"id": 1, "name": "All Users", "magic_group_type": "all-internal-users", "member_count": 3, "is_tenant_group": false},
  {"id": 4, "name": "Finance", "magic_group_type": null, "member_count": 0, "colour": "teal"}
]"#;

fn mid(id: u64) -> MembershipId {
    MembershipId::new(id).expect("a test id is not 0")
}

/// What a wiremock server received: (method, path, sorted query, body as JSON or Null).
async fn seen(server: &MockServer) -> Vec<(String, String, String, serde_json::Value)> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let body = if r.body.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(&r.body).unwrap()
            };
            (
                r.method.to_string(),
                r.url.path().to_owned(),
                sorted_pairs(r.url.query().unwrap_or("")),
                body,
            )
        })
        .collect()
}

#[tokio::test]
async fn groups_are_listed_read_created_renamed_and_deleted_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/permissions/group"))
        .respond_with(json(200, GROUPS))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/permissions/group/4"))
        .respond_with(json(
            200,
            r#"{"id": 4, "name": "Finance", "magic_group_type": null, "members": [
              {"id": 3, "user_id": 3, "first_name": "Rasta", "last_name": "Toucan", "common_name": "Rasta Toucan",
               "email": "rasta@example.com", "is_superuser": false, "type": "personal", "group_id": 4, "membership_id": 12}]}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/permissions/group"))
        .respond_with(json(200, r#"{"id": 5, "name": "Ops", "magic_group_type": null}"#))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/permissions/group/5"))
        .respond_with(json(
            200,
            r#"{"id": 5, "name": "Operations", "magic_group_type": null}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/permissions/group/5"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/permissions/membership/4/clear"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let api = api(&server);
    let groups = api
        .list_groups(&ListGroups::new().limit(3).offset(0).tenancy(Tenancy::Internal))
        .await
        .unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0].magic_group_type, Some(MagicGroup::Admin));
    assert_eq!(groups[1].member_count, Some(3));
    assert!(!groups[2].is_magic());
    assert_eq!(groups[2].extra["colour"], "teal");
    let finance = api.get_group(&gid(4)).await.unwrap();
    let member = &finance.members.unwrap()[0];
    assert_eq!((member.id, member.membership_id), (uid(3), Some(mid(12))));
    let created = api.create_group(&NewGroup::new("Ops")).await.unwrap();
    assert_eq!(created.id, gid(5));
    let renamed = api.rename_group(&gid(5), "Operations").await.unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Operations"));
    api.delete_group(&gid(5)).await.unwrap();
    api.clear_group(&gid(4)).await.unwrap();
    let null = serde_json::Value::Null;
    assert_eq!(
        seen(&server).await,
        vec![
            (
                "GET".into(),
                "/api/permissions/group".into(),
                "limit=3&offset=0&tenancy=internal".into(),
                null.clone()
            ),
            (
                "GET".into(),
                "/api/permissions/group/4".into(),
                String::new(),
                null.clone()
            ),
            (
                "POST".into(),
                "/api/permissions/group".into(),
                String::new(),
                json!({"name": "Ops"})
            ),
            (
                "PUT".into(),
                "/api/permissions/group/5".into(),
                String::new(),
                json!({"name": "Operations"})
            ),
            (
                "DELETE".into(),
                "/api/permissions/group/5".into(),
                String::new(),
                null.clone()
            ),
            (
                "PUT".into(),
                "/api/permissions/membership/4/clear".into(),
                String::new(),
                null
            ),
        ]
    );
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(sent.headers.get("x-metabase-session").unwrap(), SESSION);
}

#[tokio::test]
async fn memberships_are_listed_added_flagged_and_removed_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/permissions/membership"))
        .respond_with(json(
            200,
            r#"{"1": [{"membership_id": 1, "group_id": 1, "user_id": 1, "is_group_manager": false},
                      {"membership_id": 2, "group_id": 2, "user_id": 1, "is_group_manager": false}],
                "3": [{"membership_id": 3, "group_id": 1, "user_id": 3, "is_group_manager": false}]}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/permissions/membership"))
        .respond_with(json(
            200,
            r#"[{"id": 3, "user_id": 3, "first_name": "Rasta", "last_name": "Toucan", "common_name": "Rasta Toucan",
                 "email": "rasta@example.com", "is_superuser": false, "group_id": 4, "membership_id": 12,
                 "is_group_manager": true}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/permissions/membership/12"))
        .respond_with(json(
            200,
            r#"{"id": 12, "user_id": 3, "group_id": 4, "is_group_manager": false}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/permissions/membership/12"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let api = api(&server);
    let by_user = api.list_memberships().await.unwrap();
    assert_eq!(by_user.len(), 2);
    assert_eq!(by_user[&uid(1)][1].group_id, gid(2));
    assert_eq!(by_user[&uid(3)][0].membership_id, mid(3));
    let members = api
        .add_membership(&NewMembership::new(gid(4), uid(3)).manager(true))
        .await
        .unwrap();
    assert_eq!(members[0].membership_id, Some(mid(12)));
    assert_eq!(members[0].is_group_manager, Some(true));
    let row = api.set_group_manager(&mid(12), false).await.unwrap();
    assert_eq!((row.membership_id, row.is_group_manager), (mid(12), Some(false)));
    api.remove_membership(&mid(12)).await.unwrap();
    let null = serde_json::Value::Null;
    assert_eq!(
        seen(&server).await,
        vec![
            (
                "GET".into(),
                "/api/permissions/membership".into(),
                String::new(),
                null.clone()
            ),
            (
                "POST".into(),
                "/api/permissions/membership".into(),
                String::new(),
                json!({"group_id": 4, "user_id": 3, "is_group_manager": true})
            ),
            (
                "PUT".into(),
                "/api/permissions/membership/12".into(),
                String::new(),
                json!({"is_group_manager": false})
            ),
            (
                "DELETE".into(),
                "/api/permissions/membership/12".into(),
                String::new(),
                null
            ),
        ]
    );
}

#[tokio::test]
async fn a_plain_membership_sends_no_manager_flag_and_errors_keep_their_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/permissions/membership"))
        .and(body_json(json!({"group_id": 1, "user_id": 3})))
        .respond_with(text(
            400,
            "You cannot add or remove users to/from the 'All Users' group.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/permissions/membership/9"))
        .respond_with(text(404, "Not found."))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let err = api
        .add_membership(&NewMembership::new(gid(1), uid(3)))
        .await
        .unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("You cannot add or remove users to/from the 'All Users' group.")
    );
    // Not retried: a second delete would be a 404 of its own.
    assert!(api.remove_membership(&mid(9)).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn blank_group_names_are_refused_before_sending() {
    let server = MockServer::start().await;
    let api = api(&server);
    assert!(
        api.create_group(&NewGroup::new("  "))
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(
        api.rename_group(&gid(3), "")
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(MembershipId::new(0).is_none());
    assert!("0".parse::<MembershipId>().unwrap_err().is_invalid_input());
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn groups_page_through_a_bare_array_until_a_short_page() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api().unwrap();
    api.create_group(&NewGroup::new("Zeta")).await.unwrap();
    fake.clear_requests();
    let all = api
        .groups(ListGroups::new().limit(2))
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = all.iter().map(|g| g.name.clone().unwrap()).collect();
    assert_eq!(names, ["Administrators", "All Users", "Analysts", "Zeta"]);
    let queries: Vec<_> = fake
        .received_requests()
        .iter()
        .map(|r| {
            sorted_pairs(
                &r.request
                    .query
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
        })
        .collect();
    assert_eq!(
        queries,
        ["limit=2&offset=0", "limit=2&offset=2", "limit=2&offset=4"]
    );
}

#[tokio::test]
async fn a_server_that_ignores_group_paging_cannot_loop() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/permissions/group"))
        .respond_with(json(
            200,
            r#"[{"id": 1, "name": "All Users"}, {"id": 2, "name": "Administrators"}]"#,
        ))
        .mount(&server)
        .await;
    let err = api(&server)
        .groups(ListGroups::new().limit(2))
        .try_collect()
        .await
        .unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(server.received_requests().await.unwrap().len() <= 3);
}

/// The special groups as the server treats them, on the fake.
#[tokio::test]
async fn fake_keeps_the_special_groups_rules() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    // Magic groups cannot be renamed or deleted.
    for group in [ALL_USERS_GROUP, ADMIN_GROUP] {
        let err = admin.rename_group(&group, "Renamed").await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
        assert!(admin.delete_group(&group).await.is_err());
    }
    let err = admin.delete_group(&ADMIN_GROUP).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("You cannot edit or delete the 'Administrators' permissions group!")
    );
    // Nobody joins All Users; nobody clears it or Administrators.
    let err = admin
        .add_membership(&NewMembership::new(ALL_USERS_GROUP, uid(3)))
        .await
        .unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("You cannot add or remove users to/from the 'All Users' group.")
    );
    assert_eq!(
        admin
            .clear_group(&ADMIN_GROUP)
            .await
            .unwrap_err()
            .service_message(),
        Some("Invalid Request.")
    );
    assert_eq!(
        admin
            .clear_group(&ALL_USERS_GROUP)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(400)
    );
    // Administrators membership is superuser status, both ways.
    let members = admin
        .add_membership(&NewMembership::new(ADMIN_GROUP, uid(3)))
        .await
        .unwrap();
    let lucky = members.iter().find(|m| m.id == uid(3)).unwrap();
    assert_eq!(lucky.is_superuser, Some(true));
    assert_eq!(admin.get_user(&uid(3)).await.unwrap().is_superuser, Some(true));
    admin
        .remove_membership(&lucky.membership_id.unwrap())
        .await
        .unwrap();
    assert_eq!(admin.get_user(&uid(3)).await.unwrap().is_superuser, Some(false));
    // An All Users membership cannot be removed.
    let by_user = admin.list_memberships().await.unwrap();
    let everyone = by_user[&uid(3)]
        .iter()
        .find(|m| m.group_id == ALL_USERS_GROUP)
        .unwrap();
    assert_eq!(
        admin
            .remove_membership(&everyone.membership_id)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(400)
    );
    // Joining twice fails in the database; a manager flag needs Enterprise (402).
    let err = admin
        .add_membership(&NewMembership::new(ANALYSTS_GROUP, uid(2)))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let err = admin
        .add_membership(&NewMembership::new(ANALYSTS_GROUP, uid(3)).manager(true))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    // Ordinary users may do none of it.
    let rasta = session_of(&fake, USER_EMAIL);
    assert_eq!(
        rasta
            .list_groups(&ListGroups::new())
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403)
    );
    assert_eq!(
        rasta
            .list_memberships()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403)
    );
    // An unknown membership is a 404 even for them; an unknown group's delete is a 204.
    assert!(
        rasta
            .remove_membership(&mid(999))
            .await
            .unwrap_err()
            .is_not_found()
    );
    admin.delete_group(&gid(999)).await.unwrap();
}

#[tokio::test]
async fn fake_guards_the_last_admin_counting_an_admin_key() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let key = fake.api_with(userapi::metabase::auth::api_key(API_KEY)).unwrap();
    let by_user = admin.list_memberships().await.unwrap();
    // The seeded key's user is an admin too, so user 1 may leave Administrators...
    let admins: Vec<_> = by_user
        .values()
        .flatten()
        .filter(|m| m.group_id == ADMIN_GROUP)
        .map(|m| (m.user_id, m.membership_id))
        .collect();
    assert_eq!(admins.len(), 2);
    let (_, first) = admins.iter().find(|(u, _)| *u == uid(1)).unwrap();
    key.remove_membership(first).await.unwrap();
    // ...but then the key's user is the last one.
    let (_, last) = admins.iter().find(|(u, _)| *u != uid(1)).unwrap();
    let err = key.remove_membership(last).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("You cannot remove the last member of the 'Admin' group!")
    );
}

#[tokio::test]
async fn fake_group_managers_are_enterprise_only() {
    let open = FakeMetabase::start().await.unwrap();
    let admin = session_of(&open, ADMIN_EMAIL);
    // Open source: 402 first, even for an unknown membership.
    let err = admin.set_group_manager(&mid(999), true).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    let ee = FakeMetabase::builder()
        .edition(Edition::Enterprise)
        .start()
        .await
        .unwrap();
    let admin = session_of(&ee, ADMIN_EMAIL);
    assert!(
        admin
            .set_group_manager(&mid(999), true)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let members = admin
        .add_membership(&NewMembership::new(ANALYSTS_GROUP, uid(3)).manager(true))
        .await
        .unwrap();
    let lucky = members.iter().find(|m| m.id == uid(3)).unwrap();
    assert_eq!(lucky.is_group_manager, Some(true));
    let row = admin
        .set_group_manager(&lucky.membership_id.unwrap(), false)
        .await
        .unwrap();
    assert_eq!(row.is_group_manager, Some(false));
    // An admin cannot manage a group.
    let by_user = admin.list_memberships().await.unwrap();
    let crow = by_user[&uid(1)]
        .iter()
        .find(|m| m.group_id == ALL_USERS_GROUP)
        .unwrap();
    let err = admin
        .set_group_manager(&crow.membership_id, true)
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("Admin cannot be a group manager."));
}
