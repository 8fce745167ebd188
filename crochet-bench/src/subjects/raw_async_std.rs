//! The round trip written by hand on async-std: `async_std::task::spawn`
//! and a `futures::channel::oneshot` received with
//! `futures_lite::future::block_on`.
//!
//! Why not `async_std::task::block_on`: it sets up task-locals and a local
//! executor per call, and measured about 0.9 µs slower per round trip
//! pinned (3.0 µs against 2.1 µs) for the same work, which would flatter
//! crochet. Why that oneshot: `async_std::channel::bounded(1)` measured
//! 3.8 µs; see `raw_smol`.
//!
//! Its stream bridge: a task spawned with `async_std::task::spawn` sending
//! into an `async_channel`, read with `recv_blocking` (see [`bridge`]).

use async_std::task::{self, JoinHandle};
use futures_channel::oneshot;
use futures_lite::future;

use super::{Pending, RoundTrip, StreamBridge, bridge};

/// async-std's global executor; nothing to start or stop.
pub(crate) struct RawAsyncStd;

impl RoundTrip for RawAsyncStd {
    fn round_trip(&self) {
        let (tx, rx) = oneshot::channel();
        drop(task::spawn(async move {
            async {}.await;
            let _ = tx.send(());
        }));
        future::block_on(rx).expect("a raw async-std round trip lost its reply");
    }
}

impl Pending for RawAsyncStd {
    // Dropping an async-std `JoinHandle` detaches; `cancel().await` cancels.
    type Handle = (JoinHandle<()>, oneshot::Receiver<()>);
    type Canceller = JoinHandle<()>;
    type Waiter = oneshot::Receiver<()>;

    fn submit(&self, operation: impl Future<Output = ()> + Send + 'static) -> Self::Handle {
        let (tx, rx) = oneshot::channel();
        let task = task::spawn(async move {
            operation.await;
            let _ = tx.send(());
        });
        (task, rx)
    }

    fn split(&self, handle: Self::Handle) -> (Self::Canceller, Self::Waiter) {
        handle
    }

    fn cancel(&self, task: Self::Canceller) {
        future::block_on(task.cancel());
    }

    fn wait(&self, rx: Self::Waiter) -> bool {
        // Cancelling drops the future, and with it the sender.
        future::block_on(rx).is_err()
    }

    fn cancel_all(&self, handles: Vec<Self::Handle>) {
        let (tasks, receivers): (Vec<_>, Vec<_>) = handles.into_iter().unzip();
        future::block_on(async {
            for task in tasks {
                task.cancel().await;
            }
        });
        for rx in receivers {
            assert!(future::block_on(rx).is_err(), "a cancelled task replied");
        }
    }
}

impl StreamBridge for RawAsyncStd {
    fn drain(&self, items: u64) -> u64 {
        let (tx, rx) = bridge::channel();
        // Dropping the handle detaches the task.
        drop(task::spawn(bridge::send_range(tx, items)));
        bridge::drain(&rx)
    }
}
