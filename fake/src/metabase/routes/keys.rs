//! `/api/api-key`.

#![allow(unused_imports)]

use crate::metabase::*;

impl Instance {
    // -- /api/api-key -------------------------------------------------------------------------

    /// Creates a key and its user; `key` is the seeded key, or `None` for a new one.
    pub(crate) fn create_key(
        &mut self,
        name: &str,
        group: u64,
        by: u64,
        key: Option<String>,
    ) -> std::result::Result<u64, ()> {
        let key = key.unwrap_or_else(|| self.new_key());
        if self.keys.iter().any(|k| k.key[..7] == key[..7]) {
            return Err(());
        }
        let email = format!("api-key-user-{}@api-key.invalid", self.uuid());
        let password = self.uuid();
        let user = self.add_person(
            Kind::ApiKey,
            email,
            Some(name.to_owned()),
            Some(String::new()),
            password,
            vec![ALL_USERS, group],
        );
        if let Some(p) = self.person_mut(user) {
            p.qbnewb = false;
        }
        let id = self.next_key_id;
        self.next_key_id += 1;
        let now = now_iso();
        self.keys.push(KeyRecord {
            id,
            name: name.to_owned(),
            user,
            key,
            created_at: now.clone(),
            updated_at: now,
            updated_by: by,
        });
        Ok(id)
    }

    pub(crate) fn present_key(&self, k: &KeyRecord) -> Value {
        let group = self
            .person(k.user)
            .and_then(|p| p.groups.iter().copied().find(|g| *g != ALL_USERS))
            .unwrap_or(ALL_USERS);
        let by = self.person(k.updated_by).map(Person::common_name);
        let masked = format!("{:*<47}", &k.key[..7]);
        json!({
            "id": k.id, "name": k.name, "group": {"id": group, "name": self.group_name(group)},
            "masked_key": masked, "created_at": k.created_at, "updated_at": k.updated_at,
            "updated_by": {"id": k.updated_by, "common_name": by},
        })
    }

    pub(crate) fn key_route(&mut self, caller: Caller, req: &Request, rest: &[&str]) -> Response {
        let known = matches!(
            (&req.method, rest),
            (&Method::GET, [] | ["count"])
                | (&Method::POST, [])
                | (&Method::PUT, [_] | [_, "regenerate"])
                | (&Method::DELETE, [_])
        );
        if !known {
            return no_endpoint();
        }
        let id = match rest.first().filter(|s| **s != "count") {
            Some(raw) => match parse_id(raw) {
                Some(id) => Some(id),
                None => return bad_id(raw),
            },
            None => None,
        };
        let body = if req.method == Method::POST || (req.method == Method::PUT && rest.len() == 1) {
            let Some(body) = body_map(req) else {
                return invalid_request();
            };
            let mut p = Problems::default();
            if req.method == Method::POST {
                p.non_blank(&body, "name", true, false);
                p.positive_int(&body, "group_id", true, false);
            } else {
                match body.get("name") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(n)) if (1..=254).contains(&n.chars().count()) => {}
                    Some(v) => p.add(
                        "name",
                        "nullable string with length between 1 and 254 inclusive".into(),
                        vec![format!(
                            "should be between 1 and 254 characters, received: {}",
                            received(v)
                        )],
                    ),
                }
                p.positive_int(&body, "group_id", false, true);
            }
            if let Some(bad) = p.response() {
                return bad;
            }
            body
        } else {
            Map::new()
        };
        if !caller.superuser {
            return forbidden();
        }
        let name = body.get("name").and_then(Value::as_str).map(str::to_owned);
        let group = body.get("group_id").and_then(Value::as_u64);
        match (&req.method, id) {
            (&Method::GET, None) if rest.is_empty() => {
                let keys: Vec<Value> = self.keys.iter().map(|k| self.present_key(k)).collect();
                Response::json(200, &keys)
            }
            (&Method::GET, None) => Response::json(200, &json!(self.keys.len())),
            (&Method::POST, None) => {
                let (Some(name), Some(group)) = (name, group) else {
                    return invalid_request();
                };
                if self.keys.iter().any(|k| k.name == name) {
                    return field_error("name", "An API key with this name already exists.");
                }
                if !self.group_exists(group) {
                    return server_error(&format!("no permissions group with id {group}"));
                }
                let Ok(id) = self.create_key(&name, group, caller.id, None) else {
                    return server_error("could not generate key with unique prefix");
                };
                let record = self.keys.iter().find(|k| k.id == id).expect("just added");
                let mut out = self.present_key(record);
                out["unmasked_key"] = json!(record.key);
                Response::json(200, &out)
            }
            (&Method::PUT, Some(id)) if rest.len() == 1 => {
                let Some(at) = self.keys.iter().position(|k| k.id == id) else {
                    return not_found();
                };
                if let Some(g) = group
                    && !self.group_exists(g)
                {
                    return server_error(&format!("no permissions group with id {g}"));
                }
                let user = self.keys[at].user;
                if let Some(name) = &name {
                    self.keys[at].name = name.clone();
                }
                if let Some(p) = self.person_mut(user) {
                    if let Some(name) = &name {
                        p.first_name = Some(name.clone());
                        p.last_name = Some(String::new());
                    }
                    if let Some(g) = group {
                        p.set_groups([ALL_USERS, g]);
                    }
                }
                if group.is_some() {
                    self.keys[at].updated_at = now_iso();
                }
                Response::json(200, &self.present_key(&self.keys[at]))
            }
            (&Method::PUT, Some(id)) => {
                let Some(at) = self.keys.iter().position(|k| k.id == id) else {
                    return not_found();
                };
                let key = loop {
                    let key = self.new_key();
                    if !self.keys.iter().any(|k| k.key[..7] == key[..7]) {
                        break key;
                    }
                };
                let record = &mut self.keys[at];
                record.key = key;
                record.updated_by = caller.id;
                record.updated_at = now_iso();
                let masked = format!("{:*<47}", &record.key[..7]);
                Response::json(
                    200,
                    &json!({"id": record.id, "unmasked_key": record.key, "masked_key": masked, "prefix": &record.key[..7]}),
                )
            }
            (&Method::DELETE, Some(id)) => {
                let Some(at) = self.keys.iter().position(|k| k.id == id) else {
                    return not_found();
                };
                let record = self.keys.remove(at);
                if let Some(p) = self.person_mut(record.user) {
                    p.active = false;
                }
                Response::empty(204)
            }
            _ => no_endpoint(),
        }
    }
}
