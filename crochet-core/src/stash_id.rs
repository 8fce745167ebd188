//! [`StashId`]: the id a stashed result is retrieved by, a bearer secret
//! that fits in a cookie or a URL; and [`ParseStashIdError`], what reading
//! one can return.

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use std::error::Error as StdError;

/// The id of a stashed result: 128 random bits, printed as 32 lowercase
/// hexadecimal characters.
///
/// `Display` and `FromStr` round-trip, so an id fits in a cookie or a URL
/// and comes back typed.
///
/// # Examples
///
/// ```
/// use crochet_core::StashId;
///
/// let id: StashId = "00112233445566778899aabbccddeeff".parse()?;
/// assert_eq!(id.to_string(), "00112233445566778899aabbccddeeff");
/// assert!("not an id".parse::<StashId>().is_err());
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StashId(u128);

impl StashId {
    /// The length of an id's text form.
    pub const TEXT_LEN: usize = 32;

    /// A fresh id from the operating system's randomness.
    pub(crate) fn random() -> StashId {
        StashId(os_random().unwrap_or_else(keyed_random))
    }
}

/// 128 bits from the kernel's random device, kept open after the first
/// read: one `read` per id. `None` when it cannot be read (a sandbox
/// without `/dev`, say), said once.
#[cfg(unix)]
fn os_random() -> Option<u128> {
    use std::io::Read;
    use std::sync::OnceLock;

    static URANDOM: OnceLock<Option<std::fs::File>> = OnceLock::new();
    let file = URANDOM.get_or_init(|| match std::fs::File::open("/dev/urandom") {
        Ok(file) => Some(file),
        Err(error) => {
            tracing::warn!(target: "crochet", %error, "/dev/urandom cannot be opened; stash ids use std's hasher keys");
            None
        }
    });
    let mut bytes = [0_u8; 16];
    let mut file = file.as_ref()?;
    match file.read_exact(&mut bytes) {
        Ok(()) => Some(u128::from_le_bytes(bytes)),
        Err(error) => {
            tracing::warn!(target: "crochet", %error, "/dev/urandom cannot be read; this stash id uses std's hasher keys");
            None
        }
    }
}

/// Elsewhere, std's hasher keys, which std draws from the operating
/// system's randomness ([`keyed_random`]).
#[cfg(not(unix))]
fn os_random() -> Option<u128> {
    None
}

/// 128 bits from std's random SipHash keys (drawn from the operating
/// system's randomness, and moved on at every call), hashing the time:
/// secret as the keys are.
fn keyed_random() -> u128 {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let at = Instant::now();
    let high = state.hash_one((at, 0_u8));
    let low = state.hash_one((at, 1_u8));
    (u128::from(high) << 64) | u128::from(low)
}

impl fmt::Display for StashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl StashId {
    /// The id's first characters, for logs and messages: enough to tell
    /// ids apart, not enough to retrieve with (an id is a bearer secret).
    pub(crate) fn prefix(&self) -> impl fmt::Display + use<> {
        IdPrefix(self.0)
    }
}

struct IdPrefix(u128);

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The top 32 bits: the first 8 of the 32 characters.
        write!(f, "{:08x}…", self.0 >> 96)
    }
}

/// Shows the id's first characters only, as logs and error messages do:
/// `Debug` output ends up in logs, and an id is a bearer secret.
impl fmt::Debug for StashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StashId({})", self.prefix())
    }
}

impl FromStr for StashId {
    type Err = ParseStashIdError;

    /// Parses the text form; anything but exactly 32 hexadecimal characters
    /// is a [`ParseStashIdError`].
    fn from_str(text: &str) -> Result<Self, ParseStashIdError> {
        let malformed = || ParseStashIdError {
            len: text.chars().count(),
        };
        if text.len() != Self::TEXT_LEN || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        u128::from_str_radix(text, 16)
            .map(StashId)
            .map_err(|_| malformed())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_ids_differ() {
        assert_ne!(keyed_random(), keyed_random());
    }

    // Under Miri's isolation there is no file to read randomness from (the
    // keyed ids above are what it can check).
    #[test]
    #[cfg(all(unix, not(miri)))]
    fn ids_from_the_kernel_differ() {
        assert!(
            os_random().is_some(),
            "the kernel's random device is readable"
        );
        assert_ne!(StashId::random(), StashId::random());
    }

    #[test]
    fn from_str_rejects_signs_and_wrong_lengths() {
        assert!(StashId::from_str("+0112233445566778899aabbccddeeff").is_err());
        assert!(StashId::from_str("0112233445566778899aabbccddeeff").is_err());
        assert!(StashId::from_str("\u{e9}0112233445566778899aabbccddeef").is_err());
        assert!(StashId::from_str("00112233445566778899AABBCCDDEEFF").is_ok());
    }
}
