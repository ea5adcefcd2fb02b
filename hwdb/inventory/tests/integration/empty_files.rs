//! Every file of a recorded machine emptied alone (issue 13, point 14): the inventory must stay
//! what it was, or a warning must name the file. An empty file is never a value: an empty
//! `cpu/online` must not mean "no CPU online", an empty number must not be 0.
//!
//! The files that a kernel does leave empty on a working machine (a DMI string the vendor did
//! not fill in, a sysfs `label` nobody set, ...) are read as such by the probe, silently; they
//! are listed in [`EMPTY_BY_DESIGN`] with the reason, and counted apart.
//!
//! Only the files the untouched probe reads can change its result. `cargo test` empties, of
//! those, the first of every kind (the path with its numbers taken out:
//! `cpuN/cache/indexN/size`), a deterministic subset that keeps to the CI budget;
//! `empty_files_full_sweep` (ignored, minutes) empties every file of every tree, read or not.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use inventory::{ProbeOptions, Sysroot};

/// Files a working kernel may leave empty, as the probe's call sites of `attr_maybe_empty` and
/// `read_maybe_empty` say (fnmatch patterns on the path relative to the root, `*` crossing
/// `/`): emptying one changes the inventory (the value is gone) without a warning, and that
/// is right.
const EMPTY_BY_DESIGN: &[(&str, &str)] = &[
    (
        "sys/devices/virtual/dmi/id/*",
        "a DMI string the firmware did not fill in (SMBIOS string 0) reads empty",
    ),
    (
        "sys/devices/virtual/block/dm-*/dm/uuid",
        "a dm device created without a uuid (dmsetup create without -u)",
    ),
    (
        "sys/devices/virtual/block/md*/md/level",
        "an inactive md array has no level yet",
    ),
    (
        "sys/devices/*/virtio*/block/*/serial",
        "virtio-blk shows an empty serial when the host configured none",
    ),
    (
        "dev/*",
        "lsblk's --sysroot stand-in for the udev database: an empty file is a device with no udev properties, and the sysfs values stand (as lsblk does)",
    ),
    (
        "etc/hostname",
        "hostname(5): an empty /etc/hostname is no static hostname",
    ),
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            walk(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn probe_with(sys: &Sysroot, root: &Path) -> inventory::Inventory {
    let opts = ProbeOptions {
        sysroot: root.to_path_buf(),
        all: true,
        show_identifiers: true,
        udev: false,
        bmc: None,
    };
    inventory::probe_sysroot(sys, &opts)
}

fn probe(root: &Path) -> inventory::Inventory {
    probe_with(&Sysroot::new(root), root)
}

/// The inventory without its warnings: what a person or the planner uses.
fn result(inv: &inventory::Inventory) -> serde_json::Value {
    let mut v = serde_json::to_value(inv).expect("inventory to JSON");
    if let Some(o) = v.as_object_mut() {
        o.remove("warnings");
    }
    v
}

/// Whether a warning names `rel` (warnings name the path the probe asked for, which may go
/// through links: compare where both lead).
fn named(root: &Path, inv: &inventory::Inventory, rel: &Path) -> bool {
    let Ok(target) = fs::canonicalize(root.join(rel)) else {
        return false;
    };
    inv.warnings.iter().any(|w| {
        fs::canonicalize(root.join(w.path.trim_start_matches('/')))
            .map(|p| p == target)
            .unwrap_or(false)
    })
}

fn by_design(rel: &str) -> Option<&'static str> {
    EMPTY_BY_DESIGN
        .iter()
        .find(|(p, _)| hwsys::glob::fnmatch(p.as_bytes(), rel.as_bytes()))
        .map(|(_, why)| *why)
}

/// The first place where two results differ, as a JSON path, for the report.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (xv, yv) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if xv != yv {
                    return first_difference(xv, yv, &format!("{at}.{k}"));
                }
            }
            at.to_string()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (xv, yv)) in x.iter().zip(y).enumerate() {
                if xv != yv {
                    return first_difference(xv, yv, &format!("{at}[{i}]"));
                }
            }
            at.to_string()
        }
        _ => {
            let short = |v: &Value| {
                let s = v.to_string();
                if s.chars().count() > 60 {
                    format!("{}…", s.chars().take(60).collect::<String>())
                } else {
                    s
                }
            };
            format!("{at}: {} -> {}", short(a), short(b))
        }
    }
}

#[derive(Default)]
struct Counts {
    /// Files emptied and probed.
    tried: usize,
    /// Files the untouched probe does not read: emptying one cannot change the result (the
    /// full sweep empties them too and checks that).
    unread: usize,
    unchanged: usize,
    warned: usize,
    by_design: usize,
    silent: Vec<String>,
}

/// The kind of a file: its path with every run of digits replaced by `N`.
fn kind(rel: &Path) -> String {
    let mut out = String::new();
    let mut digits = false;
    for c in rel.to_string_lossy().chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('N');
            }
            digits = true;
        } else {
            out.push(c);
            digits = false;
        }
    }
    out
}

/// Empty the files of `root` (a scratch copy) one at a time and probe each time: with `full`,
/// every file; without, the first of each kind of the files the untouched probe reads.
fn sweep(name: &str, root: &Path, full: bool) -> Counts {
    let started = Instant::now();
    let recording = Sysroot::new(root).with_recording();
    let base = result(&probe_with(&recording, root));
    let read = recording.recorded().files;
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    let mut chosen: std::collections::BTreeSet<&Path> = std::collections::BTreeSet::new();
    let mut by_kind: std::collections::BTreeMap<String, Vec<&Path>> = Default::default();
    for f in &files {
        let rel = f.strip_prefix(root).expect("inside the tree");
        if read.contains_key(rel) {
            by_kind.entry(kind(rel)).or_default().push(rel);
        }
    }
    for list in by_kind.values() {
        chosen.extend(list.first());
    }
    let mut c = Counts::default();
    for f in &files {
        let original = fs::read(f).expect("read fixture file");
        if original.is_empty() {
            continue;
        }
        let rel = f.strip_prefix(root).expect("inside the tree");
        let is_read = read.contains_key(rel);
        if !is_read {
            c.unread += 1;
        }
        if !full && !chosen.contains(rel) {
            continue;
        }
        fs::write(f, b"").expect("empty the file");
        let inv = probe(root);
        fs::write(f, &original).expect("restore the file");
        c.tried += 1;
        let now = result(&inv);
        if now == base {
            c.unchanged += 1;
            continue;
        }
        let why = first_difference(&base, &now, "");
        if !is_read {
            c.silent.push(format!(
                "{} (not read by the untouched probe!)  ({why})",
                rel.display()
            ));
        } else if named(root, &inv, rel) {
            c.warned += 1;
        } else if by_design(&rel.to_string_lossy()).is_some() {
            c.by_design += 1;
        } else {
            c.silent.push(format!("{}  ({why})", rel.display()));
        }
    }
    eprintln!(
        "{name}: {} files ({} not read by the probe), {} emptied one at a time: {} unchanged, {} changed with a warning naming the file, {} changed (empty by design), {} changed silently; {:.1} s",
        files.len(),
        c.unread,
        c.tried,
        c.unchanged,
        c.warned,
        c.by_design,
        c.silent.len(),
        started.elapsed().as_secs_f64()
    );
    c
}

/// A scratch copy of a fixture (a directory tree or a dump archive) in TMPDIR.
fn scratch(fixture: &Path) -> (tempfile::TempDir, PathBuf) {
    if fixture.is_dir() {
        let work = common::tempdir();
        let st = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", fixture.display()))
            .arg(work.path())
            .status()
            .expect("cp");
        assert!(st.success(), "cp -a {}", fixture.display());
        let root = work.path().to_path_buf();
        (work, root)
    } else {
        let work = common::extract(fixture);
        let root = common::dump_root(work.path());
        (work, root)
    }
}

/// The trees swept: the project's recorded machines (CPU, NUMA, PCI, block, NVMe, network,
/// DMI, firmware) and util-linux's dumps of real servers (a 2-socket 8-node EPYC, ARM
/// big.LITTLE, memory blocks, NVMe/SATA/SCSI disks with udev data).
fn fixtures() -> Vec<(String, PathBuf)> {
    let own = common::own_fixtures();
    let mut v: Vec<(String, PathBuf)> = [
        "raid-sas",
        "aarch64-kunpeng",
        "offline-cpus",
        "firecracker-vm.tar.gz",
    ]
    .iter()
    .map(|n| (n.to_string(), own.join(n)))
    .collect();
    if let Some(ul) = common::util_linux() {
        for n in [
            "lscpu/x86_64-epyc_7451.tar.gz",
            "lscpu/arm-A510-A710-A715-X3.tar.gz",
            "lsmem/x86_64-16g.tar.bz2",
            "lsblk/multi-devs-bcachefs.tar.xz",
            "lsblk/simple-nvme.tar.xz",
        ] {
            v.push((n.to_string(), ul.join(n)));
        }
    }
    v
}

fn run(full: bool) {
    let started = Instant::now();
    let mut total = Counts::default();
    // HWCERT_SWEEP_ONLY=raid-sas: one tree (by a part of its name), to measure it alone.
    let only = std::env::var("HWCERT_SWEEP_ONLY").ok();
    for (name, path) in fixtures() {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        if !path.exists() {
            eprintln!("SKIP {name}: {} is absent", path.display());
            continue;
        }
        let (_keep, root) = scratch(&path);
        let c = sweep(&name, &root, full);
        total.tried += c.tried;
        total.unread += c.unread;
        total.unchanged += c.unchanged;
        total.warned += c.warned;
        total.by_design += c.by_design;
        total
            .silent
            .extend(c.silent.into_iter().map(|s| format!("{name}: {s}")));
    }
    eprintln!(
        "all trees: {} files emptied ({} others not read by the probe), {} unchanged, {} changed with a warning, {} changed (empty by design), {} changed silently, in {:.1} s",
        total.tried,
        total.unread,
        total.unchanged,
        total.warned,
        total.by_design,
        total.silent.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(total.tried > 0, "no file swept");
    assert!(
        total.silent.is_empty(),
        "emptied alone, these files changed the inventory without a warning naming them:\n{}",
        total.silent.join("\n")
    );
}

#[test]
fn an_empty_file_changes_nothing_or_is_named() {
    run(false);
}

#[test]
#[ignore = "the full sweep of every file (minutes); the subset runs in every cargo test"]
fn empty_files_full_sweep() {
    run(true);
}
