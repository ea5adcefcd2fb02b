//! `nvidia-smi -q -x`: the XML document (`nvidia_smi_log`, DTD versions 8 to 12 and the
//! pre-Ampere and Ampere layouts of `ecc_errors`, `clocks_throttle_reasons` before driver 530
//! and `clocks_event_reasons` after, `power_readings` before 530 and `gpu_power_readings`
//! after).

use super::model::{Clocks, Details, EccCounts, Mig, RemappedRows, RetiredPages, ToolLink};
use super::parsed::{bus_id, lead_f64, lead_u64, Parsed};
use super::xml::{self, Node};

/// Parse the whole document.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let root = xml::parse(text).map_err(|e| format!("nvidia-smi -q -x: {e}"))?;
    if root.name != "nvidia_smi_log" {
        return Err(format!(
            "nvidia-smi -q -x: the document is <{}>, not <nvidia_smi_log>",
            root.name
        ));
    }
    let driver = root.value(&["driver_version"]).map(str::to_string);
    let cuda = root.value(&["cuda_version"]).map(|v| format!("CUDA {v}"));
    let mut out = Parsed {
        driver_version: driver.clone(),
        devices: Vec::new(),
        reported: root
            .value(&["attached_gpus"])
            .and_then(lead_u64)
            .map(|n| n as u32),
    };
    for (i, g) in root.all("gpu").enumerate() {
        let bus = g.value(&["pci", "pci_bus_id"]).and_then(bus_id);
        let mut d = gpu(g);
        d.index = Some(i as u32);
        d.driver_version = driver.clone();
        d.stack_version = cuda.clone();
        out.devices.push((bus, d));
    }
    Ok(out)
}

fn s(n: &Node, path: &[&str]) -> Option<String> {
    n.value(path).map(str::to_string)
}

fn u(n: &Node, path: &[&str]) -> Option<u64> {
    n.value(path).and_then(lead_u64)
}

fn yes(n: &Node, path: &[&str]) -> Option<bool> {
    match n.value(path)? {
        v if v.eq_ignore_ascii_case("yes") => Some(true),
        v if v.eq_ignore_ascii_case("no") => Some(false),
        _ => None,
    }
}

/// Sum of the counters present (None when none is).
fn sum(n: Option<&Node>, paths: &[&[&str]]) -> Option<u64> {
    let n = n?;
    let vals: Vec<u64> = paths.iter().filter_map(|p| u(n, p)).collect();
    (!vals.is_empty()).then(|| vals.iter().sum())
}

const CORRECTED: &[&[&str]] = &[
    &["single_bit", "total"],
    &["sram_correctable"],
    &["dram_correctable"],
];
const UNCORRECTED: &[&[&str]] = &[
    &["double_bit", "total"],
    &["sram_uncorrectable"],
    &["sram_uncorrectable_parity"],
    &["sram_uncorrectable_secded"],
    &["dram_uncorrectable"],
];

fn gpu(g: &Node) -> Details {
    let ecc = g.child("ecc_errors").map(|e| EccCounts {
        volatile_corrected: sum(e.child("volatile"), CORRECTED),
        volatile_uncorrected: sum(e.child("volatile"), UNCORRECTED),
        aggregate_corrected: sum(e.child("aggregate"), CORRECTED),
        aggregate_uncorrected: sum(e.child("aggregate"), UNCORRECTED),
    });
    let ecc = ecc.filter(|e| *e != EccCounts::default());
    let retired = g.child("retired_pages").map(|r| RetiredPages {
        single_bit: u(r, &["multiple_single_bit_retirement", "retired_count"]),
        double_bit: u(r, &["double_bit_retirement", "retired_count"]),
        pending: yes(r, &["pending_retirement"]),
    });
    let retired = retired.filter(|r| *r != RetiredPages::default());
    let remapped = g.child("remapped_rows").map(|r| RemappedRows {
        correctable: u(r, &["remapped_row_corr"]),
        uncorrectable: u(r, &["remapped_row_unc"]),
        pending: yes(r, &["remapped_row_pending"]),
        failure: yes(r, &["remapped_row_failure"]),
    });
    let remapped = remapped.filter(|r| *r != RemappedRows::default());
    let li = ["pci", "pci_gpu_link_info"];
    let link = g.at(&li).map(|l| ToolLink {
        current_gen: u(l, &["pcie_gen", "current_link_gen"]).map(|v| v as u32),
        max_gen: u(l, &["pcie_gen", "max_link_gen"]).map(|v| v as u32),
        current_width: u(l, &["link_widths", "current_link_width"]).map(|v| v as u32),
        max_width: u(l, &["link_widths", "max_link_width"]).map(|v| v as u32),
    });
    let link = link.filter(|l| *l != ToolLink::default());
    // Driver 530 renamed power_readings to gpu_power_readings and power_draw to
    // instant/average_power_draw; the limit is current_power_limit, before it power_limit.
    let power = g
        .child("gpu_power_readings")
        .or_else(|| g.child("power_readings"));
    let power_draw = power.and_then(|p| {
        ["power_draw", "instant_power_draw", "average_power_draw"]
            .iter()
            .find_map(|k| p.value(&[k]).and_then(lead_f64))
    });
    let power_limit = power.and_then(|p| {
        ["current_power_limit", "enforced_power_limit", "power_limit"]
            .iter()
            .find_map(|k| p.value(&[k]).and_then(lead_f64))
    });
    let clocks = Clocks {
        graphics_mhz: u(g, &["clocks", "graphics_clock"]),
        memory_mhz: u(g, &["clocks", "mem_clock"]),
        max_graphics_mhz: u(g, &["max_clocks", "graphics_clock"]),
        max_memory_mhz: u(g, &["max_clocks", "mem_clock"]),
    };
    let mig = g.child("mig_mode").map(|m| Mig {
        current: s(m, &["current_mig"]),
        pending: s(m, &["pending_mig"]),
        devices: g
            .child("mig_devices")
            .map(|d| d.all("mig_device").count() as u32)
            .unwrap_or(0),
    });
    let mig = mig.filter(|m| m.current.is_some() || m.pending.is_some() || m.devices > 0);
    let fabric = match (
        g.value(&["fabric", "state"]),
        g.value(&["fabric", "status"]),
    ) {
        (Some(a), Some(b)) => Some(format!("{a}, {b}")),
        (Some(a), None) | (None, Some(a)) => Some(a.to_string()),
        _ => None,
    };
    Details {
        product_name: s(g, &["product_name"]),
        vbios_version: s(g, &["vbios_version"]),
        firmware_version: s(g, &["inforom_version", "img_version"]),
        serial: s(g, &["serial"]),
        uuid: s(g, &["uuid"]),
        ecc_mode: s(g, &["ecc_mode", "current_ecc"]),
        ecc_mode_pending: s(g, &["ecc_mode", "pending_ecc"]),
        ecc,
        retired_pages: retired,
        remapped_rows: remapped,
        memory_total_mib: u(g, &["fb_memory_usage", "total"]),
        memory_used_mib: u(g, &["fb_memory_usage", "used"]),
        link,
        power_draw_w: power_draw,
        power_limit_w: power_limit,
        temperature_c: g.value(&["temperature", "gpu_temp"]).and_then(lead_f64),
        performance_state: s(g, &["performance_state"]),
        clocks: (clocks != Clocks::default()).then_some(clocks),
        mig,
        fabric,
        throttle_reasons: throttle(g),
        ..Details::default()
    }
}

/// The clock event reasons that are "Active" (gpu_idle included: it says the GPU is idle).
fn throttle(g: &Node) -> Vec<String> {
    let Some(r) = g
        .child("clocks_event_reasons")
        .or_else(|| g.child("clocks_throttle_reasons"))
    else {
        return Vec::new();
    };
    r.children
        .iter()
        .filter(|c| c.text.trim() == "Active")
        .map(|c| {
            c.name
                .trim_start_matches("clocks_event_reason_")
                .trim_start_matches("clocks_throttle_reason_")
                .to_string()
        })
        .collect()
}
