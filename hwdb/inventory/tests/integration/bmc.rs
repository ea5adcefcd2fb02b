//! The BMC: ipmitool's parsers on the outputs of five vendors' BMCs (tests/tool-outputs/ipmitool,
//! whose README says where each comes from), on truncated, garbage and empty input; the probe of
//! a recorded tree holding `.hwcert/tools/ipmitool-*.txt`; the live seam with a fake ipmitool
//! that is a real process (prints a recorded output, hangs, prints garbage, is absent); a
//! snapshot that records the outputs without their serial numbers.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use inventory::accel::LiveTools;
use inventory::bmc::{self, BmcStatus, Judgement, LiveBmc, Severity, Target};
use inventory::ProbeOptions;

use crate::common::{own_fixtures, tempdir};

const VENDORS: &[&str] = &[
    "dell-idrac",
    "hpe-ilo",
    "huawei-ibmc",
    "inspur",
    "supermicro",
];

fn output_path(vendor: &str, file: &str) -> PathBuf {
    own_fixtures()
        .join("../tool-outputs/ipmitool")
        .join(vendor)
        .join(file)
}

fn fixture(vendor: &str, file: &str) -> String {
    fs::read_to_string(output_path(vendor, file)).expect("fixture")
}

/// (critical, warning) sensors of a vendor's `ipmitool sensor`.
fn judged(vendor: &str) -> (Vec<String>, Vec<String>) {
    let t = bmc::parse_sensors(&fixture(vendor, "sensor.txt"))
        .unwrap_or_else(|e| panic!("{vendor}: {e}"));
    assert!(t.skipped.is_empty(), "{vendor}: {:?}", t.skipped);
    let (mut cr, mut nc) = (Vec::new(), Vec::new());
    for s in &t.sensors {
        match s.judge() {
            Judgement::Critical(m) => cr.push(m),
            Judgement::Warning(m) => nc.push(m),
            Judgement::Ok | Judgement::NotJudged => {}
        }
    }
    (cr, nc)
}

#[test]
fn five_vendors_mc_info_and_fru() {
    let want = [
        ("dell-idrac", 674, "2.70", "DELL PowerEdge R730"),
        ("hpe-ilo", 11, "1.28", "HP ProLiant DL360 G7"),
        (
            "huawei-ibmc",
            2011,
            "3.30",
            "Huawei RH2288H V3 (part 02311XBK)",
        ),
        ("inspur", 37945, "4.22", "Inspur NF5280M5 (part 0)"),
        (
            "supermicro",
            10876,
            "1.74",
            "Supermicro SYS-5019C-MR (part SYS-5019C-MR)",
        ),
    ];
    for (vendor, id, fw, summary) in want {
        let mc = bmc::parse_mc_info(&fixture(vendor, "mc-info.txt"))
            .unwrap_or_else(|e| panic!("{vendor}: {e}"));
        assert_eq!(mc.manufacturer_id, Some(id), "{vendor}");
        assert_eq!(mc.firmware_revision.as_deref(), Some(fw), "{vendor}");
        assert_eq!(mc.ipmi_version.as_deref(), Some("2.0"), "{vendor}");
        let fru = bmc::parse_fru(&fixture(vendor, "fru-print.txt"))
            .unwrap_or_else(|e| panic!("{vendor}: {e}"));
        assert_eq!(fru[0].id, Some(0), "{vendor}");
        assert_eq!(fru[0].summary().as_deref(), Some(summary), "{vendor}");
        let sel = bmc::parse_sel_info(&fixture(vendor, "sel-info.txt"))
            .unwrap_or_else(|e| panic!("{vendor}: {e}"));
        let log = bmc::parse_sel(&fixture(vendor, "sel-elist.txt"))
            .unwrap_or_else(|e| panic!("{vendor}: {e}"));
        assert_eq!(sel.entries as usize, log.entries.len(), "{vendor}");
        assert!(log.skipped.is_empty(), "{vendor}: {:?}", log.skipped);
    }
    // Dell lists its power supplies, one absent; the aux revision bytes are kept.
    let dell = bmc::parse_fru(&fixture("dell-idrac", "fru-print.txt")).expect("fru");
    assert_eq!(dell.len(), 3);
    assert!(dell[2]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("not present"));
    let mc = bmc::parse_mc_info(&fixture("dell-idrac", "mc-info.txt")).expect("mc");
    assert_eq!(
        mc.firmware().as_deref(),
        Some("2.70 (aux 0x00 0x2d 0x46 0x46)")
    );
    // HPE leaves its serials empty: nothing to keep, nothing to redact.
    let hpe = bmc::parse_fru(&fixture("hpe-ilo", "fru-print.txt")).expect("fru");
    assert_eq!(hpe[0].product_serial, None);
}

#[test]
fn five_vendors_sensor_tables_judged() {
    let (cr, nc) = judged("dell-idrac");
    assert!(cr.is_empty() && nc.is_empty(), "{cr:?} {nc:?}");
    // Supermicro's 0.000 lower thresholds of its CPU temperatures are no failure.
    let (cr, nc) = judged("supermicro");
    assert!(cr.is_empty() && nc.is_empty(), "{cr:?} {nc:?}");
    let (cr, nc) = judged("hpe-ilo");
    assert_eq!(
        cr,
        ["Power Supply 1: 0 Watts, status cr (critical)"],
        "{nc:?}"
    );
    let (cr, nc) = judged("huawei-ibmc");
    assert!(cr.is_empty(), "{cr:?}");
    assert_eq!(
        nc,
        ["CPU2 MEM Temp: 86 degrees C, status nc (non-critical)"]
    );
    let (cr, _) = judged("inspur");
    assert_eq!(
        cr,
        [
            "CPU0_Temp: 98 degrees C is above its upper critical threshold 95",
            "FAN1_F_Speed: 0 RPM is below its lower critical threshold 1200",
        ]
    );
}

#[test]
fn five_vendors_sel_severities() {
    let critical = |vendor: &str| -> Vec<String> {
        bmc::parse_sel(&fixture(vendor, "sel-elist.txt"))
            .expect("sel")
            .entries
            .iter()
            .filter(|e| e.severity() == Severity::Critical)
            .map(|e| e.event.clone())
            .collect()
    };
    assert_eq!(
        critical("dell-idrac"),
        ["Upper Critical going high", "Uncorrectable ECC"]
    );
    assert_eq!(critical("supermicro"), ["IERR"]);
    assert!(critical("hpe-ilo").is_empty());
    assert!(critical("huawei-ibmc").is_empty());
    assert_eq!(
        critical("inspur"),
        [
            "Upper Critical going high",
            "Lower Critical going low",
            "Power unit failure detected"
        ]
    );
    let hpe = bmc::parse_sel(&fixture("hpe-ilo", "sel-elist.txt")).expect("sel");
    assert!(hpe
        .entries
        .iter()
        .all(|e| e.severity() == Severity::Warning));
}

const GARBAGE: &[&str] = &[
    "",
    "\n\n",
    "Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or directory",
    "Error: Unable to establish IPMI v2 / RMCP+ session",
    "\u{0}\u{1}\u{2}binary\u{ff}",
    "<html><body>not it</body></html>",
];

#[test]
fn every_parser_refuses_garbage_and_empty_output_and_survives_truncation() {
    for g in GARBAGE {
        assert!(bmc::parse_mc_info(g).is_err(), "mc info accepted {g:?}");
        assert!(bmc::parse_fru(g).is_err(), "fru accepted {g:?}");
        assert!(bmc::parse_sel_info(g).is_err(), "sel info accepted {g:?}");
        assert!(bmc::parse_sel(g).is_err(), "sel elist accepted {g:?}");
        assert!(bmc::parse_sensors(g).is_err(), "sensor accepted {g:?}");
    }
    // Cut anywhere (on a char boundary): never a panic; a table keeps only whole rows, each
    // parsed row is one of the untruncated output's.
    for vendor in VENDORS {
        let sensors = fixture(vendor, "sensor.txt");
        let whole = bmc::parse_sensors(&sensors).expect("whole");
        let sel = fixture(vendor, "sel-elist.txt");
        let whole_sel = bmc::parse_sel(&sel).expect("whole");
        for text in ["mc-info.txt", "fru-print.txt", "sel-info.txt"] {
            let t = fixture(vendor, text);
            for cut in (0..t.len()).filter(|i| t.is_char_boundary(*i)).step_by(7) {
                let _ = bmc::parse_mc_info(&t[..cut]);
                let _ = bmc::parse_fru(&t[..cut]);
                let _ = bmc::parse_sel_info(&t[..cut]);
            }
        }
        for cut in (1..sensors.len()).step_by(5) {
            if let Ok(t) = bmc::parse_sensors(&sensors[..cut]) {
                for s in &t.sensors {
                    assert!(
                        whole.sensors.iter().any(|w| w.name == s.name),
                        "{vendor}: {s:?}"
                    );
                }
            }
        }
        for cut in (1..sel.len()).step_by(5) {
            if let Ok(t) = bmc::parse_sel(&sel[..cut]) {
                assert!(t.entries.len() <= whole_sel.entries.len());
                for e in &t.entries {
                    assert!(whole_sel.entries.iter().any(|w| w.id == e.id), "{vendor}");
                }
            }
        }
    }
}

/// A tree with nothing but the BMC's recorded outputs of `vendor`.
fn recorded_tree(vendor: &str) -> tempfile::TempDir {
    let d = tempdir();
    for sub in ["proc", "sys/devices", ".hwcert/tools"] {
        fs::create_dir_all(d.path().join(sub)).expect("mkdir");
    }
    // Something of a Linux machine for a snapshot to record.
    fs::write(d.path().join("proc/cpuinfo"), "processor\t: 0\n").expect("write");
    for (src, dst) in [
        ("mc-info.txt", "ipmitool-mc-info.txt"),
        ("fru-print.txt", "ipmitool-fru-print.txt"),
        ("sel-info.txt", "ipmitool-sel-info.txt"),
    ] {
        fs::copy(
            output_path(vendor, src),
            d.path().join(".hwcert/tools").join(dst),
        )
        .expect("copy");
    }
    d
}

fn probe(root: &Path, show_identifiers: bool) -> inventory::Inventory {
    inventory::probe(&ProbeOptions {
        sysroot: root.to_path_buf(),
        show_identifiers,
        udev: false,
        ..ProbeOptions::default()
    })
    .expect("probe")
}

#[test]
fn a_recorded_tree_gives_the_bmc_section_with_serials_redacted() {
    let d = recorded_tree("huawei-ibmc");
    let inv = probe(d.path(), false);
    let b = inv.bmc.expect("a bmc section");
    assert_eq!(b.status, BmcStatus::Used, "{:?}", b.detail);
    assert_eq!(
        (b.reached.as_str(), b.source.as_str()),
        ("recorded", "recorded")
    );
    assert_eq!(
        b.firmware().as_deref(),
        Some("Huawei Technologies Co., Ltd. 3.30 (aux 0x00 0x00 0x00 0x00) (IPMI 2.0)")
    );
    let fru = b.fru.as_ref().expect("fru");
    assert_eq!(fru.product_name.as_deref(), Some("RH2288H V3"));
    assert_eq!(fru.product_serial.as_deref(), Some("REDACTED"));
    assert_eq!(fru.board_serial.as_deref(), Some("REDACTED"));
    assert_eq!(b.fru_devices, Some(2));
    assert_eq!(b.sel.as_ref().map(|s| s.entries), Some(4));
    let shown = probe(d.path(), true).bmc.expect("bmc");
    assert_eq!(
        shown.fru.and_then(|f| f.product_serial).as_deref(),
        Some("2102310YJA10H8000456")
    );

    // A tree without the recording: a note, not an error; garbage recorded: failed, named.
    fs::remove_file(d.path().join(".hwcert/tools/ipmitool-mc-info.txt")).expect("rm");
    let b = probe(d.path(), false).bmc.expect("bmc");
    assert_eq!(b.status, BmcStatus::Missing);
    assert!(b.detail[0].contains("no BMC recorded"), "{:?}", b.detail);
    fs::write(
        d.path().join(".hwcert/tools/ipmitool-mc-info.txt"),
        "Error: Unable to establish IPMI v2 / RMCP+ session\n",
    )
    .expect("write");
    fs::write(d.path().join(".hwcert/tools/ipmitool-fru-print.txt"), "").expect("write");
    let b = probe(d.path(), false).bmc.expect("bmc");
    assert_eq!(b.status, BmcStatus::Failed);
    assert!(
        b.detail[0].contains("not ipmitool mc info output"),
        "{:?}",
        b.detail
    );
}

#[test]
fn a_broken_fru_or_sel_loses_only_itself() {
    let d = recorded_tree("dell-idrac");
    fs::write(d.path().join(".hwcert/tools/ipmitool-fru-print.txt"), "").expect("write");
    fs::remove_file(d.path().join(".hwcert/tools/ipmitool-sel-info.txt")).expect("rm");
    let b = probe(d.path(), false).bmc.expect("bmc");
    assert_eq!(b.status, BmcStatus::Used);
    assert_eq!(
        b.mc.and_then(|m| m.firmware_revision).as_deref(),
        Some("2.70")
    );
    assert!(b.fru.is_none() && b.sel.is_none());
    assert!(
        b.detail
            .iter()
            .any(|d| d.contains("fru print printed nothing")),
        "{:?}",
        b.detail
    );
    assert!(
        b.detail.iter().any(|d| d.contains("ipmitool-sel-info.txt")),
        "{:?}",
        b.detail
    );
}

/// A directory holding a fake `ipmitool` running `script` (sh), or none.
fn fake_ipmitool(script: Option<&str>) -> tempfile::TempDir {
    let d = tempdir();
    if let Some(s) = script {
        let p = d.path().join("ipmitool");
        fs::write(&p, format!("#!/bin/sh\n{s}\n")).expect("write tool");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    d
}

/// A script answering `mc info`, `fru print` and `sel info` from `vendor`'s recordings, and
/// writing its arguments to `args.log` beside itself.
fn replaying(vendor: &str, dir: &Path) -> String {
    let f = |n: &str| output_path(vendor, n).display().to_string();
    format!(
        "echo \"$*\" >> '{log}'\n\
         case \"$*\" in\n\
         *'mc info') cat '{mc}' ;;\n\
         *'fru print') cat '{fru}' ;;\n\
         *'sel info') cat '{sel}' ;;\n\
         *) echo \"unexpected: $*\" >&2; exit 1 ;;\n\
         esac",
        log = dir.join("args.log").display(),
        mc = f("mc-info.txt"),
        fru = f("fru-print.txt"),
        sel = f("sel-info.txt"),
    )
}

fn live(dir: &Path, target: Target, timeout: Duration) -> LiveBmc {
    let mut b = LiveBmc::new(target);
    b.tools = LiveTools {
        path: dir.as_os_str().to_owned(),
        ..LiveTools::default()
    };
    b.tools.limits.timeout = timeout;
    b
}

#[test]
fn the_live_seam_runs_a_fake_ipmitool_and_trusts_only_what_it_prints_in_time() {
    // Prints the recorded outputs, over the LAN: the arguments name the password file.
    let d = tempdir();
    let tools = fake_ipmitool(Some(&replaying("supermicro", d.path())));
    let lan = Target::Lan {
        host: "192.0.2.10".into(),
        user: Some("admin".into()),
        password_file: Some("/etc/hwcert/bmc.pw".into()),
    };
    let src = live(tools.path(), lan.clone(), Duration::from_secs(10));
    let (b, outputs) = bmc::ask(&src, &lan.describe());
    assert_eq!(b.status, BmcStatus::Used, "{:?}", b.detail);
    assert_eq!(b.reached, "lanplus 192.0.2.10");
    assert_eq!(b.source, "live");
    assert_eq!(
        b.fru.as_ref().and_then(|f| f.product_name.as_deref()),
        Some("SYS-5019C-MR")
    );
    let files: Vec<&str> = outputs.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        files,
        [
            "ipmitool-mc-info.txt",
            "ipmitool-fru-print.txt",
            "ipmitool-sel-info.txt"
        ]
    );
    let args = fs::read_to_string(d.path().join("args.log")).expect("args");
    assert!(
        args.lines()
            .all(|l| l.starts_with("-I lanplus -H 192.0.2.10 -U admin -f /etc/hwcert/bmc.pw ")),
        "{args}"
    );

    // Hangs: killed at the limit, said so.
    let tools = fake_ipmitool(Some("sleep 60"));
    let t = Instant::now();
    let (b, outputs) = bmc::ask(
        &live(tools.path(), Target::Local, Duration::from_secs(1)),
        "local /dev/ipmi0",
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(b.status, BmcStatus::Failed);
    assert!(b.detail[0].contains("no answer in 1 s"), "{:?}", b.detail);
    assert!(outputs.is_empty());

    // Garbage: failed, and what it printed is not recorded.
    let tools = fake_ipmitool(Some("echo 'Segmentation fault'"));
    let (b, outputs) = bmc::ask(
        &live(tools.path(), Target::Local, Duration::from_secs(10)),
        "local /dev/ipmi0",
    );
    assert_eq!(b.status, BmcStatus::Failed);
    assert!(
        b.detail[0].contains("not ipmitool mc info output"),
        "{:?}",
        b.detail
    );
    assert!(outputs.is_empty());

    // A BMC that refuses: the exit status and its message.
    let tools = fake_ipmitool(Some(
        "echo 'Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or directory' >&2; exit 1",
    ));
    let (b, _) = bmc::ask(
        &live(tools.path(), Target::Local, Duration::from_secs(10)),
        "local /dev/ipmi0",
    );
    assert_eq!(b.status, BmcStatus::Failed);
    assert!(
        b.detail[0].contains("Could not open device"),
        "{:?}",
        b.detail
    );

    // None on PATH: a note.
    let tools = fake_ipmitool(None);
    let (b, _) = bmc::ask(
        &live(tools.path(), Target::Local, Duration::from_secs(10)),
        "local /dev/ipmi0",
    );
    assert_eq!(b.status, BmcStatus::Missing);
    assert!(
        b.detail[0].contains("ipmitool is not installed"),
        "{:?}",
        b.detail
    );
}

#[test]
fn a_snapshot_records_the_outputs_without_serials_and_probes_the_same() {
    let d = recorded_tree("dell-idrac");
    let t = tempdir();
    let archive = t.path().join("snap.tar.gz");
    let f = fs::File::create(&archive).expect("create");
    inventory::snapshot::write(
        &ProbeOptions {
            sysroot: d.path().to_path_buf(),
            ..ProbeOptions::default()
        },
        f,
    )
    .expect("snapshot");
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    inventory::snapshot::extract(&archive, &dest).expect("extract");
    let root = inventory::snapshot::extracted_root(&dest);
    let fru = fs::read_to_string(root.join(".hwcert/tools/ipmitool-fru-print.txt"))
        .expect("recorded in the snapshot");
    assert!(
        !fru.contains("6GCGF42") && !fru.contains("CNFCP0063F0123"),
        "{fru}"
    );
    assert!(fru.contains(" Product Serial        : REDACTED\n"), "{fru}");
    assert!(root.join(".hwcert/tools/ipmitool-mc-info.txt").is_file());
    let a = probe(d.path(), false).bmc;
    let b = probe(&root, false).bmc;
    assert_eq!(a, b);
    assert_eq!(a.map(|b| b.status), Some(BmcStatus::Used));
}
