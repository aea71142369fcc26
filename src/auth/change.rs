//! Telling the application when the client's credentials change, so it can keep them
//! ([`CredentialChange`], set with
//! [`ClientBuilder::on_credential_change`](crate::ClientBuilder::on_credential_change)).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::Secret;

/// Why a client's credentials changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeReason {
    /// A login installed a session or token: a service's `login`, or the first login of a
    /// scheme that logs in on demand.
    Login,
    /// A refused credential was replaced: a re-login after a `401`, a token provider's new
    /// token.
    Refresh,
    /// One's own password change answered a new session.
    PasswordChange,
    /// A password reset answered a session.
    PasswordReset,
    /// A logout ended the session; the client has none now.
    Logout,
    /// The application installed credentials itself
    /// ([`Client::set_auth`](crate::Client::set_auth)).
    Replaced,
}

/// A change of a client's credentials, as the callback set with
/// [`ClientBuilder::on_credential_change`](crate::ClientBuilder::on_credential_change) sees it.
///
/// `credential` is what to keep to start the next client from
/// ([`ClientBuilder::stored_credential`](crate::ClientBuilder::stored_credential)): a
/// session id, a token. `None` when the client holds none now (after a logout, or a scheme
/// that will log in on its next call). It stays a [`Secret`]: `Debug` never shows it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CredentialChange {
    /// What changed them.
    pub reason: ChangeReason,
    /// The scheme in force afterwards (`"metabase-login"`, `"bearer"`, …).
    pub scheme: &'static str,
    /// The credential now in use, to store.
    pub credential: Option<Secret>,
    /// When it stops being valid, if that is known.
    pub expires_at: Option<SystemTime>,
}

type Callback = dyn Fn(&CredentialChange) + Send + Sync;

/// Delivers changes to the application's callback in the order they happened, off the
/// calls that made them: a call only queues its change. One delivery runs at a time, on
/// tokio's blocking pool (so a callback may write a file); without a runtime (a
/// `set_auth` from plain code) it runs at once.
#[derive(Clone)]
pub(crate) struct Notifier(Arc<Queue>);

struct Queue {
    callback: Box<Callback>,
    pending: Mutex<Pending>,
    /// Woken when the queue runs empty.
    idle: tokio::sync::Notify,
}

#[derive(Default)]
struct Pending {
    changes: VecDeque<CredentialChange>,
    delivering: bool,
    /// The last credential handed over, so that one change reported twice (by a source
    /// that rotates its own credential, then by the refresh that asked it) counts once.
    last: Option<Secret>,
}

impl Notifier {
    pub(crate) fn new(callback: impl Fn(&CredentialChange) + Send + Sync + 'static) -> Self {
        Notifier(Arc::new(Queue {
            callback: Box::new(callback),
            pending: Mutex::new(Pending::default()),
            idle: tokio::sync::Notify::new(),
        }))
    }

    /// Waits until every change queued so far has been delivered.
    pub(crate) async fn flush(&self) {
        loop {
            let idle = self.0.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            {
                let pending = self.0.lock();
                if pending.changes.is_empty() && !pending.delivering {
                    return;
                }
            }
            idle.await;
        }
    }

    /// Queues a change, and starts delivering unless a delivery is running. With `once`, a
    /// change whose credential is the last one handed over is dropped.
    pub(crate) fn notify(&self, change: CredentialChange, once: bool) {
        {
            let mut pending = self.0.lock();
            let same = match (&pending.last, &change.credential) {
                (Some(a), Some(b)) => a.expose() == b.expose(),
                _ => false,
            };
            if once && same {
                return;
            }
            pending.last = change.credential.clone();
            pending.changes.push_back(change);
            if pending.delivering {
                return;
            }
            pending.delivering = true;
        }
        let queue = Arc::clone(&self.0);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || queue.deliver());
            }
            Err(_) => queue.deliver(),
        }
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deliver(&self) {
        loop {
            let change = {
                let mut pending = self.lock();
                match pending.changes.pop_front() {
                    Some(change) => change,
                    None => {
                        pending.delivering = false;
                        drop(pending);
                        self.idle.notify_waiters();
                        return;
                    }
                }
            };
            // A panicking callback loses its own change, not the ones after it.
            let _ = catch_unwind(AssertUnwindSafe(|| (self.callback)(&change)));
        }
    }
}
