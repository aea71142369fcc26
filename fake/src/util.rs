//! Helpers the fakes share: civil dates and base64url, the fake crate's own (one copy each).

use std::sync::{Mutex, MutexGuard};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Builds a value of a `userapi` model (which are `#[non_exhaustive]`, so no struct
/// expression from this crate): its `Default` with these fields set.
macro_rules! build {
    ($ty:ident { $($field:ident $(: $value:expr)?),* $(,)? }) => {{
        let mut built = <$ty>::default();
        $($crate::util::build!(@set built $field $(: $value)?);)*
        built
    }};
    (@set $built:ident $field:ident : $value:expr) => { $built.$field = $value };
    (@set $built:ident $field:ident) => { $built.$field = $field };
}
pub(crate) use build;

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub(crate) fn days_to_civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub(crate) fn civil_to_days(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The time since the epoch (zero before it).
pub(crate) fn epoch_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Whole seconds since the epoch.
pub(crate) fn now_secs() -> i64 {
    i64::try_from(epoch_now().as_secs()).unwrap_or(i64::MAX)
}

/// Now, as `2024-03-05T08:00:01.518Z`.
pub(crate) fn now_iso() -> String {
    let now = epoch_now();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let (y, mo, d) = days_to_civil(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Unpadded base64url.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Reads base64url, padding optional; `None` for anything outside the alphabet.
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
}

/// Locks a fake's state. A handler that panicked mid-request leaves the state as it was; the
/// fake keeps serving rather than failing every later request.
pub(crate) fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_to_civil(0), (1970, 1, 1));
        assert_eq!(civil_to_days(2000, 3, 1), 11_017);
        for days in [-800_000, -1, 0, 59, 60, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = days_to_civil(days);
            assert_eq!(civil_to_days(y, m, d), days);
        }
    }

    #[test]
    fn base64url_round_trips() {
        for text in [&b""[..], b"a", b"ab", b"abc", br#"{"exp":10}"#, &[0xfb, 0xff]] {
            assert_eq!(base64url_decode(&base64url(text)).unwrap(), text);
        }
        assert_eq!(base64url(br#"{"exp":10}"#), "eyJleHAiOjEwfQ");
        assert_eq!(base64url_decode("YQ=="), Some(b"a".to_vec()));
        assert!(base64url_decode("a b").is_none());
    }

    #[test]
    fn now_is_iso() {
        let now = now_iso();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.ends_with('Z'));
    }
}
