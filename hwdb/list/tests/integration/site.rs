//! The published HCL site: its files, escaping, determinism, the CSV, entry pages and their
//! history, links, the safe replace, and a headless Chromium that filters the index for real.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use documents::status::Status;
use hcl::site::{self, publish, PublishOptions, MARKER};
use hcl::{CaseResult, Certification, Entry, Key, Kind, Names, NewEntry, Store, Submission};
use testing::browser::{find_chromium, Browser};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

const EVIL: &str = "<script>alert(1)</script>";
const EVIL_SUB: &str = "</script><script>alert(2)</script>";
const EVIL_VENDOR: &str = "\"Quoted\" & 'single', Inc.";
const EVIL_DRIVER: &str = "=cmd|' /C calc'!A0";
/// What a submitter appended to report.html and report.md (unsigned files).
const INJECTED: &str = "<script>alert('injected')</script>";

fn cert(sha: &str, date: &str, kernel: &str) -> Certification {
    Certification {
        report_sha256: sha.to_string(),
        date: date.into(),
        added: String::new(),
        profile: "standard".into(),
        signed_by: "lab@example.com".into(),
        signing_key: testing::synth::lab_key("lab@example.com")
            .fingerprint
            .clone(),
        tool_version: "0.1.0".into(),
        os: Some("OpenCloudOS 9.2".into()),
        kernel: Some(kernel.into()),
        driver: Some(EVIL_DRIVER.into()),
        driver_version: Some("+1.2.3".into()),
        firmware: Some("@fw 7".into()),
        system: Some("ACME <b>Server</b> \u{2028}X".into()),
        details: BTreeMap::from([("pci_address".into(), "0000:3b:00.0".into())]),
        cases: vec![
            CaseResult {
                name: "pci::driver_bound::0000:3b:00.0".into(),
                status: Status::Pass,
                blocker: true,
            },
            CaseResult {
                name: "network::iperf::<eth0>".into(),
                status: Status::Skip,
                blocker: false,
            },
        ],
        revocation: None,
    }
}

/// A report of one hostile component and one hostile system, its files in the store.
fn hostile(sha_seed: &str, date: &str, kernel: &str) -> Submission {
    let run = 1_000_000 + u64::from(sha_seed.as_bytes()[0]);
    let report_json =
        testing::synth::report_json(run, date, "9.2", "x86_64", "ACME <b>Server</b>", 2);
    let sha = reports::sha256_hex(report_json.as_bytes());
    let nic = NewEntry {
        key: Key::pci(
            "8086",
            "1572",
            Some(("8086", "0001")),
            "opencloudos",
            "9.2",
            "x86_64",
        )
        .expect("key"),
        names: Names {
            vendor: Some(EVIL_VENDOR.into()),
            name: Some(EVIL.into()),
            subsystem_vendor: Some("Intel".into()),
            subsystem: Some(EVIL_SUB.into()),
            class_id: Some("020000".into()),
            class: Some("Ethernet controller".into()),
        },
        certification: cert(&sha, date, kernel),
    };
    let sys = NewEntry {
        key: Key::system(
            "ACME <Corp>",
            "Model \"X\" </script>",
            "opencloudos",
            "9.2",
            "x86_64",
        )
        .expect("key"),
        names: Names {
            vendor: Some("ACME <Corp>".into()),
            name: Some("Model \"X\" </script>".into()),
            class: Some("System".into()),
            ..Names::default()
        },
        certification: Certification {
            driver: None,
            driver_version: None,
            ..cert(&sha, date, kernel)
        },
    };
    Submission {
        report_sha256: sha,
        report_files: vec![
            ("report.json".into(), report_json.clone().into_bytes()),
            (
                "report.json.sig".into(),
                testing::synth::lab_key("lab@example.com")
                    .sign(&report_json)
                    .expect("sign"),
            ),
            // What an older hwcert kept of a tampered submission: never published.
            (
                "report.html".into(),
                format!("<!DOCTYPE html><title>r</title>{INJECTED}").into_bytes(),
            ),
            (
                "report.md".into(),
                format!("# r\n{INJECTED}\n").into_bytes(),
            ),
        ],
        entries: vec![nic, sys],
    }
}

/// A store of `n` synthetic entries plus the hostile two, certified three times.
fn store(dir: &Path, n: usize) -> Store {
    testing::synth::generate(dir, n, 2).expect("a synthetic store");
    let st = Store::open(dir).expect("the store");
    st.add(
        &hostile("b", "2026-02-01T10:00:00Z", "6.6.47-12.oc9.x86_64"),
        "2026-02-02T00:00:00Z",
    )
    .expect("add");
    st.add(
        &hostile("c", "2026-03-01T10:00:00Z", "6.6.52-14.oc9.x86_64"),
        "2026-03-02T00:00:00Z",
    )
    .expect("add");
    st.add(
        &hostile("a", "2025-12-01T10:00:00Z", "6.6.6-1.oc9.x86_64"),
        "2026-03-03T00:00:00Z",
    )
    .expect("add");
    st
}

fn opts(threads: usize) -> PublishOptions {
    PublishOptions {
        threads,
        ..PublishOptions::default()
    }
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under").to_path_buf();
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    out
}

fn hostile_nic_id() -> String {
    Key::pci(
        "8086",
        "1572",
        Some(("8086", "0001")),
        "opencloudos",
        "9.2",
        "x86_64",
    )
    .expect("key")
    .id()
}

/// data/index.js's object: the index's manifest.
fn index_data(site: &Path) -> Value {
    let js = read(&site.join("data/index.js"));
    let start =
        js.find("window.HCL_INDEX = ").expect("the assignment") + "window.HCL_INDEX = ".len();
    let body = js[start..].trim_end().trim_end_matches(';');
    serde_json::from_str(body).expect("index.js holds JSON")
}

/// The index's shards' objects, in the manifest's order.
pub(crate) fn shard_data(site: &Path) -> Vec<Value> {
    let d = index_data(site);
    d["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|s| {
            let name = s[0].as_str().expect("a shard's name");
            let js = read(&site.join("data").join(name));
            let start = js.find("window.HCL_SHARD(").expect("the call") + "window.HCL_SHARD(".len();
            let body = js[start..]
                .trim_end()
                .trim_end_matches(';')
                .trim_end_matches(')');
            let v: Value = serde_json::from_str(body).expect("a shard holds JSON");
            assert_eq!(v["n"], s[1], "{name}: its rows as the manifest says");
            v
        })
        .collect()
}

/// report.html and report.md of a report.json as a site must publish them: rendered by the
/// suite's renderer, with the site's policy and stylesheet, signed by `key`.
fn fresh_render(json: &[u8], key: &str) -> (String, String) {
    let r: documents::report::Report = serde_json::from_slice(json).expect("a report");
    let opts = reports::render::PageOptions {
        csp: Some(site::CSP),
        stylesheet: Some("../../assets/report.css"),
    };
    reports::render::Renderer::new()
        .expect("renderer")
        .pages(&r, None, Some(key), opts)
        .expect("pages")
}

#[test]
fn the_site_has_every_file() {
    let t = tmp();
    let st = store(&t.path().join("db"), 300);
    let out = t.path().join("site");
    let s = publish(&st, &out, &opts(2)).expect("publish");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let (entries, _) = st.entries(2).expect("entries");
    assert_eq!(s.systems + s.components, entries.len());
    assert_eq!(
        s.systems,
        entries.iter().filter(|e| e.kind == Kind::System).count()
    );
    assert_eq!(s.out, out);
    for f in [
        "index.html",
        "data/index.js",
        "assets/hcl.css",
        "assets/hcl.js",
        "assets/report.css",
        "hcl.json",
        "hcl.csv",
        MARKER,
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(
        read(&out.join("assets/report.css")),
        reports::render::REPORT_CSS
    );
    let shas: BTreeMap<&str, &str> = entries
        .iter()
        .flat_map(|e| {
            e.certifications
                .iter()
                .map(|c| (c.report_sha256.as_str(), c.signing_key.as_str()))
        })
        .collect();
    assert_eq!(s.reports, shas.len());
    for (sha, key) in &shas {
        // What was signed, as the store holds it.
        for f in ["report.json", "report.json.sig"] {
            let p = out.join("reports").join(sha).join(f);
            assert_eq!(
                fs::read(&p).expect("a report file"),
                fs::read(st.report_dir(sha).join(f)).expect("the store's"),
                "{}",
                p.display()
            );
        }
        // The pages: rendered from it, never the store's.
        let json = fs::read(st.report_dir(sha).join("report.json")).expect("report.json");
        let (html, md) = fresh_render(&json, key);
        let dir = out.join("reports").join(sha);
        assert_eq!(read(&dir.join("report.html")), html, "{sha}");
        assert_eq!(read(&dir.join("report.md")), md, "{sha}");
        assert!(!html.contains(INJECTED) && !md.contains(INJECTED));
    }
    // Every page: the index, the entry pages, the reports' pages.
    let pages = crate::site_reports::assert_every_page_has_the_policy(&out);
    assert_eq!(pages, 1 + entries.len() + shas.len());
    for e in &entries {
        assert!(
            out.join("entries").join(format!("{}.html", e.id)).is_file(),
            "{}",
            e.id
        );
        // Its whole history, as the store holds it, beside its page.
        assert_eq!(
            fs::read(out.join("entries").join(format!("{}.json", e.id))).expect("the document"),
            fs::read(st.entry_path(e.kind, &e.id)).expect("the store's"),
            "{}",
            e.id
        );
    }
    // hcl.json: every entry in full, as the store holds it.
    let doc: Value =
        serde_json::from_slice(&fs::read(out.join("hcl.json")).expect("json")).expect("JSON");
    assert_eq!(doc["schema"], "hwcert.hcl-site/1");
    assert_eq!(doc["counts"]["entries"], entries.len());
    assert_eq!(doc["counts"]["systems"], s.systems);
    assert_eq!(doc["counts"]["components"], s.components);
    assert_eq!(doc["counts"]["reports"], s.reports);
    assert_eq!(doc["as_of"], "2026-03-01");
    let back: Vec<Entry> = serde_json::from_value(doc["entries"].clone()).expect("entries");
    assert_eq!(back, entries);
    // The index: the first page of rows in the HTML, every row in the data.
    let html = read(&out.join("index.html"));
    assert_eq!(html.matches("<tr><td>").count(), 100);
    assert!(
        html.contains(&format!("1–100 of {} entries", entries.len())),
        "the count"
    );
    assert!(html.contains("as of 2026-03-01"));
    assert!(html.contains("<noscript>") && html.contains("href=\"hcl.csv\""));
    assert!(html.contains("<caption>") && html.contains("aria-live=\"polite\""));
    for id in ["f-q", "f-kind", "f-arch", "f-rel", "f-vendor", "f-class"] {
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "a label for {id}"
        );
    }
    let d = index_data(&out);
    assert_eq!(d["n"], entries.len());
    assert_eq!(d["schema"], site::INDEX_SCHEMA);
    let shards = shard_data(&out);
    assert_eq!(shards.len(), entries.len().div_ceil(5000));
    let sum = |f: &dyn Fn(&Value) -> usize| shards.iter().map(f).sum::<usize>();
    assert_eq!(
        sum(&|s| s["n"].as_u64().expect("n") as usize),
        entries.len()
    );
    // Only the IDs the script cannot put together (systems') are in the data.
    assert_eq!(sum(&|s| s["id"].as_array().expect("ids").len()), s.systems);
    assert_eq!(
        sum(&|s| s["kind"].as_str().expect("kinds").len()),
        entries.len()
    );
    // The current state only: one row per entry, no history.
    for sh in &shards {
        assert!(sh["c"]["rev"].is_array(), "a revocation column");
        assert!(sh.get("certifications").is_none());
    }
    let facets = |k: &str| -> Vec<String> {
        d["f"][k]
            .as_array()
            .expect("facet")
            .iter()
            .map(|f| f[0].as_str().expect("a value").to_string())
            .collect()
    };
    assert_eq!(facets("arch"), ["aarch64", "x86_64"]);
    let rels = facets("rel");
    assert_eq!(rels.first().map(String::as_str), Some("opencloudos 8.6"));
    assert_eq!(rels.last().map(String::as_str), Some("opencloudos 9.4"));
    let p8_10 = rels
        .iter()
        .position(|r| r == "opencloudos 8.10")
        .expect("8.10");
    let p8_8 = rels
        .iter()
        .position(|r| r == "opencloudos 8.8")
        .expect("8.8");
    assert!(p8_8 < p8_10, "versions in order: {rels:?}");
    assert!(facets("vendor").len() > 10);
    assert!(facets("class").contains(&"Ethernet controller".to_string()));
    // No temporary directories left beside the site.
    assert_no_leftovers(t.path());
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let t = tmp();
    let st = store(&t.path().join("db"), 20);
    let out = t.path().join("site");
    publish(&st, &out, &opts(1)).expect("publish");
    let nic = read(
        &out.join("entries")
            .join(format!("{}.html", hostile_nic_id())),
    );
    for page in [read(&out.join("index.html")), nic.clone()] {
        assert!(!page.contains("<script>alert"), "raw markup from a name");
        assert!(!page.contains("<b>Server"), "raw markup from a name");
        assert!(!page.contains("</script><script>"));
    }
    assert!(
        nic.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name, escaped"
    );
    assert!(nic.contains("&quot;Quoted&quot; &amp; &#39;single&#39;, Inc."));
    assert!(nic.contains("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(nic.contains("network::iperf::&lt;eth0&gt;"));
    // Our two scripts are the only ones in the index; entry pages have none.
    let index = read(&out.join("index.html"));
    assert_eq!(index.matches("<script").count(), 2);
    assert_eq!(nic.matches("<script").count(), 0);
    // The system's page is named by its slugged ID, and its name is escaped.
    let (entries, _) = st.entries(1).expect("entries");
    let sys = entries
        .iter()
        .find(|e| e.key.system_vendor.as_deref() == Some("ACME <Corp>"))
        .expect("the hostile system");
    assert!(site::is_safe_name(&sys.id), "{}", sys.id);
    let page = read(&out.join("entries").join(format!("{}.html", sys.id)));
    assert!(page.contains("Model &quot;X&quot; &lt;/script&gt;"));
    assert!(!page.contains("</script>"));
    // The script data: no `<`, no raw U+2028, and the names come back exactly.
    for f in fs::read_dir(out.join("data")).expect("data/") {
        let js = read(&f.expect("file").path());
        assert!(
            !js.contains('<') && !js.contains('\u{2028}'),
            "escaped for a script"
        );
    }
    let shards = shard_data(&out);
    let strings: Vec<&str> = shards
        .iter()
        .flat_map(|d| d["s"].as_array().expect("s").iter())
        .filter_map(Value::as_str)
        .collect();
    for s in [
        EVIL,
        EVIL_SUB,
        "ACME <Corp>",
        "ACME <b>Server</b> \u{2028}X",
    ] {
        assert!(
            strings.iter().any(|x| x.contains(s)),
            "{s} in the string table"
        );
    }
}

/// Fields of an RFC 4180 document.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {
                    assert_eq!(chars.next(), Some('\n'), "CRLF");
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                '\n' => panic!("a bare LF outside quotes"),
                c => field.push(c),
            }
        }
    }
    assert!(
        row.is_empty() && field.is_empty(),
        "the last line ends with CRLF"
    );
    rows
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let t = tmp();
    let st = store(&t.path().join("db"), 50);
    let out = t.path().join("site");
    publish(&st, &out, &opts(2)).expect("publish");
    let csv = read(&out.join("hcl.csv"));
    let rows = parse_csv(&csv);
    let (entries, _) = st.entries(1).expect("entries");
    assert_eq!(rows.len(), entries.len() + 1);
    assert_eq!(
        rows[0].join(","),
        "id,kind,vendor_id,device_id,subsystem_vendor_id,subsystem_device_id,vendor,name,class,\
         os_id,os_version_id,arch,kernel,driver,driver_version,firmware,date,profile,signed_by,\
         report_sha256,page,revoked,revocation_reason"
    );
    assert!(rows.iter().all(|r| r.len() == 23));
    let id = hostile_nic_id();
    let r = rows.iter().find(|r| r[0] == id).expect("the hostile row");
    let col = |name: &str| rows[0].iter().position(|c| c == name).expect("a column");
    assert_eq!(r[col("kind")], "component");
    assert_eq!(r[col("vendor_id")], "8086");
    assert_eq!(r[col("subsystem_device_id")], "0001");
    assert_eq!(r[col("vendor")], EVIL_VENDOR);
    assert_eq!(r[col("name")], EVIL);
    assert_eq!(r[col("driver")], format!("'{EVIL_DRIVER}"));
    assert_eq!(r[col("driver_version")], "'+1.2.3");
    assert_eq!(r[col("firmware")], "'@fw 7");
    // The current certification: the newest.
    assert_eq!(r[col("date")], "2026-03-01T10:00:00Z");
    assert_eq!(r[col("kernel")], "6.6.52-14.oc9.x86_64");
    assert_eq!(r[col("page")], format!("entries/{id}.html"));
    assert!(out.join(&r[col("page")]).is_file());
    // No cell a spreadsheet would run.
    for row in &rows[1..] {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "{cell} starts a formula"
            );
        }
    }
    assert!(csv.contains(&format!(",\"{}\",", EVIL_VENDOR.replace('"', "\"\""))));
}

#[test]
fn the_same_store_makes_the_same_site() {
    let t = tmp();
    let st = store(&t.path().join("db"), 400);
    let a = t.path().join("a");
    let b = t.path().join("b");
    publish(&st, &a, &opts(1)).expect("publish a");
    publish(&st, &b, &opts(3)).expect("publish b");
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.len(), tb.len());
    for (p, bytes) in &ta {
        assert!(tb.get(p) == Some(bytes), "{} differs", p.display());
    }
    // Publishing again over it gives the same bytes too.
    publish(&st, &a, &opts(2)).expect("again");
    assert!(tree(&a) == ta, "republished site differs");
}

#[test]
fn entry_pages_show_the_current_certification_and_the_history() {
    let t = tmp();
    let st = store(&t.path().join("db"), 10);
    let out = t.path().join("site");
    publish(&st, &out, &opts(2)).expect("publish");
    let (entries, _) = st.entries(1).expect("entries");
    let e = entries
        .iter()
        .find(|e| e.id == hostile_nic_id())
        .expect("entry");
    assert_eq!(e.certifications.len(), 3);
    let page = read(&out.join("entries").join(format!("{}.html", e.id)));
    // The current certification, then the history newest first.
    let cur = page.find("id=\"current\"").expect("current");
    let hist = page.find("id=\"history\"").expect("history");
    assert!(cur < hist);
    let current = &page[cur..hist];
    assert!(current.contains("2026-03-01T10:00:00Z"));
    assert!(current.contains("6.6.52-14.oc9.x86_64"));
    assert!(
        current.contains("=cmd|&#39; /C calc&#39;!A0 +1.2.3"),
        "driver and version"
    );
    assert!(current.contains("@fw 7"));
    assert!(
        current.contains("ACME &lt;b&gt;Server&lt;/b&gt;"),
        "tested in"
    );
    assert!(current.contains(&testing::synth::lab_key("lab@example.com").fingerprint));
    assert!(current.contains("lab@example.com"));
    assert!(current.contains(&e.certifications[0].report_sha256));
    assert!(current.contains("1 of 2 passed, 1 skipped"));
    let sha = &e.certifications[0].report_sha256;
    for f in ["report.html", "report.json", "report.json.sig"] {
        assert!(
            current.contains(&format!("href=\"../reports/{sha}/{f}\"")),
            "a link to {f}"
        );
    }
    assert!(current.contains(
        "ssh-keygen -Y verify -f allowed_signers -I lab@example.com -n hwcert-report -s report.json.sig &lt; report.json"
    ));
    let history = &page[hist..];
    let dates: Vec<usize> = ["2026-03-01", "2026-02-01", "2025-12-01"]
        .iter()
        .map(|d| {
            history
                .find(&format!("<td class=\"date\">{d}</td>"))
                .expect(d)
        })
        .collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "newest first");
    for c in &e.certifications {
        assert!(history.contains(&format!("../reports/{}/report.html", c.report_sha256)));
    }
    assert!(page.contains("href=\"../index.html\""), "back to the index");
    assert!(page.contains("<code>8086</code>") && page.contains("<code>020000</code>"));
}

/// `href` and `src` values of a page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').expect("a closing quote");
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn every_link_resolves_and_nothing_is_external() {
    let t = tmp();
    let st = store(&t.path().join("db"), 300);
    // One report the store has lost: a warning, and no link to it.
    let (entries, _) = st.entries(1).expect("entries");
    let lost = entries
        .iter()
        .find(|e| e.kind == Kind::Component && e.id != hostile_nic_id())
        .map(|e| e.certifications[0].report_sha256.clone())
        .expect("a report");
    fs::remove_dir_all(st.report_dir(&lost)).expect("remove a report");
    let out = t.path().join("site");
    let s = publish(&st, &out, &opts(2)).expect("publish");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains(&lost), "{:?}", s.warnings);
    assert!(!out.join("reports").join(&lost).exists());
    let mut pages = vec![out.join("index.html")];
    for e in fs::read_dir(out.join("entries")).expect("entries") {
        pages.push(e.expect("entry").path());
    }
    let mut checked = 0;
    for page in &pages {
        let html = read(page);
        let dir = page.parent().expect("dir");
        for l in links(&html) {
            assert!(
                !l.contains("://") && !l.starts_with("//") && !l.starts_with("data:"),
                "{}: external link {l}",
                page.display()
            );
            let path = l.split('#').next().unwrap_or("");
            if path.is_empty() {
                continue;
            }
            let target = dir.join(percent_decode(path));
            assert!(target.exists(), "{}: {l} does not exist", page.display());
            checked += 1;
        }
    }
    assert!(checked > pages.len() * 5, "{checked} links checked");
    // The stylesheet and the script fetch nothing either.
    for f in ["assets/hcl.css", "assets/hcl.js"] {
        let s = read(&out.join(f));
        assert!(
            !s.contains("http:") && !s.contains("https:") && !s.contains("@import"),
            "{f}"
        );
    }
}

#[test]
fn a_directory_that_is_not_a_site_is_never_replaced() {
    let t = tmp();
    let st = store(&t.path().join("db"), 10);
    // Someone's directory.
    let theirs = t.path().join("theirs");
    fs::create_dir(&theirs).expect("mkdir");
    fs::write(theirs.join("precious.txt"), b"keep me").expect("write");
    let err = publish(&st, &theirs, &opts(1)).expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains("not a site hwcert published"), "{msg}");
    assert!(msg.contains("theirs"), "{msg}");
    assert_eq!(
        fs::read(theirs.join("precious.txt")).expect("kept"),
        b"keep me"
    );
    // A file.
    let file = t.path().join("file");
    fs::write(&file, b"x").expect("write");
    assert!(publish(&st, &file, &opts(1)).is_err());
    assert_eq!(fs::read(&file).expect("kept"), b"x");
    // The store itself.
    assert!(publish(&st, st.root(), &opts(1)).is_err());
    // An empty directory is fine, and so is our own site, which holds only what publishing
    // writes afterwards.
    let site = t.path().join("site");
    fs::create_dir(&site).expect("mkdir");
    publish(&st, &site, &opts(1)).expect("into an empty directory");
    fs::write(site.join("stray.txt"), b"from before").expect("write");
    publish(&st, &site, &opts(2)).expect("again");
    assert!(
        !site.join("stray.txt").exists(),
        "what publishing did not write is gone"
    );
    assert!(site.join(MARKER).is_file());
    assert!(site.join("index.html").is_file());
    // A parent that does not exist.
    let err = publish(&st, &t.path().join("no/such/dir/site"), &opts(1)).expect_err("no parent");
    assert!(err.to_string().contains("no such directory"), "{err}");
    assert_no_leftovers(t.path());
}

/// No temporary directories (or other hidden files) left beside the sites in `dir`.
fn assert_no_leftovers(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary directories left: {left:?}");
}

/// Inode of every page in a site (entries/*.html; each entry's document beside it is not a
/// page).
fn page_inodes(site: &Path) -> BTreeMap<String, u64> {
    use std::os::unix::fs::MetadataExt;
    fs::read_dir(site.join("entries"))
        .expect("entries/")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().expect("stat").ino(),
            )
        })
        .filter(|(n, _)| n.ends_with(".html"))
        .collect()
}

/// The same files with the same bytes, and no others.
fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let (ka, kb): (BTreeSet<_>, BTreeSet<_>) = (ta.keys().collect(), tb.keys().collect());
    assert_eq!(
        ka.symmetric_difference(&kb).collect::<Vec<_>>(),
        Vec::<&&PathBuf>::new(),
        "files in one site only"
    );
    for (p, bytes) in &ta {
        assert!(tb.get(p) == Some(bytes), "{} differs", p.display());
    }
}

#[test]
fn publishing_over_a_site_changes_only_what_changed() {
    let t = tmp();
    let st = store(&t.path().join("db"), 300);
    let site = t.path().join("site");
    let s = publish(&st, &site, &opts(2)).expect("first");
    assert!(!s.in_place);
    assert_eq!((s.pages_written, s.pages_unchanged, s.removed), (302, 0, 0));
    let before = page_inodes(&site);
    assert_eq!(before.len(), 302);

    // Nothing changed: nothing is written, nothing removed.
    let s = publish(&st, &site, &opts(2)).expect("again");
    assert!(s.in_place);
    assert_eq!((s.pages_written, s.pages_unchanged, s.removed), (0, 302, 0));
    assert_eq!(page_inodes(&site), before);

    // The store changes: the hostile pair certified again (a new report), one entry withdrawn.
    st.add(
        &hostile("d", "2026-04-01T10:00:00Z", "6.6.60-1.oc9.x86_64"),
        "2026-04-02T00:00:00Z",
    )
    .expect("add");
    let nic = hostile_nic_id();
    let gone = before
        .keys()
        .find(|p| p.starts_with("pci-") && **p != format!("{nic}.html"))
        .expect("a component")
        .trim_end_matches(".html")
        .to_string();
    fs::remove_file(st.entry_path(Kind::Component, &gone)).expect("withdraw");
    // And the site gathered what publishing would not write: a stray file, a leftover of a
    // killed publish, a report no entry cites, a stale data file, a page that became a
    // directory.
    fs::write(site.join("stray.txt"), b"x").expect("write");
    fs::write(site.join("entries/.x.html.publish-99999"), b"half").expect("write");
    let uncited = site.join("reports").join("ab".repeat(32));
    fs::create_dir(&uncited).expect("mkdir");
    fs::write(uncited.join("report.json"), b"{}").expect("write");
    fs::write(site.join("data/old.js"), b"x").expect("write");
    let dir_page = before.keys().rev().nth(3).expect("a page").clone();
    fs::remove_file(site.join("entries").join(&dir_page)).expect("rm");
    fs::create_dir_all(site.join("entries").join(&dir_page).join("sub")).expect("mkdir");

    let s = publish(&st, &site, &opts(2)).expect("update");
    assert!(s.in_place);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // The two re-certified entries' pages and the one that was a directory are written;
    // the rest are not, and keep their files.
    assert_eq!((s.pages_written, s.pages_unchanged), (3, 298));
    // The withdrawn page and its document, the stray, the leftover, the uncited report, the
    // stale data file, and the index's shard its rows changed (a new one replaces it).
    assert_eq!(s.removed, 7);
    assert!(!site.join("entries").join(format!("{gone}.json")).exists());
    assert_eq!(fs::read_dir(site.join("data")).expect("data/").count(), 2);
    let after = page_inodes(&site);
    let sys_page = before
        .keys()
        .find(|p| p.starts_with("sys-") && p.contains("acme"))
        .expect("the hostile system")
        .clone();
    for (p, ino) in &before {
        if *p == format!("{gone}.html") {
            assert!(!after.contains_key(p), "{p} was withdrawn");
        } else if *p == dir_page {
            // (Its inode may be the one freed when it was removed.)
            assert!(
                site.join("entries").join(p).is_file(),
                "{p} is a page again"
            );
        } else if *p == format!("{nic}.html") || *p == sys_page {
            assert_ne!(after.get(p), Some(ino), "{p} was written again");
        } else {
            assert_eq!(after.get(p), Some(ino), "{p} should be untouched");
        }
    }
    let nic_page = read(&site.join("entries").join(format!("{nic}.html")));
    assert!(
        nic_page.contains("2026-04-01"),
        "the new certification is shown"
    );
    // The site is what publishing the store anew makes, byte for byte.
    let fresh = t.path().join("fresh");
    publish(&st, &fresh, &opts(1)).expect("fresh");
    assert_same_tree(&site, &fresh);
}

#[test]
fn publishes_into_one_site_at_once_take_turns() {
    let t = tmp();
    let st = store(&t.path().join("db"), 200);
    let site = t.path().join("site");
    // Two first publishes at once, then two over the site at once, the store changed between.
    for round in 0..2 {
        if round == 1 {
            st.add(
                &hostile("e", "2026-05-01T10:00:00Z", "6.6.61-1.oc9.x86_64"),
                "2026-05-02T00:00:00Z",
            )
            .expect("add");
        }
        std::thread::scope(|s| {
            let a = s.spawn(|| publish(&st, &site, &opts(1)));
            let b = s.spawn(|| publish(&st, &site, &opts(2)));
            for h in [a, b] {
                let r = h.join().expect("no panic").expect("publish");
                assert!(r.warnings.is_empty(), "{:?}", r.warnings);
            }
        });
        let fresh = t.path().join(format!("fresh{round}"));
        publish(&st, &fresh, &opts(1)).expect("fresh");
        assert_same_tree(&site, &fresh);
    }
    assert_no_leftovers(t.path());
}

#[test]
fn publishing_in_place_never_writes_through_a_link() {
    let t = tmp();
    let st = store(&t.path().join("db"), 20);
    let site = t.path().join("site");
    publish(&st, &site, &opts(1)).expect("first");
    // Someone's directory, and the site's entries/ and a report made links to it.
    let theirs = t.path().join("theirs");
    fs::create_dir(&theirs).expect("mkdir");
    fs::write(theirs.join("precious.txt"), b"keep me").expect("write");
    fs::remove_dir_all(site.join("entries")).expect("rm");
    std::os::unix::fs::symlink(&theirs, site.join("entries")).expect("symlink");
    let report = fs::read_dir(site.join("reports"))
        .expect("reports/")
        .next()
        .expect("a report")
        .expect("entry")
        .path();
    fs::remove_dir_all(&report).expect("rm");
    std::os::unix::fs::symlink(&theirs, &report).expect("symlink");
    // And a killed publish left its temporary directory behind.
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let dead = child.id();
    child.wait().expect("wait");
    let leftover = t.path().join(format!(".site.publish-{dead}"));
    fs::create_dir_all(leftover.join("entries")).expect("mkdir");

    let s = publish(&st, &site, &opts(2)).expect("update");
    assert!(s.in_place);
    let names: Vec<_> = fs::read_dir(&theirs)
        .expect("theirs")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        ["precious.txt"],
        "nothing written into their directory"
    );
    assert_eq!(
        fs::read(theirs.join("precious.txt")).expect("kept"),
        b"keep me"
    );
    assert!(!fs::symlink_metadata(site.join("entries"))
        .expect("stat")
        .is_symlink());
    assert!(!fs::symlink_metadata(&report).expect("stat").is_symlink());
    assert!(
        !leftover.exists(),
        "the killed publish's directory is removed"
    );
    let fresh = t.path().join("fresh");
    publish(&st, &fresh, &opts(1)).expect("fresh");
    assert_same_tree(&site, &fresh);

    // A page made a link to their copy of it (the same bytes): replaced by a file of the
    // site's own, their copy left as it was.
    let page = fs::read_dir(site.join("entries"))
        .expect("entries/")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("a page");
    let copy = theirs.join("copy.html");
    fs::copy(&page, &copy).expect("copy");
    fs::remove_file(&page).expect("rm");
    std::os::unix::fs::symlink(&copy, &page).expect("symlink");
    let s = publish(&st, &site, &opts(2)).expect("again");
    assert_eq!(s.pages_written, 1);
    assert!(fs::symlink_metadata(&page).expect("stat").is_file());
    assert_eq!(
        fs::read(&copy).expect("theirs"),
        fs::read(&page).expect("ours")
    );
    assert_same_tree(&site, &fresh);
}

#[test]
fn an_empty_store_makes_a_site_that_says_so() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let out = t.path().join("site");
    let s = publish(&st, &out, &PublishOptions::default()).expect("publish");
    assert_eq!((s.systems, s.components, s.reports), (0, 0, 0));
    assert!(s.warnings.is_empty());
    let html = read(&out.join("index.html"));
    assert!(html.contains("There are no entries in this list yet."));
    assert!(html.contains("No systems or components have been certified yet."));
    let doc: Value = serde_json::from_str(&read(&out.join("hcl.json"))).expect("JSON");
    assert_eq!(doc["entries"], serde_json::json!([]));
    assert_eq!(doc["counts"]["entries"], 0);
    assert_eq!(parse_csv(&read(&out.join("hcl.csv"))).len(), 1);
    assert_eq!(index_data(&out)["n"], 0);
    assert_eq!(fs::read_dir(out.join("entries")).expect("dir").count(), 0);
}

#[test]
fn bad_entry_files_are_warnings_and_the_rest_is_published() {
    let t = tmp();
    let st = store(&t.path().join("db"), 30);
    let comp = st.root().join("components");
    fs::write(comp.join("garbage.json"), b"{ not json").expect("write");
    // An entry whose ID would be a path: consistent with its key, so the store reads it.
    let (entries, _) = st.entries(1).expect("entries");
    let mut e = entries
        .iter()
        .find(|e| e.kind == Kind::Component)
        .expect("a component")
        .clone();
    e.key.bus = Some("../../evil".into());
    e.id = e.key.id();
    fs::write(comp.join("evil.json"), e.to_file_bytes()).expect("write");
    let out = t.path().join("site");
    let s = publish(&st, &out, &opts(2)).expect("publish");
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(
        s.warnings.iter().any(|w| w.contains("garbage.json")),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("not a plain file name")),
        "{:?}",
        s.warnings
    );
    assert_eq!(s.systems + s.components, entries.len());
    assert!(!t.path().join("evil-8086").exists());
    let names: Vec<String> = fs::read_dir(out.join("entries"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    // A page and the entry's document per entry.
    assert_eq!(names.len(), 2 * entries.len());
    assert!(names.iter().all(|n| site::is_safe_name(n)));
}

// --- In a browser ---------------------------------------------------------------------------

/// A browser on the site's index, or `None` (with a message) without chromium.
fn browser(t: &Path, site: &Path) -> Option<Browser> {
    let Some(chromium) = find_chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return None;
    };
    let mut b = Browser::start(&chromium, &t.join("profile"), Duration::from_secs(60))
        .expect("start chromium");
    let url = format!("file://{}", site.join("index.html").display());
    b.navigate(&url).expect("open the index");
    b.wait_for("document.documentElement.dataset.ready === '1'")
        .expect("the script ran");
    Some(b)
}

fn text_of(b: &mut Browser, id: &str) -> String {
    b.eval(&format!("document.getElementById('{id}').textContent"))
        .expect("eval")
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The visible rows' cells.
fn rows(b: &mut Browser) -> Vec<Vec<String>> {
    let v = b
        .eval("Array.from(document.querySelectorAll('#rows tr')).map(tr => Array.from(tr.cells).map(td => td.textContent))")
        .expect("rows");
    serde_json::from_value(v).expect("rows of strings")
}

/// Wait until the script has applied one more change than `before`.
fn updated(b: &mut Browser, before: u64) {
    b.wait_for(&format!("window.HCL_STATS.updates > {before}"))
        .expect("the table updates");
}

fn updates(b: &mut Browser) -> u64 {
    b.eval("window.HCL_STATS.updates")
        .expect("stats")
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_browser_filters_the_table_as_you_type() {
    let t = tmp();
    let st = store(&t.path().join("db"), 300);
    let site_dir = t.path().join("site");
    publish(&st, &site_dir, &opts(2)).expect("publish");
    let Some(mut b) = browser(t.path(), &site_dir) else {
        return;
    };
    let total = 302;
    assert_eq!(
        text_of(&mut b, "count"),
        format!("1–100 of {total} entries")
    );
    assert_eq!(rows(&mut b).len(), 100);
    // The rows the script renders are the rows the HTML had, in the same order.
    let html = read(&site_dir.join("index.html"));
    let served: Vec<String> = links(&html)
        .into_iter()
        .filter(|l| l.starts_with("entries/"))
        .collect();
    let rendered: Vec<String> = serde_json::from_value(
        b.eval("Array.from(document.querySelectorAll('#rows a')).map(a => a.getAttribute('href'))")
            .expect("hrefs"),
    )
    .expect("strings");
    assert_eq!(served, rendered);

    // Type, key by key, into the search box: the table narrows to what matches.
    b.eval("document.getElementById('f-q').focus()")
        .expect("focus");
    let before = updates(&mut b);
    b.type_text("aarch64").expect("type");
    updated(&mut b, before);
    b.wait_for(
        "document.getElementById('f-q').value === 'aarch64' && window.HCL_STATS.updates > 0",
    )
    .expect("typed");
    b.wait_for("!document.getElementById('count').textContent.startsWith('1–100 of 302 entries')")
        .expect("the count changes");
    // Each key press updates the table (the count changes at the first, "a"): wait for the
    // update of the whole word before reading the rows (on a loaded machine the rows of "aa"
    // or "aar" can still be there when the count first changes).
    b.wait_for(
        "(() => { const r = Array.from(document.querySelectorAll('#rows tr')); \
         return r.length > 0 && r.every(tr => tr.cells[6] && tr.cells[6].textContent === 'aarch64'); })()",
    )
    .expect("the rows of the whole word");
    let shown = rows(&mut b);
    assert!(!shown.is_empty() && shown.len() <= 100);
    assert!(shown.iter().all(|r| r[6] == "aarch64"), "{shown:?}");
    let count = text_of(&mut b, "count");
    assert!(count.contains("matching (302 in all)"), "{count}");
    let n_arm: usize = count
        .split(" of ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("a number");
    assert!(n_arm < total, "{count}");

    // Two words must both match: a vendor's name and the architecture.
    let vendor = shown[0][1]
        .split_whitespace()
        .next()
        .expect("a vendor word")
        .to_lowercase();
    let before = updates(&mut b);
    b.type_text(&format!(" {vendor}")).expect("type");
    updated(&mut b, before);
    b.wait_for(&format!(
        "document.getElementById('f-q').value === 'aarch64 {vendor}'"
    ))
    .expect("typed");
    b.wait_for("window.HCL_STATS.updates > 0").expect("stats");
    // The debounce may have applied an intermediate query: wait for the final one.
    b.wait_for(&format!(
        "decodeURIComponent(location.hash.replace(/\\+/g, ' ')).includes('q=aarch64 {vendor}')"
    ))
    .expect("the final query applied");
    let narrowed = rows(&mut b);
    assert!(!narrowed.is_empty());
    assert!(narrowed.iter().all(|r| r[6] == "aarch64"), "{narrowed:?}");
    let count = text_of(&mut b, "count");
    let n_both: usize = count
        .split(" of ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("a number");
    assert!(n_both <= n_arm && narrowed.len() <= shown.len(), "{count}");

    // A select: systems only. The view is in the URL.
    let before = updates(&mut b);
    b.eval("(() => { const s = document.getElementById('f-kind'); s.value = 'system'; s.dispatchEvent(new Event('change')); })()")
        .expect("select");
    updated(&mut b, before);
    let sys = rows(&mut b);
    assert!(sys.iter().all(|r| r[0] == "System"), "{sys:?}");
    let hash = b.eval("location.hash").expect("hash");
    let hash = hash.as_str().unwrap_or("");
    assert!(hash.contains("kind=system"), "{hash}");
    assert!(hash.contains("q=aarch64"), "{hash}");
    let count_before = text_of(&mut b, "count");

    // Reload: the view comes back from the URL.
    b.reload().expect("reload");
    b.wait_for("document.documentElement.dataset.ready === '1'")
        .expect("ready");
    assert_eq!(
        b.eval("document.getElementById('f-q').value")
            .expect("value"),
        Value::String(format!("aarch64 {vendor}"))
    );
    assert_eq!(
        b.eval("document.getElementById('f-kind').value")
            .expect("kind"),
        "system"
    );
    assert_eq!(text_of(&mut b, "count"), count_before);

    // An architecture from the select, the search cleared: every row is aarch64.
    let before = updates(&mut b);
    b.eval("(() => { const f = document.getElementById('filters'); f.reset(); })()")
        .expect("reset");
    updated(&mut b, before);
    assert_eq!(
        text_of(&mut b, "count"),
        format!("1–100 of {total} entries")
    );
    let before = updates(&mut b);
    b.eval("(() => { const s = document.getElementById('f-arch'); s.value = 'aarch64'; s.dispatchEvent(new Event('change')); })()")
        .expect("select");
    updated(&mut b, before);
    assert!(rows(&mut b).iter().all(|r| r[6] == "aarch64"));
    assert!(
        text_of(&mut b, "count").contains(&format!("of {n_arm} entries")),
        "same as typed"
    );
    assert!(b
        .eval("location.hash")
        .expect("hash")
        .as_str()
        .unwrap_or("")
        .contains("arch=aarch64"));

    // A hostile name is text, never markup; no script of its ran.
    let before = updates(&mut b);
    b.eval("(() => { const f = document.getElementById('filters'); f.reset(); })()")
        .expect("reset");
    updated(&mut b, before);
    b.eval("document.getElementById('f-q').focus()")
        .expect("focus");
    let before = updates(&mut b);
    b.type_text("alert(1)").expect("type");
    updated(&mut b, before);
    b.wait_for("document.querySelectorAll('#rows tr').length === 1 && document.getElementById('f-q').value === 'alert(1)'")
        .expect("one row");
    let r = rows(&mut b);
    assert_eq!(r[0][2], format!("{EVIL}Intel {EVIL_SUB}"));
    assert_eq!(
        b.eval("document.querySelectorAll('#rows script').length")
            .expect("eval"),
        0
    );
    assert!(
        !b.events
            .iter()
            .any(|e| e["method"] == "Page.javascriptDialogOpening"),
        "an alert opened"
    );
    // The entry page it links opens.
    let href = b
        .eval("document.querySelector('#rows a').href")
        .expect("href");
    b.navigate(href.as_str().expect("a string"))
        .expect("open the entry");
    let h1 = b
        .eval("document.querySelector('h1').textContent")
        .expect("h1");
    assert!(h1.as_str().unwrap_or("").contains(EVIL_SUB), "{h1}");
    assert!(!b
        .events
        .iter()
        .any(|e| e["method"] == "Page.javascriptDialogOpening"));

    // An empty list says so, in the browser too.
    let empty = Store::create(t.path().join("empty-db")).expect("store");
    let empty_site = t.path().join("empty-site");
    publish(&empty, &empty_site, &opts(1)).expect("publish");
    b.navigate(&format!(
        "file://{}",
        empty_site.join("index.html").display()
    ))
    .expect("open the empty index");
    b.wait_for("document.documentElement.dataset.ready === '1'")
        .expect("the script ran");
    assert_eq!(
        text_of(&mut b, "count"),
        "There are no entries in this list yet."
    );
    assert_eq!(rows(&mut b).len(), 1);
    no_script_errors(&b);
    // (The check above sees a script's error when there is one.)
    b.eval("setTimeout(() => { throw new Error('on purpose'); }, 0); 1")
        .expect("eval");
    let ev = b.wait_event("Runtime.exceptionThrown").expect("the error");
    assert!(ev.to_string().contains("on purpose"));
}

/// The page's script threw nothing.
fn no_script_errors(b: &Browser) {
    let errors: Vec<&Value> = b
        .events
        .iter()
        .filter(|e| e["method"] == "Runtime.exceptionThrown")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_browser_pages_through_twenty_thousand_entries() {
    let t = tmp();
    let db = t.path().join("db");
    testing::synth::generate(&db, 20_000, 2).expect("a synthetic store");
    let st = Store::open(&db).expect("store");
    let site_dir = t.path().join("site");
    publish(&st, &site_dir, &opts(2)).expect("publish");
    let Some(mut b) = browser(t.path(), &site_dir) else {
        return;
    };
    assert_eq!(text_of(&mut b, "count"), "1–100 of 20,000 entries");
    assert_eq!(text_of(&mut b, "pageinfo"), "Page 1 of 200");
    assert_eq!(
        b.eval("document.getElementById('prev').disabled")
            .expect("prev"),
        true
    );
    let page1 = rows(&mut b);
    let before = updates(&mut b);
    b.eval("document.getElementById('next').click()")
        .expect("next");
    updated(&mut b, before);
    assert_eq!(text_of(&mut b, "count"), "101–200 of 20,000 entries");
    assert_eq!(text_of(&mut b, "pageinfo"), "Page 2 of 200");
    let page2 = rows(&mut b);
    assert_eq!(page2.len(), 100);
    assert_ne!(page1, page2);
    assert!(b
        .eval("location.hash")
        .expect("hash")
        .as_str()
        .unwrap_or("")
        .contains("page=2"));
    // Sort by date, newest first: the first row is the newest certification.
    let before = updates(&mut b);
    b.eval("document.querySelector('th[data-col=date] button').click()")
        .expect("sort");
    updated(&mut b, before);
    let sorted = rows(&mut b);
    assert!(
        sorted.windows(2).all(|w| w[0][8] >= w[1][8]),
        "newest first"
    );
    assert_eq!(
        b.eval("document.querySelector('th[data-col=date]').getAttribute('aria-sort')")
            .expect("aria-sort"),
        "descending"
    );
    assert_eq!(text_of(&mut b, "count"), "1–100 of 20,000 entries");
    // A filter narrows 20,000 rows; every shown row matches both words.
    b.eval("document.getElementById('f-q').focus()")
        .expect("focus");
    let before = updates(&mut b);
    b.type_text("nvme aarch64").expect("type");
    updated(&mut b, before);
    b.wait_for("decodeURIComponent(location.hash.replace(/\\+/g, ' ')).includes('q=nvme aarch64')")
        .expect("applied");
    let shown = rows(&mut b);
    assert!(!shown.is_empty());
    assert!(
        shown
            .iter()
            .all(|r| r[6] == "aarch64" && r.join(" ").to_lowercase().contains("nvme")),
        "{shown:?}"
    );
    let count = text_of(&mut b, "count");
    assert!(count.contains("matching (20,000 in all)"), "{count}");
    // The index came in four shards, and the search found its rows in more than one: as
    // many as the shards' own data hold, shard by shard.
    let shards = shard_data(&site_dir);
    assert_eq!(shards.len(), 4);
    let per_shard: Vec<usize> = shards
        .iter()
        .map(|sh| {
            shard_rows(sh)
                .iter()
                .filter(|r| {
                    ["nvme", "aarch64"].iter().all(|w| {
                        r.iter()
                            .filter(|(k, _)| !["date", "rev"].contains(&k.as_str()))
                            .any(|(_, v)| v.to_lowercase().contains(w))
                    })
                })
                .count()
        })
        .collect();
    assert!(
        per_shard.iter().filter(|&&n| n > 0).count() > 1,
        "{per_shard:?}"
    );
    let want: usize = per_shard.iter().sum();
    assert!(
        count.contains(&format!(" of {} entries matching", thousands(want))),
        "{count}, {per_shard:?}"
    );
    // The last page of the results holds rows of a later shard than the first page.
    let before = updates(&mut b);
    b.eval("location.hash = location.hash + '&page=9999'")
        .expect("last page");
    updated(&mut b, before);
    let last: Vec<String> = serde_json::from_value(
        b.eval("Array.from(document.querySelectorAll('#rows a')).map(a => a.getAttribute('href'))")
            .expect("links"),
    )
    .expect("strings");
    let first_ids: BTreeSet<String> = shard_ids(&shards[0]).into_iter().collect();
    assert!(
        last.iter().any(
            |h| !first_ids.contains(h.trim_start_matches("entries/").trim_end_matches(".html"))
        ),
        "{last:?}"
    );
    let stats = b.eval("window.HCL_STATS").expect("stats");
    assert_eq!(stats["shards"], 4, "{stats}");
    assert_eq!(stats["errors"], 0, "{stats}");
    assert!(
        stats["first_ms"].as_f64().expect("first") <= stats["loaded_ms"].as_f64().expect("loaded"),
        "{stats}"
    );
    eprintln!("20,000 entries in chromium: {stats}");
    no_script_errors(&b);
}

/// `12,345`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A shard's rows: each column's value by its key, and `id` (the entry ID).
pub(crate) fn shard_rows(sh: &Value) -> Vec<BTreeMap<String, String>> {
    const DIGITS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    let n = sh["n"].as_u64().expect("n") as usize;
    let s: Vec<&str> = sh["s"]
        .as_array()
        .expect("s")
        .iter()
        .map(|x| x.as_str().expect("a string"))
        .collect();
    let mut rows = vec![BTreeMap::new(); n];
    for (k, col) in sh["c"].as_object().expect("columns") {
        let w = col[0].as_u64().expect("width") as usize;
        let digits = col[1].as_str().expect("digits").as_bytes();
        assert_eq!(digits.len(), n * w, "{k}");
        for (r, row) in rows.iter_mut().enumerate() {
            let v = digits[r * w..(r + 1) * w].iter().fold(0usize, |v, &d| {
                v * 64 + DIGITS.find(d as char).expect("a base-64 digit")
            });
            row.insert(k.clone(), s[v].to_string());
        }
    }
    let ids: BTreeMap<usize, String> = sh["id"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|x| {
            (
                x[0].as_u64().expect("row") as usize,
                x[1].as_str().expect("id").to_string(),
            )
        })
        .collect();
    for (r, row) in rows.iter_mut().enumerate() {
        let id = ids.get(&r).cloned().unwrap_or_else(|| {
            format!(
                "pci-{}.{}.{}",
                row["ids"].replace([':', ' '], "-"),
                row["rel"].replacen(' ', "-", 1),
                row["arch"]
            )
        });
        row.insert("id".into(), id);
    }
    rows
}

/// The entry IDs of a shard's rows.
fn shard_ids(sh: &Value) -> Vec<String> {
    shard_rows(sh)
        .into_iter()
        .map(|mut r| r.remove("id").expect("id"))
        .collect()
}

/// A shard that is missing, or not a shard, is said so on the page; the rest is searched.
#[test]
fn a_browser_says_when_a_shard_is_missing_or_garbage() {
    let t = tmp();
    let st = store(&t.path().join("db"), 300);
    let site_dir = t.path().join("site");
    publish(&st, &site_dir, &opts(2)).expect("publish");
    // Every row of the one shard is in the page's data.
    let shards = shard_data(&site_dir);
    assert_eq!(shards.len(), 1);
    let ids = shard_ids(&shards[0]);
    let (entries, _) = st.entries(1).expect("entries");
    let all: BTreeSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.iter().map(String::as_str).collect::<BTreeSet<_>>(), all);
    // A manifest that names a garbage shard (out of turn) and a missing one.
    let p = site_dir.join("data/index.js");
    let js = read(&p);
    let js = js.replacen("\"n\":302,", "\"n\":322,", 1).replacen(
        "],\n\"f\":",
        ",[\"shard-bad.js\",10],[\"shard-gone.js\",10]],\n\"f\":",
        1,
    );
    fs::write(&p, js).expect("manifest");
    fs::write(
        site_dir.join("data/shard-bad.js"),
        "window.HCL_SHARD({\"k\":7,\"n\":10,\"s\":[],\"c\":{},\"kind\":\"\"});\n",
    )
    .expect("garbage");
    let Some(chromium) = find_chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let mut b = Browser::start(
        &chromium,
        &t.path().join("profile"),
        Duration::from_secs(60),
    )
    .expect("start chromium");
    b.navigate(&format!("file://{}", site_dir.join("index.html").display()))
        .expect("open");
    b.wait_for("window.HCL_STATS && window.HCL_STATS.errors >= 2")
        .expect("both seen");
    let count = text_of(&mut b, "count");
    assert!(
        count.contains("could not be loaded (shard-gone.js): 302 of 322 entries are searched"),
        "{count}"
    );
    assert_eq!(b.eval("window.HCL_STATS.shards").expect("stats"), 1);
    assert_eq!(rows(&mut b).len(), 100);
}
