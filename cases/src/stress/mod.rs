//! # Stress cases: `cpu::stress`, `memory::stress`, `storage::stress`
//!
//! Each case loads one part of the machine for the profile's stress duration and checks every
//! answer it gets back, so a stress run proves both that the hardware survives the load and that
//! it computes, stores and reads back correctly under it:
//!
//! * [`cpu`]: one thread pinned to every online CPU runs known-answer kernels (integer hash
//!   chains and a fused multiply-add matrix product on the widest vector unit present), compared
//!   bit for bit with a reference; a wrong answer fails and names the CPU.
//! * [`memory`]: STREAM bandwidth, then pattern tests (walking ones and zeros, random data,
//!   moving inversions, address in address) over a share of the available memory.
//! * [`storage`]: sequential write and checksummed read-back, then 4 KiB random reads at queue
//!   depth 32, all with `O_DIRECT`, on a scratch file (or, with `--destructive --device`, the
//!   raw device after the safety checks).
//!
//! All three read the machine-check and EDAC error counters before and after, and fail on new
//! hardware errors ([`counters`]).
//!
//! ## Settings
//!
//! The duration comes from [`RunOptions::stress_seconds`](crate::RunOptions::stress_seconds) (10 s when absent). Everything else is
//! a profile `[settings]` key, described where it is read: `cpu_list` (the CPUs the cpu and
//! memory stressors load, list syntax `0-3,8`; default every online CPU this process may use),
//! `cpu_kernel`, `cpu_slow_ratio`, `cpu_slow_fail` ([`cpu`]); `memory_share`, `memory_bytes`,
//! `memory_reserve_bytes`, `memory_passes`, `stream_array_bytes` ([`memory`]);
//! `storage_file_bytes`, `storage_dir`, `storage_engine`, `storage_seq_block_bytes`,
//! `storage_seq_depth`, `storage_rand_depth`, `storage_max_depth`, `storage_device_bytes`
//! ([`storage`]). Sizes take `K`, `M`, `G`, `T` suffixes (powers of 1024).
//!
//! The settings are read in `settings`, the system calls the stressors share are in `sys`.

use crate::Case;

pub mod counters;
pub mod cpu;
pub mod kernels;
pub mod memory;
pub(crate) mod settings;
pub mod storage;
mod sys;
#[cfg(test)]
pub(crate) mod testing;

pub use settings::{duration, parse_size, DEFAULT_SECONDS};

/// Every stress case, in catalog order (cpu, memory, storage).
pub fn stress_cases() -> Vec<Box<dyn Case>> {
    vec![
        Box::new(cpu::CpuStress::new()),
        Box::new(memory::MemoryStress::new()),
        Box::new(storage::StorageStress::new()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_stress_cases_with_their_names() {
        let names: Vec<String> = stress_cases()
            .iter()
            .map(|c| c.info().name.clone())
            .collect();
        assert_eq!(names, ["cpu::stress", "memory::stress", "storage::stress"]);
        for c in stress_cases() {
            assert!(c.info().blocker);
            assert!(c.info().requirements.live);
        }
    }
}
