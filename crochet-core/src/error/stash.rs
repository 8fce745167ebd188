//! [`RetrieveError`]: what taking a result back from the stash can return.

use std::error::Error as StdError;
use std::fmt;

use crate::stash_id::StashId;

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
    /// This is a child process forked after the reactor started, and the
    /// stash's lock was held by a thread of the parent at the fork (it is
    /// never released here): after a fork, `exec`, or use no crochet.
    Forked {
        /// The process id the reactor was started in.
        parent: u32,
        /// The process id of this (child) process.
        child: u32,
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
                "stashed result {} holds {}, not {}; it stays stashed",
                id.prefix(),
                ShortName(found),
                ShortName(expected)
            ),
            RetrieveError::Forked { parent, child } => write!(
                f,
                "the stash belongs to a reactor started in process {parent}, and this is process {child}, a fork; after a fork, exec, or use no crochet"
            ),
        }
    }
}

impl StdError for RetrieveError {}

/// A type's name without its paths, as a person writes it:
/// `core::result::Result<u32, std::io::error::Error>` shows as
/// `Result<u32, Error>`.
struct ShortName<'a>(&'a str);

impl fmt::Display for ShortName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A path segment ends in `::`: drop each one, write the rest.
        let text = self.0;
        // Where the part not written yet starts.
        let mut from = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == ':' && chars.peek().is_some_and(|&(_, next)| next == ':') {
                chars.next();
                from = at + 2;
            } else if !(c.is_alphanumeric() || c == '_') {
                let end = at + c.len_utf8();
                f.write_str(&text[from..end])?;
                from = end;
            }
        }
        f.write_str(&text[from..])
    }
}
