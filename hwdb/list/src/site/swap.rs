//! Where a site goes, and putting a new one there: the output path checked (only a site
//! hwcert published, or an empty directory, is replaced), the finished site swapped into
//! place, and what killed publishes left behind removed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::layout::MARKER;
use super::target;

use documents::Error;

/// The directory `out` goes into and its name.
pub(crate) fn split_out(out: &Path) -> Result<(PathBuf, String), Error> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .ok_or_else(|| {
            Error::msg(format!(
                "{}: not a directory name to publish into (give a path such as ./site)",
                out.display()
            ))
        })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::msg(format!(
            "{}: no such directory to publish the site into (make it first)",
            parent.display()
        )));
    }
    Ok((parent, name.to_string()))
}

/// What is where the site goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    Nothing,
    /// An empty directory.
    Empty,
    /// A site we published (it has the marker).
    Site,
}

/// Refuse to replace anything but a site we published, or an empty directory.
pub(crate) fn check_replaceable(out: &Path) -> Result<Existing, Error> {
    let md = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(Error::io(out, e)),
    };
    if md.file_type().is_symlink() {
        return Err(Error::msg(format!(
            "{}: is a symbolic link; give the directory it points to, or another -o",
            out.display()
        )));
    }
    if !md.is_dir() {
        return Err(Error::msg(format!(
            "{}: exists and is not a directory; choose another -o",
            out.display()
        )));
    }
    if fs::symlink_metadata(out.join(MARKER)).is_ok_and(|m| m.is_file()) {
        return Ok(Existing::Site);
    }
    let mut rd = fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    if rd.next().is_none() {
        return Ok(Existing::Empty);
    }
    Err(Error::msg(format!(
        "{}: exists and is not a site hwcert published (it has no {MARKER}); it was left alone: choose another -o, or remove it",
        out.display()
    )))
}

/// Put the finished site `tmp` at `out`; the directory holding the old site, if there was one,
/// for the caller to remove.
pub(crate) fn swap_in(
    tmp: &Path,
    out: &Path,
    parent: &Path,
    name: &str,
) -> Result<Option<PathBuf>, Error> {
    // Checked again right before: the directory may have changed while we wrote.
    // A site there is locked first: one being updated in place is not swapped away under
    // the publish updating it.
    let _lock = match check_replaceable(out) {
        Ok(Existing::Site) => Some(target::lock_site(out)?),
        Ok(_) => None,
        Err(e) => {
            let _ = remove_tree(tmp, 1);
            return Err(e);
        }
    };
    if fs::symlink_metadata(out).is_err() {
        return match fs::rename(tmp, out) {
            Ok(()) => Ok(None),
            Err(e) => {
                let _ = remove_tree(tmp, 1);
                Err(Error::io(out, e))
            }
        };
    }
    // One atomic exchange where the file system has it: readers see the old site or the new.
    if exchange(tmp, out).is_ok() {
        return Ok(Some(tmp.to_path_buf()));
    }
    // Named after the temporary directory's `PID-N`: unique to this call too.
    let id = tmp
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit(".publish-").next())
        .unwrap_or("0");
    let old = parent.join(format!(".{name}.old-{id}"));
    if fs::symlink_metadata(&old).is_ok() {
        fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    if let Err(e) = fs::rename(out, &old) {
        let _ = remove_tree(tmp, 1);
        return Err(Error::io(out, e));
    }
    if let Err(e) = fs::rename(tmp, out) {
        let _ = fs::rename(&old, out);
        let _ = remove_tree(tmp, 1);
        return Err(Error::io(out, e));
    }
    Ok(Some(old))
}

/// renameat2(RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Remove a directory tree, the big subdirectories' children on a few threads.
pub(crate) fn remove_tree(dir: &Path, threads: usize) -> Result<(), Error> {
    let mut kids: Vec<PathBuf> = Vec::new();
    for sub in ["entries", "reports"] {
        if let Ok(rd) = fs::read_dir(dir.join(sub)) {
            kids.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    if threads > 1 && kids.len() > 256 {
        let chunk = kids.len().div_ceil(threads);
        std::thread::scope(|s| {
            for part in kids.chunks(chunk) {
                s.spawn(move || {
                    for p in part {
                        let _ = fs::remove_file(p).or_else(|_| fs::remove_dir_all(p));
                    }
                });
            }
        });
    }
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Remove what publishes into `parent/name` that were killed left behind: `.name.publish-PID`
/// and `.name.old-PID` of processes that are gone.
pub(crate) fn remove_leftovers(parent: &Path, name: &str, threads: usize) {
    let Ok(rd) = fs::read_dir(parent) else { return };
    let (a, b) = (format!(".{name}.publish-"), format!(".{name}.old-"));
    for e in rd.flatten() {
        let n = e.file_name();
        let Some(n) = n.to_str() else { continue };
        let Some(pid) = n.strip_prefix(&a).or_else(|| n.strip_prefix(&b)) else {
            continue;
        };
        let pid = pid.split('-').next().unwrap_or_default();
        let Ok(pid) = pid.parse::<libc::pid_t>() else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = remove_tree(&e.path(), threads);
        }
    }
}
