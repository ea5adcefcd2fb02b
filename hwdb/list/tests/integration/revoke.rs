//! Revocations: a signed, dated withdrawal kept in the entry's history; verified by stock
//! `ssh-keygen`; every tampering found on load; re-certification only when asked; old stores
//! read as before; the site shows it, escaped.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use documents::status::Status;
use hcl::revocation::{self, RevocationDoc, NAMESPACE};
use hcl::revoke::{revoke, verify_store, RevokeError, Target};
use hcl::site::{publish, PublishOptions};
use hcl::{
    AddOptions, CaseResult, Certification, Entry, HclError, Key, Kind, Names, NewEntry, Store,
    Submission,
};

const DATE: &str = "2026-12-03T13:00:00Z";
/// A reason with markup and control characters (BEL, ESC, NUL is not text a shell passes).
const EVIL_REASON: &str = "<script>alert('r')</script> & \u{7}bell \u{1b}[31mred\u{1b}[0m\nline 2";

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hcl-revoke-")
        .tempdir()
        .expect("tmp")
}

/// A key pair made by hwcert (an OpenSSH Ed25519 key), and an allowed_signers file that
/// admits it as `principal` for `namespaces`.
struct Signer {
    key: PathBuf,
    allowed: PathBuf,
    principal: String,
}

fn signer(dir: &Path, name: &str, principal: &str, namespaces: &str) -> Signer {
    let key = dir.join(format!("{name}_ed25519"));
    let k = reports::keys::keygen(&key, principal).expect("keygen");
    let public = fs::read_to_string(&k.public).expect("the public key");
    let mut parts = public.split_whitespace();
    let (kt, b64) = (
        parts.next().expect("key type"),
        parts.next().expect("base64"),
    );
    let allowed = dir.join(format!("{name}_allowed_signers"));
    fs::write(
        &allowed,
        format!("{principal} namespaces=\"{namespaces}\" {kt} {b64}\n"),
    )
    .expect("allowed_signers");
    Signer {
        key,
        allowed,
        principal: principal.into(),
    }
}

fn maintainer(dir: &Path) -> Signer {
    signer(dir, "maint", "hcl-maintainer@example.org", NAMESPACE)
}

fn cert(sha: &str, date: &str) -> Certification {
    Certification {
        report_sha256: sha.into(),
        date: date.into(),
        added: String::new(),
        profile: "standard".into(),
        signed_by: "lab@example.com".into(),
        signing_key: "SHA256:labkey".into(),
        tool_version: "0.1.0".into(),
        os: Some("OpenCloudOS 9.2".into()),
        kernel: Some("6.6.47-12.oc9.x86_64".into()),
        driver: Some("i40e".into()),
        driver_version: None,
        firmware: None,
        system: Some("Inspur NF5280M5".into()),
        details: BTreeMap::new(),
        cases: vec![CaseResult {
            name: "pci::driver_bound::0000:3b:00.0".into(),
            status: Status::Pass,
            blocker: true,
        }],
        revocation: None,
    }
}

fn nic_key() -> Key {
    Key::pci(
        "8086",
        "1572",
        Some(("8086", "0001")),
        "opencloudos",
        "9.2",
        "x86_64",
    )
    .expect("key")
}

fn sys_key() -> Key {
    Key::system("Inspur", "NF5280M5", "opencloudos", "9.2", "x86_64").expect("key")
}

/// A report (its bytes stand for report.json) certifying the NIC and the system on `date`.
fn report(seed: &str, date: &str) -> Submission {
    let json = format!("{{\"synthetic\":\"{seed}\"}}\n");
    let sha = reports::sha256_hex(json.as_bytes());
    let e = |key: Key, name: &str| NewEntry {
        key,
        names: Names {
            vendor: Some("Intel Corporation".into()),
            name: Some(name.into()),
            class: Some("Ethernet controller".into()),
            ..Names::default()
        },
        certification: cert(&sha, date),
    };
    Submission {
        report_sha256: sha.clone(),
        report_files: vec![("report.json".into(), json.into_bytes())],
        entries: vec![e(nic_key(), "X710"), e(sys_key(), "NF5280M5")],
    }
}

fn entry(st: &Store, kind: Kind, id: &str) -> Entry {
    let p = st.entry_path(kind, id);
    Entry::from_file_bytes(&p, &fs::read(&p).expect("entry file")).expect("entry")
}

/// Every file under `dir` and its bytes.
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

fn target(entry: Option<&str>, report: Option<&str>) -> Target {
    Target {
        entry: entry.map(str::to_string),
        report: report.map(str::to_string),
    }
}

/// `ssh-keygen -Y verify` of a revocation, as the README tells a reader to run it.
fn ssh_keygen_verify(allowed: &Path, principal: &str, doc: &Path) -> std::process::Output {
    Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", principal, "-n", NAMESPACE, "-s"])
        .arg(revocation::signature_path(doc))
        .stdin(fs::File::open(doc).expect("open the document"))
        .output()
        .expect("ssh-keygen runs (openssh-clients is needed for this test)")
}

#[test]
fn a_revocation_is_signed_dated_kept_and_verified_by_ssh_keygen() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    let sub = report("a", "2026-01-01T00:00:00Z");
    st.add(&sub, "2026-01-02T00:00:00Z").expect("add");
    let id = nic_key().id();
    let before = entry(&st, Kind::Component, &id);

    let out = revoke(
        &st,
        &target(Some(&id), None),
        EVIL_REASON,
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    assert_eq!(out.revoked.len(), 1);
    assert_eq!(out.revoked_by, m.principal);
    assert!(out.revoked[0].was_current);
    assert!(out.signing_key.starts_with("SHA256:"));

    // The entry: revoked now, the certification kept as it was but for its record.
    let e = entry(&st, Kind::Component, &id);
    assert!(!e.is_certified());
    let r = e.revoked().expect("revoked");
    assert_eq!(r.date, DATE);
    assert_eq!(r.reason, EVIL_REASON);
    assert_eq!(r.revoked_by, m.principal);
    assert_eq!(r.signing_key, out.signing_key);
    let mut unmarked = e.clone();
    unmarked.certifications[0].revocation = None;
    assert_eq!(
        unmarked, before,
        "nothing else changed, nothing was deleted"
    );
    // The other entry of the report is untouched.
    assert!(entry(&st, Kind::System, &sys_key().id()).is_certified());

    // The document: as the record says, and what stock OpenSSH verifies.
    let doc_path = revocation::document_path(st.root(), &id, &sub.report_sha256);
    assert_eq!(doc_path, out.revoked[0].document);
    let bytes = fs::read(&doc_path).expect("the document");
    assert_eq!(reports::sha256_hex(&bytes), r.document_sha256);
    let doc: RevocationDoc = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(doc.schema, "hwcert.revocation/1");
    assert_eq!(doc.entry, id);
    assert_eq!(doc.report_sha256, sub.report_sha256);
    assert_eq!(doc.reason, EVIL_REASON);
    let ok = ssh_keygen_verify(&m.allowed, &m.principal, &doc_path);
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("Good \"hwcert-revocation\" signature"),
        "{ok:?}"
    );
    // Not a report signature: ssh-keygen refuses it in the reports' namespace.
    let wrong_ns = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&m.allowed)
        .args(["-I", &m.principal, "-n", "hwcert-report", "-s"])
        .arg(revocation::signature_path(&doc_path))
        .stdin(fs::File::open(&doc_path).expect("open"))
        .output()
        .expect("ssh-keygen");
    assert!(!wrong_ns.status.success());

    // Verified on load, and through a store opened anew.
    let st2 = Store::open(st.root()).expect("open");
    assert_eq!(verify_store(&st2, 2, None).expect("verifies"), 1);
    revocation::verify_entry(st2.root(), &e, None, None, None).expect("verifies");
}

#[test]
fn revoking_twice_unknown_targets_untrusted_keys_and_bad_requests_change_nothing() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    // A lab's key, with the line `hwcert keygen` writes for it (namespace hwcert-report).
    let lab = signer(t.path(), "lab", "lab@example.com", "hwcert-report");
    // A key with no line at all.
    let stranger = signer(t.path(), "stranger", "x@example.com", NAMESPACE);
    let sub = report("a", "2026-01-01T00:00:00Z");
    st.add(&sub, "t").expect("add");
    let id = nic_key().id();
    let sha = sub.report_sha256.clone();
    let initial = tree(st.root());

    let run = |tg: Target, reason: &str, s: &Signer, allowed: &Path| {
        revoke(&st, &tg, reason, DATE, &s.key, allowed)
    };
    // Bad requests: usage.
    for (tg, reason, says) in [
        (target(None, None), "r", "name the entry"),
        (target(Some(&id), None), "  \n", "--reason"),
        (
            target(Some("../../etc/passwd"), None),
            "r",
            "not an entry ID",
        ),
        (
            target(Some(&id), Some("5bba985a")),
            "r",
            "not a report's SHA-256",
        ),
        (
            target(None, Some(&sha.to_ascii_uppercase())),
            "r",
            "not a report's SHA-256",
        ),
    ] {
        match run(tg.clone(), reason, &m, &m.allowed) {
            Err(e @ RevokeError::Usage(_)) => {
                assert_eq!(e.exit_code(), 2);
                assert!(e.to_string().contains(says), "{says}: {e}");
            }
            r => panic!("{tg:?}: {r:?}"),
        }
    }
    // Unknown entry or report.
    for (tg, says) in [
        (
            target(Some("pci-dead-beef.opencloudos-9.2.x86_64"), None),
            "no entry pci-dead-beef",
        ),
        (
            target(Some(&id), Some(&"0".repeat(64))),
            "no certification by report",
        ),
        (target(None, Some(&"0".repeat(64))), "no entry of"),
    ] {
        match run(tg.clone(), "r", &m, &m.allowed) {
            Err(e @ RevokeError::Unknown(_)) => {
                assert_eq!(e.exit_code(), 5);
                assert!(e.to_string().contains(says), "{says}: {e}");
            }
            r => panic!("{tg:?}: {r:?}"),
        }
    }
    // Keys that may not revoke: a lab's (its line allows hwcert-report only), and one in no
    // line; also the maintainer's key against the labs' file.
    for (s, allowed, says) in [
        (&lab, &lab.allowed, "does not allow hwcert-revocation"),
        (&stranger, &m.allowed, "not in the allowed signers"),
        (&m, &lab.allowed, "not in the allowed signers"),
    ] {
        match run(target(Some(&id), None), "r", s, allowed) {
            Err(e @ RevokeError::Untrusted(_)) => {
                assert_eq!(e.exit_code(), 6);
                assert!(e.to_string().contains(says), "{says}: {e}");
                assert!(e.to_string().contains("maintainer"), "{e}");
            }
            r => panic!("{}: {r:?}", s.principal),
        }
    }
    // A key file that is not one, a maintainers file that does not exist: errors (1).
    let e = revoke(
        &st,
        &target(Some(&id), None),
        "r",
        DATE,
        &m.allowed,
        &m.allowed,
    )
    .expect_err("not a key");
    assert_eq!(e.exit_code(), 1, "{e}");
    let e = revoke(
        &st,
        &target(Some(&id), None),
        "r",
        DATE,
        &m.key,
        &t.path().join("nope"),
    )
    .expect_err("no file");
    assert_eq!(e.exit_code(), 1, "{e}");
    assert!(e.to_string().contains("nope"), "{e}");
    assert_eq!(tree(st.root()), initial, "nothing was written");

    // Revoked once; the second time is "already", and changes nothing.
    run(target(Some(&id), None), "first", &m, &m.allowed).expect("revoke");
    let once = tree(st.root());
    for tg in [target(Some(&id), None), target(Some(&id), Some(&sha))] {
        match run(tg, "again", &m, &m.allowed) {
            Err(e @ RevokeError::Already(_)) => {
                assert_eq!(e.exit_code(), 4);
                assert!(e.to_string().contains("first"), "{e}");
            }
            r => panic!("{r:?}"),
        }
    }
    assert_eq!(tree(st.root()), once);
    // The report alone: the entry not yet revoked is, the other is noted.
    let out = run(target(None, Some(&sha)), "all of it", &m, &m.allowed).expect("revoke");
    assert_eq!(out.revoked.len(), 1);
    assert_eq!(out.revoked[0].entry, sys_key().id());
    assert_eq!(out.already.len(), 1, "{:?}", out.already);
    match run(target(None, Some(&sha)), "and again", &m, &m.allowed) {
        Err(RevokeError::Already(_)) => {}
        r => panic!("{r:?}"),
    }
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 2);
}

#[test]
fn an_earlier_certification_can_be_revoked_and_the_entry_stands() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    let old = report("old", "2026-01-01T00:00:00Z");
    let new = report("new", "2026-02-01T00:00:00Z");
    st.add(&old, "t1").expect("add");
    st.add(&new, "t2").expect("add");
    let id = nic_key().id();
    let out = revoke(
        &st,
        &target(Some(&id), Some(&old.report_sha256)),
        "the old run was on a bad firmware",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    assert!(!out.revoked[0].was_current);
    let e = entry(&st, Kind::Component, &id);
    assert!(e.is_certified());
    assert!(e.certifications[1].revocation.is_some());
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 1);
}

/// Each way of tampering with a revocation (or of removing it), and what load says.
#[test]
fn every_tampered_revocation_is_found_on_load() {
    let t = tmp();
    let m = maintainer(t.path());
    let attacker = signer(
        t.path(),
        "attacker",
        "hcl-maintainer@example.org",
        NAMESPACE,
    );
    let base = t.path().join("base");
    let st = Store::create(&base).expect("store");
    let sub = report("a", "2026-01-01T00:00:00Z");
    st.add(&sub, "t").expect("add");
    let id = nic_key().id();
    revoke(
        &st,
        &target(Some(&id), None),
        "withdrawn",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    let doc = revocation::document_path(&base, &id, &sub.report_sha256);
    let sig = revocation::signature_path(&doc);
    let entry_file = st.entry_path(Kind::Component, &id);
    let doc_bytes = fs::read(&doc).expect("doc");
    let entry_text = fs::read_to_string(&entry_file).expect("entry");
    // A signature of the same document by another key.
    let attacker_sig = {
        let k = reports::keys::load_signing_key(&attacker.key).expect("key");
        reports::keys::sign_in(&k, NAMESPACE, &doc_bytes).expect("sign")
    };
    let report_sig = {
        let k = reports::keys::load_signing_key(&m.key).expect("key");
        reports::keys::sign(&k, &doc_bytes).expect("sign")
    };
    let changed_doc = String::from_utf8(doc_bytes.clone())
        .expect("utf-8")
        .replace("withdrawn", "withdrawn by mistake");
    type Damage = Box<dyn Fn(&Path, &Path, &Path)>;
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "the document's reason changed",
            Box::new({
                let c = changed_doc.clone();
                move |d, _, _| fs::write(d, &c).expect("write")
            }),
            "SHA-256",
        ),
        (
            "the document and the record changed alike",
            Box::new({
                let c = changed_doc.clone();
                let sha = reports::sha256_hex(c.as_bytes());
                let old_sha = reports::sha256_hex(&doc_bytes);
                let et = entry_text.clone();
                move |d, _, e| {
                    fs::write(d, &c).expect("write");
                    fs::write(
                        e,
                        et.replace("\"withdrawn\"", "\"withdrawn by mistake\"")
                            .replace(&old_sha, &sha),
                    )
                    .expect("write");
                }
            }),
            "signature does not match",
        ),
        (
            "the record's reason changed",
            Box::new({
                let et = entry_text.clone();
                move |_, _, e| {
                    fs::write(e, et.replace("\"withdrawn\"", "\"a lie\"")).expect("write")
                }
            }),
            "differ (reason)",
        ),
        (
            "the record removed from the entry (un-revoking it)",
            Box::new({
                let mut e: Entry = serde_json::from_str(&entry_text).expect("entry");
                e.certifications[0].revocation = None;
                let b = e.to_file_bytes();
                move |_, _, p| fs::write(p, &b).expect("write")
            }),
            "does not record it",
        ),
        (
            "the document removed",
            Box::new(|d, _, _| fs::remove_file(d).expect("rm")),
            "signed document is missing",
        ),
        (
            "the signature removed",
            Box::new(|_, s, _| fs::remove_file(s).expect("rm")),
            "signature is missing",
        ),
        (
            "the signature truncated",
            Box::new(|_, s, _| {
                let b = fs::read(s).expect("sig");
                fs::write(s, &b[..b.len() / 2]).expect("write")
            }),
            "not an SSH signature",
        ),
        (
            "the signature garbage",
            Box::new(|_, s, _| fs::write(s, b"\x00\xffgarbage").expect("write")),
            "not an SSH signature",
        ),
        (
            "the signature empty",
            Box::new(|_, s, _| fs::write(s, b"").expect("write")),
            "not an SSH signature",
        ),
        (
            "signed by another key",
            Box::new({
                let a = attacker_sig.clone();
                move |_, s, _| fs::write(s, &a).expect("write")
            }),
            "but the revocation names",
        ),
        (
            "a report signature of the same bytes",
            Box::new({
                let a = report_sig.clone();
                move |_, s, _| fs::write(s, &a).expect("write")
            }),
            "namespace \"hwcert-report\"",
        ),
        (
            "the document truncated",
            Box::new({
                let b = doc_bytes.clone();
                move |d, _, _| fs::write(d, &b[..b.len() / 2]).expect("write")
            }),
            "SHA-256",
        ),
        (
            "the entry file removed, its revocation left",
            Box::new(|_, _, e| fs::remove_file(e).expect("rm")),
            "which the store does not hold",
        ),
    ];
    for (n, (what, damage, says)) in cases.iter().enumerate() {
        let dir = t.path().join(format!("case{n}"));
        copy_tree(&base, &dir);
        let st = Store::open(&dir).expect("open");
        let rel = |p: &Path| dir.join(p.strip_prefix(&base).expect("under base"));
        damage(&rel(&doc), &rel(&sig), &rel(&entry_file));
        let err = verify_store(&st, 2, None).expect_err(what);
        assert!(matches!(err, HclError::Tampered { .. }), "{what}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains(says), "{what}: {says}: {msg}");
        assert!(msg.contains("does not verify"), "{what}: {msg}");
        // Adding to the entry, or revoking it, stops too, and writes nothing.
        if rel(&entry_file).exists() {
            let before = tree(&dir);
            let newer = report("b", "2026-03-01T00:00:00Z");
            let e = st
                .add_with(&newer, "t", AddOptions { reinstate: true })
                .expect_err(what);
            assert!(matches!(e, HclError::Tampered { .. }), "{what}: {e:?}");
            assert_eq!(tree(&dir), before, "{what}");
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for (p, b) in tree(from) {
        let dest = to.join(p.strip_prefix(from).expect("under"));
        fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        fs::write(dest, b).expect("copy");
    }
}

#[test]
fn a_newer_report_reinstates_only_when_asked_and_the_revocation_stays() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    let first = report("first", "2026-02-01T00:00:00Z");
    st.add(&first, "t1").expect("add");
    let id = nic_key().id();
    revoke(
        &st,
        &target(Some(&id), None),
        "wrong firmware",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    let revoked = tree(st.root());

    // A newer report: refused, nothing written (not even the report's files).
    let newer = report("newer", "2026-03-01T00:00:00Z");
    let e = st.add(&newer, "t2").expect_err("refused");
    match &e {
        HclError::Revoked {
            id: got, reason, ..
        } => {
            assert_eq!(got, &id);
            assert_eq!(reason, "wrong firmware");
        }
        e => panic!("{e:?}"),
    }
    assert!(e.to_string().contains("--reinstate"), "{e}");
    assert_eq!(tree(st.root()), revoked);

    // An older report joins the history; the entry stays revoked.
    let older = report("older", "2026-01-01T00:00:00Z");
    let o = st.add(&older, "t3").expect("an older report");
    assert_eq!(o.updated.len(), 2);
    let e = entry(&st, Kind::Component, &id);
    assert!(e.revoked().is_some());
    assert_eq!(e.certifications.len(), 2);

    // Asked: the newer report is the current certification; the revocation stays.
    let o = st
        .add_with(&newer, "t4", AddOptions { reinstate: true })
        .expect("reinstated");
    assert_eq!(o.updated.len(), 2);
    let e = entry(&st, Kind::Component, &id);
    assert!(e.is_certified());
    let shas: Vec<&str> = e
        .certifications
        .iter()
        .map(|c| c.report_sha256.as_str())
        .collect();
    assert_eq!(
        shas,
        [
            newer.report_sha256.as_str(),
            first.report_sha256.as_str(),
            older.report_sha256.as_str()
        ]
    );
    assert_eq!(
        e.certifications[1]
            .revocation
            .as_ref()
            .map(|r| r.reason.as_str()),
        Some("wrong firmware")
    );
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 1);
    // The newer certification can be revoked in its turn.
    revoke(
        &st,
        &target(Some(&id), None),
        "again",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 2);
}

/// A store as hwcert wrote it before revocations existed (tests/fixtures/store-v1: entry
/// files without any "revocation"): it loads, verifies, publishes and can be revoked in, and
/// what is not revoked keeps its bytes.
#[test]
fn a_store_written_before_revocations_still_loads() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1");
    let t = tmp();
    let db = t.path().join("db");
    copy_tree(&fixture, &db);
    let st = Store::open(&db).expect("open");
    let (es, w) = st.entries(1).expect("entries");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(es.len(), 2);
    assert!(es.iter().all(|e| e.is_certified()));
    // Read and written again, each file is byte for byte what it was.
    for e in &es {
        let p = st.entry_path(e.kind, &e.id);
        assert_eq!(e.to_file_bytes(), fs::read(&p).expect("file"), "{}", e.id);
    }
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 0);
    let site = t.path().join("site");
    publish(&st, &site, &PublishOptions::default()).expect("publish");
    let sys = es
        .iter()
        .find(|e| e.kind == Kind::System)
        .expect("a system");
    let comp = es
        .iter()
        .find(|e| e.kind == Kind::Component)
        .expect("a part");
    let sys_bytes = fs::read(st.entry_path(Kind::System, &sys.id)).expect("file");
    let m = maintainer(t.path());
    revoke(
        &st,
        &target(Some(&comp.id), None),
        "withdrawn",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    assert_eq!(
        fs::read(st.entry_path(Kind::System, &sys.id)).expect("file"),
        sys_bytes
    );
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 1);
}

/// Parser of the revocation document and of the record, fed truncated, garbage and missing
/// input: never a panic, always [`HclError::Tampered`] or [`HclError::BadEntry`].
#[test]
fn truncated_garbage_and_missing_revocation_files() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    let sub = report("a", "2026-01-01T00:00:00Z");
    st.add(&sub, "t").expect("add");
    let id = nic_key().id();
    revoke(
        &st,
        &target(Some(&id), None),
        "withdrawn",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    let doc = revocation::document_path(st.root(), &id, &sub.report_sha256);
    let good = fs::read(&doc).expect("doc");
    let entry_file = st.entry_path(Kind::Component, &id);
    let good_entry = fs::read(&entry_file).expect("entry");
    // Every prefix of the document.
    for n in 0..good.len() {
        fs::write(&doc, &good[..n]).expect("write");
        assert!(
            matches!(verify_store(&st, 1, None), Err(HclError::Tampered { .. })),
            "{n}"
        );
    }
    for junk in [&b"\xff\xfe"[..], b"null", b"[]", b"{}", b"{\"schema\": 1}"] {
        fs::write(&doc, junk).expect("write");
        assert!(matches!(
            verify_store(&st, 1, None),
            Err(HclError::Tampered { .. })
        ));
    }
    fs::write(&doc, &good).expect("write");
    verify_store(&st, 1, None).expect("good again");
    // A record with a field missing, or of the wrong type: the entry file is not one.
    let text = String::from_utf8(good_entry.clone()).expect("utf-8");
    for bad in [
        text.replacen("\"reason\": \"withdrawn\",", "", 1),
        text.replacen("\"reason\": \"withdrawn\"", "\"reason\": 7", 1),
        text.replacen("\"revocation\": {", "\"revocation\": [{", 1),
    ] {
        fs::write(&entry_file, &bad).expect("write");
        match Entry::from_file_bytes(&entry_file, bad.as_bytes()) {
            Err(HclError::BadEntry { .. }) => {}
            r => panic!("{bad}: {r:?}"),
        }
    }
    // A record spelled with an escape is found and checked all the same.
    fs::write(
        &entry_file,
        text.replacen("\"revocation\"", "\"revoc\\u0061tion\"", 1)
            .replacen("\"withdrawn\"", "\"forged\"", 1),
    )
    .expect("write");
    assert!(matches!(
        verify_store(&st, 1, None),
        Err(HclError::Tampered { .. })
    ));
}

/// The site: the entry page says "Revoked on DATE: REASON", escaped; the index row and the
/// search data say revoked, never certified; hcl.csv says when and why.
#[test]
fn the_site_shows_a_revoked_entry_as_revoked_escaped() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    let sub = report("a", "2026-01-01T00:00:00Z");
    st.add(&sub, "t").expect("add");
    let id = nic_key().id();
    revoke(
        &st,
        &target(Some(&id), None),
        EVIL_REASON,
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    let site = t.path().join("site");
    publish(&st, &site, &PublishOptions::default()).expect("publish");

    let page = fs::read_to_string(site.join("entries").join(format!("{id}.html"))).expect("page");
    assert!(
        page.contains(
            "<p class=\"revoked\" role=\"alert\" id=\"revoked\"><strong>Revoked on 2026-12-03:</strong> \
             &lt;script&gt;alert(&#39;r&#39;)&lt;/script&gt; &amp; \u{FFFD}bell \u{FFFD}[31mred\u{FFFD}[0m\nline 2"
        ),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains('\u{7}') && !page.contains('\u{1b}'));
    assert!(page.contains("revoked; was certified on"), "{page}");
    assert!(!page.contains("</span> certified on"), "{page}");
    assert!(page.contains("Current certification (revoked)"), "{page}");
    // The system's page, not revoked, says certified and no notice.
    let sys_page = fs::read_to_string(
        site.join("entries")
            .join(format!("{}.html", sys_key().id())),
    )
    .expect("page");
    assert!(!sys_page.contains("class=\"revoked\""));
    assert!(sys_page.contains("</span> certified on"));

    // The first page of the index, in the HTML.
    let index = fs::read_to_string(site.join("index.html")).expect("index");
    let row = index
        .lines()
        .find(|l| l.contains(&format!("entries/{id}.html")))
        .expect("the row");
    assert!(
        row.ends_with("<td class=\"date revoked\">Revoked 2026-12-03</td></tr>"),
        "{row}"
    );
    assert!(
        !row.contains("2026-01-01"),
        "never shown as certified: {row}"
    );
    assert!(index.contains("(1 of them since revoked)"), "{index}");

    // The search data (the index's shards): the "rev" column holds the day for the NIC,
    // nothing for the system.
    let mut revs: Vec<String> = crate::site::shard_data(&site)
        .iter()
        .flat_map(crate::site::shard_rows)
        .map(|r| r["rev"].clone())
        .collect();
    revs.sort();
    assert_eq!(revs, ["", "2026-12-03"]);

    // hcl.csv: when and why, at the end of the row.
    let csv = fs::read_to_string(site.join("hcl.csv")).expect("csv");
    let line = csv.lines().find(|l| l.starts_with(&id)).expect("the line");
    assert!(line.contains(DATE), "{line}");
    let sys_line = csv
        .lines()
        .find(|l| l.starts_with(&sys_key().id()))
        .expect("the system");
    assert!(sys_line.ends_with(".html,,"), "{sys_line}");
}

/// The index's script renders the rows itself (filters, sorting, paging): there too a revoked
/// entry says "Revoked DATE", never a certification date.
#[test]
fn in_a_browser_the_index_script_marks_the_revoked_row() {
    use testing::browser::{find_chromium, Browser};
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    st.add(&report("a", "2026-01-01T00:00:00Z"), "t")
        .expect("add");
    let id = nic_key().id();
    revoke(
        &st,
        &target(Some(&id), None),
        EVIL_REASON,
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    let site = t.path().join("site");
    publish(&st, &site, &PublishOptions::default()).expect("publish");
    let Some(chromium) = find_chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let mut b = Browser::start(
        &chromium,
        &t.path().join("profile"),
        std::time::Duration::from_secs(60),
    )
    .expect("start chromium");
    b.navigate(&format!("file://{}", site.join("index.html").display()))
        .expect("open the index");
    b.wait_for("document.documentElement.dataset.ready === '1'")
        .expect("the script ran");
    let v = b
        .eval(
            "Array.from(document.querySelectorAll('#rows tr')).map(tr => [\
             tr.querySelector('a').getAttribute('href'), tr.lastChild.textContent, \
             tr.lastChild.className])",
        )
        .expect("rows");
    let rows: Vec<(String, String, String)> = serde_json::from_value(v).expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (href, date, class) in &rows {
        if href == &format!("entries/{id}.html") {
            assert_eq!(date, "Revoked 2026-12-03");
            assert_eq!(class, "date revoked");
        } else {
            assert_eq!(date, "2026-01-01");
            assert_eq!(class, "date");
        }
    }
}

/// Someone who can write the store and makes a revocation with a key of their own, and an
/// allowed_signers file of their own, makes one that verifies against itself: only the
/// maintainers' file tells it apart (what `hwdb publish --maintainers` checks).
#[test]
fn a_revocation_by_a_key_of_ones_own_is_caught_by_the_maintainers_file() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    let own = signer(t.path(), "own", "hcl-maintainer@example.org", NAMESPACE);
    st.add(&report("a", "2026-01-01T00:00:00Z"), "t")
        .expect("add");
    revoke(
        &st,
        &target(Some(&nic_key().id()), None),
        "by the maintainers",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    let trust = revocation::Trust::read(&m.allowed).expect("trust");
    assert_eq!(verify_store(&st, 1, Some(&trust)).expect("trusted"), 1);
    revoke(
        &st,
        &target(Some(&sys_key().id()), None),
        "not by the maintainers",
        DATE,
        &own.key,
        &own.allowed,
    )
    .expect("revoke with a file of one's own");
    assert_eq!(verify_store(&st, 1, None).expect("self-consistent"), 2);
    match verify_store(&st, 1, Some(&trust)) {
        Err(e @ HclError::Untrusted { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("not in the allowed signers"), "{msg}");
            assert!(msg.contains(&sys_key().id()), "{msg}");
        }
        r => panic!("{r:?}"),
    }
}

/// A revoke killed after it wrote the signed document but before the entry's record (what
/// load then calls tampered, naming the way out) is completed by running it again.
#[test]
fn an_interrupted_revoke_is_completed_by_running_it_again() {
    let t = tmp();
    let st = Store::create(t.path().join("db")).expect("store");
    let m = maintainer(t.path());
    st.add(&report("a", "2026-01-01T00:00:00Z"), "t")
        .expect("add");
    let id = nic_key().id();
    let before = fs::read(st.entry_path(Kind::Component, &id)).expect("entry");
    revoke(
        &st,
        &target(Some(&id), None),
        "first try",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("revoke");
    // The entry file as it was before the record was written.
    fs::write(st.entry_path(Kind::Component, &id), &before).expect("write");
    let e = verify_store(&st, 1, None).expect_err("a document without its record");
    assert!(
        e.to_string()
            .contains("run the same `hwcert hwdb revoke` again"),
        "{e}"
    );
    revoke(
        &st,
        &target(Some(&id), None),
        "second try",
        DATE,
        &m.key,
        &m.allowed,
    )
    .expect("completed");
    assert_eq!(verify_store(&st, 1, None).expect("verifies"), 1);
    let e = entry(&st, Kind::Component, &id);
    assert_eq!(e.revoked().map(|r| r.reason.as_str()), Some("second try"));
}
