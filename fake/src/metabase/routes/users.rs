//! `/api/user`: listing, creating, updating, deactivating users; passwords; login history.

#![allow(unused_imports)]

use crate::metabase::*;

impl Instance {
    // -- /api/user ----------------------------------------------------------------------------

    pub(crate) fn user_route(&mut self, caller: Caller, req: &Request, rest: &[&str]) -> Response {
        match (&req.method, rest) {
            (&Method::GET, []) => self.list(caller, req),
            (&Method::POST, []) => self.create(caller, req),
            (&Method::GET, ["current"]) => match self.person(caller.id) {
                Some(p) => {
                    let mut me = p.render(View::Current);
                    // True only for the first user, once there is another (personal) one.
                    let people = self.people.iter().filter(|p| p.kind == Kind::Personal).count();
                    me["has_invited_second_user"] = json!(p.id == 1 && people > 1);
                    // The oldest login the fake recorded, or now.
                    let first = self
                        .logins
                        .iter()
                        .filter(|row| row.user == p.id)
                        .map(|row| row.timestamp.clone())
                        .min()
                        .unwrap_or_else(now_iso);
                    me["first_login"] = json!(first);
                    Response::json(200, &me)
                }
                None => not_found(),
            },
            (&Method::GET, ["recipients"]) => self.recipients(caller),
            (method, [id, more @ ..]) => {
                let known = matches!(
                    (method, more),
                    (&Method::GET | &Method::PUT | &Method::DELETE, [])
                        | (&Method::PUT, ["password" | "reactivate"])
                        | (&Method::POST, ["password-reset-url"])
                        | (&Method::PUT, ["modal", _])
                );
                if !known {
                    return no_endpoint();
                }
                match parse_id(id) {
                    Some(id) => self.one_user_route(caller, method, id, more, req),
                    None => bad_id(id),
                }
            }
            _ => no_endpoint(),
        }
    }

    pub(crate) fn list(&self, caller: Caller, req: &Request) -> Response {
        // The query's schema first (400 before 403), then who may list.
        let mut p = Problems::default();
        let flag = |p: &mut Problems, name: &str| -> Option<bool> {
            match req.query(name) {
                None | Some("") => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(other) => {
                    p.add(
                        name,
                        "nullable value must be a valid boolean string ('true' or 'false').".into(),
                        vec![format!(
                            "value must be a valid boolean string ('true' or 'false')., received: {other:?}"
                        )],
                    );
                    None
                }
            }
        };
        let include_deactivated = flag(&mut p, "include_deactivated");
        let analyst = flag(&mut p, "is_data_analyst");
        let studio = flag(&mut p, "can_access_data_studio");
        let mut ints = Map::new();
        for name in ["group_id", "tenant_id"] {
            if let Some(v) = req.query(name) {
                ints.insert(
                    name.into(),
                    v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
                );
            }
        }
        let group = p.positive_int(&ints, "group_id", false, true);
        let tenant = p.positive_int(&ints, "tenant_id", false, true);
        let tenancy = req.query("tenancy");
        if let Some(t) = tenancy
            && !matches!(t, "all" | "internal" | "external")
        {
            p.add(
                "tenancy",
                "nullable enum of :all, :internal, :external".into(),
                vec![format!(
                    "should be either :all, :internal or :external, received: {t:?}"
                )],
            );
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        // A superuser; on Enterprise a group manager (of `group_id`, if given), who sees the
        // members of the groups they manage; from 0.59 a data analyst.
        let managed: Vec<u64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| self.config.enterprise() && self.manages(caller.id, *g))
            .filter(|g| group.is_none_or(|wanted| wanted == *g))
            .collect();
        let is_analyst =
            self.config.since(DATA_ANALYSTS_SINCE) && self.person(caller.id).is_some_and(|p| p.data_analyst);
        let (view, only_groups) = if caller.superuser {
            (View::List, None)
        } else if !managed.is_empty() {
            (View::Manager, Some(managed))
        } else if is_analyst {
            (View::Others, None)
        } else {
            return forbidden();
        };
        if req.query("tenancy").is_some() && req.query("tenant_id").is_some() {
            return text(400, "You cannot specify both `tenancy` and `tenant_id`");
        }
        let paging = paging(req, &self.config).ok().flatten();
        let status = match (include_deactivated, req.query("status")) {
            (Some(true), _) => "all",
            (_, Some(s @ ("deactivated" | "all"))) => s,
            _ => "active",
        };
        let query = req.query("query").map(str::to_lowercase);
        let mut matching: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.kind == Kind::Personal)
            .filter(|p| match status {
                "all" => true,
                "deactivated" => !p.active,
                _ => p.active,
            })
            .filter(|p| {
                query.as_deref().is_none_or(|q| {
                    [
                        Some(p.email.as_str()),
                        p.first_name.as_deref(),
                        p.last_name.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_lowercase().contains(q))
                })
            })
            .filter(|p| group.is_none_or(|g| p.groups.contains(&g)))
            .filter(|p| {
                only_groups
                    .as_ref()
                    .is_none_or(|gs| p.active && gs.iter().any(|g| p.groups.contains(g)))
            })
            // No user has a tenant here: only internal users exist.
            .filter(|_| tenant.is_none() && tenancy != Some("external"))
            .filter(|p| analyst.is_none_or(|a| p.data_analyst == a))
            .filter(|p| studio.is_none_or(|s| (p.data_analyst || p.superuser()) == s))
            .collect();
        matching.sort_by_key(|p| {
            (
                p.first_name.clone().unwrap_or_default().to_lowercase(),
                p.last_name.clone().unwrap_or_default().to_lowercase(),
                p.id,
            )
        });
        let total = matching.len();
        let (skip, take) = paging.map_or((0, usize::MAX), |(l, o)| (o as usize, l as usize));
        let data: Vec<Value> = matching
            .iter()
            .skip(skip)
            .take(take)
            .map(|p| p.render(view))
            .collect();
        let (limit, offset) = match paging {
            Some((l, o)) => (json!(l), json!(o)),
            None => (Value::Null, Value::Null),
        };
        Response::json(
            200,
            &json!({"data": data, "total": total, "limit": limit, "offset": offset}),
        )
    }

    pub(crate) fn recipients(&self, caller: Caller) -> Response {
        let view = if caller.superuser {
            View::Plain
        } else {
            View::Others
        };
        let mut people: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.active && p.kind == Kind::Personal)
            .collect();
        people.sort_by_key(|p| {
            (
                p.last_name.clone().unwrap_or_default().to_lowercase(),
                p.first_name.clone().unwrap_or_default().to_lowercase(),
            )
        });
        let data: Vec<Value> = people.iter().map(|p| p.render(view)).collect();
        Response::json(
            200,
            &json!({"data": data, "total": data.len(), "limit": null, "offset": null}),
        )
    }

    /// The fake has no tenants: on create Metabase refuses a tenant while tenants are off
    /// (400, its own message); on update the tenant id is written as is and fails the
    /// database's foreign key (500).
    pub(crate) fn tenant_refusal(body: &Map<String, Value>, creating: bool) -> Option<Response> {
        if body.get("tenant_id").is_none_or(Value::is_null) {
            return None;
        }
        Some(if creating {
            field_error(
                "tenant_id",
                "Cannot create a Tenant User as Tenants are not enabled for this instance.",
            )
        } else {
            server_error(
                "ERROR: insert or update on table \"core_user\" violates foreign key constraint \"fk_core_user_tenant_id\"",
            )
        })
    }

    /// Newer servers drop login-attribute keys starting with `@` (200); older ones refuse
    /// them (400, in the schema check).
    pub(crate) fn drop_at_keys(&self, mut body: Map<String, Value>) -> Map<String, Value> {
        if self.config.since(AT_KEYS_DROPPED_SINCE)
            && let Some(Value::Object(attrs)) = body.get_mut("login_attributes")
        {
            attrs.retain(|k, _| !k.starts_with('@'));
        }
        body
    }

    /// Group-manager flags of memberships just written: applied on Enterprise, dropped
    /// silently by open source (which keeps every membership a plain one).
    pub(crate) fn apply_managers(&mut self, user: u64, memberships: Option<&[(u64, bool)]>) {
        self.sync_memberships();
        let enterprise = self.config.enterprise();
        for (group, manager) in memberships.into_iter().flatten() {
            if let Some(meta) = self.memberships.get_mut(&(user, *group)) {
                meta.manager = enterprise && *manager;
            }
        }
    }

    pub(crate) fn create(&mut self, caller: Caller, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let body = self.drop_at_keys(body);
        let mut p = Problems::default();
        let first = p.non_blank(&body, "first_name", false, true);
        let last = p.non_blank(&body, "last_name", false, true);
        let email = p.email(&body, "email", true, false);
        let memberships = p.memberships(&body, "user_group_memberships");
        p.login_attributes(&body, "login_attributes");
        let source = p.non_blank(&body, "source", false, true);
        p.positive_int(&body, "tenant_id", false, true);
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(email) = email else {
            return invalid_request();
        };
        if !caller.superuser {
            return forbidden();
        }
        if self.email_taken(&email, None) {
            if self.config.since(EMAIL_ERROR_CODE_SINCE) {
                return Response::json(
                    400,
                    &json!({"errors": {"email": "Email address already in use."}, "error_code": "email-already-in-use"}),
                );
            }
            return field_error("email", "Email address already in use.");
        }
        if let Some(refusal) = Self::tenant_refusal(&body, true) {
            return refusal;
        }
        let mut groups = vec![ALL_USERS];
        if let Some(ms) = &memberships {
            if !ms.iter().any(|(g, _)| *g == ALL_USERS) {
                return text(
                    400,
                    "You cannot add or remove users to/from the 'All Users' group.",
                );
            }
            if let Some((g, _)) = ms.iter().find(|(g, _)| !self.group_exists(*g)) {
                return server_error(&format!("no permissions group with id {g}"));
            }
            groups = ms.iter().map(|(g, _)| *g).collect();
        }
        if source.as_deref() == Some("setup") {
            groups.push(ADMINS);
        }
        let password = match body.get("password").and_then(Value::as_str) {
            Some(p) if !p.is_empty() => p.to_owned(),
            _ => self.uuid(),
        };
        let id = self.add_person(
            Kind::Personal,
            email.to_lowercase(),
            first,
            last,
            password,
            groups,
        );
        self.apply_managers(id, memberships.as_deref());
        let person = self.person_mut(id).expect("just added");
        person.login_attributes = body
            .get("login_attributes")
            .and_then(Value::as_object)
            .cloned()
            .map(stringify_attributes);
        let person = self.person(id).expect("just added");
        Response::json(200, &self.render_written(person))
    }

    pub(crate) fn update(&mut self, caller: Caller, id: u64, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let body = self.drop_at_keys(body);
        let mut p = Problems::default();
        let email = p.email(&body, "email", false, true);
        p.non_blank(&body, "first_name", false, true);
        p.non_blank(&body, "last_name", false, true);
        let memberships = p.memberships(&body, "user_group_memberships");
        let is_superuser = p.boolean(&body, "is_superuser");
        p.boolean(&body, "is_group_manager");
        let analyst = p.boolean(&body, "is_data_analyst");
        p.login_attributes(&body, "login_attributes");
        p.positive_int(&body, "tenant_id", false, true);
        if let Some(Value::String(l)) = body.get("locale")
            && normalise_locale(l).is_none()
        {
            p.add(
                "locale",
                "nullable String must be a valid two-letter ISO language or language-country code e.g. 'en' or 'en_US'.".into(),
                vec![format!(
                    "String must be a valid two-letter ISO language or language-country code e.g. 'en' or 'en_US'., received: {l:?}"
                )],
            );
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        if !caller.superuser && caller.id != id {
            return forbidden();
        }
        let Some(before) = self.person(id).filter(|p| p.active).cloned() else {
            return not_found();
        };
        if let Some(email) = &email
            && self.email_taken(email, Some(id))
        {
            return field_error("email", "Email address already associated to another user.");
        }
        if caller.superuser
            && let Some(refusal) = Self::tenant_refusal(&body, false)
        {
            return refusal;
        }
        // Work out the groups before changing anything, so that a refusal changes nothing.
        let mut groups = before.groups.clone();
        if caller.superuser
            && let Some(admin) = is_superuser
        {
            groups.retain(|g| *g != ADMINS);
            if admin {
                groups.push(ADMINS);
            }
        }
        // From 0.59 `is_data_analyst` is membership of the Data Analysts group.
        if caller.superuser
            && let Some(a) = analyst
            && self.group_exists(DATA_ANALYSTS)
            && self.config.since(DATA_ANALYSTS_SINCE)
        {
            groups.retain(|g| *g != DATA_ANALYSTS);
            if a {
                groups.push(DATA_ANALYSTS);
            }
        }
        if let Some(ms) = &memberships {
            if let Some(admin) = is_superuser
                && admin != ms.iter().any(|(g, _)| *g == ADMINS)
            {
                return field_error(
                    "is_superuser",
                    "Value of is_superuser must correspond to presence of Admin group ID in group_ids.",
                );
            }
            let mut wanted: Vec<u64> = ms.iter().map(|(g, _)| *g).collect();
            wanted.sort_unstable();
            wanted.dedup();
            if wanted != before.groups {
                if !caller.superuser {
                    return forbidden();
                }
                if !wanted.contains(&ALL_USERS) {
                    return text(
                        400,
                        "You cannot add or remove users to/from the 'All Users' group.",
                    );
                }
                if let Some(g) = wanted.iter().find(|g| !self.group_exists(**g)) {
                    return server_error(&format!("no permissions group with id {g}"));
                }
                groups = wanted;
            }
        }
        if before.superuser() && !groups.contains(&ADMINS) && self.active_admins() <= 1 {
            return last_admin();
        }
        let person = self.person_mut(id).expect("checked above");
        for (key, slot) in [
            ("first_name", &mut person.first_name),
            ("last_name", &mut person.last_name),
        ] {
            if let Some(v) = body.get(key) {
                *slot = v.as_str().map(str::to_owned);
            }
        }
        if let Some(email) = email {
            person.email = email.to_lowercase();
        }
        if let Some(v) = body.get("locale") {
            person.locale = v.as_str().and_then(normalise_locale);
        }
        if caller.superuser {
            if let Some(v) = body.get("login_attributes") {
                person.login_attributes = v.as_object().cloned().map(stringify_attributes);
            }
            if let Some(a) = analyst {
                person.data_analyst = a;
            }
        }
        person.set_groups(groups);
        person.updated_at = now_iso();
        if caller.superuser && memberships.is_some() {
            self.apply_managers(id, memberships.as_deref());
        }
        self.sync_memberships();
        let person = self.person(id).expect("checked above");
        Response::json(200, &self.render_written(person))
    }

    pub(crate) fn password(&mut self, caller: Caller, id: u64, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let new = p.password(&body, "password");
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(new) = new else {
            return invalid_request();
        };
        let own = caller.id == id;
        if !caller.superuser && !own {
            return forbidden();
        }
        // Only personal users have passwords: an API key's user is not found.
        let Some(person) = self
            .person_mut(id)
            .filter(|p| p.active && p.kind == Kind::Personal)
        else {
            return not_found();
        };
        if !caller.superuser
            && body.get("old_password").and_then(Value::as_str) != Some(person.password.as_str())
        {
            return field_error("old_password", "Invalid password");
        }
        person.password = new;
        // The password hash changed: every session of the user ends.
        self.sessions.retain(|_, user| *user != id);
        if own {
            self.start_login(id, req, json!({"success": true}), false)
        } else {
            Response::empty(204)
        }
    }

    pub(crate) fn one_user_route(
        &mut self,
        caller: Caller,
        method: &Method,
        id: u64,
        rest: &[&str],
        req: &Request,
    ) -> Response {
        match (method, rest) {
            (&Method::GET, []) => {
                if !caller.superuser && caller.id != id && !self.is_group_manager(caller.id) {
                    return forbidden();
                }
                match self.person(id) {
                    Some(p) => {
                        let mut out = p.render(View::One);
                        if self.config.enterprise() {
                            out["user_group_memberships"] = self.memberships_with_managers(p);
                        }
                        Response::json(200, &out)
                    }
                    None => not_found(),
                }
            }
            (&Method::PUT, []) => self.update(caller, id, req),
            (&Method::PUT, ["password"]) => self.password(caller, id, req),
            (&Method::POST, ["password-reset-url"]) => {
                if !self.config.since(RESET_URL_SINCE) {
                    return no_endpoint();
                }
                if !caller.superuser {
                    return forbidden();
                }
                if self.person(id).is_none_or(|p| p.kind != Kind::Personal) {
                    return not_found();
                }
                let token = format!("{id}_{}", self.uuid());
                if let Some(p) = self.person_mut(id) {
                    p.reset = Some(ResetToken {
                        token: token.clone(),
                        issued: Instant::now(),
                    });
                }
                self.last_reset = Some(token.clone());
                let url = format!("http://localhost:3000/auth/reset_password/{token}");
                Response::json(200, &json!({"password_reset_url": url}))
            }
            (&Method::PUT, ["reactivate"]) => {
                if !caller.superuser {
                    return forbidden();
                }
                match self.person_mut(id).filter(|p| p.kind == Kind::Personal) {
                    None => not_found(),
                    Some(p) if p.active => Response::json(
                        400,
                        &json!({"message": "Not able to reactivate an active user", "via": [], "trace": []}),
                    ),
                    Some(p) => {
                        p.active = true;
                        p.groups.retain(|g| *g != ADMINS);
                        Response::json(200, &p.render(View::Plain))
                    }
                }
            }
            (&Method::DELETE, []) => {
                if !caller.superuser {
                    return forbidden();
                }
                let admins = self.active_admins();
                match self.person_mut(id) {
                    None => not_found(),
                    Some(p) if p.active && p.superuser() && p.kind == Kind::Personal && admins <= 1 => {
                        last_admin()
                    }
                    // The update is limited to personal users: an API key's user stays as it
                    // is, and the answer is the same.
                    Some(p) if p.kind != Kind::Personal => Response::json(200, &json!({"success": true})),
                    Some(p) => {
                        p.active = false;
                        self.sessions.retain(|_, user| *user != id);
                        Response::json(200, &json!({"success": true}))
                    }
                }
            }
            (&Method::PUT, ["modal", modal]) => {
                // The route's schema first: an unknown modal is a 400.
                if !matches!(*modal, "qbnewb" | "datasetnewb") {
                    let mut p = Problems::default();
                    p.add(
                        "modal",
                        "enum of qbnewb, datasetnewb".into(),
                        vec![format!(
                            "should be either qbnewb or datasetnewb, received: {modal:?}"
                        )],
                    );
                    return p.response().unwrap_or_else(invalid_request);
                }
                if !caller.superuser && caller.id != id {
                    return forbidden();
                }
                // The update is limited to personal users and must change a row: an unknown
                // id or an API key's user fails the server's check with a 500.
                let Some(p) = self.person_mut(id).filter(|p| p.kind == Kind::Personal) else {
                    return text(500, "Internal server error.");
                };
                if *modal == "qbnewb" {
                    p.qbnewb = false;
                } else {
                    p.datasetnewb = false;
                }
                Response::json(200, &json!({"success": true}))
            }
            _ => no_endpoint(),
        }
    }

    /// A user as `POST`/`PUT /api/user` answer it: on Enterprise each membership carries
    /// `is_group_manager`.
    pub(crate) fn render_written(&self, person: &Person) -> Value {
        let mut out = person.render(View::Written);
        if self.config.enterprise() {
            out["user_group_memberships"] = self.memberships_with_managers(person);
        }
        out
    }

    /// `user_group_memberships` as Enterprise (with `advanced-permissions`) shows them:
    /// each with `is_group_manager`.
    pub(crate) fn memberships_with_managers(&self, person: &Person) -> Value {
        let ms: Vec<Value> = person
            .groups
            .iter()
            .map(|g| json!({"id": g, "is_group_manager": self.manages(person.id, *g)}))
            .collect();
        json!(ms)
    }

    /// Whether `user` manages any group (only ever true on Enterprise).
    pub(crate) fn is_group_manager(&self, user: u64) -> bool {
        self.config.enterprise() && self.memberships.iter().any(|((u, _), m)| *u == user && m.manager)
    }

    // -- /api/login-history -------------------------------------------------------------------

    pub(crate) fn login_history(&self, caller: Caller) -> Response {
        let rows: Vec<Value> = self
            .logins
            .iter()
            .rev()
            .filter(|row| row.user == caller.id)
            .map(|row| {
                let active = row
                    .session
                    .as_ref()
                    .is_some_and(|s| self.sessions.contains_key(s));
                json!({
                    "timestamp": row.timestamp, "device_description": row.device,
                    "ip_address": row.ip, "active": active,
                    "location": "Unknown location", "timezone": null,
                })
            })
            .collect();
        Response::json(200, &rows)
    }
}
