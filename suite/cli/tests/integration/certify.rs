//! `hwcert certify`: the main job end to end on this machine — probe, plan, run (the quick
//! profile, stress included), report, and a signature stock OpenSSH accepts — made with a lab
//! key created on first use.

use crate::support::environ_overwrites_show;
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
    // The notice is prose: no run of spaces from a string continuation (issue 20.4).
    assert!(
        err.contains("not by a certification authority") && !err.contains("  a certification"),
        "the lab-key notice reads as one sentence: {err}"
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

#[test]
fn certify_signs_with_a_protected_key_whose_passphrase_no_case_sees() {
    const PASS: &str = "correct-horse-battery-staple";
    let t = tempfile::tempdir().expect("tmp");
    let key = t.path().join("lab_ed25519");
    let k = StdCommand::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-C", "lab@test", "-N", PASS, "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    let out = t.path().join("cert");
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/selftest-only.toml");
    let o = Command::cargo_bin("hwcert")
        .expect("hwcert")
        .env("XDG_CONFIG_HOME", t.path().join("config"))
        .env("HWCERT_KEY_PASSPHRASE", PASS)
        .env("HWCERT_SELFTEST", "env,cmd_env,parent_env")
        .arg("certify")
        .arg("--profile")
        .arg(&profile)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run certify");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.join("report/report.json.sig").is_file(),
        "signed: {err}"
    );
    // Both cases printed their environment, and parent_env the supervisor's (certify's own,
    // as /proc/PID/environ shows it to any process of the user); the passphrase is in no file
    // of the run or report.
    let parent_log = std::fs::read_to_string(out.join("run/logs/selftest::parent_env.log"))
        .expect("parent_env's log");
    assert!(
        parent_log.contains("parent env XDG_CONFIG_HOME="),
        "{parent_log}"
    );
    // Under qemu-user the supervisor's /proc/PID/environ is the qemu process's, which holds
    // the passphrase whatever hwcert does (support::environ_overwrites_show says why): that
    // one log is left out there, every other file of the run and report is still checked.
    let environ_hidden = environ_overwrites_show();
    if environ_hidden {
        assert!(
            !parent_log.contains("HWCERT_KEY_PASSPHRASE"),
            "{parent_log}"
        );
    }
    let mut seen_env = 0;
    for sub in ["run", "report"] {
        for e in walk(&out.join(sub)) {
            if !environ_hidden && e.ends_with("selftest::parent_env.log") {
                continue;
            }
            let b = std::fs::read(&e).expect("read");
            let s = String::from_utf8_lossy(&b);
            assert!(!s.contains(PASS), "{} holds the passphrase", e.display());
            if s.contains("HWCERT_INSTANCE=selftest::cmd_env::st0") {
                seen_env += 1;
            }
        }
    }
    assert!(seen_env > 0, "the environment was logged: {err}");
    // ssh-keygen accepts the signature.
    let pubtext = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
    let mut parts = pubtext.split_whitespace();
    let (kind, b64) = (parts.next().expect("type"), parts.next().expect("key"));
    let signers = t.path().join("allowed_signers");
    std::fs::write(
        &signers,
        format!("lab@test namespaces=\"hwcert-report\" {kind} {b64}\n"),
    )
    .expect("write");
    let v = StdCommand::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&signers)
        .args(["-I", "lab@test", "-n", "hwcert-report", "-s"])
        .arg(out.join("report/report.json.sig"))
        .stdin(std::fs::File::open(out.join("report/report.json")).expect("open"))
        .output()
        .expect("ssh-keygen");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// Issue 21.7: Ctrl-C during `certify` says what happened and how to go on, leaves the run
/// resumable, and `certify --resume OUT` finishes it and writes the signed report.
#[test]
fn certify_interrupted_by_sigint_says_how_to_resume_and_resumes() {
    let t = tempfile::tempdir().expect("tmp");
    let out = t.path().join("cert");
    let key = t.path().join("lab_ed25519");
    reports::keys::keygen(&key, "lab@test").expect("keygen");
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/selftest-only.toml");
    let child = StdCommand::new(env!("CARGO_BIN_EXE_hwcert"))
        .env("XDG_CONFIG_HOME", t.path().join("config"))
        .env("HWCERT_SELFTEST", "pass,sleep")
        .env("HWCERT_SELFTEST_SLEEP", "3600")
        .env_remove("RUST_BACKTRACE")
        .arg("certify")
        .arg("--profile")
        .arg(&profile)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start certify");
    // Wait until selftest::sleep runs (state.json names it), then Ctrl-C.
    let state = out.join("run/state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&state).is_ok_and(|s| s.contains("selftest::sleep")) {
        assert!(
            std::time::Instant::now() < deadline,
            "selftest::sleep never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(o.status.signal(), Some(libc::SIGINT), "{err}");
    assert!(err.contains("hwcert: SIGINT: the run stopped."), "{err}");
    assert!(err.contains("No report was written."), "{err}");
    assert!(
        err.contains(&format!(
            "To resume: hwcert certify --resume {}",
            out.display()
        )),
        "{err}"
    );
    assert!(!out.join("report").exists());

    let o = StdCommand::new(env!("CARGO_BIN_EXE_hwcert"))
        .env("XDG_CONFIG_HOME", t.path().join("config"))
        .env("HWCERT_SELFTEST_SLEEP", "1")
        .env_remove("HWCERT_SELFTEST")
        .args(["certify", "--key"])
        .arg(&key)
        .arg("--resume")
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("certify --resume");
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.join("report/report.json.sig").is_file(), "{said}");
    assert!(
        !said.contains("Next: hwcert report"),
        "certify makes the report: {said}"
    );
    let r: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("report/report.json")).expect("report.json"),
    )
    .expect("json");
    let sleep = r["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|x| x["name"] == "selftest::sleep")
        .expect("selftest::sleep");
    assert_eq!(sleep["status"], "pass", "{sleep}");
    assert_eq!(sleep["attempts"], 2, "interrupted, then run again: {sleep}");
    assert_eq!(o.status.code(), Some(0), "{said}");
}
