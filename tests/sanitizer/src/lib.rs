//! The conformance suite's stress case alone, on every tokio and smol
//! fixture, in a package whose only dependency is the suite: CI builds
//! and runs it under ThreadSanitizer (`.ci/run`), which would take far
//! longer with the facade's dev-dependencies (HTTP clients and servers,
//! TLS, trybuild, proptest). The test is `tests/stress.rs`; this library
//! is empty.

#![forbid(unsafe_code)]
