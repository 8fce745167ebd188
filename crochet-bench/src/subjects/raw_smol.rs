//! The round trip written by hand on smol's executor: an
//! `async_executor::Executor` run by a thread of its own (with
//! `async_io::block_on`, as smol does), `Executor::spawn`, and a
//! `futures::channel::oneshot` received with
//! `futures_lite::future::block_on`.
//!
//! Why that oneshot: it is the common runtime-agnostic one, and the
//! fastest measured of those a smol user would reach for. Made of
//! `async_channel::bounded(1)` (smol's own channel), the same round trip
//! took 4.8 µs instead of 1.9 µs pinned, and each pending one held a whole
//! channel (some 600 bytes more): that would flatter crochet. Blocking on
//! the `Task` itself measured the same as this oneshot.
//!
//! Its stream bridge: a task spawned on that executor sending into an
//! `async_channel`, read with `recv_blocking` (see [`bridge`]).

use std::io;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use async_executor::{Executor, Task};
use futures_channel::oneshot;
use futures_lite::future;

use super::{Pending, RoundTrip, StreamBridge, bridge};

pub(crate) struct RawSmol {
    executor: Arc<Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RawSmol {
    pub(crate) fn start() -> io::Result<RawSmol> {
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let thread = {
            let executor = Arc::clone(&executor);
            thread::Builder::new()
                .name("raw-smol".to_owned())
                .spawn(move || {
                    let _ = async_io::block_on(executor.run(stopped.recv()));
                })?
        };
        Ok(RawSmol {
            executor,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub(crate) fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        // Dropping the sender ends `stopped.recv()`, and so the run.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RawSmol {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl RoundTrip for RawSmol {
    fn round_trip(&self) {
        let (tx, rx) = oneshot::channel();
        self.executor
            .spawn(async move {
                async {}.await;
                let _ = tx.send(());
            })
            .detach();
        future::block_on(rx).expect("a raw smol round trip lost its reply");
    }
}

impl Pending for RawSmol {
    // Dropping a `Task` cancels it: the executor drops its future.
    type Handle = (Task<()>, oneshot::Receiver<()>);
    type Canceller = Task<()>;
    type Waiter = oneshot::Receiver<()>;

    fn submit(&self, operation: impl Future<Output = ()> + Send + 'static) -> Self::Handle {
        let (tx, rx) = oneshot::channel();
        let task = self.executor.spawn(async move {
            operation.await;
            let _ = tx.send(());
        });
        (task, rx)
    }

    fn split(&self, handle: Self::Handle) -> (Self::Canceller, Self::Waiter) {
        handle
    }

    fn cancel(&self, task: Self::Canceller) {
        drop(task);
    }

    fn wait(&self, rx: Self::Waiter) -> bool {
        // Cancelling drops the future, and with it the sender.
        future::block_on(rx).is_err()
    }

    fn cancel_all(&self, handles: Vec<Self::Handle>) {
        let receivers: Vec<_> = handles.into_iter().map(|(_task, rx)| rx).collect();
        for rx in receivers {
            assert!(future::block_on(rx).is_err(), "a cancelled task replied");
        }
    }
}

impl StreamBridge for RawSmol {
    fn drain(&self, items: u64) -> u64 {
        let (tx, rx) = bridge::channel();
        self.executor.spawn(bridge::send_range(tx, items)).detach();
        bridge::drain(&rx)
    }
}
