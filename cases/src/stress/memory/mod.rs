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
//!
//! Here: the case, its settings and its verdict. `stream.rs`: the bandwidth part;
//! `patterns.rs`: the pattern tests; `tests.rs`: both, run for real on small sizes.

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

mod patterns;
mod stream;
#[cfg(test)]
mod tests;

use patterns::run_patterns;
pub(crate) use patterns::Hooks;
use stream::run_stream;
pub use stream::{mb_per_s, stream_bytes, StreamKernel, StreamRates};

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
