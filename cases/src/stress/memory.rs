//! `memory::stress`: STREAM bandwidth, then pattern tests over a share of available memory.
//!
//! **Bandwidth.** STREAM's four kernels over three arrays of doubles, one pinned thread per
//! CPU, each owning (and first touching, for NUMA locality) a contiguous slice of every array:
//! copy `c = a`, scale `b = q·c`, add `c = a + b`, triad `a = b + q·c`. Bytes are counted as
//! STREAM counts them ([`stream_bytes`]): 2 × 8 per element for copy and scale, 3 × 8 for add
//! and triad (no write-allocate traffic), and rates are MB/s with MB = 10⁶ bytes, from the best
//! of the timed iterations after the first (STREAM's "Best Rate"; as many as fit in a quarter
//! of the time, at least 2 and at most 200, where STREAM's default is 10: more samples keep
//! the best rate honest on a busy machine). Each array is at least
//! four times the last-level caches of the whole machine and at least 64 MiB
//! (`stream_array_bytes` overrides). On x86_64 stores are non-temporal, as tuned STREAM builds
//! do. The arrays end with known values (q = 3 keeps every value an exact integer), checked
//! element by element afterwards.
//!
//! **Patterns.** One pinned thread per CPU owns an equal block of the region (mapped and
//! first-touched by that thread, `mlock`ed where allowed) and runs, pass after pass:
//! walking ones (word i holds bit (i + pass) mod 64), walking zeros (their complement), random
//! data (a counter-based generator, regenerated to verify), moving inversions (fill with p,
//! then ascending: check p and write ¬p, then descending: check ¬p and write p; p changes per
//! pass) and address in address (each word holds its own address, then its complement). A
//! wrong word fails the case with its CPU, pattern, virtual address (and physical address when
//! `/proc/self/pagemap` gives it, as root), what was read and what was expected.
//!
//! **Size.** `memory_bytes`, or `memory_share` (default 0.5) of `MemAvailable` minus a reserve
//! (`memory_reserve_bytes`, default the larger of 256 MiB and 2 % of `MemTotal`). Short runs
//! (≤ 60 s without `memory_passes` or `memory_share`, i.e. the quick profile) are capped at
//! 256 MiB per CPU and 4 GiB in all. The worker raises its own `oom_score_adj` to 1000, so if
//! the machine runs short after all it is the worker the OOM killer takes.
//!
//! `cpu_list` (CPU list syntax) restricts both parts to some CPUs (one NUMA node, or one CPU
//! to compare with a single-threaded tool).
//!
//! **Duration.** Until `stress_seconds` (10 s when absent) runs out, or with
//! `memory_passes = N` exactly N full passes whatever the time (the standard profile's "one full
//! pass": the harness's time limit is then the only bound).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use hwsys::units::iec;

use super::counters::Counters;
use super::settings::{self, duration, setting, size_setting, STRESS_TIMEOUT};
use super::sys;
use crate::{Case, CaseInfo, Component, Context, Inventory, Requirements, Selection, Target};
use crate::{Verdict, Verdict as V};

/// The case.
pub struct MemoryStress {
    info: CaseInfo,
}

impl MemoryStress {
    pub fn new() -> MemoryStress {
        MemoryStress {
            info: CaseInfo {
                name: "memory::stress".into(),
                purpose: "Memory bandwidth (STREAM) and pattern tests over a share of the \
                          available memory on every CPU, with no wrong word and no new EDAC or \
                          machine-check errors"
                    .into(),
                component: Component::Memory,
                requirements: Requirements {
                    live: true,
                    ..Requirements::default()
                },
                timeout: STRESS_TIMEOUT,
                estimate: Duration::from_secs(600),
                blocker: true,
            },
        }
    }
}

impl Default for MemoryStress {
    fn default() -> Self {
        MemoryStress::new()
    }
}

impl Case for MemoryStress {
    fn info(&self) -> &CaseInfo {
        &self.info
    }

    fn select(&self, _inv: &Inventory) -> Selection {
        Selection::Targets(vec![Target::machine()])
    }

    fn run(&self, ctx: &mut Context<'_>) -> Verdict {
        run_with(ctx, &Hooks::default())
    }
}

/// A pattern test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    WalkingOnes,
    WalkingZeros,
    Random,
    MovingInversions,
    AddressInAddress,
}

const PATTERNS: [Pattern; 5] = [
    Pattern::WalkingOnes,
    Pattern::WalkingZeros,
    Pattern::Random,
    Pattern::MovingInversions,
    Pattern::AddressInAddress,
];

impl Pattern {
    fn name(self) -> &'static str {
        match self {
            Pattern::WalkingOnes => "walking ones",
            Pattern::WalkingZeros => "walking zeros",
            Pattern::Random => "random data",
            Pattern::MovingInversions => "moving inversions",
            Pattern::AddressInAddress => "address in address",
        }
    }
}

/// Test hooks.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// Flip a bit in the first thread's block after a pattern is written, in the first pass.
    pub corrupt: Option<Corrupt>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Corrupt {
    pub pattern: Pattern,
    pub word: usize,
    pub bit: u32,
}

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

const STREAM_Q: f64 = 3.0;
/// Values stay finite up to here (they grow 15-fold per iteration).
const STREAM_MAX_ITERATIONS: usize = 200;

pub(crate) fn run_with(ctx: &mut Context<'_>, hooks: &Hooks) -> Verdict {
    let dur = duration(ctx.options);
    let settings = (|| -> Result<_, String> {
        Ok((
            setting::<f64>(ctx, "memory_share")?,
            size_setting(ctx, "memory_bytes")?,
            size_setting(ctx, "memory_reserve_bytes")?,
            // The profile's `stress_seconds = { memory = "N passes" }` arrives as
            // stress.memory_passes; a profile's [settings] may say memory_passes itself.
            match setting::<u64>(ctx, "memory_passes")? {
                Some(n) => Some(n),
                None => setting::<u64>(ctx, "stress.memory_passes")?,
            },
            size_setting(ctx, "stream_array_bytes")?,
        ))
    })();
    let (share, bytes_setting, reserve_setting, passes, stream_setting) = match settings {
        Ok(s) => s,
        Err(e) => return V::error(e),
    };
    if let Some(s) = share.filter(|s| !(*s > 0.0 && *s <= 0.95)) {
        return V::error(format!(
            "memory_share = {s}: expected a fraction above 0 and at most 0.95"
        ));
    }
    let Some(available) = sys::meminfo(&ctx.sysroot, "MemAvailable") else {
        return V::error("proc/meminfo has no MemAvailable: cannot size the test safely");
    };
    let total = sys::meminfo(&ctx.sysroot, "MemTotal").unwrap_or(available);
    let cpus = match settings::stress_cpus(ctx) {
        Ok((c, _)) => c,
        Err(e) => return V::error(e),
    };
    let n = cpus.len() as u64;
    let reserve = reserve_setting.unwrap_or((256 << 20).max(total / 50));
    let budget = ((share.unwrap_or(0.5) * available as f64) as u64).saturating_sub(reserve);
    let mut region = match bytes_setting {
        Some(b) if b > available.saturating_sub(reserve) => {
            return V::error(format!(
                "memory_bytes = {}: more than MemAvailable ({}) minus the reserve ({})",
                iec(b),
                iec(available),
                iec(reserve)
            ))
        }
        Some(b) => b,
        None => budget,
    };
    let quick = dur <= Duration::from_secs(60) && passes.is_none() && share.is_none();
    if quick && bytes_setting.is_none() {
        region = region.min((256u64 << 20) * n).min(4 << 30);
    }
    let page = sys::page_size() as u64;
    let per_thread = (region / n / page * page) as usize;
    if per_thread == 0 {
        return V::skip(format!(
            "not enough available memory to test: MemAvailable {}, reserve {}",
            iec(available),
            iec(reserve)
        ));
    }

    // STREAM array size: ≥ 4 × all last-level caches, ≥ 64 MiB, within the budget.
    let llc = last_level_cache_bytes(ctx.inventory);
    let mut array = stream_setting.unwrap_or((4 * llc).max(64 << 20));
    let stream_cap = available.saturating_sub(reserve) / 2 / 3;
    if array > stream_cap {
        array = stream_cap;
        ctx.log(format!(
            "STREAM arrays limited to {} by available memory",
            iec(array)
        ));
    }
    if array < 4 * llc {
        ctx.log(format!(
            "note: STREAM arrays of {} are less than 4 × the last-level caches ({}): rates may include cache hits",
            iec(array),
            iec(llc)
        ));
    }
    let elems = (array / 8) as usize;

    if ctx.sysroot.is_live() {
        if let Err(e) = sys::prefer_oom_kill() {
            ctx.log(format!("cannot raise oom_score_adj: {e}"));
        }
    }
    let before = Counters::read(&ctx.sysroot);
    let start = Instant::now();

    ctx.log(format!(
        "STREAM: {} threads, 3 arrays of {}",
        cpus.len(),
        iec(elems as u64 * 8)
    ));
    let stream_budget = dur.mul_f64(0.25);
    let stream = match run_stream(&cpus, elems, stream_budget) {
        Ok(s) => s,
        Err(e) => return V::error(e),
    };
    let names = ["copy_mb_s", "scale_mb_s", "add_mb_s", "triad_mb_s"];
    if let Ok(r) = &stream {
        for (name, rate) in names.iter().zip(r.rates) {
            ctx.measure(name, rate, "MB/s");
        }
        ctx.measure("stream_array_bytes", (elems * 8) as f64, "bytes");
    }

    // Pattern tests for the rest of the time (or the passes asked for).
    let deadline = match passes {
        Some(_) => None,
        None => Some((start + dur).max(Instant::now() + dur.mul_f64(0.25))),
    };
    ctx.log(format!(
        "patterns: {} threads × {} = {} ({}), {}",
        cpus.len(),
        iec(per_thread as u64),
        iec(per_thread as u64 * n),
        if quick {
            "capped for a short run"
        } else {
            "share of MemAvailable"
        },
        match passes {
            Some(p) => format!("{p} full passes"),
            None => "until the time is up".into(),
        }
    ));
    let results = run_patterns(&cpus, per_thread, deadline, passes, hooks);
    let after = Counters::read(&ctx.sysroot);

    let verified: u64 = results.iter().map(|r| r.words_verified * 8).sum();
    let min_passes = results.iter().map(|r| r.passes).min().unwrap_or(0);
    let wrong: u64 = results.iter().map(|r| r.error_count).sum();
    ctx.measure("bytes_tested", (per_thread as u64 * n) as f64, "bytes");
    ctx.measure("bytes_verified", verified as f64, "bytes");
    ctx.measure("passes", min_passes as f64, "passes");
    let stream_wrong = stream.as_ref().err();
    ctx.judge(
        "memory_errors",
        (wrong + u64::from(stream_wrong.is_some())) as f64,
        "words",
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
    for r in &results {
        if !r.locked {
            ctx.log(format!(
                "cpu{}: block not locked in RAM (mlock refused)",
                r.cpu
            ));
            break;
        }
    }
    if min_passes == 0 && wrong == 0 {
        ctx.log("note: not every thread finished a full pass in the time given");
    }

    if wrong > 0 || stream_wrong.is_some() {
        let mut lines: Vec<String> = results
            .iter()
            .flat_map(|r| r.errors.iter().map(|e| e.describe()))
            .take(8)
            .collect();
        if let Some(e) = stream_wrong {
            lines.insert(0, e.clone());
        }
        return V::fail(
            "every word reads back what was written",
            format!("{wrong} wrong words; {}", lines.join("; ")),
        );
    }
    if !new_errors.is_empty() {
        return V::fail("no new EDAC or machine-check errors", new_errors.join("; "));
    }
    let errors: Vec<&str> = results.iter().filter_map(|r| r.error.as_deref()).collect();
    if !errors.is_empty() {
        return V::error(errors.join("; "));
    }
    Verdict::Pass
}

/// The last-level caches of the whole machine (lscpu's totals of the highest level).
fn last_level_cache_bytes(inv: &Inventory) -> u64 {
    let top = inv.cpu.caches.iter().map(|c| c.level).max().unwrap_or(0);
    inv.cpu
        .caches
        .iter()
        .filter(|c| c.level == top && c.kind != "Instruction")
        .map(|c| c.size_bytes)
        .sum()
}

// ---------------------------------------------------------------------------------------------
// STREAM

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
fn check_stream(a: &[f64], b: &[f64], c: &[f64], iterations: usize) -> Result<(), String> {
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
        dst.as_ptr() as usize % 16 == 0
    }
}

// The kernels. Each is written once per ISA; Rust never fuses `b + q * c` into an FMA, so the
// values are the same everywhere.

fn copy(c: &mut [f64], a: &[f64]) {
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

fn scale(b: &mut [f64], c: &[f64], q: f64) {
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

fn add(c: &mut [f64], a: &[f64], b: &[f64]) {
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

fn triad(a: &mut [f64], b: &[f64], c: &[f64], q: f64) {
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

// ---------------------------------------------------------------------------------------------
// Pattern tests

/// Words between deadline checks (1 MiB).
const SEGMENT: usize = 1 << 17;
/// Wrong words described per thread.
const MAX_DESCRIBED: usize = 8;

/// One wrong word.
#[derive(Debug, Clone)]
struct WrongWord {
    cpu: u32,
    pattern: Pattern,
    pass: u64,
    vaddr: usize,
    offset: usize,
    read: u64,
    expected: u64,
}

impl WrongWord {
    fn describe(&self) -> String {
        let phys = sys::physical_address(self.vaddr)
            .map(|p| format!(", physical {p:#x}"))
            .unwrap_or_default();
        format!(
            "cpu{} {} pass {}: word at {:#x}{phys} (offset {:#x} of its block) read {:#018x}, expected {:#018x} (bits {:#x} flipped)",
            self.cpu,
            self.pattern.name(),
            self.pass,
            self.vaddr,
            self.offset,
            self.read,
            self.expected,
            self.read ^ self.expected
        )
    }
}

/// What one thread did.
#[derive(Debug)]
struct PatternRun {
    cpu: u32,
    passes: u64,
    words_verified: u64,
    error_count: u64,
    errors: Vec<WrongWord>,
    locked: bool,
    error: Option<String>,
}

/// Where wrong words go, and when to stop.
struct Sweep<'a> {
    run: &'a mut PatternRun,
    base: usize,
    pattern: Pattern,
    pass: u64,
    deadline: Option<Instant>,
}

impl Sweep<'_> {
    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    #[cold]
    #[inline(never)]
    fn wrong(&mut self, index: usize, read: u64, expected: u64) {
        self.run.error_count += 1;
        if self.run.errors.len() < MAX_DESCRIBED {
            self.run.errors.push(WrongWord {
                cpu: self.run.cpu,
                pattern: self.pattern,
                pass: self.pass,
                vaddr: self.base + index * 8,
                offset: index * 8,
                read,
                expected,
            });
        }
    }
}

fn run_patterns(
    cpus: &[u32],
    per_thread: usize,
    deadline: Option<Instant>,
    passes: Option<u64>,
    hooks: &Hooks,
) -> Vec<PatternRun> {
    std::thread::scope(|s| {
        let handles: Vec<_> = cpus
            .iter()
            .enumerate()
            .map(|(t, &cpu)| {
                let corrupt = if t == 0 { hooks.corrupt } else { None };
                s.spawn(move || pattern_thread(cpu, per_thread, deadline, passes, corrupt))
            })
            .collect();
        handles
            .into_iter()
            .zip(cpus)
            .map(|(h, &cpu)| {
                h.join().unwrap_or_else(|_| PatternRun {
                    cpu,
                    passes: 0,
                    words_verified: 0,
                    error_count: 0,
                    errors: Vec::new(),
                    locked: false,
                    error: Some(format!("cpu{cpu}: the pattern thread panicked")),
                })
            })
            .collect()
    })
}

fn pattern_thread(
    cpu: u32,
    bytes: usize,
    deadline: Option<Instant>,
    passes: Option<u64>,
    corrupt: Option<Corrupt>,
) -> PatternRun {
    let mut run = PatternRun {
        cpu,
        passes: 0,
        words_verified: 0,
        error_count: 0,
        errors: Vec::new(),
        locked: false,
        error: None,
    };
    if let Err(e) = sys::pin_to(cpu) {
        run.error = Some(format!(
            "cpu{cpu}: cannot pin a thread to it: {e} (not tested)"
        ));
        return run;
    }
    let mut map = match sys::Mapping::new(bytes) {
        Ok(m) => m,
        Err(e) => {
            run.error = Some(format!("cpu{cpu}: cannot map {}: {e}", iec(bytes as u64)));
            return run;
        }
    };
    run.locked = map.lock().is_ok();
    let base = map.as_ptr() as usize;
    let mem = &mut map.words_mut()[..bytes / 8];
    let mut pass = 0u64;
    'passes: loop {
        if passes.is_some_and(|p| pass >= p) {
            break;
        }
        for pattern in PATTERNS {
            let mut sw = Sweep {
                run: &mut run,
                base,
                pattern,
                pass,
                deadline,
            };
            let hook = corrupt.filter(|c| pass == 0 && c.pattern == pattern);
            if !run_pattern(mem, &mut sw, hook) {
                break 'passes;
            }
        }
        pass += 1;
        run.passes = pass;
        if run.error_count > 0 {
            break;
        }
    }
    run
}

/// One pattern over the block; false when the deadline cut it short.
fn run_pattern(mem: &mut [u64], sw: &mut Sweep<'_>, hook: Option<Corrupt>) -> bool {
    let pass = sw.pass;
    let base = sw.base as u64;
    let corrupt = |mem: &mut [u64]| {
        if let Some(c) = hook {
            let i = c.word % mem.len();
            mem[i] ^= 1 << (c.bit % 64);
        }
    };
    match sw.pattern {
        Pattern::WalkingOnes => {
            let f = |i: usize| 1u64 << ((i as u64 + pass) % 64);
            write_verify(mem, sw, f, corrupt)
        }
        Pattern::WalkingZeros => {
            let f = |i: usize| !(1u64 << ((i as u64 + pass) % 64));
            write_verify(mem, sw, f, corrupt)
        }
        Pattern::Random => {
            let seed = 0x5eed_0000_0000_0000 ^ pass.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ base;
            write_verify(mem, sw, |i| counter_random(seed, i), corrupt)
        }
        Pattern::AddressInAddress => {
            write_verify(mem, sw, |i| base + 8 * i as u64, corrupt)
                && write_verify(mem, sw, |i| !(base + 8 * i as u64), |_| {})
        }
        Pattern::MovingInversions => {
            let p = match pass % 5 {
                0 => 0,
                1 => u64::MAX,
                2 => 0x5555_5555_5555_5555,
                3 => 0xaaaa_aaaa_aaaa_aaaa,
                _ => counter_random(pass, 0),
            };
            moving_inversions(mem, sw, p, corrupt)
        }
    }
}

/// A counter-based generator: word i of stream `seed` (splitmix64's finaliser).
fn counter_random(seed: u64, i: usize) -> u64 {
    let mut z = seed.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Write f(i) to every word, then read every word back and compare.
fn write_verify(
    mem: &mut [u64],
    sw: &mut Sweep<'_>,
    f: impl Fn(usize) -> u64 + Copy,
    after_write: impl FnOnce(&mut [u64]),
) -> bool {
    for (s, seg) in mem.chunks_mut(SEGMENT).enumerate() {
        fill(seg, s * SEGMENT, f);
        if sw.expired() {
            return false;
        }
    }
    after_write(mem);
    black_box(mem.as_mut_ptr());
    for (s, seg) in mem.chunks(SEGMENT).enumerate() {
        verify(seg, s * SEGMENT, f, sw);
        sw.run.words_verified += seg.len() as u64;
        if sw.expired() {
            return false;
        }
    }
    true
}

#[inline(never)]
fn fill(seg: &mut [u64], first: usize, f: impl Fn(usize) -> u64) {
    for (i, w) in seg.iter_mut().enumerate() {
        *w = f(first + i);
    }
}

#[inline(never)]
fn verify(seg: &[u64], first: usize, f: impl Fn(usize) -> u64, sw: &mut Sweep<'_>) {
    for (i, &w) in seg.iter().enumerate() {
        let e = f(first + i);
        if w != e {
            sw.wrong(first + i, w, e);
        }
    }
}

/// Fill with p; ascending: check p, write ¬p; descending: check ¬p, write p.
fn moving_inversions(
    mem: &mut [u64],
    sw: &mut Sweep<'_>,
    p: u64,
    after_fill: impl FnOnce(&mut [u64]),
) -> bool {
    for seg in mem.chunks_mut(SEGMENT) {
        seg.fill(p);
        if sw.expired() {
            return false;
        }
    }
    after_fill(mem);
    black_box(mem.as_mut_ptr());
    let len = mem.len();
    for (s, seg) in mem.chunks_mut(SEGMENT).enumerate() {
        check_and_write(seg, s * SEGMENT, p, !p, false, sw);
        sw.run.words_verified += seg.len() as u64;
        if sw.expired() {
            return false;
        }
    }
    black_box(mem.as_mut_ptr());
    let segments = len.div_ceil(SEGMENT);
    for s in (0..segments).rev() {
        let end = ((s + 1) * SEGMENT).min(len);
        let seg = &mut mem[s * SEGMENT..end];
        check_and_write(seg, s * SEGMENT, !p, p, true, sw);
        sw.run.words_verified += seg.len() as u64;
        if sw.expired() {
            return false;
        }
    }
    true
}

#[inline(never)]
fn check_and_write(
    seg: &mut [u64],
    first: usize,
    want: u64,
    then: u64,
    descending: bool,
    sw: &mut Sweep<'_>,
) {
    let n = seg.len();
    for k in 0..n {
        let i = if descending { n - 1 - k } else { k };
        let w = seg[i];
        if w != want {
            sw.wrong(first + i, w, want);
        }
        seg[i] = then;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::testing::{live_inventory, machine, options, Log};
    use crate::Context;

    fn run(settings: &[(&str, &str)], hooks: &Hooks) -> (Verdict, Vec<crate::Measurement>, String) {
        let inv = live_inventory();
        let target = machine();
        let opts = options(1, settings);
        let log = Log::default();
        let mut ctx = Context::new(&inv, "/", &target, &opts, false, Box::new(log.clone()));
        let v = run_with(&mut ctx, hooks);
        let m = ctx.finish(v.clone()).measurements;
        (v, m, log.text())
    }

    const SMALL: [(&str, &str); 2] = [("memory_bytes", "4M"), ("stream_array_bytes", "4M")];

    #[test]
    fn stream_counts_bytes_as_stream_does() {
        assert_eq!(stream_bytes(StreamKernel::Copy, 1_000_000), 16_000_000);
        assert_eq!(stream_bytes(StreamKernel::Scale, 1_000_000), 16_000_000);
        assert_eq!(stream_bytes(StreamKernel::Add, 1_000_000), 24_000_000);
        assert_eq!(stream_bytes(StreamKernel::Triad, 1_000_000), 24_000_000);
        // 16 MB in 10 ms is 1600 MB/s (MB = 10^6 bytes).
        assert_eq!(mb_per_s(16_000_000, 0.01), 1600.0);
    }

    #[test]
    fn stream_kernels_compute_what_stream_computes() {
        let n = 1003; // a tail after the 8-wide body
        let mut a = sys::Mapping::new(n * 8).expect("mmap");
        let mut b = sys::Mapping::new(n * 8).expect("mmap");
        let mut c = sys::Mapping::new(n * 8).expect("mmap");
        let (a, b, c) = (
            &mut a.f64_mut()[..n],
            &mut b.f64_mut()[..n],
            &mut c.f64_mut()[..n],
        );
        a.fill(1.0);
        b.fill(2.0);
        c.fill(0.0);
        for _ in 0..3 {
            copy(c, a);
            scale(b, c, STREAM_Q);
            add(c, a, b);
            triad(a, b, c, STREAM_Q);
        }
        assert_eq!(check_stream(a, b, c, 3), Ok(()));
        assert_eq!((a[0], b[n - 1], c[n - 1]), (3375.0, 675.0, 900.0));
        b[n - 1] = 1.0;
        let e = check_stream(a, b, c, 3).expect_err("a wrong value");
        assert!(e.starts_with(&format!("STREAM array b[{}]", n - 1)), "{e}");
    }

    #[test]
    fn stream_runs_on_every_cpu() {
        let cpus = sys::allowed_cpus().expect("affinity");
        let r = run_stream(&cpus, 1 << 19, Duration::from_millis(100))
            .expect("setup")
            .expect("values");
        assert!(r.iterations >= 1);
        assert!(r.rates.iter().all(|&x| x > 0.0), "{r:?}");
    }

    #[test]
    fn every_pattern_detects_a_corrupted_word() {
        for pattern in PATTERNS {
            let hooks = Hooks {
                corrupt: Some(Corrupt {
                    pattern,
                    word: 1234,
                    bit: 17,
                }),
            };
            // One full pass whatever the time (unoptimised test builds are slow).
            let mut s = SMALL.to_vec();
            s.push(("memory_passes", "1"));
            let (v, m, log) = run(&s, &hooks);
            let Verdict::Fail { measured, .. } = &v else {
                panic!("{}: expected a failure, got {v:?}\n{log}", pattern.name())
            };
            assert!(
                measured.starts_with("1 wrong words; cpu") && measured.contains(pattern.name()),
                "{measured}"
            );
            assert!(measured.contains("offset 0x2690 "), "{measured}");
            assert!(measured.contains("bits 0x20000 flipped"), "{measured}");
            let errors = m
                .iter()
                .find(|m| m.name == "memory_errors")
                .expect("errors");
            assert_eq!(errors.value, 1.0);
        }
    }

    #[test]
    fn a_short_run_passes_and_measures_bandwidth() {
        let (v, m, log) = run(&SMALL, &Hooks::default());
        assert_eq!(v, Verdict::Pass, "{log}");
        for name in ["copy_mb_s", "scale_mb_s", "add_mb_s", "triad_mb_s"] {
            let x = m.iter().find(|m| m.name == name).expect(name);
            assert!(x.value > 0.0 && x.unit == "MB/s", "{x:?}");
        }
        let verified = m
            .iter()
            .find(|m| m.name == "bytes_verified")
            .expect("bytes");
        assert!(verified.value > 0.0, "{log}");
    }

    #[test]
    fn passes_mode_runs_exactly_that_many() {
        let mut s = SMALL.to_vec();
        s.push(("memory_passes", "2"));
        let (v, m, log) = run(&s, &Hooks::default());
        assert_eq!(v, Verdict::Pass, "{log}");
        let passes = m.iter().find(|m| m.name == "passes").expect("passes");
        assert_eq!(passes.value, 2.0);
    }

    #[test]
    fn cpu_list_narrows_the_threads() {
        let cpu = *sys::allowed_cpus()
            .expect("affinity")
            .last()
            .expect("a cpu");
        let mut s = SMALL.to_vec();
        let list = cpu.to_string();
        s.push(("cpu_list", &list));
        let (v, _, log) = run(&s, &Hooks::default());
        assert_eq!(v, Verdict::Pass, "{log}");
        assert!(log.contains("STREAM: 1 threads"), "{log}");
        let (v, _, _) = run(&[("cpu_list", "x")], &Hooks::default());
        assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
    }

    #[test]
    fn too_much_memory_is_refused() {
        let (v, _, _) = run(&[("memory_bytes", "1000T")], &Hooks::default());
        assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
        let (v, _, _) = run(&[("memory_share", "2")], &Hooks::default());
        assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
    }
}
