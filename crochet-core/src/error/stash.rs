//! [`RetrieveError`] and [`ParseStashIdError`]: what taking a result back
//! from the stash, and reading a stash id, can return.

use std::error::Error as StdError;
use std::fmt;

use crate::stash::StashId;

/// Why [`retrieve_result`](crate::retrieve_result) gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetrieveError {
    /// No stashed result has this id: it was retrieved already, it
    /// expired, or it never existed.
    NotFound {
        /// The id that was asked for.
        id: StashId,
    },
    /// The stashed result is of another type than the one asked for; the
    /// entry stays in the stash.
    WrongType {
        /// The id that was asked for.
        id: StashId,
        /// The type the caller asked for.
        expected: &'static str,
        /// The type that is stashed under this id.
        found: &'static str,
    },
}

impl fmt::Display for RetrieveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetrieveError::NotFound { id } => write!(
                f,
                "no stashed result with id {}: it was already retrieved, it expired, or it never existed",
                id.prefix()
            ),
            RetrieveError::WrongType {
                id,
                expected,
                found,
            } => write!(
                f,
                "stashed result {} holds {found}, not {expected}; it stays stashed",
                id.prefix()
            ),
        }
    }
}

impl StdError for RetrieveError {}

/// A string that is not a [`StashId`]: anything but exactly
/// [`StashId::TEXT_LEN`] hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseStashIdError {
    pub(crate) len: usize,
}

impl ParseStashIdError {
    /// How many characters the string had.
    pub fn text_len(&self) -> usize {
        self.len
    }
}

impl fmt::Display for ParseStashIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed stash id: expected {} hexadecimal characters, got {} characters",
            StashId::TEXT_LEN,
            self.len
        )
    }
}

impl StdError for ParseStashIdError {}
