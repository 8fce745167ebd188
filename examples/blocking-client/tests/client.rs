//! The blocking client, driven over loopback: many threads on one client,
//! another runtime's `spawn_blocking`, refusal inside a runtime, and a
//! timeout that cancels. Every test runs under a deadline.

use std::thread;
use std::time::{Duration, Instant};

use blocking_client::{Error, blocking, loopback};

/// The hard bound of one test.
const DEADLINE: Duration = Duration::from_secs(60);
/// The client's timeout where a test does not set one.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Runs `test` under a watchdog of [`DEADLINE`] (a hung call would
/// otherwise hang the suite).
fn with_deadline(test: impl FnOnce() + Send + 'static) {
    crochet_conformance::support::with_deadline("blocking-client test", DEADLINE, test);
}

fn client(server: &loopback::Server) -> blocking::Client {
    blocking::Client::builder(server.url())
        .timeout(PROMPTLY)
        .build()
        .expect("a client")
}

#[test]
fn client_is_send_sync_and_clone() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    assert_shareable::<blocking::Client>();
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
}

#[test]
fn thirty_two_threads_share_one_client() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        let answered: usize = thread::scope(|scope| {
            let callers: Vec<_> = (0..32)
                .map(|_| {
                    let client = client.clone();
                    scope.spawn(move || {
                        (0..25)
                            .map(|_| client.get("/").expect("an answer"))
                            .filter(|body| body == loopback::BODY)
                            .count()
                    })
                })
                .collect();
            callers
                .into_iter()
                .map(|caller| caller.join().expect("a caller"))
                .sum()
        });
        assert_eq!(answered, 32 * 25);
    });
}

#[test]
fn spawn_blocking_in_another_runtime_may_call_it() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        // The application's own runtime, which crochet knows nothing of.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime");
        let bodies = runtime.block_on(async {
            let calls: Vec<_> = (0..8)
                .map(|_| {
                    let client = client.clone();
                    tokio::task::spawn_blocking(move || client.get("/"))
                })
                .collect();
            let mut bodies = Vec::new();
            for call in calls {
                bodies.push(call.await.expect("joined").expect("an answer"));
            }
            bodies
        });
        assert_eq!(bodies, vec![loopback::BODY; 8]);
    });
}

#[test]
fn call_inside_block_on_is_refused_at_once() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let started = Instant::now();
        // Blocking here would stall the runtime (in `#[tokio::main]`, the
        // whole program): refused, not a deadlock, not a panic.
        let refused = runtime.block_on(async { client.get("/") });
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        let error = refused.expect_err("refused");
        assert!(error.is_in_runtime(), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("blocking call inside an async runtime, refused"),
            "{error}"
        );
        // The same client still works where blocking is allowed.
        assert_eq!(client.get("/").expect("an answer"), loopback::BODY);
    });
}

#[test]
fn call_inside_reactor_work_is_refused_at_once() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let reactor =
            crochet::Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("a reactor");
        let client = blocking::Client::builder(server.url())
            .reactor(reactor.clone())
            .timeout(PROMPTLY)
            .build()
            .expect("a client");
        // Work on the client's own reactor calling the blocking client:
        // waiting there would wait for itself.
        let inner = client.clone();
        let started = Instant::now();
        let refused = reactor
            .wait_for(PROMPTLY, move || async move { inner.get("/") })
            .expect("the work ran");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert!(refused.expect_err("refused").is_in_runtime());
        assert_eq!(client.get("/").expect("an answer"), loopback::BODY);
        reactor.shutdown(PROMPTLY).expect("shut down");
    });
}

#[test]
fn call_in_a_task_of_a_foreign_multi_thread_runtime_completes() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        // A task of a multi-thread runtime that crochet does not run: not
        // refused, and no deadlock (the request runs on the library's
        // reactor, not on this runtime).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime");
        let task = runtime.spawn(async move { client.get("/") });
        let body = runtime.block_on(task).expect("joined");
        assert_eq!(body.expect("an answer"), loopback::BODY);
    });
}

#[test]
fn timeout_cancels_the_request_and_the_client_goes_on() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = blocking::Client::builder(server.url())
            .timeout(Duration::from_millis(200))
            .build()
            .expect("a client");
        let started = Instant::now();
        let error = client.get("/slow/5000").expect_err("timed out");
        let elapsed = started.elapsed();
        let Error::Timeout(after) = error else {
            panic!("expected a timeout, got {error:?}");
        };
        assert!(
            after >= Duration::from_millis(200) && after <= elapsed,
            "{after:?}"
        );
        assert_eq!(
            Error::Timeout(Duration::from_millis(200)).to_string(),
            "no answer within 200ms; the request was cancelled"
        );
        assert!(
            elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
            "{elapsed:?}"
        );
        assert_eq!(client.get("/").expect("an answer"), loopback::BODY);
    });
}

#[test]
fn errors_are_typed() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        let missing = client.get("/missing").expect_err("404");
        assert!(matches!(missing, Error::Status(404)), "{missing:?}");
        assert_eq!(missing.to_string(), "the server answered 404");
        let bad = client.get("http://[").expect_err("not a URL");
        assert!(matches!(bad, Error::BadPath(_)), "{bad:?}");
        assert_eq!(bad.to_string(), "\"http://[\" is not a path on this server");

        let address = server.address();
        drop(server);
        let refused = blocking::Client::new(format!("http://{address}/").parse().expect("a URL"))
            .expect("a client")
            .get("/")
            .expect_err("nobody listens");
        assert!(matches!(refused, Error::Http(_)), "{refused:?}");
    });
}

#[test]
fn post_json_sends_the_document_and_returns_the_answer() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        let document = r#"{"name": "crochet", "threads": 32}"#;
        assert_eq!(
            client.post_json("/echo", document).expect("an answer"),
            document
        );
        let missing = client.post_json("/missing", "{}").expect_err("404");
        assert!(matches!(missing, Error::Status(404)), "{missing:?}");
    });
}

#[test]
fn a_download_streams_its_chunks_to_the_caller() {
    with_deadline(|| {
        let server = loopback::Server::start().expect("a server");
        let client = client(&server);
        let size = 10 * loopback::CHUNK + 7;
        let mut total = 0;
        let mut chunks = 0;
        for chunk in client.download(&format!("/download/{size}")) {
            let chunk = chunk.expect("no crochet error").expect("no HTTP error");
            assert!(chunk.iter().all(|&byte| byte == b'x'));
            total += chunk.len();
            chunks += 1;
        }
        assert_eq!(total, size);
        assert!(chunks > 1, "it came in chunks, read as they came");
        let mut missing = client.download("/missing");
        let first = missing.next().expect("one item").expect("no crochet error");
        assert!(matches!(first, Err(Error::Status(404))), "{first:?}");
        assert!(missing.next().is_none(), "the error ends the stream");
    });
}
