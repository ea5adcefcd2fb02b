//! storage:: cases: identity on the hand-made trees, read_verify on a loop device over a file
//! in memory (root only), NVMe and SMART selection and their skips.

use crate::common;

use std::path::Path;
use std::process::Command;

use cases::{Context, RunOptions, Status, Target};
use common::*;

fn ids(v: Vec<(String, Ran)>) -> Vec<(String, Status)> {
    v.into_iter()
        .map(|(i, r)| (i, r.verdict().status()))
        .collect()
}

#[test]
fn identity() {
    let r = ids(run_all("storage::identity", &handmade("raid-sas")));
    assert_eq!(
        r,
        [
            ("sda".to_string(), Status::Pass),
            ("sdb".to_string(), Status::Pass)
        ]
    );
    let r = ids(run_all("storage::identity", &handmade("aarch64-kunpeng")));
    assert_eq!(r, [("nvme0n1".to_string(), Status::Pass)]);
    // sr0 is a ROM drive, not a disk; vda is virtio: nothing to read, skipped.
    let r = run_all("storage::identity", &handmade("offline-cpus"));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, "vda");
    assert_eq!(r[0].1.verdict().status(), Status::Skip);
    assert!(
        r[0].1.reason().contains("virtio-blk"),
        "{}",
        r[0].1.reason()
    );

    // A SAS disk whose firmware revision cannot be read.
    let d = copy_tree(&handmade("raid-sas"));
    let sdb = std::fs::canonicalize(d.path().join("sys/block/sdb/device")).expect("sdb device");
    std::fs::remove_file(sdb.join("rev")).expect("rm rev");
    let r = run_all("storage::identity", d.path());
    assert_eq!(r[1].0, "sdb");
    assert_eq!(r[1].1.verdict().status(), Status::Fail);
    assert_eq!(
        r[1].1.reason(),
        "expected model, serial number and firmware revision readable; measured sdb: no firmware revision"
    );
    // Serial numbers never reach the log.
    assert!(!r[1].1.log.contains("REDACTED"), "{}", r[1].1.log);
}

/// A read-only loop device over a file in memory, detached on drop.
struct Loop {
    dev: String,
    _dir: tempfile::TempDir,
}

impl Loop {
    fn new(size: u64) -> Option<Loop> {
        if !is_root() {
            eprintln!("SKIP: loop devices need root");
            return None;
        }
        let dir = tempdir();
        let img = dir.path().join("disk.img");
        let f = std::fs::File::create(&img).expect("image");
        f.set_len(size).expect("size");
        let out = Command::new("losetup")
            .args(["--find", "--show", "--read-only"])
            .arg(&img)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "SKIP: losetup: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Some(Loop { dev, _dir: dir })
    }
    fn name(&self) -> &str {
        self.dev.trim_start_matches("/dev/")
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

#[test]
fn read_verify_on_a_loop_device() {
    let Some(lo) = Loop::new(96 << 20) else {
        return;
    };
    let inv = cases::Inventory::default();
    let root = Path::new("/");
    let c = case("storage::read_verify");
    let t = Target::item(lo.name(), None);
    let r = run_on(c.as_ref(), &inv, root, &t, &RunOptions::default(), true);
    assert_eq!(
        r.verdict().status(),
        Status::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("bytes_read"), Some((64u64 << 20) as f64));
    assert!(r.measurement("read").is_some_and(|m| m > 0.0), "{}", r.log);
    eprintln!("{}", r.log);

    // Not root: skipped with the reason.
    let r = run_on(c.as_ref(), &inv, root, &t, &RunOptions::default(), false);
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("needs root"), "{}", r.reason());

    // A device that ends before its reported size: a short read is a fail.
    let res = cases::storage::read_spread(
        Path::new(&lo.dev),
        cases::storage::READ_TOTAL,
        cases::storage::READ_CHUNK,
        Some(1 << 30),
    );
    let log = Log::default();
    let opts = RunOptions::default();
    let mut ctx = Context::new(&inv, root, &t, &opts, true, Box::new(log.clone()));
    let v = cases::storage::judge_read(&mut ctx, &lo.dev, res);
    assert_eq!(v.status(), Status::Fail);
    assert!(
        v.reason().unwrap_or_default().contains("short read"),
        "{v:?}"
    );

    // A small device is read whole.
    let small = Loop::new(3 << 20).expect("a second loop device");
    let s = cases::storage::read_spread(
        Path::new(&small.dev),
        cases::storage::READ_TOTAL,
        cases::storage::READ_CHUNK,
        None,
    )
    .expect("read");
    assert_eq!((s.bytes, s.reads), (3 << 20, 3));
}

#[test]
fn read_verify_refuses_without_a_device() {
    let inv = cases::Inventory::default();
    let c = case("storage::read_verify");
    // On a recorded tree: live only.
    let r = run_on(
        c.as_ref(),
        &inv,
        &handmade("raid-sas"),
        &Target::item("sda", None),
        &RunOptions::default(),
        true,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("live system only"), "{}", r.reason());
    if is_root() {
        // No such node.
        let r = run_on(
            c.as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("hwcert-no-such-disk", None),
            &RunOptions::default(),
            true,
        );
        assert_eq!(r.verdict().status(), Status::Skip, "{}", r.reason());
        // A character device is not a disk.
        let r = run_on(
            c.as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("null", None),
            &RunOptions::default(),
            true,
        );
        assert_eq!(r.verdict().status(), Status::Fail, "{}", r.reason());
    }
    // Names with slashes are not device names.
    let r = run_on(
        c.as_ref(),
        &inv,
        Path::new("/"),
        &Target::item("../etc/passwd", None),
        &RunOptions::default(),
        true,
    );
    assert_ne!(r.verdict().status(), Status::Pass);
    // Open errors: plain files are read as what they are (a 4 KiB file: one read).
    let d = tempdir();
    let f = d.path().join("img");
    std::fs::write(&f, vec![0u8; 4096]).expect("w");
    match cases::storage::read_spread(&f, 1 << 20, 1 << 20, None) {
        Ok(s) => assert_eq!(s.bytes, 4096),
        // tmpfs before 6.6 refuses O_DIRECT.
        Err(cases::storage::ReadFailure::Open(m, _)) => eprintln!("O_DIRECT refused: {m}"),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn nvme_health_selection_and_skips() {
    let inv = probe(&handmade("aarch64-kunpeng"));
    let c = case("storage::nvme_health");
    let ts = targets(c.as_ref(), &inv, &RunOptions::default()).expect("nvme0");
    assert_eq!(ts.len(), 1);
    assert_eq!(ts[0].id.as_deref(), Some("nvme0"));
    assert!(ts[0]
        .label
        .as_deref()
        .unwrap_or("")
        .contains("SAMSUNG MZQL23T8HCLS-00A07"));
    let r = run_on(
        c.as_ref(),
        &inv,
        &handmade("aarch64-kunpeng"),
        &ts[0],
        &RunOptions::default(),
        true,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    let inv = probe(&handmade("raid-sas"));
    assert_eq!(
        targets(c.as_ref(), &inv, &RunOptions::default()).expect_err("none"),
        "no PCIe NVMe controller"
    );
    // Live, not root: skipped; root on a name that is no NVMe controller: the check errs.
    let r = run_on(
        c.as_ref(),
        &inv,
        Path::new("/"),
        &Target::item("nvme0", None),
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    let r = run_on(
        c.as_ref(),
        &inv,
        Path::new("/"),
        &Target::item("sda", None),
        &RunOptions::default(),
        true,
    );
    assert_eq!(r.verdict().status(), Status::Error);
}

#[test]
fn smart_health_selection_and_skips() {
    // Only the SAS disk behind the HBA: the MegaRAID virtual drive is not a disk smartctl
    // reads without -d megaraid.
    let inv = probe(&handmade("raid-sas"));
    let c = case("storage::smart_health");
    let ts = targets(c.as_ref(), &inv, &RunOptions::default()).expect("sdb");
    let got: Vec<&str> = ts.iter().filter_map(|t| t.id.as_deref()).collect();
    assert_eq!(got, ["sdb"]);
    let r = run_on(
        c.as_ref(),
        &inv,
        &handmade("raid-sas"),
        &ts[0],
        &RunOptions::default(),
        true,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    let inv = probe(&handmade("offline-cpus"));
    assert!(targets(c.as_ref(), &inv, &RunOptions::default()).is_err());
    if cases::storage::smart::find_smartctl().is_none() {
        let r = run_on(
            c.as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("sdz", None),
            &RunOptions::default(),
            true,
        );
        assert_eq!(r.verdict().status(), Status::Skip);
        assert!(
            r.reason().starts_with("smartctl not installed"),
            "{}",
            r.reason()
        );
    }
}
