//! `userapi metabase …`: users, groups, API keys, login, request.

use serde_json::{Value, json};
use userapi::Secret;
use userapi::metabase::{
    ApiKeyId, GroupId, GroupMembership, ListGroups, ListUsers, MagicGroup, Metabase, NewApiKey,
    NewMembership, NewUser, User, UserId, UserStatus, UserUpdate,
};

use super::{Ctx, stream};
use crate::args::{
    ExportArgs, ListArgs, MetabaseApiKeys, MetabaseCommand, MetabaseGroups, MetabaseUsers, Status,
};
use crate::confirm::{Go, Plan};
use crate::exit::{CliError, CliResult};
use crate::output::to_value;

const CREDENTIALS: &str = "METABASE_API_KEY (or MB_API_KEY), METABASE_SESSION, or METABASE_USERNAME and METABASE_PASSWORD (or run `userapi metabase login`)";
const URL_VAR: &str = "METABASE_URL (or MB_URL)";
const USER_COLUMNS: &[&str] = &[
    "id",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_superuser",
    "last_login",
];
/// The All Users group: id 1 on every instance.
const ALL_USERS: GroupId = GroupId::new(1).unwrap();
const GROUP_COLUMNS: &[&str] = &["id", "name", "member_count", "magic_group_type"];
const KEY_COLUMNS: &[&str] = &["id", "name", "masked_key", "group", "updated_by", "updated_at"];

fn err(what: &'static str) -> impl Fn(userapi::Error) -> CliError {
    move |e| CliError::api(what, &e, CREDENTIALS, URL_VAR)
}

/// Runs a Metabase command.
pub async fn run(ctx: &Ctx, command: MetabaseCommand) -> CliResult {
    if let MetabaseCommand::Login = command {
        return login(ctx).await;
    }
    let api = client(ctx)?;
    let result = dispatch(ctx, &api, command).await;
    // A session renewed on the way is kept before the process ends.
    api.client().flush_credential_changes().await;
    result
}

async fn dispatch(ctx: &Ctx, api: &Metabase, command: MetabaseCommand) -> CliResult {
    match command {
        MetabaseCommand::Me => {
            if dry_read(ctx, "/api/user/current")? {
                return Ok(());
            }
            let me = api.get_me().await.map_err(err("metabase me"))?;
            ctx.out.one(&me, USER_COLUMNS)
        }
        MetabaseCommand::Users { command } => users(ctx, api, command).await,
        MetabaseCommand::Groups { command } => groups(ctx, api, command).await,
        MetabaseCommand::ApiKeys { command } => api_keys(ctx, api, command).await,
        MetabaseCommand::Login => Ok(()),
        MetabaseCommand::Request(args) => {
            super::request(ctx, api.client(), args, err("metabase request")).await
        }
    }
}

/// Under `--dry-run`, a read is printed instead of sent: `true` when it was.
fn dry_read(ctx: &Ctx, path: &str) -> CliResult<bool> {
    if !ctx.safety.dry_run {
        return Ok(false);
    }
    Ok(ctx.safety.check("read", &[Plan::new("GET", path)])? == Go::DryRun)
}

fn client(ctx: &Ctx) -> CliResult<Metabase> {
    let vars = ctx.settings.vars(
        "metabase",
        "METABASE",
        &[("MB_URL", "URL"), ("MB_API_KEY", "API_KEY")],
    );
    let url = vars
        .base_url()
        .ok_or_else(|| CliError::usage("no Metabase URL").hint(format!("set {URL_VAR}")))?;
    let mut builder = ctx.builder(url);
    if let Some(key) = vars.api_key() {
        builder = builder.auth(userapi::metabase::auth::api_key(key));
    } else if let Some(session) = vars.session() {
        builder = builder.auth(userapi::metabase::auth::session(session));
    } else if let (Some(user), Some(password)) = (vars.username(), vars.password()) {
        // A kept session of this user on this server is tried first; any other is not sent,
        // and the session the login obtains replaces it.
        let kept = ctx.kept("metabase", url, URL_VAR)?;
        builder = builder
            .auth(userapi::metabase::auth::login(user, password))
            .on_credential_change(kept.keeper(user));
        if let Some(stored) = kept.load(Some(user)).found() {
            builder = builder.stored_credential(stored);
        }
    } else {
        let kept = ctx.kept("metabase", url, URL_VAR)?;
        let stored = kept.load(vars.username()).or_explain(
            "Metabase",
            URL_VAR,
            "METABASE_USERNAME",
            "userapi metabase login",
            CREDENTIALS,
        )?;
        builder = builder.auth(userapi::metabase::auth::session(stored));
    }
    let client = builder.build().map_err(err("metabase"))?;
    Ok(Metabase::new(client))
}

async fn login(ctx: &Ctx) -> CliResult {
    let vars = ctx.settings.vars("metabase", "METABASE", &[("MB_URL", "URL")]);
    let url = vars
        .base_url()
        .ok_or_else(|| CliError::usage("no Metabase URL").hint(format!("set {URL_VAR}")))?;
    let (Some(user), Some(password)) = (vars.username(), vars.password()) else {
        return Err(CliError::usage("metabase login needs a user name and a password")
            .hint("set METABASE_USERNAME and METABASE_PASSWORD"));
    };
    let kept = ctx.kept("metabase", url, URL_VAR)?;
    if ctx.safety.dry_run {
        let plan =
            Plan::new("POST", "/api/session").body(&json!({"username": user, "password": "<redacted>"}));
        ctx.safety.check("log in", &[plan])?;
        return Ok(());
    }
    let client = ctx.builder(url).build().map_err(err("metabase login"))?;
    let api = Metabase::new(client);
    let session = api.login(user, &password).await.map_err(err("metabase login"))?;
    kept.store(user, &Secret::new(session.expose().to_owned()))
        .map_err(|e| {
            CliError::new(
                crate::exit::OTHER,
                format!("could not keep the session in {}: {e}", kept.path().display()),
            )
        })?;
    ctx.out.one(
        &json!({"logged_in": user, "session_file": kept.path().display().to_string()}),
        &[],
    )
}

/// A user id, or an email looked up.
async fn user_id(api: &Metabase, s: &str) -> CliResult<UserId> {
    if s.contains('@') {
        return match api
            .find_user_by_email(s)
            .await
            .map_err(err("metabase user lookup"))?
        {
            Some(user) => Ok(user.id),
            None => Err(CliError::usage(format!(
                "no Metabase user has the email {:?}",
                crate::exit::one_line(s)
            ))),
        };
    }
    parse_id::<UserId>(s, "user")
}

fn parse_id<T: std::str::FromStr>(s: &str, what: &str) -> CliResult<T> {
    s.parse::<T>().map_err(|_| {
        CliError::usage(format!(
            "{:?} is not a {what} id (a positive integer{})",
            crate::exit::one_line(s),
            if what == "user" { ", or an email" } else { "" }
        ))
    })
}

fn status(s: Option<Status>) -> Option<UserStatus> {
    s.map(|s| match s {
        Status::Active => UserStatus::Active,
        Status::Deactivated => UserStatus::Deactivated,
        Status::All => UserStatus::All,
    })
}

fn list_query(status_arg: Option<Status>, query: Option<String>, limit: Option<u64>) -> ListUsers {
    let mut q = ListUsers::new();
    if let Some(s) = status(status_arg) {
        q = q.status(s);
    }
    if let Some(text) = query {
        q = q.query(text);
    }
    if let Some(n) = limit {
        q = q.limit(n);
    }
    q
}

async fn users(ctx: &Ctx, api: &Metabase, command: MetabaseUsers) -> CliResult {
    match command {
        MetabaseUsers::List(ListArgs {
            status,
            query,
            limit,
            all,
        }) => {
            if dry_read(ctx, "/api/user")? {
                return Ok(());
            }
            let q = list_query(status, query, limit);
            if all {
                return stream(
                    ctx.out,
                    USER_COLUMNS,
                    "users",
                    api.users(q),
                    err("metabase users list"),
                )
                .await;
            }
            let page = api.list_users(&q).await.map_err(err("metabase users list"))?;
            let mut list = ctx.out.list(USER_COLUMNS);
            for user in &page.data {
                list.push(&to_value(user)?)?;
            }
            list.finish()
        }
        MetabaseUsers::Export(ExportArgs { status, page_size }) => {
            if dry_read(ctx, "/api/user")? {
                return Ok(());
            }
            let q = list_query(status, None, Some(page_size.unwrap_or(100)));
            stream(
                ctx.out.streaming(),
                USER_COLUMNS,
                "users",
                api.users(q),
                err("metabase users export"),
            )
            .await
        }
        MetabaseUsers::Get { id } => {
            let id = user_id(api, &id).await?;
            if dry_read(ctx, &format!("/api/user/{id}"))? {
                return Ok(());
            }
            let user = api.get_user(&id).await.map_err(err("metabase users get"))?;
            ctx.out.one(&user, USER_COLUMNS)
        }
        MetabaseUsers::Create {
            email,
            first_name,
            last_name,
            groups,
        } => {
            let mut user = NewUser::new(email);
            user.first_name = first_name;
            user.last_name = last_name;
            if !groups.is_empty() {
                // The list replaces the memberships, and everyone is in All Users.
                let mut memberships = vec![GroupMembership::new(ALL_USERS)];
                for g in groups {
                    let id = GroupId::new(g).ok_or_else(|| CliError::usage("a group id cannot be 0"))?;
                    if id != ALL_USERS {
                        memberships.push(GroupMembership::new(id));
                    }
                }
                user = user.groups(memberships);
            }
            let plan = Plan::new("POST", "/api/user").body(&user);
            if ctx.safety.check("create a Metabase user", &[plan])? == Go::DryRun {
                return Ok(());
            }
            let created = api
                .create_user(&user)
                .await
                .map_err(err("metabase users create"))?;
            ctx.out.one(&created, USER_COLUMNS)
        }
        MetabaseUsers::Update {
            id,
            first_name,
            last_name,
            email,
            locale,
        } => {
            let mut update = UserUpdate::new();
            if let Some(v) = first_name {
                update = update.first_name(v);
            }
            if let Some(v) = last_name {
                update = update.last_name(v);
            }
            if let Some(v) = email {
                update = update.email(v);
            }
            if let Some(v) = locale {
                update = update.locale(v);
            }
            if update.is_empty() {
                return Err(CliError::usage("nothing to update")
                    .hint("give --first-name, --last-name, --email or --locale"));
            }
            let id = user_id(api, &id).await?;
            let plan = Plan::new("PUT", format!("/api/user/{id}")).body(&update);
            if ctx.safety.check(&format!("update Metabase user {id}"), &[plan])? == Go::DryRun {
                return Ok(());
            }
            let user = api
                .update_user(&id, &update)
                .await
                .map_err(err("metabase users update"))?;
            ctx.out.one(&user, USER_COLUMNS)
        }
        MetabaseUsers::Deactivate { id } => {
            let id = user_id(api, &id).await?;
            let plan = Plan::new("DELETE", format!("/api/user/{id}"));
            if ctx
                .safety
                .check(&format!("deactivate Metabase user {id}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            api.deactivate_user(&id)
                .await
                .map_err(err("metabase users deactivate"))?;
            ctx.out.one(&json!({"id": id, "deactivated": true}), &[])
        }
        MetabaseUsers::Reactivate { id } => {
            let id = user_id(api, &id).await?;
            let plan = Plan::new("PUT", format!("/api/user/{id}/reactivate"));
            if ctx
                .safety
                .check(&format!("reactivate Metabase user {id}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            let user = api
                .reactivate_user(&id)
                .await
                .map_err(err("metabase users reactivate"))?;
            ctx.out.one(&user, USER_COLUMNS)
        }
        MetabaseUsers::Offboard { email, revoke_keys } => offboard(ctx, api, &email, revoke_keys).await,
    }
}

/// Removes the person from every group but All Users, deactivates them, lists the API keys
/// they last created or regenerated (and deletes them with `--revoke-keys`).
async fn offboard(ctx: &Ctx, api: &Metabase, email: &str, revoke_keys: bool) -> CliResult {
    let what = "metabase users offboard";
    let user: User = api
        .find_user_by_email(email)
        .await
        .map_err(err(what))?
        .ok_or_else(|| {
            CliError::usage(format!(
                "no Metabase user has the email {:?}",
                crate::exit::one_line(email)
            ))
        })?;
    let groups = api.list_groups(&ListGroups::new()).await.map_err(err(what))?;
    let everyone: Vec<GroupId> = groups
        .iter()
        .filter(|g| {
            matches!(
                g.magic_group_type,
                Some(MagicGroup::AllUsers | MagicGroup::AllExternalUsers)
            )
        })
        .map(|g| g.id)
        .collect();
    let group_name = |id: GroupId| {
        groups
            .iter()
            .find(|g| g.id == id)
            .and_then(|g| g.name.clone())
            .unwrap_or_default()
    };
    let memberships = api.list_memberships().await.map_err(err(what))?;
    let leave: Vec<_> = memberships
        .get(&user.id)
        .map(|ms| {
            ms.iter()
                .filter(|m| !everyone.contains(&m.group_id))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let keys: Vec<_> = api
        .list_api_keys()
        .await
        .map_err(err(what))?
        .into_iter()
        .filter(|k| {
            k.updated_by.as_ref().is_some_and(|u| u.id == user.id)
                || k.extra.get("creator_id").and_then(Value::as_u64) == Some(user.id.get())
        })
        .collect();

    let mut plans = Vec::new();
    for m in &leave {
        plans.push(Plan::new(
            "DELETE",
            format!("/api/permissions/membership/{}", m.membership_id),
        ));
    }
    plans.push(Plan::new("DELETE", format!("/api/user/{}", user.id)));
    if revoke_keys {
        for k in &keys {
            plans.push(Plan::new("DELETE", format!("/api/api-key/{}", k.id)));
        }
    }
    let go = ctx.safety.check(
        &format!(
            "offboard Metabase user {} ({})",
            user.id,
            crate::exit::one_line(email)
        ),
        &plans,
    )?;
    let dry = go == Go::DryRun;
    let result = |done: bool| {
        if dry {
            "planned"
        } else if done {
            "done"
        } else {
            "failed"
        }
    };

    let mut steps = Vec::new();
    for m in &leave {
        if !dry {
            api.remove_membership(&m.membership_id).await.map_err(err(what))?;
        }
        steps.push(json!({
            "step": "remove from group",
            "target": format!("group {} ({})", m.group_id, group_name(m.group_id)),
            "result": result(true),
        }));
    }
    if !dry {
        api.deactivate_user(&user.id).await.map_err(err(what))?;
    }
    steps.push(json!({"step": "deactivate", "target": format!("user {}", user.id), "result": result(true)}));
    for k in &keys {
        let target = format!("api key {} ({})", k.id, k.name.as_deref().unwrap_or(""));
        if revoke_keys {
            if !dry {
                api.delete_api_key(&k.id).await.map_err(err(what))?;
            }
            steps.push(json!({"step": "delete api key", "target": target, "result": result(true)}));
        } else {
            steps.push(json!({"step": "api key to review", "target": target, "result": "kept (pass --revoke-keys to delete)"}));
        }
    }
    if dry {
        crate::output::note("dry run: the steps below were not carried out");
    }
    let mut list = ctx.out.list(&["step", "target", "result"]);
    for s in &steps {
        list.push(s)?;
    }
    list.finish()
}

async fn groups(ctx: &Ctx, api: &Metabase, command: MetabaseGroups) -> CliResult {
    match command {
        MetabaseGroups::List => {
            if dry_read(ctx, "/api/permissions/group")? {
                return Ok(());
            }
            let groups = api
                .list_groups(&ListGroups::new())
                .await
                .map_err(err("metabase groups list"))?;
            let mut list = ctx.out.list(GROUP_COLUMNS);
            for g in &groups {
                list.push(&to_value(g)?)?;
            }
            list.finish()
        }
        MetabaseGroups::Show { id } => {
            let id: GroupId = parse_id(&id, "group")?;
            if dry_read(ctx, &format!("/api/permissions/group/{id}"))? {
                return Ok(());
            }
            let group = api.get_group(&id).await.map_err(err("metabase groups show"))?;
            ctx.out
                .one(&group, &["id", "name", "magic_group_type", "members"])
        }
        MetabaseGroups::AddMember { group, user } => {
            let group: GroupId = parse_id(&group, "group")?;
            let user = user_id(api, &user).await?;
            let membership = NewMembership::new(group, user);
            let plan = Plan::new("POST", "/api/permissions/membership").body(&membership);
            if ctx
                .safety
                .check(&format!("add user {user} to group {group}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            let members = api
                .add_membership(&membership)
                .await
                .map_err(err("metabase groups add-member"))?;
            let mut list = ctx
                .out
                .list(&["id", "email", "membership_id", "is_group_manager"]);
            for m in &members {
                list.push(&to_value(m)?)?;
            }
            list.finish()
        }
        MetabaseGroups::RemoveMember { group, user } => {
            let group: GroupId = parse_id(&group, "group")?;
            let user = user_id(api, &user).await?;
            let what = "metabase groups remove-member";
            let memberships = api.list_memberships().await.map_err(err(what))?;
            let membership = memberships
                .get(&user)
                .and_then(|ms| ms.iter().find(|m| m.group_id == group))
                .ok_or_else(|| {
                    CliError::new(
                        crate::exit::NOT_FOUND,
                        format!("{what}: user {user} is not a member of group {group}"),
                    )
                })?;
            let plan = Plan::new(
                "DELETE",
                format!("/api/permissions/membership/{}", membership.membership_id),
            );
            if ctx
                .safety
                .check(&format!("remove user {user} from group {group}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            api.remove_membership(&membership.membership_id)
                .await
                .map_err(err(what))?;
            ctx.out
                .one(&json!({"group": group, "user": user, "removed": true}), &[])
        }
    }
}

async fn api_keys(ctx: &Ctx, api: &Metabase, command: MetabaseApiKeys) -> CliResult {
    match command {
        MetabaseApiKeys::List => {
            if dry_read(ctx, "/api/api-key")? {
                return Ok(());
            }
            let keys = api.list_api_keys().await.map_err(err("metabase api-keys list"))?;
            let mut list = ctx.out.list(KEY_COLUMNS);
            for k in &keys {
                list.push(&to_value(k)?)?;
            }
            list.finish()
        }
        MetabaseApiKeys::Create {
            name,
            group,
            show_secret,
        } => {
            let group: GroupId = parse_id(&group, "group")?;
            let key = NewApiKey::new(name, group);
            let plan = Plan::new("POST", "/api/api-key").body(&key);
            if ctx.safety.check("create a Metabase API key", &[plan])? == Go::DryRun {
                return Ok(());
            }
            let issued = api
                .create_api_key(&key)
                .await
                .map_err(err("metabase api-keys create"))?;
            issued_key(ctx, &issued, show_secret)
        }
        MetabaseApiKeys::Regenerate { id, show_secret } => {
            let id: ApiKeyId = parse_id(&id, "API key")?;
            let plan = Plan::new("PUT", format!("/api/api-key/{id}/regenerate"));
            if ctx
                .safety
                .check(&format!("regenerate Metabase API key {id}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            let issued = api
                .regenerate_api_key(&id)
                .await
                .map_err(err("metabase api-keys regenerate"))?;
            issued_key(ctx, &issued, show_secret)
        }
        MetabaseApiKeys::Delete { id } => {
            let id: ApiKeyId = parse_id(&id, "API key")?;
            let plan = Plan::new("DELETE", format!("/api/api-key/{id}"));
            if ctx
                .safety
                .check(&format!("delete Metabase API key {id}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            api.delete_api_key(&id)
                .await
                .map_err(err("metabase api-keys delete"))?;
            ctx.out.one(&json!({"id": id, "deleted": true}), &[])
        }
    }
}

fn issued_key(ctx: &Ctx, issued: &userapi::metabase::IssuedApiKey, show_secret: bool) -> CliResult {
    let mut value = to_value(&issued.api_key)?;
    if let Value::Object(map) = &mut value {
        let key = if show_secret {
            issued.key.expose().to_owned()
        } else {
            crate::output::note("the new key is not shown: pass --show-secret to print it (once)");
            "<redacted>".to_owned()
        };
        map.insert("key".into(), Value::String(key));
    }
    ctx.out.one(&value, &["id", "name", "key", "masked_key", "group"])
}
