//! A library that ships a blocking client beside its async one, the way
//! `reqwest::blocking` does, built on crochet: the shape a library author
//! copies.
//!
//! [`Client`] is the async API (here a thin layer over `reqwest`);
//! [`blocking::Client`] is the same API for threads that cannot `.await`:
//! each call runs the async one on a [`crochet::Reactor`] that belongs to
//! the library, and blocks for the answer within a timeout that cancels
//! the request.
//!
//! ```
//! use std::time::Duration;
//! use blocking_client::{blocking, loopback};
//!
//! let server = loopback::Server::start()?;
//! let client = blocking::Client::builder(server.url())
//!     .timeout(Duration::from_secs(5))
//!     .build()?;
//! assert_eq!(client.get("/")?, loopback::BODY);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What the blocking client gives, and how:
//!
//! - **No runtime thread per client.** Every client shares the library's
//!   reactor (one `crochet-tokio` thread, started at the first client, on
//!   [`crochet::default_backend`]: the application's runtime choice), or
//!   runs on one the application hands it ([`blocking::Builder::reactor`]).
//! - **No hop per call.** The request runs on the caller's thread, in the
//!   reactor's runtime context ([`crochet::Reactor::wait_for_fallible_ref`]),
//!   borrowing the client and the path; only the connection's IO readiness
//!   crosses to the reactor's thread, and 32 callers drive 32 requests.
//! - **Timeouts that cancel.** At the deadline the caller drops the
//!   request (and its connection) itself, before it returns
//!   [`Error::Timeout`].
//! - **Refusal, not deadlock.** Called where blocking would stall a
//!   runtime (inside a current-thread runtime's `block_on`, or inside work
//!   on a crochet reactor), a call returns [`Error::InRuntime`] at once.
//!   In a task of a multi-thread runtime that crochet does not run, the
//!   call completes; async code should still prefer the async client.
//! - **`Send + Sync + Clone`.** One client for many threads, and for
//!   another runtime's `spawn_blocking`.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod blocking;
mod error;
pub mod loopback;

use std::fmt;

pub use error::Error;

/// The async client: what the library offers to async code.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
}

impl Client {
    /// A client for the server at `base`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when reqwest cannot build its client.
    pub fn new(base: reqwest::Url) -> Result<Client, Error> {
        // This workspace builds reqwest with rustls but no crypto provider
        // (see the README); a library would choose one through reqwest's
        // features instead. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().build().map_err(Error::Http)?;
        Ok(Client { http, base })
    }

    /// The body of `path`, as text.
    ///
    /// # Errors
    ///
    /// [`Error::BadPath`] when `path` does not make a URL with the base,
    /// [`Error::Http`] when the request fails, [`Error::Status`] for an
    /// answer that is not a success.
    pub async fn get(&self, path: &str) -> Result<String, Error> {
        self.fetch(self.url(path)?).await
    }

    /// `path` on this client's server.
    fn url(&self, path: &str) -> Result<reqwest::Url, Error> {
        self.base
            .join(path)
            .map_err(|_| Error::BadPath(path.to_owned()))
    }

    /// The body at `url`, as text.
    async fn fetch(&self, url: reqwest::Url) -> Result<String, Error> {
        let response = self.http.get(url).send().await.map_err(Error::Http)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Status(status.as_u16()));
        }
        response.text().await.map_err(Error::Http)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}
