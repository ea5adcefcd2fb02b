//! # inventory — what hardware is in this machine
//!
//! What hardware is in this machine? This crate answers it: the [`Inventory`] model, probing
//! procfs and sysfs under a sysroot (the live system is the sysroot `/`), PCI names from the
//! embedded pci-ids database, udev enrichment on the live system, and snapshots of exactly the
//! files a probe reads.
//!
//! Every read goes through one [`Sysroot`] reader, so every code path runs against recorded
//! machines in tests, and no file — missing, empty, garbage, of the wrong type — can panic or
//! hang a probe: it becomes a [`Warning`] and an absent field.
//!
//! ```no_run
//! let inv = inventory::probe(&inventory::ProbeOptions::default()).expect("a Linux tree");
//! println!("{} CPUs", inv.cpu.cpus.unwrap_or(0));
//! ```

pub mod accel;
pub mod bmc;
pub mod cpu;
pub mod dmi;
pub mod host;
pub mod memory;
pub mod modalias;
pub mod network;
pub mod pci;
pub mod rdma;
pub mod smbios;
pub mod snapshot;
pub mod storage;
pub mod summary;
#[cfg(test)]
mod testutil;
#[cfg(feature = "udev")]
mod udev_enrich;

mod inventory;
mod probe;

pub use hwsys::{Sysroot, Warning};
pub use inventory::{Inventory, ProbeError, ProbeOptions, REDACTED, SCHEMA};
pub use probe::{probe, probe_sysroot};
