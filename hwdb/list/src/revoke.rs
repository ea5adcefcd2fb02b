//! # Withdrawing a certification: `hwcert hwdb revoke`
//!
//! [`revoke`] withdraws one report's certification of one entry (or, given only the report,
//! of every entry it certified): it writes a signed, dated [`RevocationDoc`] with the reason
//! into `revocations/` and records it on the certification in the entry file, under the
//! store's lock, every file written atomically. Nothing is deleted: the certification stays
//! in the entry's history, marked revoked; when it was the entry's current certification the
//! entry is revoked (see [`crate::entry::Entry::revoked`]), and `hwdb query`, `hwdb publish`
//! and the site say so. What makes a revocation hold, and when it is checked, is
//! [`crate::revocation`]'s.
//!
//! ## Who may revoke: the list's maintainers, not the labs
//!
//! A report is signed by the lab that ran it, and `hwdb add --allowed-signers` names the labs
//! whose reports the list accepts. Withdrawing a certification is another act: it overrules a
//! lab's signed report, often because of what the lab did (a forged or mistaken run, a
//! hardware defect found later). If a lab's key could revoke, one lab could withdraw
//! another's certifications, or quietly its own to start over. So a revocation must be signed
//! by a key of the list's maintainers, named in their own allowed_signers file
//! (`--maintainers FILE`, which only the people who keep the store write) and allowed there
//! for the namespace `hwcert-revocation`: a line
//!
//! ```text
//! hcl-maintainer@opencloudos.org namespaces="hwcert-revocation" ssh-ed25519 AAAA…
//! ```
//!
//! The labs' file does not do: `hwcert keygen` writes its lines with
//! `namespaces="hwcert-report"`, which does not allow `hwcert-revocation`, so handing the labs'
//! file to `--maintainers` by mistake refuses their keys too. (A line without `namespaces=`
//! allows every namespace, as in ssh-keygen; the maintainers' file should say it.) The key
//! signs in its own SSHSIG namespace, so a revocation can never be passed off as a report
//! signature or the other way round.
//!
//! ## Re-certification after a revocation
//!
//! A revoked entry is not certified again by accident: `hwdb add` refuses a report that
//! would become the current certification of a revoked entry unless `--reinstate` is given
//! ([`crate::store::AddOptions`]). With it the newer report is the new current
//! certification, and the revocation stays in the history. A report older than the revoked
//! one only joins the history.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::entry::Entry;
use crate::error::HclError;
use crate::key::Kind;
use crate::layout::REVOCATIONS_DIR;
use crate::revocation::{
    document_path, documents_of, signature_path, verify_entry, RevocationDoc, Trust, NAMESPACE,
    REVOCATION_SCHEMA,
};
use crate::store::{write_atomic, Store};

/// What to withdraw: an entry's current certification, a given report's certification of an
/// entry, or (a report alone) that report's certification of every entry it certified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// An entry ID (`pci-8086-1572-8086-0001.opencloudos-9.2.x86_64`).
    pub entry: Option<String>,
    /// The SHA-256 of the report whose certification is withdrawn.
    pub report: Option<String>,
}

/// Why [`revoke`] did not revoke; each has its own exit status ([`RevokeError::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// The request itself is wrong (no target, an empty reason, not a SHA-256).
    #[error("{0}")]
    Usage(String),
    /// Already revoked: nothing changed.
    #[error("{0}")]
    Already(String),
    /// No such entry, or no entry cites the report.
    #[error("{0}")]
    Unknown(String),
    /// The key is not a maintainer's.
    #[error("{0}")]
    Untrusted(String),
    /// The key cannot be read, or the store fails (or a revocation in it does not verify).
    #[error(transparent)]
    Store(#[from] HclError),
    #[error(transparent)]
    Key(#[from] documents::Error),
}

impl RevokeError {
    /// The exit status of `hwcert hwdb revoke` for this error (see `documents::exit`).
    pub fn exit_code(&self) -> u8 {
        use documents::exit;
        match self {
            RevokeError::Usage(_) => exit::USAGE,
            RevokeError::Already(_) => exit::ALREADY,
            RevokeError::Unknown(_) => exit::UNKNOWN,
            RevokeError::Untrusted(_) => exit::UNTRUSTED,
            RevokeError::Store(HclError::Tampered { .. }) => exit::TAMPERED,
            RevokeError::Store(_) | RevokeError::Key(_) => exit::NO,
        }
    }
}

/// One certification withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub entry: String,
    pub title: String,
    pub report_sha256: String,
    /// Whether it was the entry's current certification (the entry is revoked now).
    pub was_current: bool,
    /// The signed document and its signature.
    pub document: PathBuf,
    pub signature: PathBuf,
}

/// What [`revoke`] did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub revoked: Vec<Revoked>,
    /// Certifications of the report that were revoked before (a report alone as the target).
    pub already: Vec<String>,
    /// The principal(s) the maintainers' file admits the key as, and its fingerprint.
    pub revoked_by: String,
    pub signing_key: String,
}

/// A plain entry ID: what [`crate::key::Key::id`] makes (never a path).
fn plain_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Withdraw `target` for `reason`, dated `date` (UTC, RFC 3339), signed with the private key
/// at `key` (see [`reports::keys::load_signing_key`]), which the allowed_signers file
/// `maintainers` must admit for the `hwcert-revocation` namespace. Everything is checked
/// before anything is written; the target's revocations are verified first.
pub fn revoke(
    store: &Store,
    target: &Target,
    reason: &str,
    date: &str,
    key: &Path,
    maintainers: &Path,
) -> Result<Outcome, RevokeError> {
    if target.entry.is_none() && target.report.is_none() {
        return Err(RevokeError::Usage(
            "name the entry to revoke (its ID, as `hwcert hwdb query` prints it), the report \
             (--report SHA256), or both"
                .into(),
        ));
    }
    if reason.trim().is_empty() {
        return Err(RevokeError::Usage(
            "--reason must say why the certification is withdrawn".into(),
        ));
    }
    if hwsys::time::parse_rfc3339(date).is_none() {
        return Err(RevokeError::Usage(format!(
            "\"{date}\" is not an RFC 3339 time"
        )));
    }
    if let Some(e) = &target.entry {
        if !plain_id(e) {
            return Err(RevokeError::Usage(format!(
                "\"{}\" is not an entry ID (letters, digits, '.', '_', '-'; as `hwcert hwdb \
                 query` prints it)",
                hwsys::text::escape_controls(e)
            )));
        }
    }
    if let Some(r) = &target.report {
        if !is_sha256(r) {
            return Err(RevokeError::Usage(format!(
                "--report \"{}\" is not a report's SHA-256 (64 lowercase hex digits; `hwcert \
                 hwdb query --json` shows each certification's report_sha256)",
                hwsys::text::escape_controls(r)
            )));
        }
    }

    // The key, and whether a maintainer's: before the store is touched.
    let private = reports::keys::load_signing_key(key)?;
    let public = private.public_key();
    let fingerprint = reports::keys::fingerprint(public);
    let principals = Trust::read(maintainers)?.admit(public).map_err(|why| {
        RevokeError::Untrusted(format!(
            "{}: {why}: only a list maintainer's key, on a line of {} allowed for namespace \
             \"{NAMESPACE}\", may revoke",
            key.display(),
            maintainers.display()
        ))
    })?;
    let revoked_by = principals.join(", ");

    let _lock = store.lock()?;
    let mut targets = find_targets(store, target)?;
    let mut already = Vec::new();
    targets.retain(|(e, i)| match &e.certifications[*i].revocation {
        Some(r) => {
            already.push(format!(
                "{} (report {}): revoked on {} by {}: {}",
                e.id,
                &e.certifications[*i].report_sha256,
                r.date,
                r.revoked_by,
                hwsys::text::escape_controls(&r.reason)
            ));
            false
        }
        None => true,
    });
    if targets.is_empty() {
        return Err(RevokeError::Already(format!(
            "already revoked, nothing changed: {}",
            already.join("; ")
        )));
    }
    // Each entry once, with all its certifications to withdraw.
    let mut by_entry: BTreeMap<String, (Entry, Vec<usize>)> = BTreeMap::new();
    for (e, i) in targets {
        by_entry
            .entry(e.id.clone())
            .or_insert_with(|| (e, Vec::new()))
            .1
            .push(i);
    }
    let mut out = Outcome {
        revoked_by: revoked_by.clone(),
        signing_key: fingerprint.clone(),
        already,
        ..Outcome::default()
    };
    for (id, (mut e, idx)) in by_entry {
        for i in idx {
            let sha = e.certifications[i].report_sha256.clone();
            let doc = RevocationDoc {
                schema: REVOCATION_SCHEMA.into(),
                entry: id.clone(),
                report_sha256: sha.clone(),
                date: date.to_string(),
                reason: reason.to_string(),
                revoked_by: revoked_by.clone(),
                signing_key: fingerprint.clone(),
            };
            let bytes = doc.to_file_bytes();
            let sig = reports::keys::sign_in(&private, NAMESPACE, &bytes)?;
            let path = document_path(store.root(), &id, &sha);
            if let Some(d) = path.parent() {
                fs::create_dir_all(d).map_err(|e| HclError::Io {
                    path: d.to_path_buf(),
                    error: e,
                })?;
            }
            // The signature first, then the document, then the entry's record: whatever a
            // crash leaves, the next load says so, and the same revoke completes it.
            let sig_path = signature_path(&path);
            write_atomic(&sig_path, sig.as_bytes())?;
            write_atomic(&path, &bytes)?;
            e.certifications[i].revocation = Some(doc.record(&bytes));
            out.revoked.push(Revoked {
                entry: id.clone(),
                title: e.title(),
                report_sha256: sha,
                was_current: i == 0,
                document: path,
                signature: sig_path,
            });
        }
        write_atomic(&store.entry_path(e.kind, &id), &e.to_file_bytes())?;
    }
    Ok(out)
}

/// The certifications `target` names (entry, index of the certification), each entry's
/// revocations verified; an interrupted revoke of the same certification is let be.
fn find_targets(store: &Store, target: &Target) -> Result<Vec<(Entry, usize)>, RevokeError> {
    match (&target.entry, &target.report) {
        (Some(id), report) => {
            let e = read_entry(store, id)?.ok_or_else(|| {
                RevokeError::Unknown(format!(
                    "no entry {id} in {}: `hwcert hwdb query --db {}` lists the entries and \
                     their IDs",
                    store.root().display(),
                    store.root().display()
                ))
            })?;
            let i = match report {
                None => {
                    if e.certifications.is_empty() {
                        return Err(RevokeError::Unknown(format!(
                            "entry {id} has no certification to revoke"
                        )));
                    }
                    0
                }
                Some(sha) => e
                    .certifications
                    .iter()
                    .position(|c| &c.report_sha256 == sha)
                    .ok_or_else(|| {
                        RevokeError::Unknown(format!(
                            "entry {id} has no certification by report {sha}; its reports: {}",
                            e.certifications
                                .iter()
                                .map(|c| c.report_sha256.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?,
            };
            let sha = e.certifications[i].report_sha256.clone();
            verify_entry(store.root(), &e, None, Some(&sha), None)?;
            Ok(vec![(e, i)])
        }
        (None, Some(sha)) => {
            let (entries, _) = store.entries(threads())?;
            let mut out = Vec::new();
            for e in entries {
                if let Some(i) = e
                    .certifications
                    .iter()
                    .position(|c| &c.report_sha256 == sha)
                {
                    verify_entry(store.root(), &e, None, Some(sha), None)?;
                    out.push((e, i));
                }
            }
            if out.is_empty() {
                return Err(RevokeError::Unknown(format!(
                    "no entry of {} cites report {sha}",
                    store.root().display()
                )));
            }
            Ok(out)
        }
        (None, None) => Ok(Vec::new()),
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The entry with this ID, if the store holds it (systems are `sys-…`, components the rest).
fn read_entry(store: &Store, id: &str) -> Result<Option<Entry>, HclError> {
    for kind in [Kind::System, Kind::Component] {
        let path = store.entry_path(kind, id);
        match fs::read(&path) {
            Ok(b) => return Entry::from_file_bytes(&path, &b).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(HclError::Io { path, error: e }),
        }
    }
    Ok(None)
}

/// Verify every revocation of the store (what `hwcert hwdb publish` does before it writes
/// anything): every entry file that records one or has a document, and every document
/// against an entry that records it; with `trust`, every revoking key against the
/// maintainers' file. Entry files that do not parse are left to the reader that warns of
/// them. Returns how many revocations hold.
///
/// It reads every entry file (a record can be in any), apart from the site's own read: for
/// 100,000 entries 3.7–5.0 s against 14–16 s for the publish itself on a loaded two-CPU
/// machine (`hcl_store verify` and `publish`, release build). Verifying the views the site
/// parses anyway would save that read.
pub fn verify_store(
    store: &Store,
    threads: usize,
    trust: Option<&Trust>,
) -> Result<usize, HclError> {
    let root = store.root();
    let mut docs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let dir = root.join(REVOCATIONS_DIR);
    match fs::read_dir(&dir) {
        Ok(rd) => {
            for d in rd.filter_map(|e| e.ok()) {
                if let Ok(id) = d.file_name().into_string() {
                    if !id.starts_with('.') && d.path().is_dir() {
                        let set = documents_of(root, &id)?;
                        if !set.is_empty() {
                            docs.insert(id, set);
                        }
                    }
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(HclError::Io {
                path: dir,
                error: e,
            })
        }
    }
    let paths = store.entry_paths()?;
    let threads = threads.clamp(1, 64).min(paths.len().max(1));
    let chunk = paths.len().div_ceil(threads).max(1);
    let docs_ref = &docs;
    // Per chunk: the entry IDs seen (parsed or not) and the revocations verified, or the
    // first failure.
    let results: Vec<Result<(Vec<String>, usize), HclError>> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut seen = Vec::new();
                    let mut n = 0;
                    for p in part {
                        let Some(stem) = p
                            .file_name()
                            .and_then(|n| n.to_str())
                            .and_then(|n| n.strip_suffix(".json"))
                        else {
                            continue;
                        };
                        seen.push(stem.to_string());
                        let listed = docs_ref.get(stem);
                        let b = match fs::read(p) {
                            Ok(b) => b,
                            Err(_) => continue,
                        };
                        // The store writes the field's name as it is; a file with escapes
                        // (which could spell it otherwise) is parsed to be sure.
                        if listed.is_none()
                            && memchr::memmem::find(&b, b"\"revocation\"").is_none()
                            && memchr::memmem::find(&b, b"\\u").is_none()
                        {
                            continue;
                        }
                        let Ok(e) = Entry::from_file_bytes(p, &b) else {
                            continue;
                        };
                        let empty = BTreeSet::new();
                        verify_entry(root, &e, Some(listed.unwrap_or(&empty)), None, trust)?;
                        n += e
                            .certifications
                            .iter()
                            .filter(|c| c.revocation.is_some())
                            .count();
                    }
                    Ok((seen, n))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(HclError::Invalid(
                        "a thread verifying revocations panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut seen = BTreeSet::new();
    let mut n = 0;
    for r in results {
        let (s, k) = r?;
        seen.extend(s);
        n += k;
    }
    for (id, shas) in &docs {
        if !seen.contains(id) {
            let sha = shas.iter().next().map(String::as_str).unwrap_or("");
            return Err(HclError::Tampered {
                path: document_path(root, id, sha),
                why: format!(
                    "it withdraws a certification of entry {id}, which the store does not hold"
                ),
            });
        }
    }
    Ok(n)
}
