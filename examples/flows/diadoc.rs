//! Kontur Diadoc: log in, read the user, find the boxes and one's place in a box, and update
//! the name (on the fake, or on a real server with `DIADOC_ALLOW_WRITES=1`).

use userapi::Client;
use userapi::auth::Password;
use userapi::diadoc::{Diadoc, FullName, UserToUpdate, UserV2};
use userapi::env::EnvCredentials;
use userapi_fake::diadoc as fake;

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

/// Runs `login`, `get_me`, `get_my_organizations`, `get_my_employee` and `update_me`.
pub async fn run(mode: Mode) -> FlowResult {
    let vars = EnvCredentials::read("DIADOC");
    let base = match mode {
        Mode::EnvOrFake => vars.base_url().map(str::to_owned),
        Mode::Fake => None,
    };
    // `DIADOC_ACCESS_TOKEN` is an OpenID Connect token; `DIADOC_TOKEN` a DiadocAuth one.
    let real = base.filter(|_| vars.client_id().is_some() || env("DIADOC_ACCESS_TOKEN").is_some());
    let _fake;
    let (diadoc, login, writes, on_fake) = match real {
        Some(base) => {
            println!("Kontur Diadoc: {base}");
            let (diadoc, login) = match (vars.client_id(), env("DIADOC_ACCESS_TOKEN")) {
                (Some(client_id), _) => {
                    let token = vars.token();
                    let client = Client::builder()
                        .base_url(base)
                        .auth(userapi::diadoc::auth::diadoc_auth(client_id.expose(), token))
                        .build()?;
                    let login = match (vars.login(), vars.password()) {
                        (Some(l), Some(p)) => Some((l.to_owned(), p)),
                        _ => None,
                    };
                    (Diadoc::new(client), login)
                }
                (None, Some(access_token)) => (Diadoc::with_token(base, access_token)?, None),
                (None, None) => unreachable!("checked above"),
            };
            let writes = vars.allow_writes();
            (diadoc, login, writes, false)
        }
        None => {
            let fake = fake::FakeDiadoc::start().await?;
            println!("Kontur Diadoc: fake at {}", fake.base_url());
            let diadoc = fake.api_with(userapi::diadoc::auth::diadoc_auth(fake::CLIENT_ID, None))?;
            let login = Some((fake::LOGIN.to_owned(), Password::new(fake::PASSWORD)));
            _fake = fake;
            (diadoc, login, true, true)
        }
    };

    match login {
        Some((login, password)) => {
            diadoc.login(&login, &password).await?;
            println!("  login: token received and installed (kept as a Token)");
        }
        None => skip(
            "login",
            "DIADOC_CLIENT_ID, DIADOC_LOGIN and DIADOC_PASSWORD are not all set",
        ),
    }
    if diadoc
        .client()
        .auth()
        .source::<userapi::diadoc::auth::DiadocAuth>()
        .is_some_and(|a| a.token().is_none())
    {
        let reason = "no token: set DIADOC_TOKEN, or DIADOC_LOGIN and DIADOC_PASSWORD";
        for call in ["get_me", "get_my_organizations", "get_my_employee", "update_me"] {
            skip(call, reason);
        }
        return Ok(());
    }

    let me = diadoc.get_me().await?;
    println!("  get_me: {}", show(&me));

    // `false`: list only. The server's default would register organizations for a
    // certificate user.
    let list = diadoc.get_my_organizations(false).await?;
    println!(
        "  get_my_organizations(false): {} organization(s)",
        list.organizations.len()
    );
    let first_box = list.organizations.iter().find_map(|org| {
        let b = org.boxes.first()?;
        println!(
            "    {} (INN {}): box {}",
            org.short_name
                .as_deref()
                .or(org.full_name.as_deref())
                .unwrap_or("-"),
            org.inn.as_deref().unwrap_or("-"),
            b.id()
        );
        Some(b.id().clone())
    });
    match first_box {
        Some(box_id) => {
            let employee = diadoc.get_my_employee(&box_id).await?;
            let admin = employee.permissions.as_ref().and_then(|p| p.is_administrator);
            println!(
                "  get_my_employee: {} in box {box_id} (administrator: {admin:?})",
                employee.position.as_deref().unwrap_or("-")
            );
        }
        None => skip("get_my_employee", "the account reaches no box"),
    }

    if !writes {
        skip("update_me", "set DIADOC_ALLOW_WRITES=1 to write the name back");
        return Ok(());
    }
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
