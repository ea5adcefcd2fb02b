//! The BMC a profile names over the LAN, from the command line: `hwcert probe --bmc-profile`
//! reaches it with lanplus (a fake `ipmitool` on PATH replaying Dell iDRAC's recorded outputs
//! and writing down its arguments), `hwcert plan` plans the BMC cases for it and says where
//! there is none, and a profile that names no BMC is a usage error.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn recorded(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../hwdb/inventory/tests/tool-outputs/ipmitool/dell-idrac")
        .join(file)
}

/// A directory with `bin/ipmitool` (replaying the recorded mc info, fru print and sel info;
/// its arguments appended to `args`) and `bmc.toml`, a profile naming a BMC over the LAN.
fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let bin = d.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{args}'\n\
         case \"$*\" in\n\
         *'mc info') exec /bin/cat '{mc}' ;;\n\
         *'fru print') exec /bin/cat '{fru}' ;;\n\
         *'sel info') exec /bin/cat '{sel}' ;;\n\
         *) echo \"unexpected: $*\" >&2; exit 1 ;;\n\
         esac\n",
        args = d.path().join("args").display(),
        mc = recorded("mc-info.txt").display(),
        fru = recorded("fru-print.txt").display(),
        sel = recorded("sel-info.txt").display(),
    );
    let p = bin.join("ipmitool");
    std::fs::write(&p, script).expect("script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(
        d.path().join("bmc.toml"),
        "name = \"bmc-lan\"\nextends = \"quick\"\n\n[settings]\n\
         \"ipmi.host\" = \"192.0.2.10\"\n\"ipmi.user\" = \"admin\"\n\
         \"ipmi.password_file\" = \"/etc/hwcert/bmc.pw\"\n",
    )
    .expect("profile");
    std::fs::write(d.path().join("plain.toml"), "extends = \"quick\"\n").expect("profile");
    d
}

fn hwcert(d: &Path, args: &[&str]) -> Output {
    let path = format!(
        "{}:{}",
        d.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::cargo_bin("hwcert")
        .expect("the hwcert binary")
        .current_dir(d)
        .env("PATH", path)
        .args(args)
        .output()
        .expect("run hwcert")
}

fn args_seen(d: &Path) -> String {
    std::fs::read_to_string(d.join("args")).unwrap_or_default()
}

#[test]
fn probe_reaches_the_bmc_the_profile_names_over_lanplus() {
    let d = setup();
    let o = hwcert(
        d.path(),
        &["probe", "--json", "--no-udev", "--bmc-profile", "bmc.toml"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let inv: Value = serde_json::from_slice(&o.stdout).expect("inventory json");
    let bmc = &inv["bmc"];
    assert_eq!(bmc["status"], "used", "{bmc}");
    assert_eq!(bmc["reached"], "lanplus 192.0.2.10");
    assert_eq!(bmc["source"], "live");
    assert_eq!(bmc["sel"]["entries"], 7);
    assert!(bmc["mc"]["firmware_revision"].is_string(), "{bmc}");
    // Every call went to the BMC named, with the user and the password file (never a password).
    let seen = args_seen(d.path());
    for cmd in ["mc info", "fru print", "sel info"] {
        assert!(
            seen.lines()
                .any(|l| l
                    == format!("-I lanplus -H 192.0.2.10 -U admin -f /etc/hwcert/bmc.pw {cmd}")),
            "{seen}"
        );
    }
    // The human summary says which BMC it is and how it was reached.
    let o = hwcert(
        d.path(),
        &["probe", "--no-udev", "--bmc-profile", "bmc.toml"],
    );
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("lanplus 192.0.2.10"), "{text}");
}

#[test]
fn plan_plans_the_bmc_cases_for_the_named_bmc_and_says_why_not_without_one() {
    let d = setup();
    let o = hwcert(d.path(), &["plan", "--profile", "bmc.toml", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plan: Value = serde_json::from_slice(&o.stdout).expect("plan json");
    let text = plan.to_string();
    for case in ["system::bmc_sensors", "system::bmc_sel"] {
        assert!(text.contains(case), "{case} not in the plan");
    }
    assert!(text.contains("BMC lanplus 192.0.2.10"), "{text}");
    // The probe behind the plan asked the named BMC, so bmc_sel has its count of the start.
    assert!(args_seen(d.path()).contains("-H 192.0.2.10 -U admin -f /etc/hwcert/bmc.pw sel info"));

    // This machine has no /dev/ipmi0: without ipmi.host, --explain says why they are not
    // planned and how to name one.
    if Path::new("/dev/ipmi0").exists() {
        return;
    }
    let o = hwcert(d.path(), &["plan", "--profile", "plain.toml", "--explain"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("system::bmc_sensors"))
        .unwrap_or_else(|| panic!("bmc_sensors not explained: {text}"));
    let at = text.find(line).expect("line");
    let around = &text[at..(at + 600).min(text.len())];
    assert!(
        around.contains("no BMC to ask") && around.contains("ipmi.host"),
        "{around}"
    );
}

#[test]
fn a_profile_naming_no_bmc_or_none_at_all_is_a_usage_error() {
    let d = setup();
    for (args, says) in [
        (
            vec!["probe", "--bmc-profile", "plain.toml"],
            "the profile names no BMC (set ipmi.host",
        ),
        (
            vec!["snapshot", "-o", "s.tar.gz", "--bmc-profile", "plain.toml"],
            "the profile names no BMC",
        ),
        (
            vec!["probe", "--bmc-profile", "nonexistent.toml"],
            "--bmc-profile nonexistent.toml",
        ),
    ] {
        let o = hwcert(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Nothing was asked and nothing written.
    assert!(!d.path().join("args").exists());
    assert!(!d.path().join("s.tar.gz").exists());
}
