//! Reports of hwcert: the signed report document, its renderers and the HCL site.
//!
//! Filled by the report work (`hwcert report`); for now it only re-exports the inventory it will
//! carry.

pub use hwdb::Inventory;
