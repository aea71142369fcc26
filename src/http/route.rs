//! Building a call's URL from its route template and ids, each id one encoded segment.

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::*;
use crate::client::Client;
use crate::error::{Error, Result, Target};

impl Client {
    /// Starts a call to `route` under the base URL. `route` is the endpoint's template
    /// (`api/user/{id}/password`); each `{…}` placeholder takes the next of `ids`, which is
    /// percent-encoded byte by byte on its own, so an id such as `a/b`, `?x` or `m\te` stays
    /// one segment and means what it says. Empty, `.` and `..` ids, and ids over
    /// [`MAX_SEGMENT_BYTES`], are refused, since a server would read them as path steps.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn call(
        &self,
        service: &'static Service,
        operation: &'static str,
        method: Method,
        route: &'static str,
        ids: &[&str],
    ) -> Result<Call<'_>> {
        let base = &self.settings.base;
        let mut path = String::with_capacity(base.path().len() + route.len() + 16);
        path.push_str(base.path());
        let mut ids = ids.iter();
        for (i, literal) in route.split('/').enumerate() {
            if i > 0 {
                path.push('/');
            }
            if literal.starts_with('{') && literal.ends_with('}') {
                let Some(id) = ids.next() else {
                    return Err(Error::invalid_input(
                        operation,
                        "the route has more placeholders than ids",
                    ));
                };
                push_segment(operation, &mut path, id)?;
            } else if literal.contains(['{', '}']) {
                return Err(Error::invalid_input(
                    operation,
                    format!("the route segment {literal:?} is neither a word nor a placeholder"),
                ));
            } else {
                path.push_str(literal);
            }
        }
        if ids.next().is_some() {
            return Err(Error::invalid_input(
                operation,
                "more ids than the route has placeholders",
            ));
        }
        let mut route_path = String::with_capacity(base.path().len() + route.len());
        route_path.push_str(base.path());
        route_path.push_str(route);
        self.start(service, operation, method, path, route_path)
    }

    /// Starts a call to `segments` (each percent-encoded on its own) under the base URL.
    pub(crate) fn call_segments(
        &self,
        service: &'static Service,
        operation: &'static str,
        method: Method,
        segments: &[&str],
    ) -> Result<Call<'_>> {
        let base = &self.settings.base;
        let mut path = base.path().to_owned();
        let mut route = base.path().to_owned();
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                path.push('/');
                route.push('/');
            }
            push_segment(operation, &mut path, segment)?;
            route.push_str(if word_like(segment) { segment } else { "{id}" });
        }
        self.start(service, operation, method, path, route)
    }

    fn start(
        &self,
        service: &'static Service,
        operation: &'static str,
        method: Method,
        path: String,
        route: String,
    ) -> Result<Call<'_>> {
        let mut url = self.settings.base.clone();
        url.set_path(&path);
        // The URL parser may still read something into a path (dot segments); what is sent
        // must be exactly what was built, or nothing is sent.
        if url.path() != path {
            return Err(Error::invalid_input(
                operation,
                "an id would change the request path; refused",
            ));
        }
        let target = Arc::new(Target::new(method.clone(), path, route));
        Ok(Call(Box::new(CallParts {
            client: self,
            service,
            body_secrets: Vec::new(),
            auth_override: None,
            operation,
            method,
            url,
            target,
            headers: HeaderMap::new(),
            body: None,
            idempotent: false,
            secret_response: false,
        })))
    }
}

/// Appends `id`, percent-encoded, as one path segment.
pub(super) fn push_segment(operation: &'static str, path: &mut String, id: &str) -> Result<()> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(Error::invalid_input(
            operation,
            format!("{id:?} cannot be used as a path segment"),
        ));
    }
    if id.len() > MAX_SEGMENT_BYTES {
        return Err(Error::invalid_input(
            operation,
            format!(
                "an id of {} bytes is longer than the {MAX_SEGMENT_BYTES} bytes a path segment may have",
                id.len()
            ),
        ));
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in id.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(b));
        } else {
            path.push('%');
            path.push(char::from(HEX[usize::from(b >> 4)]));
            path.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    Ok(())
}

/// A segment that reads as a word of a route (`current`, `GetMyUser`, `v1`), not as an id.
pub(super) fn word_like(segment: &str) -> bool {
    let version =
        |s: &str| s.len() <= 3 && s.starts_with(['v', 'V']) && s[1..].bytes().all(|b| b.is_ascii_digit());
    version(segment)
        || (segment.len() <= 32
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'-' | b'_')))
}
