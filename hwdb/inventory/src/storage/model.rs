//! The storage section's model: block devices with their partitions, and NVMe controllers,
//! every field named after the lsblk column it matches.

use serde::{Deserialize, Serialize};

/// One block device (whole disk, dm, md, loop, …) with its partitions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockDevice {
    /// Kernel name: `sda`, `nvme0n1`, `dm-0` [KNAME].
    pub name: String,
    /// The device-mapper name (`vg0-root`), which lsblk shows as NAME.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dm_name: Option<String>,
    /// "8:0" [MAJ:MIN].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maj_min: Option<String>,
    /// disk, rom, lvm, crypt, dm, raid1, loop, … [TYPE].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// sata, ata, sas, fc, fcoe, iscsi, usb, spi, sbp, nvme, virtio, mmc [TRAN].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// SCSI Host:Channel:Target:Lun [HCTL].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hctl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wwn: Option<String>,
    /// Firmware revision [REV].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// running, offline, live, suspended, … [STATE].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `size` × 512 [SIZE].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// [LOG-SEC]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logical_block_size: Option<u64>,
    /// [PHY-SEC]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_block_size: Option<u64>,
    /// [MIN-IO]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_io: Option<u64>,
    /// [OPT-IO]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_io: Option<u64>,
    /// [ALIGNMENT]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment_offset: Option<i64>,
    /// [ROTA]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotational: Option<bool>,
    /// [RM]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removable: Option<bool>,
    /// [RO]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// The active I/O scheduler, the bracketed one of `queue/scheduler` [SCHED].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discard: Option<Discard>,
    /// none, host-aware, host-managed [ZONED].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoned: Option<String>,
    /// The driver of the device itself (sd, sr, nvme, virtio_blk, mmcblk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// The driver of the PCI function that controls it (the HBA or NVMe controller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_driver: Option<String>,
    /// The nearest PCI function above the device, "0000:00:1f.2".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_address: Option<String>,
    /// udev's ID_PATH (live system with udevd only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_path: Option<String>,
    /// NVMe controllers (`nvme0`) serving this namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nvme_controllers: Vec<String>,
    /// Devices built on this one (`dm-0` on `sda2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<String>,
    /// Devices this one is built on (`sda2` under `dm-0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slaves: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Partition>,
    /// Where it is mounted, `[SWAP]` for swap [MOUNTPOINTS].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mountpoints: Vec<String>,
    /// udev's /dev/disk/by-id names (live system with udevd only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_id: Vec<String>,
}

/// Discard (TRIM/UNMAP) limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Discard {
    /// `discard_alignment` [DISC-ALN].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment: Option<i64>,
    /// `queue/discard_granularity`, 0 when the device cannot discard [DISC-GRAN].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granularity: Option<u64>,
    /// `queue/discard_max_bytes` [DISC-MAX].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// `queue/discard_zeroes_data` [DISC-ZERO].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zeroes: Option<bool>,
}

/// One partition of a disk. Queue limits (sector sizes, rotational, scheduler, discard
/// granularity) are the disk's: the kernel keeps one request queue per disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// `sda1`, `nvme0n1p2`.
    pub name: String,
    /// The partition number (`partition`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// First sector, in 512-byte units (`start`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maj_min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment_offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discard_alignment: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mountpoints: Vec<String>,
}

/// One NVMe controller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvmeController {
    /// `nvme0`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// `firmware_rev`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// pcie, tcp, rdma, fc, loop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The transport address: the PCI address for pcie, `traddr=…,trsvcid=…` for fabrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The PCI function of a PCIe controller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_address: Option<String>,
    /// The PCI function's driver (`nvme`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// live, resetting, connecting, dead, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cntlid: Option<u32>,
    // Not `subsysnqn`: vendors put the serial number in it, and the inventory redacts serials.
    /// Block devices of its namespaces (`nvme0n1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}
