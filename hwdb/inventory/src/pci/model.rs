//! The PCI data of the inventory: one [`PciDevice`] per function.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
    /// Where each identity and link field came from: a sysfs attribute, or config space where
    /// the attribute is missing (older kernels have no `revision`). Absent fields have none;
    /// absent altogether in documents written before sources were recorded.
    #[serde(default, skip_serializing_if = "PciSources::is_empty")]
    pub sources: PciSources,
    /// Header fields (IDs, class, revision) that sysfs and config space both give, with
    /// different values: sysfs's is the one used (the kernel's quirks correct some devices'
    /// class, revision or subsystem IDs; a firmware update changes the revision until a rescan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<PciDisagreement>,
}

/// Where a field's value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldSource {
    /// A sysfs attribute of the function (`revision`, `class`, `uevent`, `current_link_speed`…).
    Sysfs,
    /// The function's configuration space (its `config` file), as lspci reads it.
    Config,
}

/// The source of each field of [`PciDevice`] (and of its [`PciLink`]) that has a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PciSources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_id: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_device_id: Option<FieldSource>,
    /// Also the source of `prog_if`, its last byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<FieldSource>,
    /// `link.current_speed` (and `current_gts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_current_speed: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_current_width: Option<FieldSource>,
    /// `link.max_speed` (and `max_gts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_max_speed: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_max_width: Option<FieldSource>,
}

impl PciSources {
    pub fn is_empty(&self) -> bool {
        *self == PciSources::default()
    }

    /// The fields read from config space, by their names in [`PciSources`].
    pub fn from_config(&self) -> Vec<&'static str> {
        [
            ("vendor_id", self.vendor_id),
            ("device_id", self.device_id),
            ("subsystem_vendor_id", self.subsystem_vendor_id),
            ("subsystem_device_id", self.subsystem_device_id),
            ("class_id", self.class_id),
            ("revision", self.revision),
            ("link_current_speed", self.link_current_speed),
            ("link_current_width", self.link_current_width),
            ("link_max_speed", self.link_max_speed),
            ("link_max_width", self.link_max_width),
        ]
        .into_iter()
        .filter(|(_, s)| *s == Some(FieldSource::Config))
        .map(|(n, _)| n)
        .collect()
    }
}

/// A field that sysfs and config space give differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PciDisagreement {
    /// The field's name in [`PciSources`] ("revision", "class_id").
    pub field: String,
    /// sysfs's value (the one used), as the field writes it ("01", "020000").
    pub sysfs: String,
    /// What config space says.
    pub config: String,
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
