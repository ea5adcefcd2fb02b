//! Huawei Ascend's `ascend-dmi` (MindX toolbox) load tests: its compute test (`-f`, a matrix
//! multiply on the AI Cores: TFLOPS and the power at full load) and its bandwidth test
//! (`--bw`, device memory bandwidth in GB/s).
//!
//! Both print a table between dashed rules: a header naming the columns (`Device`,
//! `Execute Times`, `Duration(ms)`, `TFLOPS@FP16`, `Power(W)`; `Type`, `Buffer Size`,
//! `Execute Times`, `Bandwidth(GB/s)`), columns two or more spaces apart, one row per device or
//! buffer size. Written from the layout Huawei's ascend-dmi documentation shows: no recorded
//! output was found (see the fixtures' README); the parser goes by the header's names, not by
//! column positions.

/// A table: its header's names and its rows' cells.
#[derive(Debug, Clone, Default, PartialEq)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn columns(line: &str) -> Vec<String> {
    line.trim()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The first table whose header has a column matching `want`.
fn table(text: &str, want: impl Fn(&str) -> bool) -> Option<Table> {
    let mut t: Option<Table> = None;
    for line in text.lines() {
        let l = line.trim().trim_matches('|').trim();
        if l.is_empty() || l.chars().all(|c| matches!(c, '-' | '=' | '+' | '|')) {
            continue;
        }
        match &mut t {
            None => {
                let h = columns(l);
                if h.iter().any(|c| want(c)) {
                    t = Some(Table {
                        header: h,
                        rows: Vec::new(),
                    });
                }
            }
            Some(t) => {
                let r = columns(l);
                if r.len() == t.header.len() {
                    t.rows.push(r);
                } else if !t.rows.is_empty() {
                    break;
                }
            }
        }
    }
    t
}

fn num(cell: &str) -> Option<f64> {
    cell.replace(',', "")
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// What `ascend-dmi -f` measured on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Flops {
    /// The figure, in GFLOPS (the tool prints TFLOPS).
    pub gflops: f64,
    /// The number type it counted ("FP16", "INT8": the header's `TFLOPS@FP16`).
    pub kind: String,
    /// The power it read at full load.
    pub power_w: Option<f64>,
}

/// Parse `ascend-dmi -f`'s table: the row of `device`.
pub fn parse_flops(text: &str, device: u32) -> Result<Flops, String> {
    let t = table(text, |c| c.to_ascii_uppercase().contains("FLOPS")).ok_or(
        "ascend-dmi -f: no table with a TFLOPS column (not ascend-dmi's output, or cut before it)",
    )?;
    let col = |p: &dyn Fn(&str) -> bool| t.header.iter().position(|c| p(c));
    let dev = col(&|c| c.eq_ignore_ascii_case("Device"));
    let fl = col(&|c| c.to_ascii_uppercase().contains("FLOPS"))
        .ok_or("ascend-dmi -f: no FLOPS column")?;
    let pw = col(&|c| c.to_ascii_lowercase().starts_with("power"));
    let head = &t.header[fl];
    let scale = if head.to_ascii_uppercase().starts_with("GFLOPS") {
        1.0
    } else {
        1000.0
    };
    let kind = head
        .split_once('@')
        .map(|(_, k)| k.trim().to_string())
        .unwrap_or_else(|| "FP16".into());
    let row = t
        .rows
        .iter()
        .find(|r| match dev {
            Some(d) => r.get(d).and_then(|c| c.trim().parse::<u32>().ok()) == Some(device),
            None => true,
        })
        .ok_or_else(|| format!("ascend-dmi -f: its table has no row for device {device}"))?;
    let v = row
        .get(fl)
        .and_then(|c| num(c))
        .ok_or_else(|| format!("ascend-dmi -f: device {device}: {head} is not a number"))?;
    Ok(Flops {
        gflops: v * scale,
        kind,
        power_w: pw.and_then(|p| row.get(p)).and_then(|c| num(c)),
    })
}

/// Parse `ascend-dmi --bw`'s table: the highest bandwidth of its rows, GB/s.
pub fn parse_bandwidth(text: &str) -> Result<f64, String> {
    let t = table(text, |c| c.to_ascii_lowercase().starts_with("bandwidth")).ok_or(
        "ascend-dmi --bw: no table with a Bandwidth column (not ascend-dmi's output, or cut before it)",
    )?;
    let bw = t
        .header
        .iter()
        .position(|c| c.to_ascii_lowercase().starts_with("bandwidth"))
        .ok_or("ascend-dmi --bw: no Bandwidth column")?;
    let gib = t.header[bw].to_ascii_lowercase().contains("gib/s");
    let v = t
        .rows
        .iter()
        .filter_map(|r| r.get(bw).and_then(|c| num(c)))
        .reduce(f64::max)
        .ok_or("ascend-dmi --bw: its table has no row with a bandwidth figure")?;
    Ok(if gib { v * 1.073_741_824 } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_by_header_name() {
        let t = "----\n  Device    Execute Times    Duration(ms)    TFLOPS@FP16    Power(W)\n----\n  0    1,400,000,000    5,246    280.041    303.2\n  1    1,400,000,000    5,250    279.5    301.0\n----\n";
        let f = parse_flops(t, 1).expect("parsed");
        assert_eq!(
            (f.gflops, f.kind.as_str(), f.power_w),
            (279500.0, "FP16", Some(301.0))
        );
        assert!(matches!(parse_flops(t, 2), Err(e) if e.contains("no row for device 2")));
        assert!(parse_flops("", 0).is_err());
        assert!(parse_flops("\u{0}garbage", 0).is_err());
        assert!(parse_flops(&t[..60], 0).is_err(), "cut after the header");
    }

    #[test]
    fn bandwidth_is_the_highest_row() {
        let t = "Device: 0\n  Type    Buffer Size    Execute Times    Bandwidth(GB/s)\n  d2d    2B    1000    0.01\n  d2d    512MB    40    1384.06\n";
        assert_eq!(parse_bandwidth(t), Ok(1384.06));
        assert!(parse_bandwidth("Type  Bandwidth(GB/s)\n").is_err());
    }
}
