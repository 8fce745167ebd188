//! Waiting on many results: `wait_any` and `wait_all`.

use std::thread;
use std::time::{Duration, Instant};

use crochet_core::{EventualResult, WaitError};

use crate::support::{Gate, PROMPTLY};
use crate::{Fixture, Running};

fn gated_by(running: &Running, gate: &Gate, value: u32) -> EventualResult<u32> {
    let opened = gate.opened();
    running.run_in_reactor(move || async move {
        opened.await;
        value
    })
}

/// `wait_any` returns the first result to finish, with its index; later
/// calls skip the ones already taken.
pub fn wait_any_returns_the_first_to_finish(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
    let results: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(i, gate)| gated_by(&running, gate, i as u32 * 10))
        .collect();
    let opener = {
        let gate = gates[2].clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            gate.open();
        })
    };
    let (index, outcome) = crochet_core::wait_any(&results, PROMPTLY).expect("one finished");
    assert_eq!((index, outcome.expect("value")), (2, 20));
    opener.join().expect("opener");

    gates[0].open();
    gates[3].open();
    let (first, _) = crochet_core::wait_any(&results, PROMPTLY).expect("another");
    let (second, _) = crochet_core::wait_any(&results, PROMPTLY).expect("another");
    let mut seen = [first, second];
    seen.sort_unstable();
    assert_eq!(seen, [0, 3]);

    // Only result 1 is left, and it is still pending.
    let started = Instant::now();
    let timed_out = crochet_core::wait_any(&results, Duration::from_millis(30));
    assert!(
        matches!(
            timed_out,
            Err(WaitError::Timeout {
                cancelled: false,
                ..
            })
        ),
        "{timed_out:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert!(
        !results[1].is_ready(),
        "a timed-out wait_any cancelled or took something"
    );
    gates[1].open();
    let (last, outcome) = crochet_core::wait_any(&results, PROMPTLY).expect("the last");
    assert_eq!((last, outcome.expect("value")), (1, 10));
    let exhausted = crochet_core::wait_any(&results, PROMPTLY);
    assert!(
        matches!(exhausted, Err(WaitError::AlreadyRetrieved)),
        "all taken: {exhausted:?}"
    );
    let none: [EventualResult<u32>; 0] = [];
    assert!(crochet_core::wait_any(&none, PROMPTLY).is_err());
}

/// `wait_all` returns every outcome in order once all are decided; on
/// timeout it takes nothing.
pub fn wait_all_takes_all_or_nothing(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let results: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(i, gate)| gated_by(&running, gate, i as u32))
        .collect();
    gates[0].open();
    gates[2].open();
    let timed_out = crochet_core::wait_all(&results, Duration::from_millis(30));
    assert!(
        matches!(
            timed_out,
            Err(WaitError::Timeout {
                cancelled: false,
                ..
            })
        ),
        "{timed_out:?}"
    );
    assert!(results[0].is_ready() && results[2].is_ready());
    let opener = {
        let gate = gates[1].clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            gate.open();
        })
    };
    let all = crochet_core::wait_all(&results, PROMPTLY).expect("all finished");
    let values: Vec<u32> = all.into_iter().map(|r| r.expect("value")).collect();
    assert_eq!(values, [0, 1, 2]);
    opener.join().expect("opener");

    // Results from a reactor thread: refused.
    let more = vec![running.run_in_reactor(|| async { 1 })];
    let refused = running
        .wait_for(PROMPTLY, move || {
            let refused = crochet_core::wait_all(&more, PROMPTLY).map(|_| ());
            async move { refused }
        })
        .expect("ran");
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );
}
