//! Scrubbing: which values are credentials ([`Secrets`]), and the [`Scrubber`] that learns
//! them during a recording and replaces them, in every spelling, with stable placeholders.

use std::collections::BTreeMap;

use serde_json::Value;
use userapi::Method;

use super::{Body, Exchange};
use crate::util::{base64url, base64url_decode};

/// How every placeholder starts: `<redacted:1>`, `<redacted:2>`, … one per secret, the same
/// number wherever that secret appears in a cassette.
pub const PLACEHOLDER_PREFIX: &str = "<redacted:";

/// Secrets shorter than this (in bytes) are replaced, outside the places that always hold a
/// credential, only where no ASCII letter or digit touches them (as `userapi`'s own error
/// redaction does): a one-letter password is not replaced in every word that has the letter.
const SHORT_SECRET: usize = 8;

/// Request headers that always carry credentials; any header whose name contains `token`,
/// `secret`, `session`, `password`, `auth` or `key` counts too.
const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Headers left out of a cassette: they change on every call (dates, trace ids), or belong to
/// the connection rather than the exchange.
const VOLATILE_HEADERS: [&str; 24] = [
    "date",
    "server",
    "age",
    "expires",
    "last-modified",
    "etag",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    "accept-encoding",
    "x-request-id",
    "x-correlation-id",
    "x-trace-id",
    "x-amzn-trace-id",
    "x-amzn-requestid",
    "traceparent",
    "tracestate",
    "cf-ray",
    "via",
];

/// Where an upstream issues a credential in its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Issued {
    /// In this JSON field, at any depth.
    Field(String),
    /// As the whole body (text, or a JSON string).
    Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    method: Method,
    /// Segments, `*` for any one; matched against the end of the request's path.
    segments: Vec<String>,
}

impl Route {
    fn new(method: Method, path: &str) -> Self {
        Route {
            method,
            segments: split_path(path),
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_str() != method {
            return false;
        }
        let segments = split_path(path);
        segments.len() >= self.segments.len()
            && segments[segments.len() - self.segments.len()..]
                .iter()
                .zip(&self.segments)
                .all(|(s, r)| r == "*" || s == r)
    }
}

fn split_path(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a recording treats as a credential, beyond what every recording scrubs.
///
/// Every recording scrubs the values of credential headers (`Authorization`, `Cookie`,
/// `Set-Cookie`, `X-API-Key`, `X-Metabase-Session`, and any header whose name contains
/// `token`, `secret`, `session`, `password`, `auth` or `key`), and in JSON bodies, form bodies
/// and queries, the string values of fields whose names say secret: `password` or `secret`
/// anywhere in the name, names ending in `token` (`token`, `access_token`, `ddauth_token`),
/// `api_key`, `apikey`, `unmasked_key`, `session_id`. [`Secrets::known`] adds what each
/// service of this build issues (each service module's `recorded_secrets`), and a
/// [`Recorder`](super::Recorder) starts from it.
///
/// Each value found is learned: it is then replaced wherever it appears in the recording,
/// in headers and bodies, in every spelling `userapi` redacts ([`userapi::auth::spellings`])
/// and inside JSON strings whatever their escapes.
///
/// ```
/// use userapi::Method;
/// use userapi_fake::Secrets;
///
/// let secrets = Secrets::known()
///     .field("ssn") // a JSON, form or query field of your API that holds a secret
///     .issued_field(Method::POST, "/auth/login", "jwt") // a credential your server issues
///     .header("x-tenant-key")
///     .literal("corp.example.com"); // anonymised wherever it appears
/// # let _ = secrets;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Secrets {
    fields: Vec<String>,
    headers: Vec<String>,
    issued: Vec<(Route, Issued)>,
    literals: Vec<String>,
}

impl Secrets {
    /// Only what every recording scrubs (see above).
    pub fn new() -> Self {
        Secrets::default()
    }

    /// What every recording scrubs, and the credentials every service of this build issues.
    pub fn known() -> Self {
        let secrets = Secrets::new();
        #[cfg(feature = "diadoc")]
        let secrets = secrets.merge(crate::diadoc::recorded_secrets());
        #[cfg(feature = "metabase")]
        let secrets = secrets.merge(crate::metabase::recorded_secrets());
        #[cfg(feature = "novaconnect")]
        let secrets = secrets.merge(crate::novaconnect::recorded_secrets());
        #[cfg(feature = "rightech")]
        let secrets = secrets.merge(crate::rightech::recorded_secrets());
        #[cfg(feature = "rounds")]
        let secrets = secrets.merge(crate::rounds::recorded_secrets());
        secrets
    }

    /// A field (of a JSON body at any depth, of a form body, of the query) whose string value
    /// is a secret, by name (compared without regard to case, `-` and `_` alike).
    pub fn field(mut self, name: &str) -> Self {
        self.fields.push(normalize(name));
        self
    }

    /// A header whose value carries credentials (compared without regard to case).
    pub fn header(mut self, name: &str) -> Self {
        self.headers.push(name.to_ascii_lowercase());
        self
    }

    /// The answer to `method path` issues a credential in the JSON field `field` (at any
    /// depth). `path` is matched against the end of the request's path under the upstream,
    /// segment by segment, `*` standing for any one segment (`/api/user/*/password`).
    pub fn issued_field(mut self, method: Method, path: &str, field: &str) -> Self {
        self.issued
            .push((Route::new(method, path), Issued::Field(field.to_owned())));
        self
    }

    /// The answer to `method path` is a credential as a whole: its text body, or a JSON
    /// string.
    pub fn issued_body(mut self, method: Method, path: &str) -> Self {
        self.issued.push((Route::new(method, path), Issued::Body));
        self
    }

    /// A text replaced wherever it appears, as a secret is (an email domain, a company
    /// name): anonymised, not only scrubbed.
    pub fn literal(mut self, text: &str) -> Self {
        self.literals.push(text.to_owned());
        self
    }

    /// Both sets.
    pub fn merge(mut self, other: Secrets) -> Self {
        self.fields.extend(other.fields);
        self.headers.extend(other.headers);
        self.issued.extend(other.issued);
        self.literals.extend(other.literals);
        self
    }

    fn is_secret_field(&self, name: &str) -> bool {
        let n = normalize(name);
        let generic = n.contains("password") && !n.ends_with("_at") && !n.starts_with("has_")
            || n.contains("secret")
            || n.ends_with("token")
            || ["api_key", "apikey", "unmasked_key", "session_id", "sessionid"].contains(&n.as_str());
        generic || self.fields.contains(&n)
    }

    fn is_credential_header(&self, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        CREDENTIAL_HEADERS.contains(&n.as_str())
            || ["token", "secret", "session", "password", "auth", "key"]
                .iter()
                .any(|w| n.contains(w))
            || self.headers.contains(&n)
    }
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// Whether a header is left out of a cassette.
pub(crate) fn is_volatile(name: &str) -> bool {
    VOLATILE_HEADERS.contains(&name) || name.starts_with("proxy-")
}

/// One spelling of one secret.
#[derive(Debug)]
struct Needle {
    bytes: Vec<u8>,
    alone: bool,
    placeholder: String,
}

/// The secrets learned during one recording, each with its placeholder.
#[derive(Debug)]
pub(crate) struct Scrubber {
    secrets: Secrets,
    /// secret -> its number.
    known: BTreeMap<String, usize>,
    /// Longest first.
    needles: Vec<Needle>,
}

/// What the recorder saw of one exchange, before scrubbing.
pub(crate) struct Raw<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) request_headers: &'a [(String, String)],
    pub(crate) request_body: &'a [u8],
    pub(crate) status: u16,
    pub(crate) response_headers: &'a [(String, String)],
    pub(crate) response_body: &'a [u8],
}

impl Scrubber {
    pub(crate) fn new(secrets: Secrets) -> Self {
        let mut scrubber = Scrubber {
            secrets,
            known: BTreeMap::new(),
            needles: Vec::new(),
        };
        for literal in scrubber.secrets.literals.clone() {
            scrubber.learn(&literal);
        }
        scrubber
    }

    /// How many secrets it knows.
    pub(crate) fn len(&self) -> usize {
        self.known.len()
    }

    /// Remembers `secret` (its placeholder is the next number unless it is known).
    pub(crate) fn learn(&mut self, secret: &str) {
        let secret = secret.trim();
        // A placeholder (a recording of a replay) is no secret; nor is the empty string.
        if secret.is_empty() || is_placeholder_text(secret) || self.known.contains_key(secret) {
            return;
        }
        let n = self.known.len() + 1;
        self.known.insert(secret.to_owned(), n);
        let placeholder = format!("{PLACEHOLDER_PREFIX}{n}>");
        let alone = secret.len() < SHORT_SECRET;
        for bytes in userapi::auth::spellings(secret) {
            self.needles.push(Needle {
                bytes,
                alone,
                placeholder: placeholder.clone(),
            });
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.bytes.len()));
    }

    /// Learns the credentials one exchange carries: in credential headers, secret fields of
    /// the request (query, JSON or form body), and what the answer issues.
    pub(crate) fn learn_from(&mut self, raw: &Raw<'_>) {
        for (name, value) in raw.request_headers.iter().chain(raw.response_headers) {
            if self.secrets.is_credential_header(name) {
                for secret in header_secrets(name, value) {
                    self.learn(&secret);
                }
            }
        }
        for (key, value) in url::form_urlencoded::parse(raw.query.as_bytes()) {
            if self.secrets.is_secret_field(&key) {
                self.learn(&value);
            }
        }
        for body in [raw.request_body, raw.response_body] {
            if let Ok(value) = serde_json::from_slice::<Value>(body) {
                let mut found = Vec::new();
                self.secret_fields(&value, &mut found);
                found.iter().for_each(|s| self.learn(s));
            } else if let Ok(text) = std::str::from_utf8(body)
                && text.contains('=')
                && !text.contains(char::is_whitespace)
            {
                for (key, value) in url::form_urlencoded::parse(text.as_bytes()) {
                    if self.secrets.is_secret_field(&key) {
                        self.learn(&value);
                    }
                }
            }
        }
        if !(200..300).contains(&raw.status) {
            return;
        }
        let issued: Vec<Issued> = self
            .secrets
            .issued
            .iter()
            .filter(|(route, _)| route.matches(raw.method, raw.path))
            .map(|(_, issued)| issued.clone())
            .collect();
        let json = serde_json::from_slice::<Value>(raw.response_body).ok();
        for issued in issued {
            match (issued, &json) {
                (Issued::Field(field), Some(value)) => {
                    let mut found = Vec::new();
                    find_field(value, &field, &mut found);
                    found.iter().for_each(|s| self.learn(s));
                }
                (Issued::Body, Some(Value::String(s))) => self.learn(&s.clone()),
                (Issued::Body, _) => {
                    if let Ok(text) = std::str::from_utf8(raw.response_body) {
                        self.learn(text);
                    }
                }
                (Issued::Field(_), None) => {}
            }
        }
    }

    fn secret_fields(&self, value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match v {
                        Value::String(s) if self.secrets.is_secret_field(key) => found.push(s.clone()),
                        _ => self.secret_fields(v, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.secret_fields(v, found)),
            _ => {}
        }
    }

    /// The text with every known secret replaced by its placeholder.
    pub(crate) fn text(&self, input: &str) -> String {
        match self.replace(input.as_bytes()) {
            Some(out) => String::from_utf8_lossy(&out).into_owned(),
            None => input.to_owned(),
        }
    }

    /// `None` when nothing is replaced.
    fn replace(&self, haystack: &[u8]) -> Option<Vec<u8>> {
        if self.needles.is_empty() {
            return None;
        }
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut i = 0;
        while i < haystack.len() {
            let found = self.needles.iter().find(|n| {
                haystack[i..].starts_with(&n.bytes) && (!n.alone || alone_at(haystack, i, n.bytes.len()))
            });
            match found {
                Some(n) => {
                    let buf = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
                    buf.extend_from_slice(&haystack[copied..i]);
                    buf.extend_from_slice(n.placeholder.as_bytes());
                    i += n.bytes.len();
                    copied = i;
                }
                None => i += 1,
            }
        }
        let mut out = out?;
        out.extend_from_slice(&haystack[copied..]);
        Some(out)
    }

    /// Every string (and object key) of a JSON value, scrubbed.
    pub(crate) fn value(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(out) = self.replace(s.as_bytes()) {
                    *s = String::from_utf8_lossy(&out).into_owned();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => {
                let old = std::mem::take(map);
                for (key, mut v) in old {
                    self.value(&mut v);
                    map.insert(self.text(&key), v);
                }
            }
            _ => {}
        }
    }

    fn body(&self, body: &mut Option<Body>) {
        match body {
            Some(Body::Json(value)) => self.value(value),
            Some(Body::Text(text)) => *text = self.text(text),
            Some(Body::Base64url(encoded)) => {
                if let Some(bytes) = base64url_decode(encoded)
                    && let Some(out) = self.replace(&bytes)
                {
                    *encoded = base64url(&out);
                }
            }
            None => {}
        }
    }

    fn headers(&self, headers: &mut BTreeMap<String, Vec<String>>) {
        let old = std::mem::take(headers);
        for (name, values) in old {
            let values = values.iter().map(|v| self.text(v)).collect();
            headers.insert(self.text(&name), values);
        }
    }

    /// Every known secret in the exchange replaced, wherever it is.
    pub(crate) fn exchange(&self, exchange: &mut Exchange) {
        let r = &mut exchange.request;
        r.path = self.text(&r.path);
        r.query = self.text(&r.query);
        self.headers(&mut r.headers);
        self.body(&mut r.body);
        self.headers(&mut exchange.response.headers);
        self.body(&mut exchange.response.body);
    }
}

/// Whether `text` is made only of placeholders.
fn is_placeholder_text(text: &str) -> bool {
    let mut rest = text;
    while let Some(after) = rest.strip_prefix(PLACEHOLDER_PREFIX) {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[digits..].strip_prefix('>') {
            Some(next) if digits > 0 => rest = next,
            _ => return false,
        }
    }
    rest.is_empty() && text.len() > PLACEHOLDER_PREFIX.len()
}

/// The secret parts of a credential header's value: `Scheme value` gives `value`, and a
/// scheme's parameters (`DiadocAuth a=1, b=2`) give each value; `Basic` gives the encoded
/// pair and the password in it; a cookie gives each cookie's value; a bare value is a secret
/// as a whole.
fn header_secrets(name: &str, value: &str) -> Vec<String> {
    let name = name.to_ascii_lowercase();
    let value = value.trim();
    let mut out = Vec::new();
    if name == "cookie" || name == "set-cookie" {
        let pairs: Vec<&str> = if name == "cookie" {
            value.split(';').collect()
        } else {
            value.split(';').take(1).collect()
        };
        for pair in pairs {
            if let Some((_, v)) = pair.split_once('=') {
                out.push(v.trim().trim_matches('"').to_owned());
            }
        }
        return out;
    }
    let (scheme, rest) = match value.split_once(' ') {
        Some((scheme, rest)) if !scheme.contains('=') => (Some(scheme), rest.trim()),
        _ => (None, value),
    };
    if scheme.is_some_and(|s| s.eq_ignore_ascii_case("basic")) {
        out.push(rest.to_owned());
        if let Some(pair) = base64_standard_decode(rest)
            && let Ok(pair) = String::from_utf8(pair)
            && let Some((_, password)) = pair.split_once(':')
        {
            out.push(password.to_owned());
        }
        return out;
    }
    let params: Vec<(&str, &str)> = rest
        .split(',')
        .filter_map(|p| p.trim().split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .collect();
    if scheme.is_some() && !params.is_empty() && params.len() == rest.split(',').count() {
        out.extend(params.iter().map(|(_, v)| v.trim().trim_matches('"').to_owned()));
    } else {
        out.push(rest.to_owned());
    }
    out
}

/// Standard base64 with padding (for `Basic`), `None` when it is not.
fn base64_standard_decode(text: &str) -> Option<Vec<u8>> {
    if text.contains(['-', '_']) {
        return None;
    }
    base64url_decode(&text.replace('+', "-").replace('/', "_"))
}

/// The string values of `field` at any depth of `value`.
fn find_field(value: &Value, field: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(s) if key == field => found.push(s.clone()),
                    Value::Number(n) if key == field => found.push(n.to_string()),
                    _ => find_field(v, field, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| find_field(v, field, found)),
        _ => {}
    }
}

/// Whether no ASCII letter or digit touches `haystack[i..i + len]` on either side.
fn alone_at(haystack: &[u8], i: usize, len: usize) -> bool {
    let word = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    !word(i.checked_sub(1).and_then(|j| haystack.get(j))) && !word(haystack.get(i + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_give_their_secret_parts() {
        assert_eq!(header_secrets("authorization", "Bearer abc.def"), ["abc.def"]);
        assert_eq!(
            header_secrets(
                "authorization",
                "DiadocAuth ddauth_api_client_id=cid-1,ddauth_token=tok+/="
            ),
            ["cid-1", "tok+/="]
        );
        assert_eq!(
            header_secrets(
                "authorization",
                "DiadocAuth ddauth_api_client_id=cid-1, ddauth_token=t2"
            ),
            ["cid-1", "t2"]
        );
        assert_eq!(header_secrets("x-metabase-session", "5f0c-11"), ["5f0c-11"]);
        assert_eq!(
            header_secrets("cookie", "metabase.SESSION=s1; other=v2"),
            ["s1", "v2"]
        );
        assert_eq!(
            header_secrets("set-cookie", "metabase.SESSION=s3;SameSite=Lax;Path=/"),
            ["s3"]
        );
        // "user:pa ss" in standard base64
        assert_eq!(
            header_secrets("authorization", "Basic dXNlcjpwYSBzcw=="),
            ["dXNlcjpwYSBzcw==", "pa ss"]
        );
    }

    #[test]
    fn placeholders_are_stable_and_short_secrets_stand_alone() {
        let mut s = Scrubber::new(Secrets::new());
        s.learn("long-secret-1");
        s.learn("e");
        s.learn("long-secret-1");
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.text("a long-secret-1 b long%2Dsecret-1 expected e"),
            "a <redacted:1> b long%2Dsecret-1 expected <redacted:2>"
        );
        s.learn("<redacted:1>");
        assert_eq!(s.len(), 2);
        let mut v = serde_json::json!({"k": ["x long-secret-1 y"], "long-secret-1": 1});
        s.value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"k": ["x <redacted:1> y"], "<redacted:1>": 1})
        );
    }

    #[test]
    fn routes_match_the_end_of_the_path() {
        let r = Route::new(Method::PUT, "/api/user/*/password");
        assert!(r.matches("PUT", "/api/user/12/password"));
        assert!(r.matches("PUT", "/mb/api/user/12/password/"));
        assert!(!r.matches("POST", "/api/user/12/password"));
        assert!(!r.matches("PUT", "/user/12/password"));
    }

    #[test]
    fn secret_field_names() {
        let s = Secrets::new().field("SSN");
        for name in [
            "password",
            "old_password",
            "newPassword",
            "client_secret",
            "access_token",
            "token",
            "ddauth-token",
            "ssn",
            "unmasked_key",
        ] {
            assert!(s.is_secret_field(name), "{name}");
        }
        for name in [
            "token_type",
            "password_changed_at",
            "has_password",
            "email",
            "id",
            "masked_key",
        ] {
            assert!(!s.is_secret_field(name), "{name}");
        }
    }
}
