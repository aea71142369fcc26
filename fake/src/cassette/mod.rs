//! Record a real server once, replay it in tests: [`Recorder`], [`Replay`] and the
//! [`Cassette`] file between them, with every credential scrubbed before it reaches the disk.
//!
//! See the crate documentation ("Recording and replay") for the workflow and the format.

mod matching;
mod record;
mod replay;
mod scrub;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use userapi::reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use userapi::{Method, StatusCode};

use crate::error::Error;
use crate::util::{base64url, base64url_decode};

pub use matching::{MatchOn, Matched};
pub use record::{MAX_RECORDED_BODY, Recorder, RecorderBuilder};
pub use replay::{Replay, ReplayBuilder, ReplayReport, ReplayService};
pub use scrub::{PLACEHOLDER_PREFIX, Secrets};

/// The format name every cassette carries in its `format` field.
pub const FORMAT: &str = "userapi-fake cassette";

/// The format version this crate writes and the only one it reads.
pub const FORMAT_VERSION: u64 = 1;

/// A cassette: the exchanges recorded from an upstream, scrubbed, in the order their answers
/// arrived. Read with [`Cassette::load`] (or [`from_json`](Self::from_json)), served by
/// [`Replay`], written by [`Recorder`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Cassette {
    /// The upstream it was recorded from, without credentials or query (informational).
    pub upstream: Option<String>,
    /// The exchanges.
    pub entries: Vec<Exchange>,
}

/// One recorded exchange: a request and the answer it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Exchange {
    /// The request, as the client sent it (scrubbed).
    pub request: RecordedRequest,
    /// The answer, as the upstream sent it (scrubbed).
    pub response: RecordedResponse,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method (`"GET"`).
    pub method: String,
    /// The path under the upstream's base URL, as sent (percent-encoded), starting with `/`.
    pub path: String,
    /// The query as sent, without the `?`; empty when there was none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// The headers that describe the request (lower-case names, sorted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Vec<String>>,
    /// The body; `None` when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A recorded answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RecordedResponse {
    /// The status code.
    pub status: u16,
    /// The headers, without volatile ones (lower-case names, sorted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Vec<String>>,
    /// The body; `None` when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A recorded body: JSON as JSON, text as text, anything else as base64url.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum Body {
    /// A body whose `Content-Type` says JSON and that parses as JSON; replayed as compact
    /// JSON (the same value, not necessarily the same bytes).
    Json(Value),
    /// A UTF-8 body that is not JSON; replayed byte for byte.
    Text(String),
    /// Any other body, as unpadded base64url; replayed byte for byte.
    Base64url(String),
}

impl Body {
    /// `None` for an empty body.
    pub(crate) fn from_bytes(bytes: &[u8], content_type: Option<&str>) -> Option<Body> {
        if bytes.is_empty() {
            return None;
        }
        let json_type = content_type.is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            let essence = t.split(';').next().unwrap_or("").trim().to_owned();
            essence == "application/json" || essence.ends_with("+json")
        });
        if json_type && let Ok(value) = serde_json::from_slice::<Value>(bytes) {
            return Some(Body::Json(value));
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Some(Body::Text(text.to_owned())),
            Err(_) => Some(Body::Base64url(base64url(bytes))),
        }
    }

    /// The bytes to send (`None` when base64url does not decode).
    pub(crate) fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Body::Json(value) => serde_json::to_vec(value).ok(),
            Body::Text(text) => Some(text.as_bytes().to_vec()),
            Body::Base64url(encoded) => base64url_decode(encoded),
        }
    }
}

impl RecordedRequest {
    /// `METHOD /path?query`, for reports.
    pub fn describe(&self) -> String {
        describe(&self.method, &self.path, &self.query)
    }
}

pub(crate) fn describe(method: &str, path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path}?{query}")
    }
}

/// The file as written: the header fields, then the entries.
#[derive(Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream: Option<&'a str>,
    entries: &'a [Exchange],
}

impl Cassette {
    /// An empty cassette.
    pub fn new() -> Self {
        Cassette::default()
    }

    /// Reads the cassette at `path`.
    ///
    /// # Errors
    /// [`ErrorKind::Cassette`](crate::ErrorKind::Cassette) when the file cannot be read, or
    /// as [`from_json`](Self::from_json) (the message starts with the file's path).
    pub fn load(path: impl AsRef<Path>) -> Result<Cassette, Error> {
        let path = path.as_ref();
        let bytes = fs::read(path)
            .map_err(|e| Error::cassette(format!("cannot read the cassette {}", path.display()), Some(e)))?;
        Cassette::from_json(&bytes)
            .map_err(|e| Error::cassette(format!("the cassette {}: {e}", path.display()), None))
    }

    /// Reads a cassette from its JSON text.
    ///
    /// ```
    /// use userapi_fake::Cassette;
    ///
    /// let cassette = Cassette::from_json(br#"{
    ///   "format": "userapi-fake cassette",
    ///   "version": 1,
    ///   "entries": [
    ///     {"request": {"method": "GET", "path": "/health"},
    ///      "response": {"status": 200, "body": {"json": {"ok": true}}}}
    ///   ]
    /// }"#)?;
    /// assert_eq!(cassette.entries.len(), 1);
    ///
    /// let err = Cassette::from_json(br#"{"format": "userapi-fake cassette", "version": 1,
    ///   "entries": [{"request": {"method": "GET", "path": "/health"}, "response": {"status": "ok"}}]}"#)
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("entry 1: response.status"), "{err}");
    /// # Ok::<(), userapi_fake::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Cassette`](crate::ErrorKind::Cassette), naming the problem: text that is
    /// not JSON (cut short, with the entry it stops in), no `format` or `version` field, a
    /// version other than [`FORMAT_VERSION`], or an entry that is wrong (its number from 1,
    /// the field, and what is wrong: a missing field, an unknown one, a method, status,
    /// header or base64url body that is not one).
    pub fn from_json(bytes: &[u8]) -> Result<Cassette, Error> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            let at = offset_of(bytes, e.line(), e.column());
            let entry = entry_at(bytes, at).map_or(String::new(), |n| format!(" (in entry {n})"));
            let what = if e.is_eof() {
                "is cut short (truncated?)"
            } else {
                "is not valid JSON"
            };
            Error::cassette(
                format!(
                    "the text {what}{entry} at line {} column {}: {e}",
                    e.line(),
                    e.column()
                ),
                None,
            )
        })?;
        let Value::Object(mut top) = value else {
            return Err(Error::cassette(
                "not a cassette: the text is not a JSON object",
                None,
            ));
        };
        match top.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(Error::cassette(
                    format!("not a cassette: format {other:?}, expected {FORMAT:?}"),
                    None,
                ));
            }
            None => {
                return Err(Error::cassette(
                    format!("not a cassette: no \"format\": {FORMAT:?} field"),
                    None,
                ));
            }
        }
        match top.get("version") {
            Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(Error::cassette(
                    format!(
                        "format version {v} is not one this userapi-fake reads (it reads version {FORMAT_VERSION}); \
                         record the cassette again or use the userapi-fake that wrote it"
                    ),
                    None,
                ));
            }
            None => return Err(Error::cassette("no \"version\" field", None)),
        }
        for key in top.keys() {
            if !["format", "version", "upstream", "entries"].contains(&key.as_str()) {
                return Err(Error::cassette(
                    format!("unknown field {key:?} at the top level"),
                    None,
                ));
            }
        }
        let upstream = match top.remove("upstream") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(Error::cassette("\"upstream\" is not a string", None)),
        };
        let Some(Value::Array(raw)) = top.remove("entries") else {
            return Err(Error::cassette("no \"entries\" array", None));
        };
        let mut entries = Vec::with_capacity(raw.len());
        for (i, entry) in raw.into_iter().enumerate() {
            let n = i + 1;
            let exchange: Exchange = serde_path_to_error::deserialize(entry).map_err(|e| {
                let path = e.path().to_string();
                let at = if path == "." {
                    String::new()
                } else {
                    format!("{path}: ")
                };
                Error::cassette(format!("entry {n}: {at}{}", e.inner()), None)
            })?;
            exchange
                .check()
                .map_err(|problem| Error::cassette(format!("entry {n}: {problem}"), None))?;
            entries.push(exchange);
        }
        Ok(Cassette { upstream, entries })
    }

    /// The cassette as its JSON text: pretty-printed, keys in a fixed order, ending in a
    /// newline.
    pub fn to_json(&self) -> Vec<u8> {
        let file = FileOut {
            format: FORMAT,
            version: FORMAT_VERSION,
            upstream: self.upstream.as_deref(),
            entries: &self.entries,
        };
        // Serializing plain data with string keys cannot fail.
        let mut out = serde_json::to_vec_pretty(&file).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Writes the cassette to `path` atomically: to a temporary file beside it, flushed to
    /// the disk, then renamed into place, so `path` holds the previous cassette or this one,
    /// never part of one.
    ///
    /// # Errors
    /// [`ErrorKind::Cassette`](crate::ErrorKind::Cassette) when the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_atomically(path.as_ref(), &self.to_json())
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |what: &str, e: std::io::Error| {
        Error::cassette(format!("cannot {what} the cassette {}", path.display()), Some(e))
    };
    let tmp = temp_path(path);
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail("write", e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(fail("replace", e));
    }
    Ok(())
}

/// `dir/.name.tmp-<pid>`: beside `path` (a rename within one directory is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "cassette".to_owned(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

impl Exchange {
    /// What serde cannot check: a method, status, header names and values, a path, a body.
    fn check(&self) -> Result<(), String> {
        let r = &self.request;
        Method::from_bytes(r.method.as_bytes())
            .map_err(|_| format!("request.method: {:?} is not an HTTP method", r.method))?;
        if !r.path.starts_with('/') {
            return Err(format!("request.path: {:?} does not start with /", r.path));
        }
        StatusCode::from_u16(self.response.status).map_err(|_| {
            format!(
                "response.status: {} is not an HTTP status (100 to 999)",
                self.response.status
            )
        })?;
        for (side, headers) in [("request", &r.headers), ("response", &self.response.headers)] {
            header_map(headers).map_err(|problem| format!("{side}.headers: {problem}"))?;
        }
        for (side, body) in [("request", &r.body), ("response", &self.response.body)] {
            if let Some(Body::Base64url(encoded)) = body
                && base64url_decode(encoded).is_none()
            {
                return Err(format!("{side}.body.base64url: not unpadded base64url"));
            }
        }
        Ok(())
    }
}

/// The recorded headers as a [`HeaderMap`].
pub(crate) fn header_map(headers: &BTreeMap<String, Vec<String>>) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, values) in headers {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))?;
        for value in values {
            let v = HeaderValue::from_str(value)
                .map_err(|_| format!("{name}: the value {value:?} cannot go in a header"))?;
            map.append(header.clone(), v);
        }
    }
    Ok(map)
}

/// The byte offset of a 1-based (line, column) in `bytes`.
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut at = 0;
    for _ in 1..line {
        match bytes[at..].iter().position(|&b| b == b'\n') {
            Some(i) => at += i + 1,
            None => return bytes.len(),
        }
    }
    (at + column.saturating_sub(1)).min(bytes.len())
}

/// Which entry (from 1) the byte offset `at` falls in: the objects at depth 2 of the
/// cassette (the top object, then the `entries` array) are the entries.
fn entry_at(bytes: &[u8], at: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped, mut count) = (0usize, false, false, 0usize);
    let mut inside = false;
    for &b in &bytes[..at.min(bytes.len())] {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                if depth == 2 && b == b'{' {
                    count += 1;
                    inside = true;
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 2 {
                    inside = false;
                }
            }
            _ => {}
        }
    }
    (inside || depth > 2).then_some(count).filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(path: &str) -> Exchange {
        Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                path: path.into(),
                query: String::new(),
                headers: BTreeMap::new(),
                body: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: BTreeMap::from([("content-type".into(), vec!["application/json".into()])]),
                body: Some(Body::Json(serde_json::json!({"b": 1, "a": [1, 2]}))),
            },
        }
    }

    #[test]
    fn a_cassette_round_trips_with_a_stable_key_order() {
        let cassette = Cassette {
            upstream: Some("https://example.com/".into()),
            entries: vec![exchange("/a"), exchange("/b")],
        };
        let text = cassette.to_json();
        assert_eq!(Cassette::from_json(&text).unwrap(), cassette);
        let text = String::from_utf8(text).unwrap();
        let (format, entries) = (
            text.find("\"format\"").unwrap(),
            text.find("\"entries\"").unwrap(),
        );
        assert!(format < entries, "{text}");
        assert!(
            text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap(),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn a_truncated_cassette_names_the_entry_it_stops_in() {
        let cassette = Cassette {
            upstream: None,
            entries: vec![exchange("/a"), exchange("/b"), exchange("/c")],
        };
        let text = cassette.to_json();
        let cut = &text[..text.len() * 3 / 4];
        let err = Cassette::from_json(cut).unwrap_err().to_string();
        assert!(err.contains("cut short") && err.contains("in entry 3"), "{err}");
        for n in 0..text.trim_ascii_end().len() {
            assert!(Cassette::from_json(&text[..n]).is_err());
        }
    }

    #[test]
    fn hand_edits_are_named() {
        let good = String::from_utf8(
            Cassette {
                upstream: None,
                entries: vec![exchange("/a"), exchange("/b")],
            }
            .to_json(),
        )
        .unwrap();
        for (from, to, problem) in [
            ("\"version\": 1", "\"version\": 2", "format version 2"),
            ("\"version\": 1,", "", "no \"version\" field"),
            ("\"path\": \"/b\"", "\"path\": \"b\"", "entry 2: request.path"),
            (
                "\"path\": \"/b\"",
                "\"pth\": \"/b\"",
                "entry 2: request.pth: unknown field `pth`",
            ),
            ("\"status\": 200", "\"status\": 20", "entry 1: response.status"),
            (
                "\"method\": \"GET\"",
                "\"method\": \"G T\"",
                "entry 1: request.method",
            ),
            ("\"json\": {", "\"xml\": {", "entry 1: response.body"),
            (
                "\"content-type\"",
                "\"content type\"",
                "entry 1: response.headers",
            ),
        ] {
            let edited = good.replacen(from, to, 1);
            assert_ne!(edited, good, "{from}");
            let err = Cassette::from_json(edited.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Cassette);
            assert!(err.to_string().contains(problem), "{from} -> {to}: {err}");
        }
    }
}
