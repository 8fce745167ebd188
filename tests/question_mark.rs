//! `?` from every wait reaches the error types applications use: anyhow's,
//! a boxed `dyn Error`, and crochet's own, whatever the operation's error
//! type; and what it shows keeps the operation's causes where it can.
//!
//! The functions are compile tests (each combination must build); the
//! tests check what the converted errors say.
#![cfg(feature = "tokio")]

use std::convert::Infallible;
use std::error::Error as StdError;
use std::time::Duration;

use crochet::{EventualResult, Reactor, SharedResult, WaitError};

type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("no such user")]
    NoSuchUser,
    #[error("the store failed")]
    Store(#[source] std::io::Error),
}

/// One function per target error type, for an operation error type `$e`:
/// a wait's `?` into anyhow, a boxed error and crochet's `Error`.
macro_rules! question_marks {
    ($module:ident, $e:ty) => {
        mod $module {
            use super::*;

            #[allow(dead_code)]
            pub(super) fn into_anyhow(result: EventualResult<u8, $e>) -> anyhow::Result<u8> {
                Ok(result.wait()?)
            }

            #[allow(dead_code)]
            pub(super) fn into_boxed(result: EventualResult<u8, $e>) -> Result<u8, BoxError> {
                Ok(result.wait()?)
            }

            #[allow(dead_code)]
            pub(super) fn into_crochet(
                result: EventualResult<u8, $e>,
            ) -> Result<u8, crochet::Error> {
                Ok(result.wait()?)
            }
        }
    };
}

question_marks!(infallible, Infallible);
question_marks!(io, std::io::Error);
question_marks!(thiserror_enum, AppError);
question_marks!(anyhow_error, anyhow::Error);
question_marks!(boxed, BoxError);

/// Every kind of wait gives the same `WaitError`: a shared result's, a
/// wait on many results', `wait_for`'s.
#[allow(dead_code)]
fn other_waits(reactor: &Reactor, shared: SharedResult<u8>) -> anyhow::Result<u8> {
    let value = shared.wait()?;
    let any = crochet::wait_any(Duration::from_secs(5), [&shared])?;
    let all = crochet::wait_all(Duration::from_secs(5), [&shared])?;
    let timed = reactor.wait_for(Duration::from_secs(5), || async { 1 })?;
    Ok(value + timed + any.map_or(0, |(_, value)| value.unwrap_or(0)) + all.len() as u8)
}

/// A plain wait's `WaitError` into a fallible one's: `widen` (Rust allows
/// no `From` here, as `WaitError<E>` is `WaitError` itself when `E` is
/// `Infallible`).
#[allow(dead_code)]
fn plain_into_fallible(reactor: &Reactor) -> Result<u8, WaitError<std::io::Error>> {
    let plain = reactor
        .wait_for(Duration::from_secs(5), || async { 1 })
        .map_err(WaitError::widen)?;
    let fallible = reactor.wait_for_fallible(Duration::from_secs(5), move || async move {
        Ok::<_, std::io::Error>(plain + 1)
    })?;
    Ok(fallible)
}

fn reactor() -> Reactor {
    Reactor::start(crochet::default_backend()).expect("start")
}

fn failing<E>(reactor: &Reactor, error: E) -> EventualResult<u8, E>
where
    E: Into<BoxError> + Send + 'static,
{
    reactor.run_in_reactor_fallible(move || async move { Err(error) })
}

#[test]
fn an_operation_error_reaches_anyhow_with_its_message() {
    let reactor = reactor();
    let error = anyhow_error::into_anyhow(failing(&reactor, anyhow::anyhow!("no route to host")))
        .expect_err("failed");
    assert_eq!(
        format!("{error:#}"),
        "the operation failed: no route to host"
    );
    let error = boxed::into_anyhow(failing(
        &reactor,
        BoxError::from(AppError::Store(std::io::Error::other("disk full"))),
    ))
    .expect_err("failed");
    assert_eq!(
        format!("{error:#}"),
        "the operation failed: the store failed: disk full",
        "a boxed error's causes follow"
    );
    reactor.shutdown(Duration::from_secs(5)).expect("shutdown");
}

#[test]
fn crochet_error_keeps_every_cause_of_any_operation_error() {
    let reactor = reactor();
    let error = thiserror_enum::into_crochet(failing(
        &reactor,
        AppError::Store(std::io::Error::other("disk full")),
    ))
    .expect_err("failed");
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert_eq!(
        chain,
        ["the operation failed: the store failed", "disk full"]
    );
    let error =
        thiserror_enum::into_boxed(failing(&reactor, AppError::NoSuchUser)).expect_err("failed");
    assert_eq!(error.to_string(), "the operation failed: no such user");
    reactor.shutdown(Duration::from_secs(5)).expect("shutdown");
}
