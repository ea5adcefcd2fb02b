//! The queue-depth sweep of a real `storage::stress` run (this project's VM, its virtio disk,
//! recorded with `cargo run --release -p cases --example stress -- storage vda 10`) through
//! report.json into the page: the curves as line charts with their peaks, properly escaped.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use documents::report::Report;
use documents::sweep::curves;
use documents::Measurement;
use reports::build_report;
use testing::rundir::RunBuilder;

fn recorded() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/storage-stress-sweep.json");
    serde_json::from_slice(&fs::read(&p).expect("the recorded run")).expect("JSON")
}

/// The raid-sas run with its first `storage::stress` instance finished with `measurements`.
fn report_with(measurements: Value) -> (tempfile::TempDir, String, Report) {
    let mut b = RunBuilder::raid_sas();
    let name = b
        .instances()
        .into_iter()
        .find(|n| n.starts_with("storage::stress::"))
        .expect("a storage::stress instance in the raid-sas plan");
    b.finish(&name, "pass")["measurements"] = measurements;
    b.pass_the_rest();
    let t = tempfile::tempdir().expect("a temporary directory");
    let run = t.path().join("run");
    b.write(&run).expect("write the run");
    let out = run.join("report");
    build_report(&run, &out, None).expect("the report");
    let r: Report =
        serde_json::from_slice(&fs::read(out.join("report.json")).expect("report.json"))
            .expect("a report");
    let html = fs::read_to_string(out.join("report.html")).expect("report.html");
    (t, html, r)
}

#[test]
fn a_real_sweep_is_drawn_from_report_json_with_its_peaks() {
    let rec = recorded();
    let (_t, html, r) = report_with(rec["measurements"].clone());
    // report.json carries the curves as the case wrote them.
    let ms: Vec<Measurement> = r
        .results
        .iter()
        .find(|x| x.case == "storage::stress")
        .expect("the instance")
        .measurements
        .clone();
    let cs = curves(&ms);
    assert_eq!(cs.len(), 3, "{ms:?}");
    let from_case: Vec<Measurement> =
        serde_json::from_value(rec["measurements"].clone()).expect("measurements");
    assert_eq!(cs, curves(&from_case));
    // One line chart per phase in the page, each with its peak and every depth it ran.
    assert_eq!(html.matches("<svg class=\"chart sweep\"").count(), 3);
    for c in &cs {
        let peak = c.peak().expect("a peak");
        let line = format!(
            "peak {} {} at queue depth {}",
            reports::svg::fmt_num(peak.rate),
            c.phase.unit,
            peak.depth
        );
        assert!(html.contains(&line), "{line}");
        assert!(html.contains(&format!(
            "{} — {} and p99 latency",
            c.phase.title, c.phase.unit
        )));
        for p in &c.points {
            let tip = format!(
                "<title>queue depth {}: {} {}",
                p.depth,
                reports::svg::fmt_num(p.rate),
                c.phase.unit
            );
            assert!(html.contains(&tip), "{tip}");
        }
    }
    // The points are in the curves, not in bar charts; the table still lists them.
    assert!(!html.contains(">Sequential write queue depth 1</text>"));
    assert!(html.contains(
        "<td class=\"name\" title=\"seq_write_qd1_mb_s\">Sequential write queue depth 1</td>"
    ));
}

#[test]
fn hostile_measurements_beside_a_sweep_are_escaped_and_garbage_is_left_out() {
    const EVIL: &str = "<script>alert(1)</script>";
    let mut ms = recorded()["measurements"].clone();
    let list = ms.as_array_mut().expect("a list");
    list.push(json!({"name": format!("seq_write_qd2_mb_s{EVIL}"), "value": 1, "unit": "MB/s"}));
    list.push(json!({"name": format!("seq_write_qd4_mb_s{EVIL}"), "value": 2, "unit": "MB/s"}));
    list.push(json!({"name": "randread_qd8_iops", "value": null, "unit": EVIL}));
    list.push(json!({"name": "seq_read_qd", "value": 5, "unit": "MB/s"}));
    list.push(json!({"name": "seq_read_peak_qd", "value": "x", "unit": "depth"}));
    let (_t, html, _r) = report_with(ms);
    assert!(!html.contains(EVIL), "raw script in the page");
    assert!(!html.contains("<script"));
    assert!(html.contains("seq_write_qd2_mb_s&lt;script&gt;"));
    // Still three curves: the null point and the bad names lose only themselves (a peak that is
    // not a number loses its measurement when the report is read).
    assert_eq!(html.matches("<svg class=\"chart sweep\"").count(), 3);
}

#[test]
fn a_browser_keeps_the_sweep_charts_under_the_pages_csp() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(b).is_file()))
        })
    else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let (t, html, _r) = report_with(recorded()["measurements"].clone());
    let page = t.path().join("page.html");
    fs::write(&page, &html).expect("write the page");
    let o = std::process::Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args(testing::browser::HEADLESS_FLAGS)
        .arg("--no-first-run")
        .arg(format!(
            "--user-data-dir={}",
            t.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run the browser");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    // Parsed as SVG (the browser rewrites nothing of it), three curves, each with its lines.
    assert_eq!(dom.matches("<svg class=\"chart sweep\"").count(), 3);
    assert!(dom.matches("<polyline ").count() >= 3);
    assert!(dom.contains("class=\"peak\""));
}
