//! The few dates the SDK reads: `Retry-After` HTTP dates (all three forms RFC 9110 requires,
//! through `httpdate`) and RFC 3339 timestamps (calendar arithmetic below).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn to_system_time(secs: i64, nanos: u32) -> Option<SystemTime> {
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs as u64, nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn valid(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> bool {
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s <= 60 && y > 0
}

/// Parses an HTTP date in any of the three forms a recipient must accept (RFC 9110 §5.6.7):
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and
/// asctime `Sun Nov  6 08:49:37 1994`.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// Parses an RFC 3339 timestamp with any number of fractional digits and a `Z` or `±hh:mm`
/// offset (`2024-03-05T08:00:01.5Z`, `2021-03-18T19:52:41.808482+03:00`).
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    // RFC 3339 is ASCII; byte positions below are then char positions too.
    if s.len() < 20 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let mut dp = date.split('-');
    let (y, mo, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    if dp.next().is_some() || !matches!(rest.as_bytes()[0], b'T' | b't' | b' ') {
        return None;
    }
    let (clock, mut rest) = rest[1..].split_at(8);
    let mut cp = clock.split(':');
    let (h, mi, sec) = (num(cp.next()?)?, num(cp.next()?)?, num(cp.next()?)?);
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut scale = 100_000_000u32;
        for b in frac[..digits].bytes().take(9) {
            nanos += u32::from(b - b'0') * scale;
            scale /= 10;
        }
        rest = &frac[digits..];
    }
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let oh = i64::from(num(&rest[1..3])?);
            let om = i64::from(num(&rest[4..6])?);
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let y = i64::from(y);
    if !valid(y, mo, d, h, mi, sec) {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset;
    to_system_time(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(at(784_111_777, 0))
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(at(0, 0)));
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(at(784_111_777, 0)),
            "RFC 850"
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(at(784_111_777, 0)),
            "asctime"
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("120"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1994-11-06T08:49:37Z"), Some(at(784_111_777, 0)));
        assert_eq!(
            parse_rfc3339("2024-03-05T08:00:01.5Z"),
            Some(at(1_709_625_601, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2021-03-18T19:52:41.808482Z"),
            Some(at(1_616_097_161, 808_482_000))
        );
        assert_eq!(
            parse_rfc3339("1994-11-06T11:49:37+03:00"),
            Some(at(784_111_777, 0))
        );
        assert_eq!(parse_rfc3339("1994-11-06T08:49:37"), None, "offset is required");
        assert_eq!(parse_rfc3339("1994-13-06T08:49:37Z"), None);
        assert_eq!(parse_rfc3339("яяяяяяяяяяяяяяяяяяяя"), None);
        assert_eq!(parse_rfc3339("2024-03-05T08:00:01ё0:00"), None);
        assert_eq!(parse_rfc3339("2024-03-05T08:00:01+0ё00"), None);
        assert_eq!(parse_rfc3339("2024-03-05T08:00:01.5ё"), None);
        assert_eq!(parse_rfc3339(""), None);
    }
}
