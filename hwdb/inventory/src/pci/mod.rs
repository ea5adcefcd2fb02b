//! PCI functions under sys/bus/pci/devices, named from the embedded pci-ids database.
//!
//! Everything comes from sysfs attributes (never from config space), so a recorded sysroot
//! gives the same answer as the machine it was recorded on. Names follow `lspci -vmm`:
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
//! class from `uevent` and the attributes), `names` (pci-ids lookups), `link` (PCIe link state)
//! and `aer` (AER counters).

pub mod address;
mod aer;
mod ident;
mod link;
pub mod model;
mod names;
mod probe;

pub use address::{parse_address, PciAddress};
pub use model::{AerCounters, PciAer, PciDevice, PciLink};
pub use names::database_version;
pub use probe::probe;
