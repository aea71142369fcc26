//! The five services, once: where each lives on a test server, the credentials it takes (and
//! the secrets those put on the wire), a valid success body for its read call, the read call
//! (declared idempotent) and a write call (never retried). The fault matrix, the redaction
//! tests and any test that must hold for every service iterate this table.

use std::future::Future;
use std::pin::Pin;

#[cfg(feature = "diadoc")]
use userapi::auth::Token;
use userapi::{Auth, Client};

pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// One call of a service against a client.
pub type CallFn = fn(Client) -> BoxFut<userapi::Result<()>>;

pub const TOKEN: &str = "tok-4f9a-very-secret-value";
pub const CLIENT_ID: &str = "cid-9b2e-api-client";
pub const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6NDEwMjQ0NDgwMH0.c2lnLXNlY3JldA";

/// NovaConnect's answer to `get_me`.
pub const NOVA_OK: &str =
    r#"{"code":200,"result":{"item":{"id":1,"first_name":"A","last_name":"B","email":"a@b.kz"}}}"#;

/// One way a service authenticates, and the secrets it puts on the wire.
pub struct Credential {
    /// The service's name, and the scheme's where the service has more than one.
    pub name: &'static str,
    pub auth: fn() -> Auth,
    pub secrets: &'static [&'static str],
}

pub struct Service {
    pub name: &'static str,
    /// Path of the base URL on a test server.
    pub base_path: &'static str,
    /// Every scheme the service takes; the first is the usual one.
    pub credentials: Vec<Credential>,
    pub ok_body: &'static str,
    pub read: CallFn,
    /// A call that is never retried, where the service has one.
    pub write: Option<CallFn>,
}

/// The services enabled in this build.
pub fn services() -> Vec<Service> {
    #[allow(unused_mut)]
    let mut list = Vec::new();
    #[cfg(feature = "novaconnect")]
    list.push(Service {
        name: "novaconnect",
        base_path: "/api/",
        credentials: vec![Credential {
            name: "novaconnect",
            auth: || Auth::bearer(TOKEN),
            secrets: &[TOKEN],
        }],
        ok_body: NOVA_OK,
        read: |c| Box::pin(async move { c.novaconnect().get_me().await.map(drop) }),
        write: Some(|c| {
            Box::pin(async move {
                let change = userapi::models::PasswordChange::new("n3w-Secret").current("0ld");
                c.novaconnect().change_password(&change).await.map(drop)
            })
        }),
    });
    #[cfg(feature = "diadoc")]
    list.push(Service {
        name: "diadoc",
        base_path: "/diadoc/",
        credentials: vec![Credential {
            name: "diadoc",
            auth: || userapi::diadoc::auth::diadoc_auth(CLIENT_ID, Some(Token::new(TOKEN))),
            secrets: &[TOKEN, CLIENT_ID],
        }],
        ok_body: r#"{"UserId":"d064f6ba-7b81-432d-a41d-93b23eebe579","Login":"a@kontur.ru","IsRegistered":true}"#,
        read: |c| Box::pin(async move { c.diadoc().get_me().await.map(drop) }),
        write: Some(|c| {
            Box::pin(async move {
                let change = userapi::diadoc::UserToUpdate::new().login("new@kontur.ru");
                c.diadoc().update_me(&change).await.map(drop)
            })
        }),
    });
    #[cfg(feature = "rounds")]
    list.push(Service {
        name: "rounds",
        base_path: "/rounds/",
        credentials: vec![Credential {
            name: "rounds",
            auth: || Auth::jwt(JWT),
            secrets: &[JWT],
        }],
        ok_body: r#"{"id":"6f1c2a9e","phone":"+77011234567","first_name":"Dana","last_name":null,"avatar_url":null,"is_verified":true}"#,
        read: |c| Box::pin(async move { c.rounds().get_me().await.map(drop) }),
        // Every rounds call is safe to repeat (PATCH /users/me sets values), so none is exempt.
        write: None,
    });
    #[cfg(feature = "metabase")]
    list.push(Service {
        name: "metabase",
        base_path: "/metabase/",
        credentials: vec![
            Credential {
                name: "metabase session",
                auth: || userapi::metabase::auth::session(TOKEN),
                secrets: &[TOKEN],
            },
            Credential {
                name: "metabase api key",
                auth: || userapi::metabase::auth::api_key(TOKEN),
                secrets: &[TOKEN],
            },
        ],
        ok_body: r#"{"id":1,"email":"crowberto@metabase.com","first_name":"Crowberto","is_superuser":true,"group_ids":[1,2]}"#,
        read: |c| Box::pin(async move { c.metabase().get_me().await.map(drop) }),
        write: Some(|c| {
            Box::pin(async move {
                c.metabase().create_user(&userapi::metabase::NewUser::new("a@b.io")).await.map(drop)
            })
        }),
    });
    #[cfg(feature = "rightech")]
    list.push(Service {
        name: "rightech",
        base_path: "/rightech/",
        credentials: vec![Credential {
            name: "rightech",
            auth: || Auth::bearer(TOKEN),
            secrets: &[TOKEN],
        }],
        ok_body: r#"{"_id":"5d8a18d5d0025e0012fb6a34","login":"user_login","rights":1.5,"success":true}"#,
        read: |c| {
            Box::pin(async move {
                let id = userapi::rightech::UserId::new("5d8a18d5d0025e0012fb6a34")?;
                c.rightech().get_user(&id).await.map(drop)
            })
        },
        write: Some(|c| {
            Box::pin(async move {
                let new = userapi::rightech::NewUser::new(
                    userapi::rightech::RoleId::new("5cc89f6af79a4969291dcbd7")?,
                    "n",
                    "e@x.io",
                    "login",
                    "Passw0rdX",
                );
                c.rightech().create_user(&new).await.map(drop)
            })
        }),
    });
    list
}
