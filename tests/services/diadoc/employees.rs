//! Diadoc employee administration: the five calls on the wire, and the fake's rules.

use super::*;
use userapi::diadoc::{
    EmployeeActionName, EmployeeList, EmployeeToCreate, EmployeeToUpdate, HEAD_DEPARTMENT, ListEmployees,
    UserId,
};
use userapi_fake::diadoc::{ADMIN_USER_ID, OTHER_USER_ID};

const ANNA: &str = "fccbb0a6-0700-4401-81a6-8a6a083e12e6";

fn uid(s: &str) -> UserId {
    UserId::new(s).unwrap()
}

/// The query of a received request as sorted pairs.
fn pairs(req: &Request) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
    p.sort();
    p
}

fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = p
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    v
}

fn list_body(n: usize, total: usize) -> String {
    let employees: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut e: serde_json::Value = serde_json::from_str(EMPLOYEE).unwrap();
            e["User"]["UserId"] = json!(format!("fccbb0a6-0700-4401-81a6-{i:012}"));
            e
        })
        .collect();
    json!({"Employees": employees, "TotalCount": total, "Cursor": "kept"}).to_string()
}

#[tokio::test]
async fn list_employees_sends_the_box_page_and_count_and_reads_the_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetEmployees"))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/GetEmployees"))
        .and(auth_is(AUTH))
        .and(header("accept", "application/json"))
        .respond_with(json(&list_body(2, 61)))
        .expect(1)
        .mount(&server)
        .await;
    let page: EmployeeList = api(&server)
        .list_employees(&bid(BOX_ID), &ListEmployees::new().page(2).count(2))
        .await
        .unwrap();
    assert_eq!(page.total_count, Some(61));
    assert_eq!(page.employees.len(), 2);
    assert_eq!(
        page.employees[0].user.user_id,
        "fccbb0a6-0700-4401-81a6-000000000000"
    );
    assert_eq!(
        page.employees[1]
            .permissions
            .as_ref()
            .unwrap()
            .allows(EmployeeActionName::SignDocuments),
        Some(true)
    );
    assert_eq!(page.extra["Cursor"], "kept");
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2, "a read is retried");
    assert_eq!(
        pairs(&sent[1]),
        owned(&[("boxId", BOX_ID), ("page", "2"), ("count", "2")])
    );
    assert!(sent[1].body.is_empty());
    assert!(sent[1].headers.get("content-type").is_none());
}

#[tokio::test]
async fn list_employees_without_options_sends_only_the_box() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetEmployees"))
        .respond_with(json(r#"{"Employees": [], "TotalCount": 0}"#))
        .expect(1)
        .mount(&server)
        .await;
    let page = api(&server)
        .list_employees(&bid(LEGACY_BOX_ID), &ListEmployees::new())
        .await
        .unwrap();
    assert!(page.employees.is_empty());
    assert_eq!(page.total_count, Some(0));
    let sent = server.received_requests().await.unwrap();
    assert_eq!(pairs(&sent[0]), owned(&[("boxId", LEGACY_BOX_ID)]));
}

#[tokio::test]
async fn out_of_range_pages_and_counts_are_refused_before_sending() {
    let server = MockServer::start().await;
    let diadoc = api(&server);
    for query in [
        ListEmployees::new().page(0),
        ListEmployees::new().count(0),
        ListEmployees::new().count(51),
        ListEmployees::new().count(u32::MAX),
    ] {
        let err = diadoc.list_employees(&bid(BOX_ID), &query).await.unwrap_err();
        assert!(err.is_invalid_input(), "{query:?}: {err:?}");
        let mut pager = diadoc.employees(&bid(BOX_ID), query);
        assert!(pager.next().await.unwrap().unwrap_err().is_invalid_input());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn hostile_user_ids_are_refused_before_anything_is_sent() {
    for bad in [
        "",
        "me",
        "..",
        "d064f6ba-7b81-432d-a41d-93b23eebe579&boxId=x",
        "d064f6ba-7b81-432d-a41d-93b23eebe57\u{0}",
        "d064f6ba-7b81-432d-a41d-93b23eebe57é",
        "d064f6ba7b81432da41d93b23eebe579",
        &"a".repeat(100_000),
    ] {
        let err = UserId::new(bad).unwrap_err();
        assert!(err.is_invalid_input(), "{bad:?}");
        assert!(bad.parse::<UserId>().is_err());
    }
    // Ids in responses decode strictly.
    assert!(
        serde_json::from_str::<userapi::diadoc::UserV2>(r#"{"UserId": "x", "IsRegistered": true}"#).is_err()
    );
    let upper = uid("D064F6BA-7B81-432D-A41D-93B23EEBE579");
    assert_eq!(upper.to_string(), "D064F6BA-7B81-432D-A41D-93B23EEBE579");
}

#[tokio::test]
async fn the_pager_asks_for_numbered_pages_until_the_total() {
    let server = MockServer::start().await;
    for (page, n) in [("1", 2), ("2", 2), ("3", 1)] {
        Mock::given(method("GET"))
            .and(path("/GetEmployees"))
            .and(query_param("page", page))
            .and(query_param("count", "2"))
            .respond_with(json(&{
                let mut body: serde_json::Value = serde_json::from_str(&list_body(n, 5)).unwrap();
                for (i, e) in body["Employees"].as_array_mut().unwrap().iter_mut().enumerate() {
                    e["User"]["UserId"] = json!(format!("fccbb0a6-0700-4401-81a6-0000000000{page}{i}"));
                }
                body.to_string()
            }))
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut pager = api(&server)
        .employees(&bid(BOX_ID), ListEmployees::new().count(2))
        .concurrency(1);
    let mut ids = Vec::new();
    while let Some(e) = pager.next().await {
        ids.push(e.unwrap().user.user_id.to_string());
    }
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[0], "fccbb0a6-0700-4401-81a6-000000000010");
    assert_eq!(ids[4], "fccbb0a6-0700-4401-81a6-000000000030");
    assert_eq!(pager.total(), Some(5));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn get_employee_sends_both_ids_and_keeps_the_404_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetEmployee"))
        .and(query_param("userId", ANNA))
        .respond_with(json(EMPLOYEE))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/GetEmployee"))
        .and(query_param("userId", USER_ID))
        .respond_with(text(404, "User not found").insert_header("x-diadoc-errorcode", "Http.NotFound"))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api(&server);
    let e = diadoc.get_employee(&bid(BOX_ID), &uid(ANNA)).await.unwrap();
    assert_eq!(e.user.user_id, ANNA);
    assert_eq!(e.position.as_deref(), Some("Бухгалтер"));
    let err = diadoc
        .get_employee(&bid(BOX_ID), &uid(USER_ID))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.service_message(), Some("User not found"));
    assert_eq!(err.http().unwrap().service().code(), Some("Http.NotFound"));
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2, "a 404 is not retried");
    assert_eq!(pairs(&sent[0]), owned(&[("boxId", BOX_ID), ("userId", ANNA)]));
    assert!(auth_is(AUTH)(&sent[0]));
}

#[tokio::test]
async fn create_employee_posts_the_documented_body_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/CreateEmployee"))
        .and(query_param("boxId", BOX_ID))
        .and(auth_is(AUTH))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({
            "Credentials": {"Login": {"Login": "email@example.com",
                                      "FullName": {"LastName": "Иванов", "FirstName": "Иван", "MiddleName": "Иванович"}}},
            "Position": "Бухгалтер",
            "CanBeInvitedForChat": false,
            "Permissions": {"UserDepartmentId": "15d57c9b-645d-4710-85fa-b166e2cfcfc8", "IsAdministrator": false,
                            "DocumentAccessLevel": "DepartmentAndSubdepartments",
                            "Actions": [{"Name": "CreateDocuments", "IsAllowed": true}, {"Name": "SignDocuments", "IsAllowed": true}]}
        })))
        .respond_with(json(EMPLOYEE))
        .expect(1)
        .mount(&server)
        .await;
    let new = EmployeeToCreate::by_login(
        "email@example.com",
        EmployeePermissions::new(
            "15d57c9b-645d-4710-85fa-b166e2cfcfc8",
            DocumentAccessLevel::DepartmentAndSubdepartments,
        )
        .action(EmployeeActionName::CreateDocuments, true)
        .action("SignDocuments", true),
    )
    .full_name(FullName::new("Иванов", "Иван").middle_name("Иванович"))
    .position("Бухгалтер");
    let created = api(&server).create_employee(&bid(BOX_ID), &new).await.unwrap();
    assert_eq!(created.user.user_id, ANNA);
    assert_eq!(
        pairs(&server.received_requests().await.unwrap()[0]),
        owned(&[("boxId", BOX_ID)])
    );
}

#[tokio::test]
async fn create_employee_by_certificate_sends_base64_and_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/CreateEmployee"))
        .and(body_json(json!({
            "Credentials": {"Certificate": {"Content": "MIIB/w==", "AccessBasis": "Доверенность №1", "Email": "cert@example.com"}},
            "CanBeInvitedForChat": true,
            "Permissions": {"UserDepartmentId": HEAD_DEPARTMENT, "IsAdministrator": true,
                            "DocumentAccessLevel": "AllDocuments", "Actions": []}
        })))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    let new = EmployeeToCreate::by_certificate(
        vec![0x30, 0x82, 0x01, 0xff],
        EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments).administrator(true),
    )
    .email("cert@example.com")
    .access_basis("Доверенность №1")
    .can_be_invited_for_chat(true);
    let err = api(&server)
        .create_employee(&bid(BOX_ID), &new)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn bad_create_bodies_are_refused_before_sending() {
    let server = MockServer::start().await;
    let diadoc = api(&server);
    let perms = || EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments);
    let mut no_level = perms();
    no_level.document_access_level = None;
    for new in [
        EmployeeToCreate::by_login("not-an-email", perms()),
        EmployeeToCreate::by_login("a@b.ru", perms()).full_name(FullName::new(" ", "Иван")),
        EmployeeToCreate::by_login("a@b.ru", no_level),
        EmployeeToCreate::by_login(
            "a@b.ru",
            EmployeePermissions::new("../head", DocumentAccessLevel::AllDocuments),
        ),
        EmployeeToCreate::by_login(
            "a@b.ru",
            EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::from("Everything")),
        ),
        EmployeeToCreate::by_certificate(Vec::new(), perms()),
    ] {
        let err = diadoc.create_employee(&bid(BOX_ID), &new).await.unwrap_err();
        assert!(err.is_invalid_input(), "{new:?}: {err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn update_employee_sends_wrappers_for_what_is_set_and_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/UpdateEmployee"))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_json(json!({
            "Permissions": {
                "Department": {"DepartmentId": "7e49e042-8a0f-478d-a4e0-5e9273c47b20"},
                "IsAdministrator": {"IsAdministrator": true},
                "DocumentAccessLevel": {"DocumentAccessLevel": "SelectedDepartments"},
                "SelectedDepartments": {"SelectedDepartmentIds": ["7e49e042-8a0f-478d-a4e0-5e9273c47b20"]},
                "Actions": [{"Name": "SignDocuments", "IsAllowed": false}],
                "AuthorizationPermission": {"IsBlocked": true, "Comment": "в отпуске"}
            },
            "Position": {"Position": "Бухгалтер"},
            "CanBeInvitedForChat": {"CanBeInvitedForChat": true}
        })))
        .respond_with(json(EMPLOYEE))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/UpdateEmployee"))
        .and(body_json(json!({"Position": {}})))
        .respond_with(text(500, "The server encountered an internal error"))
        .expect(1)
        .mount(&server)
        .await;
    let diadoc = api(&server);
    let update = EmployeeToUpdate::new()
        .department("7e49e042-8a0f-478d-a4e0-5e9273c47b20")
        .administrator(true)
        .document_access_level(DocumentAccessLevel::SelectedDepartments)
        .selected_departments(["7e49e042-8a0f-478d-a4e0-5e9273c47b20"])
        .action(EmployeeActionName::SignDocuments, false)
        .block("в отпуске")
        .position("Бухгалтер")
        .can_be_invited_for_chat(true);
    let e = diadoc
        .update_employee(&bid(BOX_ID), &uid(ANNA), &update)
        .await
        .unwrap();
    assert_eq!(e.user.user_id, ANNA);
    let err = diadoc
        .update_employee(
            &bid(BOX_ID),
            &uid(ANNA),
            &EmployeeToUpdate::new().clear_position(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2, "an update is never repeated");
    assert_eq!(pairs(&sent[0]), owned(&[("boxId", BOX_ID), ("userId", ANNA)]));
    // An empty update is refused before sending.
    let err = diadoc
        .update_employee(&bid(BOX_ID), &uid(ANNA), &EmployeeToUpdate::new())
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn delete_employee_is_a_bodyless_post_retried_as_idempotent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/DeleteEmployee"))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/DeleteEmployee"))
        .and(auth_is(AUTH))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    api(&server)
        .delete_employee(&bid(BOX_ID), &uid(ANNA))
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(pairs(&sent[1]), owned(&[("boxId", BOX_ID), ("userId", ANNA)]));
    assert!(sent[1].body.is_empty());
    assert!(sent[1].headers.get("content-type").is_none());
    assert_eq!(
        sent[1]
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
}

#[tokio::test]
async fn a_403_for_a_non_admin_keeps_its_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(text(403, &format!("Access to Box [{BOX_ID}] is denied")))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .list_employees(&bid(BOX_ID), &ListEmployees::new())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        err.service_message(),
        Some(format!("Access to Box [{BOX_ID}] is denied").as_str())
    );
}

// --- the fake ---------------------------------------------------------------------------

#[tokio::test]
async fn fake_lets_only_administrators_of_the_box_in() {
    let fake = FakeDiadoc::start().await.unwrap();
    let anna = fake.api().unwrap(); // an employee, not an administrator
    let b = bid(BOX_ID);
    let new = EmployeeToCreate::by_login(
        "new@example.com",
        EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments),
    );
    let update = EmployeeToUpdate::new().position("x");
    let statuses = [
        anna.list_employees(&b, &ListEmployees::new()).await.unwrap_err(),
        anna.get_employee(&b, &uid(ADMIN_USER_ID)).await.unwrap_err(),
        anna.create_employee(&b, &new).await.unwrap_err(),
        anna.update_employee(&b, &uid(USER_ID), &update)
            .await
            .unwrap_err(),
        anna.delete_employee(&b, &uid(USER_ID)).await.unwrap_err(),
    ];
    for err in statuses {
        assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err:?}");
        assert!(err.service_message().unwrap().starts_with("Access to Box ["));
    }
    // The administrator of one box is nobody in another.
    let admin = fake.api_with(fake.admin_auth()).unwrap();
    let err = admin
        .get_employee(&bid(OTHER_BOX_ID), &uid(OTHER_USER_ID))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    // A box that does not exist: 404 for the list, as documented.
    let err = admin
        .list_employees(
            &bid("00000000-0000-4000-8000-00000000abcd"),
            &ListEmployees::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn fake_pages_with_the_total_and_refuses_counts_out_of_range() {
    let fake = FakeDiadoc::start().await.unwrap();
    let admin = fake.api_with(fake.admin_auth()).unwrap();
    let b = bid(BOX_ID);
    for i in 0..3 {
        let new = EmployeeToCreate::by_login(
            format!("new{i}@example.com"),
            EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments),
        );
        admin.create_employee(&b, &new).await.unwrap();
    }
    fake.clear_requests();
    let all = admin
        .employees(&b, ListEmployees::new().count(2))
        .concurrency(1)
        .try_collect()
        .await
        .unwrap();
    let logins: Vec<&str> = all.iter().map(|e| e.user.login.as_deref().unwrap()).collect();
    // The new, unregistered users come first.
    assert_eq!(
        logins,
        [
            "new0@example.com",
            "new1@example.com",
            "new2@example.com",
            LOGIN,
            "admin@kontur.ru"
        ]
    );
    let seen: Vec<Vec<(String, String)>> = fake
        .received_requests()
        .iter()
        .map(|r| {
            let mut q = r.query.clone();
            q.sort();
            q
        })
        .collect();
    assert_eq!(
        seen,
        [1, 2, 3]
            .iter()
            .map(|p| owned(&[("boxId", BOX_ID), ("count", "2"), ("page", &p.to_string())]))
            .collect::<Vec<_>>()
    );
    let past = admin
        .list_employees(&b, &ListEmployees::new().page(9))
        .await
        .unwrap();
    assert!(past.employees.is_empty());
    assert_eq!(past.total_count, Some(5));
    // Sent raw, the fake refuses what the client would have refused.
    for (k, v) in [("count", "51"), ("count", "0"), ("page", "0"), ("page", "x")] {
        let err = admin
            .request(userapi::Method::GET, &["GetEmployees"])
            .query("boxId", BOX_ID)
            .query(k, v)
            .send::<serde_json::Value>()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{k}={v}");
    }
}

#[tokio::test]
async fn fake_creates_updates_and_deletes_employees_as_documented() {
    let fake = FakeDiadoc::start().await.unwrap();
    let admin = fake.api_with(fake.admin_auth()).unwrap();
    let b = bid(BOX_ID);
    let new = EmployeeToCreate::by_login(
        "Ivan@Example.com",
        EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments)
            .action(EmployeeActionName::SignDocuments, true),
    )
    .full_name(FullName::new("Иванов", "Иван"))
    .position("Бухгалтер");
    let ivan = admin.create_employee(&b, &new).await.unwrap();
    assert_eq!(ivan.user.is_registered, Some(false));
    assert_eq!(
        ivan.user.full_name.as_ref().unwrap().last_name.as_deref(),
        Some("Иванов")
    );
    assert!(
        ivan.creation_timestamp
            .as_ref()
            .unwrap()
            .to_system_time()
            .is_some()
    );
    let id = ivan.user.user_id.clone();
    assert_eq!(admin.get_employee(&b, &id).await.unwrap(), ivan);
    // The same login again: 409.
    let err = admin.create_employee(&b, &new).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    // An existing user (Anna's colleague from another organization) is added, not created.
    let oleg = EmployeeToCreate::by_login(
        TAKEN_LOGIN,
        EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::DepartmentOnly),
    );
    let added = admin.create_employee(&b, &oleg).await.unwrap();
    assert_eq!(added.user.user_id, OTHER_USER_ID);
    assert_eq!(added.user.is_registered, Some(true));

    // Update: only what is sent changes; actions are a delta.
    let update = EmployeeToUpdate::new()
        .position("Главный бухгалтер")
        .action(EmployeeActionName::ManageCounteragents, true)
        .block("в отпуске");
    let after = admin.update_employee(&b, &id, &update).await.unwrap();
    assert_eq!(after.position.as_deref(), Some("Главный бухгалтер"));
    let perms = after.permissions.clone().unwrap();
    assert_eq!(perms.allows(EmployeeActionName::SignDocuments), Some(true));
    assert_eq!(perms.allows(EmployeeActionName::ManageCounteragents), Some(true));
    assert_eq!(
        perms.document_access_level,
        Some(DocumentAccessLevel::AllDocuments)
    );
    let auth = perms.authorization_permission.unwrap();
    assert_eq!(
        (auth.is_blocked, auth.comment.as_deref()),
        (Some(true), Some("в отпуске"))
    );
    let cleared = admin
        .update_employee(&b, &id, &EmployeeToUpdate::new().clear_position().unblock())
        .await
        .unwrap();
    assert_eq!(cleared.position, None);
    // The create body's flat shape is the wrong one for an update: refused, nothing changes.
    let err = admin
        .request(userapi::Method::POST, &["UpdateEmployee"])
        .query("boxId", BOX_ID)
        .query("userId", id.as_str())
        .json(&json!({"Position": "flat", "CanBeInvitedForChat": {"CanBeInvitedForChat": false}}))
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(admin.get_employee(&b, &id).await.unwrap(), cleared);
    // A department the organization does not have: 400.
    let err = admin
        .update_employee(
            &b,
            &id,
            &EmployeeToUpdate::new().department("7e49e042-8a0f-478d-a4e0-5e9273c47b20"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));

    // Delete: twice is fine, then the employee is gone; someone who never was one is 404.
    admin.delete_employee(&b, &id).await.unwrap();
    admin.delete_employee(&b, &id).await.unwrap();
    assert!(admin.get_employee(&b, &id).await.unwrap_err().is_not_found());
    let err = admin
        .update_employee(&b, &id, &EmployeeToUpdate::new().position("x"))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    let never = uid("00000000-0000-4000-8000-0000000fffff");
    assert!(
        admin
            .delete_employee(&b, &never)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let last = fake.received_requests().pop().unwrap();
    assert_eq!(last.method, userapi::Method::POST);
    assert_eq!(last.path, "/DeleteEmployee");
    // Deleted employees can be added back.
    let back = admin.create_employee(&b, &new).await.unwrap();
    assert_eq!(back.user.user_id, id);
}

#[tokio::test]
async fn fake_answers_protobuf_to_an_employee_list_without_accept() {
    let fake = FakeDiadoc::start().await.unwrap();
    let auth = fake.admin_auth();
    let token = auth
        .source::<userapi::diadoc::auth::DiadocAuth>()
        .unwrap()
        .token()
        .unwrap()
        .expose()
        .to_owned();
    let response = reqwest::Client::new()
        .get(
            fake.base_url()
                .join(&format!("GetEmployees?boxId={BOX_ID}"))
                .unwrap(),
        )
        .header(
            "authorization",
            format!("DiadocAuth ddauth_api_client_id={CLIENT_ID},ddauth_token={token}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
}
