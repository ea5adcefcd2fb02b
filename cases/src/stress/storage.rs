//! `storage::stress`: sequential write, checksummed read-back and 4 KiB random reads with
//! `O_DIRECT`, one instance per disk.
//!
//! **Where.** By default nothing on the disk is overwritten: the case finds a filesystem of the
//! disk mounted read-write (the disk itself, its partitions and everything built on them —
//! dm, LVM, md — through sysfs `holders/` and `proc/self/mountinfo`), picks a directory in it
//! (`var/tmp`, `tmp`, or the mount point, the first one writable on that filesystem, or the
//! directory in `storage_dir`, which must be on the disk) and writes one scratch file of
//! `storage_file_bytes` (default 1 GiB, shrunk to leave the filesystem 2 % and at least
//! 512 MiB free — 10 % on filesystems under 5 GiB), unlinked as soon as it is open, so
//! nothing is left behind even when the run is killed.
//! Every access uses `O_DIRECT`, so the page cache never answers for the disk and the file need
//! not outsize RAM. A disk with no writable filesystem is skipped with the reason.
//!
//! With `--destructive --device /dev/X` (X in [`crate::RunOptions::destructive_devices`]) the same
//! runs on the raw device (opened `O_EXCL`), over the whole device or `storage_device_bytes`,
//! after [`refusals`] finds nothing: it refuses a device that is mounted (itself, a partition or
//! anything built on it), used as swap, an LVM or MD member (holders, or an LVM2 label or MD
//! superblock on it), holds the root filesystem, or has holders at all.
//!
//! **What.** Cycles until `stress_seconds` (10 s when absent) runs out, each:
//! 1. sequential write of the region in `storage_seq_block_bytes` (1 MiB) requests,
//!    `storage_seq_depth` (4) in flight; every 4 KiB block carries its offset, the cycle's
//!    generation, the generation's random data mixed with the offset (incompressible, no two
//!    blocks alike) and a checksum ([`fill_block`]). The first cycle writes for at most 40 % of
//!    the time (a raw device is tested over what it reaches);
//! 2. sequential read-back of everything written, every block checked ([`check_block`]): a
//!    bad block fails the case and names its offset;
//! 3. random 4 KiB reads over what was written at queue depth `storage_rand_depth` (32) for a
//!    quarter of the time (1–60 s), each block checked too, each latency recorded; as fio does,
//!    each completed read is replaced and submitted at once (batches would queue behind
//!    themselves and widen the latency spread).
//!
//! I/O goes through io_uring where the kernel allows it (`IORING_OP_READV`/`WRITEV`, Linux 5.1),
//! else Linux native AIO (`io_submit`); `storage_engine = io_uring | aio` forces one.
//!
//! **Measured.** `seq_write_mb_s`, `seq_read_mb_s` (MB = 10⁶ bytes, as fio's `MB/s`),
//! `randread_4k_iops`, `lat_p50_us`, `lat_p99_us` (submission to reaping, from a log-linear
//! histogram with 1/32 resolution), `randread_seconds` (the time the random reads ran, all
//! cycles together: what the IOPS figure is averaged over); `bad_blocks`, `io_errors` and
//! `new_hardware_errors` (the machine-check, EDAC and PCIe AER counters of the disk's
//! controller) judged against zero.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hwsys::mountinfo;
pub use hwsys::mountinfo::Mount;
use hwsys::units::iec;
use hwsys::Sysroot;

use super::counters::Counters;
use super::settings::{duration, setting, size_setting, STRESS_TIMEOUT};
use super::sys;
use crate::{Case, CaseInfo, Component, Context, Inventory, Requirements, Selection, Target};
use crate::{Verdict, Verdict as V};

/// The case.
pub struct StorageStress {
    info: CaseInfo,
}

impl StorageStress {
    pub fn new() -> StorageStress {
        StorageStress {
            info: CaseInfo {
                name: "storage::stress".into(),
                purpose: "Sequential write, checksummed read-back and 4 KiB random reads with \
                          O_DIRECT on a scratch file of the disk (the raw device with \
                          --destructive --device), every block read back as written"
                    .into(),
                component: Component::Storage,
                requirements: Requirements {
                    live: true,
                    ..Requirements::default()
                },
                timeout: STRESS_TIMEOUT,
                estimate: Duration::from_secs(300),
                blocker: true,
            },
        }
    }
}

impl Default for StorageStress {
    fn default() -> Self {
        StorageStress::new()
    }
}

impl Case for StorageStress {
    fn info(&self) -> &CaseInfo {
        &self.info
    }

    fn select(&self, inv: &Inventory) -> Selection {
        let targets: Vec<Target> = inv
            .storage
            .iter()
            .filter(|d| d.kind.as_deref() == Some("disk"))
            .filter(|d| d.size_bytes.unwrap_or(0) > 0 && d.read_only != Some(true))
            .map(|d| {
                let mut label: Vec<String> = Vec::new();
                label.extend(d.model.clone());
                if let Some(s) = d.size_bytes {
                    label.push(iec(s));
                }
                label.extend(d.transport.clone());
                Target::item(&d.name, (!label.is_empty()).then(|| label.join(", ")))
            })
            .collect();
        if targets.is_empty() {
            Selection::NotApplicable("no writable disk".into())
        } else {
            Selection::Targets(targets)
        }
    }

    fn run(&self, ctx: &mut Context<'_>) -> Verdict {
        run_with(ctx, &Hooks::default())
    }
}

/// Called with the file or device and the bytes written, between write and read-back.
pub(crate) type AfterWrite<'a> = &'a (dyn Fn(&Path, u64) + Sync);

/// Test hooks.
#[derive(Default)]
pub(crate) struct Hooks<'a> {
    pub after_write: Option<AfterWrite<'a>>,
}

// ---------------------------------------------------------------------------------------------
// Blocks

/// The unit of checking.
pub const BLOCK: usize = 4096;
const WORDS: usize = BLOCK / 8;

/// The random data of one generation: 4 KiB from splitmix64, mixed into every block with the
/// block's offset (so no two blocks are alike and none compresses).
pub struct Noise(Vec<u64>);

impl Noise {
    pub fn new(generation: u64) -> Noise {
        let mut s = generation ^ 0x6877_6365_7274_5354;
        Noise(
            (0..WORDS)
                .map(|_| super::kernels::splitmix64(&mut s))
                .collect(),
        )
    }
}

/// Fill one block: offset, generation, the generation's noise mixed with the offset, and a
/// checksum of all that.
pub fn fill_block(words: &mut [u64], offset: u64, generation: u64, noise: &Noise) {
    debug_assert_eq!(words.len(), WORDS);
    words[0] = offset;
    words[1] = generation;
    let salt = offset.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for (i, (w, n)) in words[2..WORDS - 1]
        .iter_mut()
        .zip(&noise.0[2..WORDS - 1])
        .enumerate()
    {
        *w = n ^ salt.wrapping_add(i as u64);
    }
    words[WORDS - 1] = checksum(&words[..WORDS - 1]);
}

/// What is wrong with a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadBlock {
    /// The contents do not match their checksum.
    Checksum,
    /// A well-formed block of another offset (a misdirected write or read).
    Misplaced(u64),
    /// A well-formed block of another generation (a lost write: stale data).
    Stale(u64),
}

impl BadBlock {
    fn describe(&self) -> String {
        match self {
            BadBlock::Checksum => "contents do not match their checksum".into(),
            BadBlock::Misplaced(o) => format!("holds the block written for offset {o}"),
            BadBlock::Stale(g) => format!("holds data of an earlier write (generation {g:#x})"),
        }
    }
}

/// Check one block read back from `offset`.
pub fn check_block(words: &[u64], offset: u64, generation: u64) -> Result<(), BadBlock> {
    if checksum(&words[..WORDS - 1]) != words[WORDS - 1] {
        return Err(BadBlock::Checksum);
    }
    if words[0] != offset {
        return Err(BadBlock::Misplaced(words[0]));
    }
    if words[1] != generation {
        return Err(BadBlock::Stale(words[1]));
    }
    Ok(())
}

/// Four multiply-xor lanes; every step is a bijection of the lane state, so any one changed
/// word always changes the sum.
fn checksum(words: &[u64]) -> u64 {
    const P: [u64; 4] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x27d4_eb2f_1656_67c5,
    ];
    let mut h = [1u64, 2, 3, 4];
    let mut chunks = words.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            h[l] = (h[l] ^ c[l]).wrapping_mul(P[l]).rotate_left(31);
        }
    }
    for (l, &w) in chunks.remainder().iter().enumerate() {
        h[l] = (h[l] ^ w).wrapping_mul(P[l]).rotate_left(31);
    }
    let mut z = h[0] ^ h[1].rotate_left(16) ^ h[2].rotate_left(32) ^ h[3].rotate_left(48);
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^ (z >> 33)
}

fn block_words(buf: &[u8]) -> &[u64] {
    // SAFETY: buffers come from page-aligned mappings and are whole blocks.
    unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u64>(), buf.len() / 8) }
}

fn block_words_mut(buf: &mut [u8]) -> &mut [u64] {
    // SAFETY: as block_words.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u64>(), buf.len() / 8) }
}

// ---------------------------------------------------------------------------------------------
// I/O engines

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
trait Engine {
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

fn open_engine(kind: EngineKind, fd: RawFd, depth: usize) -> io::Result<Box<dyn Engine>> {
    Ok(match kind {
        EngineKind::IoUring => Box::new(Uring::new(fd, depth)?),
        EngineKind::Aio => Box::new(Aio::new(fd, depth)?),
    })
}

struct Uring {
    ring: io_uring::IoUring,
    fd: RawFd,
    iovecs: Vec<libc::iovec>,
}

impl Uring {
    fn new(fd: RawFd, depth: usize) -> io::Result<Uring> {
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

struct Aio {
    ctx: libc::c_ulong,
    fd: RawFd,
    iocbs: Vec<Iocb>,
    pending: Vec<*mut Iocb>,
    events: Vec<IoEvent>,
}

impl Aio {
    fn new(fd: RawFd, depth: usize) -> io::Result<Aio> {
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

/// Whether an engine works here: one 4 KiB direct read at offset 0.
fn probe_engine(kind: EngineKind, fd: RawFd) -> io::Result<()> {
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

/// `depth` page-aligned buffers of `bs` bytes.
struct Pool {
    map: sys::Mapping,
    bs: usize,
    slots: usize,
}

impl Pool {
    fn new(depth: usize, bs: usize) -> io::Result<Pool> {
        Ok(Pool {
            map: sys::Mapping::new(depth * bs)?,
            bs,
            slots: depth,
        })
    }
    fn ptr(&self, slot: usize) -> *mut u8 {
        // SAFETY: slot < depth (callers), so the offset stays inside the mapping.
        unsafe { self.map.as_ptr().add(slot * self.bs) }
    }
    fn slot(&mut self, slot: usize) -> &mut [u8] {
        let bs = self.bs;
        &mut self.map.bytes_mut()[slot * bs..(slot + 1) * bs]
    }
}

// ---------------------------------------------------------------------------------------------
// Phases

/// A failure of the disk (not of the test).
#[derive(Debug, Clone)]
struct DiskFault {
    offset: u64,
    what: String,
}

#[derive(Debug, Default)]
struct Sequential {
    bytes: u64,
    secs: f64,
    bad: Vec<(u64, BadBlock)>,
    bad_count: u64,
}

/// Where I/O goes.
struct Io<'a> {
    engine: &'a mut dyn Engine,
    pool: &'a mut Pool,
    depth: usize,
}

/// Write (`write`) or read back and check `region` bytes from offset 0 in `bs` requests,
/// `io.depth` in flight, stopping early at `until` once `min_bytes` are under way. The pool holds twice that many buffers, so the CPU work (filling the
/// next buffers, checking the last ones) overlaps the device's instead of draining its queue.
fn sequential(
    io: &mut Io<'_>,
    write: bool,
    region: u64,
    generation: u64,
    until: Option<Instant>,
    min_bytes: u64,
) -> Result<Sequential, (DiskFault, Sequential)> {
    let bs = io.pool.bs as u64;
    let mut submitted = 0u64;
    let slots = io.pool.slots;
    let mut out = Sequential::default();
    let mut next = 0u64;
    let mut inflight = 0usize;
    let mut offsets = vec![0u64; slots];
    let mut lens = vec![0usize; slots];
    let mut done = Vec::with_capacity(slots);
    let mut free: Vec<usize> = (0..slots).rev().collect();
    // Write: buffers filled and waiting for a place in the queue. Read: buffers read and
    // waiting to be checked.
    let mut ready: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut stopped = false;
    let start = Instant::now();
    let fault = |offset: u64, what: String, out: Sequential| Err((DiskFault { offset, what }, out));
    let noise = Noise::new(generation);
    let verb = if write { "write" } else { "read" };
    loop {
        if !stopped && submitted >= min_bytes && until.is_some_and(|u| Instant::now() >= u) {
            stopped = true;
            if write {
                free.extend(ready.drain(..));
            }
        }
        // Keep the queue full.
        while inflight < io.depth && !stopped {
            let slot = if write {
                match ready.pop_front() {
                    Some(s) => s,
                    None => break,
                }
            } else {
                if next >= region {
                    break;
                }
                let Some(s) = free.pop() else { break };
                offsets[s] = next;
                lens[s] = bs.min(region - next) as usize;
                next += lens[s] as u64;
                s
            };
            // SAFETY: the slot's buffer is not touched again until its completion is reaped.
            let queued = unsafe {
                io.engine
                    .queue(slot, write, io.pool.ptr(slot), lens[slot], offsets[slot])
            };
            if let Err(e) = queued {
                return fault(offsets[slot], format!("cannot queue: {e}"), out);
            }
            submitted += lens[slot] as u64;
            inflight += 1;
        }
        if let Err(e) = io.engine.submit() {
            return fault(next, format!("cannot submit: {e}"), out);
        }
        // CPU work while the device works.
        if write {
            while !stopped && ready.len() < io.depth && next < region {
                let Some(slot) = free.pop() else { break };
                let len = bs.min(region - next) as usize;
                for (b, chunk) in io.pool.slot(slot)[..len]
                    .chunks_exact_mut(BLOCK)
                    .enumerate()
                {
                    fill_block(
                        block_words_mut(chunk),
                        next + (b * BLOCK) as u64,
                        generation,
                        &noise,
                    );
                }
                offsets[slot] = next;
                lens[slot] = len;
                next += len as u64;
                ready.push_back(slot);
            }
        } else {
            while let Some(slot) = ready.pop_front() {
                let off = offsets[slot];
                for (b, chunk) in io.pool.slot(slot)[..lens[slot]]
                    .chunks_exact(BLOCK)
                    .enumerate()
                {
                    let o = off + (b * BLOCK) as u64;
                    if let Err(bad) = check_block(block_words(chunk), o, generation) {
                        out.bad_count += 1;
                        if out.bad.len() < 8 {
                            out.bad.push((o, bad));
                        }
                    }
                }
                free.push(slot);
            }
        }
        if inflight == 0 {
            if write && !stopped && !ready.is_empty() {
                continue;
            }
            break;
        }
        done.clear();
        if let Err(e) = io.engine.complete(1, &mut done) {
            return fault(next, format!("cannot submit or reap: {e}"), out);
        }
        for &(slot, res) in &done {
            inflight -= 1;
            let (off, len) = (offsets[slot], lens[slot]);
            if res < 0 {
                let e = io::Error::from_raw_os_error((-res) as i32);
                return fault(off, format!("{verb} error: {e}"), out);
            }
            if res as usize != len {
                return fault(off, format!("short {verb}: {res} of {len} bytes"), out);
            }
            out.bytes += len as u64;
            if write {
                free.push(slot);
            } else {
                ready.push_back(slot);
            }
        }
    }
    out.secs = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Latency histogram: exact below 32 ns, then 32 sub-buckets per power of two (≈3 %).
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; 64 * 32],
            total: 0,
        }
    }
}

impl Histogram {
    fn index(v: u64) -> usize {
        if v < 32 {
            v as usize
        } else {
            let e = 63 - v.leading_zeros() as u64; // ≥ 5
            ((e - 4) * 32 + ((v >> (e - 5)) & 31)) as usize
        }
    }
    /// The middle of a bucket.
    fn value(i: usize) -> f64 {
        if i < 64 {
            i as f64
        } else {
            let e = (i / 32) as u64 + 4;
            let low = (32 + (i % 32) as u64) << (e - 5);
            low as f64 + ((1u64 << (e - 5)) as f64 - 1.0) / 2.0
        }
    }
    pub fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.total += 1;
    }
    pub fn count(&self) -> u64 {
        self.total
    }
    /// The value at quantile `q` (0–1), in the recorded unit.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i);
            }
        }
        0.0
    }
    fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.total += o.total;
    }
}

#[derive(Debug, Default)]
struct Random {
    ios: u64,
    secs: f64,
    hist: Histogram,
    bad: Vec<(u64, BadBlock)>,
    bad_count: u64,
}

/// Random 4 KiB reads over `[0, region)` until `until`.
fn random_reads(
    io: &mut Io<'_>,
    region: u64,
    generation: u64,
    until: Instant,
    seed: u64,
) -> Result<Random, (DiskFault, Random)> {
    let blocks = region / BLOCK as u64;
    let mut out = Random::default();
    if blocks == 0 {
        return Ok(out);
    }
    let mut rng = seed | 1;
    let mut next_offset = || {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        (rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % blocks) * BLOCK as u64
    };
    let mut offsets = vec![0u64; io.depth];
    let mut started = vec![Instant::now(); io.depth];
    let mut done = Vec::with_capacity(io.depth);
    let fault = |offset: u64, what: String, out: Random| Err((DiskFault { offset, what }, out));
    // Queue one read on a slot, stamped now.
    let mut queue = |io: &mut Io<'_>, slot: usize, offsets: &mut [u64], started: &mut [Instant]| {
        let off = next_offset();
        offsets[slot] = off;
        started[slot] = Instant::now();
        // SAFETY: the slot's buffer is not touched until its completion is reaped.
        unsafe { io.engine.queue(slot, false, io.pool.ptr(slot), BLOCK, off) }.map_err(|e| (off, e))
    };
    let start = Instant::now();
    for slot in 0..io.depth {
        if let Err((off, e)) = queue(io, slot, &mut offsets, &mut started) {
            return fault(off, format!("cannot queue: {e}"), out);
        }
    }
    let mut inflight = io.depth;
    // Like fio, every completion is replaced (and submitted) at once, one at a time: a batch
    // submitted together would queue behind itself and widen the latency spread.
    while inflight > 0 {
        done.clear();
        if let Err(e) = io.engine.complete(1, &mut done) {
            return fault(0, format!("cannot submit or reap: {e}"), out);
        }
        for &(slot, res) in &done {
            let now = Instant::now();
            inflight -= 1;
            let off = offsets[slot];
            if res < 0 {
                let e = io::Error::from_raw_os_error((-res) as i32);
                return fault(off, format!("read error: {e}"), out);
            }
            if res as usize != BLOCK {
                return fault(off, format!("short read: {res} of {BLOCK} bytes"), out);
            }
            out.ios += 1;
            out.hist
                .record(now.duration_since(started[slot]).as_nanos() as u64);
            if let Err(bad) = check_block(block_words(io.pool.slot(slot)), off, generation) {
                out.bad_count += 1;
                if out.bad.len() < 8 {
                    out.bad.push((off, bad));
                }
            }
            if now < until {
                if let Err((off, e)) = queue(io, slot, &mut offsets, &mut started) {
                    return fault(off, format!("cannot queue: {e}"), out);
                }
                if let Err(e) = io.engine.submit() {
                    return fault(off, format!("cannot submit: {e}"), out);
                }
                inflight += 1;
            }
        }
    }
    out.secs = start.elapsed().as_secs_f64();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Where to write: mounts, holders, refusals

/// The mounts of `proc/self/mountinfo`: none when it cannot be read, lines that are not
/// mountinfo lines left out.
fn mounts(sys: &Sysroot) -> Vec<Mount> {
    sys.read("proc/self/mountinfo")
        .map(|t| mountinfo::parse(&t).0)
        .unwrap_or_default()
}

/// A block device related to a disk: the disk, a partition, or something built on them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Member {
    name: String,
    /// `sys/block/...` path of its directory.
    path: String,
    /// Whose holder it is (None for the disk and its partitions).
    on: Option<String>,
}

/// The disk, its partitions and everything built on them (recursively through `holders/`).
fn family(sys: &Sysroot, disk: &str) -> Vec<Member> {
    let mut out = vec![Member {
        name: disk.to_string(),
        path: format!("sys/block/{disk}"),
        on: None,
    }];
    for p in partitions(sys, disk) {
        out.push(Member {
            path: format!("sys/block/{disk}/{p}"),
            name: p,
            on: None,
        });
    }
    let mut i = 0;
    let mut seen: BTreeSet<String> = out.iter().map(|m| m.name.clone()).collect();
    while i < out.len() && out.len() < 1000 {
        let m = out[i].clone();
        for h in sys.list_dir(&format!("{}/holders", m.path)) {
            if seen.insert(h.clone()) {
                out.push(Member {
                    path: format!("sys/block/{h}"),
                    name: h,
                    on: Some(m.name.clone()),
                });
            }
        }
        i += 1;
    }
    out
}

/// Partitions of a disk: its subdirectories with a `partition` file.
fn partitions(sys: &Sysroot, disk: &str) -> Vec<String> {
    sys.list_dir(&format!("sys/block/{disk}"))
        .into_iter()
        .filter(|p| sys.exists(&format!("sys/block/{disk}/{p}/partition")))
        .collect()
}

/// `/dev` names a member may be mounted or swapped by.
fn dev_names(sys: &Sysroot, m: &Member) -> Vec<String> {
    let mut v = vec![format!("/dev/{}", m.name)];
    if let Some(dm) = sys.attr(&format!("{}/dm/name", m.path)) {
        v.push(format!("/dev/mapper/{dm}"));
    }
    v
}

/// What a holder is, for a refusal.
fn describe_holder(sys: &Sysroot, h: &Member) -> String {
    let on = h.on.as_deref().unwrap_or("?");
    let uuid = sys.attr(&format!("{}/dm/uuid", h.path)).unwrap_or_default();
    let dm = sys
        .attr(&format!("{}/dm/name", h.path))
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    if h.name.starts_with("md") {
        format!("{on} is a member of MD array {}", h.name)
    } else if uuid.starts_with("LVM-") {
        format!("{on} is an LVM physical volume of {}{dm}", h.name)
    } else if uuid.starts_with("CRYPT-") {
        format!("{on} holds the encrypted volume {}{dm}", h.name)
    } else {
        format!("{on} is held by {}{dm}", h.name)
    }
}

/// Why the raw device `name` must not be written, from sysfs and procfs alone (see
/// [`live_refusals`] for what needs the device itself). Empty when nothing is found.
pub fn refusals(sys: &Sysroot, name: &str) -> Vec<String> {
    if name.is_empty() || name.contains('/') || !sys.is_dir(&format!("sys/block/{name}")) {
        return vec![format!(
            "{name} is not a whole block device (no sys/block/{name})"
        )];
    }
    let mut out = Vec::new();
    if sys.attr(&format!("sys/block/{name}/ro")).as_deref() == Some("1") {
        out.push(format!("{name} is read-only"));
    }
    let fam = family(sys, name);
    for h in fam.iter().filter(|m| m.on.is_some()) {
        out.push(describe_holder(sys, h));
    }
    let mounts = mounts(sys);
    for m in &fam {
        let majmin = sys.attr(&format!("{}/dev", m.path));
        let names = dev_names(sys, m);
        for mt in &mounts {
            if Some(&mt.majmin) == majmin.as_ref() || names.contains(&mt.source) {
                out.push(format!("{} is mounted at {}", m.name, mt.point));
                if mt.point == "/" {
                    out.push(format!(
                        "{name} holds the root filesystem (/ is on {})",
                        m.name
                    ));
                }
            }
        }
    }
    if let Some(swaps) = sys.read("proc/swaps") {
        for dev in mountinfo::swaps(&swaps) {
            if let Some(m) = fam.iter().find(|m| dev_names(sys, m).contains(&dev)) {
                out.push(format!("{} is in use as swap", m.name));
            }
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|r| seen.insert(r.clone()));
    out
}

/// Refusals that need the device node: an LVM2 label or an MD superblock on it (a member of a
/// volume group or array that is not active), or the kernel refusing an exclusive open.
pub fn live_refusals(dev: &Path, size: u64) -> Vec<String> {
    use std::os::unix::fs::FileExt;
    let mut out = Vec::new();
    let f = match File::open(dev) {
        Ok(f) => f,
        Err(e) => return vec![format!("cannot open {} to check it: {e}", dev.display())],
    };
    let mut head = vec![0u8; 8192];
    let n = f.read_at(&mut head, 0).unwrap_or(0);
    head.truncate(n);
    for sector in 0..4 {
        let s = &head[(sector * 512).min(n)..((sector + 1) * 512).min(n)];
        if s.len() >= 32 && &s[..8] == b"LABELONE" && &s[24..32] == b"LVM2 001" {
            out.push(format!(
                "{} carries an LVM2 physical volume label",
                dev.display()
            ));
        }
    }
    const MD_MAGIC: u32 = 0xa92b_4efc;
    let mut md_at = vec![("1.1", 0u64), ("1.2", 4096)];
    if size >= 128 << 10 {
        md_at.push(("0.90", (size & !0xffff) - 0x10000));
        md_at.push(("1.0", (size - 8192) & !0xfff));
    }
    for (version, at) in md_at {
        let mut m = [0u8; 4];
        if f.read_at(&mut m, at).ok() == Some(4) && u32::from_le_bytes(m) == MD_MAGIC {
            out.push(format!(
                "{} carries an MD RAID superblock (metadata {version})",
                dev.display()
            ));
        }
    }
    if let Err(e) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(dev)
    {
        out.push(format!(
            "the kernel refuses {} an exclusive open ({e}): mounted, swap, or held by dm/md",
            dev.display()
        ));
    }
    out
}

fn majmin_of(dev: u64) -> String {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    format!("{major}:{minor}")
}

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

fn writable(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access reads the NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// A directory on a writable filesystem of `disk`, and that filesystem's mount.
fn scratch_dir(
    sys: &Sysroot,
    disk: &str,
    wanted: Option<&Path>,
) -> Result<(PathBuf, Mount), String> {
    let fam = family(sys, disk);
    let mounts = mounts(sys);
    let mut on_disk: Vec<Mount> = Vec::new();
    for m in &fam {
        let majmin = sys.attr(&format!("{}/dev", m.path));
        let names = dev_names(sys, m);
        for mt in &mounts {
            if Some(&mt.majmin) == majmin.as_ref() || names.contains(&mt.source) {
                on_disk.push(mt.clone());
            }
        }
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

// ---------------------------------------------------------------------------------------------
// The run

pub(crate) fn run_with(ctx: &mut Context<'_>, hooks: &Hooks<'_>) -> Verdict {
    let Some(name) = ctx.target.id.clone() else {
        return V::error("storage::stress needs a disk target");
    };
    let dur = duration(ctx.options);
    let settings = (|| -> Result<_, String> {
        Ok((
            size_setting(ctx, "storage_file_bytes")?,
            setting::<String>(ctx, "storage_dir")?,
            setting::<String>(ctx, "storage_engine")?,
            size_setting(ctx, "storage_seq_block_bytes")?,
            setting::<usize>(ctx, "storage_seq_depth")?,
            setting::<usize>(ctx, "storage_rand_depth")?,
            size_setting(ctx, "storage_device_bytes")?,
        ))
    })();
    let (file_bytes, dir, engine, seq_bs, seq_depth, rand_depth, device_bytes) = match settings {
        Ok(s) => s,
        Err(e) => return V::error(e),
    };
    let seq_bs = seq_bs.unwrap_or(1 << 20);
    if seq_bs == 0 || seq_bs % BLOCK as u64 != 0 || seq_bs > 64 << 20 {
        return V::error(format!(
            "storage_seq_block_bytes = {seq_bs}: expected a multiple of 4096 up to 64M"
        ));
    }
    let seq_depth = seq_depth.unwrap_or(4).clamp(1, 256);
    let rand_depth = rand_depth.unwrap_or(32).clamp(1, 1024);
    let engine = match engine.as_deref().map(str::trim) {
        None | Some("auto") => None,
        Some("io_uring") | Some("uring") => Some(EngineKind::IoUring),
        Some("aio") | Some("libaio") => Some(EngineKind::Aio),
        Some(e) => {
            return V::error(format!(
                "storage_engine = '{e}': expected auto, io_uring or aio"
            ))
        }
    };
    if !ctx.sysroot.is_live() {
        return V::skip("storage::stress runs only on the live system");
    }
    let destructive = destructive_listed(&ctx.options.destructive_devices, &name, true);

    // Open the file or the device.
    let path: PathBuf;
    let region: u64;
    let file: File;
    if destructive {
        if !ctx.is_root {
            return V::skip(format!("writing /dev/{name} needs root"));
        }
        let dev = PathBuf::from(format!("/dev/{name}"));
        let size = ctx
            .sysroot
            .parse::<u64>(&format!("sys/block/{name}/size"))
            .map(|s| s * 512)
            .unwrap_or(0);
        let mut refused = refusals(&ctx.sysroot, &name);
        if refused.is_empty() {
            refused = live_refusals(&dev, size);
        }
        if !refused.is_empty() {
            return V::error(format!(
                "refusing to write /dev/{name}: {}",
                refused.join("; ")
            ));
        }
        file = match OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_DIRECT | libc::O_EXCL)
            .open(&dev)
        {
            Ok(f) => f,
            Err(e) => {
                return V::error(format!("cannot open {} for direct I/O: {e}", dev.display()))
            }
        };
        let limit = device_bytes.unwrap_or(size).min(size);
        region = limit / seq_bs * seq_bs;
        ctx.log(format!(
            "DESTRUCTIVE: raw device {} ({}), testing {}",
            dev.display(),
            iec(size),
            iec(region)
        ));
        path = dev;
    } else {
        let (dir, mount) = match scratch_dir(&ctx.sysroot, &name, dir.as_deref().map(Path::new)) {
            Ok(d) => d,
            Err(e) if dir.is_some() => return V::error(e),
            Err(e) => return V::skip(e),
        };
        let (free, size) = match free_bytes(&dir) {
            Ok(f) => f,
            Err(e) => return V::error(format!("statvfs {}: {e}", dir.display())),
        };
        let keep = (512u64 << 20).max(size / 50).min(size / 10);
        let want = file_bytes.unwrap_or(1 << 30);
        let fits = free.saturating_sub(keep).min(want) / seq_bs * seq_bs;
        if fits < (64 << 20).min(want) || fits == 0 {
            return V::skip(format!(
                "{} ({} on {}) has {} free: not enough for a scratch file while keeping {} free",
                mount.point,
                mount.fstype,
                mount.source,
                iec(free),
                iec(keep)
            ));
        }
        if fits < want {
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
        file = match opened {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                return V::skip(format!(
                    "{} ({}) does not support O_DIRECT",
                    mount.point, mount.fstype
                ))
            }
            Err(e) => return V::error(format!("cannot create {}: {e}", spath.display())),
        };
        if let Err(e) = unlinked {
            return V::error(format!("cannot unlink {}: {e}", spath.display()));
        }
        // SAFETY: plain fallocate on our own file descriptor.
        let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, fits as libc::off_t) };
        if r != 0 {
            let e = io::Error::last_os_error();
            if let Err(e2) = file.set_len(fits) {
                return V::error(format!("cannot size {}: {e}; {e2}", spath.display()));
            }
        }
        region = fits;
        ctx.log(format!(
            "scratch file {} of {} on {} ({} from {}), unlinked while open",
            spath.display(),
            iec(region),
            mount.point,
            mount.fstype,
            mount.source
        ));
        path = spath;
    }
    if region < BLOCK as u64 {
        return V::error(format!("{}: too small to test", path.display()));
    }

    // The engine.
    let fd = file.as_raw_fd();
    let kind = match engine {
        Some(k) => k,
        None => match probe_engine(EngineKind::IoUring, fd) {
            Ok(()) => EngineKind::IoUring,
            Err(e) => {
                ctx.log(format!("io_uring unavailable ({e}): using Linux AIO"));
                EngineKind::Aio
            }
        },
    };
    let pools = (
        Pool::new(2 * seq_depth, seq_bs as usize),
        Pool::new(rand_depth, BLOCK),
    );
    let (mut seq_pool, mut rand_pool) = match pools {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return V::error(format!("cannot map I/O buffers: {e}")),
    };
    let engines = (
        open_engine(kind, fd, 2 * seq_depth),
        open_engine(kind, fd, rand_depth),
    );
    let (mut seq_engine, mut rand_engine) = match engines {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return V::error(format!("cannot set up {}: {e}", kind.name()))
        }
    };
    ctx.log(format!(
        "engine {}, sequential {} × {} in flight, random 4 KiB × {} in flight, {} s",
        kind.name(),
        iec(seq_bs),
        seq_depth,
        rand_depth,
        dur.as_secs_f64()
    ));

    let pci = ctx
        .inventory
        .storage
        .iter()
        .find(|d| d.name == name)
        .and_then(|d| d.pci_address.clone());
    let read_counters = |sys: &Sysroot| {
        let mut c = Counters::read(sys);
        if let Some(p) = &pci {
            c.add_aer(sys, p);
        }
        c
    };
    let before = read_counters(&ctx.sysroot);

    let start = Instant::now();
    let deadline = start + dur;
    let rand_window = dur
        .mul_f64(0.25)
        .clamp(Duration::from_secs(1), Duration::from_secs(60));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()) << 32;
    let (mut write_bytes, mut write_secs, mut read_bytes, mut read_secs) = (0u64, 0.0, 0u64, 0.0);
    let mut hist = Histogram::default();
    let (mut rand_secs, mut rand_ios) = (0.0, 0u64);
    let mut bad: Vec<(u64, BadBlock)> = Vec::new();
    let mut bad_count = 0u64;
    let mut fault: Option<DiskFault> = None;
    let mut cycle = 0u64;
    loop {
        if cycle > 0 && Instant::now() >= deadline {
            break;
        }
        let generation = super::kernels::splitmix64(&mut (seed ^ cycle));
        let mut sio = Io {
            engine: seq_engine.as_mut(),
            pool: &mut seq_pool,
            depth: seq_depth,
        };
        let write_until = if cycle == 0 {
            start + dur.mul_f64(0.4)
        } else {
            deadline
        };
        // The first cycle writes at least 16 requests' worth whatever the time, so there is
        // always something to read back and to read at random.
        let at_least = if cycle == 0 {
            region.min(16 * seq_bs)
        } else {
            0
        };
        let w = match sequential(
            &mut sio,
            true,
            region,
            generation,
            Some(write_until),
            at_least,
        ) {
            Ok(w) => w,
            Err((f, _)) => {
                fault = Some(f);
                break;
            }
        };
        write_bytes += w.bytes;
        write_secs += w.secs;
        let written = w.bytes;
        if let Err(e) = file.sync_data() {
            fault = Some(DiskFault {
                offset: 0,
                what: format!("fdatasync after writing: {e}"),
            });
            break;
        }
        if let Some(h) = hooks.after_write {
            let reopen = match destructive {
                true => path.clone(),
                false => PathBuf::from(format!("/proc/self/fd/{fd}")),
            };
            h(&reopen, written);
        }
        let r = match sequential(&mut sio, false, written, generation, None, 0) {
            Ok(r) => r,
            Err((f, r)) => {
                bad.extend(r.bad);
                bad_count += r.bad_count;
                fault = Some(f);
                break;
            }
        };
        read_bytes += r.bytes;
        read_secs += r.secs;
        bad_count += r.bad_count;
        bad.extend(r.bad);
        if bad_count > 0 {
            break;
        }
        let now = Instant::now();
        let until = if cycle == 0 {
            (now + rand_window).min(deadline.max(now + rand_window.min(dur.mul_f64(0.2))))
        } else {
            (now + rand_window).min(deadline)
        };
        let mut rio = Io {
            engine: rand_engine.as_mut(),
            pool: &mut rand_pool,
            depth: rand_depth,
        };
        match random_reads(&mut rio, written, generation, until, generation ^ seed) {
            Ok(r) => {
                rand_ios += r.ios;
                rand_secs += r.secs;
                hist.merge(&r.hist);
                bad_count += r.bad_count;
                bad.extend(r.bad);
            }
            Err((f, r)) => {
                bad_count += r.bad_count;
                bad.extend(r.bad);
                fault = Some(f);
                break;
            }
        }
        if bad_count > 0 {
            break;
        }
        cycle += 1;
    }
    drop(file);
    let after = read_counters(&ctx.sysroot);

    let rate = |b: u64, s: f64| if s > 0.0 { b as f64 / s / 1e6 } else { 0.0 };
    ctx.measure("seq_write_mb_s", rate(write_bytes, write_secs), "MB/s");
    ctx.measure("seq_read_mb_s", rate(read_bytes, read_secs), "MB/s");
    ctx.measure(
        "randread_4k_iops",
        if rand_secs > 0.0 {
            rand_ios as f64 / rand_secs
        } else {
            0.0
        },
        "IOPS",
    );
    // How long the IOPS figure was measured over (all random phases together): the benchmark
    // gives its reference the same time.
    ctx.measure("randread_seconds", rand_secs, "s");
    ctx.measure("lat_p50_us", hist.quantile(0.50) / 1e3, "µs");
    ctx.measure("lat_p99_us", hist.quantile(0.99) / 1e3, "µs");
    ctx.measure("test_bytes", region as f64, "bytes");
    ctx.measure(
        "cycles",
        (cycle + u64::from(fault.is_some() || bad_count > 0)) as f64,
        "cycles",
    );
    ctx.judge("bad_blocks", bad_count as f64, "blocks", "==", 0.0);
    ctx.judge(
        "io_errors",
        u64::from(fault.is_some()) as f64,
        "errors",
        "==",
        0.0,
    );
    let new_errors = after.new_errors(&before);
    ctx.judge(
        "new_hardware_errors",
        new_errors.len() as f64,
        "counters",
        "==",
        0.0,
    );

    let where_ = |o: u64| {
        format!(
            "offset {o} (block {} of {})",
            o / BLOCK as u64,
            path.display()
        )
    };
    if bad_count > 0 {
        let lines: Vec<String> = bad
            .iter()
            .take(4)
            .map(|(o, b)| format!("{}: {}", where_(*o), b.describe()))
            .collect();
        return V::fail(
            "every block reads back as written (checksum, offset and generation)",
            format!("{bad_count} bad blocks; {}", lines.join("; ")),
        );
    }
    if let Some(f) = fault {
        return V::fail(
            "every request completes without error",
            format!("{}: {}", where_(f.offset), f.what),
        );
    }
    if !new_errors.is_empty() {
        return V::fail(
            "no new machine-check, EDAC or PCIe AER errors",
            new_errors.join("; "),
        );
    }
    Verdict::Pass
}

#[cfg(test)]
mod tests;
