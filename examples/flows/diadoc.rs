//! Kontur Diadoc: authenticate, read the user, update the name (and, on the fake, the login).

use userapi::diadoc::{Diadoc, FullName, UserToUpdate, UserV2, fake};
use userapi::{Auth, Client, Secret};

use super::{FlowResult, Mode, env, skip};

fn show(u: &UserV2) -> String {
    let name = u.full_name.as_ref().map_or("-".to_owned(), |n| {
        format!(
            "{} {}",
            n.first_name.as_deref().unwrap_or("-"),
            n.last_name.as_deref().unwrap_or("-")
        )
    });
    format!("{name} <{}>", u.login.as_deref().unwrap_or("-"))
}

/// Runs `authenticate_with_password`, `get_me` and `update_me`.
pub async fn run(mode: Mode) -> FlowResult {
    let real = match (mode, env("DIADOC_BASE_URL"), env("DIADOC_CLIENT_ID")) {
        (Mode::EnvOrFake, Some(base), Some(id)) => Some((base, id)),
        _ => None,
    };
    let _fake;
    let (diadoc, login, on_fake) = match real {
        Some((base, client_id)) => {
            println!("Kontur Diadoc: {base}");
            let token = env("DIADOC_TOKEN").map(Secret::new);
            let client = Client::builder()
                .base_url(base)
                .auth(Auth::diadoc(client_id, token))
                .build()?;
            let login = match (env("DIADOC_LOGIN"), env("DIADOC_PASSWORD")) {
                (Some(l), Some(p)) => Some((l, Secret::new(p))),
                _ => None,
            };
            (Diadoc::new(client), login, false)
        }
        None => {
            let fake = fake::FakeDiadoc::start().await?;
            println!("Kontur Diadoc: fake at {}", fake.base_url());
            let diadoc = fake.unauthenticated()?;
            let login = Some((fake::LOGIN.to_owned(), Secret::new(fake::PASSWORD)));
            _fake = fake;
            (diadoc, login, true)
        }
    };

    match login {
        Some((login, password)) => {
            diadoc.authenticate_with_password(&login, &password).await?;
            println!("  authenticate_with_password: token received (kept as a Secret)");
        }
        None => skip(
            "authenticate_with_password",
            "DIADOC_LOGIN and DIADOC_PASSWORD are not set",
        ),
    }
    if matches!(diadoc.client().auth(), Auth::DiadocAuth { token: None, .. }) {
        skip(
            "get_me",
            "no token: set DIADOC_TOKEN, or DIADOC_LOGIN and DIADOC_PASSWORD",
        );
        skip("update_me", "no token");
        return Ok(());
    }

    let me = diadoc.get_me().await?;
    println!("  get_me: {}", show(&me));

    // On a real account the name is written back unchanged (UpdateMyUser is obsolete and may
    // be gone: a 404/405 there is reported, not hidden). On the fake the name changes and a
    // login change is requested, which stays pending until confirmed.
    let name = match (&me.full_name, on_fake) {
        (_, true) => Some(FullName::new("Ivanova", "Anna")),
        (Some(n), false) => match (&n.last_name, &n.first_name) {
            (Some(last), Some(first)) => {
                let mut same = FullName::new(last, first);
                same.middle_name = n.middle_name.clone();
                Some(same)
            }
            _ => None,
        },
        (None, false) => None,
    };
    let Some(name) = name else {
        skip("update_me", "the account has no full name to write back");
        return Ok(());
    };
    let mut change = UserToUpdate::new().full_name(name);
    if on_fake {
        change = change.login("anna.ivanova@kontur.ru");
    }
    let after = diadoc.update_me(&change).await?;
    println!(
        "  update_me: {} (a new login shows only after its email is confirmed)",
        show(&after)
    );
    Ok(())
}
