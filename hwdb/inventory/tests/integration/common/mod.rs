//! Shared helpers for the fixture tests: where ../shared/fixtures is, and extracting a dump.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// ../shared/fixtures/util-linux relative to the workspace root, when it is there.
pub fn util_linux() -> Option<PathBuf> {
    let p = testing::fixtures::workspace().join("../shared/fixtures/util-linux");
    if p.is_dir() {
        Some(p)
    } else {
        testing::fixtures::skip(&format!(
            "{} is absent: the real machine dumps live beside the project in ../shared/fixtures",
            p.display()
        ));
        None
    }
}

/// The project's own recorded fixtures (hwdb/inventory/tests/fixtures).
pub fn own_fixtures() -> PathBuf {
    testing::fixtures::fixtures_dir()
}

/// A new temporary directory, in memory (/dev/shm) where possible: the dumps hold thousands of
/// small files, and creating them on a virtual disk can be 50 times slower.
pub fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if std::env::var_os("TMPDIR").is_none() && shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new()
            .prefix("hwcert-test")
            .tempdir_in(shm)
        {
            return d;
        }
    }
    tempfile::tempdir().expect("temporary directory")
}

/// Extract a .tar.gz/.tar.xz/.tar.bz2 dump into a new temporary directory (with the system
/// `tar`, which knows every compression these dumps use).
pub fn extract(archive: &Path) -> tempfile::TempDir {
    let dir = tempdir();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(st.success(), "tar -xf {} failed", archive.display());
    dir
}

/// The single top-level directory of an extracted dump (dumps hold NAME/proc, NAME/sys).
pub fn dump_root(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read extracted dump")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    if entries.len() == 1 && !dir.join("proc").exists() && !dir.join("sys").exists() {
        entries[0].clone()
    } else {
        dir.to_path_buf()
    }
}
