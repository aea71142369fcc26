//! Diadoc organizations and employees: listing without registering, registering when asked,
//! and the caller as an employee of its box.

use super::*;

#[tokio::test]
async fn get_my_organizations_asks_not_to_register_and_decodes_every_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetMyOrganizations"))
        .and(auth_is(AUTH))
        .and(header("accept", "application/json"))
        .respond_with(json(ORGANIZATIONS))
        .expect(1)
        .mount(&server)
        .await;
    let list = api(&server).get_my_organizations(false).await.unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(sent.url.query(), Some("autoRegister=false"));
    assert!(sent.body.is_empty());
    assert!(sent.headers.get("content-type").is_none());

    assert_eq!(list.organizations.len(), 2);
    let org = &list.organizations[0];
    assert_eq!(org.org_id, ORG_ID);
    assert_eq!(org.org_id_guid.as_deref(), Some(ORG_ID));
    assert_eq!(org.inn.as_deref(), Some("6671234567"));
    assert_eq!(org.short_name.as_deref(), Some("ООО \"Ромашка\""));
    assert_eq!(org.joined_diadoc_treaty, Some(true));
    assert_eq!(org.is_employee, Some(true));
    assert_eq!(org.sociability, Some(Sociability::AllOrganizations));
    assert_eq!(org.organization_type, Some(OrganizationType::Juridical));
    assert_eq!(org.ready_for_epd_status, Some(ReadyForEpdStatus::NotReady));
    let address = org.address.as_ref().unwrap().russian_address.as_ref().unwrap();
    assert_eq!(address.city.as_deref(), Some("Екатеринбург"));
    let b = &org.boxes[0];
    assert_eq!(b.id().as_str(), BOX_ID);
    assert_eq!(b.box_id.as_str(), LEGACY_BOX_ID);
    assert_eq!(b.invoice_format_version, Some(InvoiceFormatVersion::V5_02));
    assert!(org.departments.is_empty());

    // The protocol's numbers, null lists, unknown values and fields added later.
    let person = &list.organizations[1];
    assert_eq!(person.kpp.as_deref(), Some(""));
    assert_eq!(person.sociability, Some(Sociability::CounteragentsOnly));
    assert_eq!(
        person.organization_type,
        Some(OrganizationType::Unknown("7".into()))
    );
    assert_eq!(person.ready_for_epd_status, None);
    assert_eq!(
        person.boxes[0].invoice_format_version,
        Some(InvoiceFormatVersion::V5_01)
    );
    assert!(person.departments.is_empty());
    assert_eq!(person.extra["Comment"], "");
    assert!(person.extra.contains_key("DisconnectionFromOperatorDate"));
}

#[tokio::test]
async fn get_my_organizations_registers_only_when_asked_and_then_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetMyOrganizations"))
        .respond_with(text(503, "busy"))
        .mount(&server)
        .await;
    let diadoc = api(&server);
    diadoc.get_my_organizations(true).await.unwrap_err();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1, "a registering call is never repeated");
    assert_eq!(sent[0].url.query(), Some("autoRegister=true"));

    diadoc.get_my_organizations(false).await.unwrap_err();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(
        sent.len(),
        4,
        "the read is retried by the default policy (3 attempts)"
    );
    assert!(
        sent[1..]
            .iter()
            .all(|r| r.url.query() == Some("autoRegister=false"))
    );
}

#[tokio::test]
async fn get_my_organizations_keeps_the_409_for_too_many_registrations() {
    let server = MockServer::start().await;
    let words = "Too many registrations today. There were 3 attempts, but max allowed per day is 3";
    Mock::given(method("GET"))
        .respond_with(text(409, words))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).get_my_organizations(true).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.service_message(), Some(words));
}

#[tokio::test]
async fn get_my_employee_sends_the_box_id_and_decodes_the_employee() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/GetMyEmployee"))
        .and(query_param("boxId", LEGACY_BOX_ID))
        .and(auth_is(AUTH))
        .and(header("accept", "application/json"))
        .respond_with(json(EMPLOYEE))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_my_employee(&bid(LEGACY_BOX_ID)).await.unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        sent.url.query(),
        Some("boxId=9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6%40diadoc.ru")
    );
    assert_eq!(me.user.user_id, "fccbb0a6-0700-4401-81a6-8a6a083e12e6");
    assert_eq!(me.user.full_name.unwrap().first_name.as_deref(), Some("Иван"));
    assert_eq!(me.position.as_deref(), Some("Бухгалтер"));
    assert_eq!(me.can_be_invited_for_chat, Some(true));
    let perms = me.permissions.unwrap();
    assert_eq!(perms.is_administrator, Some(false));
    assert_eq!(
        perms.document_access_level,
        Some(DocumentAccessLevel::AllDocuments)
    );
    assert_eq!(
        perms.user_department_id.as_deref(),
        Some(userapi::diadoc::HEAD_DEPARTMENT)
    );
    assert_eq!(perms.allows("SignDocuments"), Some(true));
    assert_eq!(perms.allows("AddResolutions"), Some(false));
    assert_eq!(perms.allows("NoSuchAction"), None);
    assert!(perms.selected_department_ids.is_empty() && perms.authorization_permission.is_none());
    let created = me.creation_timestamp.unwrap();
    assert_eq!(
        created.date_time.as_ref().map(|t| t.as_str()),
        Some("2018-11-01T05:40:17.6953926Z")
    );
    let at = created.to_system_time().unwrap();
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert_eq!(since.as_secs(), 1_541_050_817);
    assert_eq!(since.subsec_nanos(), 695_392_600);
}

#[tokio::test]
async fn get_my_employee_refuses_an_empty_box_and_keeps_402_and_403() {
    const PAID_UP: &str = "11111111-2222-3333-4444-555555555555";
    const ELSEWHERE: &str = "66666666-7777-8888-9999-aaaaaaaaaaaa";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("boxId", PAID_UP))
        .respond_with(text(402, "Доступ запрещён. Необходима оплата тарифа АПИ"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("boxId", ELSEWHERE))
        .respond_with(text(403, &format!("Access to Box [{ELSEWHERE}] is denied")))
        .mount(&server)
        .await;
    let diadoc = api(&server);
    // An empty box id cannot be built, so it is never sent.
    for empty in ["", "  "] {
        let err = BoxId::new(empty).unwrap_err();
        assert!(err.is_invalid_input(), "{err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    let err = diadoc.get_my_employee(&bid(PAID_UP)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    assert!(!err.is_retryable());
    let err = diadoc.get_my_employee(&bid(ELSEWHERE)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        err.service_message(),
        Some(format!("Access to Box [{ELSEWHERE}] is denied").as_str())
    );
}

#[tokio::test]
async fn fake_lists_the_callers_organizations_and_never_registers() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
    let list = diadoc.get_my_organizations(false).await.unwrap();
    assert_eq!(list.organizations.len(), 1, "only where the user is an employee");
    let org = &list.organizations[0];
    assert_eq!(org.org_id, ORG_ID);
    assert_eq!(org.is_employee, Some(true));
    assert_eq!(org.boxes[0].id().as_str(), BOX_ID);
    assert_eq!(org.boxes[0].box_id.as_str(), LEGACY_BOX_ID);
    assert_eq!(fake.registration_requests(), 0);

    let again = diadoc.get_my_organizations(true).await.unwrap();
    assert_eq!(again, list, "a password user is never registered anywhere");
    assert_eq!(fake.registration_requests(), 1);
    // Leaving the parameter out is asking for registration too.
    let _: serde_json::Value = diadoc
        .request(userapi::Method::GET, &["GetMyOrganizations"])
        .send()
        .await
        .unwrap();
    assert_eq!(fake.registration_requests(), 2);
    let err = diadoc
        .request(userapi::Method::GET, &["GetMyOrganizations"])
        .query("autoRegister", "maybe")
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn fake_shows_the_caller_as_an_employee_of_its_box_only() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api().unwrap();
    for id in [BOX_ID, LEGACY_BOX_ID] {
        let me = diadoc.get_my_employee(&bid(id)).await.unwrap();
        assert_eq!(me.user, fake.user());
        assert_eq!(me.position.as_deref(), Some("Бухгалтер"));
        let perms = me.permissions.unwrap();
        assert_eq!(perms.is_administrator, Some(false));
        assert_eq!(perms.allows("SignDocuments"), Some(true));
    }
    let err = diadoc.get_my_employee(&bid(OTHER_BOX_ID)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        err.service_message(),
        Some(format!("Access to Box [{OTHER_BOX_ID}] is denied").as_str())
    );
    // A malformed id cannot be built; sent raw, the fake refuses it with its own check.
    assert!(BoxId::new("not-a-box").unwrap_err().is_invalid_input());
    let err = diadoc
        .request(userapi::Method::GET, &["GetMyEmployee"])
        .query("boxId", "not-a-box")
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    // The employee record shows the user as they are now.
    diadoc
        .update_me(&UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna")))
        .await
        .unwrap();
    let me = diadoc.get_my_employee(&bid(BOX_ID)).await.unwrap();
    assert_eq!(me.user.full_name.unwrap().last_name.as_deref(), Some("Ivanova"));
}

#[tokio::test]
async fn fake_seeds_users_organizations_and_employees_from_the_models() {
    let fake = FakeDiadoc::start().await.unwrap();
    let password = Password::new("N3w-user-pass");
    let mut user = UserV2::default();
    user.login = Some("new.user@kontur.ru".into());
    user.full_name = Some(FullName::new("Orlova", "Vera"));
    user.is_registered = Some(true);
    let user = fake.add_user(user, &password);
    assert!(!user.user_id.is_nil(), "an id is given");
    let mut b = DiadocBox::default();
    b.title = Some("Новая".into());
    let mut org = Organization::default();
    org.inn = Some("6600000001".into());
    org.full_name = Some("ООО \"Новая\"".into());
    org.boxes.push(b);
    let org = fake.add_organization(org);
    let box_id = org.boxes[0].id().clone();
    assert!(org.boxes[0].box_id.as_str().ends_with("@diadoc.ru"));
    let mut employee = Employee::default();
    employee.user.user_id = user.user_id.clone();
    employee.position = Some("Юрист".into());
    let added = fake.add_employee(box_id.as_str(), employee);
    assert_eq!(added.user, user, "the stored user fills the record");

    let diadoc = fake
        .api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))
        .unwrap();
    diadoc.login("new.user@kontur.ru", &password).await.unwrap();
    let list = diadoc.get_my_organizations(false).await.unwrap();
    assert_eq!(list.organizations.len(), 1);
    assert_eq!(list.organizations[0].org_id, org.org_id);
    let me = diadoc.get_my_employee(&box_id).await.unwrap();
    assert_eq!(me.user.user_id, user.user_id);
    assert_eq!(me.position.as_deref(), Some("Юрист"));
    assert!(
        diadoc
            .get_my_employee(&bid(BOX_ID))
            .await
            .unwrap_err()
            .status()
            .is_some()
    );

    let token = fake.issue_token_for(user.user_id.as_str()).unwrap();
    let other = fake
        .api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, Some(token)))
        .unwrap();
    assert_eq!(
        other.get_me().await.unwrap().login.as_deref(),
        Some("new.user@kontur.ru")
    );
    assert!(fake.issue_token_for("no-such-user").is_none());
}

#[tokio::test]
async fn box_ids_refuse_bad_values_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(EMPLOYEE))
        .expect(0)
        .mount(&server)
        .await;
    let diadoc = api(&server);
    for bad in [
        "",
        " ",
        "not-a-box",
        "box&boxId=other",
        "9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c",
        "9a4d2c1e-5b6f-47a8-b9c0-d1e2f3a4b5c6-00",
        "9a4d2c1e5b6f47a8b9c0d1e2f3a4b5c6@evil.ru",
        "9a4d2c1e5b6f47a8b9c0d1e2f3a4b5cz@diadoc.ru",
    ] {
        // `get_my_employee` takes only a `BoxId`, so a bad one stops at its construction.
        let err = match bad.parse::<BoxId>() {
            Ok(id) => diadoc.get_my_employee(&id).await.map(drop).unwrap_err(),
            Err(e) => e,
        };
        assert!(err.is_invalid_input(), "{bad:?}: {err:?}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[test]
fn box_ids_decode_strictly_in_both_forms() {
    let b: DiadocBox = serde_json::from_value(json!({
        "BoxId": LEGACY_BOX_ID, "BoxIdGuid": BOX_ID, "Title": "t", "Later": 1
    }))
    .unwrap();
    assert_eq!(b.id(), &bid(BOX_ID));
    assert!(b.box_id.is_legacy() && !b.id().is_legacy());
    assert_eq!(b.extra["Later"], 1);
    assert!(serde_json::from_value::<DiadocBox>(json!({"BoxId": "b@diadoc.ru"})).is_err());
    assert!(serde_json::from_value::<DiadocBox>(json!({"BoxId": LEGACY_BOX_ID, "BoxIdGuid": ""})).is_err());
    assert_eq!(serde_json::to_value(bid(BOX_ID)).unwrap(), json!(BOX_ID));
    assert!(BoxId::default().is_nil());
}
