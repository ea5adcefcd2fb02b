//! Building the hardware compatibility list entries a run supports: one for the system, one per PCI function
//! with a driver bound (bridges and SR-IOV virtual functions left out: the system entry covers
//! the platform's ports, and a virtual function is its physical function), each with the
//! statuses of the cases that covered it. The HCL keys on IDs, never on names.

use std::collections::BTreeSet;
use std::path::PathBuf;

use documents::claims::{CaseStatus, HclEntry, PciEntry, Platform, SystemEntry};
use documents::report::{gap_component, judge_with, Gap, InstanceResult};
use documents::rundir::RunDir;

fn case_status(r: &InstanceResult) -> CaseStatus {
    CaseStatus {
        name: r.name.clone(),
        status: r.status,
        blocker: r.blocker,
    }
}

/// Where the machine's files can be read now, to fill in what the inventory lacks (driver
/// versions): the plan's sysroot when it is a recorded tree that still exists, or the live
/// system when this is the same boot the run ran in.
fn readable_sysroot(
    run: &RunDir,
    inv: &inventory::Inventory,
    warnings: &mut Vec<String>,
) -> Option<hwsys::Sysroot> {
    let s = Some(run.plan.sysroot.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("/");
    if s == "/" {
        let now = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|b| b.trim().to_string());
        let run_boot = inv.host.boot_id.clone().or_else(|| {
            run.journal
                .iter()
                .rev()
                .find_map(|l| Some(l.boot_id.clone()).filter(|b| !b.is_empty()))
        });
        if now.is_some() && now == run_boot {
            return Some(hwsys::Sysroot::new("/"));
        }
        warnings.push(
            "driver versions left out: the report is made on another boot than the run's, so \
             sys/module is not the run's"
                .to_string(),
        );
        return None;
    }
    let p = PathBuf::from(s);
    let candidates = if p.is_absolute() {
        vec![p]
    } else {
        vec![run.path.join(&p), p]
    };
    match candidates.into_iter().find(|c| c.join("sys").is_dir()) {
        Some(c) => Some(hwsys::Sysroot::new(c)),
        None => {
            warnings.push(format!(
                "driver versions left out: the run's sysroot {s} is not a directory here"
            ));
            None
        }
    }
}

/// A module name that is safe to put in a path.
fn module_name_ok(d: &str) -> bool {
    !d.is_empty()
        && d.len() < 64
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn driver_version(sys: &hwsys::Sysroot, driver: &str) -> Option<String> {
    if !module_name_ok(driver) {
        return None;
    }
    // Module names use '_' where driver names may use '-'.
    let m = driver.replace('-', "_");
    sys.attr(&format!("sys/module/{m}/version"))
        .or_else(|| sys.attr(&format!("sys/module/{driver}/version")))
}

/// The entries, and what could not be read for them.
pub(crate) fn entries(
    run: &RunDir,
    inv: &inventory::Inventory,
    results: &[InstanceResult],
) -> (Vec<HclEntry>, Vec<String>) {
    let mut warnings = Vec::new();
    // What keeps the run from certifying: run-wide gaps concern every entry, a blocker left
    // out of the plan the entries of its component (or of its one target).
    let gaps = documents::verdict::gaps(&run.plan);
    let gap_target = |g: &Gap| -> Option<String> {
        let n = g.name.as_deref()?;
        let parts: Vec<&str> = n.splitn(3, "::").collect();
        parts.get(2).map(|t| t.to_string())
    };
    let os = inv.host.os.as_ref();
    let platform = Platform {
        arch: inv.host.arch.clone().or(inv.cpu.architecture.clone()),
        os: os.and_then(|o| o.pretty_name.clone().or(o.name.clone())),
        os_id: os.and_then(|o| o.id.clone()),
        os_version_id: os.and_then(|o| o.version_id.clone()),
        kernel: inv.host.kernel.clone(),
    };
    let dmi = inv.dmi.clone().unwrap_or_default();
    let system_cases: Vec<&InstanceResult> = results
        .iter()
        .filter(|r| {
            r.target.is_none() || matches!(r.component.as_str(), "system" | "cpu" | "memory")
        })
        .collect();
    let mut out = vec![HclEntry::System(SystemEntry {
        vendor: dmi.sys_vendor,
        product: dmi.product_name,
        product_version: dmi.product_version,
        family: dmi.product_family,
        board_vendor: dmi.board_vendor,
        board: dmi.board_name,
        board_version: dmi.board_version,
        bios_vendor: dmi.bios_vendor,
        bios_version: dmi.bios_version,
        bios_date: dmi.bios_date,
        cpu_vendor: inv.cpu.vendor.clone(),
        cpu_model: inv.cpu.model_name.clone(),
        cpu_sockets: inv.cpu.sockets,
        device_tree_model: inv.host.device_tree_model.clone(),
        hypervisor: inv.cpu.hypervisor.clone(),
        platform: platform.clone(),
        verdict: judge_with(
            &gaps
                .iter()
                .filter(|g| {
                    gap_target(g).is_none()
                        && gap_component(g).is_none_or(|c| matches!(c, "system" | "cpu" | "memory"))
                })
                .cloned()
                .collect::<Vec<_>>(),
            system_cases.iter().copied(),
        ),
        cases: system_cases.iter().map(|r| case_status(r)).collect(),
    })];

    let functions: Vec<&inventory::pci::PciDevice> = inv
        .pci
        .iter()
        .filter(|d| d.driver.is_some() && !d.is_bridge && d.physfn.is_none())
        .collect();
    let sys = if functions.is_empty() {
        None
    } else {
        readable_sysroot(run, inv, &mut warnings)
    };
    for d in functions {
        let driver = d.driver.clone().unwrap_or_default();
        // Everything a case may name as its target that is this function.
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.insert(&d.address);
        for b in &inv.storage {
            if b.pci_address.as_deref() == Some(&d.address) {
                names.insert(&b.name);
            }
        }
        let nvme: Vec<&inventory::storage::NvmeController> = inv
            .nvme
            .iter()
            .filter(|c| c.pci_address.as_deref() == Some(&d.address))
            .collect();
        for c in &nvme {
            names.insert(&c.name);
            for ns in &c.namespaces {
                names.insert(ns);
            }
        }
        for n in &inv.network {
            if n.pci_address.as_deref() == Some(&d.address) {
                names.insert(&n.name);
            }
        }
        let covering: Vec<&InstanceResult> = results
            .iter()
            .filter(|r| match r.target.as_deref() {
                Some(t) if names.contains(t) => true,
                // pci::driver_in_tree targets the driver, covering every function bound to it.
                Some(t) => r.component == "pci" && t == driver && !t.contains(':'),
                None => false,
            })
            .collect();
        out.push(HclEntry::Pci(PciEntry {
            address: d.address.clone(),
            vendor_id: d.vendor_id.clone(),
            device_id: d.device_id.clone(),
            subsystem_vendor_id: d.subsystem_vendor_id.clone(),
            subsystem_device_id: d.subsystem_device_id.clone(),
            vendor_name: d.vendor_name.clone(),
            device_name: d.device_name.clone(),
            subsystem_vendor_name: d.subsystem_vendor_name.clone(),
            subsystem_name: d.subsystem_name.clone(),
            class_id: d.class_id.clone(),
            class_name: d.class_name.clone(),
            revision: d.revision.clone(),
            driver_version: sys.as_ref().and_then(|s| driver_version(s, &driver)),
            driver,
            firmware: nvme.iter().find_map(|c| c.firmware.clone()),
            platform: platform.clone(),
            verdict: judge_with(
                &gaps
                    .iter()
                    .filter(|g| match (gap_component(g), gap_target(g)) {
                        (None, _) => true,
                        (Some(_), Some(t)) => names.contains(t.as_str()),
                        (Some(c), None) => matches!(c, "pci" | "storage" | "network"),
                    })
                    .cloned()
                    .collect::<Vec<_>>(),
                covering.iter().copied(),
            ),
            cases: covering.iter().map(|r| case_status(r)).collect(),
        }));
    }
    if let Some(s) = &sys {
        for w in s.take_warnings() {
            warnings.push(format!("{}: {}", w.path, w.message));
        }
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert!(module_name_ok("megaraid_sas"));
        assert!(module_name_ok("mlx5-core"));
        assert!(!module_name_ok("../etc"));
        assert!(!module_name_ok("a/b"));
        assert!(!module_name_ok(""));
    }
}
