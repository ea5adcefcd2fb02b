//! Sizes as util-linux prints them (lib/strutils.c `size_to_human_string`), so that our numbers
//! can be compared with lsblk, lscpu and lsmem, and printed the way their users read them.

/// How util-linux spells the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeStyle {
    /// One letter, no space: lsblk and lsmem ("223.6G", "128M", "0B").
    Letter,
    /// IEC three letters after a space: lscpu ("1.5 MiB", "32 KiB", "0 B").
    IecSpaced,
}

/// Binary units with at most one decimal, rounded half up — the largest unit the size reaches
/// ("1023 B" stays bytes; (1 GiB − 1) is "1024M").
pub fn util_linux_size(bytes: u64, style: SizeStyle) -> String {
    let mut exp = 0u32;
    while exp < 60 && bytes >= 1u64 << (exp + 10) {
        exp += 10;
    }
    let letter = ['B', 'K', 'M', 'G', 'T', 'P', 'E'][(exp / 10) as usize];
    let unit = match (style, exp) {
        (SizeStyle::Letter, _) => letter.to_string(),
        (SizeStyle::IecSpaced, 0) => " B".to_string(),
        (SizeStyle::IecSpaced, _) => format!(" {letter}iB"),
    };
    if exp == 0 {
        return format!("{bytes}{unit}");
    }
    let scale = 1u64 << exp;
    let mut whole = bytes / scale;
    // Thousandths of a unit (128 bits: the remainder times 1000 overflows u64 for exbibytes),
    // rounded to tenths half up.
    let thousandths = (u128::from(bytes % scale) * 1000 / u128::from(scale)) as u64;
    let mut tenths = (thousandths + 50) / 100;
    if tenths >= 10 {
        whole += 1;
        tenths = 0;
    }
    if tenths == 0 {
        format!("{whole}{unit}")
    } else {
        format!("{whole}.{tenths}{unit}")
    }
}

/// Bytes in binary units with one decimal, a whole number shown without it ("23.5 GiB",
/// "128 MiB", "0 B").
pub fn iec(b: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut i = 0;
    let mut v = b as f64;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else if (v - v.round()).abs() < 0.05 {
        format!("{} {}", v.round() as u64, UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Disk sizes in decimal units, as vendors label them ("480 GB", "1.2 TB").
pub fn decimal(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut i = 0;
    let mut v = b as f64;
    while v >= 1000.0 && i + 1 < UNITS.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 || v >= 100.0 || (v - v.round()).abs() < 0.05 {
        format!("{} {}", v.round() as u64, UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

#[cfg(test)]
mod human_tests {
    use super::*;

    #[test]
    fn people_sizes() {
        assert_eq!(iec(0), "0 B");
        assert_eq!(iec(1023), "1023 B");
        assert_eq!(iec(1536), "1.5 KiB");
        assert_eq!(iec(128 << 20), "128 MiB");
        assert_eq!(decimal(480_103_981_056), "480 GB");
        assert_eq!(decimal(1_200_000_000_000), "1.2 TB");
        assert_eq!(decimal(999), "999 B");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsblk_and_lsmem_style() {
        let h = |b| util_linux_size(b, SizeStyle::Letter);
        assert_eq!(h(0), "0B");
        assert_eq!(h(512), "512B");
        assert_eq!(h(1023), "1023B");
        assert_eq!(h(1024), "1K");
        assert_eq!(h(1536), "1.5K");
        assert_eq!(h(468862128 * 512), "223.6G");
        assert_eq!(h(409600 * 512), "200M");
        assert_eq!(h(2097151 * 512), "1024M");
        assert_eq!(h(2147450880), "2G");
        assert_eq!(h(u64::MAX), "16E");
    }

    #[test]
    fn lscpu_style() {
        let h = |b| util_linux_size(b, SizeStyle::IecSpaced);
        assert_eq!(h(0), "0 B");
        assert_eq!(h(1023), "1023 B");
        assert_eq!(h(32 * 1024), "32 KiB");
        assert_eq!(h(1536 * 1024), "1.5 MiB");
        assert_eq!(h(128 << 20), "128 MiB");
        assert_eq!(h((1 << 30) - 1), "1024 MiB");
        assert_eq!(h(1 << 30), "1 GiB");
        assert_eq!(h(1288 * 1024), "1.3 MiB");
    }
}
