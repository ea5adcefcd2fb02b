//! `npu-smi info`: Huawei Ascend's table. Each NPU is two rows, the first
//! `| NPU  Name | Health | Power(W)  Temp(C)  Hugepages-Usage(page) |`, the second (one per chip)
//! `| Chip | Bus-Id | AICore(%)  Memory-Usage(MB)  HBM-Usage(MB) |` (310P cards: `Device`
//! instead of `Bus-Id`, and no HBM). The process table after the devices is not read.

use super::model::Details;
use super::parsed::{bus_id, lead_f64, lead_u64, Parsed};

fn cells(line: &str) -> Option<Vec<&str>> {
    let t = line.trim();
    if !t.starts_with('|') {
        return None;
    }
    Some(t.trim_matches('|').split('|').map(str::trim).collect())
}

/// "3392 / 65536" → (3392, 65536): the last "used / total" pair in a cell.
fn usage(cell: &str) -> Option<(u64, u64)> {
    let toks: Vec<&str> = cell.split_whitespace().collect();
    let i = toks.iter().rposition(|t| *t == "/")?;
    Some((
        lead_u64(toks.get(i.checked_sub(1)?)?)?,
        lead_u64(toks.get(i + 1)?)?,
    ))
}

/// Parse the table.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut seen_header = false;
    let mut npu: Option<Details> = None;
    for line in text.lines() {
        let Some(c) = cells(line) else { continue };
        let first = c.first().copied().unwrap_or("");
        if first.starts_with("npu-smi") {
            // "npu-smi 23.0.rc3   Version: 23.0.rc3"
            out.driver_version = first
                .split("Version:")
                .nth(1)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            continue;
        }
        if first.starts_with("NPU") && c.get(1).is_some_and(|h| h.starts_with("Health")) {
            seen_header = true;
            continue;
        }
        if first.starts_with("Process") || first.starts_with("No running") {
            break;
        }
        if !seen_header || c.len() < 3 {
            continue;
        }
        let words: Vec<&str> = first.split_whitespace().collect();
        match words.as_slice() {
            // The NPU row: id and name.
            [id, name, ..] if id.parse::<u32>().is_ok() => {
                let nums: Vec<&str> = c[2].split_whitespace().collect();
                npu = Some(Details {
                    index: id.parse().ok(),
                    product_name: Some(format!("Ascend {}", name)),
                    health: Some(c[1].to_string()).filter(|h| !h.is_empty()),
                    power_draw_w: nums.first().and_then(|v| lead_f64(v)),
                    temperature_c: nums.get(1).and_then(|v| lead_f64(v)),
                    ..Details::default()
                });
            }
            // A chip row: its bus ID (or, on 310P cards, its device number).
            [chip] if chip.parse::<u32>().is_ok() => {
                let Some(n) = &npu else {
                    return Err(format!(
                        "npu-smi info: a chip row before any NPU row: {}",
                        line.trim()
                    ));
                };
                let mut d = n.clone();
                d.driver_version = out.driver_version.clone();
                if let Some((used, total)) = usage(c[2]) {
                    d.memory_used_mib = Some(used);
                    d.memory_total_mib = Some(total);
                }
                out.devices.push((bus_id(c[1]), d));
            }
            _ => {}
        }
    }
    if !seen_header {
        return Err("npu-smi info: no NPU table (not npu-smi's output?)".into());
    }
    if out.devices.is_empty() {
        return Err("npu-smi info: the table lists no chip (truncated output?)".into());
    }
    Ok(out)
}

/// `npu-smi info -t health -i N`: the "Healthy" line's word ("OK", "Warning", "Alarm",
/// "Critical").
pub fn parse_health(text: &str) -> Result<String, String> {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            let k = k.trim();
            (k.eq_ignore_ascii_case("Healthy") || k.eq_ignore_ascii_case("Health"))
                .then(|| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
        .ok_or_else(|| "npu-smi info -t health: no \"Healthy : …\" line".to_string())
}
