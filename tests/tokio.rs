//! The conformance suite on the tokio backend: managed (`current_thread`
//! and `multi_thread`) and attached to an application's runtime.
#![cfg(feature = "tokio")]

use std::time::Duration;

use crochet::Reactor;
use crochet::tokio::Tokio;
use crochet_conformance::{BoxFuture, Fixture, Owner, attach_from_app_thread};
use tokio::runtime::Handle;

/// A `current_thread` runtime that the application owns and drives on a
/// thread of its own, attached from inside it (as `#[tokio::main]` code
/// would).
fn attach_app_runtime(reactor: &Reactor) -> Result<Owner, crochet::Error> {
    attach_from_app_thread(reactor, |reactor, attached, stopped| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the application's runtime");
        runtime.block_on(async move {
            let _ = attached.send(reactor.attach(Tokio::attach(Handle::current())));
            stopped.await;
        });
    })
}

/// How a tokio fixture runs its reactors.
enum Flavor {
    Managed,
    ManagedMultiThread,
    Attached,
}

struct TokioFixture(Flavor);

impl Fixture for TokioFixture {
    fn name(&self) -> &'static str {
        match self.0 {
            Flavor::Managed => "tokio (managed, current_thread)",
            Flavor::ManagedMultiThread => "tokio (managed, multi_thread)",
            Flavor::Attached => "tokio (attached)",
        }
    }

    fn start(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        match self.0 {
            Flavor::Managed => reactor.setup(Tokio::builder()).map(|()| Owner::none()),
            Flavor::ManagedMultiThread => reactor
                .setup(Tokio::builder().multi_thread(2))
                .map(|()| Owner::none()),
            Flavor::Attached => attach_app_runtime(reactor),
        }
    }

    fn start_managed(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(Tokio::builder())
    }

    fn attach(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        attach_app_runtime(reactor)
    }

    fn start_misconfigured(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(Tokio::builder().thread_name("crochet-\0-bad"))
    }

    fn supports_local(&self) -> bool {
        !matches!(self.0, Flavor::Attached)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn spawn_raw(&self, body: Box<dyn FnOnce() + Send>) {
        drop(tokio::spawn(async move { body() }));
    }

    fn runtime_context_probe(&self) -> BoxFuture<u32> {
        let task = tokio::spawn(async { 42 });
        Box::pin(async move { task.await.expect("the probe task") })
    }
}

mod managed {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::Managed));
}

mod managed_multi_thread {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::ManagedMultiThread));
}

mod attached {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::Attached));
}
