//! The integration tests of this crate, in one binary (one link instead of one per file).

mod accel;
mod accel_vendors;
mod bmc;
mod catalog;
mod common;
mod cpu;
mod live;
mod memory;
mod network;
mod pci;
mod rdma;
mod storage;
mod system;
mod traffic;
