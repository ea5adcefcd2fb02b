//! The machine the run acts on when a case takes it down: this one, or — in the `hwcert` of
//! `cargo test` only (feature `selftest`) — the simulated machine that `HWCERT_FAKE_MACHINE`
//! names (`testing::machine`), for the supervisor (boot id, reboot) and the workers alike.

use std::sync::Arc;

use cases::machine::{LiveMachine, Machine};

/// The machine of this run.
pub(super) fn machine() -> Arc<dyn Machine> {
    #[cfg(feature = "selftest")]
    if let Some(d) = std::env::var_os(testing::machine::ENV).filter(|d| !d.is_empty()) {
        return Arc::new(testing::machine::FakeMachine::open(d));
    }
    Arc::new(LiveMachine)
}
