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

/// An unprotected Ed25519 key made by OpenSSH in `dir`, commented `PRINCIPAL`: its path and
/// its public line.
fn openssh_key(c: &mut Command, dir: &Path) -> (PathBuf, String) {
    let key = dir.join("id_ed25519");
    let st = c
        .args(["-q", "-t", "ed25519", "-N", "", "-C", PRINCIPAL, "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen -t ed25519");
    assert!(st.success());
    let pubkey = fs::read_to_string(dir.join("id_ed25519.pub")).expect("pub");
    (key, pubkey.trim().to_string())
}

/// `ssh-keygen -Y sign` of `file` with `key` in `namespace` (writes `file`.sig).
fn openssh_sign(key: &Path, namespace: &str, file: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-f"])
        .arg(key)
        .args(["-n", namespace])
        .arg(file)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ssh-keygen -Y sign");
    assert!(st.success(), "ssh-keygen -Y sign {}", file.display());
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
    let (key, pubkey) = openssh_key(&mut c, t.path());
    let a = allowed(
        t.path(),
        &format!("{PRINCIPAL} namespaces=\"{NAMESPACE}\" {pubkey}"),
    );
    // ssh-keygen signs our unsigned report.
    let out = t.path().join("out");
    build_report(&run, &out, None).expect("report");
    openssh_sign(&key, NAMESPACE, &out.join("report.json"));
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
    let pubkey = pubkey.trim();
    let a = allowed(
        t.path(),
        &format!("*@example.com,!bob@example.com {pubkey}"),
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
        &format!("{PRINCIPAL} namespaces=\"file,git\" {pubkey}"),
    );
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["signer"]);
    assert!(!openssh_verifies(&out, &a, PRINCIPAL));

    // A signature made for another namespace.
    if ssh_keygen().is_some() {
        fs::remove_file(out.join("report.json.sig")).expect("rm");
        openssh_sign(&key, "file", &out.join("report.json"));
        let a = allowed(t.path(), &format!("{PRINCIPAL} {pubkey}"));
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

/// Standard base64 with padding (the armor ssh-keygen writes).
fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= c.len() {
                s.push(char::from(A[((v >> (18 - 6 * k)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn armor(blob: &[u8]) -> Vec<u8> {
    let text = b64(blob);
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    for line in text.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(line).expect("ascii"));
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out.into_bytes()
}

/// A report signed by real `ssh-keygen -Y sign` with a real Ed25519 key: the temporary
/// directory, report.json, its .sig and an allowed_signers file.
fn openssh_signed() -> Option<(tempfile::TempDir, PathBuf, Vec<u8>, PathBuf)> {
    let mut c = ssh_keygen()?;
    let (t, run) = run_dir();
    let (key, pubkey) = openssh_key(&mut c, t.path());
    let a = allowed(t.path(), &format!("{PRINCIPAL} {pubkey}"));
    let out = t.path().join("out");
    build_report(&run, &out, None).expect("report");
    openssh_sign(&key, NAMESPACE, &out.join("report.json"));
    let sig = fs::read(out.join("report.json.sig")).expect("sig");
    Some((t, out.join("report.json"), sig, a))
}

/// Run hwcert's verification and `ssh-keygen -Y verify` on every candidate .sig file (in
/// parallel: ssh-keygen takes tens of milliseconds each on a loaded machine); the cases where
/// they disagree, and how many each accepted.
fn sweep(
    t: &Path,
    report: &Path,
    allowed_signers: &Path,
    cases: &[(String, Vec<u8>)],
) -> (Vec<String>, usize, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let accepted = AtomicUsize::new(0);
    let disagree = Mutex::new(Vec::new());
    let msg = fs::read(report).expect("report.json");
    std::thread::scope(|s| {
        for w in 0..4 {
            let (next, accepted, disagree, msg) = (&next, &accepted, &disagree, &msg);
            s.spawn(move || {
                let dir = t.join(format!("sweep{w}"));
                fs::create_dir_all(&dir).expect("mkdir");
                fs::write(dir.join("report.json"), msg).expect("write");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((name, sig)) = cases.get(i) else {
                        break;
                    };
                    fs::write(dir.join("report.json.sig"), sig).expect("write");
                    let v = verify(&dir, allowed_signers, Some(PRINCIPAL)).expect("verify");
                    let ours = {
                        let sigchecks: Vec<_> = v
                            .checks
                            .iter()
                            .filter(|c| c.what == "signature" || c.what == "signer")
                            .collect();
                        sigchecks.len() == 2 && sigchecks.iter().all(|c| c.ok)
                    };
                    let o = Command::new("ssh-keygen")
                        .args(["-Y", "verify", "-f"])
                        .arg(allowed_signers)
                        .args(["-I", PRINCIPAL, "-n", NAMESPACE, "-s"])
                        .arg(dir.join("report.json.sig"))
                        .stdin(fs::File::open(dir.join("report.json")).expect("open"))
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .expect("ssh-keygen -Y verify");
                    let theirs = o.success();
                    if ours {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    if ours != theirs {
                        disagree.lock().expect("lock").push(format!(
                            "{name}: hwcert {}, ssh-keygen {} ({:?})",
                            if ours { "accepts" } else { "rejects" },
                            if theirs { "accepts" } else { "rejects" },
                            v.checks
                        ));
                    }
                }
            });
        }
    });
    let d = disagree.into_inner().expect("lock");
    (d, cases.len(), accepted.into_inner())
}

/// Every bit of the blob in `bits` flipped (and re-armored), plus every bit of the armor text
/// in `text_bits`.
fn flips(sig: &[u8], bits: &[usize], text_bits: &[usize]) -> Vec<(String, Vec<u8>)> {
    let blob = reports::sshsig::dearmor(sig).expect("ssh-keygen's signature dearmors");
    assert_eq!(armor(&blob), sig, "re-armoring gives ssh-keygen's bytes");
    let mut cases = vec![("unchanged".to_string(), sig.to_vec())];
    for &b in bits {
        let mut x = blob.clone();
        x[b / 8] ^= 1 << (b % 8);
        cases.push((format!("blob byte {} bit {}", b / 8, b % 8), armor(&x)));
    }
    for &b in text_bits {
        let mut x = sig.to_vec();
        x[b / 8] ^= 1 << (b % 8);
        cases.push((format!("armor byte {} bit {}", b / 8, b % 8), x));
    }
    cases
}

/// The bits of the blob's structure (magic, version, every length, the type names, the
/// namespace, the hash algorithm: everything but the key and signature bytes), plus one bit
/// of each key and signature byte; the header and footer lines of the armor.
#[test]
fn bit_flips_agree_with_ssh_keygen() {
    let Some((t, report, sig, a)) = openssh_signed() else {
        return;
    };
    let blob = reports::sshsig::dearmor(&sig).expect("dearmor");
    // SSHSIG(6) version(4) keylen(4) [typelen(4) "ssh-ed25519"(11) pklen(4) pk(32)] ...
    let pk = 6 + 4 + 4 + 4 + 11 + 4;
    let raw = blob.len() - 64;
    let mut bits = Vec::new();
    for byte in 0..blob.len() {
        let data = (pk..pk + 32).contains(&byte) || byte >= raw;
        if data {
            bits.push(byte * 8 + byte % 8);
        } else {
            bits.extend(byte * 8..byte * 8 + 8);
        }
    }
    let header = "-----BEGIN SSH SIGNATURE-----\n".len();
    let footer = sig.len() - "\n-----END SSH SIGNATURE-----\n".len();
    let text_bits: Vec<usize> = (0..sig.len() * 8)
        .filter(|b| b / 8 < header || b / 8 >= footer)
        .collect();
    let cases = flips(&sig, &bits, &text_bits);
    let started = std::time::Instant::now();
    let (disagree, n, accepted) = sweep(t.path(), &report, &a, &cases);
    eprintln!(
        "{n} cases in {:.1}s: {accepted} accepted by both, {} rejected by both, {} disagreements",
        started.elapsed().as_secs_f64(),
        n - accepted - disagree.len(),
        disagree.len()
    );
    assert!(disagree.is_empty(), "{disagree:#?}");
    assert!(accepted >= 1, "the unchanged signature verifies");
}

/// Every single bit of the blob and of the armor text. Slow (one ssh-keygen per bit, thousands):
/// `cargo test -p reports -- --ignored bit_flips_all`.
#[test]
#[ignore]
fn bit_flips_all_agree_with_ssh_keygen() {
    let Some((t, report, sig, a)) = openssh_signed() else {
        return;
    };
    let blob = reports::sshsig::dearmor(&sig).expect("dearmor");
    let bits: Vec<usize> = (0..blob.len() * 8).collect();
    let text_bits: Vec<usize> = (0..sig.len() * 8).collect();
    let cases = flips(&sig, &bits, &text_bits);
    let started = std::time::Instant::now();
    let (disagree, n, accepted) = sweep(t.path(), &report, &a, &cases);
    eprintln!(
        "{n} cases in {:.1}s: {accepted} accepted by both, {} rejected by both, {} disagreements",
        started.elapsed().as_secs_f64(),
        n - accepted - disagree.len(),
        disagree.len()
    );
    assert!(disagree.is_empty(), "{disagree:#?}");
}

/// A report as the site publishes it (report.json and its signature, no logs) verifies and
/// says the logs were not checked; a full report directory still has its logs checked.
#[test]
fn published_report_verifies_without_logs() {
    let (t, run) = run_dir();
    let key = t.path().join("key");
    let k = keys::keygen(&key, PRINCIPAL).expect("keygen");
    let a = allowed(t.path(), &k.allowed_signers);
    let out = t.path().join("out");
    build_report(&run, &out, Some(&key)).expect("report");
    let published = t.path().join("published");
    fs::create_dir_all(&published).expect("mkdir");
    for f in ["report.json", "report.json.sig"] {
        fs::copy(out.join(f), published.join(f)).expect("copy");
    }
    let v = verify(&published, &a, Some(PRINCIPAL)).expect("verify");
    assert!(v.ok(), "{:?}", v.checks);
    assert!(!v.logs_checked);
    let logs = v.checks.iter().find(|c| c.what == "logs").expect("logs");
    assert!(
        logs.detail
            .starts_with("not checked: logs are not part of a published report"),
        "{}",
        logs.detail
    );
    let what: Vec<&str> = v.checks.iter().map(|c| c.what).collect();
    assert_eq!(what, vec!["signature", "signer", "logs"]);
    // The signature still decides: a changed published report fails.
    let text = fs::read_to_string(published.join("report.json")).expect("read");
    fs::write(
        published.join("report.json"),
        text.replacen("NF5280M5", "NF5280M6", 1),
    )
    .expect("write");
    let v = verify(&published, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["signature"], "{:?}", v.checks);

    // The full directory: its logs are checked.
    let v = verify(&out, &a, None).expect("verify");
    assert!(v.ok() && v.logs_checked, "{:?}", v.checks);
    // An empty logs/ directory is not a published report: every log is missing.
    let empty = t.path().join("empty-logs");
    fs::create_dir_all(empty.join("logs")).expect("mkdir");
    for f in ["report.json", "report.json.sig"] {
        fs::copy(out.join(f), empty.join(f)).expect("copy");
    }
    let v = verify(&empty, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["logs"], "{:?}", v.checks);
    // A tampered log in a full directory still fails.
    flip_byte(&out.join("logs/cpu::all_online.log"), 3);
    let v = verify(&out, &a, None).expect("verify");
    assert_eq!(failed(&v), vec!["logs"], "{:?}", v.checks);
}
