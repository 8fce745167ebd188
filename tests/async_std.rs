//! The conformance suite on the async-std backend: managed (async-std's
//! global executor plus crochet's thread for `!Send` work) and attached
//! (the global executor alone, as an async-std application has it). The
//! fixtures live in `crochet_conformance::fixtures::async_std`.
#![cfg(feature = "async-std")]

use crochet_conformance::fixtures::async_std::{AsyncStdFixture, Flavor};

mod managed {
    crochet_conformance::suite!(&super::AsyncStdFixture(super::Flavor::Managed));
}

mod attached {
    crochet_conformance::suite!(&super::AsyncStdFixture(super::Flavor::Attached));
}
