//! The [`Redactor`]: what a server answers is searched for the secrets the request sent, in
//! every spelling, before an error keeps it.

use reqwest::header::HeaderValue;

use super::secret::{REDACTED, Secret};

/// Replaces every occurrence of the secrets a request sent (as they are, JSON-escaped, and
/// percent-encoded) with [`REDACTED`] in what the server answered, before an error keeps it.
/// A JSON string that spells a secret with `\u` escapes is rewritten with the secret
/// replaced, and a body cut in the middle of a secret loses the cut start too.
///
/// A short secret (under [`SHORT_SECRET`] bytes) is replaced only where it stands alone, with
/// no ASCII letter or digit touching it on either side: a one-letter password `e` is replaced
/// in `{"password":"e"}` and in `token e refused`, but not in every `e` of `expected value`,
/// which would make every message unreadable. A short secret is echoed as a value, and a value
/// stands alone; any longer secret is replaced wherever it appears.
pub(crate) struct Redactor {
    /// Longest first, so that an escaped form is replaced whole.
    needles: Vec<Needle>,
    /// Whether any secret was given (decoded JSON strings are checked only then).
    any: bool,
}

/// One spelling of one secret.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Needle {
    bytes: Vec<u8>,
    /// Only where no ASCII letter or digit touches it (a short secret).
    alone: bool,
}

/// Secrets shorter than this (in bytes) are replaced only where they stand alone.
pub(crate) const SHORT_SECRET: usize = 8;

/// The shortest start of a secret that a cut body loses: shorter ones say too little to
/// matter, and would make every body that ends in a common letter look like a leak.
const CUT_SECRET_MIN: usize = 4;

impl Redactor {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut needles: Vec<Needle> = Vec::new();
        for secret in secrets {
            let raw = secret.expose();
            if raw.is_empty() {
                continue;
            }
            let alone = raw.len() < SHORT_SECRET;
            needles.extend(spellings(raw).into_iter().map(|bytes| Needle { bytes, alone }));
        }
        needles.sort_by(|a, b| b.bytes.len().cmp(&a.bytes.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        let any = !needles.is_empty();
        Redactor { needles, any }
    }

    /// The length of the longest secret that starts at `i` in `haystack` and counts there.
    fn match_at(&self, haystack: &[u8], i: usize) -> Option<usize> {
        self.needles
            .iter()
            .find(|n| {
                haystack[i..].starts_with(&n.bytes) && (!n.alone || alone_at(haystack, i, n.bytes.len()))
            })
            .map(|n| n.bytes.len())
    }

    /// Whether `haystack` holds any secret.
    fn found_in(&self, haystack: &[u8]) -> bool {
        self.any && (0..haystack.len()).any(|i| self.match_at(haystack, i).is_some())
    }

    /// The bytes with every secret replaced (the same buffer when there is none).
    pub(crate) fn bytes(&self, input: bytes::Bytes) -> bytes::Bytes {
        let escaped = self.unicode_escapes(&input);
        let input = escaped.map_or(input, bytes::Bytes::from);
        if !self.found_in(&input) {
            return input;
        }
        self.replace_all(&input).into()
    }

    /// The bytes of a body cut at a limit, with every secret replaced, and the end replaced
    /// too when it is the start of a secret (at least [`CUT_SECRET_MIN`] bytes of it).
    pub(crate) fn cut_bytes(&self, input: bytes::Bytes) -> bytes::Bytes {
        let input = self.bytes(input);
        let cut = self
            .needles
            .iter()
            .filter_map(|n| {
                (CUT_SECRET_MIN..n.bytes.len().min(input.len() + 1))
                    .rev()
                    .find(|&k| {
                        input.ends_with(&n.bytes[..k]) && (!n.alone || alone_at(&input, input.len() - k, k))
                    })
            })
            .max();
        match cut {
            Some(k) => {
                let mut out = input[..input.len() - k].to_vec();
                out.extend_from_slice(REDACTED.as_bytes());
                out.into()
            }
            None => input,
        }
    }

    /// The text with every secret replaced.
    pub(crate) fn string(&self, input: &mut String) {
        if let Some(out) = self.unicode_escapes(input.as_bytes()) {
            *input = String::from_utf8_lossy(&out).into_owned();
        }
        if !self.found_in(input.as_bytes()) {
            return;
        }
        let out = self.replace_all(input.as_bytes());
        *input = String::from_utf8_lossy(&out).into_owned();
    }

    /// `None` when no JSON string literal in `input` spells a secret with `\u` escapes;
    /// otherwise the bytes with each such literal decoded, the secret replaced, and written
    /// back as JSON.
    fn unicode_escapes(&self, input: &[u8]) -> Option<Vec<u8>> {
        if !self.any || find(input, b"\\u", 0).is_none() {
            return None;
        }
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut i = 0;
        while i < input.len() {
            if input[i] != b'"' {
                i += 1;
                continue;
            }
            // A literal: up to the next quote that no backslash escapes.
            let start = i;
            let mut j = i + 1;
            let mut has_u = false;
            while j < input.len() && input[j] != b'"' {
                if input[j] == b'\\' {
                    has_u |= input.get(j + 1) == Some(&b'u');
                    j += 1;
                }
                j += 1;
            }
            if j >= input.len() {
                break;
            }
            let literal = &input[start..=j];
            if has_u
                && let Ok(decoded) = serde_json::from_slice::<String>(literal)
                && self.found_in(decoded.as_bytes())
            {
                let clean = String::from_utf8_lossy(&self.replace_all(decoded.as_bytes())).into_owned();
                let buf = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
                buf.extend_from_slice(&input[copied..start]);
                buf.extend_from_slice(serde_json::to_string(&clean).unwrap_or_default().as_bytes());
                copied = j + 1;
            }
            i = j + 1;
        }
        let mut out = out?;
        out.extend_from_slice(&input[copied..]);
        Some(out)
    }

    pub(crate) fn option(&self, input: &mut Option<String>) {
        if let Some(s) = input {
            self.string(s);
        }
    }

    /// Every header value with a secret in it, rewritten.
    pub(crate) fn headers(&self, headers: &mut reqwest::header::HeaderMap) {
        for value in headers.values_mut() {
            if self.found_in(value.as_bytes()) {
                let clean = self.bytes(bytes::Bytes::copy_from_slice(value.as_bytes()));
                *value = HeaderValue::from_bytes(&clean).unwrap_or(HeaderValue::from_static(REDACTED));
            }
        }
    }
}

/// Every spelling of `secret` that the client's error redaction looks for in what a server
/// answers: as it is, JSON-escaped (the inside of a JSON string literal, without the quotes),
/// and percent-encoded as a form value (`+` for a space) and as a path segment (`%20`), each
/// with its hex digits in upper and in lower case. Sorted, without duplicates; empty for an
/// empty secret.
///
/// A secret a server spells with `\u` escapes inside a JSON string is not among them: decode
/// the string and look for the raw spelling.
///
/// For tools that must scrub the same secrets from text of their own (a recording of
/// requests and answers, a log).
///
/// ```
/// let spellings = userapi::auth::spellings("a b/\"c\"");
/// for expected in [&b"a b/\"c\""[..], br#"a b/\"c\""#, b"a+b%2F%22c%22", b"a%20b%2f%22c%22"] {
///     assert!(spellings.iter().any(|s| s == expected), "{}", String::from_utf8_lossy(expected));
/// }
/// assert!(userapi::auth::spellings("").is_empty());
/// ```
pub fn spellings(secret: &str) -> Vec<Vec<u8>> {
    if secret.is_empty() {
        return Vec::new();
    }
    let mut out = vec![secret.as_bytes().to_vec()];
    if let Ok(json) = serde_json::to_string(secret) {
        out.push(json.as_bytes()[1..json.len() - 1].to_vec());
    }
    // Percent-encoded as a form (`+` for a space) or a path (`%20`), with the hex digits in
    // either case.
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let path = form.replace('+', "%20");
    for encoded in [form, path] {
        out.push(lower_hex(&encoded));
        out.push(encoded.into_bytes());
    }
    out.sort();
    out.dedup();
    out
}

/// Percent-encoded text with the two hex digits after each `%` in lower case.
fn lower_hex(encoded: &str) -> Vec<u8> {
    let mut out = encoded.as_bytes().to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'%' {
            for b in out.iter_mut().skip(i + 1).take(2) {
                b.make_ascii_lowercase();
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// Whether no ASCII letter or digit touches `haystack[i..i + len]` on either side.
fn alone_at(haystack: &[u8], i: usize, len: usize) -> bool {
    let word = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    !word(i.checked_sub(1).and_then(|j| haystack.get(j))) && !word(haystack.get(i + len))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len())
        .find(|&i| haystack[i] == needle[0] && haystack[i..].starts_with(needle))
}

impl Redactor {
    /// One pass: at each position the longest secret that starts there is replaced, and the
    /// marker itself is never searched again.
    fn replace_all(&self, haystack: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(haystack.len());
        let mut i = 0;
        while i < haystack.len() {
            match self.match_at(haystack, i) {
                Some(len) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += len;
                }
                None => {
                    out.push(haystack[i]);
                    i += 1;
                }
            }
        }
        out
    }
}
