//! What the fleet view compares of a machine's inventory (report.json's `inventory`,
//! `hwcert.inventory/1`): each attribute a value (BIOS version, kernel) or a list of items (DIMM
//! slots, PCI functions, disks), read leniently from the JSON so that a field a report lacks is
//! an absent value, never an error.
//!
//! | key | from the inventory |
//! |---|---|
//! | `bios_vendor`, `bios_version`, `bios_date` | `dmi.bios_*` |
//! | `kernel` | `host.kernel` (the release) |
//! | `os` | `host.os.pretty_name` |
//! | `cpu_model`, `cpu_count`, `cpu_sockets`, `cpu_microcode` | `cpu.model_name`, `cpu.cpus`, `cpu.sockets`, `cpu.microcode` |
//! | `memory_size` | `memory.dimm_total_bytes`, else `memory.total_bytes` to the nearest GiB |
//! | `dimm_population` | `memory.dimms[]` populated: locator, size, speed (configured, else rated), type |
//! | `pci_functions` | `pci[]`: vendor:device and driver, with a count for each |
//! | `pci_links` | `pci[].link`: address, current speed and width |
//! | `nic_link_speeds` | `network[]` not virtual: name and `speed_mbps` |
//! | `nic_firmware` | `rdma[]`: device and `fw_ver` |
//! | `disk_models`, `disk_firmware` | `storage[]` of kind disk and `nvme[]`: name and model, name and firmware |
//! | `bmc_firmware` | `bmc.mc`: manufacturer, firmware revision and auxiliary bytes, IPMI version (a BMC the probe reached) |
//!
//! The inventory holds no Ethernet firmware version (ethtool's firmware is logged by
//! `network::driver_info`, not recorded in report.json): it is not compared.

use serde_json::Value;

/// One attribute of one machine: a single value, or a list of items (kept sorted, repeats
/// kept), or nothing known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    One(String),
    Items(Vec<String>),
}

impl AttrValue {
    /// The value as one line: a list's items joined with "; " ("none" for an empty list).
    pub fn text(&self) -> String {
        match self {
            AttrValue::One(s) => s.clone(),
            AttrValue::Items(v) if v.is_empty() => "none".into(),
            AttrValue::Items(v) => v.join("; "),
        }
    }
}

/// The attributes, in the order they are shown: key and label.
pub const ATTRIBUTES: &[(&str, &str)] = &[
    ("bios_vendor", "BIOS vendor"),
    ("bios_version", "BIOS version"),
    ("bios_date", "BIOS date"),
    ("kernel", "Kernel"),
    ("os", "Operating system"),
    ("cpu_model", "CPU model"),
    ("cpu_count", "CPUs"),
    ("cpu_sockets", "CPU sockets"),
    ("cpu_microcode", "CPU microcode"),
    ("memory_size", "Memory size"),
    ("dimm_population", "DIMM population"),
    ("pci_functions", "PCI functions (vendor:device, driver)"),
    ("pci_links", "PCIe links"),
    ("nic_link_speeds", "NIC link speeds"),
    ("nic_firmware", "NIC firmware (RDMA devices)"),
    ("disk_models", "Disk models"),
    ("disk_firmware", "Disk firmware"),
    ("bmc_firmware", "BMC firmware"),
];

fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn bytes(v: &Value) -> Option<u64> {
    v.as_u64().filter(|b| *b > 0)
}

/// The items of a list attribute, sorted; identical items counted ("2× 8086:1572 i40e").
fn counted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let j = items[i..].iter().take_while(|x| **x == items[i]).count();
        out.push(if j > 1 {
            format!("{j}× {}", items[i])
        } else {
            items[i].clone()
        });
        i += j;
    }
    out
}

/// The value of attribute `key` in `inv`, `None` when the inventory does not say.
pub fn attribute(inv: &Value, key: &str) -> Option<AttrValue> {
    let one = |p: &[&str]| s(at(inv, p)).map(AttrValue::One);
    match key {
        "bios_vendor" => one(&["dmi", "bios_vendor"]),
        "bios_version" => one(&["dmi", "bios_version"]),
        "bios_date" => one(&["dmi", "bios_date"]),
        "kernel" => one(&["host", "kernel"]),
        "os" => one(&["host", "os", "pretty_name"]),
        "cpu_model" => one(&["cpu", "model_name"]),
        "cpu_count" => one(&["cpu", "cpus"]),
        "cpu_sockets" => one(&["cpu", "sockets"]),
        "cpu_microcode" => one(&["cpu", "microcode"]),
        "bmc_firmware" => {
            let mc = &inv["bmc"]["mc"];
            let rev = s(&mc["firmware_revision"])?;
            let mut parts: Vec<String> = s(&mc["manufacturer_name"]).into_iter().collect();
            parts.push(rev);
            let aux: Vec<String> = arr(&mc["aux_firmware"]).iter().filter_map(s).collect();
            if !aux.is_empty() {
                parts.push(format!("(aux {})", aux.join(" ")));
            }
            if let Some(v) = s(&mc["ipmi_version"]) {
                parts.push(format!("(IPMI {v})"));
            }
            Some(AttrValue::One(parts.join(" ")))
        }
        "memory_size" => {
            if let Some(b) = bytes(&inv["memory"]["dimm_total_bytes"]) {
                return Some(AttrValue::One(hwsys::units::iec(b)));
            }
            let b = bytes(&inv["memory"]["total_bytes"])?;
            let gib = (b as f64 / (1u64 << 30) as f64).round();
            Some(AttrValue::One(format!("about {gib:.0} GiB (MemTotal)")))
        }
        "dimm_population" => {
            let dimms = inv["memory"]["dimms"].as_array()?;
            if dimms.is_empty() {
                return None;
            }
            let items = dimms
                .iter()
                .filter(|d| d["populated"].as_bool().unwrap_or(false))
                .map(|d| {
                    let mut parts = vec![s(&d["locator"]).unwrap_or_else(|| "?".into())];
                    if let Some(b) = bytes(&d["size_bytes"]) {
                        parts.push(hwsys::units::iec(b));
                    }
                    if let Some(t) = s(&d["memory_type"]) {
                        parts.push(t);
                    }
                    if let Some(m) = d["configured_speed_mts"]
                        .as_u64()
                        .or_else(|| d["speed_mts"].as_u64())
                    {
                        parts.push(format!("{m} MT/s"));
                    }
                    parts.join(" ")
                })
                .collect();
            Some(AttrValue::Items(counted(items)))
        }
        "pci_functions" => {
            let pci = inv["pci"].as_array()?;
            let items = pci
                .iter()
                .map(|p| {
                    format!(
                        "{}:{} {}",
                        s(&p["vendor_id"]).unwrap_or_else(|| "?".into()),
                        s(&p["device_id"]).unwrap_or_else(|| "?".into()),
                        s(&p["driver"]).unwrap_or_else(|| "(no driver)".into())
                    )
                })
                .collect();
            Some(AttrValue::Items(counted(items)))
        }
        "pci_links" => {
            let pci = inv["pci"].as_array()?;
            let items: Vec<String> = pci
                .iter()
                .filter_map(|p| {
                    let l = &p["link"];
                    let speed = s(&l["current_speed"]);
                    let width = l["current_width"].as_u64();
                    if speed.is_none() && width.is_none() {
                        return None;
                    }
                    Some(format!(
                        "{} {} x{}",
                        s(&p["address"]).unwrap_or_else(|| "?".into()),
                        speed.unwrap_or_else(|| "?".into()),
                        width.map_or("?".into(), |w| w.to_string())
                    ))
                })
                .collect();
            (!items.is_empty()).then(|| AttrValue::Items(counted(items)))
        }
        "nic_link_speeds" => {
            let items: Vec<String> = arr(&inv["network"])
                .iter()
                .filter(|n| !n["is_virtual"].as_bool().unwrap_or(false))
                .filter_map(|n| {
                    let name = s(&n["name"])?;
                    Some(match n["speed_mbps"].as_u64() {
                        Some(m) => format!("{name} {m} Mb/s"),
                        None => format!("{name} no link speed"),
                    })
                })
                .collect();
            (!items.is_empty()).then(|| AttrValue::Items(counted(items)))
        }
        "nic_firmware" => {
            let items: Vec<String> = arr(&inv["rdma"])
                .iter()
                .filter_map(|d| Some(format!("{} {}", s(&d["name"])?, s(&d["fw_ver"])?)))
                .collect();
            (!items.is_empty()).then(|| AttrValue::Items(counted(items)))
        }
        "disk_models" | "disk_firmware" => {
            let field = if key == "disk_models" {
                "model"
            } else {
                "firmware"
            };
            let mut items: Vec<String> = arr(&inv["storage"])
                .iter()
                .filter(|d| d["kind"].as_str() == Some("disk"))
                .filter_map(|d| Some(format!("{} {}", s(&d["name"])?, s(&d[field])?)))
                .collect();
            items.extend(
                arr(&inv["nvme"])
                    .iter()
                    .filter_map(|d| Some(format!("{} {}", s(&d["name"])?, s(&d[field])?))),
            );
            (!items.is_empty()).then(|| AttrValue::Items(counted(items)))
        }
        _ => None,
    }
}

/// The model a machine is grouped under: DMI's system vendor and product (`true`), or, where
/// the inventory has no DMI (a virtual machine such as Firecracker's), its CPU model and
/// architecture (`false`).
pub fn model(inv: &Value) -> (String, bool) {
    let dmi: Vec<String> = [&inv["dmi"]["sys_vendor"], &inv["dmi"]["product_name"]]
        .into_iter()
        .filter_map(s)
        .collect();
    if !dmi.is_empty() {
        return (dmi.join(" "), true);
    }
    let cpu = s(&inv["cpu"]["model_name"]).unwrap_or_else(|| "unknown CPU".into());
    let arch = s(&inv["host"]["arch"])
        .or_else(|| s(&inv["cpu"]["architecture"]))
        .unwrap_or_else(|| "unknown architecture".into());
    (format!("no DMI: {cpu} ({arch})"), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_of_an_inventory() {
        let inv = json!({
            "dmi": {"sys_vendor": "Inspur", "product_name": "NF5280M5", "bios_version": "4.1.21"},
            "host": {"kernel": "5.4.119", "arch": "x86_64"},
            "cpu": {"model_name": "Xeon", "cpus": 8},
            "memory": {"total_bytes": 404081127424u64, "dimms": [
                {"locator": "A1", "populated": true, "size_bytes": 34359738368u64,
                 "memory_type": "DDR4", "configured_speed_mts": 2933},
                {"locator": "A2", "populated": false},
                {"locator": "B1", "populated": true, "size_bytes": 34359738368u64,
                 "memory_type": "DDR4", "speed_mts": 3200}]},
            "pci": [{"address": "0000:3b:00.0", "vendor_id": "8086", "device_id": "1572",
                     "driver": "i40e", "link": {"current_speed": "8 GT/s", "current_width": 8}},
                    {"address": "0000:3b:00.1", "vendor_id": "8086", "device_id": "1572",
                     "driver": "i40e"}],
            "storage": [{"name": "sda", "kind": "disk", "model": "ST1200", "firmware": "CN03"},
                        {"name": "dm-0", "kind": "lvm"}],
            "network": [{"name": "lo", "is_virtual": true}, {"name": "eth0", "speed_mbps": 25000}],
        });
        assert_eq!(model(&inv), ("Inspur NF5280M5".into(), true));
        // No BMC reached: not known (never "none"); one reached: its firmware.
        assert_eq!(attribute(&inv, "bmc_firmware"), None);
        let mut with_bmc = inv.clone();
        with_bmc["bmc"] = json!({"status": "used", "mc": {"firmware_revision": "4.40",
            "manufacturer_name": "Inspur", "ipmi_version": "2.0",
            "aux_firmware": ["0x00", "0x2d"]}});
        assert_eq!(
            attribute(&with_bmc, "bmc_firmware").map(|v| v.text()),
            Some("Inspur 4.40 (aux 0x00 0x2d) (IPMI 2.0)".into())
        );
        assert_eq!(
            attribute(&inv, "bios_version"),
            Some(AttrValue::One("4.1.21".into()))
        );
        assert_eq!(
            attribute(&inv, "cpu_count").map(|v| v.text()),
            Some("8".into())
        );
        assert_eq!(
            attribute(&inv, "memory_size").map(|v| v.text()),
            Some("about 376 GiB (MemTotal)".into())
        );
        assert_eq!(
            attribute(&inv, "dimm_population"),
            Some(AttrValue::Items(vec![
                "A1 32 GiB DDR4 2933 MT/s".into(),
                "B1 32 GiB DDR4 3200 MT/s".into()
            ]))
        );
        assert_eq!(
            attribute(&inv, "pci_functions"),
            Some(AttrValue::Items(vec!["2× 8086:1572 i40e".into()]))
        );
        assert_eq!(
            attribute(&inv, "pci_links").map(|v| v.text()),
            Some("0000:3b:00.0 8 GT/s x8".into())
        );
        assert_eq!(
            attribute(&inv, "nic_link_speeds").map(|v| v.text()),
            Some("eth0 25000 Mb/s".into())
        );
        assert_eq!(
            attribute(&inv, "disk_firmware").map(|v| v.text()),
            Some("sda CN03".into())
        );
        assert_eq!(attribute(&inv, "nic_firmware"), None);
        assert_eq!(attribute(&inv, "bmc"), None);
    }

    #[test]
    fn garbage_and_empty_inventories_say_nothing() {
        for inv in [
            json!(null),
            json!({}),
            json!([1, 2]),
            json!("x"),
            json!({"dmi": 7, "cpu": [], "memory": {"dimms": "x", "total_bytes": -1},
                   "pci": {"a": 1}, "storage": [null, 3, {"kind": "disk"}], "network": 5}),
        ] {
            for (k, _) in ATTRIBUTES {
                let a = attribute(&inv, k);
                assert!(
                    a.is_none() || a == Some(AttrValue::Items(vec![])),
                    "{k} of {inv}: {a:?}"
                );
            }
            let (m, dmi) = model(&inv);
            assert!(!dmi && m.starts_with("no DMI: unknown CPU"), "{m}");
        }
        // DMI with only a product still names the model; blanks are no name.
        assert_eq!(
            model(&json!({"dmi": {"sys_vendor": "  ", "product_name": "X1"}})),
            ("X1".into(), true)
        );
    }
}
