//! PCI functions under sys/bus/pci/devices, named from the embedded pci-ids database.
//!
//! Everything comes from sysfs attributes (never from config space), so a recorded sysroot
//! gives the same answer as the machine it was recorded on. Names follow `lspci -vmm`:
//!
//! - `class_name` is what lspci prints as the class: the subclass name when pci.ids has one
//!   ("Ethernet controller"), else the base class name ("Unassigned class"). When pci.ids knows
//!   neither, lspci prints the placeholder "Class XXXX"; we leave `class_name` absent instead
//!   (the ID is in `class_id`), as for every other unknown name.
//! - `vendor_name` / `device_name`: lspci's `Vendor:` / `Device:`.
//! - `subsystem_vendor_name`: lspci's `SVendor:`, the name of the subsystem vendor ID.
//! - `subsystem_name`: lspci's `SDevice:`, looked up by (vendor, device, subvendor,
//!   subdevice); when the subsystem IDs repeat the device's own IDs and pci.ids has no entry,
//!   the device name (as libpci does).
//!
//! Both subsystem names are absent, like lspci's lines, when the subsystem vendor is 0000 or
//! ffff (no subsystem).

use std::collections::BTreeMap;

use pci_ids::FromId;
use serde::{Deserialize, Serialize};

use crate::modalias::AliasTable;
use hwsys::sysroot::{natural_cmp, Sysroot};

/// One PCI function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PciDevice {
    /// With domain: "0000:00:02.0".
    pub address: String,
    /// 4 lower-case hexadecimal digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_device_id: Option<String>,
    /// 6 hexadecimal digits: class, subclass, programming interface ("020000").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    /// The subclass name, else the class name (see the module documentation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// 2 hexadecimal digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prog_if: Option<String>,
    /// The programming interface's name when pci.ids has one ("XHCI").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prog_if_name: Option<String>,
    /// 2 hexadecimal digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// lspci's `SDevice:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_name: Option<String>,
    /// lspci's `SVendor:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_name: Option<String>,
    /// The bound driver (the `driver` link's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Modules whose aliases match the function's modalias, in modules.alias order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    /// Absent when the kernel says -1 (no NUMA affinity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numa_node: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iommu_group: Option<u32>,
    /// PCIe link state; absent for conventional PCI functions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<PciLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sriov_totalvfs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sriov_numvfs: Option<u32>,
    /// For a virtual function: its physical function's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physfn: Option<String>,
    /// PCIe Advanced Error Reporting counters, when the kernel exposes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aer: Option<PciAer>,
    /// The bridge this function sits behind (absent directly below a host bridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The `enable` attribute: whether the kernel has enabled the function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The legacy interrupt line; absent when none (0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irq: Option<u32>,
    /// A PCI-to-PCI bridge (class 0604 or 0609) or CardBus bridge (0607): functions sit behind it.
    #[serde(default)]
    pub is_bridge: bool,
}

/// PCIe link state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PciLink {
    /// The kernel's text ("8.0 GT/s PCIe"; older kernels "8 GT/s"); absent when "Unknown".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_speed: Option<String>,
    /// Lanes; absent when 0 (link down) or not a valid width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_speed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
    /// `current_speed` in GT/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_gts: Option<f64>,
    /// `max_speed` in GT/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gts: Option<f64>,
}

impl PciDevice {
    /// One line for a person, the same everywhere a device is named: "Broadcom / LSI MegaRAID
    /// 12GSAS/PCIe Secure SAS39xx [1000:10e2]" (the class name when the device has no name).
    pub fn label(&self) -> String {
        let name = match (&self.vendor_name, &self.device_name) {
            (Some(v), Some(n)) => format!("{v} {n}"),
            (Some(v), None) => format!("{v} device"),
            _ => self
                .class_name
                .clone()
                .unwrap_or_else(|| "unknown device".into()),
        };
        match (&self.vendor_id, &self.device_id) {
            (Some(v), Some(i)) => format!("{name} [{v}:{i}]"),
            _ => name,
        }
    }
}

impl PciLink {
    /// Whether the link runs below the function's own maximum speed or width. (Whether the
    /// other end of the link is the limit is not known from this function's attributes.)
    pub fn is_degraded(&self) -> bool {
        let slower = matches!((self.current_gts, self.max_gts), (Some(c), Some(m)) if c < m);
        let narrower = matches!((self.current_width, self.max_width), (Some(c), Some(m)) if c < m);
        slower || narrower
    }
}

/// AER counters (aer_dev_correctable, aer_dev_fatal, aer_dev_nonfatal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PciAer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correctable: Option<AerCounters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fatal: Option<AerCounters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonfatal: Option<AerCounters>,
}

/// One AER file: each error's count, and the kernel's `TOTAL_ERR_*` line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AerCounters {
    /// Error name ("BadTLP") → count, without the total line.
    pub counts: BTreeMap<String, u64>,
    /// `TOTAL_ERR_COR` / `TOTAL_ERR_FATAL` / `TOTAL_ERR_NONFATAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// A PCI address: domain, bus, device, function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    pub domain: u32,
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

/// Parse "0000:00:02.0" (the domain may have up to 8 hex digits, as VMD domains do).
pub fn parse_address(s: &str) -> Option<PciAddress> {
    let (domain, rest) = s.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    let hex = |x: &str, min: usize, max: usize| {
        (x.len() >= min && x.len() <= max && x.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(x, 16).ok())
            .flatten()
    };
    let domain = hex(domain, 4, 8)?;
    let bus = u8::try_from(hex(bus, 2, 2)?).ok()?;
    let device = u8::try_from(hex(dev, 2, 2)?).ok().filter(|d| *d < 32)?;
    let function = (func.len() == 1)
        .then(|| func.parse::<u8>().ok())
        .flatten()
        .filter(|f| *f < 8)?;
    Some(PciAddress {
        domain,
        bus,
        device,
        function,
    })
}

/// modules.alias, read the first time a function has a modalias.
struct LazyAliases<'a> {
    sys: &'a Sysroot,
    kernel: Option<&'a str>,
    table: Option<Option<AliasTable>>,
}

impl LazyAliases<'_> {
    fn get(&mut self) -> Option<&AliasTable> {
        if self.table.is_none() {
            let t = self
                .kernel
                .and_then(|k| AliasTable::load(self.sys, k, "pci:"));
            self.table = Some(t);
        }
        self.table.as_ref().and_then(|t| t.as_ref())
    }
}

/// Probe every PCI function. `kernel` is the release, for lib/modules/<kernel>/modules.alias.
pub fn probe(sys: &Sysroot, kernel: Option<&str>) -> Vec<PciDevice> {
    const BASE: &str = "sys/bus/pci/devices";
    let mut entries: Vec<(PciAddress, String)> = Vec::new();
    for name in sys.list_dir(BASE) {
        match parse_address(&name) {
            Some(a) => entries.push((a, name)),
            None => sys.warn(&format!("{BASE}/{name}"), "not a PCI address; ignored"),
        }
    }
    // Numeric address order, as lspci sorts (natural order would put 00:1f before 00:02).
    entries.sort();
    let mut aliases = LazyAliases {
        sys,
        kernel,
        table: None,
    };
    entries
        .into_iter()
        .filter_map(|(_, name)| probe_one(sys, &format!("{BASE}/{name}"), name, &mut aliases))
        .collect()
}

fn probe_one(
    sys: &Sysroot,
    entry: &str,
    address: String,
    aliases: &mut LazyAliases,
) -> Option<PciDevice> {
    // Every read goes through the canonical directory: one link resolution per function.
    let dir = sys.canonical(entry)?;
    // One listing instead of a failed open per attribute this function does not have (a
    // conventional PCI function has no link, AER or SR-IOV attributes).
    let names = sys.list_dir(&dir);
    let has = |attr: &str| names.binary_search_by(|n| natural_cmp(n, attr)).is_ok();
    let at = |attr: &str| format!("{dir}/{attr}");

    let id = read_ident(sys, &dir, &has);
    let revision = if has("revision") {
        hex_in_range(sys, &at("revision"), 0xff)
    } else {
        None
    };
    let mut d = PciDevice {
        vendor_id: id.vendor.map(|v| format!("{v:04x}")),
        device_id: id.device.map(|v| format!("{v:04x}")),
        subsystem_vendor_id: id.sub_vendor.map(|v| format!("{v:04x}")),
        subsystem_device_id: id.sub_device.map(|v| format!("{v:04x}")),
        class_id: id.class.map(|c| format!("{c:06x}")),
        prog_if: id.class.map(|c| format!("{:02x}", c & 0xff)),
        revision: revision.map(|r| format!("{r:02x}")),
        ..PciDevice::default()
    };
    name_device(&mut d, &id);
    d.is_bridge = id
        .class
        .is_some_and(|c| matches!(c >> 8, 0x0604 | 0x0607 | 0x0609));

    if has("driver") {
        d.driver = sys.link_name(&at("driver"));
    }
    if let Some(alias) = &id.modalias {
        if let Some(table) = aliases.get() {
            d.modules = table.modules_for(alias);
        }
    }
    if has("numa_node") {
        d.numa_node = sys.parse::<i32>(&at("numa_node")).filter(|n| *n >= 0);
    }
    if has("iommu_group") {
        if let Some(g) = sys.link_name(&at("iommu_group")) {
            match g.parse() {
                Ok(n) => d.iommu_group = Some(n),
                Err(_) => sys.warn(&at("iommu_group"), format!("'{g}' is not a group number")),
            }
        }
    }
    d.link = read_link_state(sys, &dir, &has);
    if has("sriov_totalvfs") {
        d.sriov_totalvfs = sys.parse(&at("sriov_totalvfs"));
    }
    if has("sriov_numvfs") {
        d.sriov_numvfs = sys.parse(&at("sriov_numvfs"));
    }
    if has("physfn") {
        d.physfn = sys
            .link_name(&at("physfn"))
            .filter(|p| parse_address(p).is_some());
    }
    d.aer = read_aer(sys, &dir, &has);
    if has("enable") {
        d.enabled = sys.parse::<u32>(&at("enable")).map(|e| e != 0);
    }
    if has("irq") {
        d.irq = sys.parse::<u32>(&at("irq")).filter(|i| *i != 0);
    }
    d.parent = dir
        .rsplit_once('/')
        .and_then(|(up, _)| up.rsplit('/').next())
        .filter(|p| parse_address(p).is_some())
        .map(str::to_string);
    d.address = address;
    Some(d)
}

/// What identifies a function: IDs, class and modalias.
#[derive(Debug, Default)]
struct Ident {
    vendor: Option<u32>,
    device: Option<u32>,
    sub_vendor: Option<u32>,
    sub_device: Option<u32>,
    class: Option<u32>,
    modalias: Option<String>,
}

/// The identity from `uevent` (one read: PCI_ID, PCI_SUBSYS_ID, PCI_CLASS, MODALIAS), and
/// from the single-value attributes for whatever it lacks (a sysroot recorded without it).
fn read_ident(sys: &Sysroot, dir: &str, has: &dyn Fn(&str) -> bool) -> Ident {
    let mut id = Ident::default();
    if has("uevent") {
        let rel = format!("{dir}/uevent");
        if let Some(text) = sys.read(&rel) {
            let mut bad: Vec<&str> = Vec::new();
            for line in text.lines() {
                let Some((key, value)) = line.split_once('=') else {
                    continue;
                };
                match key {
                    "PCI_ID" => match hex_pair(value) {
                        Some((v, d)) => (id.vendor, id.device) = (Some(v), Some(d)),
                        None => bad.push(key),
                    },
                    "PCI_SUBSYS_ID" => match hex_pair(value) {
                        Some((v, d)) => (id.sub_vendor, id.sub_device) = (Some(v), Some(d)),
                        None => bad.push(key),
                    },
                    "PCI_CLASS" => match u32::from_str_radix(value, 16) {
                        Ok(c) if c <= 0xff_ffff => id.class = Some(c),
                        _ => bad.push(key),
                    },
                    "MODALIAS" if !value.is_empty() => id.modalias = Some(value.to_string()),
                    _ => {}
                }
            }
            if !bad.is_empty() {
                sys.warn(&rel, format!("cannot parse {}", bad.join(", ")));
            }
        }
    }
    let attr16 = |name: &str| {
        if has(name) {
            hex_in_range(sys, &format!("{dir}/{name}"), 0xffff)
        } else {
            None
        }
    };
    if id.vendor.is_none() {
        id.vendor = attr16("vendor");
    }
    if id.device.is_none() {
        id.device = attr16("device");
    }
    if id.sub_vendor.is_none() {
        id.sub_vendor = attr16("subsystem_vendor");
    }
    if id.sub_device.is_none() {
        id.sub_device = attr16("subsystem_device");
    }
    if id.class.is_none() && has("class") {
        id.class = hex_in_range(sys, &format!("{dir}/class"), 0xff_ffff);
    }
    if id.modalias.is_none() && has("modalias") {
        id.modalias = sys.attr(&format!("{dir}/modalias"));
    }
    id
}

/// "8086:10FB" → (0x8086, 0x10fb).
fn hex_pair(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once(':')?;
    let hex4 = |x: &str| {
        (!x.is_empty() && x.len() <= 4)
            .then(|| u32::from_str_radix(x, 16).ok())
            .flatten()
    };
    Some((hex4(a)?, hex4(b)?))
}

/// A hexadecimal attribute no larger than `max`; a larger value is a warning.
fn hex_in_range(sys: &Sysroot, rel: &str, max: u64) -> Option<u32> {
    let v = sys.parse_hex(rel)?;
    match u32::try_from(v) {
        Ok(v) if u64::from(v) <= max => Some(v),
        _ => {
            sys.warn(rel, format!("0x{v:x} is out of range (at most 0x{max:x})"));
            None
        }
    }
}

fn name_device(d: &mut PciDevice, id: &Ident) {
    let Ident {
        vendor,
        device,
        sub_vendor,
        sub_device,
        class,
        ..
    } = *id;
    let vendor = vendor.and_then(|v| u16::try_from(v).ok());
    let device = device.and_then(|v| u16::try_from(v).ok());
    if let Some(v) = vendor {
        d.vendor_name = pci_ids::Vendor::from_id(v).map(|x| x.name().to_string());
    }
    let dev = match (vendor, device) {
        (Some(v), Some(p)) => pci_ids::Device::from_vid_pid(v, p),
        _ => None,
    };
    d.device_name = dev.map(|x| x.name().to_string());
    let sub_vendor = sub_vendor
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| *v != 0 && *v != 0xffff);
    let sub_device = sub_device.and_then(|v| u16::try_from(v).ok());
    if let Some(sv) = sub_vendor {
        d.subsystem_vendor_name = pci_ids::Vendor::from_id(sv).map(|x| x.name().to_string());
        if let (Some(dev), Some(sd)) = (dev, sub_device) {
            d.subsystem_name = dev
                .subsystems()
                .find(|s| s.subvendor() == sv && s.subdevice() == sd)
                .map(|s| s.name())
                .or_else(|| (vendor == Some(sv) && device == Some(sd)).then(|| dev.name()))
                .map(str::to_string);
        }
    }
    if let Some(c) = class {
        let (base, sub, pi) = ((c >> 16) as u8, (c >> 8) as u8, c as u8);
        let subclass = pci_ids::Subclass::from_cid_sid(base, sub);
        d.class_name = subclass
            .map(|s| s.name())
            .or_else(|| pci_ids::Class::from_id(base).map(|x| x.name()))
            .map(str::to_string);
        d.prog_if_name = subclass
            .and_then(|s| s.prog_ifs().find(|p| p.id() == pi))
            .map(|p| p.name().to_string());
    }
}

fn read_link_state(sys: &Sysroot, dir: &str, has: &dyn Fn(&str) -> bool) -> Option<PciLink> {
    let speed = |attr: &str| {
        if !has(attr) {
            return None;
        }
        let rel = format!("{dir}/{attr}");
        let text = sys.attr(&rel)?;
        if text.starts_with("Unknown") {
            return None;
        }
        let gts = parse_gts(&text);
        if gts.is_none() {
            sys.warn(&rel, format!("cannot parse the link speed '{text}'"));
        }
        Some((text, gts))
    };
    let width = |attr: &str| {
        if !has(attr) {
            return None;
        }
        let rel = format!("{dir}/{attr}");
        // 0 is a link that is down; 255 (or any other value) is not a width a link can have.
        sys.parse::<u32>(&rel).filter(|w| (1..=32).contains(w))
    };
    let (current_speed, current_gts) = speed("current_link_speed").unzip();
    let (max_speed, max_gts) = speed("max_link_speed").unzip();
    let link = PciLink {
        current_speed,
        current_width: width("current_link_width"),
        max_speed,
        max_width: width("max_link_width"),
        current_gts: current_gts.flatten(),
        max_gts: max_gts.flatten(),
    };
    (link != PciLink::default()).then_some(link)
}

/// "8.0 GT/s PCIe", "2.5 GT/s", "8 GT/s" → GT/s.
fn parse_gts(s: &str) -> Option<f64> {
    let mut words = s.split_whitespace();
    let n: f64 = words.next()?.parse().ok()?;
    (words.next()? == "GT/s" && n.is_finite() && n > 0.0).then_some(n)
}

fn read_aer(sys: &Sysroot, dir: &str, has: &dyn Fn(&str) -> bool) -> Option<PciAer> {
    let file = |name: &str, total: &str| {
        if !has(name) {
            return None;
        }
        let rel = format!("{dir}/{name}");
        let text = sys.read(&rel)?;
        Some(parse_aer(sys, &rel, &text, total))
    };
    let aer = PciAer {
        correctable: file("aer_dev_correctable", "TOTAL_ERR_COR"),
        fatal: file("aer_dev_fatal", "TOTAL_ERR_FATAL"),
        nonfatal: file("aer_dev_nonfatal", "TOTAL_ERR_NONFATAL"),
    };
    (aer != PciAer::default()).then_some(aer)
}

/// "NAME COUNT" lines; a line that is not one is a warning (once per file).
fn parse_aer(sys: &Sysroot, rel: &str, text: &str, total_name: &str) -> AerCounters {
    let mut out = AerCounters::default();
    let mut bad = 0usize;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line
            .rsplit_once(char::is_whitespace)
            .and_then(|(name, n)| Some((name.trim(), n.parse::<u64>().ok()?)))
            .filter(|(name, _)| !name.is_empty());
        match parsed {
            Some((name, n)) if name == total_name => out.total = Some(n),
            Some((name, n)) => {
                out.counts.insert(name.to_string(), n);
            }
            None => bad += 1,
        }
    }
    if bad > 0 {
        sys.warn(
            rel,
            format!("{bad} line(s) are not 'NAME COUNT' and were ignored"),
        );
    }
    out
}

/// The version line of the embedded pci-ids database, when known.
///
/// pci-ids 0.2 does not expose the `Version:` header of the pci.ids it embeds, so hwdb's build
/// script reads it from the same file the crate compiled. (The crate's build script tries to
/// download the current pci.ids, falling back to the copy it ships, so the version depends on
/// the build machine: that is why the inventory records it.)
pub fn database_version() -> Option<String> {
    // Read from the embedded database's header at build time (hwdb/build.rs).
    let v = env!("HWDB_PCI_IDS_VERSION");
    (!v.is_empty()).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use std::path::Path;

    use crate::testutil::{link, write};

    fn function(root: &Path, dev: &str, attrs: &[(&str, &str)]) {
        for (name, value) in attrs {
            write(root, &format!("{dev}/{name}"), format!("{value}\n"));
        }
        let addr = dev.rsplit('/').next().expect("address");
        link(
            root,
            &format!("sys/bus/pci/devices/{addr}"),
            &format!("../../../{}", dev.trim_start_matches("sys/")),
        );
    }

    const BRIDGE: &str = "sys/devices/pci0000:00/0000:00:01.0";
    const PF0: &str = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
    const PF1: &str = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1";
    const VF: &str = "sys/devices/pci0000:00/0000:00:01.0/0000:01:10.0";

    /// A root port, a dual-port 82599 behind it (port 0 with a link below its maximum, AER
    /// counters and SR-IOV, port 1 with an unknown subsystem), and one virtual function.
    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        function(
            r,
            BRIDGE,
            &[
                ("vendor", "0x8086"),
                ("device", "0x1901"),
                ("subsystem_vendor", "0x0000"),
                ("subsystem_device", "0x0000"),
                ("class", "0x060400"),
                ("revision", "0x07"),
                ("numa_node", "-1"),
                ("enable", "1"),
                ("irq", "122"),
                ("current_link_speed", "8.0 GT/s PCIe"),
                ("current_link_width", "8"),
                ("max_link_speed", "8.0 GT/s PCIe"),
                ("max_link_width", "16"),
                (
                    "modalias",
                    "pci:v00008086d00001901sv00000000sd00000000bc06sc04i00",
                ),
            ],
        );
        function(
            r,
            PF0,
            &[
                ("vendor", "0x8086"),
                ("device", "0x10fb"),
                ("subsystem_vendor", "0x8086"),
                ("subsystem_device", "0x000c"),
                ("class", "0x020000"),
                ("revision", "0x01"),
                ("numa_node", "0"),
                ("enable", "1"),
                ("irq", "0"),
                ("current_link_speed", "5.0 GT/s PCIe"),
                ("current_link_width", "4"),
                ("max_link_speed", "8.0 GT/s PCIe"),
                ("max_link_width", "8"),
                ("sriov_totalvfs", "63"),
                ("sriov_numvfs", "1"),
                ("modalias", "pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00"),
                (
                    "aer_dev_correctable",
                    "RxErr 0\nBadTLP 2\nBadDLLP 1\nRollover 0\nTimeout 0\nNonFatalErr 0\nCorrIntErr 0\nHeaderOF 0\nTOTAL_ERR_COR 3",
                ),
                ("aer_dev_fatal", "Undefined 0\nDLP 0\nSDES 0\nTLP 0\nTOTAL_ERR_FATAL 0"),
                ("aer_dev_nonfatal", "Undefined 0\nUnsupReq 4\nTOTAL_ERR_NONFATAL 4"),
            ],
        );
        function(
            r,
            PF1,
            &[
                // Identity from uevent only, as the kernel writes it.
                (
                    "uevent",
                    "PCI_CLASS=20000\nPCI_ID=8086:10FB\nPCI_SUBSYS_ID=17AA:9999\n\
                     PCI_SLOT_NAME=0000:01:00.1\n\
                     MODALIAS=pci:v00008086d000010FBsv000017AAsd00009999bc02sc00i00",
                ),
                ("revision", "0x01"),
                ("numa_node", "0"),
                ("enable", "0"),
                ("current_link_speed", "Unknown"),
                ("current_link_width", "0"),
                ("max_link_speed", "8.0 GT/s PCIe"),
                ("max_link_width", "255"),
            ],
        );
        function(
            r,
            VF,
            &[
                ("vendor", "0x8086"),
                ("device", "0x10ed"),
                ("subsystem_vendor", "0x8086"),
                ("subsystem_device", "0x000c"),
                ("class", "0x020000"),
                ("revision", "0x01"),
                (
                    "modalias",
                    "pci:v00008086d000010EDsv00008086sd0000000Cbc02sc00i00",
                ),
            ],
        );
        link(r, &format!("{VF}/physfn"), "../0000:01:00.0");
        link(r, &format!("{PF0}/virtfn0"), "../0000:01:10.0");
        fs::create_dir_all(r.join("sys/bus/pci/drivers/ixgbe")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/pci/drivers/pcieport")).expect("mkdir");
        fs::create_dir_all(r.join("sys/kernel/iommu_groups/12")).expect("mkdir");
        link(
            r,
            &format!("{PF0}/driver"),
            "../../../../bus/pci/drivers/ixgbe",
        );
        link(
            r,
            &format!("{BRIDGE}/driver"),
            "../../../bus/pci/drivers/pcieport",
        );
        link(
            r,
            &format!("{PF0}/iommu_group"),
            "../../../../kernel/iommu_groups/12",
        );
        write(
            r,
            "lib/modules/6.6.0-test/modules.alias",
            "# Aliases extracted from modules themselves.\n\
             alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe\n\
             alias pci:v00008086d000010EDsv*sd*bc*sc*i* ixgbevf\n\
             alias pci:v*d*sv*sd*bc06sc04i00* shpchp\n\
             alias pci:v00008086d000010F[A-C]sv*sd*bc*sc*i* ixgbe-compat\n\
             alias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152\n",
        );
        d
    }

    #[test]
    fn probes_every_field_of_a_small_tree() {
        let d = tree();
        let s = Sysroot::new(d.path());
        let devs = probe(&s, Some("6.6.0-test"));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        let addrs: Vec<&str> = devs.iter().map(|d| d.address.as_str()).collect();
        assert_eq!(
            addrs,
            [
                "0000:00:01.0",
                "0000:01:00.0",
                "0000:01:00.1",
                "0000:01:10.0"
            ]
        );

        let b = &devs[0];
        assert!(b.is_bridge);
        assert_eq!(b.class_name.as_deref(), Some("PCI bridge"));
        assert_eq!(b.prog_if_name.as_deref(), Some("Normal decode"));
        assert_eq!(
            b.device_name.as_deref(),
            Some("6th-10th Gen Core Processor PCIe Controller (x16)")
        );
        assert_eq!(b.subsystem_vendor_id.as_deref(), Some("0000"));
        assert_eq!(b.subsystem_vendor_name, None, "no subsystem, as lspci");
        assert_eq!(b.subsystem_name, None);
        assert_eq!(b.driver.as_deref(), Some("pcieport"));
        assert_eq!(b.modules, ["shpchp"]);
        assert_eq!(b.numa_node, None, "-1 is absent");
        assert_eq!(b.irq, Some(122));
        assert_eq!(b.parent, None, "directly below the host bridge");
        assert!(b.link.as_ref().expect("link").is_degraded(), "x8 of x16");

        let pf = &devs[1];
        let want = PciDevice {
            address: "0000:01:00.0".into(),
            vendor_id: Some("8086".into()),
            device_id: Some("10fb".into()),
            subsystem_vendor_id: Some("8086".into()),
            subsystem_device_id: Some("000c".into()),
            class_id: Some("020000".into()),
            class_name: Some("Ethernet controller".into()),
            prog_if: Some("00".into()),
            prog_if_name: None,
            revision: Some("01".into()),
            vendor_name: Some("Intel Corporation".into()),
            device_name: Some("82599ES 10-Gigabit SFI/SFP+ Network Connection".into()),
            subsystem_name: Some("Ethernet Server Adapter X520-2".into()),
            subsystem_vendor_name: Some("Intel Corporation".into()),
            driver: Some("ixgbe".into()),
            modules: vec!["ixgbe".into(), "ixgbe_compat".into()],
            numa_node: Some(0),
            iommu_group: Some(12),
            link: Some(PciLink {
                current_speed: Some("5.0 GT/s PCIe".into()),
                current_width: Some(4),
                max_speed: Some("8.0 GT/s PCIe".into()),
                max_width: Some(8),
                current_gts: Some(5.0),
                max_gts: Some(8.0),
            }),
            sriov_totalvfs: Some(63),
            sriov_numvfs: Some(1),
            physfn: None,
            aer: Some(PciAer {
                correctable: Some(AerCounters {
                    counts: [
                        ("RxErr", 0),
                        ("BadTLP", 2),
                        ("BadDLLP", 1),
                        ("Rollover", 0),
                        ("Timeout", 0),
                        ("NonFatalErr", 0),
                        ("CorrIntErr", 0),
                        ("HeaderOF", 0),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                    total: Some(3),
                }),
                fatal: Some(AerCounters {
                    counts: [("Undefined", 0), ("DLP", 0), ("SDES", 0), ("TLP", 0)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                    total: Some(0),
                }),
                nonfatal: Some(AerCounters {
                    counts: [("Undefined", 0), ("UnsupReq", 4)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                    total: Some(4),
                }),
            }),
            parent: Some("0000:00:01.0".into()),
            enabled: Some(true),
            irq: None,
            is_bridge: false,
        };
        assert_eq!(*pf, want);
        assert!(pf.link.as_ref().expect("link").is_degraded());

        let p1 = &devs[2];
        assert_eq!(p1.subsystem_vendor_name.as_deref(), Some("Lenovo"));
        assert_eq!(p1.subsystem_name, None, "17aa:9999 is not in pci.ids");
        assert_eq!(p1.enabled, Some(false));
        assert_eq!(p1.driver, None);
        assert_eq!(p1.iommu_group, None);
        assert_eq!(
            p1.link,
            Some(PciLink {
                max_speed: Some("8.0 GT/s PCIe".into()),
                max_gts: Some(8.0),
                ..PciLink::default()
            }),
            "Unknown speed, width 0 and 255 are absent"
        );
        assert_eq!(p1.aer, None);
        assert_eq!(p1.parent.as_deref(), Some("0000:00:01.0"));

        let vf = &devs[3];
        assert_eq!(vf.physfn.as_deref(), Some("0000:01:00.0"));
        assert_eq!(
            vf.device_name.as_deref(),
            Some("82599 Ethernet Controller Virtual Function")
        );
        assert_eq!(vf.modules, ["ixgbevf"]);
        assert_eq!(vf.parent.as_deref(), Some("0000:00:01.0"));
        assert_eq!(vf.link, None);
        assert_eq!(vf.enabled, None);
    }

    #[test]
    fn modules_need_a_kernel_and_an_alias_file() {
        let d = tree();
        let s = Sysroot::new(d.path());
        assert!(probe(&s, None).iter().all(|d| d.modules.is_empty()));
        assert!(probe(&s, Some("5.4.0-other"))
            .iter()
            .all(|d| d.modules.is_empty()));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn garbage_truncated_and_missing_attributes() {
        let d = tree();
        let r = d.path();
        write(r, &format!("{PF0}/vendor"), "0x80");
        write(r, &format!("{PF0}/device"), "zzzz\n");
        write(r, &format!("{PF0}/class"), "0x1020000\n");
        fs::remove_file(r.join(format!("{PF0}/revision"))).expect("rm");
        write(r, &format!("{PF0}/numa_node"), "\n");
        write(r, &format!("{PF0}/current_link_speed"), "fast\n");
        write(r, &format!("{PF0}/current_link_width"), "x4\n");
        write(
            r,
            &format!("{PF0}/aer_dev_fatal"),
            "DLP 0\nSDES\nTLP x\nTOTAL_ERR_FATAL 0",
        );
        fs::write(r.join(format!("{PF0}/sriov_numvfs")), [0xff, 0xfe]).expect("write");
        write(
            r,
            &format!("{PF1}/uevent"),
            "PCI_CLASS=1000000\nPCI_ID=zz\nPCI_SUBSYS_ID=17AA:9999\nMODALIAS=\nJUNK\n",
        );
        write(r, &format!("{VF}/uevent"), "PCI_ID=8086\n");
        link(
            r,
            "sys/bus/pci/devices/0000:02:00.0",
            "../../../devices/nowhere",
        );
        write(r, "sys/bus/pci/devices/garbage", "x");
        let s = Sysroot::new(d.path());
        let devs = probe(&s, Some("6.6.0-test"));
        assert_eq!(devs.len(), 4, "the dangling entry is skipped");
        let pf = &devs[1];
        assert_eq!(pf.vendor_id.as_deref(), Some("0080"));
        assert_eq!(pf.vendor_name, None);
        assert_eq!(pf.device_id, None);
        assert_eq!(pf.device_name, None);
        assert_eq!(pf.class_id, None);
        assert_eq!(pf.class_name, None);
        assert_eq!(pf.revision, None);
        assert_eq!(pf.numa_node, None);
        assert_eq!(pf.sriov_numvfs, None);
        let link = pf.link.as_ref().expect("link");
        assert_eq!(link.current_speed.as_deref(), Some("fast"));
        assert_eq!(link.current_gts, None);
        assert_eq!(link.current_width, None);
        let fatal = pf
            .aer
            .as_ref()
            .and_then(|a| a.fatal.as_ref())
            .expect("fatal");
        assert_eq!(fatal.counts.len(), 1);
        assert_eq!(fatal.total, Some(0));
        let p1 = &devs[2];
        assert!(p1.modules.is_empty());
        assert_eq!((&p1.vendor_id, &p1.class_id), (&None, &None));
        assert_eq!(p1.subsystem_vendor_id.as_deref(), Some("17aa"));
        let vf = &devs[3];
        assert_eq!(
            vf.vendor_id.as_deref(),
            Some("8086"),
            "from the vendor file"
        );
        assert_eq!(vf.modules, ["ixgbevf"], "from the modalias file");
        let w = s.warnings();
        let warned = |suffix: &str| w.iter().any(|x| x.path.ends_with(suffix));
        for f in [
            "0000:01:00.0/device",
            "0000:01:00.0/class",
            "0000:01:00.0/current_link_speed",
            "0000:01:00.0/current_link_width",
            "0000:01:00.0/aer_dev_fatal",
            "0000:01:00.0/sriov_numvfs",
            "devices/garbage",
            "0000:01:00.1/uevent",
            "0000:01:10.0/uevent",
            "devices/0000:02:00.0",
        ] {
            assert!(warned(f), "no warning for {f}: {w:?}");
        }
        assert!(!warned("revision"), "missing is silent: {w:?}");
        assert!(warned("numa_node"), "an empty number is a warning: {w:?}");
        assert!(!warned("0000:01:00.0/vendor"), "short hex is fine: {w:?}");
    }

    #[test]
    fn empty_or_missing_bus() {
        let d = tempfile::tempdir().expect("tempdir");
        let s = Sysroot::new(d.path());
        assert!(probe(&s, Some("x")).is_empty());
        fs::create_dir_all(d.path().join("sys/bus/pci/devices")).expect("mkdir");
        assert!(probe(&s, Some("x")).is_empty());
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn addresses() {
        let a = parse_address("0000:3b:00.1").expect("address");
        assert_eq!((a.domain, a.bus, a.device, a.function), (0, 0x3b, 0, 1));
        assert_eq!(
            parse_address("10000:e1:1f.7").map(|a| a.domain),
            Some(0x10000)
        );
        for bad in [
            "",
            "0000:00:00",
            "00:00.0",
            "0000:00:20.0",
            "0000:00:00.8",
            "0000:0:00.0",
            "pci0000:00",
            "0000:00:00.0.1",
            "zzzz:00:00.0",
            "0000:00:00.",
        ] {
            assert_eq!(parse_address(bad), None, "{bad}");
        }
        assert!(parse_address("0000:00:1f.0") > parse_address("0000:00:02.0"));
    }

    #[test]
    fn speeds() {
        assert_eq!(parse_gts("8.0 GT/s PCIe"), Some(8.0));
        assert_eq!(parse_gts("2.5 GT/s"), Some(2.5));
        assert_eq!(parse_gts("16 GT/s"), Some(16.0));
        assert_eq!(parse_gts("Unknown speed"), None);
        assert_eq!(parse_gts("8.0"), None);
        assert_eq!(parse_gts("NaN GT/s"), None);
    }

    #[test]
    fn class_names_follow_lspci() {
        let named = |v, p, sv, sd, c| {
            let mut d = PciDevice::default();
            let id = Ident {
                vendor: v,
                device: p,
                sub_vendor: sv,
                sub_device: sd,
                class: c,
                modalias: None,
            };
            name_device(&mut d, &id);
            d
        };
        let d = named(
            Some(0x1af4),
            Some(0x1041),
            Some(0x1af4),
            Some(0x1041),
            Some(0xff0000),
        );
        assert_eq!(d.class_name.as_deref(), Some("Unassigned class"));
        assert_eq!(d.vendor_name.as_deref(), Some("Red Hat, Inc."));
        assert_eq!(d.device_name.as_deref(), Some("Virtio 1.0 network device"));
        assert_eq!(
            d.subsystem_name.as_deref(),
            Some("Virtio 1.0 network device"),
            "subsystem IDs equal to the device's name the device"
        );
        let d = named(
            Some(0x0bad),
            Some(1),
            Some(0xffff),
            Some(0xffff),
            Some(0x0c0330),
        );
        assert_eq!(d.class_name.as_deref(), Some("USB controller"));
        assert_eq!(d.prog_if_name.as_deref(), Some("XHCI"));
        assert_eq!(d.vendor_name, None);
        assert_eq!(d.subsystem_vendor_name, None);
        let d = named(None, None, None, None, Some(0xee0000));
        assert_eq!(
            d.class_name, None,
            "unknown class: lspci prints 'Class ee00'"
        );
    }
}
