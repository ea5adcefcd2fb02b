//! # harness — profiles, the planner and the runner of hwcert
//!
//! [`profile`] reads the built-in and file profiles, [`planner`] turns an inventory and a
//! profile into a plan (`documents::plan::Plan`), and [`runner`] runs a plan: one worker
//! process per case instance, time limits, the journal, resume. The `hwcert` binary is a
//! command line over this crate's API.

pub mod planner;
pub mod profile;
pub mod runner;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A sysroot directory as is; a snapshot archive extracted into a temporary directory that
/// lives as long as the returned guard.
pub fn open_sysroot(p: &Path) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    if p.is_file() {
        let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
        let x = inventory::snapshot::extract(p, tmp.path())?;
        for w in &x.warnings {
            eprintln!("hwcert: warning: {}", hwsys::text::escape_text(w));
        }
        let root = inventory::snapshot::extracted_root(tmp.path());
        return Ok((root, Some(tmp)));
    }
    Ok((p.to_path_buf(), None))
}
