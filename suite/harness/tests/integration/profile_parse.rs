//! Profiles: the built-ins, `extends` chains and cycles, and every kind of malformed file named
//! by file, line and key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::profile::{self, load_profile, Profile, ProfileError, StressLength};

fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write profile");
    p
}

fn load_file(p: &Path) -> Result<Profile, ProfileError> {
    load_profile(p.to_str().expect("utf8"))
}

#[test]
fn builtins_parse() {
    let quick = load_profile("quick").expect("quick");
    assert_eq!(quick.name, "quick");
    assert_eq!(quick.chain, ["quick"]);
    assert_eq!(quick.stress.uniform_seconds(), Some(10));
    assert!(quick.include.is_none() && quick.exclude.is_empty());
    assert!(quick.source.is_none(), "a built-in has no file");

    let std = load_profile("standard").expect("standard");
    assert_eq!(std.chain, ["standard", "quick"]);
    assert_eq!(std.stress.cpu, Some(StressLength::Seconds(600)));
    assert_eq!(std.stress.memory, Some(StressLength::Passes(1)));
    assert_eq!(std.stress.storage, Some(StressLength::Seconds(300)));
    assert_eq!(std.stress.uniform_seconds(), None);
    assert!(std
        .description
        .as_deref()
        .unwrap_or("")
        .contains("certification"));

    let full = load_profile("full").expect("full");
    assert_eq!(full.chain, ["full", "standard", "quick"]);
    assert!(matches!(full.stress.cpu, Some(StressLength::Seconds(s)) if s >= 3600));

    // And through the entry point the runner calls.
    for name in ["quick", "standard", "full"] {
        assert_eq!(profile::load(name).expect(name).name, name);
    }
    for (name, text) in profile::BUILTIN {
        assert!(
            text.starts_with("# "),
            "{name} says what it is in a comment"
        );
    }
}

#[test]
fn unknown_profile_is_one_line() {
    let e = load_profile("nonesuch").expect_err("no such profile");
    let s = e.to_string();
    assert!(
        s.contains("nonesuch") && s.contains("quick, standard, full"),
        "{s}"
    );
    assert_eq!(s.lines().count(), 1);
}

#[test]
fn a_file_extending_a_builtin() {
    let d = tmpdir();
    let p = write(
        d.path(),
        "acme.toml",
        r#"
name = "acme-nic"
extends = "standard"
exclude = ["storage::*"]
stress_seconds = { cpu = "1h30m" }
mtu_interfaces = ["eth1"]

[settings]
iperf_server = "10.0.0.2"
streams = 4
jumbo = true

[timeouts]
"storage::read_verify" = "2h"
"pci::*" = 90

[[case]]
name = "vendor::firmware_check"
command = ["./bin/check-fw", "--strict"]
timeout = "30s"
blocker = true
applies_to = "pci:15b3:*"

[[case]]
name = "network::acme_offload"
command = ["acme-offload-test"]
applies_to = ["net:eth*", "driver:mlx5_core"]
blocker = false
root = true
tools = ["ethtool"]
"#,
    );
    let prof = load_file(&p).expect("valid");
    assert_eq!(prof.name, "acme-nic");
    assert_eq!(prof.chain[1..], ["standard", "quick"]);
    assert_eq!(prof.stress.cpu, Some(StressLength::Seconds(5400)));
    assert_eq!(
        prof.stress.memory,
        Some(StressLength::Passes(1)),
        "inherited"
    );
    assert_eq!(
        prof.stress.storage,
        Some(StressLength::Seconds(300)),
        "inherited"
    );
    assert_eq!(prof.exclude.len(), 1);
    assert_eq!(prof.exclude[0].at.line, 4);
    assert_eq!(prof.mtu_interfaces, ["eth1"]);
    assert_eq!(prof.settings["iperf_server"], "10.0.0.2");
    assert_eq!(prof.settings["streams"], "4");
    assert_eq!(prof.settings["jumbo"], "true");
    assert_eq!(prof.timeouts.len(), 2);
    assert_eq!(
        prof.timeout_for("storage::read_verify", "storage::read_verify::sda")
            .map(|t| t.seconds),
        Some(7200)
    );
    assert_eq!(
        prof.timeout_for("pci::driver_bound", "pci::driver_bound::0000:3b:00.0")
            .map(|t| t.seconds),
        Some(90)
    );
    assert!(prof.timeout_for("cpu::stress", "cpu::stress").is_none());

    let fw = &prof.commands[0];
    assert_eq!(fw.name, "vendor::firmware_check");
    assert_eq!(fw.component, cases::Component::Vendor);
    assert_eq!(fw.timeout, Duration::from_secs(30));
    assert_eq!(fw.estimate, Duration::from_secs(10));
    assert!(fw.blocker);
    assert_eq!(fw.at.line, 18);
    // A relative program is relative to the profile file, made absolute.
    let prog = PathBuf::from(&fw.argv[0]);
    assert!(prog.is_absolute(), "{prog:?}");
    assert!(prog.ends_with("bin/check-fw"));
    assert_eq!(fw.argv[1], "--strict");

    let off = &prof.commands[1];
    assert_eq!(off.component, cases::Component::Network);
    assert_eq!(
        off.argv,
        ["acme-offload-test"],
        "a bare name stays for PATH"
    );
    assert_eq!(off.applies_to.len(), 2);
    assert!(!off.blocker && off.requirements.root);
    assert_eq!(off.requirements.tools, ["ethtool"]);
    assert_eq!(off.timeout, profile::COMMAND_TIMEOUT);

    let src = prof.source.as_ref().expect("the file is kept");
    assert!(src.text.contains("acme-nic"));
    assert!(Path::new(&src.path).is_absolute());
}

#[test]
fn extends_chains_across_files() {
    let d = tmpdir();
    write(
        d.path(),
        "base/base.toml",
        r#"
extends = "quick"
description = "the lab's base"
exclude = ["pci::link_not_degraded"]
include = ["system::*", "pci::*", "storage::*"]
mtu_interfaces = ["eth1"]
[settings]
a = "base"
b = "base"
[timeouts]
"pci::*" = "1m"
[[case]]
name = "vendor::base_check"
command = ["true"]
"#,
    );
    write(
        d.path(),
        "base/mid.toml",
        r#"
extends = "base.toml"
stress_seconds = 42
exclude = ["storage::stress"]
[settings]
b = "mid"
[timeouts]
"pci::*" = "2m"
"#,
    );
    let top = write(
        d.path(),
        "top.toml",
        r#"
extends = "base/mid.toml"
include = ["system::*"]
[[case]]
name = "vendor::top_check"
command = ["true"]
"#,
    );
    let p = load_file(&top).expect("valid chain");
    assert_eq!(p.chain.len(), 4, "{:?}", p.chain);
    assert_eq!(p.chain[3], "quick");
    assert_eq!(
        p.name,
        top.to_str().expect("utf8"),
        "no name: the path as given"
    );
    assert_eq!(p.description, None, "a description is the file's own");
    assert_eq!(p.stress.uniform_seconds(), Some(42));
    // exclude adds up, parents' first; include replaces.
    let ex: Vec<&str> = p.exclude.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(ex, ["pci::link_not_degraded", "storage::stress"]);
    let inc: Vec<&str> = p
        .include
        .iter()
        .flatten()
        .map(|e| e.value.as_str())
        .collect();
    assert_eq!(inc, ["system::*"]);
    assert_eq!(p.mtu_interfaces, ["eth1"]);
    assert_eq!(p.settings["a"], "base");
    assert_eq!(p.settings["b"], "mid");
    // The nearer file's timeout wins at equal rank.
    assert_eq!(
        p.timeout_for("pci::x", "pci::x::0000:00:00.0")
            .map(|t| t.seconds),
        Some(120)
    );
    let names: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["vendor::base_check", "vendor::top_check"]);
    assert!(p.commands[0].at.file.ends_with("base.toml"));
}

#[test]
fn extends_cycles_are_errors() {
    let d = tmpdir();
    let me = write(d.path(), "me.toml", "extends = \"me.toml\"\n");
    let e = load_file(&me).expect_err("a cycle");
    assert_eq!(e.line, Some(1));
    assert_eq!(e.key.as_deref(), Some("extends"));
    assert!(e.message.contains("extends itself"), "{e}");

    let a = write(d.path(), "a.toml", "# a\nextends = \"sub/b.toml\"\n");
    write(d.path(), "sub/b.toml", "\n\nextends = \"../a.toml\"\n");
    let e = load_file(&a).expect_err("a cycle");
    let s = e.to_string();
    assert!(s.contains("b.toml:3: extends: extends itself:"), "{s}");
    assert!(s.contains("a.toml →") && s.contains("b.toml →"), "{s}");
    assert_eq!(s.lines().count(), 1);

    // A long chain without a cycle is fine up to the limit, then an error.
    let n = profile::MAX_DEPTH + 2;
    for i in 0..n {
        let ext = if i + 1 == n {
            "quick".to_string()
        } else {
            format!("p{}.toml", i + 1)
        };
        write(
            d.path(),
            &format!("p{i}.toml"),
            &format!("extends = \"{ext}\"\n"),
        );
    }
    let e = load_file(&d.path().join("p0.toml")).expect_err("too deep");
    assert!(e.message.contains("more than"), "{e}");
    let ok = load_file(
        &d.path()
            .join(format!("p{}.toml", n - profile::MAX_DEPTH + 1)),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

/// Every malformed profile: (text, line, key, part of the message).
const MALFORMED: &[(&str, usize, &str, &str)] = &[
    (
        "name = \"x\"\nlog_cap = 0\n",
        2,
        "log_cap",
        "0 is 0 B: the log cap is from 64 KiB to 256 MiB",
    ),
    (
        "log_cap = \"0MiB\"\n",
        1,
        "log_cap",
        "\"0MiB\" is 0 B: the log cap is from 64 KiB to 256 MiB",
    ),
    (
        "log_cap = \"1T\"\n",
        1,
        "log_cap",
        "\"1T\" is 1 TiB: the log cap is from 64 KiB to 256 MiB",
    ),
    (
        "log_cap = 1000\n",
        1,
        "log_cap",
        "1000 is 1000 B: the log cap is from 64 KiB",
    ),
    (
        "log_cap = -5\n",
        1,
        "log_cap",
        "-5 is not a size (write 4MiB, 512K or plain bytes)",
    ),
    (
        "log_cap = \"4 megs\"\n",
        1,
        "log_cap",
        "\"4 megs\" is not a size",
    ),
    (
        "log_cap = \"\"\n",
        1,
        "log_cap",
        "\"\" is not a size",
    ),
    (
        "log_cap = \"99999999999999999999G\"\n",
        1,
        "log_cap",
        "is not a size",
    ),
    (
        "log_cap = [1]\n",
        1,
        "log_cap",
        "expected a size (\"4MiB\", \"512K\") or a number of bytes, not array",
    ),
    // Not TOML at all.
    ("timeout = 30s\n", 1, "timeout", "not valid TOML"),
    ("name = \"x\"\n\n[settings]\nx = \"unterminated\n", 4, "settings.x", "not valid TOML"),
    ("name = \"a\"\nname = \"b\"\n", 2, "name", "not valid TOML"),
    // Unknown keys.
    ("name = \"x\"\nbogus = 1\n", 2, "bogus", "unknown field `bogus`"),
    ("stress = 10\n", 1, "stress", "unknown field `stress`"),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\nblock = true\n",
        4,
        "case[0].block",
        "unknown field `block`",
    ),
    // Wrong types.
    ("include = \"storage::*\"\n", 1, "include", "expected a list"),
    ("mtu_interfaces = [\"eth0\", 1]\n", 1, "mtu_interfaces[1]", "invalid type"),
    ("description = 5\n", 1, "description", "invalid type"),
    ("[settings]\nx = [1]\n", 2, "settings.x", "a string, a number or a boolean"),
    ("[settings]\n\"stress.cpu_seconds\" = 5\n", 2, "settings.\"stress.cpu_seconds\"", "hwcert's"),
    ("name = \"\"\n", 1, "name", "non-empty"),
    ("extends = \"\"\n", 1, "extends", "names no profile"),
    ("extends = \"missing.toml\"\n", 1, "extends", "no file"),
    // Durations.
    ("stress_seconds = \"10x\"\n", 1, "stress_seconds", "not a duration"),
    ("stress_seconds = 0\n", 1, "stress_seconds", "more than 0"),
    ("stress_seconds = -5\n", 1, "stress_seconds", "not a duration"),
    ("stress_seconds = \"pass\"\n", 1, "stress_seconds", "only memory"),
    ("stress_seconds = true\n", 1, "stress_seconds", "not boolean"),
    ("[stress_seconds]\ncpu = 5\nnet = 3\n", 3, "stress_seconds.net", "no stressor \"net\""),
    ("stress_seconds = { cpu = \"pass\" }\n", 1, "stress_seconds.cpu", "only memory"),
    ("stress_seconds = { memory = \"0 passes\" }\n", 1, "stress_seconds.memory", "1 to 100"),
    ("[timeouts]\n\"pci::*\" = \"1d\"\n", 2, "timeouts.\"pci::*\"", "not a duration"),
    ("[timeouts]\n\"pci::*\" = \"999h\"\n", 2, "timeouts.\"pci::*\"", "too long"),
    // Globs.
    ("include = [\"a b\"]\n", 1, "include[0]", "not allowed"),
    ("exclude = [\"cpu::*\",\n  \"storage::[ab\"]\n", 2, "exclude[1]", "without its ']'"),
    ("exclude = [\"\"]\n", 1, "exclude[0]", "empty pattern"),
    ("[timeouts]\n\"a/b\" = 5\n", 2, "timeouts.\"a/b\"", "not allowed"),
    ("mtu_interfaces = [\"this-name-is-too-long\"]\n", 1, "mtu_interfaces[0]", "not an interface"),
    // Network traffic keys (issue 15).
    ("network_peer = \"peer.example\"\n", 1, "network_peer", "IP address"),
    ("network_peer = { default = \"192.0.2.2\", \"a/b\" = \"192.0.2.3\" }\n", 1, "network_peer.\"a/b\"", "neither default nor an interface"),
    ("network_interfaces = [\"eth0\", \"no such/if\"]\n", 1, "network_interfaces[1]", "not an interface"),
    ("[network]\nthreshold = 120\n", 2, "network.threshold", "from 1 to 100"),
    ("[network]\nthreshold = { default = 80, eth1 = \"x\" }\n", 2, "network.threshold.eth1", "a number"),
    ("[network]\nseconds = \"10x\"\n", 2, "network.seconds", "not a duration"),
    ("[network]\njumbo_mtu = 100\n", 2, "network.jumbo_mtu", "1280 to 65535"),
    ("[network]\nlink_flap = \"yes\"\n", 2, "network.link_flap", "true or false"),
    ("[network]\nbogus = 1\n", 2, "network.bogus", "unknown key"),
    ("[network]\nrdma_peer = \"peer.example\"\n", 2, "network.rdma_peer", "IP address"),
    ("[network]\nrdma_threshold = 0\n", 2, "network.rdma_threshold", "from 1 to 100"),
    ("[network]\nrdma_port = 65535\n", 2, "network.rdma_port", "1 to 65534"),
    ("[settings]\n\"network.peer\" = \"192.0.2.2\"\n", 2, "settings.\"network.peer\"", "hwcert's"),
    // Command cases.
    ("[[case]]\nname = \"vendor::x\"\n", 1, "case[0].command", "missing field `command`"),
    ("[[case]]\ncommand = [\"a\"]\n", 1, "case[0].name", "missing field `name`"),
    ("[[case]]\nname = \"vendor::x\"\ncommand = []\n", 3, "case[0].command", "empty command"),
    ("[[case]]\nname = \"vendor::x\"\ncommand = [\"\"]\n", 3, "case[0].command", "empty command"),
    ("[[case]]\nname = \"vendor::x\"\ncommand = \"a b\"\n", 3, "case[0].command", "expected a list"),
    ("[[case]]\nname = \"firmware\"\ncommand = [\"a\"]\n", 2, "case[0].name", "component::case"),
    ("[[case]]\nname = \"Vendor::X\"\ncommand = [\"a\"]\n", 2, "case[0].name", "component::case"),
    ("[[case]]\nname = \"a::b::c\"\ncommand = [\"a\"]\n", 2, "case[0].name", "component::case"),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\n\n[[case]]\nname = \"vendor::x\"\ncommand = [\"b\"]\n",
        6,
        "case[1].name",
        "defined twice (first at line 2)",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\n\n[[case]]\nname = \"vendor::y\"\ncommand = [\"a\"]\ntimeout = \"5x\"\n",
        8,
        "case[1].timeout",
        "not a duration",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\ntimeout = \"10s\"\nestimate = \"1m\"\n",
        5,
        "case[0].estimate",
        "longer than the timeout",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\napplies_to = \"pci:zz\"\n",
        4,
        "case[0].applies_to",
        "vendor id",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\napplies_to = \"usb:1234:*\"\n",
        4,
        "case[0].applies_to",
        "not a selector",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\napplies_to = [\"pci:15b3\", 7]\n",
        4,
        "case[0].applies_to[1]",
        "a selector is a string",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\napplies_to = []\n",
        4,
        "case[0].applies_to",
        "empty list",
    ),
    (
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\ntools = [\"/usr/bin/x\"]\n",
        4,
        "case[0].tools[0]",
        "not a program name",
    ),
];

#[test]
fn every_malformed_profile_names_file_line_and_key() {
    let d = tmpdir();
    let mut failures = Vec::new();
    for (i, (text, line, key, msg)) in MALFORMED.iter().enumerate() {
        let p = write(d.path(), &format!("bad{i}.toml"), text);
        let e = match load_file(&p) {
            Ok(_) => {
                failures.push(format!("#{i} {text:?}: accepted"));
                continue;
            }
            Err(e) => e,
        };
        let s = e.to_string();
        let want = format!("{}:{line}: {key}: ", p.display());
        if !s.starts_with(&want) || !s.contains(msg) || s.lines().count() != 1 {
            failures.push(format!(
                "#{i} {text:?}:\n   want {want}…{msg}…\n   got  {s}"
            ));
        }
        assert_eq!(e.file, p.display().to_string());
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn command_cases_may_not_take_a_builtin_name() {
    let d = tmpdir();
    let p = write(
        d.path(),
        "p.toml",
        "extends = \"quick\"\n[[case]]\nname = \"cpu::stress\"\ncommand = [\"x\"]\n",
    );
    let prof = load_file(&p).expect("parses");
    let e = profile::check_command_names(&prof, &["cpu::stress".to_string()])
        .expect_err("a built-in name");
    assert_eq!((e.line, e.key.as_deref()), (Some(3), Some("case[0].name")));
    assert!(e.message.contains("built-in case"), "{e}");
}

#[test]
fn a_child_may_not_redefine_its_parents_command_case() {
    let d = tmpdir();
    write(
        d.path(),
        "base.toml",
        "[[case]]\nname = \"vendor::x\"\ncommand = [\"a\"]\n",
    );
    let p = write(
        d.path(),
        "child.toml",
        "extends = \"base.toml\"\n\n[[case]]\nname = \"vendor::x\"\ncommand = [\"b\"]\n",
    );
    let e = load_file(&p).expect_err("a duplicate");
    assert_eq!((e.line, e.key.as_deref()), (Some(4), Some("case[0].name")));
    assert!(e.message.contains("base.toml:2"), "{e}");
}

#[test]
fn unreadable_and_directory_profiles() {
    let d = tmpdir();
    let e = load_file(d.path()).expect_err("a directory");
    assert!(e.to_string().starts_with("profile "), "{e}");
    assert_eq!(e.to_string().lines().count(), 1);
}

#[test]
fn log_cap_takes_sizes_and_bytes_and_an_extending_file_replaces_it() {
    let d = tmpdir();
    assert_eq!(load_profile("quick").expect("quick").log_cap, None);
    let base = write(
        d.path(),
        "base.toml",
        "extends = \"quick\"\nlog_cap = \"8MiB\"\n",
    );
    assert_eq!(load_file(&base).expect("base").log_cap, Some(8 << 20));
    let child = write(d.path(), "child.toml", "extends = \"base.toml\"\n");
    assert_eq!(
        load_file(&child).expect("child").log_cap,
        Some(8 << 20),
        "inherited"
    );
    let own = write(
        d.path(),
        "own.toml",
        "extends = \"base.toml\"\nlog_cap = 65536\n",
    );
    assert_eq!(load_file(&own).expect("own").log_cap, Some(65536));
    for (text, want) in [
        ("log_cap = \"512K\"", 512 << 10),
        ("log_cap = \"256MiB\"", 256 << 20),
        ("log_cap = \"1.5M\"", 3 << 19),
        ("log_cap = \"64KiB\"", 64 << 10),
    ] {
        let p = write(d.path(), "p.toml", text);
        assert_eq!(load_file(&p).expect(text).log_cap, Some(want), "{text}");
    }
}

/// Issue 21.1: which profiles certify, decided by the chain's nearest built-in, and recorded
/// in the plan with the chain.
#[test]
fn certification_profiles_are_standard_full_and_files_built_on_them() {
    for (name, certifies) in [("quick", false), ("standard", true), ("full", true)] {
        let p = harness::profile::load_profile(name).expect(name);
        assert_eq!(p.certifies, certifies, "{name}");
    }
    let d = tmpdir();
    let on_quick = write(
        d.path(),
        "small.toml",
        "extends = \"quick\"\nexclude = [\"cpu::cpufreq\"]\n",
    );
    let on_standard = write(d.path(), "acme.toml", "extends = \"standard\"\n");
    let on_acme = write(d.path(), "acme2.toml", "extends = \"acme.toml\"\n");
    let alone = write(d.path(), "alone.toml", "stress_seconds = 1\n");
    for (p, certifies) in [
        (&on_quick, false),
        (&on_standard, true),
        (&on_acme, true),
        (&alone, false),
    ] {
        let prof = load_file(p).expect("loads");
        assert_eq!(
            prof.certifies,
            certifies,
            "{}: {:?}",
            p.display(),
            prof.chain
        );
    }
    let prof = load_file(&on_acme).expect("loads");
    assert_eq!(prof.chain.len(), 4, "{:?}", prof.chain);
    assert_eq!(&prof.chain[2..], ["standard", "quick"]);
    // The plan records both.
    let root = testing::fixtures::fixture("raid-sas");
    let inv = testing::rundir::probe(&root);
    let plan = harness::planner::make_plan(&harness::planner::PlanRequest::new(
        &load_file(&on_quick).expect("loads"),
        &inv,
        &root,
    ))
    .expect("plan");
    assert_eq!(plan.certifies, Some(false));
    assert_eq!(plan.profile_chain.last().map(String::as_str), Some("quick"));
    let cpufreq = plan
        .not_planned
        .iter()
        .find(|n| n.case == "cpu::cpufreq")
        .expect("cpu::cpufreq not planned");
    assert_eq!(
        cpufreq.kind,
        Some(documents::plan::NotPlannedKind::Excluded)
    );
    assert!(cpufreq.blocker && cpufreq.leaves_open());
    let stress = plan
        .not_planned
        .iter()
        .find(|n| n.case == "cpu::stress")
        .expect("cpu::stress not planned on a recorded tree");
    assert_eq!(stress.kind, Some(documents::plan::NotPlannedKind::Unmet));
}

/// A profile built on `standard` that shortens a stressor below what a certification runs
/// does not certify, and the plan and the verdict say which stressor and by how much.
#[test]
fn a_certification_profile_with_short_stress_does_not_certify() {
    let d = tmpdir();
    let cases = [
        ("cpu1s.toml", "stress_seconds = 1\n", Some("its cpu stress runs 1 s where a certification runs at least 10 min")),
        ("cpu.toml", "stress_seconds = { cpu = \"9m\" }\n", Some("its cpu stress runs 9 min where a certification runs at least 10 min")),
        ("storage.toml", "stress_seconds = { storage = \"299\" }\n", Some("its storage stress runs 299 s where a certification runs at least 5 min")),
        ("mem.toml", "stress_seconds = { memory = \"5m\" }\n", Some("its memory stress runs 5 min where a certification runs at least one full pass or 10 min")),
        ("longer.toml", "stress_seconds = { cpu = \"1h\", memory = \"2 passes\", storage = \"5m\" }\n", None),
        ("memtimed.toml", "stress_seconds = { memory = \"10m\" }\n", None),
    ];
    for (file, stress, want) in cases {
        let p = write(d.path(), file, &format!("extends = \"standard\"\n{stress}"));
        let prof = load_file(&p).expect(file);
        assert_eq!(prof.certifies, want.is_none(), "{file}");
        assert_eq!(prof.not_certifying.as_deref(), want, "{file}");
    }
    // The built-ins themselves are long enough.
    for name in ["standard", "full"] {
        let p = harness::profile::load_profile(name).expect(name);
        assert!(p.certifies && p.not_certifying.is_none(), "{name}");
    }
    // Built on a short one: inherited.
    let base = d.path().join("cpu1s.toml");
    assert!(base.exists());
    let on = write(d.path(), "on.toml", "extends = \"cpu1s.toml\"\n");
    assert!(!load_file(&on).expect("loads").certifies);
    // The plan and the verdict's gap say why.
    let root = testing::fixtures::fixture("raid-sas");
    let inv = testing::rundir::probe(&root);
    let mut plan = harness::planner::make_plan(&harness::planner::PlanRequest::new(
        &load_file(&base).expect("loads"),
        &inv,
        &root,
    ))
    .expect("plan");
    assert_eq!(plan.certifies, Some(false));
    plan.sysroot = "/".into();
    let gaps = documents::verdict::gaps(&plan);
    let g = gaps
        .iter()
        .find(|g| g.kind == documents::verdict::GapKind::Profile)
        .expect("a profile gap");
    assert!(
        g.reason.ends_with(
            "does not certify: its cpu stress runs 1 s where a certification runs at least 10 min"
        ),
        "{}",
        g.reason
    );
}
