//! `/api/user-key-value`.

#![allow(unused_imports)]

use crate::metabase::*;

impl Instance {
    // -- /api/user-key-value ------------------------------------------------------------------

    pub(crate) fn value_route(&mut self, caller: Caller, req: &Request, rest: &[&str]) -> Response {
        let (namespace, key) = match rest {
            ["namespace", ns, "key", key] => (*ns, Some(*key)),
            ["namespace", ns] if req.method == Method::GET => (*ns, None),
            _ => return no_endpoint(),
        };
        if !matches!(
            (&req.method, key),
            (&Method::GET, _) | (&Method::PUT | &Method::DELETE, Some(_))
        ) {
            return no_endpoint();
        }
        let mut params = Map::new();
        params.insert("namespace".into(), json!(namespace));
        if let Some(k) = key {
            params.insert("key".into(), json!(k));
        }
        let mut p = Problems::default();
        p.non_blank(&params, "namespace", true, false);
        if key.is_some() {
            p.non_blank(&params, "key", true, false);
        }
        if let Some(bad) = p.response() {
            return bad;
        }
        let now = epoch_now().as_secs() as i64;
        let live = |s: &Stored| s.expires.is_none_or(|at| at > now);
        let slot = |k: &str| (caller.id, namespace.to_owned(), k.to_owned());
        match (&req.method, key) {
            (&Method::PUT, Some(key)) => {
                let Some(body) = body_map(req) else {
                    return invalid_request();
                };
                let expires = match body.get("expires_at") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => match parse_expiry(s) {
                        Expiry::At(at) => Some(at),
                        Expiry::NoOffset => return invalid_request(),
                        Expiry::Malformed => {
                            let mut p = Problems::default();
                            p.add(
                                "expires_at",
                                "nullable date-time string".into(),
                                vec![format!("should be a date-time string, received: {s:?}")],
                            );
                            return p.response().expect("one problem");
                        }
                    },
                    Some(v) => {
                        let mut p = Problems::default();
                        p.add(
                            "expires_at",
                            "nullable date-time string".into(),
                            vec![format!("should be a string, received: {}", received(v))],
                        );
                        return p.response().expect("one problem");
                    }
                };
                let value = body.get("value").cloned().unwrap_or(Value::Null);
                if namespace_accepts(namespace, &value) != Some(true) {
                    return invalid_request();
                }
                let encoded = value.to_string();
                self.values.insert(slot(key), Stored { value, expires });
                text(200, &encoded)
            }
            (&Method::GET, Some(key)) => match self.values.get(&slot(key)).filter(|s| live(s)) {
                Some(Stored {
                    value: Value::String(s),
                    ..
                }) => text(200, s),
                Some(Stored { value, .. }) if !value.is_null() => Response::json(200, value),
                _ => Response::empty(204),
            },
            (&Method::GET, None) => {
                let all: Map<String, Value> = self
                    .values
                    .iter()
                    .filter(|((user, ns, _), s)| *user == caller.id && ns == namespace && live(s))
                    .map(|((_, _, k), s)| (k.clone(), s.value.clone()))
                    .collect();
                if all.is_empty() {
                    Response::empty(204)
                } else {
                    Response::json(200, &all)
                }
            }
            (&Method::DELETE, Some(key)) => {
                let deleted = u64::from(self.values.remove(&slot(key)).is_some());
                Response::json(200, &json!(deleted))
            }
            _ => no_endpoint(),
        }
    }
}

/// Whether a namespace's schema takes `value`; `None` for a namespace with no schema.
fn namespace_accepts(namespace: &str, value: &Value) -> Option<bool> {
    let one_of = |options: &[&str]| value.as_str().is_some_and(|s| options.contains(&s));
    Some(match namespace {
        "calendar" => one_of(&["gregory", "persian"]),
        "transforms" => one_of(&["tree", "alphabetical", "last-modified"]),
        "data_studio" | "monitor" | "user_acknowledgement" => value.is_boolean(),
        "model-filter" => value.is_boolean() || value.is_null(),
        "indicator-menu" => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        "last_download_format" => value.as_object().is_some_and(|m| {
            let formats = |k: &str, allowed: &[&str]| {
                m.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|f| allowed.contains(&f))
            };
            m.len() == 2
                && formats("last_download_format", &["csv", "xlsx", "json", "png"])
                && formats("last_table_download_format", &["csv", "xlsx", "json"])
        }),
        "schema_viewer" => value.as_object().is_some_and(|m| {
            let tables = m.len() <= 1
                && m.get("table_ids")
                    .is_none_or(|t| t.as_array().is_some_and(|ids| ids.iter().all(Value::is_u64)));
            let database = m.get("databaseId").is_some_and(Value::is_u64)
                && m.get("schema").is_none_or(Value::is_string)
                && m.keys().all(|k| k == "databaseId" || k == "schema");
            tables && m.keys().all(|k| k == "table_ids") || database
        }),
        "content_diagnostics" | "dependency_diagnostics" | "dependency_list" => value.is_object(),
        _ => return None,
    })
}
