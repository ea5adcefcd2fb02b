//! `hwcert compare` and `hwcert hwdb fleet` on reports made by the real pipeline (the raid-sas
//! machine's run from `testing::rundir`, reported and signed by `reports::build_report`), each
//! machine's inventory and figures edited before its report is made: six Inspur NF5280M5 of
//! which one has an older BIOS, one a missing DIMM, one a disk 30 % slower in random reads, one
//! a higher latency, one unsigned; a seventh of another model; tampered, unknown-signer,
//! garbage, empty and missing inputs; wrong command lines; the HTML page in Chromium.

use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use testing::rundir::RunBuilder;

use crate::support::{show, text};

fn hwcert() -> std::process::Command {
    std::process::Command::new(crate::support::hwcert())
}

struct Fleet {
    t: tempfile::TempDir,
    key: PathBuf,
    allowed: PathBuf,
}

fn fleet() -> Fleet {
    let t = tempfile::tempdir().expect("tmp");
    let key = t.path().join("lab_ed25519");
    let k = reports::keys::keygen(&key, "lab@example.com").expect("keygen");
    let allowed = t.path().join("allowed_signers");
    fs::write(&allowed, format!("{}\n", k.allowed_signers)).expect("allowed_signers");
    Fleet { t, key, allowed }
}

fn dimm(slot: &str) -> Value {
    json!({"locator": slot, "populated": true, "size_bytes": 34359738368u64,
           "memory_type": "DDR4", "configured_speed_mts": 2933})
}

/// How one machine differs from the rest.
#[derive(Default, Clone)]
struct Machine {
    host: &'static str,
    bios: Option<&'static str>,
    product: Option<&'static str>,
    no_b2: bool,
    iops: f64,
    lat_p99_us: f64,
    signed: bool,
}

fn m(host: &'static str) -> Machine {
    Machine {
        host,
        iops: 45000.0,
        lat_p99_us: 1200.0,
        signed: true,
        ..Machine::default()
    }
}

impl Fleet {
    /// The report directory of `mach`'s run.
    fn report(&self, mach: &Machine) -> PathBuf {
        let mut b = RunBuilder::raid_sas();
        b.inventory["host"]["hostname"] = json!(mach.host);
        if let Some(v) = mach.bios {
            b.inventory["dmi"]["bios_version"] = json!(v);
        }
        if let Some(p) = mach.product {
            b.inventory["dmi"]["product_name"] = json!(p);
        }
        let mut dimms = vec![dimm("A1"), dimm("A2"), dimm("B1")];
        if !mach.no_b2 {
            dimms.push(dimm("B2"));
        }
        b.inventory["memory"]["dimms"] = Value::Array(dimms);
        let names = b.instances();
        let disk = names
            .iter()
            .find(|n| n.starts_with("storage::stress::"))
            .cloned()
            .expect("a storage stress instance in the raid-sas plan");
        // A little spread between healthy machines, as real runs have.
        let jitter = mach.host.bytes().map(f64::from).sum::<f64>() % 7.0;
        b.finish(&disk, "pass")["measurements"] = json!([
            {"name": "randread_4k_iops", "value": mach.iops + jitter * 10.0, "unit": "IOPS"},
            {"name": "seq_read_mb_s", "value": 2100.0 + jitter, "unit": "MB/s"},
            {"name": "lat_p99_us", "value": mach.lat_p99_us + jitter, "unit": "µs"},
            {"name": "test_bytes", "value": 1e9 + jitter, "unit": "bytes"},
        ]);
        b.pass_the_rest();
        let run = self.t.path().join(format!("run-{}", mach.host));
        b.write(&run).expect("write the run");
        let out = self.t.path().join(mach.host);
        reports::build_report(&run, &out, mach.signed.then_some(self.key.as_path()))
            .expect("report");
        out
    }

    /// The fleet of the brief: six of one model, one of another.
    fn seven(&self) -> Vec<PathBuf> {
        let ms = [
            m("m1"),
            Machine {
                lat_p99_us: 1800.0,
                ..m("m2")
            },
            Machine {
                bios: Some("4.1.19"),
                ..m("m3")
            },
            Machine {
                no_b2: true,
                ..m("m4")
            },
            Machine {
                iops: 31500.0,
                ..m("m5")
            },
            Machine {
                signed: false,
                ..m("m6")
            },
            Machine {
                product: Some("NF5466M6"),
                ..m("m7")
            },
        ];
        ms.iter().map(|x| self.report(x)).collect()
    }
}

fn compare(args: &[&str], reports: &[PathBuf]) -> Output {
    hwcert()
        .arg("compare")
        .args(args)
        .args(reports)
        .output()
        .expect("run hwcert compare")
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", show(o)))
}

fn group<'a>(v: &'a Value, model: &str) -> &'a Value {
    v["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["model"] == model))
        .unwrap_or_else(|| panic!("no group {model}: {v}"))
}

fn attribute<'a>(g: &'a Value, key: &str) -> &'a Value {
    g["attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["key"] == key))
        .unwrap_or_else(|| panic!("no attribute {key}: {g}"))
}

fn differing(a: &Value) -> Vec<String> {
    a["differing"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["machine"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn figure<'a>(g: &'a Value, key: &str) -> &'a Value {
    g["measurements"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["key"] == key))
        .unwrap_or_else(|| panic!("no figure {key}: {g}"))
}

#[test]
fn the_one_bad_server_of_the_fleet() {
    let f = fleet();
    let reports = f.seven();
    let o = compare(&["--format", "json"], &reports);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v = json_of(&o);
    // The document holds to its schema.
    let schema: Value =
        serde_json::from_str(documents::schema::FLEET_SCHEMA).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    assert_eq!(v["totals"]["machines"], 7, "{v}");
    assert_eq!(v["totals"]["unsigned"], 1, "{v}");
    assert_eq!(v["totals"]["left_out"], 0, "{v}");
    let g = group(&v, "Inspur NF5280M5");
    assert_eq!(g["machines"], json!(["m1", "m2", "m3", "m4", "m5", "m6"]));
    // One BIOS differs.
    let bios = attribute(g, "bios_version");
    assert_eq!(bios["majority"], "4.1.21");
    assert_eq!(bios["agree"], 5);
    assert_eq!(differing(bios), ["m3"]);
    assert_eq!(bios["differing"][0]["value"], "4.1.19");
    // One DIMM missing, named.
    let dimms = attribute(g, "dimm_population");
    assert_eq!(differing(dimms), ["m4"]);
    assert_eq!(
        dimms["differing"][0]["missing"],
        json!(["B2 32 GiB DDR4 2933 MT/s"])
    );
    // Everything else alike: the kernel, the PCI functions, the disks.
    for k in [
        "kernel",
        "pci_functions",
        "pci_links",
        "disk_models",
        "disk_firmware",
        "cpu_model",
    ] {
        assert!(differing(attribute(g, k)).is_empty(), "{k}: {g}");
    }
    assert_eq!(v["totals"]["differences"], 2, "{v}");
    // The slow disk: 30 % below the median of random reads.
    let iops = figure(g, "randread_4k_iops");
    assert_eq!(iops["better"], "higher");
    assert_eq!(iops["outliers"], json!(["m5"]), "{iops}");
    let m5 = iops["values"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["machine"] == "m5"))
        .expect("m5's value");
    let d = m5["deviation_pct"].as_f64().expect("a deviation");
    assert!((-31.0..-29.0).contains(&d), "{m5}");
    // Higher latency is worse: m2 is the outlier there, not m5.
    let lat = figure(g, "lat_p99_us");
    assert_eq!(lat["better"], "lower");
    assert_eq!(lat["outliers"], json!(["m2"]), "{lat}");
    // Figures within the threshold, and sizes (not performance), give no outlier.
    assert_eq!(figure(g, "seq_read_mb_s")["outliers"], json!([]));
    assert!(g["measurements"]
        .as_array()
        .is_some_and(|a| a.iter().all(|f| f["key"] != "test_bytes")));
    assert_eq!(v["totals"]["outliers"], 2, "{v}");
    // The other model stands alone.
    let other = group(&v, "Inspur NF5466M6");
    assert_eq!(other["machines"], json!(["m7"]));
    assert!(other["note"]
        .as_str()
        .is_some_and(|n| n.contains("nothing to compare")));
    let m6 = v["inputs"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["machine"] == "m6"))
        .expect("m6");
    assert_eq!(m6["signature"], "unsigned");
    assert_eq!(m6["included"], true);

    // A threshold of 60 % forgives both the slow disk (-30 %) and the latency (+50 %).
    let o = compare(&["--format", "json", "--threshold", "60"], &reports);
    let v = json_of(&o);
    assert_eq!(v["totals"]["outliers"], 0, "{v}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "the differences remain: {}",
        show(&o)
    );

    // The text says the same, terminal-safe.
    let o = compare(&[], &reports);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = text(&o.stdout);
    for want in [
        "Inspur NF5280M5: 6 machines",
        "BIOS version: 4.1.21 on 5 of 6",
        "m3: 4.1.19",
        "m4: missing B2 32 GiB DDR4 2933 MT/s",
        "Random read 4 KiB (higher is better)",
        "m5: 31.5k IOPS (-30",
        "Latency p99 (lower is better)",
        "Inspur NF5466M6: 1 machine (m7)",
        "nothing to compare",
        "unsigned",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }
    assert!(!out.contains('\x1b'));
}

#[test]
fn signatures_decide_what_is_compared() {
    let f = fleet();
    let a = f.report(&m("a1"));
    let b = f.report(&m("a2"));
    let c = f.report(&m("a3"));
    // All alike, signed, verified against the lab's file: exit 0.
    let allowed = f.allowed.display().to_string();
    let o = compare(
        &["--allowed-signers", &allowed],
        &[a.clone(), b.clone(), c.clone()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(text(&o.stdout).contains("verified"), "{}", show(&o));
    // Without the file the signature is checked by its own key, the signer not.
    let o = compare(&["--format", "json"], &[a.clone(), b.clone()]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(json_of(&o)["inputs"][0]["signature"], "signed");
    // A report edited after signing is left out, and says why; the rest are compared.
    let rj = c.join("report.json");
    let t = fs::read_to_string(&rj).expect("report.json");
    fs::write(&rj, t.replacen("4.1.21", "4.1.22", 1)).expect("tamper");
    let o = compare(&["--format", "json"], &[a.clone(), b.clone(), c.clone()]);
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
    let v = json_of(&o);
    assert_eq!(v["inputs"][2]["signature"], "failed", "{v}");
    assert_eq!(v["inputs"][2]["included"], false);
    assert!(v["inputs"][2]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("does not match")));
    assert_eq!(v["totals"]["machines"], 2);
    assert!(text(&o.stderr).contains("left out"), "{}", show(&o));
    // A signer the file does not know is refused too.
    let other = f.t.path().join("other");
    let k = reports::keys::keygen(&other, "someone@else").expect("keygen");
    let wrong = f.t.path().join("wrong_signers");
    fs::write(&wrong, format!("{}\n", k.allowed_signers)).expect("write");
    let o = compare(
        &[
            "--format",
            "json",
            "--allowed-signers",
            &wrong.display().to_string(),
        ],
        std::slice::from_ref(&a),
    );
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
    assert!(json_of(&o)["inputs"][0]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("signer")));
}

#[test]
fn garbage_empty_and_missing_inputs_are_left_out() {
    let f = fleet();
    let good = f.report(&m("g1"));
    let d = f.t.path();
    fs::write(d.join("empty.json"), "").expect("write");
    fs::write(d.join("garbage.json"), b"\x00\xffnot json").expect("write");
    fs::write(d.join("other.json"), r#"{"schema":"hwcert.plan/1"}"#).expect("write");
    let cut = fs::read_to_string(good.join("report.json")).expect("read");
    fs::write(d.join("cut.json"), &cut[..cut.len() / 2]).expect("write");
    fs::write(
        d.join("wrong.json"),
        r#"{"schema":"hwcert.report/1","tool":3}"#,
    )
    .expect("write");
    let inputs: Vec<PathBuf> = [
        "empty.json",
        "garbage.json",
        "other.json",
        "cut.json",
        "wrong.json",
        "missing-dir",
    ]
    .iter()
    .map(|n| d.join(n))
    .chain([good.clone()])
    .collect();
    let o = compare(&["--format", "json"], &inputs);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v = json_of(&o);
    assert_eq!(v["totals"]["left_out"], 6, "{v}");
    assert_eq!(v["totals"]["machines"], 1, "{v}");
    for i in 0..6 {
        assert_eq!(v["inputs"][i]["signature"], "unreadable", "{v}");
        assert!(!v["inputs"][i]["detail"].as_str().unwrap_or("").is_empty());
    }
    assert!(v["inputs"][2]["detail"]
        .as_str()
        .is_some_and(|s| s.contains("not a hwcert report")));
    assert!(v["inputs"][5]["detail"]
        .as_str()
        .is_some_and(|s| s.contains("cannot read")));
    // Nothing readable at all: still an answer, and not a success.
    let o = compare(&[], &inputs[..3]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(text(&o.stdout).contains("0 compared"), "{}", show(&o));
}

#[test]
fn wrong_command_lines_exit_2() {
    let f = fleet();
    let r = f.report(&m("w1"));
    let rs = r.display().to_string();
    for args in [
        vec!["compare"],
        vec!["compare", "--threshold", "abc", &rs],
        vec!["compare", "--threshold", "150", &rs],
        vec!["compare", "--threshold", "-5", &rs],
        vec!["compare", "--format", "xml", &rs],
        vec!["compare", "--allowed-signers", "/nonexistent/allowed", &rs],
        vec!["hwdb", "fleet"],
    ] {
        let o = hwcert().args(&args).output().expect("run");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
    }
    // A directory that is no store is an error of its own (1), said plainly.
    let o = hwcert()
        .args(["hwdb", "fleet", "--db"])
        .arg(f.t.path())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(text(&o.stderr).contains("store"), "{}", show(&o));
}

#[test]
fn hwdb_fleet_compares_the_reports_the_list_keeps() {
    let f = fleet();
    let reports = [
        f.report(&m("s1")),
        f.report(&m("s2")),
        f.report(&Machine {
            iops: 30000.0,
            ..m("s3")
        }),
    ];
    let db = f.t.path().join("hcl");
    let o = hwcert()
        .args(["hwdb", "add", "--db"])
        .arg(&db)
        .arg("--allowed-signers")
        .arg(&f.allowed)
        .args(&reports)
        .output()
        .expect("hwdb add");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let html = f.t.path().join("fleet.html");
    let o = hwcert()
        .args(["hwdb", "fleet", "--format", "json", "--db"])
        .arg(&db)
        .arg("--allowed-signers")
        .arg(&f.allowed)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("hwdb fleet");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v = json_of(&o);
    assert_eq!(v["totals"]["machines"], 3, "{v}");
    assert!(v["inputs"]
        .as_array()
        .is_some_and(|a| a.iter().all(|i| i["signature"] == "verified"
            && i["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("reports/")))));
    let g = group(&v, "Inspur NF5280M5");
    assert_eq!(figure(g, "randread_4k_iops")["outliers"], json!(["s3"]));
    assert!(html.is_file());
}

#[test]
fn the_fleet_page_shows_the_outlier_in_chromium() {
    let f = fleet();
    let reports = f.seven();
    let html = f.t.path().join("fleet.html");
    let o = compare(&["--html", &html.display().to_string()], &reports);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let page = fs::read_to_string(&html).expect("the page");
    // Self-contained: no script, nothing fetched.
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("<link "));
    assert!(!page.contains("href=\"http"));
    // The site's policy, the inline style admitted by its hash only.
    assert!(page.contains("Content-Security-Policy"));
    let site = hcl::site::CSP.replace("style-src 'self'", "");
    let ours = reports::fleetpage::CSP_BASE.replace("style-src 'self'", "");
    assert_eq!(site, ours, "the page keeps the site's policy");
    let Some(chromium) = testing::browser::find_chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let mut b = testing::browser::Browser::start(
        &chromium,
        &f.t.path().join("profile"),
        Duration::from_secs(90),
    )
    .expect("start chromium");
    b.navigate(&format!("file://{}", html.display()))
        .expect("open the page");
    // The style applied (the policy let it through): the verdict box has its colour.
    let bg = b
        .eval("getComputedStyle(document.getElementById('verdict')).backgroundColor")
        .expect("the verdict's colour");
    assert_eq!(bg, json!("rgb(198, 40, 40)"), "the failure colour");
    // The slow disk's machine is shown as an outlier, in a table row and a drawn chart bar.
    let row = b
        .eval(
            "Array.from(document.querySelectorAll('tr.outlier')).map(r => \
             [r.dataset.machine, r.innerText, r.getBoundingClientRect().height])",
        )
        .expect("the outlier rows");
    let rows = row.as_array().expect("an array");
    assert!(
        rows.iter().any(|r| r[0] == "m5"
            && r[1].as_str().is_some_and(|t| t.contains("31.5k IOPS"))
            && r[2].as_f64() > Some(0.0)),
        "{row}"
    );
    let bars = b
        .eval(
            "Array.from(document.querySelectorAll('svg.fleet g.outlier rect')).map(r => { \
             const b = r.getBoundingClientRect(); \
             return [r.closest('g').dataset.machine, b.width, b.height, \
             r.getAttribute('fill')]; })",
        )
        .expect("the outlier bars");
    let bars = bars.as_array().expect("an array");
    assert!(
        bars.iter().any(|x| x[0] == "m5"
            && x[1].as_f64() > Some(1.0)
            && x[2].as_f64() > Some(1.0)
            && x[3] == "#c62828"),
        "{bars:?}"
    );
    // The median is drawn in each chart.
    let medians = b
        .eval("document.querySelectorAll('svg.fleet line.median').length")
        .expect("medians");
    assert!(medians.as_u64() >= Some(2), "{medians}");
    // The differing machines are named in the inventory table.
    let diffs = b
        .eval("Array.from(document.querySelectorAll('tr.difference')).map(r => r.dataset.machine)")
        .expect("differences");
    assert_eq!(diffs, json!(["m3", "m4"]), "BIOS first, then the DIMMs");
}
