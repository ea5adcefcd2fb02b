//! CPU lists ("0-5,48-53") and masks ("ff,ffffffff") as the kernel writes them, read with a cap
//! on CPU numbers so that no file can make the probe allocate or loop without end.

use hwsys::sysroot::{format_cpu_list, Sysroot};

use super::model::{CpuSet, MAX_CPUS};

/// Parse a kernel CPU list ("0-5,48-53", "0-31:2/4") refusing numbers >= [`MAX_CPUS`].
pub(super) fn parse_list_capped(s: &str) -> Result<CpuSet, String> {
    let mut out = CpuSet::new();
    let s = s.trim();
    if s.is_empty() {
        return Ok(out);
    }
    let num = |x: &str| -> Result<u32, String> {
        let x = x.trim();
        let n: u32 = x
            .parse()
            .map_err(|_| format!("'{}' is not a CPU number", hwsys::sysroot::shorten(x)))?;
        if n >= MAX_CPUS {
            return Err(format!("CPU number {n} is implausible"));
        }
        Ok(n)
    };
    // Repeated huge ranges ("0-65535,0-65535,...") must not turn into minutes of work.
    let mut budget: u64 = 4 * u64::from(MAX_CPUS);
    for part in s.split(',') {
        let part = part.trim();
        let (range, group) = match part.split_once(':') {
            Some((r, g)) => {
                let (used, size) = match g.split_once('/') {
                    Some((u, z)) => (num(u)?, num(z)?),
                    None => (1, num(g)?), // lscpu's own "0-62:2" stride notation
                };
                if used == 0 || size == 0 {
                    return Err(format!("bad group '{}'", hwsys::sysroot::shorten(part)));
                }
                (r, Some((used, size)))
            }
            None => (part, None),
        };
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let v = num(range)?;
                (v, v)
            }
        };
        if a > b {
            return Err(format!("bad range '{}'", hwsys::sysroot::shorten(part)));
        }
        budget = budget
            .checked_sub(u64::from(b - a) + 1)
            .ok_or_else(|| "the list is implausibly long".to_string())?;
        match group {
            None => out.extend(a..=b),
            Some((used, size)) => {
                let mut start = a;
                while start <= b {
                    let end = start.saturating_add(used - 1).min(b);
                    out.extend(start..=end);
                    match start.checked_add(size) {
                        Some(n) => start = n,
                        None => break,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Parse a kernel cpumask ("ff,ffffffff"), refusing masks wider than [`MAX_CPUS`] bits.
pub(super) fn parse_mask_capped(s: &str) -> Result<CpuSet, String> {
    let words: Vec<&str> = s.trim().split(',').collect();
    if words.len() > (MAX_CPUS / 32) as usize {
        return Err(format!("a mask of {} words is implausible", words.len()));
    }
    let mut out = CpuSet::new();
    let last = words.len() - 1;
    for (wi, w) in words.iter().rev().enumerate() {
        let w = w.trim();
        // The kernel writes every word after the first as 8 hex digits (bitmap_string): a
        // shorter one is a cut file ("ff,fff"), not a mask of fewer CPUs.
        if w.is_empty() || w.len() > 8 || (wi != last && w.len() != 8) {
            return Err(format!(
                "'{}' is not a CPU mask",
                hwsys::sysroot::shorten(s)
            ));
        }
        let v = u32::from_str_radix(w, 16)
            .map_err(|_| format!("'{}' is not a CPU mask", hwsys::sysroot::shorten(s)))?;
        for bit in 0..32u32 {
            if v & (1 << bit) != 0 {
                out.insert(wi as u32 * 32 + bit);
            }
        }
    }
    Ok(out)
}

/// A CPU list file. Empty is a warning unless `empty_ok` (a list that may hold no CPU).
pub(super) fn read_list(
    sys: &Sysroot,
    rel: &str,
    required: bool,
    empty_ok: bool,
) -> Option<CpuSet> {
    let text = if required {
        sys.read_required(rel)?
    } else if empty_ok {
        sys.read_maybe_empty(rel)?
    } else {
        sys.read(rel)?
    };
    match parse_list_capped(&text) {
        Ok(s) => Some(s),
        Err(e) => {
            sys.warn(rel, e);
            None
        }
    }
}

pub(super) fn read_mask(sys: &Sysroot, rel: &str) -> Option<CpuSet> {
    let text = sys.attr(rel)?;
    match parse_mask_capped(&text) {
        Ok(s) => Some(s),
        Err(e) => {
            sys.warn(rel, e);
            None
        }
    }
}

pub(super) fn format_list(s: &CpuSet) -> String {
    format_cpu_list(&s.iter().copied().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_masks_are_capped() {
        assert!(parse_list_capped("0-4000000000").is_err());
        assert!(parse_list_capped(&"0-65535,".repeat(100_000)).is_err());
        assert!(parse_list_capped(&format!("{MAX_CPUS}")).is_err());
        assert_eq!(
            parse_list_capped("0-7:2/4").expect("group"),
            CpuSet::from([0, 1, 4, 5])
        );
        assert_eq!(parse_list_capped("0-6:2").expect("stride").len(), 4);
        assert!(parse_list_capped("3-1").is_err());
        assert!(parse_list_capped("0-3:0").is_err());
        assert_eq!(parse_list_capped("").expect("empty"), CpuSet::new());
        assert!(parse_mask_capped(&"ffffffff,".repeat(3000)).is_err());
        assert_eq!(
            parse_mask_capped("00000001,00000003").expect("mask"),
            CpuSet::from([0, 1, 32])
        );
        assert!(parse_mask_capped("123456789").is_err());
        // Cut in the middle (issue 13.14, point 3): a short word after the first, a trailing
        // comma.
        assert!(parse_mask_capped("00000001,0000").is_err());
        assert!(parse_mask_capped("00000001,").is_err());
        assert_eq!(
            parse_mask_capped("1,00000000").expect("mask"),
            CpuSet::from([32])
        );
        // A cut list: a range or a list without its last number.
        assert!(parse_list_capped("0-").is_err());
        assert!(parse_list_capped("0-3,").is_err());
    }
}
