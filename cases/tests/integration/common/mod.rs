//! Shared helpers for the case tests: probing a tree, running one instance, copying the
//! hand-made trees to change them.
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use cases::{Case, Context, Inventory, Outcome, RunOptions, Selection, Target, Verdict};

/// hwdb's hand-made trees (hwdb/inventory/tests/fixtures/NAME).
pub fn handmade(name: &str) -> PathBuf {
    testing::fixtures::fixture(name)
}

/// A new temporary directory, in memory (/dev/shm) where possible.
pub fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if std::env::var_os("TMPDIR").is_none() && shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new()
            .prefix("hwcert-cases")
            .tempdir_in(shm)
        {
            return d;
        }
    }
    tempfile::tempdir().expect("temporary directory")
}

/// A copy of a tree (links kept as links) to change in a test.
pub fn copy_tree(src: &Path) -> tempfile::TempDir {
    let d = tempdir();
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(d.path())
        .status()
        .expect("run cp");
    assert!(st.success(), "cp -a {}", src.display());
    d
}

/// Extract a .tar.gz into a new temporary directory.
pub fn extract(archive: &Path) -> tempfile::TempDir {
    let d = tempdir();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(d.path())
        .status()
        .expect("run tar");
    assert!(st.success(), "tar -xf {}", archive.display());
    d
}

/// Write `content` at `root/rel`, creating the parents (replacing a file or link there).
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    let _ = std::fs::remove_file(&p);
    std::fs::write(p, content).expect("write");
}

/// A symbolic link at `root/rel` to `target`.
pub fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink(target, p).expect("symlink");
}

/// Remove a file, link or directory tree at `root/rel`.
pub fn remove(root: &Path, rel: &str) {
    let p = root.join(rel);
    if p.symlink_metadata().map(|m| m.is_dir()).unwrap_or(false) {
        std::fs::remove_dir_all(&p).expect("rm -r");
    } else {
        let _ = std::fs::remove_file(&p);
    }
}

/// Probe a tree (no udev, identifiers redacted, as the planner does).
pub fn probe(root: &Path) -> Inventory {
    inventory::probe(&inventory::ProbeOptions {
        sysroot: root.to_path_buf(),
        all: false,
        show_identifiers: false,
        udev: false,
        bmc: None,
    })
    .expect("a Linux tree")
}

/// The catalog's case named `name`.
pub fn case(name: &str) -> Box<dyn Case> {
    cases::find(name).unwrap_or_else(|| panic!("no case {name}"))
}

/// A log sink the test can read afterwards.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

/// One instance's outcome and log.
pub struct Ran {
    pub outcome: Outcome,
    pub log: String,
}

impl Ran {
    pub fn verdict(&self) -> &Verdict {
        &self.outcome.verdict
    }
    pub fn reason(&self) -> String {
        self.outcome.verdict.reason().unwrap_or_default()
    }
    pub fn measurement(&self, name: &str) -> Option<f64> {
        self.outcome
            .measurements
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }
}

/// Run `case` on `target` of the machine at `root` (inventory `inv`).
pub fn run_on(
    case: &dyn Case,
    inv: &Inventory,
    root: &Path,
    target: &Target,
    options: &RunOptions,
    is_root: bool,
) -> Ran {
    let log = Log::default();
    let mut ctx = Context::new(inv, root, target, options, is_root, Box::new(log.clone()));
    let verdict = case.run(&mut ctx);
    let outcome = ctx.finish(verdict);
    Ran {
        outcome,
        log: log.text(),
    }
}

/// The targets `case` selects on `inv` (with `options`), or the reason it does not apply.
pub fn targets(
    case: &dyn Case,
    inv: &Inventory,
    options: &RunOptions,
) -> Result<Vec<Target>, String> {
    match case.select_with(inv, options) {
        Selection::Targets(t) => Ok(t),
        Selection::NotApplicable(r) => Err(r),
    }
}

/// Run every selected instance of case `name` on the tree at `root`: (target id, result).
pub fn run_all(name: &str, root: &Path) -> Vec<(String, Ran)> {
    run_all_with(name, root, &RunOptions::default(), false)
}

pub fn run_all_with(
    name: &str,
    root: &Path,
    options: &RunOptions,
    is_root: bool,
) -> Vec<(String, Ran)> {
    let inv = probe(root);
    let c = case(name);
    let ts = targets(c.as_ref(), &inv, options).unwrap_or_default();
    ts.iter()
        .map(|t| {
            (
                t.id.clone().unwrap_or_default(),
                run_on(c.as_ref(), &inv, root, t, options, is_root),
            )
        })
        .collect()
}

/// Run the machine-wide case `name` on the tree at `root`.
pub fn run_machine(name: &str, root: &Path) -> Ran {
    let inv = probe(root);
    run_on(
        case(name).as_ref(),
        &inv,
        root,
        &Target::machine(),
        &RunOptions::default(),
        false,
    )
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
