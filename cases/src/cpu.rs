//! Processor cases.
//!
//! * `cpu::all_online` — every present CPU is online.
//! * `cpu::topology_consistent` — sockets × cores per socket × threads per core equals the
//!   online CPUs (lscpu's numbers: an uneven machine, such as one socket with a disabled core,
//!   does not multiply out), and every online CPU has a package, a core and — on a kernel with
//!   NUMA — a node.
//! * `cpu::cpufreq` — a cpufreq driver and governor for every online CPU, minimum below maximum.
//!   Virtual machines, where the hypervisor owns frequency scaling, skip with the reason.
//! * `cpu::microcode` (advisory; x86 only) — a loaded microcode revision, the same on every CPU.
//! * `cpu::isa_baseline` — what OpenCloudOS 9 (as RHEL 9) is built for: x86-64-v2 on x86_64
//!   (cx16, lahf_lm, popcnt, sse4_1, sse4_2, ssse3 over the baseline); ARMv8.0-A on aarch64,
//!   whose user-space needs `fp` and `asimd` (Advanced SIMD). The ARMv8.1 LSE atomics
//!   (`atomics`) are not required: the distribution's compilers emit outline atomics that pick
//!   LSE or LL/SC at run time, and crc32, crypto and later extensions are optional as well.
//!   Their absence is logged, not failed.

use hwsys::sysroot::{format_cpu_list, parse_cpu_list};

use crate::util::{self, machine, reads_files, Spec};
use crate::{Case, Component, Context, Inventory, Selection, Target, Verdict};

const SYS_CPU: &str = "sys/devices/system/cpu";

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "cpu::all_online",
            purpose: "Every present CPU is online",
            component: Component::Cpu,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: machine,
            run: all_online,
        }
        .build(),
        Spec {
            name: "cpu::topology_consistent",
            purpose: "Sockets × cores × threads equals the online CPUs, and every CPU has a package, core and NUMA node",
            component: Component::Cpu,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: machine,
            run: topology_consistent,
        }
        .build(),
        Spec {
            name: "cpu::cpufreq",
            purpose: "A cpufreq driver and governor drive every CPU, with minimum below maximum frequency",
            component: Component::Cpu,
            blocker: true,
            timeout: 10,
            estimate_ms: 50,
            requirements: reads_files(),
            select: machine,
            run: cpufreq,
        }
        .build(),
        Spec {
            name: "cpu::microcode",
            purpose: "A microcode revision is loaded, the same on every CPU (x86)",
            component: Component::Cpu,
            blocker: false,
            timeout: 10,
            estimate_ms: 50,
            requirements: reads_files(),
            select: select_x86,
            run: microcode,
        }
        .build(),
        Spec {
            name: "cpu::isa_baseline",
            purpose: "The CPU meets OpenCloudOS 9's ISA baseline (x86-64-v2; ARMv8.0-A with fp and asimd)",
            component: Component::Cpu,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_isa,
            run: isa_baseline,
        }
        .build(),
    ]
}

fn arch(inv: &Inventory) -> Option<&str> {
    inv.host.arch.as_deref().or(inv.cpu.architecture.as_deref())
}

fn select_x86(inv: &Inventory) -> Selection {
    match arch(inv) {
        Some("x86_64") => Selection::Targets(vec![Target::machine()]),
        Some(a) => Selection::NotApplicable(format!(
            "{a}: microcode revisions are an x86 notion (elsewhere the firmware carries CPU updates)"
        )),
        None => Selection::NotApplicable("the architecture is unknown".into()),
    }
}

fn select_isa(inv: &Inventory) -> Selection {
    match arch(inv) {
        Some("x86_64" | "aarch64") => Selection::Targets(vec![Target::machine()]),
        Some(a) => Selection::NotApplicable(format!(
            "{a}: OpenCloudOS 8/9 are certified on x86_64 and aarch64 only"
        )),
        None => Selection::NotApplicable("the architecture is unknown".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// all_online

fn cpu_list(ctx: &Context<'_>, file: &str) -> Option<Vec<u32>> {
    let rel = format!("{SYS_CPU}/{file}");
    let text = ctx.sysroot.read(&rel)?;
    match parse_cpu_list(&text) {
        Some(v) => Some(v),
        None => {
            ctx.sysroot.warn(&rel, "not a CPU list");
            None
        }
    }
}

fn all_online(ctx: &mut Context<'_>) -> Verdict {
    let inv = ctx.inventory;
    let present = cpu_list(ctx, "present").or_else(|| {
        // From the inventory: present CPUs are the topology entries.
        let t: Vec<u32> = inv.cpu.topology.iter().map(|c| c.cpu).collect();
        (!t.is_empty()).then_some(t)
    });
    let online = cpu_list(ctx, "online")
        .or_else(|| {
            // Each present CPU's own `online` file (cpu0 often has none: it cannot go offline).
            let present = present.as_ref()?;
            let mut any = false;
            let on: Vec<u32> = present
                .iter()
                .copied()
                .filter(
                    |c| match ctx.sysroot.parse::<u8>(&format!("{SYS_CPU}/cpu{c}/online")) {
                        Some(v) => {
                            any = true;
                            v == 1
                        }
                        None => true,
                    },
                )
                .collect();
            any.then_some(on)
        })
        .or_else(|| inv.cpu.online.as_deref().and_then(parse_cpu_list))
        .or_else(|| {
            // Each CPU's own online flag.
            let t: Vec<u32> = inv
                .cpu
                .topology
                .iter()
                .filter(|c| c.online)
                .map(|c| c.cpu)
                .collect();
            (!t.is_empty()).then_some(t)
        });
    let (Some(present), Some(online)) = (present, online) else {
        return Verdict::skip(format!(
            "neither /{SYS_CPU}/present and online nor the inventory tell which CPUs are online"
        ));
    };
    ctx.measure("present", present.len() as f64, "CPUs");
    ctx.judge(
        "online",
        online.len() as f64,
        "CPUs",
        "==",
        present.len() as f64,
    );
    let offline: Vec<u32> = present
        .iter()
        .copied()
        .filter(|c| !online.contains(c))
        .collect();
    if offline.is_empty() {
        ctx.log(format!(
            "online {} ({} CPUs)",
            format_cpu_list(&online),
            online.len()
        ));
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "all present CPUs {} online ({})",
            format_cpu_list(&present),
            present.len()
        ),
        format!(
            "online {} ({}); offline {} (echo 1 > /sys/devices/system/cpu/cpuN/online, or check \
             maxcpus=/nr_cpus= on the command line)",
            format_cpu_list(&online),
            online.len(),
            format_cpu_list(&offline)
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// topology_consistent

fn topology_consistent(ctx: &mut Context<'_>) -> Verdict {
    let cpu = &ctx.inventory.cpu;
    let online: Vec<_> = cpu.topology.iter().filter(|t| t.online).collect();
    if online.is_empty() {
        return Verdict::skip(
            "the inventory has no per-CPU topology (no sys/devices/system/cpu/cpuN/topology)",
        );
    }
    let mut problems = Vec::new();
    let missing = |f: &dyn Fn(&inventory::cpu::CpuTopology) -> bool| -> Vec<u32> {
        online.iter().filter(|t| f(t)).map(|t| t.cpu).collect()
    };
    let no_package = missing(&|t| t.socket_id.is_none_or(|s| s < 0));
    let no_core = missing(&|t| t.core_id.is_none_or(|c| c < 0));
    let numa = !cpu.numa_nodes.is_empty();
    let no_node = if numa {
        missing(&|t| t.node.is_none())
    } else {
        ctx.log("kernel without NUMA nodes (sys/devices/system/node): node check not applicable");
        Vec::new()
    };
    for (what, cpus) in [
        ("package", &no_package),
        ("core", &no_core),
        ("NUMA node", &no_node),
    ] {
        if !cpus.is_empty() {
            problems.push(format!("CPUs {} have no {what}", format_cpu_list(cpus)));
        }
    }
    let threads = cpu.threads_per_core;
    let (groups, per_group, group_name) = match (cpu.sockets, cpu.cores_per_socket) {
        (Some(s), Some(c)) => (Some(s), Some(c), "socket"),
        _ => (cpu.clusters, cpu.cores_per_cluster, "cluster"),
    };
    let n = online.len() as u64;
    ctx.measure("online", n as f64, "CPUs");
    match (groups, per_group, threads) {
        (Some(g), Some(c), Some(t)) => {
            let product = u64::from(g) * u64::from(c) * u64::from(t);
            ctx.log(format!(
                "{g} {group_name}(s) × {c} core(s) × {t} thread(s) = {product}; {n} online"
            ));
            ctx.judge(
                "sockets×cores×threads",
                product as f64,
                "CPUs",
                "==",
                n as f64,
            );
            if product != n {
                problems.push(format!(
                    "{g} {group_name}(s) × {c} core(s) per {group_name} × {t} thread(s) per core = \
                     {product}, but {n} CPUs are online (uneven sockets or cores: a disabled core \
                     or SMT off on part of the machine?)"
                ));
            }
        }
        _ => problems.push(format!(
            "the kernel's topology gives no complete count (sockets {:?}, cores per socket {:?}, \
             threads per core {:?})",
            cpu.sockets, cpu.cores_per_socket, cpu.threads_per_core
        )),
    }
    if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "sockets × cores × threads = {n} online CPUs, each with a package, core and node"
            ),
            problems.join("; "),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// cpufreq

fn cpufreq(ctx: &mut Context<'_>) -> Verdict {
    let base = format!("{SYS_CPU}/cpufreq");
    let policies: Vec<String> = ctx
        .sysroot
        .list_dir(&base)
        .into_iter()
        .filter(|p| p.starts_with("policy"))
        .collect();
    if policies.is_empty() {
        if let Some(h) = util::virtual_machine(ctx.inventory) {
            return Verdict::skip(format!(
                "virtual machine ({h}) without cpufreq: the hypervisor owns frequency scaling"
            ));
        }
        if !ctx.is_live() && !ctx.sysroot.exists(SYS_CPU) {
            return Verdict::skip(format!("the tree does not record /{SYS_CPU}"));
        }
        return Verdict::fail(
            "a cpufreq driver (intel_pstate, amd-pstate, acpi-cpufreq, cppc_cpufreq, …)",
            format!(
                "no cpufreq policy (/{base} is empty): enable OS-controlled power management \
                 (P-states / CPPC) in the firmware setup"
            ),
        );
    }
    let mut problems = Vec::new();
    let mut covered: Vec<u32> = Vec::new();
    let (mut lowest, mut highest) = (None::<u64>, None::<u64>);
    for p in &policies {
        let at = |f: &str| format!("{base}/{p}/{f}");
        let driver = ctx.sysroot.attr(&at("scaling_driver"));
        let governor = ctx.sysroot.attr(&at("scaling_governor"));
        let min = ctx.sysroot.parse::<u64>(&at("cpuinfo_min_freq"));
        let max = ctx.sysroot.parse::<u64>(&at("cpuinfo_max_freq"));
        if let Some(cpus) = ctx
            .sysroot
            .attr(&at("related_cpus"))
            .or_else(|| ctx.sysroot.attr(&at("affected_cpus")))
        {
            // related_cpus is space-separated ("0 1 2").
            covered.extend(
                cpus.split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        ctx.log(format!(
            "{p}: driver {}, governor {}, {} – {} kHz",
            driver.as_deref().unwrap_or("-"),
            governor.as_deref().unwrap_or("-"),
            min.map_or("-".into(), |v| v.to_string()),
            max.map_or("-".into(), |v| v.to_string()),
        ));
        if driver.is_none() {
            problems.push(format!("{p} has no scaling_driver"));
        }
        if governor.is_none() {
            problems.push(format!("{p} has no scaling_governor"));
        }
        match (min, max) {
            (Some(lo), Some(hi)) if lo < hi => {
                lowest = Some(lowest.map_or(lo, |l| l.min(lo)));
                highest = Some(highest.map_or(hi, |h| h.max(hi)));
            }
            (Some(lo), Some(hi)) => problems.push(format!(
                "{p}: minimum {lo} kHz is not below maximum {hi} kHz"
            )),
            _ => problems.push(format!("{p} reports no cpuinfo_min_freq/cpuinfo_max_freq")),
        }
    }
    if let Some(lo) = lowest {
        ctx.measure("min_freq", lo as f64 / 1000.0, "MHz");
    }
    if let Some(hi) = highest {
        ctx.measure("max_freq", hi as f64 / 1000.0, "MHz");
    }
    if !covered.is_empty() {
        let online = cpu_list(ctx, "online").unwrap_or_default();
        let uncovered: Vec<u32> = online
            .into_iter()
            .filter(|c| !covered.contains(c))
            .collect();
        if !uncovered.is_empty() {
            problems.push(format!(
                "CPUs {} belong to no cpufreq policy",
                format_cpu_list(&uncovered)
            ));
        }
    }
    if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "a driver and governor for every CPU, minimum frequency below maximum",
            problems.join("; "),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// microcode

/// The `microcode` value of every processor in cpuinfo text: (cpu, revision).
pub fn microcode_revisions(cpuinfo: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut cpu: Option<u32> = None;
    for line in cpuinfo.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k.trim() {
            "processor" => cpu = v.trim().parse().ok(),
            "microcode" => {
                if let Some(c) = cpu {
                    out.push((c, v.trim().to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

fn microcode(ctx: &mut Context<'_>) -> Verdict {
    if arch(ctx.inventory) != Some("x86_64") {
        return Verdict::skip("not x86: microcode revisions are an x86 notion");
    }
    let revs = ctx
        .sysroot
        .read("proc/cpuinfo")
        .map(|t| microcode_revisions(&t))
        .unwrap_or_default();
    let revs: Vec<(u32, String)> = if revs.is_empty() {
        // A tree without cpuinfo: the inventory's one value, if any.
        ctx.inventory
            .cpu
            .microcode
            .iter()
            .map(|m| (0, m.clone()))
            .collect()
    } else {
        revs
    };
    if revs.is_empty() {
        if let Some(h) = util::virtual_machine(ctx.inventory) {
            return Verdict::skip(format!(
                "virtual machine ({h}): the hypervisor reports no microcode revision"
            ));
        }
        return Verdict::fail(
            "a loaded microcode revision in /proc/cpuinfo",
            "no microcode line (is the microcode package installed, and the early initramfs built?)",
        );
    }
    let mut by_rev: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for (c, r) in &revs {
        by_rev.entry(r.as_str()).or_default().push(*c);
    }
    if let Some(first) = by_rev.keys().next() {
        let digits = first.trim_start_matches("0x");
        if let Ok(v) = u64::from_str_radix(digits, 16) {
            ctx.measure("revision", v as f64, "");
        }
    }
    if by_rev.len() == 1 {
        let (rev, cpus) = by_rev
            .iter()
            .next()
            .map(|(r, c)| (*r, c.len()))
            .unwrap_or(("", 0));
        ctx.log(format!("microcode {rev} on {cpus} CPU(s)"));
        return Verdict::Pass;
    }
    let parts: Vec<String> = by_rev
        .iter()
        .map(|(r, cpus)| format!("{r} on CPUs {}", format_cpu_list(cpus)))
        .collect();
    Verdict::fail(
        "one microcode revision on every CPU",
        format!(
            "{} (a late load that did not reach every CPU?)",
            parts.join(", ")
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// isa_baseline

/// Flags x86-64-v2 adds over the baseline, as /proc/cpuinfo names them.
const X86_V2: &[&str] = &["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"];
/// The baseline x86-64 (v1) flags.
const X86_V1: &[&str] = &[
    "lm", "cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2",
];
/// What OpenCloudOS 9's aarch64 user space (ARMv8.0-A) cannot run without.
const ARM_REQUIRED: &[&str] = &["fp", "asimd"];
/// Optional features worth a line in the log when absent.
const ARM_NOTED: &[&str] = &["atomics", "crc32", "aes", "pmull", "sha1", "sha2"];

fn isa_baseline(ctx: &mut Context<'_>) -> Verdict {
    let flags = &ctx.inventory.cpu.flags;
    if flags.is_empty() {
        return Verdict::skip(
            "the inventory has no CPU flags (no flags/Features line in /proc/cpuinfo)",
        );
    }
    let has = |f: &str| flags.iter().any(|x| x == f);
    match arch(ctx.inventory) {
        Some("x86_64") => {
            let level = ctx
                .inventory
                .cpu
                .x86_64_level
                .clone()
                .or_else(|| inventory::cpu::x86_64_level(flags));
            let n = level
                .as_deref()
                .and_then(|l| l.trim_start_matches('v').parse::<u32>().ok())
                .unwrap_or(0);
            ctx.judge("x86_64_level", f64::from(n), "", ">=", 2.0);
            if n >= 2 {
                ctx.log(format!("x86-64-v{n}"));
                return Verdict::Pass;
            }
            let missing: Vec<String> = X86_V1
                .iter()
                .chain(X86_V2)
                .filter(|f| !has(f))
                .map(|f| f.to_string())
                .collect();
            Verdict::fail(
                "x86-64-v2 (OpenCloudOS 9 / RHEL 9 baseline)",
                format!(
                    "{}: missing {}",
                    level.map_or("below x86-64-v1".to_string(), |l| format!("x86-64-{l}")),
                    missing.join(" ")
                ),
            )
        }
        Some("aarch64") => {
            let missing: Vec<&str> = ARM_REQUIRED.iter().copied().filter(|f| !has(f)).collect();
            let absent: Vec<&str> = ARM_NOTED.iter().copied().filter(|f| !has(f)).collect();
            if !absent.is_empty() {
                ctx.log(format!(
                    "optional features absent (not required by ARMv8.0-A): {}",
                    absent.join(" ")
                ));
            }
            if missing.is_empty() {
                ctx.log("ARMv8.0-A user-space baseline: fp asimd present");
                Verdict::Pass
            } else {
                Verdict::fail(
                    "ARMv8.0-A with fp and asimd (OpenCloudOS 9 / RHEL 9 baseline)",
                    format!("missing {}", missing.join(" ")),
                )
            }
        }
        Some(a) => Verdict::skip(format!("{a}: no OpenCloudOS 9 baseline is defined here")),
        None => Verdict::skip("the architecture is unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microcode_lines() {
        let t = "processor\t: 0\nmicrocode\t: 0x5003604\n\nprocessor\t: 1\nmicrocode\t: 0x5003302\n\nprocessor : x\nmicrocode : 0x1\n";
        assert_eq!(
            microcode_revisions(t),
            [(0, "0x5003604".to_string()), (1, "0x5003302".to_string())]
        );
        assert!(microcode_revisions("garbage\n:::\n").is_empty());
    }
}
