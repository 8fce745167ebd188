//! W5 inline: `wait_for` polls its future on the caller's thread, inside
//! the reactor's runtime context, and keeps every promise the reactor's
//! thread keeps: a timeout drops the future before it returns, shutdown
//! ends it and waits for the drop, a panic comes back typed, a reactor
//! thread is refused, the caller's span follows; and, since the future
//! never outlives the call, it may borrow from the caller's stack.

use std::rc::Rc;
use std::thread;
use std::time::{Duration, Instant};

use crochet_core::{OperationState, WaitError};

use crate::support::{
    Flag, Gate, HeldPort, Logs, PROMPTLY, assert_port_free, free_address, quiet_panics,
};
use crate::{Fixture, Running};

/// Rounds of the port case: a slow release would show in one of them.
const ROUNDS: usize = 40;

/// A `wait_for` that times out has dropped its future, on the caller's
/// own thread, before it returns: the port the future held is free, every
/// one of 40 rounds, and the timeout says `Cancelled`. The same for a
/// borrowing `wait_for_ref`.
pub fn w5_inline_timeout_drops_the_future_before_it_returns(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let address = free_address();
    let caller = thread::current().id();
    for round in 0..ROUNDS {
        let released = Flag::new();
        let port = released.clone();
        let gate = Gate::new();
        let opened = gate.opened();
        let timeout = Duration::from_millis(if round % 2 == 0 { 1 } else { 20 });
        let outcome = if round < ROUNDS / 2 {
            running.wait_for(timeout, move || {
                let held = HeldPort::bind(address, &port);
                async move {
                    let _held = held;
                    assert_eq!(thread::current().id(), caller, "polled on the caller");
                    opened.await;
                }
            })
        } else {
            let held = &mut Some(HeldPort::bind(address, &port));
            running.wait_for_ref(timeout, || async move {
                let _held = held.take();
                opened.await;
            })
        };
        match outcome {
            Err(WaitError::Timeout { after, state }) => {
                assert_eq!(state, OperationState::Cancelled, "round {round}");
                assert!(after >= timeout, "round {round}: after {after:?}");
            }
            other => panic!("{} round {round}: {other:?}", fixture.name()),
        }
        assert_port_free(
            address,
            &released,
            &format!("{} round {round}, after the timeout", fixture.name()),
        );
    }
    // Counted as the reactor's thread counts them.
    assert_eq!(
        running.stats().timed_out_waits,
        ROUNDS as u64,
        "{}",
        fixture.name()
    );
}

/// A future whose poll parks its own thread (a std channel's
/// `recv_timeout`, here while its wake arrives) uses up the thread's park
/// token: the inline wait still hears the wake, and polls again at once
/// instead of sleeping until its deadline.
pub fn w5_inline_wait_hears_a_wake_that_the_poll_parked_through(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    for _ in 0..5 {
        let started = Instant::now();
        let outcome = running.wait_for_ref(PROMPTLY, || EatsItsWake { polls: 0 });
        assert_eq!(outcome.expect("ready on its second poll"), 2);
        assert!(
            started.elapsed() < PROMPTLY / 2,
            "{}: slept through its wake ({:?})",
            fixture.name(),
            started.elapsed()
        );
    }
}

/// Pending on its first poll, after arranging a wake 10 ms later and
/// parking its thread for 200 ms meanwhile; ready on its second.
struct EatsItsWake {
    polls: u32,
}

impl std::future::Future for EatsItsWake {
    type Output = u32;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u32> {
        self.polls += 1;
        if self.polls > 1 {
            return std::task::Poll::Ready(self.polls);
        }
        let waker = cx.waker().clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            waker.wake();
        });
        // Parks this thread (std's channels park and unpark it): the wake
        // above unparks it, and the receive sleeps on.
        let (_sender, receiver) = std::sync::mpsc::channel::<()>();
        let _ = receiver.recv_timeout(Duration::from_millis(200));
        std::task::Poll::Pending
    }
}

/// Shutdown reaches a future that runs on a caller's thread: the caller
/// drops it and answers `ReactorStopped`, and shutdown's `Ok` comes only
/// after that drop (what the future held is free by then).
pub fn r7_shutdown_ends_an_inline_wait_for_after_its_drop(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let address = free_address();
    let released = Flag::new();
    let port = released.clone();
    let bound = Flag::new();
    let signal = bound.clone();
    let reactor = running.reactor.clone();
    let caller = thread::spawn(move || {
        reactor.wait_for(PROMPTLY * 3, move || {
            let held = HeldPort::bind(address, &port);
            signal.set();
            async move {
                let _held = held;
                std::future::pending::<()>().await;
            }
        })
    });
    assert!(bound.wait(PROMPTLY), "{}: never started", fixture.name());
    assert_eq!(running.pending_operations(), 1, "{}", fixture.name());
    running.shutdown(PROMPTLY).expect("shutdown");
    assert_port_free(
        address,
        &released,
        &format!("{}, after shutdown's Ok", fixture.name()),
    );
    let outcome = caller.join().expect("the caller");
    assert!(
        matches!(outcome, Err(WaitError::ReactorStopped)),
        "{}: {outcome:?}",
        fixture.name()
    );
    // After shutdown, a new inline wait is refused as any submission is,
    // and so is a borrowing one, also on a reactor that never ran.
    let late = running.wait_for(PROMPTLY, || async { 1 });
    assert!(
        matches!(late, Err(WaitError::ReactorStopped)),
        "{}: {late:?}",
        fixture.name()
    );
    let never_ran = crochet_core::Reactor::new();
    never_ran.no_setup().expect("no_setup");
    never_ran.shutdown(PROMPTLY).expect("shutdown");
    for reactor in [&running.reactor, &never_ran] {
        let late = reactor.wait_for_ref(PROMPTLY, || async { 1 });
        assert!(
            matches!(late, Err(WaitError::ReactorStopped)),
            "{}: {late:?}",
            fixture.name()
        );
    }
}

/// A panic in the closure or in the future, polled on the caller's thread,
/// comes back as `Panicked` with its message; the reactor and the caller
/// go on.
pub fn e1_an_inline_panic_reaches_the_caller_typed(fixture: &'static dyn Fixture) {
    quiet_panics("inline panic");
    let running = Running::start(fixture);
    let in_closure = running.wait_for(PROMPTLY, || -> std::future::Ready<u32> {
        panic!("inline panic in the closure")
    });
    let in_future = running.wait_for(PROMPTLY, || async {
        std::future::ready(()).await;
        panic!("inline panic in the future")
    });
    let borrowed = &String::from("inline panic, borrowed");
    let in_ref = running.wait_for_ref(PROMPTLY, || async move { panic!("{borrowed}") });
    for (outcome, message) in [
        (in_closure.map(|_| ()), "inline panic in the closure"),
        (in_future, "inline panic in the future"),
        (in_ref, "inline panic, borrowed"),
    ] {
        match outcome {
            Err(WaitError::Panicked(panic)) => assert_eq!(panic.message(), message),
            other => panic!("{}: expected a panic, got {other:?}", fixture.name()),
        }
    }
    assert_eq!(
        running.wait_for(PROMPTLY, || async { 7 }).expect("after"),
        7
    );
    assert_eq!(running.pending_operations(), 0, "{}", fixture.name());
}

/// On a reactor thread, `wait_for` and `wait_for_ref` are refused with
/// `WaitInReactor` before anything runs, as every blocking wait is.
pub fn e3_inline_wait_for_on_a_reactor_thread_is_refused(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let reactor = running.reactor.clone();
    let ran = Flag::new();
    let (ran_owned, ran_borrowed) = (ran.clone(), ran.clone());
    let outcome = running.run_in_reactor(move || async move {
        let owned = reactor.wait_for(PROMPTLY, move || {
            ran_owned.set();
            async {}
        });
        let borrowed = reactor.wait_for_ref(PROMPTLY, || {
            ran_borrowed.set();
            async {}
        });
        (owned, borrowed)
    });
    let (owned, borrowed) = outcome.wait_timeout(PROMPTLY).expect("the outcome");
    for refused in [owned, borrowed] {
        assert!(
            matches!(refused, Err(WaitError::WaitInReactor { .. })),
            "{}: {refused:?}",
            fixture.name()
        );
    }
    assert!(!ran.is_set(), "{}: a refused wait ran", fixture.name());
}

/// `wait_for_ref` runs a future that borrows from the caller's stack and
/// is not `Send`, on the caller's thread, in the runtime's context: its
/// timers and its spawned tasks work as on a reactor thread.
pub fn w5_wait_for_ref_runs_a_borrowed_future_in_the_runtime_context(
    fixture: &'static dyn Fixture,
) {
    let running = Running::start(fixture);
    let caller = thread::current().id();
    let text = &String::from("borrowed");
    let local = &Rc::new(5_u32);
    let started = Instant::now();
    let outcome = running.wait_for_ref(PROMPTLY, || async move {
        fixture.sleep(Duration::from_millis(20)).await;
        let probed = fixture.runtime_context_probe().await;
        assert_eq!(thread::current().id(), caller, "polled on the caller");
        (text.len(), **local, probed)
    });
    assert_eq!(outcome.expect("the borrowed future"), (8, 5, 42));
    assert!(started.elapsed() >= Duration::from_millis(20));
    let mut counts = vec![0_u32; 3];
    let counting = &mut counts;
    let fallible = running.wait_for_fallible_ref(PROMPTLY, || async move {
        counting[1] += 1;
        if counting[1] == 1 {
            Err(std::io::Error::other("a typed failure"))
        } else {
            Ok(())
        }
    });
    assert!(
        matches!(&fallible, Err(WaitError::Failed(error)) if error.to_string() == "a typed failure"),
        "{}: {fallible:?}",
        fixture.name()
    );
    assert_eq!(counts, [0, 1, 0], "the borrowed counter, written");
}

/// The caller's `tracing` span follows a future polled on its own thread,
/// as it follows work into the reactor.
pub fn l2_caller_span_follows_an_inline_wait_for(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    let span = tracing::info_span!("request", id = 9);
    let entered = span.enter();
    running
        .wait_for(PROMPTLY, move || {
            tracing::info!("closure ran inline");
            async move {
                fixture.sleep(Duration::from_millis(1)).await;
                tracing::info!("future ran inline");
            }
        })
        .expect("ran");
    drop(entered);
    for message in ["closure ran inline", "future ran inline"] {
        let lines = logs.lines_with(&[message]);
        assert_eq!(lines.len(), 1, "{}", logs.text());
        assert!(lines[0].contains("request{id=9}"), "{}", lines[0]);
    }
}
