//! A library that ships a blocking client beside its async one, the way
//! `reqwest::blocking` does, built on crochet: the shape a library author
//! copies.
//!
//! [`Client`] is the async API (here a thin layer over `reqwest`: `get`,
//! `post_json`, and `download`, a stream of chunks). One attribute,
//! `#[crochet::blocking]` on its `impl`, makes [`BlockingClient`] of it
//! (re-exported as [`blocking::Client`]): the same methods for threads
//! that cannot `.await`, each running the async one on a
//! [`crochet::Reactor`] that belongs to the library, and blocking for the
//! answer within a timeout that cancels the request. [`blocking`] adds
//! what is the library's own choice: a builder, and its reactor.
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
//! assert_eq!(client.post_json("/echo", r#"{"n": 1}"#)?, r#"{"n": 1}"#);
//! let bytes: usize = client.download("/download/5000").map(|chunk| chunk.unwrap().unwrap().len()).sum();
//! assert_eq!(bytes, 5000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What the blocking client gives, and how:
//!
//! - **No runtime thread per client.** Every client shares the library's
//!   reactor (one `crochet-tokio` thread, started at the first client, on
//!   [`crochet::default_backend`]: the application's runtime choice), or
//!   runs on one the application hands it ([`blocking::Builder::reactor`]).
//! - **No hop per call.** A request runs on the caller's thread, in the
//!   reactor's runtime context, borrowing the client and the path; only
//!   the connection's IO crosses to the reactor's thread, and 32 callers
//!   drive 32 requests. A download's stream runs on the reactor, and the
//!   caller reads its chunks as they come.
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

use futures_lite::Stream;

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

    /// `path` on this client's server.
    fn url(&self, path: &str) -> Result<reqwest::Url, Error> {
        self.base
            .join(path)
            .map_err(|_| Error::BadPath(path.to_owned()))
    }
}

/// The API, once: async here, and blocking in [`BlockingClient`], which
/// the attribute makes of it.
#[crochet::blocking(name = "BlockingClient", error = "Error", timeout = "30s")]
impl Client {
    /// The body of `path`, as text.
    ///
    /// # Errors
    ///
    /// [`Error::BadPath`] when `path` does not make a URL with the base,
    /// [`Error::Http`] when the request fails, [`Error::Status`] for an
    /// answer that is not a success.
    pub async fn get(&self, path: &str) -> Result<String, Error> {
        let request = self.http.get(self.url(path)?);
        text(request.send().await).await
    }

    /// Posts `json`, a JSON document, to `path`; the answer's body, as
    /// text.
    ///
    /// # Errors
    ///
    /// As [`Client::get`].
    pub async fn post_json(&self, path: &str, json: &str) -> Result<String, Error> {
        let request = self
            .http
            .post(self.url(path)?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json.to_owned());
        text(request.send().await).await
    }

    /// The body of `path`, as the chunks it arrives in.
    ///
    /// The stream's errors are those of [`Client::get`], each ending it.
    pub fn download(
        &self,
        path: &str,
    ) -> impl Stream<Item = Result<Vec<u8>, Error>> + Send + 'static {
        let request = self.url(path).map(|url| self.http.get(url));
        futures_lite::stream::unfold(Download::Start(request), Download::next)
    }
}

/// The answer's body as text, for a success.
async fn text(sent: Result<reqwest::Response, reqwest::Error>) -> Result<String, Error> {
    let response = success(sent)?;
    response.text().await.map_err(Error::Http)
}

fn success(sent: Result<reqwest::Response, reqwest::Error>) -> Result<reqwest::Response, Error> {
    let response = sent.map_err(Error::Http)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Status(status.as_u16()));
    }
    Ok(response)
}

/// Where a download is.
enum Download {
    Start(Result<reqwest::RequestBuilder, Error>),
    Body(reqwest::Response),
    Done,
}

impl Download {
    /// The next chunk, and what comes after it.
    async fn next(self) -> Option<(Result<Vec<u8>, Error>, Download)> {
        let mut response = match self {
            Download::Start(request) => {
                let sent = match request {
                    Ok(request) => request.send().await,
                    Err(error) => return Some((Err(error), Download::Done)),
                };
                match success(sent) {
                    Ok(response) => response,
                    Err(error) => return Some((Err(error), Download::Done)),
                }
            }
            Download::Body(response) => response,
            Download::Done => return None,
        };
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk.to_vec()), Download::Body(response))),
            Ok(None) => None,
            Err(error) => Some((Err(Error::Http(error)), Download::Done)),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}
