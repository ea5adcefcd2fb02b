//! # The hardware compatibility list (HCL) store
//!
//! A store is a directory — by convention a git checkout of the list — holding one JSON file
//! per certified system and one per certified component, written with a fixed key order and
//! formatting (two-space indent, a trailing newline) so that changes review well as diffs:
//!
//! ```text
//! DIR/systems/sys-inspur-nf5280m5-1a2b3c4d.opencloudos-8.8.x86_64.json
//! DIR/components/pci-1000-10e2-1000-40e2.opencloudos-8.8.x86_64.json
//! DIR/reports/<sha256 of report.json>/report.json, report.json.sig
//! DIR/.lock, DIR/.gitignore
//! ```
//!
//! A component is keyed by its PCI vendor, device and subsystem IDs, a system by its DMI vendor
//! and product names; both together with the OS release (os-release `ID` and `VERSION_ID`) and
//! the architecture. IDs, never names, key components: names come from the pci-ids database
//! and change between its versions. Each entry keeps every certification that covered it,
//! newest first, each citing the report (its SHA-256), so a re-certification updates the entry
//! and keeps its history.
//!
//! [`Store::add`] takes the store's lock (`flock` on `DIR/.lock`) for the whole update and
//! writes every file atomically (a temporary file in the same directory, fsync, rename), so two
//! `add`s at once lose nothing, and a crash leaves each file either old or new. Adding the same
//! report again changes nothing, so an interrupted `add` is completed by running it again.
//!
//! A report is kept as what was signed: report.json and its signature. Stores filled by
//! older hwcert versions also hold the submitted report.html and report.md there; nothing
//! reads them (they are not signed, so a site renders its own, see [`crate::site`]).
//!
//! This crate does not verify reports: callers hand [`Store::add`] a [`Submission`] made from a
//! report whose signature they checked (`hwcert hwdb add` does).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::entry::{Certification, Entry, Names, SCHEMA};
use crate::error::{io_err, HclError};
use crate::key::{Key, Kind};
use crate::layout::{COMPONENTS_DIR, REPORTS_DIR, SYSTEMS_DIR};

const LOCK_FILE: &str = ".lock";

/// An entry a report certifies, to be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub key: Key,
    pub names: Names,
    pub certification: Certification,
}

/// Everything one verified report adds to the store.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// SHA-256 of report.json.
    pub report_sha256: String,
    /// Files of the report kept in the store beside the entries (`report.json` and
    /// `report.json.sig`, what was signed: never a submitter's unsigned renderings): plain
    /// names and their bytes.
    pub report_files: Vec<(String, Vec<u8>)>,
    pub entries: Vec<NewEntry>,
}

/// What [`Store::add`] did, entry by entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddOutcome {
    /// New entries.
    pub added: Vec<String>,
    /// Entries with a new certification (a re-certification).
    pub updated: Vec<String>,
    /// Entries that already cite this report.
    pub unchanged: Vec<String>,
}

/// How [`Store::add_with`] adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddOptions {
    /// Let a newer report certify again an entry whose current certification was revoked.
    pub reinstate: bool,
}

/// An HCL store directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// The store's lock, held while the value lives.
pub struct StoreLock {
    _lock: hwsys::fs::Lock,
}

/// Write `bytes` to `path` atomically with [`hwsys::fs::write_atomic`]: a temporary file
/// beside it (`.tmp-PID-N-NAME`, which the store's .gitignore leaves out), fsync, rename, fsync
/// of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), HclError> {
    hwsys::fs::write_atomic(path, bytes).map_err(io_err(path))
}

impl Store {
    /// A store that exists.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, HclError> {
        let root = root.into();
        let md = fs::metadata(&root).map_err(io_err(&root))?;
        if !md.is_dir() {
            return Err(HclError::Io {
                path: root,
                error: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            });
        }
        if !root.join(SYSTEMS_DIR).is_dir() && !root.join(COMPONENTS_DIR).is_dir() {
            return Err(HclError::NotAStore(root));
        }
        Ok(Store { root })
    }

    /// The store at `root`, made (with its subdirectories and a .gitignore for the lock and
    /// temporary files) where missing.
    pub fn create(root: impl Into<PathBuf>) -> Result<Store, HclError> {
        let root = root.into();
        for d in [SYSTEMS_DIR, COMPONENTS_DIR, REPORTS_DIR] {
            let p = root.join(d);
            fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        let gi = root.join(".gitignore");
        if !gi.exists() {
            write_atomic(
                &gi,
                b"# hwcert hwdb: the store's lock and interrupted writes\n/.lock\n.tmp-*\n",
            )?;
        }
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Take the store's lock, waiting for another writer to finish.
    pub fn lock(&self) -> Result<StoreLock, HclError> {
        let p = self.root.join(LOCK_FILE);
        match hwsys::fs::Lock::take(&p, hwsys::fs::Wait::Yes).map_err(io_err(&p))? {
            Some(lock) => Ok(StoreLock { _lock: lock }),
            // Waiting, the lock is always had in the end.
            None => Err(HclError::Io {
                path: p,
                error: io::ErrorKind::WouldBlock.into(),
            }),
        }
    }

    /// The file of an entry.
    pub fn entry_path(&self, kind: Kind, id: &str) -> PathBuf {
        self.root.join(kind.dir()).join(format!("{id}.json"))
    }

    /// The directory holding a report's files.
    pub fn report_dir(&self, sha256: &str) -> PathBuf {
        self.root.join(REPORTS_DIR).join(sha256)
    }

    /// Add a verified report's entries: new entries are made, entries already in the store get
    /// the certification added to their history (newest first), entries that already cite the
    /// report are left alone. The report's files are kept under `reports/<sha256>/`.
    ///
    /// A report that would become the current certification of an entry whose current one
    /// was revoked is refused ([`HclError::Revoked`]) and nothing is written; see
    /// [`Store::add_with`] to reinstate.
    pub fn add(&self, sub: &Submission, added: &str) -> Result<AddOutcome, HclError> {
        self.add_with(sub, added, AddOptions::default())
    }

    /// [`Store::add`], with `opts.reinstate`: a newer report for a revoked entry makes a new
    /// current certification (the entry is certified again); the revoked one stays in the
    /// history with its revocation. A report older than the revoked current certification
    /// only joins the history, with or without it (the entry stays revoked). The revocations
    /// of the entries touched are verified first ([`crate::revocation::verify_entry`]).
    pub fn add_with(
        &self,
        sub: &Submission,
        added: &str,
        opts: AddOptions,
    ) -> Result<AddOutcome, HclError> {
        if sub.report_sha256.len() != 64
            || !sub
                .report_sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(HclError::Invalid(format!(
                "\"{}\" is not a lowercase hex SHA-256",
                sub.report_sha256
            )));
        }
        // Check everything before writing anything.
        let mut seen = BTreeMap::new();
        for e in &sub.entries {
            if e.certification.report_sha256 != sub.report_sha256 {
                return Err(HclError::Invalid(format!(
                    "entry {} cites report {}, not {}",
                    e.key.id(),
                    e.certification.report_sha256,
                    sub.report_sha256
                )));
            }
            if seen.insert(e.key.id(), ()).is_some() {
                // Two functions of the same model in one machine: one entry, one certification.
                continue;
            }
        }
        for (name, _) in &sub.report_files {
            if name.is_empty() || name.contains('/') || name.starts_with('.') {
                return Err(HclError::Invalid(format!(
                    "report file name \"{name}\" is not a plain file name"
                )));
            }
        }
        let _lock = self.lock()?;
        for d in [SYSTEMS_DIR, COMPONENTS_DIR] {
            let p = self.root.join(d);
            fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        // Every entry is read, checked and merged before anything is written.
        let (out, writes) = self.merge(sub, added, opts)?;
        // The report first: an entry never cites a report the store does not hold.
        let rdir = self.report_dir(&sub.report_sha256);
        fs::create_dir_all(&rdir).map_err(io_err(&rdir))?;
        for (name, bytes) in &sub.report_files {
            let p = rdir.join(name);
            if fs::read(&p).ok().as_deref() != Some(bytes.as_slice()) {
                write_atomic(&p, bytes)?;
            }
        }
        for (path, entry) in writes {
            write_atomic(&path, &entry.to_file_bytes())?;
        }
        Ok(out)
    }

    /// What [`Store::add_with`] does to each entry, and the entry files to write.
    fn merge(
        &self,
        sub: &Submission,
        added: &str,
        opts: AddOptions,
    ) -> Result<(AddOutcome, Vec<(PathBuf, Entry)>), HclError> {
        let mut writes = Vec::new();
        let mut out = AddOutcome::default();
        let mut done = BTreeMap::new();
        for ne in &sub.entries {
            let id = ne.key.id();
            if done.insert(id.clone(), ()).is_some() {
                continue;
            }
            let path = self.entry_path(ne.key.kind(), &id);
            let mut cert = ne.certification.clone();
            cert.added = added.to_string();
            let existing = match fs::read(&path) {
                Ok(b) => Some(Entry::from_file_bytes(&path, &b)?),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(HclError::Io { path, error: e }),
            };
            let entry = match existing {
                None => {
                    out.added.push(id.clone());
                    Entry {
                        schema: SCHEMA.into(),
                        id: id.clone(),
                        kind: ne.key.kind(),
                        key: ne.key.clone(),
                        names: ne.names.clone(),
                        certifications: vec![cert],
                    }
                }
                Some(mut e) => {
                    if e.key != ne.key {
                        return Err(HclError::BadEntry {
                            path,
                            why: "its key differs from the one its file name stands for".into(),
                        });
                    }
                    crate::revocation::verify_entry(&self.root, &e, None, None, None)?;
                    if e.certifications
                        .iter()
                        .any(|c| c.report_sha256 == sub.report_sha256)
                    {
                        out.unchanged.push(id.clone());
                        continue;
                    }
                    let revoked = e.revoked().cloned();
                    e.certifications.push(cert);
                    // Newest first; the same date keeps the order of adding, newest add first.
                    e.certifications
                        .sort_by(|a, b| b.date.cmp(&a.date).then(b.added.cmp(&a.added)));
                    if e.certifications[0].report_sha256 == sub.report_sha256 {
                        if let Some(r) = revoked.filter(|_| !opts.reinstate) {
                            return Err(HclError::Revoked {
                                id,
                                date: r.date,
                                by: r.revoked_by,
                                reason: r.reason,
                            });
                        }
                        e.names = ne.names.clone();
                    }
                    out.updated.push(id.clone());
                    e
                }
            };
            writes.push((path, entry));
        }
        Ok((out, writes))
    }

    /// Every entry file's path, systems first, in name order.
    pub fn entry_paths(&self) -> Result<Vec<PathBuf>, HclError> {
        let mut out = Vec::new();
        for d in [SYSTEMS_DIR, COMPONENTS_DIR] {
            let dir = self.root.join(d);
            let rd = match fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(HclError::Io {
                        path: dir,
                        error: e,
                    })
                }
            };
            let mut names: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "json")
                        && p.file_name()
                            .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
                })
                .collect();
            names.sort();
            out.extend(names);
        }
        Ok(out)
    }

    /// Every entry, in ID order (systems first), read on up to `threads` threads; a file that
    /// cannot be read or parsed is left out with a warning naming it.
    pub fn entries(&self, threads: usize) -> Result<(Vec<Entry>, Vec<String>), HclError> {
        let paths = self.entry_paths()?;
        let threads = threads.clamp(1, 64).min(paths.len().max(1));
        let chunk = paths.len().div_ceil(threads).max(1);
        let results: Vec<Vec<Result<Entry, String>>> = std::thread::scope(|s| {
            let handles: Vec<_> = paths
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|p| {
                                let b = fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                                Entry::from_file_bytes(p, &b).map_err(|e| e.to_string())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut entries = Vec::with_capacity(paths.len());
        let mut warnings = Vec::new();
        for r in results.into_iter().flatten() {
            match r {
                Ok(e) => entries.push(e),
                Err(w) => warnings.push(w),
            }
        }
        Ok((entries, warnings))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Tests of the store, and entries to add for them and for the query's tests.

    use super::*;
    use crate::entry::CaseResult;

    pub(crate) fn cert(sha: &str, date: &str) -> Certification {
        Certification {
            report_sha256: sha.repeat(64 / sha.len()),
            date: date.into(),
            added: String::new(),
            profile: "standard".into(),
            signed_by: "lab@example.com".into(),
            signing_key: "SHA256:abc".into(),
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
                status: documents::status::Status::Pass,
                blocker: true,
            }],
            revocation: None,
        }
    }

    pub(crate) fn nic(sha: &str, date: &str, name: &str) -> NewEntry {
        NewEntry {
            key: Key::pci(
                "8086",
                "0x1572",
                Some(("8086", "0001")),
                "opencloudos",
                "9.2",
                "x86_64",
            )
            .expect("key"),
            names: Names {
                vendor: Some("Intel Corporation".into()),
                name: Some(name.into()),
                class_id: Some("020000".into()),
                class: Some("Ethernet controller".into()),
                ..Names::default()
            },
            certification: cert(sha, date),
        }
    }

    pub(crate) fn sub(e: NewEntry) -> Submission {
        Submission {
            report_sha256: e.certification.report_sha256.clone(),
            report_files: vec![("report.json".into(), b"{}".to_vec())],
            entries: vec![e],
        }
    }

    pub(crate) fn sub_of(e: NewEntry) -> Submission {
        Submission {
            report_sha256: e.certification.report_sha256.clone(),
            report_files: vec![],
            entries: vec![e],
        }
    }

    #[test]
    fn add_update_history_and_idempotence() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path().join("db")).expect("store");
        let o = st
            .add(&sub(nic("a", "2026-01-01T00:00:00Z", "X710 old")), "t1")
            .expect("add");
        assert_eq!(o.added.len(), 1);
        let o = st
            .add(&sub(nic("a", "2026-01-01T00:00:00Z", "X710 old")), "t2")
            .expect("again");
        assert_eq!(o.unchanged.len(), 1);
        let o = st
            .add(&sub(nic("b", "2026-03-01T00:00:00Z", "X710 new")), "t3")
            .expect("recert");
        assert_eq!(o.updated.len(), 1);
        // An older report added late goes into the history, not on top.
        let o = st
            .add(&sub(nic("c", "2025-12-01T00:00:00Z", "X710 oldest")), "t4")
            .expect("late");
        assert_eq!(o.updated.len(), 1);
        let (es, w) = st.entries(2).expect("entries");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(es.len(), 1);
        let e = &es[0];
        let dates: Vec<&str> = e.certifications.iter().map(|c| c.date.as_str()).collect();
        assert_eq!(
            dates,
            [
                "2026-03-01T00:00:00Z",
                "2026-01-01T00:00:00Z",
                "2025-12-01T00:00:00Z"
            ]
        );
        assert_eq!(e.names.name.as_deref(), Some("X710 new"));
        assert_eq!(e.certifications[0].added, "t3");
        // The file is stable: what we read is what we write.
        let p = st.entry_path(Kind::Component, &e.id);
        let bytes = fs::read(&p).expect("file");
        assert_eq!(bytes, e.to_file_bytes());
        assert!(bytes.ends_with(b"}\n"));
        assert!(st.report_dir(&"b".repeat(64)).join("report.json").is_file());
        // No temporary files are left.
        let left: Vec<_> = fs::read_dir(st.root().join(COMPONENTS_DIR))
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn a_damaged_entry_is_never_overwritten() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        let e = nic("a", "2026-01-01T00:00:00Z", "X710");
        let p = st.entry_path(Kind::Component, &e.key.id());
        fs::write(&p, b"{ \"schema\": \"hwcert.hcl/1\", trunc").expect("write");
        let err = st
            .add(&sub(nic("b", "2026-02-01T00:00:00Z", "X710")), "t")
            .expect_err("refused");
        assert!(err.to_string().contains("not an HCL entry"), "{err}");
        assert_eq!(
            fs::read(&p).expect("kept"),
            b"{ \"schema\": \"hwcert.hcl/1\", trunc"
        );
        let (es, w) = st.entries(1).expect("entries");
        assert!(es.is_empty());
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn the_gitignore_leaves_out_the_lock_and_interrupted_writes() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        let gi = fs::read_to_string(st.root().join(".gitignore")).expect("read");
        let lines: Vec<&str> = gi.lines().collect();
        assert!(lines.contains(&format!("/{LOCK_FILE}").as_str()), "{gi}");
        // What write_atomic leaves behind when it is killed.
        let tmp = format!("{}*", hwsys::fs::TMP_PREFIX);
        assert!(lines.contains(&tmp.as_str()), "{gi}");
    }

    #[test]
    fn concurrent_adds_lose_nothing() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let st = st.clone();
                s.spawn(move || {
                    let sha = format!("{:02x}", i + 0x10);
                    let date = format!("2026-01-{:02}T00:00:00Z", i + 1);
                    st.add(&sub(nic(&sha, &date, "X710")), "t").expect("add");
                });
            }
        });
        let (es, _) = st.entries(2).expect("entries");
        assert_eq!(es[0].certifications.len(), 8);
    }
}
