//! The blocking client: the async [`Client`](crate::Client), run on a
//! crochet reactor, for threads that cannot `.await`.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crochet::Reactor;

use crate::Error;

/// How long a call waits for its answer unless told otherwise (the same
/// as `reqwest::blocking`'s default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The library's reactor, shared by every client that was not given one:
/// started at the first client, on the application's runtime choice
/// (crochet's cargo features), and apart from crochet's global reactor, so
/// that neither the application's `crochet::shutdown` nor its failure hook
/// touch it. A static, as a library's runtime usually is: it lives as long
/// as the process.
static REACTOR: LazyLock<Result<Reactor, crochet::SetupError>> =
    LazyLock::new(|| Reactor::start(crochet::default_backend()));

/// A blocking client: `Send + Sync`, cheap to clone, for any number of
/// threads.
///
/// # Examples
///
/// ```
/// # let server = blocking_client::loopback::Server::start()?;
/// # let base = server.url();
/// let client = blocking_client::blocking::Client::new(base)?;
/// let page = client.get("/")?;
/// # assert_eq!(page, blocking_client::loopback::BODY);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    client: crate::Client,
    reactor: Reactor,
    timeout: Duration,
}

impl Client {
    /// A client for the server at `base`, on the library's reactor, with
    /// [`DEFAULT_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// [`Error::Start`] when the library's reactor cannot start,
    /// [`Error::Http`] when reqwest cannot build its client.
    pub fn new(base: reqwest::Url) -> Result<Client, Error> {
        Client::builder(base).build()
    }

    /// Configures a client for the server at `base`.
    pub fn builder(base: reqwest::Url) -> Builder {
        Builder {
            base,
            timeout: DEFAULT_TIMEOUT,
            reactor: None,
        }
    }

    /// The body of `path`, as text: the async [`Client::get`](crate::Client::get),
    /// run on the calling thread in the reactor's runtime context, as
    /// `Handle::block_on` would, with crochet's timeout and refusal.
    ///
    /// # Errors
    ///
    /// The async call's errors ([`Error::BadPath`] before anything is
    /// sent); [`Error::Timeout`] when there is no answer
    /// within the client's timeout (the request is cancelled first);
    /// [`Error::InRuntime`] when called where blocking would stall a
    /// runtime; [`Error::Reactor`] when the reactor is stopped or the
    /// request panicked.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread until the answer or the timeout. Do not
    /// call it from async code: use the async client there, or
    /// `spawn_blocking`. Where blocking would stall a runtime (inside a
    /// current-thread runtime's `block_on`, or in work on a crochet
    /// reactor), crochet refuses with [`Error::InRuntime`] instead.
    pub fn get(&self, path: &str) -> Result<String, Error> {
        // The future borrows `self` and `path`: it runs on this thread
        // (only the connection's IO readiness crosses to the reactor), and
        // never outlives the call.
        let Inner {
            client,
            reactor,
            timeout,
        } = &*self.inner;
        reactor
            .wait_for_fallible_ref(*timeout, || client.get(path))
            .map_err(|error| Error::from_wait(error, *timeout))
    }

    /// How long a call waits for its answer.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client", &self.inner.client)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a blocking [`Client`].
#[derive(Debug)]
pub struct Builder {
    base: reqwest::Url,
    timeout: Duration,
    reactor: Option<Reactor>,
}

impl Builder {
    /// How long each call waits for its answer before cancelling the
    /// request (default [`DEFAULT_TIMEOUT`]). A huge value means "forever".
    pub fn timeout(mut self, timeout: Duration) -> Builder {
        self.timeout = timeout;
        self
    }

    /// Runs this client's requests on `reactor` instead of the library's
    /// own: an application that already runs crochet (on smol with
    /// `tokio-compat`, say) hands it over, and no thread is started.
    pub fn reactor(mut self, reactor: Reactor) -> Builder {
        self.reactor = Some(reactor);
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`Error::Start`] when the library's reactor cannot start,
    /// [`Error::Http`] when reqwest cannot build its client.
    pub fn build(self) -> Result<Client, Error> {
        let reactor = match self.reactor {
            Some(reactor) => reactor,
            None => REACTOR.clone().map_err(Error::Start)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                client: crate::Client::new(self.base)?,
                reactor,
                timeout: self.timeout,
            }),
        })
    }
}
