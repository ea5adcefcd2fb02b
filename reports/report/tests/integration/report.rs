//! The report of a run of the raid-sas machine: the document, its verdicts, the HCL entries,
//! the logs and their hashes, the renderings and the schema.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use documents::report::{Overall, Report};
use reports::build_report;
use testing::rundir::RunBuilder;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).expect("read")).expect("JSON")
}

fn make(b: &RunBuilder) -> (tempfile::TempDir, std::path::PathBuf, Report) {
    let t = tmp();
    let run = t.path().join("run");
    b.write(&run).expect("write the run");
    let out = run.join("report");
    build_report(&run, &out, None).expect("the report");
    let bytes = fs::read(out.join("report.json")).expect("report.json");
    let r: Report = serde_json::from_slice(&bytes).expect("a report");
    (t, out, r)
}

#[test]
fn all_passed_is_certified() {
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    assert_eq!(r.schema, "hwcert.report/1");
    assert_eq!(
        r.verdict.overall,
        Overall::Certified,
        "{}",
        r.verdict.summary
    );
    assert_eq!(r.counts.total as usize, b.instances().len());
    assert_eq!(r.counts.pass, r.counts.total);
    for f in ["report.json", "report.html", "report.md", "junit.xml"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(
        !out.join("report.json.sig").exists(),
        "unsigned without a key"
    );
    // Canonical bytes: pretty, newline-terminated, the same when made again.
    let bytes = fs::read(out.join("report.json")).expect("read");
    assert!(bytes.ends_with(b"}\n"));
    assert_eq!(r.to_json().expect("json"), bytes);
    // The renderings are those of report.json as read back.
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert_eq!(reports::render::html(&r, &out, None).expect("html"), html);
    let md = fs::read_to_string(out.join("report.md")).expect("md");
    assert_eq!(reports::render::markdown(&r, &out, None).expect("md"), md);
    let xml = fs::read_to_string(out.join("junit.xml")).expect("xml");
    assert_eq!(reports::junit::junit(&r, &out).expect("xml"), xml);
    let again = out.parent().expect("run").join("again");
    build_report(out.parent().expect("run"), &again, None).expect("again");
    assert_eq!(fs::read(again.join("report.json")).expect("read"), bytes);
}

#[test]
fn document_fields() {
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    let v = read_json(&out.join("report.json"));
    // Key order: the verdict comes before the details; inventory and plan last.
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let text = String::from_utf8(fs::read(out.join("report.json")).expect("read")).expect("utf8");
    let pos = |k: &str| text.find(&format!("\n  \"{k}\":")).expect(k);
    assert!(pos("schema") < pos("tool") && pos("tool") < pos("verdict"));
    assert!(pos("verdict") < pos("results") && pos("logs") < pos("inventory"));
    assert!(pos("inventory") < pos("plan"), "{keys:?}");

    assert_eq!(r.tool.name, "hwcert");
    assert_eq!(r.tool.version, env!("CARGO_PKG_VERSION"));
    assert!(!r.tool.git_commit.is_empty());
    assert_eq!(r.tool.binary_sha256.as_deref().map(str::len), Some(64));
    assert_eq!(
        r.tool.pci_ids.as_deref(),
        inventory::pci::database_version().as_deref()
    );
    assert_eq!(r.profile.name, "standard");
    assert_eq!(r.profile.chain, vec!["standard"]);
    assert_eq!(r.profile.certifies, Some(true));
    assert_eq!(r.run.started.as_deref(), Some("2025-11-25T08:00:00.000Z"));
    let n = b.instances().len() as i64;
    let end = hwsys::time::format_rfc3339(testing::rundir::T0_MS + (n - 1) * 1000 + 850);
    assert_eq!(r.run.finished.as_deref(), Some(end.as_str()));
    assert_eq!(r.run.duration_ms, Some(((n - 1) * 1000 + 850) as u64));
    assert_eq!(r.run.boot_ids.len(), 1);
    assert_eq!(v["inventory"]["schema"], "hwcert.inventory/1");
    assert_eq!(v["inventory"]["dmi"]["product_name"], "NF5280M5");
    assert_eq!(v["plan"]["schema"], "hwcert.plan/1");
    // Results in plan order.
    let names: Vec<&str> = r.results.iter().map(|x| x.name.as_str()).collect();
    let planned = b.instances();
    assert_eq!(
        names,
        planned.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let x = &r.results[0];
    assert_eq!(x.name, "system::os_supported");
    assert_eq!(x.component, "system");
    assert_eq!(x.case, "system::os_supported");
    assert_eq!(x.log.as_deref(), Some("logs/system::os_supported.log"));
    // Every log hashed, and copied.
    assert_eq!(r.logs.len(), planned.len());
    for l in &r.logs {
        let bytes = fs::read(out.join(&l.path)).expect("copied log");
        assert_eq!(reports::sha256_hex(&bytes), l.sha256);
        assert_eq!(bytes.len() as u64, l.size);
    }
}

#[test]
fn hcl_entries() {
    // The recorded tree, so that driver versions are read from its sys/module.
    let mut b = RunBuilder::raid_sas_recorded();
    b.finish("storage::identity::sda", "fail");
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    assert_eq!(
        r.hcl.len(),
        3,
        "the system and two controllers (bridges left out)"
    );
    let v = read_json(&out.join("report.json"));
    let sys = &v["hcl"][0];
    assert_eq!(sys["kind"], "system");
    assert_eq!(sys["vendor"], "Inspur");
    assert_eq!(sys["product"], "NF5280M5");
    assert_eq!(sys["board"], "YZMB-00882-104");
    assert_eq!(sys["bios_version"], "4.1.21");
    assert_eq!(
        sys["cpu_model"],
        "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz"
    );
    assert_eq!(sys["arch"], "x86_64");
    assert_eq!(sys["os"], "OpenCloudOS 8.8");
    assert_eq!(sys["kernel"], "5.4.119-20.0009.29.oc8.x86_64");
    // Every case of the system passed, but the machine is a recording: not certified.
    assert_eq!(sys["verdict"], "incomplete");
    let sys_cases: Vec<&str> = sys["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(sys_cases.contains(&"cpu::all_online") && sys_cases.contains(&"system::kernel_taint"));
    assert!(!sys_cases.iter().any(|c| c.starts_with("pci::")));

    let raid = &v["hcl"][1];
    assert_eq!(raid["kind"], "pci");
    assert_eq!(raid["address"], "0000:3b:00.0");
    assert_eq!(raid["vendor_id"], "1000");
    assert_eq!(raid["device_id"], "10e2");
    assert_eq!(raid["subsystem_vendor_id"], "1000");
    assert_eq!(raid["subsystem_device_id"], "4000");
    assert_eq!(raid["subsystem_name"], "MegaRAID 9560-16i");
    assert_eq!(raid["class_id"], "010400");
    assert_eq!(raid["driver"], "megaraid_sas");
    assert_eq!(
        raid["driver_version"], "07.714.04.00-rc1",
        "read from the sysroot"
    );
    assert!(
        raid.get("firmware").is_none(),
        "a RAID HBA's firmware is not known"
    );
    assert_eq!(raid["os_version_id"], "8.8");
    // Covered by its PCI cases, the driver case and the disk behind it (which failed).
    let cases: Vec<(&str, &str)> = raid["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or(""),
                c["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        cases.contains(&("pci::driver_bound::0000:3b:00.0", "pass")),
        "{cases:?}"
    );
    assert!(
        cases.contains(&("pci::driver_in_tree::megaraid_sas", "pass")),
        "{cases:?}"
    );
    assert!(
        cases.contains(&("storage::identity::sda", "fail")),
        "{cases:?}"
    );
    assert!(!cases
        .iter()
        .any(|(n, _)| n.contains("mpt3sas") || n.ends_with("sdb")));
    assert_eq!(raid["verdict"], "not certified");
    let sas = &v["hcl"][2];
    assert_eq!(sas["driver"], "mpt3sas");
    assert_eq!(sas["driver_version"], "35.101.00.00");
    assert_eq!(sas["verdict"], "incomplete", "a recorded machine");
}

#[test]
fn verdicts_name_what_decided() {
    // A failed blocker, a timeout, an interrupted instance and ones that never ran.
    let mut b = RunBuilder::raid_sas();
    let names = b.instances();
    b.finish("cpu::all_online", "fail");
    b.finish("pci::aer_clean::0000:3b:00.0", "timeout");
    b.finish("cpu::microcode", "fail"); // advisory
    for n in &names[..names.len() - 3] {
        if !matches!(
            n.as_str(),
            "cpu::all_online" | "pci::aer_clean::0000:3b:00.0" | "cpu::microcode"
        ) {
            b.finish(n, "pass");
        }
    }
    let interrupted = names[names.len() - 3].clone();
    b.finish(&interrupted, "interrupted");
    let (_t, _out, r) = make(&b);
    assert_eq!(r.verdict.overall, Overall::NotCertified);
    assert_eq!(
        r.verdict.failed_blockers,
        vec!["cpu::all_online", "pci::aer_clean::0000:3b:00.0"]
    );
    assert_eq!(r.verdict.advisory_failures, vec!["cpu::microcode"]);
    assert!(
        r.verdict.summary.contains("2 blockers failed"),
        "{}",
        r.verdict.summary
    );
    let inc: Vec<(&str, &str)> = r
        .verdict
        .incomplete
        .iter()
        .map(|u| (u.name.as_str(), u.status.as_str()))
        .collect();
    assert_eq!(
        inc,
        vec![
            (interrupted.as_str(), "interrupted"),
            (names[names.len() - 2].as_str(), "not run"),
            (names[names.len() - 1].as_str(), "not run"),
        ]
    );
    assert_eq!(r.counts.not_run, 2);
    assert_eq!(r.counts.interrupted, 1);
    let last = r.results.last().expect("results");
    assert_eq!(last.status.as_str(), "not run");
    assert_eq!(last.attempts, 0);
    assert!(last.log.is_none());
    let comp = |c: &str| {
        r.verdict
            .components
            .iter()
            .find(|x| x.component == c)
            .map(|x| x.verdict)
    };
    assert_eq!(comp("cpu"), Some(Overall::NotCertified));
    assert_eq!(comp("system"), Some(Overall::Certified));
    assert_eq!(comp("storage"), Some(Overall::Incomplete));

    // Without the failures, the same run is incomplete, naming what did not finish.
    let mut b = RunBuilder::raid_sas();
    for n in &names[..names.len() - 1] {
        b.finish(n, "pass");
    }
    let (_t, _out, r) = make(&b);
    assert_eq!(r.verdict.overall, Overall::Incomplete);
    assert!(
        r.verdict
            .summary
            .contains(&format!("1 did not run): {}", names[names.len() - 1])),
        "{}",
        r.verdict.summary
    );
}

#[test]
fn the_last_line_wins_and_unknown_fields_are_tolerated() {
    let mut b = RunBuilder::raid_sas_recorded();
    let first = b.instances()[0].clone();
    b.finish(&first, "interrupted")["boot_id"] = json!("another-boot");
    b.pass_the_rest();
    // The final result after a resume, with fields this version does not know.
    let l = b.finish(&first, "skip");
    l["reason"] = json!("not root");
    l["component"] = json!("system");
    l["blocker"] = json!(true);
    l["log_tail"] = json!(["x"]);
    l["future_field"] = json!({"nested": [1, 2]});
    b.inventory["future_section"] = json!({"x": 1});
    b.plan["future_key"] = json!(true);
    let (_t, _out, r) = make(&b);
    let x = &r.results[0];
    assert_eq!(x.status.as_str(), "skip");
    assert_eq!(x.reason.as_deref(), Some("not root"));
    assert_eq!(x.attempts, 2);
    // A skipped blocker, even with a reason, was not tested.
    assert_eq!(
        r.verdict.overall,
        Overall::Incomplete,
        "{}",
        r.verdict.summary
    );
    assert_eq!(r.verdict.incomplete[0].reason.as_deref(), Some("not root"));
    assert_eq!(r.run.boot_ids, vec!["another-boot", &b.boot_id]);
    // Carried verbatim.
    assert_eq!(r.inventory["future_section"]["x"], 1);
    assert_eq!(r.plan["future_key"], true);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn bad_journal_lines_are_warnings() {
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let names = b.instances();
    b.lines[1]["status"] = json!("exploded");
    b.lines[2]["measurements"] = json!([
        {"name": "ok", "value": 1.5, "unit": "s"},
        {"name": "nan", "value": null, "unit": "s", "threshold": {"op": ">=", "value": 1}},
        {"value": "garbage"}
    ]);
    b.lines[3]["log"] = json!("../../etc/passwd");
    b.lines[4]["started"] = json!("yesterday");
    let t = tmp();
    let run = t.path().join("run");
    b.write(&run).expect("write");
    // A line cut short by a crash, and one that is not JSON.
    let mut j = fs::read_to_string(run.join("journal.jsonl")).expect("read");
    j.insert_str(0, "this is not json\n");
    j.push_str("{\"name\": \"cpu::all_onl");
    fs::write(run.join("journal.jsonl"), j).expect("write");
    let out = t.path().join("out");
    let s = build_report(&run, &out, None).expect("report");
    let r: Report =
        serde_json::from_slice(&fs::read(out.join("report.json")).expect("read")).expect("json");
    let w = r.warnings.join("\n");
    assert!(w.contains("journal.jsonl:1: ignored"), "{w}");
    assert!(w.contains("unknown variant `exploded`"), "{w}");
    assert!(w.contains("measurement 3 ignored"), "{w}");
    assert!(w.contains("incomplete last line"), "{w}");
    assert!(w.contains("is not a file under logs/"), "{w}");
    assert!(w.contains("\"yesterday\" is not an RFC 3339 time"), "{w}");
    assert_eq!(s.warnings.len(), r.warnings.len());
    assert_eq!(r.results[1].status.as_str(), "not run", "{}", names[1]);
    assert_eq!(r.results[2].measurements.len(), 2);
    assert!(r.results[2].measurements[1].value.is_nan());
    assert!(r.results[3].log.is_none());
    assert_eq!(r.verdict.overall, Overall::Incomplete);
}

#[test]
fn missing_and_broken_run_directories() {
    let t = tmp();
    let e = build_report(&t.path().join("nope"), &t.path().join("out"), None)
        .expect_err("no directory");
    assert!(e.to_string().contains("no such directory"), "{e}");
    let e = build_report(t.path(), &t.path().join("out"), None).expect_err("empty");
    assert!(
        e.to_string().contains("inventory.json: no such file"),
        "{e}"
    );
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let run = t.path().join("run");
    b.write(&run).expect("write");
    fs::write(run.join("plan.json"), "{\"instances\": 3}").expect("write");
    let e = build_report(&run, &t.path().join("out"), None).expect_err("bad plan");
    assert!(
        e.to_string().contains("plan.json: not a plan document"),
        "{e}"
    );
    fs::write(run.join("inventory.json"), "[]").expect("write");
    let e = build_report(&run, &t.path().join("out"), None).expect_err("bad inventory");
    assert!(
        e.to_string().contains("inventory.json: not an inventory"),
        "{e}"
    );
    assert_eq!(e.to_string().lines().count(), 1);
}

#[test]
fn a_run_without_a_journal_is_incomplete() {
    let b = RunBuilder::raid_sas();
    let t = tmp();
    let run = t.path().join("run");
    b.write(&run).expect("write");
    fs::remove_file(run.join("journal.jsonl")).expect("rm");
    let out = t.path().join("out");
    let s = build_report(&run, &out, None).expect("report");
    assert_eq!(s.overall, Overall::Incomplete);
    assert_eq!(s.counts.not_run, s.counts.total);
    assert!(s.warnings.iter().any(|w| w.contains("no journal")));
}

#[test]
fn report_directories_are_refreshed_not_clobbered() {
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let t = tmp();
    let run = t.path().join("run");
    b.write(&run).expect("write");
    let out = t.path().join("out");
    build_report(&run, &out, None).expect("report");
    // A log that the run no longer has disappears from a report made again.
    fs::remove_file(run.join("logs/cpu::all_online.log")).expect("rm");
    build_report(&run, &out, None).expect("again");
    assert!(!out.join("logs/cpu::all_online.log").exists());
    // A foreign logs/ directory is not touched.
    let foreign = t.path().join("foreign");
    fs::create_dir_all(foreign.join("logs")).expect("mkdir");
    fs::write(foreign.join("logs/mine.txt"), "keep").expect("write");
    let e = build_report(&run, &foreign, None).expect_err("refused");
    assert!(e.to_string().contains("not a report's logs"), "{e}");
    assert!(foreign.join("logs/mine.txt").exists());
    // The report can be written into the run directory itself.
    build_report(&run, &run, None).expect("in place");
    let r: Report =
        serde_json::from_slice(&fs::read(run.join("report.json")).expect("read")).expect("json");
    assert_eq!(r.logs.len(), b.instances().len() - 1);
    // Symbolic links under logs/ are left out, with a warning.
    std::os::unix::fs::symlink("/etc/hostname", run.join("logs/evil.log")).expect("symlink");
    let s = build_report(&run, &out, None).expect("again");
    assert!(!out.join("logs/evil.log").exists());
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("evil.log: not a regular file")));
}

#[test]
fn schema_validates_real_reports() {
    let schema: Value =
        serde_json::from_str(documents::schema::REPORT_SCHEMA).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let mut b = RunBuilder::raid_sas();
    b.finish("cpu::all_online", "fail")["measurements"] = json!([
        {"name": "cpu0_ops_per_s", "value": 10.5, "unit": "rounds/s", "threshold": {"op": ">=", "value": 9}},
        {"name": "nan", "value": null, "unit": "x"}
    ]);
    // A log the log cap truncated: the count reaches the report, and its pages say so.
    b.finish("cpu::cpufreq", "crash")["log_dropped_bytes"] = json!(103809074);
    b.finish("cpu::microcode", "interrupted");
    b.finish("memory::size_consistent", "skip");
    let (_t, out, _r) = make(&b);
    let doc = read_json(&out.join("report.json"));
    let truncated: Vec<&Value> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r.get("log_dropped_bytes").is_some())
        .collect();
    assert_eq!(truncated.len(), 1);
    assert_eq!(truncated[0]["name"], "cpu::cpufreq");
    assert_eq!(truncated[0]["log_dropped_bytes"], 103809074);
    let note = "the log cap dropped 99 MiB (103809074 bytes) of output from the middle of the log";
    for page in ["report.html", "report.md"] {
        let text = fs::read_to_string(out.join(page)).expect("page");
        assert!(text.contains(note), "{page}");
    }
    let mut zero = doc.clone();
    let i = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .position(|r| r["name"] == "cpu::cpufreq")
        .expect("cpufreq");
    zero["results"][i]["log_dropped_bytes"] = json!(0);
    assert_eq!(
        validator.iter_errors(&zero).count(),
        1,
        "0 dropped is no truncation"
    );
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A PCI function's sources and disagreements (from config space where sysfs lacks an
    // attribute); an inventory without them (written before) is just as valid.
    let pci0 = &doc["inventory"]["pci"][0];
    assert_eq!(pci0["sources"]["vendor_id"], "sysfs", "{pci0}");
    let mut more = doc.clone();
    more["inventory"]["pci"][0]["sources"]["revision"] = json!("config");
    more["inventory"]["pci"][0]["disagreements"] =
        json!([{"field": "revision", "sysfs": "01", "config": "02"}]);
    assert_eq!(validator.iter_errors(&more).count(), 0);
    let mut older = doc.clone();
    if let Some(p) = older["inventory"]["pci"][0].as_object_mut() {
        p.remove("sources");
    }
    assert_eq!(validator.iter_errors(&older).count(), 0);
    // And it is not vacuous.
    let mut bad = doc.clone();
    bad["results"][0]["status"] = json!("passed");
    bad["logs"][0]["sha256"] = json!("xyz");
    bad["surprise"] = json!(1);
    bad["inventory"]["pci"][0]["sources"]["revision"] = json!("lspci");
    bad["inventory"]["pci"][0]["disagreements"] = json!([{"field": "revision"}]);
    // One error each, and two for the disagreement without its sysfs and config values.
    assert_eq!(validator.iter_errors(&bad).count(), 6);
}

#[test]
fn html_escapes_machine_strings() {
    const EVIL: &str = "<script>alert(1)</script>";
    let mut b = RunBuilder::raid_sas();
    b.inventory["dmi"]["product_name"] = json!(EVIL);
    b.inventory["pci"][1]["subsystem_name"] = json!(EVIL);
    let l = b.finish("cpu::all_online", "fail");
    l["expected"] = json!(EVIL);
    l["measured"] = json!("\"quoted\" & 'single'");
    l["measurements"] = json!([
        {"name": EVIL, "value": 1, "unit": EVIL},
        {"name": "b", "value": 2, "unit": EVIL}
    ]);
    b.logs.insert(
        "logs/cpu::all_online.log".into(),
        format!("line one\n{EVIL}\n\u{1b}[31mcoloured\u{1b}[0m\n").into_bytes(),
    );
    b.pass_the_rest();
    let (_t, out, _r) = make(&b);
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(!html.contains(EVIL), "raw script in the page");
    assert!(!html.contains("<script"), "no script at all");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    // The title (DMI product), the log excerpt, the chart labels.
    let title_line = html
        .lines()
        .find(|l| l.starts_with("<title>"))
        .expect("title");
    assert!(title_line.contains("&lt;script&gt;"), "{title_line}");
    assert!(html.contains("&quot;quoted&quot; &amp; &#x27;single&#x27;"));
    assert!(html.contains("coloured") && !html.contains('\u{1b}'));
    let md = fs::read_to_string(out.join("report.md")).expect("md");
    assert!(!md.contains(EVIL) && md.contains("&lt;script&gt;"), "{md}");
    let xml = fs::read_to_string(out.join("junit.xml")).expect("xml");
    assert!(!xml.contains(EVIL));
}

#[test]
fn html_is_one_self_contained_page() {
    let mut b = RunBuilder::raid_sas();
    b.finish("cpu::all_online", "fail")["measurements"] = json!((0..64)
        .map(|i| json!({"name": format!("cpu{i}_ops_per_s"), "value": 1000 + i, "unit": "rounds/s", "threshold": {"op": ">=", "value": 1010}}))
        .collect::<Vec<_>>());
    b.finish("memory::size_consistent", "pass")["measurements"] = json!([
        {"name": "copy", "value": 9012.5, "unit": "MB/s"},
        {"name": "scale", "value": 8800.1, "unit": "MB/s"},
        {"name": "add", "value": 9900.0, "unit": "MB/s"},
        {"name": "triad", "value": 9950.2, "unit": "MB/s"}
    ]);
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("@media print"));
    for external in ["<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "{external}");
    }
    // The verdict first, then components, problems, HCL, measurements, results, inventory.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("class=\"verdict fail\"") < at("id=\"components\""));
    assert!(at("id=\"components\"") < at("id=\"problems\""));
    assert!(at("id=\"problems\"") < at("id=\"hcl\""));
    assert!(at("id=\"hcl\"") < at("id=\"measurements\""));
    assert!(at("id=\"measurements\"") < at("id=\"results\""));
    assert!(at("id=\"results\"") < at("id=\"inventory\""));
    assert!(html.contains(">not certified<"));
    // Expected vs measured of the failure, its log tail, its chart.
    assert!(html.contains("<td>Expected</td><td class=\"em\">x</td>"));
    assert!(html.contains("cpu::all_online: checking"));
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        3,
        "the failure's (twice) and STREAM's"
    );
    assert!(html.contains("64 values"));
    // Every instance in the table; the inventory tables.
    assert!(html.matches("<tr><td class=\"name\">").count() >= r.results.len());
    assert!(html.contains("MegaRAID 9560-16i"));
    assert!(html.contains("ST1200MM0009"));
}

/// The page a site publishes: the same report with the site's policy in its head and the
/// style linked (a policy without inline style allows no `<style>`), and no log tails without
/// the logs; the default page is self-contained, as `hwcert report` writes it.
#[test]
fn pages_for_a_site_carry_its_policy_and_link_the_style() {
    use reports::render::{PageOptions, Renderer, REPORT_CSS};
    let mut b = RunBuilder::raid_sas();
    b.finish("cpu::all_online", "fail");
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    let style = format!("<style>\n{REPORT_CSS}</style>\n</head>");
    assert!(html.contains(&style), "the style is inline, whole");
    assert!(!html.contains("Content-Security-Policy"));
    let renderer = Renderer::new().expect("renderer");
    let (h, m) = renderer
        .pages(&r, Some(&out), None, PageOptions::default())
        .expect("pages");
    assert_eq!(
        h, html,
        "the renderer makes report.html as build_report does"
    );
    assert_eq!(m, fs::read_to_string(out.join("report.md")).expect("md"));
    let csp = "default-src 'self'; style-src 'self'";
    let opts = PageOptions {
        csp: Some(csp),
        stylesheet: Some("../../assets/report.css"),
    };
    let (site, site_md) = renderer.pages(&r, None, None, opts).expect("pages");
    assert_eq!(
        site.matches("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#x27;self&#x27;; style-src &#x27;self&#x27;\">").count(),
        1,
        "{}",
        &site[..600]
    );
    // minijinja escapes '/' too: a browser reads the same href.
    assert!(
        site.contains(
            "<link rel=\"stylesheet\" href=\"..&#x2f;..&#x2f;assets&#x2f;report.css\">\n</head>"
        ),
        "{}",
        &site[..600]
    );
    assert!(!site.contains("<style"));
    // Without the logs, no log tail; everything else as the self-contained page.
    assert!(html.contains("cpu::all_online: checking"));
    assert!(!site.contains("cpu::all_online: checking"));
    assert_eq!(site_md, m, "the summary has no tails");
    assert_eq!(
        reports::render::renderer_id(),
        reports::render::renderer_id()
    );
}

#[test]
fn junit_counts_match() {
    let mut b = RunBuilder::raid_sas();
    b.finish("cpu::all_online", "fail");
    b.finish("cpu::cpufreq", "timeout");
    b.finish("cpu::microcode", "crash");
    b.finish("memory::size_consistent", "skip");
    b.finish("memory::edac_clean", "interrupted");
    let names = b.instances();
    for n in &names[..names.len() - 2] {
        if !b.lines.iter().any(|l| l["name"] == n.as_str()) {
            b.finish(n, "pass");
        }
    }
    let (_t, out, r) = make(&b);
    let xml = fs::read_to_string(out.join("junit.xml")).expect("junit.xml");
    let j = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit that parses");
    // The instances, and the verdict (its own suite, last).
    assert_eq!(j.tests, r.counts.total as usize + 1);
    assert_eq!(j.failures, 2, "cpu::all_online and the verdict");
    assert_eq!(j.errors, 3, "timeout, crash, interrupted");
    let verdict = j.test_suites.last().expect("the verdict suite");
    assert_eq!(verdict.name.as_str(), "verdict");
    match &verdict.test_cases[0].status {
        quick_junit::TestCaseStatus::NonSuccess { message, .. } => assert_eq!(
            message.as_ref().map(|m| m.as_str()),
            Some(r.verdict.summary.as_str())
        ),
        s => panic!("{s:?}"),
    }
    let cases: Vec<&quick_junit::TestCase> = j
        .test_suites
        .iter()
        .filter(|s| s.name.as_str() != "verdict")
        .flat_map(|s| s.test_cases.iter())
        .collect();
    assert_eq!(cases.len(), r.results.len());
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .count();
    assert_eq!(skipped as u64, r.counts.skip + r.counts.not_run);
    let fail = cases
        .iter()
        .find(|c| c.name.as_str() == "cpu::all_online")
        .expect("the failure");
    assert_eq!(fail.classname.as_ref().map(|c| c.as_str()), Some("cpu"));
    match &fail.status {
        quick_junit::TestCaseStatus::NonSuccess { message, .. } => {
            assert_eq!(
                message.as_ref().map(|m| m.as_str()),
                Some("expected x; measured y")
            )
        }
        s => panic!("{s:?}"),
    }
    assert!(fail
        .system_out
        .as_ref()
        .is_some_and(|o| o.as_str().contains("cpu::all_online: checking")));
    let skip = cases
        .iter()
        .find(|c| c.name.as_str() == "memory::size_consistent")
        .expect("the skip");
    match &skip.status {
        quick_junit::TestCaseStatus::Skipped { message, .. } => {
            assert_eq!(message.as_ref().map(|m| m.as_str()), Some("needs root"))
        }
        s => panic!("{s:?}"),
    }
    let suites: Vec<&str> = j.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        suites,
        vec!["system", "cpu", "memory", "pci", "storage", "verdict"]
    );
}

#[test]
fn markdown_summary() {
    let mut b = RunBuilder::raid_sas();
    b.finish("pci::driver_bound::0000:af:00.0", "fail");
    b.pass_the_rest();
    let (_t, out, _r) = make(&b);
    let md = fs::read_to_string(out.join("report.md")).expect("md");
    assert!(
        md.starts_with("## hwcert: Inspur NF5280M5 — **NOT CERTIFIED**"),
        "{md}"
    );
    assert!(
        md.contains("- `pci::driver_bound::0000:af:00.0` — **fail**: expected x; measured y"),
        "{md}"
    );
    assert!(md.contains("| pci | not certified |"), "{md}");
    assert!(md.contains("MegaRAID 9560-16i \\[1000:10e2\\]"), "{md}");
    assert!(md.contains("- Signed: no"));
}

/// A browser on PATH, if any.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(b).is_file()))
        })
}

#[test]
fn a_browser_renders_and_prints_the_page() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let mut b = RunBuilder::raid_sas();
    b.finish("cpu::all_online", "fail")["measurements"] = json!((0..8)
        .map(|i| json!({"name": format!("cpu{i}_ops_per_s"), "value": 1000 + 10 * i, "unit": "rounds/s", "threshold": {"op": ">=", "value": 1030}}))
        .collect::<Vec<_>>());
    b.pass_the_rest();
    let (t, out, _r) = make(&b);
    let url = format!("file://{}", out.join("report.html").display());
    let chrome = |extra: &[String]| {
        let profile = t.path().join("chromium-profile");
        std::process::Command::new("timeout")
            .arg("120")
            .arg(browser)
            .args(testing::browser::HEADLESS_FLAGS)
            .arg("--no-first-run")
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("run the browser")
    };
    let o = chrome(&["--dump-dom".to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("class=\"verdict fail\""),
        "the page as the browser built it"
    );
    assert!(dom.contains("<svg class=\"chart\""));
    assert!(dom.contains("pci::driver_bound::0000:3b:00.0"));
    let png = t.path().join("page.png");
    let o = chrome(&[
        format!("--screenshot={}", png.display()),
        "--window-size=1200,1600".to_string(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fs::metadata(&png).expect("a screenshot").len() > 20_000);
    let pdf = t.path().join("page.pdf");
    let o = chrome(&[format!("--print-to-pdf={}", pdf.display())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = fs::read(&pdf).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 20_000);
}

/// Journal lines for instances that are not in the plan (a plan rewritten under a run) are
/// shown with a warning but never counted: not in the totals, not in a component's counts,
/// not in the verdict, not in an HCL entry.
#[test]
fn unplanned_journal_lines_are_shown_but_not_counted() {
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let planned = b.instances().len();
    // A failed blocker that is not in the plan, in a component the plan has.
    let l = b.finish("pci::ghost::0000:99:00.0", "fail");
    l["blocker"] = serde_json::json!(true);
    l["component"] = serde_json::json!("pci");
    b.finish("storage::ghost_pass", "pass");
    let (_t, out, r) = make(&b);
    assert_eq!(
        r.counts.total as usize, planned,
        "totals hold the plan only"
    );
    assert_eq!(r.counts.fail, 0);
    assert_eq!(r.counts.pass as usize, planned);
    assert_eq!(
        r.verdict.overall,
        Overall::Certified,
        "{}",
        r.verdict.summary
    );
    let comp_total: u64 = r.verdict.components.iter().map(|c| c.counts.total).sum();
    assert_eq!(
        comp_total as usize, planned,
        "component counts hold the plan only"
    );
    for e in &r.hcl {
        assert!(
            !e.cases().iter().any(|c| c.name.contains("ghost")),
            "an HCL entry rests on an unplanned line: {:?}",
            e.cases()
        );
    }
    // Still shown, marked, and warned about.
    let ghost = r
        .results
        .iter()
        .find(|x| x.name == "pci::ghost::0000:99:00.0")
        .expect("the unplanned result is in the report");
    assert!(ghost.unplanned);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("pci::ghost::0000:99:00.0 is not in the plan")),
        "{:?}",
        r.warnings
    );
    let v = read_json(&out.join("report.json"));
    assert_eq!(v["counts"]["total"].as_u64(), Some(planned as u64));
}

#[test]
fn accelerators_are_shown_with_their_tool() {
    let root = testing::rundir::fixture("gpu-server");
    let inv = testing::rundir::probe(&root);
    let plan = testing::rundir::plan(&inv, &root);
    let mut b = RunBuilder::new(&inv, plan);
    const EVIL: &str = "<b>x</b>";
    b.inventory["accelerators"][1]["details"]["product_name"] = json!(EVIL);
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    assert!(r
        .results
        .iter()
        .any(|x| x.name == "accel::ecc_clean::0000:18:00.0" && x.component == "accel"));
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    let block = &html[html
        .find("<h2 id=\"accelerators\">")
        .expect("accelerator block")..];
    assert!(block.contains("0000:19:00.0") && block.contains("NVIDIA A100-SXM4-80GB"));
    assert!(block.contains("535.129.03") && block.contains("CUDA 12.2"));
    assert!(block.contains("gen 1 of 4, x16 of x16"), "{block}");
    assert!(block.contains("MIG Enabled (2 devices)"));
    assert!(block.contains("nvidia-smi -q -x") && block.contains("recorded"));
    assert!(!html.contains(EVIL), "raw markup from the inventory");
    let md = fs::read_to_string(out.join("report.md")).expect("md");
    assert!(
        md.contains("### Accelerators") && md.contains("0000:18:00.0"),
        "{md}"
    );
    assert!(!md.contains(EVIL));
    // A machine without accelerators has no block.
    let (_t, out, _r) = make(&{
        let mut b = RunBuilder::raid_sas();
        b.pass_the_rest();
        b
    });
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(!html.contains("id=\"accelerators\""));
}

/// The HTML report's "Hardware compatibility list entries" block.
fn hcl_block(html: &str) -> &str {
    let at = html
        .find("Hardware compatibility list entries")
        .expect("the HCL block");
    &html[at..]
}

#[test]
fn a_system_without_dmi_is_named_and_said_unlistable() {
    // This machine, recorded: a Firecracker (KVM) virtual machine whose firmware has no DMI.
    let archive = testing::rundir::fixture("firecracker-vm.tar.gz");
    let unpacked = tmp();
    inventory::snapshot::extract(&archive, unpacked.path()).expect("the snapshot");
    let root = inventory::snapshot::extracted_root(unpacked.path());
    let inv = testing::rundir::probe(&root);
    assert!(inv.dmi.is_none(), "the recording has no DMI");
    let plan = testing::rundir::plan(&inv, &root);
    let mut b = RunBuilder::new(&inv, plan);
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    let v = read_json(&out.join("report.json"));
    let sys = &v["hcl"][0];
    assert_eq!(sys["kind"], "system");
    assert_eq!(sys["hypervisor"], "KVM");
    assert!(sys.get("vendor").is_none() && sys.get("product").is_none());
    let name = documents::claims::title(&r.hcl[0]);
    assert!(name.starts_with("KVM virtual machine, "), "{name}");
    assert!(
        name.contains(inv.cpu.model_name.as_deref().expect("a CPU model")),
        "{name}"
    );
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    let block = hcl_block(&html);
    assert!(block.contains(&name), "the card is titled: {block}");
    assert!(block.contains("Not listable"), "{block}");
    assert!(
        block.contains("a virtual machine&#x27;s firmware gives no DMI system vendor")
            || block.contains("a virtual machine's firmware gives no DMI system vendor"),
        "{block}"
    );
    assert!(!block.contains("SYSTEM:<"), "an unnamed system: {block}");
    let md = fs::read_to_string(out.join("report.md")).expect("md");
    assert!(md.contains(&format!("| system | {name} |")), "{md}");
}

#[test]
fn a_board_is_named_from_its_device_tree() {
    let mut b = RunBuilder::raid_sas();
    b.inventory["dmi"] = Value::Null;
    b.inventory["host"]["device_tree_model"] = json!("Phytium D2000 Development Board");
    b.pass_the_rest();
    let (_t, out, r) = make(&b);
    let name = documents::claims::title(&r.hcl[0]);
    assert_eq!(
        name,
        "Phytium D2000 Development Board, 2 × Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz"
    );
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    let block = hcl_block(&html);
    assert!(
        block.contains("Device tree") && block.contains(&name),
        "{block}"
    );
    assert!(block.contains("a device-tree board"), "{block}");
    // A system that DMI names has no such fact.
    let (_t, out, _r) = make(&{
        let mut b = RunBuilder::raid_sas();
        b.pass_the_rest();
        b
    });
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(!html.contains("Not listable"));
    assert!(hcl_block(&html).contains("Inspur NF5280M5"));
}

#[test]
fn the_bmc_firmware_fru_and_sel_are_in_the_report() {
    // A tree holding Dell iDRAC's recorded mc info, fru print and sel info, as a live probe
    // records them.
    let t = tmp();
    let tools = t.path().join(".hwcert/tools");
    fs::create_dir_all(&tools).expect("tools");
    fs::create_dir_all(t.path().join("sys/devices")).expect("sys");
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../hwdb/inventory/tests/tool-outputs/ipmitool/dell-idrac");
    for (src, dst) in [
        ("mc-info.txt", "ipmitool-mc-info.txt"),
        ("fru-print.txt", "ipmitool-fru-print.txt"),
        ("sel-info.txt", "ipmitool-sel-info.txt"),
    ] {
        fs::copy(recorded.join(src), tools.join(dst)).expect("copy");
    }
    let bmc = testing::rundir::probe(t.path()).bmc.expect("a bmc section");
    let mut b = RunBuilder::raid_sas();
    b.inventory["bmc"] = serde_json::to_value(&bmc).expect("json");
    b.pass_the_rest();
    let (_t, out, _r) = make(&b);
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("firmware DELL Inc 2.70")
            && html.contains("(IPMI 2.0) in DELL PowerEdge R730"),
        "the facts name the BMC firmware"
    );
    assert!(html.contains("BMC SEL") && html.contains("7 entries, 3% used"));
    let md = fs::read_to_string(out.join("report.md")).expect("md");
    assert!(md.contains("DELL Inc 2.70"), "{md}");
    // A machine whose probe reached no BMC says why, and names no firmware.
    let (_t, out, _r) = make(&{
        let mut b = RunBuilder::raid_sas();
        b.inventory["bmc"] = json!({"status": "missing", "reached": "none", "source": "live",
            "detail": ["no BMC: no local IPMI device"]});
        b.pass_the_rest();
        b
    });
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("none: no BMC: no local IPMI device"),
        "the inventory says why"
    );
    assert!(!html.contains("firmware DELL"));
}
