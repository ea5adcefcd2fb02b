//! # cases — the certification cases of hwcert
//!
//! A [`Case`] is one check, named `component::case` (`cpu::all_online`). Its selector picks the
//! inventory items it applies to — one *instance* per item (`pci::driver_bound::0000:3b:00.0`),
//! or one instance for the whole machine — and its `run` checks one instance and returns a
//! [`Verdict`]: pass, fail (what was expected and what was measured), skip (why) or error (the
//! check itself could not run). The harness (crate `suite`) adds timeout, crash and interrupted,
//! runs each instance in its own worker process and journals the [`Outcome`].
//!
//! Cases read the machine through [`Context::sysroot`] (a [`hwsys::Sysroot`]), so every case runs
//! against recorded trees in tests exactly as it runs on the live system. Cases that open
//! devices, issue ioctls or run tools say so in their [`Requirements`] (`live`, `root`,
//! `tools`) and skip with the reason when run elsewhere.
//!
//! The [`catalog`] holds one module per component — [`system`], [`cpu`], [`memory`], [`pci`],
//! [`storage`], [`network`], [`accel`] — each documenting what its cases judge and why. A case whose
//! targets depend on the profile (`network::mtu_roundtrip` and `mtu_interfaces`) selects them
//! in [`Case::select_with`]; a planner that knows the run's options calls that.
//!
//! Cases that take the machine down ([`reboot`]) act through a [`machine::Machine`] — this
//! machine, or one a test hands in — and ask the supervisor for the reboot through
//! [`Context::disrupt`]; they keep their state across boots in the run directory.

pub use documents::measure::{Measurement, Threshold};
pub use documents::outcome::{Outcome, Verdict};
pub use documents::plan::{Component, RunOptions};
pub use documents::status::Status;
pub use inventory::Inventory;

pub mod accel;
pub mod bmc;
mod case;
mod catalog;
pub mod cpu;
pub mod kdump;
pub mod kmsg;
pub mod machine;
pub mod memory;
pub mod network;
pub mod pci;
pub mod reboot;
pub mod resume_unit;
pub mod storage;
pub mod stress;
pub mod system;
pub mod tool;
pub mod traffic;
mod util;
pub mod vmcore;
pub mod watchdog;

pub use case::{instance_name, Case, CaseInfo, Context, Requirements, Selection, Target};
pub use catalog::{catalog, find};
