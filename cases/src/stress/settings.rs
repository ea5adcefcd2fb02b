//! The settings a stressor reads: the stress duration, typed profile `[settings]` values
//! (numbers, sizes with binary suffixes, booleans) and the CPUs to load.

use std::str::FromStr;
use std::time::Duration;

use super::sys;
use crate::{Context, RunOptions};

/// The stress duration when the profile gives none.
pub const DEFAULT_SECONDS: u64 = 10;

/// Default time limit of a stress instance (the profile's harness limit usually replaces it).
pub(crate) const STRESS_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

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
}
