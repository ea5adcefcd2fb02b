//! The pattern tests: one pinned thread per CPU over its own block, pass after pass.

use std::hint::black_box;
use std::time::Instant;

use hwsys::units::iec;

use crate::stress::sys;

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

/// A pattern test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    WalkingOnes,
    WalkingZeros,
    Random,
    MovingInversions,
    AddressInAddress,
}

pub(super) const PATTERNS: [Pattern; 5] = [
    Pattern::WalkingOnes,
    Pattern::WalkingZeros,
    Pattern::Random,
    Pattern::MovingInversions,
    Pattern::AddressInAddress,
];

impl Pattern {
    pub(super) fn name(self) -> &'static str {
        match self {
            Pattern::WalkingOnes => "walking ones",
            Pattern::WalkingZeros => "walking zeros",
            Pattern::Random => "random data",
            Pattern::MovingInversions => "moving inversions",
            Pattern::AddressInAddress => "address in address",
        }
    }
}

/// Words between deadline checks (1 MiB).
const SEGMENT: usize = 1 << 17;
/// Wrong words described per thread.
const MAX_DESCRIBED: usize = 8;

/// One wrong word.
#[derive(Debug, Clone)]
pub(super) struct WrongWord {
    cpu: u32,
    pattern: Pattern,
    pass: u64,
    vaddr: usize,
    offset: usize,
    read: u64,
    expected: u64,
}

impl WrongWord {
    pub(super) fn describe(&self) -> String {
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
pub(super) struct PatternRun {
    pub(super) cpu: u32,
    pub(super) passes: u64,
    pub(super) words_verified: u64,
    pub(super) error_count: u64,
    pub(super) errors: Vec<WrongWord>,
    pub(super) locked: bool,
    pub(super) error: Option<String>,
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

pub(super) fn run_patterns(
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
