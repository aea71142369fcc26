//! Metabase: log in, read, list and page, and (on the fake, or with opt-in) every write.

use userapi::metabase::{ListUsers, Metabase, Modal, NewUser, PasswordChanged, UserUpdate, fake};
use userapi::{Auth, Client, Secret};

use super::{FlowResult, Mode, env, skip};

/// Runs every method; on a real server the writes need `METABASE_ALLOW_WRITES=1`.
pub async fn run(mode: Mode) -> FlowResult {
    let real = match (mode, env("METABASE_URL")) {
        (Mode::EnvOrFake, Some(url)) => Some(url),
        _ => None,
    };
    let _fake;
    let (api, login, writes) = match real {
        Some(url) => {
            println!("Metabase: {url}");
            let auth = match (env("METABASE_SESSION"), env("METABASE_API_KEY")) {
                (Some(s), _) => Auth::metabase_session(s),
                (None, Some(k)) => Auth::metabase_api_key(k),
                (None, None) => Auth::None,
            };
            let login = match (env("METABASE_USERNAME"), env("METABASE_PASSWORD")) {
                (Some(u), Some(p)) => Some((u, Secret::new(p))),
                _ => None,
            };
            let api = Metabase::new(Client::builder().base_url(url).auth(auth).build()?);
            (api, login, env("METABASE_ALLOW_WRITES").as_deref() == Some("1"))
        }
        None => {
            let fake = fake::FakeMetabase::start().await?;
            println!("Metabase: fake at {}", fake.base_url());
            let api = fake.unauthenticated()?;
            _fake = fake;
            (
                api,
                Some((fake::ADMIN_EMAIL.to_owned(), Secret::new(fake::ADMIN_PASSWORD))),
                true,
            )
        }
    };

    match &login {
        Some((user, password)) => {
            api.login(user, password).await?;
            println!("  login: session started for {user}");
        }
        None => skip("login", "METABASE_USERNAME and METABASE_PASSWORD are not set"),
    }
    if api.client().auth().is_none() {
        return Err("no credentials: set METABASE_SESSION, METABASE_API_KEY, or METABASE_USERNAME and METABASE_PASSWORD".into());
    }

    let me = api.get_me().await?;
    println!(
        "  get_me: {} (id {}, admin: {:?})",
        me.common_name.as_deref().unwrap_or("-"),
        me.id,
        me.is_superuser
    );
    let one = api.get_user(me.id).await?;
    println!(
        "  get_user({}): {} groups",
        one.id,
        one.user_group_memberships.as_ref().map_or(0, Vec::len)
    );
    let recipients = api.list_recipients().await?;
    println!("  list_recipients: {} user(s)", recipients.data.len());

    let admin = me.is_superuser == Some(true);
    if admin {
        let page = api.list_users(&ListUsers::new().limit(2)).await?;
        println!("  list_users(limit 2): {} of {:?}", page.data.len(), page.total);
        let mut stream = api.users(ListUsers::new().limit(2));
        let mut walked = 0;
        while let Some(user) = stream.next().await {
            user?;
            walked += 1;
        }
        println!("  users (stream, pages of 2): {walked} user(s)");
    } else {
        skip(
            "list_users",
            "the account is not an admin (the server would answer 403)",
        );
    }

    if !writes {
        for call in [
            "create_user",
            "update_user",
            "dismiss_modal",
            "deactivate_user",
            "reactivate_user",
            "change_password",
            "logout",
        ] {
            skip(call, "writes to a real instance need METABASE_ALLOW_WRITES=1");
        }
        return Ok(());
    }
    if admin {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let created = api
            .create_user(&NewUser::new(format!("sdk.tour.{stamp}@example.com")).name("SDK", "Tour"))
            .await?;
        println!("  create_user: id {}", created.id);
        let updated = api
            .update_user(created.id, &UserUpdate::new().first_name("SDK tour"))
            .await?;
        println!("  update_user: {}", updated.common_name.as_deref().unwrap_or("-"));
        api.dismiss_modal(created.id, Modal::QbNewb).await?;
        println!("  dismiss_modal: qbnewb");
        api.deactivate_user(created.id).await?;
        println!(
            "  deactivate_user: id {} deactivated (kept, not deleted)",
            created.id
        );
        let back = api.reactivate_user(created.id).await?;
        println!("  reactivate_user: active = {:?}", back.is_active);
        api.deactivate_user(created.id).await?;
    } else {
        for call in ["create_user", "update_user", "deactivate_user", "reactivate_user"] {
            skip(call, "the account is not an admin");
        }
        api.dismiss_modal(me.id, Modal::QbNewb).await?;
        println!("  dismiss_modal: qbnewb");
    }
    match &login {
        // The password is set to itself; the server still hands out a new session.
        Some((_, password)) => match api.change_password(me.id, password, Some(password)).await? {
            PasswordChanged::NewSession(_) => {
                println!("  change_password: done; the client moved to the new session")
            }
            _ => println!("  change_password: done"),
        },
        None => skip("change_password", "METABASE_PASSWORD is not set"),
    }
    api.get_me().await?;
    api.logout().await?;
    println!("  logout: session ended");
    Ok(())
}
