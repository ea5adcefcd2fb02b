//! `hwcert hwdb revoke`: real signed reports of a recorded machine go into a store, a list
//! maintainer withdraws a certification, stock `ssh-keygen` verifies the revocation, `query`,
//! `publish` and `add` honour it; every error has its own exit status and changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use testing::rundir::RunBuilder;

/// Markup, quotes and terminal controls (BEL, ESC) in a reason.
const EVIL: &str = "<script>alert(1)</script> \"q\" \u{7}\u{1b}[2Jgone";

struct World {
    t: tempfile::TempDir,
    lab_key: PathBuf,
    /// The labs' allowed_signers file, as `hwcert keygen` writes its line (hwcert-report).
    labs: PathBuf,
    maint_key: PathBuf,
    /// The maintainers' allowed_signers file (hwcert-revocation).
    maintainers: PathBuf,
    n: std::cell::Cell<u32>,
}

fn world() -> World {
    let t = tempfile::tempdir().expect("tmp");
    let lab_key = t.path().join("lab_ed25519");
    let k = reports::keys::keygen(&lab_key, "lab@example.com").expect("keygen");
    let labs = t.path().join("allowed_signers");
    fs::write(&labs, format!("{}\n", k.allowed_signers)).expect("write");
    let maint_key = t.path().join("maint_ed25519");
    let m = reports::keys::keygen(&maint_key, "hcl@example.org").expect("keygen");
    let public = fs::read_to_string(&m.public).expect("pub");
    let fields: Vec<&str> = public.split_whitespace().take(2).collect();
    let maintainers = t.path().join("maintainers");
    fs::write(
        &maintainers,
        format!(
            "# The list's maintainers: who may revoke.\nhcl@example.org namespaces=\"hwcert-revocation\" {}\n",
            fields.join(" ")
        ),
    )
    .expect("write");
    World {
        t,
        lab_key,
        labs,
        maint_key,
        maintainers,
        n: std::cell::Cell::new(0),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

fn hwcert() -> Command {
    let mut c = Command::cargo_bin("hwcert").expect("the hwcert binary");
    c.env_remove("RUST_BACKTRACE");
    c
}

/// raid-sas with every instance passed, `days` after the builder's default clock.
fn raid(days: i64) -> RunBuilder {
    let mut b = RunBuilder::raid_sas();
    b.clock_ms += days * 86_400_000;
    b.pass_the_rest();
    b
}

impl World {
    fn db(&self) -> PathBuf {
        self.t.path().join("hcl")
    }

    fn report(&self, b: &RunBuilder) -> PathBuf {
        self.n.set(self.n.get() + 1);
        let run = self.t.path().join(format!("run{}", self.n.get()));
        b.write(&run).expect("write the run");
        let out = run.join("report");
        reports::build_report(&run, &out, Some(self.lab_key.as_path())).expect("report");
        out
    }

    fn add(&self, report: &Path, extra: &[&str]) -> std::process::Output {
        hwcert()
            .args(["hwdb", "add"])
            .arg(report)
            .arg("--db")
            .arg(self.db())
            .arg("--allowed-signers")
            .arg(&self.labs)
            .args(extra)
            .output()
            .expect("hwcert hwdb add")
    }

    fn query(&self, args: &[&str]) -> std::process::Output {
        hwcert()
            .args(["hwdb", "query", "--db"])
            .arg(self.db())
            .args(args)
            .output()
            .expect("hwcert hwdb query")
    }

    /// `hwcert hwdb revoke ARGS --db DB --key KEY --maintainers FILE`.
    fn revoke(&self, args: &[&str], key: &Path, maintainers: &Path) -> std::process::Output {
        hwcert()
            .args(["hwdb", "revoke"])
            .args(args)
            .arg("--db")
            .arg(self.db())
            .arg("--key")
            .arg(key)
            .arg("--maintainers")
            .arg(maintainers)
            .output()
            .expect("hwcert hwdb revoke")
    }

    fn publish(&self, site: &Path) -> std::process::Output {
        hwcert()
            .args(["hwdb", "publish", "--db"])
            .arg(self.db())
            .arg("-o")
            .arg(site)
            .output()
            .expect("hwcert hwdb publish")
    }
}

/// The MegaRAID's entry file, its ID and its current report.
fn megaraid(db: &Path) -> (PathBuf, String, String) {
    let p = fs::read_dir(db.join("components"))
        .expect("components")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("pci-1000-10e2-"))
        .expect("the MegaRAID entry");
    let v: Value = serde_json::from_slice(&fs::read(&p).expect("read")).expect("json");
    (
        p.clone(),
        v["id"].as_str().expect("id").to_string(),
        v["certifications"][0]["report_sha256"]
            .as_str()
            .expect("sha")
            .to_string(),
    )
}

fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with(".lock") {
                out.insert(p.clone(), fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn revoke_then_query_publish_and_reinstate() {
    let w = world();
    let r1 = w.report(&raid(0));
    let o = w.add(&r1, &[]);
    assert!(o.status.success(), "{}", show(&o));
    let (file, id, sha) = megaraid(&w.db());

    let o = w.revoke(&[&id, "--reason", EVIL], &w.maint_key, &w.maintainers);
    assert!(o.status.success(), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(out.contains(&format!("hwcert: revoked {id}")), "{out}");
    assert!(out.contains("the entry is revoked"), "{out}");
    assert!(out.contains("by hcl@example.org (SHA256:"), "{out}");
    assert!(
        out.contains("ssh-keygen -Y verify -f") && out.contains("-n hwcert-revocation"),
        "{out}"
    );

    // Stock OpenSSH verifies what the store holds.
    let doc = w
        .db()
        .join("revocations")
        .join(&id)
        .join(format!("{sha}.json"));
    let mut sig = doc.clone().into_os_string();
    sig.push(".sig");
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&w.maintainers)
        .args(["-I", "hcl@example.org", "-n", "hwcert-revocation", "-s"])
        .arg(&sig)
        .stdin(fs::File::open(&doc).expect("open"))
        .output()
        .expect("ssh-keygen");
    assert!(ok.status.success(), "{}", show(&ok));
    let v: Value = serde_json::from_slice(&fs::read(&doc).expect("doc")).expect("json");
    assert_eq!(v["reason"], EVIL);
    assert_eq!(v["entry"], id.as_str());
    assert_eq!(v["report_sha256"], sha.as_str());
    assert!(v["date"]
        .as_str()
        .is_some_and(|d| hwsys::time::parse_rfc3339(d).is_some() && d.ends_with('Z')));
    let e: Value = serde_json::from_slice(&fs::read(&file).expect("entry")).expect("json");
    assert_eq!(e["certifications"][0]["revocation"]["reason"], EVIL);
    assert_eq!(
        e["certifications"][0]["report_sha256"], sha,
        "the certification is kept"
    );

    // query: shown revoked, never as certified; exit 3 (not certified) unless asked.
    let o = w.query(&["1000:10e2"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(out.contains("REVOKED on "), "{out}");
    assert!(
        out.contains("by hcl@example.org: <script>alert(1)</script> \"q\" \\x07\\e[2Jgone"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
    assert!(out.contains("was certified "), "{out}");
    assert!(out.contains("1 revoked entry match"), "{out}");
    let o = w.query(&["1000:10e2", "--status", "revoked"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = w.query(&["1000:10e2", "--status", "certified"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(text(&o.stdout).contains("no certified entry matches"));
    let o = w.query(&["--status", "revoked", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["certifications"][0]["revocation"]["reason"], EVIL);
    // Everything: the others are certified, so the answer is yes.
    let o = w.query(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).contains(" certified entries and 1 revoked entry match"),
        "{}",
        show(&o)
    );
    let o = w.query(&["--status", "revoked", "--kind", "system"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(text(&o.stdout).contains("no revoked entry matches"));

    // publish: the page says it, escaped. With the maintainers' file every revocation's
    // key must be on it: the labs' file does not admit the maintainer (6, nothing written).
    let site = w.t.path().join("site");
    let o = hwcert()
        .args(["hwdb", "publish", "--db"])
        .arg(w.db())
        .arg("-o")
        .arg(&site)
        .arg("--maintainers")
        .arg(&w.labs)
        .output()
        .expect("publish");
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("is not a maintainer's"),
        "{}",
        show(&o)
    );
    assert!(!site.exists());
    let o = hwcert()
        .args(["hwdb", "publish", "--db"])
        .arg(w.db())
        .arg("-o")
        .arg(&site)
        .arg("--maintainers")
        .arg(&w.maintainers)
        .output()
        .expect("publish");
    assert!(o.status.success(), "{}", show(&o));
    let page = fs::read_to_string(site.join("entries").join(format!("{id}.html"))).expect("page");
    assert!(page.contains("<strong>Revoked on "), "{page}");
    assert!(page
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; \u{FFFD}\u{FFFD}[2Jgone"));

    // The same report again: unchanged, still revoked. A newer one: refused unless asked.
    let o = w.add(&r1, &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(text(&o.stdout).contains("0 new, 0 updated"), "{}", show(&o));
    let before = tree(&w.db());
    let r2 = w.report(&raid(30));
    let o = w.add(&r2, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(err.contains("refused (revoked)"), "{err}");
    assert!(err.contains("--reinstate"), "{err}");
    assert!(
        err.contains(&format!("entry {id} was revoked on ")),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err}");
    assert_eq!(tree(&w.db()), before, "nothing was written");
    let o = w.add(&r2, &["--reinstate"]);
    assert!(o.status.success(), "{}", show(&o));
    let o = w.query(&["1000:10e2"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(!out.contains("REVOKED"), "{out}");
    assert!(out.contains("1 certified entry match"), "{out}");
    let e: Value = serde_json::from_slice(&fs::read(&file).expect("entry")).expect("json");
    assert!(e["certifications"][0].get("revocation").is_none());
    assert_eq!(e["certifications"][1]["revocation"]["reason"], EVIL, "kept");
}

#[test]
fn every_revoke_error_has_its_exit_status_and_changes_nothing() {
    let w = world();
    // Wrong command lines: clap's usage errors, and ours (2).
    for args in [
        vec![
            "hwdb",
            "revoke",
            "--db",
            "x",
            "--key",
            "k",
            "--maintainers",
            "m",
        ],
        vec![
            "hwdb",
            "revoke",
            "e",
            "--db",
            "x",
            "--key",
            "k",
            "--maintainers",
            "m",
        ],
        vec![
            "hwdb",
            "revoke",
            "e",
            "--db",
            "x",
            "--reason",
            "r",
            "--maintainers",
            "m",
        ],
        vec![
            "hwdb", "revoke", "e", "--db", "x", "--reason", "r", "--key", "k",
        ],
        vec![
            "hwdb",
            "revoke",
            "e",
            "--reason",
            "r",
            "--key",
            "k",
            "--maintainers",
            "m",
        ],
        vec!["hwdb", "query", "--db", "x", "--status", "withdrawn"],
    ] {
        let o = hwcert().args(&args).output().expect("run");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // A store that is not there: an error (1).
    let o = w.revoke(&["x", "--reason", "r"], &w.maint_key, &w.maintainers);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("cannot open the HCL store"),
        "{}",
        show(&o)
    );

    let r1 = w.report(&raid(0));
    assert!(w.add(&r1, &[]).status.success());
    let (file, id, sha) = megaraid(&w.db());
    let initial = tree(&w.db());
    let m = (&w.maint_key, &w.maintainers);
    for (args, code, says) in [
        (
            vec![id.as_str(), "--reason", " "],
            2,
            "--reason must say why",
        ),
        (
            vec![id.as_str(), "--reason", "r", "--report", "abc"],
            2,
            "not a report's SHA-256",
        ),
        (vec!["../x", "--reason", "r"], 2, "not an entry ID"),
        (
            vec!["pci-0000-0000.opencloudos-9.2.x86_64", "--reason", "r"],
            5,
            "no entry pci-0000-0000",
        ),
        (
            vec![id.as_str(), "--reason", "r", "--report", &"a".repeat(64)],
            5,
            "no certification by report",
        ),
        (
            vec!["--report", &"b".repeat(64), "--reason", "r"],
            5,
            "cites report",
        ),
    ] {
        let o = w.revoke(&args, m.0, m.1);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", show(&o));
        assert!(
            text(&o.stderr).contains(says),
            "{args:?}: {says}: {}",
            show(&o)
        );
        assert!(
            text(&o.stderr).starts_with("hwcert: error: "),
            "{}",
            show(&o)
        );
    }
    // Keys that may not revoke (6): the lab's key with the labs' file (hwcert-report only);
    // the maintainer's key with the labs' file.
    for (key, file) in [
        (&w.lab_key, &w.labs),
        (&w.maint_key, &w.labs),
        (&w.lab_key, &w.maintainers),
    ] {
        let o = w.revoke(&[&id, "--reason", "r"], key, file);
        assert_eq!(o.status.code(), Some(6), "{}", show(&o));
        assert!(
            text(&o.stderr).contains("only a list maintainer's key"),
            "{}",
            show(&o)
        );
    }
    // A key that is not a private key, a maintainers file that is missing: errors (1).
    let o = w.revoke(&[&id, "--reason", "r"], &w.maintainers, &w.maintainers);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let o = w.revoke(
        &[&id, "--reason", "r"],
        &w.maint_key,
        &w.t.path().join("nope"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(text(&o.stderr).contains("nope"), "{}", show(&o));
    assert_eq!(tree(&w.db()), initial, "no error wrote anything");

    // Twice (4).
    let o = w.revoke(&[&id, "--reason", "first"], m.0, m.1);
    assert!(o.status.success(), "{}", show(&o));
    let once = tree(&w.db());
    let o = w.revoke(&[&id, "--reason", "second", "--report", &sha], m.0, m.1);
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    assert!(text(&o.stderr).contains("already revoked"), "{}", show(&o));
    assert!(text(&o.stderr).contains("first"), "{}", show(&o));
    assert_eq!(tree(&w.db()), once);

    // Tampered (7): the reason edited in the signed document. Every command that answers
    // about it stops, and writes nothing.
    let doc = w
        .db()
        .join("revocations")
        .join(&id)
        .join(format!("{sha}.json"));
    let bytes = fs::read_to_string(&doc).expect("doc");
    fs::write(&doc, bytes.replace("\"first\"", "\"edited\"")).expect("tamper");
    let tampered = tree(&w.db());
    let site = w.t.path().join("site");
    let outs = [
        w.query(&["1000:10e2"]),
        w.publish(&site),
        w.revoke(&["--report", &sha, "--reason", "r"], m.0, m.1),
        w.add(&w.report(&raid(30)), &["--reinstate"]),
    ];
    for o in &outs {
        assert_eq!(o.status.code(), Some(7), "{}", show(o));
        let err = text(&o.stderr);
        assert!(err.contains("the revocation does not verify"), "{err}");
        assert!(err.contains(&format!("{sha}.json")), "{err}");
    }
    assert!(!site.exists(), "no site was written");
    assert_eq!(tree(&w.db()), tampered);
    // Un-revoking by deleting the record from the entry file is found the same way.
    fs::write(&doc, &bytes).expect("restore");
    let mut e: Value = serde_json::from_slice(&fs::read(&file).expect("entry")).expect("json");
    e["certifications"][0]
        .as_object_mut()
        .expect("object")
        .remove("revocation");
    fs::write(&file, serde_json::to_vec_pretty(&e).expect("json")).expect("write");
    let o = w.query(&["1000:10e2"]);
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("does not record it"),
        "{}",
        show(&o)
    );
    let o = w.publish(&site);
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
}
