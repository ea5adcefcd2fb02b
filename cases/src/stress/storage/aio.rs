//! The Linux native AIO engine: the `io_setup`/`io_submit`/`io_getevents` system calls and the
//! `struct iocb`/`struct io_event` ABI of linux/aio_abi.h.

use std::io;
use std::os::unix::io::RawFd;

use super::io::Engine;

/// `struct iocb` of linux/aio_abi.h (little-endian layout; key and rw_flags are both zero here,
/// so their order does not matter).
#[repr(C)]
#[derive(Clone, Copy)]
struct Iocb {
    aio_data: u64,
    aio_key_rw_flags: u64,
    aio_lio_opcode: u16,
    aio_reqprio: i16,
    aio_fildes: u32,
    aio_buf: u64,
    aio_nbytes: u64,
    aio_offset: i64,
    aio_reserved2: u64,
    aio_flags: u32,
    aio_resfd: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct IoEvent {
    data: u64,
    obj: u64,
    res: i64,
    res2: i64,
}

const IOCB_CMD_PREAD: u16 = 0;
const IOCB_CMD_PWRITE: u16 = 1;

pub(super) struct Aio {
    ctx: libc::c_ulong,
    fd: RawFd,
    iocbs: Vec<Iocb>,
    pending: Vec<*mut Iocb>,
    events: Vec<IoEvent>,
}

impl Aio {
    pub(super) fn new(fd: RawFd, depth: usize) -> io::Result<Aio> {
        let mut ctx: libc::c_ulong = 0;
        // SAFETY: io_setup writes the context id into ctx.
        let r = unsafe { libc::syscall(libc::SYS_io_setup, depth as libc::c_long, &mut ctx) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let zero = Iocb {
            aio_data: 0,
            aio_key_rw_flags: 0,
            aio_lio_opcode: 0,
            aio_reqprio: 0,
            aio_fildes: 0,
            aio_buf: 0,
            aio_nbytes: 0,
            aio_offset: 0,
            aio_reserved2: 0,
            aio_flags: 0,
            aio_resfd: 0,
        };
        Ok(Aio {
            ctx,
            fd,
            iocbs: vec![zero; depth],
            pending: Vec::with_capacity(depth),
            events: vec![IoEvent::default(); depth],
        })
    }
}

impl Engine for Aio {
    unsafe fn queue(
        &mut self,
        slot: usize,
        write: bool,
        buf: *mut u8,
        len: usize,
        offset: u64,
    ) -> io::Result<()> {
        let cb = &mut self.iocbs[slot];
        cb.aio_data = slot as u64;
        cb.aio_lio_opcode = if write {
            IOCB_CMD_PWRITE
        } else {
            IOCB_CMD_PREAD
        };
        cb.aio_fildes = self.fd as u32;
        cb.aio_buf = buf as u64;
        cb.aio_nbytes = len as u64;
        cb.aio_offset = offset as i64;
        let p: *mut Iocb = cb;
        self.pending.push(p);
        Ok(())
    }

    fn submit(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            // SAFETY: pending holds pointers into self.iocbs, which outlive the requests.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_io_submit,
                    self.ctx,
                    self.pending.len() as libc::c_long,
                    self.pending.as_mut_ptr(),
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) | Some(libc::EAGAIN) => continue,
                    _ => return Err(e),
                }
            }
            self.pending.drain(..r as usize);
        }
        Ok(())
    }

    fn complete(&mut self, min: usize, out: &mut Vec<(usize, i64)>) -> io::Result<()> {
        self.submit()?;
        let got = loop {
            // SAFETY: events has room for events.len() entries.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_io_getevents,
                    self.ctx,
                    min as libc::c_long,
                    self.events.len() as libc::c_long,
                    self.events.as_mut_ptr(),
                    std::ptr::null_mut::<libc::timespec>(),
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(e);
            }
            break r as usize;
        };
        for ev in &self.events[..got] {
            out.push((ev.data as usize, ev.res));
        }
        Ok(())
    }
}

impl Drop for Aio {
    fn drop(&mut self) {
        // SAFETY: the context is ours; destroying it cancels/waits for its requests.
        unsafe {
            libc::syscall(libc::SYS_io_destroy, self.ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abi_structs_have_the_kernels_sizes() {
        // linux/aio_abi.h: struct iocb is 64 bytes, struct io_event 32.
        assert_eq!(std::mem::size_of::<Iocb>(), 64);
        assert_eq!(std::mem::size_of::<IoEvent>(), 32);
        // Every field, on x86_64 and aarch64 alike (this test runs on both).
        use std::mem::offset_of;
        let iocb = [
            offset_of!(Iocb, aio_data),
            offset_of!(Iocb, aio_key_rw_flags),
            offset_of!(Iocb, aio_lio_opcode),
            offset_of!(Iocb, aio_reqprio),
            offset_of!(Iocb, aio_fildes),
            offset_of!(Iocb, aio_buf),
            offset_of!(Iocb, aio_nbytes),
            offset_of!(Iocb, aio_offset),
            offset_of!(Iocb, aio_reserved2),
            offset_of!(Iocb, aio_flags),
            offset_of!(Iocb, aio_resfd),
        ];
        assert_eq!(iocb, [0, 8, 16, 18, 20, 24, 32, 40, 48, 56, 60]);
        let event = [
            offset_of!(IoEvent, data),
            offset_of!(IoEvent, obj),
            offset_of!(IoEvent, res),
            offset_of!(IoEvent, res2),
        ];
        assert_eq!(event, [0, 8, 16, 24]);
    }
}
