//! `hwcert hwdb add | query`: signed reports of recorded machines go into a store; every kind
//! of refusal leaves the store as it was; concurrent adds lose nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use testing::rundir::{self, RunBuilder};

fn hwcert() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwcert"));
    c.env_remove("RUST_BACKTRACE");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// A lab: a signing key and the allowed_signers file that admits it.
struct Lab {
    t: tempfile::TempDir,
    key: PathBuf,
    allowed: PathBuf,
    n: std::cell::Cell<u32>,
}

fn lab() -> Lab {
    let t = tempfile::tempdir().expect("tmp");
    let key = t.path().join("lab_ed25519");
    let k = reports::keys::keygen(&key, "lab@example.com").expect("keygen");
    let allowed = t.path().join("allowed_signers");
    fs::write(&allowed, format!("{}\n", k.allowed_signers)).expect("allowed_signers");
    Lab {
        t,
        key,
        allowed,
        n: std::cell::Cell::new(0),
    }
}

impl Lab {
    fn db(&self) -> PathBuf {
        self.t.path().join("hcl")
    }

    /// The report directory of a run, signed with the lab key unless `signed` is false.
    fn report(&self, b: &RunBuilder, signed: bool) -> PathBuf {
        self.n.set(self.n.get() + 1);
        let run = self.t.path().join(format!("run{}", self.n.get()));
        b.write(&run).expect("write the run");
        let out = run.join("report");
        reports::build_report(&run, &out, signed.then_some(self.key.as_path())).expect("report");
        out
    }

    fn add(&self, reports: &[&Path]) -> Output {
        self.add_to(&self.db(), reports, &self.allowed)
    }

    fn add_to(&self, db: &Path, reports: &[&Path], allowed: &Path) -> Output {
        hwcert()
            .args(["hwdb", "add"])
            .args(reports)
            .arg("--db")
            .arg(db)
            .arg("--allowed-signers")
            .arg(allowed)
            .output()
            .expect("hwcert hwdb add")
    }

    fn query(&self, args: &[&str]) -> Output {
        hwcert()
            .args(["hwdb", "query", "--db"])
            .arg(self.db())
            .args(args)
            .output()
            .expect("hwcert hwdb query")
    }
}

/// raid-sas with every instance passed, `days` after the builder's default clock.
fn raid(days: i64) -> RunBuilder {
    let mut b = RunBuilder::raid_sas();
    b.clock_ms += days * 86_400_000;
    b.pass_the_rest();
    b
}

fn kunpeng() -> RunBuilder {
    let root = rundir::fixture("aarch64-kunpeng");
    let inv = rundir::probe(&root);
    let mut plan = rundir::plan(&inv, &root);
    // As a live run of that machine would be: a recorded machine certifies nothing.
    plan["sysroot"] = serde_json::json!("/");
    let mut b = RunBuilder::new(&inv, plan);
    b.pass_the_rest();
    b
}

/// Every file of a directory tree and its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

fn entries(db: &Path, kind: &str) -> Vec<Value> {
    let mut files: Vec<PathBuf> = fs::read_dir(db.join(kind))
        .expect("entry dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_slice(&fs::read(p).expect("entry")).expect("json"))
        .collect()
}

fn sha256_file(p: &Path) -> String {
    reports::sha256_hex(&fs::read(p).expect("read"))
}

#[test]
fn add_query_and_recertify() {
    let lab = lab();
    let r1 = lab.report(&raid(0), true);
    let o = lab.add(&[&r1]);
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(out.contains("verified, signed by lab@example.com"), "{out}");
    assert!(out.contains("new       sys-inspur-"), "{out}");
    assert!(out.contains("new       pci-1000-10e2-"), "{out}");

    let db = lab.db();
    let sha1 = sha256_file(&r1.join("report.json"));
    let systems = entries(&db, "systems");
    assert_eq!(systems.len(), 1, "{systems:?}");
    let s = &systems[0];
    assert_eq!(s["kind"], "system");
    assert_eq!(s["key"]["system_vendor"], "Inspur");
    assert_eq!(s["key"]["os_id"], "opencloudos");
    assert_eq!(s["key"]["os_version_id"], "8.8");
    assert_eq!(s["key"]["arch"], "x86_64");
    assert_eq!(s["class"], "System");
    let c = &s["certifications"][0];
    assert_eq!(c["report_sha256"], sha1.as_str());
    assert_eq!(c["signed_by"], "lab@example.com");
    assert_eq!(c["profile"], "standard");
    assert!(c["signing_key"]
        .as_str()
        .is_some_and(|k| k.starts_with("SHA256:")));
    assert!(c["firmware"].as_str().is_some(), "BIOS: {c}");
    assert!(c["kernel"].as_str().is_some());
    assert!(c["cases"].as_array().is_some_and(|a| !a.is_empty()));

    let comps = entries(&db, "components");
    let megaraid = comps
        .iter()
        .find(|e| e["key"]["device_id"] == "10e2")
        .expect("the MegaRAID entry");
    assert_eq!(megaraid["key"]["vendor_id"], "1000");
    assert!(megaraid["key"]["subsystem_vendor_id"].is_string());
    let rc = &megaraid["certifications"][0];
    assert_eq!(rc["driver"], "megaraid_sas");
    assert_eq!(
        rc["system"],
        s["key"]["system_vendor"]
            .as_str()
            .map(|v| format!("{v} {}", s["key"]["system_product"].as_str().unwrap_or("")))
            .unwrap_or_default()
            .as_str()
    );
    assert!(rc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .any(|c| c["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("pci::driver_bound::"))));
    // The report is kept beside the entries, intact: what was signed, not the renderings
    // (unsigned, the submitter's: the site renders its own).
    let kept = db.join("reports").join(&sha1);
    for f in ["report.json", "report.json.sig"] {
        assert!(kept.join(f).is_file(), "{f}");
    }
    for f in ["report.html", "report.md"] {
        assert!(!kept.join(f).exists(), "{f}");
    }
    assert_eq!(sha256_file(&kept.join("report.json")), sha1);
    let ok = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&lab.allowed)
        .args(["-I", "lab@example.com", "-n", "hwcert-report", "-s"])
        .arg(kept.join("report.json.sig"))
        .stdin(fs::File::open(kept.join("report.json")).expect("open"))
        .output();
    if let Ok(ok) = ok {
        assert!(ok.status.success(), "{}", show(&ok));
    }

    // Query by ID, by text, with filters.
    let o = lab.query(&["1000:10e2"]);
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(out.contains("[1000:10e2]"), "{out}");
    assert!(out.contains("driver megaraid_sas"), "{out}");
    assert!(out.contains("1 certified entry match"), "{out}");
    let o = lab.query(&["megaraid", "--os", "8", "--arch", "amd64"]);
    assert!(o.status.success(), "{}", show(&o));
    let o = lab.query(&["broadcom", "9560-16i", "megaraid_sas"]);
    assert!(
        text(&o.stdout).contains("1 certified entry match"),
        "{}",
        show(&o)
    );
    // No match is its own status (3), apart from errors (1) and usage (2).
    let o = lab.query(&["broadcom", "9560-16i", "mpt3sas"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let o = lab.query(&["1000:10e2", "--os", "9"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(text(&o.stdout).contains("no certified entry matches"));
    assert!(
        o.stderr.is_empty(),
        "no match is not an error: {}",
        show(&o)
    );
    let o = lab.query(&["1000:10e2", "--arch", "aarch64"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let o = lab.query(&["1000:10e2", "--arch", "aarch64", "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v, Value::Array(vec![]), "{}", show(&o));
    let o = lab.query(&["--kind", "system", "--json"]);
    assert!(o.status.success(), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1));

    // The same report again changes nothing, byte for byte.
    let before = tree(&db);
    let o = lab.add(&[&r1]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(text(&o.stdout).contains("0 new, 0 updated"), "{}", show(&o));
    assert_eq!(before, tree(&db));

    // A re-certification a month later updates every entry and keeps the history.
    let r2 = lab.report(&raid(30), true);
    let o = lab.add(&[&r2]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        text(&o.stdout).contains(&format!("0 new, {} updated", comps.len() + 1)),
        "{}",
        show(&o)
    );
    let sha2 = sha256_file(&r2.join("report.json"));
    for e in entries(&db, "systems")
        .iter()
        .chain(entries(&db, "components").iter())
    {
        let certs = e["certifications"].as_array().expect("certs");
        assert_eq!(certs.len(), 2, "{e}");
        assert_eq!(certs[0]["report_sha256"], sha2.as_str(), "newest first");
        assert_eq!(certs[1]["report_sha256"], sha1.as_str());
    }
    let o = lab.query(&["1000:10e2"]);
    assert!(text(&o.stdout).contains("2 certifications"), "{}", show(&o));
}

#[test]
fn every_refusal_says_why_and_changes_nothing() {
    let lab = lab();
    let db = lab.db();
    // One good report first, so there is a store to keep intact.
    let good = lab.report(&raid(0), true);
    let o = lab.add(&[&good]);
    assert!(o.status.success(), "{}", show(&o));
    let before = tree(&db);

    let expect_refusal = |dir: &Path, allowed: &Path, kind: &str, why: &str| {
        let o = lab.add_to(&db, &[dir], allowed);
        assert_eq!(o.status.code(), Some(1), "{kind}: {}", show(&o));
        let err = text(&o.stderr);
        assert!(err.contains(&format!("refused ({kind})")), "{kind}: {err}");
        assert!(err.contains(why), "{kind}: {err}");
        assert_eq!(before, tree(&db), "{kind}: the store changed");
    };

    let unsigned = lab.report(&raid(1), false);
    expect_refusal(&unsigned, &lab.allowed, "unsigned", "has no signature");

    let tampered = lab.report(&raid(2), true);
    let p = tampered.join("report.json");
    let s = fs::read_to_string(&p).expect("read");
    fs::write(&p, s.replacen("\"standard\"", "\"full\"", 1)).expect("write");
    expect_refusal(
        &tampered,
        &lab.allowed,
        "tampered",
        "changed after it was signed",
    );

    let bad_log = lab.report(&raid(3), true);
    let log = fs::read_dir(bad_log.join("logs"))
        .expect("logs")
        .flatten()
        .next()
        .expect("a log")
        .path();
    fs::write(&log, b"rewritten\n").expect("write");
    expect_refusal(&bad_log, &lab.allowed, "tampered", "do not match");
    // Without its logs/ directory (as a site publishes it), a report is not taken: `hwdb add`
    // checks the logs, and there are none to check.
    fs::remove_dir_all(bad_log.join("logs")).expect("rm logs");
    expect_refusal(&bad_log, &lab.allowed, "tampered", "no logs/ directory");

    let other = lab.t.path().join("other_ed25519");
    let k = reports::keys::keygen(&other, "someone@else").expect("keygen");
    let other_allowed = lab.t.path().join("other_allowed");
    fs::write(&other_allowed, format!("{}\n", k.allowed_signers)).expect("write");
    let signed = lab.report(&raid(4), true);
    expect_refusal(
        &signed,
        &other_allowed,
        "unknown signer",
        "not in the allowed signers",
    );

    let mut b = RunBuilder::raid_sas();
    let first = b.instances()[0].clone();
    b.finish(&first, "fail");
    b.pass_the_rest();
    let failed = lab.report(&b, true);
    expect_refusal(&failed, &lab.allowed, "not certified", "not certified");

    // Several at once: the good one is added, the refused one named, exit status 1.
    let later = lab.report(&raid(40), true);
    let o = lab.add(&[&unsigned, &later]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("1 of 2 reports refused"),
        "{}",
        show(&o)
    );
    assert!(text(&o.stdout).contains("updated"), "{}", show(&o));

    // A refused report never makes a store.
    let fresh = lab.t.path().join("fresh");
    let o = lab.add_to(&fresh, &[&unsigned], &lab.allowed);
    assert_eq!(o.status.code(), Some(1));
    assert!(!fresh.exists());
}

#[test]
fn concurrent_adds_lose_nothing() {
    let lab = lab();
    let n = 6;
    let dirs: Vec<PathBuf> = (0..n).map(|i| lab.report(&raid(i), true)).collect();
    let children: Vec<_> = dirs
        .iter()
        .map(|d| {
            hwcert()
                .args(["hwdb", "add"])
                .arg(d)
                .arg("--db")
                .arg(lab.db())
                .arg("--allowed-signers")
                .arg(&lab.allowed)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("wait");
        assert!(o.status.success(), "{}", show(&o));
    }
    let db = lab.db();
    let all: Vec<Value> = entries(&db, "systems")
        .into_iter()
        .chain(entries(&db, "components"))
        .collect();
    assert!(all.len() > 1);
    let want: Vec<String> = {
        let mut v: Vec<(String, String)> = dirs
            .iter()
            .map(|d| {
                let r: Value =
                    serde_json::from_slice(&fs::read(d.join("report.json")).expect("read"))
                        .expect("json");
                (
                    r["run"]["finished"].as_str().unwrap_or("").to_string(),
                    sha256_file(&d.join("report.json")),
                )
            })
            .collect();
        v.sort();
        v.reverse();
        v.into_iter().map(|(_, s)| s).collect()
    };
    for e in &all {
        let got: Vec<String> = e["certifications"]
            .as_array()
            .expect("certs")
            .iter()
            .map(|c| c["report_sha256"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(got, want, "{}", e["id"]);
    }
    let leftovers: Vec<_> = tree(&db)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn releases_and_architectures_are_kept_apart() {
    let lab = lab();
    let x86 = lab.report(&raid(0), true);
    let arm = lab.report(&kunpeng(), true);
    let o = lab.add(&[&x86, &arm]);
    assert!(o.status.success(), "{}", show(&o));
    let json = |args: &[&str]| -> Vec<Value> {
        let mut a = args.to_vec();
        a.push("--json");
        let o = lab.query(&a);
        serde_json::from_slice::<Value>(&o.stdout)
            .expect("json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let all = json(&[]);
    let arm64 = json(&["--arch", "arm64"]);
    let nine = json(&["--os", "opencloudos-9"]);
    assert!(!arm64.is_empty());
    assert_eq!(arm64, nine, "the aarch64 machine is the OpenCloudOS 9 one");
    assert!(arm64.iter().all(|e| e["key"]["arch"] == "aarch64"
        && e["key"]["os_version_id"]
            .as_str()
            .is_some_and(|v| v.starts_with('9'))));
    let eight = json(&["--os", "8.8", "--arch", "x86_64"]);
    assert_eq!(eight.len() + arm64.len(), all.len());
    let systems = json(&["--kind", "system"]);
    assert_eq!(systems.len(), 2, "one system per machine");
}

#[test]
fn wrong_arguments_and_missing_stores() {
    let lab = lab();
    let o = hwcert().args(["hwdb", "add", "x"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("--db"), "{}", show(&o));
    let o = hwcert().args(["hwdb", "frobnicate"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let o = lab.query(&["8086:1572"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("cannot open the HCL store"),
        "{}",
        show(&o)
    );
    fs::create_dir_all(lab.db()).expect("mkdir");
    let o = lab.query(&["8086:1572"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "an error, not no match: {}",
        show(&o)
    );
    assert!(text(&o.stderr).contains("not an HCL store"), "{}", show(&o));
    let o = lab.query(&["80861:1572"]);
    assert_eq!(o.status.code(), Some(2), "a usage error: {}", show(&o));
    assert!(
        text(&o.stderr).contains("is not a PCI ID pattern"),
        "{}",
        show(&o)
    );
    let o = lab.add_to(
        &lab.db(),
        &[Path::new("/nonexistent/report")],
        &lab.t.path().join("missing_allowed"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("missing_allowed"), "{}", show(&o));
    let o = lab.add(&[Path::new("/nonexistent/report")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("/nonexistent/report"),
        "{}",
        show(&o)
    );
    // A damaged entry file is named, and not overwritten.
    let r = lab.report(&raid(0), true);
    let o = lab.add(&[&r]);
    assert!(o.status.success(), "{}", show(&o));
    let f = fs::read_dir(lab.db().join("systems"))
        .expect("dir")
        .flatten()
        .next()
        .expect("entry")
        .path();
    fs::write(&f, b"{\"schema\": ").expect("damage");
    let r2 = lab.report(&raid(5), true);
    let o = lab.add(&[&r2]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(text(&o.stderr).contains("not an HCL entry"), "{}", show(&o));
    assert_eq!(fs::read(&f).expect("kept"), b"{\"schema\": ");
    // Every entry is asked for: the damaged one is named, the others answer.
    let o = lab.query(&[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(text(&o.stderr).contains("warning"), "{}", show(&o));
    assert!(text(&o.stderr).contains("not an HCL entry"), "{}", show(&o));
}

#[test]
fn publish_the_list() {
    let lab = lab();
    let x86 = lab.report(&raid(0), true);
    let arm = lab.report(&kunpeng(), true);
    let o = lab.add(&[&x86, &arm]);
    assert!(o.status.success(), "{}", show(&o));
    let n = entries(&lab.db(), "systems").len() + entries(&lab.db(), "components").len();
    let site = lab.t.path().join("site");
    let publish = |out: &Path| {
        hwcert()
            .args(["hwdb", "publish", "--db"])
            .arg(lab.db())
            .arg("-o")
            .arg(out)
            .output()
            .expect("hwcert hwdb publish")
    };
    let o = publish(&site);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("published 2 systems"),
        "{}",
        show(&o)
    );
    for f in ["index.html", "hcl.json", "hcl.csv", "data/index.js"] {
        assert!(site.join(f).is_file(), "{f}");
    }
    let names: Vec<String> = fs::read_dir(site.join("entries"))
        .expect("entries")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    // A page per entry, and its document (every certification) beside it.
    assert_eq!(names.iter().filter(|n| n.ends_with(".html")).count(), n);
    assert_eq!(names.iter().filter(|n| n.ends_with(".json")).count(), n);
    let sha = sha256_file(&x86.join("report.json"));
    assert!(site
        .join("reports")
        .join(&sha)
        .join("report.json.sig")
        .is_file());
    // The report's page, rendered by publish under the site's policy (not the submitter's).
    let page = fs::read_to_string(site.join("reports").join(&sha).join("report.html"))
        .expect("report.html");
    assert!(page.contains("Content-Security-Policy"), "{page}");
    assert!(page.contains("assets&#x2f;report.css"));
    // `hwcert verify` of the report as the site publishes it (no logs): verified, saying what
    // was checked and that the logs were not.
    let o = hwcert()
        .arg("verify")
        .arg(site.join("reports").join(&sha))
        .arg("--allowed-signers")
        .arg(&lab.allowed)
        .output()
        .expect("hwcert verify");
    assert!(o.status.success(), "{}", show(&o));
    let said = text(&o.stdout);
    assert!(!said.contains("FAIL"), "{said}");
    assert!(said.contains("ok   signature good"), "{said}");
    assert!(
        said.contains("ok   logs      not checked: logs are not part of a published report"),
        "{said}"
    );
    assert!(
        said.contains("verified: the signature of report.json by an allowed signer")
            && said.contains("logs are not part of a published report, so they were not checked"),
        "{said}"
    );
    let csv = fs::read_to_string(site.join("hcl.csv")).expect("csv");
    assert_eq!(csv.lines().count(), n + 1, "{csv}");
    let json: Value =
        serde_json::from_slice(&fs::read(site.join("hcl.json")).expect("json")).expect("json");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(n));
    // Publishing again gives the same bytes, and writes none.
    let before = tree(&site);
    let o = publish(&site);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(before, tree(&site));
    assert!(
        text(&o.stdout).contains(&format!("(0 pages written, {n} unchanged, 0 removed)")),
        "{}",
        show(&o)
    );
    // A directory that is not a site is never replaced.
    let mine = lab.t.path().join("mine");
    fs::create_dir_all(&mine).expect("mkdir");
    fs::write(mine.join("notes.txt"), b"keep me").expect("write");
    let o = publish(&mine);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(fs::read(mine.join("notes.txt")).expect("kept"), b"keep me");
    let o = hwcert()
        .args(["hwdb", "publish", "--db"])
        .arg(lab.t.path().join("nowhere"))
        .arg("-o")
        .arg(lab.t.path().join("site2"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(!lab.t.path().join("site2").exists());
    // --base-url: hcl.csv links the pages absolutely; without it, relatively (above).
    // Counted from the end by its header (names before it may hold quoted commas; the
    // columns after it, revoked and revocation_reason, are empty here).
    let page_col = |csv: &str| -> Vec<String> {
        let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
        let from_end = header.len()
            - 1
            - header
                .iter()
                .position(|c| *c == "page")
                .expect("a page column");
        csv.lines()
            .skip(1)
            .map(|l| l.rsplit(',').nth(from_end).unwrap_or("").to_string())
            .collect()
    };
    assert!(page_col(&csv)
        .iter()
        .all(|p| p.starts_with("entries/") && p.ends_with(".html")));
    let o = hwcert()
        .args([
            "hwdb",
            "publish",
            "--base-url",
            "https://hcl.example.com/list",
            "--db",
        ])
        .arg(lab.db())
        .arg("-o")
        .arg(&site)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", show(&o));
    let abs = fs::read_to_string(site.join("hcl.csv")).expect("csv");
    let rel = page_col(&csv);
    assert_eq!(page_col(&abs).len(), n);
    for (a, r) in page_col(&abs).iter().zip(&rel) {
        assert_eq!(a, &format!("https://hcl.example.com/list/{r}"));
    }
    // A bad URL is a usage error (2), and nothing is written.
    for bad in [
        "ftp://hcl.example.com/",
        "hcl.example.com",
        "https://hcl.example.com/?x=1",
        "https://hcl.example.com/#a",
        "https://",
    ] {
        let o = hwcert()
            .args(["hwdb", "publish", "--base-url", bad, "--db"])
            .arg(lab.db())
            .arg("-o")
            .arg(lab.t.path().join("site3"))
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", show(&o));
        assert!(text(&o.stderr).contains("--base-url"), "{}", show(&o));
        assert!(!lab.t.path().join("site3").exists());
    }
}
