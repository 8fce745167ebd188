//! Throughput: several threads submitting and waiting in a loop until a
//! shared deadline.

use std::time::Duration;

use crate::subjects::RoundTrip;

/// Round trips per second from `threads` threads, each looping over
/// `round_trip`: `warmup` uncounted, then `window` counted.
pub(crate) fn run(
    subject: &impl RoundTrip,
    threads: usize,
    warmup: Duration,
    window: Duration,
) -> f64 {
    super::window::per_second(threads, warmup, window, |_, window| {
        window.run(|| subject.round_trip())
    })
}
