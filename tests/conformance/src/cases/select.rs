//! Waiting on many results: `wait_any`, `wait_all` and `WaitSet`.

use std::thread;
use std::time::{Duration, Instant};

use crochet_core::{EventualResult, SharedResult, WaitError, WaitSet};

use crate::support::{Gate, PROMPTLY, eventually};
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
    let (index, outcome) = crochet_core::wait_any(PROMPTLY, &results)
        .expect("one finished")
        .expect("one to wait for");
    assert_eq!((index, outcome.expect("value")), (2, 20));
    opener.join().expect("opener");

    gates[0].open();
    gates[3].open();
    let next = || {
        crochet_core::wait_any(PROMPTLY, &results)
            .expect("another")
            .expect("one to wait for")
    };
    let (first, _) = next();
    let (second, _) = next();
    let mut seen = [first, second];
    seen.sort_unstable();
    assert_eq!(seen, [0, 3]);

    // Only result 1 is left, and it is still pending.
    let started = Instant::now();
    let timed_out = crochet_core::wait_any(Duration::from_millis(30), &results);
    let outcome = timed_out;
    assert!(
        matches!(outcome, Err(WaitError::Timeout { .. })),
        "{outcome:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert!(
        !results[1].is_finished(),
        "a timed-out wait_any cancelled or took something"
    );
    gates[1].open();
    let (last, outcome) = next();
    assert_eq!((last, outcome.expect("value")), (1, 10));
    assert!(
        crochet_core::wait_any(PROMPTLY, &results)
            .expect("nothing left is no error")
            .is_none(),
        "all taken: nothing left to wait for"
    );
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
    let outcome = crochet_core::wait_all(Duration::from_millis(30), &results);
    assert!(
        matches!(outcome, Err(WaitError::Timeout { .. })),
        "{outcome:?}"
    );
    assert!(results[0].is_finished() && results[2].is_finished());
    let opener = {
        let gate = gates[1].clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            gate.open();
        })
    };
    let all = crochet_core::wait_all(PROMPTLY, &results).expect("all finished");
    let values: Vec<u32> = all.into_iter().map(|r| r.expect("value")).collect();
    assert_eq!(values, [0, 1, 2]);
    opener.join().expect("opener");

    // Results from a reactor thread: refused.
    let more = vec![running.run_in_reactor(|| async { 1 })];
    let refused = running
        .wait_for(PROMPTLY, move || {
            let refused = crochet_core::wait_all(PROMPTLY, &more).map(|_| ());
            async move { refused }
        })
        .expect("ran");
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );
}

/// `wait_any`, `wait_all` and `WaitSet` take any iterator of either handle
/// kind, owned or borrowed: an `EventualResult`'s value is taken, a
/// `SharedResult`'s cloned and left for its other clones.
pub fn waits_on_many_take_any_iterator_of_either_handle(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let results: Vec<EventualResult<u32>> = (0..3)
        .map(|n| running.run_in_reactor(move || async move { n }))
        .collect();
    let all = crochet_core::wait_all(PROMPTLY, results.iter().rev()).expect("all finished");
    let values: Vec<u32> = all.into_iter().map(|r| r.expect("value")).collect();
    assert_eq!(values, [2, 1, 0], "in the iterator's order");
    let again = crochet_core::wait_all(PROMPTLY, &results).expect("all finished");
    assert!(
        again
            .iter()
            .all(|r| matches!(r, Err(WaitError::AlreadyRetrieved))),
        "an EventualResult's value is taken once"
    );

    let shared: Vec<SharedResult<String>> = (0..3)
        .map(|n| {
            running
                .run_in_reactor(move || async move { n.to_string() })
                .shared()
        })
        .collect();
    for _ in 0..2 {
        let all = crochet_core::wait_all(PROMPTLY, &shared).expect("all finished");
        let values: Vec<String> = all.into_iter().map(|r| r.expect("value")).collect();
        assert_eq!(values, ["0", "1", "2"], "a SharedResult's value is cloned");
    }
    // Owned clones, in a set: each member once, with its value.
    let mut set: WaitSet<SharedResult<String>> = shared.iter().cloned().collect();
    let mut seen = Vec::new();
    while let Some((index, outcome)) = set.wait_next_timeout(PROMPTLY).expect("no timeout") {
        seen.push((index, outcome.expect("value")));
    }
    seen.sort();
    assert_eq!(
        seen,
        [(0, "0".into()), (1, "1".into()), (2, "2".into())],
        "each member once"
    );
    assert_eq!(
        shared[1].wait_timeout(PROMPTLY).expect("still there"),
        "1",
        "the value stays for the other clones"
    );

    // wait_any on shared results: each read once, then nothing left.
    let fresh: Vec<SharedResult<u8>> = (0..2)
        .map(|n| running.run_in_reactor(move || async move { n }).shared())
        .collect();
    let mut picked = Vec::new();
    while let Some((index, outcome)) =
        crochet_core::wait_any(PROMPTLY, fresh.iter()).expect("no timeout")
    {
        picked.push((index, outcome.expect("value")));
    }
    picked.sort_unstable();
    assert_eq!(picked, [(0, 0), (1, 1)]);

    // Owned handles, moved in.
    let owned: Vec<EventualResult<u8>> = (0..2)
        .map(|n| running.run_in_reactor(move || async move { n }))
        .collect();
    let all = crochet_core::wait_all(PROMPTLY, owned).expect("all finished");
    assert_eq!(
        all.into_iter()
            .map(|r| r.expect("value"))
            .collect::<Vec<_>>(),
        [0, 1]
    );
}

/// Waiting on no results answers at once: `wait_any` and a `WaitSet` say
/// there is nothing to wait for, `wait_all` gives an empty `Vec`, even
/// without a bound on the wait.
pub fn waiting_on_nothing_answers_at_once(_fixture: &'static dyn Fixture) {
    let started = Instant::now();
    let none: Vec<EventualResult<u32>> = Vec::new();
    assert!(
        crochet_core::wait_any(Duration::MAX, &none)
            .expect("no error")
            .is_none()
    );
    assert!(
        crochet_core::wait_all(Duration::MAX, &none)
            .expect("no error")
            .is_empty()
    );
    let no_shared: [SharedResult<u32>; 0] = [];
    assert!(
        crochet_core::wait_any(Duration::MAX, &no_shared)
            .expect("no error")
            .is_none()
    );
    let mut set = WaitSet::new(&none);
    assert!(set.is_empty());
    assert!(set.wait_next().expect("no error").is_none());
    assert!(set.try_next().is_none());
    assert!(started.elapsed() < Duration::from_secs(1), "it waited");
}

/// A `WaitSet` hands out every one of many results exactly once, as they
/// finish (cancelled ones included), and then says it is drained.
pub fn wait_set_drains_many_results_each_exactly_once(fixture: &'static dyn Fixture) {
    const COUNT: usize = 2_000;
    let running = Running::start(fixture);
    let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
    let results: Vec<EventualResult<usize>> = (0..COUNT)
        .map(|i| match i % 5 {
            // A fifth finishes at once; the rest behind four gates.
            0 => running.run_in_reactor(move || async move { i }),
            gate => {
                let opened = gates[gate - 1].opened();
                running.run_in_reactor(move || async move {
                    opened.await;
                    i
                })
            }
        })
        .collect();
    let mut set = WaitSet::new(results);
    assert_eq!(set.len(), COUNT);
    let cancelled = 1;
    assert!(set.handles()[cancelled].cancel());
    let opener = {
        let gates = gates.clone();
        thread::spawn(move || {
            for gate in gates {
                thread::sleep(Duration::from_millis(5));
                gate.open();
            }
        })
    };
    let mut seen = vec![false; COUNT];
    let mut handed_out = 0;
    while let Some((index, outcome)) = set.wait_next_timeout(PROMPTLY).expect("no timeout") {
        assert!(!seen[index], "member {index} handed out twice");
        seen[index] = true;
        handed_out += 1;
        match outcome {
            Ok(value) => assert_eq!(value, index),
            Err(error) => {
                assert!(
                    index == cancelled && matches!(error, WaitError::Cancelled),
                    "{index}: {error:?}"
                )
            }
        }
        assert_eq!(set.len(), COUNT - handed_out);
    }
    opener.join().expect("opener");
    assert_eq!(handed_out, COUNT);
    assert!(seen.iter().all(|seen| *seen));
    assert!(set.is_empty());
    assert!(set.wait_next().expect("drained").is_none());
    assert!(set.try_next().is_none());
}

/// A `WaitSet` wait that times out takes nothing: the member that finishes
/// later is the next handed out. Blocking waits on a set are refused on a
/// reactor thread, where `try_next` reads what finished.
pub fn timed_out_wait_set_wait_consumes_nothing(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gates: Vec<Gate> = (0..2).map(|_| Gate::new()).collect();
    let results: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(i, gate)| gated_by(&running, gate, i as u32))
        .collect();
    let mut set = WaitSet::new(&results);
    let before = running.stats().timed_out_waits;
    let started = Instant::now();
    let outcome = set.wait_next_timeout(Duration::from_millis(30));
    assert!(
        matches!(outcome, Err(WaitError::Timeout { .. })),
        "{outcome:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    let outcome = set.wait_next_timeout(Duration::ZERO);
    assert!(
        matches!(outcome, Err(WaitError::Timeout { .. })),
        "{outcome:?}"
    );
    assert_eq!(running.stats().timed_out_waits, before + 2, "counted");
    assert_eq!(set.len(), 2);
    assert!(set.try_next().is_none());
    assert!(results.iter().all(|result| !result.is_finished()));

    gates[1].open();
    let (index, outcome) = set
        .wait_next_timeout(PROMPTLY)
        .expect("no timeout")
        .expect("one left");
    assert_eq!((index, outcome.expect("value")), (1, 1));
    let outcome = set.wait_next_timeout(Duration::from_millis(10));
    assert!(
        matches!(outcome, Err(WaitError::Timeout { .. })),
        "{outcome:?}"
    );
    gates[0].open();
    // `try_next` never blocks: a member is there once its publication
    // reached the set (just after `is_finished` turns true).
    let mut next = None;
    assert!(eventually(PROMPTLY, || {
        next = set.try_next();
        next.is_some()
    }));
    let (index, outcome) = next.expect("finished");
    assert_eq!((index, outcome.expect("value")), (0, 0));
    assert!(set.wait_next_timeout(PROMPTLY).expect("drained").is_none());

    let ready = running.run_in_reactor(|| async { 5_u8 });
    assert!(eventually(PROMPTLY, || ready.is_finished()));
    let on_reactor = running
        .wait_for(PROMPTLY, move || {
            let mut set = WaitSet::new([ready]);
            let refused = set.wait_next_timeout(PROMPTLY).map(|_| ());
            let tried = set.try_next().map(|(i, outcome)| (i, outcome.ok()));
            async move { (refused, tried) }
        })
        .expect("ran");
    let (refused, tried) = on_reactor;
    assert!(
        matches!(refused, Err(WaitError::WaitInReactor { .. })),
        "{refused:?}"
    );
    assert_eq!(tried, Some((0, Some(5))));
}
