//! The HTTP peers: one blocking GET of the loopback server's page, as
//! crochet's blocking-client example does it on each backend, and as
//! library authors write it today.
//!
//! Every approach makes the same request with the same async client
//! (reqwest, keep-alive, HTTP/1.1) and checks the body.

use std::sync::Arc;
use std::time::Duration;

use blocking_client::{blocking, loopback};
use crochet::Reactor;

use crate::config::Backend;

/// How long any one request may take before the run is called failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes requests from the calling thread; built on it.
pub(crate) type Caller<'a> = Box<dyn FnMut() -> Result<(), String> + 'a>;

/// One way of making a blocking HTTP request.
pub(crate) trait HttpGet: Sync {
    /// Prepares the calling thread (the naive wrapper builds its runtime
    /// here) and returns what makes one request from it.
    fn caller(&self) -> Result<Caller<'_>, String>;
}

/// The peers, by id, in the order they run.
pub(crate) const PEERS: [&str; 4] = [
    REQWEST_BLOCKING,
    HANDLE_BLOCK_ON,
    RUNTIME_PER_THREAD,
    REACTOR_THREAD,
];
/// `reqwest::blocking::Client`.
pub(crate) const REQWEST_BLOCKING: &str = "reqwest-blocking";
/// `Handle::block_on` on a shared multi-thread runtime, from each caller.
pub(crate) const HANDLE_BLOCK_ON: &str = "handle-block-on";
/// A current-thread runtime of its own per caller thread, `block_on` there.
pub(crate) const RUNTIME_PER_THREAD: &str = "runtime-per-thread";
/// crochet-tokio's `wait_for` with the future on the reactor's thread
/// (`set_wait_for_inline(false)`): the mode before the inline one.
pub(crate) const REACTOR_THREAD: &str = "crochet-tokio-reactor-thread";

fn check(body: Result<String, impl std::fmt::Display>) -> Result<(), String> {
    match body {
        Ok(body) if body == loopback::BODY => Ok(()),
        Ok(body) => Err(format!("unexpected body {body:?}")),
        Err(error) => Err(error.to_string()),
    }
}

fn async_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|error| error.to_string())
}

/// The blocking-client example's `blocking::Client` on a crochet reactor
/// of the given backend (smol and async-std with `tokio-compat`).
pub(crate) struct CrochetClient {
    reactor: Reactor,
    client: blocking::Client,
}

impl CrochetClient {
    pub(crate) fn start(backend: Backend, url: reqwest::Url) -> Result<CrochetClient, String> {
        let reactor = match backend {
            Backend::Tokio => Reactor::start(crochet::backends::tokio::Tokio::builder()),
            Backend::Smol => Reactor::start(crochet::backends::smol::Smol::builder()),
            Backend::AsyncStd => Reactor::start(crochet::backends::async_std::AsyncStd::builder()),
        }
        .map_err(|error| error.to_string())?;
        let client = blocking::Client::builder(url)
            .reactor(reactor.clone())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| error.to_string())?;
        Ok(CrochetClient { reactor, client })
    }

    pub(crate) fn shutdown(self) -> Result<(), String> {
        drop(self.client);
        self.reactor
            .shutdown(REQUEST_TIMEOUT)
            .map_err(|error| error.to_string())
    }
}

impl HttpGet for CrochetClient {
    fn caller(&self) -> Result<Caller<'_>, String> {
        Ok(Box::new(|| check(self.client.get("/"))))
    }
}

/// The same async client's request through crochet-tokio's `wait_for`,
/// run on the reactor's thread: the caller's closure moves an `Arc` of the
/// client there, and the caller blocks for the answer.
pub(crate) struct CrochetOnReactorThread {
    reactor: Reactor,
    client: Arc<blocking_client::Client>,
}

impl CrochetOnReactorThread {
    pub(crate) fn start(url: reqwest::Url) -> Result<CrochetOnReactorThread, String> {
        let reactor = Reactor::start(crochet::backends::tokio::Tokio::builder())
            .map_err(|error| error.to_string())?;
        reactor.set_wait_for_inline(false);
        let client = blocking_client::Client::new(url).map_err(|error| error.to_string())?;
        Ok(CrochetOnReactorThread {
            reactor,
            client: Arc::new(client),
        })
    }

    pub(crate) fn shutdown(self) -> Result<(), String> {
        self.reactor
            .shutdown(REQUEST_TIMEOUT)
            .map_err(|error| error.to_string())
    }
}

impl HttpGet for CrochetOnReactorThread {
    fn caller(&self) -> Result<Caller<'_>, String> {
        Ok(Box::new(|| {
            let client = Arc::clone(&self.client);
            check(
                self.reactor
                    .wait_for_fallible(
                        REQUEST_TIMEOUT,
                        move || async move { client.get("/").await },
                    ),
            )
        }))
    }
}

/// `reqwest::blocking::Client`: a runtime thread per client, a channel
/// message and a oneshot per request, and a second hop for the body.
pub(crate) struct ReqwestBlocking {
    client: reqwest::blocking::Client,
    url: reqwest::Url,
}

impl ReqwestBlocking {
    pub(crate) fn start(url: reqwest::Url) -> Result<ReqwestBlocking, String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| error.to_string())?;
        Ok(ReqwestBlocking { client, url })
    }
}

impl HttpGet for ReqwestBlocking {
    fn caller(&self) -> Result<Caller<'_>, String> {
        Ok(Box::new(|| {
            check(
                self.client
                    .get(self.url.clone())
                    .send()
                    .and_then(|response| response.text()),
            )
        }))
    }
}

/// `Handle::block_on` from each caller thread, on one shared multi-thread
/// runtime (tokio's default: a worker per CPU): the future runs on the
/// caller's thread; connections live on the runtime's workers.
pub(crate) struct HandleBlockOn {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HandleBlockOn {
    pub(crate) fn start(url: reqwest::Url) -> Result<HandleBlockOn, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        Ok(HandleBlockOn {
            runtime,
            client: async_client()?,
            url,
        })
    }
}

impl HttpGet for HandleBlockOn {
    fn caller(&self) -> Result<Caller<'_>, String> {
        let handle = self.runtime.handle().clone();
        Ok(Box::new(move || {
            check(handle.block_on(get(&self.client, &self.url)))
        }))
    }
}

/// The naive wrapper: each caller thread builds a current-thread runtime
/// and a client of its own, and `block_on`s each request there.
pub(crate) struct RuntimePerThread {
    url: reqwest::Url,
}

impl RuntimePerThread {
    pub(crate) fn new(url: reqwest::Url) -> RuntimePerThread {
        RuntimePerThread { url }
    }
}

impl HttpGet for RuntimePerThread {
    fn caller(&self) -> Result<Caller<'_>, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        // A client per runtime: its pooled connections belong to the
        // runtime they were made on.
        let client = async_client()?;
        Ok(Box::new(move || {
            check(runtime.block_on(get(&client, &self.url)))
        }))
    }
}

async fn get(client: &reqwest::Client, url: &reqwest::Url) -> Result<String, reqwest::Error> {
    client.get(url.clone()).send().await?.text().await
}
