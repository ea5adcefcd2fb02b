//! The probe: every part read and put together into the [`Cpu`] section, each number with
//! lscpu's meaning.

use hwsys::sysroot::{format_cpu_list, Sysroot};

use super::arch::{detect_arch, is_arm_arch, x86_64_level};
use super::arm::{arm_decode, is_known_arm, midr_types};
use super::cache::{read_caches, summarize_caches, Caches};
use super::cputype::{dedupe_types, op_modes, parse_cpuinfo, RawType, MAX_TYPES};
use super::lists::{format_list, parse_list_capped, read_list};
use super::model::{CoreType, Cpu, CpuSet, CpuTopology, MAX_CPUS, SYS_CPU};
use super::topology::{
    freq_range, online_state, read_cpu, read_numa, sysinfo_topology, topology_of, CpuEntry, Topo,
};
use super::virt::read_virt;
use super::vulnerabilities::read_vulnerabilities;

/// Probe the processors. `arch` is the host architecture from [`crate::host`] (the tree's
/// own, see [`detect_arch`]); without it the tree is asked.
pub fn probe(sys: &Sysroot, arch: Option<&str>) -> Cpu {
    let arch: Option<String> = arch.map(str::to_string).or_else(|| detect_arch(sys));
    let arch_ref = arch.as_deref();
    let cpuinfo_text = sys.read_required("proc/cpuinfo").unwrap_or_default();

    // CPU numbers
    let present = read_list(sys, &format!("{SYS_CPU}/present"), false, false);
    let online = read_list(sys, &format!("{SYS_CPU}/online"), false, false);
    let possible = read_list(sys, &format!("{SYS_CPU}/possible"), true, false)
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
        let Some(set) = read_list(sys, &rel, false, true).filter(|s| !s.is_empty()) else {
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
mod tests;
