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
//! * On ARM the MIDR implementer and part numbers are decoded with [`arm`].
//!
//! Nothing here trusts a file: missing optional files are silent, garbage leaves a warning in
//! the [`Sysroot`](hwsys::Sysroot), absurd CPU numbers (beyond [`MAX_CPUS`]) are refused, and no
//! value can make the probe panic or divide by zero.
//!
//! One file per concern, as util-linux splits lscpu: `model` (the public types, and what every
//! file shares), `lists` (CPU lists and masks), `cputype` (`/proc/cpuinfo`, lscpu-cputype.c),
//! `topology` (per-CPU sysfs and NUMA, lscpu-topology.c), `cache`, `arch` (the tree's
//! architecture, the x86-64 level), [`arm`] (MIDR names, lscpu-arm.c), `virt` (lscpu-virt.c),
//! `vulnerabilities`, and `probe`, which puts them together. This file only declares them and
//! re-exports the public items.

mod arch;
pub mod arm;
mod cache;
mod cputype;
mod lists;
mod model;
mod probe;
mod topology;
mod virt;
mod vulnerabilities;

pub use arch::{detect_arch, x86_64_level};
pub use model::{Cache, CoreType, Cpu, CpuTopology, NumaNode, Vulnerability, MAX_CPUS};
pub use probe::probe;
