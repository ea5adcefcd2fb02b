//! The hardware compatibility list entries a report claims (report.json's `hcl`): one for the
//! system, one per PCI function with a driver, each with the statuses of the cases that
//! covered it. The HCL keys on IDs, never on names.

use serde::{Deserialize, Serialize};

use crate::status::Status;
use crate::verdict::Overall;

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum HclEntry {
    System(SystemEntry),
    Pci(PciEntry),
}

impl HclEntry {
    /// The cases that covered it.
    pub fn cases(&self) -> &[CaseStatus] {
        match self {
            HclEntry::System(s) => &s.cases,
            HclEntry::Pci(p) => &p.cases,
        }
    }
}

/// Where the entry was certified: the same for every entry of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// os-release PRETTY_NAME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// os-release ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_id: Option<String>,
    /// os-release VERSION_ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version_id: Option<String>,
    /// Kernel release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// The system as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_sockets: Option<u32>,
    /// The board's name in the device tree, where the firmware gives one (boards without DMI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_tree_model: Option<String>,
    /// The hypervisor vendor (lscpu's "Hypervisor vendor": KVM, VMware, Microsoft…) where the
    /// system is a virtual machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    #[serde(flatten)]
    pub platform: Platform,
    /// Verdict over the blockers among `cases`.
    pub verdict: Overall,
    pub cases: Vec<CaseStatus>,
}

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PciEntry {
    /// Where it sat in the tested machine (not part of its identity).
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_name: Option<String>,
    /// Class, subclass and programming interface (`010400`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    pub driver: String,
    /// sys/module/<driver>/version, where the driver module has one and it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    /// The device's firmware revision where the kernel tells it (NVMe controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(flatten)]
    pub platform: Platform,
    /// Verdict over the blockers among `cases`.
    pub verdict: Overall,
    pub cases: Vec<CaseStatus>,
}

/// One case instance that covered an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseStatus {
    pub name: String,
    pub status: Status,
    pub blocker: bool,
}

/// A name for a system the list cannot key (no DMI vendor and product), from what is known:
/// the device tree's model, the hypervisor, the CPU ("KVM virtual machine, 2 × Intel Xeon
/// Platinum 8375C"); `None` where the firmware names it ([`title`] is then its name).
pub fn unkeyed_system_name(s: &SystemEntry) -> Option<String> {
    let named = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    if named(&s.vendor) || named(&s.product) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(m) = s
        .device_tree_model
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        parts.push(m.trim().to_string());
    }
    if let Some(h) = s.hypervisor.as_deref().filter(|h| !h.trim().is_empty()) {
        parts.push(format!("{} virtual machine", h.trim()));
    }
    if let Some(c) = s.cpu_model.as_deref().filter(|c| !c.trim().is_empty()) {
        parts.push(match s.cpu_sockets {
            Some(n) if n > 1 => format!("{n} × {}", c.trim()),
            _ => c.trim().to_string(),
        });
    }
    Some(if parts.is_empty() {
        "an unidentified system".to_string()
    } else {
        parts.join(", ")
    })
}

/// Why a system cannot be listed although it may pass: the list keys a system on the
/// firmware's DMI vendor and product, and `s` has neither.
pub fn unkeyed_system_reason(s: &SystemEntry) -> Option<String> {
    unkeyed_system_name(s)?;
    let what = if s.hypervisor.is_some() {
        "a virtual machine's firmware"
    } else if s.device_tree_model.is_some() {
        "a device-tree board's firmware"
    } else {
        "the firmware"
    };
    Some(format!(
        "it cannot be listed as a system: {what} gives no DMI system vendor and product \
         (sys/class/dmi/id, the SMBIOS table), which are the list's key for a system; its PCI \
         functions are listed on their own IDs"
    ))
}

/// A one-line name for an entry: "Inspur NF5280M5", "Broadcom MegaRAID 9560-16i [1000:10e2]".
pub fn title(e: &HclEntry) -> String {
    match e {
        HclEntry::System(s) => unkeyed_system_name(s).unwrap_or_else(|| {
            [s.vendor.as_deref(), s.product.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        HclEntry::Pci(p) => {
            let name = p
                .subsystem_name
                .as_deref()
                .or(p.device_name.as_deref())
                .unwrap_or("PCI device");
            format!(
                "{} {name} [{}:{}]",
                p.vendor_name.as_deref().unwrap_or(""),
                p.vendor_id.as_deref().unwrap_or("?"),
                p.device_id.as_deref().unwrap_or("?")
            )
            .trim()
            .to_string()
        }
    }
}
