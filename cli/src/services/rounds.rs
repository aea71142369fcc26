//! `userapi rounds …`: the current user, a user by id, request.

use userapi::rounds::{Rounds, UserId};

use super::Ctx;
use crate::args::{RoundsCommand, RoundsUsers};
use crate::confirm::Plan;
use crate::exit::{CliError, CliResult};

const CREDENTIALS: &str = "ROUNDS_TOKEN";
const URL_VAR: &str = "ROUNDS_BASE_URL";
const USER_COLUMNS: &[&str] = &["id", "first_name", "last_name", "phone"];

fn err(what: &'static str) -> impl Fn(userapi::Error) -> CliError {
    move |e| CliError::api(what, &e, CREDENTIALS, URL_VAR)
}

fn client(ctx: &Ctx) -> CliResult<Rounds> {
    let vars = ctx.settings.vars("rounds", "ROUNDS", &[]);
    let base = vars
        .base_url()
        .ok_or_else(|| CliError::usage("no rounds app URL").hint(format!("set {URL_VAR}")))?;
    let token = vars
        .token()
        .ok_or_else(|| CliError::usage("no rounds app credential").hint(format!("set {CREDENTIALS}")))?;
    let client = ctx
        .builder(base)
        .auth(userapi::Auth::jwt(token))
        .build()
        .map_err(err("rounds"))?;
    Ok(Rounds::new(client))
}

/// Runs a rounds command.
pub async fn run(ctx: &Ctx, command: RoundsCommand) -> CliResult {
    let api = client(ctx)?;
    match command {
        RoundsCommand::Me => {
            if ctx.safety.dry_run {
                ctx.safety.check("read", &[Plan::new("GET", "/users/me")])?;
                return Ok(());
            }
            let me = api.get_me().await.map_err(err("rounds me"))?;
            ctx.out.one(&me, USER_COLUMNS)
        }
        RoundsCommand::Users {
            command: RoundsUsers::Get { id },
        } => {
            let id = UserId::new(&id).map_err(|e| CliError::usage(format!("bad user id: {e}")))?;
            if ctx.safety.dry_run {
                ctx.safety
                    .check("read", &[Plan::new("GET", format!("/users/{id}"))])?;
                return Ok(());
            }
            let user = api.get_user(&id).await.map_err(err("rounds users get"))?;
            ctx.out.one(&user, USER_COLUMNS)
        }
        RoundsCommand::Request(args) => super::request(ctx, api.client(), args, err("rounds request")).await,
    }
}
