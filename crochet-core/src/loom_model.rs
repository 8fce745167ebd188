//! A loom model of the completion cell: every interleaving (up to loom's
//! preemption bound) of completing, cancelling, shutting down, waiting
//! with and without a timeout, awaiting, and dropping the last handle.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p crochet-core --release --lib loom_model`
//! (in a target directory of its own, so the normal build is not redone).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use loom::thread;

use crate::completion::{self, Completion, Outcome};
use crate::error::WaitError;
use std::panic::Location;

type Cell = Completion<u32, &'static str>;

fn cell() -> Arc<Cell> {
    Completion::new::<()>(Location::caller(), None)
}

/// The outcome with its error reduced to the variant's name.
fn kind(
    outcome: Option<Result<u32, WaitError<&'static str>>>,
) -> Option<Result<u32, &'static str>> {
    outcome.map(|result| result.map_err(|error| name(&error)))
}

fn name(error: &WaitError<&'static str>) -> &'static str {
    match error {
        WaitError::Failed(_) => "Failed",
        WaitError::FailureTaken => "FailureTaken",
        WaitError::Timeout { .. } => "Timeout",
        WaitError::Cancelled => "Cancelled",
        WaitError::Panicked(_) => "Panicked",
        WaitError::ReactorStopped => "ReactorStopped",
        WaitError::AlreadyRetrieved => "AlreadyRetrieved",
        WaitError::WaitInReactor { .. } => "WaitInReactor",
        WaitError::NotSetUp => "NotSetUp",
        WaitError::Forked { .. } => "Forked",
        WaitError::Unsupported(_) => "Unsupported",
    }
}

/// A waiter parked without a timeout is woken by the completion and gets
/// the value.
#[test]
fn complete_wakes_a_blocked_waiter() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.complete(Outcome::Value(7))))
        };
        let got = cell.wait_until(None, completion::take);
        assert_eq!(kind(got), Some(Ok(7)));
        producer.join().unwrap();
    });
}

/// Cancel and complete race: exactly one of them decides the outcome, and
/// the waiter sees that one. (A cancel that comes first is a request: the
/// completing task publishes it instead of its value.)
#[test]
fn cancel_and_complete_exactly_one_wins() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.complete(Outcome::Value(7)))
        };
        let canceller = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.cancel())
        };
        let got = kind(cell.wait_until(None, completion::take));
        let completed = producer.join().unwrap();
        let cancelled = canceller.join().unwrap();
        assert!(completed != cancelled, "exactly one decides");
        if completed {
            assert_eq!(got, Some(Ok(7)));
        } else {
            assert_eq!(got, Some(Err("Cancelled")));
        }
    });
}

/// A wait that times out consumes nothing: the value that arrives around
/// it is still there afterwards.
#[test]
fn timed_out_wait_loses_nothing() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.complete(Outcome::Value(7))))
        };
        let deadline = completion::deadline_after(Duration::from_millis(10));
        let first = kind(cell.wait_until(deadline, completion::take));
        producer.join().unwrap();
        match first {
            None => assert_eq!(kind(cell.try_read(completion::take)), Some(Ok(7))),
            Some(got) => assert_eq!(got, Ok(7)),
        }
    });
}

/// Two consuming waiters: one gets the value, the other is told it was
/// taken; neither hangs.
#[test]
fn two_waiters_one_value() {
    loom::model(|| {
        let cell = cell();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let cell = Arc::clone(&cell);
                thread::spawn(move || kind(cell.wait_until(None, completion::take)))
            })
            .collect();
        assert!(cell.complete(Outcome::Value(7)));
        let mut got: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        got.sort_by_key(|outcome| format!("{outcome:?}"));
        assert_eq!(got, [Some(Err("AlreadyRetrieved")), Some(Ok(7))]);
    });
}

struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

struct Flag(loom::sync::atomic::AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The reactor task's protocol against cancellation: register the waker,
/// then re-check. Either the cancel wakes the task, or the task sees the
/// cancel request in its re-check; it is never left sleeping on a
/// cancelled cell (whose outcome only it can then publish).
#[test]
fn cancel_never_strands_the_reactor_task() {
    loom::model(|| {
        let cell = cell();
        let woken = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
        let task = {
            let cell = Arc::clone(&cell);
            let waker = Waker::from(Arc::clone(&woken));
            thread::spawn(move || {
                cell.register_task(&waker)
                    .expect("no reactor: nothing to refuse");
                cell.should_stop()
            })
        };
        assert!(cell.cancel());
        let saw_cancel = task.join().unwrap();
        assert!(saw_cancel || woken.0.load(Ordering::SeqCst));
    });
}

/// Shutdown's interrupt and the task's completion race like cancel does.
#[test]
fn shutdown_and_complete_exactly_one_wins() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.complete(Outcome::Value(7)))
        };
        let stopped = cell.force(WaitError::ReactorStopped);
        let completed = producer.join().unwrap();
        assert!(stopped != completed);
        let got = kind(cell.try_read(completion::take));
        let expected = if completed {
            Ok(7)
        } else {
            Err("ReactorStopped")
        };
        assert_eq!(got, Some(expected));
    });
}

/// An async waiter is woken by the completion.
#[test]
fn awaiting_task_is_woken() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.complete(Outcome::Value(7))))
        };
        // A minimal `block_on` on loom's park: poll, park until woken.
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut context = Context::from_waker(&waker);
        let mut key = None;
        let got = loop {
            match cell.poll_read(&mut context, &mut key, completion::take) {
                Poll::Ready(got) => break got,
                Poll::Pending => thread::park(),
            }
        };
        assert_eq!(got.map_err(|e| name(&e)), Ok(7));
        producer.join().unwrap();
    });
}

static REPORTS: AtomicUsize = AtomicUsize::new(0);

/// A failure that meets the last handle going away is reported exactly
/// once, whichever comes first.
#[test]
fn failure_is_reported_once_whatever_the_order() {
    crate::set_failure_hook(|_| {
        REPORTS.fetch_add(1, Ordering::SeqCst);
    });
    loom::model(|| {
        REPORTS.store(0, Ordering::SeqCst);
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                assert!(cell.complete(Outcome::Failed("lost", crate::Failure::new::<&str>)));
            })
        };
        cell.drop_handle(None);
        producer.join().unwrap();
        assert_eq!(REPORTS.load(Ordering::SeqCst), 1);
    });
    crate::reset_failure_hook();
}

/// Drop first, then publish: a waiter that hears `Cancelled` finds the
/// future already dropped, whatever the interleaving of the cancel, the
/// reactor task (which parks after one pending poll, as a runtime would
/// leave it until woken) and the waiter.
#[test]
fn cancelled_is_heard_only_after_the_future_is_dropped() {
    loom::model(|| {
        let cell = cell();
        let dropped = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let task = {
            let cell = Arc::clone(&cell);
            let dropped = Arc::clone(&dropped);
            thread::spawn(move || {
                // One poll: pending, waker registered, re-checked.
                let waker = Waker::from(Arc::new(Unpark(thread::current())));
                cell.register_task(&waker)
                    .expect("no reactor: nothing to refuse");
                while !cell.should_stop() {
                    thread::park();
                }
                // Woken (or saw it at the re-check): drop, then publish.
                dropped.store(true, Ordering::SeqCst);
                // Publishes the requested end (`Cancelled`), not its default.
                assert!(cell.force(WaitError::ReactorStopped));
            })
        };
        let canceller = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.cancel()))
        };
        let got = kind(cell.wait_until(None, completion::take));
        assert_eq!(got, Some(Err("Cancelled")));
        assert!(
            dropped.load(Ordering::SeqCst),
            "Cancelled was heard before the future was dropped"
        );
        canceller.join().unwrap();
        task.join().unwrap();
    });
}

/// A waker that does nothing, for a task that registers.
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// The registry entry of an operation leaves exactly once, whichever of
/// its end and its last handle's drop comes last, when its task registered
/// it (its first poll did not finish it): never leaked, never removed
/// twice.
#[test]
fn registry_entry_leaves_once_whatever_the_order() {
    loom::model(|| {
        let registry = crate::registry::Registry::new();
        let cell: Arc<Cell> = Completion::new::<()>(Location::caller(), Some(registry.shard()));
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                let waker = Waker::from(Arc::new(Noop));
                cell.register_task(&waker).expect("registered");
                assert!(cell.complete(Outcome::Value(7)));
            })
        };
        cell.drop_handle(None);
        producer.join().unwrap();
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}

/// A waiter registers the operation only if its park outlasts
/// `REGISTER_AFTER` (a timed park lets the whole timeout pass in the
/// model, so both sides of it are explored); whether it
/// parks or reads the value at once, the entry leaves with the last
/// handle, and the waiter gets the value.
#[test]
fn a_parking_waiter_registers_and_nothing_leaks() {
    loom::model(|| {
        let registry = crate::registry::Registry::new();
        let cell: Arc<Cell> = Completion::new::<()>(Location::caller(), Some(registry.shard()));
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.complete(Outcome::Value(7))))
        };
        let got = kind(cell.wait_until(None, completion::take));
        assert_eq!(got, Some(Ok(7)));
        producer.join().unwrap();
        cell.drop_handle(None);
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}

/// Shutdown reaches a waiter whatever the order: one that registered
/// before the registry closed is stopped by shutdown; one that comes after
/// is refused, and publishes the stop itself. It never parks for ever.
#[test]
fn shutdown_reaches_a_waiter_that_registers_late() {
    loom::model(|| {
        let registry = Arc::new(crate::registry::Registry::new());
        let cell: Arc<Cell> = Completion::new::<()>(Location::caller(), Some(registry.shard()));
        let waiter = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || kind(cell.wait_until(None, completion::take)))
        };
        let pending = registry.close();
        drop(pending);
        registry.force_all();
        assert_eq!(waiter.join().unwrap(), Some(Err("ReactorStopped")));
        cell.drop_handle(None);
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}

/// A waiter that shutdown refuses while it still runs leaves the end to
/// the operation's task: it waits for the task's outcome (here its value)
/// instead of publishing the stop itself, ahead of the task, whose future
/// may still be alive. Only once shutdown is over does a waiter end an
/// operation that nothing else ended.
#[test]
fn a_waiter_refused_during_shutdown_leaves_the_end_to_the_task() {
    loom::model(|| {
        let registry = Arc::new(crate::registry::Registry::new());
        let cell: Arc<Cell> = Completion::new::<()>(Location::caller(), Some(registry.shard()));
        let (closed, is_closed) = loom::sync::mpsc::channel::<()>();
        let waiter = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                // It starts waiting once shutdown has begun: its
                // registration is refused.
                is_closed.recv().unwrap();
                kind(cell.wait_until(None, completion::take))
            })
        };
        drop(registry.close());
        closed.send(()).unwrap();
        // The task ends while shutdown still waits for it.
        cell.complete(Outcome::Value(7));
        registry.force_all();
        assert_eq!(waiter.join().unwrap(), Some(Ok(7)));
        cell.drop_handle(None);
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}
