//! The catalog as a whole: names, descriptions, and every case on every recorded machine
//! (hand-made trees, this machine's snapshot, util-linux's dumps, garbage) without a panic.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use cases::{CaseInfo, Inventory, RunOptions, Selection, Status, Target};
use common::*;

#[test]
fn names_are_unique_and_component_qualified() {
    let cat = cases::catalog();
    let names: Vec<String> = cat.iter().map(|c| c.info().name.clone()).collect();
    eprintln!("{}", names.join("\n"));
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "duplicate names: {names:?}");
    for c in &cat {
        let i = c.info();
        let (component, case) = i.name.split_once("::").expect("component::case");
        assert_eq!(component, i.component.as_str(), "{}", i.name);
        assert!(
            !case.is_empty()
                && !case.contains(':')
                && case
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
            "{}",
            i.name
        );
        assert!(
            !i.purpose.is_empty() && !i.purpose.contains('\n'),
            "{}",
            i.name
        );
        assert!(i.estimate <= i.timeout, "{}", i.name);
        assert!(!i.timeout.is_zero(), "{}", i.name);
        let json = serde_json::to_string(i).expect("serialize");
        let back: CaseInfo = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(&back, i);
        assert!(cases::find(&i.name).is_some());
    }
    // Catalog order: system, cpu, memory, pci, storage, network, accel, then the stress cases, then
    // the BMC's view of what the load did (its sensors, the events it logged during the run),
    // then what takes the machine down.
    let disruptive: Vec<&str> = cat
        .iter()
        .filter(|c| {
            let r = &c.info().requirements;
            r.disruptive.is_some() || r.disruptive_when.is_some()
        })
        .map(|c| c.info().name.as_str())
        .collect();
    assert_eq!(
        disruptive,
        [
            "system::reboot_cycle",
            "system::kdump_crash",
            "system::watchdog_reset"
        ]
    );
    let cat = &cat[..cat.len() - disruptive.len()];
    let after_load: Vec<&str> = cat[cat.len() - 2..]
        .iter()
        .map(|c| c.info().name.as_str())
        .collect();
    assert_eq!(after_load, ["system::bmc_sensors", "system::bmc_sel"]);
    let cat = &cat[..cat.len() - after_load.len()];
    assert!(cat.iter().all(|c| {
        let r = &c.info().requirements;
        r.disruptive.is_none() && r.disruptive_when.is_none()
    }));
    let order: Vec<&str> = cat
        .iter()
        .filter(|c| !c.info().name.ends_with("::stress"))
        .map(|c| c.info().component.as_str())
        .collect();
    let stress: Vec<&str> = cat
        .iter()
        .skip(order.len())
        .map(|c| c.info().name.as_str())
        .collect();
    assert_eq!(stress, ["cpu::stress", "memory::stress", "storage::stress"]);
    let mut sorted = order.clone();
    sorted.sort_by_key(|c| {
        [
            "system", "cpu", "memory", "pci", "storage", "network", "accel",
        ]
        .iter()
        .position(|x| x == c)
    });
    assert_eq!(order, sorted);
    for expected in [
        "system::os_supported",
        "system::kernel_taint",
        "system::dmesg_clean",
        "system::kdump_ready",
        "system::clocksource",
        "system::watchdog_present",
        "cpu::all_online",
        "cpu::topology_consistent",
        "cpu::cpufreq",
        "cpu::microcode",
        "cpu::isa_baseline",
        "memory::size_consistent",
        "memory::edac_clean",
        "pci::driver_bound",
        "pci::link_not_degraded",
        "pci::aer_clean",
        "pci::driver_in_tree",
        "storage::identity",
        "storage::read_verify",
        "storage::nvme_health",
        "storage::smart_health",
        "network::link_up",
        "network::driver_info",
        "network::mtu_roundtrip",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
    assert!(
        !cat.iter()
            .find(|c| c.info().name == "system::watchdog_present")
            .expect("w")
            .info()
            .blocker
    );
}

/// Run every selected instance of every case on the tree at `root`: the statuses, by instance.
fn run_everything(
    root: &Path,
    inv: &Inventory,
    opts: &RunOptions,
) -> Vec<(String, Status, String)> {
    let mut out = Vec::new();
    let live = hwsys::Sysroot::new(root).is_live();
    for c in cases::catalog() {
        // Live-only cases (the stressors) load this machine, whatever tree is read: the planner
        // never plans them for a recorded tree.
        if c.info().requirements.live && !live {
            continue;
        }
        if let Selection::Targets(ts) = c.select_with(inv, opts) {
            for t in ts {
                let ran = run_on(c.as_ref(), inv, root, &t, opts, false);
                out.push((
                    cases::instance_name(&c.info().name, &t),
                    ran.verdict().status(),
                    ran.reason(),
                ));
            }
        }
    }
    out
}

fn assert_no_error(what: &str, results: &[(String, Status, String)]) {
    let errors: Vec<String> = results
        .iter()
        .filter(|(_, s, _)| *s == Status::Error)
        .map(|(n, _, r)| format!("{n}: {r}"))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
}

#[test]
fn every_case_on_the_hand_made_trees() {
    for tree in ["raid-sas", "aarch64-kunpeng", "offline-cpus"] {
        let root = handmade(tree);
        let inv = probe(&root);
        let r = run_everything(&root, &inv, &RunOptions::default());
        assert!(r.len() > 15, "{tree}: {r:?}");
        for (n, s, why) in &r {
            eprintln!("{tree:16} {n:40} {} {why}", s.as_str());
        }
        assert_no_error(tree, &r);
    }
}

#[test]
fn every_case_on_this_machines_snapshot() {
    let archive = testing::fixtures::fixture("firecracker-vm.tar.gz");
    let d = extract(&archive);
    let inv = probe(d.path());
    let r = run_everything(d.path(), &inv, &RunOptions::default());
    for (n, s, why) in &r {
        eprintln!("{n:40} {} {why}", s.as_str());
    }
    assert_no_error("firecracker snapshot", &r);
    let status = |name: &str| r.iter().find(|(n, _, _)| n == name).map(|(_, s, _)| *s);
    assert_eq!(status("cpu::all_online"), Some(Status::Pass));
    assert_eq!(status("memory::size_consistent"), Some(Status::Pass));
    assert_eq!(status("cpu::cpufreq"), Some(Status::Skip));
    assert_eq!(status("memory::edac_clean"), Some(Status::Skip));
    assert_eq!(status("storage::identity::vda"), Some(Status::Skip));
}

#[test]
fn empty_inventory_selects_without_panic() {
    let inv = Inventory::default();
    let opts = RunOptions {
        mtu_interfaces: vec!["*".into()],
        ..RunOptions::default()
    };
    let empty = tempdir();
    for c in cases::catalog() {
        let s = c.select_with(&inv, &opts);
        if let Selection::Targets(ts) = s {
            for t in ts {
                let _ = run_on(c.as_ref(), &inv, empty.path(), &t, &opts, false);
            }
        }
        // A per-item case run without an item says so instead of panicking.
        let _ = run_on(
            c.as_ref(),
            &inv,
            empty.path(),
            &Target::machine(),
            &opts,
            false,
        );
        let _ = run_on(
            c.as_ref(),
            &inv,
            empty.path(),
            &Target::item("../../etc/passwd", None),
            &opts,
            false,
        );
    }
}

/// Every regular file of a copy of each hand-made tree turned to garbage: nothing panics.
#[test]
fn garbage_trees_never_panic() {
    for tree in ["raid-sas", "aarch64-kunpeng", "offline-cpus"] {
        for garbage in [
            &b"\xff\xfe garbage \x00\x01"[..],
            b"",
            b"-1\n",
            b"99999999999999999999999999\n",
        ] {
            let d = copy_tree(&handmade(tree));
            let mut stack = vec![d.path().to_path_buf()];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
                    let ft = e.file_type().expect("type");
                    if ft.is_dir() {
                        stack.push(e.path());
                    } else if ft.is_file() {
                        std::fs::write(e.path(), garbage).expect("garbage");
                    }
                }
            }
            // The inventory of the original tree with the garbage files underneath: cases
            // re-read what they judge.
            let inv = probe(&handmade(tree));
            let _ = run_everything(d.path(), &inv, &RunOptions::default());
            let inv = probe(d.path());
            let _ = run_everything(d.path(), &inv, &RunOptions::default());
        }
    }
}

/// util-linux's lscpu and lsblk dumps of real machines (skipped when absent).
#[test]
fn cpu_and_storage_cases_on_util_linux_dumps() {
    let base = testing::fixtures::workspace().join("../shared/fixtures/util-linux");
    if !base.is_dir() {
        testing::fixtures::skip(&format!("{} is absent", base.display()));
        return;
    }
    let mut n = 0;
    for sub in ["lscpu", "lsblk", "lsmem"] {
        let dir = base.join(sub);
        let mut archives: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let s = p.to_string_lossy();
                s.ends_with(".tar.gz") || s.ends_with(".tar.xz") || s.ends_with(".tar.bz2")
            })
            .collect();
        archives.sort();
        for a in archives {
            let d = extract(&a);
            let root = dump_root(d.path());
            let Ok(inv) = inventory::probe(&inventory::ProbeOptions {
                sysroot: root.clone(),
                all: false,
                show_identifiers: false,
                udev: false,
                bmc: None,
            }) else {
                continue;
            };
            let r = run_everything(&root, &inv, &RunOptions::default());
            let errors: Vec<_> = r
                .iter()
                .filter(|(name, s, _)| {
                    *s == Status::Error && !name.starts_with("system::os_supported")
                })
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", a.display());
            n += 1;
        }
    }
    eprintln!("ran the catalog on {n} util-linux dumps");
}

fn dump_root(dir: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    if entries.len() == 1 && !dir.join("proc").exists() && !dir.join("sys").exists() {
        entries[0].clone()
    } else {
        dir.to_path_buf()
    }
}
