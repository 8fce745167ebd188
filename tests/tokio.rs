//! The conformance suite on the tokio backend: managed (`current_thread`
//! and `multi_thread`) and attached to an application's runtime.
#![cfg(feature = "tokio")]

use std::time::Duration;

use crochet::Reactor;
use crochet::tokio::Tokio;
use crochet_conformance::{BoxFuture, Fixture, Owner, RawTaskWait, attach_from_app_thread};
use tokio::runtime::Handle;

/// A runtime that the application owns and drives on a thread of its own
/// (`current_thread` when `workers` is `None`), attached from inside it (as
/// `#[tokio::main]` code would).
fn attach_app_runtime(reactor: &Reactor, workers: Option<usize>) -> Result<Owner, crochet::Error> {
    attach_from_app_thread(reactor, move |reactor, attached, stopped| {
        let mut builder = match workers {
            None => tokio::runtime::Builder::new_current_thread(),
            Some(workers) => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(workers);
                builder
            }
        };
        let runtime = builder
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
    /// An application's `multi_thread` runtime with this many workers.
    AttachedMultiThread(usize),
}

struct TokioFixture(Flavor);

impl Fixture for TokioFixture {
    fn name(&self) -> &'static str {
        match self.0 {
            Flavor::Managed => "tokio (managed, current_thread)",
            Flavor::ManagedMultiThread => "tokio (managed, multi_thread)",
            Flavor::Attached => "tokio (attached, current_thread)",
            Flavor::AttachedMultiThread(1) => "tokio (attached, multi_thread, 1 worker)",
            Flavor::AttachedMultiThread(_) => "tokio (attached, multi_thread)",
        }
    }

    fn start(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        match self.0 {
            Flavor::Managed => reactor.setup(Tokio::builder()).map(|()| Owner::none()),
            Flavor::ManagedMultiThread => reactor
                .setup(Tokio::builder().multi_thread(2))
                .map(|()| Owner::none()),
            Flavor::Attached => attach_app_runtime(reactor, None),
            Flavor::AttachedMultiThread(workers) => attach_app_runtime(reactor, Some(workers)),
        }
    }

    fn start_managed(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(Tokio::builder())
    }

    fn attach(&self, reactor: &Reactor) -> Result<Owner, crochet::Error> {
        attach_app_runtime(reactor, None)
    }

    fn start_misconfigured(&self, reactor: &Reactor) -> Result<(), crochet::Error> {
        reactor.setup(Tokio::builder().thread_name("crochet-\0-bad"))
    }

    fn supports_local(&self) -> bool {
        matches!(self.0, Flavor::Managed | Flavor::ManagedMultiThread)
    }

    fn raw_task_wait(&self) -> RawTaskWait {
        match self.0 {
            Flavor::AttachedMultiThread(_) | Flavor::ManagedMultiThread => RawTaskWait::Completes,
            _ => RawTaskWait::Refused,
        }
    }

    fn spawn_blocking_raw(&self, body: Box<dyn FnOnce() + Send>) {
        drop(tokio::task::spawn_blocking(body));
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

mod attached_multi_thread_one_worker {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::AttachedMultiThread(1)));
}

mod attached_multi_thread {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::AttachedMultiThread(2)));
}
