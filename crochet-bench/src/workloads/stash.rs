//! Stash and retrieve: threads each parking a result in the process-wide
//! stash and taking it back, in a loop.
//!
//! The baseline is what one writes without crochet's stash: a
//! mutex-guarded `HashMap` keyed by 128-bit ids from the operating
//! system's randomness (the same source crochet uses), holding the
//! results type-erased. It shows what crochet's bookkeeping (expiry queue,
//! capacity check, type check) costs on top.

use std::any::Any;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crochet::{EventualResult, Reactor};

/// Stashes or the hand-written map.
pub(crate) trait Stash: Sync {
    fn round(&self, result: EventualResult<u64>) -> EventualResult<u64>;
}

/// crochet's stash, the reactor's own.
pub(crate) struct CrochetStash<'a>(pub(crate) &'a Reactor);

impl Stash for CrochetStash<'_> {
    fn round(&self, result: EventualResult<u64>) -> EventualResult<u64> {
        let id = result.stash().expect("the stash has room for 8 results");
        self.0
            .retrieve_result::<u64, Infallible>(id)
            .expect("a stashed result came back")
    }
}

/// The hand-written map.
#[derive(Default)]
pub(crate) struct MapStash {
    entries: Mutex<HashMap<u128, Box<dyn Any + Send>>>,
}

impl Stash for MapStash {
    fn round(&self, result: EventualResult<u64>) -> EventualResult<u64> {
        let mut bytes = [0_u8; 16];
        getrandom::fill(&mut bytes).expect("the OS gives randomness");
        let id = u128::from_le_bytes(bytes);
        let lock = || self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        lock().insert(id, Box::new(result));
        let entry = lock().remove(&id).expect("the entry is there");
        *entry
            .downcast::<EventualResult<u64>>()
            .expect("the entry has the type it was stored with")
    }
}

/// Stash-and-retrieve pairs per second from `threads` threads, each
/// holding one finished result of `reactor`.
pub(crate) fn run(
    stash: &impl Stash,
    reactor: &Reactor,
    threads: usize,
    warmup: Duration,
    window: Duration,
) -> f64 {
    super::window::per_second(threads, warmup, window, |index, window| {
        let mut result = Some(reactor.run_in_reactor(move || async move { index as u64 }));
        let rounds = window.run(|| {
            let taken = result.take().expect("put back after each round");
            result = Some(stash.round(taken));
        });
        let result = result.expect("put back after each round");
        assert_eq!(result.wait().ok(), Some(index as u64));
        rounds
    })
}
