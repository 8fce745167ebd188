//! Python crochet's examples in Rust: see `examples/` (`cargo run -p
//! crochet-web-examples --example download`), and `tests/examples.rs`,
//! which runs each as a process and drives it over loopback.
