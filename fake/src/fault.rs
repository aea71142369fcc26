//! [`Fault`]: what a request gets instead of the service's answer.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use userapi::StatusCode;

use crate::service::{Request, Response};

/// What the next request gets instead of the service's answer. Added with [`Fake::inject`](crate::Fake::inject)
/// (or [`fail_next`](crate::Fake::fail_next), [`delay_next`](crate::Fake::delay_next),
/// [`drop_next`](crate::Fake::drop_next)), taken by requests in the order added, one each;
/// with [`Fake::inject_where`](crate::Fake::inject_where), only by the requests a test picks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// This status, with a body in the service's own error shape whose message says the fault
    /// was injected. The service does not see the request: nothing changes.
    Status(StatusCode),
    /// This response, as it is. The service does not see the request.
    Respond(Response),
    /// The service handles the request at once (its changes apply), but the answer is held
    /// back this long: a slow server, or with a duration past the client's attempt timeout,
    /// one whose answer never arrives in time.
    Delay(Duration),
    /// The connection is closed without an answer. The service does not see the request.
    Drop,
}

type Picks = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// The faults no request has taken yet, in the order added.
#[derive(Default)]
pub(crate) struct FaultQueue {
    waiting: VecDeque<(Fault, Option<Picks>)>,
}

impl FaultQueue {
    /// Adds `fault` for `n` requests: any (`picks` is `None`), or those `picks` accepts.
    pub(crate) fn add(&mut self, n: usize, fault: Fault, picks: Option<Picks>) {
        self.waiting.extend(std::iter::repeat_n((fault, picks), n));
    }

    /// The first fault waiting that applies to `request`, taken off the queue.
    pub(crate) fn take_for(&mut self, request: &Request) -> Option<Fault> {
        let at = self
            .waiting
            .iter()
            .position(|(_, picks)| picks.as_ref().is_none_or(|picks| picks(request)))?;
        self.waiting.remove(at).map(|(fault, _)| fault)
    }

    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }

    pub(crate) fn clear(&mut self) {
        self.waiting.clear();
    }
}

impl fmt::Debug for FaultQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.waiting.iter().map(|(fault, picks)| {
                (
                    fault,
                    if picks.is_some() {
                        "picked requests"
                    } else {
                        "any request"
                    },
                )
            }))
            .finish()
    }
}
