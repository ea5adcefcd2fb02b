//! The reports a site publishes: only what report.json (the signed record) says. A
//! submitter's report.html and report.md are not signed, so neither `hwdb add` keeps them nor
//! `hwdb publish` serves them: the site renders its own, and every page of it carries the
//! site's one Content-Security-Policy.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use hcl::site::{self, publish, PublishOptions, MARKER};
use hcl::Store;
use testing::rundir::RunBuilder;

/// What a submitter appends to the unsigned renderings.
const INJECTED: &str = "<script>alert('pwned by the submitter')</script>";

fn opts() -> PublishOptions {
    PublishOptions {
        threads: 2,
        ..PublishOptions::default()
    }
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A lab key made by the real ssh-keygen, and an allowed_signers file that admits it.
fn lab(dir: &Path) -> (PathBuf, PathBuf) {
    let key = dir.join("lab_ed25519");
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "lab@example.com",
            "-f",
        ])
        .arg(&key)
        .output()
        .expect("ssh-keygen runs");
    assert!(out.status.success(), "{out:?}");
    let public = read(&dir.join("lab_ed25519.pub"));
    let mut parts = public.split_whitespace();
    let (alg, blob) = (parts.next().expect("algorithm"), parts.next().expect("key"));
    let allowed = dir.join("allowed_signers");
    fs::write(&allowed, format!("lab@example.com {alg} {blob}\n")).expect("allowed_signers");
    (key, allowed)
}

/// A signed report of the raid-sas machine, every instance passed, in `dir/run/report`.
fn signed_report(dir: &Path, key: &Path) -> PathBuf {
    let mut b = RunBuilder::raid_sas();
    b.pass_the_rest();
    let run = dir.join("run");
    b.write(&run).expect("write the run");
    let out = run.join("report");
    reports::build_report(&run, &out, Some(key)).expect("the report");
    out
}

/// report.html and report.md of a report.json as the site must publish them: rendered by the
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

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// An attribute value as a browser reads it.
fn unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Every HTML page of `site` carries exactly the site's policy, once, in its head, and no
/// inline script, no inline style, no event-handler attribute, no javascript: URL. How many
/// pages were checked.
pub(crate) fn assert_every_page_has_the_policy(site: &Path) -> usize {
    let meta = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
    let mut n = 0;
    for p in files(site) {
        if p.extension().is_none_or(|x| x != "html") {
            continue;
        }
        n += 1;
        let html = read(&p);
        let at = p.display();
        let head_end = html
            .find("</head>")
            .unwrap_or_else(|| panic!("{at}: no head"));
        assert_eq!(html.matches(meta).count(), 1, "{at}: one policy");
        let start = html.find(meta).expect("policy") + meta.len();
        assert!(start < head_end, "{at}: the policy is in the head");
        let end = start + html[start..].find('"').expect("the attribute's end");
        assert_eq!(unescape(&html[start..end]), site::CSP, "{at}");
        let lower = html.to_ascii_lowercase();
        // Scripts only from files: each <script> has a src and nothing inside.
        for (i, _) in lower.match_indices("<script") {
            let tag_end = i + lower[i..].find('>').expect("tag end");
            let tag = &lower[i..=tag_end];
            assert!(tag.contains(" src=\""), "{at}: an inline script: {tag}");
            assert!(
                lower[tag_end + 1..].starts_with("</script>"),
                "{at}: a script with a body"
            );
        }
        assert!(!lower.contains("<style"), "{at}: inline style");
        assert!(!lower.contains("javascript:"), "{at}: a javascript: URL");
        // No on*= attribute in any tag.
        let b = lower.as_bytes();
        let mut in_tag = false;
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'<' => in_tag = true,
                b'>' => in_tag = false,
                b'o' if in_tag
                    && i > 0
                    && b[i - 1].is_ascii_whitespace()
                    && b.get(i + 1) == Some(&b'n') =>
                {
                    let name: Vec<u8> = b[i..]
                        .iter()
                        .copied()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'-')
                        .collect();
                    let rest = &b[i + name.len()..];
                    assert!(
                        !rest.starts_with(b"=") || name.len() <= 2,
                        "{at}: an event handler attribute {}",
                        String::from_utf8_lossy(&name)
                    );
                }
                _ => {}
            }
        }
    }
    n
}

/// Issue 13: a signed run whose report.html and report.md were tampered with after signing
/// still verifies and is added; the site shows only what its report.json says.
#[test]
fn a_tampered_rendering_never_reaches_the_store_or_the_site() {
    let t = tempfile::tempdir().expect("tmp");
    let (key, allowed) = lab(t.path());
    let dir = signed_report(t.path(), &key);
    for f in ["report.html", "report.md"] {
        let mut b = fs::read(dir.join(f)).expect("rendering");
        b.extend_from_slice(INJECTED.as_bytes());
        fs::write(dir.join(f), b).expect("tamper");
    }
    // Only report.json is signed: this verifies.
    let v = reports::verify::verify(&dir, &allowed, None).expect("verify");
    assert!(v.ok(), "{:?}", v.checks);
    let prepared = hcl::submit::prepare(&dir, &allowed).expect("accepted");
    let names: Vec<&str> = prepared
        .submission
        .report_files
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["report.json", "report.json.sig"], "what was signed");
    let st = Store::create(t.path().join("db")).expect("store");
    st.add(&prepared.submission, "2026-12-03T00:00:00Z")
        .expect("add");
    let sha = prepared.submission.report_sha256.clone();
    let rdir = st.report_dir(&sha);
    assert!(!rdir.join("report.html").exists() && !rdir.join("report.md").exists());

    let out = t.path().join("site");
    let s = publish(&st, &out, &opts()).expect("publish");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // No trace of the injected bytes anywhere in the site.
    for p in files(&out) {
        let b = fs::read(&p).expect("read");
        assert!(
            !String::from_utf8_lossy(&b).contains("pwned by the submitter"),
            "{}",
            p.display()
        );
    }
    // The pages are a fresh render of report.json, signed by the lab's key.
    let json = fs::read(dir.join("report.json")).expect("report.json");
    let fp = v.signer.expect("signer").fingerprint;
    let (html, md) = fresh_render(&json, &fp);
    let site_dir = out.join("reports").join(&sha);
    assert_eq!(read(&site_dir.join("report.html")), html);
    assert_eq!(read(&site_dir.join("report.md")), md);
    // (minijinja escapes '/', which a base-64 fingerprint may hold.)
    assert!(
        html.contains(&fp.replace('/', "&#x2f;")),
        "it names the signer"
    );
    assert!(html.contains("cpu::all_online"), "it is the report's page");
    assert_eq!(fs::read(site_dir.join("report.json")).expect("json"), json);
    // The entry page links the rendered pages.
    let (entries, _) = st.entries(1).expect("entries");
    let page = read(&out.join("entries").join(format!("{}.html", entries[0].id)));
    assert!(
        page.contains(&format!("../reports/{sha}/report.html")),
        "{page}"
    );
    assert!(page.contains(&format!("../reports/{sha}/report.md")));
    assert!(assert_every_page_has_the_policy(&out) >= entries.len() + 2);
}

/// Issue 21.6: the site publishes the keys of its signers (SITE/allowed_signers), so that the
/// command an entry page prints verifies a downloaded report with stock ssh-keygen, as
/// printed. A key whose signature the site cannot confirm is left out, with a warning, and
/// the page says what the file must hold instead of linking it.
#[test]
fn the_site_names_its_signers_and_the_printed_command_verifies() {
    let t = tempfile::tempdir().expect("tmp");
    let (key, allowed) = lab(t.path());
    let dir = signed_report(t.path(), &key);
    let prepared = hcl::submit::prepare(&dir, &allowed).expect("accepted");
    let st = Store::create(t.path().join("db")).expect("store");
    st.add(&prepared.submission, "2026-12-03T00:00:00Z")
        .expect("add");
    let sha = prepared.submission.report_sha256.clone();
    let out = t.path().join("site");
    let s = publish(&st, &out, &opts()).expect("publish");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let signers = read(&out.join("allowed_signers"));
    let public = read(&t.path().join("lab_ed25519.pub"));
    let blob = public.split_whitespace().nth(1).expect("key");
    let lines: Vec<&str> = signers.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [format!(
            "lab@example.com namespaces=\"hwcert-report\" ssh-ed25519 {blob}"
        )],
        "{signers}"
    );
    let (entries, _) = st.entries(1).expect("entries");
    let page_of = |id: &str| read(&out.join("entries").join(format!("{id}.html")));
    let page = page_of(&entries[0].id);
    assert!(page.contains("href=\"../allowed_signers\""), "{page}");
    let pre = page
        .split("<pre class=\"cmd\">")
        .nth(1)
        .expect("the command");
    let cmd = unescape(&pre[..pre.find("</pre>").expect("end")]).replace("&lt;", "<");
    assert!(
        cmd.starts_with("ssh-keygen -Y verify -f allowed_signers"),
        "{cmd}"
    );
    // What a reader downloads, into one directory, and the command as printed.
    let dl = t.path().join("download");
    fs::create_dir(&dl).expect("mkdir");
    for (from, name) in [
        (
            out.join("reports").join(&sha).join("report.json"),
            "report.json",
        ),
        (
            out.join("reports").join(&sha).join("report.json.sig"),
            "report.json.sig",
        ),
        (out.join("allowed_signers"), "allowed_signers"),
    ] {
        fs::copy(&from, dl.join(name)).expect("download");
    }
    let v = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(&dl)
        .output()
        .expect("sh");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(v.status.success(), "{cmd}: {said}");
    assert!(
        said.contains("Good \"hwcert-report\" signature for lab@example.com"),
        "{said}"
    );

    // The store's signature damaged (a new file: the first site's is a hard link of it), and
    // a new site: the key cannot be confirmed, so it is not published, and the page does not
    // link the file.
    let sig = st.report_dir(&sha).join("report.json.sig");
    let mut bad = fs::read(&sig).expect("sig");
    let mid = bad.len() / 2;
    bad[mid] = if bad[mid] == b'A' { b'B' } else { b'A' };
    fs::remove_file(&sig).expect("rm");
    fs::write(&sig, &bad).expect("damage");
    let out = t.path().join("site2");
    let s = publish(&st, &out, &opts()).expect("publish");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0].starts_with("allowed_signers: key ") && s.warnings[0].contains(&sha),
        "{:?}",
        s.warnings
    );
    let signers = read(&out.join("allowed_signers"));
    assert!(signers.lines().all(|l| l.starts_with('#')), "{signers}");
    let page = read(&out.join("entries").join(format!("{}.html", entries[0].id)));
    assert!(!page.contains("href=\"../allowed_signers\""), "{page}");
    assert!(page.contains("with an <code>allowed_signers</code> file that names"));
}

/// A store filled by an older hwcert holds the submitted renderings, and a site published by
/// one served them: the next publish renders them again, in a new site and in place.
#[test]
fn an_old_store_and_an_old_site_are_made_safe_by_the_next_publish() {
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().expect("tmp");
    let (key, allowed) = lab(t.path());
    let dir = signed_report(t.path(), &key);
    let prepared = hcl::submit::prepare(&dir, &allowed).expect("accepted");
    let st = Store::create(t.path().join("db")).expect("store");
    st.add(&prepared.submission, "t").expect("add");
    let sha = prepared.submission.report_sha256.clone();
    let rdir = st.report_dir(&sha);
    // What an older `hwdb add` copied in.
    fs::write(rdir.join("report.html"), format!("<html>{INJECTED}")).expect("old html");
    fs::write(rdir.join("report.md"), format!("# r\n{INJECTED}\n")).expect("old md");
    let json = fs::read(rdir.join("report.json")).expect("json");
    let fp = prepared.submission.entries[0]
        .certification
        .signing_key
        .clone();
    let (html, md) = fresh_render(&json, &fp);

    let out = t.path().join("site");
    publish(&st, &out, &opts()).expect("publish");
    let site_dir = out.join("reports").join(&sha);
    assert_eq!(read(&site_dir.join("report.html")), html);
    assert_eq!(read(&site_dir.join("report.md")), md);

    // A site an older publish made: the store's renderings hard-linked in, an older marker.
    for f in ["report.html", "report.md"] {
        fs::remove_file(site_dir.join(f)).expect("rm");
        fs::hard_link(rdir.join(f), site_dir.join(f)).expect("link");
    }
    fs::write(
        out.join(MARKER),
        "hwcert.hcl-site/1\nhwcert hwdb publish made this directory; publishing again updates it, and removes what it did not write.\n",
    )
    .expect("old marker");
    let s = publish(&st, &out, &opts()).expect("publish in place");
    assert!(s.in_place);
    assert_eq!(read(&site_dir.join("report.html")), html);
    assert_eq!(read(&site_dir.join("report.md")), md);
    // Replaced, never written through: the store's file is as it was.
    assert!(read(&rdir.join("report.html")).contains(INJECTED));
    assert_every_page_has_the_policy(&out);

    // Published by this renderer: a republish renders nothing again.
    let ino = fs::metadata(site_dir.join("report.html"))
        .expect("stat")
        .ino();
    let s = publish(&st, &out, &opts()).expect("again");
    assert_eq!(s.pages_written, 0);
    assert_eq!(
        fs::metadata(site_dir.join("report.html"))
            .expect("stat")
            .ino(),
        ino
    );
}

/// A report.json the site cannot render, or whose bytes are not those its name says were
/// signed, gets no pages, with a warning; the rest of the site is published.
#[test]
fn a_report_that_cannot_be_rendered_gets_no_pages() {
    let t = tempfile::tempdir().expect("tmp");
    let (key, allowed) = lab(t.path());
    let dir = signed_report(t.path(), &key);
    let prepared = hcl::submit::prepare(&dir, &allowed).expect("accepted");
    let st = Store::create(t.path().join("db")).expect("store");
    st.add(&prepared.submission, "t").expect("add");
    let sha = prepared.submission.report_sha256.clone();
    let out = t.path().join("site");
    publish(&st, &out, &opts()).expect("publish");
    assert!(out.join("reports").join(&sha).join("report.html").is_file());
    let rj = st.report_dir(&sha).join("report.json");
    let good = fs::read(&rj).expect("json");
    // Truncated, garbage, empty, and valid JSON of something else: none hashes to the name.
    for bad in [
        &good[..good.len() / 2],
        b"\x00\xffgarbage".as_slice(),
        b"".as_slice(),
        b"{\"schema\":\"hwcert.report/1\"}".as_slice(),
    ] {
        fs::remove_file(&rj).expect("rm");
        fs::write(&rj, bad).expect("damage");
        let s = publish(&st, &out, &opts()).expect("publish");
        // Its pages are not rendered, and its key, confirmed by no signature, not published.
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
        assert!(
            s.warnings[1].starts_with("allowed_signers: key "),
            "{:?}",
            s.warnings
        );
        assert!(
            s.warnings[0].contains("not the report that was signed"),
            "{:?}",
            s.warnings
        );
        let site_dir = out.join("reports").join(&sha);
        assert!(!site_dir.join("report.html").exists());
        assert!(!site_dir.join("report.md").exists());
        assert!(site_dir.join("report.json").is_file());
        let (entries, _) = st.entries(1).expect("entries");
        let page = read(&out.join("entries").join(format!("{}.html", entries[0].id)));
        assert!(!page.contains("report.html"), "no link to a page it lacks");
        assert!(page.contains("report.json"));
    }
    // Put back, the pages come back.
    fs::remove_file(&rj).expect("rm");
    fs::write(&rj, &good).expect("restore");
    let s = publish(&st, &out, &opts()).expect("publish");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(out.join("reports").join(&sha).join("report.html").is_file());
}

/// A report.json that hashes to its name but is not a report this hwcert reads (one a
/// synthetic store made, say) gets no pages either.
#[test]
fn a_report_this_hwcert_cannot_read_gets_no_pages() {
    let t = tempfile::tempdir().expect("tmp");
    let json = b"{\"schema\":\"hwcert.report/9\",\"future\":true}\n".to_vec();
    let sha = reports::sha256_hex(&json);
    let e = hcl::NewEntry {
        key: hcl::Key::pci("8086", "1572", None, "opencloudos", "9.2", "x86_64").expect("key"),
        names: hcl::Names::default(),
        certification: hcl::Certification {
            report_sha256: sha.clone(),
            date: "2026-01-01T00:00:00Z".into(),
            added: String::new(),
            profile: "standard".into(),
            signed_by: "lab@example.com".into(),
            signing_key: "SHA256:x".into(),
            tool_version: "9.0.0".into(),
            os: None,
            kernel: None,
            driver: None,
            driver_version: None,
            firmware: None,
            system: None,
            details: Default::default(),
            cases: vec![],
            revocation: None,
        },
    };
    let st = Store::create(t.path().join("db")).expect("store");
    st.add(
        &hcl::Submission {
            report_sha256: sha.clone(),
            report_files: vec![
                ("report.json".into(), json),
                ("report.json.sig".into(), b"sig".to_vec()),
                ("report.html".into(), INJECTED.as_bytes().to_vec()),
            ],
            entries: vec![e],
        },
        "t",
    )
    .expect("add");
    let out = t.path().join("site");
    let s = publish(&st, &out, &opts()).expect("publish");
    // No pages, and its key (whose signature is no SSHSIG) not in the site's allowed_signers.
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(
        s.warnings[1].contains("allowed_signers: key SHA256:x is left out"),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings[0].contains("not a hwcert.report/1 document"),
        "{:?}",
        s.warnings
    );
    let site_dir = out.join("reports").join(&sha);
    assert!(!site_dir.join("report.html").exists());
    assert!(site_dir.join("report.json").is_file());
    assert!(site_dir.join("report.json.sig").is_file());
}
