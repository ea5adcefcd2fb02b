//! What the stressor writes, and how much: a scratch file in a writable filesystem of the disk
//! (sized to leave the filesystem room), or, when the run names the device for destructive
//! tests, the raw device after the safety checks — either opened for direct I/O.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hwsys::mountinfo::Mount;
use hwsys::units::iec;
use hwsys::Sysroot;

use super::safety::{family, live_refusals, mounts, mounts_of, refusals};
use crate::{Context, Verdict, Verdict as V};

/// What a run writes, opened for direct I/O.
pub(super) struct Opened {
    /// The device node, or the scratch file's path (unlinked while open).
    pub(super) path: PathBuf,
    /// The bytes to test, from offset 0.
    pub(super) region: u64,
    pub(super) file: File,
    /// Whether it is the raw device.
    pub(super) destructive: bool,
}

/// The settings that say where to write and how much.
pub(super) struct Wanted<'a> {
    /// `storage_dir`: the directory of the scratch file.
    pub(super) dir: Option<&'a str>,
    /// `storage_file_bytes`: the scratch file's size (1 GiB when absent).
    pub(super) file_bytes: Option<u64>,
    /// `storage_device_bytes`: how much of a raw device to test (all of it when absent).
    pub(super) device_bytes: Option<u64>,
    /// The sequential request size: the region is a whole number of them.
    pub(super) seq_bs: u64,
}

/// Open what the run on disk `name` writes: the raw device when the run names it for
/// destructive tests, else a scratch file. `Err` is the verdict when there is nothing to write
/// (skip) or it may not or cannot be written (error).
pub(super) fn open(
    ctx: &mut Context<'_>,
    name: &str,
    want: &Wanted<'_>,
) -> Result<Opened, Verdict> {
    if destructive_listed(&ctx.options.destructive_devices, name, true) {
        open_device(ctx, name, want)
    } else {
        open_scratch(ctx, name, want)
    }
}

/// The raw device, after [`refusals`] and [`live_refusals`] find nothing, opened `O_EXCL`.
fn open_device(ctx: &mut Context<'_>, name: &str, want: &Wanted<'_>) -> Result<Opened, Verdict> {
    if !ctx.is_root {
        return Err(V::skip(format!("writing /dev/{name} needs root")));
    }
    let dev = PathBuf::from(format!("/dev/{name}"));
    let size = ctx
        .sysroot
        .parse::<u64>(&format!("sys/block/{name}/size"))
        .map(|s| s.saturating_mul(512))
        .unwrap_or(0);
    let mut refused = refusals(&ctx.sysroot, name);
    if refused.is_empty() {
        refused = live_refusals(&dev, size);
    }
    if !refused.is_empty() {
        return Err(V::error(format!(
            "refusing to write /dev/{name}: {}",
            refused.join("; ")
        )));
    }
    let file = match OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_EXCL)
        .open(&dev)
    {
        Ok(f) => f,
        Err(e) => {
            return Err(V::error(format!(
                "cannot open {} for direct I/O: {e}",
                dev.display()
            )))
        }
    };
    let limit = want.device_bytes.unwrap_or(size).min(size);
    let region = limit / want.seq_bs * want.seq_bs;
    ctx.log(format!(
        "DESTRUCTIVE: raw device {} ({}), testing {}",
        dev.display(),
        iec(size),
        iec(region)
    ));
    Ok(Opened {
        path: dev,
        region,
        file,
        destructive: true,
    })
}

/// A scratch file in a writable filesystem of the disk, shrunk to leave that filesystem 2 % and
/// at least 512 MiB free (10 % under 5 GiB), unlinked as soon as it is open.
fn open_scratch(ctx: &mut Context<'_>, name: &str, want: &Wanted<'_>) -> Result<Opened, Verdict> {
    let (dir, mount) = match scratch_dir(&ctx.sysroot, name, want.dir.map(Path::new)) {
        Ok(d) => d,
        Err(e) if want.dir.is_some() => return Err(V::error(e)),
        Err(e) => return Err(V::skip(e)),
    };
    let (free, size) = match free_bytes(&dir) {
        Ok(f) => f,
        Err(e) => return Err(V::error(format!("statvfs {}: {e}", dir.display()))),
    };
    let seq_bs = want.seq_bs;
    let keep = (512u64 << 20).max(size / 50).min(size / 10);
    let wanted = want.file_bytes.unwrap_or(1 << 30);
    let fits = free.saturating_sub(keep).min(wanted) / seq_bs * seq_bs;
    if fits < (64 << 20).min(wanted) || fits == 0 {
        return Err(V::skip(format!(
            "{} ({} on {}) has {} free: not enough for a scratch file while keeping {} free",
            mount.point,
            mount.fstype,
            mount.source,
            iec(free),
            iec(keep)
        )));
    }
    if fits < wanted {
        ctx.log(format!(
            "scratch file shrunk to {} to keep {} free",
            iec(fits),
            iec(keep)
        ));
    }
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let spath = dir.join(format!(
        ".hwcert-stress-{name}-{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    ));
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_DIRECT)
        .open(&spath);
    // Unlinked at once: the open descriptor keeps it, and nothing is left behind even when
    // the run is killed at its time limit.
    let unlinked = fs::remove_file(&spath);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            return Err(V::skip(format!(
                "{} ({}) does not support O_DIRECT",
                mount.point, mount.fstype
            )))
        }
        Err(e) => return Err(V::error(format!("cannot create {}: {e}", spath.display()))),
    };
    if let Err(e) = unlinked {
        return Err(V::error(format!("cannot unlink {}: {e}", spath.display())));
    }
    // SAFETY: plain fallocate on our own file descriptor.
    let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, fits as libc::off_t) };
    if r != 0 {
        let e = io::Error::last_os_error();
        if let Err(e2) = file.set_len(fits) {
            return Err(V::error(format!(
                "cannot size {}: {e}; {e2}",
                spath.display()
            )));
        }
    }
    ctx.log(format!(
        "scratch file {} of {} on {} ({} from {}), unlinked while open",
        spath.display(),
        iec(fits),
        mount.point,
        mount.fstype,
        mount.source
    ));
    Ok(Opened {
        path: spath,
        region: fits,
        file,
        destructive: false,
    })
}

/// `major:minor` of an `st_dev` (glibc's gnu_dev_major and gnu_dev_minor).
fn majmin_of(dev: u64) -> String {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    format!("{major}:{minor}")
}

/// Free bytes (for an unprivileged user) and total bytes of the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> io::Result<(u64, u64)> {
    let c = CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: statvfs fills the struct; the path is NUL-terminated.
    unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut s) != 0 {
            return Err(io::Error::last_os_error());
        }
        let frsize = s.f_frsize as u64;
        Ok((s.f_bavail as u64 * frsize, s.f_blocks as u64 * frsize))
    }
}

/// Whether this process may create files in `dir`.
fn writable(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access reads the NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// A directory on a writable filesystem of `disk`, and that filesystem's mount.
pub(super) fn scratch_dir(
    sys: &Sysroot,
    disk: &str,
    wanted: Option<&Path>,
) -> Result<(PathBuf, Mount), String> {
    let fam = family(sys, disk);
    let all = mounts(sys);
    let mut on_disk: Vec<Mount> = Vec::new();
    for m in &fam {
        on_disk.extend(mounts_of(sys, m, &all).into_iter().cloned());
    }
    let dev_of = |p: &Path| fs::metadata(p).ok().map(|md| majmin_of(md.dev()));
    if let Some(dir) = wanted {
        let Some(d) = dev_of(dir) else {
            return Err(format!("storage_dir {}: no such directory", dir.display()));
        };
        return match on_disk.iter().find(|m| m.majmin == d) {
            Some(m) => Ok((dir.to_path_buf(), m.clone())),
            None => Err(format!(
                "storage_dir {} is on device {d}, not on a filesystem of {disk}",
                dir.display()
            )),
        };
    }
    let mut rw: Vec<&Mount> = on_disk
        .iter()
        .filter(|m| m.options.split(',').any(|o| o == "rw"))
        .collect();
    // Prefer whole-filesystem mounts, then short mount points (/ before /var/lib/x).
    rw.sort_by_key(|m| (m.root != "/", m.point.len()));
    for m in &rw {
        for sub in ["var/tmp", "tmp", ""] {
            let p = Path::new(&m.point).join(sub);
            if p.is_dir() && dev_of(&p).as_deref() == Some(m.majmin.as_str()) && writable(&p) {
                return Ok((p, (*m).clone()));
            }
        }
    }
    let seen: Vec<String> = on_disk
        .iter()
        .map(|m| {
            format!(
                "{} ({})",
                m.point,
                m.options.split(',').next().unwrap_or("")
            )
        })
        .collect();
    Err(format!(
        "no writable filesystem of {disk} is mounted{}; run with --destructive --device /dev/{disk} to test the raw device",
        if seen.is_empty() { String::new() } else { format!(" (mounts: {})", seen.join(", ")) }
    ))
}

/// Whether `name` is among the devices named for destructive tests.
fn destructive_listed(devices: &[String], name: &str, live: bool) -> bool {
    devices.iter().any(|d| {
        let p = Path::new(d);
        let resolved = if live { fs::canonicalize(p).ok() } else { None };
        let base = resolved
            .as_deref()
            .unwrap_or(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        d == name || base.as_deref() == Some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destructive_devices_match_by_name_or_dev_path() {
        let list = vec!["/dev/loop3".to_string(), "sdb".to_string()];
        assert!(destructive_listed(&list, "loop3", false));
        assert!(destructive_listed(&list, "sdb", false));
        assert!(!destructive_listed(&list, "sda", false));
        assert!(!destructive_listed(&[], "sda", false));
    }

    #[test]
    fn device_numbers_split_as_glibc_does() {
        assert_eq!(majmin_of(libc::makedev(8, 33)), "8:33");
        assert_eq!(majmin_of(libc::makedev(259, 1_048_575)), "259:1048575");
        assert_eq!(majmin_of(libc::makedev(4095, 255)), "4095:255");
    }
}
