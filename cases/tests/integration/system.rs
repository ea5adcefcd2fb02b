//! system:: cases on the hand-made trees and on variants of them.

use crate::common;

use cases::Status;
use common::*;

#[test]
fn os_supported() {
    assert_eq!(
        run_machine("system::os_supported", &handmade("raid-sas"))
            .verdict()
            .status(),
        Status::Pass
    );
    assert_eq!(
        run_machine("system::os_supported", &handmade("aarch64-kunpeng"))
            .verdict()
            .status(),
        Status::Pass
    );
    let d = copy_tree(&handmade("raid-sas"));
    write(d.path(), "etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
    let r = run_machine("system::os_supported", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("Debian GNU/Linux 12") && r.reason().contains("ID=debian"),
        "{}",
        r.reason()
    );

    write(d.path(), "etc/os-release", "NAME=\"Rocky Linux\"\nVERSION_ID=\"9.3\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n");
    let r = run_machine("system::os_supported", d.path());
    assert_eq!(r.verdict().status(), Status::Pass);
    assert!(
        r.log.contains("WARNING") && r.log.contains("not OpenCloudOS"),
        "{}",
        r.log
    );

    write(d.path(), "etc/os-release", "NAME=\"OpenCloudOS Stream\"\nVERSION=\"23\"\nID=\"opencloudos\"\nVERSION_ID=\"23\"\nPLATFORM_ID=\"platform:ocs23\"\n");
    assert_eq!(
        run_machine("system::os_supported", d.path())
            .verdict()
            .status(),
        Status::Pass
    );

    // Missing or garbage: the check cannot run, and says why.
    write(d.path(), "etc/os-release", [0xffu8, 0xfe, 0x00]);
    let r = run_machine("system::os_supported", d.path());
    assert_eq!(r.verdict().status(), Status::Error);
    remove(d.path(), "etc/os-release");
    let r = run_machine("system::os_supported", d.path());
    assert!(r.reason().contains("os-release"), "{}", r.reason());
}

#[test]
fn kernel_taint() {
    let r = run_machine("system::kernel_taint", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass);
    assert_eq!(r.measurement("taint"), Some(0.0));

    // An out-of-tree, unsigned module.
    let d = copy_tree(&handmade("raid-sas"));
    write(d.path(), "proc/sys/kernel/tainted", "12288\n");
    write(d.path(), "sys/module/hwcert_oot/taint", "OE\n");
    write(d.path(), "sys/module/hwcert_oot/version", "1.0\n");
    let r = run_machine("system::kernel_taint", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    let why = r.reason();
    assert!(why.contains("12288"), "{why}");
    assert!(why.contains("O (") && why.contains("E ("), "{why}");
    assert!(why.contains("by hwcert_oot"), "names the module: {why}");

    // Proprietary, module since unloaded.
    write(d.path(), "proc/sys/kernel/tainted", "1\n");
    remove(d.path(), "sys/module/hwcert_oot");
    let r = run_machine("system::kernel_taint", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(r.reason().contains("no longer loaded"), "{}", r.reason());

    // A kernel warning (W) alone is the log case's business.
    write(d.path(), "proc/sys/kernel/tainted", "512\n");
    let r = run_machine("system::kernel_taint", d.path());
    assert_eq!(r.verdict().status(), Status::Pass);
    assert!(r.log.contains("W (kernel issued warning)"), "{}", r.log);

    // Garbage or missing: skipped with the reason, never a panic.
    write(d.path(), "proc/sys/kernel/tainted", "lots\n");
    let d2 = copy_tree(d.path());
    let inv = probe(d2.path());
    let r = run_on(
        case("system::kernel_taint").as_ref(),
        &inv,
        d2.path(),
        &cases::Target::machine(),
        &Default::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Skip, "{}", r.reason());
}

#[test]
fn dmesg_clean() {
    let r = run_machine("system::dmesg_clean", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
    assert_eq!(r.measurement("records"), Some(15.0));
    assert_eq!(
        run_machine("system::dmesg_clean", &handmade("aarch64-kunpeng"))
            .verdict()
            .status(),
        Status::Pass
    );

    // var/log/dmesg text: the sr0 I/O error is quoted, the loop device's is not hardware.
    let r = run_machine("system::dmesg_clean", &handmade("offline-cpus"));
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("[   12.437125] I/O error, dev sr0"),
        "{}",
        r.reason()
    );
    assert!(!r.reason().contains("loop0"), "{}", r.reason());

    // An oops in kmsg records, with its call trace reported once.
    let d = copy_tree(&handmade("raid-sas"));
    let mut kmsg = std::fs::read_to_string(handmade("raid-sas").join("dev/kmsg")).expect("kmsg");
    kmsg.push_str(
        "1,15,20000000,-;BUG: unable to handle page fault for address: ffffffffc0a1b000\n",
    );
    kmsg.push_str("1,16,20000010,-;Oops: 0002 [#1] SMP NOPTI\n 0,17,20000020,-;Call Trace:\n");
    kmsg.push_str("4,17,20000020,-;Call Trace:\n");
    kmsg.push_str("3,18,30000000,-;mce: [Hardware Error]: Machine check events logged\n");
    write(d.path(), "dev/kmsg", kmsg);
    let r = run_machine("system::dmesg_clean", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    let why = r.reason();
    assert!(why.contains("3 problem line(s)"), "{why}");
    assert!(why.contains("BUG: unable to handle page fault"), "{why}");
    assert!(
        why.contains("hardware error: [   30.000000] mce: [Hardware Error]"),
        "{why}"
    );

    // No log, or garbage: skipped with the reason.
    remove(d.path(), "dev/kmsg");
    let r = run_machine("system::dmesg_clean", d.path());
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("no kernel log"), "{}", r.reason());
    write(d.path(), "dev/kmsg", [0xffu8, 0xfe, 0xfd]);
    assert_eq!(
        run_machine("system::dmesg_clean", d.path())
            .verdict()
            .status(),
        Status::Skip
    );
    write(d.path(), "dev/kmsg", "garbage\n\n;;;\n1,2\n");
    assert_eq!(
        run_machine("system::dmesg_clean", d.path())
            .verdict()
            .status(),
        Status::Pass
    );
}

#[test]
fn dmesg_clean_live() {
    let r = run_machine("system::dmesg_clean", std::path::Path::new("/"));
    let st = r.verdict().status();
    eprintln!("{} {}\n{}", st.as_str(), r.reason(), r.log);
    assert!(matches!(st, Status::Pass | Status::Fail | Status::Skip));
    if st == Status::Skip {
        assert!(r.reason().contains("/dev/kmsg"), "{}", r.reason());
    }
}

#[test]
fn kdump_ready() {
    let r = run_machine("system::kdump_ready", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
    assert_eq!(r.measurement("crash_kernel"), Some(268435456.0));

    let r = run_machine("system::kdump_ready", &handmade("aarch64-kunpeng"));
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("no crash kernel memory reserved"),
        "{}",
        r.reason()
    );
    assert!(
        r.reason().contains("neither installed nor enabled"),
        "{}",
        r.reason()
    );

    // crashkernel= asked for, nothing reserved; the service installed, not enabled.
    let d = copy_tree(&handmade("raid-sas"));
    write(d.path(), "sys/kernel/kexec_crash_size", "0\n");
    remove(
        d.path(),
        "etc/systemd/system/multi-user.target.wants/kdump.service",
    );
    write(d.path(), "usr/lib/systemd/system/kdump.service", "[Unit]\n");
    let r = run_machine("system::kdump_ready", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("crashkernel=auto") && r.reason().contains("reservation failed"),
        "{}",
        r.reason()
    );
    assert!(
        r.reason()
            .contains("installed (/usr/lib/systemd/system/kdump.service) but not enabled"),
        "{}",
        r.reason()
    );

    // Garbage size: the command line still tells.
    write(d.path(), "sys/kernel/kexec_crash_size", "zz\n");
    link(
        d.path(),
        "etc/systemd/system/multi-user.target.wants/kdump.service",
        "/usr/lib/systemd/system/kdump.service",
    );
    let r = run_machine("system::kdump_ready", d.path());
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
}

#[test]
fn clocksource() {
    assert_eq!(
        run_machine("system::clocksource", &handmade("raid-sas"))
            .verdict()
            .status(),
        Status::Pass
    );
    assert_eq!(
        run_machine("system::clocksource", &handmade("aarch64-kunpeng"))
            .verdict()
            .status(),
        Status::Pass
    );

    // A KVM guest on kvm-clock is fine; its log marking the TSC unstable is not.
    let r = run_machine("system::clocksource", &handmade("offline-cpus"));
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(
        r.reason().contains("Marking clocksource 'tsc' as unstable"),
        "{}",
        r.reason()
    );
    assert!(
        !r.reason().contains("expected tsc"),
        "a VM need not run on tsc: {}",
        r.reason()
    );

    // Bare-metal x86 on hpet: the TSC was rejected...
    let d = copy_tree(&handmade("raid-sas"));
    write(
        d.path(),
        "sys/devices/system/clocksource/clocksource0/current_clocksource",
        "hpet\n",
    );
    let r = run_machine("system::clocksource", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(r.reason().contains("not tsc"), "{}", r.reason());
    // ... unless the command line chose it.
    let cmdline = std::fs::read_to_string(d.path().join("proc/cmdline")).expect("cmdline");
    write(
        d.path(),
        "proc/cmdline",
        format!("{} clocksource=hpet\n", cmdline.trim()),
    );
    assert_eq!(
        run_machine("system::clocksource", d.path())
            .verdict()
            .status(),
        Status::Pass
    );

    // Not recorded: skipped.
    remove(d.path(), "sys/devices/system/clocksource");
    assert_eq!(
        run_machine("system::clocksource", d.path())
            .verdict()
            .status(),
        Status::Skip
    );
}

#[test]
fn watchdog_present() {
    let r = run_machine("system::watchdog_present", &handmade("raid-sas"));
    assert_eq!(r.verdict().status(), Status::Pass);
    assert!(r.log.contains("watchdog0: iTCO_wdt"), "{}", r.log);
    assert_eq!(
        run_machine("system::watchdog_present", &handmade("aarch64-kunpeng"))
            .verdict()
            .status(),
        Status::Pass
    );
    let r = run_machine("system::watchdog_present", &handmade("offline-cpus"));
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("virtual machine"), "{}", r.reason());

    let d = copy_tree(&handmade("raid-sas"));
    remove(d.path(), "sys/class/watchdog");
    let r = run_machine("system::watchdog_present", d.path());
    assert_eq!(r.verdict().status(), Status::Fail);
    // A device node alone will do.
    write(d.path(), "dev/watchdog0", "");
    assert_eq!(
        run_machine("system::watchdog_present", d.path())
            .verdict()
            .status(),
        Status::Pass
    );
}
