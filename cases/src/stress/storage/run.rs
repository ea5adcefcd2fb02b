//! One run of the stressor: its settings, the engine, the cycles of write, read-back and
//! random reads until the time is up, and the measurements and verdict.

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hwsys::units::iec;
use hwsys::Sysroot;

use super::block::{BadBlock, BLOCK};
use super::engine::{open_engine, probe_engine};
use super::histogram::Histogram;
use super::io::{EngineKind, Io, Pool};
use super::target::{self, Opened, Wanted};
use super::workload::{random_reads, sequential, DiskFault};
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
        let generation = splitmix64(&mut (seed ^ cycle));
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
