//! What an application's credential-change callback saw, for the tests of
//! `ClientBuilder::on_credential_change`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use userapi::auth::{ChangeReason, CredentialChange};

/// One change: its reason, the scheme afterwards, and the credential exposed (in tests only).
pub type Change = (ChangeReason, &'static str, Option<String>);

/// The changes a callback has seen so far.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Change>>>);

impl Seen {
    /// A callback that records into this list.
    pub fn callback(&self) -> impl Fn(&CredentialChange) + Send + Sync + use<> {
        let sink = Arc::clone(&self.0);
        move |c: &CredentialChange| {
            sink.lock().unwrap().push((
                c.reason,
                c.scheme,
                c.credential.as_ref().map(|s| s.expose().to_owned()),
            ));
        }
    }

    /// Waits (up to 5 s) until `n` changes arrived, then 50 ms more to catch an extra one.
    pub async fn settle(&self, n: usize) -> Vec<Change> {
        for _ in 0..500 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.now()
    }

    /// What arrived so far.
    pub fn now(&self) -> Vec<Change> {
        self.0.lock().unwrap().clone()
    }
}
