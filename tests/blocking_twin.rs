//! `#[crochet::blocking]`: the blocking twin of an async type, end to end
//! on real reactors: borrowed arguments, owned ones (on the reactor's
//! thread when asked), typed failures and a user's error type, streams,
//! forwarded fns, timeouts that drop the future, and the twin's own
//! constructors and accessors.
#![cfg(all(feature = "macros", feature = "tokio"))]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use crochet::backends::tokio::Tokio;
use crochet::{EventualStream, OperationState, Reactor, WaitError};
use crochet_conformance::support::{Flag, PROMPTLY, SetOnDrop};

/// The async API a library writes.
#[derive(Debug)]
pub struct Store {
    entries: Mutex<Vec<(String, Vec<u8>)>>,
    calls: AtomicU32,
}

/// The library's error type, which takes crochet's.
#[derive(Debug)]
pub enum StoreError {
    /// No entry under this key.
    Missing(String),
    /// crochet's.
    Wait(WaitError),
}

impl From<WaitError<StoreError>> for StoreError {
    fn from(error: WaitError<StoreError>) -> Self {
        match error.into_failed() {
            Ok(own) => own,
            Err(other) => StoreError::Wait(other),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Missing(key) => write!(f, "no entry {key:?}"),
            StoreError::Wait(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for StoreError {}

#[crochet::blocking(name = "BlockingStore", timeout = "10s", error = "StoreError")]
impl Store {
    /// Stores `value` under `key`; the number of entries.
    pub async fn put(&self, key: &str, value: &[u8]) -> usize {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut entries = self.entries.lock().expect("entries");
        entries.push((key.to_owned(), value.to_vec()));
        entries.len()
    }

    /// The value under `key`.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let entries = self.entries.lock().expect("entries");
        let found = entries.iter().find(|(k, _)| k == key);
        found
            .map(|(_, value)| value.clone())
            .ok_or_else(|| StoreError::Missing(key.to_owned()))
    }

    /// Owned arguments: runs where `wait_for` runs it; reports the
    /// thread's name.
    pub async fn thread_name(&self, tag: String) -> String {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let name = thread::current().name().unwrap_or("").to_owned();
        format!("{tag}:{name}")
    }

    /// Waits for ever, holding `dropped` until its future is dropped.
    pub async fn hang(&self, dropped: SetOnDrop) {
        let _dropped = dropped;
        std::future::pending::<()>().await;
    }

    /// A future that is not `Send`, on the caller's thread only.
    #[blocking(inline)]
    pub async fn local(&self, n: u32) -> u32 {
        let local = std::rc::Rc::new(n);
        tokio::task::yield_now().await;
        *local * 2
    }

    /// Generic, with an `impl Trait` argument: forwarded, on the caller's
    /// thread.
    pub async fn describe<T: std::fmt::Display>(
        &self,
        value: T,
        suffix: impl AsRef<str>,
    ) -> String {
        format!("{value}{}", suffix.as_ref())
    }

    /// `Self` in the signature is the async type in the twin's too (the
    /// receiver written as a type); a parameter may be named like the
    /// expansion's own locals.
    #[allow(clippy::needless_arbitrary_self_type)]
    pub async fn common_keys(self: &Self, other: &Self, inner: usize) -> usize {
        let mine = self.entries.lock().expect("entries").len();
        let theirs = other.entries.lock().expect("entries").len();
        mine.min(theirs) + inner
    }

    /// Owned arguments (the reactor-thread form) named like the
    /// expansion's locals.
    pub async fn add(&self, inner: u32, closure: u32) -> u32 {
        inner + closure
    }

    /// Every key, as a stream run on the reactor.
    pub fn keys(&self) -> impl futures_lite::Stream<Item = String> + Send + 'static {
        let keys: Vec<String> = self
            .entries
            .lock()
            .expect("entries")
            .iter()
            .map(|(key, _)| key.clone())
            .collect();
        futures_lite::stream::iter(keys)
    }

    /// How many calls `thread_name` had: not async, forwarded as it is.
    #[blocking(forward)]
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Not async and not marked: left out of the twin.
    pub fn empty() -> Store {
        Store {
            entries: Mutex::new(Vec::new()),
            calls: AtomicU32::new(0),
        }
    }

    /// Needs `&mut`: left out.
    #[blocking(skip)]
    pub async fn clear(&mut self) {
        self.entries.get_mut().expect("entries").clear();
    }
}

fn reactor() -> Reactor {
    Reactor::start(Tokio::builder().thread_name("crochet-twin")).expect("a reactor")
}

#[test]
fn the_twin_blocks_on_borrowed_arguments_and_types_its_failures() {
    let store = BlockingStore::with_reactor(Store::empty(), reactor());
    let key = String::from("answer");
    assert_eq!(store.put(&key, &[4, 2]).expect("put"), 1);
    assert_eq!(store.get("answer").expect("get"), vec![4, 2]);
    match store.get("missing") {
        Err(StoreError::Missing(key)) => assert_eq!(key, "missing"),
        other => panic!("expected the library's own error, got {other:?}"),
    }
    assert_eq!(store.local(21).expect("a future that is not Send"), 42);
    assert_eq!(store.describe(4.5, "kg").expect("generic"), "4.5kg");
    let other = Store::empty();
    assert_eq!(
        store.common_keys(&other, 3).expect("Self in the signature"),
        3
    );
    assert_eq!(store.add(40, 2).expect("owned arguments"), 42);
    assert_eq!(store.timeout(), BlockingStore::DEFAULT_TIMEOUT);
    assert_eq!(BlockingStore::DEFAULT_TIMEOUT, Duration::from_secs(10));
}

#[test]
fn owned_arguments_run_inline_or_on_the_reactor_thread() {
    let reactor = reactor();
    let store = BlockingStore::from_async(Store::empty(), reactor.clone(), PROMPTLY);
    let caller = thread::current().name().unwrap_or("").to_owned();
    assert_eq!(
        store.thread_name("inline".into()).expect("ran"),
        format!("inline:{caller}")
    );
    reactor.set_wait_for_inline(false);
    assert_eq!(
        store.thread_name("reactor".into()).expect("ran"),
        "reactor:crochet-twin"
    );
    assert_eq!(store.calls(), 2, "forwarded as it is");
    assert!(store.get_ref().calls() == 2, "the same value");
}

#[test]
fn a_timeout_drops_the_future_before_the_call_returns() {
    let mut store = BlockingStore::from_async(Store::empty(), reactor(), PROMPTLY);
    store.set_timeout(Duration::from_millis(20));
    let dropped = Flag::new();
    match store.hang(dropped.on_drop()) {
        // Not fallible: crochet's own error, whatever `error = "…"` says.
        Err(WaitError::Timeout { state, .. }) => {
            assert_eq!(state, OperationState::Cancelled);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        dropped.is_set(),
        "the future was dropped before the call returned"
    );
}

#[test]
fn a_stream_method_gives_a_blocking_iterator() {
    let store = BlockingStore::with_reactor(Store::empty(), reactor());
    store.put("a", b"1").expect("put");
    store.put("b", b"2").expect("put");
    let keys: EventualStream<String> = store.keys();
    let keys: Vec<String> = keys.map(|key| key.expect("a key")).collect();
    assert_eq!(keys, ["a", "b"]);
}

#[test]
fn the_twin_is_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<BlockingStore>();
    let store = BlockingStore::with_reactor(Store::empty(), reactor());
    thread::scope(|scope| {
        for thread in 0..8 {
            let store = store.clone();
            scope.spawn(move || {
                for round in 0..10 {
                    store
                        .put(&format!("{thread}-{round}"), &[])
                        .expect("put from many threads");
                }
            });
        }
    });
    assert_eq!(store.keys().count(), 80);
    let shown = format!("{store:?}");
    assert!(shown.starts_with("BlockingStore"), "{shown}");
}

#[test]
fn a_call_on_a_reactor_thread_is_refused() {
    let reactor = reactor();
    let store = BlockingStore::with_reactor(Store::empty(), reactor.clone());
    let refused = reactor
        .run_in_reactor(move || async move { store.get("x") })
        .wait_timeout(PROMPTLY)
        .expect("the outcome");
    assert!(
        matches!(
            refused,
            Err(StoreError::Wait(WaitError::WaitInReactor { .. }))
        ),
        "{refused:?}"
    );
}
