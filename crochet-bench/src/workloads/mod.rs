//! The workloads, each generic over what it measures so that crochet and
//! its baselines run the very same loop.

pub(crate) mod allocs;
pub(crate) mod cancel;
pub(crate) mod http;
pub(crate) mod inline;
pub(crate) mod latency;
pub(crate) mod memory;
pub(crate) mod million;
pub(crate) mod stash;
pub(crate) mod stream;
pub(crate) mod throughput;
pub(crate) mod window;
pub(crate) mod with_tracing;
