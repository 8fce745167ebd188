//! The conformance suite on the smol backend: managed (one and two
//! executor threads) and attached to an application's executor. The
//! fixtures live in `crochet_conformance::fixtures::smol`.
#![cfg(feature = "smol")]

use crochet_conformance::fixtures::smol::{Flavor, SmolFixture};

mod managed {
    crochet_conformance::suite!(&super::SmolFixture(super::Flavor::Managed));
}

mod managed_two_threads {
    crochet_conformance::suite!(&super::SmolFixture(super::Flavor::ManagedTwoThreads));
}

mod attached {
    crochet_conformance::suite!(&super::SmolFixture(super::Flavor::Attached));
}
