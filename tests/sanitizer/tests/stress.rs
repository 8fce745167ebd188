//! The stress case on each tokio and smol fixture, in a fresh process as
//! the suite runs it. `.ci/run` runs this under ThreadSanitizer:
//!
//! ```sh
//! RUSTFLAGS=-Zsanitizer=thread cargo +nightly test -Zbuild-std \
//!   --target x86_64-unknown-linux-gnu -p crochet-sanitizer --test stress
//! ```

use crochet_conformance::fixtures::smol::{Flavor as SmolFlavor, SmolFixture};
use crochet_conformance::fixtures::tokio::{Flavor as TokioFlavor, TokioFixture};

/// One module per fixture, each with the stress case as its one test
/// (named as in the suite, so `-- tokio_managed::` picks a fixture).
macro_rules! stress {
    ($($module:ident => $fixture:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn stress_every_operation_ends_once_with_a_legal_outcome() {
                crochet_conformance::support::run_isolated(
                    $fixture,
                    concat!(
                        module_path!(),
                        "::stress_every_operation_ends_once_with_a_legal_outcome"
                    ),
                    crochet_conformance::cases::stress::stress_every_operation_ends_once_with_a_legal_outcome,
                );
            }
        }
    )*};
}

stress! {
    tokio_managed => &TokioFixture(TokioFlavor::Managed),
    tokio_managed_multi_thread => &TokioFixture(TokioFlavor::ManagedMultiThread),
    tokio_attached => &TokioFixture(TokioFlavor::Attached),
    tokio_attached_multi_thread => &TokioFixture(TokioFlavor::AttachedMultiThread(2)),
    smol_managed => &SmolFixture(SmolFlavor::Managed),
    smol_managed_two_threads => &SmolFixture(SmolFlavor::ManagedTwoThreads),
    smol_attached => &SmolFixture(SmolFlavor::Attached),
}
