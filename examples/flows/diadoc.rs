//! Kontur Diadoc: log in, read the user, find the boxes and one's place in a box, and update
//! the name (on the fake, or on a real server with `DIADOC_ALLOW_WRITES=1`).

use userapi::Client;
use userapi::auth::Password;
use userapi::diadoc::{
    BoxId, Diadoc, DocumentAccessLevel, EmployeeActionName, EmployeePermissions, EmployeeToCreate,
    EmployeeToUpdate, FullName, HEAD_DEPARTMENT, ListEmployees, UserToUpdate, UserV2,
};
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

/// Runs `login`, `get_me`, `get_my_organizations`, `get_my_employee`, the employee
/// administration of the first box (`list_employees`, `employees`, `get_employee`, and with
/// writes `create_employee`, `update_employee`, `delete_employee`) and `update_me`.
///
/// On the fake it signs in as the box's administrator. On a real server, a box the user
/// does not administer is reported and the flow goes on; creating an employee needs
/// `DIADOC_ALLOW_WRITES=1` and `DIADOC_EMPLOYEE_LOGIN` (the email of someone to add and
/// remove again: Diadoc writes to them).
pub async fn run(mode: Mode) -> FlowResult {
    let vars = EnvCredentials::read("DIADOC");
    let base = match mode {
        Mode::EnvOrFake => vars.base_url().map(str::to_owned),
        Mode::Fake => None,
    };
    // `DIADOC_ACCESS_TOKEN` is an OpenID Connect token; `DIADOC_TOKEN` a DiadocAuth one.
    let real = base.filter(|_| vars.client_id().is_some() || env("DIADOC_ACCESS_TOKEN").is_some());
    let mut _fake = None;
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
            // The box's administrator, who may run the employee calls.
            let login = Some((fake::ADMIN_LOGIN.to_owned(), Password::new(fake::ADMIN_PASSWORD)));
            _fake = Some(fake);
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
        for call in [
            "get_me",
            "get_my_organizations",
            "get_my_employee",
            "list_employees",
            "employees",
            "get_employee",
            "create_employee",
            "update_employee",
            "delete_employee",
            "update_me",
        ] {
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
            let employee_login = if on_fake {
                Some("new.employee@example.com".to_owned())
            } else {
                env("DIADOC_EMPLOYEE_LOGIN")
            };
            administer(&diadoc, &box_id, writes, employee_login).await?;
        }
        None => {
            for call in ["get_my_employee", "list_employees", "employees", "get_employee"] {
                skip(call, "the account reaches no box");
            }
        }
    }

    schemes(on_fake, _fake.as_ref()).await?;

    if !writes {
        skip("update_me", "set DIADOC_ALLOW_WRITES=1 to write the name back");
        return Ok(());
    }
    // On a real account the name is written back unchanged (UpdateMyUser is obsolete and may
    // be gone: a 404/405 there is reported, not hidden). On the fake the name changes and a
    // login change is requested, which stays pending until confirmed.
    let name = match (&me.full_name, on_fake) {
        (_, true) => Some(FullName::new("Kuznetsova", "Maria").middle_name("Ivanovna")),
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
        change = change.login("maria.kuznetsova@kontur.ru");
    }
    let after = diadoc.update_me(&change).await?;
    println!(
        "  update_me: {} (a new login shows only after its email is confirmed)",
        show(&after)
    );
    Ok(())
}

/// The employee calls on one box: reads always, a create/update/delete round trip with writes.
async fn administer(diadoc: &Diadoc, box_id: &BoxId, writes: bool, login: Option<String>) -> FlowResult {
    let page = match diadoc
        .list_employees(box_id, &ListEmployees::new().count(10))
        .await
    {
        Ok(page) => page,
        // Only administrators of the box's organization may list its employees.
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 403) => {
            let reason = format!(
                "not an administrator of box {box_id}: {}",
                e.service_message().unwrap_or("403")
            );
            for call in [
                "list_employees",
                "employees",
                "get_employee",
                "create_employee",
                "update_employee",
                "delete_employee",
            ] {
                skip(call, &reason);
            }
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "  list_employees(count 10): {} of {} employee(s)",
        page.employees.len(),
        page.total_count.unwrap_or(0)
    );
    let all = diadoc
        .employees(box_id, ListEmployees::new())
        .try_collect()
        .await?;
    println!("  employees: {} in all", all.len());
    match all.first() {
        Some(first) => {
            let one = diadoc.get_employee(box_id, &first.user.user_id).await?;
            println!(
                "  get_employee: {} ({})",
                show(&one.user),
                one.position.as_deref().unwrap_or("-")
            );
        }
        None => skip("get_employee", "the box lists no employee"),
    }

    let (true, Some(login)) = (writes, login) else {
        let reason = "set DIADOC_ALLOW_WRITES=1 and DIADOC_EMPLOYEE_LOGIN to add and remove an employee";
        for call in ["create_employee", "update_employee", "delete_employee"] {
            skip(call, reason);
        }
        return Ok(());
    };
    let new = EmployeeToCreate::by_login(
        login,
        EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::DepartmentOnly)
            .action(EmployeeActionName::SignDocuments, false),
    )
    .full_name(FullName::new("Примеров", "Пример"))
    .position("Стажёр");
    let created = diadoc.create_employee(box_id, &new).await?;
    let id = created.user.user_id.clone();
    println!(
        "  create_employee: {} (registered: {:?})",
        show(&created.user),
        created.user.is_registered
    );
    let update = EmployeeToUpdate::new()
        .position("Бухгалтер")
        .action(EmployeeActionName::CreateDocuments, true);
    let updated = diadoc.update_employee(box_id, &id, &update).await?;
    println!(
        "  update_employee: position {}, may create documents: {:?}",
        updated.position.as_deref().unwrap_or("-"),
        updated
            .permissions
            .as_ref()
            .and_then(|p| p.allows(EmployeeActionName::CreateDocuments))
    );
    diadoc.delete_employee(box_id, &id).await?;
    println!("  delete_employee: removed again");
    Ok(())
}

/// The two schemes that get their own credentials: `diadoc::auth::login` (logs in on demand,
/// again after a `401`) and `diadoc::auth::OidcRefresh` (Kontur's refresh-token flow). On a
/// real server they need `DIADOC_CLIENT_ID`, `DIADOC_LOGIN`, `DIADOC_PASSWORD`, and
/// `DIADOC_OIDC_CLIENT_ID`, `DIADOC_OIDC_CLIENT_SECRET`, `DIADOC_REFRESH_TOKEN`.
async fn schemes(on_fake: bool, fake: Option<&fake::FakeDiadoc>) -> FlowResult {
    use userapi::diadoc::auth::{KONTUR_TOKEN_ENDPOINT, OidcRefresh};
    let vars = EnvCredentials::read("DIADOC");
    let base = match fake {
        Some(f) => f.base_url().to_string(),
        None => vars
            .base_url()
            .unwrap_or(userapi::diadoc::DEFAULT_BASE_URL)
            .to_owned(),
    };
    let login = match fake {
        Some(_) => Some((
            fake::CLIENT_ID.to_owned(),
            fake::LOGIN.to_owned(),
            Password::new(fake::PASSWORD),
        )),
        None => match (vars.client_id(), vars.login(), vars.password()) {
            (Some(id), Some(l), Some(p)) => Some((id.expose().to_owned(), l.to_owned(), p)),
            _ => None,
        },
    };
    match login {
        Some((client_id, login, password)) => {
            let auth = userapi::diadoc::auth::login(client_id, login, password);
            let diadoc = Diadoc::new(Client::builder().base_url(base.as_str()).auth(auth).build()?);
            let me = diadoc.get_me().await?;
            println!("  auth::login: logged in on first use as {}", show(&me));
        }
        None => skip(
            "auth::login",
            "DIADOC_CLIENT_ID, DIADOC_LOGIN and DIADOC_PASSWORD are not all set",
        ),
    }
    let oidc = match fake {
        Some(f) => Some(
            OidcRefresh::new(
                fake::OIDC_CLIENT_ID,
                fake::OIDC_CLIENT_SECRET,
                f.issue_refresh_token(),
            )
            .token_endpoint(f.base_url().join(fake::TOKEN_PATH)?.as_str()),
        ),
        None => match (
            env("DIADOC_OIDC_CLIENT_ID"),
            env("DIADOC_OIDC_CLIENT_SECRET"),
            env("DIADOC_REFRESH_TOKEN"),
        ) {
            (Some(id), Some(secret), Some(refresh)) => Some(
                OidcRefresh::new(id, secret, refresh)
                    .token_endpoint(env("DIADOC_TOKEN_ENDPOINT").unwrap_or(KONTUR_TOKEN_ENDPOINT.to_owned())),
            ),
            _ => None,
        },
    };
    match oidc {
        Some(oidc) => {
            let oidc = oidc.on_rotation(|_| {
                println!("    the provider rotated the refresh token: store the new one (OidcRefresh::refresh_token)");
            });
            let diadoc = Diadoc::new(
                Client::builder()
                    .base_url(base.as_str())
                    .auth(oidc.into_auth())
                    .build()?,
            );
            let me = diadoc.get_me().await?;
            println!("  auth::OidcRefresh: Bearer access token for {}", show(&me));
        }
        None if on_fake => unreachable!("the fake always plays the provider"),
        None => skip(
            "auth::OidcRefresh",
            "DIADOC_OIDC_CLIENT_ID, DIADOC_OIDC_CLIENT_SECRET and DIADOC_REFRESH_TOKEN are not all set",
        ),
    }
    Ok(())
}
