//! Metabase: log in, read, list and page, API keys, the login history, the key-value store,
//! the password rules and the reset flow, and (on the fake, or with opt-in) every write.

use userapi::env::EnvCredentials;
use userapi::metabase::{
    ApiKeyUpdate, GroupId, ListGroups, ListUsers, Metabase, Modal, NewApiKey, NewGroup, NewMembership,
    NewUser, PasswordChanged, UserKeyValue, UserUpdate, Version,
};

use userapi::auth::{Password, ResetToken};
use userapi::models::PasswordChange;
use userapi::{Auth, Client};
use userapi_fake::metabase as fake;

use super::{FlowResult, Mode, env, skip};

/// The All Users group: id 1 on every instance, the least an API key can be given.
const ALL_USERS_GROUP: GroupId = GroupId::new(1).unwrap();
/// A namespace and key of the per-user store that every current server has a schema for.
const NAMESPACE: &str = "last_download_format";
const VALUE_KEY: &str = "download_format_preference";
/// An address no account has: asking a reset for it sends no email and leaves every token
/// alone, whatever the instance.
const NO_ACCOUNT: &str = "userapi-tour-no-account@example.com";

/// Runs every method; on a real server the writes need `METABASE_ALLOW_WRITES=1`, and the
/// reset flow needs `METABASE_RESET_TOKEN` (a real server sends the token by email).
pub async fn run(mode: Mode) -> FlowResult {
    let vars = EnvCredentials::read("METABASE");
    let real = match (mode, vars.base_url()) {
        (Mode::EnvOrFake, Some(url)) => Some(url.to_owned()),
        _ => None,
    };
    let mut the_fake = None;
    let (api, anonymous, login, writes) = match real {
        Some(url) => {
            println!("Metabase: {url}");
            let auth = match (vars.session(), vars.api_key()) {
                (Some(s), _) => userapi::metabase::auth::session(s),
                (None, Some(k)) => userapi::metabase::auth::api_key(k),
                (None, None) => Auth::none(),
            };
            let login = match (vars.username(), vars.password()) {
                (Some(u), Some(p)) => Some((u.to_owned(), p)),
                _ => None,
            };
            let api = Metabase::new(Client::builder().base_url(url.as_str()).auth(auth).build()?);
            let anonymous = Metabase::new(Client::builder().base_url(url).build()?);
            (api, anonymous, login, vars.allow_writes())
        }
        None => {
            let fake = fake::FakeMetabase::start().await?;
            println!("Metabase: fake at {}", fake.base_url());
            let api = fake.api_with(Auth::none())?;
            let anonymous = fake.api_with(Auth::none())?;
            the_fake = Some(fake);
            (
                api,
                anonymous,
                Some((fake::ADMIN_EMAIL.to_owned(), Password::new(fake::ADMIN_PASSWORD))),
                true,
            )
        }
    };
    let on_fake = the_fake.is_some();

    // What the server says about itself: no credentials needed.
    let info = anonymous.server_info().await?;
    println!(
        "  server_info: {} (at least 0.50: {:?}), advanced permissions: {:?}",
        info.version
            .as_ref()
            .and_then(|v| v.tag.as_deref())
            .unwrap_or("unknown version"),
        info.version_at_least(&Version::new(50, 0)),
        info.feature("advanced_permissions")
    );

    match &login {
        Some((user, password)) => {
            api.login(user, password).await?;
            println!("  login: session started for {user}");
            // Credentials that log in by themselves, on first use and after a 401.
            let renewing = client_like(
                &api,
                userapi::metabase::auth::login(user.clone(), password.clone()),
            )?;
            let me = renewing.get_me().await?;
            println!(
                "  metabase::auth::login: logged in on first use as {}",
                me.email.as_deref().unwrap_or("-")
            );
            if writes {
                renewing.logout().await?;
                println!("  logout (metabase::auth::login): the session it logged in for has ended");
                let again = client_like(&api, Auth::none())?;
                again.login_remembered(user, password).await?;
                println!("  login_remembered: a session whose cookie outlives the browser");
                again.logout().await?;
            } else {
                skip(
                    "login_remembered",
                    "writes to a real instance need METABASE_ALLOW_WRITES=1",
                );
            }
        }
        None => skip("login", "METABASE_USERNAME and METABASE_PASSWORD are not set"),
    }
    if api.client().auth().is_none() {
        // What a client without an account can still do: the password rules and the reset.
        anonymous.check_password(&Password::new("Sdk-tour-2024x")).await?;
        println!("  check_password: the instance's rules accept the candidate");
        skip(
            "every call that needs an account",
            "no credentials: set METABASE_SESSION, METABASE_API_KEY, or METABASE_USERNAME and METABASE_PASSWORD",
        );
        return reset_flow(&anonymous, None, &login, writes).await;
    }

    let me = api.get_me().await?;
    println!(
        "  get_me: {} (id {}, admin: {:?})",
        me.common_name.as_deref().unwrap_or("-"),
        me.id,
        me.is_superuser
    );
    let one = api.get_user(&me.id).await?;
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
        if let Some(email) = me.email.as_deref() {
            let found = api.find_user_by_email(email).await?;
            println!("  find_user_by_email({email}): {:?}", found.map(|u| u.id));
        }
        let groups = api.list_groups(&ListGroups::new()).await?;
        println!("  list_groups: {} group(s)", groups.len());
        let paged = api.groups(ListGroups::new().limit(2)).try_collect().await?;
        println!("  groups (stream, pages of 2): {} group(s)", paged.len());
        if let Some(first) = groups.first() {
            let one = api.get_group(&first.id).await?;
            println!(
                "  get_group({}): {} member(s)",
                one.id,
                one.members.as_ref().map_or(0, Vec::len)
            );
        }
        let memberships = api.list_memberships().await?;
        println!(
            "  list_memberships: {} user(s) with memberships",
            memberships.len()
        );
    } else {
        for call in [
            "find_user_by_email",
            "list_groups",
            "groups",
            "get_group",
            "list_memberships",
        ] {
            skip(call, "the account is not an admin");
        }
        skip(
            "list_users",
            "the account is not an admin (the server would answer 403)",
        );
    }

    // Reads that need no admin rights.
    api.check_password(&Password::new("Sdk-tour-2024x")).await?;
    println!("  check_password: the instance's rules accept the candidate");
    if on_fake {
        // Only on the fake: a real instance's log would count the refusal as a bad request.
        let refused = api.check_password(&Password::new("blah")).await.unwrap_err();
        println!(
            "  check_password(\"blah\"): refused ({})",
            refused.service_message().unwrap_or("-")
        );
    }
    let logins = api.login_history().await?;
    println!(
        "  login_history: {} login(s){}",
        logins.len(),
        logins
            .first()
            .and_then(|l| l.device_description.as_deref())
            .map(|d| format!(", latest from {d}"))
            .unwrap_or_default()
    );
    let before = api.get_user_value(NAMESPACE, VALUE_KEY).await?;
    println!(
        "  get_user_value({NAMESPACE}/{VALUE_KEY}): {}",
        shown(before.as_ref())
    );
    let all = api.get_user_values(NAMESPACE).await?;
    println!("  get_user_values({NAMESPACE}): {} key(s)", all.len());

    if admin {
        let keys = api.list_api_keys().await?;
        println!(
            "  list_api_keys: {} key(s){}",
            keys.len(),
            keys.first()
                .and_then(|k| k.prefix())
                .map(|p| format!(", the first starts {p}"))
                .unwrap_or_default()
        );
        println!("  count_api_keys: {}", api.count_api_keys().await?);
    } else {
        for call in ["list_api_keys", "count_api_keys"] {
            skip(call, "the account is not an admin");
        }
    }

    if !writes {
        for call in [
            "set_user_value",
            "delete_user_value",
            "create_api_key",
            "update_api_key",
            "regenerate_api_key",
            "delete_api_key",
            "create_user",
            "update_user",
            "create_group",
            "rename_group",
            "add_membership",
            "set_group_manager",
            "remove_membership",
            "clear_group",
            "delete_group",
            "password_reset_url",
            "dismiss_modal",
            "deactivate_user",
            "reactivate_user",
            "change_password",
            "forgot_password",
            "reset_password",
            "logout",
        ] {
            skip(call, "writes to a real instance need METABASE_ALLOW_WRITES=1");
        }
        match env("METABASE_RESET_TOKEN") {
            Some(token) => {
                let valid = anonymous
                    .password_reset_token_valid(&ResetToken::new(token))
                    .await?;
                println!("  password_reset_token_valid: {valid}");
            }
            None => skip(
                "password_reset_token_valid",
                "METABASE_RESET_TOKEN is not set (a real server emails the token)",
            ),
        }
        return Ok(());
    }

    // The caller's own store: a value that was there is written back unchanged; one that was
    // not is written, read and removed again.
    let value = before.clone().unwrap_or_else(
        || serde_json::json!({"last_download_format": "csv", "last_table_download_format": "csv"}),
    );
    let stored = api
        .set_user_value(NAMESPACE, VALUE_KEY, &UserKeyValue::new(value))
        .await?;
    println!("  set_user_value: stored {stored}");
    if before.is_none() {
        let read = api.get_user_value(NAMESPACE, VALUE_KEY).await?;
        println!("  get_user_value: {}", shown(read.as_ref()));
        let deleted = api.delete_user_value(NAMESPACE, VALUE_KEY).await?;
        println!("  delete_user_value: removed = {deleted}");
    } else {
        skip("delete_user_value", "the value was there before the tour");
    }

    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    if admin {
        let issued = api
            .create_api_key(&NewApiKey::new(format!("userapi tour {stamp}"), ALL_USERS_GROUP))
            .await?;
        let id = issued.api_key.id;
        println!(
            "  create_api_key: id {id}, {}",
            issued.api_key.masked_key.as_deref().unwrap_or("-")
        );
        let as_key = client_like(&api, userapi::metabase::auth::api_key(issued.key.clone()))?;
        let key_user = as_key.get_me().await?;
        println!(
            "  the new key works: it is {}",
            key_user.email.as_deref().unwrap_or("-")
        );
        let renamed = api
            .update_api_key(
                &id,
                &ApiKeyUpdate::new().name(format!("userapi tour {stamp} (renamed)")),
            )
            .await?;
        println!("  update_api_key: now {:?}", renamed.name);
        let fresh = api.regenerate_api_key(&id).await?;
        println!("  regenerate_api_key: prefix {:?}", fresh.prefix);
        if on_fake {
            // Only on the fake: a real instance would log the dead key's use.
            let dead = as_key.get_me().await.unwrap_err();
            println!(
                "  the old key is refused: HTTP {:?}",
                dead.status().map(|s| s.as_u16())
            );
        }
        let as_fresh = client_like(&api, userapi::metabase::auth::api_key(fresh.key))?;
        as_fresh.get_me().await?;
        println!("  the regenerated key works");
        api.delete_api_key(&id).await?;
        println!("  delete_api_key: id {id} deleted");

        let mut new = NewUser::new(format!("sdk.tour.{stamp}@example.com")).name("SDK", "Tour");
        if on_fake {
            // `password` is passed through by current servers but is not in the documented
            // schema, so the tour sends it only to the fake.
            new = new.password("Tour-user-pass1");
        }
        let created = api.create_user(&new).await?;
        println!("  create_user: id {}", created.id);
        if on_fake {
            let as_new = client_like(&api, Auth::none())?;
            as_new
                .login(
                    &format!("sdk.tour.{stamp}@example.com"),
                    &Password::new("Tour-user-pass1"),
                )
                .await?;
            println!("  the new user logs in with the password it was created with");
            as_new.logout().await?;
        }
        let updated = api
            .update_user(&created.id, &UserUpdate::new().first_name("SDK tour"))
            .await?;
        println!("  update_user: {}", updated.common_name.as_deref().unwrap_or("-"));
        api.dismiss_modal(&created.id, Modal::QbNewb).await?;
        println!("  dismiss_modal: qbnewb");

        let group = api
            .create_group(&NewGroup::new(format!("userapi tour {stamp}")))
            .await?;
        println!("  create_group: id {}", group.id);
        let group = api
            .rename_group(&group.id, &format!("userapi tour {stamp} (renamed)"))
            .await?;
        println!("  rename_group: now {:?}", group.name);
        let members = api
            .add_membership(&NewMembership::new(group.id, created.id))
            .await?;
        let membership = members
            .iter()
            .find(|m| m.id == created.id)
            .and_then(|m| m.membership_id);
        println!(
            "  add_membership: {} member(s), membership {membership:?}",
            members.len()
        );
        if let Some(membership) = membership {
            match api.set_group_manager(&membership, true).await {
                Ok(row) => println!("  set_group_manager: {:?}", row.is_group_manager),
                Err(e) if e.status().map(|s| s.as_u16()) == Some(402) => {
                    println!("  set_group_manager: a premium feature this instance lacks (HTTP 402)")
                }
                Err(e) => return Err(e.into()),
            }
            api.remove_membership(&membership).await?;
            println!("  remove_membership: {membership}");
        }
        api.add_membership(&NewMembership::new(group.id, created.id))
            .await?;
        api.clear_group(&group.id).await?;
        println!("  clear_group: the group is empty");
        api.delete_group(&group.id).await?;
        println!("  delete_group: id {}", group.id);
        match api.password_reset_url(&created.id).await {
            Ok(link) => println!(
                "  password_reset_url: a link (holding a token: {})",
                link.token.is_some()
            ),
            Err(e) if e.is_not_found() => {
                println!("  password_reset_url: this server version has no such endpoint (HTTP 404)")
            }
            Err(e) => return Err(e.into()),
        }
        api.deactivate_user(&created.id).await?;
        println!(
            "  deactivate_user: id {} deactivated (kept, not deleted)",
            created.id
        );
        let back = api.reactivate_user(&created.id).await?;
        println!("  reactivate_user: active = {:?}", back.is_active);
        api.deactivate_user(&created.id).await?;
    } else {
        for call in [
            "create_api_key",
            "update_api_key",
            "regenerate_api_key",
            "delete_api_key",
            "create_user",
            "update_user",
            "deactivate_user",
            "reactivate_user",
            "create_group",
            "rename_group",
            "add_membership",
            "set_group_manager",
            "remove_membership",
            "clear_group",
            "delete_group",
            "password_reset_url",
        ] {
            skip(call, "the account is not an admin");
        }
        api.dismiss_modal(&me.id, Modal::QbNewb).await?;
        println!("  dismiss_modal: qbnewb");
    }
    let on_session = api.client().auth().scheme_name() == "metabase-session";
    match &login {
        // The password is set to itself; the server still hands out a new session.
        Some((_, password)) if on_session => {
            match api
                .change_password(
                    &me.id,
                    &PasswordChange::new(password.clone()).current(password.clone()),
                )
                .await?
            {
                PasswordChanged::NewSession(_) => {
                    println!("  change_password: done; the client moved to the new session")
                }
                _ => println!("  change_password: done"),
            }
        }
        // With an API key the client is the key's user, whose password is not METABASE_PASSWORD.
        Some(_) => skip(
            "change_password",
            "the client uses an API key, not the login's session",
        ),
        None => skip("change_password", "METABASE_PASSWORD is not set"),
    }

    api.get_me().await?;
    if on_session {
        api.logout().await?;
        println!("  logout: session ended");
    } else {
        skip("logout", "the client uses an API key; logout ends sessions only");
    }

    // Last: a reset of the logged-in account's password ends every session it has.
    reset_flow(&anonymous, the_fake.as_ref(), &login, writes).await
}

fn shown(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// Another client for the same instance, with its own credentials (clones of a client share
/// theirs).
fn client_like(api: &Metabase, auth: Auth) -> userapi::Result<Metabase> {
    Ok(Metabase::new(
        Client::builder()
            .base_url(api.client().base_url().clone())
            .auth(auth)
            .build()?,
    ))
}

/// The password reset, on a client without credentials. On the fake the token comes from
/// the fake; on a real server from `METABASE_RESET_TOKEN` (the new password from
/// `METABASE_RESET_PASSWORD`, else `METABASE_PASSWORD`).
async fn reset_flow(
    anonymous: &Metabase,
    the_fake: Option<&fake::FakeMetabase>,
    login: &Option<(String, Password)>,
    writes: bool,
) -> FlowResult {
    let (token, new_password) = match the_fake {
        Some(fake) => {
            anonymous.forgot_password(fake::USER_EMAIL).await?;
            println!("  forgot_password({}): 204", fake::USER_EMAIL);
            let token = fake.last_reset_token().ok_or("the fake issued no reset token")?;
            (token, Some(Password::new("Reset-by-tour-1")))
        }
        None => {
            let Some(token) = env("METABASE_RESET_TOKEN") else {
                for call in ["forgot_password", "password_reset_token_valid", "reset_password"] {
                    skip(
                        call,
                        "METABASE_RESET_TOKEN is not set (a real server emails the token)",
                    );
                }
                return Ok(());
            };
            // An address with no account: the answer is the same 204, no email goes out and
            // the token in METABASE_RESET_TOKEN stays the newest.
            anonymous.forgot_password(NO_ACCOUNT).await?;
            println!("  forgot_password({NO_ACCOUNT}): 204");
            let new_password = env("METABASE_RESET_PASSWORD")
                .map(Password::new)
                .or_else(|| login.as_ref().map(|(_, p)| p.clone()));
            (ResetToken::new(token), new_password)
        }
    };
    let valid = anonymous.password_reset_token_valid(&token).await?;
    println!("  password_reset_token_valid: {valid}");
    match new_password {
        _ if !valid => skip(
            "reset_password",
            "the token is not valid (used, superseded or expired)",
        ),
        _ if !writes => skip("reset_password", "set METABASE_ALLOW_WRITES=1 to write"),
        None => skip(
            "reset_password",
            "set METABASE_RESET_PASSWORD (or METABASE_PASSWORD) for the new password",
        ),
        Some(password) => match anonymous.reset_password(&token, &password).await? {
            PasswordChanged::NewSession(_) => {
                let who = anonymous.get_me().await?;
                println!(
                    "  reset_password: done; this client is now logged in as {}",
                    who.email.as_deref().unwrap_or("-")
                );
                anonymous.logout().await?;
            }
            _ => println!("  reset_password: done (multi-factor account: log in next)"),
        },
    }
    Ok(())
}
