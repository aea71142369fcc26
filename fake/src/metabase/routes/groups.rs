//! `/api/permissions`: permission groups and memberships, with the special groups' rules.

#![allow(unused_imports)]

use crate::metabase::*;

const ALL_USERS_REFUSAL: &str = "You cannot add or remove users to/from the 'All Users' group.";
const NO_MANAGERS: &str = "The group manager permissions functionality is only enabled if you have a premium token with the advanced-permissions feature.";

impl Instance {
    pub(crate) fn permissions_route(&mut self, caller: Caller, req: &Request, rest: &[&str]) -> Response {
        match (&req.method, rest) {
            (&Method::GET, ["group"]) => self.list_groups(caller, req),
            (&Method::POST, ["group"]) => self.create_group(caller, req),
            (method, ["group", id]) if matches!(*method, Method::GET | Method::PUT | Method::DELETE) => {
                let Some(id) = parse_id(id) else {
                    return bad_id(id);
                };
                match *method {
                    Method::GET => self.get_group(caller, id),
                    Method::PUT => self.rename_group(caller, id, req),
                    _ => self.delete_group(caller, id),
                }
            }
            (&Method::GET, ["membership"]) => self.list_memberships(caller),
            (&Method::POST, ["membership"]) => self.add_membership(caller, req),
            (&Method::PUT, ["membership", id, "clear"]) => match parse_id(id) {
                Some(id) => self.clear_group(caller, id),
                None => bad_id(id),
            },
            (method, ["membership", id]) if matches!(*method, Method::PUT | Method::DELETE) => {
                let Some(id) = parse_id(id) else {
                    return bad_id(id);
                };
                if *method == Method::PUT {
                    self.set_group_manager(caller, id, req)
                } else {
                    self.remove_membership(caller, id)
                }
            }
            _ => no_endpoint(),
        }
    }

    /// A superuser, or on Enterprise a manager of `group`.
    fn may_manage(&self, caller: Caller, group: u64) -> bool {
        caller.superuser || (self.config.enterprise() && self.manages(caller.id, group))
    }

    /// The groups `caller` may see in the lists: all for a superuser, the managed ones for an
    /// Enterprise group manager, `None` (403) for anyone else.
    fn visible_groups(&self, caller: Caller) -> Option<Vec<u64>> {
        if caller.superuser {
            return Some(self.groups.iter().map(|g| g.id).collect());
        }
        let managed: Vec<u64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| self.config.enterprise() && self.manages(caller.id, *g))
            .collect();
        (!managed.is_empty()).then_some(managed)
    }

    fn render_group(&self, g: &GroupRec) -> Value {
        // A stable 21-character id, as newer versions send.
        let entity_id: String = format!("{:0>21}", format!("grp{}", g.id));
        json!({"id": g.id, "name": g.name, "entity_id": entity_id, "magic_group_type": g.magic,
               "is_tenant_group": false})
    }

    /// Active members of a group, ordered by names, as member items.
    fn members(&self, group: u64) -> Vec<Value> {
        let mut people: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.active && p.groups.contains(&group))
            .collect();
        people.sort_by_key(|p| {
            (
                p.first_name.clone().unwrap_or_default().to_lowercase(),
                p.last_name.clone().unwrap_or_default().to_lowercase(),
                p.id,
            )
        });
        people
            .iter()
            .map(|p| {
                let meta = self.memberships.get(&(p.id, group));
                let mut m = json!({
                    "id": p.id, "user_id": p.id, "first_name": p.first_name, "last_name": p.last_name,
                    "common_name": p.common_name(), "email": p.email, "is_superuser": p.superuser(),
                    "type": if p.kind == Kind::ApiKey { "api-key" } else { "personal" },
                    "group_id": group, "membership_id": meta.map(|m| m.id),
                });
                if self.config.enterprise() {
                    m["is_group_manager"] = json!(meta.is_some_and(|m| m.manager));
                }
                m
            })
            .collect()
    }

    fn list_groups(&self, caller: Caller, req: &Request) -> Response {
        let mut p = Problems::default();
        let mut ints = Map::new();
        for name in ["limit", "offset"] {
            if let Some(v) = req.query(name) {
                ints.insert(
                    name.into(),
                    v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
                );
            }
        }
        let limit = p.positive_int(&ints, "limit", false, true);
        let offset = match ints.get("offset") {
            Some(v) if v.as_u64().is_none() => {
                p.add(
                    "offset",
                    "nullable value must be an integer zero or greater.".into(),
                    vec![format!(
                        "value must be an integer zero or greater., received: {}",
                        received(v)
                    )],
                );
                None
            }
            v => v.and_then(Value::as_u64),
        };
        if let Some(t) = req.query("tenancy")
            && !matches!(t, "internal" | "external")
        {
            p.add(
                "tenancy",
                "nullable enum of :internal, :external".into(),
                vec![format!(
                    "should be either :internal or :external, received: {t:?}"
                )],
            );
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(visible) = self.visible_groups(caller) else {
            return forbidden();
        };
        let mut groups: Vec<&GroupRec> = self
            .groups
            .iter()
            .filter(|g| visible.contains(&g.id))
            .filter(|_| req.query("tenancy") != Some("external"))
            .collect();
        groups.sort_by_key(|g| (g.name.to_lowercase(), g.id));
        let paged = limit.is_some() || offset.is_some();
        let (limit, offset) = (limit.unwrap_or(50) as usize, offset.unwrap_or(0) as usize);
        let out: Vec<Value> = groups
            .iter()
            .skip(if paged { offset } else { 0 })
            .take(if paged { limit } else { usize::MAX })
            .map(|g| {
                let mut v = self.render_group(g);
                let count = self
                    .people
                    .iter()
                    .filter(|p| p.active && p.groups.contains(&g.id))
                    .count();
                v["member_count"] = json!(count);
                v
            })
            .collect();
        Response::json(200, &out)
    }

    fn get_group(&self, caller: Caller, id: u64) -> Response {
        if !self.may_manage(caller, id) {
            return forbidden();
        }
        let Some(g) = self.group(id) else {
            return not_found();
        };
        let mut v = self.render_group(g);
        v["members"] = json!(self.members(id));
        Response::json(200, &v)
    }

    fn name_taken(&self, name: &str, except: Option<u64>) -> bool {
        self.groups
            .iter()
            .any(|g| Some(g.id) != except && g.name.to_lowercase() == name.to_lowercase())
    }

    fn create_group(&mut self, caller: Caller, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let name = p.non_blank(&body, "name", true, false);
        let tenant = p.boolean(&body, "is_tenant_group");
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(name) = name else {
            return invalid_request();
        };
        if !caller.superuser {
            return forbidden();
        }
        if tenant == Some(true) && !self.config.enterprise() {
            return Response::json(
                402,
                &json!({"message": "Tenants is a paid feature not currently available to your instance. Please upgrade to use it. Learn more at metabase.com/upgrade/", "status": "error-premium-feature-not-available"}),
            );
        }
        if self.name_taken(&name, None) {
            return text(400, "A group with that name already exists.");
        }
        let id = self.groups.iter().map(|g| g.id).max().unwrap_or(0) + 1;
        let group = GroupRec {
            id,
            name,
            magic: None,
        };
        let out = self.render_group(&group);
        self.groups.push(group);
        Response::json(200, &out)
    }

    /// 400 for a magic group: `PUT` and `DELETE` refuse them.
    fn magic_refusal(&self, id: u64) -> Option<Response> {
        let g = self.group(id)?;
        g.magic.map(|_| {
            text(
                400,
                &format!("You cannot edit or delete the '{}' permissions group!", g.name),
            )
        })
    }

    fn rename_group(&mut self, caller: Caller, id: u64, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let name = p.non_blank(&body, "name", true, false);
        if let Some(bad) = p.response() {
            return bad;
        }
        let Some(name) = name else {
            return invalid_request();
        };
        if !self.may_manage(caller, id) {
            return forbidden();
        }
        if self.group(id).is_none() {
            return not_found();
        }
        if let Some(refusal) = self.magic_refusal(id) {
            return refusal;
        }
        if self.name_taken(&name, Some(id)) {
            return text(400, "A group with that name already exists.");
        }
        let Some(g) = self.groups.iter_mut().find(|g| g.id == id) else {
            return not_found();
        };
        g.name = name;
        let g = g.clone();
        Response::json(200, &self.render_group(&g))
    }

    fn delete_group(&mut self, caller: Caller, id: u64) -> Response {
        if !self.may_manage(caller, id) {
            return forbidden();
        }
        if let Some(refusal) = self.magic_refusal(id) {
            return refusal;
        }
        // An unknown id deletes nothing and still answers 204.
        self.groups.retain(|g| g.id != id);
        for p in &mut self.people {
            p.groups.retain(|g| *g != id);
        }
        Response::empty(204)
    }

    fn list_memberships(&self, caller: Caller) -> Response {
        let Some(visible) = self.visible_groups(caller) else {
            return forbidden();
        };
        let mut out = Map::new();
        for ((user, group), meta) in &self.memberships {
            if !visible.contains(group) {
                continue;
            }
            let rows = out
                .entry(user.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(rows) = rows {
                rows.push(
                    json!({"membership_id": meta.id, "group_id": group, "user_id": user,
                                 "is_group_manager": meta.manager}),
                );
            }
        }
        Response::json(200, &Value::Object(out))
    }

    fn add_membership(&mut self, caller: Caller, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        let group = p.positive_int(&body, "group_id", true, false);
        let user = p.positive_int(&body, "user_id", true, false);
        let manager = p.boolean(&body, "is_group_manager").unwrap_or(false);
        if let Some(bad) = p.response() {
            return bad;
        }
        let (Some(group), Some(user)) = (group, user) else {
            return invalid_request();
        };
        if !self.may_manage(caller, group) {
            return forbidden();
        }
        if group == ALL_USERS {
            return text(400, ALL_USERS_REFUSAL);
        }
        if manager && !self.config.enterprise() {
            return text(402, NO_MANAGERS);
        }
        let Some(person) = self.person(user).filter(|_| self.group_exists(group)) else {
            return server_error("Error inserting Permissions Group Membership");
        };
        if manager && person.superuser() {
            return text(400, "Admin cannot be a group manager.");
        }
        if person.groups.contains(&group) {
            return server_error(
                "ERROR: duplicate key value violates unique constraint \"unique_permissions_group_membership_user_id_group_id\"",
            );
        }
        let groups: Vec<u64> = person.groups.iter().copied().chain([group]).collect();
        if let Some(p) = self.person_mut(user) {
            p.set_groups(groups);
        }
        self.sync_memberships();
        if let Some(meta) = self.memberships.get_mut(&(user, group)) {
            meta.manager = manager;
        }
        Response::json(200, &self.members(group))
    }

    fn membership(&self, id: u64) -> Option<((u64, u64), MembershipMeta)> {
        self.memberships
            .iter()
            .find(|(_, m)| m.id == id)
            .map(|(pair, m)| (*pair, *m))
    }

    fn set_group_manager(&mut self, caller: Caller, id: u64, req: &Request) -> Response {
        let Some(body) = body_map(req) else {
            return invalid_request();
        };
        let mut p = Problems::default();
        if !matches!(body.get("is_group_manager"), Some(Value::Bool(_))) {
            let got = body.get("is_group_manager").map_or_else(
                || MISSING.to_owned(),
                |v| format!("should be a boolean, received: {}", received(v)),
            );
            p.add("is_group_manager", "boolean".into(), vec![got]);
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        // Checked first, even for superusers and unknown ids.
        if !self.config.enterprise() {
            return text(402, NO_MANAGERS);
        }
        let manager = body.get("is_group_manager").and_then(Value::as_bool) == Some(true);
        let Some(((user, group), meta)) = self.membership(id) else {
            return not_found();
        };
        if !self.may_manage(caller, group) {
            return forbidden();
        }
        if manager && self.person(user).is_some_and(Person::superuser) {
            return text(400, "Admin cannot be a group manager.");
        }
        if let Some(m) = self.memberships.get_mut(&(user, group)) {
            m.manager = manager;
        }
        Response::json(
            200,
            &json!({"id": meta.id, "user_id": user, "group_id": group, "is_group_manager": manager}),
        )
    }

    /// Active users of any type, other than `except`, in Administrators.
    fn other_active_admins(&self, except: u64) -> usize {
        self.people
            .iter()
            .filter(|p| p.id != except && p.active && p.superuser())
            .count()
    }

    fn remove_membership(&mut self, caller: Caller, id: u64) -> Response {
        // Looked up before the permission check: an unknown id is 404 for anyone.
        let Some(((user, group), _)) = self.membership(id) else {
            return not_found();
        };
        if !self.may_manage(caller, group) {
            return forbidden();
        }
        if group == ALL_USERS {
            return text(400, ALL_USERS_REFUSAL);
        }
        if group == ADMINS && self.other_active_admins(user) == 0 {
            return text(400, "You cannot remove the last member of the 'Admin' group!");
        }
        if let Some(p) = self.person_mut(user) {
            p.groups.retain(|g| *g != group);
        }
        self.sync_memberships();
        Response::empty(204)
    }

    fn clear_group(&mut self, caller: Caller, id: u64) -> Response {
        if !self.may_manage(caller, id) {
            return forbidden();
        }
        if self.group(id).is_none() {
            return not_found();
        }
        if id == ADMINS {
            return invalid_request();
        }
        if id == ALL_USERS {
            return text(400, ALL_USERS_REFUSAL);
        }
        for p in &mut self.people {
            p.groups.retain(|g| *g != id);
        }
        self.sync_memberships();
        Response::empty(204)
    }
}
