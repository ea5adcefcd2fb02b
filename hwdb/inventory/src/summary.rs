//! The compact, aligned summary a person reads at a glance: key/value lines aligned like
//! lscpu's, device lists aligned like lspci's and lsblk's.

use std::fmt::Write as _;

// Sizes as people read them, in binary units (memory) and decimal ones (disks, as labelled).
use hwsys::units::{decimal as human_decimal, iec as human_bytes};

use crate::Inventory;

const KEY_WIDTH: usize = 17;

fn kv(out: &mut String, key: &str, value: impl AsRef<str>) {
    let v = value.as_ref();
    if v.is_empty() {
        return;
    }
    let _ = writeln!(out, "{:<KEY_WIDTH$}{v}", format!("{key}:"));
}

/// Left-aligned columns, two spaces apart; trailing spaces trimmed.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map(|s| s.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let w = widths[c];
            let _ = write!(line, "{cell:<w$}  ");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn or_dash(v: Option<impl ToString>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

/// Render the summary.
pub fn render(inv: &Inventory) -> String {
    let mut o = String::new();
    let h = &inv.host;
    let os =
        h.os.as_ref()
            .and_then(|o| o.pretty_name.clone().or_else(|| o.name.clone()))
            .unwrap_or_default();
    kv(
        &mut o,
        "Host",
        match (&h.hostname, os.is_empty()) {
            (Some(n), false) => format!("{n} ({os})"),
            (Some(n), true) => n.clone(),
            (None, _) => os,
        },
    );
    let mut kernel = vec![];
    if let Some(k) = &h.kernel {
        kernel.push(k.clone());
    }
    if let Some(a) = &h.arch {
        kernel.push(a.clone());
    }
    if let Some(b) = &h.boot_mode {
        let sb = match h.secure_boot {
            Some(true) => ", Secure Boot on",
            Some(false) => ", Secure Boot off",
            None => "",
        };
        kernel.push(format!("{} boot{sb}", b.to_uppercase()));
    }
    if let Some(t) = &h.kernel_taint {
        if t.value == 0 {
            kernel.push("not tainted".into());
        } else {
            let letters: String = t.flags.iter().map(|f| f.letter.as_str()).collect();
            kernel.push(format!("tainted {} ({letters})", t.value));
        }
    }
    kv(&mut o, "Kernel", kernel.join(", "));
    match &inv.dmi {
        Some(d) => {
            let sys = [d.sys_vendor.as_deref(), d.product_name.as_deref()]
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ");
            let chassis = d
                .chassis_type
                .clone()
                .map(|c| format!(", {c}"))
                .unwrap_or_default();
            kv(&mut o, "System", format!("{sys}{chassis}"));
            let board = [d.board_vendor.as_deref(), d.board_name.as_deref()]
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ");
            kv(&mut o, "Board", board);
            let bios = [
                d.bios_vendor.as_deref(),
                d.bios_version.as_deref(),
                d.bios_date.as_deref(),
            ]
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
            kv(&mut o, "BIOS", bios);
        }
        None => kv(&mut o, "System", "no DMI/SMBIOS data"),
    }
    if let Some(b) = &inv.bmc {
        kv(&mut o, "BMC", bmc(b));
    }
    cpu(&mut o, inv);
    memory(&mut o, inv);
    pci(&mut o, inv);
    storage(&mut o, inv);
    network(&mut o, inv);
    accelerators(&mut o, inv);
    o.push('\n');
    if inv.warnings.is_empty() {
        kv(&mut o, "Warnings", "none");
    } else {
        kv(&mut o, "Warnings", inv.warnings.len().to_string());
        for w in &inv.warnings {
            let _ = writeln!(o, "  {}: {}", w.path, w.message);
        }
    }
    o
}

/// "Dell Inc 2.70 (IPMI 2.0), lanplus 192.0.2.10, SEL 7 entries", or why there is none.
fn bmc(b: &crate::bmc::Bmc) -> String {
    use crate::bmc::BmcStatus;
    match b.status {
        BmcStatus::Used => {
            let mut s = vec![
                b.firmware().unwrap_or_else(|| "firmware unknown".into()),
                b.reached.clone(),
            ];
            if let Some(sel) = &b.sel {
                s.push(format!("SEL {} entries", sel.entries));
            }
            s.join(", ")
        }
        BmcStatus::Missing => format!("none ({})", b.detail.join("; ")),
        BmcStatus::Failed => format!("{}: failed ({})", b.reached, b.detail.join("; ")),
    }
}

fn cpu(o: &mut String, inv: &Inventory) {
    let c = &inv.cpu;
    let name = c
        .model_name
        .clone()
        .or_else(|| c.vendor.clone())
        .unwrap_or_else(|| "unknown".into());
    kv(o, "CPU", name);
    for t in &c.core_types {
        kv(
            o,
            "  Core type",
            format!("{} (CPUs {})", or_dash(t.model_name.clone()), t.cpus),
        );
    }
    let mut n = Vec::new();
    if let Some(cpus) = c.cpus {
        n.push(cpus.to_string());
    }
    if let Some(on) = &c.online {
        n.push(format!("online {on}"));
    }
    if let Some(off) = &c.offline {
        n.push(format!("offline {off}"));
    }
    kv(o, "CPU(s)", n.join(", "));
    if let (Some(s), Some(cps), Some(t)) = (c.sockets, c.cores_per_socket, c.threads_per_core) {
        let numa = match c.numa_nodes.len() {
            0 => String::new(),
            1 => "; 1 NUMA node".into(),
            k => format!("; {k} NUMA nodes"),
        };
        kv(
            o,
            "Topology",
            format!(
                "{s} socket{} × {cps} core{} × {t} thread{}{numa}",
                if s == 1 { "" } else { "s" },
                if cps == 1 { "" } else { "s" },
                if t == 1 { "" } else { "s" }
            ),
        );
    }
    let caches: Vec<String> = c
        .caches
        .iter()
        .map(|k| format!("{} {} ({})", k.name, human_bytes(k.size_bytes), k.instances))
        .collect();
    kv(o, "Caches", caches.join(", "));
    let mut isa = Vec::new();
    if let Some(l) = &c.x86_64_level {
        isa.push(format!("x86-64-{l}"));
    }
    if let (Some(lo), Some(hi)) = (c.min_mhz, c.max_mhz) {
        isa.push(format!("{lo:.0}–{hi:.0} MHz"));
    } else if let Some(hi) = c.max_mhz {
        isa.push(format!("max {hi:.0} MHz"));
    }
    if let Some(hv) = &c.hypervisor {
        isa.push(format!("hypervisor {hv}"));
    }
    if let Some(m) = &c.microcode {
        isa.push(format!("microcode {m}"));
    }
    kv(o, "Features", isa.join(", "));
}

fn memory(o: &mut String, inv: &Inventory) {
    let m = &inv.memory;
    let mut parts = Vec::new();
    if let Some(t) = m.total_bytes {
        parts.push(format!("{} usable", human_bytes(t)));
    }
    if let (Some(on), Some(bs)) = (m.online_bytes, m.block_size_bytes) {
        parts.push(format!(
            "{} online in {} blocks",
            human_bytes(on),
            human_bytes(bs)
        ));
    }
    if let Some(off) = m.offline_bytes.filter(|b| *b > 0) {
        parts.push(format!("{} offline", human_bytes(off)));
    }
    kv(o, "Memory", parts.join(", "));
    let populated: Vec<_> = m.dimms.iter().filter(|d| d.populated).collect();
    if !m.dimms.is_empty() {
        let kinds: Vec<String> = populated
            .iter()
            .filter_map(|d| {
                Some(format!(
                    "{} {}{}",
                    human_bytes(d.size_bytes?),
                    d.memory_type.clone().unwrap_or_default(),
                    d.speed_mts.map(|s| format!("-{s}")).unwrap_or_default()
                ))
            })
            .collect();
        let mut uniq: Vec<(String, usize)> = Vec::new();
        for k in kinds {
            match uniq.iter_mut().find(|(x, _)| *x == k) {
                Some(e) => e.1 += 1,
                None => uniq.push((k, 1)),
            }
        }
        let desc: Vec<String> = uniq.iter().map(|(k, n)| format!("{n} × {k}")).collect();
        kv(
            o,
            "DIMMs",
            format!(
                "{} of {} slots: {}",
                populated.len(),
                m.dimms.len(),
                desc.join(", ")
            ),
        );
    }
    if let Some(hp) = &m.huge_pages {
        let mut s = Vec::new();
        if let (Some(t), Some(sz)) = (hp.total, hp.default_size_bytes) {
            s.push(format!("{t} × {}", human_bytes(sz)));
        }
        if let Some(t) = &hp.transparent {
            s.push(format!("THP {t}"));
        }
        kv(o, "Huge pages", s.join(", "));
    }
}

fn pci(o: &mut String, inv: &Inventory) {
    let _ = writeln!(o, "\nPCI ({}):", count(inv.pci.len(), "function"));
    let rows: Vec<Vec<String>> = inv
        .pci
        .iter()
        .map(|d| {
            let class = format!(
                "{} [{}]:",
                d.class_name.clone().unwrap_or_else(|| "Class".into()),
                d.class_id
                    .as_deref()
                    .map(|c| c.get(..4).unwrap_or(c))
                    .unwrap_or("????")
            );
            let name = format!(
                "{} {} [{}:{}]{}",
                d.vendor_name
                    .clone()
                    .unwrap_or_else(|| "Unknown vendor".into()),
                d.device_name
                    .clone()
                    .unwrap_or_else(|| "Unknown device".into()),
                or_dash(d.vendor_id.clone()),
                or_dash(d.device_id.clone()),
                d.revision
                    .as_deref()
                    .filter(|r| *r != "00")
                    .map(|r| format!(" (rev {r})"))
                    .unwrap_or_default()
            );
            let mut extra = d
                .driver
                .clone()
                .map(|x| format!("driver {x}"))
                .unwrap_or_default();
            if let Some(l) = &d.link {
                if let (Some(cs), Some(cw), Some(ms), Some(mw)) =
                    (&l.current_speed, l.current_width, &l.max_speed, l.max_width)
                {
                    if cs != ms || cw != mw {
                        let sep = if extra.is_empty() { "" } else { ", " };
                        let _ = write!(extra, "{sep}link {cs} x{cw} of {ms} x{mw}");
                    }
                }
            }
            // Where config space stood in for sysfs, or contradicted it: the JSON has it all.
            let mut from_config: Vec<&str> = Vec::new();
            for f in d.sources.from_config() {
                let short = match f {
                    "vendor_id" | "device_id" => "IDs",
                    "subsystem_vendor_id" | "subsystem_device_id" => "subsystem",
                    "class_id" => "class",
                    f if f.starts_with("link_") => "link",
                    f => f,
                };
                if !from_config.contains(&short) {
                    from_config.push(short);
                }
            }
            if !from_config.is_empty() {
                let sep = if extra.is_empty() { "" } else { ", " };
                let _ = write!(extra, "{sep}from config space: {}", from_config.join(" "));
            }
            for x in &d.disagreements {
                let sep = if extra.is_empty() { "" } else { ", " };
                let _ = write!(
                    extra,
                    "{sep}{} sysfs {} config {}",
                    x.field, x.sysfs, x.config
                );
            }
            vec![d.address.clone(), class, name, extra]
        })
        .collect();
    table(o, &rows);
}

fn storage(o: &mut String, inv: &Inventory) {
    let _ = writeln!(o, "\nStorage ({}):", count(inv.storage.len(), "device"));
    if inv.storage.is_empty() {
        return;
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "TYPE".into(),
        "TRAN".into(),
        "SIZE".into(),
        "MODEL".into(),
        "FIRMWARE".into(),
        "DRIVER".into(),
        "CONTROLLER".into(),
    ]];
    for b in &inv.storage {
        rows.push(vec![
            b.name.clone(),
            or_dash(b.kind.clone()),
            or_dash(b.transport.clone()),
            b.size_bytes
                .map(human_decimal)
                .unwrap_or_else(|| "-".into()),
            or_dash(inv.disk_model(b)),
            or_dash(b.firmware.clone()),
            or_dash(b.driver.clone()),
            or_dash(b.pci_address.clone()),
        ]);
    }
    table(o, &rows);
}

fn network(o: &mut String, inv: &Inventory) {
    let _ = writeln!(o, "\nNetwork ({}):", count(inv.network.len(), "interface"));
    if inv.network.is_empty() {
        return;
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "KIND".into(),
        "DRIVER".into(),
        "PCI".into(),
        "STATE".into(),
        "SPEED".into(),
        "MTU".into(),
    ]];
    for n in &inv.network {
        rows.push(vec![
            n.name.clone(),
            if n.is_virtual { "virtual" } else { "physical" }.into(),
            or_dash(n.driver.clone()),
            or_dash(n.pci_address.clone()),
            or_dash(n.operstate.clone()),
            n.speed_mbps
                .map(|s| {
                    if s >= 1000 && s % 1000 == 0 {
                        format!("{}G", s / 1000)
                    } else {
                        format!("{s}M")
                    }
                })
                .unwrap_or_else(|| "-".into()),
            or_dash(n.mtu),
        ]);
    }
    table(o, &rows);
}

/// Only when there are any: most servers' one is the BMC's VGA.
fn accelerators(o: &mut String, inv: &Inventory) {
    if inv.accelerators.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nAccelerators ({}):",
        count(inv.accelerators.len(), "device")
    );
    let mut rows = vec![vec![
        "PCI".to_string(),
        "DEVICE".into(),
        "DRIVER".into(),
        "VERSION".into(),
        "MEMORY".into(),
        "ECC".into(),
    ]];
    for a in &inv.accelerators {
        let d = a.details.clone().unwrap_or_default();
        rows.push(vec![
            a.address.clone(),
            d.product_name.clone().unwrap_or_else(|| a.label.clone()),
            or_dash(a.driver.clone()),
            or_dash(d.driver_version.clone()),
            or_dash(d.memory_total_mib.map(|m| format!("{m} MiB"))),
            or_dash(d.ecc_mode.clone()),
        ]);
    }
    table(o, &rows);
    for t in &inv.accelerator_tools {
        let status = match t.status {
            crate::accel::ToolStatus::Used => "used".to_string(),
            crate::accel::ToolStatus::Missing => format!(
                "missing ({}); it would add: {}",
                t.detail.as_deref().unwrap_or(""),
                t.would_add.as_deref().unwrap_or("")
            ),
            crate::accel::ToolStatus::Failed => {
                format!("failed: {}", t.detail.as_deref().unwrap_or(""))
            }
        };
        let _ = writeln!(o, "  {} ({}): {status}", t.command, t.source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(128 << 20), "128 MiB");
        assert_eq!(human_bytes(24_600_000_000), "22.9 GiB");
        assert_eq!(human_decimal(480_103_981_056), "480 GB");
        assert_eq!(human_decimal(1_200_243_695_616), "1.2 TB");
    }

    #[test]
    fn renders_an_empty_inventory() {
        let s = render(&Inventory::default());
        assert!(s.contains("System:          no DMI/SMBIOS data"), "{s}");
        assert!(s.contains("PCI (0 functions):"), "{s}");
        assert!(s.contains("Warnings:        none"), "{s}");
    }
}
