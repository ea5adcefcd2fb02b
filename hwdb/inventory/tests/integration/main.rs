//! The integration tests of this crate, in one binary (one link instead of one per file).

mod accel;
mod bmc;
mod common;
mod corruption;
mod empty_files;
mod handmade_storage;
mod lsblk_fixtures;
mod lscpu_fixtures;
mod lsmem_fixtures;
mod pci_config;
mod pci_live;
mod snapshot_limits;
