//! The inventory document (`hwcert.inventory/1`): what a probe found, and redaction.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{accel, bmc, cpu, dmi, host, memory, network, pci, rdma, storage};
use hwsys::sysroot::Warning;

/// The schema name and version of the inventory document.
pub const SCHEMA: &str = "hwcert.inventory/1";

/// What stands in for an identifier (serial number, UUID, MAC address) that was not asked for.
pub const REDACTED: &str = "REDACTED";

/// What a probe reads and how much it shows.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The root directory holding proc/ and sys/ (default `/`, the live system).
    pub sysroot: PathBuf,
    /// Also list loop, ram and zram block devices.
    pub all: bool,
    /// Show serial numbers, UUIDs and MAC addresses instead of redacting them.
    pub show_identifiers: bool,
    /// Enrich from the udev database on the live system (ignored for other sysroots).
    pub udev: bool,
    /// A BMC to reach over the LAN (the profile's `ipmi.host`); without one the live probe
    /// asks the local IPMI device where there is one. Ignored for recorded trees.
    pub bmc: Option<crate::bmc::Target>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            sysroot: PathBuf::from("/"),
            all: false,
            show_identifiers: false,
            udev: true,
            bmc: None,
        }
    }
}

/// Why there is no inventory at all (a bad file is a warning, never this).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The sysroot does not exist or is not a directory.
    #[error("{0}: no such directory")]
    NoSuchDir(PathBuf),
    /// The sysroot has neither proc/ nor sys/ with anything a Linux system has.
    #[error(
        "{0}: not a Linux system tree (no proc/cpuinfo, sys/devices or etc/os-release under it)"
    )]
    NotLinux(PathBuf),
}

/// The whole inventory of one machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The tool that probed.
    pub probed_by: ProbedBy,
    /// The host: architecture, kernel, OS release, boot mode, taint.
    pub host: host::Host,
    /// Firmware identity from the DMI/SMBIOS tables (absent where the platform has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmi: Option<dmi::Dmi>,
    /// The processors, every number with lscpu's meaning.
    pub cpu: cpu::Cpu,
    /// Memory size, blocks, huge pages and DIMMs.
    pub memory: memory::Memory,
    /// Every PCI function.
    pub pci: Vec<pci::PciDevice>,
    /// Every block device (loop, ram and zram only with `all`).
    pub storage: Vec<storage::BlockDevice>,
    /// NVMe controllers (sys/class/nvme).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nvme: Vec<storage::NvmeController>,
    /// Network interfaces.
    pub network: Vec<network::NetInterface>,
    /// RDMA devices (InfiniBand, RoCE) and their ports (sys/class/infiniband).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdma: Vec<rdma::RdmaDevice>,
    /// GPUs, DCUs and NPUs (PCI classes 03xx, 12xx, 0b40) with their vendor tool's details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<accel::Accelerator>,
    /// The vendor tools the probe asked about them, and how that went.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerator_tools: Vec<accel::ToolRun>,
    /// The BMC (ipmitool): firmware, FRU, the SEL's fill; or why there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bmc: Option<bmc::Bmc>,
    /// One entry per file that could not be read or understood.
    pub warnings: Vec<Warning>,
}

/// Which tool produced the document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbedBy {
    pub tool: String,
    pub version: String,
    /// The pci-ids database the names come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_ids: Option<String>,
    /// Whether the udev database was used (live system with udevd running).
    pub udev: bool,
    /// Whether identifiers (serials, UUIDs, MACs) are shown.
    pub identifiers: bool,
}

fn redact(v: &mut Option<String>) {
    if v.is_some() {
        *v = Some(REDACTED.to_string());
    }
}

impl Inventory {
    /// A block device's model for people, the same in the probe's text and the report: the
    /// model the device reports (lsblk's MODEL), else — a virtio disk has none, and its sysfs
    /// vendor is only the PCI vendor ID — its controller's PCI names from pci.ids ("Red Hat,
    /// Inc. Virtio 1.0 block device"); `None` when neither is known.
    pub fn disk_model(&self, b: &storage::BlockDevice) -> Option<String> {
        if let Some(m) = b.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            return Some(m.to_string());
        }
        let addr = b.pci_address.as_deref()?;
        let f = self.pci.iter().find(|p| p.address == addr)?;
        let name: Vec<&str> = [f.vendor_name.as_deref(), f.device_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        (!name.is_empty()).then(|| name.join(" "))
    }

    /// Replace every identifier (serial numbers, UUIDs, MAC addresses, WWNs) by [`REDACTED`].
    pub fn redact(&mut self) {
        self.probed_by.identifiers = false;
        if let Some(d) = &mut self.dmi {
            redact(&mut d.product_serial);
            redact(&mut d.product_uuid);
            redact(&mut d.board_serial);
            redact(&mut d.chassis_serial);
            redact(&mut d.board_asset_tag);
            redact(&mut d.chassis_asset_tag);
        }
        for m in &mut self.memory.dimms {
            redact(&mut m.serial);
            redact(&mut m.asset_tag);
        }
        for b in &mut self.storage {
            redact(&mut b.serial);
            redact(&mut b.wwn);
            b.by_id.clear();
        }
        for c in &mut self.nvme {
            redact(&mut c.serial);
        }
        for n in &mut self.network {
            redact(&mut n.mac);
            redact(&mut n.permanent_mac);
        }
        accel::redact(&mut self.accelerators, REDACTED);
        rdma::redact(&mut self.rdma, REDACTED);
        if let Some(b) = &mut self.bmc {
            b.redact(REDACTED);
        }
    }
}
