//! The workloads of one cycle: the sequential write of the region, its checked read-back, and
//! random 4 KiB reads at a queue depth, each completion replaced at once, each latency recorded.

use std::collections::VecDeque;
use std::io;
use std::time::Instant;

use super::block::{block_words, block_words_mut, check_block, fill_block, BadBlock, Noise, BLOCK};
use super::histogram::Histogram;
use super::io::Io;

/// A failure of the disk (not of the test).
#[derive(Debug, Clone)]
pub(super) struct DiskFault {
    pub(super) offset: u64,
    pub(super) what: String,
}

/// What a sequential pass did: bytes moved, seconds taken, where it stopped and how far it
/// reached, the request latencies, the first bad blocks and their count.
#[derive(Debug, Default)]
pub(super) struct Sequential {
    pub(super) bytes: u64,
    pub(super) secs: f64,
    /// The offset the next pass continues from.
    pub(super) end: u64,
    /// The highest end of a request (every request queued completed, or the pass failed).
    pub(super) reached: u64,
    pub(super) hist: Histogram,
    pub(super) bad: Vec<(u64, BadBlock)>,
    pub(super) bad_count: u64,
}

/// Where a sequential pass goes: from `start`, up to `region`, and on from 0 when `wrap` (only
/// with a time to stop at).
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) start: u64,
    pub(super) region: u64,
    pub(super) wrap: bool,
}

impl Span {
    /// `[0, region)` once.
    pub(super) fn once(region: u64) -> Span {
        Span {
            start: 0,
            region,
            wrap: false,
        }
    }
}

/// Write (`write`) or read back and check the span in `bs` requests, `io.depth` in flight,
/// stopping early at `until` once `min_bytes` are under way. The pool holds more buffers than
/// that, so the CPU work (filling the next buffers, checking the last ones) overlaps the
/// device's instead of draining its queue. Each request's latency (queued to reaped) is
/// recorded.
pub(super) fn sequential(
    io: &mut Io<'_>,
    write: bool,
    span: Span,
    generation: u64,
    until: Option<Instant>,
    min_bytes: u64,
) -> Result<Sequential, Box<(DiskFault, Sequential)>> {
    let region = span.region;
    let wrap = span.wrap && until.is_some() && region > 0;
    let bs = io.pool.bs as u64;
    let mut submitted = 0u64;
    let slots = io.pool.slots;
    let mut out = Sequential::default();
    let mut next = if span.start < region { span.start } else { 0 };
    let mut inflight = 0usize;
    let mut offsets = vec![0u64; slots];
    let mut started = vec![Instant::now(); slots];
    let mut lens = vec![0usize; slots];
    let mut done = Vec::with_capacity(slots);
    let mut free: Vec<usize> = (0..slots).rev().collect();
    // Write: buffers filled and waiting for a place in the queue. Read: buffers read and
    // waiting to be checked.
    let mut ready: VecDeque<usize> = VecDeque::new();
    let mut stopped = false;
    let start = Instant::now();
    let fault = |offset: u64, what: String, out: Sequential| {
        Err(Box::new((DiskFault { offset, what }, out)))
    };
    let noise = Noise::new(generation);
    let verb = if write { "write" } else { "read" };
    loop {
        if !stopped && submitted >= min_bytes && until.is_some_and(|u| Instant::now() >= u) {
            stopped = true;
            if write {
                // Filled but never queued: the next pass starts with the first of them.
                if let Some(&first) = ready.front() {
                    next = offsets[first];
                }
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
                    if !wrap {
                        break;
                    }
                    next = 0;
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
            started[slot] = Instant::now();
            out.reached = out.reached.max(offsets[slot] + lens[slot] as u64);
            submitted += lens[slot] as u64;
            inflight += 1;
        }
        if let Err(e) = io.engine.submit() {
            return fault(next, format!("cannot submit: {e}"), out);
        }
        // CPU work while the device works.
        if write {
            while !stopped && ready.len() < io.depth {
                if next >= region {
                    if !wrap {
                        break;
                    }
                    next = 0;
                }
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
                    if let Err(bad) = check_block(block_words(chunk), o, generation, &noise) {
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
        let now = Instant::now();
        for &(slot, res) in &done {
            inflight -= 1;
            out.hist
                .record(now.duration_since(started[slot]).as_nanos() as u64);
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
    out.end = next;
    Ok(out)
}

/// What a random-read phase did: reads completed, seconds taken, their latencies, the first bad
/// blocks and their count.
#[derive(Debug, Default)]
pub(super) struct Random {
    pub(super) ios: u64,
    pub(super) secs: f64,
    pub(super) hist: Histogram,
    pub(super) bad: Vec<(u64, BadBlock)>,
    pub(super) bad_count: u64,
}

/// Random 4 KiB reads over `[0, region)` until `until`.
pub(super) fn random_reads(
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
    let noise = Noise::new(generation);
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
            if let Err(bad) = check_block(block_words(io.pool.slot(slot)), off, generation, &noise)
            {
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
