//! Processors, every number with lscpu's meaning (util-linux `lscpu` is the reference).

use serde::{Deserialize, Serialize};

use crate::sysroot::Sysroot;

/// The CPU section of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stepping: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads_per_core: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores_per_socket: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sockets: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numa_nodes: Vec<NumaNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caches: Vec<Cache>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_mhz: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mhz: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x86_64_level: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub core_types: Vec<CoreType>,
}

/// One NUMA node and its CPUs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NumaNode {
    pub id: u32,
    /// CPU list syntax ("0-5,48-53").
    pub cpus: String,
}

/// One cache level/type, summed over the machine as lscpu does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cache {
    /// lscpu's name: L1d, L1i, L2, L3.
    pub name: String,
    pub level: u32,
    #[serde(rename = "type")]
    pub kind: String,
    /// Total size over all instances.
    pub size_bytes: u64,
    pub instances: u32,
}

/// One CPU vulnerability and the kernel's status text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    pub name: String,
    pub status: String,
}

/// One kind of core on machines with several (big.LITTLE, hybrid x86).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoreType {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// CPU list syntax.
    pub cpus: String,
}

/// Probe the processors. `arch` is the host architecture from [`crate::host`].
pub fn probe(sys: &Sysroot, arch: Option<&str>) -> Cpu {
    let _ = (sys, arch);
    Cpu::default()
}

/// The architecture the tree's own evidence shows.
pub fn detect_arch(sys: &Sysroot) -> Option<String> {
    let _ = sys;
    None
}
