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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use hwsys::sysroot::Sysroot;

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

/// Probe block devices (`all` adds loop, ram and zram) and NVMe controllers.
pub fn probe(sys: &Sysroot, all: bool) -> (Vec<BlockDevice>, Vec<NvmeController>) {
    let ctx = Ctx::new(sys);
    let mut devices = Vec::new();
    // NVMe controller name -> its sysfs directory, as met through namespaces.
    let mut controllers: BTreeMap<String, String> = BTreeMap::new();
    for (name, dir) in block_dirs(sys) {
        if !all && is_pseudo(&name) {
            continue;
        }
        if !sys.is_dir(&dir) {
            if sys.canonical(&dir).is_some() {
                sys.warn(
                    &dir,
                    "not a directory: expected a block device's sysfs directory",
                );
            }
            continue;
        }
        if sys.parse::<u8>(&format!("{dir}/hidden")).unwrap_or(0) == 1 {
            continue;
        }
        devices.push(ctx.device(&name, &dir, &mut controllers));
    }
    let nvme = ctx.nvme_controllers(&devices, &controllers);
    (devices, nvme)
}

/// Whether a name is a loop, ram or zram device (listed only with `all`).
fn is_pseudo(name: &str) -> bool {
    ["loop", "ram", "zram"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// (name, directory) of every block device to consider.
fn block_dirs(sys: &Sysroot) -> Vec<(String, String)> {
    let names = sys.list_dir("sys/block");
    if !names.is_empty() {
        return names
            .into_iter()
            .map(|n| {
                let dir = format!("sys/block/{n}");
                (n, dir)
            })
            .collect();
    }
    // Without sys/block (CONFIG_SYSFS_DEPRECATED-free trees that only kept the class view):
    // the whole disks of sys/class/block.
    sys.list_dir("sys/class/block")
        .into_iter()
        .filter(|n| partition_file(sys, &format!("sys/class/block/{n}")).is_none())
        .map(|n| {
            let dir = format!("sys/class/block/{n}");
            (n, dir)
        })
        .collect()
}

/// SCSI host names (`host3`) registered with each transport class.
#[derive(Default)]
struct HostClasses {
    spi: BTreeSet<String>,
    fc: BTreeSet<String>,
    sas: BTreeSet<String>,
    iscsi: BTreeSet<String>,
    scsi: BTreeSet<String>,
}

/// What is read once per probe.
struct Ctx<'a> {
    sys: &'a Sysroot,
    hosts: HostClasses,
    mounts: Mounts,
    /// Whether `dev/NAME` may hold lsblk-style udev stand-ins (see the module doc).
    udev_files: bool,
}

/// SCSI address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hctl {
    host: u32,
    channel: u32,
    target: u32,
    lun: u64,
}

impl std::fmt::Display for Hctl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.host, self.channel, self.target, self.lun
        )
    }
}

fn parse_hctl(s: &str) -> Option<Hctl> {
    let mut it = s.split(':');
    let h = Hctl {
        host: it.next()?.parse().ok()?,
        channel: it.next()?.parse().ok()?,
        target: it.next()?.parse().ok()?,
        lun: it.next()?.parse().ok()?,
    };
    if it.next().is_some() {
        return None;
    }
    Some(h)
}

impl<'a> Ctx<'a> {
    fn new(sys: &'a Sysroot) -> Self {
        let set = |class: &str| -> BTreeSet<String> {
            sys.list_dir(&format!("sys/class/{class}"))
                .into_iter()
                .collect()
        };
        let hosts = HostClasses {
            spi: set("spi_host"),
            fc: set("fc_host"),
            sas: set("sas_host"),
            iscsi: set("iscsi_host"),
            scsi: set("scsi_host"),
        };
        Ctx {
            sys,
            hosts,
            mounts: Mounts::load(sys),
            // A real /dev (devtmpfs, or a chroot's) always has dev/null; lsblk's dumps never do.
            // Device nodes are never opened.
            udev_files: !sys.is_live() && !sys.exists("dev/null"),
        }
    }

    fn flag(&self, rel: &str) -> Option<bool> {
        self.sys.parse::<u8>(rel).map(|v| v != 0)
    }

    fn maj_min(&self, dir: &str) -> Option<String> {
        let rel = format!("{dir}/dev");
        let s = self.sys.attr(&rel)?;
        let ok = s
            .split_once(':')
            .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
        if ok {
            Some(s)
        } else {
            self.sys.warn(
                &rel,
                format!(
                    "expected MAJOR:MINOR, found '{}'",
                    hwsys::sysroot::shorten(&s)
                ),
            );
            None
        }
    }

    fn size_bytes(&self, dir: &str) -> Option<u64> {
        let rel = format!("{dir}/size");
        let sectors: u64 = self.sys.parse(&rel)?;
        let bytes = sectors.checked_mul(512);
        if bytes.is_none() {
            self.sys
                .warn(&rel, format!("{sectors} sectors overflow a byte count"));
        }
        bytes
    }

    fn discard(&self, dir: &str, queue: &str) -> Option<Discard> {
        let d = Discard {
            alignment: self.sys.parse(&format!("{dir}/discard_alignment")),
            granularity: self.sys.parse(&format!("{queue}/discard_granularity")),
            max_bytes: self.sys.parse(&format!("{queue}/discard_max_bytes")),
            zeroes: self.flag(&format!("{queue}/discard_zeroes_data")),
        };
        if d == Discard::default() {
            None
        } else {
            Some(d)
        }
    }

    fn device(
        &self,
        name: &str,
        dir: &str,
        controllers: &mut BTreeMap<String, String>,
    ) -> BlockDevice {
        let sys = self.sys;
        let queue = format!("{dir}/queue");
        let mut d = BlockDevice {
            name: name.to_string(),
            maj_min: self.maj_min(dir),
            size_bytes: self.size_bytes(dir),
            logical_block_size: sys.parse(&format!("{queue}/logical_block_size")),
            physical_block_size: sys.parse(&format!("{queue}/physical_block_size")),
            min_io: sys.parse(&format!("{queue}/minimum_io_size")),
            opt_io: sys.parse(&format!("{queue}/optimal_io_size")),
            alignment_offset: sys.parse(&format!("{dir}/alignment_offset")),
            rotational: self.flag(&format!("{queue}/rotational")),
            removable: self.flag(&format!("{dir}/removable")),
            read_only: self.flag(&format!("{dir}/ro")),
            scheduler: sys
                .attr(&format!("{queue}/scheduler"))
                .and_then(|s| active_scheduler(&s)),
            discard: self.discard(dir, &queue),
            zoned: sys.attr(&format!("{queue}/zoned")),
            holders: sys.list_dir(&format!("{dir}/holders")),
            slaves: sys.list_dir(&format!("{dir}/slaves")),
            ..Default::default()
        };
        let is_dm = name.starts_with("dm-");
        if is_dm {
            d.dm_name = sys.attr(&format!("{dir}/dm/name"));
            d.state = sys
                .parse::<u8>(&format!("{dir}/dm/suspended"))
                .map(|s| if s == 0 { "running" } else { "suspended" }.to_string());
        }

        // The device the disk hangs off (a SCSI device, an NVMe controller or subsystem, a
        // virtio device, an MMC card); dm, md, loop, ram and zram have none.
        let device_rel = format!("{dir}/device");
        let device = sys.canonical(&device_rel);
        let hctl = device
            .as_deref()
            .and_then(|p| p.rsplit('/').next())
            .and_then(parse_hctl);
        d.hctl = hctl.map(|h| h.to_string());
        d.kind = Some(self.kind(name, dir, hctl.is_some()));

        // Where it sits: the nearest PCI function above the disk itself.
        let own_path = sys.canonical(dir);
        let mut pci = own_path.as_deref().and_then(nearest_pci);
        if let Some(dev) = &device {
            if name.starts_with("nvme") {
                d.nvme_controllers = self.nvme_controllers_of(dev, controllers);
                if pci.is_none() {
                    // Multipath: the namespace head is virtual, its controllers are not.
                    pci = d
                        .nvme_controllers
                        .iter()
                        .filter_map(|c| controllers.get(c))
                        .find_map(|p| nearest_pci(p));
                }
            }
            d.driver = self.first_driver(dev, pci.as_ref().map(|(_, p)| p.as_str()));
        }
        if let Some((addr, path)) = &pci {
            d.pci_address = Some(addr.clone());
            d.controller_driver = sys.link_name(&format!("{path}/driver"));
            // A namespace hangs off the controller's class device, which has no driver.
            if d.driver.is_none() && !d.nvme_controllers.is_empty() {
                d.driver = d.controller_driver.clone();
            }
        }
        d.transport = self.transport(
            name,
            hctl,
            device.as_deref(),
            d.controller_driver.as_deref(),
        );

        if device.is_some() {
            self.identity(&mut d, dir, &device_rel, hctl.is_some());
        }
        if let Some(props) = self.udev_props(name) {
            if props.model.is_some() {
                d.model = props.model;
            }
            if props.revision.is_some() {
                d.firmware = props.revision;
            }
            if props.serial.is_some() {
                d.serial = props.serial;
            }
            if props.wwn.is_some() {
                d.wwn = props.wwn;
            }
        }

        d.partitions = self.partitions(name, dir);
        let mut keys = vec![name.to_string()];
        if let Some(n) = &d.dm_name {
            keys.push(format!("mapper/{n}"));
        }
        d.mountpoints = self.mounts.find(d.maj_min.as_deref(), &keys);
        d
    }

    /// lsblk's TYPE.
    fn kind(&self, name: &str, dir: &str, scsi: bool) -> String {
        let sys = self.sys;
        if partition_file(sys, dir).is_some() {
            return "part".into();
        }
        let k = if name.starts_with("dm-") {
            let prefix = sys.attr(&format!("{dir}/dm/uuid")).and_then(|u| {
                let p = u.split('-').next().unwrap_or_default().to_string();
                (!p.is_empty()).then_some(p)
            });
            match prefix {
                // kpartx names its partitions' uuids "part1-…", "part2-…".
                Some(p) if p.to_ascii_lowercase().starts_with("part") => "part".to_string(),
                Some(p) => p,
                None => "dm".into(),
            }
        } else if name.starts_with("loop") {
            "loop".into()
        } else if name.starts_with("md") {
            sys.attr(&format!("{dir}/md/level"))
                .unwrap_or_else(|| "md".into())
        } else if scsi {
            sys.parse::<i32>(&format!("{dir}/device/type"))
                .and_then(scsi_type_name)
                .unwrap_or("disk")
                .to_string()
        } else {
            "disk".into()
        };
        k.to_lowercase()
    }

    /// Model, vendor, firmware, serial, state and WWN from the device the disk hangs off.
    fn identity(&self, d: &mut BlockDevice, dir: &str, device_rel: &str, scsi: bool) {
        let sys = self.sys;
        let attr = |a: &str| sys.attr(&format!("{device_rel}/{a}"));
        d.model = attr("model");
        d.vendor = attr("vendor");
        d.firmware = attr("rev").or_else(|| attr("firmware_rev"));
        d.state = attr("state");
        if d.name.starts_with("mmcblk") {
            d.model = d.model.take().or_else(|| attr("name"));
            d.firmware = d.firmware.take().or_else(|| attr("fwrev"));
        }
        d.serial = attr("serial").or_else(|| sys.attr(&format!("{dir}/serial")));
        if scsi {
            if d.serial.is_none() {
                d.serial = self.vpd_serial(&format!("{device_rel}/vpd_pg80"));
            }
            d.wwn = attr("wwid")
                .and_then(|w| {
                    w.strip_prefix("naa.")
                        .map(|h| format!("0x{}", h.to_lowercase()))
                })
                .or_else(|| {
                    sys.read_bytes(&format!("{device_rel}/vpd_pg83"), 4096)
                        .and_then(|b| vpd_naa(&b))
                });
        } else if d.name.starts_with("nvme") {
            d.wwn = sys.attr(&format!("{dir}/wwid"));
        }
    }

    fn vpd_serial(&self, rel: &str) -> Option<String> {
        let bytes = self.sys.read_bytes(rel, 4096)?;
        match vpd_serial(&bytes) {
            Ok(s) => s,
            Err(why) => {
                self.sys.warn(rel, why);
                None
            }
        }
    }

    /// The first driver bound at or above `from`, below `stop` (the PCI function, whose driver
    /// is the controller's) or the top of sys/devices.
    fn first_driver(&self, from: &str, stop: Option<&str>) -> Option<String> {
        let mut p = from.to_string();
        for _ in 0..32 {
            if Some(p.as_str()) == stop {
                break;
            }
            if let Some(d) = self.sys.link_name(&format!("{p}/driver")) {
                return Some(d);
            }
            match p.rsplit_once('/') {
                Some((parent, _)) if parent.starts_with("sys/devices/") => p = parent.to_string(),
                _ => break,
            }
        }
        None
    }

    /// NVMe controllers of a namespace whose `device` resolves to `dev`: the controller itself,
    /// or (multipath) the controllers listed in its subsystem.
    fn nvme_controllers_of(
        &self,
        dev: &str,
        controllers: &mut BTreeMap<String, String>,
    ) -> Vec<String> {
        let last = dev.rsplit('/').next().unwrap_or_default();
        if is_nvme_ctrl_name(last) {
            controllers.insert(last.to_string(), dev.to_string());
            return vec![last.to_string()];
        }
        if !last.starts_with("nvme-subsys") {
            return Vec::new();
        }
        let mut out = Vec::new();
        for c in self.sys.list_dir(dev) {
            if !is_nvme_ctrl_name(&c) {
                continue;
            }
            if let Some(p) = self.sys.canonical(&format!("{dev}/{c}")) {
                controllers.insert(c.clone(), p);
                out.push(c);
            }
        }
        out
    }

    /// lsblk's TRAN (see the module doc).
    fn transport(
        &self,
        name: &str,
        hctl: Option<Hctl>,
        device: Option<&str>,
        controller_driver: Option<&str>,
    ) -> Option<String> {
        let sys = self.sys;
        let Some(h) = hctl else {
            return if name.starts_with("nvme") {
                Some("nvme".into())
            } else if name.starts_with("vd") {
                Some("virtio".into())
            } else if name.starts_with("mmcblk") {
                Some("mmc".into())
            } else {
                None
            };
        };
        let host = format!("host{}", h.host);
        let scsi_dev = format!("sys/bus/scsi/devices/{h}");
        if self.hosts.spi.contains(&host) {
            return Some("spi".into());
        }
        if self.hosts.fc.contains(&host) {
            let sym = sys.attr(&format!("sys/class/fc_host/{host}/symbolic_name"))?;
            return Some(if sym.contains(" over ") { "fcoe" } else { "fc" }.into());
        }
        if self.hosts.sas.contains(&host) || sys.exists(&format!("{scsi_dev}/sas_device")) {
            return Some("sas".into());
        }
        if sys.exists(&format!("{scsi_dev}/ieee1394_id")) {
            return Some("sbp".into());
        }
        if self.hosts.iscsi.contains(&host) {
            return Some("iscsi".into());
        }
        if sys
            .read_link(&scsi_dev)
            .is_some_and(|t| t.to_string_lossy().contains("usb"))
        {
            return Some("usb".into());
        }
        if self.hosts.scsi.contains(&host) {
            let proc_name = sys.attr(&format!("sys/class/scsi_host/{host}/proc_name"))?;
            return ata_transport(&proc_name);
        }
        // The tree has no class entry for this host: guess from the path (lsblk would not).
        let path = device?;
        let comps: Vec<&str> = path.split('/').collect();
        if comps.iter().any(|c| c.starts_with("end_device-")) {
            Some("sas".into())
        } else if comps.iter().any(|c| c.starts_with("usb")) {
            Some("usb".into())
        } else if comps.iter().any(|c| c.starts_with("rport-")) {
            Some("fc".into())
        } else if comps.iter().any(|c| {
            c.strip_prefix("session")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        }) {
            Some("iscsi".into())
        } else if comps.iter().any(|c| {
            c.strip_prefix("ata")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        }) {
            controller_driver.and_then(ata_transport)
        } else {
            None
        }
    }

    /// lsblk's `--sysroot` stand-in for the udev database: `dev/NAME`, `KEY=VALUE` lines.
    fn udev_props(&self, name: &str) -> Option<UdevProps> {
        if !self.udev_files {
            return None;
        }
        let rel = format!("dev/{name}");
        if !self.sys.exists(&rel) || self.sys.is_dir(&rel) {
            return None;
        }
        Some(UdevProps::parse(&self.sys.read(&rel)?))
    }

    fn partitions(&self, disk: &str, dir: &str) -> Vec<Partition> {
        let sys = self.sys;
        let mut out = Vec::new();
        for entry in sys.list_dir(dir) {
            if entry.len() <= disk.len() || !entry.starts_with(disk) {
                continue;
            }
            let pdir = format!("{dir}/{entry}");
            let Some(number) = partition_file(sys, &pdir) else {
                continue;
            };
            let maj_min = self.maj_min(&pdir);
            let mountpoints = self
                .mounts
                .find(maj_min.as_deref(), std::slice::from_ref(&entry));
            out.push(Partition {
                number,
                start: sys.parse(&format!("{pdir}/start")),
                size_bytes: self.size_bytes(&pdir),
                maj_min,
                read_only: self.flag(&format!("{pdir}/ro")),
                alignment_offset: sys.parse(&format!("{pdir}/alignment_offset")),
                discard_alignment: sys.parse(&format!("{pdir}/discard_alignment")),
                holders: sys.list_dir(&format!("{pdir}/holders")),
                mountpoints,
                name: entry,
            });
        }
        out
    }

    fn nvme_controllers(
        &self,
        devices: &[BlockDevice],
        seen: &BTreeMap<String, String>,
    ) -> Vec<NvmeController> {
        let sys = self.sys;
        let mut dirs: BTreeMap<String, String> = BTreeMap::new();
        for n in sys.list_dir("sys/class/nvme") {
            let dir = format!("sys/class/nvme/{n}");
            dirs.insert(n, dir);
        }
        // Controllers reached from a namespace but missing from the class view (partial dumps).
        for (n, p) in seen {
            dirs.entry(n.clone()).or_insert_with(|| p.clone());
        }
        let mut names: Vec<String> = dirs.keys().cloned().collect();
        names.sort_by(|a, b| hwsys::sysroot::natural_cmp(a, b));
        let mut out = Vec::new();
        for name in names {
            let Some(dir) = dirs.get(&name) else { continue };
            if !sys.is_dir(dir) {
                continue;
            }
            let attr = |a: &str| sys.attr(&format!("{dir}/{a}"));
            let pci = sys.canonical(dir).as_deref().and_then(nearest_pci);
            out.push(NvmeController {
                model: attr("model"),
                serial: attr("serial"),
                firmware: attr("firmware_rev"),
                transport: attr("transport"),
                address: attr("address"),
                driver: pci
                    .as_ref()
                    .and_then(|(_, p)| sys.link_name(&format!("{p}/driver"))),
                pci_address: pci.map(|(a, _)| a),
                state: attr("state"),
                cntlid: sys.parse(&format!("{dir}/cntlid")),
                namespaces: devices
                    .iter()
                    .filter(|d| d.nvme_controllers.contains(&name))
                    .map(|d| d.name.clone())
                    .collect(),
                name,
            });
        }
        out
    }
}

/// Whether `dir` is a partition, by its `partition` file (read rather than tested for, so that a
/// recording reader keeps it): `Some(number)`, the number `None` when it is garbage (warned).
fn partition_file(sys: &Sysroot, dir: &str) -> Option<Option<u32>> {
    let rel = format!("{dir}/partition");
    let text = sys.read(&rel)?;
    let t = text.trim();
    match t.parse() {
        Ok(n) => Some(Some(n)),
        Err(_) => {
            sys.warn(
                &rel,
                format!("cannot parse '{}'", hwsys::sysroot::shorten(t)),
            );
            Some(None)
        }
    }
}

fn is_nvme_ctrl_name(s: &str) -> bool {
    s.strip_prefix("nvme")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// lsblk's rule on a SCSI host's `proc_name`: libata's AHCI and SATA drivers are `sata`, other
/// libata drivers (`ata_piix`, `pata_*`) `ata`, anything else nothing.
fn ata_transport(proc_name: &str) -> Option<String> {
    if proc_name.starts_with("ahci") || proc_name.starts_with("sata") {
        Some("sata".into())
    } else if proc_name.contains("ata") {
        Some("ata".into())
    } else {
        None
    }
}

/// SCSI peripheral device type names, as lsblk prints them.
fn scsi_type_name(t: i32) -> Option<&'static str> {
    Some(match t {
        0x00 => "disk",
        0x01 => "tape",
        0x02 => "printer",
        0x03 => "processor",
        0x04 => "worm",
        0x05 => "rom",
        0x06 => "scanner",
        0x07 => "mo-disk",
        0x08 => "changer",
        0x09 => "comm",
        0x0c => "raid",
        0x0d => "enclosure",
        0x0e => "rbc",
        0x11 => "osd",
        0x7f => "no-lun",
        _ => return None,
    })
}

/// The bracketed entry of `queue/scheduler` ("mq-deadline kyber [bfq] none" → "bfq").
fn active_scheduler(s: &str) -> Option<String> {
    let start = s.find('[')?;
    let rest = s.get(start + 1..)?;
    let end = rest.find(']')?;
    let name = rest.get(..end)?.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Whether a path component is a PCI function address ("0000:00:1f.2", "10000:e1:00.0").
fn is_pci_address(s: &str) -> bool {
    let hex = |p: &str, min: usize, max: usize| {
        (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit())
    };
    let mut parts = s.split(':');
    let (Some(dom), Some(bus), Some(devfn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some((dev, func)) = devfn.split_once('.') else {
        return false;
    };
    hex(dom, 4, 8)
        && hex(bus, 2, 2)
        && hex(dev, 2, 2)
        && func.len() == 1
        && func.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// The deepest PCI function in a sysfs path: (address, path up to and including it).
fn nearest_pci(path: &str) -> Option<(String, String)> {
    let mut best = None;
    let mut end = 0usize;
    for comp in path.split('/') {
        end += comp.len();
        if is_pci_address(comp) {
            best = Some((comp.to_string(), path.get(..end)?.to_string()));
        }
        end += 1; // the '/'
    }
    best
}

/// The serial number in a SCSI Unit Serial Number VPD page (0x80).
fn vpd_serial(b: &[u8]) -> Result<Option<String>, &'static str> {
    let (Some(&page), Some(&hi), Some(&lo)) = (b.get(1), b.get(2), b.get(3)) else {
        return Err("too short for a VPD page");
    };
    if page != 0x80 {
        return Err("not a unit serial number VPD page (0x80)");
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let body = b
        .get(4..4 + len)
        .ok_or("truncated unit serial number VPD page")?;
    let text = std::str::from_utf8(body).map_err(|_| "serial number is not text")?;
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.chars().any(|c| !c.is_ascii_graphic() && c != ' ') {
        return Err("serial number is not printable text");
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The logical unit's NAA designator in a Device Identification VPD page (0x83), as "0x…".
fn vpd_naa(b: &[u8]) -> Option<String> {
    if b.get(1) != Some(&0x83) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    let end = (4 + len).min(b.len());
    let mut i = 4usize;
    while i + 4 <= end {
        let flags = *b.get(i + 1)?;
        let dlen = usize::from(*b.get(i + 3)?);
        let id = b.get(i + 4..i + 4 + dlen)?;
        let association = (flags >> 4) & 0x3;
        let kind = flags & 0xf;
        if kind == 3 && association == 0 && !id.is_empty() {
            return Some(id.iter().fold(String::from("0x"), |mut s, x| {
                s.push_str(&format!("{x:02x}"));
                s
            }));
        }
        i += 4 + dlen;
    }
    None
}

/// What lsblk takes from its udev stand-in file.
#[derive(Debug, Default, PartialEq)]
struct UdevProps {
    model: Option<String>,
    revision: Option<String>,
    serial: Option<String>,
    wwn: Option<String>,
}

impl UdevProps {
    fn parse(text: &str) -> Self {
        let mut kv: BTreeMap<&str, &str> = BTreeMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim_end_matches('\r');
                if !v.is_empty() {
                    kv.entry(k).or_insert(v);
                }
            }
        }
        let first = |keys: &[&str]| keys.iter().find_map(|k| kv.get(k)).map(|v| v.to_string());
        UdevProps {
            model: first(&["ID_MODEL"]),
            revision: first(&["ID_REVISION"]),
            serial: first(&[
                "SCSI_IDENT_SERIAL",
                "ID_SCSI_SERIAL",
                "ID_SERIAL_SHORT",
                "ID_SERIAL",
            ]),
            wwn: first(&["ID_WWN_WITH_EXTENSION", "ID_WWN"]),
        }
    }
}

/// Mounted filesystems and active swap, by device.
#[derive(Debug, Default)]
struct Mounts {
    /// "8:1" → mount points.
    by_devno: BTreeMap<String, Vec<String>>,
    /// "sda1", "mapper/vg-root" (a source under /dev) → mount points.
    by_source: BTreeMap<String, Vec<String>>,
}

impl Mounts {
    fn load(sys: &Sysroot) -> Self {
        let mut m = Mounts::default();
        if let Some(text) = sys.read("proc/self/mountinfo") {
            m.add_mountinfo(&text, |line| {
                sys.warn(
                    "proc/self/mountinfo",
                    format!("malformed line {line}, ignored"),
                )
            });
        }
        if let Some(text) = sys.read("proc/swaps") {
            for line in text.lines().skip(1) {
                let Some(file) = line.split_whitespace().next() else {
                    continue;
                };
                if let Some(dev) = unescape_octal(file).strip_prefix("/dev/") {
                    m.by_source
                        .entry(dev.to_string())
                        .or_default()
                        .push("[SWAP]".into());
                }
            }
        }
        m
    }

    fn add_mountinfo(&mut self, text: &str, mut bad: impl FnMut(usize)) {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let sep = fields.iter().position(|f| *f == "-");
            let (Some(devno), Some(target), Some(sep)) = (fields.get(2), fields.get(4), sep) else {
                bad(i + 1);
                continue;
            };
            if sep < 6 {
                bad(i + 1);
                continue;
            }
            let target = unescape_octal(target);
            self.by_devno
                .entry((*devno).to_string())
                .or_default()
                .push(target.clone());
            if let Some(source) = fields.get(sep + 2) {
                for part in unescape_octal(source).split(':') {
                    if let Some(dev) = part.strip_prefix("/dev/") {
                        self.by_source
                            .entry(dev.to_string())
                            .or_default()
                            .push(target.clone());
                    }
                }
            }
        }
    }

    /// Mount points of the device with this major:minor or one of these /dev names.
    fn find(&self, devno: Option<&str>, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let lists = devno
            .and_then(|d| self.by_devno.get(d))
            .into_iter()
            .chain(names.iter().filter_map(|n| self.by_source.get(n)));
        for list in lists {
            for t in list {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }
}

/// Undo the kernel's octal escapes in mountinfo and swaps ("\040" is a space).
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or_default();
        if c == b'\\' {
            if let Some(oct) = b.get(i + 1..i + 4) {
                if oct.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let v = oct
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    if let Ok(byte) = u8::try_from(v) {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use std::path::Path;

    use crate::testutil::{link, write};

    const SATA: &str = "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";

    /// A SATA disk with one partition behind AHCI, and an NVMe namespace.
    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        let disk = format!("{SATA}/block/sda");
        link(r, "sys/block/sda", &format!("../{}", &disk["sys/".len()..]));
        link(r, &format!("{disk}/device"), "../../../0:0:0:0");
        write(r, &format!("{SATA}/type"), "0\n");
        write(r, &format!("{SATA}/vendor"), "ATA     \n");
        write(r, &format!("{SATA}/model"), "KINGSTON SH103S3 \n");
        write(r, &format!("{SATA}/rev"), "BBF0\n");
        write(r, &format!("{SATA}/state"), "running\n");
        let mut pg80 = vec![0u8, 0x80, 0, 20];
        pg80.extend_from_slice(b"50026B724B09A1FF    ");
        write(r, &format!("{SATA}/vpd_pg80"), pg80);
        link(
            r,
            &format!("{SATA}/driver"),
            "../../../../../../../bus/scsi/drivers/sd",
        );
        link(
            r,
            "sys/devices/pci0000:00/0000:00:1f.2/driver",
            "../../../bus/pci/drivers/ahci",
        );
        fs::create_dir_all(r.join("sys/bus/pci/drivers/ahci")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/scsi/drivers/sd")).expect("mkdir");
        write(r, "sys/class/scsi_host/host0/proc_name", "ahci\n");
        write(r, &format!("{disk}/dev"), "8:0\n");
        write(r, &format!("{disk}/size"), "468862128\n");
        write(r, &format!("{disk}/ro"), "0\n");
        write(r, &format!("{disk}/removable"), "0\n");
        write(r, &format!("{disk}/queue/rotational"), "0\n");
        write(r, &format!("{disk}/queue/logical_block_size"), "512\n");
        write(r, &format!("{disk}/queue/physical_block_size"), "4096\n");
        write(
            r,
            &format!("{disk}/queue/scheduler"),
            "mq-deadline kyber [bfq] none\n",
        );
        write(r, &format!("{disk}/queue/discard_granularity"), "512\n");
        write(
            r,
            &format!("{disk}/queue/discard_max_bytes"),
            "2147450880\n",
        );
        write(r, &format!("{disk}/sda1/partition"), "1\n");
        write(r, &format!("{disk}/sda1/start"), "2048\n");
        write(r, &format!("{disk}/sda1/size"), "409600\n");
        write(r, &format!("{disk}/sda1/dev"), "8:1\n");
        write(
            r,
            "proc/self/mountinfo",
            "61 49 8:1 / /boot/efi\\040x rw,relatime shared:63 - vfat /dev/sda1 rw\n",
        );

        let ctrl = "sys/devices/pci0000:00/0000:00:1c.4/0000:05:00.0/nvme/nvme0";
        link(
            r,
            "sys/block/nvme0n1",
            "../devices/pci0000:00/0000:00:1c.4/0000:05:00.0/nvme/nvme0/nvme0n1",
        );
        link(r, &format!("{ctrl}/nvme0n1/device"), "../../nvme0");
        write(r, &format!("{ctrl}/nvme0n1/dev"), "259:0\n");
        write(r, &format!("{ctrl}/nvme0n1/size"), "2000409264\n");
        write(r, &format!("{ctrl}/nvme0n1/wwid"), "eui.0026b7283b12b315\n");
        write(
            r,
            &format!("{ctrl}/model"),
            "KINGSTON SFYR2S1T0                      \n",
        );
        write(r, &format!("{ctrl}/serial"), "50026B7283B12B31    \n");
        write(r, &format!("{ctrl}/firmware_rev"), "SGW00110\n");
        write(r, &format!("{ctrl}/transport"), "pcie\n");
        write(r, &format!("{ctrl}/address"), "0000:05:00.0\n");
        write(r, &format!("{ctrl}/state"), "live\n");
        link(
            r,
            "sys/devices/pci0000:00/0000:00:1c.4/0000:05:00.0/driver",
            "../../../../bus/pci/drivers/nvme",
        );
        fs::create_dir_all(r.join("sys/bus/pci/drivers/nvme")).expect("mkdir");
        link(
            r,
            "sys/class/nvme/nvme0",
            "../../devices/pci0000:00/0000:00:1c.4/0000:05:00.0/nvme/nvme0",
        );
        d
    }

    #[test]
    fn sata_disk_and_nvme_namespace() {
        let d = tree();
        let sys = Sysroot::new(d.path());
        let (devs, ctrls) = probe(&sys, false);
        assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
        let sda = devs.iter().find(|x| x.name == "sda").expect("sda");
        assert_eq!(sda.kind.as_deref(), Some("disk"));
        assert_eq!(sda.transport.as_deref(), Some("sata"));
        assert_eq!(sda.hctl.as_deref(), Some("0:0:0:0"));
        assert_eq!(sda.vendor.as_deref(), Some("ATA"));
        assert_eq!(sda.model.as_deref(), Some("KINGSTON SH103S3"));
        assert_eq!(sda.serial.as_deref(), Some("50026B724B09A1FF"));
        assert_eq!(sda.firmware.as_deref(), Some("BBF0"));
        assert_eq!(sda.driver.as_deref(), Some("sd"));
        assert_eq!(sda.controller_driver.as_deref(), Some("ahci"));
        assert_eq!(sda.pci_address.as_deref(), Some("0000:00:1f.2"));
        assert_eq!(sda.size_bytes, Some(468862128 * 512));
        assert_eq!(sda.physical_block_size, Some(4096));
        assert_eq!(sda.scheduler.as_deref(), Some("bfq"));
        assert_eq!(sda.rotational, Some(false));
        assert_eq!(sda.discard.as_ref().and_then(|x| x.granularity), Some(512));
        assert_eq!(sda.partitions.len(), 1);
        let p = &sda.partitions[0];
        assert_eq!((p.number, p.start), (Some(1), Some(2048)));
        assert_eq!(p.size_bytes, Some(409600 * 512));
        assert_eq!(p.mountpoints, vec!["/boot/efi x".to_string()]);

        let nvme = devs.iter().find(|x| x.name == "nvme0n1").expect("nvme0n1");
        assert_eq!(nvme.transport.as_deref(), Some("nvme"));
        assert_eq!(nvme.model.as_deref(), Some("KINGSTON SFYR2S1T0"));
        assert_eq!(nvme.firmware.as_deref(), Some("SGW00110"));
        assert_eq!(nvme.serial.as_deref(), Some("50026B7283B12B31"));
        assert_eq!(nvme.wwn.as_deref(), Some("eui.0026b7283b12b315"));
        assert_eq!(nvme.pci_address.as_deref(), Some("0000:05:00.0"));
        assert_eq!(nvme.driver.as_deref(), Some("nvme"));
        assert_eq!(nvme.nvme_controllers, vec!["nvme0".to_string()]);
        assert_eq!(ctrls.len(), 1);
        assert_eq!(ctrls[0].name, "nvme0");
        assert_eq!(ctrls[0].pci_address.as_deref(), Some("0000:05:00.0"));
        assert_eq!(ctrls[0].driver.as_deref(), Some("nvme"));
        assert_eq!(ctrls[0].transport.as_deref(), Some("pcie"));
        assert_eq!(ctrls[0].namespaces, vec!["nvme0n1".to_string()]);
    }

    #[test]
    fn nvme_multipath_namespace_finds_its_controller() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        let sub = "sys/devices/virtual/nvme-subsystem/nvme-subsys0";
        let ctrl = "sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0/nvme/nvme0";
        link(
            r,
            "sys/block/nvme0n1",
            "../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1",
        );
        link(
            r,
            "sys/block/nvme0c0n1",
            "../devices/pci0000:00/0000:00:03.0/0000:01:00.0/nvme/nvme0/nvme0c0n1",
        );
        write(r, &format!("{ctrl}/nvme0c0n1/hidden"), "1\n");
        link(r, &format!("{sub}/nvme0n1/device"), "../../nvme-subsys0");
        write(r, &format!("{sub}/nvme0n1/hidden"), "0\n");
        write(r, &format!("{sub}/nvme0n1/size"), "100\n");
        write(r, &format!("{sub}/model"), "SAMSUNG MZQL23T8HCLS-00A07\n");
        write(r, &format!("{sub}/firmware_rev"), "GDC5602Q\n");
        link(
            r,
            &format!("{sub}/nvme0"),
            "../../../pci0000:00/0000:00:03.0/0000:01:00.0/nvme/nvme0",
        );
        write(r, &format!("{ctrl}/model"), "SAMSUNG MZQL23T8HCLS-00A07\n");
        link(
            r,
            "sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0/driver",
            "../../../../bus/pci/drivers/nvme",
        );
        fs::create_dir_all(r.join("sys/bus/pci/drivers/nvme")).expect("mkdir");
        let sys = Sysroot::new(r);
        let (devs, ctrls) = probe(&sys, false);
        assert_eq!(
            devs.len(),
            1,
            "the hidden path device is left out: {devs:?}"
        );
        let ns = &devs[0];
        assert_eq!(ns.model.as_deref(), Some("SAMSUNG MZQL23T8HCLS-00A07"));
        assert_eq!(ns.firmware.as_deref(), Some("GDC5602Q"));
        assert_eq!(ns.pci_address.as_deref(), Some("0000:01:00.0"));
        assert_eq!(ns.controller_driver.as_deref(), Some("nvme"));
        assert_eq!(ns.driver.as_deref(), Some("nvme"));
        assert_eq!(ctrls.len(), 1);
        assert_eq!(ctrls[0].namespaces, vec!["nvme0n1".to_string()]);
        assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
    }

    #[test]
    fn loop_ram_zram_only_with_all() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        for n in ["loop0", "ram0", "zram0", "dm-0", "md127"] {
            link(
                r,
                &format!("sys/block/{n}"),
                &format!("../devices/virtual/block/{n}"),
            );
            write(r, &format!("sys/devices/virtual/block/{n}/size"), "0\n");
        }
        write(
            r,
            "sys/devices/virtual/block/dm-0/dm/uuid",
            "CRYPT-LUKS2-abc-luks\n",
        );
        write(r, "sys/devices/virtual/block/dm-0/dm/name", "luks\n");
        write(r, "sys/devices/virtual/block/dm-0/dm/suspended", "0\n");
        write(r, "sys/devices/virtual/block/md127/md/level", "raid1\n");
        let sys = Sysroot::new(r);
        let names =
            |all| -> Vec<String> { probe(&sys, all).0.into_iter().map(|d| d.name).collect() };
        assert_eq!(names(false), ["dm-0", "md127"]);
        assert_eq!(names(true), ["dm-0", "loop0", "md127", "ram0", "zram0"]);
        let (devs, _) = probe(&sys, true);
        let kind = |n: &str| {
            devs.iter()
                .find(|d| d.name == n)
                .and_then(|d| d.kind.clone())
        };
        assert_eq!(kind("dm-0").as_deref(), Some("crypt"));
        assert_eq!(kind("md127").as_deref(), Some("raid1"));
        assert_eq!(kind("loop0").as_deref(), Some("loop"));
        assert_eq!(kind("zram0").as_deref(), Some("disk"));
        let dm = devs.iter().find(|d| d.name == "dm-0").expect("dm-0");
        assert_eq!(dm.dm_name.as_deref(), Some("luks"));
        assert_eq!(dm.state.as_deref(), Some("running"));
        assert_eq!(dm.size_bytes, Some(0));
        assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
    }

    #[test]
    fn garbage_truncated_and_missing_files_warn_never_panic() {
        let d = tree();
        let r = d.path();
        let disk = format!("{SATA}/block/sda");
        write(r, &format!("{disk}/size"), "lots\n");
        write(r, &format!("{disk}/dev"), "8-0\n");
        write(r, &format!("{disk}/queue/rotational"), [0xff, 0xfe]);
        write(r, &format!("{disk}/queue/scheduler"), "[none\n");
        fs::remove_file(r.join(format!("{disk}/queue/logical_block_size"))).expect("rm");
        write(r, &format!("{SATA}/vpd_pg80"), [0u8, 0x80, 0, 40, b'A']);
        write(r, &format!("{SATA}/type"), "");
        write(r, &format!("{disk}/sda1/partition"), "one\n");
        write(r, &format!("{disk}/sda1/size"), "99999999999999999999\n");
        write(r, "proc/self/mountinfo", "garbage\n36 35 98:0\n");
        write(r, "proc/swaps", "");
        // A dangling entry and a file where a directory belongs.
        link(r, "sys/block/sdz", "../devices/nowhere/sdz");
        write(r, "sys/block/sdy", "not a dir\n");
        let sys = Sysroot::new(r);
        let (devs, _) = probe(&sys, true);
        let sda = devs
            .iter()
            .find(|x| x.name == "sda")
            .expect("sda still probed");
        assert_eq!(sda.size_bytes, None);
        assert_eq!(sda.maj_min, None);
        assert_eq!(sda.rotational, None);
        assert_eq!(sda.scheduler, None);
        assert_eq!(sda.logical_block_size, None);
        assert_eq!(sda.serial, None);
        assert_eq!(sda.kind.as_deref(), Some("disk"));
        assert_eq!(sda.partitions[0].number, None);
        assert_eq!(sda.partitions[0].size_bytes, None);
        assert!(!devs.iter().any(|x| x.name == "sdz" || x.name == "sdy"));
        let w = sys.warnings();
        let has = |p: &str| w.iter().any(|x| x.path.ends_with(p));
        for p in [
            "sda/size",
            "sda/dev",
            "queue/rotational",
            "vpd_pg80",
            "sda1/partition",
            "sda1/size",
            "proc/self/mountinfo",
            "sys/block/sdz",
            "sys/block/sdy",
        ] {
            assert!(has(p), "no warning for {p}: {w:#?}");
        }
        assert!(!has("logical_block_size"), "missing is silent: {w:#?}");
        assert!(!has("/type"), "empty is silent: {w:#?}");
    }

    #[test]
    fn a_recording_reader_keeps_what_the_probe_needs() {
        let d = tree();
        let sys = Sysroot::new(d.path()).with_recording();
        probe(&sys, false);
        let rec = sys.recorded();
        for f in [
            "sys/block/sda/sda1/partition",
            "sys/block/sda/size",
            "sys/block/sda/device/model",
            "sys/block/sda/device/vpd_pg80",
            "sys/class/scsi_host/host0/proc_name",
            "sys/class/nvme/nvme0/model",
        ] {
            // Files are recorded under their link-free path.
            let real = sys.canonical(f).expect("resolves");
            assert!(rec.files.contains_key(Path::new(&real)), "{f} not recorded");
        }
        for l in [
            "sys/block/sda".to_string(),
            format!("{SATA}/block/sda/device"),
            format!("{SATA}/driver"),
            "sys/devices/pci0000:00/0000:00:1f.2/driver".to_string(),
        ] {
            assert!(rec.links.contains(Path::new(&l)), "{l} not recorded");
        }
    }

    #[test]
    fn empty_tree_is_empty() {
        let d = tempfile::tempdir().expect("tempdir");
        let sys = Sysroot::new(d.path());
        let (devs, ctrls) = probe(&sys, true);
        assert!(devs.is_empty() && ctrls.is_empty());
        assert!(sys.warnings().is_empty());
    }

    #[test]
    fn transport_from_scsi_host_classes() {
        let d = tree();
        let r = d.path();
        let sda_transport = || {
            let sys = Sysroot::new(r);
            probe(&sys, false)
                .0
                .into_iter()
                .find(|x| x.name == "sda")
                .and_then(|x| x.transport)
        };
        write(r, "sys/class/scsi_host/host0/proc_name", "megaraid_sas\n");
        assert_eq!(sda_transport(), None, "lsblk shows no TRAN for MegaRAID");
        write(r, "sys/class/scsi_host/host0/proc_name", "ata_piix\n");
        assert_eq!(sda_transport().as_deref(), Some("ata"));
        fs::create_dir_all(r.join("sys/class/sas_host/host0")).expect("mkdir");
        assert_eq!(sda_transport().as_deref(), Some("sas"));
        fs::create_dir_all(r.join("sys/class/fc_host/host0")).expect("mkdir");
        write(
            r,
            "sys/class/fc_host/host0/symbolic_name",
            "fcoe v0.1 over eth2\n",
        );
        assert_eq!(sda_transport().as_deref(), Some("fcoe"));
        // No class entries at all: guessed from the path and the HBA driver.
        fs::remove_dir_all(r.join("sys/class")).expect("rm");
        assert_eq!(sda_transport().as_deref(), Some("sata"));
    }

    #[test]
    fn udev_stand_in_files() {
        let d = tree();
        let r = d.path();
        write(
            r,
            "dev/sda",
            "ID_MODEL_ENC=KINGSTON\\x20SH103S3240G\nID_SERIAL=KINGSTON_SH103S3240G_50026B724B09A1FF\n\
             ID_MODEL=KINGSTON_SH103S3240G\nID_REVISION=580ABBF0\nID_SERIAL_SHORT=50026B724B09A1FF\n\
             ID_WWN=0x50026b724b09a1ff\nID_REVISION=\n",
        );
        let sys = Sysroot::new(r);
        let (devs, _) = probe(&sys, false);
        let sda = devs.iter().find(|x| x.name == "sda").expect("sda");
        assert_eq!(sda.model.as_deref(), Some("KINGSTON_SH103S3240G"));
        assert_eq!(sda.firmware.as_deref(), Some("580ABBF0"));
        assert_eq!(sda.serial.as_deref(), Some("50026B724B09A1FF"));
        assert_eq!(sda.wwn.as_deref(), Some("0x50026b724b09a1ff"));
        // With device nodes in dev/ (dev/null present) the directory is not read.
        write(r, "dev/null", "");
        let sys = Sysroot::new(r);
        let (devs, _) = probe(&sys, false);
        let sda = devs.iter().find(|x| x.name == "sda").expect("sda");
        assert_eq!(sda.model.as_deref(), Some("KINGSTON SH103S3"));
    }

    #[test]
    fn vpd_pages() {
        assert_eq!(
            vpd_serial(b"\x00\x80\x00\x0814000   "),
            Ok(Some("14000".to_string()))
        );
        assert!(vpd_serial(b"\x00\x80").is_err());
        assert!(vpd_serial(b"\x00\x83\x00\x01A").is_err());
        assert!(vpd_serial(b"\x00\x80\x00\x09short").is_err());
        assert!(vpd_serial(b"\x00\x80\x00\x02\x01\x02").is_err());
        assert_eq!(vpd_serial(b"\x00\x80\x00\x00"), Ok(None));
        let mut pg83 = vec![0u8, 0x83, 0, 0];
        pg83.extend_from_slice(&[2, 1, 0, 4, b'A', b'T', b'A', b' ']); // T10, skipped
        pg83.extend_from_slice(&[1, 0x13, 0, 8, 0x50, 2, 0x6b, 0x72, 0x4b, 9, 0xa1, 0xff]); // port
        pg83.extend_from_slice(&[1, 3, 0, 8, 0x50, 2, 0x6b, 0x72, 0x4b, 9, 0xa1, 0xfe]);
        let len = (pg83.len() - 4) as u8;
        pg83[3] = len;
        assert_eq!(vpd_naa(&pg83).as_deref(), Some("0x50026b724b09a1fe"));
        assert_eq!(vpd_naa(&pg83[..20]), None, "truncated");
        assert_eq!(vpd_naa(b"\x00\x83"), None);
        assert_eq!(vpd_naa(b""), None);
    }

    #[test]
    fn small_parsers() {
        assert!(is_pci_address("0000:00:1f.2"));
        assert!(is_pci_address("10000:e1:00.0"));
        assert!(!is_pci_address("0000:00:1f"));
        assert!(!is_pci_address("pci0000:00"));
        assert!(!is_pci_address("0000:00:1f.8"));
        assert_eq!(
            nearest_pci("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0"),
            Some((
                "0000:01:00.0".to_string(),
                "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0".to_string()
            ))
        );
        assert_eq!(nearest_pci("sys/devices/virtual/block/loop0"), None);
        assert_eq!(active_scheduler("noop deadline [cfq] "), Some("cfq".into()));
        assert_eq!(active_scheduler("none"), None);
        assert_eq!(active_scheduler("[]"), None);
        assert_eq!(
            parse_hctl("0:2:0:0").map(|h| h.to_string()),
            Some("0:2:0:0".into())
        );
        assert_eq!(parse_hctl("target0:0:0"), None);
        assert_eq!(parse_hctl("0:0:0:0:0"), None);
        assert!(is_pseudo("loop12") && is_pseudo("zram0") && is_pseudo("ram15"));
        assert!(!is_pseudo("loop") && !is_pseudo("ramdisk") && !is_pseudo("sda"));
        assert_eq!(unescape_octal("/mnt/a\\040b\\"), "/mnt/a b\\");
        assert_eq!(unescape_octal("\\777x"), "\\777x");
        let mut m = Mounts::default();
        let mut bad = 0;
        m.add_mountinfo(
            "861 79 8:33 / /mnt/test rw - bcachefs /dev/sdc1:/dev/sdc2 rw\n\
             90 86 0:50 / /nfs rw - nfs srv:/export rw\nshort line\n",
            |_| bad += 1,
        );
        assert_eq!(bad, 1);
        assert_eq!(m.find(Some("8:34"), &["sdc2".into()]), ["/mnt/test"]);
        assert_eq!(m.find(Some("8:33"), &["sdc1".into()]), ["/mnt/test"]);
        assert!(m.find(None, &["srv".into()]).is_empty());
    }
}
