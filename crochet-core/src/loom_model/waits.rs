//! The models of each kind of wait against a cancel and against a
//! shutdown: the waiter hears the end only once the future is dropped, and
//! is never left parked.

use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use loom::sync::atomic::AtomicBool;
use loom::thread;

use super::{Cell, Unpark, admitted, blocking_wait, kind, name, spawn_task};
use crate::completion::Completion;
use crate::error::WaitError;
use crate::eventual::EventualResult;
use crate::fork::ForkCheck;
use crate::outcome::{self, Outcome};
use crate::registry::Registry;
use crate::stream::{EventualStream, Shared};
use crate::sync::deadline_after;
use crate::waiters::{Party, ReadyQueue};

/// How a model asks the operation to end.
#[derive(Clone, Copy, Debug)]
enum Ender {
    Cancel,
    /// Shutdown without a bound: close, then wait for every end.
    Shutdown,
}

/// Asks the operation to end, on a thread of its own; for a shutdown,
/// returns how many operations it had to abandon (none without a bound).
fn spawn_ender(
    ender: Ender,
    cell: &Arc<Cell>,
    registry: &Arc<Registry>,
) -> thread::JoinHandle<usize> {
    let cell = Arc::clone(cell);
    let registry = Arc::clone(registry);
    thread::spawn(move || match ender {
        Ender::Cancel => {
            assert!(cell.cancel(), "pending until asked");
            0
        }
        Ender::Shutdown => {
            let pending = registry.close();
            for member in &pending {
                assert!(member.wait_ended(None), "no bound: it ends");
            }
            pending.iter().filter(|member| member.abandon()).count()
        }
    })
}

fn expected(ender: Ender) -> &'static str {
    match ender {
        Ender::Cancel => "Cancelled",
        Ender::Shutdown => "ReactorStopped",
    }
}

/// The model of one wait kind against one ender: the waiter (the model's
/// main thread, running `wait`) hears `ender`'s end, only after the future
/// was dropped; the registry entry leaves with the handle.
fn model_wait(ender: Ender, wait: fn(&Arc<Cell>) -> Result<u32, &'static str>) {
    loom::model(move || {
        let registry = Arc::new(Registry::new());
        let cell = admitted(&registry);
        let dropped = Arc::new(AtomicBool::new(false));
        let task = spawn_task(&cell, &dropped);
        let ending = spawn_ender(ender, &cell, &registry);
        let heard = wait(&cell);
        assert!(
            dropped.load(Ordering::SeqCst),
            "{heard:?} was heard before the future was dropped"
        );
        assert_eq!(heard, Err(expected(ender)));
        assert_eq!(ending.join().unwrap(), 0, "nothing abandoned");
        task.join().unwrap();
        cell.drop_handle(None);
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}

fn async_wait(cell: &Arc<Cell>) -> Result<u32, &'static str> {
    // A minimal `block_on` on loom's park: poll, park until woken.
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut key = None;
    loop {
        match cell.poll_read(&mut context, &mut key, outcome::take) {
            Poll::Ready(got) => return got.map_err(|error| name(&error)),
            Poll::Pending => thread::park(),
        }
    }
}

/// A wait set's wait: the cell pushes its index to the set's queue when
/// published; the set's thread pops it, then reads.
fn many_results_wait(cell: &Arc<Cell>) -> Result<u32, &'static str> {
    let queue = Arc::new(ReadyQueue::new());
    let party = Party::Ready {
        queue: Arc::clone(&queue),
        index: 0,
    };
    if cell.register(party).expect("no fork").is_none() {
        queue.push(0);
    }
    let popped = queue.pop_until(None, &ForkCheck::new()).expect("no fork");
    assert_eq!(popped, Some(0));
    kind(cell.try_read(outcome::take)).expect("published when pushed")
}

#[test]
fn a_blocking_wait_hears_a_cancel_after_the_drop() {
    model_wait(Ender::Cancel, blocking_wait);
}

#[test]
fn a_blocking_wait_hears_a_shutdown_after_the_drop() {
    model_wait(Ender::Shutdown, blocking_wait);
}

#[test]
fn an_await_hears_a_cancel_after_the_drop() {
    model_wait(Ender::Cancel, async_wait);
}

#[test]
fn an_await_hears_a_shutdown_after_the_drop() {
    model_wait(Ender::Shutdown, async_wait);
}

#[test]
fn a_wait_on_many_results_hears_a_cancel_after_the_drop() {
    model_wait(Ender::Cancel, many_results_wait);
}

#[test]
fn a_wait_on_many_results_hears_a_shutdown_after_the_drop() {
    model_wait(Ender::Shutdown, many_results_wait);
}

/// A stream's reader, blocked on an empty stream, hears its producer's
/// end (a cancel, or a shutdown) only once the producer's future (the
/// stream) is dropped, through the waker the stream keeps in the
/// producer's cell: never a private signal that shutdown cannot reach.
fn model_stream_read(ender: Ender) {
    loom::model(move || {
        let registry = Arc::new(Registry::new());
        let producer: Arc<Completion<(), std::convert::Infallible>> =
            Completion::new::<()>(Location::caller(), Some(registry.shard()));
        producer.admit().expect("the registry is open");
        let dropped = Arc::new(AtomicBool::new(false));
        let task = {
            let producer = Arc::clone(&producer);
            let dropped = Arc::clone(&dropped);
            thread::spawn(move || {
                producer.register_task(&Waker::from(Arc::new(Unpark(thread::current()))));
                while !producer.should_stop() {
                    thread::park();
                }
                dropped.store(true, Ordering::SeqCst);
                producer.complete(Outcome::fault(WaitError::ReactorStopped));
            })
        };
        let mut stream =
            EventualStream::<u32>::new(Shared::new(1), EventualResult::new(Arc::clone(&producer)));
        let ending = {
            let producer = Arc::clone(&producer);
            let registry = Arc::clone(&registry);
            thread::spawn(move || match ender {
                Ender::Cancel => assert!(producer.cancel()),
                Ender::Shutdown => {
                    for member in registry.close() {
                        assert!(member.wait_ended(None));
                    }
                }
            })
        };
        let heard = stream.next().expect("an end, not a plain end of stream");
        assert!(
            dropped.load(Ordering::SeqCst),
            "{heard:?} was heard before the stream was dropped"
        );
        assert_eq!(heard.map_err(|error| name(&error)), Err(expected(ender)));
        assert!(stream.next().is_none(), "fused");
        ending.join().unwrap();
        task.join().unwrap();
        drop(stream);
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}

#[test]
fn a_stream_read_hears_a_cancel_after_the_drop() {
    model_stream_read(Ender::Cancel);
}

#[test]
fn a_stream_read_hears_a_shutdown_after_the_drop() {
    model_stream_read(Ender::Shutdown);
}

/// Shutdown with a bound (a timed park lets the whole timeout pass in the
/// model, so both sides of it are explored): the waiter always wakes; if
/// it hears the end before the future is dropped, shutdown abandoned the
/// operation and counts it.
#[test]
fn a_bounded_shutdown_abandons_only_what_it_reports() {
    loom::model(|| {
        let registry = Arc::new(Registry::new());
        let cell = admitted(&registry);
        let dropped = Arc::new(AtomicBool::new(false));
        let task = spawn_task(&cell, &dropped);
        let shutdown = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                let pending = registry.close();
                let deadline = deadline_after(Duration::from_millis(10));
                for member in &pending {
                    member.wait_ended(deadline);
                }
                pending.iter().filter(|member| member.abandon()).count()
            })
        };
        let heard = blocking_wait(&cell);
        let dropped_by_then = dropped.load(Ordering::SeqCst);
        let abandoned = shutdown.join().unwrap();
        assert_eq!(heard, Err("ReactorStopped"));
        assert!(
            dropped_by_then || abandoned == 1,
            "heard before the drop, and shutdown did not say so"
        );
        task.join().unwrap();
    });
}

/// A submission racing with shutdown is either admitted (and shutdown
/// asks it to end) or refused (and its submitter publishes the refusal):
/// its waiter hears `ReactorStopped` either way, and nothing leaks.
#[test]
fn a_submission_racing_shutdown_is_reached_or_refused() {
    loom::model(|| {
        let registry = Arc::new(Registry::new());
        let cell: Arc<Cell> = Completion::new::<()>(Location::caller(), Some(registry.shard()));
        let shutdown = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                for member in registry.close() {
                    assert!(member.wait_ended(None));
                }
            })
        };
        let task = match cell.admit() {
            Ok(()) => Some(spawn_task(&cell, &Arc::new(AtomicBool::new(false)))),
            Err(refused) => {
                assert_eq!(name(&refused), "ReactorStopped");
                cell.complete(Outcome::fault(refused));
                None
            }
        };
        shutdown.join().unwrap();
        if let Some(task) = task {
            // Admitted before the close: asked to stop, it ended.
            task.join().unwrap();
        }
        assert_eq!(blocking_wait(&cell), Err("ReactorStopped"));
        cell.drop_handle(None);
        assert_eq!(registry.entries(), 0, "the entry was left behind");
    });
}
