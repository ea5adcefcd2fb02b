//! Block devices under `sys/block` and NVMe controllers under `sys/class/nvme`.
//!
//! Every field means what the util-linux `lsblk` column in brackets means, read the way lsblk
//! reads it with `--sysroot`, so the two can be compared on recorded machines
//! (`tests/lsblk_fixtures.rs`). Where hwcert knows more than lsblk, the difference is named here.
//!
//! * Which devices: every entry of `sys/block` (or the whole disks of `sys/class/block` on a
//!   tree without `sys/block`), minus hidden ones (`hidden` = 1: the per-path `nvme0c0n1` disks
//!   under NVMe multipath). Loop, ram and zram devices only with `all` — and then all of them,
//!   empty or not (lsblk shows non-empty loops by default and hides empty ones).
//! * Partitions are nested in their disk (`partitions`), never listed at the top.
//! * `kind` [TYPE]: `part`; `dm-*` the lower-cased prefix of `dm/uuid` (`lvm`, `crypt`, `mpath`,
//!   `part` for kpartx) or `dm`; `loop`; `md*` its `md/level` (`raid1`) or `md`; SCSI devices their
//!   peripheral type name (type 5 is `rom`); anything else `disk`.
//! * `transport` [TRAN]: from the SCSI host of the device's H:C:T:L (`sys/class/{spi,fc,sas,
//!   iscsi,scsi}_host/hostN`, the `sys/bus/scsi/devices/H:C:T:L` link for usb, the scsi host's
//!   `proc_name` for `sata`/`ata`), else from the name (`nvme*`, `vd*` virtio, `mmcblk*` mmc).
//!   Like lsblk it is absent for SCSI hosts that are none of those (a MegaRAID virtual drive, a
//!   virtio-scsi disk): `controller_driver` names those. Only when a tree has no
//!   `sys/class/scsi_host` entry for the host at all (a partial dump) is it guessed from the
//!   device path (`end_device-` sas, `usb`, `rport-` fc, `session` iscsi, `ataN` with the HBA
//!   driver's name), which lsblk does not do.
//! * `model`, `vendor`, `firmware` [MODEL, VENDOR, REV]: `device/model`, `device/vendor`,
//!   `device/rev`; NVMe namespaces read their controller (or multipath subsystem) through the
//!   same `device` link, and `firmware` falls back to its `firmware_rev` (lsblk shows REV only from
//!   udev there). MMC cards: `device/name` and `device/fwrev` (lsblk shows nothing).
//! * `serial`: `device/serial` (NVMe, MMC), the disk's own `serial` (virtio-blk), else SCSI VPD
//!   page 0x80 (`device/vpd_pg80`). `wwn`: a SCSI `device/wwid` of `naa.` form or the NAA
//!   designator of VPD page 0x83 as `0x…`; an NVMe namespace's `wwid` as it is (`eui.…`), as udev's
//!   ID_WWN does.
//! * udev: on a tree that is not the live system and has no device nodes, lsblk's `--sysroot`
//!   stand-in for the udev database — a plain text file `dev/NAME` of `KEY=VALUE` lines — is read
//!   as lsblk reads it: ID_MODEL for `model`, ID_REVISION for `firmware`, ID_WWN_WITH_EXTENSION /
//!   ID_WWN for `wwn`, and for `serial` SCSI_IDENT_SERIAL, ID_SCSI_SERIAL, ID_SERIAL_SHORT,
//!   ID_SERIAL in that order of preference (lsblk takes whichever line comes first). On the live
//!   system the udev database is the job of `udev_enrich`, which also fills `by_id`.
//! * `driver` is the driver bound to the device the disk hangs off, or to its nearest ancestor
//!   below the PCI function: `sd` / `sr` for SCSI, `virtio_blk`, `mmcblk`; an NVMe namespace hangs
//!   off its controller's class device, which has none, and takes the controller's (`nvme`).
//!   `controller_driver` and `pci_address` are those of the nearest PCI function above the device
//!   (the HBA: `ahci`, `megaraid_sas`, `mpt3sas`, `nvme`, `virtio-pci`, `xhci_hcd`): that is the
//!   driver a certification case is about. An NVMe multipath namespace (under
//!   `sys/devices/virtual/nvme-subsystem`) takes them from its first controller.
//! * `mountpoints` [MOUNTPOINTS]: `proc/self/mountinfo` by major:minor or by a `/dev/…` source
//!   (also each part of a multi-device source `/dev/sdc1:/dev/sdc2`), and `[SWAP]` from
//!   `proc/swaps`.
//!
//! Nothing here opens a device node, and every file read is a sysfs attribute the kernel caches
//! (the VPD pages are read at scan time), so probing never touches the hardware.
//!
//! One file per concern, as util-linux splits lsblk: `model` (the public types), `probe` (every
//! device of `sys/block` and its partitions, lsblk.c), `attrs` (sizes, flags and queue limits),
//! `transport` (SCSI address, TRAN, the drivers and PCI function above a device),
//! `properties` (model, serial and WWN from sysfs, VPD pages and lsblk's udev stand-in files,
//! lsblk-properties.c), `nvme` (controllers and their namespaces) and `mounts` (mount points and
//! swap, lsblk-mnt.c). This file only declares them and re-exports the public items.

mod attrs;
mod model;
mod mounts;
mod nvme;
mod probe;
mod properties;
mod transport;

pub use model::{BlockDevice, Discard, NvmeController, Partition};
pub use probe::probe;
