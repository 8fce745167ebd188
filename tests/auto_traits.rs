//! Pins the auto traits of the public types: a change here is a breaking
//! change for users who send handles across threads.

use crochet::{
    Error, EventualResult, Failure, NotStashed, Panic, ParseStashIdError, Reactor, RetrieveError,
    SetupError, SharedResult, ShutdownError, ShutdownGuard, StashId, StashPolicy, TryNextError,
    Unsupported, WaitError, WaitSet,
};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn handles_are_send_sync_and_unpin_when_the_value_is_send() {
    send::<EventualResult<String>>();
    sync::<EventualResult<String>>();
    unpin::<EventualResult<String>>();
    // A `Send` but `!Sync` value still makes a `Sync` handle: the value
    // only moves, it is never shared.
    send::<EventualResult<std::cell::Cell<u8>>>();
    sync::<EventualResult<std::cell::Cell<u8>>>();
    send::<SharedResult<Vec<u8>>>();
    sync::<SharedResult<Vec<u8>>>();
    unpin::<SharedResult<Vec<u8>>>();
    // With an error type of the operation's own.
    send::<EventualResult<String, std::io::Error>>();
    sync::<EventualResult<String, std::io::Error>>();
    unpin::<EventualResult<String, std::io::Error>>();
    send::<SharedResult<Vec<u8>, std::sync::Arc<std::io::Error>>>();
    sync::<SharedResult<Vec<u8>, std::sync::Arc<std::io::Error>>>();
    send::<NotStashed<u8>>();
    send::<NotStashed<u8, std::io::Error>>();
    send::<WaitSet<EventualResult<String>>>();
    sync::<WaitSet<EventualResult<String>>>();
    send::<WaitSet<&SharedResult<Vec<u8>>>>();
}

#[test]
fn reactor_and_guards_cross_threads() {
    send::<Reactor>();
    sync::<Reactor>();
    send::<ShutdownGuard>();
    sync::<ShutdownGuard>();
    send::<StashId>();
    sync::<StashId>();
    send::<StashPolicy>();
}

#[test]
fn errors_are_std_errors_that_cross_threads() {
    error::<Error>();
    error::<WaitError>();
    error::<WaitError<std::io::Error>>();
    error::<SetupError>();
    error::<ShutdownError>();
    error::<RetrieveError>();
    error::<ParseStashIdError>();
    error::<Unsupported>();
    error::<Failure>();
    send::<NotStashed<u8>>();
    error::<TryNextError>();
    send::<Panic>();
    sync::<Panic>();
}

/// `Probe::<T>::is_send()` is the inherent method (true) when `T: Send`,
/// else the trait's (false): a runtime answer to a compile-time question.
struct Probe<T>(std::marker::PhantomData<T>);

impl<T: Send> Probe<T> {
    fn is_send(&self) -> bool {
        true
    }
}

trait NotSend {
    fn is_send(&self) -> bool {
        false
    }
}

impl<T> NotSend for Probe<T> {}

#[test]
fn a_reactor_guard_stays_on_its_thread() {
    // Its `Drop` unmarks the thread it marked: on another thread it would
    // unmark the wrong one.
    assert!(!Probe::<crochet::backend::ReactorGuard>(std::marker::PhantomData).is_send());
    assert!(Probe::<Reactor>(std::marker::PhantomData).is_send());
}
