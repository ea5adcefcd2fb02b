//! The probe: every block device of `sys/block` (lsblk.c's device list), each assembled from the
//! other files' parts — attributes, transport, identity, NVMe controllers, mount points — with
//! its partitions; then the NVMe controllers.

use std::collections::BTreeMap;

use hwsys::sysroot::Sysroot;

use super::attrs::{active_scheduler, discard, flag, maj_min, partition_file, size_bytes};
use super::model::{BlockDevice, NvmeController, Partition};
use super::mounts::Mounts;
use super::nvme::{nvme_controllers, nvme_controllers_of};
use super::properties::{identity, udev_props, UdevProps};
use super::transport::{first_driver, nearest_pci, parse_hctl, transport, HostClasses};

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
    let nvme = nvme_controllers(sys, &devices, &controllers);
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

/// What is read once per probe.
struct Ctx<'a> {
    sys: &'a Sysroot,
    hosts: HostClasses,
    mounts: Mounts,
    /// Whether `dev/NAME` may hold lsblk-style udev stand-ins (see the module doc).
    udev_files: bool,
}

impl<'a> Ctx<'a> {
    fn new(sys: &'a Sysroot) -> Self {
        Ctx {
            sys,
            hosts: HostClasses::load(sys),
            mounts: Mounts::load(sys),
            // A real /dev (devtmpfs, or a chroot's) always has dev/null; lsblk's dumps never do.
            // Device nodes are never opened.
            udev_files: !sys.is_live() && !sys.exists("dev/null"),
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
            maj_min: maj_min(sys, dir),
            size_bytes: size_bytes(sys, dir),
            logical_block_size: sys.parse(&format!("{queue}/logical_block_size")),
            physical_block_size: sys.parse(&format!("{queue}/physical_block_size")),
            min_io: sys.parse(&format!("{queue}/minimum_io_size")),
            opt_io: sys.parse(&format!("{queue}/optimal_io_size")),
            alignment_offset: sys.parse(&format!("{dir}/alignment_offset")),
            rotational: flag(sys, &format!("{queue}/rotational")),
            removable: flag(sys, &format!("{dir}/removable")),
            read_only: flag(sys, &format!("{dir}/ro")),
            scheduler: sys
                .attr(&format!("{queue}/scheduler"))
                .and_then(|s| active_scheduler(&s)),
            discard: discard(sys, dir, &queue),
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
                d.nvme_controllers = nvme_controllers_of(sys, dev, controllers);
                if pci.is_none() {
                    // Multipath: the namespace head is virtual, its controllers are not.
                    pci = d
                        .nvme_controllers
                        .iter()
                        .filter_map(|c| controllers.get(c))
                        .find_map(|p| nearest_pci(p));
                }
            }
            d.driver = first_driver(sys, dev, pci.as_ref().map(|(_, p)| p.as_str()));
        }
        if let Some((addr, path)) = &pci {
            d.pci_address = Some(addr.clone());
            d.controller_driver = sys.link_name(&format!("{path}/driver"));
            // A namespace hangs off the controller's class device, which has no driver.
            if d.driver.is_none() && !d.nvme_controllers.is_empty() {
                d.driver = d.controller_driver.clone();
            }
        }
        d.transport = transport(
            sys,
            &self.hosts,
            name,
            hctl,
            device.as_deref(),
            d.controller_driver.as_deref(),
        );

        if device.is_some() {
            identity(sys, &mut d, dir, &device_rel, hctl.is_some());
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
            // A dm device created without a uuid (dmsetup create without -u) has an empty one.
            let prefix = sys
                .attr_maybe_empty(&format!("{dir}/dm/uuid"))
                .and_then(|u| {
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
            // An inactive array (being assembled, or a container) has no level yet: empty.
            sys.attr_maybe_empty(&format!("{dir}/md/level"))
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

    /// lsblk's `--sysroot` stand-in for the udev database, where the tree may have one.
    fn udev_props(&self, name: &str) -> Option<UdevProps> {
        if !self.udev_files {
            return None;
        }
        udev_props(self.sys, name)
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
            let maj_min = maj_min(sys, &pdir);
            let mountpoints = self
                .mounts
                .find(maj_min.as_deref(), std::slice::from_ref(&entry));
            out.push(Partition {
                number,
                start: sys.parse(&format!("{pdir}/start")),
                size_bytes: size_bytes(sys, &pdir),
                maj_min,
                read_only: flag(sys, &format!("{pdir}/ro")),
                alignment_offset: sys.parse(&format!("{pdir}/alignment_offset")),
                discard_alignment: sys.parse(&format!("{pdir}/discard_alignment")),
                holders: sys.list_dir(&format!("{pdir}/holders")),
                mountpoints,
                name: entry,
            });
        }
        out
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

#[cfg(test)]
mod tests;
