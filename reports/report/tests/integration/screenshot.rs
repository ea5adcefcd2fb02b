//! report.html in a real headless Chromium (Debian's `chromium`, driven over CDP by
//! `testing::browser`): at 1280×800 the verdict and what to do next are on the first screen and
//! the charts are drawn (SVG elements of non-zero size, in the layout); at 600 px wide nothing
//! overflows horizontally. The screenshots are saved under the test's temporary directory, and
//! copied to `$HWCERT_SCREENSHOTS` when that is set (to look at them).

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use reports::build_report;
use testing::browser::{find_chromium, Browser};
use testing::rundir::RunBuilder;

fn recorded_sweep() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/storage-stress-sweep.json");
    let v: Value = serde_json::from_slice(&fs::read(&p).expect("the recorded run")).expect("JSON");
    v["measurements"].clone()
}

fn m(name: &str, v: f64, unit: &str) -> Value {
    json!({"name": name, "value": v, "unit": unit})
}

fn judged(name: &str, v: f64, unit: &str, op: &str, limit: f64) -> Value {
    json!({"name": name, "value": v, "unit": unit, "threshold": {"op": op, "value": limit}})
}

/// The raid-sas run with measured stress cases, one failing blocker with a threshold, and the
/// rest passed: a not-certified report with charts.
fn run_with_figures(dir: &Path) {
    let mut b = RunBuilder::raid_sas();
    let names = b.instances();
    let first = |p: &str| {
        names
            .iter()
            .find(|n| n.starts_with(p))
            .cloned()
            .unwrap_or_else(|| panic!("a {p} instance in the raid-sas plan: {names:?}"))
    };
    b.finish(&first("storage::stress::"), "pass")["measurements"] = recorded_sweep();
    b.finish(&first("memory::stress"), "pass")["measurements"] = json!([
        m("copy_mb_s", 11234.0, "MB/s"),
        m("scale_mb_s", 10987.0, "MB/s"),
        m("add_mb_s", 12010.0, "MB/s"),
        m("triad_mb_s", 12101.0, "MB/s"),
        m("stream_array_bytes", 268435456.0, "bytes"),
        m("bytes_tested", 1073741824.0, "bytes"),
        m("bytes_verified", 1073741824.0, "bytes"),
        m("passes", 1.0, "passes"),
    ]);
    let cpu = b.finish(&first("cpu::stress"), "fail");
    cpu["reason"] = json!("cpu3 ran 41 % slower than its peers");
    cpu["expected"] = json!("each CPU within 25 % of the median");
    cpu["measured"] = json!("cpu3 at 59 % of the median");
    let mut per_cpu: Vec<Value> = (0..8)
        .map(|i| {
            judged(
                &format!("cpu{i}_ops_per_s"),
                if i == 3 { 590.0 } else { 1000.0 + i as f64 },
                "rounds/s",
                ">=",
                750.0,
            )
        })
        .collect();
    per_cpu.push(m("fma_gflops", 118.4, "GFLOP/s"));
    per_cpu.push(m("cpus_tested", 8.0, "CPUs"));
    cpu["measurements"] = Value::Array(per_cpu);
    b.pass_the_rest();
    b.write(dir).expect("write the run");
}

/// Standard base64 (what CDP's screenshots are), for saving the PNG.
fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = s.bytes().filter_map(val).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

fn shoot(b: &mut Browser, width: u32, height: u32, file: &Path) {
    b.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
    )
    .expect("set the window size");
    b.reload().expect("reload at the new size");
    capture(b, file);
}

/// A screenshot of what the window shows now.
fn capture(b: &mut Browser, file: &Path) {
    let shot = b
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .expect("a screenshot");
    let png = base64(shot["data"].as_str().expect("base64 data"));
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    fs::write(file, &png).expect("save the screenshot");
    if let Some(d) = std::env::var_os("HWCERT_SCREENSHOTS") {
        let d = Path::new(&d);
        fs::create_dir_all(d).expect("the screenshot directory");
        fs::copy(file, d.join(file.file_name().expect("a name"))).expect("copy");
    }
}

#[test]
fn the_report_page_at_1280x800_and_600_wide() {
    let t = tempfile::tempdir().expect("a temporary directory");
    let run = t.path().join("run");
    run_with_figures(&run);
    let out = run.join("report");
    build_report(&run, &out, None).expect("the report");
    let Some(chromium) = find_chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let mut b = Browser::start(
        &chromium,
        &t.path().join("profile"),
        Duration::from_secs(90),
    )
    .expect("start chromium");
    b.navigate(&format!("file://{}", out.join("report.html").display()))
        .expect("open report.html");

    shoot(&mut b, 1280, 800, &t.path().join("report-1280x800.png"));
    // The verdict, whole, without scrolling.
    let verdict = b
        .eval(
            "(() => { const r = document.getElementById('verdict').getBoundingClientRect(); \
             return [r.top, r.bottom, r.width, window.innerHeight, \
             document.getElementById('verdict').innerText]; })()",
        )
        .expect("the verdict's box");
    let (top, bottom, vh) = (
        verdict[0].as_f64().expect("top"),
        verdict[1].as_f64().expect("bottom"),
        verdict[3].as_f64().expect("height"),
    );
    assert!(
        top >= 0.0 && bottom <= vh && verdict[2].as_f64() > Some(0.0),
        "verdict at {top}..{bottom} of {vh}: {verdict}"
    );
    assert!(
        verdict[4]
            .as_str()
            .is_some_and(|s| s.to_lowercase().contains("not certified")),
        "{verdict}"
    );
    // What to do next about the failure starts on the first screen.
    let next = b
        .eval(
            "(() => { const e = document.getElementById('next'); if (!e) return null; \
             const r = e.getBoundingClientRect(); return [r.top, e.innerText]; })()",
        )
        .expect("the next steps");
    assert!(
        next[0].as_f64().is_some_and(|t| t < vh),
        "what to do next is on the first screen: {next}"
    );
    assert!(
        next[1].as_str().is_some_and(|s| s.contains("cpu::stress")),
        "{next}"
    );
    // The charts are drawn: SVG elements with a size, in the layout (not display:none, not in
    // a closed <details>), with their bars or lines inside.
    let charts = b
        .eval(
            "Array.from(document.querySelectorAll('svg.chart')).map(s => { \
             const r = s.getBoundingClientRect(); \
             return [r.width, r.height, s.getClientRects().length, \
             s.querySelectorAll('rect,polyline,path,line').length, \
             s.getAttribute('aria-label')]; })",
        )
        .expect("the charts");
    let drawn: Vec<&Value> = charts
        .as_array()
        .expect("an array")
        .iter()
        .filter(|c| {
            c[0].as_f64() > Some(10.0)
                && c[1].as_f64() > Some(10.0)
                && c[2].as_u64() > Some(0)
                && c[3].as_u64() > Some(0)
        })
        .collect();
    // The storage curves (3 phases), STREAM's four bandwidths, the per-CPU rates against their
    // threshold (in Problems and in Measurements).
    assert!(drawn.len() >= 5, "charts drawn: {charts}");
    let labels: Vec<&str> = drawn.iter().filter_map(|c| c[4].as_str()).collect();
    assert!(
        labels.iter().any(|l| l.contains("MB/s")),
        "a bandwidth chart: {labels:?}"
    );
    // Only comparable figures share a chart: no chart mixes bytes counts, nor unitless ones.
    assert!(
        !labels
            .iter()
            .any(|l| l.contains("bytes") || l.ends_with("in ")),
        "{labels:?}"
    );

    // The charts, for the eye: the failed case's card and the measurements.
    b.eval("document.getElementById('problems').scrollIntoView()")
        .expect("scroll");
    capture(&mut b, &t.path().join("report-1280x800-problems.png"));
    b.eval("document.getElementById('measurements').scrollIntoView()")
        .expect("scroll");
    capture(&mut b, &t.path().join("report-1280x800-measurements.png"));

    // 600 px wide: nothing wider than the window (the tables scroll in their own box).
    shoot(&mut b, 600, 900, &t.path().join("report-600.png"));
    let wide = b
        .eval(
            "(() => { const w = document.documentElement.clientWidth; \
             const over = Array.from(document.querySelectorAll('body *')) \
             .filter(e => { const r = e.getBoundingClientRect(); \
               return r.right > w + 1 && !e.closest('.scroll'); }) \
             .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + \
               Math.round(e.getBoundingClientRect().right)); \
             return [document.documentElement.scrollWidth, w, over]; })()",
        )
        .expect("widths");
    assert!(
        wide[0].as_f64() <= wide[1].as_f64() && wide[2].as_array().is_some_and(|a| a.is_empty()),
        "at 600 px the page overflows: scrollWidth, clientWidth, elements: {wide}"
    );
}

/// The page's text for people, without a browser: no "Run: run", no all-zero count columns,
/// no green "certified" HCL badge inside a report that is not, labels and units for people,
/// names that break between their parts, and what to do next.
#[test]
fn the_page_reads_for_people() {
    let t = tempfile::tempdir().expect("a temporary directory");
    let run = t.path().join("run");
    run_with_figures(&run);
    let out = run.join("report");
    build_report(&run, &out, None).expect("the report");
    // minijinja writes `/` as `&#x2f;`.
    let html = fs::read_to_string(out.join("report.html"))
        .expect("report.html")
        .replace("&#x2f;", "/");
    assert!(!html.contains("<dt>Run</dt><dd>run</dd>"), "Run: run");
    let comps = &html[html.find("id=\"components\"").expect("components")..];
    let comps = &comps[..comps.find("</table>").expect("its table")];
    assert!(comps.contains("<th class=\"num\">Fail</th>"), "{comps}");
    for zero in [
        "Timeout",
        "Crash",
        "Interrupted",
        "Not run",
        "Skip",
        "Error",
    ] {
        assert!(
            !comps.contains(&format!("<th class=\"num\">{zero}</th>")),
            "an all-zero column {zero}: {comps}"
        );
    }
    assert!(html.contains("<div class=\"scroll\"><table>"));
    let hcl =
        &html[html.find("id=\"hcl\"").expect("hcl")..html.find("id=\"measurements\"").expect("m")];
    assert!(
        !hcl.contains(">certified</span>"),
        "a certified badge in a report that is not certified"
    );
    assert!(
        hcl.contains("<span class=\"st neutral\">passed its cases</span>"),
        "{hcl}"
    );
    let next = &html[html.find("id=\"next\"").expect("what to do next")..];
    let next = &next[..next.find("</section>").expect("its end")];
    assert!(
        next.contains("cpu::<wbr>stress") && next.contains("Next:</span> fix what it measured")
    );
    assert!(
        next.contains("measured cpu3 at 59 % of the median"),
        "{next}"
    );
    assert!(html.find("id=\"next\"") < html.find("id=\"components\""));
    for text in [
        ">Copy</td>",
        ">11.2 GB/s</td>",
        ">STREAM array size</td>",
        ">256 MiB</td>",
        ">CPU 3 ops</td>",
        ">≥ 750 rounds/s</td>",
        ">limit ≥ 750 rounds/s</text>",
    ] {
        assert!(html.contains(text), "{text}");
    }
    assert!(!html.contains(">stream_array_bytes<") && !html.contains(">268435456<"));
    // The limit's label once per chart where it does not change.
    let card = &html[html.find("id=\"r-cpu").expect("the card")..];
    let card = &card[..card.find("</svg>").expect("its chart")];
    assert_eq!(
        card.matches(">limit ≥ 750 rounds/s</text>").count(),
        1,
        "{card}"
    );
}

/// One disk, one size and one model in `hwcert probe` and in the report (issue 21.9): a disk
/// without a model of its own (virtio's sysfs vendor is the PCI vendor ID, `0x1af4`) is named
/// from its controller's pci.ids names in both; sizes in decimal units in both.
#[test]
fn a_disk_reads_the_same_in_probe_and_in_the_report() {
    let mut b = RunBuilder::raid_sas();
    let mut inv: inventory::Inventory =
        serde_json::from_value(b.inventory.clone()).expect("the inventory");
    let pci = inv
        .pci
        .iter()
        .find(|p| p.vendor_name.is_some() && p.device_name.is_some())
        .cloned()
        .expect("a named PCI function");
    let disk = &mut inv.storage[0];
    disk.model = Some("  ".into());
    disk.vendor = Some("0x1af4".into());
    disk.pci_address = Some(pci.address.clone());
    disk.size_bytes = Some(274_877_906_944);
    let name = disk.name.clone();
    let want = format!(
        "{} {}",
        pci.vendor_name.as_deref().unwrap_or_default(),
        pci.device_name.as_deref().unwrap_or_default()
    );
    assert_eq!(
        inv.disk_model(&inv.storage[0]).as_deref(),
        Some(want.as_str())
    );
    let probe = inventory::summary::render(&inv);
    let row = probe
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .expect("the disk's row in probe");
    assert!(row.contains("275 GB") && row.contains(&want), "{row}");
    assert!(!row.contains("0x1af4"), "{row}");

    b.inventory = serde_json::to_value(&inv).expect("json");
    b.pass_the_rest();
    let t = tempfile::tempdir().expect("a temporary directory");
    let run = t.path().join("run");
    b.write(&run).expect("write the run");
    let out = run.join("report");
    build_report(&run, &out, None).expect("the report");
    let html = fs::read_to_string(out.join("report.html")).expect("report.html");
    let want_html = want.replace('&', "&amp;");
    let row = html
        .split("<tr>")
        .find(|r| r.starts_with(&format!("<td>{name}</td>")))
        .expect("the disk's row in the report");
    assert!(row.contains("<td>275 GB</td>"), "{row}");
    assert!(row.contains(&want_html), "{row}");
    assert!(!row.contains("0x1af4") && !row.contains("GiB"), "{row}");
}
