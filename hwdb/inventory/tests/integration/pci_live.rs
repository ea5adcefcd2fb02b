//! `inventory::pci::probe` on this machine against `lspci -vmmnnk -D`.
//!
//! IDs, revision, programming interface, driver, NUMA node, IOMMU group (and modules when
//! lspci can load libkmod) must agree exactly: both read the same kernel. Names may differ:
//! lspci names from the system's pci.ids (hwdata package) and we from the pci-ids crate's
//! embedded copy, so an ID that is new or renamed in one database names differently. Those
//! differences are printed, not failed, unless HWCERT_PCI_NAMES_STRICT=1.
//!
//! The timing loop is an ignored test:
//! `cargo test --release -p hwdb --test pci_live -- --ignored --nocapture`
//! (peak memory of a probe alone: `cargo run --release -p hwdb --example pci_probe`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use inventory::{pci, Sysroot};

/// One `lspci -vmm` record: each key's values (Module: may repeat).
type Record = BTreeMap<String, Vec<String>>;

fn run_lspci(args: &[&str]) -> Option<String> {
    match Command::new("lspci").args(args).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => {
            eprintln!(
                "SKIP: lspci {args:?} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("SKIP: lspci is not installed ({e})");
            None
        }
    }
}

fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut cur = Record::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            // "Slot:\t0000:00:00.0": only the first colon separates.
            cur.entry(k.to_string())
                .or_default()
                .push(v.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// "Red Hat, Inc. [1af4]" → (Some("Red Hat, Inc."), "1af4"); the placeholder lspci prints for
/// an unknown name ("Device [0d57]") → (None, "0d57").
fn name_and_id(v: &str, unknown: &str) -> (Option<String>, String) {
    match v.rsplit_once(" [") {
        Some((name, id)) => {
            let id = id.trim_end_matches(']').to_string();
            let name = (name != unknown).then(|| name.to_string());
            (name, id)
        }
        None => (None, v.to_string()),
    }
}

struct Tally {
    agree: usize,
    total: usize,
    hard: Vec<String>,
    names: Vec<String>,
}

impl Tally {
    fn check<T: PartialEq + std::fmt::Debug>(
        &mut self,
        slot: &str,
        field: &str,
        lspci: T,
        ours: T,
        is_name: bool,
    ) {
        self.total += 1;
        if lspci == ours {
            self.agree += 1;
        } else {
            let line = format!("{slot} {field}: lspci {lspci:?}, hwdb {ours:?}");
            if is_name {
                self.names.push(line);
            } else {
                self.hard.push(line);
            }
        }
    }
}

fn kernel(sys: &Sysroot) -> Option<String> {
    sys.attr("proc/sys/kernel/osrelease")
}

fn system_pci_ids_version() -> String {
    ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"]
        .iter()
        .find_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            text.lines()
                .take(20)
                .find_map(|l| l.strip_prefix("#\tVersion:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Every field of `devs` that `lspci -vmmnnk -D` (parsed into `recs`) also prints.
fn compare(recs: &[Record], devs: &[pci::PciDevice]) -> Tally {
    let mut t = Tally {
        agree: 0,
        total: 0,
        hard: Vec::new(),
        names: Vec::new(),
    };
    let first = |r: &Record, k: &str| r.get(k).and_then(|v| v.first()).cloned();

    let ours_slots: Vec<&str> = devs.iter().map(|d| d.address.as_str()).collect();
    let lspci_slots: Vec<String> = recs.iter().filter_map(|r| first(r, "Slot")).collect();
    t.check(
        "*",
        "slots",
        lspci_slots.clone(),
        ours_slots.iter().map(|s| s.to_string()).collect(),
        false,
    );

    for r in recs {
        let Some(slot) = first(r, "Slot") else {
            continue;
        };
        let Some(d) = devs.iter().find(|d| d.address == slot) else {
            continue;
        };
        let s = slot.as_str();
        if let Some(v) = first(r, "Class") {
            let (name, id) = name_and_id(&v, "Class");
            t.check(
                s,
                "class id",
                Some(id),
                d.class_id
                    .as_ref()
                    .and_then(|c| c.get(..4))
                    .map(str::to_string),
                false,
            );
            t.check(s, "class name", name, d.class_name.clone(), true);
        }
        if let Some(v) = first(r, "Vendor") {
            let (name, id) = name_and_id(&v, "Vendor");
            t.check(s, "vendor id", Some(id), d.vendor_id.clone(), false);
            t.check(s, "vendor name", name, d.vendor_name.clone(), true);
        }
        if let Some(v) = first(r, "Device") {
            let (name, id) = name_and_id(&v, "Device");
            t.check(s, "device id", Some(id), d.device_id.clone(), false);
            t.check(s, "device name", name, d.device_name.clone(), true);
        }
        match first(r, "SVendor") {
            Some(v) => {
                let (name, id) = name_and_id(&v, "Unknown vendor");
                t.check(
                    s,
                    "subsystem vendor id",
                    Some(id),
                    d.subsystem_vendor_id.clone(),
                    false,
                );
                t.check(
                    s,
                    "subsystem vendor name",
                    name,
                    d.subsystem_vendor_name.clone(),
                    true,
                );
            }
            None => t.check(
                s,
                "no subsystem vendor name",
                None,
                d.subsystem_vendor_name.clone(),
                false,
            ),
        }
        match first(r, "SDevice") {
            Some(v) => {
                let (name, id) = name_and_id(&v, "Device");
                t.check(
                    s,
                    "subsystem device id",
                    Some(id),
                    d.subsystem_device_id.clone(),
                    false,
                );
                t.check(s, "subsystem name", name, d.subsystem_name.clone(), true);
            }
            None => t.check(
                s,
                "no subsystem name",
                None,
                d.subsystem_name.clone(),
                false,
            ),
        }
        // lspci leaves out Rev (and older versions ProgIf) when the byte is 0.
        let rev = first(r, "Rev").unwrap_or_else(|| "00".into());
        t.check(s, "revision", Some(rev), d.revision.clone(), false);
        let prog_if = first(r, "ProgIf").unwrap_or_else(|| "00".into());
        t.check(s, "prog-if", Some(prog_if), d.prog_if.clone(), false);
        t.check(s, "driver", first(r, "Driver"), d.driver.clone(), false);
        let numa = first(r, "NUMANode").and_then(|n| n.parse::<i32>().ok());
        t.check(s, "numa node", numa, d.numa_node, false);
        let group = first(r, "IOMMUGroup").and_then(|n| n.parse::<u32>().ok());
        t.check(s, "iommu group", group, d.iommu_group, false);
        if let Some(mods) = r.get("Module") {
            let mut a = mods.clone();
            let mut b = d.modules.clone();
            a.sort();
            b.sort();
            t.check(s, "modules", a, b, false);
        }
    }

    t
}

#[test]
fn pci_agrees_with_lspci() {
    let sys = Sysroot::new("/");
    if sys.list_dir("sys/bus/pci/devices").is_empty() {
        eprintln!("SKIP: no PCI functions in /sys/bus/pci/devices");
        return;
    }
    let Some(text) = run_lspci(&["-vmmnnk", "-D"]) else {
        return;
    };
    let recs = records(&text);
    let devs = pci::probe(&sys, kernel(&sys).as_deref());
    let t = compare(&recs, &devs);
    println!(
        "pci live: {} of {} compared fields differ ({} agree)",
        t.total - t.agree,
        t.total,
        t.agree
    );
    if !t.names.is_empty() {
        println!(
            "names that differ (system pci.ids {} used by lspci, embedded pci-ids database in hwdb):",
            system_pci_ids_version()
        );
        for n in &t.names {
            println!("  {n}");
        }
    }
    for h in &t.hard {
        println!("  MISMATCH {h}");
    }
    let w = sys.warnings();
    assert!(w.is_empty(), "warnings on the live system: {w:?}");
    assert!(t.hard.is_empty(), "{:#?}", t.hard);
    if std::env::var_os("HWCERT_PCI_NAMES_STRICT").is_some_and(|v| v == "1") {
        assert!(t.names.is_empty(), "{:#?}", t.names);
    }
}

/// The attributes `pci::probe` reads of a function, and the links.
const ATTRS: &[&str] = &[
    "uevent",
    "vendor",
    "device",
    "subsystem_vendor",
    "subsystem_device",
    "class",
    "revision",
    "modalias",
    "numa_node",
    "enable",
    "irq",
    "current_link_speed",
    "current_link_width",
    "max_link_speed",
    "max_link_width",
    "sriov_totalvfs",
    "sriov_numvfs",
    "aer_dev_correctable",
    "aer_dev_fatal",
    "aer_dev_nonfatal",
];
const LINKS: &[&str] = &["driver", "iommu_group", "physfn"];

/// A copy of this machine's PCI functions as an older kernel shows them: without the
/// attributes in `drop` (and without their keys in `uevent`), with `config` as read here.
fn older_kernel_copy(live: &Sysroot, dest: &Path, drop: &[&str]) {
    let put = |rel: &str, bytes: &[u8]| {
        let p = dest.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    };
    let ln = |rel: &str, target: &str| {
        let p = dest.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, p).expect("symlink");
    };
    let dropped_keys: Vec<&str> = drop
        .iter()
        .filter_map(|a| match *a {
            "class" => Some("PCI_CLASS="),
            "subsystem_vendor" | "subsystem_device" => Some("PCI_SUBSYS_ID="),
            "vendor" | "device" => Some("PCI_ID="),
            _ => None,
        })
        .collect();
    for name in live.list_dir("sys/bus/pci/devices") {
        let Some(dir) = live.canonical(&format!("sys/bus/pci/devices/{name}")) else {
            continue;
        };
        let up = "../".repeat(dir.matches('/').count() - 1);
        ln(
            &format!("sys/bus/pci/devices/{name}"),
            &format!("../../../{}", dir.trim_start_matches("sys/")),
        );
        for attr in ATTRS.iter().filter(|a| !drop.contains(a)) {
            let Some(text) = live.read_maybe_empty(&format!("{dir}/{attr}")) else {
                continue;
            };
            let text = if *attr == "uevent" {
                text.lines()
                    .filter(|l| !dropped_keys.iter().any(|k| l.starts_with(k)))
                    .map(|l| format!("{l}\n"))
                    .collect()
            } else {
                text
            };
            put(&format!("{dir}/{attr}"), text.as_bytes());
        }
        if let Some(config) = live.read_prefix(&format!("{dir}/config"), 4096) {
            put(&format!("{dir}/config"), &config);
        }
        for l in LINKS {
            let Some(target) = live.read_link(&format!("{dir}/{l}")) else {
                continue;
            };
            let target = target.to_string_lossy().into_owned();
            // The link's target, below sys/ as on the live system (driver, IOMMU group).
            let inside = target.trim_start_matches("../");
            if *l != "physfn" {
                std::fs::create_dir_all(dest.join("sys").join(inside)).expect("mkdir");
            }
            ln(&format!("{dir}/{l}"), &format!("{up}{inside}"));
        }
    }
}

/// This machine's functions as kernels without the `revision` attribute (the servers),
/// and without any ID or link attribute but vendor and device, show them: every field still
/// agrees with lspci, which reads config space.
#[test]
fn pci_agrees_with_lspci_on_an_older_kernel() {
    let sys = Sysroot::new("/");
    if sys.list_dir("sys/bus/pci/devices").is_empty() {
        eprintln!("SKIP: no PCI functions in /sys/bus/pci/devices");
        return;
    }
    let Some(text) = run_lspci(&["-vmmnnk", "-D"]) else {
        return;
    };
    let recs = records(&text);
    let k = kernel(&sys);
    let mut hard = Vec::new();
    for drop in [
        &["revision"][..],
        &[
            "revision",
            "class",
            "subsystem_vendor",
            "subsystem_device",
            "current_link_speed",
            "current_link_width",
            "max_link_speed",
            "max_link_width",
        ][..],
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        older_kernel_copy(&sys, d.path(), drop);
        let copy = Sysroot::new(d.path());
        let devs = pci::probe(&copy, k.as_deref());
        let t = compare(&recs, &devs);
        println!(
            "pci without {drop:?}: {} of {} compared fields differ",
            t.total - t.agree,
            t.total
        );
        for h in &t.hard {
            println!("  MISMATCH {h}");
        }
        assert!(
            copy.warnings().is_empty(),
            "{drop:?}: {:?}",
            copy.warnings()
        );
        hard.extend(t.hard);
    }
    assert!(hard.is_empty(), "{hard:#?}");
}

/// Run `f` `n` times: (mean, fastest) in milliseconds.
fn time_runs(n: u32, mut f: impl FnMut()) -> (f64, f64) {
    let mut total = Duration::ZERO;
    let mut best = Duration::MAX;
    for _ in 0..n {
        let start = Instant::now();
        f();
        let t = start.elapsed();
        total += t;
        best = best.min(t);
    }
    (
        total.as_secs_f64() * 1000.0 / f64::from(n.max(1)),
        best.as_secs_f64() * 1000.0,
    )
}

/// Not an assertion: prints the wall time of `pci::probe`, of reading a modules.alias, and of
/// `lspci -vmmnnk`.
#[test]
#[ignore = "timing: run with --release --ignored --nocapture"]
fn timing() {
    let sys = Sysroot::new("/");
    let k = kernel(&sys);
    let mut count = 0;
    let (mean, best) = time_runs(200, || {
        let s = Sysroot::new("/");
        count = pci::probe(&s, k.as_deref()).len();
    });
    println!("pci::probe: {count} functions, mean {mean:.3} ms, fastest {best:.3} ms (200 runs)");

    // modules.alias cost, on a synthetic file the size of a distribution kernel's (this
    // machine has none): 1.5 MB, about 40% of it PCI aliases.
    let mut alias = String::new();
    let mut i = 0u32;
    while alias.len() < 1_500_000 {
        if i % 5 < 2 {
            alias.push_str(&format!(
                "alias pci:v{:08X}d{:08X}sv*sd*bc*sc*i* mod_{}\n",
                0x8000 + i % 97,
                i,
                i % 700
            ));
        } else {
            alias.push_str(&format!(
                "alias usb:v{:04X}p{:04X}d*dc*dsc*dp*ic*isc*ip*in* usbmod_{}\n",
                i % 300,
                i,
                i % 500
            ));
        }
        i += 1;
    }
    let mut table = None;
    let (parse_mean, parse_best) = time_runs(20, || {
        table = Some(inventory::modalias::AliasTable::parse(alias.as_bytes(), "pci:").0);
    });
    let table = table.unwrap_or_default();
    let mut hits = 0;
    let (look_mean, _) = time_runs(1, || {
        for j in 0..200u32 {
            hits += table
                .modules_for(&format!(
                    "pci:v{:08X}d{:08X}sv00000000sd00000000bc02sc00i00",
                    0x8000 + j % 97,
                    j * 5
                ))
                .len();
        }
    });
    println!(
        "modules.alias: {} bytes, {} pci aliases kept; parse mean {parse_mean:.3} ms, fastest {parse_best:.3} ms (20 runs); 200 lookups {look_mean:.3} ms ({hits} hits)",
        alias.len(),
        table.len(),
    );
    drop(alias);

    if run_lspci(&["-vmmnnk"]).is_some() {
        let (theirs, theirs_best) = time_runs(20, || {
            let _ = Command::new("lspci").arg("-vmmnnk").output();
        });
        println!(
            "lspci -vmmnnk: mean {theirs:.3} ms, fastest {theirs_best:.3} ms (20 runs, process start included); mean ratio hwdb/lspci {:.3}",
            mean / theirs
        );
    }
}
