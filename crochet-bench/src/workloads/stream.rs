//! Stream throughput: items per second carried from a stream running on a
//! reactor to one blocking thread reading it to its end.

use std::thread;
use std::time::Instant;

use crate::subjects::StreamBridge;

/// Items per second through one stream of `items` items, timed from the
/// call that starts the stream to the reader seeing its end, after one
/// untimed stream of `warmup` items.
///
/// The reader is a thread started for the purpose (see `latency::run`).
pub(crate) fn run(subject: &impl StreamBridge, warmup: u64, items: u64) -> f64 {
    thread::scope(|scope| {
        scope
            .spawn(|| {
                let read = subject.drain(warmup);
                assert_eq!(read, warmup, "a warm-up stream lost items");
                let start = Instant::now();
                let read = subject.drain(items);
                let elapsed = start.elapsed();
                assert_eq!(read, items, "a stream lost items");
                items as f64 / elapsed.as_secs_f64()
            })
            .join()
            .expect("the stream reading thread panicked")
    })
}
