//! How a request finds its recorded exchange: [`MatchOn`], and the differences a 404 names.

use std::fmt;

use serde_json::Value;

use super::scrub::PLACEHOLDER_PREFIX;
use super::{Body, RecordedRequest};
use crate::server::percent_decode;
use crate::service::Request;

/// What a request must share with a recorded one to be answered by it, as vcrpy's
/// `match_on`: by default the method, the path, the query and the body
/// ([`MatchOn::DEFAULT`]). Credentials are never compared (they were scrubbed), nor other
/// headers.
///
/// - **method**: the same method;
/// - **path**: the same segments, percent-decoded;
/// - **query**: the same decoded pairs, in any order;
/// - **body**: JSON compared as values (key order and spacing ignored), anything else byte
///   for byte; an empty body and none are the same.
///
/// A scrubbed value in a recorded request (`<redacted:3>`) matches any text in its place:
/// a login whose password was scrubbed matches a login with any password.
///
/// ```
/// use userapi_fake::MatchOn;
///
/// let without_body: MatchOn = "method,path,query".parse()?;
/// assert_eq!(without_body, MatchOn::DEFAULT.body(false));
/// assert!("method,colour".parse::<MatchOn>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct MatchOn {
    method: bool,
    path: bool,
    query: bool,
    body: bool,
}

impl MatchOn {
    /// Method, path, query and body.
    pub const DEFAULT: MatchOn = MatchOn {
        method: true,
        path: true,
        query: true,
        body: true,
    };

    /// Whether the method must match.
    pub fn method(mut self, on: bool) -> Self {
        self.method = on;
        self
    }

    /// Whether the path must match.
    pub fn path(mut self, on: bool) -> Self {
        self.path = on;
        self
    }

    /// Whether the query must match.
    pub fn query(mut self, on: bool) -> Self {
        self.query = on;
        self
    }

    /// Whether the body must match.
    pub fn body(mut self, on: bool) -> Self {
        self.body = on;
        self
    }
}

impl Default for MatchOn {
    fn default() -> Self {
        MatchOn::DEFAULT
    }
}

impl std::str::FromStr for MatchOn {
    type Err = String;

    /// A comma-separated list of `method`, `path`, `query`, `body` (what `--match` takes).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut on = MatchOn {
            method: false,
            path: false,
            query: false,
            body: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "method" => on.method = true,
                "path" => on.path = true,
                "query" => on.query = true,
                "body" => on.body = true,
                other => return Err(format!("{other:?} is not one of method, path, query, body")),
            }
        }
        Ok(on)
    }
}

impl fmt::Display for MatchOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = [
            (self.method, "method"),
            (self.path, "path"),
            (self.query, "query"),
            (self.body, "body"),
        ]
        .iter()
        .filter_map(|(on, name)| on.then_some(*name))
        .collect();
        f.write_str(&parts.join(","))
    }
}

/// How a request compares with one recorded request: the parts that differ.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Matched {
    /// What differs, one line each (`"method: GET, recorded POST"`); empty when it matches.
    pub differences: Vec<String>,
    score: u32,
}

impl Matched {
    /// Whether nothing compared differs.
    pub fn is_match(&self) -> bool {
        self.differences.is_empty()
    }

    /// Lower is closer.
    pub(crate) fn score(&self) -> u32 {
        self.score
    }
}

/// Compares `request` with `recorded` on what `on` names.
pub(crate) fn compare(on: MatchOn, request: &Request, recorded: &RecordedRequest) -> Matched {
    let mut differences = Vec::new();
    let mut score = 0;
    if on.method && request.method.as_str() != recorded.method {
        differences.push(format!(
            "method: {}, recorded {}",
            request.method, recorded.method
        ));
        score += 8;
    }
    if on.path {
        let got: Vec<String> = segments(&request.path);
        let want: Vec<String> = segments(&recorded.path);
        let same = got.len() == want.len()
            && got
                .iter()
                .zip(&want)
                .all(|(g, w)| glob_eq(w.as_bytes(), g.as_bytes()));
        if !same {
            differences.push(format!("path: {}, recorded {}", request.path, recorded.path));
            let differing = got
                .iter()
                .zip(&want)
                .filter(|(g, w)| !glob_eq(w.as_bytes(), g.as_bytes()))
                .count();
            score += 4
                * (1 + u32::try_from(differing + got.len().abs_diff(want.len()))
                    .unwrap_or(u32::MAX / 8)
                    .min(100));
        }
    }
    if on.query {
        let mut got = request.query.clone();
        let mut want: Vec<(String, String)> = url::form_urlencoded::parse(recorded.query.as_bytes())
            .into_owned()
            .collect();
        got.sort();
        want.sort();
        let same = got.len() == want.len()
            && got.iter().zip(&want).all(|(g, w)| {
                glob_eq(w.0.as_bytes(), g.0.as_bytes()) && glob_eq(w.1.as_bytes(), g.1.as_bytes())
            });
        if !same {
            let names = |pairs: &[(String, String)]| {
                let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            };
            differences.push(format!(
                "query: parameters {}, recorded {} (or their values differ)",
                names(&got),
                names(&want)
            ));
            score += 2;
        }
    }
    if on.body
        && let Some(problem) = body_difference(&request.body, recorded.body.as_ref())
    {
        differences.push(format!("body: {problem}"));
        score += 1;
    }
    Matched { differences, score }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}

/// `None` when the bodies match; otherwise where they differ (never the values: a body may
/// hold a secret of the test).
fn body_difference(got: &[u8], recorded: Option<&Body>) -> Option<String> {
    let Some(recorded) = recorded else {
        return (!got.is_empty()).then(|| format!("{} bytes, recorded none", got.len()));
    };
    if got.is_empty() {
        return Some("none, recorded one".to_owned());
    }
    match recorded {
        Body::Json(want) => match serde_json::from_slice::<Value>(got) {
            Ok(got) => json_difference(&got, want, &mut String::new()),
            Err(_) => Some("not JSON, recorded JSON".to_owned()),
        },
        Body::Text(text) => (!glob_eq(text.as_bytes(), got)).then(|| "the text differs".to_owned()),
        Body::Base64url(_) => {
            let want = recorded.to_bytes().unwrap_or_default();
            (!glob_eq(&want, got)).then(|| "the bytes differ".to_owned())
        }
    }
}

/// The JSON pointer of the first difference, if any.
fn json_difference(got: &Value, want: &Value, at: &mut String) -> Option<String> {
    let here = || if at.is_empty() { "/".to_owned() } else { at.clone() };
    match (got, want) {
        (Value::String(g), Value::String(w)) => {
            (!glob_eq(w.as_bytes(), g.as_bytes())).then(|| format!("differs at {}", here()))
        }
        (Value::Object(g), Value::Object(w)) => {
            for key in w.keys() {
                if !g.contains_key(key) {
                    return Some(format!("{}{} is missing", at, pointer_part(key)));
                }
            }
            for key in g.keys() {
                if !w.contains_key(key) {
                    return Some(format!("{}{} was not recorded", at, pointer_part(key)));
                }
            }
            for (key, wv) in w {
                let len = at.len();
                at.push_str(&pointer_part(key));
                let found = json_difference(&g[key], wv, at);
                at.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                return Some(format!("{} has {} items, recorded {}", here(), g.len(), w.len()));
            }
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                let found = json_difference(gv, wv, at);
                at.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (g, w) => (g != w).then(|| format!("differs at {}", here())),
    }
}

fn pointer_part(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Whether `text` matches `pattern`, where each placeholder (`<redacted:N>`) in the pattern
/// stands for any bytes.
pub(crate) fn glob_eq(pattern: &[u8], text: &[u8]) -> bool {
    let parts = split_placeholders(pattern);
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut at = first.len();
    let end = text.len() - last.len();
    for part in &parts[1..parts.len() - 1] {
        match find(&text[at..end], part) {
            Some(i) => at += i + part.len(),
            None => return false,
        }
    }
    true
}

/// The literal parts between placeholders.
fn split_placeholders(pattern: &[u8]) -> Vec<&[u8]> {
    let prefix = PLACEHOLDER_PREFIX.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < pattern.len() {
        if pattern[i..].starts_with(prefix) {
            let digits = pattern[i + prefix.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let close = i + prefix.len() + digits;
            if digits > 0 && pattern.get(close) == Some(&b'>') {
                parts.push(&pattern[start..i]);
                i = close + 1;
                start = i;
                continue;
            }
        }
        i += 1;
    }
    parts.push(&pattern[start..]);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_match_any_text() {
        assert!(glob_eq(b"<redacted:1>", b"anything"));
        assert!(glob_eq(b"<redacted:1>", b""));
        assert!(glob_eq(b"a<redacted:1>b<redacted:22>c", b"aXXbYYc"));
        assert!(!glob_eq(b"a<redacted:1>b<redacted:22>c", b"aXXcYYb"));
        assert!(glob_eq(b"plain", b"plain"));
        assert!(!glob_eq(b"<redacted:>", b"x"));
        assert!(!glob_eq(b"ab<redacted:1>ba", b"aba"));
    }

    #[test]
    fn json_differences_are_named_by_pointer() {
        let want = serde_json::json!({"a": {"b": [1, "<redacted:1>"]}, "c": true});
        let same = serde_json::json!({"c": true, "a": {"b": [1, "pw"]}});
        assert_eq!(json_difference(&same, &want, &mut String::new()), None);
        let other = serde_json::json!({"c": false, "a": {"b": [1, "pw"]}});
        assert_eq!(
            json_difference(&other, &want, &mut String::new()).unwrap(),
            "differs at /c"
        );
        let missing = serde_json::json!({"a": {"b": [1, "pw"]}});
        assert_eq!(
            json_difference(&missing, &want, &mut String::new()).unwrap(),
            "/c is missing"
        );
    }

    #[test]
    fn match_on_reads_and_prints() {
        let on: MatchOn = "method, path".parse().unwrap();
        assert_eq!(on.to_string(), "method,path");
        assert_eq!(MatchOn::DEFAULT.to_string(), "method,path,query,body");
    }
}
