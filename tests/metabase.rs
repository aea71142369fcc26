#![cfg(feature = "metabase")]
//! Metabase on the wire (wiremock) and against its fake.

mod common;

use common::text;
use serde_json::json;
use userapi::metabase::{
    ApiKeyUpdate, AttributeSource, GroupMembership, ListUsers, Metabase, Modal, NewApiKey, NewUser,
    PasswordChanged, Tenancy, UserKeyValue, UserStatus, UserUpdate,
};
use userapi::models::Patch;
use userapi::{Auth, Error, Secret};
use userapi_fake::metabase::{
    ADMIN_EMAIL, ADMIN_GROUP, ADMIN_PASSWORD, ALL_USERS_GROUP, ANALYSTS_GROUP, API_KEY, FakeMetabase,
    USER_EMAIL, USER_PASSWORD,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CURRENT: &str = include_str!("fixtures/metabase/current.json");
const BY_ID: &str = include_str!("fixtures/metabase/user_by_id.json");
const LIST: &str = include_str!("fixtures/metabase/list.json");
const BARE: &str = include_str!("fixtures/metabase/list_bare_array.json");
const SESSION: &str = "3d1f2f7c-6a0e-4b8a-9c55-0d5b2f1e8a11";

fn api_with(server: &MockServer, auth: Auth) -> Metabase {
    common::client(server, auth).metabase()
}

fn api(server: &MockServer) -> Metabase {
    api_with(server, Auth::metabase_session(SESSION))
}

/// A client of the fake with a fresh session of the user with this email.
fn session_of(fake: &FakeMetabase, email: &str) -> Metabase {
    let session = fake.add_session(email).unwrap();
    fake.api_with(Auth::metabase_session(session)).unwrap()
}

fn json(status: u16, raw: &str) -> ResponseTemplate {
    common::body(status, raw, "application/json;charset=utf-8")
}

#[tokio::test]
async fn get_me_sends_the_session_header_and_decodes_current_only_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .and(header("x-metabase-session", SESSION))
        .and(header("accept", "application/json"))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.id, 3);
    assert_eq!(me.common_name.as_deref(), Some("Rasta Toucan"));
    assert_eq!(
        me.date_joined.as_ref().unwrap().as_str(),
        "2024-03-01T10:15:30.123456Z"
    );
    assert!(me.last_login.as_ref().unwrap().to_system_time().is_some());
    assert_eq!(me.group_ids, Some(vec![4, 1]));
    assert_eq!(me.personal_collection_id, Some(7));
    assert_eq!(me.tenant_collection_id, None);
    assert_eq!(me.login_attributes.as_ref().unwrap()["region"], "EU");
    assert_eq!(me.is_installer, Some(false));
    assert_eq!(me.custom_homepage.as_ref().unwrap().dashboard_id, Some(12));
    let perms = me.permissions.as_ref().unwrap();
    assert_eq!(
        (perms.can_create_queries, perms.can_create_native_queries),
        (Some(true), Some(false))
    );
    assert_eq!(perms.extra["can_do_new_thing"], true);
    assert_eq!(me.extra["is_new_in_v60"], "yes");
}

#[tokio::test]
async fn an_api_key_goes_in_x_api_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-api-key", "mb_abcdefghijkl"))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    api_with(&server, Auth::metabase_api_key("mb_abcdefghijkl"))
        .get_me()
        .await
        .unwrap();
    let seen = &server.received_requests().await.unwrap()[0];
    assert!(seen.headers.get("x-metabase-session").is_none());
}

#[tokio::test]
async fn get_user_decodes_memberships_and_structured_attributes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/3"))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let user = api(&server).get_user(3).await.unwrap();
    assert_eq!(user.is_active, Some(false));
    assert_eq!(user.last_login, None);
    let memberships = user.user_group_memberships.unwrap();
    assert_eq!(memberships[1], GroupMembership::new(4).manager(true));
    let attrs = user.structured_attributes.unwrap();
    assert_eq!(attrs["region"].source, Some(AttributeSource::User));
    assert_eq!(
        attrs["team"].source,
        Some(AttributeSource::Unknown("scim".into()))
    );
    assert_eq!(
        attrs["team"].original.as_ref().unwrap().value.as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn a_zero_id_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(200, BY_ID))
        .expect(0)
        .mount(&server)
        .await;
    let api = api(&server);
    let results = [
        api.get_user(0).await.map(drop),
        api.update_user(0, &UserUpdate::new().first_name("x"))
            .await
            .map(drop),
        api.change_password(0, &Secret::new("n3w-pass"), None)
            .await
            .map(drop),
        api.reactivate_user(0).await.map(drop),
        api.deactivate_user(0).await,
        api.dismiss_modal(0, Modal::QbNewb).await,
    ];
    for r in results {
        let err = r.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains("positive integer"), "{err}");
    }
}

#[tokio::test]
async fn list_users_sends_every_filter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(json(200, LIST))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListUsers::new()
        .status(UserStatus::Deactivated)
        .include_deactivated(false)
        .query("ras ta")
        .group_id(4)
        .tenancy(Tenancy::Internal)
        .tenant_id(9)
        .is_data_analyst(true)
        .can_access_data_studio(false)
        .limit(2)
        .offset(0);
    let page = api(&server).list_users(&query).await.unwrap();
    assert_eq!((page.total, page.limit, page.offset), (Some(3), Some(2), Some(0)));
    assert_eq!(page.data[1].group_ids, Some(vec![1]));
    let url = &server.received_requests().await.unwrap()[0].url;
    assert_eq!(
        url.query(),
        Some(
            "status=deactivated&include_deactivated=false&query=ras+ta&group_id=4&tenancy=internal&tenant_id=9\
             &is_data_analyst=true&can_access_data_studio=false&limit=2&offset=0"
        )
    );
}

#[tokio::test]
async fn an_old_servers_bare_array_decodes_as_a_page_without_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, BARE))
        .mount(&server)
        .await;
    let page = api(&server).list_users(&ListUsers::new()).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!((page.total, page.limit, page.offset), (None, None, None));
}

/// Serves `total` users in pages, honouring `limit` and `offset`.
fn paging(total: u64) -> impl Fn(&Request) -> ResponseTemplate {
    move |req: &Request| {
        let q = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let (limit, offset) = (q("limit").unwrap_or(50), q("offset").unwrap_or(0));
        let data: Vec<_> = (offset..(offset + limit).min(total))
            .map(|i| json!({"id": i + 1}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": data, "total": total, "limit": limit, "offset": offset}))
    }
}

#[tokio::test]
async fn the_stream_walks_every_page_and_stops_at_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(paging(25))
        .expect(3)
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().query("a").limit(10));
    let mut ids = Vec::new();
    while let Some(user) = stream.next().await {
        ids.push(user.unwrap().id);
    }
    assert_eq!(ids, (1..=25).collect::<Vec<_>>());
    assert_eq!(stream.total(), Some(25));
    let mut offsets: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect();
    // The first page alone (it tells the total), then the rest at once: sort to compare.
    offsets.sort();
    assert_eq!(
        offsets,
        [
            "query=a&limit=10&offset=0",
            "query=a&limit=10&offset=10",
            "query=a&limit=10&offset=20"
        ]
    );
}

#[tokio::test]
async fn the_stream_is_a_futures_stream_too() {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(paging(3))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let mut count = 0;
    loop {
        let next = std::future::poll_fn(|cx: &mut Context<'_>| -> Poll<Option<_>> {
            futures_core::Stream::poll_next(Pin::new(&mut stream), cx)
        })
        .await;
        match next {
            Some(user) => {
                user.unwrap();
                count += 1;
            }
            None => break,
        }
    }
    assert_eq!(count, 3);
}

#[tokio::test]
async fn a_server_that_never_advances_ends_the_stream_with_an_error() {
    let server = MockServer::start().await;
    // Claims 100 users but returns an empty page.
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            r#"{"data": [], "total": 100, "limit": 10, "offset": 0}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(10));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("empty page at offset 0"), "{err}");
    assert!(stream.next().await.is_none());

    let server = MockServer::start().await;
    // Ignores offset: always answers offset 0. The first page tells the total, up to four
    // more are asked for at once, and the first of those ends the stream (cancelling the
    // rest, which may or may not have gone out).
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            r#"{"data": [{"id": 1}], "total": 5, "limit": 1, "offset": 0}"#,
        ))
        .expect(2..=5)
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(1));
    assert_eq!(stream.next().await.unwrap().unwrap().id, 1);
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("asked for offset 1"), "{err}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn list_recipients_is_a_plain_get() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/recipients"))
        .respond_with(json(200, LIST))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(api(&server).list_recipients().await.unwrap().data.len(), 2);
    assert_eq!(server.received_requests().await.unwrap()[0].url.query(), None);
}

#[tokio::test]
async fn create_user_posts_only_what_is_set_and_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user"))
        .and(body_json(json!({
            "email": "new.analyst@example.com", "first_name": "New", "last_name": "Analyst",
            "user_group_memberships": [{"id": 1}, {"id": 4, "is_group_manager": false}],
            "login_attributes": {"region": "EU"}
        })))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let mut attrs = serde_json::Map::new();
    attrs.insert("region".into(), json!("EU"));
    let new = NewUser::new("new.analyst@example.com")
        .name("New", "Analyst")
        .groups(vec![
            GroupMembership::new(1),
            GroupMembership::new(4).manager(false),
        ])
        .login_attributes(attrs);
    api(&server).create_user(&new).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).create_user(&NewUser::new("a@b.io")).await.is_err());
}

#[tokio::test]
async fn update_user_puts_set_fields_and_nulls_for_cleared_ones() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3"))
        .and(body_json(
            json!({"email": "r@metabase.com", "last_name": null, "is_superuser": true, "locale": "en_US"}),
        ))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let mut update = UserUpdate::new()
        .email("r@metabase.com")
        .is_superuser(true)
        .locale("en_US");
    update.last_name = Patch::Clear;
    api(&server).update_user(3, &update).await.unwrap();
    let err = api(&server).update_user(3, &UserUpdate::new()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
}

#[tokio::test]
async fn own_password_change_switches_the_client_to_the_new_session() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3/password"))
        .and(header("x-metabase-session", SESSION))
        .and(body_json(
            json!({"password": "n3w-Secret", "old_password": "0ld-Secret"}),
        ))
        .respond_with(json(
            200,
            r#"{"success": true, "session_id": "8b4f5c2e-1d3a-4e6f-9a7b-0c1d2e3f4a5b"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header(
            "x-metabase-session",
            "8b4f5c2e-1d3a-4e6f-9a7b-0c1d2e3f4a5b",
        ))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let changed = api
        .change_password(3, &Secret::new("n3w-Secret"), Some(&Secret::new("0ld-Secret")))
        .await
        .unwrap();
    match changed {
        PasswordChanged::NewSession(s) => assert_eq!(s.expose(), "8b4f5c2e-1d3a-4e6f-9a7b-0c1d2e3f4a5b"),
        other => panic!("{other:?}"),
    }
    api.get_me().await.unwrap();
}

#[tokio::test]
async fn an_admin_changing_another_password_gets_204_and_keeps_its_key() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/5/password"))
        .and(body_json(json!({"password": "n3w-Secret"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::metabase_api_key("mb_abcdefghijkl"));
    let changed = api
        .change_password(5, &Secret::new("n3w-Secret"), None)
        .await
        .unwrap();
    assert!(matches!(changed, PasswordChanged::Changed));
    assert!(matches!(api.client().auth(), Auth::MetabaseApiKey(_)));
}

#[tokio::test]
async fn password_errors_are_field_errors_and_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json(
            400,
            r#"{"errors":{"password":"password is too common."},"specific-errors":{"password":["password is too common., received: \"<hidden>\""]}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .change_password(3, &Secret::new("password1"), None)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.field_errors()[0].field(), "password");
    assert_eq!(err.field_errors()[0].message(), "password is too common.");
    assert!(!err.to_string().contains("password1"));
}

#[tokio::test]
async fn reactivate_deactivate_and_modal_use_their_paths() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/4/reactivate"))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/user/4"))
        .respond_with(json(200, r#"{"success": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/user/4/modal/datasetnewb"))
        .respond_with(json(200, r#"{"success": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    api.reactivate_user(4).await.unwrap();
    api.deactivate_user(4).await.unwrap();
    api.dismiss_modal(4, Modal::DatasetNewb).await.unwrap();
    let modal = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path().contains("modal"))
        .unwrap();
    assert!(modal.body.is_empty(), "the modal call has no body");
}

#[tokio::test]
async fn login_posts_credentials_and_uses_the_session_then_logout_drops_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .and(body_json(
            json!({"username": "rasta@metabase.com", "password": "Rasta-t0ucan"}),
        ))
        .respond_with(
            json(200, &format!(r#"{{"id": "{SESSION}"}}"#)).insert_header("set-cookie", "metabase.SESSION=x"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/session"))
        .and(header("x-metabase-session", SESSION))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::None);
    let session = api
        .login("rasta@metabase.com", &Secret::new("Rasta-t0ucan"))
        .await
        .unwrap();
    assert_eq!(session.expose(), SESSION);
    assert!(matches!(api.client().auth(), Auth::MetabaseSession(_)));
    api.logout().await.unwrap();
    assert!(api.client().auth().is_none());
}

#[tokio::test]
async fn login_errors_keep_the_servers_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            401,
            r#"{"errors":{"password":"did not match stored password"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api_with(&server, Auth::None)
        .login("a@b.io", &Secret::new("wrong-pass"))
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.field_errors()[0].message(), "did not match stored password");
    assert!(!format!("{err} {err:?}").contains("wrong-pass"));
}

#[tokio::test]
async fn text_errors_are_kept_word_for_word() {
    let cases = [
        (401, "Unauthenticated"),
        (403, "You don't have permissions to do that."),
        (404, "Not found."),
        (400, "You cannot remove the last member of the 'Admin' group!"),
    ];
    for (status, body) in cases {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .respond_with(text(status, body))
            .mount(&server)
            .await;
        let err = api(&server).deactivate_user(1).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.service_message(), Some(body));
        assert_eq!(err.is_auth(), status == 401 || status == 403);
        assert_eq!(err.is_not_found(), status == 404);
    }
}

#[tokio::test]
async fn message_bodies_with_stack_traces_keep_only_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json(400, r#"{"message": "Not able to reactivate an active user", "via": [{"type": "x"}], "trace": ["a", "b"]}"#))
        .mount(&server)
        .await;
    let err = api(&server).reactivate_user(2).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("Not able to reactivate an active user")
    );
    assert_eq!(
        err.to_string(),
        "PUT /api/user/2/reactivate: HTTP 400 Bad Request: Not able to reactivate an active user"
    );
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_login_get_me_and_logout() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api_with(Auth::None).unwrap();
    assert_eq!(
        api.get_me().await.unwrap_err().service_message(),
        Some("Unauthenticated")
    );
    let session = api.login(USER_EMAIL, &Secret::new(USER_PASSWORD)).await.unwrap();
    let me = api.get_me().await.unwrap();
    assert_eq!((me.id, me.is_superuser), (2, Some(false)));
    assert!(me.permissions.is_some());
    api.logout().await.unwrap();
    assert!(!fake.session_is_live(&session));
    let admin = fake.api_with(Auth::None).unwrap();
    admin
        .login(ADMIN_EMAIL, &Secret::new(ADMIN_PASSWORD))
        .await
        .unwrap();
    assert_eq!(admin.get_me().await.unwrap().is_superuser, Some(true));
    let keyed = fake.api_with(Auth::metabase_api_key(API_KEY)).unwrap();
    assert_eq!(keyed.list_users(&ListUsers::new()).await.unwrap().total, Some(3));
    let err = api.login(USER_EMAIL, &Secret::new("nope-123")).await.unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "did not match stored password");
}

#[tokio::test]
async fn fake_refuses_ordinary_users_where_the_server_does() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    for err in [
        rasta.list_users(&ListUsers::new()).await.unwrap_err(),
        rasta.get_user(1).await.unwrap_err(),
        rasta.create_user(&NewUser::new("x@y.io")).await.unwrap_err(),
        rasta.deactivate_user(3).await.unwrap_err(),
    ] {
        assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
        assert_eq!(
            err.service_message(),
            Some("You don't have permissions to do that.")
        );
    }
    assert_eq!(rasta.get_user(2).await.unwrap().id, 2, "self is allowed");
    assert_eq!(rasta.list_recipients().await.unwrap().data.len(), 3);
}

#[tokio::test]
async fn fake_filters_and_pages_with_total() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api_with(Auth::metabase_api_key(API_KEY)).unwrap();
    let active = admin.list_users(&ListUsers::new()).await.unwrap();
    assert_eq!(
        (active.data.len(), active.total, active.limit),
        (3, Some(3), None)
    );
    let gone = admin
        .list_users(&ListUsers::new().status(UserStatus::Deactivated))
        .await
        .unwrap();
    assert_eq!(gone.data.iter().map(|u| u.id).collect::<Vec<_>>(), [4]);
    let all = admin
        .list_users(&ListUsers::new().status(UserStatus::All))
        .await
        .unwrap();
    assert_eq!(all.total, Some(4));
    let found = admin.list_users(&ListUsers::new().query("TOUC")).await.unwrap();
    assert_eq!(found.data.iter().map(|u| u.id).collect::<Vec<_>>(), [2]);
    let admins = admin.list_users(&ListUsers::new().group_id(2)).await.unwrap();
    assert_eq!(admins.data.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
    let page = admin
        .list_users(&ListUsers::new().limit(2).offset(2))
        .await
        .unwrap();
    assert_eq!(
        (page.data.len(), page.total, page.limit, page.offset),
        (1, Some(3), Some(2), Some(2))
    );
    let mut stream = admin.users(ListUsers::new().status(UserStatus::All).limit(1));
    let mut n = 0;
    while let Some(user) = stream.next().await {
        user.unwrap();
        n += 1;
    }
    assert_eq!(n, 4);
}

#[tokio::test]
async fn fake_creates_with_unique_emails_and_updates() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let created = admin
        .create_user(&NewUser::new("New.Analyst@Example.com").name("New", "Analyst"))
        .await
        .unwrap();
    assert_eq!(created.email.as_deref(), Some("new.analyst@example.com"));
    assert_eq!(
        created.user_group_memberships,
        Some(vec![GroupMembership::new(1)])
    );
    let err = admin
        .create_user(&NewUser::new("RASTA@metabase.com"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "Email address already in use.");
    // The message is the first field error; `Display` says it once.
    assert_eq!(
        err.service_message(),
        Some("email: Email address already in use.")
    );
    let shown = err.to_string();
    assert_eq!(
        shown.matches("Email address already in use.").count(),
        1,
        "{shown}"
    );
    assert!(
        shown.ends_with("HTTP 400 Bad Request: email: Email address already in use."),
        "{shown}"
    );
    let err = admin
        .create_user(&NewUser::new("not-an-email"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "email");
    let mut update = UserUpdate::new().first_name("Newer");
    update.last_name = Patch::Clear;
    let updated = admin.update_user(created.id, &update).await.unwrap();
    assert_eq!(
        (updated.first_name.as_deref(), updated.last_name.as_deref()),
        (Some("Newer"), None)
    );
    let err = admin
        .update_user(created.id, &UserUpdate::new().email("lucky@metabase.com"))
        .await
        .unwrap_err();
    assert_eq!(
        err.field_errors()[0].message(),
        "Email address already associated to another user."
    );
    assert!(
        admin
            .update_user(4, &UserUpdate::new().first_name("x"))
            .await
            .unwrap_err()
            .is_not_found(),
        "inactive"
    );
}

#[tokio::test]
async fn fake_password_rules_old_password_and_new_session() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = fake.api_with(Auth::None).unwrap();
    let old = rasta
        .login(USER_EMAIL, &Secret::new(USER_PASSWORD))
        .await
        .unwrap();
    let err = rasta
        .change_password(2, &Secret::new("password1"), Some(&Secret::new(USER_PASSWORD)))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "password is too common.");
    let err = rasta
        .change_password(2, &Secret::new("Fresh-pass9"), Some(&Secret::new("wrong")))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "old_password");
    let changed = rasta
        .change_password(2, &Secret::new("Fresh-pass9"), Some(&Secret::new(USER_PASSWORD)))
        .await
        .unwrap();
    let PasswordChanged::NewSession(new) = changed else {
        panic!("own change gives a session")
    };
    assert!(!fake.session_is_live(&old) && fake.session_is_live(&new));
    assert_eq!(
        rasta.get_me().await.unwrap().id,
        2,
        "the client moved to the new session"
    );
    assert!(fake.password_is(2, &Secret::new("Fresh-pass9")));

    let admin = session_of(&fake, ADMIN_EMAIL);
    let changed = admin
        .change_password(2, &Secret::new("Reset-pass7"), None)
        .await
        .unwrap();
    assert!(matches!(changed, PasswordChanged::Changed));
    assert!(!fake.session_is_live(&new), "the user's sessions ended");
    let err = session_of(&fake, "lucky@metabase.com")
        .change_password(2, &Secret::new("Other-pass1"), None)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn fake_deactivates_reactivates_and_guards_the_last_admin() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api_with(Auth::metabase_api_key(API_KEY)).unwrap();
    admin.deactivate_user(3).await.unwrap();
    assert_eq!(fake.is_active(3), Some(false));
    admin.deactivate_user(3).await.unwrap();
    let err = admin.reactivate_user(2).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("Not able to reactivate an active user")
    );
    let back = admin.reactivate_user(3).await.unwrap();
    assert_eq!((back.is_active, back.is_superuser), (Some(true), Some(false)));
    let err = admin.deactivate_user(1).await.unwrap_err();
    assert_eq!(
        err.service_message(),
        Some("You cannot remove the last member of the 'Admin' group!")
    );
    assert!(
        err.http()
            .unwrap()
            .content_type()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(admin.get_user(99).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn fake_dismisses_modals() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    assert_eq!(rasta.get_me().await.unwrap().is_qbnewb, Some(true));
    rasta.dismiss_modal(2, Modal::QbNewb).await.unwrap();
    assert_eq!(rasta.get_me().await.unwrap().is_qbnewb, Some(false));
    assert_eq!(
        rasta
            .dismiss_modal(3, Modal::QbNewb)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403)
    );
}

// ---------------------------------------------------------------------------------------------
// Bugs (written first, against the old code)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_session_id_is_a_protocol_error_and_the_old_credential_stays() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(json(200, r#"{"id": ""}"#))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let err = api.login("a@b.io", &Secret::new("pass-w0rd")).await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    match api.client().auth() {
        Auth::MetabaseSession(s) => assert_eq!(s.expose(), SESSION),
        other => panic!("the old session is gone: {other:?}"),
    }
}

/// A session id that could never go in a header (a line break, a control character) is the
/// server breaking the protocol, not the caller's configuration; the old session stays.
#[tokio::test]
async fn a_session_id_with_control_characters_is_a_protocol_error() {
    for id in ["abc\r\nX-Evil: 1", "abc\u{7}def"] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/session"))
            .respond_with(json(200, &serde_json::json!({ "id": id }).to_string()))
            .expect(1)
            .mount(&server)
            .await;
        let api = api(&server);
        let err = api.login("a@b.io", &Secret::new("pass-w0rd")).await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        assert!(!err.to_string().contains("X-Evil"), "{err}");
        match api.client().auth() {
            Auth::MetabaseSession(s) => assert_eq!(s.expose(), SESSION),
            other => panic!("the old session is gone: {other:?}"),
        }
    }
}

#[tokio::test]
async fn logout_with_an_api_key_keeps_the_key_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::metabase_api_key("mb_abcdefghijkl"));
    let err = api.logout().await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(matches!(api.client().auth(), Auth::MetabaseApiKey(_)));
}

#[tokio::test]
async fn fake_applies_group_memberships_and_data_analyst_on_put() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let mut update = UserUpdate::new().groups(vec![GroupMembership::new(1), GroupMembership::new(2)]);
    update.is_data_analyst = Some(true);
    let updated = admin.update_user(3, &update).await.unwrap();
    assert_eq!(
        updated.user_group_memberships,
        Some(vec![GroupMembership::new(1), GroupMembership::new(2)])
    );
    assert_eq!(
        updated.is_superuser,
        Some(true),
        "the Administrators group makes an admin"
    );
    assert_eq!(updated.is_data_analyst, Some(true));
    let rasta = session_of(&fake, USER_EMAIL);
    let err = rasta
        .update_user(
            2,
            &UserUpdate::new().groups(vec![GroupMembership::new(1), GroupMembership::new(2)]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    let mut tenant = UserUpdate::new();
    tenant.tenant_id = Patch::Set(7);
    let err = admin.update_user(3, &tenant).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn fake_applies_the_newer_list_filters() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let external = admin
        .list_users(&ListUsers::new().tenancy(Tenancy::External))
        .await
        .unwrap();
    assert_eq!(external.total, Some(0));
    let tenant = admin.list_users(&ListUsers::new().tenant_id(3)).await.unwrap();
    assert_eq!(tenant.total, Some(0));
    let both = admin
        .list_users(&ListUsers::new().tenancy(Tenancy::All).tenant_id(3))
        .await
        .unwrap_err();
    assert_eq!(both.status().map(|s| s.as_u16()), Some(400));
    let analysts = admin
        .list_users(&ListUsers::new().is_data_analyst(true))
        .await
        .unwrap();
    assert_eq!(analysts.total, Some(0));
    let studio = admin
        .list_users(&ListUsers::new().can_access_data_studio(true))
        .await
        .unwrap();
    assert_eq!(studio.data.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
}

#[tokio::test]
async fn fake_superuser_recipients_carry_admin_columns_only() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let page = admin.list_recipients().await.unwrap();
    let first = &page.data[0];
    assert!(first.group_ids.is_none() && first.personal_collection_id.is_none());
    assert!(!first.extra.contains_key("tenant_collection_id"));
    assert!(first.is_active.is_some());
}

#[tokio::test]
async fn fake_checks_credentials_before_routing() {
    let fake = FakeMetabase::start().await.unwrap();
    let wrong = fake
        .api_with(Auth::metabase_api_key("mb_notTheRightKey123"))
        .unwrap();
    let err = wrong
        .request(userapi::Method::GET, &["api", "card", "1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.service_message(), Some("Unauthenticated"));
}

#[tokio::test]
async fn fake_answers_the_api_key_user_on_current() {
    let fake = FakeMetabase::start().await.unwrap();
    let keyed = fake.api_with(Auth::metabase_api_key(API_KEY)).unwrap();
    let me = keyed.get_me().await.unwrap();
    assert!(
        me.email.as_deref().unwrap().ends_with("@api-key.invalid"),
        "{:?}",
        me.email
    );
    assert_eq!(me.last_name.as_deref(), Some(""));
    assert_eq!(me.is_superuser, Some(true));
}

#[tokio::test]
async fn fake_missing_username_says_missing_required_key() {
    let fake = FakeMetabase::start().await.unwrap();
    let err = fake
        .api_with(Auth::None)
        .unwrap()
        .request(userapi::Method::POST, &["api", "session"])
        .json(&json!({"password": "x"}))
        .send_empty()
        .await
        .unwrap_err();
    let body = String::from_utf8_lossy(err.http().unwrap().body()).into_owned();
    assert!(body.contains("missing required key, received: nil"), "{body}");
}

#[tokio::test]
async fn fake_sets_and_accepts_the_session_cookie() {
    let fake = FakeMetabase::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = fake.base_url();
    let login = http
        .post(url.join("api/session").unwrap())
        .json(&json!({"username": USER_EMAIL, "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find_map(|c| c.strip_prefix("metabase.SESSION="))
        .and_then(|c| c.split(';').next())
        .expect("a metabase.SESSION cookie")
        .to_owned();
    assert!(
        cookies.iter().any(|c| c.starts_with("metabase.TIMEOUT=alive;")),
        "{cookies:?}"
    );
    let me = http
        .get(url.join("api/user/current").unwrap())
        .header("cookie", format!("metabase.SESSION={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

// ---------------------------------------------------------------------------------------------
// API keys, password check and reset, login history, key-value store: on the wire
// ---------------------------------------------------------------------------------------------

const KEY: &str = r#"{"id": 2, "name": "Reporting bot", "group": {"id": 3, "name": "Analysts"},
  "masked_key": "mb_q4Zr****************************************",
  "created_at": "2024-03-05T08:12:44.318Z", "updated_at": "2024-03-05T08:12:44.318Z",
  "updated_by": {"id": 1, "common_name": "Ada Byron"}, "scope_v2": "later"}"#;
const UNMASKED: &str = "mb_q4Zr0Hc1N0rjQm5x8mSg0lUe3aW6k5K9pXyV2dTbF7o=";

/// The body of the single request a server received, as JSON (`Null` when empty).
async fn only_body(server: &MockServer) -> serde_json::Value {
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1, "exactly one request");
    if seen[0].body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&seen[0].body).unwrap()
    }
}

#[tokio::test]
async fn api_keys_are_listed_and_counted_with_gets_that_may_be_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/api-key"))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/api-key"))
        .respond_with(json(200, &format!("[{KEY}]")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/api-key/count"))
        .respond_with(json(200, "1"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let keys = api.list_api_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!((key.id, key.name.as_deref()), (2, Some("Reporting bot")));
    assert_eq!(key.group.as_ref().map(|g| g.id), Some(3));
    assert_eq!(key.prefix(), Some("mb_q4Zr"));
    assert_eq!(
        key.updated_by.as_ref().unwrap().common_name.as_deref(),
        Some("Ada Byron")
    );
    assert_eq!(key.extra["scope_v2"], "later");
    assert_eq!(api.count_api_keys().await.unwrap(), 1);
    let lists = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/api-key")
        .count();
    assert_eq!(lists, 2, "the 503 was retried");
}

#[tokio::test]
async fn create_api_key_posts_name_and_group_and_keeps_the_key_secret() {
    let server = MockServer::start().await;
    let created = KEY.replacen("{", &format!(r#"{{"unmasked_key": "{UNMASKED}","#), 1);
    Mock::given(method("POST"))
        .and(path("/api/api-key"))
        .respond_with(json(200, &created))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server)
        .create_api_key(&NewApiKey::new("Reporting bot", 3))
        .await
        .unwrap();
    assert_eq!(
        only_body(&server).await,
        json!({"name": "Reporting bot", "group_id": 3})
    );
    assert_eq!(issued.key.expose(), UNMASKED);
    assert_eq!(issued.api_key.id, 2);
    assert!(
        !issued.api_key.extra.contains_key("unmasked_key"),
        "the key never reaches extra"
    );
    assert!(!format!("{issued:?}").contains(UNMASKED));
}

#[tokio::test]
async fn create_api_key_is_never_retried_and_checks_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    assert!(api.create_api_key(&NewApiKey::new("bot", 3)).await.is_err());
    for bad in [NewApiKey::new("  ", 3), NewApiKey::new("bot", 0)] {
        let err = api.create_api_key(&bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn an_issued_key_without_the_key_is_a_protocol_error_whose_text_quotes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2/regenerate"))
        .respond_with(json(200, r#"{"id": 2, "masked_key": "mb_q4Zr****"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).regenerate_api_key(2).await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn regenerate_reads_the_current_and_the_older_answer_and_sends_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2/regenerate"))
        .respond_with(json(
            200,
            &format!(r#"{{"id": 2, "unmasked_key": "{UNMASKED}", "masked_key": "mb_q4Zr****", "prefix": "mb_q4Zr"}}"#),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server).regenerate_api_key(2).await.unwrap();
    assert_eq!(only_body(&server).await, serde_json::Value::Null);
    assert_eq!(
        (issued.key.expose(), issued.prefix.as_deref(), issued.api_key.id),
        (UNMASKED, Some("mb_q4Zr"), 2)
    );
    // Builds up to 06f5232b answered the whole key.
    let server = MockServer::start().await;
    let older = KEY.replacen("{", &format!(r#"{{"unmasked_key": "{UNMASKED}","#), 1);
    Mock::given(method("PUT"))
        .respond_with(json(200, &older))
        .expect(1)
        .mount(&server)
        .await;
    let issued = api(&server).regenerate_api_key(2).await.unwrap();
    assert_eq!(issued.api_key.name.as_deref(), Some("Reporting bot"));
    assert_eq!(issued.prefix, None);
    // Not retried: the old key would already be dead.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).regenerate_api_key(2).await.is_err());
}

#[tokio::test]
async fn update_api_key_puts_only_what_is_set_and_may_be_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2"))
        .and(body_json(json!({"group_id": 4})))
        .respond_with(text(503, "busy"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/api-key/2"))
        .and(body_json(json!({"group_id": 4})))
        .respond_with(json(200, KEY))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let key = api
        .update_api_key(2, &ApiKeyUpdate::new().group_id(4))
        .await
        .unwrap();
    assert_eq!(key.id, 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    for err in [
        api.update_api_key(2, &ApiKeyUpdate::new()).await.unwrap_err(),
        api.update_api_key(0, &ApiKeyUpdate::new().name("x"))
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn delete_api_key_is_a_delete_answered_204_and_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/api-key/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).delete_api_key(2).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).delete_api_key(2).await.is_err());
}

#[tokio::test]
async fn check_password_posts_the_candidate_and_reads_valid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/password-check"))
        .and(body_json(json!({"password": "something123"})))
        .respond_with(json(200, r#"{"valid": true}"#))
        .expect(1)
        .mount(&server)
        .await;
    api(&server)
        .check_password(&Secret::new("something123"))
        .await
        .unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            400,
            r#"{"errors": {"password": "password is too common."}, "specific-errors": {"password": ["password is too common., received: \"blah\""]}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .check_password(&Secret::new("blah"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "password");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"valid": false}"#))
        .mount(&server)
        .await;
    let err = api(&server)
        .check_password(&Secret::new("blah"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn forgot_password_posts_the_email_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/forgot_password"))
        .and(body_json(json!({"email": "rasta@example.com"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).forgot_password("rasta@example.com").await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(text(503, "busy"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(api(&server).forgot_password("rasta@example.com").await.is_err());
    let err = api(&server).forgot_password(" ").await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
}

#[tokio::test]
async fn the_reset_token_goes_in_the_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/session/password_reset_token_valid"))
        .and(query_param("token", "100_8a266560-e3a8 4dc1"))
        .respond_with(json(200, r#"{"valid": false}"#))
        .expect(1)
        .mount(&server)
        .await;
    let valid = api(&server)
        .password_reset_token_valid(&Secret::new("100_8a266560-e3a8 4dc1"))
        .await
        .unwrap();
    assert!(!valid);
}

#[tokio::test]
async fn reset_password_posts_token_and_password_and_switches_to_the_new_session() {
    const NEW: &str = "3b0f8a52-6c1d-4e2a-9f7b-2d4c6e8a0b1c";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/reset_password"))
        .and(body_json(json!({"token": "2_abc", "password": "N3w-secret"})))
        .respond_with(json(
            200,
            &format!(r#"{{"success": true, "session_id": "{NEW}"}}"#),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", NEW))
        .respond_with(json(200, CURRENT))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::None);
    let done = api
        .reset_password(&Secret::new("2_abc"), &Secret::new("N3w-secret"))
        .await
        .unwrap();
    assert_eq!(done, PasswordChanged::NewSession(Secret::new(NEW)));
    api.get_me().await.unwrap();
}

#[tokio::test]
async fn a_reset_without_a_session_keeps_the_client_and_an_empty_one_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"success": true}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(200, r#"{"success": true, "session_id": ""}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    let mfa = api
        .reset_password(&Secret::new("2_abc"), &Secret::new("N3w-secret"))
        .await
        .unwrap();
    assert_eq!(mfa, PasswordChanged::Changed);
    let err = api
        .reset_password(&Secret::new("2_abc"), &Secret::new("N3w-secret"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    match api.client().auth() {
        Auth::MetabaseSession(s) => assert_eq!(s.expose(), SESSION),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "never retried"
    );
}

#[tokio::test]
async fn an_empty_session_from_a_password_change_keeps_the_old_one() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(json(200, r#"{"success": true, "session_id": " "}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    let err = api
        .change_password(3, &Secret::new("n3w-Secret"), Some(&Secret::new("0ld-Secret")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(matches!(api.client().auth(), Auth::MetabaseSession(s) if s.expose() == SESSION));
}

#[tokio::test]
async fn login_history_decodes_the_documented_rows() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/login-history/current"))
        .respond_with(json(
            200,
            r#"[{"timestamp": "2024-03-05T08:00:01.5Z", "device_description": "Browser (Chrome/Windows)",
                 "ip_address": "127.0.0.1", "active": true, "location": "Unknown location", "timezone": null},
                {"timestamp": "2021-03-18T20:52:41.808482+01:00", "device_description": "Mobile Browser (Mobile Safari/iOS)",
                 "ip_address": "185.233.100.23", "active": false, "location": null, "timezone": "CET", "new": 1}]"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let rows = api(&server).login_history().await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].active, Some(true));
    assert_eq!(rows[1].location, None);
    assert_eq!(rows[1].timezone.as_deref(), Some("CET"));
    assert!(rows[1].timestamp.as_ref().unwrap().to_system_time().is_some());
    assert_eq!(rows[1].extra["new"], 1);
}

#[tokio::test]
async fn user_values_use_their_paths_and_decode_by_content_type() {
    let server = MockServer::start().await;
    let stored = json!({"last_download_format": "xlsx", "last_table_download_format": "csv"});
    Mock::given(method("PUT"))
        .and(path(
            "/api/user-key-value/namespace/last_download_format/key/download_format_preference",
        ))
        .and(body_json(
            json!({"value": stored, "expires_at": "2030-01-01T00:00:00Z"}),
        ))
        .respond_with(text(200, &stored.to_string()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/calendar/key/a%20b"))
        .respond_with(text(200, "persian"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/calendar/key/gone"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/indicator-menu/key/k"))
        .respond_with(json(200, r#"["a", "b"]"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user-key-value/namespace/calendar"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/user-key-value/namespace/calendar/key/system"))
        .respond_with(json(200, "0"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let value = UserKeyValue::new(stored.clone()).expires_at("2030-01-01T00:00:00Z");
    let back = api
        .set_user_value("last_download_format", "download_format_preference", &value)
        .await
        .unwrap();
    assert_eq!(back, stored, "the text/plain answer holds JSON");
    assert_eq!(
        api.get_user_value("calendar", "a b").await.unwrap(),
        Some(json!("persian")),
        "a string comes unquoted"
    );
    assert_eq!(api.get_user_value("calendar", "gone").await.unwrap(), None);
    assert_eq!(
        api.get_user_value("indicator-menu", "k").await.unwrap(),
        Some(json!(["a", "b"]))
    );
    assert!(api.get_user_values("calendar").await.unwrap().is_empty());
    assert!(!api.delete_user_value("calendar", "system").await.unwrap());
    for err in [
        api.get_user_value(" ", "k").await.unwrap_err(),
        api.set_user_value("calendar", "  ", &UserKeyValue::new("persian"))
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn a_new_users_password_is_sent_but_never_printed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user"))
        .and(body_json(
            json!({"email": "a@b.io", "password": "Init1al-pass", "source": "admin"}),
        ))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let new = NewUser::new("a@b.io").password("Init1al-pass").source("admin");
    assert!(!format!("{new:?}").contains("Init1al-pass"));
    api(&server).create_user(&new).await.unwrap();
}

#[tokio::test]
async fn user_update_builders_send_their_fields_and_no_group_manager_flag() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/3"))
        .and(body_json(json!({
            "user_group_memberships": [{"id": 1}, {"id": 4, "is_group_manager": true}],
            "is_data_analyst": true, "login_attributes": {"region": "EU"}, "tenant_id": 9
        })))
        .respond_with(json(200, BY_ID))
        .expect(1)
        .mount(&server)
        .await;
    let mut attrs = serde_json::Map::new();
    attrs.insert("region".into(), json!("EU"));
    let update = UserUpdate::new()
        .groups(vec![
            GroupMembership::new(1),
            GroupMembership::new(4).manager(true),
        ])
        .is_data_analyst(true)
        .login_attributes(attrs)
        .tenant_id(9);
    api(&server).update_user(3, &update).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// API keys, password check and reset, login history, key-value store: on the fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_api_key_lifecycle() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    assert_eq!(admin.count_api_keys().await.unwrap(), 1);
    let issued = admin
        .create_api_key(&NewApiKey::new("Reporting bot", ANALYSTS_GROUP))
        .await
        .unwrap();
    assert_eq!(issued.key.expose().len(), 47);
    assert_eq!(issued.api_key.prefix(), Some(&issued.key.expose()[..7]));
    assert_eq!(
        issued.api_key.group.as_ref().map(|g| (g.id, g.name.as_deref())),
        Some((ANALYSTS_GROUP, Some("Analysts")))
    );
    assert_eq!(
        issued.api_key.updated_by.as_ref().unwrap().common_name.as_deref(),
        Some("Crowberto Corv")
    );
    let bot = fake.api_with(Auth::metabase_api_key(issued.key.clone())).unwrap();
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.common_name.as_deref(), Some("Reporting bot"));
    assert_eq!(me.group_ids, Some(vec![ALL_USERS_GROUP, ANALYSTS_GROUP]));
    assert_eq!((me.last_login.clone(), me.personal_collection_id), (None, None));
    assert_eq!(
        bot.list_api_keys()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(403),
        "a key outside Administrators is no superuser"
    );
    assert!(bot.login_history().await.unwrap().is_empty());
    let err = admin
        .create_api_key(&NewApiKey::new("Reporting bot", ANALYSTS_GROUP))
        .await
        .unwrap_err();
    assert_eq!(
        err.field_errors()[0].message(),
        "An API key with this name already exists."
    );
    let listed = admin
        .list_users(&ListUsers::new().status(UserStatus::All))
        .await
        .unwrap();
    assert!(
        listed.data.iter().all(|u| u.id != me.id),
        "keys' users are never listed"
    );

    let id = issued.api_key.id;
    let renamed = admin
        .update_api_key(id, &ApiKeyUpdate::new().name("Nightly bot").group_id(ADMIN_GROUP))
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Nightly bot"));
    let me = bot.get_me().await.unwrap();
    assert_eq!(
        (me.common_name.as_deref(), me.is_superuser),
        (Some("Nightly bot"), Some(true))
    );

    let fresh = admin.regenerate_api_key(id).await.unwrap();
    assert_ne!(fresh.key, issued.key);
    assert!(
        bot.get_me().await.unwrap_err().is_auth(),
        "the old key stops at once"
    );
    let bot = fake.api_with(Auth::metabase_api_key(fresh.key)).unwrap();
    bot.get_me().await.unwrap();

    admin.delete_api_key(id).await.unwrap();
    assert!(bot.get_me().await.unwrap_err().is_auth());
    assert!(admin.delete_api_key(id).await.unwrap_err().is_not_found());
    assert_eq!(fake.is_active(me.id), Some(false), "its user is deactivated");
    assert_eq!(admin.count_api_keys().await.unwrap(), 1);

    let rasta = session_of(&fake, USER_EMAIL);
    let err = rasta
        .create_api_key(&NewApiKey::new("mine", ANALYSTS_GROUP))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    let err = admin
        .request(userapi::Method::GET, &["api", "api-key", "1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("API endpoint does not exist."));
}

#[tokio::test]
async fn fake_seeding_adds_users_sessions_and_keys() {
    let fake = FakeMetabase::start().await.unwrap();
    let ada = fake
        .add_user(
            &NewUser::new("Ada@Example.com")
                .name("Ada", "Byron")
                .password("Engine-1843"),
        )
        .unwrap();
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    assert!(fake.password_is(ada.id, &Secret::new("Engine-1843")));
    assert!(fake.add_user(&NewUser::new("ADA@example.com")).is_err(), "taken");
    let session = fake.add_session("ada@example.com").unwrap();
    let as_ada = fake.api_with(Auth::metabase_session(session)).unwrap();
    assert_eq!(as_ada.get_me().await.unwrap().id, ada.id);
    let issued = fake
        .add_api_key(&NewApiKey::new("Seeded", ANALYSTS_GROUP))
        .unwrap();
    let keyed = fake.api_with(Auth::metabase_api_key(issued.key)).unwrap();
    assert_eq!(
        keyed.get_me().await.unwrap().common_name.as_deref(),
        Some("Seeded")
    );
    assert!(fake.add_session("nobody@example.com").is_err());
}

#[tokio::test]
async fn fake_checks_passwords_without_credentials() {
    let fake = FakeMetabase::start().await.unwrap();
    let anyone = fake.api_with(Auth::None).unwrap();
    anyone
        .check_password(&Secret::new("Tour-pass-2024"))
        .await
        .unwrap();
    for weak in ["blah", "password1", "nodigits"] {
        let err = anyone.check_password(&Secret::new(weak)).await.unwrap_err();
        assert_eq!(
            err.field_errors()[0].message(),
            "password is too common.",
            "{weak}"
        );
    }
    let err = anyone
        .request(userapi::Method::POST, &["api", "session", "password-check"])
        .json(&json!({}))
        .send_empty()
        .await
        .unwrap_err();
    assert!(err.http().unwrap().body_text().contains(MISSING_KEY));
}

const MISSING_KEY: &str = "missing required key, received: nil";

#[tokio::test]
async fn fake_login_history_is_newest_first_and_follows_the_session() {
    let fake = FakeMetabase::start().await.unwrap();
    let api = fake.api_with(Auth::None).unwrap();
    api.login(USER_EMAIL, &Secret::new(USER_PASSWORD)).await.unwrap();
    let rows = api.login_history().await.unwrap();
    assert_eq!(rows.len(), 2, "the seeded login and this one");
    assert_eq!(rows[0].active, Some(true));
    assert_eq!(rows[0].ip_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(rows[0].location.as_deref(), Some("Unknown location"));
    assert!(
        rows[0]
            .device_description
            .as_deref()
            .unwrap()
            .starts_with("Library (userapi/"),
        "{:?}",
        rows[0].device_description
    );
    assert_eq!(rows[1].active, Some(false));
    let other = fake.api_with(Auth::None).unwrap();
    other
        .login(USER_EMAIL, &Secret::new(USER_PASSWORD))
        .await
        .unwrap();
    api.logout().await.unwrap();
    let rows = other.login_history().await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.active).collect::<Vec<_>>(),
        [Some(true), Some(false), Some(false)],
        "the logged-out session's row turned inactive"
    );
}

#[tokio::test]
async fn fake_user_values_are_per_user_checked_and_expire() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    let stored = admin
        .set_user_value("calendar", "system", &UserKeyValue::new("persian"))
        .await
        .unwrap();
    assert_eq!(stored, "persian");
    assert_eq!(
        admin.get_user_value("calendar", "system").await.unwrap(),
        Some(json!("persian"))
    );
    assert_eq!(rasta.get_user_value("calendar", "system").await.unwrap(), None);
    let keyed = fake.api_with(Auth::metabase_api_key(API_KEY)).unwrap();
    assert_eq!(keyed.get_user_value("calendar", "system").await.unwrap(), None);

    let format = json!({"last_download_format": "xlsx", "last_table_download_format": "csv"});
    admin
        .set_user_value("last_download_format", "pref", &UserKeyValue::new(format.clone()))
        .await
        .unwrap();
    assert_eq!(
        admin
            .get_user_value("last_download_format", "pref")
            .await
            .unwrap(),
        Some(format)
    );
    for (namespace, value) in [
        ("no-such-namespace", json!(true)),
        ("calendar", json!("julian")),
        ("data_studio", json!("yes")),
        ("last_download_format", json!({"last_download_format": "csv"})),
    ] {
        let err = admin
            .set_user_value(namespace, "k", &UserKeyValue::new(value))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{namespace}");
        assert_eq!(err.service_message(), Some("Invalid Request."));
    }
    admin
        .set_user_value(
            "monitor",
            "old",
            &UserKeyValue::new(true).expires_at("2014-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        admin.get_user_value("monitor", "old").await.unwrap(),
        None,
        "expired"
    );
    let err = admin
        .set_user_value("monitor", "x", &UserKeyValue::new(true).expires_at("soon"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "expires_at");
    admin
        .set_user_value(
            "model-filter",
            "null",
            &UserKeyValue::new(serde_json::Value::Null),
        )
        .await
        .unwrap();
    assert_eq!(admin.get_user_value("model-filter", "null").await.unwrap(), None);
    admin
        .set_user_value("monitor", "live", &UserKeyValue::new(false))
        .await
        .unwrap();
    let all = admin.get_user_values("monitor").await.unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["live"]);
    assert!(admin.delete_user_value("monitor", "live").await.unwrap());
    assert!(!admin.delete_user_value("monitor", "live").await.unwrap());
    assert!(
        rasta
            .get_user_values("no-such-namespace")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn fake_password_reset_flow() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = session_of(&fake, USER_EMAIL);
    let old = match rasta.client().auth() {
        Auth::MetabaseSession(s) => s,
        other => panic!("{other:?}"),
    };
    let anyone = fake.api_with(Auth::None).unwrap();
    anyone.forgot_password("nobody@example.com").await.unwrap();
    assert!(fake.last_reset_token().is_none(), "no account, no token");
    let err = anyone.forgot_password("not-an-email").await.unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "email");

    anyone.forgot_password(USER_EMAIL).await.unwrap();
    let first = fake.last_reset_token().unwrap();
    assert!(first.expose().starts_with("2_"));
    anyone.forgot_password(USER_EMAIL).await.unwrap();
    let token = fake.last_reset_token().unwrap();
    assert!(
        !anyone.password_reset_token_valid(&first).await.unwrap(),
        "superseded"
    );
    assert!(anyone.password_reset_token_valid(&token).await.unwrap());

    let err = anyone
        .reset_password(&token, &Secret::new("weak"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "password is too common.");
    assert!(
        anyone.password_reset_token_valid(&token).await.unwrap(),
        "still valid"
    );
    let err = anyone
        .reset_password(&first, &Secret::new("Brand-new-pass7"))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].message(), "Invalid reset token");

    let done = anyone
        .reset_password(&token, &Secret::new("Brand-new-pass7"))
        .await
        .unwrap();
    let PasswordChanged::NewSession(new) = done else {
        panic!("a reset answers a session")
    };
    assert!(fake.session_is_live(&new) && !fake.session_is_live(&old));
    assert!(fake.password_is(2, &Secret::new("Brand-new-pass7")));
    assert_eq!(anyone.get_me().await.unwrap().id, 2, "the client switched");
    assert!(!anyone.password_reset_token_valid(&token).await.unwrap(), "used");

    // A deactivated user's token never validates.
    let admin = fake.api().unwrap();
    anyone.forgot_password("lucky@metabase.com").await.unwrap();
    let lucky = fake.last_reset_token().unwrap();
    admin.deactivate_user(3).await.unwrap();
    assert!(!anyone.password_reset_token_valid(&lucky).await.unwrap());
}

#[tokio::test]
async fn fake_routing_answers_as_the_server_does() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api().unwrap();
    let nobody = fake.api_with(Auth::None).unwrap();
    let bad_key = fake
        .api_with(Auth::metabase_api_key("mb_notTheRightKey123"))
        .unwrap();
    let status = |r: Result<(), Error>| r.unwrap_err().status().map(|s| s.as_u16());
    for (api, segments, want) in [
        (&nobody, &["api", "user", "abc"][..], 401),
        (&bad_key, &["api", "api-key"][..], 401),
        (&bad_key, &["api", "login-history", "current"][..], 401),
        (&admin, &["api", "user", "2", "nope"][..], 404),
        (&admin, &["api", "card", "1"][..], 404),
        (&nobody, &["api", "nonexistent"][..], 404),
    ] {
        let got = status(api.request(userapi::Method::GET, segments).send_empty().await);
        assert_eq!(got, Some(want), "{segments:?}");
    }
    let err = admin
        .request(userapi::Method::GET, &["api", "card", "1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("API endpoint does not exist."));
    let err = admin.get_user(0).await;
    assert!(matches!(err, Err(Error::InvalidInput { .. })));
    let err = admin
        .request(userapi::Method::GET, &["api", "user", "-1"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].field(), "id");
}

#[tokio::test]
async fn fake_cookie_wins_over_the_header_and_logout_clears_it() {
    let fake = FakeMetabase::start().await.unwrap();
    let rasta = fake.add_session(USER_EMAIL).unwrap();
    let admin = fake.add_session(ADMIN_EMAIL).unwrap();
    let http = reqwest::Client::new();
    let url = fake.base_url();
    let me: serde_json::Value = http
        .get(url.join("api/user/current").unwrap())
        .header("cookie", format!("other=1; metabase.SESSION={}", rasta.expose()))
        .header("x-metabase-session", admin.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], 2);
    let out = http
        .delete(url.join("api/session").unwrap())
        .header("cookie", format!("metabase.SESSION={}", rasta.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let cleared: Vec<&str> = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("metabase.SESSION=;Expires=Thu, 1 Jan 1970")),
        "{cleared:?}"
    );
    assert!(!fake.session_is_live(&rasta));
}

#[tokio::test]
async fn a_user_without_names_and_with_new_fields_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/9"))
        .respond_with(json(
            200,
            r#"{"id": 9, "email": "x@example.com", "first_name": null, "last_name": null,
                "common_name": null, "last_login": null, "brand_new": {"a": 1}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let user = api(&server).get_user(9).await.unwrap();
    assert_eq!(
        (user.first_name, user.last_name, user.common_name),
        (None, None, None)
    );
    assert_eq!(user.extra["brand_new"]["a"], 1);
}

// ---------------------------------------------------------------------------------------------
// Sessions under cancellation and races
// ---------------------------------------------------------------------------------------------

/// A change of one's own password, abandoned by the caller after the server applied it,
/// still switches the client to the new session: the old one is dead on the server.
#[tokio::test]
async fn an_abandoned_password_change_still_installs_the_new_session() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/password"))
        .respond_with(
            json(200, r#"{"session_id": "after-change"}"#).set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/current"))
        .and(header("x-metabase-session", "after-change"))
        .respond_with(json(200, CURRENT))
        .mount(&server)
        .await;
    let api = api(&server);
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        api.change_password(1, &Secret::new("N3w-pass-word"), Some(&Secret::new("0ld-pass"))),
    )
    .await;
    assert!(abandoned.is_err(), "the caller gave up first");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    match api.client().auth() {
        Auth::MetabaseSession(s) => assert_eq!(s.expose(), "after-change"),
        other => panic!("{other:?}"),
    }
    api.get_me().await.expect("the new session works");
}

/// A login whose answer comes after a concurrent own-password change does not install a
/// session the change already ended: the change wins.
#[tokio::test]
async fn a_password_change_wins_over_a_login_that_was_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(
            json(200, r#"{"id": "from-slow-login"}"#).set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/password"))
        .respond_with(json(200, r#"{"session_id": "after-change"}"#))
        .mount(&server)
        .await;
    let api = api(&server);
    let login = {
        let api = api.clone();
        tokio::spawn(async move {
            api.login("rasta@metabase.com", &Secret::new("Rasta-t0ucan"))
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    api.change_password(
        1,
        &Secret::new("N3w-pass-word"),
        Some(&Secret::new("Rasta-t0ucan")),
    )
    .await
    .unwrap();
    let from_login = login.await.unwrap().expect("the login itself succeeded");
    assert_eq!(from_login.expose(), "from-slow-login");
    match api.client().auth() {
        Auth::MetabaseSession(s) => assert_eq!(s.expose(), "after-change", "the newer change stays"),
        other => panic!("{other:?}"),
    }
}

/// Under `Auth::metabase_login`, one's own password change keeps the new session and the
/// new password, so the next login (after the session ends) uses it.
#[tokio::test]
async fn a_password_change_under_login_credentials_keeps_the_new_password() {
    let server = MockServer::start().await;
    let passwords = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&passwords);
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(move |req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            let mut seen = seen.lock().unwrap();
            seen.push(body["password"].as_str().unwrap().to_owned());
            json(200, &format!(r#"{{"id": "login-{}"}}"#, seen.len()))
        })
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/user/1/password"))
        .respond_with(json(200, r#"{"session_id": "after-change"}"#))
        .mount(&server)
        .await;
    // The session from the change is used once, then ends; then a re-login is needed.
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "after-change"))
        .respond_with(json(200, CURRENT))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "login-1"))
        .respond_with(json(200, CURRENT))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metabase-session", "login-2"))
        .respond_with(json(200, CURRENT))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(text(401, "Unauthenticated"))
        .mount(&server)
        .await;
    let api = api_with(&server, Auth::metabase_login("rasta@metabase.com", "0ld-Pass"));
    api.get_me().await.expect("a lazy login");
    api.change_password(1, &Secret::new("N3w-Pass"), Some(&Secret::new("0ld-Pass")))
        .await
        .unwrap();
    api.get_me().await.expect("the change's session");
    api.get_me().await.expect("a re-login with the new password");
    assert_eq!(*passwords.lock().unwrap(), ["0ld-Pass", "N3w-Pass"]);
    assert!(matches!(api.client().auth(), Auth::MetabaseLogin { .. }));
}

/// Writes whose repetition is not harmless are sent once, even when the server answers a 503
/// (which a read would retry): a password change, a reactivation, a reset.
#[tokio::test]
async fn password_changes_reactivations_and_resets_are_sent_once_on_a_503() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(text(503, "busy"))
        .mount(&server)
        .await;
    let api = api(&server);
    let pw = Secret::new("N3w-password");
    let errors = [
        (
            "PUT",
            "/api/user/7/password",
            api.change_password(7, &pw, Some(&Secret::new("0ld-password")))
                .await
                .map(|_| ()),
        ),
        (
            "PUT",
            "/api/user/7/reactivate",
            api.reactivate_user(7).await.map(|_| ()),
        ),
        (
            "POST",
            "/api/session/reset_password",
            api.reset_password(&Secret::new("tok_1"), &pw).await.map(|_| ()),
        ),
    ];
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 3, "one request each: {sent:?}");
    for ((verb, route, result), request) in errors.into_iter().zip(&sent) {
        let err = result.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{route}");
        assert_eq!(err.attempts(), 1, "{route}");
        assert_eq!((request.method.as_str(), request.url.path()), (verb, route));
    }
}

/// The fake refuses group managers (an Enterprise feature) with a 400 on the memberships,
/// whether asked in a membership or at the top level, and changes nothing.
#[tokio::test]
async fn fake_refuses_group_managers_and_changes_nothing() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let before = admin.get_user(2).await.unwrap();
    let update = UserUpdate::new().groups(vec![
        GroupMembership::new(ALL_USERS_GROUP),
        GroupMembership::new(ANALYSTS_GROUP).manager(true),
    ]);
    let err = admin.update_user(2, &update).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err:?}");
    assert_eq!(err.field_errors()[0].field(), "user_group_memberships");
    let err = admin
        .request(userapi::Method::PUT, &["api", "user", "2"])
        .json(&json!({"is_group_manager": true}))
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err:?}");
    assert_eq!(err.field_errors()[0].field(), "user_group_memberships");
    let after = admin.get_user(2).await.unwrap();
    assert_eq!(after.user_group_memberships, before.user_group_memberships);
}

/// Under `Auth::metabase_login`, a session the server ended and a password that no longer
/// works: the read is refused, the one re-login fails, and the call ends with the login's
/// error. No loop, and no replay.
#[tokio::test]
async fn a_failed_re_login_ends_the_call_with_the_login_error() {
    let fake = FakeMetabase::start().await.unwrap();
    let user = fake
        .api_with(Auth::metabase_login(USER_EMAIL, USER_PASSWORD))
        .unwrap();
    let me = user.get_me().await.unwrap();
    // An admin sets a new password: the server ends every session of the user.
    let admin = session_of(&fake, ADMIN_EMAIL);
    admin
        .change_password(me.id, &Secret::new("Someone-else-s-1"), None)
        .await
        .unwrap();
    fake.clear_requests();
    let err = user.get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.target().unwrap().path(), "/api/session", "the login's error");
    assert!(!format!("{err} {err:?}").contains(USER_PASSWORD));
    let seen: Vec<(String, String)> = fake
        .received_requests()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".to_owned(), "/api/user/current".to_owned()),
            ("POST".to_owned(), "/api/session".to_owned()),
        ]
    );
}

/// Every user the stream yields and the error that ended it, within a few seconds: a pager
/// that loops fails the test instead of hanging it.
async fn drain_within_seconds(
    stream: &mut userapi::Pager<userapi::metabase::User>,
) -> (Vec<u64>, Option<Error>) {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut ids = Vec::new();
        while let Some(user) = stream.next().await {
            match user {
                Ok(u) => ids.push(u.id),
                Err(e) => return (ids, Some(e)),
            }
        }
        (ids, None)
    })
    .await
    .expect("the stream ends within 5 s")
}

/// The query strings of the requests the server received, in the order they came.
async fn queries(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_server_that_ignores_paging_and_echoes_nothing_ends_the_stream_after_two_requests() {
    // The same full page every time, whatever `offset` and `limit` say, with the paging keys
    // null, absent, or (an old server's shape) no envelope at all.
    let users = json!([{"id": 1}, {"id": 2}, {"id": 3}]);
    for body in [
        json!({"data": users, "total": null, "offset": null, "limit": null}),
        json!({"data": users}),
        users.clone(),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/user"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&body))
            .mount(&server)
            .await;
        let mut stream = api(&server).users(ListUsers::new().limit(3));
        let (ids, err) = drain_within_seconds(&mut stream).await;
        assert_eq!(ids, [1, 2, 3], "{body}: the first page once, nothing repeated");
        let err = err.unwrap_or_else(|| panic!("{body}: the stream ended without an error"));
        assert!(matches!(err, Error::Protocol(_)), "{body}: {err:?}");
        assert!(
            err.to_string()
                .contains("the page at offset 3 repeats the page before it"),
            "{body}: {err}"
        );
        assert!(stream.next().await.is_none(), "{body}");
        // Without a total, one page ahead: the first page, then the one that repeats it.
        assert_eq!(
            queries(&server).await,
            ["limit=3&offset=0", "limit=3&offset=3"],
            "{body}"
        );
        assert_eq!(stream.total(), None, "{body}");
    }
}

#[tokio::test]
async fn a_server_that_ignores_paging_with_a_total_but_no_offset_ends_the_stream() {
    // A total is told but `offset` is not echoed: the pager cannot rely on the echo.
    let body =
        json!({"data": [{"id": 1}, {"id": 2}, {"id": 3}], "total": 100, "offset": null, "limit": null});
    // One page at a time: exactly the first page and the one that repeats it.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3)).concurrency(1);
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3]);
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("repeats the page before it"), "{err}");
    assert_eq!(queries(&server).await, ["limit=3&offset=0", "limit=3&offset=3"]);

    // With read-ahead: the first page alone, then at most six at once; the first of those
    // ends the stream and cancels the rest (which may or may not have gone out).
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3]);
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(stream.next().await.is_none());
    let sent = queries(&server).await;
    assert!((2..=7).contains(&sent.len()), "{sent:?}");
    assert_eq!(sent[0], "limit=3&offset=0");
}

#[tokio::test]
async fn a_server_that_ignores_limit_on_the_first_page_gives_the_whole_list_in_one_request() {
    // More than asked for on the first page: that is the whole list, and nothing more is asked.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}]})),
        )
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(queries(&server).await, ["limit=2&offset=0"]);
}

#[tokio::test]
async fn a_later_page_longer_than_asked_ends_the_stream_with_an_error() {
    // The first page is as asked; the second ignores `limit`.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": 1}, {"id": 2}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .and(query_param("offset", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": 3}, {"id": 4}, {"id": 5}, {"id": 6}, {"id": 7}]})),
        )
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2]);
    let err = err.expect("an error ends the stream");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("asked for 2 items at offset 2, the server answered 5"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(queries(&server).await, ["limit=2&offset=0", "limit=2&offset=2"]);
}

/// A logout the server has answered drops the session even when the caller stopped waiting
/// first; the client does not keep sending a session the server ended.
#[tokio::test]
async fn an_abandoned_logout_still_drops_the_session() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(204).set_delay(std::time::Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(50), api.logout()).await;
    assert!(gave_up.is_err(), "the caller stopped waiting");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(api.client().auth().is_none(), "{:?}", api.client().auth());
}

/// A session installed while a logout was in flight (another login) is kept: the logout
/// ended the session it was sent with, not the new one.
#[tokio::test]
async fn a_logout_keeps_a_session_installed_while_it_was_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(204).set_delay(std::time::Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let logout = tokio::spawn({
        let api = api.clone();
        async move { api.logout().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    api.client()
        .set_auth(Auth::metabase_session("session-from-a-new-login"))
        .unwrap();
    logout.await.unwrap().unwrap();
    match api.client().auth() {
        Auth::MetabaseSession(s) => assert_eq!(s.expose(), "session-from-a-new-login"),
        other => panic!("the new session is gone: {other:?}"),
    }
}

/// A reset the server answered installs its session even when the caller stopped waiting;
/// a login whose answer comes after the credentials were changed another way does not
/// overwrite them.
#[tokio::test]
async fn reset_and_login_survive_abandoned_callers_and_never_overwrite_newer_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session/reset_password"))
        .respond_with(
            json(200, r#"{"success": true, "session_id": "after-reset"}"#)
                .set_delay(std::time::Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(
            json(200, r#"{"id": "from-slow-login"}"#).set_delay(std::time::Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    let anonymous = api_with(&server, Auth::None);
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        anonymous.reset_password(&Secret::new("tok_1"), &Secret::new("N3w-password")),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    match anonymous.client().auth() {
        Auth::MetabaseSession(s) => assert_eq!(s.expose(), "after-reset"),
        other => panic!("the reset's session is lost: {other:?}"),
    }

    let api = api(&server);
    let login = tokio::spawn({
        let api = api.clone();
        async move { api.login("a@b.io", &Secret::new("pass-w0rd")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    api.client()
        .set_auth(Auth::metabase_api_key("mb_set_meanwhile"))
        .unwrap();
    login.await.unwrap().unwrap();
    match api.client().auth() {
        Auth::MetabaseApiKey(k) => assert_eq!(k.expose(), "mb_set_meanwhile"),
        other => panic!("{other:?}"),
    }
}

/// The same under `Auth::metabase_login`: a login that was in flight while one's own password
/// changed does not replace the change's session (nor the login credentials), whether it
/// started before or after the client's own first login.
#[tokio::test]
async fn under_login_credentials_a_password_change_wins_over_a_login_in_flight() {
    for login_first in [false, true] {
        let server = MockServer::start().await;
        let slow = json(200, r#"{"id": "from-slow-login"}"#).set_delay(std::time::Duration::from_millis(300));
        let fast = json(200, r#"{"id": "first-session"}"#);
        // The first login to arrive gets the first answer mounted.
        let (first, then) = if login_first { (slow, fast) } else { (fast, slow) };
        Mock::given(method("POST"))
            .and(path("/api/session"))
            .respond_with(first)
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/session"))
            .respond_with(then)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/api/user/1/password"))
            .respond_with(json(200, r#"{"session_id": "after-change"}"#))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/user/current"))
            .respond_with(json(200, CURRENT))
            .mount(&server)
            .await;
        let api = api_with(
            &server,
            Auth::metabase_login("rasta@metabase.com", "Rasta-t0ucan"),
        );
        let spawn_login = |api: Metabase| {
            tokio::spawn(async move {
                api.login("rasta@metabase.com", &Secret::new("Rasta-t0ucan"))
                    .await
            })
        };
        let login = if login_first {
            let login = spawn_login(api.clone());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            api.get_me().await.unwrap();
            login
        } else {
            api.get_me().await.unwrap();
            let login = spawn_login(api.clone());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            login
        };
        api.change_password(
            1,
            &Secret::new("N3w-pass-word"),
            Some(&Secret::new("Rasta-t0ucan")),
        )
        .await
        .unwrap();
        login.await.unwrap().expect("the login itself succeeded");
        assert!(
            matches!(api.client().auth(), Auth::MetabaseLogin { .. }),
            "login first: {login_first}: {:?}",
            api.client().auth()
        );
        api.get_me().await.unwrap();
        let sent = server.received_requests().await.unwrap();
        let last = sent.last().unwrap();
        assert_eq!(last.url.path(), "/api/user/current");
        assert_eq!(
            last.headers.get("x-metabase-session").unwrap(),
            "after-change",
            "login first: {login_first}: the change's session stays"
        );
    }
}
