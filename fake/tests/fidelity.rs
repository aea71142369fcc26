//! The fakes answer as the real servers do, seen on the wire with a raw HTTP client: what a
//! client that sends something the SDK never sends would get in production.
#![cfg(feature = "rounds")]

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
