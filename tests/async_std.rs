//! The conformance suite on the async-std backend: managed (async-std's
//! global executor plus crochet's thread for `!Send` work) and attached
//! (the global executor alone, as an async-std application has it).
#![cfg(feature = "async-std")]

use std::time::Duration;

use crochet::Reactor;
use crochet::async_std::AsyncStd;
use crochet_conformance::{BoxFuture, Fixture, Owner};

enum Flavor {
    Managed,
    Attached,
}

struct AsyncStdFixture(Flavor);

impl Fixture for AsyncStdFixture {
    fn name(&self) -> &'static str {
        match self.0 {
            Flavor::Managed => "async-std (managed)",
            Flavor::Attached => "async-std (attached)",
        }
    }

    fn start(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        match self.0 {
            Flavor::Managed => self.start_managed(reactor).map(|()| Owner::none()),
            Flavor::Attached => self.attach(reactor),
        }
    }

    fn start_managed(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(AsyncStd::builder())
    }

    fn attach(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        // The global executor is the application's, and lives as long as
        // the process: there is nothing to own.
        reactor.attach(AsyncStd::attach()).map(|()| Owner::none())
    }

    fn start_misconfigured(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(AsyncStd::builder().thread_name("crochet-\0-bad"))
    }

    fn supports_local(&self) -> bool {
        matches!(self.0, Flavor::Managed)
    }

    fn runs_work_on_own_threads(&self) -> bool {
        false
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(async_std::task::sleep(duration))
    }

    fn spawn_raw(&self, body: Box<dyn FnOnce() + Send>) {
        drop(async_std::task::spawn(async move { body() }));
    }

    fn spawn_blocking_raw(&self, body: Box<dyn FnOnce() + Send>) {
        drop(async_std::task::spawn_blocking(body));
    }

    fn runtime_context_probe(&self) -> BoxFuture<u32> {
        Box::pin(async_std::task::spawn(async { 42 }))
    }
}

mod managed {
    crochet_conformance::suite!(&super::AsyncStdFixture(super::Flavor::Managed));
}

mod attached {
    crochet_conformance::suite!(&super::AsyncStdFixture(super::Flavor::Attached));
}
