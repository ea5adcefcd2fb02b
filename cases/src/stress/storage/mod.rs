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
//! **What.** In `stress_seconds` (10 s when absent):
//! 1. the first write of the whole region in `storage_seq_block_bytes` (1 MiB) requests at the
//!    largest sequential depth, for at most 40 % of the time (a raw device is tested over what
//!    it reaches); every 4 KiB block carries its offset, the generation, the generation's random
//!    data mixed with the offset (incompressible, no two blocks alike) and a tag of offset and
//!    generation ([`fill_block`]; a few vector instructions a word, so the CPU never caps a
//!    fast disk);
//! 2. the queue-depth sweeps, in 70 % of the time left (less the time the read-back below is
//!    expected to take at the first write's rate, at most 30 %), split evenly over every step
//!    they could take: sequential write (overwriting, on from where the last step stopped),
//!    then — after everything written is read back once and every word of every block compared
//!    with what was written ([`check_block`]; a bad block fails the case and names its offset) — sequential read and
//!    4 KiB random reads, each block checked, at depths 1, 2, 4, … up to `storage_max_depth` (64). A phase stops when
//!    throughput stops rising: after two consecutive steps that are not more than 5 % above the
//!    best step before them (see `sweep`). `storage_seq_depth` or `storage_rand_depth` pin
//!    their phases to one depth. As fio does, each completed random read is replaced and
//!    submitted at once (batches would queue behind themselves and widen the latency spread);
//! 3. until the time is up, cycles at the peak depths, each with new data: write, fdatasync,
//!    read-back with every block checked, random reads for a quarter of the time (1–60 s).
//!
//! I/O goes through io_uring where the kernel allows it (`IORING_OP_READV`/`WRITEV`, Linux 5.1),
//! else Linux native AIO (`io_submit`); `storage_engine = io_uring | aio` forces one.
//!
//! **Measured.** The peaks of the sweeps — `seq_write_mb_s`, `seq_read_mb_s` (MB = 10⁶ bytes,
//! as fio's `MB/s`), `randread_4k_iops` — with the depth that reached each
//! (`seq_write_peak_qd`, …) and `lat_p50_us`, `lat_p99_us` of the random reads at their peak
//! depth (submission to reaping, from a log-linear histogram with 1/32 resolution); the whole
//! curves as [`documents::sweep`] names them (`seq_write_qd8_mb_s`, `seq_write_qd8_p99_us`,
//! `randread_qd32_iops`, …; the report draws them) and `sweep_step_seconds`;
//! `first_write_mb_s`; the cycles' `sustained_write_mb_s`, `sustained_read_mb_s`,
//! `sustained_randread_iops`, `sustained_lat_p99_us` (when a cycle ran) and `cycles`;
//! `test_bytes` (the region) and `tested_bytes` (what was written); `bad_blocks`, `io_errors`
//! and `new_hardware_errors` (the machine-check, EDAC and PCIe AER counters of the disk's
//! controller) judged against zero.
//!
//! **Files**, one concern each: `block` (the block format), `io` (the engine interface and
//! buffers), `uring` and `aio` (the two engines), `engine` (choosing one), `workload` (the
//! sequential and random phases), `sweep` (the depths, the stopping rule, the time split and
//! the peak), `histogram` (latencies), `safety` (holders, mounts, swap and
//! refusals), `target` (the scratch file or the raw device, and its size), `run` (one run from
//! settings to verdict); this file holds the case and re-exports the public items.

use std::time::Duration;

use hwsys::units::iec;

use crate::stress::settings::STRESS_TIMEOUT;
use crate::Verdict;
use crate::{Case, CaseInfo, Component, Context, Inventory, Requirements, Selection, Target};

mod aio;
mod block;
mod engine;
mod histogram;
mod io;
mod run;
mod safety;
mod sweep;
mod target;
mod uring;
mod workload;

#[cfg(test)]
mod tests;

pub use block::{check_block, fill_block, BadBlock, Noise, BLOCK};
pub use histogram::Histogram;
pub use hwsys::mountinfo::Mount;
pub use io::EngineKind;
pub use safety::{live_refusals, refusals};

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
        run::run_with(ctx, &run::Hooks::default())
    }
}
