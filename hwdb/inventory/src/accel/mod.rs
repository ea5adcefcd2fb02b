//! Accelerators: GPUs, DCUs and NPUs, from PCI joined with what the vendor's tool says.
//!
//! Every PCI function of class 03xx (display), 12xx (processing accelerator) or 0b40
//! (co-processor) is an [`Accelerator`]. For the compute vendors — NVIDIA (`nvidia-smi -q -x`),
//! AMD (`amd-smi static --json`, else `rocm-smi --showallinfo --json`), Hygon DCU
//! (`hy-smi --showallinfo --json`) and Huawei Ascend (`npu-smi info`) — the probe asks the
//! tool once per machine and joins its devices to the PCI functions by bus ID. Where the tool
//! is missing or fails, the [`ToolRun`] says so and what it would add; the accelerators keep
//! their PCI facts.
//!
//! Tools are programs: the [`tools`] seam runs them on the live system (30 s each, killed
//! after) and reads their recorded output (`.hwcert/tools/<file>`) in a tree or a snapshot.

mod model;
mod npu;
mod nvidia;
mod parsed;
mod rocm;
pub mod tools;
mod xml;

use std::collections::BTreeSet;

pub use model::{
    Accelerator, Clocks, Details, EccCounts, Mig, RemappedRows, RetiredPages, ToolLink, ToolRun,
    ToolStatus, Vendor,
};
pub use npu::parse_health as parse_npu_health;
pub use parsed::{bus_id, Parsed};
pub use tools::{Collected, LiveTools, RecordedTools, Tool, ToolSource, TOOLS_DIR};

use crate::pci::PciDevice;

/// The accelerator kind of a PCI class ("030000", "120000", "0b4000"), or `None`.
pub fn kind_of(class_id: Option<&str>) -> Option<&'static str> {
    let c = class_id?;
    if c.starts_with("03") {
        Some("display")
    } else if c.starts_with("12") {
        Some("processing accelerator")
    } else if c.starts_with("0b40") {
        Some("co-processor")
    } else {
        None
    }
}

/// What a probe of the accelerators found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probed {
    pub accelerators: Vec<Accelerator>,
    pub tools: Vec<ToolRun>,
    /// The raw outputs of the tools that answered (file name under [`TOOLS_DIR`], bytes), for
    /// a snapshot to record.
    pub outputs: Vec<(String, Vec<u8>)>,
}

/// Find the accelerators among `pci` and ask `src` for each compute vendor's tool.
pub fn probe(pci: &[PciDevice], src: &dyn ToolSource) -> Probed {
    let mut out = Probed::default();
    for d in pci {
        let Some(kind) = kind_of(d.class_id.as_deref()) else {
            continue;
        };
        let vendor = Vendor::from_pci(d.vendor_id.as_deref());
        out.accelerators.push(Accelerator {
            address: d.address.clone(),
            vendor: Some(vendor),
            kind: kind.to_string(),
            label: d.label(),
            driver: d.driver.clone(),
            tool: None,
            details: None,
        });
    }
    let vendors: BTreeSet<Vendor> = out
        .accelerators
        .iter()
        .filter_map(|a| a.vendor)
        .filter(|v| v.is_compute())
        .collect();
    for v in vendors {
        let (run, parsed, raw) = ask(v, src);
        if let (Some(p), Some((tool, bytes))) = (&parsed, raw) {
            out.outputs.push((tool.file().to_string(), bytes));
            let mut run = run;
            run.unmatched = join(&mut out.accelerators, v, &run.tool, p);
            out.tools.push(run);
        } else {
            for a in out.accelerators.iter_mut().filter(|a| a.vendor == Some(v)) {
                a.tool = Some(run.tool.clone());
            }
            out.tools.push(run);
        }
    }
    out
}

/// Ask the vendor's tools in order of preference: the first that is not missing answers.
/// A tool's run, its parsed output and its raw output (both only when it was used).
type Asked = (ToolRun, Option<Parsed>, Option<(Tool, Vec<u8>)>);

fn ask(v: Vendor, src: &dyn ToolSource) -> Asked {
    let tools = Tool::for_vendor(v);
    let mut missing = Vec::new();
    for &t in tools {
        let mut run = ToolRun {
            tool: t.program().to_string(),
            command: t.command(),
            status: ToolStatus::Failed,
            source: src.kind().to_string(),
            detail: None,
            would_add: None,
            devices: None,
            driver_version: None,
            unmatched: Vec::new(),
        };
        match src.collect(t) {
            Collected::Missing(why) => missing.push((t, why)),
            Collected::Failed(why) => {
                run.detail = Some(why);
                run.would_add = Some(t.would_add().to_string());
                return (run, None, None);
            }
            Collected::Output(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                match t.parse(&text) {
                    Ok(p) => {
                        run.status = ToolStatus::Used;
                        run.devices = Some(p.reported.unwrap_or(p.devices.len() as u32));
                        run.driver_version = p.driver_version.clone();
                        return (run, Some(p), Some((t, bytes)));
                    }
                    Err(e) => {
                        run.detail = Some(e);
                        run.would_add = Some(t.would_add().to_string());
                        return (run, None, None);
                    }
                }
            }
        }
    }
    let first = tools.first().copied().unwrap_or(Tool::NvidiaSmi);
    let why: Vec<String> = missing.into_iter().map(|(_, w)| w).collect();
    let names: Vec<&str> = tools.iter().map(|t| t.program()).collect();
    (
        ToolRun {
            tool: names.join(" or "),
            command: first.command(),
            status: ToolStatus::Missing,
            source: src.kind().to_string(),
            detail: Some(why.join("; ")),
            would_add: Some(first.would_add().to_string()),
            devices: None,
            driver_version: None,
            unmatched: Vec::new(),
        },
        None,
        None,
    )
}

/// Give each of the vendor's accelerators its tool details; the tool's bus IDs that match
/// none are returned. Devices without a bus ID are matched in order to the vendor's
/// accelerators that have none yet (a tool that prints no bus ID lists them in PCI order).
fn join(accs: &mut [Accelerator], v: Vendor, tool: &str, p: &Parsed) -> Vec<String> {
    let mut unmatched = Vec::new();
    for a in accs.iter_mut().filter(|a| a.vendor == Some(v)) {
        a.tool = Some(tool.to_string());
    }
    let mut no_bus = Vec::new();
    for (bus, d) in &p.devices {
        match bus {
            Some(b) => match accs.iter_mut().find(|a| a.address == *b) {
                Some(a) => a.details = Some(d.clone()),
                None => unmatched.push(b.clone()),
            },
            None => no_bus.push(d),
        }
    }
    let mut free = accs
        .iter_mut()
        .filter(|a| a.vendor == Some(v) && a.details.is_none());
    for d in no_bus {
        if let Some(a) = free.next() {
            a.details = Some(d.clone());
        }
    }
    unmatched
}

/// Replace identifiers in the tool details by `redacted`.
pub fn redact(accs: &mut [Accelerator], redacted: &str) {
    for a in accs {
        if let Some(d) = &mut a.details {
            for v in [&mut d.serial, &mut d.uuid] {
                if v.is_some() {
                    *v = Some(redacted.to_string());
                }
            }
        }
    }
}

/// A recorded output with its identifiers overwritten (for snapshots): the XML elements
/// `serial`, `uuid`, `chassis_serial_number`, `gpu_fabric_guid`, `board_id`'s neighbours
/// stay; JSON keys naming a serial, a UUID or a unique ID get `redacted`.
pub fn redact_output(file: &str, bytes: &[u8], redacted: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    if file.ends_with(".xml") {
        let mut s = text.into_owned();
        for tag in [
            "serial",
            "uuid",
            "chassis_serial_number",
            "gpu_fabric_guid",
            "clusterUuid",
        ] {
            s = redact_xml_tag(&s, tag, redacted);
        }
        return s.into_bytes();
    }
    if file.ends_with(".json") {
        if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text) {
            redact_json(&mut v, redacted);
            return serde_json::to_vec_pretty(&v).unwrap_or_default();
        }
    }
    bytes.to_vec()
}

fn redact_xml_tag(s: &str, tag: &str, redacted: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push_str(&rest[..i + open.len()]);
        let v = after[..j].trim();
        out.push_str(if v == "N/A" || v.is_empty() {
            &after[..j]
        } else {
            redacted
        });
        rest = &after[j..];
    }
    out.push_str(rest);
    out
}

fn redact_json(v: &mut serde_json::Value, redacted: &str) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                let k = k.to_ascii_lowercase();
                if (k.contains("serial") || k.contains("uuid") || k.contains("unique id"))
                    && val.is_string()
                {
                    *val = serde_json::Value::String(redacted.to_string());
                } else {
                    redact_json(val, redacted);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| redact_json(x, redacted)),
        _ => {}
    }
}
