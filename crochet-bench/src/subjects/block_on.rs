//! The calling-thread subjects: crochet's inline `wait_for`, and the
//! `block_on` it is measured against. Each runs the same ready future,
//! `async { black_box(1) }`, to its end on the calling thread.

use std::hint::black_box;
use std::time::Duration;

use crochet::Reactor;
use tokio::runtime::{self, Runtime};

use super::RoundTrip;
use crate::config::Backend;

/// Far more than a ready future takes: a `wait_for` that times out here
/// is a failed run.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The ready future every calling-thread subject runs.
async fn ready() -> u64 {
    black_box(1)
}

/// `reactor.wait_for(timeout, || async { v })`, run inline: polled on
/// the caller's thread inside the reactor's runtime context.
pub(crate) struct WaitForInline<'a>(pub(crate) &'a Reactor);

impl RoundTrip for WaitForInline<'_> {
    fn round_trip(&self) {
        let value = self
            .0
            .wait_for(TIMEOUT, ready)
            .expect("an inline wait_for failed");
        black_box(value);
    }
}

/// The same future through its runtime's own `block_on` on the calling
/// thread: tokio's `Handle::block_on` (of a current-thread runtime, as
/// crochet's managed one), and `futures_lite::future::block_on` for the
/// async-io runtimes.
pub(crate) enum BlockOn {
    Tokio(Runtime),
    FuturesLite,
}

impl BlockOn {
    pub(crate) fn new(backend: Backend) -> std::io::Result<BlockOn> {
        Ok(match backend {
            Backend::Tokio => BlockOn::Tokio(
                runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?,
            ),
            Backend::Smol | Backend::AsyncStd => BlockOn::FuturesLite,
        })
    }

    /// The id of `backend`'s baseline in the tables.
    /// (Its phase of the run is `backend`'s, so each has an id.)
    pub(crate) fn id(backend: Backend) -> String {
        match backend {
            Backend::Tokio => "tokio Handle::block_on".to_owned(),
            Backend::Smol | Backend::AsyncStd => format!("{backend} futures_lite::block_on"),
        }
    }
}

impl RoundTrip for BlockOn {
    fn round_trip(&self) {
        let value = match self {
            BlockOn::Tokio(runtime) => runtime.handle().block_on(ready()),
            BlockOn::FuturesLite => futures_lite::future::block_on(ready()),
        };
        black_box(value);
    }
}
