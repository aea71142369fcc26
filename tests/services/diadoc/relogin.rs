//! `diadoc::auth::login` (log in on demand, again after a 401, once for all concurrent calls)
//! and `diadoc::auth::OidcRefresh` (Kontur's refresh-token flow).

use std::sync::{Arc, Mutex};

use super::*;
use userapi::diadoc::auth::{OidcRefresh, login};
use userapi::diadoc::{EmployeeToUpdate, UserId};
use userapi_fake::diadoc::{ADMIN_LOGIN, ADMIN_PASSWORD, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, TOKEN_PATH};

/// (method, path) of every request the fake received.
fn seen(fake: &FakeDiadoc) -> Vec<(String, String)> {
    fake.received_requests()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect()
}

fn req(m: &str, p: &str) -> (String, String) {
    (m.to_owned(), p.to_owned())
}

fn logins(fake: &FakeDiadoc) -> usize {
    seen(fake).iter().filter(|(_, p)| p == "/V3/Authenticate").count()
}

#[tokio::test]
async fn login_on_demand_sends_the_client_id_alone_then_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/V3/Authenticate"))
        .and(query_param("type", "password"))
        .and(auth_is("DiadocAuth ddauth_api_client_id=cid-1"))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_json(
            json!({"login": "user@example.ru", "password": "s3cret"}),
        ))
        .respond_with(text(200, "issued-token-42"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .and(auth_is(
            "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=issued-token-42",
        ))
        .respond_with(json(USER))
        .expect(2)
        .mount(&server)
        .await;
    let diadoc = api_with(&server, login("cid-1", "user@example.ru", "s3cret"));
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing before the first call"
    );
    diadoc.get_me().await.unwrap();
    diadoc.client().clone().diadoc().get_me().await.unwrap();
    assert_eq!(diadoc.client().auth().scheme_name(), "diadoc-login");
    let shown = format!("{:?}", diadoc.client().auth());
    assert!(!shown.contains("s3cret") && !shown.contains("cid-1"), "{shown}");
}

#[tokio::test]
async fn bad_settings_fail_build() {
    for auth in [
        login("cid-1", "user@example.ru", ""),
        login("cid-1", " ", "s3cret"),
        login("", "user@example.ru", "s3cret"),
        login("cid,ddauth_token=FORGED", "user@example.ru", "s3cret"),
    ] {
        let err = Client::builder()
            .base_url("https://diadoc-api.kontur.ru/")
            .auth(auth)
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{err:?}");
    }
}

#[tokio::test]
async fn concurrent_first_calls_log_in_once() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api_with(login(CLIENT_ID, LOGIN, PASSWORD)).unwrap();
    let calls = (0..16).map(|_| {
        let d = diadoc.clone();
        tokio::spawn(async move { d.get_me().await })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await.unwrap().unwrap().user_id, USER_ID);
    }
    assert_eq!(logins(&fake), 1);
    assert_eq!(fake.request_count(), 17);
}

#[tokio::test]
async fn a_401_logs_in_again_once_and_repeats_the_call_once() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api_with(login(CLIENT_ID, LOGIN, PASSWORD)).unwrap();
    diadoc.get_me().await.unwrap();
    fake.expire_tokens(); // 24 hours later
    fake.clear_requests();
    assert_eq!(diadoc.get_me().await.unwrap().login.as_deref(), Some(LOGIN));
    assert_eq!(
        seen(&fake),
        [
            req("GET", "/V2/GetMyUser"),
            req("POST", "/V3/Authenticate"),
            req("GET", "/V2/GetMyUser")
        ]
    );
    let statuses: Vec<u16> = fake
        .received_requests()
        .iter()
        .map(|r| r.status.map_or(0, |s| s.as_u16()))
        .collect();
    assert_eq!(statuses, [401, 200, 200]);
}

#[tokio::test]
async fn concurrent_401s_share_one_login() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api_with(login(CLIENT_ID, LOGIN, PASSWORD)).unwrap();
    diadoc.get_me().await.unwrap();
    fake.expire_tokens();
    fake.clear_requests();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let d = diadoc.clone();
            tokio::spawn(async move { d.get_my_employee(&bid(BOX_ID)).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(logins(&fake), 1);
}

#[tokio::test]
async fn a_call_that_is_not_safe_to_repeat_ends_with_its_401() {
    let fake = FakeDiadoc::start().await.unwrap();
    let admin = fake
        .api_with(login(CLIENT_ID, ADMIN_LOGIN, ADMIN_PASSWORD))
        .unwrap();
    admin.get_me().await.unwrap();
    fake.expire_tokens();
    fake.clear_requests();
    let update = EmployeeToUpdate::new().position("Кассир");
    let err = admin
        .update_employee(&bid(BOX_ID), &UserId::new(USER_ID).unwrap(), &update)
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(
        seen(&fake),
        [req("POST", "/UpdateEmployee")],
        "neither a login nor a repeat"
    );
    // The next call that may be repeated logs in again.
    admin.get_me().await.unwrap();
    assert_eq!(logins(&fake), 1);
}

#[tokio::test]
async fn a_refused_login_ends_the_call_with_its_error() {
    let fake = FakeDiadoc::start().await.unwrap();
    let diadoc = fake.api_with(login(CLIENT_ID, LOGIN, "Wr0ng-pass")).unwrap();
    let err = diadoc.get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.target().unwrap().path(), "/V3/Authenticate");
    assert_eq!(
        err.service_message(),
        Some(format!("Wrong password provided for login {LOGIN}").as_str())
    );
    assert!(!format!("{err} {err:?}").contains("Wr0ng-pass"));
    assert_eq!(seen(&fake), [req("POST", "/V3/Authenticate")]);
}

// --- OpenID Connect ---------------------------------------------------------------------

fn oidc(fake: &FakeDiadoc) -> OidcRefresh {
    OidcRefresh::new(OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, fake.issue_refresh_token())
        .token_endpoint(fake.base_url().join(TOKEN_PATH).unwrap().as_str())
}

#[tokio::test]
async fn oidc_refresh_posts_the_form_and_sends_only_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(json(
            r#"{"access_token": "at-1", "expires_in": 3600, "token_type": "Bearer", "refresh_token": "rt-2"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/V2/GetMyUser"))
        .and(auth_is("Bearer at-1"))
        .respond_with(json(USER))
        .expect(2)
        .mount(&server)
        .await;
    let auth = OidcRefresh::new("client-1", "secret-1", "rt-1 & more")
        .token_endpoint(format!("{}/connect/token", server.uri()))
        .into_auth();
    let diadoc = api_with(&server, auth);
    diadoc.get_me().await.unwrap();
    diadoc.get_me().await.unwrap();
    let sent = server.received_requests().await.unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&sent[0].body).into_owned().collect();
    assert_eq!(
        form,
        [
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), "rt-1 & more".to_owned()),
            ("client_id".to_owned(), "client-1".to_owned()),
            ("client_secret".to_owned(), "secret-1".to_owned()),
        ]
    );
    assert!(
        sent[0].headers.get("authorization").is_none(),
        "the provider gets no Diadoc credential"
    );
    assert_eq!(sent.len(), 3, "one refresh for both calls");
    let source = diadoc.client().auth();
    let source = source.source::<OidcRefresh>().unwrap();
    assert_eq!(
        source.refresh_token().expose(),
        "rt-2",
        "the rotated refresh token is kept"
    );
}

#[tokio::test]
async fn oidc_concurrent_calls_refresh_once_and_the_rotated_token_is_kept_and_handed_over() {
    let fake = FakeDiadoc::start().await.unwrap();
    let handed: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = handed.clone();
    let auth = oidc(&fake)
        .on_rotation(move |t| keep.lock().unwrap().push(t.expose().to_owned()))
        .into_auth();
    let diadoc = fake.api_with(auth).unwrap();
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let d = diadoc.clone();
            tokio::spawn(async move { d.get_me().await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().user_id, USER_ID);
    }
    let refreshes = |fake: &FakeDiadoc| seen(fake).iter().filter(|(_, p)| p == "/connect/token").count();
    assert_eq!(refreshes(&fake), 1);
    assert_eq!(handed.lock().unwrap().len(), 1);
    // The access token ends: a 401, one refresh with the rotated token (the first one is
    // spent, so a success proves it), and the call repeated once.
    fake.expire_tokens();
    fake.clear_requests();
    diadoc.get_me().await.unwrap();
    assert_eq!(
        seen(&fake),
        [
            req("GET", "/V2/GetMyUser"),
            req("POST", "/connect/token"),
            req("GET", "/V2/GetMyUser")
        ]
    );
    let handed = handed.lock().unwrap().clone();
    assert_eq!(handed.len(), 2);
    assert_ne!(handed[0], handed[1]);
    let auth = diadoc.client().auth();
    assert_eq!(
        auth.source::<OidcRefresh>().unwrap().refresh_token().expose(),
        handed[1]
    );
    let bearer = fake.received_requests()[2].bearer().unwrap().to_owned();
    assert!(bearer.starts_with("fake-oidc-access-"), "{bearer}");
}

#[tokio::test]
async fn oidc_invalid_grant_is_an_auth_error_and_never_repeated() {
    let fake = FakeDiadoc::start().await.unwrap();
    let spent = fake.issue_refresh_token();
    // Someone else spends it first.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", spent.expose()),
        ("client_id", OIDC_CLIENT_ID),
        ("client_secret", OIDC_CLIENT_SECRET),
    ];
    let endpoint = fake.base_url().join(TOKEN_PATH).unwrap();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let post = || {
        reqwest::Client::new()
            .post(endpoint.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 200);
    let again = post().await.unwrap();
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    fake.clear_requests();

    let auth = OidcRefresh::new(OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, spent.clone())
        .token_endpoint(endpoint.as_str())
        .into_auth();
    let diadoc = fake.api_with(auth).unwrap();
    let err = diadoc.get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert!(
        err.to_string()
            .contains("invalid_grant: the refresh token is invalid"),
        "{err}"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.contains("400") && source.contains("/connect/token"),
        "{source}"
    );
    assert!(!format!("{err} {err:?}").contains(spent.expose()), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(OIDC_CLIENT_SECRET), "{err:?}");
    assert_eq!(seen(&fake), [req("POST", "/connect/token")]);

    // A wrong client secret: invalid_client, an auth error too.
    let auth = OidcRefresh::new(OIDC_CLIENT_ID, "not-the-secret", fake.issue_refresh_token())
        .token_endpoint(endpoint.as_str())
        .into_auth();
    let err = fake.api_with(auth).unwrap().get_me().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
}

#[tokio::test]
async fn oidc_bad_settings_fail_build() {
    for auth in [
        OidcRefresh::new("", "s", "r").into_auth(),
        OidcRefresh::new("c", "", "r").into_auth(),
        OidcRefresh::new("c", "s", "").into_auth(),
        OidcRefresh::new("c", "s", "r")
            .token_endpoint("not a url")
            .into_auth(),
        OidcRefresh::new("c", "s", "r")
            .token_endpoint("https://identity.kontur.ru/connect/")
            .into_auth(),
    ] {
        let err = Client::builder()
            .base_url("https://diadoc-api.kontur.ru/")
            .auth(auth)
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{err:?}");
    }
    let ok = Client::builder()
        .base_url("https://diadoc-api.kontur.ru/")
        .auth(userapi::diadoc::auth::oidc_refresh("c", "s", "r"))
        .build()
        .unwrap();
    assert_eq!(ok.auth().scheme_name(), "diadoc-oidc");
    assert!(!format!("{:?}", ok.auth()).contains('s'.to_string().repeat(2).as_str()));
}
