//! # suite — the `hwcert` command line
//!
//! Only the command line: argument parsing (clap), output, exit statuses. Probing is the
//! `inventory` crate's, planning and running the `harness`'s, reports the `reports`', the
//! hardware list the `hcl`'s.

use anyhow::{Context, Result};

pub mod hwdb;
pub mod plan;
pub mod run;

/// Write to stdout; a closed pipe (`hwcert probe | head`) is not an error.
pub fn write_stdout(b: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(b).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
