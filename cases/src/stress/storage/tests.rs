use super::*;
use crate::stress::testing::{live_inventory, options, Log};
use crate::{Context, RunOptions};
use std::os::unix::fs::FileExt;
use std::process::Command;

fn write(root: &Path, rel: &str, s: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, s).expect("write");
}

fn mkdir(root: &Path, rel: &str) {
    fs::create_dir_all(root.join(rel)).expect("mkdir");
}

// --- blocks ---------------------------------------------------------------------------------

fn block(offset: u64, generation: u64) -> Vec<u64> {
    let mut w = vec![0u64; WORDS];
    fill_block(&mut w, offset, generation, &Noise::new(generation));
    w
}

#[test]
fn a_block_checks_against_its_own_offset_and_generation() {
    let b = block(8192, 7);
    assert_eq!(check_block(&b, 8192, 7), Ok(()));
    assert_eq!(check_block(&b, 4096, 7), Err(BadBlock::Misplaced(8192)));
    assert_eq!(check_block(&b, 8192, 8), Err(BadBlock::Stale(7)));
    assert_ne!(block(8192, 7), block(8192, 8));
    assert_ne!(block(8192, 7), block(4096, 7));
}

#[test]
fn every_corrupted_byte_is_caught() {
    let b = block(1 << 20, 99);
    let bytes: Vec<u8> = b.iter().flat_map(|w| w.to_le_bytes()).collect();
    for i in (0..BLOCK).step_by(37).chain([0, 8, BLOCK - 8, BLOCK - 1]) {
        let mut c = bytes.clone();
        c[i] ^= 0x10;
        let words: Vec<u64> = c
            .chunks_exact(8)
            .map(|x| u64::from_le_bytes(x.try_into().expect("8 bytes")))
            .collect();
        assert_eq!(
            check_block(&words, 1 << 20, 99),
            Err(BadBlock::Checksum),
            "byte {i}"
        );
    }
}

// --- histogram ------------------------------------------------------------------------------

#[test]
fn histogram_quantiles_are_within_its_resolution() {
    let mut h = Histogram::default();
    for us in 1..=1000u64 {
        h.record(us * 1000);
    }
    assert_eq!(h.count(), 1000);
    let p50 = h.quantile(0.5);
    let p99 = h.quantile(0.99);
    assert!((p50 / 500_000.0 - 1.0).abs() < 0.035, "{p50}");
    assert!((p99 / 990_000.0 - 1.0).abs() < 0.035, "{p99}");
    let mut small = Histogram::default();
    small.record(7);
    assert_eq!(small.quantile(0.5), 7.0);
    assert_eq!(Histogram::default().quantile(0.5), 0.0);
    for v in [31u64, 32, 33, 63, 64, 65, 1 << 40] {
        let mid = Histogram::value(Histogram::index(v));
        assert!((mid / v as f64 - 1.0).abs() < 0.035, "{v} → {mid}");
    }
}

// --- mounts and refusals ---------------------------------------------------------------------

#[test]
fn mountinfo_lines_parse_with_escapes() {
    let (m, bad) = mountinfo::parse(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n\
         40 27 8:17 /data /srv/my\\040data ro,nosuid shared:5 - xfs /dev/sdb1 rw\n\
         garbage\n",
    );
    assert_eq!(m.len(), 2);
    assert_eq!(bad, [3]);
    assert_eq!(m[0].majmin, "254:0");
    assert_eq!(m[0].point, "/");
    assert_eq!(m[1].point, "/srv/my data");
    assert_eq!(m[1].root, "/data");
    assert_eq!(
        (m[1].fstype.as_str(), m[1].source.as_str()),
        ("xfs", "/dev/sdb1")
    );
    assert_eq!(m[1].options, "ro,nosuid");
}

#[test]
fn an_octal_escape_above_255_is_kept_as_written() {
    // The unescape this case once had computed `\777` in a u8 and panicked on overflow.
    let d = crafted();
    write(
        d.path(),
        "proc/self/mountinfo",
        "40 1 8:33 /x\\777 /mnt/a\\777b\\040c rw - ext4 /dev/sdc1\\400 rw\n",
    );
    let sys = Sysroot::new(d.path());
    let m = mounts(&sys);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].root, "/x\\777");
    assert_eq!(m[0].point, "/mnt/a\\777b c");
    assert_eq!(m[0].source, "/dev/sdc1\\400");
    assert_eq!(refusals(&sys, "sdc"), ["sdc1 is mounted at /mnt/a\\777b c"]);
}

/// A machine with: sdb clean; sdc1 mounted at /data; sdd an LVM PV holding the root LV;
/// sde1 in md0; sdf2 used as swap; sdg held by a crypt mapping; sdh read-only.
fn crafted() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    for (disk, dev) in [
        ("sdb", "8:16"),
        ("sdc", "8:32"),
        ("sdd", "8:48"),
        ("sde", "8:64"),
        ("sdf", "8:80"),
        ("sdg", "8:96"),
        ("sdh", "8:112"),
    ] {
        write(r, &format!("sys/block/{disk}/dev"), dev);
        write(r, &format!("sys/block/{disk}/ro"), "0");
        mkdir(r, &format!("sys/block/{disk}/holders"));
    }
    write(r, "sys/block/sdh/ro", "1");
    write(r, "sys/block/sdc/sdc1/partition", "1");
    write(r, "sys/block/sdc/sdc1/dev", "8:33");
    mkdir(r, "sys/block/sdc/sdc1/holders");
    mkdir(r, "sys/block/sdd/holders/dm-0");
    write(r, "sys/block/dm-0/dev", "253:0");
    write(r, "sys/block/dm-0/dm/name", "vg0-root");
    write(r, "sys/block/dm-0/dm/uuid", "LVM-abcdef");
    mkdir(r, "sys/block/dm-0/holders");
    write(r, "sys/block/sde/sde1/partition", "1");
    write(r, "sys/block/sde/sde1/dev", "8:65");
    mkdir(r, "sys/block/sde/sde1/holders/md0");
    write(r, "sys/block/md0/dev", "9:0");
    write(r, "sys/block/sdf/sdf2/partition", "2");
    write(r, "sys/block/sdf/sdf2/dev", "8:82");
    mkdir(r, "sys/block/sdg/holders/dm-1");
    write(r, "sys/block/dm-1/dev", "253:1");
    write(r, "sys/block/dm-1/dm/name", "secret");
    write(r, "sys/block/dm-1/dm/uuid", "CRYPT-LUKS2-xyz");
    write(
        r,
        "proc/self/mountinfo",
        "22 1 253:0 / / rw,relatime - xfs /dev/mapper/vg0-root rw\n\
         40 22 8:33 / /data rw,relatime - ext4 /dev/sdc1 rw\n",
    );
    write(
        r,
        "proc/swaps",
        "Filename\tType\tSize\tUsed\tPriority\n/dev/sdf2 partition 1048572 0 -2\n",
    );
    d
}

#[test]
fn a_clean_disk_has_no_refusals() {
    let d = crafted();
    assert_eq!(
        refusals(&Sysroot::new(d.path()), "sdb"),
        Vec::<String>::new()
    );
}

#[test]
fn every_kind_of_use_is_refused() {
    let d = crafted();
    let sys = Sysroot::new(d.path());
    assert_eq!(refusals(&sys, "sdc"), ["sdc1 is mounted at /data"]);
    assert_eq!(
        refusals(&sys, "sdd"),
        [
            "sdd is an LVM physical volume of dm-0 (vg0-root)",
            "dm-0 is mounted at /",
            "sdd holds the root filesystem (/ is on dm-0)",
        ]
    );
    assert_eq!(refusals(&sys, "sde"), ["sde1 is a member of MD array md0"]);
    assert_eq!(refusals(&sys, "sdf"), ["sdf2 is in use as swap"]);
    assert_eq!(
        refusals(&sys, "sdg"),
        ["sdg holds the encrypted volume dm-1 (secret)"]
    );
    assert_eq!(refusals(&sys, "sdh"), ["sdh is read-only"]);
    assert_eq!(
        refusals(&sys, "sdc1"),
        ["sdc1 is not a whole block device (no sys/block/sdc1)"]
    );
    assert_eq!(
        refusals(&sys, "../sdb"),
        ["../sdb is not a whole block device (no sys/block/../sdb)"]
    );
}

#[test]
fn a_mount_by_source_name_alone_is_found() {
    // btrfs and some overlays show an anonymous device number: the source names the disk.
    let d = crafted();
    write(
        d.path(),
        "proc/self/mountinfo",
        "40 1 0:45 / /pool rw - btrfs /dev/sdb rw\n",
    );
    assert_eq!(
        refusals(&Sysroot::new(d.path()), "sdb"),
        ["sdb is mounted at /pool"]
    );
}

#[test]
fn destructive_devices_match_by_name_or_dev_path() {
    let list = vec!["/dev/loop3".to_string(), "sdb".to_string()];
    assert!(destructive_listed(&list, "loop3", false));
    assert!(destructive_listed(&list, "sdb", false));
    assert!(!destructive_listed(&list, "sda", false));
    assert!(!destructive_listed(&[], "sda", false));
}

#[test]
fn disks_are_selected_and_the_rest_not() {
    use inventory::storage::BlockDevice;
    let mut inv = Inventory::default();
    let dev = |name: &str, kind: &str, size: u64| BlockDevice {
        name: name.into(),
        kind: Some(kind.into()),
        size_bytes: Some(size),
        model: Some("Disk".into()),
        ..BlockDevice::default()
    };
    inv.storage = vec![
        dev("sda", "disk", 1 << 40),
        dev("sr0", "rom", 1 << 30),
        dev("dm-0", "lvm", 1 << 30),
        dev("loop0", "loop", 1 << 30),
        dev("sdz", "disk", 0),
    ];
    let Selection::Targets(t) = StorageStress::new().select(&inv) else {
        panic!("targets")
    };
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id.as_deref(), Some("sda"));
    assert_eq!(t[0].label.as_deref(), Some("Disk, 1 TiB"));
    inv.storage.remove(0);
    assert!(matches!(
        StorageStress::new().select(&inv),
        Selection::NotApplicable(_)
    ));
}

// --- live runs ------------------------------------------------------------------------------

fn run(
    inv: &Inventory,
    disk: &str,
    opts: &RunOptions,
    hooks: &Hooks<'_>,
) -> (Verdict, Vec<crate::Measurement>, String) {
    let target = Target::item(disk, None);
    let log = Log::default();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut ctx = Context::new(inv, "/", &target, opts, root, Box::new(log.clone()));
    let v = run_with(&mut ctx, hooks);
    let m = ctx.finish(v.clone()).measurements;
    (v, m, log.text())
}

/// A disk of this machine with a writable filesystem on it (the real disk, used through a
/// scratch file only), or None.
fn disk_with_a_filesystem(inv: &Inventory) -> Option<String> {
    let sys = Sysroot::new("/");
    inv.storage
        .iter()
        .filter(|d| d.kind.as_deref() == Some("disk"))
        .find(|d| scratch_dir(&sys, &d.name, None).is_ok())
        .map(|d| d.name.clone())
}

fn value(m: &[crate::Measurement], name: &str) -> f64 {
    m.iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no {name} in {m:?}"))
        .value
}

#[test]
fn a_short_run_on_a_scratch_file_of_the_real_disk_passes_with_both_engines() {
    let inv = live_inventory();
    let Some(disk) = disk_with_a_filesystem(&inv) else {
        eprintln!("no disk with a writable filesystem here: skipped");
        return;
    };
    for engine in ["io_uring", "aio"] {
        let opts = options(
            1,
            &[("storage_file_bytes", "16M"), ("storage_engine", engine)],
        );
        let (v, m, log) = run(&inv, &disk, &opts, &Hooks::default());
        if let Verdict::Skip { reason } = &v {
            eprintln!("{engine}: skipped: {reason}");
            continue;
        }
        assert_eq!(v, Verdict::Pass, "{engine}: {log}");
        assert!(log.contains(&format!("engine {engine}")), "{log}");
        for name in [
            "seq_write_mb_s",
            "seq_read_mb_s",
            "randread_4k_iops",
            "randread_seconds",
            "lat_p50_us",
            "lat_p99_us",
        ] {
            assert!(value(&m, name) > 0.0, "{engine}: {name} in {m:?}");
        }
        assert!(value(&m, "lat_p99_us") >= value(&m, "lat_p50_us"));
        assert_eq!(value(&m, "bad_blocks"), 0.0);
        // The scratch file is gone.
        let scratch = log
            .lines()
            .find_map(|l| l.strip_prefix("scratch file "))
            .and_then(|l| l.split(' ').next())
            .expect("scratch path logged");
        assert!(!Path::new(scratch).exists(), "{scratch} left behind");
    }
}

#[test]
fn a_corrupted_block_of_the_scratch_file_fails_naming_its_offset() {
    let inv = live_inventory();
    let Some(disk) = disk_with_a_filesystem(&inv) else {
        eprintln!("no disk with a writable filesystem here: skipped");
        return;
    };
    let corrupt = |p: &Path, written: u64| {
        assert!(written > 6 * BLOCK as u64);
        let f = OpenOptions::new().write(true).open(p).expect("open");
        f.write_all_at(b"X", 5 * BLOCK as u64 + 100)
            .expect("corrupt");
        f.sync_all().expect("sync");
    };
    let opts = options(1, &[("storage_file_bytes", "16M")]);
    let (v, m, log) = run(
        &inv,
        &disk,
        &opts,
        &Hooks {
            after_write: Some(&corrupt),
        },
    );
    let Verdict::Fail { measured, .. } = &v else {
        panic!("expected a failure, got {v:?}\n{log}")
    };
    assert!(
        measured.starts_with("1 bad blocks; offset 20480 (block 5 of "),
        "{measured}"
    );
    assert!(
        measured.ends_with("contents do not match their checksum"),
        "{measured}"
    );
    assert_eq!(value(&m, "bad_blocks"), 1.0);
}

#[test]
fn a_disk_without_a_filesystem_is_skipped_and_a_foreign_dir_refused() {
    let inv = live_inventory();
    let Some(disk) = disk_with_a_filesystem(&inv) else {
        eprintln!("no disk with a writable filesystem here: skipped");
        return;
    };
    // /dev/shm is tmpfs: not on any disk.
    let opts = options(1, &[("storage_dir", "/dev/shm")]);
    let (v, _, _) = run(&inv, &disk, &opts, &Hooks::default());
    let Verdict::Error { reason } = &v else {
        panic!("{v:?}")
    };
    assert!(reason.contains("not on a filesystem of"), "{reason}");
    // Non-destructive on a device with nothing mounted: skip, pointing at --destructive.
    if let Some(lo) = Loop::new(16 << 20) {
        let opts = options(1, &[]);
        let (v, _, _) = run(&inv, &lo.name, &opts, &Hooks::default());
        let Verdict::Skip { reason } = &v else {
            panic!("{v:?}")
        };
        assert!(reason.contains("no writable filesystem"), "{reason}");
        assert!(reason.contains("--destructive"), "{reason}");
    }
}

// --- loop devices (root only) ------------------------------------------------------------------

/// A loop device over a file in TMPDIR, detached on drop.
struct Loop {
    name: String,
    _file: tempfile::NamedTempFile,
}

impl Loop {
    fn new(bytes: u64) -> Option<Loop> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("not root: loop device tests skipped");
            return None;
        }
        let file = tempfile::NamedTempFile::new().ok()?;
        file.as_file().set_len(bytes).ok()?;
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file.path())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "losetup failed: {}: loop device tests skipped",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let name = dev.strip_prefix("/dev/")?.to_string();
        Some(Loop { name, _file: file })
    }
    fn dev(&self) -> String {
        format!("/dev/{}", self.name)
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev()]).status();
    }
}

fn destructive(dev: &str, settings: &[(&str, &str)]) -> RunOptions {
    let mut o = options(1, settings);
    o.destructive_devices = vec![dev.to_string()];
    o
}

#[test]
fn destructive_run_on_a_loop_device_passes() {
    let Some(lo) = Loop::new(32 << 20) else {
        return;
    };
    let inv = live_inventory();
    let (v, m, log) = run(
        &inv,
        &lo.name,
        &destructive(&lo.dev(), &[]),
        &Hooks::default(),
    );
    assert_eq!(v, Verdict::Pass, "{log}");
    assert!(log.contains("DESTRUCTIVE: raw device"), "{log}");
    assert_eq!(value(&m, "test_bytes"), (32 << 20) as f64);
    assert!(value(&m, "randread_4k_iops") > 0.0);
}

#[test]
fn a_corrupted_block_on_a_loop_device_fails_naming_its_offset() {
    let Some(lo) = Loop::new(16 << 20) else {
        return;
    };
    let inv = live_inventory();
    let corrupt = |p: &Path, _: u64| {
        let f = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(p)
            .expect("open");
        let mut page = sys::Mapping::new(BLOCK).expect("mmap");
        page.bytes_mut().fill(0xee);
        f.write_all_at(page.bytes(), 3 * BLOCK as u64)
            .expect("corrupt");
    };
    let (v, _, log) = run(
        &inv,
        &lo.name,
        &destructive(&lo.dev(), &[("storage_engine", "aio")]),
        &Hooks {
            after_write: Some(&corrupt),
        },
    );
    let Verdict::Fail { measured, .. } = &v else {
        panic!("expected a failure, got {v:?}\n{log}")
    };
    assert!(
        measured.starts_with("1 bad blocks; offset 12288 (block 3 of /dev/loop"),
        "{measured}"
    );
}

#[test]
fn a_mounted_loop_device_is_used_through_a_file_and_refused_raw() {
    let Some(lo) = Loop::new(64 << 20) else {
        return;
    };
    let mnt = tempfile::tempdir().expect("tempdir");
    let ok = Command::new("mkfs.ext4")
        .args(["-q", "-F", &lo.dev()])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("mount")
            .arg(lo.dev())
            .arg(mnt.path())
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("cannot make and mount ext4 on {}: skipped", lo.dev());
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mnt.path());
    let inv = live_inventory();

    // Non-destructive: a scratch file on the mounted filesystem.
    let opts = options(1, &[("storage_file_bytes", "16M")]);
    let (v, _, log) = run(&inv, &lo.name, &opts, &Hooks::default());
    assert_eq!(v, Verdict::Pass, "{log}");
    assert!(
        log.contains(&format!("on {}", mnt.path().display())),
        "{log}"
    );

    // Destructive: refused, and nothing written.
    let (v, _, _) = run(
        &inv,
        &lo.name,
        &destructive(&lo.dev(), &[]),
        &Hooks::default(),
    );
    let Verdict::Error { reason } = &v else {
        panic!("{v:?}")
    };
    assert!(
        reason.contains(&format!(
            "{} is mounted at {}",
            lo.name,
            mnt.path().display()
        )),
        "{reason}"
    );
}

#[test]
fn a_loop_device_with_a_holder_is_refused() {
    let Some(lo) = Loop::new(16 << 20) else {
        return;
    };
    let dm = format!("hwcert-test-{}", lo.name);
    let table = format!("0 {} linear {} 0", (16 << 20) / 512, lo.dev());
    let made = Command::new("dmsetup")
        .args(["create", &dm, "--table", &table])
        .output()
        .is_ok_and(|o| o.status.success());
    if !made {
        eprintln!("dmsetup cannot create a mapping here: holder test skipped");
        return;
    }
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = Command::new("dmsetup").args(["remove", &self.0]).status();
        }
    }
    let _remove = Remove(dm.clone());
    let inv = live_inventory();
    let (v, _, _) = run(
        &inv,
        &lo.name,
        &destructive(&lo.dev(), &[]),
        &Hooks::default(),
    );
    let Verdict::Error { reason } = &v else {
        panic!("{v:?}")
    };
    assert!(
        reason.contains(&format!("{} is held by dm-", lo.name)),
        "{reason}"
    );
    assert!(reason.contains(&format!("({dm})")), "{reason}");
}

#[test]
fn live_refusals_find_lvm_and_md_signatures() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("img");
    let f = File::create(&p).expect("create");
    f.set_len(1 << 20).expect("size");
    assert!(live_refusals(&p, 1 << 20).is_empty());
    let mut label = [0u8; 32];
    label[..8].copy_from_slice(b"LABELONE");
    label[24..].copy_from_slice(b"LVM2 001");
    f.write_all_at(&label, 512).expect("label");
    f.write_all_at(&0xa92b_4efcu32.to_le_bytes(), 4096)
        .expect("md");
    let r = live_refusals(&p, 1 << 20);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r[0].ends_with("carries an LVM2 physical volume label"));
    assert!(r[1].ends_with("carries an MD RAID superblock (metadata 1.2)"));
}
