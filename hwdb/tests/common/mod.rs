//! Shared helpers for the fixture tests: where ../shared/fixtures is, and extracting a dump.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// ../shared/fixtures/util-linux relative to the workspace root, when it is there.
pub fn util_linux() -> Option<PathBuf> {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let p = ws.join("../shared/fixtures/util-linux");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: {} is absent: the real machine dumps live beside the project in ../shared/fixtures",
            p.display()
        );
        None
    }
}

/// The project's own recorded fixtures (hwdb/tests/fixtures).
pub fn own_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
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

/// A size as util-linux prints it (lib/strutils.c size_to_human_string): "15.8G", "0B", or
/// with `iec` "1.5 MiB" (lscpu's SIZE_SUFFIX_3LETTER | SIZE_SUFFIX_SPACE).
pub fn human_size(bytes: u64, iec: bool) -> String {
    const LETTERS: &[u8] = b"BKMGTPE";
    let mut exp = 0u32;
    while exp < 60 && bytes >= 1u64 << (exp + 10) {
        exp += 10;
    }
    let letter = LETTERS[(exp / 10) as usize] as char;
    let mut dec = if exp > 0 { bytes >> exp } else { bytes };
    let mut frac = if exp > 0 {
        bytes & ((1u64 << exp) - 1)
    } else {
        0
    };
    if frac > 0 {
        // One decimal digit, rounded.
        frac = (frac / (1u64 << (exp - 10)) + 50) / 100;
        if frac == 10 {
            dec += 1;
            frac = 0;
        }
    }
    let unit = if iec {
        if exp == 0 {
            " B".to_string()
        } else {
            format!(" {letter}iB")
        }
    } else {
        letter.to_string()
    };
    if frac > 0 {
        format!("{dec}.{frac}{unit}")
    } else {
        format!("{dec}{unit}")
    }
}
