//! Seeded random corruption of real snapshots: truncated, garbage, missing and wrong-typed
//! files, dangling and looping links, FIFOs, directories where files should be. The probe must
//! never panic or hang, and a text file it reads that turns into garbage must be named in the
//! warnings. A failure prints the seed and the mutations, so it can be replayed.

use crate::common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use inventory::{ProbeOptions, Sysroot};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mutation {
    Truncate,
    Empty,
    GarbageText,
    NotUtf8,
    WrongType,
    Delete,
    FileToDir,
    DanglingLink,
    LoopLink,
    Fifo,
    DirToFile,
}

const MUTATIONS: &[Mutation] = &[
    Mutation::Truncate,
    Mutation::Empty,
    Mutation::GarbageText,
    Mutation::NotUtf8,
    Mutation::WrongType,
    Mutation::Delete,
    Mutation::FileToDir,
    Mutation::DanglingLink,
    Mutation::LoopLink,
    Mutation::Fifo,
    Mutation::DirToFile,
];

const WRONG_TYPED: &[&str] = &[
    "-1\n",
    "18446744073709551616\n",
    "4294967295\n",
    "0x\n",
    "nan\n",
    "1e309\n",
    "0-4294967295\n",
    "ffffffff,ffffffff,ffffffff\n",
    "[\n",
    "processor\t: 99999999\n",
    ":::::\n",
    "\n\n\n",
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(&p, out);
        }
    }
}

fn remove(p: &Path) {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

fn mutate(rng: &mut Rng, p: &Path, m: Mutation) {
    let md = fs::symlink_metadata(p).ok();
    let is_file = md.as_ref().map(|m| m.is_file()).unwrap_or(false);
    match m {
        Mutation::Truncate if is_file => {
            let len = fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            if let Ok(f) = fs::OpenOptions::new().write(true).open(p) {
                let _ = f.set_len(rng.next() % (len + 1));
            }
        }
        Mutation::Empty if is_file => {
            let _ = fs::write(p, b"");
        }
        Mutation::GarbageText if is_file => {
            let n = rng.below(200);
            let s: String = (0..n)
                .map(|_| (b' ' + (rng.next() % 95) as u8) as char)
                .collect();
            let _ = fs::write(p, s);
        }
        Mutation::NotUtf8 => {
            remove(p);
            let _ = fs::write(p, [0xff, 0xfe, 0x80, 0x00, 0xc3, 0x28, b'\n']);
        }
        Mutation::WrongType if is_file => {
            let _ = fs::write(p, WRONG_TYPED[rng.below(WRONG_TYPED.len())]);
        }
        Mutation::Delete => remove(p),
        Mutation::FileToDir => {
            remove(p);
            let _ = fs::create_dir(p);
        }
        Mutation::DanglingLink => {
            remove(p);
            let _ = symlink("does/not/exist", p);
        }
        Mutation::LoopLink => {
            remove(p);
            if let Some(n) = p.file_name() {
                let _ = symlink(n, p);
            }
        }
        Mutation::Fifo => {
            remove(p);
            let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).expect("path");
            // SAFETY: a valid NUL-terminated path.
            unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
        }
        Mutation::DirToFile if md.map(|m| m.is_dir()).unwrap_or(false) => {
            remove(p);
            let _ = fs::write(p, "not a directory\n");
        }
        _ => {}
    }
}

/// Probe `root` on another thread; a hang fails after a generous limit.
fn probe_with_limit(root: &Path, what: &str) -> inventory::Inventory {
    let (tx, rx) = mpsc::channel();
    let root = root.to_path_buf();
    let h = std::thread::spawn(move || {
        let opts = ProbeOptions {
            sysroot: root.clone(),
            all: true,
            show_identifiers: true,
            udev: false,
            bmc: None,
        };
        let sys = Sysroot::new(&root);
        let inv = inventory::probe_sysroot(&sys, &opts);
        let _ = tx.send(inv);
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(inv) => {
            let _ = h.join();
            inv
        }
        Err(_) => match h.join() {
            Err(_) => panic!("probe panicked: {what}"),
            Ok(()) => panic!("probe hung for 60 s: {what}"),
        },
    }
}

/// Files read as bytes, where garbage is not a text error.
fn binary(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.ends_with("tables/DMI")
        || s.contains("vpd_pg")
        || s.contains("efivars")
        || s.ends_with("/config")
        || s.ends_with("smbios_entry_point")
        || s.ends_with("hwcert-snapshot.json")
}

/// Whether a warning names `rel` (warnings name the path the probe asked for, which may go
/// through links: compare where both lead).
fn names(root: &Path, inv: &inventory::Inventory, rel: &Path) -> bool {
    let Ok(target) = fs::canonicalize(root.join(rel)) else {
        return false;
    };
    inv.warnings.iter().any(|w| {
        fs::canonicalize(root.join(w.path.trim_start_matches('/')))
            .map(|p| p == target)
            .unwrap_or(false)
    })
}

/// Every text file of a snapshot, turned to invalid UTF-8 one at a time (a sample of at most
/// `max`), must be named in the warnings: nothing the probe reads may fail silently.
fn every_text_file_is_reported(name: &str, root: &Path, max: usize) {
    let mut files = Vec::new();
    walk(root, &mut files);
    files.retain(|p| {
        fs::symlink_metadata(p)
            .map(|m| m.is_file() && m.len() > 0)
            .unwrap_or(false)
            && !binary(p)
    });
    files.sort();
    let stride = files.len().div_ceil(max).max(1);
    let (mut checked, mut silent) = (0, Vec::new());
    for f in files.iter().step_by(stride) {
        let rel = f.strip_prefix(root).expect("inside");
        let original = fs::read(f).expect("read");
        fs::write(f, [0xff, 0xfe, 0x80, b'\n']).expect("write");
        let inv = probe_with_limit(root, &format!("{name}: {}", rel.display()));
        fs::write(f, &original).expect("restore");
        checked += 1;
        if !names(root, &inv, rel) {
            silent.push(rel.display().to_string());
        }
    }
    eprintln!(
        "{name}: {}/{checked} garbage text files named in warnings",
        checked - silent.len()
    );
    assert!(
        silent.is_empty(),
        "{name}: read without a warning when garbage: {silent:#?}"
    );
}

fn corrupt_tree(name: &str, pristine: &Path, seed: u64, rounds: usize) -> (usize, usize) {
    let mut rng = Rng(seed);
    let mut files = Vec::new();
    walk(pristine, &mut files);
    files.sort();
    assert!(!files.is_empty(), "{name}: empty tree");
    let (mut checked, mut named) = (0, 0);
    for round in 0..rounds {
        let work = common::tempdir();
        let st = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", pristine.display()))
            .arg(work.path())
            .status()
            .expect("cp");
        assert!(st.success());
        let count = if round % 2 == 0 { 1 } else { 1 + rng.below(12) };
        let mut applied = Vec::new();
        for _ in 0..count {
            let rel = files[rng.below(files.len())]
                .strip_prefix(pristine)
                .expect("inside")
                .to_path_buf();
            let m = MUTATIONS[rng.below(MUTATIONS.len())];
            mutate(&mut rng, &work.path().join(&rel), m);
            applied.push((rel, m));
        }
        let what = format!("{name} seed {seed:#x} round {round}: {applied:?}");
        let inv = probe_with_limit(work.path(), &what);
        // One text file turned to invalid UTF-8: the probe read it (a snapshot holds what the
        // probe reads), so a warning must name it.
        if let [(rel, Mutation::NotUtf8)] = applied.as_slice() {
            let was_read_text = fs::metadata(pristine.join(rel))
                .map(|m| m.is_file() && m.len() > 0)
                .unwrap_or(false)
                && !binary(rel);
            if was_read_text {
                checked += 1;
                if names(work.path(), &inv, rel) {
                    named += 1;
                } else {
                    eprintln!("not named in warnings: {what}\n{:#?}", inv.warnings);
                }
            }
        }
    }
    (checked, named)
}

/// `all_read`: the tree is a hwcert snapshot, which holds only files the probe reads.
fn corrupt_archive(name: &str, archive: &Path, seed: u64, rounds: usize, all_read: bool) {
    let tmp = common::extract(archive);
    let root = common::dump_root(tmp.path());
    let (checked, named) = corrupt_tree(name, &root, seed, rounds);
    eprintln!("{name}: {rounds} corrupted trees probed without a panic or hang; {named}/{checked} garbage text files named in warnings");
    // Listed-but-unread placeholders are empty and skipped, so every check is a real read.
    if all_read {
        assert_eq!(named, checked, "{name}: garbage must be reported");
    }
}

#[test]
fn corrupted_machine_snapshots_never_panic() {
    let own = common::own_fixtures();
    let mut n = 0;
    for e in fs::read_dir(&own).into_iter().flatten().flatten() {
        let p = e.path();
        if p.to_string_lossy().ends_with(".tar.gz") {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            corrupt_archive(&name, &p, 0x5eed_0001 + n, 60, true);
            let tmp = common::extract(&p);
            every_text_file_is_reported(&name, &common::dump_root(tmp.path()), 250);
            n += 1;
        }
    }
    assert!(n > 0, "no recorded snapshot in {}", own.display());
}

#[test]
fn corrupted_real_dumps_never_panic() {
    let Some(ul) = common::util_linux() else {
        return;
    };
    for (i, (dump, rounds)) in [
        ("lscpu/x86_64-epyc_7451.tar.gz", 25),
        ("lscpu/arm-A510-A710-A715-X3.tar.gz", 25),
        ("lsblk/multi-devs-bcachefs.tar.xz", 25),
    ]
    .iter()
    .enumerate()
    {
        corrupt_archive(dump, &ul.join(dump), 0xc0ff_ee00 + i as u64, *rounds, false);
    }
}
