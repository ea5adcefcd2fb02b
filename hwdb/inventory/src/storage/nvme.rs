//! NVMe: the controllers behind a namespace (the controller itself, or a multipath subsystem's
//! controllers) and the controllers of `sys/class/nvme` with their PCI function and namespaces.

use std::collections::BTreeMap;

use hwsys::sysroot::Sysroot;

use super::model::{BlockDevice, NvmeController};
use super::transport::nearest_pci;

/// NVMe controllers of a namespace whose `device` resolves to `dev`: the controller itself,
/// or (multipath) the controllers listed in its subsystem.
pub(super) fn nvme_controllers_of(
    sys: &Sysroot,
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
    for c in sys.list_dir(dev) {
        if !is_nvme_ctrl_name(&c) {
            continue;
        }
        if let Some(p) = sys.canonical(&format!("{dev}/{c}")) {
            controllers.insert(c.clone(), p);
            out.push(c);
        }
    }
    out
}

/// Every NVMe controller: those of `sys/class/nvme` and those met through a namespace (`seen`).
pub(super) fn nvme_controllers(
    sys: &Sysroot,
    devices: &[BlockDevice],
    seen: &BTreeMap<String, String>,
) -> Vec<NvmeController> {
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

/// A controller's name (`nvme0`), not a namespace's (`nvme0n1`) or a subsystem's.
fn is_nvme_ctrl_name(s: &str) -> bool {
    s.strip_prefix("nvme")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
