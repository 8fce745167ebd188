//! A result whose reactor is gone (its last `Reactor` handle dropped, no
//! `shutdown` called) answers at once, even when its runtime never ran
//! the operation: the drop ends what it can reach, and a wait ends the
//! rest itself, without first waiting to register.
#![cfg(feature = "tokio")]

use std::time::Duration;

use crochet::{Reactor, WaitError};

#[test]
fn a_wait_on_a_dropped_reactor_answers_at_once() {
    // A current-thread runtime that nothing drives: what is spawned on it
    // is never polled, and nothing drops it before the runtime goes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let reactor = Reactor::new();
    reactor
        .attach(crochet::backends::tokio::Tokio::from_handle(
            runtime.handle().clone(),
        ))
        .expect("attach");
    let result = reactor.run_in_reactor(|| async { 7 });
    drop(reactor);
    // Shorter than the 10 ms a blocked wait parks before it registers:
    // the answer must not depend on that.
    let answer = result.wait_timeout(Duration::from_millis(9));
    assert!(
        matches!(answer, Err(WaitError::ReactorStopped)),
        "{answer:?}"
    );
    drop(runtime);
}
