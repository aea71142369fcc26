//! `userapi rightech …`: users, roles, tokens, request.

use serde_json::{Value, json};
use userapi::auth::Password;
use userapi::rightech::{ListRoles, ListUsers, NewUser, Rightech, RoleId, TokenRequest, UserId, UserUpdate};

use super::{Ctx, stream};
use crate::args::{ExportArgs, RightechCommand, RightechRoles, RightechTokens, RightechUsers};
use crate::confirm::{Go, Plan};
use crate::exit::{CliError, CliResult};
use crate::output::to_value;

const CREDENTIALS: &str = "RIGHTECH_TOKEN";
const URL_VAR: &str = "RIGHTECH_BASE_URL";
const USER_COLUMNS: &[&str] = &["_id", "login", "name", "email", "role"];
const ROLE_COLUMNS: &[&str] = &["_id", "name", "description"];

fn err(what: &'static str) -> impl Fn(userapi::Error) -> CliError {
    move |e| CliError::api(what, &e, CREDENTIALS, URL_VAR)
}

fn client(ctx: &Ctx) -> CliResult<Rightech> {
    let vars = ctx.settings.vars("rightech", "RIGHTECH", &[]);
    let base = vars.base_url().unwrap_or(userapi::rightech::DEFAULT_BASE_URL);
    let token = vars
        .token()
        .ok_or_else(|| CliError::usage("no Rightech credential").hint(format!("set {CREDENTIALS}")))?;
    let client = ctx
        .builder(base)
        .auth(userapi::Auth::bearer(token))
        .build()
        .map_err(err("rightech"))?;
    Ok(Rightech::new(client))
}

fn user_id(s: &str) -> CliResult<UserId> {
    UserId::new(s).map_err(|e| CliError::usage(format!("bad user id: {e}")))
}

fn role_id(s: &str) -> CliResult<RoleId> {
    RoleId::new(s).map_err(|e| CliError::usage(format!("bad role id: {e}")))
}

fn dry_read(ctx: &Ctx, path: &str) -> CliResult<bool> {
    if !ctx.safety.dry_run {
        return Ok(false);
    }
    Ok(ctx.safety.check("read", &[Plan::new("GET", path)])? == Go::DryRun)
}

/// Runs a Rightech command.
pub async fn run(ctx: &Ctx, command: RightechCommand) -> CliResult {
    let api = client(ctx)?;
    match command {
        RightechCommand::Users { command } => users(ctx, &api, command).await,
        RightechCommand::Roles {
            command: RightechRoles::List,
        } => {
            if dry_read(ctx, "/api/v1/roles")? {
                return Ok(());
            }
            let roles = api
                .list_roles(&ListRoles::new())
                .await
                .map_err(err("rightech roles list"))?;
            let mut list = ctx.out.list(ROLE_COLUMNS);
            for r in &roles {
                list.push(&to_value(r)?)?;
            }
            list.finish()
        }
        RightechCommand::Tokens {
            command: RightechTokens::Create { user, show_secret },
        } => {
            let id = user_id(&user)?;
            let request = TokenRequest::new().field("user", id.as_str());
            let plan = Plan::new("POST", "/api/v1/users/tokens").body(&json!({"user": id.as_str()}));
            if ctx
                .safety
                .check(&format!("issue a Rightech token for {id}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            let issued = api
                .create_token(&request)
                .await
                .map_err(err("rightech tokens create"))?;
            let mut v = crate::confirm::redact(issued.raw());
            if let Value::Object(map) = &mut v {
                let token = match (show_secret, issued.token()) {
                    (true, Some(t)) => Value::String(t.expose().to_owned()),
                    (_, None) => Value::Null,
                    (false, Some(_)) => {
                        crate::output::note("the token is not shown: pass --show-secret to print it");
                        Value::String("<redacted>".into())
                    }
                };
                map.insert("token".into(), token);
            }
            ctx.out.one(&v, &["_id", "user", "token"])
        }
        RightechCommand::Request(args) => {
            super::request(ctx, api.client(), args, err("rightech request")).await
        }
    }
}

async fn users(ctx: &Ctx, api: &Rightech, command: RightechUsers) -> CliResult {
    match command {
        RightechUsers::List { query, limit, all } => {
            if dry_read(ctx, "/api/v1/users")? {
                return Ok(());
            }
            let mut q = ListUsers::new();
            if let Some(text) = query {
                q = q.search(text);
            }
            if let Some(n) = limit {
                q = q.limit(n);
            }
            if all {
                return stream(
                    ctx.out,
                    USER_COLUMNS,
                    "users",
                    api.users(q),
                    err("rightech users list"),
                )
                .await;
            }
            let users = api.list_users(&q).await.map_err(err("rightech users list"))?;
            let mut list = ctx.out.list(USER_COLUMNS);
            for u in &users {
                list.push(&to_value(u)?)?;
            }
            list.finish()
        }
        RightechUsers::Export(ExportArgs { status, page_size }) => {
            if status.is_some() {
                return Err(CliError::usage("Rightech users have no status filter"));
            }
            if dry_read(ctx, "/api/v1/users")? {
                return Ok(());
            }
            let q = ListUsers::new().limit(page_size.unwrap_or(100));
            stream(
                ctx.out.streaming(),
                USER_COLUMNS,
                "users",
                api.users(q),
                err("rightech users export"),
            )
            .await
        }
        RightechUsers::Get { id } => {
            let id = user_id(&id)?;
            if dry_read(ctx, &format!("/api/v1/users/{id}"))? {
                return Ok(());
            }
            let user = api.get_user(&id).await.map_err(err("rightech users get"))?;
            ctx.out.one(&user, USER_COLUMNS)
        }
        RightechUsers::Create {
            email,
            login,
            name,
            role,
            password_stdin: _,
        } => {
            let role = role_id(&role)?;
            // The login is checked before anyone types a password.
            NewUser::check_login(&login).map_err(|e| CliError::usage(format!("{e}")))?;
            let password = Password::new(crate::secret_input::read_line("Password (not shown): ")?);
            if password.expose().is_empty() {
                return Err(CliError::usage("no password on stdin"));
            }
            NewUser::check_password_policy(&password).map_err(|e| CliError::usage(format!("{e}")))?;
            let user = NewUser::new(role, name, email, login, password);
            let plan = Plan::new("POST", "/api/v1/users").body(&user);
            if ctx.safety.check("create a Rightech user", &[plan])? == Go::DryRun {
                return Ok(());
            }
            let created = api
                .create_user(&user)
                .await
                .map_err(err("rightech users create"))?;
            ctx.out.one(&created, USER_COLUMNS)
        }
        RightechUsers::Update {
            id,
            name,
            phone,
            description,
            role,
            disabled,
        } => {
            let id = user_id(&id)?;
            let mut update = UserUpdate::new();
            if let Some(v) = name {
                update = update.name(v);
            }
            if let Some(v) = phone {
                update = update.phone(v);
            }
            if let Some(v) = description {
                update = update.description(v);
            }
            if let Some(v) = role {
                update = update.role(role_id(&v)?);
            }
            if let Some(v) = disabled {
                update = update.disabled(v);
            }
            if update.is_empty() {
                return Err(CliError::usage("nothing to update")
                    .hint("give --name, --phone, --description, --role or --disabled"));
            }
            let plan = Plan::new("PATCH", format!("/api/v1/users/{id}")).body(&update);
            if ctx.safety.check(&format!("update Rightech user {id}"), &[plan])? == Go::DryRun {
                return Ok(());
            }
            let user = api
                .update_user(&id, &update)
                .await
                .map_err(err("rightech users update"))?;
            ctx.out.one(&user, USER_COLUMNS)
        }
        RightechUsers::Delete { id } => {
            let id = user_id(&id)?;
            let plan = Plan::new("DELETE", format!("/api/v1/users/{id}"));
            if ctx.safety.check(&format!("delete Rightech user {id}"), &[plan])? == Go::DryRun {
                return Ok(());
            }
            api.delete_user(&id).await.map_err(err("rightech users delete"))?;
            ctx.out.one(&json!({"_id": id.as_str(), "deleted": true}), &[])
        }
    }
}
