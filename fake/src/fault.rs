//! [`Fault`]: what a request gets instead of the service's answer.

use std::time::Duration;

use userapi::StatusCode;

use crate::service::Response;

/// What the next request gets instead of the service's answer. Added with [`Fake::inject`](crate::Fake::inject)
/// (or [`fail_next`](crate::Fake::fail_next), [`delay_next`](crate::Fake::delay_next),
/// [`drop_next`](crate::Fake::drop_next)), taken by requests in the order added, one each.
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
