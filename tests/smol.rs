//! The conformance suite on the smol backend: managed (one and two
//! executor threads) and attached to an application's executor.
#![cfg(feature = "smol")]

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use crochet::Reactor;
use crochet::smol::Smol;
use crochet_conformance::{BoxFuture, Fixture, Owner, attach_from_app_thread};

/// An executor the application owns and runs on a thread of its own, with
/// `crochet::smol::run` so that crochet recognises that thread.
fn attach_app_executor(reactor: &Reactor) -> Result<Owner, crochet::Error> {
    attach_from_app_thread(reactor, |reactor, attached, stopped| {
        let executor = Arc::new(Executor::new());
        let _ = attached.send(reactor.attach(Smol::attach(Arc::clone(&executor))));
        async_io::block_on(crochet::smol::run(&executor, stopped));
    })
}

enum Flavor {
    Managed,
    ManagedTwoThreads,
    Attached,
}

struct SmolFixture(Flavor);

impl Fixture for SmolFixture {
    fn name(&self) -> &'static str {
        match self.0 {
            Flavor::Managed => "smol (managed, one thread)",
            Flavor::ManagedTwoThreads => "smol (managed, two threads)",
            Flavor::Attached => "smol (attached)",
        }
    }

    fn start(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        match self.0 {
            Flavor::Managed => reactor.setup(Smol::builder()).map(|()| Owner::none()),
            Flavor::ManagedTwoThreads => reactor
                .setup(Smol::builder().threads(2))
                .map(|()| Owner::none()),
            Flavor::Attached => attach_app_executor(reactor),
        }
    }

    fn start_managed(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(Smol::builder())
    }

    fn attach(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        attach_app_executor(reactor)
    }

    fn start_misconfigured(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(Smol::builder().thread_name("crochet-\0-bad"))
    }

    fn supports_local(&self) -> bool {
        !matches!(self.0, Flavor::Attached)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(async move {
            async_io::Timer::after(duration).await;
        })
    }

    fn spawn_raw(&self, body: Box<dyn FnOnce() + Send>) {
        let executor = crochet::smol::current_executor().expect("on a reactor thread");
        executor.spawn(async move { body() }).detach();
    }

    fn spawn_blocking_raw(&self, body: Box<dyn FnOnce() + Send>) {
        // smol's blocking pool is the `blocking` crate's, which crochet does
        // not depend on: a plain thread stands for it.
        std::thread::spawn(body);
    }

    fn runtime_context_probe(&self) -> BoxFuture<u32> {
        let executor = crochet::smol::current_executor().expect("on a reactor thread");
        let task = executor.spawn(async { 42 });
        Box::pin(task)
    }
}

mod managed {
    crochet_conformance::suite!(&super::SmolFixture(super::Flavor::Managed));
}

mod managed_two_threads {
    crochet_conformance::suite!(&super::SmolFixture(super::Flavor::ManagedTwoThreads));
}

mod attached {
    crochet_conformance::suite!(&super::SmolFixture(super::Flavor::Attached));
}
