//! The load tools' outputs: `dcgmi diag -r N -j` (DCGM 2/3's `"DCGM GPU Diagnostic"` and
//! DCGM 4's `"DCGM Diagnostic"` JSON) and gpu-burn's progress and result lines. Neither is
//! trusted for its exit status or its "Pass"/"OK" alone: the callers check the figures and the
//! error counters too.

use serde_json::Value;

/// One result line of a DCGM diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagResult {
    /// The test ("Memory Bandwidth", "Targeted Stress", "software").
    pub test: String,
    /// The GPUs it is about (empty: all, or unsaid).
    pub gpus: Vec<u32>,
    /// "Pass", "Fail", "Warn", "Skip", "Not Run" as DCGM writes it.
    pub status: String,
    /// Its info and warning texts.
    pub messages: Vec<String>,
}

impl DiagResult {
    pub fn failed(&self) -> bool {
        let s = self.status.to_ascii_lowercase();
        s.starts_with("fail") || s.starts_with("warn") || s.starts_with("error")
    }
    pub fn passed(&self) -> bool {
        self.status.eq_ignore_ascii_case("pass")
    }
}

fn texts(v: Option<&Value>, out: &mut Vec<String>) {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => out.push(s.trim().to_string()),
        Some(Value::Array(a)) => a.iter().for_each(|x| texts(Some(x), out)),
        Some(Value::Object(o)) => {
            for k in ["warning", "info", "message", "error"] {
                texts(o.get(k), out);
            }
        }
        _ => {}
    }
}

fn ids(v: Option<&Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|n| vec![n as u32]).unwrap_or_default(),
        Some(Value::String(s)) => s.split(',').filter_map(|t| t.trim().parse().ok()).collect(),
        _ => Vec::new(),
    }
}

fn walk(v: &Value, test: &str, out: &mut Vec<DiagResult>) {
    match v {
        Value::Object(o) => {
            let name = o
                .get("name")
                .or_else(|| o.get("test_name"))
                .and_then(Value::as_str)
                .unwrap_or(test);
            let gpu_key = o
                .get("gpu_id")
                .or_else(|| o.get("gpu_ids"))
                .or_else(|| o.get("entity_id"));
            if let Some(Value::String(status)) = o.get("status") {
                if !test.is_empty() || gpu_key.is_some() {
                    let mut messages = Vec::new();
                    texts(o.get("info"), &mut messages);
                    texts(o.get("warnings"), &mut messages);
                    texts(o.get("error"), &mut messages);
                    out.push(DiagResult {
                        test: name.to_string(),
                        gpus: ids(gpu_key),
                        status: status.clone(),
                        messages,
                    });
                    return;
                }
            }
            for (k, x) in o {
                if k != "info" && k != "warnings" {
                    walk(x, name, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, test, out)),
        _ => {}
    }
}

/// Every result of `dcgmi diag -j`'s document.
pub fn parse_dcgmi(text: &str) -> Result<Vec<DiagResult>, String> {
    let v: Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("dcgmi diag -j: not JSON ({e}; truncated output?)"))?;
    let body = v
        .get("DCGM GPU Diagnostic")
        .or_else(|| v.get("DCGM Diagnostic"))
        .ok_or("dcgmi diag -j: no \"DCGM GPU Diagnostic\" or \"DCGM Diagnostic\" object")?;
    let mut out = Vec::new();
    walk(body, "", &mut out);
    if out.is_empty() {
        return Err("dcgmi diag -j: the document holds no test result".into());
    }
    Ok(out)
}

/// The results about GPU `index` (and those about every GPU).
pub fn results_for(all: &[DiagResult], index: u32) -> Vec<&DiagResult> {
    all.iter()
        .filter(|r| r.gpus.is_empty() || r.gpus.contains(&index))
        .collect()
}

/// Numbers followed by `unit` in the results' messages ("1624.33 GB/s", "17282.46 gigaflops").
pub fn figures(rs: &[&DiagResult], unit: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for r in rs {
        for m in &r.messages {
            let words: Vec<&str> = m.split_whitespace().collect();
            for w in words.windows(2) {
                if w[1]
                    .trim_end_matches(['.', ',', ')'])
                    .eq_ignore_ascii_case(unit)
                {
                    if let Ok(v) = w[0].trim_start_matches('(').parse::<f64>() {
                        out.push(v);
                    }
                }
            }
        }
    }
    out
}

/// What gpu-burn printed for one GPU (it runs with `-i N`, so its one column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Burn {
    /// Progress lines seen.
    pub progress_lines: u32,
    /// Highest and last Gflop/s figures.
    pub max_gflops: Option<f64>,
    pub last_gflops: Option<f64>,
    /// The highest error count (gpu-burn's counts are running totals).
    pub errors: u64,
    /// Highest temperature it printed.
    pub max_temp_c: Option<f64>,
    /// Its verdict lines: (GPU, "OK"/"FAULTY").
    pub verdicts: Vec<(u32, String)>,
    /// Lines that say it could not start ("Couldn't init", "CUDA error", "No CUDA devices").
    pub init_errors: Vec<String>,
}

fn num_before(s: &str, marker: &str) -> Option<f64> {
    let i = s.find(marker)?;
    let head = s[..i].trim_end();
    let start = head
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|p| p + 1)
        .unwrap_or(0);
    head[start..].parse().ok()
}

/// Parse gpu-burn's output.
pub fn parse_gpu_burn(text: &str) -> Burn {
    let mut b = Burn::default();
    // Progress is redrawn with carriage returns on a terminal: split on both.
    for line in text.split(['\n', '\r']) {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let lower = l.to_ascii_lowercase();
        if lower.contains("couldn't init")
            || lower.contains("cuda error")
            || lower.contains("no cuda devices")
            || lower.contains("failure")
        {
            b.init_errors
                .push(hwsys::text::escape_controls(l).into_owned());
        }
        if l.contains("proc'd:") && l.contains("Gflop/s") {
            b.progress_lines += 1;
            if let Some(g) = num_before(l, "Gflop/s") {
                b.max_gflops = Some(b.max_gflops.map_or(g, |m: f64| m.max(g)));
                b.last_gflops = Some(g);
            }
            if let Some(e) = l.split("errors:").nth(1) {
                if let Some(n) = e
                    .split_whitespace()
                    .next()
                    .and_then(|t| t.parse::<u64>().ok())
                {
                    b.errors = b.errors.max(n);
                }
            }
            if let Some(t) = l.split("temps:").nth(1).and_then(|t| num_before(t, "C")) {
                b.max_temp_c = Some(b.max_temp_c.map_or(t, |m: f64| m.max(t)));
            }
        }
        if let Some(rest) = l.strip_prefix("GPU ") {
            if let Some((n, v)) = rest.split_once(':') {
                if let Ok(n) = n.trim().parse::<u32>() {
                    let v = v.trim();
                    if v == "OK" || v.starts_with("FAULTY") {
                        b.verdicts.push((n, v.to_string()));
                    }
                }
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_burn_lines() {
        let b = parse_gpu_burn(
            "GPU 0: NVIDIA A100 (UUID: GPU-x)\r10.0%  proc'd: 1840 (13867 Gflop/s)   errors: 0   temps: 45 C \r100.0%  proc'd: 18400 (14102 Gflop/s)   errors: 3  (DIED!)  temps: 63 C \nTested 1 GPUs:\n\tGPU 0: FAULTY\n",
        );
        assert_eq!(b.progress_lines, 2);
        assert_eq!(
            (b.max_gflops, b.last_gflops),
            (Some(14102.0), Some(14102.0))
        );
        assert_eq!(b.errors, 3);
        assert_eq!(b.max_temp_c, Some(63.0));
        assert_eq!(b.verdicts, [(0, "FAULTY".to_string())]);
        assert_eq!(parse_gpu_burn(""), Burn::default());
        assert_eq!(parse_gpu_burn("\u{0}garbage\u{ff}").progress_lines, 0);
    }

    #[test]
    fn figures_in_messages() {
        let r = DiagResult {
            test: "Memory Bandwidth".into(),
            gpus: vec![0],
            status: "Pass".into(),
            messages: vec!["GPU 0 DRAM bandwidth: 1624.33 GB/s".into()],
        };
        assert_eq!(figures(&[&r], "GB/s"), [1624.33]);
    }
}
