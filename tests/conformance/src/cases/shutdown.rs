//! R7: shutdown.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crochet_core::{EventualResult, Reactor, SetupError, ShutdownError, WaitError};

use crate::support::{Flag, Gate, Logs, PROMPTLY, crochet_threads, eventually};
use crate::{Fixture, Running};

/// R7: shutdown completes every pending result with `ReactorStopped`,
/// wakes every blocked waiter, and drops the in-flight futures.
pub fn r7_shutdown_wakes_waiters_and_drops_futures(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let mut dropped = Vec::new();
    let mut waiters = Vec::new();
    for _ in 0..16 {
        let flag = Flag::new();
        let guard = flag.on_drop();
        dropped.push(flag);
        let gate = Gate::new();
        let result: Arc<EventualResult<()>> = Arc::new(running.run_in_reactor(move || {
            let opened = gate.opened();
            async move {
                let _guard = guard;
                opened.await;
            }
        }));
        waiters.push(thread::spawn(move || result.wait()));
    }
    // Let every waiter block.
    thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    running.shutdown(PROMPTLY).expect("shutdown");
    assert!(started.elapsed() < PROMPTLY);
    for waiter in waiters {
        let woke = waiter.join().expect("waiter");
        assert!(matches!(woke, Err(WaitError::ReactorStopped)), "{woke:?}");
    }
    // Dropped by the runtime (on its own threads) before shutdown returned,
    // whatever the backend, managed or attached.
    for flag in &dropped {
        assert!(
            flag.is_set(),
            "{}: shutdown returned before an in-flight future was dropped",
            fixture.name()
        );
    }
    assert_eq!(running.pending_operations(), 0);
    assert!(!running.is_running());
}

/// R7: after shutdown, submissions, setup, `no_setup` and attach are typed
/// errors; a second shutdown is a no-op.
pub fn r7_everything_after_shutdown_is_reactor_stopped(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    running.shutdown(PROMPTLY).expect("shutdown");
    running
        .shutdown(PROMPTLY)
        .expect("a second shutdown is a no-op");
    let late = running.run_in_reactor(|| async { 1 });
    assert!(matches!(
        late.try_result(),
        Some(Err(WaitError::ReactorStopped))
    ));
    assert!(matches!(
        running.wait_for(PROMPTLY, || async { 1 }),
        Err(WaitError::ReactorStopped)
    ));
    let local = running.run_in_reactor_local(|| async { 1 });
    assert!(matches!(
        local.try_result(),
        Some(Err(WaitError::ReactorStopped))
    ));
    let setup = fixture.start_managed(&running);
    assert!(
        matches!(setup, Err(SetupError::ReactorStopped)),
        "{setup:?}"
    );
    let declined = running.no_setup();
    assert!(
        matches!(declined, Err(SetupError::ReactorStopped)),
        "{declined:?}"
    );
    let attached = fixture.attach(&running).err();
    assert!(
        matches!(attached, Some(SetupError::ReactorStopped)),
        "{attached:?}"
    );
}

/// R7: work queued before an attach that never came is stopped too, and
/// its closure dropped.
pub fn r7_shutdown_drops_work_queued_before_attach(_fixture: &'static dyn Fixture) {
    let reactor = Reactor::new();
    reactor.no_setup().expect("no_setup");
    let dropped = Flag::new();
    let guard = dropped.on_drop();
    let queued = reactor.run_in_reactor(move || {
        let _guard = guard;
        async {}
    });
    reactor.shutdown(PROMPTLY).expect("shutdown");
    assert!(matches!(queued.wait(), Err(WaitError::ReactorStopped)));
    assert!(dropped.is_set(), "the queued closure was not dropped");
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a destructor panicked during shutdown");
    }
}

/// R7/X2: a future that panics in its destructor during shutdown does not
/// break shutdown or the caller.
pub fn r7_destructor_panic_during_shutdown_is_contained(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let result = running.run_in_reactor(move || async move {
        let _bomb = PanicOnDrop;
        opened.await;
    });
    let after = running.run_in_reactor(|| async { 1 });
    assert_eq!(after.wait_timeout(PROMPTLY).expect("ran"), 1);
    running
        .shutdown(PROMPTLY)
        .expect("shutdown despite the panicking destructor");
    assert!(matches!(
        result.wait_timeout(PROMPTLY),
        Err(WaitError::ReactorStopped)
    ));
    // Cancellation drops futures as well: same containment.
    let again = Running::start(fixture);
    let bomb = again.run_in_reactor(|| async {
        let _bomb = PanicOnDrop;
        std::future::pending::<()>().await;
    });
    thread::sleep(Duration::from_millis(20));
    assert!(bomb.cancel());
    assert_eq!(
        again
            .wait_for(PROMPTLY, || async { 2 })
            .expect("still running"),
        2
    );
}

/// R7: a managed reactor's threads exit within the shutdown bound.
pub fn r7_reactor_threads_exit_within_the_bound(fixture: &'static dyn Fixture) {
    fixture
        .start_managed(crochet_core::global())
        .expect("setup");
    assert_eq!(
        crochet_core::wait_for(PROMPTLY, || async { 1 }).expect("run"),
        1
    );
    // A thread takes its name once it runs, and async-std's backend ran the
    // work above without its own thread having run yet.
    assert!(eventually(PROMPTLY, || !crochet_threads().is_empty()));
    let started = Instant::now();
    crochet_core::shutdown(Duration::from_secs(5)).expect("shutdown within the bound");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        eventually(Duration::from_millis(500), || crochet_threads().is_empty()),
        "threads still alive: {:?}",
        crochet_threads()
    );
}

/// R7/S5: a guard held by `main` shuts the global reactor down when it
/// goes out of scope, and failures left unretrieved in the stash are
/// logged then.
pub fn r7_guard_shuts_down_and_logs_failures_left_in_stash(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    fixture
        .start(crochet_core::global())
        .expect("setup")
        .keep_forever();
    {
        let _guard = crochet_core::shutdown_guard(PROMPTLY);
        let failed =
            crochet_core::run_in_reactor_fallible(|| async { Err::<u8, _>("left in the stash") });
        assert!(eventually(PROMPTLY, || failed.is_finished()));
        failed.stash().expect("stash");
        let fine = crochet_core::run_in_reactor(|| async { 1 });
        assert!(eventually(PROMPTLY, || fine.is_finished()));
        fine.stash().expect("stash");
        assert_eq!(crochet_core::stash_len(), 2);
        assert!(logs.lines_with(&["left in the stash"]).is_empty());
    }
    assert!(!crochet_core::global().is_running());
    assert_eq!(crochet_core::stash_len(), 0);
    let lines = logs.lines_with(&["unobserved failure", "left in the stash"]);
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("ERROR"), "{}", lines[0]);
}

/// R7: a shutdown started from inside the reactor (a task, or a runtime
/// task crochet did not make) cannot wait for the reactor's threads, so it
/// stops everything and returns at once instead of waiting for itself.
pub fn r7_shutdown_from_inside_the_reactor_returns_at_once(fixture: &'static dyn Fixture) {
    for from_raw_task in [false, true] {
        let running = Running::start(fixture);
        let gate = Gate::new();
        let opened = gate.opened();
        let pending = Arc::new(running.run_in_reactor(move || opened));
        let waiter = {
            let pending = Arc::clone(&pending);
            thread::spawn(move || pending.wait())
        };
        let (report, took) = std::sync::mpsc::channel();
        let reactor = running.reactor.clone();
        let stop = move || {
            let started = Instant::now();
            let outcome = reactor.shutdown(Duration::MAX);
            let _ = report.send((outcome, started.elapsed()));
        };
        // A runtime whose blocking pool has a thread: shutdown must tell the
        // runtime's own threads apart from the caller's.
        let (blocked, unblocked) = std::sync::mpsc::channel();
        running.spawn(move || {
            fixture.spawn_blocking_raw(Box::new(move || {
                let _ = blocked.send(());
            }));
            async {}
        });
        unblocked
            .recv_timeout(PROMPTLY)
            .expect("the blocking thread ran");
        running.spawn(move || {
            if from_raw_task {
                fixture.spawn_raw(Box::new(stop));
            } else {
                stop();
            }
            async {}
        });
        let (outcome, elapsed) = took.recv_timeout(PROMPTLY).expect("shutdown returned");
        // It could not wait, so it says how many operations were still
        // running: the gated one, unless another thread of the runtime ended
        // it meanwhile, and the task that submitted the stop, while it is
        // still in its first poll (always, from a crochet task; from a raw
        // task, when that runs on another thread before it returned). A raw
        // task on a runtime that hands its worker off (tokio's
        // multi-thread) may wait, and then everything ended.
        let told = match outcome {
            Err(ShutdownError::InReactor { operations }) => (1..=2).contains(&operations),
            Ok(()) => from_raw_task,
            _ => false,
        };
        assert!(told, "from a raw task: {from_raw_task}: {outcome:?}");
        assert!(
            elapsed < PROMPTLY,
            "shutdown waited for itself for {elapsed:?}"
        );
        let woke = waiter.join().expect("waiter");
        assert!(matches!(woke, Err(WaitError::ReactorStopped)), "{woke:?}");
        assert!(!running.is_running());
        gate.open();
    }
}
