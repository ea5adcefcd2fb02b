//! # The hardware compatibility list (HCL) store
//!
//! A store is a directory — by convention a git checkout of the list — holding one JSON file
//! per certified system and one per certified component, written with a fixed key order and
//! formatting (two-space indent, a trailing newline) so that changes review well as diffs:
//!
//! ```text
//! DIR/systems/sys-inspur-nf5280m5-1a2b3c4d.opencloudos-8.8.x86_64.json
//! DIR/components/pci-1000-10e2-1000-40e2.opencloudos-8.8.x86_64.json
//! DIR/reports/<sha256 of report.json>/report.json, report.json.sig, report.html, report.md
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
//! This crate does not verify reports: callers hand [`Store::add`] a [`Submission`] made from a
//! report whose signature they checked (`hwcert hwdb add` does).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The schema of an entry file.
pub const SCHEMA: &str = "hwcert.hcl/1";

/// Subdirectories of a store.
pub const SYSTEMS_DIR: &str = "systems";
pub const COMPONENTS_DIR: &str = "components";
pub const REPORTS_DIR: &str = "reports";
const LOCK_FILE: &str = ".lock";

/// What went wrong with a store, on which file, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum HclError {
    #[error("{}: {error}", .path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}: not an HCL entry ({why}); fix or remove the file, the store was not changed", .path.display())]
    BadEntry { path: PathBuf, why: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{}: not an HCL store (no {SYSTEMS_DIR}/ or {COMPONENTS_DIR}/ directory); `hwcert hwdb add` makes one", .0.display())]
    NotAStore(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> HclError + '_ {
    move |error| HclError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// A system or a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    System,
    Component,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Component => "component",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Kind::System => SYSTEMS_DIR,
            Kind::Component => COMPONENTS_DIR,
        }
    }
}

/// What identifies an entry: the hardware, the OS release and the architecture.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    /// `pci` for components; absent for systems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    /// PCI IDs, four lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_device_id: Option<String>,
    /// DMI sys_vendor and product_name of a system, as the firmware reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_product: Option<String>,
    /// os-release `ID` (`opencloudos`).
    pub os_id: String,
    /// os-release `VERSION_ID` (`9.2`).
    pub os_version_id: String,
    /// `x86_64`, `aarch64`.
    pub arch: String,
}

impl Key {
    /// A component key; IDs are checked and lowercased.
    pub fn pci(
        vendor_id: &str,
        device_id: &str,
        subsystem: Option<(&str, &str)>,
        os_id: &str,
        os_version_id: &str,
        arch: &str,
    ) -> Result<Key, HclError> {
        let id = |what: &str, s: &str| {
            normalize_pci_id(s).ok_or_else(|| {
                HclError::Invalid(format!("{what} \"{s}\" is not a 4-digit hex PCI ID"))
            })
        };
        let (sv, sd) = match subsystem {
            Some((v, d)) => (
                Some(id("subsystem vendor ID", v)?),
                Some(id("subsystem device ID", d)?),
            ),
            None => (None, None),
        };
        let k = Key {
            bus: Some("pci".into()),
            vendor_id: Some(id("vendor ID", vendor_id)?),
            device_id: Some(id("device ID", device_id)?),
            subsystem_vendor_id: sv,
            subsystem_device_id: sd,
            system_vendor: None,
            system_product: None,
            os_id: String::new(),
            os_version_id: String::new(),
            arch: String::new(),
        };
        k.with_release(os_id, os_version_id, arch)
    }

    /// A system key.
    pub fn system(
        vendor: &str,
        product: &str,
        os_id: &str,
        os_version_id: &str,
        arch: &str,
    ) -> Result<Key, HclError> {
        let (vendor, product) = (vendor.trim(), product.trim());
        if vendor.is_empty() || product.is_empty() {
            return Err(HclError::Invalid(
                "a system needs its vendor and product name (DMI sys_vendor, product_name)".into(),
            ));
        }
        let k = Key {
            bus: None,
            vendor_id: None,
            device_id: None,
            subsystem_vendor_id: None,
            subsystem_device_id: None,
            system_vendor: Some(vendor.to_string()),
            system_product: Some(product.to_string()),
            os_id: String::new(),
            os_version_id: String::new(),
            arch: String::new(),
        };
        k.with_release(os_id, os_version_id, arch)
    }

    fn with_release(mut self, os_id: &str, version: &str, arch: &str) -> Result<Key, HclError> {
        let token = |what: &str, s: &str, lower: bool| {
            let s = if lower {
                s.trim().to_ascii_lowercase()
            } else {
                s.trim().to_string()
            };
            let ok = !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if ok {
                Ok(s)
            } else {
                Err(HclError::Invalid(format!(
                    "{what} \"{s}\" is not a plain token (letters, digits, '.', '_', '-')"
                )))
            }
        };
        self.os_id = token("OS ID (os-release ID)", os_id, true)?;
        self.os_version_id = token("OS release (os-release VERSION_ID)", version, false)?;
        self.arch = token("architecture", arch, true)?;
        Ok(self)
    }

    pub fn kind(&self) -> Kind {
        if self.bus.is_some() {
            Kind::Component
        } else {
            Kind::System
        }
    }

    /// The entry's ID, also its file name without `.json`:
    /// `pci-8086-1572-8086-0001.opencloudos-9.2.x86_64`,
    /// `sys-inspur-nf5280m5-1a2b3c4d.opencloudos-8.8.x86_64`.
    pub fn id(&self) -> String {
        let hw = match self.kind() {
            Kind::Component => {
                let mut s = format!(
                    "{}-{}-{}",
                    self.bus.as_deref().unwrap_or("pci"),
                    self.vendor_id.as_deref().unwrap_or("0000"),
                    self.device_id.as_deref().unwrap_or("0000")
                );
                if let (Some(v), Some(d)) = (&self.subsystem_vendor_id, &self.subsystem_device_id) {
                    s.push_str(&format!("-{v}-{d}"));
                }
                s
            }
            Kind::System => {
                let v = self.system_vendor.as_deref().unwrap_or("");
                let p = self.system_product.as_deref().unwrap_or("");
                // The names as given are the key; the slug is for people, the hash keeps two
                // names with the same slug apart.
                let hash = fnv1a64(format!("{v}\u{0}{p}").as_bytes());
                format!(
                    "sys-{}-{}-{:08x}",
                    slug(v, 32),
                    slug(p, 48),
                    (hash >> 32) as u32
                )
            }
        };
        format!("{hw}.{}-{}.{}", self.os_id, self.os_version_id, self.arch)
    }

    /// `opencloudos 9.2`.
    pub fn release(&self) -> String {
        format!("{} {}", self.os_id, self.os_version_id)
    }

    /// `8086:1572`, or `8086:1572 8086:0001` with the subsystem; `None` for systems.
    pub fn pci_ids(&self) -> Option<String> {
        pci_ids([
            self.vendor_id.as_deref(),
            self.device_id.as_deref(),
            self.subsystem_vendor_id.as_deref(),
            self.subsystem_device_id.as_deref(),
        ])
    }
}

/// `0x8086`, `8086`, `8086 ` → `8086`.
pub fn normalize_pci_id(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    out.truncate(max);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "x".into()
    } else {
        out
    }
}

fn fnv1a64(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One case instance that covered an entry in a certification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub name: String,
    /// `pass`, `skip`, … as in the report.
    pub status: String,
    pub blocker: bool,
}

/// One certification of an entry: what one signed report says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certification {
    /// SHA-256 of the report's report.json: the report that certified it.
    pub report_sha256: String,
    /// When the run finished (UTC, RFC 3339).
    pub date: String,
    /// When the report was added to this store (UTC, RFC 3339).
    pub added: String,
    /// The profile the run used (`standard`).
    pub profile: String,
    /// The principal(s) the allowed_signers file admits the signing key as.
    pub signed_by: String,
    /// The signing key's SHA-256 fingerprint.
    pub signing_key: String,
    /// hwcert's version that made the report.
    pub tool_version: String,
    /// os-release PRETTY_NAME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// The bound driver (components).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    /// The device's firmware revision (components), or the BIOS (systems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// The system a component was certified in (`Inspur NF5280M5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Other facts of the tested configuration (PCI address and revision, board, CPU model…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// The case instances that covered the entry.
    pub cases: Vec<CaseResult>,
}

/// Names of an entry, for people: from the newest certification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    /// The vendor (PCI vendor name, or the system's DMI vendor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The device or product name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem: Option<String>,
    /// PCI class code (`020000`), for components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    /// `Ethernet controller`; `System` for systems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

/// One entry file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub schema: String,
    pub id: String,
    pub kind: Kind,
    pub key: Key,
    #[serde(flatten)]
    pub names: Names,
    /// Every certification, newest first.
    pub certifications: Vec<Certification>,
}

impl Entry {
    /// The newest certification.
    pub fn current(&self) -> Option<&Certification> {
        self.certifications.first()
    }

    /// A one-line name: `Intel Corporation Ethernet Controller X710 [8086:1572]`,
    /// `Inspur NF5280M5`.
    pub fn title(&self) -> String {
        title(
            self.kind,
            [
                self.key.system_vendor.as_deref(),
                self.key.system_product.as_deref(),
            ],
            [self.key.vendor_id.as_deref(), self.key.device_id.as_deref()],
            [
                self.names.vendor.as_deref(),
                self.names.name.as_deref(),
                self.names.subsystem.as_deref(),
            ],
        )
    }

    /// The entry as its file holds it: pretty JSON with a trailing newline.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        // Serializing plain structs of strings cannot fail.
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parse an entry file's bytes.
    pub fn from_file_bytes(path: &Path, b: &[u8]) -> Result<Entry, HclError> {
        let e: Entry = serde_json::from_slice(b).map_err(|e| HclError::BadEntry {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        let bad = |why: String| HclError::BadEntry {
            path: path.to_path_buf(),
            why,
        };
        if e.schema != SCHEMA {
            return Err(bad(format!(
                "schema \"{}\", expected \"{SCHEMA}\"",
                e.schema
            )));
        }
        if e.key.kind() != e.kind {
            return Err(bad(format!(
                "kind \"{}\" does not match its key",
                e.kind.as_str()
            )));
        }
        if e.id != e.key.id() {
            return Err(bad(format!(
                "id \"{}\" does not match its key (\"{}\")",
                e.id,
                e.key.id()
            )));
        }
        Ok(e)
    }
}

/// `8086:1572`, or `8086:1572 8086:0001` with the subsystem, from vendor, device, subsystem
/// vendor and subsystem device IDs; `None` without vendor and device (a system). Shared by
/// [`Key::pci_ids`] and the site's borrowed view of a key.
pub fn pci_ids([v, d, sv, sd]: [Option<&str>; 4]) -> Option<String> {
    let (v, d) = (v?, d?);
    Some(match (sv, sd) {
        (Some(sv), Some(sd)) => format!("{v}:{d} {sv}:{sd}"),
        _ => format!("{v}:{d}"),
    })
}

/// An entry's one-line name from its parts: a system's `[vendor, product]`, a component's
/// `[vendor_id, device_id]` and `[vendor, name, subsystem]` names (see [`Entry::title`]).
pub fn title(
    kind: Kind,
    system: [Option<&str>; 2],
    ids: [Option<&str>; 2],
    names: [Option<&str>; 3],
) -> String {
    match kind {
        Kind::System => system.into_iter().flatten().collect::<Vec<_>>().join(" "),
        Kind::Component => {
            let [vendor, name, subsystem] = names;
            let name = subsystem.or(name).unwrap_or("PCI device");
            let ids = format!("[{}:{}]", ids[0].unwrap_or("?"), ids[1].unwrap_or("?"));
            match vendor {
                Some(v) => format!("{v} {name} {ids}"),
                None => format!("{name} {ids}"),
            }
        }
    }
}

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
    /// Files of the report kept in the store beside the entries (`report.json`,
    /// `report.json.sig`, `report.html`, `report.md`): plain names and their bytes.
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

/// An HCL store directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// The store's lock, held while the value lives.
pub struct StoreLock {
    _file: File,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
/// directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), HclError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".tmp-{}-{}-{name}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let res = (|| {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io_err(path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
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
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(io_err(&p))?;
        loop {
            // SAFETY: flock on a file descriptor we own.
            let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
            if r == 0 {
                return Ok(StoreLock { _file: f });
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(HclError::Io { path: p, error: e });
            }
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
    pub fn add(&self, sub: &Submission, added: &str) -> Result<AddOutcome, HclError> {
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
        // The report first: an entry never cites a report the store does not hold.
        let rdir = self.report_dir(&sub.report_sha256);
        fs::create_dir_all(&rdir).map_err(io_err(&rdir))?;
        for (name, bytes) in &sub.report_files {
            let p = rdir.join(name);
            if fs::read(&p).ok().as_deref() != Some(bytes.as_slice()) {
                write_atomic(&p, bytes)?;
            }
        }
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
                    if e.certifications
                        .iter()
                        .any(|c| c.report_sha256 == sub.report_sha256)
                    {
                        out.unchanged.push(id.clone());
                        continue;
                    }
                    e.certifications.push(cert);
                    // Newest first; the same date keeps the order of adding, newest add first.
                    e.certifications
                        .sort_by(|a, b| b.date.cmp(&a.date).then(b.added.cmp(&a.added)));
                    if e.certifications[0].report_sha256 == sub.report_sha256 {
                        e.names = ne.names.clone();
                    }
                    out.updated.push(id.clone());
                    e
                }
            };
            write_atomic(&path, &entry.to_file_bytes())?;
        }
        Ok(out)
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

/// The answer of [`Store::select`].
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The matching entries, in ID order (systems first).
    pub entries: Vec<Entry>,
    /// Entry files that could not be read or parsed (among those that might have matched).
    pub warnings: Vec<String>,
    /// How many entry files the store holds.
    pub total: usize,
}

impl Store {
    /// The entries that answer `q`. File names (the entries' IDs) and raw bytes rule out most
    /// files before any is parsed, so a query of a large store costs a read of it, not a parse;
    /// every entry returned was parsed and matched in full.
    pub fn select(&self, q: &Query, threads: usize) -> Result<Selection, HclError> {
        let paths = self.entry_paths()?;
        let total = paths.len();
        let candidates: Vec<&PathBuf> = paths
            .iter()
            .filter(|p| q.may_match_path(&self.root, p))
            .collect();
        let threads = threads.clamp(1, 64).min(candidates.len().max(1));
        let chunk = candidates.len().div_ceil(threads).max(1);
        let results: Vec<Vec<Result<Entry, String>>> = std::thread::scope(|s| {
            let handles: Vec<_> = candidates
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut out = Vec::new();
                        for p in part {
                            let b = match fs::read(p) {
                                Ok(b) => b,
                                Err(e) => {
                                    out.push(Err(format!("{}: {e}", p.display())));
                                    continue;
                                }
                            };
                            if !q.may_match_bytes(&b) {
                                continue;
                            }
                            match Entry::from_file_bytes(p, &b) {
                                Ok(e) if q.matches(&e) => out.push(Ok(e)),
                                Ok(_) => {}
                                Err(e) => out.push(Err(e.to_string())),
                            }
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut sel = Selection {
            total,
            ..Selection::default()
        };
        for r in results.into_iter().flatten() {
            match r {
                Ok(e) => sel.entries.push(e),
                Err(w) => sel.warnings.push(w),
            }
        }
        Ok(sel)
    }
}

/// What `hwcert hwdb query` asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `VENDOR:DEVICE`, optionally `:SUBVENDOR:SUBDEVICE`; a part may be `*`.
    pub pci: Option<Vec<Option<String>>>,
    /// Words that must all appear (case-insensitive) in the entry's names, IDs, driver, OS or
    /// system.
    pub words: Vec<String>,
    /// Architecture (`x86_64`; `amd64` and `arm64` are understood).
    pub arch: Option<String>,
    /// OS release: `9`, `9.2`, `opencloudos`, `opencloudos-9`, `opencloudos 9.2`.
    pub os: Option<String>,
    pub kind: Option<Kind>,
}

/// `8086:1572`, `8086:1572:8086:0001`, `8086:*`: the ID parts, `None` for a wildcard.
pub fn parse_pci_pattern(s: &str) -> Option<Vec<Option<String>>> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(parts.len() == 2 || parts.len() == 4) {
        return None;
    }
    parts
        .into_iter()
        .map(|p| {
            if p == "*" || p.is_empty() {
                Some(None)
            } else {
                normalize_pci_id(p).map(Some)
            }
        })
        .collect()
}

fn normalize_arch(a: &str) -> String {
    match a.trim().to_ascii_lowercase().as_str() {
        "amd64" | "x64" | "x86-64" => "x86_64".into(),
        "arm64" | "armv8" => "aarch64".into(),
        o => o.to_string(),
    }
}

/// Whether a VERSION_ID is the asked release: `9` matches `9` and `9.2`, `9.2` matches `9.2`
/// and `9.2.1`, not `9.20`.
fn version_matches(have: &str, want: &str) -> bool {
    have == want
        || have
            .strip_prefix(want)
            .is_some_and(|rest| rest.starts_with('.'))
}

impl Query {
    /// A query from `hwcert hwdb query`'s positional argument: a PCI ID pattern, or words.
    pub fn from_term(term: Option<&str>) -> Query {
        let mut q = Query::default();
        if let Some(t) = term.map(str::trim).filter(|t| !t.is_empty()) {
            match parse_pci_pattern(t) {
                Some(p) => q.pci = Some(p),
                None => q.words = t.split_whitespace().map(|w| w.to_lowercase()).collect(),
            }
        }
        q
    }

    fn os_matches(&self, k: &Key) -> bool {
        let Some(os) = self.os.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return true;
        };
        let os = os.to_ascii_lowercase();
        // "opencloudos 9", "opencloudos-9", "opencloudos:9", "opencloudos9"?
        let (id, ver) = match os.find([' ', '-', ':', '/']) {
            Some(i) => (Some(&os[..i]), Some(os[i + 1..].trim())),
            None if os.starts_with(|c: char| c.is_ascii_digit()) => (None, Some(os.as_str())),
            None => (Some(os.as_str()), None),
        };
        id.is_none_or(|id| k.os_id == id)
            && ver
                .filter(|v| !v.is_empty())
                .is_none_or(|v| version_matches(&k.os_version_id.to_ascii_lowercase(), v))
    }

    /// False only when the file at `path` (an entry file of the store at `root`, named by its
    /// ID) cannot answer the query: the wrong kind, architecture or PCI IDs.
    pub fn may_match_path(&self, root: &Path, path: &Path) -> bool {
        let kind = match path.parent() {
            Some(d) if d == root.join(SYSTEMS_DIR) => Kind::System,
            Some(d) if d == root.join(COMPONENTS_DIR) => Kind::Component,
            _ => return true,
        };
        if self.kind.is_some_and(|k| k != kind) || (self.pci.is_some() && kind != Kind::Component) {
            return false;
        }
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            return true;
        };
        // ID: HW.OSID-VERSION.ARCH, where HW and ARCH hold no dot.
        let (Some((hw, _)), Some((_, arch))) = (stem.split_once('.'), stem.rsplit_once('.')) else {
            return true;
        };
        if let Some(a) = &self.arch {
            if normalize_arch(a) != arch {
                return false;
            }
        }
        if let Some(p) = &self.pci {
            // pci-VVVV-DDDD[-SSSS-TTTT]
            let parts: Vec<&str> = hw.split('-').skip(1).collect();
            for (i, want) in p.iter().enumerate() {
                if let Some(w) = want {
                    if parts.get(i) != Some(&w.as_str()) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// False only when an entry file's bytes cannot hold every word of the query.
    pub fn may_match_bytes(&self, raw: &[u8]) -> bool {
        // Unicode lowercasing can turn other characters into ASCII ones (the Kelvin sign).
        if self.words.is_empty() || !raw.is_ascii() {
            return true;
        }
        let lower = raw.to_ascii_lowercase();
        self.words.iter().all(|w| {
            // Words the file may hold only in another form (escaped in JSON, or made up of
            // several fields, like "8086:1572") are left to the full match.
            if !w.is_ascii() || w.bytes().any(|b| matches!(b, b':' | b'"' | b'\\' | b'/')) {
                return true;
            }
            memchr::memmem::find(&lower, w.as_bytes()).is_some()
        })
    }

    /// Whether `e` answers the query.
    pub fn matches(&self, e: &Entry) -> bool {
        if self.kind.is_some_and(|k| k != e.kind) {
            return false;
        }
        if let Some(a) = &self.arch {
            if normalize_arch(a) != e.key.arch {
                return false;
            }
        }
        if !self.os_matches(&e.key) {
            return false;
        }
        if let Some(p) = &self.pci {
            if e.kind != Kind::Component {
                return false;
            }
            let have = [
                &e.key.vendor_id,
                &e.key.device_id,
                &e.key.subsystem_vendor_id,
                &e.key.subsystem_device_id,
            ];
            for (want, have) in p.iter().zip(have) {
                if let Some(w) = want {
                    if have.as_deref() != Some(w.as_str()) {
                        return false;
                    }
                }
            }
        }
        if !self.words.is_empty() {
            let hay = haystack(e);
            if !self.words.iter().all(|w| hay.contains(w.as_str())) {
                return false;
            }
        }
        true
    }
}

/// Everything free text searches, lowercased.
pub fn haystack(e: &Entry) -> String {
    let mut parts: Vec<&str> = vec![&e.id, &e.key.os_id, &e.key.os_version_id, &e.key.arch];
    let k = &e.key;
    for s in [
        &k.vendor_id,
        &k.device_id,
        &k.subsystem_vendor_id,
        &k.subsystem_device_id,
        &k.system_vendor,
        &k.system_product,
        &e.names.vendor,
        &e.names.name,
        &e.names.subsystem_vendor,
        &e.names.subsystem,
        &e.names.class,
    ]
    .into_iter()
    .flatten()
    {
        parts.push(s);
    }
    let ids = k.pci_ids();
    if let Some(i) = &ids {
        parts.push(i);
    }
    if let Some(c) = e.current() {
        for s in [&c.driver, &c.driver_version, &c.firmware, &c.system, &c.os]
            .into_iter()
            .flatten()
        {
            parts.push(s);
        }
    }
    parts.join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(sha: &str, date: &str) -> Certification {
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
                status: "pass".into(),
                blocker: true,
            }],
        }
    }

    fn nic(sha: &str, date: &str, name: &str) -> NewEntry {
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

    fn sub(e: NewEntry) -> Submission {
        Submission {
            report_sha256: e.certification.report_sha256.clone(),
            report_files: vec![("report.json".into(), b"{}".to_vec())],
            entries: vec![e],
        }
    }

    #[test]
    fn ids() {
        let k = nic("a", "2026-01-01T00:00:00Z", "X710").key;
        assert_eq!(k.id(), "pci-8086-1572-8086-0001.opencloudos-9.2.x86_64");
        let s = Key::system(
            "Inspur",
            "NF5280M5 (Rev. 2)",
            "OpenCloudOS",
            "8.8",
            "x86_64",
        )
        .expect("key");
        assert!(
            s.id().starts_with("sys-inspur-nf5280m5-rev-2-"),
            "{}",
            s.id()
        );
        assert!(s.id().ends_with(".opencloudos-8.8.x86_64"));
        let s2 =
            Key::system("Inspur", "NF5280M5 Rev 2", "opencloudos", "8.8", "x86_64").expect("key");
        assert_ne!(s.id(), s2.id(), "same slug, different names");
        assert!(Key::pci("80861", "1572", None, "o", "1", "x86_64").is_err());
        assert!(Key::pci("8086", "1572", None, "o/../x", "1", "x86_64").is_err());
        assert!(Key::pci("8086", "1572", None, "o", "", "x86_64").is_err());
        assert!(Key::system(" ", "x", "o", "1", "a").is_err());
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
    fn queries() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        st.add(&sub(nic("a", "2026-01-01T00:00:00Z", "X710")), "t")
            .expect("add");
        let (es, _) = st.entries(1).expect("entries");
        let e = &es[0];
        let q = |term: Option<&str>, arch: Option<&str>, os: Option<&str>| {
            let mut q = Query::from_term(term);
            q.arch = arch.map(str::to_string);
            q.os = os.map(str::to_string);
            q.matches(e)
        };
        assert!(q(Some("8086:1572"), None, None));
        assert!(q(Some("8086:1572:8086:0001"), None, None));
        assert!(q(Some("8086:*"), None, None));
        assert!(!q(Some("8086:1573"), None, None));
        assert!(!q(Some("8086:1572:8086:0002"), None, None));
        assert!(q(Some("intel x710"), None, None));
        assert!(q(Some("I40E"), None, None));
        assert!(!q(Some("mellanox"), None, None));
        assert!(q(None, Some("amd64"), Some("9")));
        assert!(q(None, Some("x86_64"), Some("opencloudos 9.2")));
        assert!(q(None, None, Some("opencloudos-9")));
        assert!(q(None, None, Some("opencloudos")));
        assert!(!q(None, None, Some("8")));
        assert!(!q(None, None, Some("9.20")));
        assert!(!q(None, None, Some("rhel")));
        assert!(!q(None, Some("aarch64"), None));
    }

    #[test]
    fn select_answers_as_a_full_scan_does() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        let mut n = 0u8;
        for (v, d, sub, os, arch, name) in [
            (
                "8086",
                "1572",
                Some(("8086", "0001")),
                "9.2",
                "x86_64",
                "X710 \"quoted\"",
            ),
            ("8086", "1572", None, "8.8", "x86_64", "X710"),
            (
                "15b3",
                "1017",
                Some(("15b3", "0006")),
                "9.2",
                "aarch64",
                "ConnectX-5",
            ),
            (
                "1000",
                "10e2",
                Some(("1000", "4000")),
                "9.2",
                "x86_64",
                "MegaRAID \u{212a}",
            ),
        ] {
            n += 1;
            let mut e = nic(&format!("{n:02x}"), "2026-01-01T00:00:00Z", name);
            e.key = Key::pci(v, d, sub, "opencloudos", os, arch).expect("key");
            st.add(&sub_of(e), "t").expect("add");
        }
        let sys = NewEntry {
            key: Key::system("Inspur", "NF5280M5", "opencloudos", "9.2", "x86_64").expect("key"),
            names: Names::default(),
            certification: cert("ee", "2026-01-02T00:00:00Z"),
        };
        st.add(&sub_of(sys), "t").expect("add");
        let (all, _) = st.entries(1).expect("entries");
        assert_eq!(all.len(), 5);
        let queries: Vec<Query> = [
            (None, None, None, None),
            (Some("8086:1572"), None, None, None),
            (Some("8086:1572:8086:0001"), None, None, None),
            (Some("8086:*"), Some("amd64"), None, None),
            (Some("15b3:1017"), Some("x86_64"), None, None),
            (Some("x710"), None, Some("9"), None),
            (Some("\"quoted\""), None, None, None),
            (Some("kelvin k"), None, None, None),
            (Some("megaraid k"), None, None, None),
            (Some("i40e inspur"), None, None, Some(Kind::Component)),
            (Some("inspur"), None, None, Some(Kind::System)),
            (Some("8086:1572 x710"), None, None, None),
            (None, Some("arm64"), Some("opencloudos-9.2"), None),
        ]
        .into_iter()
        .map(|(term, arch, os, kind)| {
            let mut q = Query::from_term(term);
            q.arch = arch.map(str::to_string);
            q.os = os.map(str::to_string);
            q.kind = kind;
            q
        })
        .collect();
        for q in &queries {
            let want: Vec<&str> = all
                .iter()
                .filter(|e| q.matches(e))
                .map(|e| e.id.as_str())
                .collect();
            let sel = st.select(q, 2).expect("select");
            let got: Vec<&str> = sel.entries.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(got, want, "{q:?}");
            assert_eq!(sel.total, 5);
        }
    }

    fn sub_of(e: NewEntry) -> Submission {
        Submission {
            report_sha256: e.certification.report_sha256.clone(),
            report_files: vec![],
            entries: vec![e],
        }
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
