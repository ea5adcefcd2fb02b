//! pci:: cases on the hand-made trees, variants of them, and hand-built PCIe hierarchies.

use crate::common;

use cases::{RunOptions, Status, Target};
use common::*;
use inventory::pci::{PciDevice, PciLink};

const MEGARAID: &str = "sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0";

fn ids(v: Vec<(String, Ran)>) -> Vec<(String, Status)> {
    v.into_iter()
        .map(|(i, r)| (i, r.verdict().status()))
        .collect()
}

#[test]
fn driver_bound() {
    // Root ports (bridges) are exempt and not selected.
    let r = ids(run_all("pci::driver_bound", &handmade("raid-sas")));
    assert_eq!(
        r,
        [
            ("0000:3b:00.0".to_string(), Status::Pass),
            ("0000:af:00.0".to_string(), Status::Pass)
        ]
    );
    // The host bridge of the KVM guest too.
    let r = ids(run_all("pci::driver_bound", &handmade("offline-cpus")));
    assert_eq!(
        r,
        [
            ("0000:00:01.1".to_string(), Status::Pass),
            ("0000:00:04.0".to_string(), Status::Pass)
        ]
    );
    // The inventory says bound; the device has lost its driver since.
    let d = copy_tree(&handmade("raid-sas"));
    let inv = probe(&handmade("raid-sas"));
    remove(
        d.path(),
        "sys/devices/pci0000:ae/0000:ae:00.0/0000:af:00.0/driver",
    );
    let t = Target::item("0000:af:00.0", None);
    let r = run_on(
        case("pci::driver_bound").as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Fail);
    let why = r.reason();
    assert!(why.contains("no driver bound to 0000:af:00.0"), "{why}");
    assert!(why.contains("[1000:0097]"), "names the device: {why}");
    // A function that vanished.
    let t = Target::item("0000:99:00.0", None);
    let r = run_on(
        case("pci::driver_bound").as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(r.reason().contains("gone"), "{}", r.reason());
}

#[test]
fn link_not_degraded() {
    // The NVMe SSD runs x2 at 8 GT/s where both ends could do x4 at 16 GT/s.
    let r = run_all("pci::link_not_degraded", &handmade("aarch64-kunpeng"));
    let (id, ran) = &r[0];
    assert_eq!(id, "0000:01:00.0");
    assert_eq!(ran.verdict().status(), Status::Fail);
    assert_eq!(ran.reason(), "expected 16.0 GT/s x4; measured 8.0 GT/s x2");
    assert_eq!(ran.measurement("speed"), Some(8.0));
    assert_eq!(ran.measurement("width"), Some(2.0));
    assert_eq!(r[1].0, "0000:7d:00.0");
    assert_eq!(r[1].1.verdict().status(), Status::Pass);
    assert_eq!(r.len(), 2, "root ports are the other end, not selected");

    // A Gen4 card in a Gen3 root port runs at the port's 8 GT/s: not degraded (5.4 strings).
    let r = run_all("pci::link_not_degraded", &handmade("raid-sas"));
    assert!(
        r.iter().all(|(_, x)| x.verdict().status() == Status::Pass),
        "{:?}",
        ids(r)
    );

    // Trained down to x4 since the probe.
    let d = copy_tree(&handmade("raid-sas"));
    write(d.path(), &format!("{MEGARAID}/current_link_width"), "4\n");
    let r = run_all("pci::link_not_degraded", d.path());
    assert_eq!(r[0].1.verdict().status(), Status::Fail);
    assert_eq!(
        r[0].1.reason(),
        "expected 8.0 GT/s x8; measured 8.0 GT/s x4"
    );
    // Garbage now: the probe's values stand.
    write(
        d.path(),
        &format!("{MEGARAID}/current_link_width"),
        "wide\n",
    );
    write(
        d.path(),
        &format!("{MEGARAID}/current_link_speed"),
        "Unknown\n",
    );
    let inv = probe(&handmade("raid-sas"));
    let t = Target::item("0000:3b:00.0", None);
    let r = run_on(
        case("pci::link_not_degraded").as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
}

fn dev(
    addr: &str,
    parent: Option<&str>,
    bridge: bool,
    max: (f64, u32),
    cur: (f64, u32),
) -> PciDevice {
    PciDevice {
        address: addr.into(),
        parent: parent.map(str::to_string),
        is_bridge: bridge,
        class_id: Some(if bridge { "060400" } else { "010802" }.into()),
        link: Some(PciLink {
            current_gts: Some(cur.0),
            current_width: Some(cur.1),
            max_gts: Some(max.0),
            max_width: Some(max.1),
            ..PciLink::default()
        }),
        ..PciDevice::default()
    }
}

#[test]
fn links_behind_a_switch() {
    // Root port → switch upstream port → two downstream ports → two SSDs, and a DMA engine
    // on the switch's internal bus.
    let inv = cases::Inventory {
        pci: vec![
            dev("0000:00:01.0", None, true, (16.0, 16), (16.0, 16)),
            dev(
                "0000:01:00.0",
                Some("0000:00:01.0"),
                true,
                (16.0, 16),
                (8.0, 16),
            ),
            dev(
                "0000:02:00.0",
                Some("0000:01:00.0"),
                true,
                (16.0, 4),
                (16.0, 4),
            ),
            dev(
                "0000:02:01.0",
                Some("0000:01:00.0"),
                true,
                (16.0, 4),
                (16.0, 2),
            ),
            dev(
                "0000:02:02.0",
                Some("0000:01:00.0"),
                false,
                (16.0, 1),
                (2.5, 1),
            ),
            dev(
                "0000:03:00.0",
                Some("0000:02:00.0"),
                false,
                (16.0, 4),
                (16.0, 4),
            ),
            dev(
                "0000:04:00.0",
                Some("0000:02:01.0"),
                false,
                (16.0, 4),
                (16.0, 2),
            ),
        ],
        ..Default::default()
    };
    let c = case("pci::link_not_degraded");
    let ts = targets(c.as_ref(), &inv, &RunOptions::default()).expect("targets");
    let got: Vec<&str> = ts.iter().filter_map(|t| t.id.as_deref()).collect();
    // The uplink is judged at the upstream port, each SSD at itself; downstream ports and the
    // internal DMA engine have no link of their own to judge.
    assert_eq!(got, ["0000:01:00.0", "0000:03:00.0", "0000:04:00.0"]);
    let empty = tempdir();
    let verdicts: Vec<(String, Status, String)> = ts
        .iter()
        .map(|t| {
            let r = run_on(
                c.as_ref(),
                &inv,
                empty.path(),
                t,
                &RunOptions::default(),
                false,
            );
            (
                t.id.clone().unwrap_or_default(),
                r.verdict().status(),
                r.reason(),
            )
        })
        .collect();
    assert_eq!(
        verdicts[0].1,
        Status::Fail,
        "uplink at 8 GT/s: {verdicts:?}"
    );
    assert_eq!(
        verdicts[0].2,
        "expected 16.0 GT/s x16; measured 8.0 GT/s x16"
    );
    assert_eq!(verdicts[1].1, Status::Pass);
    assert_eq!(verdicts[2].1, Status::Fail);
    assert_eq!(
        verdicts[2].2,
        "expected 16.0 GT/s x4; measured 16.0 GT/s x2"
    );
}

#[test]
fn aer_clean() {
    let r = ids(run_all("pci::aer_clean", &handmade("raid-sas")));
    assert_eq!(r, [("0000:3b:00.0".to_string(), Status::Pass)]);
    let r = ids(run_all("pci::aer_clean", &handmade("aarch64-kunpeng")));
    assert_eq!(r, [("0000:01:00.0".to_string(), Status::Pass)]);
    // No AER anywhere: not planned, with the reason.
    let inv = probe(&handmade("offline-cpus"));
    let why = targets(
        case("pci::aer_clean").as_ref(),
        &inv,
        &RunOptions::default(),
    )
    .expect_err("none");
    assert!(why.contains("AER"), "{why}");

    // Bad TLPs counted since the probe (5.4: no TOTAL line).
    let d = copy_tree(&handmade("raid-sas"));
    write(
        d.path(),
        &format!("{MEGARAID}/aer_dev_correctable"),
        "RxErr 0\nBadTLP 3\nBadDLLP 1\n",
    );
    let r = run_all("pci::aer_clean", d.path());
    assert_eq!(r[0].1.verdict().status(), Status::Fail);
    assert_eq!(
        r[0].1.reason(),
        "expected no AER error counted; measured correctable 4 (BadTLP 3, BadDLLP 1)"
    );
    assert_eq!(r[0].1.measurement("correctable"), Some(4.0));

    // 6.6: a fatal error with its TOTAL line.
    let d = copy_tree(&handmade("aarch64-kunpeng"));
    let f = "sys/devices/pci0000:00/0000:00:00.0/0000:01:00.0/aer_dev_fatal";
    write(d.path(), f, "Undefined 0\nDLP 1\nTOTAL_ERR_FATAL 1\n");
    let r = run_all("pci::aer_clean", d.path());
    assert_eq!(r[0].1.verdict().status(), Status::Fail);
    assert!(
        r[0].1.reason().contains("fatal 1 (DLP 1)"),
        "{}",
        r[0].1.reason()
    );

    // Garbage now: the probe's counts stand.
    let inv = probe(&handmade("aarch64-kunpeng"));
    write(d.path(), f, [0xffu8, 0x00]);
    let t = Target::item("0000:01:00.0", None);
    let r = run_on(
        case("pci::aer_clean").as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Pass, "{}", r.reason());
}

#[test]
fn driver_in_tree() {
    let r = run_all("pci::driver_in_tree", &handmade("raid-sas"));
    let got: Vec<(String, Status)> = ids(r);
    assert_eq!(
        got,
        [
            ("megaraid_sas".to_string(), Status::Pass),
            ("mpt3sas".to_string(), Status::Pass),
            ("pcieport".to_string(), Status::Pass)
        ]
    );
    let r = run_all("pci::driver_in_tree", &handmade("raid-sas"));
    assert!(
        r[2].1.log.contains("built into the kernel"),
        "{}",
        r[2].1.log
    );
    assert!(
        ids(run_all("pci::driver_in_tree", &handmade("aarch64-kunpeng")))
            .iter()
            .all(|(_, s)| *s == Status::Pass)
    );

    // A vendor's out-of-tree, unsigned mpt3sas.
    let d = copy_tree(&handmade("raid-sas"));
    write(d.path(), "sys/module/mpt3sas/taint", "OE\n");
    let r = run_all("pci::driver_in_tree", d.path());
    assert_eq!(r[1].0, "mpt3sas");
    assert_eq!(r[1].1.verdict().status(), Status::Fail);
    let why = r[1].1.reason();
    assert!(
        why.contains("module mpt3sas is out-of-tree (O), unsigned (E)"),
        "{why}"
    );
    assert!(why.contains("version"), "{why}");
    // Proprietary.
    write(d.path(), "sys/module/mpt3sas/taint", "P\n");
    let r = run_all("pci::driver_in_tree", d.path());
    assert!(
        r[1].1.reason().contains("proprietary (P)"),
        "{}",
        r[1].1.reason()
    );
    // Staging (C) is not this case's concern.
    write(d.path(), "sys/module/mpt3sas/taint", "C\n");
    assert_eq!(
        run_all("pci::driver_in_tree", d.path())[1]
            .1
            .verdict()
            .status(),
        Status::Pass
    );
    // The driver directory is not recorded: skipped.
    remove(d.path(), "sys/bus/pci/drivers/mpt3sas");
    let inv = probe(&handmade("raid-sas"));
    let t = Target::item("mpt3sas", None);
    let r = run_on(
        case("pci::driver_in_tree").as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
}
