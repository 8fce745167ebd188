//! The round trip written by hand on tokio: a `current_thread` runtime
//! driven by a thread of its own, `Handle::spawn`, and a
//! `tokio::sync::oneshot` whose receiver the caller blocks on. Its stream
//! bridge: a task spawned there sending into an `async_channel`, read with
//! `recv_blocking` (see [`bridge`]).

use std::io;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::runtime::{self, Handle};
use tokio::sync::oneshot;

use super::{Pending, RoundTrip, StreamBridge, bridge};

/// How long stopping waits for the runtime's blocking threads (it has
/// none here); the tasks themselves are dropped at once.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub(crate) struct RawTokio {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RawTokio {
    pub(crate) fn start() -> io::Result<RawTokio> {
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("raw-tokio".to_owned())
            .spawn(move || {
                // The same runtime as crochet's managed tokio reactor.
                let runtime = match runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(runtime.handle().clone()));
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                // As crochet-tokio's reactor thread stops: every task still
                // there is dropped here, on the runtime's own thread.
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        let handle = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the raw tokio thread exited while starting"))??;
        Ok(RawTokio {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the runtime, which drops every task still there, and joins its
    /// thread.
    pub(crate) fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RawTokio {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl RoundTrip for RawTokio {
    fn round_trip(&self) {
        let (tx, rx) = oneshot::channel();
        drop(self.handle.spawn(async move {
            async {}.await;
            let _ = tx.send(());
        }));
        rx.blocking_recv()
            .expect("a raw tokio round trip lost its reply");
    }
}

impl Pending for RawTokio {
    type Handle = (tokio::task::JoinHandle<()>, oneshot::Receiver<()>);
    type Canceller = tokio::task::JoinHandle<()>;
    type Waiter = oneshot::Receiver<()>;

    fn submit(&self, operation: impl Future<Output = ()> + Send + 'static) -> Self::Handle {
        let (tx, rx) = oneshot::channel();
        let task = self.handle.spawn(async move {
            operation.await;
            let _ = tx.send(());
        });
        (task, rx)
    }

    fn split(&self, handle: Self::Handle) -> (Self::Canceller, Self::Waiter) {
        handle
    }

    fn cancel(&self, task: Self::Canceller) {
        task.abort();
    }

    fn wait(&self, rx: Self::Waiter) -> bool {
        // Aborting drops the future, and with it the sender.
        rx.blocking_recv().is_err()
    }

    fn cancel_all(&self, handles: Vec<Self::Handle>) {
        let receivers: Vec<_> = handles
            .into_iter()
            .map(|(task, rx)| {
                task.abort();
                rx
            })
            .collect();
        for rx in receivers {
            assert!(rx.blocking_recv().is_err(), "an aborted task replied");
        }
    }
}

impl StreamBridge for RawTokio {
    fn drain(&self, items: u64) -> u64 {
        let (tx, rx) = bridge::channel();
        drop(self.handle.spawn(bridge::send_range(tx, items)));
        bridge::drain(&rx)
    }
}
