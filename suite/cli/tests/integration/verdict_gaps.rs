//! Issue 21.1 and 21.2, as a new user met it: `hwcert run --sysroot` of a recorded machine
//! with a small profile built on `quick` and `cpu::cpufreq` excluded, then `hwcert report`,
//! gave a green CERTIFIED, and `hwdb add` took it. A recorded machine, a profile that does not
//! certify and an excluded blocker each keep the run from certifying; the terminal, report.json,
//! report.html, report.md and junit.xml say why, and `hwdb add` refuses it with exit status 8.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn hwcert(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwcert"));
    c.env("XDG_CONFIG_HOME", config)
        .env_remove("HWCERT_SELFTEST")
        .env_remove("HWCERT_KEY_PASSPHRASE")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    c
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_recorded_machine_with_a_quick_profile_and_an_excluded_blocker_certifies_nothing() {
    let t = tempfile::tempdir().expect("tmp");
    let config = t.path().join("config");
    let profile = t.path().join("small.toml");
    fs::write(
        &profile,
        "name = \"small\"\nextends = \"quick\"\nexclude = [\"cpu::cpufreq\"]\n",
    )
    .expect("profile");
    let run = t.path().join("run");
    let o = hwcert(&config)
        .arg("run")
        .arg("--sysroot")
        .arg(testing::fixtures::fixture("raid-sas"))
        .arg("--profile")
        .arg(&profile)
        .arg("--out")
        .arg(&run)
        .output()
        .expect("hwcert run");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    // The run's last words use the report's rule and words.
    assert!(out.contains("Incomplete: not certified."), "{}", show(&o));
    assert!(out.contains("recorded machine"), "{}", show(&o));
    assert!(out.contains("cpu::cpufreq excluded"), "{}", show(&o));
    assert!(out.contains("not a certification profile"), "{}", show(&o));
    assert!(!out.contains("Every blocker passed"), "{}", show(&o));

    let plan: Value =
        serde_json::from_slice(&fs::read(run.join("plan.json")).expect("plan")).expect("json");
    assert_eq!(plan["certifies"], false);
    let chain: Vec<&str> = plan["profile_chain"]
        .as_array()
        .expect("chain")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(chain.len(), 2, "{chain:?}");
    assert!(
        chain[0].ends_with("small.toml") && chain[1] == "quick",
        "{chain:?}"
    );

    let key = t.path().join("lab_ed25519");
    let k = reports::keys::keygen(&key, "lab@example.com").expect("keygen");
    let allowed = t.path().join("allowed_signers");
    fs::write(&allowed, format!("{}\n", k.allowed_signers)).expect("allowed_signers");
    let report = t.path().join("report");
    let o = hwcert(&config)
        .arg("report")
        .arg(&run)
        .arg("--output")
        .arg(&report)
        .arg("--key")
        .arg(&key)
        .output()
        .expect("hwcert report");
    // `report` exits 0 whatever the verdict; the verdict is its first line.
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.starts_with("Incomplete: not certified. Recorded machine: the plan"),
        "{said}"
    );

    let r: Value = serde_json::from_slice(&fs::read(report.join("report.json")).expect("json"))
        .expect("report.json");
    assert_eq!(r["verdict"]["overall"], "incomplete", "{}", r["verdict"]);
    let gaps: Vec<(String, String)> = r["verdict"]["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap_or("").to_string(),
                g["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for want in [
        ("recorded_machine", ""),
        ("profile", ""),
        ("excluded", "cpu::cpufreq"),
    ] {
        assert!(
            gaps.iter().any(|(k, n)| k == want.0 && n == want.1),
            "{want:?} in {gaps:?}"
        );
    }
    // Stress cases need the live system: not planned, and said so.
    assert!(
        gaps.iter()
            .any(|(k, n)| k == "not_planned" && n == "cpu::stress"),
        "{gaps:?}"
    );
    assert_eq!(r["profile"]["certifies"], false);
    assert!(r["verdict"]["components"]
        .as_array()
        .expect("components")
        .iter()
        .all(|c| c["verdict"] != "certified"));

    let html = fs::read_to_string(report.join("report.html")).expect("html");
    assert!(
        html.contains("recorded machine: the plan was made from"),
        "html"
    );
    assert!(
        html.contains("id=\"not-tested\""),
        "html: a Not tested section"
    );
    assert!(
        html.contains("cpu::cpufreq"),
        "html names the excluded blocker"
    );
    assert!(html.contains("is not a certification profile"), "html");
    let md = fs::read_to_string(report.join("report.md")).expect("md");
    assert!(md.contains("**INCOMPLETE**"), "{md}");
    assert!(md.contains("recorded machine"), "{md}");
    assert!(md.contains("### Not tested"), "{md}");
    assert!(md.contains("cpu::cpufreq"), "{md}");
    let junit = fs::read_to_string(report.join("junit.xml")).expect("junit");
    assert!(junit.contains("recorded machine"), "{junit}");
    assert!(junit.contains("name=\"cpu::cpufreq\""), "{junit}");

    let db = t.path().join("hcl");
    let o = hwcert(&config)
        .args(["hwdb", "add"])
        .arg(&report)
        .arg("--db")
        .arg(&db)
        .arg("--allowed-signers")
        .arg(&allowed)
        .output()
        .expect("hwcert hwdb add");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(i32::from(documents::exit::NOT_CERTIFYING)),
        "{}",
        show(&o)
    );
    assert!(err.contains("refused (cannot certify)"), "{err}");
    assert!(err.contains("recorded machine"), "{err}");
    assert!(err.contains("not a certification profile"), "{err}");
    assert!(err.contains("blocker cpu::cpufreq excluded"), "{err}");
    assert!(!db.exists(), "a refused report makes no store");
}
