//! The fakes answer as the real servers do, seen on the wire with a raw HTTP client: what a
//! client that sends something the SDK never sends would get in production.
#![cfg(all(feature = "diadoc", feature = "rounds", feature = "rightech"))]

use std::time::Duration;

use serde_json::{Value, json};

/// A response's body as JSON.
async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

mod rounds {
    use super::*;
    use userapi_fake::rounds::{FakeRounds, ME};

    /// `GET /users/rounds?as_owner=<value>`: the status and the body.
    async fn rounds(fake: &FakeRounds, value: &str) -> (u16, Value) {
        let token = fake.token_for(ME, Duration::from_secs(60));
        let mut url = fake.base_url().join("users/rounds").unwrap();
        url.query_pairs_mut().append_pair("as_owner", value);
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), json_of(response).await)
    }

    /// The ids of the rounds in a list.
    fn ids(list: &Value) -> Vec<&str> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn as_owner_takes_every_spelling_pydantic_reads_as_a_boolean() {
        let fake = FakeRounds::start().await.unwrap();
        let (_, owned) = rounds(&fake, "true").await;
        let (_, joined) = rounds(&fake, "false").await;
        assert_ne!(ids(&owned), ids(&joined));
        // Pydantic v2: a str that, lower-cased, is one of these.
        let truthy = ["1", "on", "t", "true", "y", "yes"];
        let falsy = ["0", "off", "f", "false", "n", "no"];
        for (spellings, expected) in [(truthy, &owned), (falsy, &joined)] {
            for s in spellings {
                for v in [s.to_owned(), s.to_uppercase(), capitalized(s)] {
                    let (status, body) = rounds(&fake, &v).await;
                    assert_eq!(status, 200, "as_owner={v}: {body}");
                    assert_eq!(ids(&body), ids(expected), "as_owner={v}");
                }
            }
        }
    }

    fn capitalized(s: &str) -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn as_owner_refuses_anything_else_with_fastapis_422() {
        let fake = FakeRounds::start().await.unwrap();
        for v in ["maybe", "", "2", "truee", "yes ", " 1", "tr", "ye", "-1", "None"] {
            let (status, body) = rounds(&fake, v).await;
            assert_eq!(status, 422, "as_owner={v:?}");
            assert_eq!(
                body,
                json!({"detail": [{
                    "type": "bool_parsing",
                    "loc": ["query", "as_owner"],
                    "msg": "Input should be a valid boolean, unable to interpret input",
                    "input": v,
                }]}),
                "as_owner={v:?}"
            );
        }
    }
}

mod rightech {
    use super::*;
    use userapi::rightech::{NewUser, RoleId};
    use userapi_fake::rightech::{FakeRightech, ROLE_ID, TOKEN};

    /// Rightech's error body as its own client (`lib/api.ts`) reads it: `message`, and
    /// optionally `tags` (strings) and `helper` (`message`, `links`), nothing invented.
    fn assert_rightech_error(body: &Value) {
        let object = body.as_object().expect("a JSON object");
        for key in object.keys() {
            assert!(
                ["message", "tags", "helper"].contains(&key.as_str()),
                "a field Rightech's error body is not known to carry: {key} in {body}"
            );
        }
        assert!(body["message"].is_string(), "{body}");
        if let Some(tags) = body.get("tags") {
            assert!(tags.as_array().unwrap().iter().all(Value::is_string), "{body}");
        }
        if let Some(helper) = body.get("helper") {
            for key in helper.as_object().unwrap().keys() {
                assert!(["message", "links"].contains(&key.as_str()), "{body}");
            }
        }
    }

    #[tokio::test]
    async fn error_bodies_carry_message_tags_and_helper_only() {
        let fake = FakeRightech::start().await.unwrap();
        let http = reqwest::Client::new();
        let url = |p: &str| fake.base_url().join(p).unwrap();
        let cases = [
            http.get(url("api/v1/users/5d8a18d5d0025e0012fb6aff")),
            http.get(url("api/v1/users/search")),
            http.get(url("api/v1/nothing")),
            http.put(url("api/v1/roles")),
            http.post(url("api/v1/users"))
                .header("content-type", "application/json")
                .body("{"),
        ];
        for request in cases {
            let response = request.bearer_auth(TOKEN).send().await.unwrap();
            assert!(response.status().as_u16() >= 400);
            let body: Value = json_of(response).await;
            assert_rightech_error(&body);
        }
        // One with a helper, as the SDK reads it.
        let err = fake
            .api()
            .unwrap()
            .get_user(
                &"5d8a18d5d0025e0012fb6aff"
                    .parse::<userapi::rightech::UserId>()
                    .unwrap(),
            )
            .await
            .unwrap_err();
        let body = err.http().unwrap().body_json().unwrap();
        assert_rightech_error(&body);
        assert_eq!(body["helper"]["message"], "check the id");
        assert_eq!(err.service_message(), Some("user not found"));
        assert_eq!(err.service_code(), None);
        // A refusal of the fake's own rules, too.
        let role = RoleId::new(ROLE_ID).unwrap();
        let weak = NewUser::new(role, "Sensor", "s7@example.com", "sensor7", "weak");
        let err = fake.api().unwrap().create_user(&weak).await.unwrap_err();
        assert_rightech_error(&err.http().unwrap().body_json().unwrap());
        assert_eq!(err.service_code(), None);
    }

    #[tokio::test]
    async fn an_injected_fault_has_rightechs_error_body() {
        let fake = FakeRightech::start().await.unwrap();
        fake.fail_next(1, 503);
        let response = reqwest::Client::new()
            .get(fake.base_url().join("api/v1/users").unwrap())
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 503);
        assert_rightech_error(&json_of(response).await);
    }
}

mod diadoc {
    use super::*;
    use userapi::diadoc::{FullName, UserToUpdate};
    use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};

    fn auth_header(fake: &FakeDiadoc) -> String {
        format!(
            "DiadocAuth ddauth_api_client_id={CLIENT_ID},ddauth_token={}",
            fake.issue_token().expose()
        )
    }

    #[tokio::test]
    async fn without_accept_json_the_answer_is_protobuf() {
        let fake = FakeDiadoc::start().await.unwrap();
        let http = reqwest::Client::new();
        let auth = auth_header(&fake);
        let url = |p: &str| fake.base_url().join(p).unwrap();
        // No Accept at all (as the official SDKs send), and reqwest's `*/*`, and XML.
        for accept in [None, Some("*/*"), Some("application/xml")] {
            for path in ["V2/GetMyUser", "GetMyOrganizations?autoRegister=false"] {
                let mut request = http.get(url(path)).header("authorization", &auth);
                if let Some(a) = accept {
                    request = request.header("accept", a);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200, "{path} {accept:?}");
                assert_eq!(
                    response.headers()["content-type"],
                    "application/x-protobuf",
                    "{path} {accept:?}"
                );
                let body = response.bytes().await.unwrap();
                assert!(!body.is_empty());
                assert!(
                    serde_json::from_slice::<Value>(&body).is_err(),
                    "not JSON: {body:?}"
                );
            }
        }
        // A change without Accept: applied, and answered in protobuf.
        let response = http
            .post(url("UpdateMyUser"))
            .header("authorization", &auth)
            .header("content-type", "application/json; charset=utf-8")
            .body(r#"{"FullName": {"FullName": {"LastName": "Ivanova", "FirstName": "Anna"}}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/x-protobuf");
        let name = fake.user().full_name.unwrap();
        assert_eq!(name.last_name.as_deref(), Some("Ivanova"));
        // Errors stay plain text, whatever Accept says.
        let response = http
            .get(url("GetMyEmployee?boxId=nope"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        // With Accept: application/json, JSON as before.
        let response = http
            .get(url("V2/GetMyUser"))
            .header("authorization", &auth)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        let me: Value = json_of(response).await;
        assert_eq!(me["Login"], LOGIN);
    }

    #[tokio::test]
    async fn the_sdk_always_asks_for_json() {
        let fake = FakeDiadoc::start().await.unwrap();
        let api = fake
            .api_with(userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None))
            .unwrap();
        api.login(LOGIN, &PASSWORD.into()).await.unwrap();
        fake.clear_requests();
        api.get_me().await.unwrap();
        api.get_my_organizations(false).await.unwrap();
        api.update_me(&UserToUpdate::new().full_name(FullName::new("Ivanova", "Anna")))
            .await
            .unwrap();
        api.get_my_employee(
            &userapi_fake::diadoc::BOX_ID
                .parse::<userapi::diadoc::BoxId>()
                .unwrap(),
        )
        .await
        .unwrap();
        let log = fake.received_requests();
        assert_eq!(log.len(), 4);
        for r in &log {
            assert_eq!(
                r.header("accept"),
                Some("application/json"),
                "{} {}",
                r.method,
                r.path
            );
            assert_eq!(r.status.map(|s| s.as_u16()), Some(200));
        }
    }
    /// Diadoc's own types the fake does not play: `certificate` (a DER certificate in, a
    /// CMS-encrypted token out, GOST crypto to read it) and `sid`. The facts describe no
    /// refusal for them, so the fake says it is the fake refusing, not Diadoc.
    #[tokio::test]
    async fn authenticate_types_the_fake_does_not_play_are_refused_as_the_fakes() {
        let fake = FakeDiadoc::start().await.unwrap();
        let http = reqwest::Client::new();
        for (kind, content_type) in [
            ("certificate", "application/octet-stream"),
            ("sid", "text/plain"),
            ("trust", "text/plain"),
        ] {
            let mut url = fake.base_url().join("V3/Authenticate").unwrap();
            url.query_pairs_mut().append_pair("type", kind);
            let response = http
                .post(url)
                .header(
                    "authorization",
                    format!("DiadocAuth ddauth_api_client_id={CLIENT_ID}"),
                )
                .header("content-type", content_type)
                .body("x")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 400, "{kind}");
            let text = String::from_utf8(response.bytes().await.unwrap().to_vec()).unwrap();
            assert!(
                text.contains("this fake") && text.contains(&format!("type={kind}")),
                "{kind}: {text}"
            );
        }
    }
}
