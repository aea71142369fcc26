//! The credentials a client and its clones share, and the one place they are resolved for
//! an attempt: fixed, obtained once and kept, or obtained per attempt; refreshed after a
//! `401` one at a time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::{Auth, BoxFuture, Caller, ChangeReason, Credential, CredentialChange, Notifier, Obtain, Secret};
use crate::error::{Error, Target};

/// A credential at hand, or the work to get one (a provider's token, a login).
pub(crate) enum CredentialStep<'a> {
    Ready(Credential),
    Later(BoxFuture<'a, Result<Credential, Error>>),
}

/// The credentials a client and all its clones share.
///
/// Every change bumps `generation`: a change computed from an older generation (a login
/// that was in flight while the password changed) can then be refused, and a `401` on a
/// credential older than the current one replays with the current one instead of asking for
/// another. Refreshes run one at a time (`refresh`), so 64 concurrent `401`s cost one refresh;
/// and when that refresh fails, the calls that were waiting for it end with its failure
/// instead of each trying again (a failed login counts against a user's limit on servers
/// that throttle logins).
pub(crate) struct AuthCell {
    state: std::sync::RwLock<AuthState>,
    refresh: tokio::sync::Mutex<Option<FailedRefresh>>,
    /// How many refreshes (or logins) have failed: a call that sees it move while it waited
    /// for the lock shares the failure that moved it.
    failures: AtomicU64,
    /// The application's callback for changes, if it set one.
    notifier: Option<Notifier>,
}

/// The last failed refresh: for which generation, and what it said.
struct FailedRefresh {
    generation: u64,
    message: String,
    source: Option<String>,
}

struct AuthState {
    auth: Auth,
    generation: u64,
    /// The credential of a scheme that needs nothing obtained, built and checked once.
    fixed: Option<Credential>,
    /// When `fixed` stops being valid, if known.
    expires: Option<SystemTime>,
    /// A credential the client obtained for `auth` itself: a refreshed provider token, a
    /// session from a login.
    obtained: Option<Credential>,
}

impl AuthState {
    fn new(auth: Auth, generation: u64) -> Result<Self, Error> {
        let fixed = auth.fixed()?.map(|c| Credential { generation, ..c });
        let expires = auth.expires_at();
        Ok(AuthState {
            auth,
            generation,
            fixed,
            expires,
            obtained: None,
        })
    }

    /// The credential at hand without obtaining anything, if there is one.
    fn at_hand(&self) -> Option<Credential> {
        self.obtained.clone().or_else(|| self.fixed.clone())
    }

    /// The change that made this state, for the application's callback.
    fn change(&self, reason: ChangeReason) -> CredentialChange {
        let at_hand = self.obtained.as_ref().or(self.fixed.as_ref());
        CredentialChange {
            reason,
            scheme: self.auth.scheme_name(),
            credential: at_hand.and_then(|c| c.keep.clone()),
            expires_at: self.expires,
        }
    }
}

impl AuthCell {
    /// The cell for `auth`, started from a credential the application stored, if any.
    pub(crate) fn new(
        auth: Auth,
        stored: Option<&Secret>,
        notifier: Option<Notifier>,
    ) -> Result<Self, Error> {
        let mut state = AuthState::new(auth, 0)?;
        if let Some(stored) = stored {
            let restored = match state.auth.source_dyn() {
                Some(source) if state.fixed.is_none() && source.keeps_obtained() => source.restore(stored),
                _ => None,
            };
            let restored = restored.ok_or_else(|| {
                Error::config(
                    crate::error::ConfigKind::StoredCredential,
                    format!(
                        "the {} scheme cannot start from a stored credential",
                        state.auth.scheme_name()
                    ),
                )
            })??;
            state.obtained = Some(restored.redacting(state.auth.secrets()));
        }
        Ok(AuthCell {
            state: std::sync::RwLock::new(state),
            refresh: tokio::sync::Mutex::new(None),
            failures: AtomicU64::new(0),
            notifier,
        })
    }

    /// Whether a credential obtained for the current scheme is held.
    pub(crate) fn holds_obtained(&self) -> bool {
        self.read().obtained.is_some()
    }

    /// Waits until the application's callback has seen every change so far.
    pub(crate) async fn flush_changes(&self) {
        if let Some(notifier) = &self.notifier {
            notifier.flush().await;
        }
    }

    /// Tells the application's callback, if any.
    fn notify(&self, state: &AuthState, reason: ChangeReason) {
        if let Some(notifier) = &self.notifier {
            notifier.notify(state.change(reason), false);
        }
    }

    /// A change a source reports itself (a refresh token it rotated).
    pub(crate) fn report(&self, reason: ChangeReason, credential: Secret) {
        if let Some(notifier) = &self.notifier {
            let state = self.read();
            notifier.notify(
                CredentialChange {
                    reason,
                    scheme: state.auth.scheme_name(),
                    credential: Some(credential),
                    expires_at: None,
                },
                false,
            );
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, AuthState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, AuthState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn auth(&self) -> Auth {
        self.read().auth.clone()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.read().generation
    }

    pub(crate) fn can_refresh(&self) -> bool {
        self.read().auth.source_dyn().is_some_and(|s| s.can_refresh())
    }

    /// Replaces the credentials.
    pub(crate) fn set(&self, auth: Auth, reason: ChangeReason) -> Result<(), Error> {
        let mut state = self.write();
        *state = AuthState::new(auth, state.generation + 1)?;
        self.notify(&state, reason);
        Ok(())
    }

    /// Replaces the credentials only if nothing changed them since `based_on`; whether it did.
    pub(crate) fn set_if(&self, based_on: u64, auth: Auth, reason: ChangeReason) -> Result<bool, Error> {
        let mut state = self.write();
        if state.generation != based_on {
            return Ok(false);
        }
        *state = AuthState::new(auth, based_on + 1)?;
        self.notify(&state, reason);
        Ok(true)
    }

    /// Replaces the credentials and records a credential already obtained for them (the
    /// session a password change answered, under a login-on-demand scheme).
    pub(crate) fn set_with_obtained(
        &self,
        auth: Auth,
        obtained: Credential,
        reason: ChangeReason,
    ) -> Result<(), Error> {
        let mut state = self.write();
        let mut next = AuthState::new(auth, state.generation + 1)?;
        next.obtained = Some(Credential {
            generation: next.generation,
            ..obtained.redacting(next.auth.secrets())
        });
        *state = next;
        self.notify(&state, reason);
        Ok(())
    }
}

impl AuthCell {
    /// The credential for the next attempt of a call `caller` makes: the fixed one, the one
    /// obtained and kept, or the work to obtain one.
    ///
    /// Synchronous for every scheme that has its credential at hand (the common case, so a
    /// call carries no future for it); a provider's answer or a login come as a boxed future.
    pub(crate) fn credential<'a>(
        &'a self,
        caller: &'a Caller,
        target: &'a Target,
    ) -> Result<CredentialStep<'a>, Error> {
        let state = self.read();
        if let Some(fixed) = &state.fixed {
            if let Some(exp) = state.expires
                && exp <= SystemTime::now()
            {
                let ago = SystemTime::now().duration_since(exp).unwrap_or_default();
                return Err(Error::auth(
                    target,
                    format!(
                        "the {} credential expired {} s ago; get a new one (or use a token provider)",
                        state.auth.scheme_name(),
                        ago.as_secs()
                    ),
                    None,
                ));
            }
            return Ok(CredentialStep::Ready(fixed.clone()));
        }
        let Some(source) = state.auth.source_dyn() else {
            return Ok(CredentialStep::Ready(Credential::none()));
        };
        if source.keeps_obtained() {
            if let Some(obtained) = &state.obtained {
                return Ok(CredentialStep::Ready(obtained.clone()));
            }
            let generation = state.generation;
            drop(state);
            return Ok(CredentialStep::Later(Box::pin(
                self.obtain(caller, target, generation, false),
            )));
        }
        // Asked for every attempt, outside the refresh lock (the source caches by itself).
        let (auth, generation) = (state.auth.clone(), state.generation);
        drop(state);
        Ok(CredentialStep::Later(Box::pin(async move {
            let source = auth.source_dyn().expect("checked above");
            let c = source
                .obtain(Obtain {
                    caller,
                    target,
                    refresh: false,
                })
                .await?;
            Ok(Credential { generation, ..c })
        })))
    }

    /// A fresh credential after `stale` was refused with a `401`: the current one when the
    /// credentials changed since `stale` was taken, otherwise one new credential from the
    /// source. One refresh at a time for the client and all its clones.
    pub(crate) fn refreshed_credential<'a>(
        &'a self,
        caller: &'a Caller,
        target: &'a Target,
        stale: &Credential,
    ) -> BoxFuture<'a, Result<Credential, Error>> {
        Box::pin(self.obtain(caller, target, stale.generation, true))
    }

    /// Gets a credential for generation `seen` under the refresh lock: if another call
    /// already did (the generation moved on, or a first login landed), that one is used.
    async fn obtain(
        &self,
        caller: &Caller,
        target: &Target,
        seen: u64,
        refresh: bool,
    ) -> Result<Credential, Error> {
        let cell = self;
        let failures = cell.failures.load(Ordering::SeqCst);
        let mut last_failure = cell.refresh.lock().await;
        let (auth, generation) = {
            let state = cell.read();
            // The refresh this call waited for failed, for these same credentials.
            if let Some(failed) = last_failure.as_ref()
                && cell.failures.load(Ordering::SeqCst) != failures
                && failed.generation == seen
                && state.generation == seen
            {
                return Err(Error::auth(
                    target,
                    format!(
                        "a concurrent call's attempt to renew the credentials failed: {}",
                        failed.message
                    ),
                    failed.source.clone().map(Into::into),
                ));
            }
            if (state.generation != seen || (!refresh && state.obtained.is_some()))
                && let Some(c) = state.at_hand()
            {
                return Ok(c);
            }
            match state.auth.source_dyn() {
                Some(_) if state.fixed.is_none() => {}
                // Nothing to obtain: what the client has is all there is.
                _ => return Ok(state.at_hand().unwrap_or_default()),
            }
            (state.auth.clone(), state.generation)
        };
        let source = auth.source_dyn().expect("checked above");
        let obtained = source
            .obtain(Obtain {
                caller,
                target,
                refresh,
            })
            .await;
        let obtained = match obtained {
            Ok(c) => {
                *last_failure = None;
                c.redacting(auth.secrets())
            }
            Err(err) => {
                *last_failure = Some(FailedRefresh {
                    generation,
                    message: err.to_string(),
                    source: std::error::Error::source(&err).map(ToString::to_string),
                });
                cell.failures.fetch_add(1, Ordering::SeqCst);
                return Err(err);
            }
        };
        let mut state = cell.write();
        if state.generation != generation {
            // The credentials were replaced while this one was being obtained: it belongs
            // to the old ones, so it is used for this call only.
            return Ok(Credential {
                generation,
                ..obtained
            });
        }
        state.generation += 1;
        let credential = Credential {
            generation: state.generation,
            ..obtained
        };
        state.obtained = Some(credential.clone());
        if let Some(notifier) = &self.notifier {
            let reason = if refresh {
                ChangeReason::Refresh
            } else {
                ChangeReason::Login
            };
            // A source that reported this credential itself has told the application.
            notifier.notify(state.change(reason), true);
        }
        Ok(credential)
    }
}
