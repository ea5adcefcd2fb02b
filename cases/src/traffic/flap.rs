//! Taking a link down and up (SIOCGIFFLAGS / SIOCSIFFLAGS), with a watchdog that puts it back
//! up when the case is killed.
//!
//! The runner kills a worker's whole process group at its time limit, and a guard in the
//! worker cannot run then. So before the link goes down, [`Watchdog::arm`] forks a small
//! process in its own session (out of the worker's process group) that holds the read end of
//! a pipe. The case disarms it by writing one byte when the link is back; if the worker dies
//! first, the pipe's write end closes, the read returns end-of-file and the watchdog sets the
//! interface up before it exits. The child does only async-signal-safe system calls (read,
//! socket, ioctl, close, _exit), everything prepared before the fork.

use std::os::fd::AsRawFd;

use crate::network::{ifname, socket};

const SIOCGIFFLAGS: u64 = 0x8913;
const SIOCSIFFLAGS: u64 = 0x8914;

/// `struct ifreq` with the flags (a short) in its union.
#[repr(C)]
#[derive(Clone, Copy)]
struct IfreqFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

fn ifreq(name: &str) -> std::io::Result<IfreqFlags> {
    let n = ifname(name).ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(IfreqFlags {
        name: n,
        flags: 0,
        _pad: [0; 22],
    })
}

/// Whether `name` is administratively up (IFF_UP).
pub fn is_up(name: &str) -> std::io::Result<bool> {
    let sock = socket()?;
    let mut r = ifreq(name)?;
    // SAFETY: a valid socket and a struct ifreq the kernel fills in.
    if unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGIFFLAGS as _, &mut r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(r.flags & libc::IFF_UP as libc::c_short != 0)
}

/// Set `name` up or down (needs CAP_NET_ADMIN).
pub fn set_up(name: &str, up: bool) -> std::io::Result<()> {
    let sock = socket()?;
    let mut r = ifreq(name)?;
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGIFFLAGS as _, &mut r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if up {
        r.flags |= libc::IFF_UP as libc::c_short;
    } else {
        r.flags &= !(libc::IFF_UP as libc::c_short);
    }
    // SAFETY: the same struct, with the flags changed.
    if unsafe { libc::ioctl(sock.as_raw_fd(), SIOCSIFFLAGS as _, &r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The process that sets an interface up again if this one dies before [`Watchdog::disarm`].
pub struct Watchdog {
    pid: libc::pid_t,
    write_fd: libc::c_int,
}

impl Watchdog {
    /// Fork the watchdog for `name`.
    pub fn arm(name: &str) -> std::io::Result<Watchdog> {
        let req = ifreq(name)?;
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let (rfd, wfd) = (fds[0], fds[1]);
        // SAFETY: the child calls only async-signal-safe functions on memory prepared here.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: our own descriptors.
            unsafe {
                libc::close(rfd);
                libc::close(wfd);
            }
            return Err(e);
        }
        if pid == 0 {
            // SAFETY: async-signal-safe calls only; the child never returns.
            unsafe { watchdog_child(rfd, req) }
        }
        // SAFETY: the parent's copy of the read end.
        unsafe { libc::close(rfd) };
        Ok(Watchdog { pid, write_fd: wfd })
    }

    /// The watchdog's process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The link is back: the watchdog exits without touching it.
    pub fn disarm(mut self) {
        self.finish(true);
    }

    fn finish(&mut self, disarm: bool) {
        if self.write_fd < 0 {
            return;
        }
        if disarm {
            let b = b'D';
            // SAFETY: a valid descriptor and one byte.
            unsafe { libc::write(self.write_fd, (&b as *const u8).cast(), 1) };
        }
        // SAFETY: our descriptor; closing it is the signal when not disarmed.
        unsafe { libc::close(self.write_fd) };
        self.write_fd = -1;
        let mut status = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Dropped without disarm (an early return, a panic): the watchdog restores the link.
        self.finish(false);
    }
}

unsafe fn watchdog_child(rfd: libc::c_int, req: IfreqFlags) -> ! {
    // SAFETY: async-signal-safe system calls on memory of this process only.
    unsafe {
        libc::setsid();
        for fd in 0..1024 {
            if fd != rfd {
                libc::close(fd);
            }
        }
        let mut b = 0u8;
        let n = loop {
            let n = libc::read(rfd, (&mut b as *mut u8).cast(), 1);
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break n;
        };
        if n == 1 && b == b'D' {
            libc::_exit(0);
        }
        for family in [libc::AF_INET, libc::AF_INET6, libc::AF_UNIX] {
            let s = libc::socket(family, libc::SOCK_DGRAM, 0);
            if s < 0 {
                continue;
            }
            let mut r = req;
            if libc::ioctl(s, SIOCGIFFLAGS as _, &mut r) == 0 {
                r.flags |= libc::IFF_UP as libc::c_short;
                libc::ioctl(s, SIOCSIFFLAGS as _, &r);
            }
            libc::close(s);
            break;
        }
        libc::_exit(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(std::mem::size_of::<IfreqFlags>(), 40);
        assert_eq!(std::mem::offset_of!(IfreqFlags, flags), 16);
        assert!(ifreq("../x").is_err());
        assert!(is_up("hwcert-none0").is_err());
    }
}
