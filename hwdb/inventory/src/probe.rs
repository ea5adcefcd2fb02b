//! Probing: the check that a directory is a Linux tree, each part's probe in turn, udev
//! enrichment on the live system, redaction unless identifiers are asked for.

use std::path::Path;

use crate::inventory::{Inventory, ProbeError, ProbeOptions, ProbedBy, SCHEMA};
use crate::{accel, bmc, cpu, dmi, host, memory, network, pci, rdma, storage};
use hwsys::sysroot::Sysroot;

/// Probe the machine described by `opts`.
pub fn probe(opts: &ProbeOptions) -> Result<Inventory, ProbeError> {
    check_tree(&opts.sysroot)?;
    let sys = Sysroot::new(&opts.sysroot);
    Ok(probe_sysroot(&sys, opts))
}

/// Whether `root` looks like a Linux tree at all.
pub(crate) fn check_tree(root: &Path) -> Result<(), ProbeError> {
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
    probe_parts(sys, opts).0
}

/// The vendor tools of the machine `sys` reads: run live, or their recorded outputs.
fn tool_source(sys: &Sysroot) -> Box<dyn accel::ToolSource + '_> {
    if sys.is_live() {
        Box::new(accel::LiveTools::default())
    } else {
        Box::new(accel::RecordedTools(sys))
    }
}

/// The inventory and the raw outputs of the accelerator tools and ipmitool commands that
/// answered (for snapshots).
pub(crate) fn probe_parts(
    sys: &Sysroot,
    opts: &ProbeOptions,
) -> (Inventory, Vec<(String, Vec<u8>)>) {
    probe_parts_with(sys, opts, tool_source(sys).as_ref())
}

/// [`probe_parts`] asking `tools` for the accelerator tools' outputs.
pub(crate) fn probe_parts_with(
    sys: &Sysroot,
    opts: &ProbeOptions,
    tools: &dyn accel::ToolSource,
) -> (Inventory, Vec<(String, Vec<u8>)>) {
    let host = host::probe(sys);
    let dmi = dmi::probe(sys);
    let cpu = cpu::probe(sys, host.arch.as_deref());
    let memory = memory::probe(sys);
    let pci = pci::probe(sys, host.kernel.as_deref());
    let (storage, nvme) = storage::probe(sys, opts.all);
    let network = network::probe(sys);
    let rdma = rdma::probe(sys);
    let accel = accel::probe(&pci, tools);
    let (bmc, bmc_outputs) = bmc::probe(sys, opts.bmc.clone());
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
        rdma,
        accelerators: accel.accelerators,
        accelerator_tools: accel.tools,
        bmc: Some(bmc),
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
    let mut outputs = accel.outputs;
    outputs.extend(bmc_outputs);
    (inv, outputs)
}
