//! The catalog: every built-in case, in the order plans list them.

use crate::case::Case;
use crate::{
    accel, bmc, cpu, kdump, memory, network, pci, reboot, storage, stress, system, traffic,
    watchdog,
};

/// Every built-in case, in catalog order (system, cpu, memory, pci, storage, network, accel).
pub fn catalog() -> Vec<Box<dyn Case>> {
    let mut all = Vec::new();
    all.extend(system::cases());
    all.extend(cpu::cases());
    all.extend(memory::cases());
    all.extend(pci::cases());
    all.extend(storage::cases());
    all.extend(network::cases());
    // Traffic against the peer after the local network checks.
    all.extend(traffic::cases());
    all.extend(accel::cases());
    // Stress last: the driver cases say quickly what is wrong before hours of load.
    all.extend(stress::stress_cases());
    // The BMC's sensors and event log after the load, before anything takes the machine down.
    all.extend(bmc::cases());
    // What takes the machine down comes after everything that does not.
    all.extend(reboot::cases());
    all.extend(kdump::cases());
    all.extend(watchdog::cases());
    all
}

/// The built-in case named `name` (`cpu::all_online`).
pub fn find(name: &str) -> Option<Box<dyn Case>> {
    catalog().into_iter().find(|c| c.info().name == name)
}
