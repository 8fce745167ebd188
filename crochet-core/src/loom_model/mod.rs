//! loom models of the completion cell's protocol (see the `completion`
//! module's rules): every interleaving, up to loom's preemption bound, of
//! a task that ends, a cancel or a shutdown that asks it to, and each kind
//! of wait (blocking, async, many results, a stream read), with the
//! handle's drop and the registry.
//!
//! The claim each wait model checks: a waiter hears an end only once the
//! future is dropped (the model's task sets `dropped` just before it
//! publishes, as the real wrapper drops the future first), except the one
//! end that shutdown publishes at its bound, which it then counts; and no
//! wait is left parked.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p crochet-core --release --lib loom_model`
//! (in a target directory of its own, so the normal build is not redone).

use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};
use std::time::Duration;

use loom::sync::atomic::AtomicBool;
use loom::thread;

use crate::completion::Completion;
use crate::error::WaitError;
use crate::outcome::{self, Outcome};
use crate::registry::Registry;
use crate::sync::deadline_after;

mod waits;

type Cell = Completion<u32, &'static str>;

fn cell() -> Arc<Cell> {
    Completion::new::<()>(Location::caller(), None)
}

/// A cell admitted to `registry`, as a submission leaves it.
fn admitted(registry: &Registry) -> Arc<Cell> {
    let cell: Arc<Cell> = Completion::new::<()>(Location::caller(), Some(registry.shard()));
    cell.admit().expect("the registry is open");
    cell
}

/// The outcome with its error reduced to the variant's name.
fn kind(
    outcome: Option<Result<u32, WaitError<&'static str>>>,
) -> Option<Result<u32, &'static str>> {
    outcome.map(|result| result.map_err(|error| name(&error)))
}

fn name<E>(error: &WaitError<E>) -> &'static str {
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

struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The task of an operation whose future never finishes by itself: one
/// pending poll (waker registered, then the re-check), parked until its
/// end is requested, then the future dropped (`dropped`) and the requested
/// end published, as the real wrapper does.
fn spawn_task(cell: &Arc<Cell>, dropped: &Arc<AtomicBool>) -> thread::JoinHandle<()> {
    let cell = Arc::clone(cell);
    let dropped = Arc::clone(dropped);
    thread::spawn(move || {
        cell.register_task(&Waker::from(Arc::new(Unpark(thread::current()))));
        while !cell.should_stop() {
            thread::park();
        }
        dropped.store(true, Ordering::SeqCst);
        cell.complete(Outcome::fault(WaitError::ReactorStopped));
    })
}

fn blocking_wait(cell: &Arc<Cell>) -> Result<u32, &'static str> {
    kind(cell.wait_until(None, outcome::take)).expect("no deadline")
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
        assert_eq!(blocking_wait(&cell), Ok(7));
        producer.join().unwrap();
    });
}

/// Cancel and complete race: a cancel that comes first is a request, and
/// the completing task publishes it instead of its value; one that comes
/// after finds the value published, and changes nothing.
#[test]
fn a_cancel_before_the_value_wins_and_after_it_changes_nothing() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.complete(Outcome::Value(7))))
        };
        let canceller = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.cancel())
        };
        let got = blocking_wait(&cell);
        producer.join().unwrap();
        let cancelled = canceller.join().unwrap();
        assert_eq!(got, if cancelled { Err("Cancelled") } else { Ok(7) });
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
        let deadline = deadline_after(Duration::from_millis(10));
        let first = kind(cell.wait_until(deadline, outcome::take));
        producer.join().unwrap();
        match first {
            None => assert_eq!(kind(cell.try_read(outcome::take)), Some(Ok(7))),
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
                thread::spawn(move || blocking_wait(&cell))
            })
            .collect();
        assert!(cell.complete(Outcome::Value(7)));
        let mut got: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        got.sort_by_key(|outcome| format!("{outcome:?}"));
        assert_eq!(got, [Err("AlreadyRetrieved"), Ok(7)]);
    });
}

/// The task's protocol against a request: register the waker, then
/// re-check. Either the request wakes the task, or the task sees it in its
/// re-check; it is never left sleeping on a cell whose end only it can
/// publish.
#[test]
fn a_request_never_strands_the_task() {
    loom::model(|| {
        let cell = cell();
        let woken = Arc::new(Flag(AtomicBool::new(false)));
        let task = {
            let cell = Arc::clone(&cell);
            let waker = Waker::from(Arc::clone(&woken));
            thread::spawn(move || {
                cell.register_task(&waker);
                cell.should_stop()
            })
        };
        assert!(cell.cancel());
        let saw_cancel = task.join().unwrap();
        assert!(saw_cancel || woken.0.load(Ordering::SeqCst));
    });
}

/// Shutdown's abandon and the task's completion race: exactly one
/// publishes, and the outcome is the one it published.
#[test]
fn abandon_and_complete_exactly_one_publishes() {
    loom::model(|| {
        let cell = cell();
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.complete(Outcome::Value(7)))
        };
        let abandoned = cell.abandon();
        let completed = producer.join().unwrap();
        assert!(abandoned != completed);
        let got = kind(cell.try_read(outcome::take));
        let expected = if completed {
            Ok(7)
        } else {
            Err("ReactorStopped")
        };
        assert_eq!(got, Some(expected));
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

/// The registry entry of an operation leaves exactly once, whichever of
/// its end and its last handle's drop comes last: never leaked, never
/// removed twice.
#[test]
fn registry_entry_leaves_once_whatever_the_order() {
    loom::model(|| {
        let registry = Registry::new();
        let cell = admitted(&registry);
        let producer = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || assert!(cell.complete(Outcome::Value(7))))
        };
        cell.drop_handle(None);
        producer.join().unwrap();
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}
