//! cpu:: cases on the hand-made trees and on variants of them.

use crate::common;

use std::path::Path;

use cases::{RunOptions, Status};
use common::*;

/// cpufreq policies for CPUs 0-7, one per CPU, as intel_pstate lays them out.
fn add_cpufreq(root: &Path, driver: &str, governor: Option<&str>, min: u64, max: u64) {
    for c in 0..8 {
        let p = format!("sys/devices/system/cpu/cpufreq/policy{c}");
        write(root, &format!("{p}/scaling_driver"), format!("{driver}\n"));
        if let Some(g) = governor {
            write(root, &format!("{p}/scaling_governor"), format!("{g}\n"));
        }
        write(root, &format!("{p}/cpuinfo_min_freq"), format!("{min}\n"));
        write(root, &format!("{p}/cpuinfo_max_freq"), format!("{max}\n"));
        write(root, &format!("{p}/related_cpus"), format!("{c}\n"));
        link(
            root,
            &format!("sys/devices/system/cpu/cpu{c}/cpufreq"),
            &format!("../cpufreq/policy{c}"),
        );
    }
}

#[test]
fn all_online() {
    let r = run_machine("cpu::all_online", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass);
    assert_eq!(r.measurement("online"), Some(8.0));
    let r = run_machine("cpu::all_online", &handmade("offline-cpus"));
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("all present CPUs 0-7 online (8)"),
        "{}",
        r.reason()
    );
    assert!(
        r.reason().contains("online 0,1,3,4,6,7 (6); offline 2,5"),
        "{}",
        r.reason()
    );

    // Garbage lists fall back on the inventory; nothing at all skips.
    let d = copy_tree(&handmade("offline-cpus"));
    write(d.path(), "sys/devices/system/cpu/online", "zz\n");
    let r = run_machine("cpu::all_online", d.path());
    assert_eq!(r.verdict().status(), Status::Fail, "{}", r.reason());
    let empty = tempdir();
    let r = run_on(
        case("cpu::all_online").as_ref(),
        &cases::Inventory::default(),
        empty.path(),
        &cases::Target::machine(),
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
}

#[test]
fn topology_consistent() {
    for tree in ["raid-sas", "aarch64-kunpeng", "offline-cpus"] {
        let r = run_machine("cpu::topology_consistent", &handmade(tree));
        assert_eq!(
            r.verdict().status(),
            Status::Pass,
            "{tree}: {}\n{}",
            r.reason(),
            r.log
        );
    }
    // An online CPU the kernel places in no package.
    let d = copy_tree(&handmade("raid-sas"));
    write(
        d.path(),
        "sys/devices/system/cpu/cpu3/topology/physical_package_id",
        "-1\n",
    );
    let r = run_machine("cpu::topology_consistent", d.path());
    assert_eq!(r.verdict().status(), Status::Fail, "{}", r.log);
    assert!(
        r.reason().contains("CPUs 3 have no package"),
        "{}",
        r.reason()
    );

    // An online CPU outside every NUMA node.
    let d = copy_tree(&handmade("raid-sas"));
    remove(d.path(), "sys/devices/system/cpu/cpu5/node0");
    write(d.path(), "sys/devices/system/node/node0/cpulist", "0-1,4\n");
    write(
        d.path(),
        "sys/devices/system/node/node0/cpumap",
        "00000013\n",
    );
    let r = run_machine("cpu::topology_consistent", d.path());
    assert_eq!(r.verdict().status(), Status::Fail, "{}", r.log);
    assert!(
        r.reason().contains("CPUs 5 have no NUMA node"),
        "{}",
        r.reason()
    );
}

#[test]
fn topology_product_must_match() {
    // Built by hand: 2 sockets × 4 cores × 2 threads claimed, 14 CPUs online.
    let mut inv = cases::Inventory::default();
    inv.cpu.sockets = Some(2);
    inv.cpu.cores_per_socket = Some(4);
    inv.cpu.threads_per_core = Some(2);
    inv.cpu.topology = (0..14)
        .map(|c| inventory::cpu::CpuTopology {
            cpu: c,
            online: true,
            core_id: Some(i64::from(c % 7)),
            socket_id: Some(i64::from(c / 7)),
            ..Default::default()
        })
        .collect();
    let empty = tempdir();
    let r = run_on(
        case("cpu::topology_consistent").as_ref(),
        &inv,
        empty.path(),
        &cases::Target::machine(),
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("= 16, but 14 CPUs are online"),
        "{}",
        r.reason()
    );
    assert!(r.log.contains("node check not applicable"), "{}", r.log);
}

#[test]
fn cpufreq() {
    // Bare metal without cpufreq: a firmware setting to fix.
    let r = run_machine("cpu::cpufreq", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(r.reason().contains("no cpufreq policy"), "{}", r.reason());
    // A VM: skipped.
    let r = run_machine("cpu::cpufreq", &handmade("offline-cpus"));
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(
        r.reason().contains("virtual machine (KVM)"),
        "{}",
        r.reason()
    );

    let d = copy_tree(&handmade("raid-sas"));
    add_cpufreq(
        d.path(),
        "intel_pstate",
        Some("powersave"),
        1_000_000,
        3_900_000,
    );
    let r = run_machine("cpu::cpufreq", d.path());
    assert_eq!(
        r.verdict().status(),
        Status::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("min_freq"), Some(1000.0));
    assert_eq!(r.measurement("max_freq"), Some(3900.0));

    let d = copy_tree(&handmade("raid-sas"));
    add_cpufreq(d.path(), "acpi-cpufreq", None, 3_000_000, 3_000_000);
    remove(d.path(), "sys/devices/system/cpu/cpufreq/policy7");
    let r = run_machine("cpu::cpufreq", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    let why = r.reason();
    assert!(why.contains("policy0 has no scaling_governor"), "{why}");
    assert!(
        why.contains("minimum 3000000 kHz is not below maximum 3000000 kHz"),
        "{why}"
    );
    assert!(why.contains("CPUs 7 belong to no cpufreq policy"), "{why}");

    // Garbage frequencies: a failure that says so, no panic.
    let d = copy_tree(&handmade("raid-sas"));
    add_cpufreq(d.path(), "intel_pstate", Some("performance"), 1, 2);
    write(
        d.path(),
        "sys/devices/system/cpu/cpufreq/policy0/cpuinfo_max_freq",
        "fast\n",
    );
    let r = run_machine("cpu::cpufreq", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason()
            .contains("policy0 reports no cpuinfo_min_freq/cpuinfo_max_freq"),
        "{}",
        r.reason()
    );
}

#[test]
fn microcode() {
    let r = run_machine("cpu::microcode", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass);
    assert_eq!(r.measurement("revision"), Some(f64::from(0x5003604)));
    assert!(r.log.contains("0x5003604 on 8 CPU(s)"), "{}", r.log);
    // Not x86: not planned.
    let inv = probe(&handmade("aarch64-kunpeng"));
    assert!(targets(
        case("cpu::microcode").as_ref(),
        &inv,
        &RunOptions::default()
    )
    .is_err());

    // A late load that missed two CPUs.
    let d = copy_tree(&handmade("raid-sas"));
    let text = std::fs::read_to_string(d.path().join("proc/cpuinfo")).expect("cpuinfo");
    let mut out = String::new();
    let mut cpu = 0;
    for line in text.lines() {
        if line.starts_with("processor") {
            cpu = line
                .rsplit(':')
                .next()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(0);
        }
        if line.starts_with("microcode") && cpu >= 6 {
            out.push_str("microcode\t: 0x5003302\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    write(d.path(), "proc/cpuinfo", out);
    let r = run_machine("cpu::microcode", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason()
            .contains("0x5003302 on CPUs 6,7, 0x5003604 on CPUs 0-5"),
        "{}",
        r.reason()
    );

    // Bare metal without any revision: fail; a VM without one: skip.
    let strip = |root: &Path| {
        let t = std::fs::read_to_string(root.join("proc/cpuinfo")).expect("cpuinfo");
        let t: String = t
            .lines()
            .filter(|l| !l.starts_with("microcode"))
            .map(|l| format!("{l}\n"))
            .collect();
        write(root, "proc/cpuinfo", t);
    };
    strip(d.path());
    assert_eq!(
        run_machine("cpu::microcode", d.path()).verdict().status(),
        Status::Fail
    );
    let v = copy_tree(&handmade("offline-cpus"));
    strip(v.path());
    assert_eq!(
        run_machine("cpu::microcode", v.path()).verdict().status(),
        Status::Skip
    );
}

#[test]
fn isa_baseline() {
    for tree in ["raid-sas", "aarch64-kunpeng", "offline-cpus"] {
        let r = run_machine("cpu::isa_baseline", &handmade(tree));
        assert_eq!(r.verdict().status(), Status::Pass, "{tree}: {}", r.reason());
    }
    // An x86-64-v1 CPU (no SSE4.2, no POPCNT).
    let d = copy_tree(&handmade("raid-sas"));
    let t = std::fs::read_to_string(d.path().join("proc/cpuinfo")).expect("cpuinfo");
    write(
        d.path(),
        "proc/cpuinfo",
        t.replace(" sse4_2", "").replace(" popcnt", ""),
    );
    let r = run_machine("cpu::isa_baseline", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("x86-64-v1: missing popcnt sse4_2"),
        "{}",
        r.reason()
    );

    // An aarch64 CPU without Advanced SIMD; the atomics are only noted.
    let d = copy_tree(&handmade("aarch64-kunpeng"));
    let t = std::fs::read_to_string(d.path().join("proc/cpuinfo")).expect("cpuinfo");
    write(
        d.path(),
        "proc/cpuinfo",
        t.replace(" asimd ", " ").replace(" atomics", ""),
    );
    let r = run_machine("cpu::isa_baseline", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(r.reason().contains("missing asimd"), "{}", r.reason());
    assert!(r.log.contains("atomics"), "{}", r.log);
    let d2 = copy_tree(&handmade("aarch64-kunpeng"));
    let t = std::fs::read_to_string(d2.path().join("proc/cpuinfo")).expect("cpuinfo");
    write(d2.path(), "proc/cpuinfo", t.replace(" atomics", ""));
    let r = run_machine("cpu::isa_baseline", d2.path());
    assert_eq!(
        r.verdict().status(),
        Status::Pass,
        "ARMv8.0 needs no LSE atomics"
    );
}
