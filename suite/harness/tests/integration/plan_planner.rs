//! The planner with test-only cases on the hand-made fixture trees: include/exclude, requirements,
//! not-applicable reasons, stress estimates, destructive flags, command cases and `applies_to`.

use std::path::PathBuf;
use std::time::Duration;

use cases::{
    Case, CaseInfo, Component, Context, Inventory, Requirements, Selection, Target, Verdict,
};
use documents::plan::{InstanceKind, Plan};
use harness::planner::{make_plan_with, render_text, PlanRequest, Planned};
use harness::profile::{load_profile, Profile};

type Selector = Box<dyn Fn(&Inventory) -> Selection + Send + Sync>;

/// A case that only exists in these tests.
struct TestCase {
    info: CaseInfo,
    select: Selector,
}

impl Case for TestCase {
    fn info(&self) -> &CaseInfo {
        &self.info
    }
    fn select(&self, inv: &Inventory) -> Selection {
        (self.select)(inv)
    }
    fn run(&self, _ctx: &mut Context<'_>) -> Verdict {
        Verdict::Pass
    }
}

fn case(
    name: &str,
    component: Component,
    requirements: Requirements,
    blocker: bool,
    select: Selector,
) -> Box<dyn Case> {
    Box::new(TestCase {
        info: CaseInfo {
            name: name.into(),
            purpose: format!("test case {name}"),
            component,
            requirements,
            timeout: Duration::from_secs(60),
            estimate: Duration::from_secs(2),
            blocker,
        },
        select,
    })
}

fn machine() -> Selector {
    Box::new(|_| Selection::Targets(vec![Target::machine()]))
}

fn pci_functions() -> Selector {
    Box::new(|inv| {
        let t: Vec<Target> = inv
            .pci
            .iter()
            .filter(|d| !d.is_bridge && d.driver.is_some())
            .map(|d| Target::item(d.address.clone(), d.device_name.clone()))
            .collect();
        if t.is_empty() {
            Selection::NotApplicable("no PCI function with a driver".into())
        } else {
            Selection::Targets(t)
        }
    })
}

fn disks() -> Selector {
    Box::new(|inv| {
        let t: Vec<Target> = inv
            .storage
            .iter()
            .filter(|b| b.kind.as_deref() == Some("disk"))
            .map(|b| Target::item(b.name.clone(), b.model.clone()))
            .collect();
        if t.is_empty() {
            Selection::NotApplicable("no disk".into())
        } else {
            Selection::Targets(t)
        }
    })
}

fn nics() -> Selector {
    Box::new(|inv| {
        let t: Vec<Target> = inv
            .network
            .iter()
            .filter(|n| !n.is_virtual)
            .map(|n| Target::item(n.name.clone(), None))
            .collect();
        if t.is_empty() {
            Selection::NotApplicable("no physical network interface".into())
        } else {
            Selection::Targets(t)
        }
    })
}

fn req(f: impl FnOnce(&mut Requirements)) -> Requirements {
    let mut r = Requirements::default();
    f(&mut r);
    r
}

/// A small catalog shaped like the real one.
fn catalog() -> Vec<Box<dyn Case>> {
    vec![
        case(
            "system::os_supported",
            Component::System,
            req(|_| {}),
            true,
            machine(),
        ),
        case(
            "system::live_only",
            Component::System,
            req(|r| r.live = true),
            false,
            machine(),
        ),
        case(
            "system::needs_root",
            Component::System,
            req(|r| r.root = true),
            true,
            machine(),
        ),
        case(
            "cpu::all_online",
            Component::Cpu,
            req(|_| {}),
            true,
            machine(),
        ),
        case(
            "memory::big",
            Component::Memory,
            req(|r| r.min_memory_bytes = Some(300 << 30)),
            false,
            machine(),
        ),
        case(
            "pci::driver_bound",
            Component::Pci,
            req(|_| {}),
            true,
            pci_functions(),
        ),
        case(
            "storage::read_verify",
            Component::Storage,
            req(|_| {}),
            true,
            disks(),
        ),
        case(
            "storage::smart_health",
            Component::Storage,
            req(|r| r.tools = vec!["hwcert-test-no-such-tool".into(), "sh".into()]),
            false,
            disks(),
        ),
        case(
            "storage::erase",
            Component::Storage,
            req(|r| r.destructive = true),
            true,
            disks(),
        ),
        case(
            "network::link_up",
            Component::Network,
            req(|_| {}),
            true,
            nics(),
        ),
        case("cpu::stress", Component::Cpu, req(|_| {}), true, machine()),
        case(
            "memory::stress",
            Component::Memory,
            req(|_| {}),
            true,
            machine(),
        ),
        case(
            "storage::stress",
            Component::Storage,
            req(|_| {}),
            true,
            disks(),
        ),
    ]
}

fn fixture(name: &str) -> PathBuf {
    testing::fixtures::fixture(name)
}

fn inventory(name: &str) -> Inventory {
    inventory::probe(&inventory::ProbeOptions {
        sysroot: fixture(name),
        ..Default::default()
    })
    .expect("a fixture tree")
}

fn profile_file(text: &str) -> (tempfile::TempDir, Profile) {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("p.toml");
    std::fs::write(&p, text).expect("write");
    let prof = load_profile(p.to_str().expect("utf8")).expect("a valid profile");
    (d, prof)
}

fn plan_on(fixture_name: &str, profile: &Profile, root: bool, devices: &[&str]) -> Planned {
    let inv = inventory(fixture_name);
    let root_path = fixture(fixture_name);
    let mut r = PlanRequest::new(profile, &inv, &root_path);
    r.is_root = root;
    r.destructive_devices = devices.iter().map(|d| d.to_string()).collect();
    make_plan_with(&r, &catalog()).expect("a plan")
}

fn names(p: &Plan) -> Vec<&str> {
    p.instances.iter().map(|i| i.name.as_str()).collect()
}

fn reason<'a>(p: &'a Plan, name: &str) -> &'a str {
    p.not_planned
        .iter()
        .find(|n| n.name() == name)
        .map(|n| n.reason.as_str())
        .unwrap_or_else(|| panic!("{name} is not in not_planned: {:#?}", p.not_planned))
}

#[test]
fn quick_on_raid_sas() {
    let quick = load_profile("quick").expect("quick");
    let Planned { plan, warnings } = plan_on("raid-sas", &quick, false, &[]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(plan.schema, "hwcert.plan/1");
    assert_eq!(plan.profile, "quick");
    assert_eq!(
        names(&plan),
        [
            "system::os_supported",
            "cpu::all_online",
            "memory::big",
            "pci::driver_bound::0000:3b:00.0",
            "pci::driver_bound::0000:af:00.0",
            "storage::read_verify::sda",
            "storage::read_verify::sdb",
            "storage::erase::sda",
            "storage::erase::sdb",
            "cpu::stress",
            "memory::stress",
            "storage::stress::sda",
            "storage::stress::sdb",
        ]
    );
    // Not planned, in catalog order, each with its reason.
    assert_eq!(
        reason(&plan, "system::live_only"),
        "runs only on the live system (--sysroot is a recorded machine)"
    );
    assert_eq!(reason(&plan, "system::needs_root"), "needs root");
    assert_eq!(
        reason(&plan, "storage::smart_health"),
        "needs tool hwcert-test-no-such-tool (not on PATH)"
    );
    assert_eq!(
        reason(&plan, "network::link_up"),
        "no physical network interface"
    );
    assert_eq!(plan.not_planned.len(), 4);

    let i = &plan.instances[3];
    assert_eq!(i.case, "pci::driver_bound");
    assert_eq!(i.component, Component::Pci);
    assert_eq!(i.target.as_deref(), Some("0000:3b:00.0"));
    assert_eq!(i.kind, InstanceKind::Builtin);
    assert_eq!((i.timeout_s, i.estimate_s, i.blocker), (60.0, 2.0, true));
    let erase = plan
        .instances
        .iter()
        .find(|i| i.name == "storage::erase::sdb")
        .expect("erase");
    assert!(erase.destructive, "planned but flagged");
    // 10 seconds of each stressor; the limit leaves room.
    for i in plan
        .instances
        .iter()
        .filter(|i| i.case.ends_with("::stress"))
    {
        assert_eq!(i.estimate_s, 10.0, "{}", i.name);
        assert!(i.timeout_s >= 60.0, "{}", i.name);
    }
    assert_eq!(plan.options.stress_seconds, Some(10));
    assert_eq!(plan.options.settings["stress.cpu_seconds"], "10");
    assert!(plan.options.destructive_devices.is_empty());
}

#[test]
fn root_and_memory_requirements() {
    let quick = load_profile("quick").expect("quick");
    let plan = plan_on("raid-sas", &quick, true, &[]).plan;
    assert!(names(&plan).contains(&"system::needs_root"));
    // 16 GiB VM: the 300 GiB case is not planned, with both sizes.
    let plan = plan_on("offline-cpus", &quick, false, &[]).plan;
    assert_eq!(
        reason(&plan, "memory::big"),
        "needs 300 GiB of memory, the machine has 15.3 GiB"
    );
    // Every unmet requirement is named.
    assert_eq!(reason(&plan, "system::needs_root"), "needs root");
    assert!(names(&plan).contains(&"storage::read_verify::vda"));
    assert!(
        !names(&plan).iter().any(|n| n.contains("sr0")),
        "not a disk"
    );
}

#[test]
fn standard_stress_estimates() {
    let std = load_profile("standard").expect("standard");
    let plan = plan_on("aarch64-kunpeng", &std, false, &[]).plan;
    let get = |n: &str| {
        plan.instances
            .iter()
            .find(|i| i.name == n)
            .unwrap_or_else(|| panic!("{n} planned"))
    };
    assert_eq!(get("cpu::stress").estimate_s, 600.0);
    assert!(get("cpu::stress").timeout_s > 600.0);
    assert_eq!(get("storage::stress::nvme0n1").estimate_s, 300.0);
    // One pass over 502 GiB at the planner's conservative rate.
    let mem = get("memory::stress");
    let total = 539_220_344_832f64;
    let want = total / harness::planner::MEMORY_PASS_BYTES_PER_SECOND as f64;
    assert!((mem.estimate_s - want).abs() < 1.0, "{}", mem.estimate_s);
    assert!(mem.timeout_s > 2.0 * mem.estimate_s);
    assert_eq!(plan.options.stress_seconds, None, "not one number");
    assert_eq!(plan.options.settings["stress.cpu_seconds"], "600");
    assert_eq!(plan.options.settings["stress.memory_passes"], "1");
    assert_eq!(plan.options.settings["stress.storage_seconds"], "300");
    // Each instance's own options.
    assert_eq!(
        plan.run_options(get("cpu::stress")).stress_seconds,
        Some(600)
    );
    assert_eq!(plan.run_options(get("memory::stress")).stress_seconds, None);
    assert_eq!(
        plan.run_options(get("storage::stress::nvme0n1"))
            .stress_seconds,
        Some(300)
    );
    assert_eq!(
        plan.run_options(get("cpu::all_online")).stress_seconds,
        None
    );
    assert!(names(&plan).contains(&"network::link_up::enp125s0f0"));
    assert!(!names(&plan).contains(&"network::link_up::lo"));
}

#[test]
fn include_and_exclude_by_case_and_instance() {
    let (_d, p) = profile_file(
        r#"
extends = "quick"
exclude = ["storage::*", "pci::driver_bound::0000:af:00.0", "nothing::here"]
"#,
    );
    let Planned { plan, warnings } = plan_on("raid-sas", &p, false, &[]);
    let n = names(&plan);
    assert!(!n.iter().any(|n| n.starts_with("storage::")), "{n:?}");
    assert!(n.contains(&"pci::driver_bound::0000:3b:00.0"));
    assert!(!n.contains(&"pci::driver_bound::0000:af:00.0"));
    let r = reason(&plan, "storage::read_verify");
    assert!(
        r.starts_with("excluded by the profile (pattern \"storage::*\""),
        "{r}"
    );
    assert!(r.contains("p.toml:3)"), "{r}");
    // The one instance left out says which.
    let x = plan
        .not_planned
        .iter()
        .find(|x| x.target.as_deref() == Some("0000:af:00.0"))
        .expect("the instance is in not_planned");
    assert_eq!(x.case, "pci::driver_bound");
    assert!(x.reason.contains("pci::driver_bound::0000:af:00.0"));
    // A pattern that matches nothing is worth a warning.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("\"nothing::here\""), "{warnings:?}");
    assert!(warnings[0].contains("p.toml:3: exclude[2]"), "{warnings:?}");

    let (_d, p) = profile_file(
        r#"
extends = "quick"
include = ["system::*", "storage::read_verify::sdb", "*::stress", "system::os_supported"]
exclude = ["memory::stress", "memory::*"]
"#,
    );
    let Planned { plan, warnings } = plan_on("raid-sas", &p, true, &[]);
    assert!(warnings.is_empty(), "every pattern is used: {warnings:?}");
    assert_eq!(
        names(&plan),
        [
            "system::os_supported",
            "system::needs_root",
            "storage::read_verify::sdb",
            "cpu::stress",
            "storage::stress::sda",
            "storage::stress::sdb",
        ]
    );
    assert!(reason(&plan, "cpu::all_online")
        .starts_with("not included by the profile (include: \"system::*\""));
    assert!(reason(&plan, "storage::read_verify::sda").starts_with("not included"));
    assert!(reason(&plan, "memory::stress").starts_with("excluded"));
    // The profile's reason comes before the machine's.
    assert!(reason(&plan, "network::link_up").starts_with("not included"));
}

#[test]
fn command_cases_and_applies_to() {
    let (d, p) = profile_file(
        r#"
extends = "quick"
include = ["vendor::*", "pci::*"]

[[case]]
name = "vendor::raid_firmware"
command = ["./check-fw", "--strict"]
timeout = "30s"
blocker = true
applies_to = "pci:1000:*"

[[case]]
name = "vendor::machine_check"
command = ["true"]
blocker = false

[[case]]
name = "vendor::mellanox"
command = ["mlx-check"]
applies_to = ["pci:15b3:*", "class:0207"]

[[case]]
name = "pci::megaraid_only"
command = ["true"]
applies_to = ["driver:megaraid_sas", "pci:1000:10e2"]
tools = ["hwcert-test-no-such-tool"]

[[case]]
name = "vendor::live"
command = ["true"]
live = true
"#,
    );
    let Planned { plan, warnings } = plan_on("raid-sas", &p, false, &[]);
    assert!(
        warnings.is_empty(),
        "on a recorded machine no command is looked for: {warnings:?}"
    );
    assert_eq!(
        names(&plan),
        [
            "pci::driver_bound::0000:3b:00.0",
            "pci::driver_bound::0000:af:00.0",
            "vendor::raid_firmware::0000:3b:00.0",
            "vendor::raid_firmware::0000:af:00.0",
            "vendor::machine_check",
        ]
    );
    let fw = &plan.instances[2];
    assert_eq!(fw.case, "vendor::raid_firmware");
    assert_eq!(fw.component, Component::Vendor);
    assert_eq!(fw.target.as_deref(), Some("0000:3b:00.0"));
    assert!(fw
        .target_label
        .as_deref()
        .unwrap_or("")
        .contains("[1000:10e2]"));
    assert_eq!(
        (fw.timeout_s, fw.estimate_s, fw.blocker),
        (30.0, 10.0, true)
    );
    let InstanceKind::Command { argv } = &fw.kind else {
        panic!("a command instance: {:?}", fw.kind)
    };
    assert_eq!(
        argv,
        &[
            std::path::absolute(d.path().join("check-fw"))
                .expect("absolute")
                .display()
                .to_string(),
            "--strict".to_string()
        ]
    );
    let mc = &plan.instances[4];
    assert_eq!((mc.target.as_deref(), mc.blocker), (None, false));
    assert_eq!(
        reason(&plan, "vendor::mellanox"),
        "nothing on this machine matches applies_to pci:15b3:*, class:0207"
    );
    assert_eq!(
        reason(&plan, "pci::megaraid_only"),
        "needs tool hwcert-test-no-such-tool (not on PATH)"
    );
    assert!(reason(&plan, "vendor::live").starts_with("runs only on the live system"));

    // The same profile on the other trees.
    let plan = plan_on("aarch64-kunpeng", &p, false, &[]).plan;
    assert!(reason(&plan, "vendor::raid_firmware").starts_with("nothing on this machine"));
    let plan = plan_on("offline-cpus", &p, false, &[]).plan;
    assert!(names(&plan).contains(&"vendor::machine_check"));
}

#[test]
fn applies_to_on_every_fixture() {
    let (_d, p) = profile_file(
        r#"
[[case]]
name = "vendor::nvme"
command = ["true"]
applies_to = "class:0108"

[[case]]
name = "vendor::disks"
command = ["true"]
applies_to = "disk:*"

[[case]]
name = "vendor::nics"
command = ["true"]
applies_to = "net:*"

[[case]]
name = "vendor::huawei"
command = ["true"]
applies_to = "pci:19e5:a12?"

[[case]]
name = "vendor::virtio"
command = ["true"]
applies_to = ["driver:virtio-pci", "driver:ata_*"]
"#,
    );
    let vendor = |fx: &str| -> Vec<String> {
        plan_on(fx, &p, false, &[])
            .plan
            .instances
            .into_iter()
            .filter(|i| i.case.starts_with("vendor::"))
            .map(|i| i.name)
            .collect()
    };
    assert_eq!(
        vendor("aarch64-kunpeng"),
        [
            "vendor::nvme::0000:01:00.0",
            "vendor::disks::nvme0n1",
            "vendor::nics::enp125s0f0",
            "vendor::huawei::0000:00:00.0",
            "vendor::huawei::0000:7c:00.0",
        ]
    );
    assert_eq!(
        vendor("raid-sas"),
        ["vendor::disks::sda", "vendor::disks::sdb"]
    );
    assert_eq!(
        vendor("offline-cpus"),
        [
            "vendor::disks::vda",
            "vendor::virtio::0000:00:01.1",
            "vendor::virtio::0000:00:04.0",
        ]
    );
}

#[test]
fn a_command_case_may_not_shadow_a_catalog_case() {
    let (_d, p) = profile_file("[[case]]\nname = \"cpu::stress\"\ncommand = [\"x\"]\n");
    let inv = inventory("raid-sas");
    let root = fixture("raid-sas");
    let e = make_plan_with(&PlanRequest::new(&p, &inv, &root), &catalog())
        .expect_err("a built-in name");
    let s = format!("{e:#}");
    assert!(
        s.contains("p.toml:2: case[0].name:") && s.contains("built-in case"),
        "{s}"
    );
}

#[test]
fn timeouts_and_destructive_devices() {
    let (_d, p) = profile_file(
        r#"
extends = "standard"
[timeouts]
"storage::*" = "20m"
"storage::read_verify::sdb" = "3h"
"cpu::stress" = "1m"
"#,
    );
    let Planned { plan, warnings } = plan_on("raid-sas", &p, false, &["/dev/sdb", "sdz"]);
    let t = |n: &str| {
        plan.instances
            .iter()
            .find(|i| i.name == n)
            .map(|i| i.timeout_s)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(t("storage::read_verify::sda"), 1200.0);
    assert_eq!(t("storage::read_verify::sdb"), 10800.0);
    assert_eq!(t("storage::stress::sda"), 1200.0);
    assert_eq!(t("cpu::stress"), 60.0);
    assert_eq!(t("cpu::all_online"), 60.0, "the case's own");
    assert_eq!(plan.options.destructive_devices, ["sdb", "sdz"]);
    let w = warnings.join("\n");
    assert!(
        w.contains("the time limit 1m of cpu::stress is shorter than its 10m of stress"),
        "{w}"
    );
    assert!(w.contains("--device sdz: no destructive case"), "{w}");
    assert!(!w.contains("--device sdb"), "{w}");

    // The text counts what will run: sdb's erase is enabled, sda's is not.
    let text = render_text(&plan, Some(&p), true);
    assert!(
        text.contains("1 destructive instance not counted"),
        "{text}"
    );
    assert!(
        text.contains("destructive: runs only with --destructive --device sda"),
        "{text}"
    );
}

#[test]
fn text_rendering() {
    let std = load_profile("standard").expect("standard");
    let plan = plan_on("raid-sas", &std, false, &[]).plan;
    let text = render_text(&plan, Some(&std), false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("Profile: standard (extends quick) — certification"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "Stress:  cpu 10m, memory 1 pass, storage 5m per disk"
    );
    let header = lines
        .iter()
        .position(|l| l.starts_with("INSTANCE"))
        .expect("a header");
    // Aligned: every column starts where the header's does.
    let col = |l: &str, name: &str| -> Option<String> {
        let c = lines[header].find(name)?;
        Some(l.get(c..c + 1).unwrap_or("").to_string())
    };
    let body: Vec<&str> = lines[header + 1..]
        .iter()
        .take_while(|l| !l.is_empty())
        .copied()
        .collect();
    assert_eq!(body.len(), plan.instances.len());
    for l in &body {
        for h in ["TIMEOUT", "ESTIMATE", "BLOCKER"] {
            let c = col(l, h).unwrap_or_default();
            assert!(
                c.chars().all(|c| c.is_ascii_alphanumeric() || c == '<') && !c.is_empty(),
                "{h} in {l:?}\n{text}"
            );
        }
    }
    let stress = body
        .iter()
        .find(|l| l.starts_with("cpu::stress "))
        .expect("cpu::stress");
    assert!(
        stress.contains(" 10m ") && stress.contains("blocker"),
        "{stress}"
    );
    assert!(body.iter().any(|l| l.contains("advisory")));
    assert!(text.contains("instances, estimate "), "{text}");
    assert!(
        text.contains("4 not planned (--explain says why)"),
        "{text}"
    );
    assert!(!text.contains("needs root"));

    let text = render_text(&plan, Some(&std), true);
    assert!(text.contains("Not planned (4):"), "{text}");
    assert!(text.contains("system::needs_root     needs root"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Network traffic cases (issue 15): planned only with a peer; plan --explain says how.

fn real_plan(fixture_name: &str, profile: &Profile) -> Plan {
    let inv = inventory(fixture_name);
    let root_path = fixture(fixture_name);
    let mut r = PlanRequest::new(profile, &inv, &root_path);
    r.is_root = true;
    make_plan_with(&r, &cases::catalog()).expect("a plan").plan
}

#[test]
fn traffic_cases_need_a_peer_and_explain_says_how_to_configure_one() {
    let quick = load_profile("quick").expect("quick");
    let plan = real_plan("aarch64-kunpeng", &quick);
    for case in [
        "network::throughput",
        "network::udp_loss",
        "network::latency",
    ] {
        let why = reason(&plan, case);
        assert!(
            why.contains("network_peer = \"ADDRESS\"") && why.contains("hwcert peer"),
            "{why}"
        );
    }
    let text = render_text(&plan, Some(&quick), true);
    assert!(
        text.contains("no network peer configured: set network_peer"),
        "{text}"
    );

    // A peer: one instance per physical interface with a link (lo is not one). A recorded
    // tree plans no live case, so the selection is asked directly, with the plan's options.
    let (_d, p) = profile_file(
        "extends = \"quick\"\nnetwork_peer = \"192.0.2.2\"\n[network]\nthreshold = 90\n\
         rdma_peer = \"198.51.100.7\"\nrdma_threshold = { default = 50, mlx5_0 = 70 }\n",
    );
    let plan = real_plan("aarch64-kunpeng", &p);
    assert!(
        reason(&plan, "network::throughput").contains("live system"),
        "{}",
        reason(&plan, "network::throughput")
    );
    assert_eq!(
        plan.options
            .settings
            .get("network.peer")
            .map(String::as_str),
        Some("192.0.2.2")
    );
    assert_eq!(
        plan.options
            .settings
            .get("network.threshold")
            .map(String::as_str),
        Some("90")
    );
    // The RDMA keys reach the cases as settings, per device where a table names one.
    for (k, v) in [
        ("network.rdma_peer", "198.51.100.7"),
        ("network.rdma_threshold", "50"),
        ("network.rdma_threshold.mlx5_0", "70"),
    ] {
        assert_eq!(
            plan.options.settings.get(k).map(String::as_str),
            Some(v),
            "{k}: {:?}",
            plan.options.settings
        );
    }
    let inv = inventory("aarch64-kunpeng");
    let targets = |case: &str, o: &cases::RunOptions| -> Result<Vec<String>, String> {
        match cases::find(case).expect(case).select_with(&inv, o) {
            cases::Selection::Targets(t) => Ok(t.into_iter().filter_map(|t| t.id).collect()),
            cases::Selection::NotApplicable(r) => Err(r),
        }
    };
    assert_eq!(
        targets("network::throughput", &plan.options),
        Ok(vec!["enp125s0f0".to_string()])
    );
    assert_eq!(
        targets("network::latency", &plan.options),
        Ok(vec!["enp125s0f0".to_string()])
    );
    // jumbo and link_flap need their keys; the reasons say which.
    assert!(targets("network::jumbo", &plan.options)
        .expect_err("no jumbo_mtu")
        .contains("jumbo_mtu"));
    assert!(targets("network::link_flap", &plan.options)
        .expect_err("no flap")
        .contains("link_flap = true"));

    // network_interfaces names any interface (lo here), and a per-interface peer.
    let (_d, p) = profile_file(
        "extends = \"quick\"\nnetwork_peer = { eth9 = \"198.51.100.2\", lo = \"127.0.0.2\" }\n\
         network_interfaces = [\"lo\", \"eth9\"]\n[network]\nlink_flap = true\njumbo_mtu = 9000\n",
    );
    let plan = real_plan("aarch64-kunpeng", &p);
    for case in [
        "network::throughput",
        "network::jumbo",
        "network::link_flap",
    ] {
        assert_eq!(
            targets(case, &plan.options),
            Ok(vec!["lo".to_string()]),
            "{case}"
        );
    }
    assert_eq!(
        plan.options
            .settings
            .get("network.peer.lo")
            .map(String::as_str),
        Some("127.0.0.2")
    );
    assert_eq!(
        plan.options
            .settings
            .get("network.interfaces")
            .map(String::as_str),
        Some("lo,eth9")
    );
}
