//! The certification cases of hwcert: the case interface, selectors, outcomes and the catalog.
//!
//! Filled by the harness work (`hwcert plan` / `hwcert run`); for now it only re-exports the
//! inventory it will select from.

pub use hwdb::Inventory;
