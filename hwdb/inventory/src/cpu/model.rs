//! The CPU section's model: the public types the probe fills, and the few constants and the
//! CPU set type every file of the probe shares.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// CPU numbers at or above this are refused as implausible (Linux's NR_CPUS tops out at 8192).
pub const MAX_CPUS: u32 = 1 << 16;

pub(super) const SYS_CPU: &str = "sys/devices/system/cpu";
pub(super) const SYS_NODE: &str = "sys/devices/system/node";

pub(super) type CpuSet = BTreeSet<u32>;

/// The CPU section of the inventory.
///
/// On machines with several core types (ARM big.LITTLE) the per-type fields (model name,
/// family, model, stepping, threads/cores/sockets, MHz) describe the first type, the one lscpu
/// prints first; [`Cpu::core_types`] lists every type. A count lscpu would print as 0 (the
/// tree has nothing to count it from) is absent here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    /// The tree's architecture (uname -m spelling: x86_64, aarch64, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// lscpu "CPU op-mode(s)": "32-bit, 64-bit".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_modes: Option<String>,
    /// lscpu "Address sizes": "46 bits physical, 48 bits virtual".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_sizes: Option<String>,
    /// lscpu "Byte Order" from `sys/kernel/cpu_byteorder`: "Little Endian" or "Big Endian".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_order: Option<String>,
    /// lscpu "Vendor ID" (decoded implementer name on ARM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// lscpu "Model name" (decoded part name on ARM); absent where lscpu prints "-".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// lscpu "CPU family".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// lscpu "Model": the revision where the CPU has one (ARM, POWER, LoongArch), else model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// lscpu "Stepping" ("rXpY" on ARM Ltd. cores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stepping: Option<String>,
    /// lscpu "Microcode version".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microcode: Option<String>,
    /// lscpu "BogoMIPS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bogomips: Option<String>,
    /// lscpu "CPU dynamic MHz" (s390).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_mhz: Option<String>,
    /// lscpu "CPU static MHz" (s390).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_mhz: Option<String>,
    /// lscpu "Machine type" (s390).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<String>,
    /// lscpu "ISA" (RISC-V).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isa: Option<String>,
    /// lscpu "CPU(s)": the number of present CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
    /// lscpu "On-line CPU(s) list", list syntax ("0-5,48-53").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<String>,
    /// lscpu "Off-line CPU(s) list": present CPUs that are not on-line, only when some are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline: Option<String>,
    /// lscpu "Thread(s) per core".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads_per_core: Option<u32>,
    /// lscpu "Core(s) per socket".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores_per_socket: Option<u32>,
    /// lscpu "Socket(s)" (absent where lscpu counts books instead, s390).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sockets: Option<u32>,
    /// lscpu "Socket(s) per book" (s390).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets_per_book: Option<u32>,
    /// lscpu "Book(s) per drawer" (s390).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub books_per_drawer: Option<u32>,
    /// lscpu "Book(s)" (s390 without drawers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub books: Option<u32>,
    /// lscpu "Drawer(s)" (s390).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawers: Option<u32>,
    /// lscpu "Core(s) per cluster": live aarch64 without an ACPI PPTT, where the kernel's
    /// "package" is a cluster, not a socket (then `cores_per_socket` and `sockets` are absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_per_cluster: Option<u32>,
    /// lscpu "Cluster(s)" (see `cores_per_cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<u32>,
    /// lscpu "NUMA node(s)" and each node's CPUs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numa_nodes: Vec<NumaNode>,
    /// lscpu's cache lines ("L1d cache: 1.5 MiB (48 instances)").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caches: Vec<Cache>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// lscpu "CPU min MHz" (cpufreq `cpuinfo_min_freq`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_mhz: Option<f64>,
    /// lscpu "CPU max MHz" (cpufreq `cpuinfo_max_freq`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mhz: Option<f64>,
    /// lscpu "Frequency boost" (cpufreq `boost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_boost: Option<bool>,
    /// lscpu "Virtualization": "VT-x" or "AMD-V".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualization: Option<String>,
    /// lscpu "Hypervisor vendor": "KVM", "VMware", "pHyp", "IBM", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    /// lscpu "Hypervisor": the hypervisor's own name where known ("z/VM 6.1.0", "PR/SM").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervisor_name: Option<String>,
    /// lscpu "Virtualization type": "full", "para", "container" or "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualization_type: Option<String>,
    /// lscpu "Dispatching mode" (s390): "horizontal" or "vertical".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatching_mode: Option<String>,
    /// lscpu's "Vulnerability ..." lines, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    /// The x86-64 psABI micro-architecture level ("v1".."v4") the flags reach, on x86_64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x86_64_level: Option<String>,
    /// Every kind of core, when the machine has more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub core_types: Vec<CoreType>,
    /// One entry per present CPU with its physical ids (as `lscpu -p --physical`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology: Vec<CpuTopology>,
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
    /// lscpu's name: L1d, L1i, L2, L3 (L2d/L2i where the level is split).
    pub name: String,
    pub level: u32,
    /// The kernel's type: Data, Instruction or Unified.
    #[serde(rename = "type")]
    pub kind: String,
    /// Total size over all instances.
    pub size_bytes: u64,
    pub instances: u32,
    /// Known only from `/proc/cpuinfo` (s390 shared caches): one cache of that size whose
    /// sharing is unknown; lscpu prints it without an instance count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_cpuinfo: bool,
}

/// One CPU vulnerability and the kernel's status text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// lscpu's display name ("Spec store bypass").
    pub name: String,
    /// lscpu's text ("Mitigation; ...").
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
    /// "performance" or "efficiency" where the kernel says so (hybrid x86).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stepping: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_per_core: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_per_socket: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_mhz: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mhz: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bogomips: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// One CPU's place in the machine, with the kernel's physical ids (negative where the kernel
/// says "none", absent where it says nothing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuTopology {
    pub cpu: u32,
    pub online: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
}
