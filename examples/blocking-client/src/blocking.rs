//! The blocking client: [`BlockingClient`](crate::BlockingClient), which
//! `#[crochet::blocking]` makes of the async [`Client`](crate::Client),
//! and what is the library's own choice: where it runs, and how long it
//! waits.

use std::sync::LazyLock;
use std::time::Duration;

use crochet::Reactor;

pub use crate::BlockingClient as Client;
use crate::Error;

/// How long a call waits for its answer unless told otherwise (the same
/// as `reqwest::blocking`'s default).
pub const DEFAULT_TIMEOUT: Duration = Client::DEFAULT_TIMEOUT;

/// The library's reactor, shared by every client that was not given one:
/// started at the first client, on the application's runtime choice
/// (crochet's cargo features), and apart from crochet's global reactor, so
/// that neither the application's `crochet::shutdown` nor its failure hook
/// touch it. A static, as a library's runtime usually is: it lives as long
/// as the process.
static REACTOR: LazyLock<Result<Reactor, crochet::SetupError>> =
    LazyLock::new(|| Reactor::start(crochet::default_backend()));

impl Client {
    /// A client for the server at `base`, on the library's reactor, with
    /// [`DEFAULT_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// [`Error::Start`] when the library's reactor cannot start,
    /// [`Error::Http`] when reqwest cannot build its client.
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
        let client = crate::Client::new(self.base)?;
        Ok(Client::from_async(client, reactor, self.timeout))
    }
}
