//! Choosing an engine: opening one of a kind on a file descriptor, and probing whether one
//! works here (io_uring may be missing or forbidden, where Linux AIO still works).

use std::io;
use std::os::unix::io::RawFd;

use super::aio::Aio;
use super::block::BLOCK;
use super::io::{Engine, EngineKind, Pool};
use super::uring::Uring;

/// An engine of `kind` on `fd` with room for `depth` requests in flight.
pub(super) fn open_engine(
    kind: EngineKind,
    fd: RawFd,
    depth: usize,
) -> io::Result<Box<dyn Engine>> {
    Ok(match kind {
        EngineKind::IoUring => Box::new(Uring::new(fd, depth)?),
        EngineKind::Aio => Box::new(Aio::new(fd, depth)?),
    })
}

/// Whether an engine works here: one 4 KiB direct read at offset 0.
pub(super) fn probe_engine(kind: EngineKind, fd: RawFd) -> io::Result<()> {
    let mut engine = open_engine(kind, fd, 1)?;
    let pool = Pool::new(1, BLOCK)?;
    // SAFETY: the buffer lives until the completion is reaped below.
    unsafe { engine.queue(0, false, pool.ptr(0), BLOCK, 0)? };
    let mut done = Vec::new();
    engine.complete(1, &mut done)?;
    match done.first() {
        Some(&(_, r)) if r < 0 => Err(io::Error::from_raw_os_error((-r) as i32)),
        Some(_) => Ok(()),
        None => Err(io::Error::other("no completion")),
    }
}
