#![cfg(all(
    feature = "novaconnect",
    feature = "diadoc",
    feature = "rounds",
    feature = "metabase",
    feature = "rightech"
))]
//! Servers echo what they were sent. Whatever shape the echo takes, for every service, no
//! credential the client sent reaches an error's `Display`, `Debug`, body, headers, message,
//! field errors or decode excerpt: each is `<redacted>` there.

use std::future::Future;
use std::pin::Pin;

use userapi::{Auth, Client, Error, ErrorKind, REDACTED, Secret};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support as common;
use crate::support::services::{CLIENT_ID, CallFn, TOKEN};

/// One credential of one service (and the secrets it puts on the wire) with its read call.
struct Service {
    name: &'static str,
    auth: fn() -> Auth,
    secrets: &'static [&'static str],
    call: CallFn,
}

/// Every credential of every service in the shared table.
fn services() -> Vec<Service> {
    crate::support::services::services()
        .into_iter()
        .flat_map(|service| {
            let call = service.read;
            service.credentials.into_iter().map(move |c| Service {
                name: c.name,
                auth: c.auth,
                secrets: c.secrets,
                call,
            })
        })
        .collect()
}

/// One way a server echoes a secret `s`.
struct Shape {
    name: &'static str,
    response: fn(&str) -> ResponseTemplate,
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "text",
            response: |s| common::text(401, &format!("invalid token: {s}")),
        },
        Shape {
            name: "json message",
            response: |s| {
                common::body(
                    401,
                    &format!(r#"{{"message": "token {s} rejected"}}"#),
                    "application/json",
                )
            },
        },
        Shape {
            name: "json detail",
            response: |s| {
                common::body(
                    403,
                    &format!(r#"{{"detail": "{s} lacks scope"}}"#),
                    "application/json",
                )
            },
        },
        Shape {
            name: "field errors",
            response: |s| {
                common::body(
                    400,
                    &format!(r#"{{"errors": {{"session": "{s} expired", "{s}": "unknown key"}}}}"#),
                    "application/json",
                )
            },
        },
        Shape {
            name: "html title",
            response: |s| {
                common::body(
                    401,
                    &format!("<html><head><title>Denied for {s}</title></head><body>{s}</body></html>"),
                    "text/html",
                )
            },
        },
        Shape {
            name: "www-authenticate",
            response: |s| {
                ResponseTemplate::new(401).insert_header(
                    "www-authenticate",
                    format!(r#"Bearer error="invalid_token", token="{s}""#).as_str(),
                )
            },
        },
        Shape {
            name: "json-escaped",
            response: |s| {
                common::body(
                    401,
                    &format!(r#"{{"message": "{}"}}"#, s.replace('-', "\\u002d")),
                    "application/json",
                )
            },
        },
        Shape {
            name: "undecodable 200",
            response: |s| common::body(200, &format!(r#"{{"id": "{s}", "broken"#), "application/json"),
        },
    ]
}

fn assert_clean(err: &Error, secrets: &[&str], cell: &str) {
    let mut shown = format!("{err}\n{err:?}");
    if let Some(http) = err.http() {
        shown.push_str(&http.body_text());
        // The body as JSON, its `\u` escapes decoded.
        if let Some(json) = http.body_json() {
            shown.push_str(&json.to_string());
        }
        for value in http.headers().values() {
            shown.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        for f in err.field_errors() {
            shown.push_str(f.field());
            shown.push_str(f.message());
        }
    }
    if let Some(m) = err.service_message() {
        shown.push_str(m);
    }
    if let ErrorKind::Decode(d) = err.kind() {
        shown.push_str(d.excerpt().unwrap_or(""));
        shown.push_str(d.field_path());
    }
    for secret in secrets {
        assert!(!shown.contains(secret), "{cell}: a secret shows in\n{shown}");
    }
    assert!(
        shown.contains(REDACTED),
        "{cell}: the echo should show as {REDACTED}:\n{shown}"
    );
}

#[tokio::test]
async fn no_echoed_credential_reaches_an_error() {
    let mut cells = 0;
    for service in services() {
        for secret in service.secrets {
            for shape in shapes() {
                let server = MockServer::start().await;
                Mock::given(wiremock::matchers::any())
                    .respond_with((shape.response)(secret))
                    .mount(&server)
                    .await;
                let client = common::client(&server, (service.auth)());
                let err = (service.call)(client).await.expect_err("the server refuses");
                assert_clean(
                    &err,
                    service.secrets,
                    &format!("{} / {} / {secret}", service.name, shape.name),
                );
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 7 * 8);
}

/// A login whose 400 echoes the request body, password included.
#[tokio::test]
async fn a_login_echoing_its_body_keeps_the_password_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &wiremock::Request| {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            common::body(
                400,
                &format!(
                    r#"{{"message": "bad request", "request": {body}, "errors": {{"password": {body}}}}}"#
                ),
                "application/json",
            )
        })
        .mount(&server)
        .await;
    let client = common::client(
        &server,
        userapi::metabase::auth::login("ada@example.com", "Pa55-w0rd\"quoted"),
    );
    let err = client.metabase().get_me().await.expect_err("refused");
    assert_clean(&err, &["Pa55-w0rd", "Pa55-w0rd\\\"quoted"], "metabase login echo");
}

/// The same for a provider's token, and a `Debug` of the token request type.
#[tokio::test]
async fn a_provider_token_echoed_is_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(common::text(401, &format!("invalid token: {TOKEN}")))
        .mount(&server)
        .await;
    let client = common::client(&server, Auth::provider(|_| async { Ok(Secret::new(TOKEN)) }));
    let err = client.rounds().get_me().await.expect_err("refused twice");
    assert_clean(&err, &[TOKEN], "provider");
}

/// Every call that sends a password in its body, against a server whose 400 echoes the body
/// (raw, and inside a JSON message): the password never reaches the error.
#[tokio::test]
async fn passwords_in_request_bodies_are_redacted_from_echoes() {
    const PW: &str = "Body-Secret-9f3a";
    const OLD: &str = "Old-Secret-71c2";
    type BodyCall = fn(Client) -> Pin<Box<dyn Future<Output = userapi::Result<()>> + Send>>;
    let calls: Vec<(&str, Auth, BodyCall)> = vec![
        ("novaconnect change_password", Auth::bearer(TOKEN), |c| {
            Box::pin(async move {
                c.novaconnect()
                    .change_password(&userapi::models::PasswordChange::new(PW).current(OLD))
                    .await
                    .map(drop)
            })
        }),
        (
            "diadoc login",
            userapi::diadoc::auth::diadoc_auth(CLIENT_ID, None),
            |c| {
                Box::pin(async move {
                    c.diadoc()
                        .login("me@example.com", &userapi::auth::Password::new(PW))
                        .await
                        .map(drop)
                })
            },
        ),
        ("metabase login", Auth::none(), |c| {
            Box::pin(async move {
                c.metabase()
                    .login("me@example.com", &userapi::auth::Password::new(PW))
                    .await
                    .map(drop)
            })
        }),
        (
            "metabase change_password",
            userapi::metabase::auth::session(TOKEN),
            |c| {
                Box::pin(async move {
                    c.metabase()
                        .change_password(
                            &userapi::metabase::UserId::new(1).unwrap(),
                            &userapi::models::PasswordChange::new(PW).current(OLD),
                        )
                        .await
                        .map(drop)
                })
            },
        ),
        (
            "metabase check_password",
            userapi::metabase::auth::session(TOKEN),
            |c| {
                Box::pin(async move {
                    c.metabase()
                        .check_password(&userapi::auth::Password::new(PW))
                        .await
                })
            },
        ),
        ("metabase reset_password", Auth::none(), |c| {
            Box::pin(async move {
                c.metabase()
                    .reset_password(
                        &userapi::auth::ResetToken::new(OLD),
                        &userapi::auth::Password::new(PW),
                    )
                    .await
                    .map(drop)
            })
        }),
        (
            "metabase create_user",
            userapi::metabase::auth::session(TOKEN),
            |c| {
                Box::pin(async move {
                    let user = userapi::metabase::NewUser::new("new@example.com").password(PW);
                    c.metabase().create_user(&user).await.map(drop)
                })
            },
        ),
        ("rightech create_user", Auth::bearer(TOKEN), |c| {
            Box::pin(async move {
                let role = userapi::rightech::RoleId::new("5cc89f6af79a4969291dcbd7")?;
                let user = userapi::rightech::NewUser::new(role, "Svc", "svc@example.com", "svcaccount", PW);
                c.rightech().create_user(&user).await.map(drop)
            })
        }),
        ("rightech update_user", Auth::bearer(TOKEN), |c| {
            Box::pin(async move {
                let id = userapi::rightech::UserId::new("5d8a18d5d0025e0012fb6a34")?;
                let update = userapi::rightech::UserUpdate::new().password(PW);
                c.rightech().update_user(&id, &update).await.map(drop)
            })
        }),
        ("rightech create_token", Auth::bearer(TOKEN), |c| {
            Box::pin(async move {
                let req = userapi::rightech::TokenRequest::new()
                    .field("user", "5d8a18d5d0025e0012fb6a34")
                    .secret_field("password", PW);
                c.rightech().create_token(&req).await.map(drop)
            })
        }),
    ];
    for (name, auth, call) in calls {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(|req: &wiremock::Request| {
                let body = String::from_utf8_lossy(&req.body).into_owned();
                let quoted = serde_json::to_string(&body).unwrap();
                common::body(
                    400,
                    &format!(
                        r#"{{"message": {quoted}, "errors": {{"password": {quoted}}}, "echo": {body}}}"#
                    ),
                    "application/json",
                )
            })
            .mount(&server)
            .await;
        let err = call(common::client(&server, auth)).await.expect_err(name);
        let sent = server.received_requests().await.unwrap();
        assert_eq!(sent.len(), 1, "{name}");
        assert!(
            String::from_utf8_lossy(&sent[0].body).contains(PW),
            "{name}: the password went out"
        );
        assert_clean(&err, &[PW, OLD], name);
    }
}

/// An error body cut at the kept limit in the middle of an echoed token keeps no part of it
/// long enough to matter: the cut start of the token is redacted too.
#[tokio::test]
async fn a_token_cut_at_the_error_body_limit_leaves_no_part_behind() {
    let server = MockServer::start().await;
    let body = format!("{}{TOKEN}", "x".repeat(90));
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(400).set_body_raw(body, "text/plain"))
        .mount(&server)
        .await;
    for keep in [94, 95, 100, 110] {
        let client = Client::builder()
            .base_url(server.uri())
            .auth(Auth::bearer(TOKEN))
            .max_error_body_bytes(keep)
            .build()
            .unwrap();
        let err = client.novaconnect().get_me().await.unwrap_err();
        let text = err.http().unwrap().body_text().into_owned();
        let cut = &TOKEN[..keep - 90];
        assert!(!text.contains(cut), "{keep}: {text}");
        assert!(text.ends_with(REDACTED), "{keep}: {text}");
        assert!(!format!("{err} {err:?}").contains(cut), "{keep}");
    }
}

/// A success body that does not decode and quotes the token in a map key: the field path of
/// the decode error does not show it.
#[tokio::test]
async fn a_decode_errors_field_path_never_shows_a_token() {
    let server = MockServer::start().await;
    let body = format!(r#"{{"id": 1, "login_attributes": {{"{TOKEN}": {{"x": [}}}}}}"#);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = common::client(&server, userapi::metabase::auth::session(TOKEN));
    let err = client.metabase().get_me().await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert_clean(&err, &[TOKEN], "field path");
}
