//! Verifying a report: the SSHSIG signature of report.json, the signer against an
//! allowed_signers file (ssh-keygen(1), "ALLOWED SIGNERS"), and every log file against its
//! hash in the report. The same checks as
//! `ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n hwcert-report -s report.json.sig`
//! plus the logs.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use ssh_key::HashAlg;
/// The public key type of signatures and allowed_signers lines (for the list's revocations).
pub use ssh_key::PublicKey;

use crate::keys::NAMESPACE;
use documents::rundir::is_log_path;
use documents::Error;

/// One line of an allowed_signers file.
#[derive(Debug, Clone)]
pub struct AllowedSigner {
    /// 1-based line number.
    pub line: usize,
    /// The principals pattern list (`a@x,*@lab.example,!b@x`).
    pub principals: String,
    /// `namespaces="…"`: the namespaces the key may sign in (a pattern list); all when absent.
    pub namespaces: Option<String>,
    /// `cert-authority`: the key is a CA (certificates are not supported here).
    pub cert_authority: bool,
    /// `valid-after` and `valid-before`, in seconds since the epoch.
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
    pub key: PublicKey,
}

/// OpenSSH's `match_pattern`: `*` and `?` wildcards, case-sensitive (linear in practice,
/// never exponential: a hostile allowed_signers line cannot hang a verification).
pub fn match_pattern(s: &str, pattern: &str) -> bool {
    hwsys::glob::wildcard(pattern, s)
}

/// OpenSSH's `match_pattern_list`: 1 when a pattern matches, -1 when a negated one (`!pat`)
/// does (that wins), 0 when none does.
pub fn match_pattern_list(s: &str, list: &str) -> i32 {
    let mut got = 0;
    for pat in list.split(',') {
        let (neg, pat) = match pat.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pat),
        };
        if match_pattern(s, pat) {
            if neg {
                return -1;
            }
            got = 1;
        }
    }
    got
}

/// Split off the next whitespace-delimited field; a field starting with `"` runs to the
/// closing quote (and the quotes are dropped).
fn next_field(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix('"') {
        let end = rest.find('"')?;
        return Some((rest[..end].to_string(), &rest[end + 1..]));
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((s[..end].to_string(), &s[end..]))
}

/// The options field: up to the first whitespace outside quotes.
fn options_field(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&s[..i], &s[i..]),
            _ => {}
        }
    }
    (s, "")
}

/// Split options on commas outside quotes.
fn split_options(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// `YYYYMMDD[HHMM[SS]][Z]`, local time unless `Z` (as ssh-keygen reads it).
fn parse_timestamp(s: &str) -> Option<i64> {
    let (digits, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (s, false),
    };
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|t| t.parse::<i64>().ok());
    let (y, mo, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (h, mi, sec) = (
        n(8..10).unwrap_or(0),
        n(10..12).unwrap_or(0),
        n(12..14).unwrap_or(0),
    );
    let iso = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z");
    let t = hwsys::time::parse_rfc3339(&iso)? / 1000;
    if utc {
        return Some(t);
    }
    // Local time: let the C library apply the zone.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = (y - 1900) as i32;
    tm.tm_mon = (mo - 1) as i32;
    tm.tm_mday = d as i32;
    tm.tm_hour = h as i32;
    tm.tm_min = mi as i32;
    tm.tm_sec = sec as i32;
    tm.tm_isdst = -1;
    // SAFETY: mktime reads and normalizes the tm we own.
    let t = unsafe { libc::mktime(&mut tm) };
    (t != -1).then_some(t)
}

/// Read an allowed_signers file: the lines that hold a key, and one warning per line that
/// could not be understood (ignored, as ssh-keygen ignores them).
pub fn parse_allowed_signers(text: &str) -> (Vec<AllowedSigner>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let Some((principals, rest)) = next_field(line) else {
            warnings.push(format!("line {n}: no principals"));
            continue;
        };
        // A key, or options and then a key.
        let key_of = |s: &str| -> Option<PublicKey> {
            let (kt, r) = next_field(s)?;
            let (b64, _) = next_field(r)?;
            PublicKey::from_openssh(&format!("{kt} {b64}")).ok()
        };
        let (opts, key) = match key_of(rest) {
            Some(k) => ("", Some(k)),
            None => {
                let (o, r) = options_field(rest);
                (o, key_of(r))
            }
        };
        let Some(key) = key else {
            warnings.push(format!(
                "line {n}: no public key understood (a key type and its base64)"
            ));
            continue;
        };
        let mut s = AllowedSigner {
            line: n,
            principals,
            namespaces: None,
            cert_authority: false,
            valid_after: None,
            valid_before: None,
            key,
        };
        let mut bad = None;
        for o in split_options(opts).into_iter().filter(|o| !o.is_empty()) {
            let (name, value) = match o.split_once('=') {
                Some((k, v)) => (k.to_ascii_lowercase(), Some(v.trim_matches('"'))),
                None => (o.to_ascii_lowercase(), None),
            };
            match (name.as_str(), value) {
                ("cert-authority", None) => s.cert_authority = true,
                ("namespaces", Some(v)) => s.namespaces = Some(v.to_string()),
                ("valid-after", Some(v)) => match parse_timestamp(v) {
                    Some(t) => s.valid_after = Some(t),
                    None => bad = Some(format!("valid-after {v:?} is not a time")),
                },
                ("valid-before", Some(v)) => match parse_timestamp(v) {
                    Some(t) => s.valid_before = Some(t),
                    None => bad = Some(format!("valid-before {v:?} is not a time")),
                },
                _ => bad = Some(format!("unknown option {o:?}")),
            }
        }
        match bad {
            Some(b) => warnings.push(format!("line {n}: {b}: line ignored")),
            None => out.push(s),
        }
    }
    (out, warnings)
}

/// Why a signer is not allowed to sign in `namespace`, or the principals it is allowed as.
pub fn check_signer(
    signers: &[AllowedSigner],
    key: &PublicKey,
    principal: Option<&str>,
    namespace: &str,
    now: i64,
) -> Result<Vec<String>, String> {
    let same_key: Vec<&AllowedSigner> = signers
        .iter()
        .filter(|s| !s.cert_authority && s.key.key_data() == key.key_data())
        .collect();
    if same_key.is_empty() {
        return Err(format!(
            "the signing key {} is not in the allowed signers",
            key.fingerprint(HashAlg::Sha256)
        ));
    }
    let mut why = Vec::new();
    let mut ok = Vec::new();
    for s in same_key {
        if let Some(p) = principal {
            if match_pattern_list(p, &s.principals) != 1 {
                why.push(format!("line {}: not for principal {p}", s.line));
                continue;
            }
        }
        if let Some(ns) = &s.namespaces {
            if match_pattern_list(namespace, ns) != 1 {
                why.push(format!(
                    "line {}: namespaces=\"{ns}\" does not allow {namespace}",
                    s.line
                ));
                continue;
            }
        }
        if s.valid_after.is_some_and(|t| now < t) {
            why.push(format!("line {}: not valid yet (valid-after)", s.line));
            continue;
        }
        if s.valid_before.is_some_and(|t| now > t) {
            why.push(format!("line {}: expired (valid-before)", s.line));
            continue;
        }
        ok.push(principal.map_or_else(|| s.principals.clone(), str::to_string));
    }
    if ok.is_empty() {
        Err(format!(
            "the signing key {} is in the allowed signers but not allowed here: {}",
            key.fingerprint(HashAlg::Sha256),
            why.join("; ")
        ))
    } else {
        ok.dedup();
        Ok(ok)
    }
}

/// Seconds since the epoch, now (what `valid-after` and `valid-before` are compared with).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Check a detached SSHSIG signature (`sig`, the armored bytes of a `.sig` file) of `msg`
/// made in `namespace`, read as strictly as `ssh-keygen -Y verify` reads it: the signing key
/// when it holds, else why not. Who the key belongs to is [`check_signer`]'s question.
pub fn check_detached(msg: &[u8], sig: &[u8], namespace: &str) -> Result<PublicKey, String> {
    let sig =
        crate::sshsig::parse_armored(sig).map_err(|e| format!("not an SSH signature: {e}"))?;
    if sig.namespace() != namespace {
        return Err(format!(
            "made for namespace \"{}\", not \"{namespace}\"",
            sig.namespace()
        ));
    }
    let key = PublicKey::new(sig.public_key().clone(), "");
    key.verify(namespace, msg, &sig).map_err(|_| {
        "the signature does not match: the file changed after it was signed, or the signature \
         is damaged"
            .to_string()
    })?;
    Ok(key)
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `signature`, `signer`, `logs`, `document`.
    pub what: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Everything `hwcert verify` found.
#[derive(Debug, Clone)]
pub struct Verification {
    pub report: PathBuf,
    pub checks: Vec<Check>,
    /// Notes that decide nothing (files not covered by the signature, ignored lines).
    pub notes: Vec<String>,
    /// Who signed, when the signing key is an allowed signer.
    pub signer: Option<Signer>,
    /// Whether log files were compared with their hashes: false for a report as the site
    /// publishes it (no logs/ directory), whose logs check then says "not checked".
    pub logs_checked: bool,
}

/// The signer of a report, as the allowed_signers file admits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The principals (or principal patterns) of the allowed_signers lines that admit the key.
    pub principals: Vec<String>,
    /// `SHA256:…`.
    pub fingerprint: String,
}

impl Verification {
    /// Whether every check holds.
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }
}

/// report.json of a report directory, or the file itself.
pub fn report_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("report.json")
    } else {
        p.to_path_buf()
    }
}

/// `FILE.sig`.
pub fn sig_path(report: &Path) -> PathBuf {
    let mut s = report.as_os_str().to_os_string();
    s.push(".sig");
    PathBuf::from(s)
}

/// Verify a report (its directory or its report.json) against an allowed_signers file; with
/// `principal`, the signer must be allowed as that principal. Missing or unreadable inputs are
/// errors; anything that does not hold is a failed [`Check`].
pub fn verify(
    report_or_dir: &Path,
    allowed_signers: &Path,
    principal: Option<&str>,
) -> Result<Verification, Error> {
    let report = report_path(report_or_dir);
    let msg = fs::read(&report).map_err(|e| Error::io(&report, e))?;
    let allowed_text =
        fs::read_to_string(allowed_signers).map_err(|e| Error::io(allowed_signers, e))?;
    let sig_file = sig_path(&report);
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    let mut signer = None;
    let mut logs_checked = false;
    let (signers, warnings) = parse_allowed_signers(&allowed_text);
    for w in warnings {
        notes.push(format!("{}: {w}", allowed_signers.display()));
    }

    // The signature.
    // Read as strictly as ssh-keygen reads it (crate::sshsig), never more leniently.
    match fs::read(&sig_file) {
        Err(e) => checks.push(Check {
            what: "signature",
            ok: false,
            detail: format!("{}: {}", sig_file.display(), documents::io_reason(&e)),
        }),
        Ok(pem) => match crate::sshsig::parse_armored(&pem) {
            Err(e) => checks.push(Check {
                what: "signature",
                ok: false,
                detail: format!("{}: not an SSH signature: {e}", sig_file.display()),
            }),
            Ok(sig) => {
                let key = PublicKey::new(sig.public_key().clone(), "");
                if sig.namespace() != NAMESPACE {
                    checks.push(Check {
                        what: "signature",
                        ok: false,
                        detail: format!(
                            "made for namespace \"{}\", not \"{NAMESPACE}\"",
                            sig.namespace()
                        ),
                    });
                } else {
                    match key.verify(NAMESPACE, &msg, &sig) {
                        Ok(()) => checks.push(Check {
                            what: "signature",
                            ok: true,
                            detail: format!(
                                "good {} signature of {} by {}",
                                sig.algorithm(),
                                report.display(),
                                key.fingerprint(HashAlg::Sha256)
                            ),
                        }),
                        Err(_) => checks.push(Check {
                            what: "signature",
                            ok: false,
                            detail: format!(
                                "does not match {}: the report changed after it was signed, or \
                                 the signature is damaged",
                                report.display()
                            ),
                        }),
                    }
                }
                match check_signer(&signers, &key, principal, NAMESPACE, now_secs()) {
                    Ok(p) => {
                        checks.push(Check {
                            what: "signer",
                            ok: true,
                            detail: format!(
                                "allowed by {} as {}",
                                allowed_signers.display(),
                                p.join(", ")
                            ),
                        });
                        signer = Some(Signer {
                            principals: p,
                            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
                        });
                    }
                    Err(why) => checks.push(Check {
                        what: "signer",
                        ok: false,
                        detail: why,
                    }),
                }
            }
        },
    }

    // The document and its logs.
    let dir = report
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match serde_json::from_slice::<serde_json::Value>(&msg) {
        Err(e) => checks.push(Check {
            what: "document",
            ok: false,
            detail: format!("{}: not JSON: {e}", report.display()),
        }),
        Ok(doc) => {
            let schema = doc.get("schema").and_then(|s| s.as_str()).unwrap_or("");
            if schema != documents::report::SCHEMA {
                checks.push(Check {
                    what: "document",
                    ok: false,
                    detail: format!(
                        "{}: schema \"{schema}\", not \"{}\"",
                        report.display(),
                        documents::report::SCHEMA
                    ),
                });
            }
            let c = check_logs(dir, &doc, &mut notes);
            logs_checked = !(c.ok && c.detail.starts_with(LOGS_NOT_CHECKED));
            checks.push(c);
        }
    }
    Ok(Verification {
        report,
        checks,
        notes,
        signer,
        logs_checked,
    })
}

/// How the logs check of a report without logs/ starts.
const LOGS_NOT_CHECKED: &str = "not checked";

fn check_logs(dir: &Path, doc: &serde_json::Value, notes: &mut Vec<String>) -> Check {
    let Some(list) = doc.get("logs").and_then(|l| l.as_array()) else {
        return Check {
            what: "logs",
            ok: false,
            detail: "the report has no list of logs".into(),
        };
    };
    // A report as the site publishes it: report.json and its signature, no logs/ directory at
    // all. Nothing to compare then; say so instead of calling every log missing. A logs/
    // directory that exists is checked in full: a log missing from it, changed or added is
    // found as before.
    let no_logs_dir = matches!(fs::symlink_metadata(dir.join("logs")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    if no_logs_dir && !list.is_empty() {
        return Check {
            what: "logs",
            ok: true,
            detail: format!(
                "{LOGS_NOT_CHECKED}: logs are not part of a published report and there is no logs/ \
                 directory here, so the {} log files report.json lists (with their SHA-256, \
                 under the signature) were not compared",
                list.len()
            ),
        };
    }
    let mut bad = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    for l in list {
        let path = l.get("path").and_then(|p| p.as_str()).unwrap_or("");
        let want = l.get("sha256").and_then(|p| p.as_str()).unwrap_or("");
        if !is_log_path(path) {
            bad.push(format!("\"{path}\" is not a path under logs/"));
            continue;
        }
        listed.insert(path.to_string());
        match fs::read(dir.join(path)) {
            Err(e) => bad.push(format!("{path}: {}", documents::io_reason(&e))),
            Ok(b) => {
                let got = hex(&Sha256::digest(&b));
                if got != want {
                    bad.push(format!(
                        "{path}: changed (SHA-256 {got}, the report says {want})"
                    ));
                }
            }
        }
    }
    let mut scan = Vec::new();
    if let Ok(found) = documents::rundir::list_logs(dir, &mut scan) {
        for f in found.into_iter().filter(|f| !listed.contains(f)) {
            notes.push(format!(
                "{}: not in the report, not covered by the signature",
                dir.join(f).display()
            ));
        }
    }
    if bad.is_empty() {
        Check {
            what: "logs",
            ok: true,
            detail: format!("{} log files match their hashes", listed.len()),
        }
    } else {
        let n = bad.len();
        let mut shown: Vec<String> = bad.into_iter().take(10).collect();
        if n > 10 {
            shown.push(format!("and {} more", n - 10));
        }
        Check {
            what: "logs",
            ok: false,
            detail: format!(
                "{n} of {} log files do not match: {}",
                list.len(),
                shown.join("; ")
            ),
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(match_pattern("lab@example.com", "*@example.com"));
        assert!(match_pattern("lab@example.com", "lab@example.co?"));
        assert!(!match_pattern("lab@example.com", "lab@example.co"));
        assert!(match_pattern("", "*"));
        assert!(match_pattern("a", "***a**"));
        assert_eq!(match_pattern_list("hwcert-report", "file,hwcert-*"), 1);
        assert_eq!(match_pattern_list("hwcert-report", "file"), 0);
        assert_eq!(match_pattern_list("bob@x", "*@x,!bob@x"), -1);
        assert_eq!(match_pattern_list("ann@x", "*@x,!bob@x"), 1);
        // Exponential for a backtracking matcher (2^30 ways to place the stars); the old one
        // here never returned.
        let hostile = format!("{}b", "*a".repeat(30));
        assert!(!match_pattern(&"a".repeat(3000), &hostile));
    }

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoEnCiIdcjbPDA+zdsqEeCkmZsvlyPXX0dAOGLWYuYY";

    #[test]
    fn allowed_signers_lines() {
        let text = format!(
            "# comment\n\n\
             lab@example.com {KEY} a comment\n\
             \"a@x,b@y\" namespaces=\"hwcert-report,file\",valid-after=\"20200101\" {KEY}\n\
             c@z cert-authority {KEY}\n\
             d@z bogus-option {KEY}\n\
             e@z valid-before=\"yesterday\" {KEY}\n\
             f@z ssh-ed25519 notbase64\n"
        );
        let (s, w) = parse_allowed_signers(&text);
        assert_eq!(s.len(), 3, "{w:?}");
        assert_eq!(s[0].principals, "lab@example.com");
        assert_eq!(s[0].namespaces, None);
        assert_eq!(s[1].principals, "a@x,b@y");
        assert_eq!(s[1].namespaces.as_deref(), Some("hwcert-report,file"));
        assert_eq!(s[1].valid_after, parse_timestamp("20200101"));
        assert!(s[2].cert_authority);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("line 6: unknown option"), "{w:?}");
        assert!(w[1].starts_with("line 7: valid-before"), "{w:?}");
        assert!(w[2].starts_with("line 8: no public key"), "{w:?}");
    }

    #[test]
    fn signers() {
        let key = PublicKey::from_openssh(KEY).expect("a key");
        let line = |l: &str| parse_allowed_signers(l).0;
        let now = 1_700_000_000;
        let ok = line(&format!(
            "lab@example.com namespaces=\"hwcert-report\" {KEY}"
        ));
        assert!(check_signer(&ok, &key, Some("lab@example.com"), NAMESPACE, now).is_ok());
        assert!(check_signer(&ok, &key, None, NAMESPACE, now).is_ok());
        let e = check_signer(&ok, &key, Some("other@example.com"), NAMESPACE, now)
            .expect_err("refused");
        assert!(e.contains("not for principal other@example.com"), "{e}");
        let ns = line(&format!("lab@example.com namespaces=\"file\" {KEY}"));
        let e = check_signer(&ns, &key, None, NAMESPACE, now).expect_err("refused");
        assert!(e.contains("does not allow hwcert-report"), "{e}");
        let expired = line(&format!("lab@example.com valid-before=\"20200101Z\" {KEY}"));
        assert!(check_signer(&expired, &key, None, NAMESPACE, now)
            .expect_err("refused")
            .contains("expired"));
        let e = check_signer(&[], &key, None, NAMESPACE, now).expect_err("refused");
        assert!(e.contains("not in the allowed signers"), "{e}");
        assert_eq!(parse_timestamp("20231114221320Z"), Some(1_700_000_000));
    }
}
