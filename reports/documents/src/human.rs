//! Measurements for people: a label for a measurement's key (`lat_p99_us` → "Latency p99"), a
//! value with its unit scaled (bytes in KiB/MiB/GiB, µs or ms, MB/s or GB/s), and the one-line
//! summary of a case's headline figures that the terminal prints after its result. The report
//! pages and the terminal use these, so a figure reads the same everywhere.

use crate::measure::Measurement;

/// Keys whose label is not their words (the rest are made from their words).
const LABELS: &[(&str, &str)] = &[
    ("lat_p50_us", "Latency p50"),
    ("lat_p99_us", "Latency p99"),
    ("sustained_lat_p99_us", "Sustained latency p99"),
    ("seq_write_mb_s", "Sequential write"),
    ("seq_read_mb_s", "Sequential read"),
    ("randread_4k_iops", "Random read 4 KiB"),
    ("first_write_mb_s", "First write"),
    ("sustained_write_mb_s", "Sustained write"),
    ("sustained_read_mb_s", "Sustained read"),
    ("sustained_randread_iops", "Sustained random read"),
    ("copy_mb_s", "Copy"),
    ("scale_mb_s", "Scale"),
    ("add_mb_s", "Add"),
    ("triad_mb_s", "Triad"),
    ("fma_gflops", "FMA throughput"),
    ("total_ops_per_s", "Rounds, all CPUs"),
    ("stream_array_bytes", "STREAM array size"),
    ("bios_date", "BIOS date"),
    ("mem_total", "Memory total"),
    ("dimm_total", "DIMM total"),
    ("read", "Read"),
];

/// The figures a case's one-line summary shows, in this order (those it measured).
const HEADLINE: &[&str] = &[
    "seq_write_mb_s",
    "seq_read_mb_s",
    "randread_4k_iops",
    "lat_p50_us",
    "lat_p99_us",
    "sustained_write_mb_s",
    "sustained_read_mb_s",
    "sustained_lat_p99_us",
    "copy_mb_s",
    "triad_mb_s",
    "fma_gflops",
    "cpus_tested",
    "bytes_verified",
    "passes",
    "read",
];

/// Words spelt the way people write them.
const WORDS: &[(&str, &str)] = &[
    ("lat", "latency"),
    ("seq", "sequential"),
    ("randread", "random read"),
    ("4k", "4 KiB"),
    ("cpu", "CPU"),
    ("cpus", "CPUs"),
    ("bios", "BIOS"),
    ("dmi", "DMI"),
    ("mtu", "MTU"),
    ("pci", "PCI"),
    ("pcie", "PCIe"),
    ("nvme", "NVMe"),
    ("smart", "SMART"),
    ("dimm", "DIMM"),
    ("fma", "FMA"),
    ("iops", "IOPS"),
    ("qd", "queue depth"),
];

/// Unit suffixes of keys, dropped from labels (the value carries its unit).
const SUFFIXES: &[&str] = &[
    "_mb_s", "_gb_s", "_us", "_ms", "_bytes", "_iops", "_gflops", "_per_s", "_percent", "_pct",
];

/// A label for a measurement key: "Latency p99" for `lat_p99_us`, "Bytes verified" for
/// `bytes_verified`, "Sequential read queue depth 8" for `seq_read_qd8_mb_s`. Never empty: a key of no words is shown as it is.
pub fn label(key: &str) -> String {
    if let Some((_, l)) = LABELS.iter().find(|(k, _)| *k == key) {
        return (*l).to_string();
    }
    let mut stem = key;
    for s in SUFFIXES {
        if let Some(x) = stem.strip_suffix(s) {
            if !x.is_empty() {
                stem = x;
                break;
            }
        }
    }
    let words: Vec<String> = stem
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            if let Some(d) = w
                .strip_prefix("qd")
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()) && !d.is_empty())
            {
                return format!("queue depth {d}");
            }
            if let Some(d) = w
                .strip_prefix("cpu")
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()) && !d.is_empty())
            {
                return format!("CPU {d}");
            }
            WORDS
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(w))
                .map(|(_, v)| (*v).to_string())
                .unwrap_or_else(|| w.to_string())
        })
        .collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => key.to_string(),
    }
}

/// A number with at most three significant digits after scaling, whole numbers as they are.
fn num(v: f64) -> String {
    let a = v.abs();
    if (v.fract() == 0.0 && a < 1e15) || a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A value in its unit, scaled for people: bytes in binary units ("256 MiB"), µs as µs, ms or
/// s, MB/s as GB/s from 1000, IOPS with k/M; other units after the number ("4 CPUs"); a value
/// that is not a finite number is "n/a".
pub fn value(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    match unit {
        "bytes" | "B" if (0.0..1.8e19).contains(&v) => hwsys::units::iec(v.round() as u64),
        "µs" | "us" if a >= 1e6 => format!("{} s", num(v / 1e6)),
        "µs" | "us" if a >= 1e3 => format!("{} ms", num(v / 1e3)),
        "µs" | "us" => format!("{} µs", num(v)),
        "ms" if a >= 1e3 => format!("{} s", num(v / 1e3)),
        "MB/s" if a >= 1e3 => format!("{} GB/s", num(v / 1e3)),
        "IOPS" if a >= 1e6 => format!("{}M IOPS", num(v / 1e6)),
        "IOPS" if a >= 1e4 => format!("{}k IOPS", num(v / 1e3)),
        "" | "1" => num(v),
        u => format!("{} {u}", num(v)),
    }
}

/// A limit's operator as people write it (`>=` → `≥`).
pub fn op(op: &str) -> &str {
    match op {
        ">=" => "≥",
        "<=" => "≤",
        o => o,
    }
}

/// A measurement for people: "Latency p99 210 µs", with its limit when it has one
/// ("Bad blocks 0 blocks (== 0)").
pub fn measurement(m: &Measurement) -> String {
    let mut s = format!("{} {}", label(&m.name), value(m.value, &m.unit));
    if let Some(t) = &m.threshold {
        s.push_str(&format!(" ({} {})", op(&t.op), value(t.value, &m.unit)));
    }
    s
}

/// The one-line summary of a case's figures: its headline measurements (throughput, IOPS,
/// latency percentiles, bandwidth, bytes verified) in a fixed order, then those judged against
/// a limit; `None` when it measured none of them.
pub fn summary(ms: &[Measurement]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for key in HEADLINE {
        if let Some(m) = ms.iter().find(|m| m.name == *key) {
            parts.push(format!("{} {}", label(&m.name), value(m.value, &m.unit)));
        }
    }
    for m in ms.iter().filter(|m| m.threshold.is_some()) {
        if !HEADLINE.contains(&m.name.as_str()) {
            parts.push(measurement(m));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Threshold;

    #[test]
    fn labels_for_people() {
        assert_eq!(label("lat_p99_us"), "Latency p99");
        assert_eq!(label("copy_mb_s"), "Copy");
        assert_eq!(label("bios_date"), "BIOS date");
        assert_eq!(label("bytes_verified"), "Bytes verified");
        assert_eq!(label("cpus_tested"), "CPUs tested");
        assert_eq!(label("records"), "Records");
        assert_eq!(label("cpu12_ops_per_s"), "CPU 12 ops");
        assert_eq!(label("seq_read_qd8_mb_s"), "Sequential read queue depth 8");
        assert_eq!(
            label("randread_qd32_p99_us"),
            "Random read queue depth 32 p99"
        );
        assert_eq!(
            label("seq_read_peak_qd"),
            "Sequential read peak queue depth"
        );
        // Garbage and empty keys stay what they are rather than vanish.
        assert_eq!(label(""), "");
        assert_eq!(label("___"), "___");
        assert_eq!(label("_us"), "Us");
        assert_eq!(label("é_x"), "É x");
    }

    #[test]
    fn values_scaled_with_units() {
        assert_eq!(value(268435456.0, "bytes"), "256 MiB");
        assert_eq!(value(1536.0, "bytes"), "1.5 KiB");
        assert_eq!(value(85.4, "µs"), "85.4 µs");
        assert_eq!(value(2345.0, "µs"), "2.35 ms");
        assert_eq!(value(3.2e6, "µs"), "3.20 s");
        assert_eq!(value(812.0, "MB/s"), "812 MB/s");
        assert_eq!(value(12345.6, "MB/s"), "12.3 GB/s");
        assert_eq!(value(45210.0, "IOPS"), "45.2k IOPS");
        assert_eq!(value(1.5e6, "IOPS"), "1.50M IOPS");
        assert_eq!(value(4.0, "CPUs"), "4 CPUs");
        assert_eq!(value(7.0, ""), "7");
        assert_eq!(value(3.0, "1"), "3");
        assert_eq!(value(f64::NAN, "bytes"), "n/a");
        assert_eq!(value(f64::INFINITY, "µs"), "n/a");
        // A negative or absurd byte count is not a size: the number and its unit.
        assert_eq!(value(-1.0, "bytes"), "-1 bytes");
        assert_eq!(
            value(1e30, "bytes"),
            "1000000000000000019884624838656 bytes"
        );
    }

    fn m(name: &str, v: f64, unit: &str) -> Measurement {
        Measurement::new(name, v, unit)
    }

    #[test]
    fn summary_of_a_storage_stress_case() {
        let mut ms = vec![
            m("seq_write_mb_s_qd1", 300.0, "MB/s"),
            m("seq_write_mb_s", 1234.0, "MB/s"),
            m("seq_read_mb_s", 2100.0, "MB/s"),
            m("randread_4k_iops", 45210.0, "IOPS"),
            m("lat_p50_us", 85.0, "µs"),
            m("lat_p99_us", 1210.0, "µs"),
            m("test_bytes", 1e9, "bytes"),
        ];
        ms.push(Measurement {
            threshold: Some(Threshold {
                op: "==".into(),
                value: 0.0,
            }),
            ..m("bad_blocks", 0.0, "blocks")
        });
        assert_eq!(
            summary(&ms).as_deref(),
            Some(
                "Sequential write 1.23 GB/s, Sequential read 2.10 GB/s, Random read 4 KiB \
                 45.2k IOPS, Latency p50 85 µs, Latency p99 1.21 ms, Bad blocks 0 blocks (== 0 blocks)"
            )
        );
        assert_eq!(summary(&[]), None);
        assert_eq!(summary(&[m("records", 12.0, "")]), None);
    }
}
