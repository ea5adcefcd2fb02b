//! `inventory::cpu` against util-linux's own lscpu test dumps: every value lscpu prints for the 22
//! recorded machines (tests/ts/lscpu/dumps and tests/expected/lscpu in util-linux), compared
//! as values, not as text layout.
//!
//! Each expected file holds `lscpu` output, then `lscpu -p` and `lscpu -p --physical`. Every
//! line of the summary is either compared or listed in [`NOT_COMPARED`] with the reason; the
//! per-CPU physical ids (CPU, Core, Socket, Node of `-p --physical`) are compared as one field.
//! A disagreement fails the test unless [`DELIBERATE`] lists it with its reason.
//!
//! Run: `cargo test -p hwdb --test lscpu_fixtures -- --nocapture` to see the agreement table.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use hwsys::sysroot::{format_cpu_list, parse_cpu_list};
use hwsys::Sysroot;
use inventory::cpu::{self, Cpu};

/// The dumps and the architecture each one's tree shows (lscpu's expected output leaves the
/// "Architecture" line out: with --sysroot it is the running host's `uname -m`).
const DUMPS: [(&str, &str); 22] = [
    ("arm-A510-A710-A715-X3", "aarch64"),
    ("armv7", "armv7l"),
    ("loongarch-kvm_on_loongson_3c6000", "loongarch64"),
    ("loongarch-loongson_3a5000_hv", "loongarch64"),
    ("ppc-qemu", "ppc"),
    ("ppc64-POWER7", "ppc64"),
    ("ppc64-POWER7-64cpu", "ppc64"),
    ("rv64-linux", "riscv64"),
    ("rv64-milkvpioneer", "riscv64"),
    ("rv64-visionfive2", "riscv64"),
    ("s390-kvm", "s390x"),
    ("s390-lpar", "s390x"),
    ("s390-lpar-drawer", "s390x"),
    ("s390-nested-virt", "s390x"),
    ("s390-zvm", "s390x"),
    ("sparc64", "sparc64"),
    ("vbox-win", "x86_64"),
    ("vmware_fpe", "x86_64"),
    ("x86_64-64cpu", "x86_64"),
    ("x86_64-64cpu-linux6.2", "x86_64"),
    ("x86_64-dell_e4310", "x86_64"),
    ("x86_64-epyc_7451", "x86_64"),
];

/// Disagreements we accept: (dump, field, why). Keep this short.
const DELIBERATE: &[(&str, &str, &str)] = &[];

/// lscpu summary lines we do not compare, and why.
const NOT_COMPARED: &[(&str, &str)] = &[
    (
        "CPU(s) scaling MHz",
        "the current frequency as a share of the maximum: a momentary reading, not a property \
         of the machine, so the inventory does not keep it",
    ),
    (
        "MMU",
        "RISC-V's MMU mode (sv39); OpenCloudOS ships no RISC-V and the inventory does not model it",
    ),
];

/// Per-type summary lines (lscpu prints them once per CPU type, starting with "Model name").
const TYPE_KEYS: &[&str] = &[
    "Model name",
    "Machine type",
    "CPU family",
    "Model",
    "Thread(s) per core",
    "Core(s) per socket",
    "Core(s) per cluster",
    "Socket(s)",
    "Socket(s) per book",
    "Book(s) per drawer",
    "Book(s)",
    "Drawer(s)",
    "Cluster(s)",
    "Stepping",
    "Microcode version",
    "Frequency boost",
    "CPU dynamic MHz",
    "CPU static MHz",
    "CPU max MHz",
    "CPU min MHz",
    "BogoMIPS",
    "Dispatching mode",
    "Flags",
    "ISA",
];

/// Machine-wide summary lines (besides caches, NUMA nodes and vulnerabilities).
const GLOBAL_KEYS: &[&str] = &[
    "CPU op-mode(s)",
    "Address sizes",
    "Byte Order",
    "CPU(s)",
    "On-line CPU(s) list",
    "Off-line CPU(s) list",
    "Vendor ID",
    "Virtualization",
    "Hypervisor",
    "Hypervisor vendor",
    "Virtualization type",
    "NUMA node(s)",
];

const PHYSICAL: &str = "per-CPU CPU,Core,Socket,Node (lscpu -p --physical)";

/// lscpu's size_to_human_string(SIZE_SUFFIX_3LETTER | SIZE_SUFFIX_SPACE): "1.5 MiB", "32 KiB".
fn human_size(bytes: u64) -> String {
    hwsys::units::util_linux_size(bytes, hwsys::units::SizeStyle::IecSpaced)
}

/// A CPU list in canonical form (lscpu writes "0-62:2" strides and "0,1" pairs).
fn canon_list(s: &str) -> String {
    match parse_cpu_list(s) {
        Some(ids) => format_cpu_list(&ids),
        None => format!("unparsable list '{s}'"),
    }
}

fn is_list_key(key: &str) -> bool {
    key == "On-line CPU(s) list"
        || key == "Off-line CPU(s) list"
        || (key.starts_with("NUMA node") && key.ends_with(" CPU(s)"))
}

struct Expected {
    /// Canonical key -> value ("type1 Model name" for the second CPU type).
    summary: BTreeMap<String, String>,
    /// The `-p --physical` rows, first four columns.
    physical: Vec<String>,
}

fn parse_expected(text: &str) -> Result<Expected, String> {
    let mut summary = BTreeMap::new();
    let mut ntype: Option<usize> = None;
    let mut sections = text.split("# The following is the parsable format");
    let head = sections.next().unwrap_or("");
    for line in head.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("no ':' in summary line {line:?}"))?;
        let (key, value) = (key.trim(), value.trim());
        if NOT_COMPARED.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let canon = if key == "Model name" {
            let n = ntype.map_or(0, |n| n + 1);
            ntype = Some(n);
            format!("type{n} {key}")
        } else if TYPE_KEYS.contains(&key) {
            format!("type{} {key}", ntype.unwrap_or(0))
        } else if GLOBAL_KEYS.contains(&key)
            || key.ends_with(" cache")
            || key.starts_with("Vulnerability ")
            || (key.starts_with("NUMA node") && key.ends_with(" CPU(s)"))
        {
            key.to_string()
        } else {
            return Err(format!(
                "lscpu prints '{key}', which this test neither compares nor lists in NOT_COMPARED"
            ));
        };
        let value = if is_list_key(key) {
            canon_list(value)
        } else {
            value.to_string()
        };
        summary.insert(canon, value);
    }
    // The second parsable section is `-p --physical`.
    let physical = sections
        .nth(1)
        .unwrap_or("")
        .lines()
        .skip(1) // the rest of the "# The following ..." line
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    Ok(Expected { summary, physical })
}

fn mhz(v: Option<f64>) -> Option<String> {
    v.map(|m| format!("{m:.4}"))
}

fn put(map: &mut BTreeMap<String, String>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v);
    }
}

/// Our probe's values under lscpu's keys, where lscpu would print them.
fn ours(c: &Cpu) -> (BTreeMap<String, String>, Vec<String>) {
    let mut m = BTreeMap::new();
    let n = |v: Option<u32>| v.map(|x| x.to_string());
    put(&mut m, "CPU op-mode(s)", c.op_modes.clone());
    put(&mut m, "Address sizes", c.address_sizes.clone());
    put(&mut m, "Byte Order", c.byte_order.clone());
    put(&mut m, "CPU(s)", n(c.cpus));
    put(
        &mut m,
        "On-line CPU(s) list",
        c.online.as_deref().map(canon_list),
    );
    put(
        &mut m,
        "Off-line CPU(s) list",
        c.offline.as_deref().map(canon_list),
    );
    put(&mut m, "Vendor ID", c.vendor.clone());
    put(&mut m, "Virtualization", c.virtualization.clone());
    put(&mut m, "Hypervisor", c.hypervisor_name.clone());
    put(&mut m, "Hypervisor vendor", c.hypervisor.clone());
    put(&mut m, "Virtualization type", c.virtualization_type.clone());
    for cache in &c.caches {
        let size = human_size(cache.size_bytes);
        let value = if cache.from_cpuinfo {
            size
        } else {
            let s = if cache.instances == 1 { "" } else { "s" };
            format!("{size} ({} instance{s})", cache.instances)
        };
        m.insert(format!("{} cache", cache.name), value);
    }
    if !c.numa_nodes.is_empty() {
        m.insert("NUMA node(s)".into(), c.numa_nodes.len().to_string());
    }
    for node in &c.numa_nodes {
        m.insert(
            format!("NUMA node{} CPU(s)", node.id),
            canon_list(&node.cpus),
        );
    }
    for v in &c.vulnerabilities {
        m.insert(format!("Vulnerability {}", v.name), v.status.clone());
    }
    // Per-type lines: the first type from the top level (with the lines lscpu prints only for
    // the default type), the others from core_types.
    let t0 = "type0 ";
    put(
        &mut m,
        &format!("{t0}Model name"),
        Some(c.model_name.clone().unwrap_or_else(|| "-".into())),
    );
    put(&mut m, &format!("{t0}Machine type"), c.machine_type.clone());
    put(&mut m, &format!("{t0}CPU family"), c.family.clone());
    put(&mut m, &format!("{t0}Model"), c.model.clone());
    put(
        &mut m,
        &format!("{t0}Thread(s) per core"),
        n(c.threads_per_core),
    );
    put(
        &mut m,
        &format!("{t0}Core(s) per socket"),
        n(c.cores_per_socket),
    );
    put(
        &mut m,
        &format!("{t0}Core(s) per cluster"),
        n(c.cores_per_cluster),
    );
    put(&mut m, &format!("{t0}Socket(s)"), n(c.sockets));
    put(
        &mut m,
        &format!("{t0}Socket(s) per book"),
        n(c.sockets_per_book),
    );
    put(
        &mut m,
        &format!("{t0}Book(s) per drawer"),
        n(c.books_per_drawer),
    );
    put(&mut m, &format!("{t0}Book(s)"), n(c.books));
    put(&mut m, &format!("{t0}Drawer(s)"), n(c.drawers));
    put(&mut m, &format!("{t0}Cluster(s)"), n(c.clusters));
    put(&mut m, &format!("{t0}Stepping"), c.stepping.clone());
    put(
        &mut m,
        &format!("{t0}Microcode version"),
        c.microcode.clone(),
    );
    put(
        &mut m,
        &format!("{t0}Frequency boost"),
        c.frequency_boost
            .map(|b| if b { "enabled" } else { "disabled" }.to_string()),
    );
    put(
        &mut m,
        &format!("{t0}CPU dynamic MHz"),
        c.dynamic_mhz.clone(),
    );
    put(&mut m, &format!("{t0}CPU static MHz"), c.static_mhz.clone());
    put(&mut m, &format!("{t0}CPU max MHz"), mhz(c.max_mhz));
    put(&mut m, &format!("{t0}CPU min MHz"), mhz(c.min_mhz));
    put(&mut m, &format!("{t0}BogoMIPS"), c.bogomips.clone());
    put(
        &mut m,
        &format!("{t0}Dispatching mode"),
        c.dispatching_mode.clone(),
    );
    put(
        &mut m,
        &format!("{t0}Flags"),
        (!c.flags.is_empty()).then(|| c.flags.join(" ")),
    );
    put(&mut m, &format!("{t0}ISA"), c.isa.clone());
    for (i, ct) in c.core_types.iter().enumerate().skip(1) {
        let t = format!("type{i} ");
        put(
            &mut m,
            &format!("{t}Model name"),
            Some(ct.model_name.clone().unwrap_or_else(|| "-".into())),
        );
        put(&mut m, &format!("{t}CPU family"), ct.family.clone());
        put(&mut m, &format!("{t}Model"), ct.model.clone());
        put(
            &mut m,
            &format!("{t}Thread(s) per core"),
            n(ct.threads_per_core),
        );
        put(
            &mut m,
            &format!("{t}Core(s) per socket"),
            n(ct.cores_per_socket),
        );
        put(&mut m, &format!("{t}Socket(s)"), n(ct.sockets));
        put(&mut m, &format!("{t}Stepping"), ct.stepping.clone());
        put(&mut m, &format!("{t}CPU max MHz"), mhz(ct.max_mhz));
        put(&mut m, &format!("{t}CPU min MHz"), mhz(ct.min_mhz));
        put(&mut m, &format!("{t}BogoMIPS"), ct.bogomips.clone());
        put(
            &mut m,
            &format!("{t}Flags"),
            (!ct.flags.is_empty()).then(|| ct.flags.join(" ")),
        );
    }
    let physical = c
        .topology
        .iter()
        .filter(|t| t.online)
        .map(|t| {
            let id = |v: Option<i64>| match v {
                Some(x) if x >= 0 => x.to_string(),
                _ => "-".to_string(),
            };
            let node = t.node.map(|n| n.to_string()).unwrap_or_default();
            format!("{},{},{},{}", t.cpu, id(t.core_id), id(t.socket_id), node)
        })
        .collect();
    (m, physical)
}

struct Outcome {
    arch: Option<String>,
    agree: usize,
    total: usize,
    failures: Vec<String>,
    accepted: Vec<String>,
}

fn compare(name: &str, root: &Path, expected: &Expected) -> Outcome {
    let sys = Sysroot::new(root);
    let arch = cpu::detect_arch(&sys);
    let c = cpu::probe(&sys, arch.as_deref());
    let (mine, physical) = ours(&c);
    let mut keys: Vec<&String> = expected.summary.keys().chain(mine.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Outcome {
        arch: arch.clone(),
        agree: 0,
        total: 0,
        failures: vec![],
        accepted: vec![],
    };
    let absent = "(absent)".to_string();
    let mut check = |field: &str, theirs: &str, ours: &str| {
        out.total += 1;
        if theirs == ours {
            out.agree += 1;
            return;
        }
        let msg = format!("{name}: {field}: lscpu {theirs:?}, hwdb {ours:?}");
        match DELIBERATE
            .iter()
            .find(|(d, f, _)| *d == name && field.ends_with(f))
        {
            Some((_, _, why)) => out.accepted.push(format!("{msg} -- deliberate: {why}")),
            None => out.failures.push(msg),
        }
    };
    for k in keys {
        let theirs = expected.summary.get(k).unwrap_or(&absent);
        let ours = mine.get(k).unwrap_or(&absent);
        check(k, theirs, ours);
    }
    let (theirs, ours) = (expected.physical.join(" "), physical.join(" "));
    let first_diff = expected
        .physical
        .iter()
        .zip(physical.iter().chain(std::iter::repeat(&absent)))
        .find(|(a, b)| a != b)
        .map(|(a, b)| format!("first difference: lscpu {a}, hwdb {b}"));
    match first_diff {
        Some(d) if theirs != ours => check(PHYSICAL, &d, "(see lscpu's value)"),
        _ => check(PHYSICAL, &theirs, &ours),
    }
    out
}

#[test]
fn lscpu_fixtures_agree() {
    let Some(ul) = common::util_linux() else {
        return;
    };
    let dir = ul.join("lscpu");
    if !dir.is_dir() {
        testing::fixtures::skip(&format!("{} is absent", dir.display()));
        return;
    }
    let (mut agree, mut total) = (0, 0);
    let mut failures = Vec::new();
    let mut accepted = Vec::new();
    let mut skipped = Vec::new();
    for (name, want_arch) in DUMPS {
        let archive = dir.join(format!("{name}.tar.gz"));
        let expected_path = dir.join(format!("lscpu-{name}"));
        if !archive.is_file() || !expected_path.is_file() {
            skipped.push(name);
            continue;
        }
        let text = std::fs::read_to_string(&expected_path).expect("read expected output");
        let expected = match parse_expected(&text) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let tmp = common::extract(&archive);
        let root = common::dump_root(tmp.path());
        let o = compare(name, &root, &expected);
        eprintln!("{name:36} {:3}/{:3} fields agree", o.agree, o.total);
        if o.arch.as_deref() != Some(want_arch) {
            failures.push(format!(
                "{name}: detect_arch says {:?}, the tree is {want_arch}",
                o.arch
            ));
        }
        agree += o.agree;
        total += o.total;
        failures.extend(o.failures);
        accepted.extend(o.accepted);
    }
    for a in &accepted {
        eprintln!("  {a}");
    }
    if !skipped.is_empty() {
        testing::fixtures::skip(&format!("dumps absent: {}", skipped.join(", ")));
    }
    eprintln!("lscpu fixtures: {agree}/{total} fields agree");
    assert!(
        failures.is_empty(),
        "{} disagreements with lscpu:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Hand-made aarch64 trees (tests/fixtures/make_aarch64_trees.py) and the real lscpu's output
/// on each (`lscpu_expected.sh`, util-linux 2.38.1), compared field by field like the dumps.
const OWN_TREES: &[&str] = &[
    "aarch64-ampere-altra",
    "aarch64-graviton3",
    "aarch64-yitian710",
    "aarch64-phytium-ft2000plus",
    "aarch64-nvidia-grace",
];

#[test]
fn lscpu_agrees_on_handmade_aarch64_trees() {
    let own = common::own_fixtures();
    let mut failures = Vec::new();
    for name in OWN_TREES {
        let root = own.join(name);
        let text = std::fs::read_to_string(root.join("lscpu-expected"))
            .unwrap_or_else(|e| panic!("{name}/lscpu-expected: {e}"));
        let expected = parse_expected(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            expected.summary.len() > 10 && !expected.physical.is_empty(),
            "{name}: lscpu-expected has too little in it"
        );
        let o = compare(name, &root, &expected);
        eprintln!("{name:36} {:3}/{:3} fields agree", o.agree, o.total);
        if o.arch.as_deref() != Some("aarch64") {
            failures.push(format!("{name}: detect_arch says {:?}", o.arch));
        }
        failures.extend(o.failures);
        failures.extend(o.accepted);
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with lscpu:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
