//! What only the async-std backend does: work on async-std's global
//! executor, `!Send` work on crochet's own thread, and blocking threads.

use std::thread;
use std::time::Duration;

use crochet_async_std::AsyncStd;
use crochet_core::Reactor;

const PROMPTLY: Duration = Duration::from_secs(10);

fn thread_name() -> String {
    thread::current().name().unwrap_or_default().to_owned()
}

#[test]
fn send_work_runs_on_async_std_and_local_work_on_crochets_thread() {
    let reactor =
        Reactor::start(AsyncStd::builder().thread_name("crochet-as-local")).expect("start");
    let send = reactor
        .run_in_reactor(|| async { thread_name() })
        .wait_timeout(PROMPTLY)
        .expect("ran");
    assert!(send.starts_with("async-std"), "{send}");
    let local = reactor
        .run_in_reactor_local(|| async { std::rc::Rc::new(thread_name()).as_ref().clone() })
        .wait_timeout(PROMPTLY)
        .expect("ran");
    assert_eq!(local, "crochet-as-local");
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

#[test]
fn waits_inside_spawn_blocking_are_allowed() {
    let reactor = Reactor::start(AsyncStd::builder()).expect("start");
    let other = reactor.clone();
    let outcome = reactor
        .wait_for(PROMPTLY, move || {
            async_std::task::spawn_blocking(move || other.wait_for(PROMPTLY, || async { 7 }))
        })
        .expect("ran");
    assert_eq!(outcome.expect("not refused"), 7);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}
