//! Pins every error message: they are part of the interface (people match
//! on them in logs), so a change must be deliberate.
#![cfg(feature = "tokio")]

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use crochet::{Error, ErrorKind, Reactor, StashId, TryNextError};

fn id() -> StashId {
    "0123456789abcdef0123456789abcdef"
        .parse()
        .expect("a well-formed id")
}

#[test]
fn every_error_message_says_what_happened_and_what_to_do() {
    let cases: Vec<(Error, &str)> = vec![
        (
            Error::Timeout {
                after: Duration::from_millis(250),
                cancelled: false,
            },
            "timed out after 250ms waiting for the result; the operation is still running: wait again or cancel it",
        ),
        (
            Error::Timeout {
                after: Duration::from_secs(5),
                cancelled: true,
            },
            "timed out after 5s waiting for the result; the operation was cancelled",
        ),
        (
            Error::Cancelled,
            "the operation was cancelled before it finished",
        ),
        (
            Error::ReactorStopped,
            "the reactor was shut down; the operation did not run to completion",
        ),
        (
            Error::NotSetUp,
            "the reactor is not set up: call setup() (or no_setup() and attach a runtime) before submitting work",
        ),
        (
            Error::WaitInReactor {
                thread: "crochet-tokio".into(),
            },
            "blocking wait called on reactor thread `crochet-tokio`, where it would deadlock; use `.await` on the result there instead",
        ),
        (
            Error::AlreadyRetrieved,
            "the result was already taken by an earlier wait; use shared() to let several waiters see it",
        ),
        (
            Error::AlreadyStarted,
            "the reactor was already started by setup(); call no_setup() or attach before any setup()",
        ),
        (
            Error::AlreadyAttached,
            "a runtime is already attached to this reactor",
        ),
        (
            Error::Forked {
                parent: 10,
                child: 11,
            },
            "the reactor was started in process 10 and this is process 11, a fork: its threads do not exist here; set up crochet in the child after forking",
        ),
        (
            Error::start_failed(std::io::Error::other("no more threads")),
            "failed to start the reactor: no more threads",
        ),
        (
            Error::Unsupported {
                capability: "!Send work (run_in_reactor_local)",
                backend: "tokio",
            },
            "the tokio backend does not support !Send work (run_in_reactor_local)",
        ),
        (
            Error::ShutdownTimedOut {
                after: Duration::from_secs(1),
            },
            "reactor threads did not exit within 1s of shutdown; a task is blocking its thread, which was left running",
        ),
        (
            Error::StashNotFound { id: id() },
            "no stashed result with id 01234567…: it was already retrieved, it expired, or it never existed",
        ),
        (
            Error::StashMalformedId { len: 3 },
            "malformed stash id: expected 32 hexadecimal characters, got 3 characters",
        ),
        (
            Error::StashWrongType {
                id: id(),
                expected: "alloc::string::String",
                found: "u32",
            },
            "stashed result 01234567… holds u32, not alloc::string::String; it stays stashed",
        ),
        (
            Error::StashFull { capacity: 2 },
            "the stash is full (2 entries); retrieve results or raise the capacity",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message, "{:?}", error.kind());
        assert!(!message.ends_with('.'), "no trailing period: {message}");
        assert!(
            message.starts_with(|c: char| c.is_lowercase()),
            "lowercase: {message}"
        );
    }
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
            TryNextError::Failed(Error::Cancelled),
            "the operation was cancelled before it finished",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
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
    let reactor = Reactor::start(crochet::tokio::Tokio::builder()).expect("start");
    let panicked = reactor
        .wait_for(Duration::from_secs(10), || async {
            panic!("the panic's own words");
        })
        .expect_err("a panic");
    assert_eq!(
        panicked.to_string(),
        "the operation panicked: the panic's own words"
    );
    assert_eq!(panicked.kind(), ErrorKind::Panicked);

    let failed = reactor
        .try_wait_for(Duration::from_secs(10), || async {
            Err::<(), _>(Upstream(std::io::Error::other("connection reset")))
        })
        .expect_err("the operation's error");
    // Transparent: the operation's message, and its source (not itself)
    // as the source, so a chain printer shows each message once.
    assert_eq!(failed.to_string(), "upstream refused the request");
    assert_eq!(
        failed.source().map(ToString::to_string).as_deref(),
        Some("connection reset")
    );
    let io = Error::StartFailed(Arc::new(std::io::Error::other("inner")));
    assert_eq!(
        io.source().map(ToString::to_string).as_deref(),
        Some("inner")
    );
    reactor.shutdown(Duration::from_secs(10)).expect("shutdown");
}
