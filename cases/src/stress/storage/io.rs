//! The I/O interface the workloads drive: what an [`Engine`] does (queue, submit, reap), which
//! engines there are, and the page-aligned buffers the requests read into and write from.

use std::io;

use crate::stress::sys::Mapping;

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    IoUring,
    Aio,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::IoUring => "io_uring",
            EngineKind::Aio => "aio",
        }
    }
}

/// Asynchronous reads and writes of slot buffers.
pub(super) trait Engine {
    /// Queue one I/O of `len` bytes at `offset` from/into `buf`, tagged `slot`.
    ///
    /// # Safety
    /// `buf..buf+len` must stay valid and untouched until the completion of `slot` is reaped.
    unsafe fn queue(
        &mut self,
        slot: usize,
        write: bool,
        buf: *mut u8,
        len: usize,
        offset: u64,
    ) -> io::Result<()>;
    /// Submit what is queued, without waiting.
    fn submit(&mut self) -> io::Result<()>;
    /// Submit what is queued, wait for at least `min` completions, append (slot, result).
    fn complete(&mut self, min: usize, out: &mut Vec<(usize, i64)>) -> io::Result<()>;
}

/// `depth` page-aligned buffers of `bs` bytes.
pub(super) struct Pool {
    map: Mapping,
    pub(super) bs: usize,
    pub(super) slots: usize,
}

impl Pool {
    pub(super) fn new(depth: usize, bs: usize) -> io::Result<Pool> {
        Ok(Pool {
            map: Mapping::new(depth * bs)?,
            bs,
            slots: depth,
        })
    }
    pub(super) fn ptr(&self, slot: usize) -> *mut u8 {
        // SAFETY: slot < depth (callers), so the offset stays inside the mapping.
        unsafe { self.map.as_ptr().add(slot * self.bs) }
    }
    pub(super) fn slot(&mut self, slot: usize) -> &mut [u8] {
        let bs = self.bs;
        &mut self.map.bytes_mut()[slot * bs..(slot + 1) * bs]
    }
}

/// Where I/O goes.
pub(super) struct Io<'a> {
    pub(super) engine: &'a mut dyn Engine,
    pub(super) pool: &'a mut Pool,
    pub(super) depth: usize,
}
