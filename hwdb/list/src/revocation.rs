//! # Revocations: the signed documents that withdraw certifications, and their verification
//!
//! `hwcert hwdb revoke` (see [`crate::revoke`]) withdraws one report's certification of one
//! entry. What it writes is a small JSON document, [`RevocationDoc`] (schema
//! `hwcert.revocation/1`), signed as an OpenSSH SSHSIG in the namespace
//! [`NAMESPACE`] (`hwcert-revocation`), kept in the store beside the entries:
//!
//! ```text
//! DIR/revocations/<entry id>/<report sha256>.json       the document (pretty JSON, a newline)
//! DIR/revocations/<entry id>/<report sha256>.json.sig   its armored signature
//! ```
//!
//! and a [`Revocation`] record on the withdrawn [`Certification`] of the entry file, which
//! holds the document's facts and its SHA-256. Nothing is deleted: the certification stays in
//! the entry's history, marked. Stock OpenSSH checks a revocation without hwcert:
//!
//! ```text
//! ssh-keygen -Y verify -f maintainers -I PRINCIPAL -n hwcert-revocation -s X.json.sig < X.json
//! ```
//!
//! **Verified on load.** Whatever answers from the store checks the revocations of what it
//! answers about ([`verify_entry`]): `hwdb query` and `hwdb add` the entries they touch,
//! `hwdb revoke` its target, `hwdb publish` every one ([`crate::revoke::verify_store`]) before
//! it writes anything. A revocation holds when its document is there, reads as a
//! `hwcert.revocation/1` document for this entry and this report, is the one the entry
//! records (SHA-256 and every fact), and its signature verifies over its bytes with the key
//! the record names. A document the entry does not record is an error too, so deleting the
//! record from an entry file cannot quietly reinstate a withdrawn certification. Any of these
//! failing is [`HclError::Tampered`], naming the file: the store is not answered from, and
//! nothing is written. Whether the key is a maintainer's needs the maintainers' file
//! ([`Trust`]): it is checked when the revocation is made (`hwdb revoke --maintainers`) and,
//! given the file, when the site is published (`hwdb publish --maintainers`:
//! [`HclError::Untrusted`]); the principal and fingerprint are shown wherever a revocation is.
//! Without the file, someone who can write the store could revoke with a key of their own
//! that verifies against itself — which the file, and the review of the store's history,
//! catch.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::entry::{Certification, Entry, Revocation};
use crate::error::HclError;
use crate::layout::REVOCATIONS_DIR;

/// The schema of a revocation document.
pub const REVOCATION_SCHEMA: &str = "hwcert.revocation/1";

/// The SSHSIG namespace revocations are signed in: not `hwcert-report`, so that a signed
/// revocation can never pass for a signed report or the other way round, and so that an
/// allowed_signers line can admit a key for one and not the other.
pub const NAMESPACE: &str = "hwcert-revocation";

/// The list maintainers' allowed_signers file: the keys that may revoke (for [`NAMESPACE`]).
#[derive(Debug, Clone)]
pub struct Trust {
    pub file: PathBuf,
    pub signers: Vec<reports::verify::AllowedSigner>,
}

impl Trust {
    /// Read an allowed_signers file (lines it cannot understand are ignored, as ssh-keygen
    /// ignores them).
    pub fn read(file: &Path) -> Result<Trust, HclError> {
        let text = fs::read_to_string(file).map_err(|e| HclError::Io {
            path: file.to_path_buf(),
            error: e,
        })?;
        Ok(Trust {
            file: file.to_path_buf(),
            signers: reports::verify::parse_allowed_signers(&text).0,
        })
    }

    /// The principals the file admits `key` as, for revocations now; or why not.
    pub fn admit(&self, key: &reports::verify::PublicKey) -> Result<Vec<String>, String> {
        reports::verify::check_signer(
            &self.signers,
            key,
            None,
            NAMESPACE,
            reports::verify::now_secs(),
        )
    }
}

/// A signed revocation document: one report's certification of one entry, withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationDoc {
    pub schema: String,
    /// The entry's ID.
    pub entry: String,
    /// The report whose certification of the entry is withdrawn.
    pub report_sha256: String,
    /// When (UTC, RFC 3339).
    pub date: String,
    /// Why.
    pub reason: String,
    /// The principal(s) the maintainers' allowed_signers file admitted the key as.
    pub revoked_by: String,
    /// The signing key's SHA-256 fingerprint.
    pub signing_key: String,
}

impl RevocationDoc {
    /// The document as its file holds it, and as it is signed: pretty JSON and a newline.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        // Plain strings: serializing cannot fail.
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The record an entry keeps of this document (`bytes` are the document's).
    pub fn record(&self, bytes: &[u8]) -> Revocation {
        Revocation {
            date: self.date.clone(),
            reason: self.reason.clone(),
            revoked_by: self.revoked_by.clone(),
            signing_key: self.signing_key.clone(),
            document_sha256: hwsys::hash::sha256_hex(bytes),
        }
    }
}

/// `DIR/revocations/<entry id>`.
pub fn revocations_dir(root: &Path, entry_id: &str) -> PathBuf {
    root.join(REVOCATIONS_DIR).join(entry_id)
}

/// `DIR/revocations/<entry id>/<report sha256>.json`.
pub fn document_path(root: &Path, entry_id: &str, report_sha256: &str) -> PathBuf {
    revocations_dir(root, entry_id).join(format!("{report_sha256}.json"))
}

/// `FILE.sig`.
pub fn signature_path(doc: &Path) -> PathBuf {
    let mut s = doc.as_os_str().to_os_string();
    s.push(".sig");
    PathBuf::from(s)
}

/// The reports (SHA-256s) that have a revocation document for `entry_id`.
pub fn documents_of(root: &Path, entry_id: &str) -> Result<BTreeSet<String>, HclError> {
    let dir = revocations_dir(root, entry_id);
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => {
            return Err(HclError::Io {
                path: dir,
                error: e,
            })
        }
    };
    Ok(rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect())
}

fn tampered(path: &Path, why: impl Into<String>) -> HclError {
    HclError::Tampered {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

/// Check one certification's revocation record against its signed document (see the module's
/// documentation for what must hold); with `trust`, the signing key must also be one the
/// maintainers' file admits now ([`HclError::Untrusted`] otherwise).
pub fn verify_record(
    root: &Path,
    entry_id: &str,
    cert: &Certification,
    rec: &Revocation,
    trust: Option<&Trust>,
) -> Result<(), HclError> {
    let path = document_path(root, entry_id, &cert.report_sha256);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(tampered(
                &path,
                format!(
                    "entry {entry_id} records a revocation on {} but its signed document is \
                     missing",
                    rec.date
                ),
            ))
        }
        Err(e) => return Err(HclError::Io { path, error: e }),
    };
    let sha = hwsys::hash::sha256_hex(&bytes);
    if sha != rec.document_sha256 {
        return Err(tampered(
            &path,
            format!(
                "its SHA-256 is {sha}, the entry records {}: the document changed, or the \
                 entry's record did",
                rec.document_sha256
            ),
        ));
    }
    let doc: RevocationDoc = serde_json::from_slice(&bytes)
        .map_err(|e| tampered(&path, format!("not a revocation document: {e}")))?;
    let want = RevocationDoc {
        schema: REVOCATION_SCHEMA.into(),
        entry: entry_id.into(),
        report_sha256: cert.report_sha256.clone(),
        date: rec.date.clone(),
        reason: rec.reason.clone(),
        revoked_by: rec.revoked_by.clone(),
        signing_key: rec.signing_key.clone(),
    };
    if doc != want {
        let mut differ = Vec::new();
        for (what, a, b) in [
            ("schema", &doc.schema, &want.schema),
            ("entry", &doc.entry, &want.entry),
            ("report_sha256", &doc.report_sha256, &want.report_sha256),
            ("date", &doc.date, &want.date),
            ("reason", &doc.reason, &want.reason),
            ("revoked_by", &doc.revoked_by, &want.revoked_by),
            ("signing_key", &doc.signing_key, &want.signing_key),
        ] {
            if a != b {
                differ.push(what);
            }
        }
        return Err(tampered(
            &path,
            format!(
                "the document and the entry's record of it differ ({})",
                differ.join(", ")
            ),
        ));
    }
    let sig_path = signature_path(&path);
    let sig = match fs::read(&sig_path) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(tampered(&sig_path, "the revocation's signature is missing"))
        }
        Err(e) => {
            return Err(HclError::Io {
                path: sig_path,
                error: e,
            })
        }
    };
    let key = reports::verify::check_detached(&bytes, &sig, NAMESPACE)
        .map_err(|why| tampered(&sig_path, why))?;
    let fp = reports::keys::fingerprint(&key);
    if fp != rec.signing_key {
        return Err(tampered(
            &sig_path,
            format!(
                "signed by {fp}, but the revocation names {} as its key",
                rec.signing_key
            ),
        ));
    }
    if let Some(t) = trust {
        t.admit(&key).map_err(|why| HclError::Untrusted {
            path: sig_path.clone(),
            why: format!(
                "{why}: {} admits no such key for \"{NAMESPACE}\"",
                t.file.display()
            ),
        })?;
    }
    Ok(())
}

/// Check every revocation of an entry: each record against its document (and, with `trust`,
/// its key against the maintainers' file), and each document of the entry against a record
/// (`docs`: the entry's documents, as [`documents_of`] lists them; read here when `None`). A document of the report `tolerate` without a record is let
/// be: a revoke that was interrupted, which the revoke running now completes.
pub fn verify_entry(
    root: &Path,
    e: &Entry,
    docs: Option<&BTreeSet<String>>,
    tolerate: Option<&str>,
    trust: Option<&Trust>,
) -> Result<(), HclError> {
    for c in &e.certifications {
        if let Some(rec) = &c.revocation {
            verify_record(root, &e.id, c, rec, trust)?;
        }
    }
    let listed;
    let docs = match docs {
        Some(d) => d,
        None => {
            listed = documents_of(root, &e.id)?;
            &listed
        }
    };
    for sha in docs {
        let recorded = e
            .certifications
            .iter()
            .any(|c| &c.report_sha256 == sha && c.revocation.is_some());
        if !recorded && tolerate != Some(sha.as_str()) {
            return Err(tampered(
                &document_path(root, &e.id, sha),
                format!(
                    "it withdraws report {sha} from entry {}, but the entry does not record it: \
                     the record was removed from the entry file, or a revoke was interrupted \
                     (run the same `hwcert hwdb revoke` again, or restore the entry from the \
                     list's history)",
                    e.id
                ),
            ));
        }
    }
    Ok(())
}
