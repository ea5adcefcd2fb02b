//! `hwcert certify`: the main job end to end on this machine — probe, plan, run (the quick
//! profile, stress included), report, and a signature stock OpenSSH accepts — made with a lab
//! key created on first use.

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn certify_runs_reports_and_signs_with_a_new_lab_key() {
    let t = tempfile::tempdir().expect("tmp");
    let config = t.path().join("config");
    let out = t.path().join("cert");
    let o = Command::cargo_bin("hwcert")
        .expect("hwcert")
        .env("XDG_CONFIG_HOME", &config)
        .env_remove("HWCERT_KEY_PASSPHRASE")
        .args(["certify", "--profile", "quick", "-o"])
        .arg(&out)
        .output()
        .expect("run certify");
    let err = String::from_utf8_lossy(&o.stderr);
    let text = String::from_utf8_lossy(&o.stdout);
    // This machine is not OpenCloudOS: not certified, exit 1; anything else is a bug.
    let report: Value = serde_json::from_slice(
        &std::fs::read(out.join("report/report.json")).expect("report.json written"),
    )
    .expect("report.json parses");
    let overall = report["verdict"]["overall"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        o.status.code(),
        Some(if overall == "certified" { 0 } else { 1 }),
        "{err}\n{text}"
    );
    assert!(
        err.contains("local lab key"),
        "says it made a lab key: {err}"
    );
    for f in ["report.html", "report.md", "junit.xml", "report.json.sig"] {
        assert!(out.join("report").join(f).is_file(), "{f}");
    }
    for f in ["inventory.json", "plan.json", "journal.jsonl"] {
        assert!(out.join("run").join(f).is_file(), "{f}");
    }
    // No instance ended in error on this machine.
    let journal = std::fs::read_to_string(out.join("run/journal.jsonl")).expect("journal");
    for line in journal.lines() {
        let j: Value = serde_json::from_str(line).expect("journal line");
        assert_ne!(j["status"], "error", "{line}");
    }

    // Stock ssh-keygen accepts the signature.
    let key_dir = config.join("hwcert");
    let public = std::fs::read_dir(&key_dir)
        .expect("key dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pub"))
        .expect("a public key");
    let pubtext = std::fs::read_to_string(&public).expect("pub");
    let mut parts = pubtext.split_whitespace();
    let (kind, b64, principal) = (
        parts.next().expect("type"),
        parts.next().expect("key"),
        parts.next().expect("comment"),
    );
    let signers = t.path().join("allowed_signers");
    std::fs::write(
        &signers,
        format!("{principal} namespaces=\"hwcert-report\" {kind} {b64}\n"),
    )
    .expect("write");
    let report_json = out.join("report/report.json");
    let v = StdCommand::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&signers)
        .args(["-I", principal, "-n", "hwcert-report", "-s"])
        .arg(out.join("report/report.json.sig"))
        .stdin(std::fs::File::open(&report_json).expect("open"))
        .output()
        .expect("ssh-keygen");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));

    // A second certify into the same OUT is refused; the key is reused, not remade.
    let o = Command::cargo_bin("hwcert")
        .expect("hwcert")
        .env("XDG_CONFIG_HOME", &config)
        .args(["certify", "-o"])
        .arg(&out)
        .output()
        .expect("run certify");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already holds a run"));
    assert!(Path::new(&public).is_file());
}
