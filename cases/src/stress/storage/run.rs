//! One run of the stressor: its settings, the engine, the first write, the queue-depth sweeps,
//! the cycles of write, read-back and random reads until the time is up, and the measurements
//! and verdict.

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hwsys::units::iec;
use hwsys::Sysroot;

use documents::sweep::{p99_name, peak_name, rate_name, Phase, PHASES};

use super::block::{BadBlock, BLOCK};
use super::engine::{open_engine, probe_engine};
use super::histogram::Histogram;
use super::io::{EngineKind, Io, Pool};
use super::sweep::{self, Step};
use super::target::{self, Opened, Wanted};
use super::workload::{random_reads, sequential, DiskFault, Random, Sequential, Span};
use crate::stress::counters::Counters;
use crate::stress::kernels::splitmix64;
use crate::stress::settings::{duration, setting, size_setting};
use crate::{Context, Verdict, Verdict as V};

/// Called with the file or device and the bytes written, between write and read-back.
pub(crate) type AfterWrite<'a> = &'a (dyn Fn(&Path, u64) + Sync);

/// Test hooks.
#[derive(Default)]
pub(crate) struct Hooks<'a> {
    pub after_write: Option<AfterWrite<'a>>,
}

/// Run `storage::stress` on the instance's disk.
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
            setting::<usize>(ctx, "storage_max_depth")?,
        ))
    })();
    let (file_bytes, dir, engine, seq_bs, seq_depth, rand_depth, device_bytes, max_depth) =
        match settings {
            Ok(s) => s,
            Err(e) => return V::error(e),
        };
    let seq_bs = seq_bs.unwrap_or(1 << 20);
    if seq_bs == 0 || seq_bs % BLOCK as u64 != 0 || seq_bs > 64 << 20 {
        return V::error(format!(
            "storage_seq_block_bytes = {seq_bs}: expected a multiple of 4096 up to 64M"
        ));
    }
    // The depths swept: 1, 2, 4, … up to storage_max_depth (64); a depth given pins its phases.
    let max_depth = max_depth.unwrap_or(64);
    let seq_depths = match seq_depth {
        Some(d) => vec![d.clamp(1, 256)],
        None => sweep::depths(max_depth.clamp(1, 256)),
    };
    let rand_depths = match rand_depth {
        Some(d) => vec![d.clamp(1, 1024)],
        None => sweep::depths(max_depth.clamp(1, 1024)),
    };
    let seq_top = *seq_depths.last().unwrap_or(&1);
    let rand_top = *rand_depths.last().unwrap_or(&1);
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

    // Open the file or the device.
    let want = Wanted {
        dir: dir.as_deref(),
        file_bytes,
        device_bytes,
        seq_bs,
    };
    let Opened {
        path,
        region,
        file,
        destructive,
    } = match target::open(ctx, &name, &want) {
        Ok(o) => o,
        Err(v) => return v,
    };
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
    // Beyond the requests in flight, up to 8 buffers are filled (or checked) meanwhile.
    let seq_slots = seq_top + seq_top.min(8);
    let pools = (
        Pool::new(seq_slots, seq_bs as usize),
        Pool::new(rand_top, BLOCK),
    );
    let (mut seq_pool, mut rand_pool) = match pools {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return V::error(format!("cannot map I/O buffers: {e}")),
    };
    let engines = (
        open_engine(kind, fd, seq_slots),
        open_engine(kind, fd, rand_top),
    );
    let (mut seq_engine, mut rand_engine) = match engines {
        (Ok(a), Ok(b)) => (a, b),
        // ENOSYS: this kernel (CONFIG_AIO=n, io_uring disabled) or an emulator (qemu-user
        // has neither system call) cannot run asynchronous direct I/O at all: the case cannot
        // be run here, which is a skip with its reason, not a fault of the device.
        (Err(e), _) | (_, Err(e)) if e.raw_os_error() == Some(libc::ENOSYS) => {
            return V::skip(format!(
                "neither io_uring nor Linux AIO is available here ({} setup: {e}); a kernel \
                 without them or an emulator such as qemu-user cannot run this stress",
                kind.name()
            ))
        }
        (Err(e), _) | (_, Err(e)) => {
            return V::error(format!("cannot set up {}: {e}", kind.name()))
        }
    };
    ctx.log(format!(
        "engine {}, sequential {} requests, random 4 KiB, up to {} and {} in flight, {} s",
        kind.name(),
        iec(seq_bs),
        seq_top,
        rand_top,
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
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()) << 32;
    let g0 = splitmix64(&mut (seed ^ 0x5eed));
    let mut tally = Tally::default();
    let mut sweeps: Vec<(Phase, Vec<Step>)> = Vec::new();
    let mut first_write = (0u64, 0.0f64);
    let mut covered = 0u64;
    let mut step_secs = 0.0;
    let mut sustained = Sustained::default();
    let seq_max = seq_top;
    'work: {
        let mut sio = Io {
            engine: seq_engine.as_mut(),
            pool: &mut seq_pool,
            depth: seq_max,
        };
        // 1. The first write of the whole region, at the largest sequential depth, for at most
        //    40 % of the time and at least 16 requests' worth.
        let fill = sequential(
            &mut sio,
            true,
            Span::once(region),
            g0,
            Some(start + dur.mul_f64(0.4)),
            region.min(16 * seq_bs),
        );
        let fill = match tally.seq(fill) {
            Some(f) => f,
            None => break 'work,
        };
        first_write = (fill.bytes, fill.secs);
        covered = fill.reached;
        let mut write_end = fill.end;

        // 2. The sweeps: 70 % of the time left once the read-back between them is set aside
        //    (the whole region at the first write's rate, at most 30 % of the time left), split
        //    evenly over every step they could take.
        let left = deadline.saturating_duration_since(Instant::now());
        let readback = Duration::from_secs_f64(
            (fill.secs * region as f64 / fill.bytes.max(1) as f64).min(1e6),
        )
        .min(left.mul_f64(0.3));
        let steps = 2 * seq_depths.len() + rand_depths.len();
        let step = sweep::step_time((left - readback).mul_f64(0.7), steps);
        step_secs = step.as_secs_f64();
        ctx.log(format!(
            "sweeping queue depths {} (sequential) and {} (random), {:.2} s a step",
            list(&seq_depths),
            list(&rand_depths),
            step_secs
        ));
        let mb = |b: u64, s: f64| if s > 0.0 { b as f64 / s / 1e6 } else { 0.0 };
        let (w, err) = sweep::sweep(&seq_depths, step, deadline, |d, until| {
            sio.depth = d;
            let span = Span {
                start: write_end,
                region,
                wrap: true,
            };
            // At least one request per slot of the queue, however short the step.
            let min = d as u64 * seq_bs;
            let r = checked_seq(sequential(&mut sio, true, span, g0, Some(until), min))?;
            write_end = r.end;
            covered = covered.max(r.reached);
            Ok(Step {
                depth: d,
                rate: mb(r.bytes, r.secs),
                secs: r.secs,
                hist: r.hist,
                retried: false,
            })
        });
        sweeps.push((PHASES[0], w));
        if tally.sweep_failed(err) {
            break 'work;
        }
        if let Err(e) = file.sync_data() {
            tally.fault = Some(DiskFault {
                offset: 0,
                what: format!("fdatasync after writing: {e}"),
            });
            break 'work;
        }
        if let Some(h) = hooks.after_write {
            let reopen = match destructive {
                true => path.clone(),
                false => PathBuf::from(format!("/proc/self/fd/{fd}")),
            };
            h(&reopen, covered);
        }

        // 3. Everything written read back once and checked, at the largest depth.
        sio.depth = seq_max;
        if tally
            .seq(sequential(
                &mut sio,
                false,
                Span::once(covered),
                g0,
                None,
                0,
            ))
            .is_none()
            || tally.bad_count > 0
        {
            break 'work;
        }
        let mut read_end = 0;
        let (r, err) = sweep::sweep(&seq_depths, step, deadline, |d, until| {
            sio.depth = d;
            let span = Span {
                start: read_end,
                region: covered,
                wrap: true,
            };
            let min = d as u64 * seq_bs;
            let r = checked_seq(sequential(&mut sio, false, span, g0, Some(until), min))?;
            read_end = r.end;
            Ok(Step {
                depth: d,
                rate: mb(r.bytes, r.secs),
                secs: r.secs,
                hist: r.hist,
                retried: false,
            })
        });
        sweeps.push((PHASES[1], r));
        if tally.sweep_failed(err) {
            break 'work;
        }
        let mut rio = Io {
            engine: rand_engine.as_mut(),
            pool: &mut rand_pool,
            depth: 1,
        };
        let (rr, err) = sweep::sweep(&rand_depths, step, deadline, |d, until| {
            rio.depth = d;
            let r = checked_rand(random_reads(&mut rio, covered, g0, until, seed ^ d as u64))?;
            let iops = if r.secs > 0.0 {
                r.ios as f64 / r.secs
            } else {
                0.0
            };
            Ok(Step {
                depth: d,
                rate: iops,
                secs: r.secs,
                hist: r.hist,
                retried: false,
            })
        });
        sweeps.push((PHASES[2], rr));
        if tally.sweep_failed(err) {
            break 'work;
        }

        // 4. Cycles of write, read-back and random reads at the peak depths until the time is
        //    up, each with new data.
        let peak_of = |i: usize, or: usize| {
            sweeps
                .get(i)
                .and_then(|(_, s)| sweep::peak(s))
                .map_or(or, |p| p.depth)
        };
        let (wd, rd, qd) = (
            peak_of(0, seq_max),
            peak_of(1, seq_max),
            peak_of(2, rand_top),
        );
        let rand_window = dur
            .mul_f64(0.25)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut cycle = 1u64;
        while Instant::now() < deadline {
            let generation = splitmix64(&mut (seed ^ cycle));
            sio.depth = wd;
            let w = match tally.seq(sequential(
                &mut sio,
                true,
                Span::once(region),
                generation,
                Some(deadline),
                0,
            )) {
                Some(w) => w,
                None => break 'work,
            };
            if w.reached == 0 {
                break;
            }
            if let Err(e) = file.sync_data() {
                tally.fault = Some(DiskFault {
                    offset: 0,
                    what: format!("fdatasync after writing: {e}"),
                });
                break 'work;
            }
            sio.depth = rd;
            let r = match tally.seq(sequential(
                &mut sio,
                false,
                Span::once(w.reached),
                generation,
                None,
                0,
            )) {
                Some(r) => r,
                None => break 'work,
            };
            if tally.bad_count > 0 {
                break 'work;
            }
            rio.depth = qd;
            let now = Instant::now();
            let until = (now + rand_window).min(deadline.max(now));
            let x = checked_rand(random_reads(
                &mut rio,
                w.reached,
                generation,
                until,
                generation ^ seed,
            ));
            let x = match x {
                Ok(x) => x,
                Err(f) => {
                    tally.failed(f);
                    break 'work;
                }
            };
            sustained.rand_ios += x.ios;
            sustained.rand_secs += x.secs;
            sustained.hist.merge(&x.hist);
            sustained.write_bytes += w.bytes;
            sustained.write_secs += w.secs;
            sustained.read_bytes += r.bytes;
            sustained.read_secs += r.secs;
            sustained.cycles += 1;
            cycle += 1;
        }
    }
    drop(file);
    let after = read_counters(&ctx.sysroot);
    let Tally {
        bad,
        bad_count,
        fault,
    } = tally;

    // The peaks (the headline figures), the depths that reached them, and the curves.
    let headline = ["seq_write_mb_s", "seq_read_mb_s", "randread_4k_iops"];
    for (i, phase) in PHASES.iter().enumerate() {
        let Some((_, steps)) = sweeps.iter().find(|(p, _)| p == phase) else {
            continue;
        };
        let Some(p) = sweep::peak(steps) else {
            continue;
        };
        ctx.measure(headline[i], p.rate, phase.unit);
        ctx.measure(&peak_name(phase), p.depth as f64, "depth");
        if i == 2 {
            ctx.measure("lat_p50_us", p.hist.quantile(0.50) / 1e3, "µs");
            ctx.measure("lat_p99_us", p.p99_us(), "µs");
        }
    }
    ctx.measure("sweep_step_seconds", step_secs, "s");
    for (phase, steps) in &sweeps {
        for s in steps {
            ctx.log(format!(
                "{} at depth {}: {:.1} {}, p99 {:.0} µs, over {:.2} s{}",
                phase.title,
                s.depth,
                s.rate,
                phase.unit,
                s.p99_us(),
                s.secs,
                if s.retried {
                    " (run again: the first run stalled under half the best before it)"
                } else {
                    ""
                }
            ));
            let d = s.depth as u32;
            ctx.measure(&rate_name(phase, d), s.rate, phase.unit);
            ctx.measure(&p99_name(phase, d), s.p99_us(), "µs");
        }
    }
    let rate = |b: u64, s: f64| if s > 0.0 { b as f64 / s / 1e6 } else { 0.0 };
    if first_write.0 > 0 {
        ctx.measure(
            "first_write_mb_s",
            rate(first_write.0, first_write.1),
            "MB/s",
        );
    }
    if sustained.cycles > 0 {
        let s = &sustained;
        ctx.measure(
            "sustained_write_mb_s",
            rate(s.write_bytes, s.write_secs),
            "MB/s",
        );
        ctx.measure(
            "sustained_read_mb_s",
            rate(s.read_bytes, s.read_secs),
            "MB/s",
        );
        ctx.measure(
            "sustained_randread_iops",
            if s.rand_secs > 0.0 {
                s.rand_ios as f64 / s.rand_secs
            } else {
                0.0
            },
            "IOPS",
        );
        ctx.measure("sustained_lat_p99_us", s.hist.quantile(0.99) / 1e3, "µs");
    }
    ctx.measure("test_bytes", region as f64, "bytes");
    ctx.measure("tested_bytes", covered as f64, "bytes");
    ctx.measure("cycles", sustained.cycles as f64, "cycles");
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

/// The figures of the cycles after the sweeps.
#[derive(Default)]
struct Sustained {
    write_bytes: u64,
    write_secs: f64,
    read_bytes: u64,
    read_secs: f64,
    rand_ios: u64,
    rand_secs: f64,
    hist: Histogram,
    cycles: u64,
}

/// Why a step ended the work: a fault of the disk or bad blocks, with the bad blocks seen.
struct Failed {
    fault: Option<DiskFault>,
    bad: Vec<(u64, BadBlock)>,
    bad_count: u64,
}

/// A sequential pass that completed and found no bad block, or why not.
fn checked_seq(r: Result<Sequential, Box<(DiskFault, Sequential)>>) -> Result<Sequential, Failed> {
    match r {
        Ok(mut r) if r.bad_count > 0 => Err(Failed {
            fault: None,
            bad: std::mem::take(&mut r.bad),
            bad_count: r.bad_count,
        }),
        Ok(r) => Ok(r),
        Err(e) => {
            let (f, r) = *e;
            Err(Failed {
                fault: Some(f),
                bad: r.bad,
                bad_count: r.bad_count,
            })
        }
    }
}

/// A random-read phase that completed and found no bad block, or why not.
fn checked_rand(r: Result<Random, (DiskFault, Random)>) -> Result<Random, Failed> {
    match r {
        Ok(mut r) if r.bad_count > 0 => Err(Failed {
            fault: None,
            bad: std::mem::take(&mut r.bad),
            bad_count: r.bad_count,
        }),
        Ok(r) => Ok(r),
        Err((f, r)) => Err(Failed {
            fault: Some(f),
            bad: r.bad,
            bad_count: r.bad_count,
        }),
    }
}

/// The bad blocks (the first 8 and their count) and the fault that ended the work.
#[derive(Default)]
struct Tally {
    bad: Vec<(u64, BadBlock)>,
    bad_count: u64,
    fault: Option<DiskFault>,
}

impl Tally {
    fn failed(&mut self, f: Failed) {
        self.bad_count += f.bad_count;
        let room = 8usize.saturating_sub(self.bad.len());
        self.bad.extend(f.bad.into_iter().take(room));
        if f.fault.is_some() {
            self.fault = f.fault;
        }
    }
    /// A sequential pass's result, or None (its failure tallied).
    fn seq(&mut self, r: Result<Sequential, Box<(DiskFault, Sequential)>>) -> Option<Sequential> {
        match checked_seq(r) {
            Ok(r) => Some(r),
            Err(f) => {
                self.failed(f);
                None
            }
        }
    }
    /// Whether a sweep ended on a failure (tallied).
    fn sweep_failed(&mut self, e: Option<Failed>) -> bool {
        match e {
            Some(f) => {
                self.failed(f);
                true
            }
            None => false,
        }
    }
}

/// `1, 2, 4` of a list of depths.
fn list(depths: &[usize]) -> String {
    depths
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
