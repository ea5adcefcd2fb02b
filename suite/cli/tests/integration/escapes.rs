//! Device strings with terminal escapes: a crafted snapshot whose DMI product name clears the
//! screen and sets the window title, and an interface named with a control character. Every
//! human-readable output (probe, plan, run, report.md) shows them escaped, never raw.

use std::path::Path;
use std::process::Command;

use crate::support::{hwcert, selftest_profile, text};

const EVIL: &str = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[HServer\u{9b}";

fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success());
}

/// Raw control characters other than newline and tab.
fn raw_controls(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

fn check(what: &str, b: &[u8]) {
    let raw = raw_controls(b);
    assert!(
        raw.is_empty(),
        "{what} printed raw controls {raw:?}:\n{}",
        text(b)
    );
}

#[test]
fn control_characters_are_escaped_in_every_human_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_tree(&testing::fixtures::fixture("raid-sas"), &root);
    std::fs::write(
        root.join("sys/class/dmi/id/product_name"),
        format!("{EVIL}\n"),
    )
    .expect("write product_name");
    std::fs::write(
        root.join("sys/class/dmi/id/sys_vendor"),
        "Vendor\u{8}\u{8}X\n",
    )
    .expect("write sys_vendor");
    let root_s = root.to_str().expect("utf-8");

    // probe (the summary): escaped; --json stays JSON (serde escapes controls itself).
    let o = Command::new(hwcert())
        .args(["probe", "--sysroot", root_s])
        .output()
        .expect("probe");
    assert!(o.status.success(), "{}", text(&o.stderr));
    check("probe", &o.stdout);
    check("probe (stderr)", &o.stderr);
    assert!(
        text(&o.stdout).contains("Evil\\e]0;pwned\\x07\\e[2J\\e[HServer\\u{009b}"),
        "the escaped name is shown:\n{}",
        text(&o.stdout)
    );
    let j = Command::new(hwcert())
        .args(["probe", "--json", "--sysroot", root_s])
        .output()
        .expect("probe --json");
    check("probe --json", &j.stdout);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("JSON");
    assert_eq!(
        v["dmi"]["product_name"], EVIL,
        "JSON keeps the value itself"
    );

    // plan, with and without --explain.
    for extra in [&[][..], &["--explain"][..]] {
        let mut args = vec!["plan", "--sysroot", root_s];
        args.extend_from_slice(extra);
        let o = Command::new(hwcert()).args(&args).output().expect("plan");
        assert!(o.status.success(), "{}", text(&o.stderr));
        check("plan", &o.stdout);
        check("plan (stderr)", &o.stderr);
    }

    // run on the crafted tree, then report.md and the report's text.
    let run = tmp.path().join("run");
    let o = Command::new(hwcert())
        .args(["run", "--sysroot", root_s, "--profile"])
        .arg(selftest_profile())
        .arg("--out")
        .arg(&run)
        .env("HWCERT_SELFTEST", "pass")
        .output()
        .expect("run");
    check("run", &o.stdout);
    check("run (stderr)", &o.stderr);
    let out = tmp.path().join("report");
    let o = Command::new(hwcert())
        .arg("report")
        .arg(&run)
        .arg("-o")
        .arg(&out)
        .env_remove("HWCERT_KEY_PASSPHRASE")
        .env("HOME", tmp.path())
        .output()
        .expect("report");
    assert!(o.status.success(), "report: {}", text(&o.stderr));
    check("report", &o.stdout);
    check("report (stderr)", &o.stderr);
    let md = std::fs::read(out.join("report.md")).expect("report.md");
    check("report.md", &md);
    assert!(
        text(&md).contains("Evil\\\\e\\]0;pwned"),
        "report.md shows the escape:\n{}",
        text(&md)
    );
}
