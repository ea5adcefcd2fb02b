//! Processors, every number with lscpu's meaning (util-linux `lscpu` is the reference).
//!
//! The probe follows what `lscpu --sysroot` does with a tree (util-linux 2.40/2.41):
//!
//! * CPU numbers come from `sys/devices/system/cpu/{possible,present,online}`: "CPU(s)" is the
//!   number of present CPUs, the off-line list is the present CPUs that are not on-line.
//! * `/proc/cpuinfo` is cut into CPU types the way lscpu cuts it: a field seen twice starts a
//!   new type, types equal in vendor, model, model name and stepping are merged, the types are
//!   sorted by those raw fields and the first one is the default ("Vendor ID"). CPUs that
//!   cpuinfo does not describe (off-line ones) get the default type.
//! * Topology is counted per type from the sysfs sibling masks of the fully on-line CPUs:
//!   threads per core is the largest `thread_siblings`, cores and sockets are the distinct
//!   `thread_siblings` and `core_siblings` masks, books and drawers likewise (s390), and
//!   `/proc/sysinfo`'s "CPU Topology SW" replaces the counts on s390 LPARs.
//! * Caches are the sysfs `cache/indexN` directories, one instance per (type, level, id) -- the
//!   id from the `id` file or, without it, from `shared_cpu_map` -- summed per name; shared
//!   caches that only `/proc/cpuinfo` knows (s390) are listed without an instance count.
//! * On ARM the MIDR implementer and part numbers are decoded with [`crate::arm`].
//!
//! Nothing here trusts a file: missing optional files are silent, garbage leaves a warning in
//! the [`Sysroot`], absurd CPU numbers (beyond [`MAX_CPUS`]) are refused, and no value can
//! make the probe panic or divide by zero.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::arm;
use hwsys::sysroot::{format_cpu_list, Sysroot};

/// CPU numbers at or above this are refused as implausible (Linux's NR_CPUS tops out at 8192).
pub const MAX_CPUS: u32 = 1 << 16;

const SYS_CPU: &str = "sys/devices/system/cpu";
const SYS_NODE: &str = "sys/devices/system/node";

type CpuSet = BTreeSet<u32>;

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

// ---------------------------------------------------------------------------------------------
// /proc/cpuinfo

/// The fields of a CPU type, as lscpu's type patterns fill them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Vendor,
    Model,
    ModelName,
    Stepping,
    Revision,
    Family,
    Bogomips,
    Flags,
    Mtid,
    AddrSize,
    Microcode,
    Isa,
    Mmu,
}

/// lscpu's cpuinfo field names for type data (exact, case-sensitive).
fn type_field(key: &str) -> Option<Field> {
    use Field::*;
    Some(match key {
        "ASEs implemented" => Flags,
        "Address Sizes" => AddrSize,
        "BogoMIPS" => Bogomips,
        "CPU Family" => Family,
        "CPU Revision" => Revision,
        "CPU implementer" => Vendor,
        "CPU part" => Model,
        "CPU revision" => Revision,
        "CPU variant" => Stepping,
        "Features" => Flags,
        "ISA" => Isa,
        "Model Name" => ModelName,
        "address sizes" => AddrSize,
        "bogomips per cpu" => Bogomips,
        "cpu" => ModelName,
        "cpu family" => Family,
        "cpu model" => Model,
        "family" => Family,
        "features" => Flags,
        "flags" => Flags,
        "isa" => Isa,
        "marchid" => Family,
        "max thread id" => Mtid,
        "microcode" => Microcode,
        "mimpid" => Model,
        "mmu" => Mmu,
        "model" => Model,
        "model name" => ModelName,
        "mvendorid" => Vendor,
        "revision" => Revision,
        "stepping" => Stepping,
        "type" => Flags,
        "uarch" => ModelName,
        "vendor" => Vendor,
        "vendor_id" => Vendor,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CpuLine {
    Processor,
    Mhz,
    MhzDynamic,
    MhzStatic,
    Bogomips,
}

fn cpu_field(key: &str) -> Option<CpuLine> {
    Some(match key {
        "CPU MHz" | "cpu MHz" => CpuLine::Mhz,
        "bogomips" => CpuLine::Bogomips,
        "cpu MHz dynamic" => CpuLine::MhzDynamic,
        "cpu MHz static" => CpuLine::MhzStatic,
        "cpu number" | "processor" => CpuLine::Processor,
        _ => return None,
    })
}

/// One CPU type as cpuinfo describes it (raw, before ARM decoding).
#[derive(Debug, Clone, Default, PartialEq)]
struct RawType {
    vendor: Option<String>,
    model: Option<String>,
    modelname: Option<String>,
    stepping: Option<String>,
    revision: Option<String>,
    family: Option<String>,
    bogomips: Option<String>,
    flags: Option<String>,
    mtid: Option<String>,
    addrsz: Option<String>,
    microcode: Option<String>,
    isa: Option<String>,
    mmu: Option<String>,
    dynamic_mhz: Option<String>,
    static_mhz: Option<String>,
}

impl RawType {
    fn slot(&mut self, f: Field) -> &mut Option<String> {
        match f {
            Field::Vendor => &mut self.vendor,
            Field::Model => &mut self.model,
            Field::ModelName => &mut self.modelname,
            Field::Stepping => &mut self.stepping,
            Field::Revision => &mut self.revision,
            Field::Family => &mut self.family,
            Field::Bogomips => &mut self.bogomips,
            Field::Flags => &mut self.flags,
            Field::Mtid => &mut self.mtid,
            Field::AddrSize => &mut self.addrsz,
            Field::Microcode => &mut self.microcode,
            Field::Isa => &mut self.isa,
            Field::Mmu => &mut self.mmu,
        }
    }

    fn get(&self, f: Field) -> Option<&str> {
        match f {
            Field::Vendor => self.vendor.as_deref(),
            Field::Model => self.model.as_deref(),
            Field::ModelName => self.modelname.as_deref(),
            Field::Stepping => self.stepping.as_deref(),
            Field::Revision => self.revision.as_deref(),
            Field::Family => self.family.as_deref(),
            Field::Bogomips => self.bogomips.as_deref(),
            Field::Flags => self.flags.as_deref(),
            Field::Mtid => self.mtid.as_deref(),
            Field::AddrSize => self.addrsz.as_deref(),
            Field::Microcode => self.microcode.as_deref(),
            Field::Isa => self.isa.as_deref(),
            Field::Mmu => self.mmu.as_deref(),
        }
    }

    /// lscpu's "Model": the revision where there is one.
    fn lscpu_model(&self) -> Option<String> {
        self.revision.clone().or_else(|| self.model.clone())
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags
            .as_deref()
            .is_some_and(|f| f.split_whitespace().any(|x| x == flag))
    }
}

/// lscpu's order of CPU types: vendor, model, model name, stepping; a missing field first.
fn cmp_types(a: &RawType, b: &RawType) -> Ordering {
    for f in [
        Field::Vendor,
        Field::Model,
        Field::ModelName,
        Field::Stepping,
    ] {
        let o = a.get(f).cmp(&b.get(f));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A cache as lscpu keeps it (one instance).
#[derive(Debug, Clone, PartialEq)]
struct CacheEntry {
    name: String,
    kind: String,
    level: i64,
    id: i64,
    size: u64,
    shared: Option<CpuSet>,
}

#[derive(Debug, Default)]
struct Cpuinfo {
    types: Vec<RawType>,
    /// CPU number -> index in `types`.
    assigned: BTreeMap<u32, usize>,
    /// Caches only cpuinfo knows (s390 "cache<N> :" lines with a shared scope).
    ecaches: Vec<CacheEntry>,
    /// Every "processor" number met, possible or not.
    processors: Vec<u32>,
    /// The text described more CPU types than any machine has ([`MAX_TYPES`]); the rest was
    /// not read.
    truncated: bool,
}

/// More type blocks than this in /proc/cpuinfo is garbage (one block per CPU at most).
const MAX_TYPES: usize = MAX_CPUS as usize;

/// Split "processor 5" into ("processor", Some(5)), as lscpu's key_cleanup does.
fn key_cleanup(key: &str) -> (&str, Option<u32>) {
    let k = key.trim_end();
    let digits = k.len() - k.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return (k, None);
    }
    let (head, num) = k.split_at(k.len() - digits);
    match num.parse::<u32>() {
        Ok(n) => (head.trim_end(), Some(n)),
        Err(_) => (k, None),
    }
}

fn parse_cpuinfo(text: &str, possible: &CpuSet) -> Cpuinfo {
    let mut out = Cpuinfo::default();
    let mut curr_cpu: Option<u32> = None;
    let mut curr_type: Option<usize> = None;
    for line in text.lines() {
        let p = line.trim();
        if p.is_empty() {
            continue;
        }
        let Some((k, v)) = p.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let (key, keynum) = key_cleanup(k);
        if let Some(field) = type_field(key) {
            // A field this type already has starts a new type; lscpu never overwrites.
            if let Some(t) = curr_type {
                if out.types.get(t).is_some_and(|ty| ty.get(field).is_some()) {
                    curr_type = None;
                }
            }
            let t = match curr_type {
                Some(t) => t,
                None if out.types.len() >= MAX_TYPES => {
                    out.truncated = true;
                    break;
                }
                None => {
                    out.types.push(RawType::default());
                    out.types.len() - 1
                }
            };
            curr_type = Some(t);
            if let Some(ty) = out.types.get_mut(t) {
                *ty.slot(field) = Some(v.to_string());
            }
        } else if let Some(cl) = cpu_field(key) {
            let ty = curr_type.and_then(|t| out.types.get_mut(t));
            match cl {
                CpuLine::Processor => {
                    let id = keynum.or_else(|| v.parse::<u32>().ok()).unwrap_or(0);
                    if let (Some(c), Some(t)) = (curr_cpu, curr_type) {
                        out.assigned.insert(c, t);
                    }
                    out.processors.push(id);
                    curr_cpu = possible.contains(&id).then_some(id);
                }
                CpuLine::Mhz => {}
                CpuLine::MhzDynamic => {
                    if let Some(ty) = ty {
                        ty.dynamic_mhz.get_or_insert_with(|| v.to_string());
                    }
                }
                CpuLine::MhzStatic => {
                    if let Some(ty) = ty {
                        ty.static_mhz.get_or_insert_with(|| v.to_string());
                    }
                }
                CpuLine::Bogomips => {
                    if let Some(ty) = ty {
                        ty.bogomips.get_or_insert_with(|| v.to_string());
                    }
                }
            }
        } else if key == "cache" {
            if let Some(c) = parse_cpuinfo_cache(v) {
                out.ecaches.push(c);
            }
        }
    }
    if let (Some(c), Some(t)) = (curr_cpu, curr_type) {
        out.assigned.entry(c).or_insert(t);
    }
    out.ecaches.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The number right after `key` in `data` ("size=128K" -> 128), as sscanf("%d") reads it.
fn number_after(data: &str, key: &str) -> Option<i64> {
    let rest = &data[data.find(key)? + key.len()..];
    let (neg, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest.strip_prefix('+').unwrap_or(rest)),
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: i64 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// s390 "cache3 : level=3 type=Unified scope=Shared size=65536K line_size=256
/// associativity=16": only shared caches, the private ones are in sysfs.
fn parse_cpuinfo_cache(data: &str) -> Option<CacheEntry> {
    let scope = &data[data.find("scope=")? + 6..];
    if scope.starts_with("Private") {
        return None;
    }
    let level = number_after(data, "level=")?;
    let kind = &data[data.find("type=")? + 5..];
    let (letter, kind) = if kind.starts_with("Data") {
        ("d", "Data")
    } else if kind.starts_with("Instruction") {
        ("i", "Instruction")
    } else if kind.starts_with("Unified") {
        ("", "Unified")
    } else {
        ("", "")
    };
    let size = number_after(data, "size=")?;
    number_after(data, "line_size=")?;
    number_after(data, "associativity=")?;
    if !(0..=1_000).contains(&level) || size < 0 {
        return None;
    }
    Some(CacheEntry {
        name: format!("L{level}{letter}"),
        kind: kind.to_string(),
        level,
        id: 0,
        size: (size as u64).saturating_mul(1024),
        shared: None,
    })
}

/// Merge equal types and order them as lscpu does; CPUs follow their type.
fn dedupe_types(types: Vec<RawType>, assigned: &mut BTreeMap<u32, usize>) -> Vec<RawType> {
    let mut order: Vec<usize> = (0..types.len()).collect();
    order.sort_by(|&a, &b| cmp_types(&types[a], &types[b]));
    let mut out: Vec<RawType> = Vec::new();
    let mut remap = vec![0usize; types.len()];
    for &i in &order {
        if let Some(last) = out.last() {
            if cmp_types(last, &types[i]) == Ordering::Equal {
                remap[i] = out.len() - 1;
                continue;
            }
        }
        out.push(types[i].clone());
        remap[i] = out.len() - 1;
    }
    // POWER prints global lines after the last CPU: the first of two types is then only a
    // subset of the second, and lscpu keeps the second.
    if out.len() == 2 {
        let subset = [
            Field::Model,
            Field::ModelName,
            Field::Vendor,
            Field::Bogomips,
            Field::Revision,
        ]
        .iter()
        .all(|&f| match out[0].get(f) {
            None => true,
            Some(v) => out[1].get(f) == Some(v),
        });
        if subset {
            out.remove(0);
            for r in remap.iter_mut() {
                *r = 0;
            }
        }
    }
    for t in assigned.values_mut() {
        *t = remap.get(*t).copied().unwrap_or(0);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// CPU lists and masks

/// Parse a kernel CPU list ("0-5,48-53", "0-31:2/4") refusing numbers >= [`MAX_CPUS`].
fn parse_list_capped(s: &str) -> Result<CpuSet, String> {
    let mut out = CpuSet::new();
    let s = s.trim();
    if s.is_empty() {
        return Ok(out);
    }
    let num = |x: &str| -> Result<u32, String> {
        let x = x.trim();
        let n: u32 = x
            .parse()
            .map_err(|_| format!("'{}' is not a CPU number", hwsys::sysroot::shorten(x)))?;
        if n >= MAX_CPUS {
            return Err(format!("CPU number {n} is implausible"));
        }
        Ok(n)
    };
    // Repeated huge ranges ("0-65535,0-65535,...") must not turn into minutes of work.
    let mut budget: u64 = 4 * u64::from(MAX_CPUS);
    for part in s.split(',') {
        let part = part.trim();
        let (range, group) = match part.split_once(':') {
            Some((r, g)) => {
                let (used, size) = match g.split_once('/') {
                    Some((u, z)) => (num(u)?, num(z)?),
                    None => (1, num(g)?), // lscpu's own "0-62:2" stride notation
                };
                if used == 0 || size == 0 {
                    return Err(format!("bad group '{}'", hwsys::sysroot::shorten(part)));
                }
                (r, Some((used, size)))
            }
            None => (part, None),
        };
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let v = num(range)?;
                (v, v)
            }
        };
        if a > b {
            return Err(format!("bad range '{}'", hwsys::sysroot::shorten(part)));
        }
        budget = budget
            .checked_sub(u64::from(b - a) + 1)
            .ok_or_else(|| "the list is implausibly long".to_string())?;
        match group {
            None => out.extend(a..=b),
            Some((used, size)) => {
                let mut start = a;
                while start <= b {
                    let end = start.saturating_add(used - 1).min(b);
                    out.extend(start..=end);
                    match start.checked_add(size) {
                        Some(n) => start = n,
                        None => break,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Parse a kernel cpumask ("ff,ffffffff"), refusing masks wider than [`MAX_CPUS`] bits.
fn parse_mask_capped(s: &str) -> Result<CpuSet, String> {
    let words: Vec<&str> = s.trim().split(',').collect();
    if words.len() > (MAX_CPUS / 32) as usize {
        return Err(format!("a mask of {} words is implausible", words.len()));
    }
    let mut out = CpuSet::new();
    for (wi, w) in words.iter().rev().enumerate() {
        let w = w.trim();
        if w.is_empty() || w.len() > 8 {
            return Err(format!(
                "'{}' is not a CPU mask",
                hwsys::sysroot::shorten(s)
            ));
        }
        let v = u32::from_str_radix(w, 16)
            .map_err(|_| format!("'{}' is not a CPU mask", hwsys::sysroot::shorten(s)))?;
        for bit in 0..32u32 {
            if v & (1 << bit) != 0 {
                out.insert(wi as u32 * 32 + bit);
            }
        }
    }
    Ok(out)
}

fn read_list(sys: &Sysroot, rel: &str, required: bool) -> Option<CpuSet> {
    let text = if required {
        sys.read_required(rel)?
    } else {
        sys.read(rel)?
    };
    match parse_list_capped(&text) {
        Ok(s) => Some(s),
        Err(e) => {
            sys.warn(rel, e);
            None
        }
    }
}

fn read_mask(sys: &Sysroot, rel: &str) -> Option<CpuSet> {
    let text = sys.attr(rel)?;
    match parse_mask_capped(&text) {
        Ok(s) => Some(s),
        Err(e) => {
            sys.warn(rel, e);
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Per-CPU data

#[derive(Debug, Clone, Default)]
struct CpuEntry {
    id: u32,
    /// Index into the (deduplicated) types.
    ty: usize,
    /// The type came from cpuinfo or the MIDR register, not from the default.
    described: bool,
    present: bool,
    online: bool,
    /// Sibling masks, read only for CPUs with a topology directory that are fully on-line.
    thread_siblings: Option<CpuSet>,
    core_siblings: Option<CpuSet>,
    book_siblings: Option<CpuSet>,
    drawer_siblings: Option<CpuSet>,
    has_topology: bool,
    core_id: Option<i64>,
    socket_id: Option<i64>,
    book_id: Option<i64>,
    drawer_id: Option<i64>,
    max_khz: Option<u64>,
    min_khz: Option<u64>,
}

/// lscpu's topology numbers for a set of CPUs (one type).
#[derive(Debug, Clone, Default, PartialEq)]
struct Topo {
    threads_per_core: u32,
    ncores: u32,
    nsockets: u32,
    nbooks: u32,
    ndrawers: u32,
    cores_per_socket: u32,
    sockets_per_book: u32,
    books_per_drawer: u32,
    drawers_per_system: u32,
}

/// Distinct sibling masks, counted as lscpu's add_cpuset_to_array does: a mask that shares a
/// CPU with one already counted is the same core (socket, book, drawer). Sharing a CPU with
/// any counted mask is sharing one with their union, which keeps this linear.
#[derive(Default)]
struct Distinct {
    count: u32,
    seen: CpuSet,
}

impl Distinct {
    fn add(&mut self, set: &CpuSet) {
        if self.seen.is_disjoint(set) {
            self.count += 1;
            self.seen.extend(set.iter().copied());
        }
    }
}

fn div(a: u32, b: u32) -> u32 {
    a.checked_div(b).unwrap_or(0)
}

/// "CPU Topology SW: 0 0 0 4 6 4" from /proc/sysinfo: drawers, books per drawer, sockets per
/// book, cores per socket.
fn sysinfo_topology(sysinfo: &str) -> Option<[u32; 4]> {
    for line in sysinfo.lines() {
        let Some(rest) = line.strip_prefix("CPU Topology SW:") else {
            continue;
        };
        let nums: Vec<i64> = rest
            .split_whitespace()
            .map_while(|w| w.parse::<i64>().ok())
            .collect();
        if nums.len() >= 6 {
            let c = |i: usize| {
                nums.get(i)
                    .and_then(|&v| u32::try_from(v).ok())
                    .unwrap_or(0)
                    .min(MAX_CPUS)
            };
            return Some([c(2), c(3), c(4), c(5)]);
        }
    }
    None
}

fn topology_of<'a>(
    cpus: impl Iterator<Item = &'a CpuEntry>,
    sw: Option<[u32; 4]>,
    mtid: Option<&str>,
) -> Topo {
    let mut cores = Distinct::default();
    let mut sockets = Distinct::default();
    let mut books = Distinct::default();
    let mut drawers = Distinct::default();
    let mut nthreads = 0u32;
    for c in cpus.filter(|c| c.has_topology) {
        let n = c
            .thread_siblings
            .as_ref()
            .map(|s| s.len() as u32)
            .unwrap_or(0)
            .max(1);
        nthreads = nthreads.max(n);
        if let Some(s) = &c.thread_siblings {
            cores.add(s);
        }
        if let Some(s) = &c.core_siblings {
            sockets.add(s);
        }
        if let Some(s) = &c.book_siblings {
            books.add(s);
        }
        if let Some(s) = &c.drawer_siblings {
            drawers.add(s);
        }
    }
    let mut t = Topo {
        threads_per_core: nthreads,
        ncores: cores.count,
        nsockets: sockets.count,
        nbooks: books.count,
        ndrawers: drawers.count,
        ..Topo::default()
    };
    if let Some(m) = mtid.and_then(|m| m.trim().parse::<u32>().ok()) {
        t.threads_per_core = m.saturating_add(1).min(MAX_CPUS);
    }
    match sw {
        Some([d, b, s, c]) => {
            t.drawers_per_system = d;
            t.books_per_drawer = b;
            t.sockets_per_book = s;
            t.cores_per_socket = c;
        }
        None => {
            t.cores_per_socket = div(t.ncores, t.nsockets);
            t.sockets_per_book = div(t.nsockets, t.nbooks);
            t.books_per_drawer = div(t.nbooks, t.ndrawers);
            t.drawers_per_system = t.ndrawers;
        }
    }
    t
}

/// The number in `hotplug/states` of the "online" state (lscpu's get_online_state).
fn online_state(states: &str) -> Option<i64> {
    let i = states.find(": online")?;
    let head = &states[..i];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

/// "32K", "1024K", "8M" as the kernel writes cache sizes (lscpu's parse_size).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let suffix = s[digits.len()..].trim();
    let (letter, rest) = match suffix.chars().next() {
        None => return Some(n),
        Some(c) => (c.to_ascii_uppercase(), &suffix[c.len_utf8()..]),
    };
    let exp = "KMGTPE".find(letter)? as u32 + 1;
    let base: u64 = match rest {
        "" | "iB" => 1024,
        "B" => 1000,
        _ => return None,
    };
    n.checked_mul(base.checked_pow(exp)?)
}

/// The caches met so far, indexed as lscpu identifies them: by (type, level, id), and -- for
/// kernels without `id` files -- by the position among caches of the same type and level of
/// the first one whose `shared_cpu_map` holds a CPU (lscpu's mk_cache_id).
#[derive(Debug, Default)]
struct Caches {
    list: Vec<CacheEntry>,
    by_key: HashMap<(String, i64, i64), usize>,
    /// (type, level) -> (caches of that type and level, CPU -> first such cache holding it).
    groups: HashMap<(String, i64), (i64, BTreeMap<u32, i64>)>,
    /// Position of each cache of `list` within its (type, level) group.
    ordinal: Vec<i64>,
}

impl Caches {
    fn mk_id(&self, cpu: u32, kind: &str, level: i64) -> i64 {
        match self.groups.get(&(kind.to_string(), level)) {
            Some((count, first)) => first.get(&cpu).copied().unwrap_or(*count),
            None => 0,
        }
    }

    /// The position of the (type, level, id) cache, added with `size()` when new.
    fn get_or_add(&mut self, kind: &str, level: i64, id: i64, size: impl FnOnce() -> u64) -> usize {
        let key = (kind.to_string(), level, id);
        if let Some(&p) = self.by_key.get(&key) {
            return p;
        }
        let group = self.groups.entry((kind.to_string(), level)).or_default();
        self.ordinal.push(group.0);
        group.0 += 1;
        self.list.push(CacheEntry {
            name: cache_name(level, kind),
            kind: kind.to_string(),
            level,
            id,
            size: size(),
            shared: None,
        });
        let p = self.list.len() - 1;
        self.by_key.insert(key, p);
        p
    }

    fn has_shared(&self, pos: usize) -> bool {
        self.list.get(pos).is_some_and(|c| c.shared.is_some())
    }

    fn set_shared(&mut self, pos: usize, set: CpuSet) {
        let (Some(c), Some(&ord)) = (self.list.get_mut(pos), self.ordinal.get(pos)) else {
            return;
        };
        if let Some((_, first)) = self.groups.get_mut(&(c.kind.clone(), c.level)) {
            for &cpu in &set {
                let e = first.entry(cpu).or_insert(ord);
                *e = (*e).min(ord);
            }
        }
        c.shared = Some(set);
    }
}

fn cache_name(level: i64, kind: &str) -> String {
    match kind {
        "Data" => format!("L{level}d"),
        "Instruction" => format!("L{level}i"),
        _ => format!("L{level}"),
    }
}

/// The sysfs caches of one CPU, merged into `caches` as lscpu's read_caches does.
fn read_caches(sys: &Sysroot, cpu: u32, caches: &mut Caches) {
    let base = format!("{SYS_CPU}/cpu{cpu}");
    if !sys.is_dir(&base) {
        return;
    }
    let mut n = 0usize;
    while n < 64 && sys.is_dir(&format!("{base}/cache/index{n}")) {
        n += 1;
    }
    if n == 0 {
        if sys.exists(&format!("{base}/l1_icache_size")) {
            read_sparc_caches(sys, cpu, caches);
        }
        return;
    }
    for i in 0..n {
        let dir = format!("{base}/cache/index{i}");
        let id = sys.parse::<i64>(&format!("{dir}/id"));
        let Some(level) = sys.parse::<i64>(&format!("{dir}/level")) else {
            continue;
        };
        let Some(kind) = sys.attr(&format!("{dir}/type")) else {
            continue;
        };
        if !(0..=1_000).contains(&level) {
            sys.warn(
                &format!("{dir}/level"),
                format!("cache level {level} is implausible"),
            );
            continue;
        }
        let id = id.unwrap_or_else(|| caches.mk_id(cpu, &kind, level));
        let pos = caches.get_or_add(&kind, level, id, || {
            match sys.attr(&format!("{dir}/size")) {
                Some(s) => parse_size(&s).unwrap_or_else(|| {
                    sys.warn(
                        &format!("{dir}/size"),
                        format!("cannot parse '{}'", hwsys::sysroot::shorten(&s)),
                    );
                    0
                }),
                None => 0,
            }
        });
        if !caches.has_shared(pos) {
            if let Some(set) = read_mask(sys, &format!("{dir}/shared_cpu_map")) {
                caches.set_shared(pos, set);
            }
        }
    }
}

/// sparc64 has `l1_icache_size`-style files and no sharing information: lscpu counts every
/// cache as private to its CPU.
fn read_sparc_caches(sys: &Sysroot, cpu: u32, caches: &mut Caches) {
    let base = format!("{SYS_CPU}/cpu{cpu}");
    for (level, kind, file) in [
        (1, "Instruction", "l1_icache_size"),
        (1, "Data", "l1_dcache_size"),
        (2, "Unified", "l2_cache_size"),
    ] {
        let Some(size) = sys.parse::<u64>(&format!("{base}/{file}")) else {
            continue;
        };
        let id = caches.mk_id(cpu, kind, level);
        let pos = caches.get_or_add(kind, level, id, || size);
        if !caches.has_shared(pos) {
            caches.set_shared(pos, CpuSet::from([cpu]));
        }
    }
}

/// lscpu's summary of caches: one line per name, sizes summed, instances counted.
fn summarize_caches(caches: &[CacheEntry], ecaches: &[CacheEntry]) -> Vec<Cache> {
    let mut out: Vec<Cache> = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<&CacheEntry>> = BTreeMap::new();
    for c in caches {
        by_name.entry(c.name.as_str()).or_default().push(c);
    }
    for (name, list) in by_name {
        let size = list.iter().fold(0u64, |a, c| a.saturating_add(c.size));
        if size == 0 {
            continue;
        }
        let first = list.first().copied();
        out.push(Cache {
            name: name.to_string(),
            level: first.map_or(0, |c| c.level.clamp(0, 1_000) as u32),
            kind: first.map(|c| c.kind.clone()).unwrap_or_default(),
            size_bytes: size,
            instances: list.len() as u32,
            from_cpuinfo: false,
        });
    }
    for c in ecaches.iter().filter(|c| c.size != 0) {
        out.push(Cache {
            name: c.name.clone(),
            level: c.level.clamp(0, 1_000) as u32,
            kind: c.kind.clone(),
            size_bytes: c.size,
            instances: 1,
            from_cpuinfo: true,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Architecture

/// Whether `arch` is an ARM architecture name (aarch64, armv7l, ...).
fn is_arm_arch(arch: &str) -> bool {
    arch == "aarch64" || arch == "arm64" || arch.starts_with("arm")
}

fn is_x86_arch(arch: &str) -> bool {
    matches!(arch, "x86_64" | "amd64" | "i386" | "i486" | "i586" | "i686")
}

/// The first value of `key` in cpuinfo text ("key<spaces>: value").
fn cpuinfo_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key)
            .then(|| v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// The architecture from the tree's own evidence (never the running host's): the kernel's
/// `/proc/sys/kernel/arch`, else what `/proc/cpuinfo` and sysfs say. Spelled as `uname -m`.
///
/// POWER without `sys/kernel/cpu_byteorder` is taken as big-endian up to POWER7 and
/// little-endian from POWER8 on (the ppc64le distributions' floor).
pub fn detect_arch(sys: &Sysroot) -> Option<String> {
    if let Some(a) = sys.attr("proc/sys/kernel/arch") {
        if !a.is_empty() && a.len() < 32 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some(a);
        }
        sys.warn("proc/sys/kernel/arch", "not an architecture name");
    }
    let little = sys
        .attr("sys/kernel/cpu_byteorder")
        .map(|b| b.eq_ignore_ascii_case("little"));
    let Some(info) = sys.read("proc/cpuinfo") else {
        // Only arm64 kernels have MIDR registers in sysfs.
        return sys
            .exists(&format!("{SYS_CPU}/cpu0/regs/identification/midr_el1"))
            .then(|| "aarch64".to_string());
    };
    let v = |k: &str| cpuinfo_value(&info, k);
    let flag = |f: &str| {
        v("flags").is_some_and(|fl| fl.split_whitespace().any(|x| x == f))
            || v("features").is_some_and(|fl| fl.split_whitespace().any(|x| x == f))
    };
    // x86
    const X86_VENDORS: &[&str] = &[
        "GenuineIntel",
        "AuthenticAMD",
        "HygonGenuine",
        "CentaurHauls",
        "Shanghai",
        "GenuineTMx86",
        "CyrixInstead",
        "NexGenDriven",
        "UMC UMC UMC",
        "SiS SiS SiS",
        "Geode by NSC",
        "RiseRiseRise",
        "Vortex86 SoC",
        "GenuineIotel",
    ];
    if let Some(vendor) = v("vendor_id") {
        if vendor == "IBM/S390" {
            return Some(if flag("zarch") { "s390x" } else { "s390" }.to_string());
        }
        if X86_VENDORS.contains(&vendor) || v("flags").is_some_and(|f| f.contains("fpu")) {
            return Some(if flag("lm") { "x86_64" } else { "i686" }.to_string());
        }
    }
    // ARM
    if v("CPU implementer").is_some() || v("CPU architecture").is_some() {
        let archf = v("CPU architecture").unwrap_or("");
        let n: u32 = archf
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        let asimd = v("Features").is_some_and(|f| f.split_whitespace().any(|x| x == "asimd"));
        if n >= 8 || archf.eq_ignore_ascii_case("AArch64") || asimd {
            return Some("aarch64".to_string());
        }
        if n > 0 {
            return Some(format!("armv{n}l"));
        }
        return Some("armv7l".to_string());
    }
    // RISC-V, LoongArch, MIPS (lowercase "isa" on RISC-V and MIPS, "ISA" on LoongArch)
    if let Some(isa) = v("isa").or_else(|| v("ISA")) {
        let low = isa.to_ascii_lowercase();
        if low.starts_with("rv64") {
            return Some("riscv64".to_string());
        }
        if low.starts_with("rv32") {
            return Some("riscv32".to_string());
        }
        if low.split_whitespace().any(|w| w == "loongarch64") {
            return Some("loongarch64".to_string());
        }
        if low.split_whitespace().any(|w| w.starts_with("loongarch32")) {
            return Some("loongarch32".to_string());
        }
        if low.contains("mips64") {
            return Some("mips64".to_string());
        }
        if low.contains("mips") {
            return Some("mips".to_string());
        }
    }
    if v("CPU Family").is_some_and(|f| f.starts_with("Loongson-64")) {
        return Some("loongarch64".to_string());
    }
    // SPARC
    if let Some(t) = v("type") {
        if t == "sun4u" || t == "sun4v" {
            return Some("sparc64".to_string());
        }
    }
    if v("cpu").is_some_and(|c| c.to_ascii_lowercase().contains("sparc")) {
        return Some("sparc".to_string());
    }
    // POWER
    let ppc = v("revision").is_some_and(|r| r.contains("pvr"))
        || v("platform").is_some_and(|p| {
            ["pSeries", "PowerNV", "PowerMac", "CHRP", "PS3", "Cell"]
                .iter()
                .any(|x| p.contains(x))
        });
    if ppc {
        let cpu = v("cpu").unwrap_or("");
        let gen: Option<u32> = cpu.strip_prefix("POWER").and_then(|r| {
            r.chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .ok()
        });
        let is64 = gen.is_some()
            || ["PPC970", "Cell", "e5500", "e6500", "POWER"]
                .iter()
                .any(|p| cpu.starts_with(p));
        if !is64 {
            return Some("ppc".to_string());
        }
        let le = little.unwrap_or(gen.is_some_and(|g| g >= 8));
        return Some(if le { "ppc64le" } else { "ppc64" }.to_string());
    }
    if v("cpu model").is_some_and(|m| m.contains("MIPS") || m.contains("Loongson")) {
        return Some("mips".to_string());
    }
    None
}

// ---------------------------------------------------------------------------------------------
// ARM decoding

/// "0x41" -> 0x41, as lscpu's parse_id (a "0x" prefix is required).
fn parse_arm_id(s: &str) -> Option<u32> {
    let hex = s.trim().strip_prefix("0x")?;
    let digits: String = hex.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    u32::from_str_radix(&digits, 16).ok()
}

/// strtol with base 0 (0x hex, 0 octal, else decimal), leading digits only.
fn strtol0(s: &str) -> Option<i64> {
    let s = s.trim();
    let (radix, body) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let digits: String = body.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return (radix == 8).then_some(0);
    }
    i64::from_str_radix(&digits, radix).ok()
}

/// Decode one type's MIDR numbers into lscpu's names (lscpu's arm_ids_decode and
/// arm_rXpY_decode).
fn arm_decode(t: &mut RawType) {
    let Some(imp) = t
        .vendor
        .as_deref()
        .and_then(parse_arm_id)
        .filter(|&i| i > 0)
    else {
        return;
    };
    let Some(vendor) = arm::implementer_name(imp) else {
        return;
    };
    t.vendor = Some(vendor.to_string());
    if let Some(part) = t.model.as_deref().and_then(parse_arm_id).filter(|&p| p > 0) {
        if let Some(name) = arm::part_name(imp, part) {
            t.modelname = Some(name.to_string());
        }
    }
    if imp == 0x41 {
        let revision = t.revision.as_deref().and_then(|r| {
            let d: String = r
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            d.parse::<i64>().ok()
        });
        let variant = t.stepping.as_deref().and_then(strtol0);
        if let (Some(r), Some(v)) = (revision, variant) {
            t.stepping = Some(format!("r{v}p{r}"));
        }
    }
}

fn is_known_arm(t: &RawType) -> bool {
    t.vendor
        .as_deref()
        .and_then(parse_arm_id)
        .is_some_and(|i| i > 0 && arm::implementer_name(i).is_some())
}

// ---------------------------------------------------------------------------------------------
// Virtualization

struct Virt {
    vendor: Option<&'static str>,
    kind: Option<&'static str>,
    hypervisor: Option<String>,
}

fn devtree_compatible(sys: &Sysroot, what: &str) -> bool {
    sys.read_bytes("proc/device-tree/compatible", 4096)
        .is_some_and(|b| b.split(|&c| c == 0).any(|s| s == what.as_bytes()))
}

/// Whether a path exists; read (or list) it so that snapshots keep the evidence.
fn evidence(sys: &Sysroot, rel: &str) -> bool {
    if sys.is_dir(rel) {
        sys.list_dir(rel);
        true
    } else if sys.exists(rel) {
        sys.read_bytes(rel, 4096);
        true
    } else {
        false
    }
}

/// lscpu's virtualization probe on a tree (lscpu-virt.c), in its order. lscpu's CPUID and
/// DMI probes read the running machine, so in their place the tree's DMI strings are used
/// where the CPU says it runs under a hypervisor.
fn read_virt(sys: &Sysroot, default: Option<&RawType>, arch: Option<&str>) -> Virt {
    let mut v = Virt {
        vendor: None,
        kind: None,
        hypervisor: None,
    };
    if sys
        .attr("proc/sys/kernel/osrelease")
        .is_some_and(|r| r.contains("Microsoft"))
    {
        v.vendor = Some("Windows Subsystem for Linux");
        v.kind = Some("container");
        return v;
    }
    // lscpu asks the running CPU on a live system (CPUID leaf 0x40000000).
    if sys.is_live() && arch.is_some_and(is_x86_arch) {
        // Read the paravirtual clock evidence too, so that a snapshot of this system holds
        // what a probe of the snapshot needs to name the hypervisor without CPUID.
        let _ = sys.attr(CLOCKSOURCES);
        if let Some(vendor) = live_cpuid_hypervisor() {
            v.vendor = Some(vendor);
            v.kind = Some(if vendor == "Xen" && xen_paravirt(sys) {
                "para"
            } else {
                "full"
            });
            return v;
        }
    }
    // POWER
    if evidence(sys, "proc/iSeries") {
        v.vendor = Some("OS/400");
        v.kind = Some("para");
        return v;
    }
    if devtree_compatible(sys, "ibm,powernv") {
        // bare-metal POWER: nothing more to find
    } else if evidence(sys, "proc/device-tree/ibm,partition-name")
        && evidence(sys, "proc/device-tree/hmc-managed?")
        && !evidence(sys, "proc/device-tree/chosen/qemu,graphic-width")
    {
        v.vendor = Some("pHyp");
        v.kind = Some("para");
        let name = sys
            .read_bytes("proc/device-tree/ibm,partition-name", 4096)
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim_matches('\0')
                    .trim()
                    .to_string()
            });
        if name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .is_some_and(|n| n == "full")
        {
            v.kind = Some("none");
        }
        return v;
    } else if devtree_compatible(sys, "qemu,pseries") {
        v.vendor = Some("KVM");
        v.kind = Some("para");
        return v;
    }
    // Xen PV or dom0
    if evidence(sys, "proc/xen") {
        let dom0 = sys
            .attr("proc/xen/capabilities")
            .is_some_and(|c| c.split_whitespace().next() == Some("control_d"));
        v.vendor = Some("Xen");
        v.kind = Some(if dom0 { "none" } else { "para" });
        return v;
    }
    // The hypervisors' emulated graphics cards
    if let Some(devs) = sys.read("proc/bus/pci/devices") {
        for line in devs.lines() {
            let Some(ids) = line.split('\t').nth(1) else {
                continue;
            };
            let Ok(id) = u32::from_str_radix(ids.trim(), 16) else {
                continue;
            };
            let found = match (id >> 16, id & 0xffff) {
                (0x5853, 0x0001) => Some("Xen"),
                (0x15ad, 0x0710) => Some("VMware"),
                (0x80ee, 0xbeef) => Some("Oracle"),
                _ => None,
            };
            if found.is_some() {
                v.vendor = found;
                v.kind = Some("full");
                return v;
            }
        }
    }
    // IBM Z: PR/SM, z/VM, KVM
    if let Some(info) = sys.read("proc/sysinfo") {
        v.vendor = Some("IBM");
        v.hypervisor = Some("PR/SM".to_string());
        v.kind = Some("full");
        for line in info.lines() {
            if let Some(i) = line.find("Control Program:") {
                v.vendor = Some(if line.contains("KVM") { "KVM" } else { "IBM" });
                let name = &line[i + "Control Program:".len()..];
                v.hypervisor = Some(name.split_whitespace().collect::<Vec<_>>().join(" "));
                break;
            }
        }
        return v;
    }
    // OpenVZ / Virtuozzo
    if evidence(sys, "proc/vz") && !evidence(sys, "proc/bc") {
        v.vendor = Some("Parallels");
        v.kind = Some("container");
        return v;
    }
    if default
        .and_then(|t| t.modelname.as_deref())
        .is_some_and(|m| m.contains("UML"))
    {
        v.vendor = Some("User-mode Linux");
        v.kind = Some("para");
        return v;
    }
    if let Some(status) = sys.read("proc/self/status") {
        let vx = status
            .lines()
            .find_map(|l| l.strip_prefix("VxID:").map(str::trim));
        if vx.is_some_and(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())) {
            v.vendor = Some("Linux-VServer");
            v.kind = Some("container");
            return v;
        }
    }
    // In place of lscpu's live CPUID/DMI probe: the tree's DMI strings, then the hypervisors'
    // paravirtual clocks (a guest without DMI tables, as Firecracker's, still has those).
    let guest_flag = default.is_some_and(|t| t.has_flag("hypervisor"));
    let vendor = dmi_hypervisor(sys, guest_flag, arch).or_else(|| {
        if !guest_flag {
            return None;
        }
        sys.attr(CLOCKSOURCES)?
            .split_whitespace()
            .find_map(|c| match c {
                "kvm-clock" => Some("KVM"),
                "hyperv_clocksource_tsc_page" | "hyperv_clocksource_msr" => Some("Microsoft"),
                "xen" => Some("Xen"),
                _ => None,
            })
    });
    if let Some(vendor) = vendor {
        v.vendor = Some(vendor);
        v.kind = Some(if vendor == "Xen" && xen_paravirt(sys) {
            "para"
        } else {
            "full"
        });
    }
    v
}

/// The clock sources the kernel can use; paravirtual ones name the hypervisor.
const CLOCKSOURCES: &str = "sys/devices/system/clocksource/clocksource0/available_clocksource";

/// The hypervisor's CPUID signature on the running machine (x86 only).
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
#[allow(unused_unsafe)] // __cpuid is an unsafe fn on older toolchains only
fn live_cpuid_hypervisor() -> Option<&'static str> {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    // SAFETY: CPUID only reads identification registers and exists on every CPU this code
    // can run on; leaf 0x40000000 is the range reserved for hypervisors.
    let r = unsafe { __cpuid(0x4000_0000) };
    let sig = [
        r.ebx.to_le_bytes(),
        r.ecx.to_le_bytes(),
        r.edx.to_le_bytes(),
    ]
    .concat();
    match sig.as_slice() {
        b"XenVMMXenVMM" => Some("Xen"),
        s if s.starts_with(b"KVMKVMKVM") => Some("KVM"),
        b"Microsoft Hv" => Some("Microsoft"),
        b"VMwareVMware" => Some("VMware"),
        b"UnisysSpar64" => Some("Unisys s-Par"),
        _ => None,
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
fn live_cpuid_hypervisor() -> Option<&'static str> {
    None
}

/// A Xen PV or PVH domain (sys/hypervisor/properties/features), as lscpu tells them apart.
fn xen_paravirt(sys: &Sysroot) -> bool {
    const PV: u64 = 1 << 5; // XENFEAT_mmu_pt_update_preserve_ad
    const PVH: u64 = (1 << 3) | (1 << 8); // supervisor_mode_kernel | hvm_callback_vector
    sys.parse_hex("sys/hypervisor/properties/features")
        .is_some_and(|f| f & PV != 0 || f & PVH == PVH)
}

fn dmi_hypervisor(sys: &Sysroot, guest_flag: bool, arch: Option<&str>) -> Option<&'static str> {
    if sys
        .attr("sys/hypervisor/type")
        .is_some_and(|t| t.eq_ignore_ascii_case("xen"))
    {
        return Some("Xen");
    }
    if sys.is_live() && arch.is_some_and(is_x86_arch) {
        return None; // CPUID has answered already
    }
    let x86 = arch.is_some_and(is_x86_arch);
    if x86 && !guest_flag {
        return None;
    }
    let dmi = |f: &str| {
        sys.attr(&format!("sys/class/dmi/id/{f}"))
            .unwrap_or_default()
    };
    let (vendor, product, bios) = (dmi("sys_vendor"), dmi("product_name"), dmi("bios_vendor"));
    if vendor.is_empty() && product.is_empty() && bios.is_empty() {
        return None;
    }
    let all = format!("{vendor}|{product}|{bios}");
    let hit = if all.contains("VMware") {
        Some("VMware")
    } else if all.contains("innotek") || all.contains("VirtualBox") {
        Some("Innotek GmbH")
    } else if vendor.contains("Microsoft") && product.contains("Virtual Machine") {
        Some("Microsoft")
    } else if all.contains("Xen") {
        Some("Xen")
    } else if all.contains("Parallels") {
        Some("Parallels")
    } else if vendor.contains("QEMU") || product.contains("KVM") || bios.contains("SeaBIOS") {
        Some("KVM")
    } else {
        None
    };
    // A CPU flagged as a guest with a cloud's DMI strings runs under that cloud's KVM.
    hit.or((guest_flag).then_some("KVM"))
}

// ---------------------------------------------------------------------------------------------
// x86-64 levels

/// The x86-64 psABI level the flags reach ("v1".."v4"), None below the baseline.
pub fn x86_64_level(flags: &[String]) -> Option<String> {
    let has = |f: &str| flags.iter().any(|x| x == f);
    const V1: &[&str] = &[
        "lm", "cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2",
    ];
    const V2: &[&str] = &["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"];
    const V3: &[&str] = &[
        "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave",
    ];
    const V4: &[&str] = &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"];
    let mut level = None;
    for (name, need) in [("v1", V1), ("v2", V2), ("v3", V3), ("v4", V4)] {
        if need.iter().all(|f| has(f)) {
            level = Some(name.to_string());
        } else {
            break;
        }
    }
    level
}

// ---------------------------------------------------------------------------------------------
// The probe

fn mhz(khz: u64) -> f64 {
    khz as f64 / 1000.0
}

/// lscpu's max/min MHz over the present CPUs of a set (min over CPUs that report one).
fn freq_range<'a>(cpus: impl Iterator<Item = &'a CpuEntry> + Clone) -> (Option<f64>, Option<f64>) {
    let has_freq = cpus
        .clone()
        .any(|c| c.max_khz.unwrap_or(0) > 0 || c.min_khz.unwrap_or(0) > 0);
    if !has_freq {
        return (None, None);
    }
    let present = cpus.filter(|c| c.present);
    let max = present.clone().filter_map(|c| c.max_khz).max().unwrap_or(0);
    let min = present.filter_map(|c| c.min_khz).min().unwrap_or(0);
    (Some(mhz(min)), Some(mhz(max)))
}

fn vulnerability_name(file: &str) -> String {
    let mut name: String = file.replace('_', " ");
    if let Some(first) = name.get(..1) {
        let up = first.to_ascii_uppercase();
        name.replace_range(..1, &up);
    }
    name
}

fn vulnerability_text(text: &str) -> String {
    match text.strip_prefix("Mitigation") {
        Some(rest) => {
            // "Mitigation: X" -> "Mitigation; X", and lscpu drops every other ':'.
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            format!("Mitigation;{}", rest.replace(':', ""))
        }
        None => text.to_string(),
    }
}

/// Probe the processors. `arch` is the host architecture from [`crate::host`] (the tree's
/// own, see [`detect_arch`]); without it the tree is asked.
pub fn probe(sys: &Sysroot, arch: Option<&str>) -> Cpu {
    let arch: Option<String> = arch.map(str::to_string).or_else(|| detect_arch(sys));
    let arch_ref = arch.as_deref();
    let cpuinfo_text = sys.read_required("proc/cpuinfo").unwrap_or_default();

    // CPU numbers
    let present = read_list(sys, &format!("{SYS_CPU}/present"), false);
    let online = read_list(sys, &format!("{SYS_CPU}/online"), false);
    let possible = read_list(sys, &format!("{SYS_CPU}/possible"), true)
        .filter(|p| !p.is_empty())
        .or_else(|| present.clone().filter(|p| !p.is_empty()))
        .or_else(|| online.clone().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| {
            let mut s: CpuSet = sys
                .list_dir(SYS_CPU)
                .iter()
                .filter_map(|n| n.strip_prefix("cpu")?.parse::<u32>().ok())
                .filter(|&n| n < MAX_CPUS)
                .collect();
            if s.is_empty() {
                s = parse_cpuinfo(&cpuinfo_text, &CpuSet::new())
                    .processors
                    .into_iter()
                    .filter(|&n| n < MAX_CPUS)
                    .collect();
            }
            s
        });

    // cpuinfo -> types
    let mut info = parse_cpuinfo(&cpuinfo_text, &possible);
    if info.truncated {
        sys.warn(
            "proc/cpuinfo",
            format!("describes more than {MAX_TYPES} CPUs; the rest is ignored"),
        );
    }
    let arm = match arch_ref {
        Some(a) => is_arm_arch(a),
        None => info.types.iter().any(is_known_arm),
    };
    if arm && info.types.iter().all(|t| t.vendor.is_none()) {
        midr_types(sys, &possible, &mut info);
    }
    let mut types = dedupe_types(std::mem::take(&mut info.types), &mut info.assigned);
    if types.is_empty() {
        types.push(RawType::default());
    }

    let mut cpus: Vec<CpuEntry> = possible
        .iter()
        .map(|&id| CpuEntry {
            id,
            ty: info.assigned.get(&id).copied().unwrap_or(0),
            described: info.assigned.contains_key(&id),
            present: present.as_ref().is_none_or(|p| p.contains(&id)),
            online: online.as_ref().is_none_or(|o| o.contains(&id)),
            ..CpuEntry::default()
        })
        .collect();

    // Per-CPU sysfs data
    let hp_online = sys
        .read(&format!("{SYS_CPU}/hotplug/states"))
        .and_then(|s| online_state(&s))
        .filter(|&n| n > 0);
    for c in cpus.iter_mut() {
        read_cpu(sys, c, hp_online);
    }
    let sw = sys
        .read("proc/sysinfo")
        .as_deref()
        .and_then(sysinfo_topology);
    let topos: Vec<Topo> = types
        .iter()
        .enumerate()
        .map(|(i, t)| topology_of(cpus.iter().filter(|c| c.ty == i), sw, t.mtid.as_deref()))
        .collect();
    let mut caches = Caches::default();
    for c in &cpus {
        read_caches(sys, c.id, &mut caches);
    }
    let mut caches = caches.list;
    caches.sort_by(|a, b| a.name.cmp(&b.name));

    // ARM names
    if arm {
        for t in types.iter_mut() {
            arm_decode(t);
        }
    }

    let default = types.first().cloned().unwrap_or_default();
    let topo0 = topos.first().cloned().unwrap_or_default();
    let mut out = Cpu {
        architecture: arch.clone(),
        vendor: default.vendor.clone(),
        model_name: default.modelname.clone(),
        family: default.family.clone(),
        model: default.lscpu_model(),
        stepping: default.stepping.clone(),
        microcode: default.microcode.clone(),
        bogomips: default.bogomips.clone(),
        dynamic_mhz: default.dynamic_mhz.clone(),
        static_mhz: default.static_mhz.clone(),
        address_sizes: default.addrsz.clone(),
        flags: split_flags(default.flags.as_deref()),
        ..Cpu::default()
    };
    // lscpu prints the ISA on RISC-V only, its extensions separated by spaces.
    out.isa = default
        .isa
        .as_deref()
        .filter(|isa| {
            let low = isa.to_ascii_lowercase();
            ["rv32", "rv64", "rv128"].iter().any(|p| low.starts_with(p))
        })
        .map(|isa| isa.split('_').collect::<Vec<_>>().join(" "));
    out.op_modes = op_modes(&default, sys.is_live(), arch_ref);
    out.byte_order = sys
        .attr("sys/kernel/cpu_byteorder")
        .and_then(|b| match b.as_str() {
            "little" => Some("Little Endian".to_string()),
            "big" => Some("Big Endian".to_string()),
            _ => {
                sys.warn("sys/kernel/cpu_byteorder", "neither little nor big");
                None
            }
        });

    // CPU lists
    let present_set: Option<&CpuSet> = present.as_ref();
    out.cpus = Some(match present_set {
        Some(p) => p.len() as u32,
        None => possible.len() as u32,
    });
    if let Some(on) = &online {
        out.online = Some(format_list(on));
        let npresent = present_set.map_or(possible.len(), |p| p.len());
        if on.len() != npresent {
            let off: Vec<u32> = cpus
                .iter()
                .filter(|c| c.present && !on.contains(&c.id))
                .map(|c| c.id)
                .collect();
            if !off.is_empty() {
                out.offline = Some(format_cpu_list(&off));
            }
        }
    }

    // Topology of the first type
    out.threads_per_core = known(topo0.threads_per_core);
    let cluster = sys.is_live()
        && arch_ref == Some("aarch64")
        && types.len() == 1
        && !sys.exists("sys/firmware/acpi/tables/PPTT");
    if topo0.nbooks > 0 {
        out.cores_per_socket = known(topo0.cores_per_socket);
        out.sockets_per_book = known(topo0.sockets_per_book);
        if topo0.drawers_per_system > 0 || topo0.ndrawers > 0 {
            out.books_per_drawer = known(topo0.books_per_drawer);
            out.drawers = known(nonzero_or(topo0.drawers_per_system, topo0.ndrawers));
        } else {
            out.books = known(nonzero_or(topo0.books_per_drawer, topo0.nbooks));
        }
    } else if cluster {
        out.cores_per_cluster = known(topo0.cores_per_socket);
        out.clusters = known(nonzero_or(topo0.sockets_per_book, topo0.nsockets));
    } else {
        out.cores_per_socket = known(topo0.cores_per_socket);
        out.sockets = known(nonzero_or(topo0.sockets_per_book, topo0.nsockets));
    }
    let (min, max) = freq_range(cpus.iter().filter(|c| c.ty == 0));
    out.min_mhz = min;
    out.max_mhz = max;
    out.frequency_boost = sys
        .parse::<i64>(&format!("{SYS_CPU}/cpufreq/boost"))
        .map(|b| b != 0);
    out.dispatching_mode = sys
        .parse::<i64>(&format!("{SYS_CPU}/dispatching"))
        .and_then(|d| match d {
            0 => Some("horizontal".to_string()),
            1 => Some("vertical".to_string()),
            _ => None,
        });
    out.machine_type = sys.read("proc/sysinfo").and_then(|s| {
        s.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim_end() == "Type")
                .then(|| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    });

    // Caches, NUMA, vulnerabilities, virtualization
    out.caches = summarize_caches(&caches, &info.ecaches);
    out.numa_nodes = read_numa(sys);
    out.vulnerabilities = read_vulnerabilities(sys);
    out.virtualization = if default.has_flag("svm") {
        Some("AMD-V".to_string())
    } else if default.has_flag("vmx") {
        Some("VT-x".to_string())
    } else {
        None
    };
    let virt = read_virt(sys, types.first(), arch_ref);
    out.hypervisor = virt.vendor.map(str::to_string);
    out.hypervisor_name = virt.hypervisor;
    out.virtualization_type = virt.vendor.and(virt.kind).map(str::to_string);

    if arch_ref.is_some_and(|a| a == "x86_64" || a == "amd64") {
        out.x86_64_level = x86_64_level(&out.flags);
    }

    // Core types
    out.core_types = hybrid_core_types(sys, &cpus, &default, sw);
    if out.core_types.is_empty() && types.len() > 1 {
        out.core_types = types
            .iter()
            .zip(&topos)
            .enumerate()
            .map(|(i, (t, topo))| {
                let members: Vec<u32> = cpus
                    .iter()
                    .filter(|c| c.ty == i && c.described)
                    .map(|c| c.id)
                    .collect();
                let (min, max) = freq_range(cpus.iter().filter(|c| c.ty == i));
                CoreType {
                    vendor: t.vendor.clone(),
                    model_name: t.modelname.clone(),
                    cpus: format_cpu_list(&members),
                    kind: None,
                    family: t.family.clone(),
                    model: t.lscpu_model(),
                    stepping: t.stepping.clone(),
                    threads_per_core: known(topo.threads_per_core),
                    cores_per_socket: known(topo.cores_per_socket).filter(|_| topo.nbooks == 0),
                    sockets: known(nonzero_or(topo.sockets_per_book, topo.nsockets))
                        .filter(|_| topo.nbooks == 0),
                    min_mhz: min,
                    max_mhz: max,
                    bogomips: t.bogomips.clone(),
                    flags: split_flags(t.flags.as_deref()),
                }
            })
            .collect();
    }

    // Per-CPU physical topology
    let nodes: Vec<(u32, CpuSet)> = out
        .numa_nodes
        .iter()
        .map(|n| (n.id, parse_list_capped(&n.cpus).unwrap_or_default()))
        .collect();
    out.topology = cpus
        .iter()
        .filter(|c| c.present)
        .map(|c| CpuTopology {
            cpu: c.id,
            online: c.online,
            core_id: c.core_id,
            socket_id: c.socket_id,
            book_id: c.book_id,
            drawer_id: c.drawer_id,
            node: nodes
                .iter()
                .find(|(_, s)| s.contains(&c.id))
                .map(|(id, _)| *id),
        })
        .collect();
    out
}

fn split_flags(flags: Option<&str>) -> Vec<String> {
    flags
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// A count, or nothing where nothing was counted (lscpu prints 0 then).
fn known(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

fn nonzero_or(a: u32, b: u32) -> u32 {
    if a != 0 {
        a
    } else {
        b
    }
}

fn format_list(s: &CpuSet) -> String {
    format_cpu_list(&s.iter().copied().collect::<Vec<_>>())
}

/// lscpu "CPU op-mode(s)" from the tree (flags and ISA), plus what a live kernel implies.
fn op_modes(t: &RawType, live: bool, arch: Option<&str>) -> Option<String> {
    let (mut b32, mut b64) = (false, false);
    if live {
        match arch {
            Some("x86_64" | "i386" | "i686" | "s390x" | "s390" | "sparc64") => b32 = true,
            Some("ppc64" | "ppc64le") => (b32, b64) = (true, true),
            Some("ppc") => b32 = true,
            Some("aarch64") => b64 = true,
            _ => {}
        }
    }
    if t.has_flag("lm") || t.has_flag("zarch") || t.has_flag("sun4v") || t.has_flag("sun4u") {
        (b32, b64) = (true, true);
    }
    if let Some(isa) = &t.isa {
        let words: Vec<&str> = isa.split_whitespace().collect();
        if words
            .iter()
            .any(|w| matches!(*w, "loongarch32" | "loongarch32s" | "loongarch32r"))
        {
            b32 = true;
        }
        if words.contains(&"loongarch64") {
            b64 = true;
        }
    }
    match (b32, b64) {
        (true, true) => Some("32-bit, 64-bit".to_string()),
        (true, false) => Some("32-bit".to_string()),
        (false, true) => Some("64-bit".to_string()),
        (false, false) => None,
    }
}

/// Types from the MIDR registers when cpuinfo has no ARM ids (a truncated or foreign cpuinfo).
fn midr_types(sys: &Sysroot, possible: &CpuSet, info: &mut Cpuinfo) {
    let mut by_midr: BTreeMap<u64, usize> = BTreeMap::new();
    let mut types: Vec<RawType> = Vec::new();
    let mut assigned = BTreeMap::new();
    for &cpu in possible {
        let Some(midr) = sys.parse_hex(&format!("{SYS_CPU}/cpu{cpu}/regs/identification/midr_el1"))
        else {
            continue;
        };
        let idx = *by_midr.entry(midr).or_insert_with(|| {
            let m = arm::Midr::decode(midr);
            let mut t = info
                .assigned
                .get(&cpu)
                .and_then(|&i| info.types.get(i))
                .cloned()
                .unwrap_or_default();
            t.vendor = Some(format!("0x{:02x}", m.implementer));
            t.model = Some(format!("0x{:03x}", m.part));
            t.stepping = Some(format!("0x{:x}", m.variant));
            t.revision = Some(m.revision.to_string());
            types.push(t);
            types.len() - 1
        });
        assigned.insert(cpu, idx);
    }
    if !types.is_empty() {
        info.types = types;
        info.assigned = assigned;
    }
}

fn read_cpu(sys: &Sysroot, c: &mut CpuEntry, hp_online: Option<i64>) {
    let base = format!("{SYS_CPU}/cpu{}", c.id);
    if !sys.is_dir(&base) {
        return;
    }
    let topo = format!("{base}/topology");
    if sys.is_dir(&topo) {
        c.core_id = sys.parse::<i64>(&format!("{topo}/core_id"));
        c.socket_id = sys.parse::<i64>(&format!("{topo}/physical_package_id"));
        c.book_id = sys.parse::<i64>(&format!("{topo}/book_id"));
        c.drawer_id = sys.parse::<i64>(&format!("{topo}/drawer_id"));
    }
    let fully_online = match hp_online {
        Some(want) => sys
            .parse::<i64>(&format!("{base}/hotplug/state"))
            .is_none_or(|s| s == want),
        None => true,
    };
    if fully_online && sys.exists(&format!("{topo}/thread_siblings")) {
        c.has_topology = true;
        c.thread_siblings = read_mask(sys, &format!("{topo}/thread_siblings"));
        c.core_siblings = read_mask(sys, &format!("{topo}/core_siblings"));
        c.book_siblings = read_mask(sys, &format!("{topo}/book_siblings"));
        c.drawer_siblings = read_mask(sys, &format!("{topo}/drawer_siblings"));
    }
    let khz = |f: &str| {
        sys.parse::<u64>(&format!("{base}/cpufreq/{f}"))
            .filter(|&k| k > 0)
    };
    c.max_khz = khz("cpuinfo_max_freq");
    c.min_khz = khz("cpuinfo_min_freq");
}

fn read_numa(sys: &Sysroot) -> Vec<NumaNode> {
    let mut ids: Vec<u32> = sys
        .list_dir(SYS_NODE)
        .iter()
        .filter_map(|n| {
            let num = n.strip_prefix("node")?;
            if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            num.parse::<u32>().ok()
        })
        .filter(|n| sys.is_dir(&format!("{SYS_NODE}/node{n}")))
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| {
            let dir = format!("{SYS_NODE}/node{id}");
            let cpus = read_mask(sys, &format!("{dir}/cpumap"))
                .or_else(|| read_list(sys, &format!("{dir}/cpulist"), false))
                .unwrap_or_else(|| {
                    sys.warn(&format!("{dir}/cpumap"), "missing");
                    CpuSet::new()
                });
            NumaNode {
                id,
                cpus: format_list(&cpus),
            }
        })
        .collect()
}

fn read_vulnerabilities(sys: &Sysroot) -> Vec<Vulnerability> {
    let dir = format!("{SYS_CPU}/vulnerabilities");
    let mut out: Vec<Vulnerability> = sys
        .list_dir(&dir)
        .iter()
        .filter(|n| !sys.is_dir(&format!("{dir}/{n}")))
        .filter_map(|n| {
            let text = sys.attr(&format!("{dir}/{n}"))?;
            Some(Vulnerability {
                name: vulnerability_name(n),
                status: vulnerability_text(&text),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Hybrid x86 (Alder Lake and later): the kernel's `cpu_core` and `cpu_atom` PMUs list the
/// performance and efficiency cores. lscpu shows one type there (cpuinfo does not differ).
fn hybrid_core_types(
    sys: &Sysroot,
    cpus: &[CpuEntry],
    default: &RawType,
    sw: Option<[u32; 4]>,
) -> Vec<CoreType> {
    let mut out = Vec::new();
    for (pmu, kind) in [("cpu_core", "performance"), ("cpu_atom", "efficiency")] {
        let rel = format!("sys/devices/{pmu}/cpus");
        if !sys.exists(&rel) {
            continue;
        }
        let Some(set) = read_list(sys, &rel, false).filter(|s| !s.is_empty()) else {
            continue;
        };
        let members = || cpus.iter().filter(|c| set.contains(&c.id));
        let topo = topology_of(members(), sw, default.mtid.as_deref());
        let (min, max) = freq_range(members());
        out.push(CoreType {
            vendor: default.vendor.clone(),
            model_name: default.modelname.clone(),
            cpus: format_list(&set),
            kind: Some(kind.to_string()),
            family: default.family.clone(),
            model: default.lscpu_model(),
            stepping: default.stepping.clone(),
            threads_per_core: known(topo.threads_per_core),
            cores_per_socket: known(topo.cores_per_socket),
            sockets: known(topo.nsockets),
            min_mhz: min,
            max_mhz: max,
            bogomips: default.bogomips.clone(),
            flags: split_flags(default.flags.as_deref()),
        });
    }
    if out.len() < 2 {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use crate::testutil::write as put;

    const X86_BLOCK: &str = "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\nstepping\t: 7\nmicrocode\t: 0x5003006\n\
cpu MHz\t\t: 2100.000\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov \
pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx lm constant_tsc cx16 lahf_lm popcnt sse4_1 \
sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave avx512f avx512bw avx512cd avx512dq \
avx512vl vmx\nbogomips\t: 4200.00\naddress sizes\t: 46 bits physical, 48 bits virtual\n";

    /// A 2-socket, 2-core, 2-thread x86 machine (8 CPUs).
    fn x86_tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        let mut info = String::new();
        for cpu in 0..8 {
            info.push_str(&format!("processor\t: {cpu}\n{X86_BLOCK}\n"));
        }
        put(r, "proc/cpuinfo", &info);
        put(r, "sys/devices/system/cpu/possible", "0-7\n");
        put(r, "sys/devices/system/cpu/present", "0-7\n");
        put(r, "sys/devices/system/cpu/online", "0-7\n");
        for cpu in 0..8u32 {
            let base = format!("sys/devices/system/cpu/cpu{cpu}");
            let core = cpu % 4; // threads of a core: n and n+4
            let socket = core / 2;
            let threads: u32 = (1 << core) | (1 << (core + 4));
            let sockets: u32 = if socket == 0 { 0x33 } else { 0xcc };
            put(
                r,
                &format!("{base}/topology/thread_siblings"),
                format!("{threads:x}\n"),
            );
            put(
                r,
                &format!("{base}/topology/core_siblings"),
                format!("{sockets:x}\n"),
            );
            put(
                r,
                &format!("{base}/topology/core_id"),
                format!("{}\n", core % 2),
            );
            put(
                r,
                &format!("{base}/topology/physical_package_id"),
                format!("{socket}\n"),
            );
            put(r, &format!("{base}/cpufreq/cpuinfo_max_freq"), "3900000\n");
            put(r, &format!("{base}/cpufreq/cpuinfo_min_freq"), "1000000\n");
            for (i, (level, kind, size, shared)) in [
                (1, "Data", "32K", threads),
                (1, "Instruction", "32K", threads),
                (2, "Unified", "1024K", threads),
                (3, "Unified", "28160K", sockets),
            ]
            .iter()
            .enumerate()
            {
                let c = format!("{base}/cache/index{i}");
                put(r, &format!("{c}/level"), format!("{level}\n"));
                put(r, &format!("{c}/type"), format!("{kind}\n"));
                put(r, &format!("{c}/size"), format!("{size}\n"));
                put(r, &format!("{c}/shared_cpu_map"), format!("{shared:x}\n"));
            }
        }
        put(r, "sys/devices/system/node/node0/cpumap", "33\n");
        put(r, "sys/devices/system/node/node1/cpumap", "cc\n");
        put(
            r,
            "sys/devices/system/cpu/vulnerabilities/spec_store_bypass",
            "Mitigation: Speculative Store Bypass disabled via prctl\n",
        );
        put(
            r,
            "sys/devices/system/cpu/vulnerabilities/meltdown",
            "Not affected\n",
        );
        d
    }

    #[test]
    fn x86_machine() {
        let d = x86_tree();
        let sys = Sysroot::new(d.path());
        assert_eq!(detect_arch(&sys).as_deref(), Some("x86_64"));
        let c = probe(&sys, None);
        assert_eq!(c.architecture.as_deref(), Some("x86_64"));
        assert_eq!(c.vendor.as_deref(), Some("GenuineIntel"));
        assert_eq!(c.family.as_deref(), Some("6"));
        assert_eq!(c.model.as_deref(), Some("85"));
        assert_eq!(c.stepping.as_deref(), Some("7"));
        assert_eq!(c.microcode.as_deref(), Some("0x5003006"));
        assert_eq!(c.cpus, Some(8));
        assert_eq!(c.online.as_deref(), Some("0-7"));
        assert_eq!(c.offline, None);
        assert_eq!(c.threads_per_core, Some(2));
        assert_eq!(c.cores_per_socket, Some(2));
        assert_eq!(c.sockets, Some(2));
        assert_eq!(c.min_mhz, Some(1000.0));
        assert_eq!(c.max_mhz, Some(3900.0));
        assert_eq!(c.x86_64_level.as_deref(), Some("v4"));
        assert_eq!(c.virtualization.as_deref(), Some("VT-x"));
        assert_eq!(c.op_modes.as_deref(), Some("32-bit, 64-bit"));
        let l1d = c.caches.iter().find(|x| x.name == "L1d").expect("L1d");
        assert_eq!((l1d.size_bytes, l1d.instances), (4 * 32 * 1024, 4));
        let l3 = c.caches.iter().find(|x| x.name == "L3").expect("L3");
        assert_eq!((l3.size_bytes, l3.instances), (2 * 28160 * 1024, 2));
        assert_eq!(c.numa_nodes.len(), 2);
        assert_eq!(c.numa_nodes[1].cpus, "2-3,6-7");
        assert_eq!(c.vulnerabilities[0].name, "Meltdown");
        assert_eq!(
            c.vulnerabilities[1].status,
            "Mitigation; Speculative Store Bypass disabled via prctl"
        );
        assert_eq!(c.vulnerabilities[1].name, "Spec store bypass");
        assert!(c.core_types.is_empty());
        assert_eq!(c.topology.len(), 8);
        assert_eq!(c.topology[5].node, Some(0));
        assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
    }

    #[test]
    fn offline_cpus_and_missing_present() {
        let d = x86_tree();
        let r = d.path();
        put(r, "sys/devices/system/cpu/online", "0-5\n");
        let sys = Sysroot::new(r);
        let c = probe(&sys, Some("x86_64"));
        assert_eq!(c.cpus, Some(8));
        assert_eq!(c.offline.as_deref(), Some("6-7"));
        fs::remove_file(r.join("sys/devices/system/cpu/present")).expect("rm");
        let sys = Sysroot::new(r);
        let c = probe(&sys, Some("x86_64"));
        assert_eq!(c.cpus, Some(8), "falls back to possible");
    }

    #[test]
    fn hybrid_x86() {
        let d = x86_tree();
        let r = d.path();
        put(r, "sys/devices/cpu_core/cpus", "0-3\n");
        put(r, "sys/devices/cpu_atom/cpus", "4-7\n");
        let sys = Sysroot::new(r);
        let c = probe(&sys, Some("x86_64"));
        assert_eq!(c.core_types.len(), 2);
        assert_eq!(c.core_types[0].kind.as_deref(), Some("performance"));
        assert_eq!(c.core_types[1].cpus, "4-7");
    }

    #[test]
    fn missing_everything_is_quiet_but_warns_for_cpuinfo() {
        let d = tempfile::tempdir().expect("tempdir");
        let sys = Sysroot::new(d.path());
        let c = probe(&sys, None);
        assert_eq!(c.architecture, None);
        assert_eq!(c.cpus, Some(0));
        assert!(c.caches.is_empty() && c.numa_nodes.is_empty());
        let w = sys.warnings();
        assert!(w.iter().any(|x| x.path == "/proc/cpuinfo"), "{w:?}");
        assert!(w.iter().any(|x| x.path.ends_with("/possible")), "{w:?}");
    }

    #[test]
    fn truncated_cpuinfo() {
        let d = x86_tree();
        let r = d.path();
        let full = fs::read_to_string(r.join("proc/cpuinfo")).expect("read");
        for cut in [1, 17, 100, 333, full.len() / 2, full.len() - 3] {
            put(r, "proc/cpuinfo", &full[..cut]);
            let sys = Sysroot::new(r);
            let c = probe(&sys, None);
            assert_eq!(c.cpus, Some(8), "cut at {cut}");
            assert_eq!(c.threads_per_core, Some(2), "cut at {cut}");
        }
    }

    #[test]
    fn garbage_everywhere() {
        let d = x86_tree();
        let r = d.path();
        put(
            r,
            "proc/cpuinfo",
            "\u{1}\u{2}:::\n: :\nprocessor : -1\nprocessor: 99999999999\nflags\n:\n",
        );
        put(r, "sys/devices/system/cpu/possible", "0-4000000000\n");
        put(r, "sys/devices/system/cpu/present", "zz\n");
        put(r, "sys/devices/system/cpu/online", "5-1\n");
        put(
            r,
            "sys/devices/system/cpu/cpu0/topology/thread_siblings",
            "xyz\n",
        );
        put(
            r,
            "sys/devices/system/cpu/cpu1/topology/core_siblings",
            "0\n",
        );
        put(r, "sys/devices/system/cpu/cpu0/cache/index0/size", "lots\n");
        put(r, "sys/devices/system/cpu/cpu0/cache/index1/level", "-7\n");
        put(
            r,
            "sys/devices/system/cpu/cpu2/cpufreq/cpuinfo_max_freq",
            "fast\n",
        );
        put(r, "sys/devices/system/node/node0/cpumap", "f,".repeat(5000));
        put(r, "sys/devices/system/cpu/vulnerabilities/x", "");
        fs::create_dir_all(r.join("sys/devices/system/cpu/vulnerabilities/dir")).expect("mkdir");
        let sys = Sysroot::new(r);
        let c = probe(&sys, None);
        let w = sys.warnings();
        let has = |p: &str| w.iter().any(|x| x.path.ends_with(p));
        assert!(has("/possible"), "{w:?}");
        assert!(has("/present"), "{w:?}");
        assert!(has("/online"), "{w:?}");
        assert!(has("cpu0/topology/thread_siblings"), "{w:?}");
        assert!(has("index0/size"), "{w:?}");
        assert!(has("cpuinfo_max_freq"), "{w:?}");
        assert!(has("node0/cpumap"), "{w:?}");
        // Nothing absurd came out.
        assert!(c.cpus.unwrap_or(0) < MAX_CPUS);
        assert!(c.vulnerabilities.iter().all(|v| v.name != "Dir"));
    }

    #[test]
    fn hypervisor_from_tree() {
        let d = x86_tree();
        let r = d.path();
        put(r, "sys/class/dmi/id/sys_vendor", "QEMU\n");
        put(
            r,
            "sys/class/dmi/id/product_name",
            "Standard PC (Q35 + ICH9, 2009)\n",
        );
        let sys = Sysroot::new(r);
        assert_eq!(
            probe(&sys, None).hypervisor,
            None,
            "no hypervisor flag: bare metal"
        );
        let info = fs::read_to_string(r.join("proc/cpuinfo")).expect("read");
        put(r, "proc/cpuinfo", info.replace(" vmx", " vmx hypervisor"));
        let sys = Sysroot::new(r);
        let c = probe(&sys, None);
        assert_eq!(c.hypervisor.as_deref(), Some("KVM"));
        assert_eq!(c.virtualization_type.as_deref(), Some("full"));
        put(r, "proc/xen/capabilities", "control_d\n");
        let c = probe(&Sysroot::new(r), None);
        assert_eq!(c.hypervisor.as_deref(), Some("Xen"));
        assert_eq!(c.virtualization_type.as_deref(), Some("none"), "dom0");
    }

    #[test]
    fn endless_cpuinfo_is_cut() {
        let d = x86_tree();
        let r = d.path();
        put(r, "proc/cpuinfo", "flags : fpu\n".repeat(MAX_TYPES + 10));
        let sys = Sysroot::new(r);
        let c = probe(&sys, None);
        assert_eq!(c.flags, vec!["fpu".to_string()]);
        assert!(sys
            .warnings()
            .iter()
            .any(|w| w.path == "/proc/cpuinfo" && w.message.contains("ignored")));
    }

    #[test]
    fn zero_sockets_do_not_divide() {
        let d = x86_tree();
        let r = d.path();
        for cpu in 0..8 {
            fs::remove_file(r.join(format!(
                "sys/devices/system/cpu/cpu{cpu}/topology/core_siblings"
            )))
            .expect("rm");
        }
        let sys = Sysroot::new(r);
        let c = probe(&sys, None);
        assert_eq!(c.threads_per_core, Some(2));
        assert_eq!(
            c.cores_per_socket, None,
            "no socket evidence: unknown, not 0"
        );
        assert_eq!(c.sockets, None);
    }

    #[test]
    fn arm_big_little_from_cpuinfo() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        let mut info = String::new();
        for (cpu, part, var, rev) in [
            (0, "0xd05", "0x1", 0),
            (1, "0xd05", "0x1", 0),
            (2, "0xd0b", "0x3", 1),
        ] {
            info.push_str(&format!(
                "processor\t: {cpu}\nBogoMIPS\t: 52.00\nFeatures\t: fp asimd\n\
CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {var}\nCPU part\t: {part}\n\
CPU revision\t: {rev}\n\n"
            ));
        }
        put(r, "proc/cpuinfo", &info);
        put(r, "sys/devices/system/cpu/possible", "0-2\n");
        put(r, "sys/devices/system/cpu/present", "0-2\n");
        put(r, "sys/devices/system/cpu/online", "0-2\n");
        let sys = Sysroot::new(r);
        assert_eq!(detect_arch(&sys).as_deref(), Some("aarch64"));
        let c = probe(&sys, None);
        assert_eq!(c.vendor.as_deref(), Some("ARM"));
        assert_eq!(c.model_name.as_deref(), Some("Cortex-A55"));
        assert_eq!(c.stepping.as_deref(), Some("r1p0"));
        assert_eq!(c.core_types.len(), 2);
        assert_eq!(c.core_types[1].model_name.as_deref(), Some("Cortex-A76"));
        assert_eq!(c.core_types[1].stepping.as_deref(), Some("r3p1"));
        assert_eq!(c.core_types[0].cpus, "0-1");
        assert_eq!(c.core_types[1].cpus, "2");
        assert_eq!(c.x86_64_level, None);
    }

    #[test]
    fn arm_from_midr_when_cpuinfo_lacks_ids() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        put(
            r,
            "proc/cpuinfo",
            "processor\t: 0\nBogoMIPS\t: 200.00\n\nprocessor\t: 1\nBogoMIPS\t: 200.00\n",
        );
        put(r, "sys/devices/system/cpu/possible", "0-1\n");
        for cpu in 0..2 {
            put(
                r,
                &format!("sys/devices/system/cpu/cpu{cpu}/regs/identification/midr_el1"),
                "0x00000000481fd010\n",
            );
        }
        let sys = Sysroot::new(r);
        let c = probe(&sys, Some("aarch64"));
        assert_eq!(c.vendor.as_deref(), Some("HiSilicon"));
        assert_eq!(c.model_name.as_deref(), Some("Kunpeng-920"));
        assert_eq!(
            c.stepping.as_deref(),
            Some("0x1"),
            "rXpY is for ARM Ltd. cores only"
        );
        assert_eq!(c.bogomips.as_deref(), Some("200.00"));
    }

    #[test]
    fn cpuinfo_type_splitting_follows_lscpu() {
        // POWER: the trailing global block belongs to the last CPU's type and is merged.
        let text = "processor\t: 0\ncpu\t\t: POWER9\nrevision\t: 2.2 (pvr 004e 1202)\n\n\
processor\t: 1\ncpu\t\t: POWER9\nrevision\t: 2.2 (pvr 004e 1202)\n\n\
timebase\t: 512000000\nplatform\t: pSeries\nmodel\t\t: IBM,9009-22A\n";
        let possible = CpuSet::from([0, 1]);
        let mut p = parse_cpuinfo(text, &possible);
        let types = dedupe_types(std::mem::take(&mut p.types), &mut p.assigned);
        assert_eq!(types.len(), 1);
        assert_eq!(
            types[0].lscpu_model().as_deref(),
            Some("2.2 (pvr 004e 1202)")
        );
        assert_eq!(p.assigned.len(), 2);
        // s390: "processor 3: ..." lines carry the CPU number in the key.
        let s390 =
            "vendor_id       : IBM/S390\nprocessor 0: version = 00\nprocessor 3: version = 00\n";
        let p = parse_cpuinfo(s390, &CpuSet::from([0, 1, 2, 3]));
        assert_eq!(p.processors, vec![0, 3]);
        assert_eq!(p.assigned.get(&3), Some(&0));
    }

    #[test]
    fn lists_and_masks_are_capped() {
        assert!(parse_list_capped("0-4000000000").is_err());
        assert!(parse_list_capped(&"0-65535,".repeat(100_000)).is_err());
        assert!(parse_list_capped(&format!("{MAX_CPUS}")).is_err());
        assert_eq!(
            parse_list_capped("0-7:2/4").expect("group"),
            CpuSet::from([0, 1, 4, 5])
        );
        assert_eq!(parse_list_capped("0-6:2").expect("stride").len(), 4);
        assert!(parse_list_capped("3-1").is_err());
        assert!(parse_list_capped("0-3:0").is_err());
        assert_eq!(parse_list_capped("").expect("empty"), CpuSet::new());
        assert!(parse_mask_capped(&"ffffffff,".repeat(3000)).is_err());
        assert_eq!(
            parse_mask_capped("00000001,00000003").expect("mask"),
            CpuSet::from([0, 1, 32])
        );
        assert!(parse_mask_capped("123456789").is_err());
    }

    #[test]
    fn helpers() {
        assert_eq!(key_cleanup("processor 12 "), ("processor", Some(12)));
        assert_eq!(key_cleanup("cache3"), ("cache", Some(3)));
        assert_eq!(key_cleanup("model name"), ("model name", None));
        assert_eq!(parse_size("32K"), Some(32768));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("99999999999999999999K"), None);
        assert_eq!(parse_size("9999999999999E"), None);
        assert_eq!(parse_size("K"), None);
        assert_eq!(
            online_state("  0: offline\n 95: x:online\n232: online\n"),
            Some(232)
        );
        assert_eq!(online_state("nothing"), None);
        assert_eq!(strtol0("0x1f"), Some(31));
        assert_eq!(strtol0("010"), Some(8));
        assert_eq!(strtol0("0"), Some(0));
        assert_eq!(strtol0("x"), None);
        assert_eq!(vulnerability_name("spectre_v2"), "Spectre v2");
        assert_eq!(
            vulnerability_text("Mitigation: Retpolines; IBPB: conditional"),
            "Mitigation; Retpolines; IBPB conditional"
        );
        assert_eq!(vulnerability_text("Vulnerable: x"), "Vulnerable: x");
        assert_eq!(
            sysinfo_topology("CPU Topology SW:      0 0 0 4 6 4\n"),
            Some([0, 4, 6, 4])
        );
        assert_eq!(sysinfo_topology("CPU Topology SW: 1 2\n"), None);
        let e = parse_cpuinfo_cache(
            "level=3 type=Unified scope=Shared size=65536K line_size=256 associativity=16",
        )
        .expect("cache");
        assert_eq!((e.name.as_str(), e.size), ("L3", 64 << 20));
        assert!(parse_cpuinfo_cache(
            "level=1 type=Data scope=Private size=128K line_size=256 associativity=8"
        )
        .is_none());
        assert!(parse_cpuinfo_cache("garbage").is_none());
        let flags = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(x86_64_level(&flags("fpu")), None);
        assert_eq!(
            x86_64_level(&flags("lm cmov cx8 fpu fxsr mmx syscall sse sse2")).as_deref(),
            Some("v1")
        );
        assert_eq!(
            x86_64_level(&flags(
                "lm cmov cx8 fpu fxsr mmx syscall sse sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3"
            ))
            .as_deref(),
            Some("v2")
        );
    }

    #[test]
    fn detect_arch_from_evidence() {
        let case = |info: &str, order: Option<&str>| {
            let d = tempfile::tempdir().expect("tempdir");
            put(d.path(), "proc/cpuinfo", info);
            if let Some(o) = order {
                put(d.path(), "sys/kernel/cpu_byteorder", o);
            }
            detect_arch(&Sysroot::new(d.path()))
        };
        assert_eq!(
            case("vendor_id : GenuineIntel\nflags : fpu\n", None).as_deref(),
            Some("i686")
        );
        assert_eq!(
            case("CPU implementer : 0x41\nCPU architecture: 7\n", None).as_deref(),
            Some("armv7l")
        );
        assert_eq!(case("isa : rv64imafdc\n", None).as_deref(), Some("riscv64"));
        assert_eq!(
            case("vendor_id : IBM/S390\nfeatures : esan3 zarch\n", None).as_deref(),
            Some("s390x")
        );
        assert_eq!(
            case(
                "cpu : POWER7 (architected)\nrevision : 2.1 (pvr 003f 0201)\n",
                None
            )
            .as_deref(),
            Some("ppc64")
        );
        assert_eq!(
            case(
                "cpu : POWER9\nrevision : 2.2 (pvr 004e 1202)\n",
                Some("big")
            )
            .as_deref(),
            Some("ppc64")
        );
        assert_eq!(
            case("cpu : POWER9\nrevision : 2.2 (pvr 004e 1202)\n", None).as_deref(),
            Some("ppc64le")
        );
        assert_eq!(
            case("cpu : 740/750\nrevision : 3.1 (pvr 0008 0301)\n", None).as_deref(),
            Some("ppc")
        );
        assert_eq!(
            case("cpu : TI UltraSparc II\ntype : sun4u\n", None).as_deref(),
            Some("sparc64")
        );
        assert_eq!(
            case("ISA : loongarch32r loongarch64\n", None).as_deref(),
            Some("loongarch64")
        );
        assert_eq!(case("nonsense\n", None), None);
        let d = tempfile::tempdir().expect("tempdir");
        put(d.path(), "proc/sys/kernel/arch", "x86_64\n");
        assert_eq!(
            detect_arch(&Sysroot::new(d.path())).as_deref(),
            Some("x86_64")
        );
    }
}
