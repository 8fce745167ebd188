//! Pins every error message: they are part of the interface (people match
//! on them in logs), so a change must be deliberate.
#![cfg(feature = "tokio")]

use std::convert::Infallible;
use std::error::Error as _;
use std::time::Duration;

use crochet::OperationState;
use crochet::{
    Error, Reactor, RetrieveError, SetupError, ShutdownError, StashId, StashPolicy, TryNextError,
    WaitError,
};

/// What a wait on an operation without an error of its own returns (an
/// expression does not apply `WaitError`'s default type parameter).
type PlainWait = WaitError<Infallible>;

fn id() -> StashId {
    "0123456789abcdef0123456789abcdef"
        .parse()
        .expect("a well-formed id")
}

/// An `Unsupported` error as a backend reports it: crochet builds them, an
/// application only receives them.
fn unsupported() -> WaitError {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let reactor = Reactor::new();
    reactor
        .attach(crochet::backends::tokio::Tokio::from_handle(
            runtime.handle().clone(),
        ))
        .expect("attach");
    let refused = reactor
        .run_in_reactor_local(|| async {})
        .wait_timeout(Duration::from_secs(10))
        .expect_err("no !Send work on an attached tokio runtime");
    assert!(
        matches!(&refused, WaitError::Unsupported(unsupported) if unsupported.backend() == "tokio"
            && unsupported.capability() == "!Send work (run_in_reactor_local)"),
        "{refused:?}"
    );
    reactor.shutdown(Duration::from_secs(10)).expect("shutdown");
    refused
}

/// A result the full stash hands back.
fn not_stashed() -> crochet::NotStashed<()> {
    let reactor = Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("start");
    reactor.set_stash_policy(StashPolicy::default().with_capacity(2));
    let stashed: Vec<StashId> = (0..2)
        .map(|_| {
            reactor
                .run_in_reactor(std::future::pending::<()>)
                .stash()
                .expect("room in the stash")
        })
        .collect();
    let refused = reactor
        .run_in_reactor(std::future::pending::<()>)
        .stash()
        .expect_err("the stash is full");
    assert_eq!(refused.capacity(), 2);
    assert_eq!(stashed.len(), 2);
    reactor.shutdown(Duration::from_secs(10)).expect("shutdown");
    refused
}

#[test]
fn every_error_message_says_what_happened_and_what_to_do() {
    let malformed = "abc"
        .parse::<StashId>()
        .expect_err("three characters are no stash id");
    assert_eq!(malformed.text_len(), 3);
    let cases: Vec<(Box<dyn std::error::Error>, &str)> = vec![
        (
            Box::new(PlainWait::Timeout {
                after: Duration::from_millis(250),
                state: OperationState::Running,
            }),
            "timed out after 250ms waiting for the result; the operation is still running: wait again, or cancel it",
        ),
        (
            Box::new(PlainWait::Timeout {
                after: Duration::from_millis(250),
                state: OperationState::AwaitingAttach,
            }),
            "timed out after 250ms waiting for the result; the operation has not started: no_setup() was called and no runtime is attached yet; it starts once one is",
        ),
        (
            Box::new(PlainWait::Timeout {
                after: Duration::from_millis(1100),
                state: OperationState::Cancelling,
            }),
            "timed out after 1.1s waiting for the result; the operation was told to stop, but its future is blocking its thread: it is dropped when its poll returns",
        ),
        (
            Box::new(PlainWait::Timeout {
                after: Duration::from_secs(5),
                state: OperationState::Cancelled,
            }),
            "timed out after 5s waiting for the result; the operation was cancelled",
        ),
        (
            Box::new(PlainWait::Cancelled),
            "the operation was cancelled before it finished",
        ),
        (
            Box::new(PlainWait::ReactorStopped),
            "the reactor was shut down; the operation did not run to completion",
        ),
        (
            Box::new(PlainWait::NotSetUp),
            "the reactor is not set up: call setup() (or no_setup() and attach a runtime) before submitting work",
        ),
        (
            Box::new(PlainWait::WaitInReactor {
                thread: "crochet-tokio".into(),
            }),
            "blocking wait called on thread `crochet-tokio`, which runs async tasks (crochet's reactor, or a runtime's block_on or task), where it would deadlock; use `.await` there, or wait from another thread",
        ),
        (
            Box::new(PlainWait::AlreadyRetrieved),
            "the result was already taken by an earlier wait; use shared() to let several waiters see it",
        ),
        (
            Box::new(PlainWait::FailureTaken),
            "the operation failed, and its error was taken by an earlier wait on this result",
        ),
        (
            Box::new(PlainWait::AlreadyRetrieved),
            "the result was already taken by an earlier wait; use shared() to let several waiters see it",
        ),
        (
            Box::new(SetupError::AlreadyStarted),
            "the reactor was already started by setup(); call no_setup() or attach before any setup()",
        ),
        (
            Box::new(SetupError::AlreadyAttached),
            "a runtime is already attached to this reactor",
        ),
        (
            Box::new(PlainWait::Forked {
                parent: 10,
                child: 11,
            }),
            "the reactor was started in process 10 and this is process 11, a fork: its threads do not exist here; after a fork, exec, or use no crochet in the child",
        ),
        (
            Box::new(SetupError::start_failed(std::io::Error::other(
                "no more threads",
            ))),
            "failed to start the reactor: no more threads",
        ),
        (
            Box::new(unsupported()),
            "the tokio backend does not support !Send work (run_in_reactor_local)",
        ),
        (
            Box::new(ShutdownError::TimedOut {
                after: Duration::from_secs(1),
            }),
            "reactor threads did not exit within 1s of shutdown; a task is blocking its thread, which was left running",
        ),
        (
            Box::new(ShutdownError::Abandoned {
                operations: 2,
                after: Duration::from_millis(300),
            }),
            "shutdown's bound of 300ms ran out with 2 operation(s) still running (a future blocking its thread, or a runtime that no longer runs them); their results were completed with ReactorStopped, and their futures are dropped when their runtime gets to them",
        ),
        (
            Box::new(ShutdownError::InReactor { operations: 1 }),
            "shutdown was called on a reactor thread, where it cannot wait: 1 operation(s) still running, the caller's included, were completed with ReactorStopped, and their futures are dropped as the runtime gets to them; shut down from a thread outside the reactor to wait for them",
        ),
        (
            Box::new(RetrieveError::Forked {
                parent: 10,
                child: 11,
            }),
            "the stash belongs to a reactor started in process 10, and this is process 11, a fork; after a fork, exec, or use no crochet",
        ),
        (
            Box::new(RetrieveError::NotFound { id: id() }),
            "no stashed result with id 01234567…: it was already retrieved, it expired, or it never existed",
        ),
        (
            Box::new(malformed),
            "malformed stash id: expected 32 hexadecimal characters, got 3 characters",
        ),
        (
            Box::new(RetrieveError::WrongType {
                id: id(),
                expected: "alloc::string::String",
                found: "u32",
            }),
            "stashed result 01234567… holds u32, not String; it stays stashed",
        ),
        (
            Box::new(RetrieveError::WrongType {
                id: id(),
                expected: "u32",
                found: "core::result::Result<u32, std::io::error::Error>",
            }),
            "stashed result 01234567… holds Result<u32, Error>, not u32; it stays stashed",
        ),
        (
            Box::new(Error::StashFull { capacity: 2 }),
            "the stash is full (2 entries); retrieve results or raise the capacity",
        ),
        (
            Box::new(SetupError::BackendMismatch {
                running: "smol",
                requested: "tokio",
            }),
            "the reactor already runs on the smol backend, not tokio; a library that needs a backend of its own should start a Reactor of its own",
        ),
        (
            Box::new(SetupError::ReactorStopped),
            "the reactor was shut down; it does not start again",
        ),
        // The umbrella error says what the error it holds says.
        (
            Box::new(Error::from(PlainWait::Cancelled)),
            "the operation was cancelled before it finished",
        ),
        (
            Box::new(Error::from(SetupError::AlreadyAttached)),
            "a runtime is already attached to this reactor",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message, "{error:?}");
        assert!(!message.ends_with('.'), "no trailing period: {message}");
        assert!(
            message.starts_with(|c: char| c.is_lowercase()),
            "lowercase: {message}"
        );
    }
}

#[derive(Debug)]
struct Upstream(std::io::Error);

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("upstream refused the request")
    }
}

impl std::error::Error for Upstream {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn panics_and_operation_errors_pass_through_unchanged() {
    let reactor = Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("start");
    let panicked = reactor
        .wait_for(Duration::from_secs(10), || async {
            panic!("the panic's own words");
        })
        .expect_err("a panic");
    assert_eq!(
        panicked.to_string(),
        "the operation panicked: the panic's own words"
    );
    assert!(matches!(panicked, WaitError::Panicked(_)), "{panicked:?}");

    let fail = || {
        reactor
            .wait_for_fallible(Duration::from_secs(10), || async {
                Err::<(), _>(Upstream(std::io::Error::other("connection reset")))
            })
            .expect_err("the operation's error")
    };
    let failed = fail();
    // It says that the operation failed, with the operation's own message.
    // (Its causes, which a `WaitError<E>` cannot reach for every `E`, come
    // through the umbrella error, below.)
    assert_eq!(
        failed.to_string(),
        "the operation failed: upstream refused the request"
    );
    // Through the umbrella error that `?` converts to: the same message,
    // and the operation error's source as the source, so a chain printer
    // shows each message once.
    let umbrella = Error::from(fail());
    assert_eq!(
        umbrella.to_string(),
        "the operation failed: upstream refused the request"
    );
    assert_eq!(
        umbrella.source().map(ToString::to_string).as_deref(),
        Some("connection reset")
    );
    // And the operation's own error comes back owned and typed.
    let WaitError::Failed(Upstream(io)) = failed else {
        panic!("the operation's own error, typed: {failed:?}");
    };
    assert_eq!(io.to_string(), "connection reset");

    let io = SetupError::start_failed(std::io::Error::other("inner"));
    assert_eq!(
        io.source().map(ToString::to_string).as_deref(),
        Some("inner")
    );
    reactor.shutdown(Duration::from_secs(10)).expect("shutdown");
}

/// The first wait takes the operation's own error; a later one hears that
/// it was taken, and says so.
#[test]
fn a_failure_taken_by_an_earlier_wait_says_so() {
    let reactor = Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("start");
    let result = reactor.run_in_reactor_fallible(|| async {
        Err::<(), _>(Upstream(std::io::Error::other("connection reset")))
    });
    let first = result
        .wait_timeout(Duration::from_secs(10))
        .expect_err("the operation's error");
    assert!(matches!(first, WaitError::Failed(Upstream(_))), "{first:?}");
    let second = result
        .wait_timeout(Duration::from_secs(10))
        .expect_err("taken");
    assert!(matches!(second, WaitError::FailureTaken), "{second:?}");
    assert_eq!(
        second.to_string(),
        "the operation failed, and its error was taken by an earlier wait on this result"
    );
    reactor.shutdown(Duration::from_secs(10)).expect("shutdown");
}

/// A wait's error is small enough to return cheaply: the old one-enum
/// `Result<(), Error>` took 48 bytes.
#[test]
fn a_wait_error_is_small() {
    let wait = std::mem::size_of::<Result<(), WaitError>>();
    println!("Result<(), WaitError>: {wait} bytes");
    println!(
        "Result<u64, WaitError>: {} bytes, WaitError<std::io::Error>: {} bytes, SetupError: {} bytes, Error: {} bytes",
        std::mem::size_of::<Result<u64, WaitError>>(),
        std::mem::size_of::<WaitError<std::io::Error>>(),
        std::mem::size_of::<SetupError>(),
        std::mem::size_of::<Error>(),
    );
    assert!(wait <= 24, "Result<(), WaitError> is {wait} bytes");
}

#[test]
fn a_stream_read_that_finds_no_item_says_why() {
    let cases = [
        (
            TryNextError::Empty,
            "no item is buffered yet; the stream is still running: read again later",
        ),
        (
            TryNextError::Ended,
            "the stream has ended; every item was read",
        ),
        (
            TryNextError::Failed(WaitError::Cancelled),
            "the operation was cancelled before it finished",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn a_result_the_stash_refused_says_why_and_is_no_error_to_propagate() {
    // Not a std::error::Error (dropping it cancels the operation, which `?`
    // must never do unseen): its message is read directly.
    assert_eq!(
        not_stashed().to_string(),
        "the stash is full (2 entries); the result was handed back: retrieve results or raise the capacity"
    );
}

/// A handle's `Debug` names the closure its operation was submitted as,
/// and where: for a stream too, whose operation crochet wraps in a closure
/// of its own.
#[test]
fn a_handle_names_the_closure_it_was_submitted_as() {
    let reactor = Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("start");
    let here = module_path!();
    let result = reactor.run_in_reactor(|| async { 7 });
    let debug = format!("{result:?}");
    assert!(
        debug.contains(&format!(
            "{here}::a_handle_names_the_closure_it_was_submitted_as::{{{{closure}}}}"
        )),
        "{debug}"
    );
    assert!(debug.contains("display.rs"), "{debug}");
    assert_eq!(result.wait_timeout(Duration::from_secs(5)).ok(), Some(7));

    let stream = reactor.stream_in_reactor(|| futures_lite::stream::iter([1, 2]));
    let debug = format!("{stream:?}");
    assert!(
        debug.contains(&format!(
            "operation: \"{here}::a_handle_names_the_closure_it_was_submitted_as::{{{{closure}}}}\""
        )),
        "{debug}"
    );
    assert!(!debug.contains("crochet_core::stream"), "{debug}");
    drop(stream);
    reactor.shutdown(Duration::from_secs(5)).expect("shutdown");
}
