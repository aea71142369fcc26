//! [`Fault`]: what a request gets instead of the service's answer, and the methods of
//! [`Fake`] that inject faults.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use userapi::StatusCode;

use crate::server::Fake;
use crate::service::{Request, Response, Service};

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

/// Injecting faults: what the next requests get instead of the service's answer.
impl<S: Service> Fake<S> {
    /// Adds `fault` for each of the next `n` requests, after those already waiting
    /// (`usize::MAX`: every request from now on, until [`clear_faults`](Self::clear_faults)).
    ///
    /// ```
    /// # #[cfg(feature = "novaconnect")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::novaconnect::FakeNovaConnect;
    /// use userapi_fake::{Fault, Response};
    ///
    /// let fake = FakeNovaConnect::start().await?;
    /// // Too many requests; `Retry-After: 0`: try again at once.
    /// let busy = Response::text(429, "slow down").header("retry-after", "0");
    /// fake.inject(1, Fault::Respond(busy));
    /// fake.api()?.get_me().await?; // retried, as the server asked
    /// assert_eq!(fake.received_requests()[0].status.map(|s| s.as_u16()), Some(429));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "novaconnect"))] fn main() {}
    /// ```
    pub fn inject(&self, n: usize, fault: Fault) {
        self.control().faults.add(n, fault, None);
    }

    /// Adds `fault` for each of the next `n` requests that `picks` accepts; other requests
    /// pass it by. For requests sent together, whose order of arrival no test can count on.
    /// `picks` runs under the fake's own lock, so it must not call the fake.
    ///
    /// ```
    /// # #[cfg(feature = "metabase")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::StatusCode;
    /// use userapi::metabase::ListGroups;
    /// use userapi_fake::metabase::FakeMetabase;
    /// use userapi_fake::{Fault, Request};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let refused = Fault::Status(StatusCode::BAD_REQUEST);
    /// fake.inject_where(1, refused, |r: &Request| r.path == "/api/permissions/group");
    /// let api = fake.api()?;
    /// api.get_me().await?; // passes the fault by
    /// assert_eq!(fake.pending_faults(), 1);
    /// assert!(api.list_groups(&ListGroups::new()).await.is_err());
    /// assert_eq!(fake.pending_faults(), 0);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "metabase"))] fn main() {}
    /// ```
    pub fn inject_where(
        &self,
        n: usize,
        fault: Fault,
        picks: impl Fn(&Request) -> bool + Send + Sync + 'static,
    ) {
        self.control().faults.add(n, fault, Some(Arc::new(picks)));
    }

    /// The next `n` requests get `status` with a body in the service's own error shape
    /// (NovaConnect's envelope, Rightech's `{"message", "tags", …}`, FastAPI's `detail`,
    /// Diadoc's and Metabase's text), and the service does not see them.
    ///
    /// A write that is not safe to repeat is sent once and fails with the service's error:
    ///
    /// ```
    /// # #[cfg(feature = "novaconnect")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::auth::Password;
    /// use userapi::models::PasswordChange;
    /// use userapi_fake::novaconnect::{FakeNovaConnect, PASSWORD};
    ///
    /// let fake = FakeNovaConnect::start().await?;
    /// fake.fail_next(1, 503);
    /// let err = fake
    ///     .api()?
    ///     .change_password(&PasswordChange::new("N3w-secret").current(PASSWORD))
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    /// assert_eq!(fake.request_count(), 1); // not retried
    /// assert!(fake.password_is(&Password::new(PASSWORD))); // the service never saw it
    /// # Ok(()) }
    /// # #[cfg(not(feature = "novaconnect"))] fn main() {}
    /// ```
    ///
    /// # Panics
    /// When `status` is not an HTTP status (100 to 999).
    pub fn fail_next(&self, n: usize, status: u16) {
        let status = StatusCode::from_u16(status)
            .unwrap_or_else(|_| panic!("fail_next: {status} is not an HTTP status"));
        self.inject(n, Fault::Status(status));
    }

    /// The next `n` requests are handled at once, but their answers are held back for
    /// `delay` ([`Fault::Delay`]).
    ///
    /// ```
    /// # #[cfg(feature = "rightech")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use userapi::rightech::Rightech;
    /// use userapi::{RetryPolicy, Timeouts};
    /// use userapi_fake::rightech::FakeRightech;
    ///
    /// let fake = FakeRightech::start().await?;
    /// fake.delay_next(1, Duration::from_secs(30));
    /// let client = fake.client()?
    ///     .with_timeouts(Timeouts::default().with_attempt(Duration::from_millis(100)))
    ///     .with_retry_policy(RetryPolicy::none());
    /// let err = Rightech::new(client).list_roles(&userapi::rightech::ListRoles::new()).await.unwrap_err();
    /// assert!(err.is_timeout());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "rightech"))] fn main() {}
    /// ```
    pub fn delay_next(&self, n: usize, delay: Duration) {
        self.inject(n, Fault::Delay(delay));
    }

    /// The next `n` requests get no answer: their connections are closed. The client sees a
    /// broken connection (`TransportKind::Io`, a [`TransportKind`](userapi::TransportKind)), which it does
    /// not retry: the request may have been acted on.
    ///
    /// ```
    /// # #[cfg(feature = "diadoc")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::Fault;
    /// use userapi_fake::diadoc::FakeDiadoc;
    ///
    /// let fake = FakeDiadoc::start().await?;
    /// fake.drop_next(1);
    /// let err = fake.api()?.get_me().await.unwrap_err();
    /// assert!(err.is_transport());
    /// let log = fake.received_requests();
    /// assert_eq!((log[0].status, log[0].fault.clone()), (None, Some(Fault::Drop)));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "diadoc"))] fn main() {}
    /// ```
    pub fn drop_next(&self, n: usize) {
        self.inject(n, Fault::Drop);
    }

    /// How many injected faults no request has taken yet (`usize::MAX` at most). `0` at the
    /// end of a test shows that every fault it set up was met.
    pub fn pending_faults(&self) -> usize {
        self.control().faults.len()
    }

    /// Removes the faults no request has taken yet.
    pub fn clear_faults(&self) {
        self.control().faults.clear();
    }
}

type Picks = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// The faults no request has taken yet, in the order added: each with the number of requests
/// still to take it, so that `usize::MAX` (every request from now on) costs one entry.
#[derive(Default)]
pub(crate) struct FaultQueue {
    waiting: VecDeque<Waiting>,
}

struct Waiting {
    fault: Fault,
    /// `None`: any request takes it.
    picks: Option<Picks>,
    /// At least 1.
    left: usize,
}

impl FaultQueue {
    /// Adds `fault` for `n` requests: any (`picks` is `None`), or those `picks` accepts.
    pub(crate) fn add(&mut self, n: usize, fault: Fault, picks: Option<Picks>) {
        if n > 0 {
            self.waiting.push_back(Waiting {
                fault,
                picks,
                left: n,
            });
        }
    }

    /// The first fault waiting that applies to `request`, taken off the queue.
    pub(crate) fn take_for(&mut self, request: &Request) -> Option<Fault> {
        let at = self
            .waiting
            .iter()
            .position(|w| w.picks.as_ref().is_none_or(|picks| picks(request)))?;
        let waiting = &mut self.waiting[at];
        waiting.left -= 1;
        if waiting.left > 0 {
            return Some(waiting.fault.clone());
        }
        self.waiting.remove(at).map(|w| w.fault)
    }

    /// How many requests the faults waiting are for (`usize::MAX` at most).
    pub(crate) fn len(&self) -> usize {
        self.waiting.iter().fold(0, |n, w| n.saturating_add(w.left))
    }

    pub(crate) fn clear(&mut self) {
        self.waiting.clear();
    }
}

impl fmt::Debug for FaultQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.waiting.iter().map(|w| {
                let takers = if w.picks.is_some() {
                    "picked requests"
                } else {
                    "any request"
                };
                (&w.fault, w.left, takers)
            }))
            .finish()
    }
}
