//! `EventualStream`: an async stream in the reactor, read as a blocking
//! iterator with timeouts, bounded buffering and cancellation.

use std::iter::FusedIterator;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crochet_core::OperationState;
use crochet_core::{EventualStream, TryNextError, WaitError};
use futures_lite::{StreamExt, stream};

use crate::support::{Flag, Gate, PROMPTLY, eventually};
use crate::{Fixture, Running};

/// Items arrive in order, each as `Ok`, and the iterator ends with the
/// stream; the stream runs on a reactor thread.
pub fn stream_items_arrive_in_order_and_end(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let numbers = running.stream_in_reactor(move || {
        let on_reactor = crochet_core::backend::is_reactor_thread();
        let sleep = fixture.sleep(Duration::from_millis(5));
        stream::once_future(async move {
            sleep.await;
            (0, on_reactor)
        })
        .chain(stream::iter((1..100).map(|n| (n, true))))
    });
    let items: Vec<(u32, bool)> = numbers.collect::<Result<_, _>>().expect("no error");
    assert_eq!(items.len(), 100);
    assert!(items.iter().enumerate().all(|(i, (n, _))| *n == i as u32));
    assert!(items[0].1, "the stream was built off the reactor");
}

/// A timed-out read loses nothing: the item that arrives later is the next
/// one read.
pub fn stream_timeout_loses_no_item(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let mut items = running.stream_in_reactor(move || {
        stream::once_future(async move {
            opened.await;
            "late"
        })
    });
    for timeout in [Duration::from_millis(30), Duration::ZERO] {
        let read = items.next_timeout(timeout);
        assert!(
            matches!(read, Err(WaitError::Timeout { after, state: OperationState::Running }) if after == timeout),
            "{read:?}"
        );
    }
    assert_eq!(
        running.stats().timed_out_waits,
        2,
        "timed-out reads are counted"
    );
    gate.open();
    assert_eq!(
        items.next_timeout(PROMPTLY).expect("the item"),
        Some("late")
    );
    assert_eq!(items.next_timeout(PROMPTLY).expect("the end"), None);
    assert_eq!(items.next_timeout(PROMPTLY).expect("still the end"), None);
}

/// The stream is not polled past the buffer: with nobody reading, it pulls
/// exactly as many items as the buffer holds, and one more per read.
pub fn stream_buffer_applies_backpressure(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let mut items = running.stream_in_reactor_buffered(4, move || {
        stream::repeat_with(move || counter.fetch_add(1, Ordering::SeqCst))
    });
    assert!(eventually(PROMPTLY, || pulled.load(Ordering::SeqCst) == 4));
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        4,
        "polled past a full buffer"
    );
    assert_eq!(items.buffered(), 4);
    assert_eq!(items.next_timeout(PROMPTLY).expect("an item"), Some(0));
    assert!(eventually(PROMPTLY, || pulled.load(Ordering::SeqCst) == 5));
    thread::sleep(Duration::from_millis(20));
    assert_eq!(pulled.load(Ordering::SeqCst), 5);
}

/// `cancel` drops the stream on the reactor and ends the iterator with
/// `Cancelled`; dropping the handle drops the stream too.
pub fn stream_cancel_and_drop_drop_the_stream(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let dropped = Flag::new();
    let guard = dropped.on_drop();
    let mut items = running.stream_in_reactor(move || {
        stream::repeat_with(move || {
            let _keep = &guard;
            1_u8
        })
    });
    assert_eq!(items.next_timeout(PROMPTLY).expect("an item"), Some(1));
    items.cancel();
    items.cancel();
    let read = items.next_timeout(PROMPTLY);
    assert!(matches!(read, Err(WaitError::Cancelled)), "{read:?}");
    assert_eq!(items.next_timeout(PROMPTLY).expect("then the end"), None);
    assert!(
        dropped.wait(PROMPTLY),
        "the cancelled stream was not dropped"
    );

    let dropped = Flag::new();
    let guard = dropped.on_drop();
    let gate = Gate::new();
    let opened = gate.opened();
    let items = running.stream_in_reactor(move || {
        stream::once_future(async move {
            let _guard = guard;
            opened.await;
        })
    });
    thread::sleep(Duration::from_millis(10));
    drop(items);
    assert!(
        dropped.wait(PROMPTLY),
        "a dropped handle left its stream running"
    );
    assert!(eventually(PROMPTLY, || running.pending_operations() == 0));
}

/// A panicking stream ends the iterator with `Panicked`, after the items
/// before it; shutdown ends a stream with `ReactorStopped`.
pub fn stream_panic_and_shutdown_end_it_with_an_error(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let mut items = running.stream_in_reactor(|| {
        stream::iter([1, 2, 3]).map(|n| {
            if n == 3 {
                panic!("the stream broke")
            } else {
                n
            }
        })
    });
    assert_eq!(items.next_timeout(PROMPTLY).expect("1"), Some(1));
    assert_eq!(items.next_timeout(PROMPTLY).expect("2"), Some(2));
    match items.next_timeout(PROMPTLY) {
        Err(WaitError::Panicked(panic)) => assert_eq!(panic.message(), "the stream broke"),
        other => panic!("expected the panic, got {other:?}"),
    }
    assert!(items.next().is_none());

    let mut endless = running.stream_in_reactor(stream::pending::<u8>);
    let reactor = running.reactor.clone();
    let stopper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        reactor.shutdown(PROMPTLY)
    });
    let read = endless.next_timeout(PROMPTLY);
    assert!(matches!(read, Err(WaitError::ReactorStopped)), "{read:?}");
    stopper.join().expect("stopper").expect("shutdown");
}

/// Reading a stream on a reactor thread is refused, as waits are.
pub fn stream_read_on_reactor_thread_is_refused(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let items = running.stream_in_reactor(stream::pending::<u8>);
    let refused = running
        .wait_for(PROMPTLY, move || {
            let mut items = items;
            let refused = items.next_timeout(PROMPTLY);
            async move { refused }
        })
        .expect("ran");
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );
}

/// Reads `try_next` until it says something other than `Empty`.
fn try_next_until_not_empty<T>(items: &mut EventualStream<T>) -> Result<T, TryNextError> {
    let mut last = Err(TryNextError::Empty);
    assert!(
        eventually(PROMPTLY, || {
            last = items.try_next();
            !matches!(last, Err(TryNextError::Empty))
        }),
        "try_next stayed empty"
    );
    last
}

/// `try_next` never blocks: it returns a buffered item, says `Empty` while
/// the stream runs on, then the error that ended it once, then `Ended` on
/// every call.
pub fn stream_try_next_never_blocks(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let mut items = running.stream_in_reactor(move || {
        stream::once(1).chain(stream::once_future(async move {
            opened.await;
            2
        }))
    });
    assert_eq!(try_next_until_not_empty(&mut items).ok(), Some(1));
    assert!(items.try_next().is_err_and(|e| e.is_empty()));
    gate.open();
    assert_eq!(try_next_until_not_empty(&mut items).ok(), Some(2));
    assert!(try_next_until_not_empty(&mut items).is_err_and(|e| e.is_ended()));
    assert!(items.try_next().is_err_and(|e| e.is_ended()), "ended stays");
    assert_eq!(items.next_timeout(PROMPTLY).expect("the end"), None);

    let mut broken = running.stream_in_reactor(|| {
        stream::iter([1, 2]).map(|n| if n == 2 { panic!("broke") } else { n })
    });
    assert_eq!(try_next_until_not_empty(&mut broken).ok(), Some(1));
    match try_next_until_not_empty(&mut broken) {
        Err(TryNextError::Failed(WaitError::Panicked(panic))) => {
            assert_eq!(panic.message(), "broke")
        }
        other => panic!("expected the panic, got {:?}", other.map(|_| ())),
    }
    assert!(broken.try_next().is_err_and(|e| e.is_ended()));

    let mut cancelled = running.stream_in_reactor(stream::pending::<u8>);
    assert!(cancelled.try_next().is_err_and(|e| e.is_empty()));
    cancelled.cancel();
    match try_next_until_not_empty(&mut cancelled) {
        Err(TryNextError::Failed(WaitError::Cancelled)) => {}
        other => panic!("expected Cancelled, got {:?}", other.map(|_| ())),
    }
    assert!(cancelled.try_next().is_err_and(|e| e.is_ended()));
    assert!(cancelled.next().is_none());
}

/// The iterator is fused: after its end, or the error that ended it,
/// `next` returns `None` on every call.
pub fn stream_is_fused_after_its_end(fixture: &'static dyn Fixture) {
    fn fused<I: FusedIterator>(_: &I) {}
    let running = Running::start(fixture);
    let mut items = running.stream_in_reactor(|| stream::iter([1, 2]));
    fused(&items);
    let read: Vec<u8> = items.by_ref().collect::<Result<_, _>>().expect("no error");
    assert_eq!(read, [1, 2]);
    for _ in 0..3 {
        assert!(items.next().is_none());
    }

    let mut broken = running.stream_in_reactor(|| {
        stream::iter([1, 2]).map(|n| if n == 2 { panic!("broke") } else { n })
    });
    assert_eq!(broken.next().map(|r| r.ok()), Some(Some(1)));
    let second = broken.next();
    assert!(
        matches!(second, Some(Err(WaitError::Panicked(_)))),
        "{second:?}"
    );
    for _ in 0..3 {
        assert!(broken.next().is_none());
    }
}

/// A read that finds an item buffered returns it on a reactor thread too;
/// only a read that would wait is refused there.
pub fn stream_buffered_item_is_read_on_reactor_thread(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let items = running.stream_in_reactor(|| stream::iter([1_u8, 2, 3]).chain(stream::pending()));
    assert!(eventually(PROMPTLY, || items.buffered() == 3));
    let read = running
        .wait_for(PROMPTLY, move || {
            let mut items = items;
            let first = items.next_timeout(PROMPTLY).ok();
            let second = items.next().and_then(Result::ok);
            let third = items.try_next().ok();
            let would_wait = items.next_timeout(PROMPTLY);
            let empty = items.try_next().is_err_and(|e| e.is_empty());
            async move { (first, second, third, would_wait, empty) }
        })
        .expect("ran");
    let (first, second, third, would_wait, empty) = read;
    assert_eq!(
        (first, second, third, empty),
        (Some(Some(1)), Some(2), Some(3), true)
    );
    assert!(
        matches!(would_wait, Err(WaitError::WaitInReactor { .. })),
        "{would_wait:?}"
    );
}
