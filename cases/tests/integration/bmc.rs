//! system::bmc_sensors and system::bmc_sel driven end to end with a fake `ipmitool` on PATH (a
//! script printing the five vendors' recorded outputs of hwdb/inventory/tests/tool-outputs/
//! ipmitool, hanging, printing garbage, or absent). The inventory the cases see is the probe of
//! a tree holding the vendor's recorded `mc info`, `fru print` and `sel info` (the SEL's count
//! at the start of the run). Each case runs in a child process, so that each test has its own
//! PATH.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cases::{Context, RunOptions, Selection, Target, Verdict};

fn outputs(vendor: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hwdb/inventory/tests/tool-outputs/ipmitool")
        .join(vendor)
        .join(file)
}

/// A tree with the vendor's recorded BMC outputs (what a probe at the start of the run read).
fn tree(vendor: &str, with_sel: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for sub in ["proc", "sys/devices", ".hwcert/tools"] {
        std::fs::create_dir_all(d.path().join(sub)).expect("mkdir");
    }
    std::fs::write(d.path().join("proc/cpuinfo"), "processor\t: 0\n").expect("cpuinfo");
    let mut files = vec![
        ("mc-info.txt", "ipmitool-mc-info.txt"),
        ("fru-print.txt", "ipmitool-fru-print.txt"),
    ];
    if with_sel {
        files.push(("sel-info.txt", "ipmitool-sel-info.txt"));
    }
    for (src, dst) in files {
        std::fs::copy(
            outputs(vendor, src),
            d.path().join(".hwcert/tools").join(dst),
        )
        .expect("copy");
    }
    d
}

/// A directory holding a fake `ipmitool`: "replay VENDOR", "hang", "garbage", "refuse", or
/// "none" (no ipmitool at all). It writes its arguments to `args` beside `bin/`.
fn fake(dir: &Path, mode: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let body = match mode.split_once(' ') {
        Some(("replay", vendor)) => format!(
            "case \"$*\" in\n\
             *sensor) exec /bin/cat '{}' ;;\n\
             *'sel elist') exec /bin/cat '{}' ;;\n\
             *) echo \"unexpected: $*\" >&2; exit 1 ;;\n\
             esac",
            outputs(vendor, "sensor.txt").display(),
            outputs(vendor, "sel-elist.txt").display()
        ),
        _ if mode == "hang" => "exec /bin/sleep 600".into(),
        _ if mode == "garbage" => "echo 'Segmentation fault'; echo '| | |'".into(),
        _ if mode == "refuse" => {
            "echo 'Error: Unable to establish IPMI v2 / RMCP+ session' >&2; exit 1".into()
        }
        _ => return bin,
    };
    let p = bin.join("ipmitool");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n{body}\n",
            dir.join("args").display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

struct Ran {
    verdict: Verdict,
    log: String,
    took: Duration,
}

/// Run `case` in a child with PATH = `path`, the inventory of `tree`, the SEL count at the
/// start replaced by `sel_start` when given, and `settings` ("k=v;k=v").
fn run(case: &str, tree: &Path, path: &Path, sel_start: Option<u64>, settings: &str) -> Ran {
    let exe = std::env::current_exe().expect("test binary");
    let t = Instant::now();
    let out = Command::new(exe)
        .args([
            "bmc::child_entry",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("PATH", path)
        .env("HWCERT_T_BMC", case)
        .env("HWCERT_T_TREE", tree)
        .env(
            "HWCERT_T_SEL_START",
            sel_start.map(|n| n.to_string()).unwrap_or_default(),
        )
        .env("HWCERT_T_SETTINGS", settings)
        .stdin(Stdio::null())
        .output()
        .expect("child");
    let took = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HWCERT-T-OUTCOME ").map(|x| x.1))
        .unwrap_or_else(|| {
            panic!(
                "no outcome: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    Ran {
        verdict: serde_json::from_value(v["verdict"].clone()).expect("verdict"),
        log: v["log"].as_str().unwrap_or("").to_string(),
        took,
    }
}

/// The child: run one case on the live system with the recorded tree's inventory.
#[test]
fn child_entry() {
    let Ok(case) = std::env::var("HWCERT_T_BMC") else {
        return;
    };
    let tree = std::env::var("HWCERT_T_TREE").expect("tree");
    let mut inv = crate::common::probe(Path::new(&tree));
    if let Ok(n) = std::env::var("HWCERT_T_SEL_START") {
        if let (Ok(n), Some(sel)) = (
            n.parse::<u64>(),
            inv.bmc.as_mut().and_then(|b| b.sel.as_mut()),
        ) {
            sel.entries = n;
        }
    }
    let case = cases::find(&case).expect("a case");
    let mut options = RunOptions::default();
    for kv in std::env::var("HWCERT_T_SETTINGS")
        .unwrap_or_default()
        .split(';')
    {
        if let Some((k, v)) = kv.split_once('=') {
            options.settings.insert(k.to_string(), v.to_string());
        }
    }
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let target = Target::machine();
    let mut ctx = Context::new(&inv, "/", &target, &options, true, Box::new(W(buf.clone())));
    let verdict = case.run(&mut ctx);
    let outcome = ctx.finish(verdict);
    let log = String::from_utf8_lossy(&buf.lock().expect("log")).into_owned();
    let v = serde_json::json!({"verdict": outcome.verdict, "log": log});
    println!("HWCERT-T-OUTCOME {v}");
}

fn failed(r: &Ran) -> &str {
    match &r.verdict {
        Verdict::Fail { measured, .. } => measured,
        v => panic!("not a failure: {v:?}\n{}", r.log),
    }
}

#[test]
fn sensors_of_five_vendors() {
    for vendor in ["dell-idrac", "supermicro", "huawei-ibmc"] {
        let d = tempfile::tempdir().expect("tempdir");
        let t = tree(vendor, true);
        let r = run(
            "system::bmc_sensors",
            t.path(),
            &fake(d.path(), &format!("replay {vendor}")),
            None,
            "",
        );
        assert_eq!(r.verdict, Verdict::Pass, "{vendor}: {}", r.log);
        assert!(r.log.contains(" sensors: 0 critical"), "{}", r.log);
    }
    // Huawei's memory temperature at nc is a warning in the log, not a failure.
    let d = tempfile::tempdir().expect("tempdir");
    let t = tree("huawei-ibmc", true);
    let r = run(
        "system::bmc_sensors",
        t.path(),
        &fake(d.path(), "replay huawei-ibmc"),
        None,
        "",
    );
    assert!(
        r.log
            .contains("warning: CPU2 MEM Temp: 86 degrees C, status nc (non-critical)"),
        "{}",
        r.log
    );
    // HPE: a power supply in state cr; Inspur: a CPU above its critical threshold and a
    // stopped fan below its own.
    let d = tempfile::tempdir().expect("tempdir");
    let t = tree("hpe-ilo", true);
    let r = run(
        "system::bmc_sensors",
        t.path(),
        &fake(d.path(), "replay hpe-ilo"),
        None,
        "",
    );
    assert_eq!(
        failed(&r),
        "Power Supply 1: 0 Watts, status cr (critical)",
        "{}",
        r.log
    );
    let d = tempfile::tempdir().expect("tempdir");
    let t = tree("inspur", true);
    let r = run(
        "system::bmc_sensors",
        t.path(),
        &fake(d.path(), "replay inspur"),
        None,
        "",
    );
    assert_eq!(
        failed(&r),
        "CPU0_Temp: 98 degrees C is above its upper critical threshold 95, FAN1_F_Speed: 0 RPM \
         is below its lower critical threshold 1200"
    );
}

#[test]
fn sensors_hang_garbage_refusal_and_no_ipmitool() {
    let t = tree("dell-idrac", true);
    let d = tempfile::tempdir().expect("tempdir");
    let r = run(
        "system::bmc_sensors",
        t.path(),
        &fake(d.path(), "hang"),
        None,
        "ipmi.timeout=1",
    );
    match &r.verdict {
        Verdict::Error { reason } => assert!(
            reason.contains("did not finish within 1.0 s and was killed")
                && reason.contains("ipmi.timeout"),
            "{reason}"
        ),
        v => panic!("{v:?}"),
    }
    assert!(r.took < Duration::from_secs(20), "{:?}", r.took);

    let d = tempfile::tempdir().expect("tempdir");
    let r = run(
        "system::bmc_sensors",
        t.path(),
        &fake(d.path(), "garbage"),
        None,
        "",
    );
    match &r.verdict {
        Verdict::Error { reason } => {
            assert!(reason.contains("not ipmitool sensor output"), "{reason}")
        }
        v => panic!("{v:?}"),
    }

    let d = tempfile::tempdir().expect("tempdir");
    let r = run(
        "system::bmc_sel",
        t.path(),
        &fake(d.path(), "refuse"),
        None,
        "ipmi.host=192.0.2.10",
    );
    match &r.verdict {
        Verdict::Error { reason } => assert!(
            reason.contains("ipmitool sel elist (lanplus 192.0.2.10) failed: exit status 1: Error: Unable to establish"),
            "{reason}"
        ),
        v => panic!("{v:?}"),
    }

    let d = tempfile::tempdir().expect("tempdir");
    for case in ["system::bmc_sensors", "system::bmc_sel"] {
        let r = run(case, t.path(), &fake(d.path(), "none"), None, "");
        match &r.verdict {
            Verdict::Skip { reason } => {
                assert!(reason.contains("ipmitool is not installed"), "{reason}")
            }
            v => panic!("{case}: {v:?}"),
        }
    }
}

#[test]
fn lanplus_arguments_come_from_the_profile() {
    let t = tree("supermicro", true);
    let d = tempfile::tempdir().expect("tempdir");
    let r = run(
        "system::bmc_sensors",
        t.path(),
        &fake(d.path(), "replay supermicro"),
        None,
        "ipmi.host=192.0.2.10;ipmi.user=admin;ipmi.password_file=/etc/hwcert/bmc.pw",
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.log);
    let args = std::fs::read_to_string(d.path().join("args")).expect("args");
    assert_eq!(
        args,
        "-I lanplus -H 192.0.2.10 -U admin -f /etc/hwcert/bmc.pw sensor\n"
    );
}

#[test]
fn sel_entries_added_during_the_run() {
    let sel = |vendor: &str, start: Option<u64>| {
        let t = tree(vendor, true);
        let d = tempfile::tempdir().expect("tempdir");
        run(
            "system::bmc_sel",
            t.path(),
            &fake(d.path(), &format!("replay {vendor}")),
            start,
            "",
        )
    };
    // Nothing new since the probe (the recorded sel info counts all 7).
    let r = sel("dell-idrac", None);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.log);
    assert!(
        r.log
            .contains("SEL: 7 entries at the start, 7 now, 0 added"),
        "{}",
        r.log
    );
    // Entries 5-7 added during the run: an upper critical crossing and an uncorrectable ECC
    // fail it; the crossing's recovery is information.
    let r = sel("dell-idrac", Some(4));
    assert_eq!(
        failed(&r),
        "#5 06/02/2016 14:26:30 Temperature Exhaust Temp: Upper Critical going high (asserted), \
         Reading 81 > Threshold 80 degrees C, #7 06/02/2016 15:10:44 Memory ECC Uncorr Err: \
         Uncorrectable ECC (asserted)"
    );
    assert!(r.log.contains("info: #6 "), "{}", r.log);
    // Cleared during the run (fewer now than at the start): every entry is judged.
    let r = sel("supermicro", Some(10));
    assert!(failed(&r).contains("IERR"), "{}", r.log);
    assert!(r.log.contains("cleared or wrapped"), "{}", r.log);
    // HPE's correctable ECC limit is listed, not failed.
    let r = sel("hpe-ilo", Some(0));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.log);
    assert_eq!(r.log.matches("warning: #").count(), 2, "{}", r.log);
    // Inspur: a CPU over its threshold, a fan stopped, a power unit failed.
    let r = sel("inspur", Some(1));
    let m = failed(&r);
    assert!(
        m.starts_with("#2 ") && m.contains(", #3 ") && m.contains(", #4 "),
        "{m}"
    );
    assert!(failed(&r).contains("Power unit failure detected"));

    // Full when the run began (100% used, or overflowed): new events may have been dropped or
    // may have overwritten old ones, so that the count says nothing; skipped, saying how to
    // clear it, never a pass.
    let recorded = std::fs::read_to_string(outputs("dell-idrac", "sel-info.txt")).expect("sel");
    for (from, to, says) in [
        (
            "Percent Used     : 3%",
            "Percent Used     : 100%",
            "7 entries, 100% used",
        ),
        (
            "Overflow         : false",
            "Overflow         : true",
            "7 entries, overflow",
        ),
    ] {
        let t = tree("dell-idrac", true);
        assert!(recorded.contains(from));
        std::fs::write(
            t.path().join(".hwcert/tools/ipmitool-sel-info.txt"),
            recorded.replace(from, to),
        )
        .expect("sel info");
        let d = tempfile::tempdir().expect("tempdir");
        let r = run(
            "system::bmc_sel",
            t.path(),
            &fake(d.path(), "replay dell-idrac"),
            None,
            "",
        );
        match &r.verdict {
            Verdict::Skip { reason } => assert!(
                reason.contains(&format!("the SEL was full when the run began ({says})"))
                    && reason.contains("ipmitool sel clear"),
                "{reason}"
            ),
            v => panic!("{to}: {v:?}"),
        }
        // It did not ask the BMC for entries it could not judge.
        assert!(!d.path().join("args").exists());
    }

    // No count from the start: the entries of the run are unknown, said so.
    let t = tree("dell-idrac", false);
    let d = tempfile::tempdir().expect("tempdir");
    let r = run(
        "system::bmc_sel",
        t.path(),
        &fake(d.path(), "replay dell-idrac"),
        None,
        "",
    );
    match &r.verdict {
        Verdict::Skip { reason } => {
            assert!(reason.contains("no SEL count from the start"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn planned_only_where_a_bmc_answers() {
    let with = tree("dell-idrac", true);
    let inv = crate::common::probe(with.path());
    for name in ["system::bmc_sensors", "system::bmc_sel"] {
        let case = cases::find(name).expect("case");
        let Selection::Targets(ts) = case.select_with(&inv, &RunOptions::default()) else {
            panic!("{name} not planned with a BMC in the inventory")
        };
        assert_eq!(ts[0].label.as_deref(), Some("BMC recorded"));
    }
    let without = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(without.path().join("sys/devices")).expect("mkdir");
    let inv = crate::common::probe(without.path());
    let case = cases::find("system::bmc_sensors").expect("case");
    match case.select_with(&inv, &RunOptions::default()) {
        Selection::NotApplicable(r) => {
            assert!(r.contains("no BMC to ask: no BMC recorded"), "{r}")
        }
        s => panic!("{s:?}"),
    }
    let mut o = RunOptions::default();
    o.settings.insert("ipmi.host".into(), "192.0.2.10".into());
    let Selection::Targets(ts) = case.select_with(&inv, &o) else {
        panic!("not planned with ipmi.host")
    };
    assert_eq!(ts[0].label.as_deref(), Some("BMC lanplus 192.0.2.10"));
}
