//! # suite — the hwcert command line and harness
//!
//! Profiles, the planner, the runner (libtest-mimic front, one worker process per case
//! instance, timeouts, journal, resume) and progress output. The binary `hwcert` is a thin
//! command-line layer over this library.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub mod hcl;
pub mod plan;
pub mod planner;
pub mod profile;
pub mod runner;

/// A sysroot directory as is; a snapshot archive extracted into a temporary directory that
/// lives as long as the returned guard.
pub fn open_sysroot(p: &Path) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    if p.is_file() {
        let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
        hwdb::snapshot::extract(p, tmp.path())?;
        let root = hwdb::snapshot::extracted_root(tmp.path());
        return Ok((root, Some(tmp)));
    }
    Ok((p.to_path_buf(), None))
}

/// Write to stdout; a closed pipe (`hwcert probe | head`) is not an error.
pub fn write_stdout(b: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(b).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
