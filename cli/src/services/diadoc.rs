//! `userapi diadoc …`: the current user, the employees of a box, login, request.

use serde_json::{Value, json};
use userapi::Secret;
use userapi::diadoc::{
    BoxId, Diadoc, DocumentAccessLevel, Employee, EmployeePermissions, EmployeeToCreate, EmployeeToUpdate,
    HEAD_DEPARTMENT, ListEmployees, UserId,
};

use super::Ctx;
use crate::args::{DiadocCommand, DiadocEmployees};
use crate::confirm::{Go, Plan};
use crate::exit::{CliError, CliResult};

const CREDENTIALS: &str =
    "DIADOC_CLIENT_ID with DIADOC_TOKEN, or DIADOC_LOGIN and DIADOC_PASSWORD (or run `userapi diadoc login`)";
const URL_VAR: &str = "DIADOC_BASE_URL";
const EMPLOYEE_COLUMNS: &[&str] = &[
    "user_id",
    "login",
    "name",
    "position",
    "is_administrator",
    "department",
];
const USER_COLUMNS: &[&str] = &["user_id", "login", "name", "is_registered"];

fn err(what: &'static str) -> impl Fn(userapi::Error) -> CliError {
    move |e| CliError::api(what, &e, CREDENTIALS, URL_VAR)
}

/// Runs a Diadoc command.
pub async fn run(ctx: &Ctx, command: DiadocCommand) -> CliResult {
    if let DiadocCommand::Login = command {
        return login(ctx).await;
    }
    let api = client(ctx)?;
    let result = dispatch(ctx, &api, command).await;
    api.client().flush_credential_changes().await;
    result
}

fn vars(ctx: &Ctx) -> userapi::env::EnvCredentials {
    ctx.settings.vars("diadoc", "DIADOC", &[])
}

fn base_url(vars: &userapi::env::EnvCredentials) -> String {
    vars.base_url()
        .unwrap_or(userapi::diadoc::DEFAULT_BASE_URL)
        .to_owned()
}

fn client_id(vars: &userapi::env::EnvCredentials) -> CliResult<Secret> {
    vars.client_id()
        .ok_or_else(|| CliError::usage("no Diadoc API client id").hint("set DIADOC_CLIENT_ID"))
}

fn client(ctx: &Ctx) -> CliResult<Diadoc> {
    let vars = vars(ctx);
    let id = client_id(&vars)?;
    let url = base_url(&vars);
    let mut builder = ctx.builder(&url);
    if let Some(token) = vars.token() {
        builder = builder.auth(userapi::diadoc::auth::diadoc_auth(id.expose(), Some(token)));
    } else if let (Some(login), Some(password)) = (vars.login(), vars.password()) {
        // A kept token of this login on this server is tried first; any other is not sent,
        // and the token the login obtains replaces it.
        let kept = ctx.kept("diadoc", &url, URL_VAR)?;
        builder = builder
            .auth(userapi::diadoc::auth::login(id.expose(), login, password))
            .on_credential_change(kept.keeper(login));
        if let Some(stored) = kept.load(Some(login)).found() {
            builder = builder.stored_credential(stored);
        }
    } else {
        let kept = ctx.kept("diadoc", &url, URL_VAR)?;
        let stored = kept.load(vars.login()).or_explain(
            "Diadoc",
            URL_VAR,
            "DIADOC_LOGIN",
            "userapi diadoc login",
            CREDENTIALS,
        )?;
        let token = userapi::auth::Token::new(stored.expose().to_owned());
        builder = builder.auth(userapi::diadoc::auth::diadoc_auth(id.expose(), Some(token)));
    }
    Ok(Diadoc::new(builder.build().map_err(err("diadoc"))?))
}

async fn login(ctx: &Ctx) -> CliResult {
    let vars = vars(ctx);
    let id = client_id(&vars)?;
    let (Some(login), Some(password)) = (vars.login(), vars.password()) else {
        return Err(CliError::usage("diadoc login needs a login and a password")
            .hint("set DIADOC_LOGIN and DIADOC_PASSWORD"));
    };
    if ctx.safety.dry_run {
        let plan = Plan::new("POST", "/V3/Authenticate?type=password")
            .body(&json!({"login": login, "password": "<redacted>"}));
        ctx.safety.check("log in", &[plan])?;
        return Ok(());
    }
    let url = base_url(&vars);
    let kept = ctx.kept("diadoc", &url, URL_VAR)?;
    let client = ctx
        .builder(&url)
        .auth(userapi::diadoc::auth::diadoc_auth(id.expose(), None))
        .build()
        .map_err(err("diadoc login"))?;
    let token = Diadoc::new(client)
        .login(login, &password)
        .await
        .map_err(err("diadoc login"))?;
    kept.store(login, &Secret::new(token.expose().to_owned()))
        .map_err(|e| {
            CliError::new(
                crate::exit::OTHER,
                format!("could not keep the token in {}: {e}", kept.path().display()),
            )
        })?;
    ctx.out.one(
        &json!({"logged_in": login, "session_file": kept.path().display().to_string()}),
        &[],
    )
}

fn box_id(s: &str) -> CliResult<BoxId> {
    BoxId::new(s).map_err(|e| CliError::usage(format!("bad box id: {e}")))
}

fn user_id(s: &str) -> CliResult<UserId> {
    UserId::new(s).map_err(|e| CliError::usage(format!("bad user id: {e}")))
}

/// An employee with flat fields for tables and CSV (the JSON keeps every field too).
fn flat(e: &Employee) -> CliResult<Value> {
    let mut v = crate::output::to_value(e)?;
    if let Value::Object(map) = &mut v {
        let name = e.user.full_name.as_ref().map(|n| {
            format!(
                "{} {}",
                n.first_name.as_deref().unwrap_or(""),
                n.last_name.as_deref().unwrap_or("")
            )
            .trim()
            .to_owned()
        });
        map.insert("user_id".into(), json!(e.user.user_id));
        map.insert("login".into(), json!(e.user.login));
        map.insert("name".into(), json!(name));
        if !map.contains_key("position") {
            map.insert("position".into(), json!(e.position));
        }
        let p = e.permissions.as_ref();
        map.insert(
            "is_administrator".into(),
            json!(p.and_then(|p| p.is_administrator)),
        );
        map.insert(
            "department".into(),
            json!(p.and_then(|p| p.user_department_id.clone())),
        );
    }
    Ok(v)
}

async fn dispatch(ctx: &Ctx, api: &Diadoc, command: DiadocCommand) -> CliResult {
    match command {
        DiadocCommand::Me => {
            if ctx.safety.dry_run {
                ctx.safety.check("read", &[Plan::new("GET", "/V2/GetMyUser")])?;
                return Ok(());
            }
            let me = api.get_me().await.map_err(err("diadoc me"))?;
            let mut v = crate::output::to_value(&me)?;
            if let Value::Object(map) = &mut v {
                let name = me.full_name.as_ref().map(|n| {
                    format!(
                        "{} {}",
                        n.first_name.as_deref().unwrap_or(""),
                        n.last_name.as_deref().unwrap_or("")
                    )
                });
                map.insert("user_id".into(), json!(me.user_id));
                map.insert("name".into(), json!(name.map(|n| n.trim().to_owned())));
            }
            ctx.out.one(&v, USER_COLUMNS)
        }
        DiadocCommand::Employees { command } => employees(ctx, api, command).await,
        DiadocCommand::Login => Ok(()),
        DiadocCommand::Request(args) => super::request(ctx, api.client(), args, err("diadoc request")).await,
    }
}

async fn employees(ctx: &Ctx, api: &Diadoc, command: DiadocEmployees) -> CliResult {
    match command {
        DiadocEmployees::List { r#box, all, limit } => {
            let b = box_id(&r#box)?;
            if ctx.safety.dry_run {
                ctx.safety
                    .check("read", &[Plan::new("GET", format!("/GetEmployees?boxId={b}"))])?;
                return Ok(());
            }
            let mut q = ListEmployees::new();
            if let Some(n) = limit {
                q = q.count(n);
            }
            if all {
                let pager = api.employees(&b, q);
                // Rows are flattened as they stream.
                return stream_employees(ctx, pager).await;
            }
            let page = api
                .list_employees(&b, &q)
                .await
                .map_err(err("diadoc employees list"))?;
            let mut list = ctx.out.list(EMPLOYEE_COLUMNS);
            for e in &page.employees {
                list.push(&flat(e)?)?;
            }
            list.finish()
        }
        DiadocEmployees::Get { r#box, user } => {
            let (b, u) = (box_id(&r#box)?, user_id(&user)?);
            if ctx.safety.dry_run {
                ctx.safety.check(
                    "read",
                    &[Plan::new("GET", format!("/GetEmployee?boxId={b}&userId={u}"))],
                )?;
                return Ok(());
            }
            let e = api
                .get_employee(&b, &u)
                .await
                .map_err(err("diadoc employees get"))?;
            ctx.out.one(&flat(&e)?, EMPLOYEE_COLUMNS)
        }
        DiadocEmployees::Create {
            r#box,
            login,
            department,
            position,
            administrator,
        } => {
            let b = box_id(&r#box)?;
            let permissions = EmployeePermissions::new(
                department.unwrap_or_else(|| HEAD_DEPARTMENT.to_owned()),
                DocumentAccessLevel::AllDocuments,
            )
            .administrator(administrator);
            let mut new = EmployeeToCreate::by_login(login, permissions);
            if let Some(p) = position {
                new = new.position(p);
            }
            let plan = Plan::new("POST", format!("/CreateEmployee?boxId={b}")).body(&new);
            if ctx.safety.check("add a Diadoc employee", &[plan])? == Go::DryRun {
                return Ok(());
            }
            let e = api
                .create_employee(&b, &new)
                .await
                .map_err(err("diadoc employees create"))?;
            ctx.out.one(&flat(&e)?, EMPLOYEE_COLUMNS)
        }
        DiadocEmployees::Update {
            r#box,
            user,
            position,
            department,
            administrator,
        } => {
            let (b, u) = (box_id(&r#box)?, user_id(&user)?);
            let mut update = EmployeeToUpdate::new();
            let mut any = false;
            if let Some(p) = position {
                update = update.position(p);
                any = true;
            }
            if let Some(d) = department {
                update = update.department(d);
                any = true;
            }
            if let Some(a) = administrator {
                update = update.administrator(a);
                any = true;
            }
            if !any {
                return Err(CliError::usage("nothing to update")
                    .hint("give --position, --department or --administrator"));
            }
            let plan = Plan::new("POST", format!("/UpdateEmployee?boxId={b}&userId={u}")).body(&update);
            if ctx
                .safety
                .check(&format!("update Diadoc employee {u}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            let e = api
                .update_employee(&b, &u, &update)
                .await
                .map_err(err("diadoc employees update"))?;
            ctx.out.one(&flat(&e)?, EMPLOYEE_COLUMNS)
        }
        DiadocEmployees::Delete { r#box, user } => {
            let (b, u) = (box_id(&r#box)?, user_id(&user)?);
            let plan = Plan::new("POST", format!("/DeleteEmployee?boxId={b}&userId={u}"));
            if ctx
                .safety
                .check(&format!("remove Diadoc employee {u} from box {b}"), &[plan])?
                == Go::DryRun
            {
                return Ok(());
            }
            api.delete_employee(&b, &u)
                .await
                .map_err(err("diadoc employees delete"))?;
            ctx.out
                .one(&json!({"box": b, "user_id": u, "deleted": true}), &[])
        }
    }
}

async fn stream_employees(ctx: &Ctx, mut pager: userapi::Pager<Employee>) -> CliResult {
    let mut list = ctx.out.list(EMPLOYEE_COLUMNS);
    let bar = ctx.out.progress("employees");
    while let Some(page) = pager.next_page().await {
        let page = page.map_err(err("diadoc employees list"))?;
        if let Some(total) = pager.total() {
            bar.set_length(total);
        }
        for e in &page {
            list.push(&flat(e)?)?;
        }
        bar.inc(page.len() as u64);
    }
    bar.finish_and_clear();
    list.finish()
}
