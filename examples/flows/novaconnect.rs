//! NovaConnect: read the profile, edit it, change the password.

use userapi::auth::Password;
use userapi::env::EnvCredentials;
use userapi::models::PasswordChange;
use userapi::novaconnect::{NovaConnect, User, UserEdit};
use userapi_fake::novaconnect as fake;

use super::{FlowResult, Mode, skip};

fn show(u: &User) -> String {
    format!(
        "{} {} <{}>",
        u.first_name.as_deref().unwrap_or("-"),
        u.last_name.as_deref().unwrap_or("-"),
        u.email.as_deref().unwrap_or("-")
    )
}

/// Runs `get_me`, `update_me` and `change_password`.
pub async fn run(mode: Mode) -> FlowResult {
    let vars = EnvCredentials::read("NOVACONNECT");
    let real = match (mode, vars.base_url(), vars.token()) {
        (Mode::EnvOrFake, Some(base), Some(token)) => Some((base, token)),
        _ => None,
    };
    let _fake;
    let (api, password, on_fake) = match real {
        Some((base, token)) => {
            println!("NovaConnect: {base}");
            (NovaConnect::with_token(base, token)?, vars.password(), false)
        }
        None => {
            let fake = fake::FakeNovaConnect::start().await?;
            println!("NovaConnect: fake at {}", fake.base_url());
            let api = fake.api()?;
            _fake = fake;
            (api, Some(Password::new(fake::PASSWORD)), true)
        }
    };

    let me = api.get_me().await?;
    println!("  get_me: {}", show(&me));

    // On a real account the edit writes back the current name, so nothing visible changes.
    let first = if on_fake {
        "Dana".to_owned()
    } else {
        me.first_name.clone().unwrap_or_default()
    };
    if first.is_empty() {
        skip("update_me", "the account has no first name to write back");
    } else {
        let edited = api.update_me(&UserEdit::new().first_name(first)).await?;
        println!("  update_me: {}", show(&edited));
    }

    match password {
        // The password is set to itself: the call is exercised and nothing changes.
        Some(current) => {
            let change = PasswordChange::new(current.clone()).current(current);
            let after = api.change_password(&change).await?;
            println!("  change_password: done for {}", show(&after));
        }
        None => skip("change_password", "NOVACONNECT_PASSWORD is not set"),
    }
    Ok(())
}
