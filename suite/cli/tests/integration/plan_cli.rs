//! `hwcert plan` on the hand-made trees and a snapshot: text, --explain, --json, profile files,
//! and every kind of wrong input.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    testing::fixtures::fixture(name)
}

fn run(args: &[&str]) -> Output {
    Command::cargo_bin("hwcert")
        .expect("the hwcert binary")
        .args(args)
        .output()
        .expect("run hwcert")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("valid JSON on stdout")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8")
}

/// A profile with command cases, so that the plan holds instances whatever the catalog.
const VENDOR: &str = r#"
name = "acme-raid"
extends = "quick"

[[case]]
name = "vendor::raid_firmware"
command = ["/opt/acme/check-fw", "--strict"]
timeout = "30s"
applies_to = "pci:1000:*"

[[case]]
name = "vendor::bmc"
command = ["true"]
blocker = false

[[case]]
name = "vendor::mellanox"
command = ["true"]
applies_to = "pci:15b3:*"
"#;

fn vendor_profile() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("acme.toml");
    std::fs::write(&p, VENDOR).expect("write");
    (d, p)
}

#[test]
fn text_and_explain_agree_with_json() {
    let root = fixture("raid-sas");
    for profile in ["quick", "standard", "full"] {
        let args = ["plan", "--profile", profile, "--sysroot", s(&root)];
        let text = ok(&[&args[..], &["--explain"]].concat());
        let v = json(&[&args[..], &["--json"]].concat());
        assert_eq!(v["profile"], profile);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with(&format!("Profile: {profile}")),
            "{text}"
        );
        assert!(text.contains(&format!("Sysroot: {}", s(&root))), "{text}");
        // Every instance, in plan order, one line each.
        let mut at = 0;
        for i in v["instances"].as_array().expect("instances") {
            let name = i["name"].as_str().expect("name");
            let pos = lines[at..]
                .iter()
                .position(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} missing or out of order:\n{text}"));
            at += pos + 1;
        }
        let n = v["instances"].as_array().map_or(0, Vec::len);
        assert!(
            text.contains(&format!("{n} instance")),
            "the total counts {n}:\n{text}"
        );
        // --explain names every case not planned, with its reason.
        for x in v["not_planned"].as_array().expect("not_planned") {
            let case = x["case"].as_str().expect("case");
            let reason = x["reason"].as_str().expect("reason");
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(case) && l.ends_with(reason)),
                "{case}: {reason} missing:\n{text}"
            );
        }
    }
}

#[test]
fn a_vendor_profile_on_raid_sas() {
    let (_d, prof) = vendor_profile();
    let root = fixture("raid-sas");
    let text = ok(&[
        "plan",
        "--profile",
        s(&prof),
        "--sysroot",
        s(&root),
        "--explain",
    ]);
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name}:\n{text}"))
            .to_string()
    };
    for addr in ["0000:3b:00.0", "0000:af:00.0"] {
        let r = row(&format!("vendor::raid_firmware::{addr}"));
        let cols: Vec<&str> = r.split_whitespace().collect();
        assert_eq!(cols[1..4], ["30s", "10s", "blocker"], "{r}");
        assert!(r.ends_with("runs /opt/acme/check-fw --strict"), "{r}");
    }
    let r = row("vendor::bmc");
    assert!(r.contains(" 5m ") && r.contains("advisory"), "{r}");
    assert!(text
        .lines()
        .next()
        .unwrap_or("")
        .starts_with("Profile: acme-raid (extends quick)"));
    assert!(
        row("vendor::mellanox").ends_with("nothing on this machine matches applies_to pci:15b3:*"),
        "{text}"
    );
}

#[test]
fn json_shape() {
    let (_d, prof) = vendor_profile();
    let root = fixture("raid-sas");
    let v = json(&[
        "plan",
        "--profile",
        s(&prof),
        "--sysroot",
        s(&root),
        "--json",
    ]);
    assert_eq!(v["schema"], "hwcert.plan/1");
    assert_eq!(v["profile"], "acme-raid");
    assert_eq!(v["sysroot"], s(&root));
    assert!(v["profile_file"]["text"]
        .as_str()
        .unwrap_or("")
        .contains("acme-raid"));
    assert_eq!(v["options"]["stress_seconds"], 10);
    assert_eq!(v["options"]["settings"]["stress.cpu_seconds"], "10");
    assert!(v["options"]["destructive_devices"].is_array());
    assert!(v["options"]["mtu_interfaces"].is_array());
    let inst = v["instances"].as_array().expect("instances");
    let fw: Vec<&Value> = inst
        .iter()
        .filter(|i| i["case"] == "vendor::raid_firmware")
        .collect();
    assert_eq!(fw.len(), 2, "one per LSI/Broadcom function");
    let i = fw[0];
    assert_eq!(i["name"], "vendor::raid_firmware::0000:3b:00.0");
    assert_eq!(i["component"], "vendor");
    assert_eq!(i["target"], "0000:3b:00.0");
    assert_eq!(i["timeout_s"], 30.0);
    assert_eq!(i["estimate_s"], 10.0);
    assert_eq!(i["blocker"], true);
    assert_eq!(i["destructive"], false);
    assert_eq!(i["kind"]["type"], "command");
    assert_eq!(i["kind"]["argv"][0], "/opt/acme/check-fw");
    for i in inst {
        for key in [
            "name",
            "case",
            "component",
            "purpose",
            "timeout_s",
            "estimate_s",
            "blocker",
            "kind",
        ] {
            assert!(!i[key].is_null(), "{key} in {i}");
        }
    }
    let np = v["not_planned"].as_array().expect("not_planned");
    assert!(np
        .iter()
        .any(|x| x["case"] == "vendor::mellanox" && x["reason"].is_string()));
    // The document reads back as the runner reads it.
    let n = inst.len();
    let plan: documents::plan::Plan = serde_json::from_value(v.clone()).expect("a Plan");
    assert_eq!(plan.instances.len(), n);

    let v = json(&[
        "plan",
        "--profile",
        "standard",
        "--sysroot",
        s(&root),
        "--json",
    ]);
    assert_eq!(v["options"]["stress_seconds"], Value::Null);
    assert_eq!(v["options"]["settings"]["stress.cpu_seconds"], "600");
    assert_eq!(v["options"]["settings"]["stress.memory_passes"], "1");
}

#[test]
fn every_fixture_and_a_snapshot() {
    let (_d, prof) = vendor_profile();
    for name in ["aarch64-kunpeng", "offline-cpus", "firecracker-vm.tar.gz"] {
        let root = fixture(name);
        let v = json(&[
            "plan",
            "--profile",
            s(&prof),
            "--sysroot",
            s(&root),
            "--json",
        ]);
        assert_eq!(
            v["sysroot"],
            s(&root),
            "the path as given, not a temporary directory"
        );
        let names: Vec<&str> = v["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["name"].as_str())
            .collect();
        assert!(names.contains(&"vendor::bmc"), "{name}: {names:?}");
        assert!(
            !names.iter().any(|n| n.starts_with("vendor::raid_firmware")),
            "{name}: no LSI/Broadcom function"
        );
    }
}

#[test]
fn a_malformed_profile_is_one_line_and_exit_1() {
    let d = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "typo.toml",
            "extends = \"quick\"\nstres_seconds = 5\n",
            ":2: stres_seconds: unknown field",
        ),
        (
            "dur.toml",
            "[[case]]\nname = \"vendor::x\"\ncommand = [\"x\"]\ntimeout = \"5 minutes\"\n",
            ":4: case[0].timeout: ",
        ),
        (
            "cycle.toml",
            "extends = \"cycle.toml\"\n",
            ":1: extends: extends itself",
        ),
        (
            "toml.toml",
            "include = [\"a\"\n",
            ":1: include: not valid TOML",
        ),
    ];
    for (file, text, want) in cases {
        let p = d.path().join(file);
        std::fs::write(&p, text).expect("write");
        let root = fixture("raid-sas");
        let o = run(&["plan", "--profile", s(&p), "--sysroot", s(&root)]);
        assert_eq!(o.status.code(), Some(1), "{file}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
        assert!(e.starts_with(&format!("hwcert: error: {}", s(&p))), "{e}");
        assert!(e.contains(want), "{file}: want {want:?} in {e}");
        assert!(o.stdout.is_empty());
    }
    let o = run(&["plan", "--profile", "nonesuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nonesuch"), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}

#[test]
fn a_bad_sysroot_is_one_line_and_exit_1() {
    let d = tempfile::tempdir().expect("tmp");
    let garbage = d.path().join("garbage.tar.gz");
    std::fs::write(&garbage, b"not an archive").expect("write");
    let missing = d.path().join("missing");
    for root in [d.path(), garbage.as_path(), missing.as_path()] {
        let o = run(&["plan", "--sysroot", s(root)]);
        assert_eq!(o.status.code(), Some(1), "{}", root.display());
        let e = stderr(&o);
        assert!(e.starts_with("hwcert: error: "), "{e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    }
}

#[test]
fn wrong_arguments_exit_2() {
    for args in [
        &["plan", "--bogus"][..],
        &["plan", "--profile"],
        &["plan", "--sysroot"],
        &["plan", "extra"],
        &["plan", "--json=yes"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty());
    }
    let help = ok(&["plan", "--help"]);
    for flag in ["--profile", "--sysroot", "--explain", "--json"] {
        assert!(help.contains(flag), "{help}");
    }
}

#[test]
fn warnings_go_to_stderr() {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("w.toml");
    std::fs::write(&p, "extends = \"quick\"\nexclude = [\"no_such::case\"]\n").expect("write");
    let root = fixture("raid-sas");
    let o = run(&["plan", "--profile", s(&p), "--sysroot", s(&root), "--json"]);
    assert!(o.status.success());
    let e = stderr(&o);
    assert!(
        e.starts_with("hwcert: warning: ")
            && e.contains("w.toml:2: exclude[0]: pattern \"no_such::case\""),
        "{e}"
    );
    let _: Value = serde_json::from_slice(&o.stdout).expect("stdout stays JSON");
}

#[test]
fn accelerators_are_planned_and_explain_says_why_the_load_is_not() {
    let root = fixture("gpu-server");
    // A PATH without dcgmi or gpu_burn: the load has no tool, and the plan says so.
    let o = Command::cargo_bin("hwcert")
        .expect("the hwcert binary")
        .args(["plan", "--sysroot", s(&root), "--explain"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run hwcert");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for i in [
        "accel::driver_bound::0000:18:00.0",
        "accel::ecc_clean::0000:19:00.0",
        "accel::kernel_log_clean::0000:19:00.0",
    ] {
        assert!(text.lines().any(|l| l.starts_with(i)), "{i}:\n{text}");
    }
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("accel::") && l.contains("0000:03:00.0")),
        "the BMC VGA is no accelerator case's target:\n{text}"
    );
    let load = text
        .lines()
        .find(|l| l.starts_with("accel::load "))
        .unwrap_or_else(|| panic!("accel::load not explained:\n{text}"));
    assert!(load.contains("no DCGM (dcgmi) and no gpu_burn"), "{load}");
    // The same server with an AMD Instinct at 19:00.0: the plan names each vendor's tool.
    let t = tempfile::tempdir().expect("tmp");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", root.display()))
        .arg(t.path())
        .status()
        .expect("cp");
    assert!(cp.success());
    let dev = t
        .path()
        .join("sys/devices/pci0000:17/0000:17:02.0/0000:19:00.0");
    std::fs::write(dev.join("vendor"), "0x1002\n").expect("vendor");
    std::fs::write(dev.join("device"), "0x740c\n").expect("device");
    let o = Command::cargo_bin("hwcert")
        .expect("the hwcert binary")
        .args(["plan", "--sysroot", s(t.path()), "--explain"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run hwcert");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let load = text
        .lines()
        .find(|l| l.starts_with("accel::load "))
        .unwrap_or_else(|| panic!("accel::load not explained:\n{text}"));
    assert!(load.contains("NVIDIA: no DCGM (dcgmi)"), "{load}");
    assert!(
        load.contains("AMD: no ROCm Validation Suite (rvs)"),
        "{load}"
    );
    // On a machine without accelerators, every accel case is explained.
    let text = ok(&["plan", "--sysroot", s(&fixture("raid-sas")), "--explain"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("accel::driver_bound ") && l.contains("no GPU, DCU or NPU")),
        "{text}"
    );
}
