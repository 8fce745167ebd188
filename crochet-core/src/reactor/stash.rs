//! The reactor's stash, as the reactor offers it: retrieving a result,
//! and the policy that bounds it.

use super::Reactor;
use crate::error::RetrieveError;
use crate::eventual::EventualResult;
use crate::stash_id::StashId;
use crate::store::StashPolicy;

impl Reactor {
    /// Takes a result stashed in this reactor's stash (by
    /// [`EventualResult::stash`] on one of its results) back out.
    ///
    /// Each id gives its result back once; the result may still be pending
    /// (wait for it, or stash it again under a new id).
    ///
    /// # Errors
    ///
    /// [`RetrieveError::NotFound`] for an id that was already retrieved,
    /// that expired or that never existed here;
    /// [`RetrieveError::WrongType`] when the result under `id` is not an
    /// `EventualResult<T, E>`, in which case it stays in the stash.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// # use std::convert::Infallible;
    /// # use crochet_core::EventualResult;
    /// # use crochet_core::NotStashed;
    /// let id = reactor.run_in_reactor(|| async { 7 }).stash()?;
    /// let cookie = id.to_string();
    ///
    /// // ... a later request brings the cookie back:
    /// let result: EventualResult<i32> = reactor.retrieve_result(cookie.parse()?)?;
    /// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 7);
    /// assert!(reactor.retrieve_result::<i32, Infallible>(cookie.parse()?).is_err());
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn retrieve_result<T: Send + 'static, E: Send + 'static>(
        &self,
        id: StashId,
    ) -> Result<EventualResult<T, E>, RetrieveError> {
        crate::stash::retrieve(self.config(), id)
    }

    /// Sets how this reactor's stash is bounded. A smaller capacity does
    /// not evict entries already stashed; a shorter time-to-live applies to
    /// them at the next stash or retrieve.
    pub fn set_stash_policy(&self, policy: StashPolicy) {
        self.config().stash.set_policy(policy, &self.config().fork);
    }

    /// How many results this reactor's stash holds (expired ones included
    /// until the next stash or retrieve sweeps them).
    pub fn stash_len(&self) -> usize {
        self.config().stash.len(&self.config().fork)
    }
}
