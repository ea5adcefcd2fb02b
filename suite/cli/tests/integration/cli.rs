//! The `hwcert` command line: probe and snapshot on this machine and on trees, and every kind
//! of wrong argument.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn hwcert() -> Command {
    Command::cargo_bin("hwcert").expect("the hwcert binary")
}

fn run(args: &[&str]) -> Output {
    hwcert().args(args).output().expect("run hwcert")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "hwcert failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("valid JSON on stdout")
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["probe", "--bogus"],
        &["probe", "--sysroot"],
        &["snapshot"],
        &["snapshot", "-o"],
        &["probe", "--json", "extra-argument"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?} says why");
    }
}

#[test]
fn help_and_version() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("probe") && help.contains("snapshot"),
        "{help}"
    );
    let o = run(&["--version"]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("hwcert "));
}

#[test]
fn not_a_linux_tree_is_one_line_and_nonzero() {
    let empty = tempfile::tempdir().expect("tmp");
    let garbage = empty.path().join("garbage.tar.gz");
    std::fs::write(&garbage, b"this is not an archive").expect("write");
    let missing = empty.path().join("missing");
    for root in [empty.path(), garbage.as_path(), missing.as_path()] {
        let o = run(&["probe", "--sysroot", root.to_str().expect("utf8")]);
        assert_eq!(o.status.code(), Some(1), "{}", root.display());
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
        assert!(e.starts_with("hwcert: error: "), "{e}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn live_probe_json_and_summary() {
    let v = json(&run(&["probe", "--json", "--no-udev"]));
    assert_eq!(v["schema"], "hwcert.inventory/1");
    assert!(v["host"]["kernel"].is_string());
    assert!(v["cpu"]["cpus"].as_u64().unwrap_or(0) >= 1, "{}", v["cpu"]);
    assert!(v["memory"]["total_bytes"].as_u64().unwrap_or(0) > 0);
    assert!(v["warnings"].is_array());
    let o = run(&["probe"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    for key in [
        "Host:",
        "Kernel:",
        "CPU:",
        "Memory:",
        "PCI (",
        "Storage (",
        "Network (",
    ] {
        assert!(s.contains(key), "summary lacks {key}:\n{s}");
    }
}

/// Every identifier in an inventory document is redacted.
fn assert_redacted(v: &Value) {
    let text = v.to_string();
    for n in v["network"].as_array().into_iter().flatten() {
        if let Some(mac) = n["mac"].as_str() {
            assert_eq!(mac, "REDACTED", "{text}");
        }
    }
    for b in v["storage"].as_array().into_iter().flatten() {
        if let Some(s) = b["serial"].as_str() {
            assert_eq!(s, "REDACTED");
        }
    }
}

/// The JSON paths where two documents differ, with both values.
fn diff(want: &Value, got: &Value) -> Vec<String> {
    fn walk(p: String, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let n = Value::Null;
                    walk(
                        format!("{p}.{k}"),
                        x.get(k).unwrap_or(&n),
                        y.get(k).unwrap_or(&n),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (a, b)) in x.iter().zip(y).enumerate() {
                    walk(format!("{p}[{i}]"), a, b, out);
                }
            }
            _ if a != b => out.push(format!("{p}: want {a}, got {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(String::new(), want, got, &mut out);
    out
}

fn snapshot_roundtrip(sysroot: Option<&Path>, probe_args: &[&str]) {
    let dir = tempfile::tempdir().expect("tmp");
    let snap = dir.path().join("snap.tar.gz");
    let mut args = vec!["snapshot", "-o", snap.to_str().expect("utf8")];
    let root_s = sysroot
        .map(|r| r.to_str().expect("utf8").to_string())
        .unwrap_or_default();
    if sysroot.is_some() {
        args.extend(["--sysroot", root_s.as_str()]);
    }
    let o = run(&args);
    assert!(o.status.success(), "snapshot: {}", stderr(&o));

    let mut direct = vec!["probe", "--json", "--no-udev"];
    direct.extend(probe_args);
    if sysroot.is_some() {
        direct.extend(["--sysroot", root_s.as_str()]);
    }
    let mut want = json(&run(&direct));
    assert_redacted(&want);
    // A snapshot also overwrites the host's name and the boot id, which a probe keeps.
    for k in ["hostname", "boot_id"] {
        if want["host"][k].is_string() {
            want["host"][k] = "REDACTED".into();
        }
    }
    // And what the live probe asked the BMC is, in the snapshot, a recording of it.
    if want["bmc"]["source"] == "live" {
        want["bmc"]["source"] = "recorded".into();
    }

    // The archive itself, and the extracted tree.
    let mut from_archive = vec!["probe", "--json", "--sysroot", snap.to_str().expect("utf8")];
    from_archive.extend(probe_args);
    let got = json(&run(&from_archive));
    let d = diff(&want, &got);
    assert!(
        d.is_empty(),
        "the snapshot does not reproduce the inventory:\n{}",
        d.join("\n")
    );

    let x = dir.path().join("x");
    std::fs::create_dir(&x).expect("mkdir");
    let st = std::process::Command::new("tar")
        .args([
            "-xzf",
            snap.to_str().expect("utf8"),
            "-C",
            x.to_str().expect("utf8"),
        ])
        .status()
        .expect("tar");
    assert!(st.success());
    let mut from_dir = vec!["probe", "--json", "--sysroot", x.to_str().expect("utf8")];
    from_dir.extend(probe_args);
    let d = diff(&want, &json(&run(&from_dir)));
    assert!(
        d.is_empty(),
        "extracted snapshot differs:\n{}",
        d.join("\n")
    );
    assert!(x.join("hwcert-snapshot.json").is_file());
}

#[test]
fn live_snapshot_round_trips() {
    snapshot_roundtrip(None, &[]);
    snapshot_roundtrip(None, &["--all"]);
}

#[test]
fn fixture_snapshots_round_trip() {
    let fixtures = testing::fixtures::fixtures_dir();
    let mut n = 0;
    for e in std::fs::read_dir(&fixtures).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            snapshot_roundtrip(Some(&p), &["--all"]);
            n += 1;
        }
    }
    eprintln!("round-tripped {n} hand-made trees");
}

#[test]
fn snapshot_refuses_what_is_not_linux() {
    let empty = tempfile::tempdir().expect("tmp");
    let out = empty.path().join("s.tar.gz");
    let o = run(&[
        "snapshot",
        "-o",
        out.to_str().expect("utf8"),
        "--sysroot",
        empty.path().to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "no half-written archive");
    let o = run(&["snapshot", "-o", "/nonexistent-dir/s.tar.gz"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn snapshot_refuses_to_overwrite_without_force() {
    let fixtures = testing::fixtures::fixtures_dir();
    let tree = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("a hand-made tree");
    let tree = tree.to_str().expect("utf8");
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("s.tar.gz");
    let out_s = out.to_str().expect("utf8");
    std::fs::write(&out, b"precious").expect("write");

    let o = run(&["snapshot", "-o", out_s, "--sysroot", tree]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains(out_s) && msg.contains("--force"),
        "names the file and the way out: {msg}"
    );
    assert_eq!(msg.trim_end().lines().count(), 1, "{msg}");
    assert_eq!(std::fs::read(&out).expect("read"), b"precious", "untouched");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary left: {leftovers:?}");

    // A dangling symlink is something there too.
    let link = dir.path().join("link.tar.gz");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).expect("symlink");
    let o = run(&[
        "snapshot",
        "-o",
        link.to_str().expect("utf8"),
        "--sysroot",
        tree,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!dir.path().join("nowhere").exists());

    let o = run(&["snapshot", "-o", out_s, "--sysroot", tree, "--force"]);
    assert!(o.status.success(), "--force replaces: {}", stderr(&o));
    let got = std::fs::read(&out).expect("read");
    assert_eq!(&got[..2], b"\x1f\x8b", "a gzip archive now");

    // A new file needs no --force.
    let fresh = dir.path().join("fresh.tar.gz");
    let o = run(&[
        "snapshot",
        "-o",
        fresh.to_str().expect("utf8"),
        "--sysroot",
        tree,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fresh.is_file());
}

#[test]
fn snapshot_redacts_hostname_and_boot_id() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = dir.path().join("tree");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(testing::fixtures::fixtures_dir().join("offline-cpus"))
        .arg(&tree)
        .status()
        .expect("cp");
    assert!(st.success());
    let host = "node17.lab.example";
    let boot = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
    for (f, v) in [
        ("proc/sys/kernel/hostname", host),
        ("proc/sys/kernel/random/boot_id", boot),
        ("etc/hostname", host),
    ] {
        let p = tree.join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, format!("{v}\n")).expect("write");
    }
    let tree_s = tree.to_str().expect("utf8");
    // The probe itself keeps both (run directories and reports use them).
    let direct = json(&run(&["probe", "--json", "--sysroot", tree_s]));
    assert_eq!(direct["host"]["hostname"], host);
    assert_eq!(direct["host"]["boot_id"], boot);

    for (extra, kept) in [(None, false), (Some("--show-identifiers"), true)] {
        let snap = dir.path().join(format!("s-{kept}.tar.gz"));
        let mut args = vec![
            "snapshot",
            "-o",
            snap.to_str().expect("utf8"),
            "--sysroot",
            tree_s,
        ];
        args.extend(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        // Nothing in the archive names the host or the boot.
        let x = dir.path().join(format!("x-{kept}"));
        std::fs::create_dir(&x).expect("mkdir");
        let st = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&snap)
            .arg("-C")
            .arg(&x)
            .status()
            .expect("tar");
        assert!(st.success());
        let grep = std::process::Command::new("grep")
            .args(["-rlF", "-e", host, "-e", boot])
            .arg(&x)
            .output()
            .expect("grep");
        let hits = String::from_utf8_lossy(&grep.stdout).into_owned();
        if kept {
            assert!(
                hits.contains("hostname") && hits.contains("boot_id"),
                "{hits}"
            );
        } else {
            assert!(
                hits.is_empty(),
                "identifying files left in the snapshot: {hits}"
            );
            let read = |f: &str| std::fs::read_to_string(x.join(f)).expect("recorded");
            assert_eq!(read("proc/sys/kernel/hostname"), "REDACTED\n");
            assert_eq!(read("proc/sys/kernel/random/boot_id"), "REDACTED\n");
        }
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(x.join("hwcert-snapshot.json")).expect("manifest"),
        )
        .expect("json");
        assert_eq!(manifest["hostname"], if kept { host } else { "REDACTED" });
        let got = json(&run(&[
            "probe",
            "--json",
            "--sysroot",
            snap.to_str().expect("utf8"),
        ]));
        let (h, b) = if kept {
            (host, boot)
        } else {
            ("REDACTED", "REDACTED")
        };
        assert_eq!(got["host"]["hostname"], h);
        assert_eq!(got["host"]["boot_id"], b);
    }
}

/// `run --help` shows what the options do for cases, not libtest's options that mean nothing
/// here (issue 21.9); they are still accepted. Every `--db` says what it is.
#[test]
fn run_help_speaks_of_cases_and_every_db_has_help() {
    let o = run(&["run", "--help"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    for gone in [
        "--bench",
        "-Z",
        "No-op",
        "--nocapture",
        "--show-output",
        "Run ignored tests",
        "benchmarks",
    ] {
        assert!(!help.contains(gone), "{gone} in run --help:\n{help}");
    }
    for shown in [
        "Run only the cases whose names contain FILTER",
        "--list ",
        "Also run the ignored (destructive) cases",
        "--color <auto|always|never>",
    ] {
        assert!(
            help.contains(shown),
            "{shown} missing from run --help:\n{help}"
        );
    }
    // Hidden is not refused: scripts written for cargo test keep working.
    let o = run(&[
        "run",
        "--bench",
        "--nocapture",
        "--list",
        "--sysroot",
        "/nonexistent",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "refused for the sysroot only: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("--sysroot /nonexistent"),
        "{}",
        stderr(&o)
    );
    for sub in ["add", "revoke", "query", "publish"] {
        let o = run(&["hwdb", sub, "--help"]);
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        // Its help beside it, or (long help) on the next line.
        let lines: Vec<&str> = help.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.trim_start().starts_with("--db <DIR>"))
            .unwrap_or_else(|| panic!("hwdb {sub} --help has --db:\n{help}"));
        let said = lines[i].trim_start().len() > "--db <DIR>".len() + 4
            || lines.get(i + 1).is_some_and(|l| {
                let t = l.trim_start();
                !t.is_empty() && !t.starts_with('-')
            });
        assert!(said, "hwdb {sub} --db has no help:\n{help}");
    }
}
