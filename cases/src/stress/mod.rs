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
//! The duration comes from [`RunOptions::stress_seconds`] (10 s when absent). Everything else is
//! a profile `[settings]` key, described where it is read: `cpu_list` (the CPUs the cpu and
//! memory stressors load, list syntax `0-3,8`; default every online CPU this process may use),
//! `cpu_kernel`, `cpu_slow_ratio`, `cpu_slow_fail` ([`cpu`]); `memory_share`, `memory_bytes`,
//! `memory_reserve_bytes`, `memory_passes`, `stream_array_bytes` ([`memory`]);
//! `storage_file_bytes`, `storage_dir`, `storage_engine`, `storage_seq_block_bytes`,
//! `storage_seq_depth`, `storage_rand_depth`, `storage_device_bytes` ([`storage`]). Sizes
//! take `K`, `M`, `G`, `T` suffixes (powers of 1024).

use std::str::FromStr;
use std::time::Duration;

use crate::{Case, Context, RunOptions};

pub mod counters;
pub mod cpu;
pub mod kernels;
pub mod memory;
pub mod storage;
mod sys;

/// The stress duration when the profile gives none.
pub const DEFAULT_SECONDS: u64 = 10;

/// Default time limit of a stress instance (the profile's harness limit usually replaces it).
pub(crate) const STRESS_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// Every stress case, in catalog order (cpu, memory, storage).
pub fn stress_cases() -> Vec<Box<dyn Case>> {
    vec![
        Box::new(cpu::CpuStress::new()),
        Box::new(memory::MemoryStress::new()),
        Box::new(storage::StorageStress::new()),
    ]
}

/// The stress duration of a run.
pub fn duration(options: &RunOptions) -> Duration {
    Duration::from_secs(options.stress_seconds.unwrap_or(DEFAULT_SECONDS))
}

/// A profile setting parsed as `T`; a value that does not parse is an error naming the key.
pub(crate) fn setting<T: FromStr>(ctx: &Context<'_>, key: &str) -> Result<Option<T>, String> {
    match ctx.options.settings.get(key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<T>().map(Some).map_err(|_| {
            format!(
                "setting {key} = '{v}' is not a valid {}",
                std::any::type_name::<T>()
            )
        }),
    }
}

/// The CPUs a stressor loads: the online CPUs this process may run on, narrowed by the
/// `cpu_list` setting. Returns (CPUs, online CPUs the affinity mask leaves out).
pub(crate) fn stress_cpus(ctx: &Context<'_>) -> Result<(Vec<u32>, Vec<u32>), String> {
    let (mut cpus, excluded) = sys::stress_cpus(&ctx.sysroot, ctx.inventory.cpu.online.as_deref());
    if let Some(list) = ctx.options.settings.get("cpu_list") {
        let Some(only) = hwsys::sysroot::parse_cpu_list(list) else {
            return Err(format!(
                "cpu_list = '{list}': expected a CPU list such as 0-3,8"
            ));
        };
        cpus.retain(|c| only.contains(c));
        if cpus.is_empty() {
            return Err(format!(
                "cpu_list = '{list}': none of these CPUs is online and allowed"
            ));
        }
    }
    Ok((cpus, excluded))
}

/// A size setting (`4096`, `64M`, `1G`, `1GiB`).
pub(crate) fn size_setting(ctx: &Context<'_>, key: &str) -> Result<Option<u64>, String> {
    match ctx.options.settings.get(key) {
        None => Ok(None),
        Some(v) => parse_size(v)
            .map(Some)
            .ok_or_else(|| format!("setting {key} = '{v}' is not a size (e.g. 4096, 64M, 1G)")),
    }
}

/// A boolean setting (`true`/`false`, `yes`/`no`, `1`/`0`).
pub(crate) fn bool_setting(ctx: &Context<'_>, key: &str) -> Result<Option<bool>, String> {
    match ctx
        .options
        .settings
        .get(key)
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(None),
        Some(v) => match v.as_str() {
            "true" | "yes" | "1" | "on" => Ok(Some(true)),
            "false" | "no" | "0" | "off" => Ok(Some(false)),
            _ => Err(format!("setting {key} = '{v}' is not true or false")),
        },
    }
}

/// `4096`, `64K`, `64M`, `1G`, `1GiB`, `2T` (powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits_end = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(digits_end);
    let unit = unit.trim().to_ascii_uppercase();
    let shift = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    if num.contains('.') {
        let v: f64 = num.parse().ok()?;
        let b = v * (1u64 << shift) as f64;
        (b.is_finite() && b >= 0.0 && b < u64::MAX as f64).then_some(b as u64)
    } else {
        num.parse::<u64>().ok()?.checked_mul(1u64 << shift)
    }
}

/// The median of some numbers (the mean of the middle two for an even count); 0 for none.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A context for running stress cases in unit tests.
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use crate::{Inventory, RunOptions, Target};

    /// Options with `seconds` and some settings.
    pub fn options(seconds: u64, settings: &[(&str, &str)]) -> RunOptions {
        RunOptions {
            stress_seconds: Some(seconds),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..RunOptions::default()
        }
    }

    /// A log sink the test can read afterwards.
    #[derive(Clone, Default)]
    pub struct Log(pub Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Log {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Log {
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
        }
    }

    /// The live inventory (probed once per test; no udev).
    pub fn live_inventory() -> Inventory {
        inventory::probe(&inventory::ProbeOptions {
            udev: false,
            ..inventory::ProbeOptions::default()
        })
        .expect("the live system probes")
    }

    /// A machine-wide target.
    pub fn machine() -> Target {
        Target::machine()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size(" 2 T "), Some(2 << 40));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

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
