//! The probe on whole trees: x86, hybrid, ARM big.LITTLE and MIDR-only machines, offline CPUs,
//! hypervisors, and missing, truncated, endless and garbage files.

use super::*;
use std::fs;

use crate::testutil::write as put;

const X86_BLOCK: &str = "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\nstepping\t: 7\nmicrocode\t: 0x5003006\n\
cpu MHz\t\t: 2100.000\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov \
pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx lm constant_tsc cx16 lahf_lm popcnt sse4_1 \
sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave avx512f avx512bw avx512cd avx512dq \
avx512vl vmx\nbogomips\t: 4200.00\naddress sizes\t: 46 bits physical, 48 bits virtual\n";

/// A 2-socket, 2-core, 2-thread x86 machine (8 CPUs).
fn x86_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    let mut info = String::new();
    for cpu in 0..8 {
        info.push_str(&format!("processor\t: {cpu}\n{X86_BLOCK}\n"));
    }
    put(r, "proc/cpuinfo", &info);
    put(r, "sys/devices/system/cpu/possible", "0-7\n");
    put(r, "sys/devices/system/cpu/present", "0-7\n");
    put(r, "sys/devices/system/cpu/online", "0-7\n");
    for cpu in 0..8u32 {
        let base = format!("sys/devices/system/cpu/cpu{cpu}");
        let core = cpu % 4; // threads of a core: n and n+4
        let socket = core / 2;
        let threads: u32 = (1 << core) | (1 << (core + 4));
        let sockets: u32 = if socket == 0 { 0x33 } else { 0xcc };
        put(
            r,
            &format!("{base}/topology/thread_siblings"),
            format!("{threads:x}\n"),
        );
        put(
            r,
            &format!("{base}/topology/core_siblings"),
            format!("{sockets:x}\n"),
        );
        put(
            r,
            &format!("{base}/topology/core_id"),
            format!("{}\n", core % 2),
        );
        put(
            r,
            &format!("{base}/topology/physical_package_id"),
            format!("{socket}\n"),
        );
        put(r, &format!("{base}/cpufreq/cpuinfo_max_freq"), "3900000\n");
        put(r, &format!("{base}/cpufreq/cpuinfo_min_freq"), "1000000\n");
        for (i, (level, kind, size, shared)) in [
            (1, "Data", "32K", threads),
            (1, "Instruction", "32K", threads),
            (2, "Unified", "1024K", threads),
            (3, "Unified", "28160K", sockets),
        ]
        .iter()
        .enumerate()
        {
            let c = format!("{base}/cache/index{i}");
            put(r, &format!("{c}/level"), format!("{level}\n"));
            put(r, &format!("{c}/type"), format!("{kind}\n"));
            put(r, &format!("{c}/size"), format!("{size}\n"));
            put(r, &format!("{c}/shared_cpu_map"), format!("{shared:x}\n"));
        }
    }
    put(r, "sys/devices/system/node/node0/cpumap", "33\n");
    put(r, "sys/devices/system/node/node1/cpumap", "cc\n");
    put(
        r,
        "sys/devices/system/cpu/vulnerabilities/spec_store_bypass",
        "Mitigation: Speculative Store Bypass disabled via prctl\n",
    );
    put(
        r,
        "sys/devices/system/cpu/vulnerabilities/meltdown",
        "Not affected\n",
    );
    d
}

#[test]
fn x86_machine() {
    let d = x86_tree();
    let sys = Sysroot::new(d.path());
    assert_eq!(detect_arch(&sys).as_deref(), Some("x86_64"));
    let c = probe(&sys, None);
    assert_eq!(c.architecture.as_deref(), Some("x86_64"));
    assert_eq!(c.vendor.as_deref(), Some("GenuineIntel"));
    assert_eq!(c.family.as_deref(), Some("6"));
    assert_eq!(c.model.as_deref(), Some("85"));
    assert_eq!(c.stepping.as_deref(), Some("7"));
    assert_eq!(c.microcode.as_deref(), Some("0x5003006"));
    assert_eq!(c.cpus, Some(8));
    assert_eq!(c.online.as_deref(), Some("0-7"));
    assert_eq!(c.offline, None);
    assert_eq!(c.threads_per_core, Some(2));
    assert_eq!(c.cores_per_socket, Some(2));
    assert_eq!(c.sockets, Some(2));
    assert_eq!(c.min_mhz, Some(1000.0));
    assert_eq!(c.max_mhz, Some(3900.0));
    assert_eq!(c.x86_64_level.as_deref(), Some("v4"));
    assert_eq!(c.virtualization.as_deref(), Some("VT-x"));
    assert_eq!(c.op_modes.as_deref(), Some("32-bit, 64-bit"));
    let l1d = c.caches.iter().find(|x| x.name == "L1d").expect("L1d");
    assert_eq!((l1d.size_bytes, l1d.instances), (4 * 32 * 1024, 4));
    let l3 = c.caches.iter().find(|x| x.name == "L3").expect("L3");
    assert_eq!((l3.size_bytes, l3.instances), (2 * 28160 * 1024, 2));
    assert_eq!(c.numa_nodes.len(), 2);
    assert_eq!(c.numa_nodes[1].cpus, "2,3,6,7");
    assert_eq!(c.vulnerabilities[0].name, "Meltdown");
    assert_eq!(
        c.vulnerabilities[1].status,
        "Mitigation; Speculative Store Bypass disabled via prctl"
    );
    assert_eq!(c.vulnerabilities[1].name, "Spec store bypass");
    assert!(c.core_types.is_empty());
    assert_eq!(c.topology.len(), 8);
    assert_eq!(c.topology[5].node, Some(0));
    assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
}

#[test]
fn offline_cpus_and_missing_present() {
    let d = x86_tree();
    let r = d.path();
    put(r, "sys/devices/system/cpu/online", "0-5\n");
    let sys = Sysroot::new(r);
    let c = probe(&sys, Some("x86_64"));
    assert_eq!(c.cpus, Some(8));
    assert_eq!(c.offline.as_deref(), Some("6,7"));
    fs::remove_file(r.join("sys/devices/system/cpu/present")).expect("rm");
    let sys = Sysroot::new(r);
    let c = probe(&sys, Some("x86_64"));
    assert_eq!(c.cpus, Some(8), "falls back to possible");
}

#[test]
fn hybrid_x86() {
    let d = x86_tree();
    let r = d.path();
    put(r, "sys/devices/cpu_core/cpus", "0-3\n");
    put(r, "sys/devices/cpu_atom/cpus", "4-7\n");
    let sys = Sysroot::new(r);
    let c = probe(&sys, Some("x86_64"));
    assert_eq!(c.core_types.len(), 2);
    assert_eq!(c.core_types[0].kind.as_deref(), Some("performance"));
    assert_eq!(c.core_types[1].cpus, "4-7");
}

#[test]
fn missing_everything_is_quiet_but_warns_for_cpuinfo() {
    let d = tempfile::tempdir().expect("tempdir");
    let sys = Sysroot::new(d.path());
    let c = probe(&sys, None);
    assert_eq!(c.architecture, None);
    assert_eq!(c.cpus, Some(0));
    assert!(c.caches.is_empty() && c.numa_nodes.is_empty());
    let w = sys.warnings();
    assert!(w.iter().any(|x| x.path == "/proc/cpuinfo"), "{w:?}");
    assert!(w.iter().any(|x| x.path.ends_with("/possible")), "{w:?}");
}

#[test]
fn truncated_cpuinfo() {
    let d = x86_tree();
    let r = d.path();
    let full = fs::read_to_string(r.join("proc/cpuinfo")).expect("read");
    for cut in [1, 17, 100, 333, full.len() / 2, full.len() - 3] {
        put(r, "proc/cpuinfo", &full[..cut]);
        let sys = Sysroot::new(r);
        let c = probe(&sys, None);
        assert_eq!(c.cpus, Some(8), "cut at {cut}");
        assert_eq!(c.threads_per_core, Some(2), "cut at {cut}");
    }
}

#[test]
fn garbage_everywhere() {
    let d = x86_tree();
    let r = d.path();
    put(
        r,
        "proc/cpuinfo",
        "\u{1}\u{2}:::\n: :\nprocessor : -1\nprocessor: 99999999999\nflags\n:\n",
    );
    put(r, "sys/devices/system/cpu/possible", "0-4000000000\n");
    put(r, "sys/devices/system/cpu/present", "zz\n");
    put(r, "sys/devices/system/cpu/online", "5-1\n");
    put(
        r,
        "sys/devices/system/cpu/cpu0/topology/thread_siblings",
        "xyz\n",
    );
    put(
        r,
        "sys/devices/system/cpu/cpu1/topology/core_siblings",
        "0\n",
    );
    put(r, "sys/devices/system/cpu/cpu0/cache/index0/size", "lots\n");
    put(r, "sys/devices/system/cpu/cpu0/cache/index1/level", "-7\n");
    put(
        r,
        "sys/devices/system/cpu/cpu2/cpufreq/cpuinfo_max_freq",
        "fast\n",
    );
    put(r, "sys/devices/system/node/node0/cpumap", "f,".repeat(5000));
    put(r, "sys/devices/system/cpu/vulnerabilities/x", "");
    fs::create_dir_all(r.join("sys/devices/system/cpu/vulnerabilities/dir")).expect("mkdir");
    let sys = Sysroot::new(r);
    let c = probe(&sys, None);
    let w = sys.warnings();
    let has = |p: &str| w.iter().any(|x| x.path.ends_with(p));
    assert!(has("/possible"), "{w:?}");
    assert!(has("/present"), "{w:?}");
    assert!(has("/online"), "{w:?}");
    assert!(has("cpu0/topology/thread_siblings"), "{w:?}");
    assert!(has("index0/size"), "{w:?}");
    assert!(has("cpuinfo_max_freq"), "{w:?}");
    assert!(has("node0/cpumap"), "{w:?}");
    // Nothing absurd came out.
    assert!(c.cpus.unwrap_or(0) < MAX_CPUS);
    assert!(c.vulnerabilities.iter().all(|v| v.name != "Dir"));
}

#[test]
fn hypervisor_from_tree() {
    let d = x86_tree();
    let r = d.path();
    put(r, "sys/class/dmi/id/sys_vendor", "QEMU\n");
    put(
        r,
        "sys/class/dmi/id/product_name",
        "Standard PC (Q35 + ICH9, 2009)\n",
    );
    let sys = Sysroot::new(r);
    assert_eq!(
        probe(&sys, None).hypervisor,
        None,
        "no hypervisor flag: bare metal"
    );
    let info = fs::read_to_string(r.join("proc/cpuinfo")).expect("read");
    put(r, "proc/cpuinfo", info.replace(" vmx", " vmx hypervisor"));
    let sys = Sysroot::new(r);
    let c = probe(&sys, None);
    assert_eq!(c.hypervisor.as_deref(), Some("KVM"));
    assert_eq!(c.virtualization_type.as_deref(), Some("full"));
    put(r, "proc/xen/capabilities", "control_d\n");
    let c = probe(&Sysroot::new(r), None);
    assert_eq!(c.hypervisor.as_deref(), Some("Xen"));
    assert_eq!(c.virtualization_type.as_deref(), Some("none"), "dom0");
}

#[test]
fn endless_cpuinfo_is_cut() {
    let d = x86_tree();
    let r = d.path();
    put(r, "proc/cpuinfo", "flags : fpu\n".repeat(MAX_TYPES + 10));
    let sys = Sysroot::new(r);
    let c = probe(&sys, None);
    assert_eq!(c.flags, vec!["fpu".to_string()]);
    assert!(sys
        .warnings()
        .iter()
        .any(|w| w.path == "/proc/cpuinfo" && w.message.contains("ignored")));
}

#[test]
fn zero_sockets_do_not_divide() {
    let d = x86_tree();
    let r = d.path();
    for cpu in 0..8 {
        fs::remove_file(r.join(format!(
            "sys/devices/system/cpu/cpu{cpu}/topology/core_siblings"
        )))
        .expect("rm");
    }
    let sys = Sysroot::new(r);
    let c = probe(&sys, None);
    assert_eq!(c.threads_per_core, Some(2));
    assert_eq!(
        c.cores_per_socket, None,
        "no socket evidence: unknown, not 0"
    );
    assert_eq!(c.sockets, None);
}

#[test]
fn arm_big_little_from_cpuinfo() {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    let mut info = String::new();
    for (cpu, part, var, rev) in [
        (0, "0xd05", "0x1", 0),
        (1, "0xd05", "0x1", 0),
        (2, "0xd0b", "0x3", 1),
    ] {
        info.push_str(&format!(
            "processor\t: {cpu}\nBogoMIPS\t: 52.00\nFeatures\t: fp asimd\n\
CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {var}\nCPU part\t: {part}\n\
CPU revision\t: {rev}\n\n"
        ));
    }
    put(r, "proc/cpuinfo", &info);
    put(r, "sys/devices/system/cpu/possible", "0-2\n");
    put(r, "sys/devices/system/cpu/present", "0-2\n");
    put(r, "sys/devices/system/cpu/online", "0-2\n");
    let sys = Sysroot::new(r);
    assert_eq!(detect_arch(&sys).as_deref(), Some("aarch64"));
    let c = probe(&sys, None);
    assert_eq!(c.vendor.as_deref(), Some("ARM"));
    assert_eq!(c.model_name.as_deref(), Some("Cortex-A55"));
    assert_eq!(c.stepping.as_deref(), Some("r1p0"));
    assert_eq!(c.core_types.len(), 2);
    assert_eq!(c.core_types[1].model_name.as_deref(), Some("Cortex-A76"));
    assert_eq!(c.core_types[1].stepping.as_deref(), Some("r3p1"));
    assert_eq!(c.core_types[0].cpus, "0,1");
    assert_eq!(c.core_types[1].cpus, "2");
    assert_eq!(c.x86_64_level, None);
}

#[test]
fn arm_from_midr_when_cpuinfo_lacks_ids() {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    put(
        r,
        "proc/cpuinfo",
        "processor\t: 0\nBogoMIPS\t: 200.00\n\nprocessor\t: 1\nBogoMIPS\t: 200.00\n",
    );
    put(r, "sys/devices/system/cpu/possible", "0-1\n");
    for cpu in 0..2 {
        put(
            r,
            &format!("sys/devices/system/cpu/cpu{cpu}/regs/identification/midr_el1"),
            "0x00000000481fd010\n",
        );
    }
    let sys = Sysroot::new(r);
    let c = probe(&sys, Some("aarch64"));
    assert_eq!(c.vendor.as_deref(), Some("HiSilicon"));
    assert_eq!(c.model_name.as_deref(), Some("Kunpeng-920"));
    assert_eq!(
        c.stepping.as_deref(),
        Some("0x1"),
        "rXpY is for ARM Ltd. cores only"
    );
    assert_eq!(c.bogomips.as_deref(), Some("200.00"));
}

#[test]
fn empty_cpu_lists_warn_and_an_empty_offline_list_does_not() {
    let d = x86_tree();
    let r = d.path();
    put(r, "sys/devices/system/cpu/online", "");
    put(r, "sys/devices/system/cpu/present", "\n");
    put(r, "sys/devices/system/node/node0/cpulist", "\n");
    let sys = Sysroot::new(r);
    let _ = probe(&sys, None);
    let w = sys.warnings();
    let has = |p: &str| {
        w.iter()
            .any(|x| x.path.ends_with(p) && x.message.contains("empty"))
    };
    assert!(has("cpu/online"), "{w:?}");
    assert!(has("cpu/present"), "{w:?}");
    assert!(
        !has("node0/cpulist"),
        "a CPU-less node's list may be empty: {w:?}"
    );
}
