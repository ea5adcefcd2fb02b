//! File operations relative to an open directory (`openat`, `linkat`, `mkdirat`).
//!
//! Publishing creates some 200,000 files and reads 100,000; `std::fs` takes a whole path each
//! time (the kernel walks every component again) and reads a file with `statx` and `lseek`
//! before the `read`s. Relative to an open directory, with one buffer per thread for the
//! names, each file costs only the calls it needs.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An open directory.
pub(crate) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// A NUL-terminated copy of `name` in `buf`; refuses a name with a NUL or a `/` in it.
fn c_name<'b>(buf: &'b mut Vec<u8>, name: &[u8]) -> io::Result<&'b CStr> {
    if name.is_empty() || name.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file name",
        ));
    }
    buf.clear();
    buf.extend_from_slice(name);
    buf.push(0);
    CStr::from_bytes_with_nul(buf).map_err(|_| io::ErrorKind::InvalidInput.into())
}

/// Two names, NUL-terminated, one after the other in `buf`.
fn c_names<'b>(buf: &'b mut Vec<u8>, a: &[u8], b: &[u8]) -> io::Result<(&'b [u8], &'b [u8])> {
    if a.is_empty() || a.contains(&0) || b.is_empty() || b.contains(&0) {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    buf.clear();
    buf.extend_from_slice(a);
    buf.push(0);
    let split = buf.len();
    buf.extend_from_slice(b);
    buf.push(0);
    Ok(buf.split_at(split))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Retry a call that a signal interrupted.
fn retry(mut f: impl FnMut() -> libc::c_int) -> io::Result<libc::c_int> {
    loop {
        match check(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

impl Dir {
    pub fn open(path: &Path) -> io::Result<Dir> {
        let mut buf = Vec::new();
        let c = c_name(&mut buf, path.as_os_str().as_bytes())?;
        // SAFETY: a NUL-terminated path; the descriptor returned is ours alone.
        let fd = retry(|| unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        Ok(Dir {
            // SAFETY: a descriptor we just opened and own.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append the whole file `name` to `out` (a short read is not taken for the end: it
    /// reads until `read` returns 0).
    pub fn read_into(&self, buf: &mut Vec<u8>, name: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.read_flags(buf, name, out, 0)
    }

    /// As [`Dir::read_into`], but a symbolic link is not followed (an error, `ELOOP`).
    pub fn read_own(&self, buf: &mut Vec<u8>, name: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.read_flags(buf, name, out, libc::O_NOFOLLOW)
    }

    fn read_flags(
        &self,
        buf: &mut Vec<u8>,
        name: &[u8],
        out: &mut Vec<u8>,
        flags: libc::c_int,
    ) -> io::Result<()> {
        let c = c_name(buf, name)?;
        // SAFETY: a NUL-terminated name relative to our open directory.
        let fd = retry(|| unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY | flags,
            )
        })?;
        // SAFETY: a descriptor we just opened and own; closed when dropped.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let from = out.len();
        loop {
            if out.capacity() - out.len() < 8192 {
                out.reserve(64 * 1024);
            }
            let spare = out.spare_capacity_mut();
            // SAFETY: reading into the vector's spare capacity, at most its length.
            let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                out.truncate(from);
                return Err(e);
            }
            if n == 0 {
                return Ok(());
            }
            // SAFETY: the kernel wrote n bytes into the spare capacity.
            unsafe { out.set_len(out.len() + n as usize) };
        }
    }

    /// Create the new file `name` (it must not exist) holding `bytes`.
    pub fn create(&self, buf: &mut Vec<u8>, name: &[u8], bytes: &[u8]) -> io::Result<()> {
        let c = c_name(buf, name)?;
        // SAFETY: a NUL-terminated name relative to our open directory.
        let fd = retry(|| unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC | libc::O_NOCTTY,
                0o666 as libc::c_uint,
            )
        })?;
        // SAFETY: a descriptor we just opened and own; closed when dropped.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: writing from a live slice, at most its length.
            let n = unsafe { libc::write(fd.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            rest = &rest[n as usize..];
        }
        // close(2) reports a failed write-back on some file systems (NFS): not ignored.
        let raw = std::os::fd::IntoRawFd::into_raw_fd(fd);
        // SAFETY: closing the descriptor we own, once.
        check(unsafe { libc::close(raw) }).map(drop)
    }

    /// Make the directory `name`.
    pub fn mkdir(&self, buf: &mut Vec<u8>, name: &[u8]) -> io::Result<()> {
        let c = c_name(buf, name)?;
        // SAFETY: a NUL-terminated name relative to our open directory.
        retry(|| unsafe { libc::mkdirat(self.fd.as_raw_fd(), c.as_ptr(), 0o777) }).map(drop)
    }

    /// Hard-link `from` (relative to `src`) as `to` (relative to this directory); both may
    /// hold `/`.
    pub fn link(&self, src: &Dir, from: &[u8], to: &[u8], buf: &mut Vec<u8>) -> io::Result<()> {
        let (a, b) = c_names(buf, from, to)?;
        // SAFETY: two NUL-terminated names relative to open directories.
        retry(|| unsafe {
            libc::linkat(
                src.fd.as_raw_fd(),
                a.as_ptr().cast(),
                self.fd.as_raw_fd(),
                b.as_ptr().cast(),
                0,
            )
        })
        .map(drop)
    }
    /// Open the directory `name` in this one; a symbolic link is refused (`ENOTDIR` or
    /// `ELOOP`).
    pub fn sub(&self, buf: &mut Vec<u8>, name: &str) -> io::Result<Dir> {
        let c = c_name(buf, name.as_bytes())?;
        // SAFETY: a NUL-terminated name relative to our open directory.
        let fd = retry(|| unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        })?;
        Ok(Dir {
            // SAFETY: a descriptor we just opened and own.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: self.path.join(name),
        })
    }

    /// Rename `from` to `to`, both relative to this directory (`to` is replaced).
    pub fn rename(&self, buf: &mut Vec<u8>, from: &[u8], to: &[u8]) -> io::Result<()> {
        let (a, b) = c_names(buf, from, to)?;
        let fd = self.fd.as_raw_fd();
        // SAFETY: two NUL-terminated names relative to our open directory.
        retry(|| unsafe { libc::renameat(fd, a.as_ptr().cast(), fd, b.as_ptr().cast()) }).map(drop)
    }

    /// Remove the file `name` (not a directory); one already gone is no error.
    pub fn unlink(&self, buf: &mut Vec<u8>, name: &[u8]) -> io::Result<()> {
        let c = c_name(buf, name)?;
        // SAFETY: a NUL-terminated name relative to our open directory.
        match retry(|| unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) }) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r.map(drop),
        }
    }

    /// `lstat` of `name` (which may hold `/`); `None` when there is no such file.
    pub fn stat(&self, buf: &mut Vec<u8>, name: &[u8]) -> io::Result<Option<libc::stat>> {
        let c = c_name(buf, name)?;
        // SAFETY: a zeroed stat for the kernel to fill, and a NUL-terminated name.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r = retry(|| unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        });
        match r {
            Ok(_) => Ok(Some(st)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The names in this directory (not `.` and `..`), in no particular order.
    pub fn names(&self) -> io::Result<Vec<std::ffi::OsString>> {
        std::fs::read_dir(&self.path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_create_link_mkdir() {
        let t = tempfile::tempdir().expect("tmp");
        let d = Dir::open(t.path()).expect("open");
        let mut buf = Vec::new();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        d.create(&mut buf, b"big", &big).expect("create");
        d.create(&mut buf, b"empty", b"").expect("create");
        let e = d.create(&mut buf, b"big", b"x").expect_err("exists");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        let mut out = b"head".to_vec();
        d.read_into(&mut buf, b"big", &mut out).expect("read");
        assert_eq!(&out[..4], b"head");
        assert_eq!(&out[4..], &big[..]);
        d.read_into(&mut buf, b"empty", &mut out).expect("read");
        assert_eq!(out.len(), 4 + big.len());
        let e = d
            .read_into(&mut buf, b"missing", &mut out)
            .expect_err("missing");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(out.len(), 4 + big.len(), "nothing appended on an error");
        assert!(d.read_into(&mut buf, b"a\0b", &mut out).is_err());
        d.mkdir(&mut buf, b"sub").expect("mkdir");
        d.link(&d, b"big", b"sub/big", &mut buf).expect("link");
        assert_eq!(std::fs::read(t.path().join("sub/big")).expect("read"), big);
        let e = d
            .link(&d, b"nope", b"sub/nope", &mut buf)
            .expect_err("missing");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        // A directory read as a file is an error, not an empty file.
        assert!(d.read_into(&mut buf, b"sub", &mut out).is_err());

        // Open a subdirectory, but not through a link; stat, rename, unlink, list.
        let sub = d.sub(&mut buf, "sub").expect("sub");
        assert_eq!(sub.path(), t.path().join("sub"));
        std::os::unix::fs::symlink(t.path().join("sub"), t.path().join("link")).expect("ln");
        std::os::unix::fs::symlink(t.path().join("empty"), t.path().join("flink")).expect("ln");
        let mut o = Vec::new();
        d.read_into(&mut buf, b"flink", &mut o).expect("followed");
        let e = d
            .read_own(&mut buf, b"flink", &mut o)
            .expect_err("not followed");
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        d.unlink(&mut buf, b"flink").expect("unlink");
        let e = d.sub(&mut buf, "link").err().and_then(|e| e.raw_os_error());
        assert!(matches!(e, Some(libc::ELOOP | libc::ENOTDIR)), "{e:?}");
        let st = d.stat(&mut buf, b"link").expect("stat").expect("there");
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK, "not followed");
        assert_eq!(
            d.stat(&mut buf, b"sub/big")
                .expect("stat")
                .map(|s| s.st_size),
            Some(big.len() as libc::off_t)
        );
        assert!(d.stat(&mut buf, b"nope").expect("stat").is_none());
        sub.rename(&mut buf, b"big", b"moved").expect("rename");
        d.create(&mut buf, b"sub/over", b"old").expect("create");
        sub.rename(&mut buf, b"moved", b"over")
            .expect("rename over");
        assert_eq!(std::fs::read(t.path().join("sub/over")).expect("read"), big);
        sub.unlink(&mut buf, b"over").expect("unlink");
        sub.unlink(&mut buf, b"over").expect("gone already is fine");
        assert!(sub.names().expect("names").is_empty());
        let mut names = d.names().expect("names");
        names.sort();
        assert_eq!(names, ["big", "empty", "link", "sub"]);
    }
}
