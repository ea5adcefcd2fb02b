//! The runner's side of the run directory. The layout, the journal line and state.json are
//! documents (crate `documents`); durable writes, locks, times and log tails are system
//! helpers (crate `hwsys`). What is left here is what only a live run needs.

use std::io;
use std::path::Path;

pub use documents::journal::{Journal, JournalEntry};
pub use documents::rundir::*;
pub use hwsys::fs::{fsync_dir, write_atomic, Lock as DirLock};
pub use hwsys::time::{compact_utc, rfc3339, unix_ms};

/// Take the run directory's lock without waiting; `Ok(None)` when another process holds it.
pub fn try_lock(dir: &Path) -> io::Result<Option<DirLock>> {
    DirLock::take(dir, hwsys::fs::Wait::No)
}

/// The last `n` non-empty lines of a log from byte `from` on (at most its last 64 KiB;
/// terminal escapes removed; each line cut to 500 characters).
pub fn tail_lines(path: &Path, from: u64, n: usize) -> Vec<String> {
    hwsys::text::tail(
        path,
        hwsys::text::Tail {
            lines: n,
            max_bytes: 64 * 1024,
            from,
            skip_empty: true,
            max_chars: 500,
        },
    )
    .unwrap_or_default()
}

/// Read the journal of a run directory to resume it, first making it appendable again (see
/// [`documents::journal::repair`]). Lines that do not parse are returned as warnings.
pub fn read_journal(dir: &Path) -> io::Result<(Vec<JournalEntry>, Vec<String>)> {
    let path = dir.join(JOURNAL_FILE);
    if !path.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut warnings: Vec<String> = documents::journal::repair(&path)?.into_iter().collect();
    let (lines, w) = documents::journal::read(&path).map_err(io::Error::other)?;
    warnings.extend(w);
    Ok((lines, warnings))
}
