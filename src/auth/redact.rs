//! The [`Redactor`]: what a server answers is searched for the secrets the request sent, in
//! every spelling, before an error keeps it.

use reqwest::header::HeaderValue;

use super::secret::{REDACTED, Secret};

/// Replaces every occurrence of the secrets a request sent (as they are, JSON-escaped, and
/// percent-encoded) with [`REDACTED`] in what the server answered, before an error keeps it.
/// A JSON string that spells a secret with `\u` escapes is rewritten with the secret
/// replaced, and a body cut in the middle of a secret loses the cut start too.
pub(crate) struct Redactor {
    /// Longest first, so that an escaped form is replaced whole.
    needles: Vec<Vec<u8>>,
    /// The secrets as they are, for matching decoded JSON strings.
    raw: Vec<String>,
}

/// The shortest start of a secret that a cut body loses: shorter ones say too little to
/// matter, and would make every body that ends in a common letter look like a leak.
const CUT_SECRET_MIN: usize = 4;

impl Redactor {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        let mut raws = Vec::new();
        for secret in secrets {
            let raw = secret.expose();
            if raw.is_empty() {
                continue;
            }
            raws.push(raw.to_owned());
            needles.push(raw.as_bytes().to_vec());
            if let Ok(json) = serde_json::to_string(raw) {
                needles.push(json.as_bytes()[1..json.len() - 1].to_vec());
            }
            // Percent-encoded as a form (`+` for a space) or a path (`%20`), with the hex
            // digits in either case.
            let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
            let path = form.replace('+', "%20");
            for encoded in [form, path] {
                needles.push(lower_hex(&encoded));
                needles.push(encoded.into_bytes());
            }
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Redactor { needles, raw: raws }
    }

    /// Whether `haystack` holds any secret.
    fn found_in(&self, haystack: &[u8]) -> bool {
        self.needles.iter().any(|n| find(haystack, n, 0).is_some())
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
                (CUT_SECRET_MIN..n.len().min(input.len() + 1))
                    .rev()
                    .find(|&k| input.ends_with(&n[..k]))
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
        if self.raw.is_empty() || find(input, b"\\u", 0).is_none() {
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
                && self.raw.iter().any(|s| decoded.contains(s.as_str()))
            {
                let mut clean = decoded;
                for secret in &self.raw {
                    clean = clean.replace(secret.as_str(), REDACTED);
                }
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
            match self.needles.iter().find(|n| haystack[i..].starts_with(n)) {
                Some(n) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += n.len();
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
