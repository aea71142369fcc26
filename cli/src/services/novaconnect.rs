//! `userapi novaconnect …`: the current user, request.

use userapi::novaconnect::NovaConnect;

use super::Ctx;
use crate::args::NovaConnectCommand;
use crate::confirm::Plan;
use crate::exit::{CliError, CliResult};

const CREDENTIALS: &str = "NOVACONNECT_TOKEN";
const URL_VAR: &str = "NOVACONNECT_BASE_URL";
const USER_COLUMNS: &[&str] = &["id", "email", "first_name", "last_name", "phone"];

fn err(what: &'static str) -> impl Fn(userapi::Error) -> CliError {
    move |e| CliError::api(what, &e, CREDENTIALS, URL_VAR)
}

fn client(ctx: &Ctx) -> CliResult<NovaConnect> {
    let vars = ctx.settings.vars("novaconnect", "NOVACONNECT", &[]);
    let base = vars.base_url().unwrap_or(userapi::novaconnect::DEFAULT_BASE_URL);
    let token = vars
        .token()
        .ok_or_else(|| CliError::usage("no NovaConnect credential").hint(format!("set {CREDENTIALS}")))?;
    let client = ctx
        .builder(base)
        .auth(userapi::Auth::bearer(token))
        .build()
        .map_err(err("novaconnect"))?;
    Ok(NovaConnect::new(client))
}

/// Runs a NovaConnect command.
pub async fn run(ctx: &Ctx, command: NovaConnectCommand) -> CliResult {
    let api = client(ctx)?;
    match command {
        NovaConnectCommand::Me => {
            if ctx.safety.dry_run {
                ctx.safety.check("read", &[Plan::new("POST", "/user/get")])?;
                return Ok(());
            }
            let me = api.get_me().await.map_err(err("novaconnect me"))?;
            ctx.out.one(&me, USER_COLUMNS)
        }
        NovaConnectCommand::Request(args) => {
            super::request(ctx, api.client(), args, err("novaconnect request")).await
        }
    }
}
