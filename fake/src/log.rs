//! The request log of a fake: the last requests, bounded by count and by body bytes.

use std::collections::VecDeque;
use std::ops::Deref;

use userapi::StatusCode;

use crate::fault::Fault;
use crate::service::Request;

/// How many requests the log keeps at first: the last ones; older ones are only counted.
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;

/// The most body bytes the log keeps, whatever its capacity: older requests go first.
pub(crate) const LOG_BODY_BUDGET: usize = 64 * 1024 * 1024;

/// A request in a fake's log: the request as received, what was answered, and which fault,
/// if any, it took. Derefs to the [`Request`], so `r.method`, `r.path`, `r.query("x")`
/// and `r.json()` read the request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// Its number among all the requests the fake received since it started, from 0 (not
    /// reset by [`clear_requests`](crate::Fake::clear_requests)).
    pub seq: u64,
    /// The request.
    pub request: Request,
    /// The status answered; `None` when the connection was dropped without an answer. With
    /// [`Fault::Delay`] the status the answer carries, even if the client stopped waiting.
    pub status: Option<StatusCode>,
    /// The fault it took, if any.
    pub fault: Option<Fault>,
}

impl Deref for ReceivedRequest {
    type Target = Request;

    fn deref(&self) -> &Request {
        &self.request
    }
}

/// The last requests, in the order they arrived, bounded by count and by body bytes.
#[derive(Debug)]
pub(crate) struct RequestLog {
    pub(crate) entries: VecDeque<ReceivedRequest>,
    pub(crate) capacity: usize,
    pub(crate) body_bytes: usize,
    /// The `seq` of the next request.
    pub(crate) next_seq: u64,
    /// `next_seq` when the log was last cleared.
    pub(crate) counted_from: u64,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        RequestLog {
            entries: VecDeque::new(),
            capacity,
            body_bytes: 0,
            next_seq: 0,
            counted_from: 0,
        }
    }

    pub(crate) fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Keeps `entry` in `seq` order (requests served at once may finish out of order), then
    /// drops the oldest while over a bound.
    pub(crate) fn push(&mut self, entry: ReceivedRequest) {
        if entry.seq < self.counted_from {
            return; // received before the last clear
        }
        let at = self
            .entries
            .iter()
            .rposition(|e| e.seq < entry.seq)
            .map_or(0, |i| i + 1);
        self.body_bytes += entry.request.body.len();
        self.entries.insert(at, entry);
        self.trim();
    }

    pub(crate) fn trim(&mut self) {
        while self.entries.len() > self.capacity || self.body_bytes > LOG_BODY_BUDGET {
            match self.entries.pop_front() {
                Some(old) => self.body_bytes -= old.request.body.len(),
                None => break,
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.body_bytes = 0;
        self.counted_from = self.next_seq;
    }

    pub(crate) fn count(&self) -> u64 {
        self.next_seq - self.counted_from
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use userapi::reqwest::header::HeaderMap;
    use userapi::{Method, StatusCode};

    use super::*;

    fn entry(seq: u64, body: usize) -> ReceivedRequest {
        ReceivedRequest {
            seq,
            request: Request {
                method: Method::GET,
                path: "/".into(),
                segments: Vec::new(),
                query: Vec::new(),
                headers: HeaderMap::new(),
                body: Bytes::from(vec![b'x'; body]),
            },
            status: Some(StatusCode::OK),
            fault: None,
        }
    }

    fn seqs(log: &RequestLog) -> Vec<u64> {
        log.entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn the_log_keeps_the_default_number_of_requests() {
        let mut log = RequestLog::new(DEFAULT_LOG_CAPACITY);
        for _ in 0..DEFAULT_LOG_CAPACITY + 5 {
            let seq = log.take_seq();
            log.push(entry(seq, 0));
        }
        assert_eq!(log.entries.len(), DEFAULT_LOG_CAPACITY);
        assert_eq!(log.entries.front().map(|e| e.seq), Some(5));
        assert_eq!(log.count(), DEFAULT_LOG_CAPACITY as u64 + 5);
    }

    #[test]
    fn the_log_keeps_its_body_budget() {
        let mut log = RequestLog::new(DEFAULT_LOG_CAPACITY);
        for _ in 0..5 {
            let seq = log.take_seq();
            log.push(entry(seq, LOG_BODY_BUDGET / 4));
        }
        assert_eq!(seqs(&log), [1, 2, 3, 4]);
        assert_eq!(log.body_bytes, LOG_BODY_BUDGET);
    }

    #[test]
    fn the_log_is_in_arrival_order_whatever_the_finishing_order() {
        let mut log = RequestLog::new(3);
        let (a, b, c, d) = (log.take_seq(), log.take_seq(), log.take_seq(), log.take_seq());
        for seq in [b, d, a, c] {
            log.push(entry(seq, 1));
        }
        assert_eq!(seqs(&log), [b, c, d]);
    }

    #[test]
    fn a_request_from_before_a_clear_stays_out() {
        let mut log = RequestLog::new(3);
        let early = log.take_seq();
        log.clear();
        let late = log.take_seq();
        log.push(entry(early, 1));
        log.push(entry(late, 1));
        assert_eq!(seqs(&log), [late]);
        assert_eq!(log.count(), 1);
    }
}
