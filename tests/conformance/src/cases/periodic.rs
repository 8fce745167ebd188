//! Periodic tasks (`Reactor::every`), on whichever backend runs: now, then
//! every period; failures logged, not fatal; missed ticks skipped; stopped
//! from a sync thread, by dropping the handle, or by shutdown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crochet_core::WaitError;

use crate::support::{HookedFailures, Logs, PROMPTLY, eventually};
use crate::{Fixture, Running};

const PERIOD: Duration = Duration::from_millis(10);

fn stamps() -> (Arc<Mutex<Vec<Instant>>>, impl Fn() -> Vec<Instant>) {
    let stamps = Arc::new(Mutex::new(Vec::new()));
    let read = {
        let stamps = Arc::clone(&stamps);
        move || {
            stamps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    };
    (stamps, read)
}

/// The first tick runs at once, later ones every period, each on a reactor
/// thread; `stop` from a sync thread ends it.
pub fn periodic_runs_now_then_every_period_until_stopped(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (sink, read) = stamps();
    let off_reactor = Arc::new(AtomicBool::new(false));
    let seen_off = Arc::clone(&off_reactor);
    let started = Instant::now();
    let periodic = running.every(PERIOD, move || {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Instant::now());
        if !crochet_core::backend::is_reactor_thread() {
            seen_off.store(true, Ordering::SeqCst);
        }
        async {}
    });
    assert!(
        eventually(PROMPTLY, || periodic.ticks() >= 5),
        "ticks: {}",
        periodic.ticks()
    );
    let ticks = read();
    // "Now": well before a period would have passed on a quiet machine, and
    // in any case before the second tick.
    assert!(ticks[0] - started < ticks[1] - started);
    // Each tick takes a slot of its own on the schedule: tick `i` never
    // starts before `i` periods have passed (late ticks are fine: machines
    // are noisy; early or doubled ones are not). A millisecond of slack
    // covers timers that round to the millisecond.
    for (i, tick) in ticks.iter().enumerate() {
        let since_first = *tick - ticks[0] + Duration::from_millis(1);
        assert!(
            since_first >= PERIOD * i as u32,
            "tick {i} came early: {ticks:?}"
        );
    }
    assert!(periodic.is_running());
    assert!(periodic.stop());
    assert!(!periodic.stop(), "stop is idempotent");
    let stopped_at = read().len();
    thread::sleep(PERIOD * 5);
    assert!(read().len() <= stopped_at + 1, "ticked after stop");
    let ended = periodic.ended();
    assert!(matches!(ended, Some(WaitError::Cancelled)), "{ended:?}");
}

/// A tick that fails or panics is logged, and the next one runs.
pub fn periodic_survives_failing_and_panicking_ticks(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    let mut count = 0_u32;
    let periodic = running.every(PERIOD, move || {
        count += 1;
        let this = count;
        async move {
            match this % 3 {
                1 => Err(format!("tick {this} failed")),
                2 => panic!("tick {this} panicked"),
                _ => Ok(()),
            }
        }
    });
    assert!(eventually(PROMPTLY, || periodic.ticks() >= 6));
    assert!(periodic.is_running(), "a failing tick ended the task");
    assert!(
        !logs
            .lines_with(&["ERROR", "periodic tick failed", "tick 1 failed"])
            .is_empty()
    );
    assert!(
        !logs
            .lines_with(&["ERROR", "periodic tick failed", "tick 2 panicked"])
            .is_empty()
    );
}

/// After a slow tick, missed ticks are skipped, not run back to back.
pub fn periodic_skips_missed_ticks(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (sink, read) = stamps();
    let mut first = true;
    let periodic = running.every(PERIOD, move || {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Instant::now());
        // The first tick takes ten periods.
        let slow = std::mem::take(&mut first).then(|| fixture.sleep(PERIOD * 10));
        async move {
            if let Some(slow) = slow {
                slow.await;
            }
        }
    });
    assert!(eventually(PROMPTLY, || periodic.ticks() >= 4));
    let ticks = read();
    assert!(ticks[1] - ticks[0] >= PERIOD * 10);
    // Skipped: the schedule resumes at the next slot after the slow tick,
    // so the fourth tick starts at least 13 periods in. Queued ticks would
    // have run back to back right after the slow one (about 10 periods).
    assert!(
        ticks[3] - ticks[0] >= PERIOD * 12,
        "missed ticks were queued: {ticks:?}"
    );
}

/// Dropping the handle stops the task; a detached one runs until shutdown,
/// which ends it.
pub fn periodic_stops_when_dropped_and_at_shutdown(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (sink, read) = stamps();
    let dropped = running.every(PERIOD, move || {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Instant::now());
        async {}
    });
    assert!(eventually(PROMPTLY, || dropped.ticks() >= 2));
    drop(dropped);
    let at_drop = read().len();
    thread::sleep(PERIOD * 5);
    assert!(
        read().len() <= at_drop + 1,
        "ticked after the handle was dropped"
    );

    let (sink, read) = stamps();
    let detached = running.every(PERIOD, move || {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Instant::now());
        async {}
    });
    let kept = running.every(PERIOD * 1000, || async {});
    detached.detach();
    assert!(
        eventually(PROMPTLY, || read().len() >= 3),
        "a detached task stopped"
    );
    running.shutdown(PROMPTLY).expect("shutdown");
    let at_shutdown = read().len();
    thread::sleep(PERIOD * 5);
    assert_eq!(read().len(), at_shutdown, "ticked after shutdown");
    assert!(matches!(kept.ended(), Some(WaitError::ReactorStopped)));
    assert!(!kept.is_running());
}

/// A period too long to represent means "never again": the first tick
/// runs, and the task stays scheduled instead of overflowing its clock.
/// Its end is told to every caller of `ended()`.
pub fn periodic_with_a_huge_period_ticks_once_and_stays_scheduled(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let periodic = running.every(Duration::MAX, || async {});
    assert!(eventually(PROMPTLY, || periodic.ticks() == 1));
    thread::sleep(Duration::from_millis(50));
    assert!(periodic.is_running(), "ended: {:?}", periodic.ended());
    assert!(periodic.ended().is_none());
    assert!(periodic.stop());
    assert!(eventually(PROMPTLY, || !periodic.is_running()));
    let ended = periodic.ended();
    assert!(matches!(ended, Some(WaitError::Cancelled)), "{ended:?}");
    let again = periodic.ended();
    assert!(
        matches!(again, Some(WaitError::Cancelled)),
        "ended() is a getter: asking twice gives the same answer: {again:?}"
    );
}

/// L5: a failing tick is an unobserved failure like any other: it reaches
/// the failure hook (and the next tick still runs).
pub fn periodic_tick_failures_reach_the_failure_hook(fixture: &'static dyn Fixture) {
    let hooked = HookedFailures::install();
    let running = Running::start(fixture);
    let periodic = running.every(Duration::from_millis(5), || async {
        Err::<(), _>("the rate source is down")
    });
    assert!(
        eventually(PROMPTLY, || hooked.messages().len() >= 2),
        "tick failures never reached the hook"
    );
    assert!(periodic.is_running());
    let seen = hooked.messages();
    assert!(
        seen.iter()
            .all(|message| message.contains("the rate source is down")),
        "{seen:?}"
    );
    crochet_core::reset_failure_hook();
}
