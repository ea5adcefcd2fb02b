//! The stressor as a whole: which disks it selects, and short live runs on scratch files of
//! the real disks and on loop devices over temporary files (root only), with corruptions
//! injected between write and read-back.

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::Command;

use hwsys::Sysroot;

use super::engine::open_engine;
use super::io::EngineKind;
use super::run::{run_with, Hooks};
use super::target::scratch_dir;
use super::{StorageStress, BLOCK};
use crate::stress::sys;
use crate::stress::testing::{live_inventory, options, Log};
use crate::{Case, Context, Inventory, RunOptions, Selection, Target, Verdict};

// --- selection ------------------------------------------------------------------------------

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

/// Settings that keep a run of the debug build short: a 16 MiB file, 256 KiB sequential
/// requests, depths up to 8; then `extra`.
fn small<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("storage_file_bytes", "16M"),
        ("storage_seq_block_bytes", "256K"),
        ("storage_max_depth", "8"),
    ];
    v.extend_from_slice(extra);
    v
}

fn value(m: &[crate::Measurement], name: &str) -> f64 {
    m.iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no {name} in {m:?}"))
        .value
}

/// Why `kind` cannot run here: ENOSYS at its setup (a kernel built without it, or qemu-user,
/// which emulates neither io_uring nor Linux AIO), or None.
fn missing_engine(kind: EngineKind) -> Option<String> {
    let null = std::fs::File::open("/dev/null").expect("/dev/null");
    match open_engine(kind, null.as_raw_fd(), 1) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => Some(format!(
            "{} cannot be set up here ({e}): a kernel without it, or qemu-user, which emulates \
             neither io_uring nor Linux AIO",
            kind.name()
        )),
        _ => None,
    }
}

/// True (and says so) when no asynchronous engine works here: the I/O tests then skip.
fn no_async_io() -> bool {
    let why: Vec<String> = [EngineKind::IoUring, EngineKind::Aio]
        .into_iter()
        .filter_map(missing_engine)
        .collect();
    if why.len() == 2 {
        eprintln!("skipped: {}", why.join("; "));
    }
    why.len() == 2
}

/// The live inventory and a disk with a writable filesystem for scratch-file runs, or None
/// (said as a skip) where no asynchronous engine works or no such disk is here.
fn scratch_disk() -> Option<(Inventory, String)> {
    if no_async_io() {
        return None;
    }
    let inv = live_inventory();
    let Some(disk) = disk_with_a_filesystem(&inv) else {
        eprintln!("no disk with a writable filesystem here: skipped");
        return None;
    };
    Some((inv, disk))
}

#[test]
fn a_short_run_on_a_scratch_file_of_the_real_disk_passes_with_both_engines() {
    let inv = live_inventory();
    let Some(disk) = disk_with_a_filesystem(&inv) else {
        eprintln!("no disk with a writable filesystem here: skipped");
        return;
    };
    for kind in [EngineKind::IoUring, EngineKind::Aio] {
        let engine = kind.name();
        if let Some(why) = missing_engine(kind) {
            eprintln!("skipped {engine}: {why}");
            continue;
        }
        let opts = options(
            1,
            &[
                ("storage_file_bytes", "16M"),
                ("storage_engine", engine),
                ("storage_seq_block_bytes", "256K"),
                ("storage_max_depth", "8"),
            ],
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
            "sweep_step_seconds",
            "first_write_mb_s",
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
    let Some((inv, disk)) = scratch_disk() else {
        return;
    };
    let corrupt = |p: &Path, written: u64| {
        assert!(written > 6 * BLOCK as u64);
        let f = OpenOptions::new().write(true).open(p).expect("open");
        f.write_all_at(b"X", 5 * BLOCK as u64 + 100)
            .expect("corrupt");
        f.sync_all().expect("sync");
    };
    let opts = options(1, &small(&[]));
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
        measured.ends_with("contents differ from what was written"),
        "{measured}"
    );
    assert_eq!(value(&m, "bad_blocks"), 1.0);
}

// --- the queue-depth sweep ------------------------------------------------------------------

/// Whether a phase's rates end where the stopping rule says: at the largest depth, or at the
/// first step where the rule holds (and not before).
fn stopped_by_the_rule(rates: &[f64], all: usize) -> bool {
    let first = (1..=rates.len()).find(|&n| super::sweep::stops(&rates[..n]));
    match first {
        Some(n) => n == rates.len(),
        None => rates.len() == all,
    }
}

#[test]
fn the_sweep_runs_the_depths_by_the_rule_within_the_time_and_reports_the_curves() {
    use documents::sweep::{curves, PHASES};
    let Some((inv, disk)) = scratch_disk() else {
        return;
    };
    let secs = 2;
    let opts = options(secs, &small(&[]));
    let t0 = std::time::Instant::now();
    let (v, m, log) = run(&inv, &disk, &opts, &Hooks::default());
    let took = t0.elapsed().as_secs_f64();
    if let Verdict::Skip { reason } = &v {
        eprintln!("skipped: {reason}");
        return;
    }
    assert_eq!(v, Verdict::Pass, "{log}");
    // The time: the steps split 70 % of what the first write left over the 2 × 4 sequential
    // and 4 random steps there could be; the whole run ends within a few steps of its time
    // (a step starts before the deadline and completes its queue once).
    let step = value(&m, "sweep_step_seconds");
    assert!(
        step > 0.0 && step <= 0.7 * secs as f64 / 12.0 + 1e-9,
        "{step}"
    );
    assert!(took < secs as f64 + 3.0, "took {took} s\n{log}");
    assert!(log.contains("sweeping queue depths 1, 2, 4, 8 (sequential) and 1, 2, 4, 8 (random)"));

    // The curves, read back as the report reads them.
    let c = curves(&m);
    assert_eq!(
        c.iter().map(|c| c.phase.name).collect::<Vec<_>>(),
        ["seq_write", "seq_read", "randread"],
        "{m:?}"
    );
    for (curve, headline) in c
        .iter()
        .zip(["seq_write_mb_s", "seq_read_mb_s", "randread_4k_iops"])
    {
        let depths: Vec<u32> = curve.points.iter().map(|p| p.depth).collect();
        assert_eq!(
            depths,
            [1, 2, 4, 8][..depths.len()],
            "{headline}: {depths:?}"
        );
        let rates: Vec<f64> = curve.points.iter().map(|p| p.rate).collect();
        assert!(stopped_by_the_rule(&rates, 4), "{headline}: {rates:?}");
        assert!(rates.iter().all(|&r| r > 0.0), "{headline}: {rates:?}");
        assert!(curve
            .points
            .iter()
            .all(|p| p.p99_us.is_some_and(|l| l > 0.0)));
        // The headline figure is the peak, at the depth recorded.
        let best = rates.iter().fold(0.0f64, |a, &b| a.max(b));
        assert_eq!(value(&m, headline), best, "{headline}");
        let peak = curve.peak().expect("a peak");
        assert_eq!(peak.rate, best);
        let key = documents::sweep::peak_name(&curve.phase);
        assert_eq!(value(&m, &key), f64::from(peak.depth));
        assert!(PHASES.contains(&curve.phase));
    }
    assert_eq!(
        value(&m, "lat_p99_us"),
        c[2].peak().and_then(|p| p.p99_us).expect("p99")
    );
}

#[test]
fn a_depth_given_pins_its_phases_to_one_step() {
    use documents::sweep::curves;
    let Some((inv, disk)) = scratch_disk() else {
        return;
    };
    let opts = options(
        1,
        &small(&[("storage_seq_depth", "2"), ("storage_rand_depth", "3")]),
    );
    let (v, m, log) = run(&inv, &disk, &opts, &Hooks::default());
    if let Verdict::Skip { reason } = &v {
        eprintln!("skipped: {reason}");
        return;
    }
    assert_eq!(v, Verdict::Pass, "{log}");
    let depths: Vec<Vec<u32>> = curves(&m)
        .iter()
        .map(|c| c.points.iter().map(|p| p.depth).collect())
        .collect();
    assert_eq!(depths, [vec![2], vec![2], vec![3]]);
    assert_eq!(value(&m, "randread_peak_qd"), 3.0);
    // Three steps in all: each gets 70 % of the time left over 3.
    assert!(value(&m, "sweep_step_seconds") > 0.7 / 12.0);
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
    let mut o = options(1, &small(settings));
    o.destructive_devices = vec![dev.to_string()];
    o
}

#[test]
fn destructive_run_on_a_loop_device_passes() {
    if no_async_io() {
        return;
    }
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
    if let Some(why) = missing_engine(EngineKind::Aio) {
        eprintln!("skipped: {why}");
        return;
    }
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
    if no_async_io() {
        return;
    }
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
    let opts = options(1, &small(&[]));
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
