//! STREAM: the four kernels over three arrays of doubles, one pinned thread per CPU.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use hwsys::units::iec;

use crate::stress::sys;

/// The STREAM kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKernel {
    Copy,
    Scale,
    Add,
    Triad,
}

const STREAM_KERNELS: [StreamKernel; 4] = [
    StreamKernel::Copy,
    StreamKernel::Scale,
    StreamKernel::Add,
    StreamKernel::Triad,
];

/// Bytes one run of a kernel over `elems` doubles moves, counted as STREAM counts them: each
/// array read or written once, 8 bytes per element (copy, scale: 2 arrays; add, triad: 3).
pub fn stream_bytes(kernel: StreamKernel, elems: u64) -> u64 {
    let arrays = match kernel {
        StreamKernel::Copy | StreamKernel::Scale => 2,
        StreamKernel::Add | StreamKernel::Triad => 3,
    };
    arrays * 8 * elems
}

/// MB/s with MB = 10⁶ bytes, as STREAM reports.
pub fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        bytes as f64 / secs / 1e6
    } else {
        0.0
    }
}

/// STREAM results.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRates {
    /// MB/s for copy, scale, add, triad.
    pub rates: [f64; 4],
    /// Timed iterations (the first is not counted).
    pub iterations: usize,
}

pub(super) const STREAM_Q: f64 = 3.0;
/// Values stay finite up to here (they grow 15-fold per iteration).
const STREAM_MAX_ITERATIONS: usize = 200;

const CMD_QUIT: usize = usize::MAX;

/// Run STREAM on `cpus` over three arrays of `elems` doubles for up to `budget` (at least two
/// iterations). The outer error is a setup failure; the inner one a wrong value in the arrays.
pub(crate) fn run_stream(
    cpus: &[u32],
    elems: usize,
    budget: Duration,
) -> Result<Result<StreamRates, String>, String> {
    let bytes = elems * 8;
    let map = |what| {
        sys::Mapping::new(bytes).map_err(|e| {
            format!(
                "cannot map the STREAM array {what} ({}): {e}",
                iec(bytes as u64)
            )
        })
    };
    let (mut a, mut b, mut c) = (map("a")?, map("b")?, map("c")?);
    let (a, b, c) = (
        &mut a.f64_mut()[..elems],
        &mut b.f64_mut()[..elems],
        &mut c.f64_mut()[..elems],
    );
    // Chunks of whole cache lines, one per thread.
    let chunk = elems.div_ceil(cpus.len()).div_ceil(8) * 8;
    let threads = elems.div_ceil(chunk);
    let barrier = Barrier::new(threads + 1);
    let cmd = AtomicUsize::new(0);
    let mut times = [Duration::MAX; 4];
    let mut iterations = 0;
    let pin_failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for (((a, b), c), &cpu) in a
            .chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .zip(c.chunks_mut(chunk))
            .zip(cpus)
        {
            let (barrier, cmd, pin_failed) = (&barrier, &cmd, &pin_failed);
            s.spawn(move || {
                if sys::pin_to(cpu).is_err() {
                    pin_failed.store(true, Ordering::Relaxed);
                }
                a.fill(1.0);
                b.fill(2.0);
                c.fill(0.0);
                barrier.wait();
                loop {
                    barrier.wait();
                    match cmd.load(Ordering::Acquire) {
                        0 => copy(c, a),
                        1 => scale(b, c, STREAM_Q),
                        2 => add(c, a, b),
                        3 => triad(a, b, c, STREAM_Q),
                        _ => break,
                    }
                    barrier.wait();
                }
            });
        }
        barrier.wait();
        let started = Instant::now();
        for iter in 0..STREAM_MAX_ITERATIONS {
            for (k, t) in times.iter_mut().enumerate() {
                cmd.store(k, Ordering::Release);
                let t0 = Instant::now();
                barrier.wait();
                barrier.wait();
                if iter > 0 {
                    *t = (*t).min(t0.elapsed());
                }
            }
            iterations = iter + 1;
            if iter >= 1 && started.elapsed() >= budget {
                break;
            }
        }
        cmd.store(CMD_QUIT, Ordering::Release);
        barrier.wait();
    });
    if pin_failed.load(Ordering::Relaxed) {
        return Err("cannot pin the STREAM threads to their CPUs".into());
    }
    let mut rates = [0.0; 4];
    for (i, k) in STREAM_KERNELS.iter().enumerate() {
        rates[i] = mb_per_s(stream_bytes(*k, elems as u64), times[i].as_secs_f64());
    }
    Ok(check_stream(a, b, c, iterations).map(|()| StreamRates {
        rates,
        iterations: iterations - 1,
    }))
}

/// The arrays must hold exactly what `iterations` rounds of the four kernels leave.
pub(super) fn check_stream(
    a: &[f64],
    b: &[f64],
    c: &[f64],
    iterations: usize,
) -> Result<(), String> {
    let (mut aj, mut bj, mut cj) = (1.0f64, 2.0f64, 0.0f64);
    for _ in 0..iterations {
        cj = aj;
        bj = STREAM_Q * cj;
        cj = aj + bj;
        aj = bj + STREAM_Q * cj;
    }
    for (name, arr, want) in [("a", a, aj), ("b", b, bj), ("c", c, cj)] {
        if let Some(i) = arr.iter().position(|&x| x.to_bits() != want.to_bits()) {
            return Err(format!(
                "STREAM array {name}[{i}] at {:#x} = {:e}, expected {want:e}",
                arr.as_ptr() as usize + i * 8,
                arr[i]
            ));
        }
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
mod nt {
    //! STREAM stores are SSE2 `movntpd` (SSE2 is part of x86_64): they need 16-byte alignment.

    /// Whether the destination suits `movntpd`.
    pub(super) fn aligned(dst: &[f64]) -> bool {
        (dst.as_ptr() as usize).is_multiple_of(16)
    }
}

// The kernels. Each is written once per ISA; Rust never fuses `b + q * c` into an FMA, so the
// values are the same everywhere.

pub(super) fn copy(c: &mut [f64], a: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if nt::aligned(c) {
        use std::arch::x86_64::*;
        let n = c.len().min(a.len());
        let body = n / 8 * 8;
        // SAFETY: i + 7 < body ≤ both lengths; c is 16-byte aligned, i is even.
        unsafe {
            let (s, d) = (a.as_ptr(), c.as_mut_ptr());
            let mut i = 0;
            while i < body {
                _mm_stream_pd(d.add(i), _mm_loadu_pd(s.add(i)));
                _mm_stream_pd(d.add(i + 2), _mm_loadu_pd(s.add(i + 2)));
                _mm_stream_pd(d.add(i + 4), _mm_loadu_pd(s.add(i + 4)));
                _mm_stream_pd(d.add(i + 6), _mm_loadu_pd(s.add(i + 6)));
                i += 8;
            }
            _mm_sfence();
        }
        c[body..n].copy_from_slice(&a[body..n]);
        return;
    }
    c.copy_from_slice(a);
}

pub(super) fn scale(b: &mut [f64], c: &[f64], q: f64) {
    #[cfg(target_arch = "x86_64")]
    if nt::aligned(b) {
        use std::arch::x86_64::*;
        let n = b.len().min(c.len());
        let body = n / 8 * 8;
        // SAFETY: as in copy.
        unsafe {
            let qv = _mm_set1_pd(q);
            let (s, d) = (c.as_ptr(), b.as_mut_ptr());
            let mut i = 0;
            while i < body {
                for u in [0, 2, 4, 6] {
                    _mm_stream_pd(d.add(i + u), _mm_mul_pd(qv, _mm_loadu_pd(s.add(i + u))));
                }
                i += 8;
            }
            _mm_sfence();
        }
        for i in body..n {
            b[i] = q * c[i];
        }
        return;
    }
    for (b, c) in b.iter_mut().zip(c) {
        *b = q * c;
    }
}

pub(super) fn add(c: &mut [f64], a: &[f64], b: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if nt::aligned(c) {
        use std::arch::x86_64::*;
        let n = c.len().min(a.len()).min(b.len());
        let body = n / 8 * 8;
        // SAFETY: as in copy.
        unsafe {
            let (x, y, d) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
            let mut i = 0;
            while i < body {
                for u in [0, 2, 4, 6] {
                    let v = _mm_add_pd(_mm_loadu_pd(x.add(i + u)), _mm_loadu_pd(y.add(i + u)));
                    _mm_stream_pd(d.add(i + u), v);
                }
                i += 8;
            }
            _mm_sfence();
        }
        for i in body..n {
            c[i] = a[i] + b[i];
        }
        return;
    }
    for ((c, a), b) in c.iter_mut().zip(a).zip(b) {
        *c = a + b;
    }
}

pub(super) fn triad(a: &mut [f64], b: &[f64], c: &[f64], q: f64) {
    #[cfg(target_arch = "x86_64")]
    if nt::aligned(a) {
        use std::arch::x86_64::*;
        let n = a.len().min(b.len()).min(c.len());
        let body = n / 8 * 8;
        // SAFETY: as in copy.
        unsafe {
            let qv = _mm_set1_pd(q);
            let (x, y, d) = (b.as_ptr(), c.as_ptr(), a.as_mut_ptr());
            let mut i = 0;
            while i < body {
                for u in [0, 2, 4, 6] {
                    let v = _mm_add_pd(
                        _mm_loadu_pd(x.add(i + u)),
                        _mm_mul_pd(qv, _mm_loadu_pd(y.add(i + u))),
                    );
                    _mm_stream_pd(d.add(i + u), v);
                }
                i += 8;
            }
            _mm_sfence();
        }
        for i in body..n {
            a[i] = b[i] + q * c[i];
        }
        return;
    }
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + q * c;
    }
}
