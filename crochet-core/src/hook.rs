//! Failures that nobody observed, and the hook that reports them: the
//! process-wide one, and a reactor's own ([`HookSlot`]).

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, PoisonError, RwLock, TryLockError};

use crate::error::{Failure, WaitError};
use crate::fork::ForkCheck;
use crate::panic;

/// Where an operation came from: the submitting call site and the type of
/// the closure. Both are `'static`, so carrying them costs nothing.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) location: &'static Location<'static>,
    /// `type_name` of the closure.
    name: &'static str,
}

impl Origin {
    #[track_caller]
    pub(crate) fn of<F>() -> Origin {
        Origin {
            location: Location::caller(),
            name: std::any::type_name::<F>(),
        }
    }

    /// An origin from its parts: where, and `type_name` of the closure.
    pub(crate) fn new(location: &'static Location<'static>, name: &'static str) -> Origin {
        Origin { location, name }
    }

    /// The type name of the submitted closure.
    pub(crate) fn operation(&self) -> &'static str {
        self.name
    }
}

/// A failure that no caller observed: its result was dropped without being
/// waited, or it finished after every handle was gone.
///
/// Handed to the hook set with [`set_failure_hook`]. Cancellation that a
/// caller asked for and results stopped by shutdown are not failures and
/// are never reported.
pub struct UnobservedFailure<'a> {
    error: &'a WaitError<Failure>,
    origin: &'a Origin,
}

impl UnobservedFailure<'_> {
    /// The error the operation ended with.
    pub fn error(&self) -> &WaitError<Failure> {
        self.error
    }

    /// Where the operation was submitted.
    pub fn location(&self) -> &'static Location<'static> {
        self.origin.location
    }

    /// The type name of the submitted closure, which names the function it
    /// was written in.
    pub fn operation(&self) -> &'static str {
        self.origin.operation()
    }
}

impl fmt::Debug for UnobservedFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnobservedFailure")
            .field("error", self.error)
            .field("location", &format_args!("{}", self.origin.location))
            .field("operation", &self.origin.operation())
            .finish()
    }
}

pub(crate) type Hook = Arc<dyn Fn(&UnobservedFailure<'_>) + Send + Sync + 'static>;

/// A reactor's own hook, which replaces the process-wide one for its
/// operations.
pub(crate) type HookSlot = RwLock<Option<Hook>>;

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// Replaces how unobserved failures are reported, process-wide.
///
/// The default logs one `tracing` event at error level, target `crochet`,
/// with the error, the submitting location and the operation; where
/// nothing listens (no `tracing` subscriber, and no `log` logger), it
/// writes the same line to stderr instead, so that a lost failure is never
/// silent. The hook runs
/// on whichever thread noticed the failure (a reactor thread, or the thread
/// that dropped the last handle); a panic in it is contained and logged.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static SEEN: AtomicUsize = AtomicUsize::new(0);
/// crochet_core::set_failure_hook(|failure| {
///     SEEN.fetch_add(1, Ordering::SeqCst);
///     eprintln!("lost failure at {}: {}", failure.location(), failure.error());
/// });
/// # crochet_core::reset_failure_hook();
/// ```
pub fn set_failure_hook(hook: impl Fn(&UnobservedFailure<'_>) + Send + Sync + 'static) {
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
}

/// Restores the default report (the `tracing` event).
pub fn reset_failure_hook() {
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = None;
}

/// The hook in `slot`, unless its lock is busy in a forked child (a
/// parent thread setting a hook at the fork would never release it): the
/// default report then.
fn read_hook(slot: &HookSlot, fork: &ForkCheck) -> Option<Hook> {
    match slot.try_read() {
        Ok(hook) => hook.clone(),
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().clone(),
        Err(TryLockError::WouldBlock) if fork.forked().is_some() => None,
        Err(TryLockError::WouldBlock) => {
            slot.read().unwrap_or_else(PoisonError::into_inner).clone()
        }
    }
}

/// An error's message followed by its causes (`source()` chain), as one
/// line: `"request failed: connection refused"`. Log lines that showed only
/// the top message would hide the reason in many wrapped errors.
pub(crate) fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Wrappers that repeat their cause's message add nothing.
        if !line.ends_with(&cause_text) {
            line.push_str(": ");
            line.push_str(&cause_text);
        }
        source = cause.source();
    }
    line
}

/// Reports one unobserved failure through the reactor's hook, else the
/// process-wide one, or logs it.
pub(crate) fn unobserved(
    error: &WaitError<Failure>,
    origin: &Origin,
    reactor: Option<&HookSlot>,
    fork: &ForkCheck,
) {
    report(error, origin, reactor, fork, |error| {
        emit(&format!("unobserved failure: {}", describe(error)), origin);
    });
}

/// Reports a failed periodic tick like any unobserved failure: through the
/// hook, or a log line that says the task goes on.
pub(crate) fn failed_tick(
    error: &WaitError<Failure>,
    origin: &Origin,
    reactor: Option<&HookSlot>,
    fork: &ForkCheck,
) {
    report(error, origin, reactor, fork, |error| {
        let failure = match error {
            WaitError::Panicked(panic) => format!("panicked: {}", panic.message()),
            other => describe(other),
        };
        emit(
            &format!("periodic tick failed: {failure}; the next tick runs on schedule"),
            origin,
        );
    });
}

/// What failed, as one line: the operation's own error with its causes,
/// or what crochet says of its own failures.
fn describe(error: &WaitError<Failure>) -> String {
    match error {
        WaitError::Failed(failure) => with_causes(failure),
        other => with_causes(other),
    }
}

/// The default report, `line`: one `tracing` event at error level (target
/// `crochet`, with the operation and where it was submitted) when anything
/// listens, else one line on stderr, so that no failure is lost silently.
fn emit(line: &str, origin: &Origin) {
    if listened() {
        tracing::error!(
            target: "crochet",
            operation = origin.operation(),
            location = %origin.location,
            "{line}"
        );
    } else {
        eprintln!(
            "crochet: {line} (operation {}, submitted at {})",
            origin.operation(),
            origin.location
        );
    }
}

/// Whether a `tracing` event would reach anything: a subscriber of the
/// calling thread (its own, or the global default), or, where no subscriber
/// was ever set, a `log` logger (tracing's events go to `log` then).
fn listened() -> bool {
    let subscribed = tracing::dispatcher::get_default(|dispatch| {
        !dispatch.is::<tracing::subscriber::NoSubscriber>()
    });
    subscribed
        || (!tracing::dispatcher::has_been_set() && log::max_level() >= log::LevelFilter::Error)
}

fn report(
    error: &WaitError<Failure>,
    origin: &Origin,
    reactor: Option<&HookSlot>,
    fork: &ForkCheck,
    log: impl FnOnce(&WaitError<Failure>),
) {
    let failure = UnobservedFailure { error, origin };
    let own = reactor.and_then(|slot| read_hook(slot, fork));
    let hook = own.or_else(|| read_hook(&HOOK, fork));
    // The hook, or the error's own `Display` in the default report, is user
    // code: a panic in it must not unwind into the reactor.
    let reported = panic::catch(|| match hook {
        Some(hook) => hook(&failure),
        None => log(error),
    });
    if let Err(panic) = reported {
        tracing::error!(
            target: "crochet",
            panic = panic.message(),
            "reporting an unobserved failure panicked (in the hook, or in the error's Display); the panic was contained"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|layer| layer as _)
        }
    }

    #[test]
    fn with_causes_joins_the_chain_and_skips_repeats() {
        let refused = Layer("connection refused", None);
        let connect = Layer(
            "connect failed: connection refused",
            Some(Box::new(refused)),
        );
        let request = Layer("request failed", Some(Box::new(connect)));
        assert_eq!(
            with_causes(&request),
            "request failed: connect failed: connection refused"
        );
    }
}
