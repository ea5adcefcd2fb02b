//! `hwcert report`, `verify`, `keygen` and `schema`: what they write and print, their exit
//! statuses, and every kind of wrong argument and missing file.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use assert_cmd::Command;
use serde_json::Value;

use testing::rundir::RunBuilder;

/// hwcert with a configuration directory of its own (no lab key unless a test makes one).
fn hwcert(config: &Path) -> Command {
    let mut c = Command::cargo_bin("hwcert").expect("the hwcert binary");
    c.env("XDG_CONFIG_HOME", config)
        .env_remove("HWCERT_KEY_PASSPHRASE");
    c
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Fixture {
    t: tempfile::TempDir,
    run: PathBuf,
    config: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let t = tempfile::tempdir().expect("tmp");
        let mut b = RunBuilder::raid_sas();
        b.finish("pci::aer_clean::0000:3b:00.0", "fail");
        b.pass_the_rest();
        let run = t.path().join("run");
        b.write(&run).expect("write the run");
        let config = t.path().join("config");
        Fixture { t, run, config }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.t.path().join(p)
    }
    fn hwcert<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        hwcert(&self.config)
            .args(args)
            .output()
            .expect("run hwcert")
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn report_writes_the_report_directory() {
    let f = Fixture::new();
    let o = f.hwcert(["report", s(&f.run)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = f.run.join("report");
    for name in [
        "report.json",
        "report.html",
        "report.md",
        "junit.xml",
        "logs",
    ] {
        assert!(out.join(name).exists(), "{name}");
    }
    assert!(!out.join("report.json.sig").exists());
    assert!(
        stderr(&o).contains("unsigned: pass --key"),
        "{}",
        stderr(&o)
    );
    let text = stdout(&o);
    assert!(
        text.starts_with("Not certified: 1 blocker failed: pci::aer_clean::0000:3b:00.0."),
        "{text}"
    );
    assert!(text.contains("1 fail"), "{text}");
    // -o elsewhere.
    let other = f.path("elsewhere");
    let o = f.hwcert(["report", s(&f.run), "-o", s(&other)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(other.join("report.json").is_file());
}

#[test]
fn keygen_report_and_verify_together() {
    let f = Fixture::new();
    let key = f.path("lab_key");
    let o = f.hwcert(["keygen", "-f", s(&key), "--principal", "lab@example.com"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = stdout(&o);
    assert!(
        line.starts_with("lab@example.com namespaces=\"hwcert-report\" ssh-ed25519 AAAA"),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1, "only the line on stdout");
    assert!(stderr(&o).contains("mode 0600"), "{}", stderr(&o));
    let allowed = f.path("allowed_signers");
    fs::write(&allowed, &line).expect("write");

    let out = f.path("out");
    let o = f.hwcert(["report", s(&f.run), "-o", s(&out), "--key", s(&key)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("signed with"), "{}", stderr(&o));

    let o = f.hwcert(["verify", s(&out), "--allowed-signers", s(&allowed)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("ok   signature"), "{text}");
    assert!(text.contains("ok   signer    allowed by"), "{text}");
    assert!(text.contains("ok   logs"), "{text}");
    assert!(text.trim_end().ends_with("verified"), "{text}");
    let o = f.hwcert([
        "verify",
        s(&out.join("report.json")),
        "--allowed-signers",
        s(&allowed),
        "-I",
        "lab@example.com",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Stock OpenSSH agrees, with the line keygen printed.
    if StdCommand::new("ssh-keygen")
        .arg("-?")
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        let st = StdCommand::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", "lab@example.com", "-n", "hwcert-report", "-s"])
            .arg(out.join("report.json.sig"))
            .stdin(fs::File::open(out.join("report.json")).expect("open"))
            .stdout(Stdio::null())
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
    }

    // A wrong principal, then a changed report: exit 1, saying which check failed.
    let o = f.hwcert([
        "verify",
        s(&out),
        "--allowed-signers",
        s(&allowed),
        "-I",
        "mallory@example.com",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("FAIL signer"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("NOT verified (signer failed)"),
        "{}",
        stdout(&o)
    );
    let p = out.join("report.json");
    let text = fs::read_to_string(&p).expect("read");
    fs::write(&p, text.replacen("NF5280M5", "NF5280M6", 1)).expect("write");
    let log = out.join("logs/cpu::all_online.log");
    fs::write(&log, "rewritten\n").expect("write");
    let o = f.hwcert(["verify", s(&out), "--allowed-signers", s(&allowed)]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("FAIL signature"), "{text}");
    assert!(text.contains("FAIL logs"), "{text}");
    assert!(
        text.contains("NOT verified (signature, logs failed)"),
        "{text}"
    );
}

#[test]
fn keygen_defaults_to_the_lab_key_which_report_then_uses() {
    let f = Fixture::new();
    let o = f.hwcert(["keygen"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let key = f.config.join("hwcert/report_ed25519");
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&f.config.join("hwcert")), 0o700);
    assert!(f.config.join("hwcert/report_ed25519.pub").is_file());
    // Never twice.
    let o = f.hwcert(["keygen"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    // report signs with it without being told.
    let o = f.hwcert(["report", s(&f.run)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(f.run.join("report/report.json.sig").is_file());
    assert!(stderr(&o).contains(&format!("signed with {}", key.display())));
    // …and refuses it once others can read it.
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = f.hwcert(["report", s(&f.run)]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("chmod 600"), "{e}");
}

#[test]
fn schema_report_is_json_schema() {
    let f = Fixture::new();
    let o = f.hwcert(["schema", "report"]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(v["properties"]["schema"]["const"], "hwcert.report/1");
}

#[test]
fn wrong_arguments_exit_2() {
    let f = Fixture::new();
    let run = s(&f.run).to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["report"],
        vec!["report", &run, "extra"],
        vec!["report", &run, "--bogus"],
        vec!["report", &run, "--key"],
        vec!["report", &run, "-o"],
        vec!["verify"],
        vec!["verify", &run],
        vec!["verify", &run, "--allowed-signers"],
        vec!["verify", &run, "--allowed-signers", "a", "b"],
        vec!["keygen", "extra"],
        vec!["keygen", "--bogus"],
        vec!["keygen", "-f"],
        vec!["schema"],
        vec!["schema", "nonsense"],
        vec!["schema", "report", "extra"],
    ];
    for args in cases {
        let o = f.hwcert(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?} says why");
    }
}

#[test]
fn missing_files_exit_1_in_one_line() {
    let f = Fixture::new();
    let key = f.path("k");
    let o = f.hwcert(["keygen", "-f", s(&key), "--principal", "lab@example.com"]);
    assert_eq!(o.status.code(), Some(0));
    let allowed = f.path("allowed_signers");
    fs::write(&allowed, stdout(&o)).expect("write");
    let out = f.path("out");
    let o = f.hwcert(["report", s(&f.run), "-o", s(&out), "--key", s(&key)]);
    assert_eq!(o.status.code(), Some(0));
    let empty = f.path("empty");
    fs::create_dir(&empty).expect("mkdir");
    let missing = f.path("missing");
    let m = s(&missing).to_string();
    let sub = missing.join("sub/k");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["report", &m], "no such directory"),
        (vec!["report", s(&empty)], "inventory.json: no such file"),
        (
            vec!["report", s(&f.run), "--key", &m],
            "missing: no such file or directory",
        ),
        (
            vec!["verify", &m, "--allowed-signers", s(&allowed)],
            "missing: no such file or directory",
        ),
        (
            vec!["verify", s(&out), "--allowed-signers", &m],
            "missing: no such file or directory",
        ),
        (
            vec!["verify", s(&empty), "--allowed-signers", s(&allowed)],
            "report.json: no such file or directory",
        ),
        (vec!["keygen", "-f", s(&sub)], "no such file or directory"),
        (vec!["keygen", "--principal", "two words"], "not allowed"),
    ];
    for (args, says) in cases {
        let o = f.hwcert(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(e.starts_with("hwcert: error: "), "{args:?}: {e}");
        assert!(e.contains(says), "{args:?}: {e}");
    }
}

/// Issue 21.6: a signed report has its signer's allowed_signers line beside it, `keygen
/// --print-signer` prints the line of an existing key again, and ssh-keygen verifies the
/// report with that file exactly as the documented command says.
#[test]
fn a_signed_report_has_its_allowed_signers_beside_it_and_ssh_keygen_verifies_with_it() {
    let f = Fixture::new();
    let key = f.path("lab_ed25519");
    let o = f.hwcert(["keygen", "-f", s(&key), "--principal", "lab@example.com"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let made = stdout(&o).trim().to_string();
    let o = f.hwcert(["keygen", "--print-signer", s(&key)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), made, "the same line, printed again");
    let o = f.hwcert(["keygen", "--print-signer", s(&f.path("nokey"))]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nokey.pub"), "{}", stderr(&o));

    let out = f.path("signed");
    let o = f.hwcert(["report", s(&f.run), "-o", s(&out), "--key", s(&key)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let signers = out.join("allowed_signers");
    assert_eq!(
        fs::read_to_string(&signers).expect("allowed_signers"),
        format!("{made}\n")
    );
    // ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n hwcert-report -s report.json.sig < report.json
    let v = StdCommand::new("ssh-keygen")
        .current_dir(&out)
        .args([
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            "lab@example.com",
        ])
        .args(["-n", "hwcert-report", "-s", "report.json.sig"])
        .stdin(fs::File::open(out.join("report.json")).expect("report.json"))
        .output()
        .expect("ssh-keygen");
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    // Unsigned again: the signature and the line go.
    let o = f.hwcert(["report", s(&f.run), "-o", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!signers.exists() && !out.join("report.json.sig").exists());
}
