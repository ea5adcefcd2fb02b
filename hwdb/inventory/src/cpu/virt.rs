//! Virtualization, as lscpu-virt.c finds it on a tree: the hypervisor vendor, its own name where
//! known and the virtualization type, from procfs, the device tree, emulated PCI devices, DMI
//! strings and paravirtual clocks (and CPUID on the live x86 system).

use hwsys::sysroot::Sysroot;

use super::arch::is_x86_arch;
use super::cputype::RawType;

pub(super) struct Virt {
    pub(super) vendor: Option<&'static str>,
    pub(super) kind: Option<&'static str>,
    pub(super) hypervisor: Option<String>,
}

fn devtree_compatible(sys: &Sysroot, what: &str) -> bool {
    sys.read_bytes("proc/device-tree/compatible", 4096)
        .is_some_and(|b| b.split(|&c| c == 0).any(|s| s == what.as_bytes()))
}

/// Whether a path exists; read (or list) it so that snapshots keep the evidence.
fn evidence(sys: &Sysroot, rel: &str) -> bool {
    if sys.is_dir(rel) {
        sys.list_dir(rel);
        true
    } else if sys.exists(rel) {
        sys.read_bytes(rel, 4096);
        true
    } else {
        false
    }
}

/// lscpu's virtualization probe on a tree (lscpu-virt.c), in its order. lscpu's CPUID and
/// DMI probes read the running machine, so in their place the tree's DMI strings are used
/// where the CPU says it runs under a hypervisor.
pub(super) fn read_virt(sys: &Sysroot, default: Option<&RawType>, arch: Option<&str>) -> Virt {
    let mut v = Virt {
        vendor: None,
        kind: None,
        hypervisor: None,
    };
    if sys
        .attr("proc/sys/kernel/osrelease")
        .is_some_and(|r| r.contains("Microsoft"))
    {
        v.vendor = Some("Windows Subsystem for Linux");
        v.kind = Some("container");
        return v;
    }
    // lscpu asks the running CPU on a live system (CPUID leaf 0x40000000).
    if sys.is_live() && arch.is_some_and(is_x86_arch) {
        // Read the paravirtual clock evidence too, so that a snapshot of this system holds
        // what a probe of the snapshot needs to name the hypervisor without CPUID.
        let _ = sys.attr(CLOCKSOURCES);
        if let Some(vendor) = live_cpuid_hypervisor() {
            v.vendor = Some(vendor);
            v.kind = Some(if vendor == "Xen" && xen_paravirt(sys) {
                "para"
            } else {
                "full"
            });
            return v;
        }
    }
    // POWER
    if evidence(sys, "proc/iSeries") {
        v.vendor = Some("OS/400");
        v.kind = Some("para");
        return v;
    }
    if devtree_compatible(sys, "ibm,powernv") {
        // bare-metal POWER: nothing more to find
    } else if evidence(sys, "proc/device-tree/ibm,partition-name")
        && evidence(sys, "proc/device-tree/hmc-managed?")
        && !evidence(sys, "proc/device-tree/chosen/qemu,graphic-width")
    {
        v.vendor = Some("pHyp");
        v.kind = Some("para");
        let name = sys
            .read_bytes("proc/device-tree/ibm,partition-name", 4096)
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim_matches('\0')
                    .trim()
                    .to_string()
            });
        if name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .is_some_and(|n| n == "full")
        {
            v.kind = Some("none");
        }
        return v;
    } else if devtree_compatible(sys, "qemu,pseries") {
        v.vendor = Some("KVM");
        v.kind = Some("para");
        return v;
    }
    // Xen PV or dom0
    if evidence(sys, "proc/xen") {
        let dom0 = sys
            .attr("proc/xen/capabilities")
            .is_some_and(|c| c.split_whitespace().next() == Some("control_d"));
        v.vendor = Some("Xen");
        v.kind = Some(if dom0 { "none" } else { "para" });
        return v;
    }
    // The hypervisors' emulated graphics cards
    if let Some(devs) = sys.read("proc/bus/pci/devices") {
        for line in devs.lines() {
            let Some(ids) = line.split('\t').nth(1) else {
                continue;
            };
            let Ok(id) = u32::from_str_radix(ids.trim(), 16) else {
                continue;
            };
            let found = match (id >> 16, id & 0xffff) {
                (0x5853, 0x0001) => Some("Xen"),
                (0x15ad, 0x0710) => Some("VMware"),
                (0x80ee, 0xbeef) => Some("Oracle"),
                _ => None,
            };
            if found.is_some() {
                v.vendor = found;
                v.kind = Some("full");
                return v;
            }
        }
    }
    // IBM Z: PR/SM, z/VM, KVM
    if let Some(info) = sys.read("proc/sysinfo") {
        v.vendor = Some("IBM");
        v.hypervisor = Some("PR/SM".to_string());
        v.kind = Some("full");
        for line in info.lines() {
            if let Some(i) = line.find("Control Program:") {
                v.vendor = Some(if line.contains("KVM") { "KVM" } else { "IBM" });
                let name = &line[i + "Control Program:".len()..];
                v.hypervisor = Some(name.split_whitespace().collect::<Vec<_>>().join(" "));
                break;
            }
        }
        return v;
    }
    // OpenVZ / Virtuozzo
    if evidence(sys, "proc/vz") && !evidence(sys, "proc/bc") {
        v.vendor = Some("Parallels");
        v.kind = Some("container");
        return v;
    }
    if default
        .and_then(|t| t.modelname.as_deref())
        .is_some_and(|m| m.contains("UML"))
    {
        v.vendor = Some("User-mode Linux");
        v.kind = Some("para");
        return v;
    }
    if let Some(status) = sys.read("proc/self/status") {
        let vx = status
            .lines()
            .find_map(|l| l.strip_prefix("VxID:").map(str::trim));
        if vx.is_some_and(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())) {
            v.vendor = Some("Linux-VServer");
            v.kind = Some("container");
            return v;
        }
    }
    // In place of lscpu's live CPUID/DMI probe: the tree's DMI strings, then the hypervisors'
    // paravirtual clocks (a guest without DMI tables, as Firecracker's, still has those).
    let guest_flag = default.is_some_and(|t| t.has_flag("hypervisor"));
    let vendor = dmi_hypervisor(sys, guest_flag, arch).or_else(|| {
        if !guest_flag {
            return None;
        }
        sys.attr(CLOCKSOURCES)?
            .split_whitespace()
            .find_map(|c| match c {
                "kvm-clock" => Some("KVM"),
                "hyperv_clocksource_tsc_page" | "hyperv_clocksource_msr" => Some("Microsoft"),
                "xen" => Some("Xen"),
                _ => None,
            })
    });
    if let Some(vendor) = vendor {
        v.vendor = Some(vendor);
        v.kind = Some(if vendor == "Xen" && xen_paravirt(sys) {
            "para"
        } else {
            "full"
        });
    }
    v
}

/// The clock sources the kernel can use; paravirtual ones name the hypervisor.
const CLOCKSOURCES: &str = "sys/devices/system/clocksource/clocksource0/available_clocksource";

/// The hypervisor's CPUID signature on the running machine (x86 only).
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
#[allow(unused_unsafe)] // __cpuid is an unsafe fn on older toolchains only
fn live_cpuid_hypervisor() -> Option<&'static str> {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    // SAFETY: CPUID only reads identification registers and exists on every CPU this code
    // can run on; leaf 0x40000000 is the range reserved for hypervisors.
    let r = unsafe { __cpuid(0x4000_0000) };
    let sig = [
        r.ebx.to_le_bytes(),
        r.ecx.to_le_bytes(),
        r.edx.to_le_bytes(),
    ]
    .concat();
    match sig.as_slice() {
        b"XenVMMXenVMM" => Some("Xen"),
        s if s.starts_with(b"KVMKVMKVM") => Some("KVM"),
        b"Microsoft Hv" => Some("Microsoft"),
        b"VMwareVMware" => Some("VMware"),
        b"UnisysSpar64" => Some("Unisys s-Par"),
        _ => None,
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
fn live_cpuid_hypervisor() -> Option<&'static str> {
    None
}

/// A Xen PV or PVH domain (sys/hypervisor/properties/features), as lscpu tells them apart.
fn xen_paravirt(sys: &Sysroot) -> bool {
    const PV: u64 = 1 << 5; // XENFEAT_mmu_pt_update_preserve_ad
    const PVH: u64 = (1 << 3) | (1 << 8); // supervisor_mode_kernel | hvm_callback_vector
    sys.parse_hex("sys/hypervisor/properties/features")
        .is_some_and(|f| f & PV != 0 || f & PVH == PVH)
}

fn dmi_hypervisor(sys: &Sysroot, guest_flag: bool, arch: Option<&str>) -> Option<&'static str> {
    if sys
        .attr("sys/hypervisor/type")
        .is_some_and(|t| t.eq_ignore_ascii_case("xen"))
    {
        return Some("Xen");
    }
    if sys.is_live() && arch.is_some_and(is_x86_arch) {
        return None; // CPUID has answered already
    }
    let x86 = arch.is_some_and(is_x86_arch);
    if x86 && !guest_flag {
        return None;
    }
    // A DMI string the firmware did not fill in is an empty attribute (as in dmi.rs).
    let dmi = |f: &str| {
        sys.attr_maybe_empty(&format!("sys/class/dmi/id/{f}"))
            .unwrap_or_default()
    };
    let (vendor, product, bios) = (dmi("sys_vendor"), dmi("product_name"), dmi("bios_vendor"));
    if vendor.is_empty() && product.is_empty() && bios.is_empty() {
        return None;
    }
    let all = format!("{vendor}|{product}|{bios}");
    let hit = if all.contains("VMware") {
        Some("VMware")
    } else if all.contains("innotek") || all.contains("VirtualBox") {
        Some("Innotek GmbH")
    } else if vendor.contains("Microsoft") && product.contains("Virtual Machine") {
        Some("Microsoft")
    } else if all.contains("Xen") {
        Some("Xen")
    } else if all.contains("Parallels") {
        Some("Parallels")
    } else if vendor.contains("QEMU") || product.contains("KVM") || bios.contains("SeaBIOS") {
        Some("KVM")
    } else {
        None
    };
    // A CPU flagged as a guest with a cloud's DMI strings runs under that cloud's KVM.
    hit.or((guest_flag).then_some("KVM"))
}
