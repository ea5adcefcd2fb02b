//! memory:: cases on small trees built here, the hand-made trees and this machine's snapshot.

use crate::common;

use cases::Status;
use common::*;

/// A tree with `online` memory blocks of 2 GiB and MemTotal `total_kib`.
fn memory_tree(total_kib: u64, online: u32, crash: Option<u64>) -> tempfile::TempDir {
    let d = tempdir();
    let r = d.path();
    write(
        r,
        "proc/meminfo",
        format!("MemTotal:       {total_kib} kB\nMemFree:        1000 kB\n"),
    );
    write(
        r,
        "sys/devices/system/memory/block_size_bytes",
        "80000000\n",
    );
    for i in 0..online {
        write(
            r,
            &format!("sys/devices/system/memory/memory{i}/state"),
            "online\n",
        );
    }
    if let Some(c) = crash {
        write(r, "sys/kernel/kexec_crash_size", format!("{c}\n"));
    }
    d
}

#[test]
fn size_consistent_against_memory_blocks() {
    // 16 GiB of blocks, 15.6 GiB managed: kernel reservations.
    let d = memory_tree(16_357_000, 8, None);
    let r = run_machine("memory::size_consistent", d.path());
    assert_eq!(
        r.verdict().status(),
        Status::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("online"), Some(16.0));
    assert!(r.log.contains("no DIMM sizes"), "{}", r.log);

    // 14 GiB managed of 16: 2 GiB unexplained.
    let d = memory_tree(14 * 1024 * 1024, 8, None);
    let r = run_machine("memory::size_consistent", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason()
            .contains("MemTotal 14 GiB is 2 GiB below the online memory blocks (16 GiB)"),
        "{}",
        r.reason()
    );

    // The same with a 1.5 GiB crash kernel reservation: explained.
    let d = memory_tree(14 * 1024 * 1024, 8, Some(1536 << 20));
    assert_eq!(
        run_machine("memory::size_consistent", d.path())
            .verdict()
            .status(),
        Status::Pass
    );

    // More managed than the blocks hold.
    let d = memory_tree(24 * 1024 * 1024, 8, None);
    let r = run_machine("memory::size_consistent", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("exceeds the online memory blocks"),
        "{}",
        r.reason()
    );
}

#[test]
fn size_consistent_on_recorded_machines() {
    // This machine's snapshot: 24 GiB of blocks, MemTotal 23.5 GiB.
    let archive = testing::fixtures::fixture("firecracker-vm.tar.gz");
    let d = extract(&archive);
    let r = run_machine("memory::size_consistent", d.path());
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
    // The hand-made trees record no blocks and no DIMMs: nothing to compare.
    let r = run_machine("memory::size_consistent", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("nothing to compare"), "{}", r.reason());
    // Garbage meminfo: skipped, never a panic.
    let g = memory_tree(1, 8, None);
    write(g.path(), "proc/meminfo", "MemTotal: lots\n");
    assert_eq!(
        run_machine("memory::size_consistent", g.path())
            .verdict()
            .status(),
        Status::Skip
    );
}

#[test]
fn edac_clean() {
    let r = run_machine("memory::edac_clean", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
    assert!(r.log.contains("mc0: Skylake Socket#0 IMC#0"), "{}", r.log);
    assert_eq!(r.measurement("corrected"), Some(0.0));

    // Corrected errors on one DIMM, named by its label.
    let d = copy_tree(&handmade("raid-sas"));
    write(d.path(), "sys/devices/system/edac/mc/mc1/ce_count", "3\n");
    write(
        d.path(),
        "sys/devices/system/edac/mc/mc1/dimm1/dimm_ce_count",
        "3\n",
    );
    let r = run_machine("memory::edac_clean", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("3 corrected, 0 uncorrected"),
        "{}",
        r.reason()
    );
    assert!(
        r.reason()
            .contains("mc1/dimm1 (CPU_SrcID#1_MC#0_Chan#1_DIMM#0) dimm_ce_count 3"),
        "{}",
        r.reason()
    );
    assert_eq!(r.measurement("corrected"), Some(3.0));

    // The older csrow layout, an uncorrected error.
    write(d.path(), "sys/devices/system/edac/mc/mc1/ce_count", "0\n");
    write(
        d.path(),
        "sys/devices/system/edac/mc/mc1/dimm1/dimm_ce_count",
        "0\n",
    );
    write(
        d.path(),
        "sys/devices/system/edac/mc/mc0/csrow0/ue_count",
        "1\n",
    );
    let r = run_machine("memory::edac_clean", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("mc0/csrow0 ue_count 1"),
        "{}",
        r.reason()
    );

    // Garbage counters are warnings, not errors.
    write(
        d.path(),
        "sys/devices/system/edac/mc/mc0/csrow0/ue_count",
        "many\n",
    );
    assert_eq!(
        run_machine("memory::edac_clean", d.path())
            .verdict()
            .status(),
        Status::Pass
    );

    // No EDAC: a VM says so; bare metal names the missing driver.
    let r = run_machine("memory::edac_clean", &handmade("offline-cpus"));
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(
        r.reason().contains("virtual machine (KVM)"),
        "{}",
        r.reason()
    );
    let r = run_machine("memory::edac_clean", &handmade("aarch64-kunpeng"));
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("EDAC driver"), "{}", r.reason());
}
