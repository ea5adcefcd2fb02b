//! Durable writes and exclusive locks.
//!
//! [`write_atomic`] is the only way hwcert replaces a file that matters (report.json, its
//! signature, state.json, a store entry): a reader sees the old bytes or the new ones, never a
//! mixture, and once it returns the new bytes survive a power cut.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The prefix of the temporary files [`write_atomic`] leaves behind when it is killed: such a
/// file is `.tmp-PID-N-NAME` beside `NAME`.
pub const TMP_PREFIX: &str = ".tmp-";

/// fsync a directory, so that a file created or renamed in it survives a crash.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Write `bytes` to `path` atomically and durably: a temporary file beside it, fsync, rename
/// over `path`, fsync of the directory. On failure the temporary file is removed and `path`
/// is as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(format!(
        "{TMP_PREFIX}{}-{}-",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    tmp_name.push(name);
    let tmp = dir.join(tmp_name);
    let r = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        fsync_dir(dir)
    })();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r
}

/// An exclusive `flock` on a file or directory, held while the value lives.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Whether to wait for another holder of a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Block until the lock is free.
    Yes,
    /// Give up at once: [`Lock::take`] returns `Ok(None)` when another process holds it.
    No,
}

impl Lock {
    /// Lock `path`: a directory or an existing file is opened as it is; a missing file is
    /// created (for lock files such as a store's `.lock`).
    pub fn take(path: &Path, wait: Wait) -> io::Result<Option<Lock>> {
        let f = if path.is_dir() {
            File::open(path)?
        } else {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)?
        };
        Lock::on(f, wait)
    }

    /// Lock an open file.
    pub fn on(f: File, wait: Wait) -> io::Result<Option<Lock>> {
        let op = match wait {
            Wait::Yes => libc::LOCK_EX,
            Wait::No => libc::LOCK_EX | libc::LOCK_NB,
        };
        loop {
            // SAFETY: flock on a file descriptor we own, for as long as `f` lives.
            if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
                return Ok(Some(Lock { _file: f }));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) if wait == Wait::No => return Ok(None),
                _ => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_nothing() {
        let d = tempfile::tempdir().expect("test");
        let p = d.path().join("a.json");
        write_atomic(&p, b"one").expect("test");
        write_atomic(&p, b"two").expect("test");
        assert_eq!(fs::read(&p).expect("test"), b"two");
        let names: Vec<_> = fs::read_dir(d.path())
            .expect("test")
            .map(|e| e.expect("test").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A directory in the way: an error, and no temporary file left.
        let sub = d.path().join("sub");
        fs::create_dir(&sub).expect("test");
        assert!(write_atomic(&sub, b"x").is_err());
        assert_eq!(fs::read_dir(d.path()).expect("test").count(), 2);
        assert!(write_atomic(Path::new("/"), b"x").is_err());
    }

    #[test]
    fn lock_is_exclusive() {
        let d = tempfile::tempdir().expect("test");
        let a = Lock::take(d.path(), Wait::No).expect("test");
        assert!(a.is_some());
        // flock locks belong to the open file description: a second open conflicts.
        assert!(Lock::take(d.path(), Wait::No).expect("test").is_none());
        drop(a);
        assert!(Lock::take(d.path(), Wait::No).expect("test").is_some());
        let f = d.path().join(".lock");
        let l = Lock::take(&f, Wait::Yes).expect("test");
        assert!(l.is_some() && f.is_file());
        assert!(Lock::take(&f, Wait::No).expect("test").is_none());
    }
}
