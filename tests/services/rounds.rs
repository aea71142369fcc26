#![cfg(feature = "rounds")]
//! The rounds app on the wire (wiremock) and against its fake.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::json;
use userapi::rounds::{Product, Round, RoundRole, RoundStatus, Rounds, User, UserId, UserUpdate};
use userapi::{Auth, ErrorKind, Secret};
use userapi_fake::rounds::{FakeRounds, ME, OTHER};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support as common;

const USER: &str = include_str!("../fixtures/rounds/user.json");
const ROUNDS: &str = include_str!("../fixtures/rounds/rounds.json");
/// `{"alg":"HS256"}` . `{"sub":"u1","exp":4102444800}` (2100-01-01) . signature
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln";
/// The same with `exp` 1 (1970).
const EXPIRED: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6MX0.c2ln";

fn api_with(server: &MockServer, auth: Auth) -> Rounds {
    common::client(server, auth).rounds()
}

fn api(server: &MockServer) -> Rounds {
    api_with(server, Auth::jwt(JWT))
}

fn json(status: u16, raw: &str) -> ResponseTemplate {
    common::body(status, raw, "application/json")
}

fn id(text: &str) -> UserId {
    UserId::new(text).unwrap()
}

#[tokio::test]
async fn get_me_sends_the_jwt_and_decodes_nulls_and_unknown_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .and(header("authorization", format!("Bearer {JWT}").as_str()))
        .and(header("accept", "application/json"))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server).get_me().await.unwrap();
    assert_eq!(me.id, "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b");
    assert_eq!(me.phone.as_deref(), Some("+77011234567"));
    assert_eq!(me.first_name.as_deref(), Some("Dana"));
    assert_eq!(me.last_name, None);
    assert_eq!(me.is_verified, Some(true));
    assert_eq!(me.extra["referral_code"], "DANA42");
}

#[tokio::test]
async fn the_client_knows_when_the_jwt_expires() {
    let server = MockServer::start().await;
    let rounds = api(&server);
    let exp = rounds.client().token_expires_at().unwrap();
    assert_eq!(exp, SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800));
}

#[tokio::test]
async fn an_expired_jwt_fails_fast_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER))
        .expect(0)
        .mount(&server)
        .await;
    let err = api_with(&server, Auth::jwt(EXPIRED)).get_me().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Auth(_)), "{err:?}");
    assert!(err.is_auth());
    let shown = err.to_string();
    assert!(
        shown.contains("expired") && shown.contains("/users/me"),
        "{shown}"
    );
    assert!(!shown.contains(EXPIRED));
}

#[tokio::test]
async fn get_user_encodes_the_id_as_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/a%2Fb%3Fc"))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    api(&server).get_user(&id("a/b?c")).await.unwrap();
}

#[tokio::test]
async fn get_user_refuses_ids_that_are_other_routes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER))
        .expect(0)
        .mount(&server)
        .await;
    let long = "x".repeat(1025);
    for id in ["me", "rounds", "", "..", ".", long.as_str()] {
        // The id is refused when it is made, so no call can be built with it.
        let err = UserId::new(id).unwrap_err();
        assert!(err.is_invalid_input(), "{id:?}: {err:?}");
        assert!(id.parse::<UserId>().unwrap_err().is_invalid_input(), "{id:?}");
        assert!(
            UserId::try_from(id.to_owned()).unwrap_err().is_invalid_input(),
            "{id:?}"
        );
        let err = serde_json::from_value::<UserId>(json!(id)).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn get_user_with_an_id_like_a_route_still_asks_for_that_user() {
    // Ids that are near `me` or `rounds` are ordinary ids: each reaches `GET /users/{id}` as
    // one segment, and neither `/users/me` nor `/users/rounds` is ever requested.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(json(500, r#"{"detail": "wrong route"}"#))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/rounds"))
        .respond_with(json(500, r#"{"detail": "wrong route"}"#))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(200, USER))
        .mount(&server)
        .await;
    let api = api(&server);
    let ids = [
        "Me",
        "me ",
        "me/",
        "./me",
        "../me",
        "rounds/..",
        "%6De",
        "me?x=1",
        "rounds#",
    ];
    for text in ids {
        api.get_user(&id(text)).await.unwrap();
    }
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/users/Me",
            "/users/me%20",
            "/users/me%2F",
            "/users/.%2Fme",
            "/users/..%2Fme",
            "/users/rounds%2F..",
            "/users/%256De",
            "/users/me%3Fx%3D1",
            "/users/rounds%23",
        ]
    );
}

#[tokio::test]
async fn get_user_sends_the_documented_request_and_decodes_typed_ids() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"))
        .and(header("authorization", format!("Bearer {JWT}").as_str()))
        .and(header("accept", "application/json"))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    let wanted = id("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b");
    let user = api(&server).get_user(&wanted).await.unwrap();
    assert_eq!(user.id, wanted);
    assert_eq!(user.first_name.as_deref(), Some("Dana"));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), None);
    assert!(requests[0].body.is_empty());
}

#[tokio::test]
async fn a_user_whose_id_is_a_route_name_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(json(200, r#"{"id": "rounds", "phone": "+77011234567"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server).get_me().await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
}

#[tokio::test]
async fn update_me_sends_only_set_fields_and_null_for_cleared_ones() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/users/me"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"first_name": "Dana", "avatar_url": null})))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    let me = api(&server)
        .update_me(&UserUpdate::new().first_name("Dana").clear_avatar_url())
        .await
        .unwrap();
    assert_eq!(me.first_name.as_deref(), Some("Dana"));
}

#[tokio::test]
async fn an_empty_update_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(json(200, USER))
        .expect(0)
        .mount(&server)
        .await;
    let err = api(&server).update_me(&UserUpdate::new()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidInput(e) if e.operation() == "rounds::update_me"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_rounds_as_participant_sends_no_query_and_decodes_everything() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/rounds"))
        .and(query_param_is_missing("as_owner"))
        .respond_with(json(200, ROUNDS))
        .expect(1)
        .mount(&server)
        .await;
    let list = api(&server).list_rounds(RoundRole::Participant).await.unwrap();
    assert_eq!(list.len(), 2);
    let first = &list[0];
    assert_eq!(first.status, Some(RoundStatus::Open));
    assert_eq!(first.entry_fee.as_deref(), Some("500.00"));
    assert_eq!(first.entry_fee_hundredths(), Some(50_000));
    let product = first.product.as_ref().unwrap();
    assert_eq!(product.price.as_ref().unwrap().as_u64(), Some(45_000));
    assert_eq!(
        (product.store_id, product.question_id, product.quantity),
        (Some(12), Some(9), Some(3))
    );
    assert_eq!(product.format_price.as_deref(), Some("45 000 ₸"));
    assert_eq!(product.extra["category"], "audio");
    let second = &list[1];
    assert_eq!(second.status, Some(RoundStatus::Unknown("drawing".into())));
    assert_eq!(second.status.as_ref().unwrap().as_str(), "drawing");
    assert_eq!(second.entry_fee_hundredths(), Some(25_050));
    assert_eq!(
        second.product.as_ref().unwrap().price.as_ref().unwrap().as_f64(),
        Some(12.5)
    );
    assert!(second.extra.contains_key("winner_id"));
}

#[tokio::test]
async fn list_rounds_as_owner_sends_as_owner_true() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/rounds"))
        .and(query_param("as_owner", "true"))
        .respond_with(json(200, "[]"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(
        api(&server)
            .list_rounds(RoundRole::Owner)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_401_and_a_403_not_authenticated_are_both_auth_errors() {
    for status in [401, 403] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                json(status, r#"{"detail": "Not authenticated"}"#)
                    .insert_header("www-authenticate", "Bearer"),
            )
            .mount(&server)
            .await;
        let err = api(&server).get_me().await.unwrap_err();
        assert!(err.is_auth(), "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.service_message(), Some("Not authenticated"));
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn a_422_becomes_field_errors() {
    let server = MockServer::start().await;
    let body = r#"{"detail": [
        {"loc": ["body", "first_name"], "msg": "Input should be a valid string", "type": "string_type", "input": 5},
        {"loc": ["query", "as_owner"], "msg": "Input should be a valid boolean", "type": "bool_parsing"}
    ]}"#;
    Mock::given(method("PATCH"))
        .respond_with(json(422, body))
        .mount(&server)
        .await;
    let err = api(&server)
        .update_me(&UserUpdate::new().last_name("O"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    let fields = err.field_errors();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0].field(), "body.first_name");
    assert_eq!(fields[0].message(), "Input should be a valid string");
    assert_eq!(fields[1].field(), "query.as_owner");
    assert!(
        err.to_string()
            .contains("body.first_name: Input should be a valid string"),
        "{err}"
    );
}

#[tokio::test]
async fn a_404_detail_is_not_found_and_a_detail_object_is_kept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/nobody"))
        .respond_with(json(404, r#"{"detail": "User not found"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/odd"))
        .respond_with(json(400, r#"{"detail": {"code": "E1", "hint": "x"}}"#))
        .mount(&server)
        .await;
    let err = api(&server).get_user(&id("nobody")).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.service_message(), Some("User not found"));
    let err = api(&server).get_user(&id("odd")).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.http().unwrap().body_json().unwrap()["detail"]["code"], "E1");
}

#[tokio::test]
async fn a_token_provider_is_asked_again_after_a_401_and_the_read_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer stale"))
        .respond_with(json(401, r#"{"detail": "Could not validate credentials"}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(json(200, USER))
        .expect(1)
        .mount(&server)
        .await;
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    let auth = Auth::provider(move |refresh| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok(Secret::new(if refresh { "fresh" } else { "stale" })) }
    });
    let me = api_with(&server, auth).get_me().await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("Dana"));
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_serves_users_and_rounds_by_role() {
    let fake = FakeRounds::start().await.unwrap();
    let rounds = fake.api().unwrap();
    assert_eq!(rounds.get_me().await.unwrap().id, ME);
    assert_eq!(
        rounds.get_user(&id(OTHER)).await.unwrap().first_name.as_deref(),
        Some("Arman")
    );
    let owned = rounds.list_rounds(RoundRole::Owner).await.unwrap();
    let joined = rounds.list_rounds(RoundRole::Participant).await.unwrap();
    assert_eq!(
        owned.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r-1042"]
    );
    assert_eq!(
        joined.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r-1043"]
    );
    let me = rounds.get_me().await.unwrap();
    assert!(owned[0].is_owned_by(&me) && !joined[0].is_owned_by(&me));
}

#[tokio::test]
async fn fake_applies_updates_and_clears_with_null() {
    let fake = FakeRounds::start().await.unwrap();
    let rounds = fake.api().unwrap();
    let after = rounds
        .update_me(&UserUpdate::new().last_name("Serikova").clear_avatar_url())
        .await
        .unwrap();
    assert_eq!(after.last_name.as_deref(), Some("Serikova"));
    assert_eq!(after.avatar_url, None);
    assert_eq!(after.first_name.as_deref(), Some("Dana"));
    assert_eq!(fake.user(ME).unwrap().last_name.as_deref(), Some("Serikova"));
}

#[tokio::test]
async fn fake_answers_404_for_unknown_ids() {
    let fake = FakeRounds::start().await.unwrap();
    let err = fake
        .api()
        .unwrap()
        .get_user(&id("no-such-user"))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.service_message(), Some("User not found"));
}

#[tokio::test]
async fn fake_checks_tokens() {
    let fake = FakeRounds::start().await.unwrap();
    let err = fake.api_with(Auth::none()).unwrap().get_me().await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.service_message(), Some("Not authenticated"));
    let err = fake
        .api_with(Auth::bearer("not-a-jwt"))
        .unwrap()
        .get_me()
        .await
        .unwrap_err();
    assert_eq!(err.service_message(), Some("Could not validate credentials"));
    // A bearer (not Auth::jwt) token that expired reaches the server, which refuses it.
    let expired = fake.expired_token(Duration::from_secs(60));
    let err = fake
        .api_with(Auth::bearer(expired.clone()))
        .unwrap()
        .get_me()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    // As Auth::jwt the client refuses it itself.
    let err = fake
        .api_with(Auth::jwt(expired))
        .unwrap()
        .get_me()
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Auth(_)));
}

#[tokio::test]
async fn fake_gives_422_for_wrongly_typed_input() {
    let fake = FakeRounds::start().await.unwrap();
    let token = fake.token_for(ME, Duration::from_secs(60));
    let http = reqwest::Client::new();
    let response = http
        .patch(fake.base_url().join("users/me").unwrap())
        .bearer_auth(token.expose())
        .json(&json!({"first_name": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["detail"][0]["loc"], json!(["body", "first_name"]));
    let response = http
        .get(fake.base_url().join("users/rounds?as_owner=maybe").unwrap())
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let response = http
        .get(fake.base_url().join("users/rounds?as_owner=1").unwrap())
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Vec<serde_json::Value>>().await.unwrap().len(), 1);
}

#[tokio::test]
async fn fake_routes_before_it_looks_at_credentials() {
    let fake = FakeRounds::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = |p: &str| fake.base_url().join(p).unwrap();
    // No token at all: the method is still refused first, as Starlette refuses it.
    let response = http.delete(url("users/me")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, json!({"detail": "Method Not Allowed"}));
    let response = http.patch(url(&format!("users/{OTHER}"))).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let response = http.get(url("users/a/b")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    // Through the client: a 405 is not an auth error.
    let err = fake
        .api_with(Auth::none())
        .unwrap()
        .request(userapi::Method::DELETE, &["users", "me"])
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(405));
    assert!(!err.is_auth());
    assert_eq!(err.service_message(), Some("Method Not Allowed"));
}

#[tokio::test]
async fn fake_answers_bad_bodies_as_fastapi_does() {
    let fake = FakeRounds::start().await.unwrap();
    let token = fake.token_for(ME, Duration::from_secs(60));
    let http = reqwest::Client::new();
    let patch = |body: &'static str| {
        http.patch(fake.base_url().join("users/me").unwrap())
            .bearer_auth(token.expose())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = patch(r#"{"first_name": }"#).await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"detail": [{
            "type": "json_invalid", "loc": ["body", 15], "msg": "JSON decode error",
            "input": {}, "ctx": {"error": "Expecting value"}
        }]})
    );
    let body: serde_json::Value = patch("[1]").await.unwrap().json().await.unwrap();
    assert_eq!(body["detail"][0]["loc"], json!(["body"]));
    assert_eq!(body["detail"][0]["type"], "model_attributes_type");
    let body: serde_json::Value = patch("").await.unwrap().json().await.unwrap();
    assert_eq!(
        (&body["detail"][0]["loc"], &body["detail"][0]["type"]),
        (&json!(["body"]), &json!("missing"))
    );
    assert_eq!(fake.user(ME).unwrap().first_name.as_deref(), Some("Dana"));
}

#[tokio::test]
async fn a_422_with_a_numeric_loc_names_the_position() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(json(
            422,
            r#"{"detail": [{"type": "json_invalid", "loc": ["body", 15], "msg": "JSON decode error", "input": {}, "ctx": {"error": "Expecting value"}}]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = api(&server)
        .update_me(&UserUpdate::new().first_name("x"))
        .await
        .unwrap_err();
    let fields = err.field_errors();
    assert_eq!(fields.len(), 1);
    assert_eq!(
        (fields[0].field(), fields[0].message()),
        ("body.15", "JSON decode error")
    );
}

#[tokio::test]
async fn fake_token_helpers_saturate_instead_of_panicking() {
    let fake = FakeRounds::start().await.unwrap();
    let forever = fake.token_for(ME, Duration::MAX);
    let rounds = fake.api_with(Auth::jwt(forever)).unwrap();
    assert!(rounds.client().token_expires_at().is_some());
    assert_eq!(rounds.get_me().await.unwrap().id, ME);
    for ago in [Duration::from_secs(1 << 63), Duration::MAX] {
        let expired = fake.expired_token(ago);
        let err = fake
            .api_with(Auth::bearer(expired))
            .unwrap()
            .get_me()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    }
    // Zero: expired at once.
    let now = fake.token_for(ME, Duration::ZERO);
    let err = fake
        .api_with(Auth::bearer(now))
        .unwrap()
        .get_me()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
}

#[tokio::test]
async fn fake_seeding_adds_users_and_rounds_of_the_crates_own_types() {
    let fake = FakeRounds::start().await.unwrap();
    let mut user = User::new(fake.new_user_id());
    user.first_name = Some("Aruzhan".into());
    user.phone = Some("+77015550000".into());
    let user = fake.add_user(user);
    assert!(!user.id.as_str().is_empty());
    let mut round = Round::default();
    round.owner_id = Some(user.id.clone());
    round.status = Some(RoundStatus::Open);
    round.entry_fee = Some("99.90".into());
    let round = fake.add_round(round, &[ME]);
    let rounds = fake.api().unwrap();
    assert_eq!(
        rounds.get_user(&user.id).await.unwrap().phone.as_deref(),
        Some("+77015550000")
    );
    let joined = rounds.list_rounds(RoundRole::Participant).await.unwrap();
    let added = joined.iter().find(|r| r.id == round.id).unwrap();
    assert_eq!(added.entry_fee_hundredths(), Some(9_990));
    let as_her = fake
        .api_with(Auth::jwt(
            fake.token_for(user.id.as_str(), Duration::from_secs(60)),
        ))
        .unwrap();
    let owned = as_her.list_rounds(RoundRole::Owner).await.unwrap();
    assert_eq!(owned.len(), 1);
    assert!(owned[0].is_owned_by(&as_her.get_me().await.unwrap()));
}

#[test]
fn response_models_can_be_built_for_tests() {
    let user = User::new(id("u1"));
    let mut round = Round::default();
    round.owner_id = Some(id("u1"));
    round.product = Some(Product::default());
    assert!(round.is_owned_by(&user));
}
