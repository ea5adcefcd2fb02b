//! `rocm-smi --showallinfo --json` and Hygon's `hy-smi --showallinfo --json` (a fork of
//! rocm-smi that keeps its JSON: one object per card, `"card0": {"PCI Bus": …}`, every value
//! a string, and a `"system"` object with the driver version), and `amd-smi static --json`
//! (a list of GPU objects, or `{"gpu_data": [...]}` in later ROCm releases, with nested values
//! that are strings, numbers or `{"value", "unit"}` objects).

use serde_json::{Map, Value};

use super::model::Details;
use super::parsed::{bus_id, lead_f64, lead_u64, Parsed};

fn object(text: &str, tool: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("{tool}: not JSON ({e}; truncated output?)"))?;
    Ok(v)
}

/// The first value whose key contains every one of `words` (case-insensitive).
fn field<'a>(m: &'a Map<String, Value>, words: &[&str]) -> Option<&'a str> {
    m.iter().find_map(|(k, v)| {
        let k = k.to_ascii_lowercase();
        if words.iter().all(|w| k.contains(w)) {
            v.as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "N/A")
        } else {
            None
        }
    })
}

/// rocm-smi's or hy-smi's JSON (`tool` names which, for messages).
pub fn parse_rocm_smi(text: &str, tool: &str) -> Result<Parsed, String> {
    let v = object(text, tool)?;
    let Some(top) = v.as_object() else {
        return Err(format!("{tool}: the JSON is not an object of cards"));
    };
    let driver = top
        .get("system")
        .and_then(Value::as_object)
        .and_then(|s| field(s, &["driver", "version"]))
        .map(str::to_string);
    let mut out = Parsed {
        driver_version: driver.clone(),
        ..Parsed::default()
    };
    for (k, card) in top {
        let Some(c) = card.as_object() else { continue };
        let is_card =
            k.to_ascii_lowercase().starts_with("card") || field(c, &["pci", "bus"]).is_some();
        if k == "system" || !is_card {
            continue;
        }
        let bus = field(c, &["pci", "bus"]).and_then(bus_id);
        let bytes = |w: &[&str]| field(c, w).and_then(lead_u64).map(|b| b >> 20);
        let temp = field(c, &["temperature", "junction"])
            .or_else(|| field(c, &["temperature", "edge"]))
            .and_then(lead_f64);
        let d = Details {
            product_name: field(c, &["card", "series"])
                .or_else(|| field(c, &["device", "name"]))
                .or_else(|| field(c, &["card", "model"]))
                .map(str::to_string),
            driver_version: driver
                .clone()
                .or_else(|| field(c, &["driver", "version"]).map(str::to_string)),
            vbios_version: field(c, &["vbios"]).map(str::to_string),
            serial: field(c, &["serial"]).map(str::to_string),
            uuid: field(c, &["unique", "id"]).map(str::to_string),
            memory_total_mib: bytes(&["vram", "total", "memory"]).filter(|_| true),
            memory_used_mib: bytes(&["vram", "used"]),
            power_draw_w: field(c, &["average", "power"])
                .or_else(|| field(c, &["current", "power"]))
                .and_then(lead_f64),
            power_limit_w: field(c, &["max", "power"]).and_then(lead_f64),
            temperature_c: temp,
            ..Details::default()
        };
        out.devices.push((bus, d));
    }
    if out.devices.is_empty() {
        return Err(format!("{tool}: no card in the JSON"));
    }
    Ok(out)
}

/// A value that is a string, a number or `{"value": …}`, as text.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty() && s != "N/A"),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("value").and_then(text_of),
        _ => None,
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// amd-smi's `static --json`.
pub fn parse_amd_smi(text: &str) -> Result<Parsed, String> {
    let v = object(text, "amd-smi")?;
    let list = match &v {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("gpu_data") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(
                    "amd-smi: the JSON is neither a list of GPUs nor {\"gpu_data\": [...]}".into(),
                )
            }
        },
        _ => return Err("amd-smi: the JSON is not a list of GPUs".into()),
    };
    let mut out = Parsed::default();
    for g in list {
        if !g.is_object() {
            return Err("amd-smi: a GPU entry is not an object".into());
        }
        let s = |p: &[&str]| at(g, p).and_then(text_of);
        let driver = s(&["driver", "version"]);
        out.driver_version = out.driver_version.or(driver.clone());
        let vram_mib = at(g, &["vram", "size"]).and_then(|sz| {
            let n = text_of(sz).as_deref().and_then(lead_u64)?;
            let unit = sz.get("unit").and_then(Value::as_str).unwrap_or("MB");
            Some(if unit.eq_ignore_ascii_case("GB") {
                n * 1024
            } else {
                n
            })
        });
        let d = Details {
            product_name: s(&["asic", "market_name"]).or_else(|| s(&["board", "product_name"])),
            driver_version: driver,
            vbios_version: s(&["vbios", "version"]).or_else(|| s(&["vbios", "part_number"])),
            serial: s(&["asic", "asic_serial"]).or_else(|| s(&["board", "product_serial"])),
            memory_total_mib: vram_mib,
            ..Details::default()
        };
        out.devices
            .push((s(&["bus", "bdf"]).as_deref().and_then(bus_id), d));
    }
    if out.devices.is_empty() {
        return Err("amd-smi: no GPU in the JSON".into());
    }
    Ok(out)
}
