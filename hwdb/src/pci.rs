//! PCI functions under sys/bus/pci/devices, named from the embedded pci-ids database.

use serde::{Deserialize, Serialize};

use crate::sysroot::Sysroot;

/// One PCI function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PciDevice {
    /// With domain: "0000:00:02.0".
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prog_if: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsystem_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numa_node: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iommu_group: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<PciLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sriov_totalvfs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// PCIe link state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PciLink {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_speed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_speed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
}

/// Probe every PCI function. `kernel` is the release, for lib/modules/<kernel>/modules.alias.
pub fn probe(sys: &Sysroot, kernel: Option<&str>) -> Vec<PciDevice> {
    let _ = (sys, kernel);
    Vec::new()
}

/// The version line of the embedded pci-ids database, when known.
pub fn database_version() -> Option<String> {
    None
}
