//! Expectations on the requests a fake receives, checked when it is dropped: see
//! [`Fake::expect`](crate::Fake::expect).

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, Mutex};

use crate::log::ReceivedRequest;
use crate::service::Request;
use crate::util::lock;

/// How many matching requests an expectation wants: from `n`, `a..b`, `a..=b`, `a..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    min: u64,
    /// Inclusive; `None`: no upper bound.
    max: Option<u64>,
}

impl Times {
    /// One or more.
    pub const AT_LEAST_ONCE: Times = Times { min: 1, max: None };

    fn accepts(&self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }

    fn from_bounds(range: impl RangeBounds<u64>) -> Times {
        let min = match range.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let max = match range.end_bound() {
            Bound::Included(&n) => Some(n),
            Bound::Excluded(&n) => Some(n.saturating_sub(1)),
            Bound::Unbounded => None,
        };
        Times { min, max }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        match self.max {
            Some(max) if max == self.min => write!(f, "exactly {max} time{}", plural(max)),
            Some(max) => write!(f, "between {} and {max} times", self.min),
            None => write!(f, "at least {} time{}", self.min, plural(self.min)),
        }
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Times {
        Times { min: n, max: Some(n) }
    }
}

impl From<std::ops::Range<u64>> for Times {
    fn from(r: std::ops::Range<u64>) -> Times {
        Times::from_bounds(r)
    }
}

impl From<std::ops::RangeInclusive<u64>> for Times {
    fn from(r: std::ops::RangeInclusive<u64>) -> Times {
        Times::from_bounds(r)
    }
}

impl From<std::ops::RangeFrom<u64>> for Times {
    fn from(r: std::ops::RangeFrom<u64>) -> Times {
        Times::from_bounds(r)
    }
}

impl From<std::ops::RangeToInclusive<u64>> for Times {
    fn from(r: std::ops::RangeToInclusive<u64>) -> Times {
        Times::from_bounds(r)
    }
}

type Matcher = Box<dyn Fn(&Request) -> bool + Send + Sync>;

struct Entry {
    description: String,
    matches: Matcher,
    times: Mutex<Times>,
    seen: Mutex<u64>,
}

/// The expectations of one fake.
#[derive(Default)]
pub(crate) struct Expectations {
    entries: Vec<Arc<Entry>>,
}

impl fmt::Debug for Expectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.description))
            .finish()
    }
}

impl Expectations {
    pub(crate) fn add(&mut self, description: String, matches: Matcher, times: Times) -> Expectation {
        let entry = Arc::new(Entry {
            description,
            matches,
            times: Mutex::new(times),
            seen: Mutex::new(0),
        });
        self.entries.push(Arc::clone(&entry));
        Expectation { entry }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Counts `request` for every expectation it matches.
    pub(crate) fn record(&self, request: &Request) {
        for e in &self.entries {
            if (e.matches)(request) {
                *lock(&e.seen) += 1;
            }
        }
    }

    pub(crate) fn verify<'a>(
        &self,
        service: &str,
        received: impl Iterator<Item = &'a ReceivedRequest>,
    ) -> Result<(), Report> {
        let failed: Vec<Failed> = self
            .entries
            .iter()
            .filter_map(|e| {
                let (times, seen) = (*lock(&e.times), *lock(&e.seen));
                (!times.accepts(seen)).then(|| Failed {
                    description: e.description.clone(),
                    times,
                    seen,
                })
            })
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        let received = received
            .map(|r| {
                let status = r.status.map_or("dropped".to_owned(), |s| s.as_u16().to_string());
                format!("{} {} -> {status}", r.method, r.path)
            })
            .collect();
        Err(Report {
            service: service.to_owned(),
            failed,
            received,
        })
    }
}

/// An expectation just added by [`Fake::expect`](crate::Fake::expect): say how many times
/// with [`times`](Self::times).
pub struct Expectation {
    entry: Arc<Entry>,
}

impl fmt::Debug for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expectation")
            .field("description", &self.entry.description)
            .field("times", &*lock(&self.entry.times))
            .finish()
    }
}

impl Expectation {
    /// Wants this many matching requests: a number (`1`), or a range (`1..=3`, `2..`).
    pub fn times(self, times: impl Into<Times>) -> Self {
        *lock(&self.entry.times) = times.into();
        self
    }

    /// How many matching requests arrived so far.
    pub fn received(&self) -> u64 {
        *lock(&self.entry.seen)
    }
}

#[derive(Debug, Clone)]
struct Failed {
    description: String,
    times: Times,
    seen: u64,
}

/// The expectations a fake saw unmet, from [`Fake::verify`](crate::Fake::verify) or in the
/// panic when a fake is dropped. Its `Display` names each, with the number of matching
/// requests, then lists the requests received (method, path, status).
#[derive(Debug, Clone)]
pub struct Report {
    service: String,
    failed: Vec<Failed>,
    received: Vec<String>,
}

impl Report {
    /// The descriptions of the expectations not met (`"GET /api/user/current"`).
    pub fn failed(&self) -> Vec<&str> {
        self.failed.iter().map(|f| f.description.as_str()).collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failed.len();
        writeln!(
            f,
            "the {} fake: {n} expectation{} not met:",
            self.service,
            if n == 1 { " was" } else { "s were" }
        )?;
        for e in &self.failed {
            let plural = if e.seen == 1 { "" } else { "s" };
            writeln!(
                f,
                "  - {}: expected {}, got {} matching request{plural}",
                e.description, e.times, e.seen
            )?;
        }
        if self.received.is_empty() {
            write!(f, "no requests received")
        } else {
            write!(f, "requests received ({}, oldest first):", self.received.len())?;
            for r in &self.received {
                write!(f, "\n  {r}")?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for Report {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_numbers_and_ranges() {
        assert!(Times::from(1).accepts(1));
        assert!(!Times::from(1).accepts(2));
        assert!(Times::from(1..=3).accepts(3));
        assert!(!Times::from(1..3).accepts(3));
        assert!(Times::from(2..).accepts(99));
        assert!(!Times::from(2..).accepts(1));
        assert!(Times::from(..=2).accepts(0));
        assert_eq!(Times::from(1).to_string(), "exactly 1 time");
        assert_eq!(Times::from(1..=3).to_string(), "between 1 and 3 times");
        assert_eq!(Times::AT_LEAST_ONCE.to_string(), "at least 1 time");
    }
}
