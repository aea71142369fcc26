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
    /// What `POST /V3/Authenticate?type=<kind>` answers: status, headers, body.
    async fn authenticate(
        fake: &FakeDiadoc,
        kind: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut url = fake.base_url().join("V3/Authenticate").unwrap();
        url.query_pairs_mut().append_pair("type", kind);
        let mut request = reqwest::Client::new()
            .post(url)
            .header(
                "authorization",
                format!("DiadocAuth ddauth_api_client_id={CLIENT_ID}"),
            )
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// A self-signed certificate, DER, as rcgen makes it (ECDSA P-256: not GOST, but an X.509
    /// certificate all the same), and its PEM.
    fn certificate(name: &str) -> (Vec<u8>, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.der().to_vec(), cert.pem())
    }

    /// The thumbprint as Windows and Diadoc write it: SHA-1 of the DER, uppercase hex. Computed
    /// with aws-lc-rs, apart from the fake's own SHA-1.
    fn thumbprint(der: &[u8]) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
        digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
    }

    fn text_plain(headers: &reqwest::header::HeaderMap) -> &str {
        headers["content-type"].to_str().unwrap()
    }

    /// A certificate Diadoc does not know (every certificate, to the fake: it cannot play the
    /// encrypted token) gets what diadoc/diadocapi-docs#226 recorded: 401, plain text,
    /// `X-Diadoc-ErrorCode: Http.Auth.Auth.CertNotValid`, and the thumbprint in uppercase hex
    /// (diadoc/diadocsdk-1c-docs#756); that record's body is 87 bytes, as this one is.
    #[tokio::test]
    async fn authenticate_by_an_unknown_certificate_is_not_authorized_by_thumbprint() {
        let fake = FakeDiadoc::start().await.unwrap();
        let mut seen = Vec::new();
        for name in ["first.example", "second.example"] {
            let (der, _) = certificate(name);
            let thumb = thumbprint(&der);
            assert_eq!(thumb.len(), 40);
            let (status, headers, body) = authenticate(
                &fake,
                "certificate",
                der,
                &[("content-type", "application/octet-stream")],
            )
            .await;
            assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
            assert_eq!(text_plain(&headers), "text/plain; charset=utf-8");
            assert_eq!(headers["x-diadoc-errorcode"], "Http.Auth.Auth.CertNotValid");
            assert!(headers.contains_key("x-kontur-trace-id"));
            let body = String::from_utf8(body).unwrap();
            assert_eq!(
                body,
                format!("Certificate with thumbprint {thumb} is not authorized.")
            );
            assert_eq!(body.len(), 87);
            seen.push(thumb);
        }
        assert_ne!(seen[0], seen[1]);
        // No token came of it: the request log shows two refusals and nothing else.
        let log = fake.received_requests();
        assert_eq!(log.len(), 2);
        assert!(log.iter().all(|r| r.status.map(|s| s.as_u16()) == Some(401)));
    }

    /// A body that is no DER certificate gets Diadoc's 400 (diadoc/diadocapi-docs#916: the
    /// certificate sent as base64 text; #846), whatever is wrong with it, and never a panic.
    #[tokio::test]
    async fn authenticate_by_certificate_refuses_a_body_that_is_no_der_certificate() {
        let fake = FakeDiadoc::start().await.unwrap();
        let (der, pem) = certificate("refused.example");
        let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut trailing = der.clone();
        trailing.push(0);
        let mut wrong_outer = der.clone();
        wrong_outer[0] = 0x31; // a SET, not a SEQUENCE
        let mut huge = vec![0x30, 0x88];
        huge.extend([0xff; 8]);
        huge.extend(&der[2..]);
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("text", b"x".to_vec()),
            ("base64 text (#916)", base64.into_bytes()),
            ("PEM", pem.into_bytes()),
            ("truncated by one byte", der[..der.len() - 1].to_vec()),
            ("only its first half", der[..der.len() / 2].to_vec()),
            ("a byte after it", trailing),
            ("a SET outside", wrong_outer),
            ("an empty SEQUENCE", vec![0x30, 0x00]),
            ("a SEQUENCE holding a NULL", vec![0x30, 0x02, 0x05, 0x00]),
            ("indefinite length", vec![0x30, 0x80, 0x30, 0x00, 0x00, 0x00]),
            ("a length of 2^64 - 1", huge),
            ("nine length bytes", vec![0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("a length with no bytes", vec![0x30, 0x82, 0x01]),
            ("the tag alone", vec![0x30]),
            (
                "non-ASCII and control bytes",
                "\u{0}\u{1b}сертификат\u{7f}".as_bytes().to_vec(),
            ),
        ];
        for (what, body) in bodies {
            let (status, headers, answer) = authenticate(&fake, "certificate", body, &[]).await;
            assert_eq!(status, 400, "{what}");
            assert_eq!(text_plain(&headers), "text/plain; charset=utf-8", "{what}");
            assert!(headers.contains_key("x-kontur-trace-id"), "{what}");
            assert_eq!(
                String::from_utf8_lossy(&answer),
                "Could not deserialize certificate from the request body",
                "{what}"
            );
        }
    }

    /// `type=sid` with an auth.sid Diadoc does not know (every one: the fake has no Kontur web
    /// sessions), and `type=trust` (the C# SDK's trusted service key), are refused as Diadoc
    /// refuses credentials: 401 with `X-Diadoc-ErrorCode: Http.Auth`, plain text. Kontur's
    /// words for these are not on record; the text is the fake's.
    #[tokio::test]
    async fn authenticate_by_sid_or_trust_is_refused_as_unknown_credentials() {
        let fake = FakeDiadoc::start().await.unwrap();
        let plain: &[(&str, &str)] = &[("content-type", "text/plain")];
        let trusted: &[(&str, &str)] = &[
            ("x-diadoc-servicekey", "service-key"),
            ("x-diadoc-serviceuserid", "user-1"),
        ];
        let cases = [
            ("sid", &b"7f1c2d3e4a5b"[..], plain),
            ("sid", b"", plain),
            ("sid", "сессия\u{0}\u{1b}".as_bytes(), &[]),
            ("trust", b"", trusted),
            ("trust", b"", &[]),
        ];
        for (kind, body, headers) in cases {
            let (status, answer_headers, answer) = authenticate(&fake, kind, body.to_vec(), headers).await;
            let answer = String::from_utf8(answer).unwrap();
            assert_eq!(status, 401, "{kind}: {answer}");
            assert_eq!(answer_headers["x-diadoc-errorcode"], "Http.Auth", "{kind}");
            assert_eq!(text_plain(&answer_headers), "text/plain; charset=utf-8", "{kind}");
            assert!(answer_headers.contains_key("x-kontur-trace-id"), "{kind}");
            assert!(!answer.is_empty() && !answer.contains("fake"), "{kind}: {answer}");
        }
    }

    /// The client id is checked before the type's body, for every type.
    #[tokio::test]
    async fn authenticate_checks_the_client_id_before_the_certificate() {
        let fake = FakeDiadoc::start().await.unwrap();
        let (der, _) = certificate("client-id.example");
        let url = fake.base_url().join("V3/Authenticate?type=certificate").unwrap();
        for (authorization, text) in [
            (
                "DiadocAuth ddauth_api_client_id=someone-else",
                "Invalid API client id",
            ),
            ("Bearer x", "Authorization header is missing or invalid"),
        ] {
            let response = reqwest::Client::new()
                .post(url.clone())
                .header("authorization", authorization)
                .body(der.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 401, "{authorization}");
            assert_eq!(response.text().await.unwrap(), text, "{authorization}");
        }
    }
}
