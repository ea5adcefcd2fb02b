//! The inventory document (`hwcert.inventory/1`) and the probe that fills it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{cpu, dmi, host, memory, network, pci, storage};
use hwsys::sysroot::{Sysroot, Warning};

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
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            sysroot: PathBuf::from("/"),
            all: false,
            show_identifiers: false,
            udev: true,
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

/// Probe the machine described by `opts`.
pub fn probe(opts: &ProbeOptions) -> Result<Inventory, ProbeError> {
    check_tree(&opts.sysroot)?;
    let sys = Sysroot::new(&opts.sysroot);
    Ok(probe_sysroot(&sys, opts))
}

/// Whether `root` looks like a Linux tree at all.
fn check_tree(root: &Path) -> Result<(), ProbeError> {
    if !root.is_dir() {
        return Err(ProbeError::NoSuchDir(root.to_path_buf()));
    }
    let any = [
        "proc/cpuinfo",
        "sys/devices",
        "sys/block",
        "sys/class",
        "etc/os-release",
    ]
    .iter()
    .any(|p| root.join(p).symlink_metadata().is_ok());
    if any {
        Ok(())
    } else {
        Err(ProbeError::NotLinux(root.to_path_buf()))
    }
}

/// Probe through an existing reader (a recording one, for snapshots).
pub fn probe_sysroot(sys: &Sysroot, opts: &ProbeOptions) -> Inventory {
    let host = host::probe(sys);
    let dmi = dmi::probe(sys);
    let cpu = cpu::probe(sys, host.arch.as_deref());
    let memory = memory::probe(sys);
    let pci = pci::probe(sys, host.kernel.as_deref());
    let (storage, nvme) = storage::probe(sys, opts.all);
    let network = network::probe(sys);
    let mut inv = Inventory {
        schema: SCHEMA.to_string(),
        probed_by: ProbedBy {
            tool: "hwcert".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            pci_ids: pci::database_version(),
            udev: false,
            identifiers: opts.show_identifiers,
        },
        host,
        dmi,
        cpu,
        memory,
        pci,
        storage,
        nvme,
        network,
        warnings: Vec::new(),
    };
    #[cfg(feature = "udev")]
    if opts.udev && sys.is_live() {
        inv.probed_by.udev = crate::udev_enrich::enrich(&mut inv);
    }
    inv.warnings = sys.take_warnings();
    if !opts.show_identifiers {
        inv.redact();
    }
    inv
}

fn redact(v: &mut Option<String>) {
    if v.is_some() {
        *v = Some(REDACTED.to_string());
    }
}

impl Inventory {
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
    }
}
