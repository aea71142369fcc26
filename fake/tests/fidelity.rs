//! The fakes answer as the real servers do, seen on the wire with a raw HTTP client: what a
//! client that sends something the SDK never sends would get in production.
#![cfg(all(feature = "rounds", feature = "rightech"))]

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
