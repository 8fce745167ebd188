//! crochet itself, on one backend.

use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crochet::{EventualResult, Reactor};

use super::{Pending, RoundTrip, StreamBridge};
use crate::config::Backend;

/// A crochet reactor of its own (not the global one) on one backend,
/// started with the backend's default builder.
pub(crate) struct Crochet {
    reactor: Reactor,
}

impl Crochet {
    pub(crate) fn start(backend: Backend) -> Result<Crochet, crochet::SetupError> {
        let reactor = match backend {
            Backend::Tokio => Reactor::start(crochet::backends::tokio::Tokio::builder()),
            Backend::Smol => Reactor::start(crochet::backends::smol::Smol::builder()),
            Backend::AsyncStd => Reactor::start(crochet::backends::async_std::AsyncStd::builder()),
        }?;
        Ok(Crochet { reactor })
    }

    pub(crate) fn reactor(&self) -> &Reactor {
        &self.reactor
    }

    pub(crate) fn shutdown(self) -> Result<(), crochet::ShutdownError> {
        self.reactor.shutdown(Duration::from_secs(10))
    }
}

impl RoundTrip for Crochet {
    fn round_trip(&self) {
        self.reactor
            .run_in_reactor(|| async {})
            .wait()
            .expect("a round trip through crochet failed");
    }
}

impl Pending for Crochet {
    type Handle = EventualResult<()>;
    // The waiter blocks on the result while the canceller cancels it.
    type Canceller = Arc<EventualResult<()>>;
    type Waiter = Arc<EventualResult<()>>;

    fn submit(&self, operation: impl Future<Output = ()> + Send + 'static) -> EventualResult<()> {
        self.reactor.run_in_reactor(move || operation)
    }

    fn split(&self, handle: Self::Handle) -> (Self::Canceller, Self::Waiter) {
        let shared = Arc::new(handle);
        (Arc::clone(&shared), shared)
    }

    fn cancel(&self, canceller: Self::Canceller) {
        canceller.cancel();
    }

    fn wait(&self, waiter: Self::Waiter) -> bool {
        waiter.wait().is_err_and(|error| error.is_cancelled())
    }

    fn cancel_all(&self, handles: Vec<EventualResult<()>>) {
        for handle in &handles {
            handle.cancel();
        }
        for handle in &handles {
            assert!(
                handle.wait().is_err_and(|error| error.is_cancelled()),
                "a cancelled crochet result did not say so"
            );
        }
        drop(handles);
        // Cancelling decides the result at once; the reactor drops each
        // future when it next polls it. Wait for that, as the raw
        // baselines wait for their futures to drop their senders.
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.reactor.pending_operations() > 0 {
            assert!(
                Instant::now() < deadline,
                "crochet still holds {} cancelled operations after 60s",
                self.reactor.pending_operations()
            );
            thread::sleep(Duration::from_millis(1));
        }
    }
}

impl StreamBridge for Crochet {
    /// `stream_in_reactor` with its default buffer, read through the
    /// `Iterator` impl.
    fn drain(&self, items: u64) -> u64 {
        let stream = self
            .reactor
            .stream_in_reactor(move || futures_lite::stream::iter(0..items));
        let mut read = 0;
        for item in stream {
            black_box(item.expect("a crochet stream failed"));
            read += 1;
        }
        read
    }
}
