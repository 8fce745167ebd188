//! The conformance suite on the tokio backend: managed (`current_thread`
//! and `multi_thread`) and attached to an application's runtime
//! (`current_thread`, and `multi_thread` with one or two workers). The
//! fixtures live in `crochet_conformance::fixtures::tokio`.
#![cfg(feature = "tokio")]

use crochet_conformance::fixtures::tokio::{Flavor, TokioFixture};

mod managed {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::Managed));
}

mod managed_multi_thread {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::ManagedMultiThread));
}

mod attached {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::Attached));
}

mod attached_multi_thread_one_worker {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::AttachedMultiThread(1)));
}

mod attached_multi_thread {
    crochet_conformance::suite!(&super::TokioFixture(super::Flavor::AttachedMultiThread(2)));
}
