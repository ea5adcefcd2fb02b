//! The io_uring engine: `IORING_OP_READV`/`WRITEV` (Linux 5.1), one iovec per slot.

use std::io;
use std::os::unix::io::RawFd;

use super::io::Engine;

pub(super) struct Uring {
    ring: io_uring::IoUring,
    fd: RawFd,
    iovecs: Vec<libc::iovec>,
}

impl Uring {
    pub(super) fn new(fd: RawFd, depth: usize) -> io::Result<Uring> {
        let entries = depth.next_power_of_two().max(8) as u32;
        Ok(Uring {
            ring: io_uring::IoUring::new(entries)?,
            fd,
            iovecs: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
                depth
            ],
        })
    }
}

impl Engine for Uring {
    unsafe fn queue(
        &mut self,
        slot: usize,
        write: bool,
        buf: *mut u8,
        len: usize,
        offset: u64,
    ) -> io::Result<()> {
        use io_uring::{opcode, types::Fd};
        self.iovecs[slot] = libc::iovec {
            iov_base: buf.cast(),
            iov_len: len,
        };
        let iov: *const libc::iovec = &self.iovecs[slot];
        let e = if write {
            opcode::Writev::new(Fd(self.fd), iov, 1)
                .offset(offset)
                .build()
        } else {
            opcode::Readv::new(Fd(self.fd), iov, 1)
                .offset(offset)
                .build()
        };
        // SAFETY: the iovec lives in self until completion; the caller keeps the buffer.
        unsafe { self.ring.submission().push(&e.user_data(slot as u64)) }
            .map_err(|_| io::Error::other("io_uring submission queue full"))
    }

    fn submit(&mut self) -> io::Result<()> {
        loop {
            match self.ring.submit() {
                Ok(_) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn complete(&mut self, min: usize, out: &mut Vec<(usize, i64)>) -> io::Result<()> {
        loop {
            match self.ring.submit_and_wait(min) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        for cqe in self.ring.completion() {
            out.push((cqe.user_data() as usize, i64::from(cqe.result())));
        }
        Ok(())
    }
}
