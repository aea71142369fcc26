//! Rightech IoT Cloud: list and search users, list roles, get, create, update, issue a token,
//! delete.

use userapi::env::EnvCredentials;
use userapi::rightech::{ListRoles, ListUsers, NewUser, Rightech, TokenRequest, UserUpdate};

use userapi_fake::rightech as fake;

use super::{FlowResult, Mode, skip};

/// Runs every user method; on a real server the writes run only with `RIGHTECH_ALLOW_WRITES=1`.
pub async fn run(mode: Mode) -> FlowResult {
    let vars = EnvCredentials::read("RIGHTECH");
    let real = match (mode, vars.token()) {
        (Mode::EnvOrFake, Some(token)) => Some(token),
        _ => None,
    };
    let _fake;
    let (api, writes) = match real {
        Some(token) => {
            let base = vars.base_url().unwrap_or(userapi::rightech::DEFAULT_BASE_URL);
            println!("Rightech IoT Cloud: {base}");
            (Rightech::with_token(base, token)?, vars.allow_writes())
        }
        None => {
            let fake = fake::FakeRightech::start().await?;
            println!("Rightech IoT Cloud: fake at {}", fake.base_url());
            let api = fake.api()?;
            _fake = fake;
            (api, true)
        }
    };

    let users = api.list_users(&ListUsers::new().limit(50)).await?;
    println!("  list_users: {} user(s) in the caller's group", users.len());
    let Some(first) = users.first() else {
        skip("get_user", "the group has no users");
        return Ok(());
    };
    let mut pages = api.users(ListUsers::new().limit(1));
    let (mut page_count, mut walked) = (0, 0);
    while let Some(page) = pages.next_page().await {
        page_count += 1;
        walked += page?.len();
    }
    println!("  users(limit 1): {walked} user(s) in {page_count} page(s)");
    let name = first.name.clone().unwrap_or_default();
    let found = api
        .list_users(&ListUsers::new().search(name.clone()).only(["_id", "name"]))
        .await?;
    println!("  list_users(search {name:?}): {} match(es)", found.len());
    let roles = api.list_roles(&ListRoles::new()).await?;
    println!("  list_roles: {} role(s)", roles.len());
    let named = api
        .list_roles(&ListRoles::new().limit(10).only(["_id", "name"]))
        .await?;
    println!("  list_roles(limit 10, only _id,name): {} role(s)", named.len());
    let one = api.get_user(&first.id).await?;
    println!("  get_user({}): {}", one.id, one.login.as_deref().unwrap_or("-"));

    if !writes {
        for call in ["create_user", "update_user", "create_token", "delete_user"] {
            skip(call, "writes to a real project need RIGHTECH_ALLOW_WRITES=1");
        }
        return Ok(());
    }
    // The new user gets the role of the first user listed, or else the first role listed.
    let Some(role) = one.role.clone().or_else(|| roles.first().map(|r| r.id.clone())) else {
        skip("create_user", "no role to give the new user");
        return Ok(());
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let login = format!("sdktour{stamp}");
    let new = NewUser::new(
        role,
        "SDK tour",
        format!("{login}@example.com"),
        login.clone(),
        format!("Tour{stamp}Pw"),
    )
    .web_disabled(true)
    .temp(true);
    let created = api.create_user(&new).await?;
    println!("  create_user: {} ({})", created.id, login);
    let updated = api
        .update_user(
            &created.id,
            &UserUpdate::new()
                .name("SDK tour (renamed)")
                .description("made by the userapi tour"),
        )
        .await?;
    println!(
        "  update_user: renamed to {:?}",
        updated.name.as_deref().unwrap_or("-")
    );
    let issued = api
        .create_token(&TokenRequest::new().field("user", created.id.as_str()))
        .await?;
    println!(
        "  create_token: {} (fields {:?})",
        if issued.token().is_some() {
            "token issued for the new user (not installed on this client)"
        } else {
            "no token field found"
        },
        issued
            .raw()
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    );
    api.delete_user(&created.id).await?;
    println!("  delete_user: {} removed", created.id);
    Ok(())
}
