//! The operations the stress threads mix, and how each may end.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use std::convert::Infallible;

use crochet_core::OperationState;
use crochet_core::{EventualResult, RetrieveError, StashId, WaitError};

use super::{
    PANIC_DROPPED_FINISHED, PANIC_DROPPED_PENDING, PANIC_OBSERVED, Phase, Shared, Tally, WAIT_BOUND,
};
use crate::support::Gate;

/// The kinds of operation the threads mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Run and wait.
    Plain,
    /// A wait that times out, then (the work released) one that succeeds.
    TimeoutThenValue,
    /// Cancel while pending.
    CancelPending,
    /// Cancel once finished: the value is kept.
    CancelFinished,
    /// `wait_for` that runs out of time and cancels.
    WaitForTimeout,
    /// Stash, retrieve through the id's text, wait.
    Stash,
    /// Work that panics, waited on.
    Panic,
    /// Panicking work whose handle is dropped while it may still run.
    DropPending,
    /// Panicking work whose handle is dropped after it failed.
    DropFinished,
    /// One crochet operation awaiting another's result.
    Await,
}

pub(super) const KINDS: [Kind; 10] = [
    Kind::Plain,
    Kind::TimeoutThenValue,
    Kind::CancelPending,
    Kind::CancelFinished,
    Kind::WaitForTimeout,
    Kind::Stash,
    Kind::Panic,
    Kind::DropPending,
    Kind::DropFinished,
    Kind::Await,
];

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Value,
    /// `Timeout { state: OperationState::Cancelled }`.
    TimedOut,
    Cancelled,
    Panicked,
    /// Failed with nobody observing it: reported to the failure hook.
    Reported,
    Stopped,
}

pub(super) const OUTCOMES: [Outcome; 6] = [
    Outcome::Value,
    Outcome::TimedOut,
    Outcome::Cancelled,
    Outcome::Panicked,
    Outcome::Reported,
    Outcome::Stopped,
];

impl Kind {
    pub(super) fn index(self) -> usize {
        KINDS.iter().position(|kind| *kind == self).unwrap_or(0)
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::TimeoutThenValue => "timeout-then-value",
            Kind::CancelPending => "cancel-pending",
            Kind::CancelFinished => "cancel-finished",
            Kind::WaitForTimeout => "wait-for-timeout",
            Kind::Stash => "stash",
            Kind::Panic => "panic",
            Kind::DropPending => "drop-pending",
            Kind::DropFinished => "drop-finished",
            Kind::Await => "await",
        }
    }

    /// The outcomes an operation of this kind may legally end with; every
    /// kind may end `Stopped` once the reactor is shut down.
    pub(super) fn legal(self) -> &'static [Outcome] {
        match self {
            Kind::Plain
            | Kind::TimeoutThenValue
            | Kind::CancelFinished
            | Kind::Stash
            | Kind::Await => &[Outcome::Value, Outcome::Stopped],
            Kind::CancelPending => &[Outcome::Cancelled, Outcome::Stopped],
            Kind::WaitForTimeout => &[Outcome::TimedOut, Outcome::Stopped],
            Kind::Panic => &[Outcome::Panicked, Outcome::Stopped],
            Kind::DropPending | Kind::DropFinished => &[Outcome::Reported, Outcome::Stopped],
        }
    }
}

impl Outcome {
    pub(super) fn index(self) -> usize {
        OUTCOMES
            .iter()
            .position(|outcome| *outcome == self)
            .unwrap_or(0)
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Outcome::Value => "value",
            Outcome::TimedOut => "timed-out",
            Outcome::Cancelled => "cancelled",
            Outcome::Panicked => "panicked",
            Outcome::Reported => "reported",
            Outcome::Stopped => "stopped",
        }
    }
}

/// xorshift64*: small, fast, deterministic; plenty for choosing operations.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        // splitmix64 spreads nearby seeds; xorshift needs a non-zero state.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// Issues one operation of `kind`, and sees it end (every wait bounded).
pub(super) fn operate(shared: &Shared, rng: &mut Rng, kind: Kind, tally: &mut Tally) -> Outcome {
    match kind {
        Kind::Plain => plain(shared, rng),
        Kind::TimeoutThenValue => timeout_then_value(shared, rng),
        Kind::CancelPending => cancel_pending(shared),
        Kind::CancelFinished => cancel_finished(shared, rng),
        Kind::WaitForTimeout => wait_for_timeout(shared, rng),
        Kind::Stash => stash(shared, rng),
        Kind::Panic => panicking(shared, rng),
        Kind::DropPending => drop_pending(shared, rng),
        Kind::DropFinished => drop_finished(shared, tally),
        Kind::Await => await_another(shared, rng),
    }
}

/// A value, ready at once or after a short runtime timer.
fn submit_value(shared: &Shared, rng: &mut Rng) -> (EventualResult<u64>, u64) {
    let value = rng.next();
    let delay = rng
        .chance(2)
        .then(|| Duration::from_micros(rng.below(1_000)));
    let token = shared.token();
    let fixture = shared.fixture;
    let result = shared.reactor.run_in_reactor(move || {
        let sleep = delay.map(|delay| fixture.sleep(delay));
        async move {
            let _token = token;
            if let Some(sleep) = sleep {
                sleep.await;
            }
            value
        }
    });
    (result, value)
}

/// Work that waits on a gate, until the caller opens it.
fn submit_gated(shared: &Shared, value: u64) -> (EventualResult<u64>, Gate) {
    let gate = Gate::new();
    let opened = gate.opened();
    let token = shared.token();
    let result = shared.reactor.run_in_reactor(move || async move {
        let _token = token;
        opened.await;
        value
    });
    (result, gate)
}

/// The end of a wait for a value: the value (taken once), or stopped.
fn expect_value(result: &EventualResult<u64>, value: u64, what: &str) -> Outcome {
    match result.wait_timeout(WAIT_BOUND) {
        Ok(got) => {
            assert_eq!(got, value, "{what}: the wrong value");
            // Taken exactly once.
            assert!(
                matches!(result.try_result(), Some(Err(WaitError::AlreadyRetrieved))),
                "{what}: the value could be taken twice"
            );
            Outcome::Value
        }
        Err(WaitError::ReactorStopped) => Outcome::Stopped,
        Err(other) => panic!("{what}: expected the value or ReactorStopped, got {other:?}"),
    }
}

fn plain(shared: &Shared, rng: &mut Rng) -> Outcome {
    let (result, value) = submit_value(shared, rng);
    expect_value(&result, value, "plain")
}

fn timeout_then_value(shared: &Shared, rng: &mut Rng) -> Outcome {
    let value = rng.next();
    let (result, gate) = submit_gated(shared, value);
    let timeout = Duration::from_micros(rng.below(1_500));
    match result.wait_timeout(timeout) {
        Err(WaitError::Timeout {
            state: OperationState::Running,
            ..
        }) => {}
        Err(WaitError::ReactorStopped) => return Outcome::Stopped,
        other => panic!("timeout-then-value: expected a timeout, got {other:?}"),
    }
    // A timed-out wait neither consumes nor cancels (only a shutdown
    // racing it may have decided the result since).
    assert!(
        !result.is_finished() || format!("{result:?}").contains("state: stopped"),
        "timeout-then-value: the timed-out wait decided the result: {result:?}"
    );
    gate.open();
    expect_value(&result, value, "timeout-then-value")
}

fn cancel_pending(shared: &Shared) -> Outcome {
    let (result, gate) = submit_gated(shared, 0);
    let cancelled = result.cancel();
    assert!(
        !result.cancel(),
        "cancel-pending: a second cancel cancelled"
    );
    // The gate is dropped unopened: the future must go by cancellation.
    drop(gate);
    match (cancelled, result.wait_timeout(WAIT_BOUND)) {
        (true, Err(WaitError::Cancelled)) => Outcome::Cancelled,
        (false, Err(WaitError::ReactorStopped)) => Outcome::Stopped,
        (cancelled, other) => {
            panic!("cancel-pending: cancel() gave {cancelled}, then the wait {other:?}")
        }
    }
}

fn cancel_finished(shared: &Shared, rng: &mut Rng) -> Outcome {
    let (result, value) = submit_value(shared, rng);
    assert!(
        eventually_fast(|| result.is_finished()),
        "cancel-finished: the work never finished"
    );
    assert!(
        !result.cancel(),
        "cancel-finished: cancel() cancelled a finished result"
    );
    expect_value(&result, value, "cancel-finished")
}

fn wait_for_timeout(shared: &Shared, rng: &mut Rng) -> Outcome {
    let timeout = Duration::from_micros(rng.below(2_000));
    let token = shared.token();
    let outcome = shared.reactor.wait_for(timeout, move || async move {
        let _token = token;
        std::future::pending::<()>().await;
    });
    match outcome {
        Err(WaitError::Timeout {
            state: OperationState::Cancelled,
            after,
        }) => {
            // How long the call waited in all: the timeout, then the
            // cancel until the future was dropped.
            assert!(
                after >= timeout,
                "wait-for-timeout: {after:?} waited, under the {timeout:?} bound"
            );
            Outcome::TimedOut
        }
        Err(WaitError::ReactorStopped) => Outcome::Stopped,
        other => panic!("wait-for-timeout: expected a cancelling timeout, got {other:?}"),
    }
}

fn stash(shared: &Shared, rng: &mut Rng) -> Outcome {
    let gated = rng.chance(2);
    let value = rng.next();
    let (result, gate) = if gated {
        let (result, gate) = submit_gated(shared, value);
        (result, Some(gate))
    } else {
        let token = shared.token();
        let result = shared.reactor.run_in_reactor(move || async move {
            let _token = token;
            value
        });
        (result, None)
    };
    let id = result
        .stash()
        .expect("stash: the default capacity is never reached");
    // Through the text form, as a cookie would carry it.
    let id: StashId = id.to_string().parse().expect("stash: the id parses");
    // Shutdown drains the stash: an entry may be gone by the time it is
    // retrieved, once the reactor is stopping.
    let drained = |error: &RetrieveError| {
        matches!(error, RetrieveError::NotFound { .. }) && !shared.reactor.is_running()
    };
    let stopped = |gate: Option<Gate>| {
        if let Some(gate) = gate {
            gate.open();
        }
        Outcome::Stopped
    };
    if rng.chance(4) {
        match shared.reactor.retrieve_result::<String, Infallible>(id) {
            Err(RetrieveError::WrongType { .. }) => {}
            Err(error) if drained(&error) => return stopped(gate),
            other => panic!("stash: retrieved with the wrong type: {other:?}"),
        }
    }
    let mut back = match shared.reactor.retrieve_result::<u64, Infallible>(id) {
        Ok(back) => back,
        Err(error) if drained(&error) => return stopped(gate),
        Err(error) => panic!("stash: retrieve: {error}"),
    };
    let twice = shared.reactor.retrieve_result::<u64, Infallible>(id);
    assert!(
        matches!(twice, Err(RetrieveError::NotFound { id: missing }) if missing == id),
        "stash: retrieved twice: {twice:?}"
    );
    if rng.chance(2) {
        let again = back.stash().expect("stash: re-stash");
        assert_ne!(again, id, "stash: a re-stash reused the id");
        back = match shared.reactor.retrieve_result::<u64, Infallible>(again) {
            Ok(back) => back,
            Err(error) if drained(&error) => return stopped(gate),
            Err(error) => panic!("stash: retrieve again: {error}"),
        };
    }
    if let Some(gate) = gate {
        gate.open();
    }
    expect_value(&back, value, "stash")
}

fn panicking(shared: &Shared, rng: &mut Rng) -> Outcome {
    let token = shared.token();
    let result: EventualResult<u64> = if rng.chance(3) {
        // In the closure, before there is a future.
        shared
            .reactor
            .run_in_reactor(move || -> std::future::Ready<u64> {
                let _token = token;
                panic!("{PANIC_OBSERVED}")
            })
    } else {
        shared.reactor.run_in_reactor(move || async move {
            let _token = token;
            panic!("{PANIC_OBSERVED}")
        })
    };
    let outcome = if rng.chance(2) {
        result.wait_timeout(WAIT_BOUND)
    } else {
        // Observed through a shared handle, which leaves the failure in
        // place: two waits see it, and dropping it after is no report.
        let result = result.shared();
        let first = result.wait_timeout(WAIT_BOUND);
        let second = result.try_result();
        assert!(
            second
                .as_ref()
                .is_some_and(|again| same_outcome(again, &first)),
            "panic: a shared failure read twice: {first:?}, then {second:?}"
        );
        first
    };
    match outcome {
        Err(WaitError::Panicked(panic)) => {
            assert_eq!(panic.message(), PANIC_OBSERVED, "panic: the message");
            Outcome::Panicked
        }
        Err(WaitError::ReactorStopped) => Outcome::Stopped,
        other => panic!("panic: expected Panicked, got {other:?}"),
    }
}

/// Whether two reads of one shared result saw the same outcome.
fn same_outcome(one: &Result<u64, WaitError>, other: &Result<u64, WaitError>) -> bool {
    match (one, other) {
        (Ok(one), Ok(other)) => one == other,
        (Err(WaitError::Panicked(one)), Err(WaitError::Panicked(other))) => {
            one.message() == other.message()
        }
        (Err(WaitError::ReactorStopped), Err(WaitError::ReactorStopped)) => true,
        _ => false,
    }
}

/// Dropped at once, racing the work: whichever of the two sees the failure
/// last (the dropping thread, or the reactor) reports it, exactly once.
fn drop_pending(shared: &Shared, rng: &mut Rng) -> Outcome {
    let phase = shared.phase();
    match *phase {
        Phase::Open => {
            shared.dropped_pending_open.fetch_add(1, Ordering::SeqCst);
            let delay = rng.chance(2).then(|| Duration::from_micros(rng.below(500)));
            let token = shared.token();
            let fixture = shared.fixture;
            let result = shared.reactor.run_in_reactor(move || {
                let sleep = delay.map(|delay| fixture.sleep(delay));
                async move {
                    let _token = token;
                    if let Some(sleep) = sleep {
                        sleep.await;
                    }
                    panic!("{PANIC_DROPPED_PENDING}")
                }
            });
            drop(result);
            Outcome::Reported
        }
        // Shutdown began since this thread chose the operation: it waits
        // for the shutdown to end, and submits into the stopped reactor.
        Phase::Closing => {
            drop(phase);
            assert!(
                eventually_fast(|| *shared.phase() == Phase::Stopped),
                "drop-pending: the shutdown never ended"
            );
            drop_pending(shared, rng)
        }
        Phase::Stopped => {
            let token = shared.token();
            let result = shared.reactor.run_in_reactor(move || async move {
                let _token = token;
                panic!("{PANIC_DROPPED_PENDING}")
            });
            assert!(
                format!("{result:?}").contains("state: stopped"),
                "drop-pending: submitted after shutdown: {result:?}"
            );
            drop(result);
            Outcome::Stopped
        }
    }
}

/// Dropped once failed, which `Debug` tells without observing it.
fn drop_finished(shared: &Shared, tally: &mut Tally) -> Outcome {
    let token = shared.token();
    let result = shared.reactor.run_in_reactor(move || async move {
        let _token = token;
        panic!("{PANIC_DROPPED_FINISHED}")
    });
    assert!(
        eventually_fast(|| result.is_finished()),
        "drop-finished: the work never finished"
    );
    let state = format!("{result:?}");
    let outcome = if state.contains("state: failed") {
        // Decided: no shutdown can change it now. Dropping the last handle
        // reports it, on this thread.
        tally.expected_dropped_finished_reports += 1;
        Outcome::Reported
    } else if state.contains("state: stopped") {
        Outcome::Stopped
    } else {
        panic!("drop-finished: unexpected state {state}");
    };
    drop(result);
    outcome
}

/// One operation awaits another's result; sometimes a shared one that this
/// thread waits on too.
fn await_another(shared: &Shared, rng: &mut Rng) -> Outcome {
    let (inner, value) = submit_value(shared, rng);
    let token = shared.token();
    if rng.chance(2) {
        let outer = shared.reactor.run_in_reactor(move || async move {
            let _token = token;
            inner.await
        });
        match outer.wait_timeout(WAIT_BOUND) {
            Ok(Ok(got)) => {
                assert_eq!(got, value, "await: the wrong value");
                Outcome::Value
            }
            Ok(Err(WaitError::ReactorStopped)) | Err(WaitError::ReactorStopped) => Outcome::Stopped,
            other => panic!("await: expected the value or ReactorStopped, got {other:?}"),
        }
    } else {
        let inner = inner.shared();
        let remote = inner.clone();
        let outer = shared.reactor.run_in_reactor(move || async move {
            let _token = token;
            remote.await
        });
        let here = inner.wait_timeout(WAIT_BOUND);
        let there = outer.wait_timeout(WAIT_BOUND);
        match (here, there) {
            (Ok(here), Ok(Ok(there))) => {
                assert_eq!((here, there), (value, value), "await: the wrong values");
                Outcome::Value
            }
            // Shutdown raced one of them; neither may be anything else.
            (Ok(here), Err(WaitError::ReactorStopped)) => {
                assert_eq!(here, value, "await: the wrong value");
                Outcome::Stopped
            }
            (
                Err(WaitError::ReactorStopped),
                Ok(Err(WaitError::ReactorStopped)) | Err(WaitError::ReactorStopped),
            ) => Outcome::Stopped,
            other => panic!("await (shared): unexpected outcomes {other:?}"),
        }
    }
}

/// Polls `condition` briefly between tries (operations finish in
/// microseconds), for at most [`WAIT_BOUND`].
fn eventually_fast(mut condition: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + WAIT_BOUND;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        thread::sleep(Duration::from_micros(100));
    }
}
