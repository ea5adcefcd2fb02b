//! PCI functions under sys/bus/pci/devices, named from the embedded pci-ids database.
//!
//! Every field comes from a sysfs attribute when the function has it, else from its config
//! space (the `config` file), which lspci reads: older kernels have no `revision` attribute, and
//! a tree may lack any other. `sources` records which, per field; where both give a value and
//! they differ, sysfs wins and `disagreements` records it (see `sources.rs` for why that is not
//! a warning). Only the config file's first 256 bytes are read (header and capability list), so
//! a recorded sysroot holds them and gives the same answer as the machine it was recorded on.
//! The kernel gives anyone but root only the 64-byte header: the capabilities (the PCI Express
//! link, a bridge's subsystem) are then unknown, said in one warning for all functions, and only
//! where sysfs lacks them too. Names follow `lspci -vmm`:
//!
//! - `class_name` is what lspci prints as the class: the subclass name when pci.ids has one
//!   ("Ethernet controller"), else the base class name ("Unassigned class"). When pci.ids knows
//!   neither, lspci prints the placeholder "Class XXXX"; we leave `class_name` absent instead
//!   (the ID is in `class_id`), as for every other unknown name.
//! - `vendor_name` / `device_name`: lspci's `Vendor:` / `Device:`.
//! - `subsystem_vendor_name`: lspci's `SVendor:`, the name of the subsystem vendor ID.
//! - `subsystem_name`: lspci's `SDevice:`, looked up by (vendor, device, subvendor,
//!   subdevice); when the subsystem IDs repeat the device's own IDs and pci.ids has no entry,
//!   the device name (as libpci does).
//!
//! Both subsystem names are absent, like lspci's lines, when the subsystem vendor is 0000 or
//! ffff (no subsystem).
//!
//! The code is split as pciutils splits lspci, one concern a file: `model` (the data),
//! `address` (bus addresses), `probe` (enumerating `sys/bus/pci/devices`), `ident` (IDs and
//! class from `uevent` and the attributes), `config` (config space: header and capabilities),
//! `sources` (which source wins, disagreements), `names` (pci-ids lookups), `link` (PCIe link
//! state from sysfs) and `aer` (AER counters).

pub mod address;
mod aer;
mod config;
mod ident;
mod link;
pub mod model;
mod names;
mod probe;
mod sources;

pub use address::{parse_address, PciAddress};
pub use model::{
    AerCounters, FieldSource, PciAer, PciDevice, PciDisagreement, PciLink, PciSources,
};
pub use names::database_version;
pub use probe::probe;
