//! The threads of a managed runtime: named `crochet-…`, marked as reactor
//! threads, and joined within a bound at shutdown. Every backend that owns
//! threads uses this, so they all start and stop the same way.

use std::fmt;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::context;
use crate::error::{SetupError, ShutdownError};

/// A group of reactor threads owned by a backend.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::backend::ReactorThreads;
///
/// let mut threads = ReactorThreads::new();
/// threads.spawn("crochet-example", || {
///     assert!(crochet_core::backend::is_reactor_thread());
/// })?;
/// threads.join(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub struct ReactorThreads {
    handles: Vec<JoinHandle<()>>,
    exited_tx: Sender<()>,
    exited_rx: Receiver<()>,
}

impl ReactorThreads {
    /// An empty group.
    pub fn new() -> Self {
        let (exited_tx, exited_rx) = mpsc::channel();
        ReactorThreads {
            handles: Vec::new(),
            exited_tx,
            exited_rx,
        }
    }

    /// Starts a thread named `name` that runs `body` as a reactor thread.
    ///
    /// # Errors
    ///
    /// [`SetupError::StartFailed`] when the thread cannot be created, or when
    /// `name` contains a NUL byte (which std would panic on).
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        body: impl FnOnce() + Send + 'static,
    ) -> Result<(), SetupError> {
        let name = name.into();
        if name.contains('\0') {
            return Err(SetupError::start_failed(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("thread name {name:?} contains a NUL byte"),
            )));
        }
        let exited_tx = self.exited_tx.clone();
        let handle = thread::Builder::new()
            .name(name)
            .spawn(move || {
                // Made here, not before the spawn: if the spawn fails, the
                // closure is dropped without signalling an exit. Dropped
                // when the body returns or unwinds: the thread is done with
                // everything but its thread-local destructors.
                let _exited = ExitSignal(exited_tx);
                context::mark_reactor_thread();
                body();
            })
            .map_err(SetupError::start_failed)?;
        self.handles.push(handle);
        Ok(())
    }

    /// Whether the calling thread is one of the group's.
    pub fn contains_current(&self) -> bool {
        let current = thread::current().id();
        self.handles
            .iter()
            .any(|handle| handle.thread().id() == current)
    }

    /// Waits up to `timeout` for every thread to finish.
    ///
    /// Called from one of the group's own threads (a task that shuts its
    /// reactor down), it cannot wait for itself: it returns at once, and
    /// the threads exit as soon as the calling task returns.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::TimedOut`] when a thread is still running at the
    /// deadline; it is detached and left to finish alone.
    pub fn join(self, timeout: Duration) -> Result<(), ShutdownError> {
        if self.contains_current() {
            return Ok(());
        }
        let ReactorThreads {
            handles,
            exited_tx,
            exited_rx,
        } = self;
        drop(exited_tx);
        let deadline = Instant::now().checked_add(timeout);
        let mut remaining = handles.len();
        while remaining > 0 {
            let received = match deadline {
                None => exited_rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(deadline) => {
                    exited_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                }
            };
            match received {
                Ok(()) => remaining -= 1,
                // Every signal sender is gone: every thread has exited.
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(ShutdownError::TimedOut { after: timeout });
                }
            }
        }
        for handle in handles {
            // The body has returned; only thread-local destructors remain.
            // A panic in the body was already reported by the panic hook.
            let _ = handle.join();
        }
        Ok(())
    }
}

impl Default for ReactorThreads {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ReactorThreads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReactorThreads")
            .field("threads", &self.handles.len())
            .finish()
    }
}

struct ExitSignal(Sender<()>);

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}
