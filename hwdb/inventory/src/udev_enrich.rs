//! Enrichment from the udev database on the live system: what only udevd knows (ID_SERIAL,
//! ID_WWN, ID_PATH, by-id links, predictable network names). Without udevd (containers,
//! minimal images, Firecracker VMs) this does nothing and the inventory stays complete from
//! sysfs: udev only adds, it never replaces a value sysfs gave.

use std::ffi::OsStr;
use std::path::Path;

use crate::Inventory;

/// Whether udevd has populated its database (it runs, or ran, on this boot).
pub fn udevd_database() -> bool {
    Path::new("/run/udev/control").exists()
        || std::fs::read_dir("/run/udev/data")
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
}

fn prop(d: &udev::Device, key: &str) -> Option<String> {
    d.property_value(key)
        .map(OsStr::to_string_lossy)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Add what only udevd knows; returns whether the udev database was used.
pub fn enrich(inv: &mut Inventory) -> bool {
    if !udevd_database() {
        return false;
    }
    let mut used = false;
    for b in &mut inv.storage {
        let Ok(d) = udev::Device::from_subsystem_sysname("block".into(), b.name.clone()) else {
            continue;
        };
        // Only an initialized device has udevd's properties.
        if !d.is_initialized() {
            continue;
        }
        used = true;
        if b.serial.is_none() {
            b.serial = prop(&d, "ID_SERIAL_SHORT").or_else(|| prop(&d, "ID_SERIAL"));
        }
        if b.wwn.is_none() {
            b.wwn = prop(&d, "ID_WWN_WITH_EXTENSION").or_else(|| prop(&d, "ID_WWN"));
        }
        if b.model.is_none() {
            b.model = prop(&d, "ID_MODEL").map(|m| m.replace('_', " "));
        }
        if b.id_path.is_none() {
            b.id_path = prop(&d, "ID_PATH");
        }
        if let Some(links) = prop(&d, "DEVLINKS") {
            b.by_id = links
                .split_whitespace()
                .filter_map(|l| l.strip_prefix("/dev/disk/by-id/"))
                .map(str::to_string)
                .collect();
            b.by_id.sort();
        }
    }
    for n in &mut inv.network {
        let Ok(d) = udev::Device::from_subsystem_sysname("net".into(), n.name.clone()) else {
            continue;
        };
        if !d.is_initialized() {
            continue;
        }
        used = true;
        if n.id_path.is_none() {
            n.id_path = prop(&d, "ID_PATH");
        }
        if n.udev_name.is_none() {
            n.udev_name = prop(&d, "ID_NET_NAME_ONBOARD")
                .or_else(|| prop(&d, "ID_NET_NAME_SLOT"))
                .or_else(|| prop(&d, "ID_NET_NAME_PATH"));
        }
    }
    used
}
