//! [`Timestamp`]: a time as the service sent it, ordered by instant.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// A timestamp exactly as the service sent it, e.g. `2024-03-05T08:00:01.5Z`.
///
/// Kept as text so that nothing is lost in a round trip and an unexpected format never fails
/// a whole response; [`Timestamp::to_system_time`] parses RFC 3339 on demand (and, with the
/// features of the same names, `to_chrono`, `to_time` and `to_jiff`).
///
/// Equality is on the text. Ordering is by instant: `…01Z < …01.5Z` and
/// `10:00+03:00 < 08:00:01Z`; two texts for the same instant are ordered by their text, and
/// text that is not RFC 3339 sorts after every instant.
///
/// ```
/// use userapi::models::Timestamp;
/// assert!(Timestamp::new("2024-03-05T08:00:01Z") < Timestamp::new("2024-03-05T08:00:01.5Z"));
/// assert!(Timestamp::new("2024-03-05T10:00:00+03:00") < Timestamp::new("2024-03-05T08:00:01Z"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self.to_system_time(), other.to_system_time()) {
            (Some(a), Some(b)) => a.cmp(&b).then_with(|| self.0.cmp(&other.0)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.0.cmp(&other.0),
        }
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Timestamp {
    /// Wraps a timestamp string.
    pub fn new(value: impl Into<String>) -> Self {
        Timestamp(value.into())
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant, if the text is RFC 3339 (with any number of fractional digits).
    pub fn to_system_time(&self) -> Option<SystemTime> {
        crate::time::parse_rfc3339(&self.0)
    }

    /// Seconds and nanoseconds since the Unix epoch (the nanoseconds always forward, as the
    /// date crates count them), if the text is RFC 3339.
    #[cfg(any(feature = "chrono", feature = "time"))]
    fn unix_parts(&self) -> Option<(i64, u32)> {
        let (secs, nanos) = match self.to_system_time()?.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => (i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
            Err(before) => {
                let d = before.duration();
                let secs = i64::try_from(d.as_secs()).ok()?;
                match d.subsec_nanos() {
                    0 => (-secs, 0),
                    n => (-secs - 1, 1_000_000_000 - n),
                }
            }
        };
        Some((secs, nanos))
    }

    /// The instant as a `chrono` UTC date-time, if the text is RFC 3339 (and within chrono's
    /// range, which every RFC 3339 instant is).
    #[cfg(feature = "chrono")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    pub fn to_chrono(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        // Not `From<SystemTime>`, which panics outside chrono's range.
        let (secs, nanos) = self.unix_parts()?;
        chrono::DateTime::from_timestamp(secs, nanos)
    }

    /// The instant as a `time` date-time in UTC, if the text is RFC 3339 and within the
    /// `time` crate's range (up to the end of year 9999 without its `large-dates` feature:
    /// `9999-12-31T23:59:60Z` or `9999-12-31T23:59:59-01:00` is past it).
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub fn to_time(&self) -> Option<time::OffsetDateTime> {
        // Not `From<SystemTime>`, which panics outside time's range.
        let (secs, nanos) = self.unix_parts()?;
        let nanos = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    }

    /// The instant as a `jiff` timestamp, if the text is RFC 3339 and within jiff's range
    /// (which ends at `9999-12-30T22:00:00.999999999Z`, so that every offset stays in 9999).
    #[cfg(feature = "jiff")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jiff")))]
    pub fn to_jiff(&self) -> Option<jiff::Timestamp> {
        self.to_system_time()
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Timestamp {
    fn from(s: &str) -> Self {
        Timestamp(s.to_owned())
    }
}
