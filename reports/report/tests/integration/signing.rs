//! Signatures against stock OpenSSH: ssh-keygen accepts ours and we accept its; anything
//! changed after signing is caught; keys are made, kept and refused as they should be.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use reports::build_report;
use reports::keys::{self, NAMESPACE};
use reports::verify::{verify, Verification};
use testing::rundir::RunBuilder;

const PRINCIPAL: &str = "lab@example.com";

fn ssh_keygen() -> Option<Command> {
    let ok = Command::new("ssh-keygen")
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("skipped: ssh-keygen (OpenSSH) is not installed");
        return None;
    }
    Some(Command::new("ssh-keygen"))
}

/// A temporary directory with a run of the raid-sas machine in `run/`.
fn run_dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tmp");
    let mut b = RunBuilder::raid_sas();
    b.finish("cpu::all_online", "fail");
    b.pass_the_rest();
    let run = t.path().join("run");
    b.write(&run).expect("write the run");
    (t, run)
}

fn allowed(dir: &Path, line: &str) -> PathBuf {
    let p = dir.join("allowed_signers");
    fs::write(&p, format!("# who may sign hwcert reports\n{line}\n")).expect("write");
    p
}

/// `ssh-keygen -Y verify` of a report directory; whether it accepted.
fn openssh_verifies(out: &Path, allowed: &Path, principal: &str) -> bool {
    let Some(mut c) = ssh_keygen() else {
        return true;
    };
    let o = c
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", principal, "-n", NAMESPACE, "-s"])
        .arg(out.join("report.json.sig"))
        .stdin(fs::File::open(out.join("report.json")).expect("report.json"))
        .output()
        .expect("run ssh-keygen");
    eprintln!(
        "ssh-keygen -Y verify: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o.status.success()
}

fn failed(v: &Verification) -> Vec<&'static str> {
    v.checks.iter().filter(|c| !c.ok).map(|c| c.what).collect()
}

fn flip_byte(p: &Path, at: usize) {
    let mut b = fs::read(p).expect("read");
    let i = at.min(b.len() - 1);
    b[i] ^= 0x01;
    fs::write(p, b).expect("write");
}

#[test]
fn openssh_accepts_our_signatures() {
    let (t, run) = run_dir();
    let key = t.path().join("key");
    let k = keys::keygen(&key, PRINCIPAL).expect("keygen");
    let out = t.path().join("out");
    let s = build_report(&run, &out, Some(&key)).expect("a signed report");
    assert_eq!(s.signed_by.as_deref(), Some(k.fingerprint.as_str()));
    let pem = fs::read_to_string(out.join("report.json.sig")).expect("sig");
    assert!(pem.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{pem}");
    assert!(pem.ends_with("-----END SSH SIGNATURE-----\n"), "{pem}");
    let a = allowed(t.path(), &k.allowed_signers);
    assert!(openssh_verifies(&out, &a, PRINCIPAL));
    let v = verify(&out, &a, Some(PRINCIPAL)).expect("verify");
    assert!(v.ok(), "{:?}", v.checks);
    assert!(v
        .checks
        .iter()
        .any(|c| c.what == "logs" && c.detail.contains("log files match")));
    // The file itself works as well as its directory.
    assert!(verify(&out.join("report.json"), &a, None)
        .expect("verify")
        .ok());
    // The pages say who signed.
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains(&k.fingerprint.replace('/', "&#x2f;")));
}

#[test]
fn we_accept_openssh_signatures_and_keys() {
    let Some(mut c) = ssh_keygen() else { return };
    let (t, run) = run_dir();
    let key = t.path().join("id_ed25519");
    let st = c
        .args(["-q", "-t", "ed25519", "-N", "", "-C", PRINCIPAL, "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen -t ed25519");
    assert!(st.success());
    let pubkey = fs::read_to_string(t.path().join("id_ed25519.pub")).expect("pub");
    let a = allowed(
        t.path(),
        &format!("{PRINCIPAL} namespaces=\"{NAMESPACE}\" {}", pubkey.trim()),
    );
    // ssh-keygen signs our unsigned report.
    let out = t.path().join("out");
    build_report(&run, &out, None).expect("report");
    let st = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-f"])
        .arg(&key)
        .args(["-n", NAMESPACE])
        .arg(out.join("report.json"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ssh-keygen -Y sign");
    assert!(st.success());
    let v = verify(&out, &a, Some(PRINCIPAL)).expect("verify");
    assert!(v.ok(), "{:?}", v.checks);
    // An ssh-keygen key signs our reports.
    let out2 = t.path().join("out2");
    build_report(&run, &out2, Some(&key)).expect("signed with an OpenSSH key");
    assert!(openssh_verifies(&out2, &a, PRINCIPAL));
    assert!(verify(&out2, &a, None).expect("verify").ok());
}

#[test]
fn anything_changed_after_signing_is_caught() {
    let (t, run) = run_dir();
    let key = t.path().join("key");
    let k = keys::keygen(&key, PRINCIPAL).expect("keygen");
    let a = allowed(t.path(), &k.allowed_signers);
    let fresh = |name: &str| {
        let out = t.path().join(name);
        build_report(&run, &out, Some(&key)).expect("report");
        out
    };

    // A flipped byte in report.json: in a string, so that it still parses.
    let out = fresh("json");
    let text = fs::read_to_string(out.join("report.json")).expect("read");
    let at = text.find("NF5280M5").expect("the product");
    flip_byte(&out.join("report.json"), at);
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["signature"], "{:?}", v.checks);
    assert!(!openssh_verifies(&out, &a, PRINCIPAL));

    // A flipped byte in the signature's base64.
    let out = fresh("sig");
    flip_byte(&out.join("report.json.sig"), 120);
    let v = verify(&out, &a, None).expect("verify");
    assert!(failed(&v).contains(&"signature"), "{:?}", v.checks);
    assert!(!openssh_verifies(&out, &a, PRINCIPAL));

    // A flipped byte in a log: the signature holds, the log does not.
    let out = fresh("log");
    flip_byte(&out.join("logs/cpu::all_online.log"), 3);
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["logs"], "{:?}", v.checks);
    let logs = v.checks.iter().find(|c| c.what == "logs").expect("logs");
    assert!(
        logs.detail.contains("logs/cpu::all_online.log: changed"),
        "{}",
        logs.detail
    );
    assert!(
        openssh_verifies(&out, &a, PRINCIPAL),
        "report.json itself is intact"
    );

    // A log removed, another added.
    let out = fresh("gone");
    fs::remove_file(out.join("logs/cpu::cpufreq.log")).expect("rm");
    fs::write(out.join("logs/extra.log"), "made up later").expect("write");
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["logs"]);
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("extra.log: not in the report")),
        "{:?}",
        v.notes
    );

    // No signature at all.
    let out = fresh("unsigned");
    fs::remove_file(out.join("report.json.sig")).expect("rm");
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["signature"]);
}

#[test]
fn wrong_key_principal_or_namespace_is_refused() {
    let (t, run) = run_dir();
    let key = t.path().join("key");
    let k = keys::keygen(&key, PRINCIPAL).expect("keygen");
    let other = keys::keygen(&t.path().join("other"), "other@example.com").expect("keygen");
    let out = t.path().join("out");
    build_report(&run, &out, Some(&key)).expect("report");

    // Someone else's key in allowed_signers.
    let a = allowed(t.path(), &other.allowed_signers);
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["signer"]);
    assert!(
        v.checks[1].detail.contains("not in the allowed signers"),
        "{:?}",
        v.checks
    );
    assert!(!openssh_verifies(&out, &a, PRINCIPAL));

    // The right key, another principal asked for.
    let a = allowed(t.path(), &k.allowed_signers);
    let v = verify(&out, &a, Some("mallory@example.com")).expect("verify");
    assert_eq!(failed(&v), vec!["signer"]);
    assert!(!openssh_verifies(&out, &a, "mallory@example.com"));
    // Wildcards in allowed_signers, as ssh-keygen reads them.
    let pubkey = fs::read_to_string(t.path().join("key.pub")).expect("pub");
    let a = allowed(
        t.path(),
        &format!("*@example.com,!bob@example.com {}", pubkey.trim()),
    );
    assert!(verify(&out, &a, Some(PRINCIPAL)).expect("verify").ok());
    assert!(openssh_verifies(&out, &a, PRINCIPAL));
    assert_eq!(
        failed(&verify(&out, &a, Some("bob@example.com")).expect("verify")),
        vec!["signer"]
    );
    assert!(!openssh_verifies(&out, &a, "bob@example.com"));

    // A key allowed for other namespaces only.
    let a = allowed(
        t.path(),
        &format!("{PRINCIPAL} namespaces=\"file,git\" {}", pubkey.trim()),
    );
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["signer"]);
    assert!(!openssh_verifies(&out, &a, PRINCIPAL));

    // A signature made for another namespace.
    if let Some(mut c) = ssh_keygen() {
        fs::remove_file(out.join("report.json.sig")).expect("rm");
        let st = c
            .args(["-Y", "sign", "-f"])
            .arg(&key)
            .args(["-n", "file"])
            .arg(out.join("report.json"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ssh-keygen -Y sign");
        assert!(st.success());
        let a = allowed(t.path(), &format!("{PRINCIPAL} {}", pubkey.trim()));
        let v = verify(&out, &a, None).expect("verify");
        assert!(failed(&v).contains(&"signature"), "{:?}", v.checks);
        let sig = v
            .checks
            .iter()
            .find(|c| c.what == "signature")
            .expect("sig");
        assert!(sig.detail.contains("namespace \"file\""), "{}", sig.detail);
    }
}

#[test]
fn keygen_modes_and_refusals() {
    let t = tempfile::tempdir().expect("tmp");
    let key = t.path().join("k");
    let k = keys::keygen(&key, PRINCIPAL).expect("keygen");
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&k.public), 0o644);
    assert_eq!(k.public, t.path().join("k.pub"));
    let pem = fs::read_to_string(&key).expect("read");
    assert!(pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let pubkey = fs::read_to_string(&k.public).expect("read");
    assert!(pubkey.starts_with("ssh-ed25519 AAAA") && pubkey.trim_end().ends_with(PRINCIPAL));
    assert!(
        k.allowed_signers.starts_with(&format!(
            "{PRINCIPAL} namespaces=\"hwcert-report\" ssh-ed25519 AAAA"
        )),
        "{}",
        k.allowed_signers
    );
    assert!(k.fingerprint.starts_with("SHA256:"));
    // OpenSSH reads the key and agrees on the fingerprint.
    if let Some(mut c) = ssh_keygen() {
        let o = c
            .arg("-l")
            .arg("-f")
            .arg(&key)
            .output()
            .expect("ssh-keygen -l");
        assert!(String::from_utf8_lossy(&o.stdout).contains(&k.fingerprint));
    }
    // Never overwrites: the key, or a stray .pub.
    let before = fs::read(&key).expect("read");
    let e = keys::keygen(&key, PRINCIPAL).expect_err("refused");
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(fs::read(&key).expect("read"), before);
    fs::write(t.path().join("lonely.pub"), "x").expect("write");
    assert!(keys::keygen(&t.path().join("lonely"), PRINCIPAL).is_err());
    assert!(!t.path().join("lonely").exists());
    // Principals that an allowed_signers file cannot hold.
    for bad in ["", "two words", "a,b", "any*"] {
        assert!(keys::keygen(&t.path().join("p"), bad).is_err(), "{bad:?}");
    }
    assert!(!t.path().join("p").exists());
    // A directory that does not exist.
    let e = keys::keygen(&t.path().join("no/such/dir/k"), PRINCIPAL).expect_err("no dir");
    assert!(e.to_string().contains("no such file or directory"), "{e}");
}

#[test]
fn lab_key_is_made_once() {
    let t = tempfile::tempdir().expect("tmp");
    let p = t.path().join("config/hwcert").join(keys::LAB_KEY_NAME);
    let (path, made) = keys::ensure_key_at(&p).expect("made");
    assert!(made);
    assert_eq!(path, p);
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(p.parent().expect("dir")), 0o700);
    let before = fs::read(&p).expect("read");
    let (_, made) = keys::ensure_key_at(&p).expect("kept");
    assert!(!made);
    assert_eq!(fs::read(&p).expect("read"), before);
    assert!(keys::load_signing_key(&p).is_ok());
}

#[test]
fn signing_refuses_unsafe_or_unusable_keys() {
    let (t, run) = run_dir();
    let key = t.path().join("key");
    keys::keygen(&key, PRINCIPAL).expect("keygen");
    let out = t.path().join("out");
    // Readable by others: refused with the fix, and nothing is written.
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    let e = build_report(&run, &out, Some(&key)).expect_err("refused");
    let msg = e.to_string();
    assert!(msg.contains("readable by others (mode 0644)"), "{msg}");
    assert!(
        msg.contains(&format!("chmod 600 {}", key.display())),
        "{msg}"
    );
    assert!(!out.exists(), "no half-made report");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).expect("chmod");
    assert!(build_report(&run, &out, Some(&key)).is_err());
    fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).expect("chmod");
    assert!(
        build_report(&run, &out, Some(&key)).is_ok(),
        "0400 is private too"
    );
    // The public key by mistake, garbage, a missing file.
    let e = keys::load_signing_key(&t.path().join("key.pub")).expect_err("public");
    assert!(e.to_string().contains("readable by others") || e.to_string().contains("a public key"));
    let pubcopy = t.path().join("pubcopy");
    fs::copy(t.path().join("key.pub"), &pubcopy).expect("copy");
    fs::set_permissions(&pubcopy, fs::Permissions::from_mode(0o600)).expect("chmod");
    let e = keys::load_signing_key(&pubcopy).expect_err("public");
    assert!(
        e.to_string().contains("a public key: give the private key"),
        "{e}"
    );
    let junk = t.path().join("junk");
    fs::write(&junk, "not a key").expect("write");
    fs::set_permissions(&junk, fs::Permissions::from_mode(0o600)).expect("chmod");
    let e = keys::load_signing_key(&junk).expect_err("junk");
    assert!(e.to_string().contains("not an OpenSSH private key"), "{e}");
    let e = keys::load_signing_key(&t.path().join("missing")).expect_err("missing");
    assert!(
        e.to_string()
            .ends_with("missing: no such file or directory"),
        "{e}"
    );
}

#[test]
fn protected_and_foreign_keys() {
    let Some(mut c) = ssh_keygen() else { return };
    let t = tempfile::tempdir().expect("tmp");
    let key = t.path().join("protected");
    let st = c
        .args(["-q", "-t", "ed25519", "-N", "s3cret pass", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    let e = keys::load_signing_key_with(&key, None).expect_err("needs the passphrase");
    assert!(
        e.to_string()
            .contains("passphrase: set HWCERT_KEY_PASSPHRASE"),
        "{e}"
    );
    let e = keys::load_signing_key_with(&key, Some("wrong")).expect_err("wrong");
    assert!(e.to_string().contains("cannot decrypt"), "{e}");
    let k = keys::load_signing_key_with(&key, Some("s3cret pass")).expect("decrypted");
    assert!(keys::sign(&k, b"x").is_ok());

    let rsa = t.path().join("rsa");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-N", "", "-f"])
        .arg(&rsa)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    let e = keys::load_signing_key_with(&rsa, None).expect_err("not ed25519");
    assert!(
        e.to_string().contains("Ed25519 keys only")
            || e.to_string().contains("not an OpenSSH private key"),
        "{e}"
    );
}
