//! The things measured: crochet on each backend, the same work written by
//! hand on each runtime, and the std-thread floor.
//!
//! Every subject runs the same empty async block (`async {}`) per round
//! trip, and, for the pending workloads, the same [`Gate`] future; for the
//! stream workload, crochet and the raw runtimes carry the same items
//! through a buffer of the same size ([`STREAM_BUFFER`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

mod block_on;
mod crochet;
mod floor;
pub(crate) mod http;
mod raw_async_std;
mod raw_smol;
mod raw_tokio;

pub(crate) use self::block_on::{BlockOn, WaitForInline};
pub(crate) use self::crochet::Crochet;
pub(crate) use self::floor::Floor;
pub(crate) use self::raw_async_std::RawAsyncStd;
pub(crate) use self::raw_smol::RawSmol;
pub(crate) use self::raw_tokio::RawTokio;

/// Hands an empty async block (or, for the floor, an empty closure) to a
/// reactor and blocks the calling thread until it has run.
pub(crate) trait RoundTrip: Sync {
    fn round_trip(&self);
}

/// A subject chosen at run time.
impl RoundTrip for &dyn RoundTrip {
    fn round_trip(&self) {
        (**self).round_trip();
    }
}

/// How many items a stream bridge holds before its producer waits:
/// crochet's default stream buffer, and so the capacity of the raw
/// bridges' channel too.
pub(crate) const STREAM_BUFFER: usize = ::crochet::DEFAULT_STREAM_BUFFER;

/// Runs a stream of `0..items` on a reactor and reads it to its end from
/// the calling (blocking) thread.
pub(crate) trait StreamBridge: Sync {
    /// The number of items read, which is `items` unless something broke.
    fn drain(&self, items: u64) -> u64;
}

/// The hand-written bridge of a stream into a thread, shared by the raw
/// runtimes: the channel, the task's body, and the reading thread's loop.
/// Each runtime only spawns [`send_range`](bridge::send_range) its own way.
pub(crate) mod bridge {
    use std::hint::black_box;

    use async_channel::{Receiver, Sender};

    use super::STREAM_BUFFER;

    /// A channel of crochet's buffer size.
    pub(crate) fn channel() -> (Sender<u64>, Receiver<u64>) {
        async_channel::bounded(STREAM_BUFFER)
    }

    /// The spawned task: sends `0..items`, waiting for room, then closes
    /// the channel by dropping its sender.
    pub(crate) async fn send_range(tx: Sender<u64>, items: u64) {
        for item in 0..items {
            if tx.send(item).await.is_err() {
                break;
            }
        }
    }

    /// The blocking thread: reads until the channel is closed and empty.
    pub(crate) fn drain(rx: &Receiver<u64>) -> u64 {
        let mut read = 0;
        while let Ok(item) = rx.recv_blocking() {
            black_box(item);
            read += 1;
        }
        read
    }
}

/// Submits operations that stay pending until cancelled, cancels them, and
/// waits for them to end.
///
/// A handle is split in two for the cancel-latency workload, where one
/// thread waits while another cancels; the memory workload holds whole
/// handles, so each subject keeps only what it needs to cancel and wait.
pub(crate) trait Pending: Sync {
    type Handle: Send;
    type Canceller: Send;
    type Waiter: Send;

    /// Starts an operation that runs `operation` on the runtime.
    fn submit(&self, operation: impl Future<Output = ()> + Send + 'static) -> Self::Handle;

    /// Starts an operation that runs `gate.wait()` on the runtime.
    fn submit_pending(&self, gate: &Gate) -> Self::Handle {
        self.submit(gate.wait())
    }

    fn split(&self, handle: Self::Handle) -> (Self::Canceller, Self::Waiter);

    fn cancel(&self, canceller: Self::Canceller);

    /// Blocks until the operation ends; whether it ended cancelled.
    fn wait(&self, waiter: Self::Waiter) -> bool;

    /// Cancels every handle, waits until each has ended, drops them, and
    /// returns once the runtime has dropped every future.
    fn cancel_all(&self, handles: Vec<Self::Handle>);
}

/// A future that never finishes until released, shared by every pending
/// operation of every subject: all of them wait on one `async_channel`
/// receiver, which closing the sender ([`GateKey`]) wakes.
#[derive(Clone)]
pub(crate) struct Gate {
    closed: async_channel::Receiver<()>,
    started: Arc<AtomicUsize>,
}

/// Releases every operation waiting on its [`Gate`] when dropped or
/// [released](GateKey::release).
pub(crate) struct GateKey(async_channel::Sender<()>);

impl GateKey {
    /// Wakes every operation still waiting on the gate, so that they end.
    pub(crate) fn release(self) {
        self.0.close();
    }
}

impl Gate {
    pub(crate) fn new() -> (GateKey, Gate) {
        let (sender, closed) = async_channel::bounded(1);
        let gate = Gate {
            closed,
            started: Arc::new(AtomicUsize::new(0)),
        };
        (GateKey(sender), gate)
    }

    /// The pending operation: counts itself as started when first polled,
    /// then waits for the gate to close.
    pub(crate) fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        self.wait_holding(())
    }

    /// [`Gate::wait`], its future also holding `held` until it is dropped.
    /// Held here rather than by an async block around `wait()`, which
    /// would store that future twice (once captured, once awaited).
    pub(crate) fn wait_holding<H: Send + 'static>(
        &self,
        held: H,
    ) -> impl Future<Output = ()> + Send + 'static {
        let gate = self.clone();
        async move {
            let _held = held;
            gate.started.fetch_add(1, Ordering::Relaxed);
            // Nothing is ever sent: this returns when the key is dropped.
            let _ = gate.closed.recv().await;
        }
    }

    /// Blocks until `count` operations have been polled at least once.
    pub(crate) fn wait_started(&self, count: usize, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while self.started.load(Ordering::Relaxed) < count {
            if Instant::now() > deadline {
                return Err(format!(
                    "only {} of {count} pending operations started within {timeout:?}",
                    self.started.load(Ordering::Relaxed)
                ));
            }
            thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}
