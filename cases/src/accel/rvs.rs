//! ROCm Validation Suite (`rvs`, also in Hygon's DTK): the configuration hwcert hands it and
//! what its `gst` (GEMM stress) and `babel` (BabelStream memory bandwidth) modules print.
//!
//! The formats, from RVS's documentation and sources (ROCm/ROCmValidationSuite: the GST
//! module's page, `gst.so/src/gst_worker.cpp`, `babel.so/src/rvs_stress.cpp`):
//!
//! * gst, per log interval and at the end (RVS 1.x writes `Gflops`, later ones `GFLOPS`):
//!   `[RESULT] [<ts>] [<action>] gst <gpu_id> GFLOPS <value>`, the last one followed by
//!   `Met target stress : <target> PASS` or `Couldnt meet target stress : <target> FAIL`.
//!   Older releases end with `gst <gpu_id> Gflop: <max> flops_per_op: … pass: TRUE|FALSE`.
//!   Errors are `[ERROR ]` lines, and the self/accuracy/CRC checks say
//!   `self-check error`, `accu-check error`, `crc-check error`.
//! * babel prints BabelStream's table: `Function  MBytes/sec  Min (sec)  Max  Average`, then
//!   one row per kernel (`Copy : 1371232.511 …`, `Mul`, `Add`, `Triad`, `Dot`), or for the
//!   triad-only test `Bandwidth (GB/s):  1234.567`; wrong answers are
//!   `Validation failed on a[]. Average error …`.
//!
//! Nothing here trusts `PASS` alone: the callers need the figures.

/// What rvs printed about one GPU.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RvsRun {
    /// gst's GFLOPS figures for the GPU, in order.
    pub gflops: Vec<f64>,
    /// gst's verdicts for the GPU: true for PASS / pass: TRUE.
    pub gst_verdicts: Vec<bool>,
    /// babel's bandwidth figures (GB/s), one per kernel row.
    pub bandwidth_gbps: Vec<(String, f64)>,
    /// Lines that report an error: `[ERROR`, a check error, a failed validation, a ramp
    /// time exceeded.
    pub errors: Vec<String>,
}

impl RvsRun {
    pub fn max_gflops(&self) -> Option<f64> {
        self.gflops.iter().copied().reduce(f64::max)
    }
    pub fn max_bandwidth(&self) -> Option<f64> {
        self.bandwidth_gbps.iter().map(|(_, v)| *v).reduce(f64::max)
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim_matches(|c: char| c == ':' || c == ',')
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Parse rvs's output about the GPU whose KFD id is `gpu_id` (gst lines naming another GPU
/// are passed over; babel's table is about the configured device).
pub fn parse_rvs(text: &str, gpu_id: &str) -> RvsRun {
    let mut r = RvsRun::default();
    let mut babel_table = false;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let lower = l.to_ascii_lowercase();
        let shown = || hwsys::text::escape_controls(l).into_owned();
        if lower.starts_with("[error")
            || lower.contains("check error")
            || lower.contains("validation failed")
            || lower.contains("ramp time exceeded")
        {
            r.errors.push(shown());
        }
        let words: Vec<&str> = l.split_whitespace().collect();
        // "… gst <id> GFLOPS <v> [Met target stress : <t> PASS]" or "… gst <id> Gflop: <v> … pass: TRUE"
        if let Some(i) = words.iter().position(|w| *w == "gst") {
            if words.get(i + 1) == Some(&gpu_id) {
                let rest = &words[i + 2..];
                if let Some(k) = rest.iter().position(|w| {
                    let w = w.trim_end_matches(':').to_ascii_lowercase();
                    w == "gflops" || w == "gflop"
                }) {
                    if let Some(v) = rest.get(k + 1).and_then(|v| number(v)) {
                        r.gflops.push(v);
                    }
                }
                let last = rest.last().map(|w| w.to_ascii_uppercase());
                if lower.contains("target stress") {
                    match last.as_deref() {
                        Some("PASS") => r.gst_verdicts.push(true),
                        Some("FAIL") => r.gst_verdicts.push(false),
                        _ => {}
                    }
                } else if let Some(p) = rest.iter().position(|w| w.eq_ignore_ascii_case("pass:")) {
                    match rest.get(p + 1).map(|w| w.to_ascii_lowercase()).as_deref() {
                        Some("true") => r.gst_verdicts.push(true),
                        Some("false") => r.gst_verdicts.push(false),
                        _ => {}
                    }
                }
            }
            continue;
        }
        // BabelStream's table: the header says the unit of the rows that follow.
        if words.first() == Some(&"Function") && lower.contains("bytes/sec") {
            babel_table = true;
            continue;
        }
        if lower.starts_with("bandwidth (gb/s)") || lower.starts_with("bandwidth (gib/s)") {
            if let Some(v) = words.last().and_then(|v| number(v)) {
                let gib = lower.contains("gib/s");
                r.bandwidth_gbps
                    .push(("Triad".into(), if gib { v * 1.073_741_824 } else { v }));
            }
            continue;
        }
        if babel_table {
            let name = words.first().map(|w| w.trim_end_matches(':')).unwrap_or("");
            if ["Copy", "Mul", "Add", "Triad", "Dot"].contains(&name) {
                // "Copy :  1371232.511 …" or "Copy  1371232.511 …": MB/s (10^6 bytes).
                let v = words[1..]
                    .iter()
                    .find(|w| **w != ":")
                    .and_then(|v| number(v));
                if let Some(v) = v {
                    r.bandwidth_gbps.push((name.to_string(), v / 1000.0));
                }
            } else {
                babel_table = false;
            }
        }
    }
    r
}

/// The KFD id rvs names the GPU at `addr` by: the `gpu_id` of the topology node whose
/// `properties` give its PCI location (`domain`, `location_id` = bus << 8 | devfn).
pub fn kfd_gpu_id(sys: &hwsys::Sysroot, addr: &str) -> Option<String> {
    let (dom, rest) = addr.split_once(':')?;
    let (bus, devfn) = rest.split_once(':')?;
    let (dev, func) = devfn.split_once('.')?;
    let dom = u32::from_str_radix(dom, 16).ok()?;
    let loc = (u32::from_str_radix(bus, 16).ok()? << 8)
        | (u32::from_str_radix(dev, 16).ok()? << 3)
        | u32::from_str_radix(func, 16).ok()?;
    let dir = "sys/class/kfd/kfd/topology/nodes";
    let mut nodes = sys.list_dir(dir);
    nodes.sort();
    for n in nodes {
        let Some(props) = sys.read(&format!("{dir}/{n}/properties")) else {
            continue;
        };
        let get = |k: &str| {
            props.lines().find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(k))
                    .then(|| w.next().and_then(|v| v.parse::<u32>().ok()))
                    .flatten()
            })
        };
        if get("location_id") == Some(loc) && get("domain").unwrap_or(0) == dom {
            let id = sys.read(&format!("{dir}/{n}/gpu_id"))?;
            let id = id.trim();
            return (!id.is_empty() && id != "0" && id.bytes().all(|b| b.is_ascii_digit()))
                .then(|| id.to_string());
        }
    }
    None
}

/// The configuration hwcert hands rvs: a gst action at `target_gflops` for `seconds`, then a
/// babel action, both on the one GPU `gpu_id`. Keys as RVS's documentation names them.
pub fn config(gpu_id: &str, seconds: u64, target_gflops: f64) -> String {
    let ms = seconds.max(1).saturating_mul(1000);
    format!(
        "actions:\n\
         - name: hwcert_gst\n  device: {gpu_id}\n  module: gst\n  parallel: false\n  count: 1\n  duration: {ms}\n  copy_matrix: false\n  target_stress: {target_gflops:.0}\n  matrix_size_a: 8640\n  matrix_size_b: 8640\n  matrix_size_c: 8640\n  ops_type: sgemm\n  ramp_interval: 5000\n  log_interval: 1000\n  tolerance: 0.1\n\
         - name: hwcert_babel\n  device: {gpu_id}\n  module: babel\n  parallel: false\n  count: 1\n  num_iter: 5000\n  array_size: 33554432\n  test_type: 1\n  mibibytes: false\n  o/p_csv: false\n  subtest: 5\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gst_lines_of_both_spellings_and_other_gpus() {
        let r = parse_rvs(
            "[RESULT] [1.0] [a] gst 123 GFLOPS 100.5\n\
             [RESULT] [2.0] [a] gst 999 GFLOPS 9999\n\
             [RESULT] [3.0] a gst 123 Gflop: 200.25 flops_per_op: 1x1e9 pass: FALSE\n\
             [RESULT] [4.0] [a] gst 123 GFLOPS 150 Met target stress : 100 PASS\n",
            "123",
        );
        assert_eq!(r.gflops, [100.5, 200.25, 150.0]);
        assert_eq!(r.gst_verdicts, [false, true]);
        assert_eq!(r.max_gflops(), Some(200.25));
        assert_eq!(parse_rvs("", "1"), RvsRun::default());
        assert_eq!(parse_rvs("\u{0}\u{ff}gst", "1"), RvsRun::default());
    }

    #[test]
    fn babel_tables() {
        let r = parse_rvs(
            "Function    MBytes/sec  Min (sec)   Max         Average\n\
             Copy :      1371232.511 0.00039     0.00041     0.00040\n\
             Dot :       1000000     0.1 0.1 0.1\n\
             next\n\
             Copy : 5 0 0 0\n\
             Bandwidth (GB/s):  1234.5\n\
             Validation failed on a[]. Average error 3\n",
            "1",
        );
        assert_eq!(
            r.bandwidth_gbps,
            [
                ("Copy".to_string(), 1371.232511),
                ("Dot".to_string(), 1000.0),
                ("Triad".to_string(), 1234.5)
            ]
        );
        assert_eq!(r.errors.len(), 1);
    }

    #[test]
    fn the_config_names_the_gpu_in_both_actions() {
        let c = config("50599", 60, 5000.0);
        assert_eq!(c.matches("device: 50599").count(), 2);
        assert!(c.contains("duration: 60000") && c.contains("target_stress: 5000"));
    }
}
