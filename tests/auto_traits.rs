//! Pins the auto traits of the public types: a change here is a breaking
//! change for users who send handles across threads.

use crochet::{
    Error, ErrorKind, EventualResult, Failure, Panic, Reactor, SharedResult, ShutdownGuard,
    StashFull, StashId, StashPolicy, TryNextError, WaitSet,
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
    send::<StashFull<u8>>();
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
    error::<Failure>();
    error::<StashFull<u8>>();
    error::<TryNextError>();
    send::<Panic>();
    sync::<Panic>();
    send::<ErrorKind>();
    sync::<ErrorKind>();
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
    assert!(!Probe::<crochet_core::context::ReactorGuard>(std::marker::PhantomData).is_send());
    assert!(Probe::<Reactor>(std::marker::PhantomData).is_send());
}
