//! The conformance suite: every behaviour of `../shared/SPEC.md` that a
//! backend must show, written once against `crochet-core` and run
//! unchanged on each backend, managed and attached.
//!
//! A backend's test file implements [`Fixture`] (how to start a reactor on
//! it, and three runtime-specific futures) and calls [`suite!`] once per
//! fixture; the macro generates one `#[test]` per case. The fixtures of
//! crochet's own backends are in [`fixtures`], each behind the feature of
//! its name (`tokio`, `smol`, `async-std`). Cases that touch
//! process-wide state (the global reactor, the failure hook, the global
//! log subscriber, the stash policy, signals, `fork`) each run in a fresh
//! process; every case has a hard deadline.

#![warn(missing_docs, missing_debug_implementations)]
// Test support: its helpers are documented where they are not obvious.
#![allow(missing_docs, missing_debug_implementations)]

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crochet_core::{Reactor, SetupError};

pub mod cases;
pub mod fixtures;
pub mod support;

/// A `Send` boxed future, as fixtures hand them to the cases.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a backend's test file provides to run the suite on it.
pub trait Fixture: Sync + 'static {
    /// A label for messages: "tokio (managed)".
    fn name(&self) -> &'static str;

    /// Starts `reactor` the way this fixture runs work: a managed runtime
    /// through `setup`, or an application-owned runtime attached from its
    /// own driver thread. Returns whatever keeps that runtime alive.
    fn start(&self, reactor: &Reactor) -> Result<Owner, SetupError>;

    /// Starts `reactor` as a managed reactor of this backend, whatever the
    /// fixture's own way.
    fn start_managed(&self, reactor: &Reactor) -> Result<(), SetupError>;

    /// Attaches a fresh application-owned runtime to `reactor`.
    fn attach(&self, reactor: &Reactor) -> Result<Owner, SetupError>;

    /// Starts `reactor` on a backend configured so that it cannot start.
    fn start_misconfigured(&self, reactor: &Reactor) -> Result<(), SetupError>;

    /// Whether reactors from [`Fixture::start`] run `!Send` work.
    fn supports_local(&self) -> bool;

    /// Whether a managed reactor runs `Send` work on its own `crochet-…`
    /// threads (async-std's backend uses async-std's global executor).
    fn runs_work_on_own_threads(&self) -> bool {
        true
    }

    /// A runtime timer. Called on a reactor thread (inside the runtime).
    fn sleep(&self, duration: Duration) -> BoxFuture<()>;

    /// Spawns a task on a runtime task (not through crochet) that runs
    /// `body`. Called on a reactor thread.
    fn spawn_raw(&self, body: Box<dyn FnOnce() + Send>);

    /// A future that needs the runtime's context (spawns a runtime task
    /// and awaits it) and yields 42. Called on a reactor thread.
    fn runtime_context_probe(&self) -> BoxFuture<u32>;

    /// Runs `body` on one of the runtime's blocking threads (its
    /// `spawn_blocking` pool), or on a plain thread for runtimes without
    /// one. Called on a reactor thread.
    fn spawn_blocking_raw(&self, body: Box<dyn FnOnce() + Send>);

    /// What a blocking wait does inside a runtime task (one crochet did not
    /// make) on the runtime that [`Fixture::start`] gives the reactor.
    fn raw_task_wait(&self) -> RawTaskWait {
        RawTaskWait::Refused
    }
}

/// What a blocking wait does inside a task of the reactor's runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawTaskWait {
    /// It returns `WaitInReactor` at once.
    Refused,
    /// It completes: the runtime hands the thread's other work off (tokio's
    /// `block_in_place` on an attached multi-thread runtime).
    Completes,
}

/// Keeps an application-owned runtime alive; dropping it stops it.
// The field is never read: it is held for its `Drop`.
pub struct Owner(#[allow(dead_code)] Option<Box<dyn Any + Send>>);

impl Owner {
    /// Nothing to keep: a managed reactor owns its runtime.
    pub fn none() -> Self {
        Owner(None)
    }

    /// Keeps `runtime` until this owner is dropped.
    pub fn new(runtime: impl Any + Send) -> Self {
        Owner(Some(Box::new(runtime)))
    }

    /// Keeps the runtime running until the process exits (for the global
    /// reactor, which lives as long).
    pub fn keep_forever(self) {
        std::mem::forget(self);
    }
}

/// Runs an application-owned runtime on a thread of its own (named
/// `app-runtime`), the way an application would, and attaches it to
/// `reactor` from there.
///
/// `body` gets the reactor, a sender for the attach's outcome, and a future
/// that completes when the returned [`Owner`] is dropped; it must drive its
/// runtime until then.
pub fn attach_from_app_thread(
    reactor: &Reactor,
    body: impl FnOnce(Reactor, std::sync::mpsc::Sender<Result<(), SetupError>>, support::Opened)
    + Send
    + 'static,
) -> Result<Owner, SetupError> {
    let (attached_tx, attached_rx) = std::sync::mpsc::channel();
    let stop = support::Gate::new();
    let stopped = stop.opened();
    let reactor = reactor.clone();
    let thread = std::thread::Builder::new()
        .name("app-runtime".into())
        .spawn(move || body(reactor, attached_tx, stopped))
        .expect("the application's thread");
    let app = AppThread {
        stop,
        thread: Some(thread),
    };
    let attached = attached_rx
        .recv_timeout(support::PROMPTLY)
        .expect("the application's thread attached");
    attached.map(|()| Owner::new(app))
}

struct AppThread {
    stop: support::Gate,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for AppThread {
    fn drop(&mut self) {
        self.stop.open();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A started reactor for one case; shut down, then its runtime dropped, at
/// the end.
pub struct Running {
    pub reactor: Reactor,
    owner: Option<Owner>,
}

impl Running {
    pub fn start(fixture: &dyn Fixture) -> Self {
        let reactor = Reactor::new();
        let owner = fixture
            .start(&reactor)
            .unwrap_or_else(|error| panic!("{}: start a reactor: {error}", fixture.name()));
        Running {
            reactor,
            owner: Some(owner),
        }
    }
}

impl std::ops::Deref for Running {
    type Target = Reactor;

    fn deref(&self) -> &Reactor {
        &self.reactor
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.reactor.shutdown(support::PROMPTLY);
        drop(self.owner.take());
    }
}

/// Generates one `#[test]` per conformance case for `$fixture` (an
/// expression of type `&'static dyn Fixture`).
#[macro_export]
macro_rules! suite {
    ($fixture:expr) => {
        $crate::for_each_case!($fixture);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __suite_case {
    (inline, $module:ident, $name:ident, $fixture:expr) => {
        #[test]
        fn $name() {
            $crate::support::run_inline($fixture, $crate::cases::$module::$name);
        }
    };
    (isolated, $module:ident, $name:ident, $fixture:expr) => {
        #[test]
        fn $name() {
            $crate::support::run_isolated(
                $fixture,
                concat!(module_path!(), "::", stringify!($name)),
                $crate::cases::$module::$name,
            );
        }
    };
}
