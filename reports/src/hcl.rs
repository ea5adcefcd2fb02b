//! Hardware compatibility list entries a run supports: one for the system, one per PCI function
//! with a driver bound (bridges and SR-IOV virtual functions left out: the system entry covers
//! the platform's ports, and a virtual function is its physical function), each with the
//! statuses of the cases that covered it. The HCL keys on IDs, never on names.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::document::{judge, InstanceResult, Overall, ResultStatus};
use crate::run::RunDir;
use crate::Error;

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum HclEntry {
    System(SystemEntry),
    Pci(PciEntry),
}

impl HclEntry {
    /// The cases that covered it.
    pub fn cases(&self) -> &[CaseStatus] {
        match self {
            HclEntry::System(s) => &s.cases,
            HclEntry::Pci(p) => &p.cases,
        }
    }
}

/// Where the entry was certified: the same for every entry of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// os-release PRETTY_NAME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// os-release ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_id: Option<String>,
    /// os-release VERSION_ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version_id: Option<String>,
    /// Kernel release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// The system as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_sockets: Option<u32>,
    #[serde(flatten)]
    pub platform: Platform,
    /// Verdict over the blockers among `cases`.
    pub verdict: Overall,
    pub cases: Vec<CaseStatus>,
}

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PciEntry {
    /// Where it sat in the tested machine (not part of its identity).
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_vendor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsystem_name: Option<String>,
    /// Class, subclass and programming interface (`010400`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    pub driver: String,
    /// sys/module/<driver>/version, where the driver module has one and it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    /// The device's firmware revision where the kernel tells it (NVMe controllers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(flatten)]
    pub platform: Platform,
    /// Verdict over the blockers among `cases`.
    pub verdict: Overall,
    pub cases: Vec<CaseStatus>,
}

/// One case instance that covered an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseStatus {
    pub name: String,
    pub status: ResultStatus,
    pub blocker: bool,
}

fn case_status(r: &InstanceResult) -> CaseStatus {
    CaseStatus {
        name: r.name.clone(),
        status: r.status,
        blocker: r.blocker,
    }
}

/// Where the machine's files can be read now, to fill in what the inventory lacks (driver
/// versions): the plan's sysroot when it is a recorded tree that still exists, or the live
/// system when this is the same boot the run ran in.
fn readable_sysroot(run: &RunDir, warnings: &mut Vec<String>) -> Option<hwdb::Sysroot> {
    let s = run.plan.sysroot.as_deref().unwrap_or("/");
    if s == "/" {
        let now = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|b| b.trim().to_string());
        let run_boot = run
            .inventory
            .host
            .boot_id
            .clone()
            .or_else(|| run.journal.iter().rev().find_map(|l| l.boot_id.clone()));
        if now.is_some() && now == run_boot {
            return Some(hwdb::Sysroot::new("/"));
        }
        warnings.push(
            "driver versions left out: the report is made on another boot than the run's, so \
             sys/module is not the run's"
                .to_string(),
        );
        return None;
    }
    let p = PathBuf::from(s);
    let candidates = if p.is_absolute() {
        vec![p]
    } else {
        vec![run.path.join(&p), p]
    };
    match candidates.into_iter().find(|c| c.join("sys").is_dir()) {
        Some(c) => Some(hwdb::Sysroot::new(c)),
        None => {
            warnings.push(format!(
                "driver versions left out: the run's sysroot {s} is not a directory here"
            ));
            None
        }
    }
}

/// A module name that is safe to put in a path.
fn module_name_ok(d: &str) -> bool {
    !d.is_empty()
        && d.len() < 64
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn driver_version(sys: &hwdb::Sysroot, driver: &str) -> Option<String> {
    if !module_name_ok(driver) {
        return None;
    }
    // Module names use '_' where driver names may use '-'.
    let m = driver.replace('-', "_");
    sys.attr(&format!("sys/module/{m}/version"))
        .or_else(|| sys.attr(&format!("sys/module/{driver}/version")))
}

/// The entries, and what could not be read for them.
pub(crate) fn entries(run: &RunDir, results: &[InstanceResult]) -> (Vec<HclEntry>, Vec<String>) {
    let inv = &run.inventory;
    let mut warnings = Vec::new();
    let os = inv.host.os.as_ref();
    let platform = Platform {
        arch: inv.host.arch.clone().or(inv.cpu.architecture.clone()),
        os: os.and_then(|o| o.pretty_name.clone().or(o.name.clone())),
        os_id: os.and_then(|o| o.id.clone()),
        os_version_id: os.and_then(|o| o.version_id.clone()),
        kernel: inv.host.kernel.clone(),
    };
    let dmi = inv.dmi.clone().unwrap_or_default();
    let system_cases: Vec<&InstanceResult> = results
        .iter()
        .filter(|r| {
            r.target.is_none() || matches!(r.component.as_str(), "system" | "cpu" | "memory")
        })
        .collect();
    let mut out = vec![HclEntry::System(SystemEntry {
        vendor: dmi.sys_vendor,
        product: dmi.product_name,
        product_version: dmi.product_version,
        family: dmi.product_family,
        board_vendor: dmi.board_vendor,
        board: dmi.board_name,
        board_version: dmi.board_version,
        bios_vendor: dmi.bios_vendor,
        bios_version: dmi.bios_version,
        bios_date: dmi.bios_date,
        cpu_vendor: inv.cpu.vendor.clone(),
        cpu_model: inv.cpu.model_name.clone(),
        cpu_sockets: inv.cpu.sockets,
        platform: platform.clone(),
        verdict: judge(system_cases.iter().copied()),
        cases: system_cases.iter().map(|r| case_status(r)).collect(),
    })];

    let functions: Vec<&hwdb::pci::PciDevice> = inv
        .pci
        .iter()
        .filter(|d| d.driver.is_some() && !d.is_bridge && d.physfn.is_none())
        .collect();
    let sys = if functions.is_empty() {
        None
    } else {
        readable_sysroot(run, &mut warnings)
    };
    for d in functions {
        let driver = d.driver.clone().unwrap_or_default();
        // Everything a case may name as its target that is this function.
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.insert(&d.address);
        for b in &inv.storage {
            if b.pci_address.as_deref() == Some(&d.address) {
                names.insert(&b.name);
            }
        }
        let nvme: Vec<&hwdb::storage::NvmeController> = inv
            .nvme
            .iter()
            .filter(|c| c.pci_address.as_deref() == Some(&d.address))
            .collect();
        for c in &nvme {
            names.insert(&c.name);
            for ns in &c.namespaces {
                names.insert(ns);
            }
        }
        for n in &inv.network {
            if n.pci_address.as_deref() == Some(&d.address) {
                names.insert(&n.name);
            }
        }
        let covering: Vec<&InstanceResult> = results
            .iter()
            .filter(|r| match r.target.as_deref() {
                Some(t) if names.contains(t) => true,
                // pci::driver_in_tree targets the driver, covering every function bound to it.
                Some(t) => r.component == "pci" && t == driver && !t.contains(':'),
                None => false,
            })
            .collect();
        out.push(HclEntry::Pci(PciEntry {
            address: d.address.clone(),
            vendor_id: d.vendor_id.clone(),
            device_id: d.device_id.clone(),
            subsystem_vendor_id: d.subsystem_vendor_id.clone(),
            subsystem_device_id: d.subsystem_device_id.clone(),
            vendor_name: d.vendor_name.clone(),
            device_name: d.device_name.clone(),
            subsystem_vendor_name: d.subsystem_vendor_name.clone(),
            subsystem_name: d.subsystem_name.clone(),
            class_id: d.class_id.clone(),
            class_name: d.class_name.clone(),
            revision: d.revision.clone(),
            driver_version: sys.as_ref().and_then(|s| driver_version(s, &driver)),
            driver,
            firmware: nvme.iter().find_map(|c| c.firmware.clone()),
            platform: platform.clone(),
            verdict: judge(covering.iter().copied()),
            cases: covering.iter().map(|r| case_status(r)).collect(),
        }));
    }
    if let Some(s) = &sys {
        for w in s.take_warnings() {
            warnings.push(format!("{}: {}", w.path, w.message));
        }
    }
    (out, warnings)
}

/// A one-line name for an entry: "Inspur NF5280M5", "Broadcom MegaRAID 9560-16i [1000:10e2]".
pub fn title(e: &HclEntry) -> String {
    match e {
        HclEntry::System(s) => [s.vendor.as_deref(), s.product.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        HclEntry::Pci(p) => {
            let name = p
                .subsystem_name
                .as_deref()
                .or(p.device_name.as_deref())
                .unwrap_or("PCI device");
            format!(
                "{} {name} [{}:{}]",
                p.vendor_name.as_deref().unwrap_or(""),
                p.vendor_id.as_deref().unwrap_or("?"),
                p.device_id.as_deref().unwrap_or("?")
            )
            .trim()
            .to_string()
        }
    }
}

/// Why `hwcert hwdb add` refuses a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No signature, or not an SSH signature.
    Unsigned,
    /// The signature does not match report.json, or a log does not match its hash.
    Tampered,
    /// The signing key is not allowed by the allowed_signers file.
    UnknownSigner,
    /// The report's verdict is not "certified".
    NotCertified,
    /// Not a report this version understands, or it lacks what keys an entry.
    Unusable,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unsigned => "unsigned",
            Refusal::Tampered => "tampered",
            Refusal::UnknownSigner => "unknown signer",
            Refusal::NotCertified => "not certified",
            Refusal::Unusable => "unusable",
        }
    }
}

/// What keeps a report out of the HCL, or a file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("refused ({}): {why}", .kind.as_str())]
    Refused { kind: Refusal, why: String },
    #[error(transparent)]
    Other(#[from] Error),
}

fn refuse(kind: Refusal, why: impl Into<String>) -> SubmitError {
    SubmitError::Refused {
        kind,
        why: why.into(),
    }
}

/// A verified report, ready for [`hwdb::hcl::Store::add`].
#[derive(Debug, Clone)]
pub struct Prepared {
    pub submission: hwdb::hcl::Submission,
    /// The report's one-sentence verdict.
    pub summary: String,
    /// Entries of the report left out of the HCL, and why.
    pub left_out: Vec<String>,
    /// Notes of the verification (files not covered by the signature…).
    pub notes: Vec<String>,
}

/// Verify a report directory against an allowed_signers file and turn its HCL entries into a
/// submission. Refuses an unsigned, tampered, unknown-signer or not-certified report, saying
/// why; an entry that no case covered, or whose own verdict is not certified, is left out.
pub fn prepare(report_dir: &Path, allowed_signers: &Path) -> Result<Prepared, SubmitError> {
    let v = crate::verify::verify(report_dir, allowed_signers, None)?;
    let failed = |what: &str| v.checks.iter().find(|c| c.what == what && !c.ok);
    if let Some(c) = failed("signature") {
        let sig = crate::verify::sig_path(&v.report);
        let kind = if !sig.exists() || c.detail.contains("not an SSH signature") {
            Refusal::Unsigned
        } else {
            Refusal::Tampered
        };
        let why = if kind == Refusal::Unsigned && !sig.exists() {
            format!(
                "{} has no signature ({} is missing); sign it with `hwcert report --key`",
                v.report.display(),
                sig.display()
            )
        } else {
            c.detail.clone()
        };
        return Err(refuse(kind, why));
    }
    if let Some(c) = failed("logs") {
        return Err(refuse(Refusal::Tampered, c.detail.clone()));
    }
    if let Some(c) = failed("signer") {
        return Err(refuse(Refusal::UnknownSigner, c.detail.clone()));
    }
    if let Some(c) = failed("document") {
        return Err(refuse(Refusal::Unusable, c.detail.clone()));
    }
    if !v.ok() {
        let what: Vec<&str> = v.checks.iter().filter(|c| !c.ok).map(|c| c.what).collect();
        return Err(refuse(
            Refusal::Unusable,
            format!("not verified ({})", what.join(", ")),
        ));
    }
    let Some(signer) = v.signer.clone() else {
        return Err(refuse(Refusal::UnknownSigner, "no allowed signer"));
    };
    let bytes = std::fs::read(&v.report).map_err(|e| Error::io(&v.report, e))?;
    let report: crate::Report = serde_json::from_slice(&bytes).map_err(|e| {
        refuse(
            Refusal::Unusable,
            format!(
                "{}: not a {} document this hwcert understands: {e}",
                v.report.display(),
                crate::SCHEMA
            ),
        )
    })?;
    if report.verdict.overall != Overall::Certified {
        return Err(refuse(
            Refusal::NotCertified,
            format!(
                "the report's verdict is \"{}\": {}",
                report.verdict.overall.as_str(),
                report.verdict.summary
            ),
        ));
    }
    let sha = crate::sha256_hex(&bytes);
    let (entries, left_out) = new_entries(&report, &sha, &signer)?;
    if entries.is_empty() {
        return Err(refuse(
            Refusal::Unusable,
            format!(
                "the report certifies no entry: {}",
                if left_out.is_empty() {
                    "it lists none".to_string()
                } else {
                    left_out.join("; ")
                }
            ),
        ));
    }
    let dir = v
        .report
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut files = vec![(crate::REPORT_JSON.to_string(), bytes)];
    for name in [crate::REPORT_SIG, crate::REPORT_HTML, crate::REPORT_MD] {
        let p = dir.join(name);
        match std::fs::read(&p) {
            Ok(b) => files.push((name.to_string(), b)),
            // The renderings are optional: report.json is the record.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name != crate::REPORT_SIG => {}
            Err(e) => return Err(Error::io(&p, e).into()),
        }
    }
    Ok(Prepared {
        submission: hwdb::hcl::Submission {
            report_sha256: sha,
            report_files: files,
            entries,
        },
        summary: report.verdict.summary.clone(),
        left_out,
        notes: v.notes,
    })
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The store's entries for a certified report's HCL list, and what was left out.
fn new_entries(
    report: &crate::Report,
    sha: &str,
    signer: &crate::verify::Signer,
) -> Result<(Vec<hwdb::hcl::NewEntry>, Vec<String>), SubmitError> {
    use hwdb::hcl::{CaseResult, Certification, Key, Names, NewEntry};
    let mut out = Vec::new();
    let mut left_out = Vec::new();
    let date = report
        .run
        .finished
        .clone()
        .or(report.run.started.clone())
        .unwrap_or_default();
    let system_title = report.hcl.iter().find_map(|e| match e {
        HclEntry::System(_) => Some(title(e)).filter(|t| !t.is_empty()),
        _ => None,
    });
    for e in &report.hcl {
        let (platform, verdict, cases) = match e {
            HclEntry::System(s) => (&s.platform, s.verdict, &s.cases),
            HclEntry::Pci(p) => (&p.platform, p.verdict, &p.cases),
        };
        let what = match e {
            HclEntry::System(_) => "the system".to_string(),
            HclEntry::Pci(p) => format!("{} ({})", title(e), p.address),
        };
        let (Some(os_id), Some(version), Some(arch)) = (
            non_empty(&platform.os_id),
            non_empty(&platform.os_version_id),
            non_empty(&platform.arch),
        ) else {
            return Err(refuse(
                Refusal::Unusable,
                "the report does not name its OS release and architecture (os-release ID, \
                 VERSION_ID; arch), which key every entry",
            ));
        };
        if cases.is_empty() {
            left_out.push(format!("{what}: no case covered it"));
            continue;
        }
        if verdict != Overall::Certified {
            left_out.push(format!("{what}: {}", verdict.as_str()));
            continue;
        }
        let mut cert = Certification {
            report_sha256: sha.to_string(),
            date: date.clone(),
            added: String::new(),
            profile: report.profile.name.clone(),
            signed_by: signer.principals.join(", "),
            signing_key: signer.fingerprint.clone(),
            tool_version: report.tool.version.clone(),
            os: platform.os.clone(),
            kernel: platform.kernel.clone(),
            driver: None,
            driver_version: None,
            firmware: None,
            system: None,
            details: Default::default(),
            cases: cases
                .iter()
                .map(|c| CaseResult {
                    name: c.name.clone(),
                    status: c.status.as_str().to_string(),
                    blocker: c.blocker,
                })
                .collect(),
        };
        let keyed = match e {
            HclEntry::System(s) => {
                let (Some(vendor), Some(product)) = (non_empty(&s.vendor), non_empty(&s.product))
                else {
                    left_out.push(
                        "the system: the firmware names no vendor and product (no DMI), so it \
                         has no key"
                            .into(),
                    );
                    continue;
                };
                let bios = [&s.bios_vendor, &s.bios_version]
                    .into_iter()
                    .filter_map(non_empty)
                    .collect::<Vec<_>>()
                    .join(" ");
                cert.firmware = match (bios.is_empty(), non_empty(&s.bios_date)) {
                    (true, _) => None,
                    (false, Some(d)) => Some(format!("{bios} ({d})")),
                    (false, None) => Some(bios),
                };
                for (k, v) in [
                    ("product_version", &s.product_version),
                    ("family", &s.family),
                    ("board_vendor", &s.board_vendor),
                    ("board", &s.board),
                    ("board_version", &s.board_version),
                    ("bios_vendor", &s.bios_vendor),
                    ("bios_version", &s.bios_version),
                    ("bios_date", &s.bios_date),
                    ("cpu_vendor", &s.cpu_vendor),
                    ("cpu_model", &s.cpu_model),
                    ("cpu_sockets", &s.cpu_sockets.map(|n| n.to_string())),
                ] {
                    if let Some(v) = non_empty(v) {
                        cert.details.insert(k.to_string(), v);
                    }
                }
                Key::system(&vendor, &product, &os_id, &version, &arch).map(|k| {
                    (
                        k,
                        Names {
                            vendor: Some(vendor.clone()),
                            name: Some(product.clone()),
                            class: Some("System".into()),
                            ..Names::default()
                        },
                    )
                })
            }
            HclEntry::Pci(p) => {
                let (Some(v), Some(d)) = (non_empty(&p.vendor_id), non_empty(&p.device_id)) else {
                    left_out.push(format!("{what}: no PCI vendor and device ID"));
                    continue;
                };
                let subsystem = match (
                    non_empty(&p.subsystem_vendor_id),
                    non_empty(&p.subsystem_device_id),
                ) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                };
                cert.driver = Some(p.driver.clone()).filter(|d| !d.is_empty());
                cert.driver_version = non_empty(&p.driver_version);
                cert.firmware = non_empty(&p.firmware);
                cert.system = system_title.clone();
                cert.details.insert("address".into(), p.address.clone());
                if let Some(r) = non_empty(&p.revision) {
                    cert.details.insert("revision".into(), r);
                }
                Key::pci(
                    &v,
                    &d,
                    subsystem.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                    &os_id,
                    &version,
                    &arch,
                )
                .map(|k| {
                    (
                        k,
                        Names {
                            vendor: non_empty(&p.vendor_name),
                            name: non_empty(&p.device_name),
                            subsystem_vendor: non_empty(&p.subsystem_vendor_name),
                            subsystem: non_empty(&p.subsystem_name),
                            class_id: non_empty(&p.class_id),
                            class: non_empty(&p.class_name),
                        },
                    )
                })
            }
        };
        match keyed {
            Ok((key, names)) => out.push(NewEntry {
                key,
                names,
                certification: cert,
            }),
            Err(hwdb::hcl::HclError::Invalid(why)) => {
                return Err(refuse(Refusal::Unusable, format!("{what}: {why}")))
            }
            Err(e) => return Err(refuse(Refusal::Unusable, format!("{what}: {e}"))),
        }
    }
    // Several functions of one model (the ports of a NIC) are one entry: keep the first,
    // with every covering case of them all.
    let mut merged: Vec<NewEntry> = Vec::new();
    for e in out {
        match merged.iter_mut().find(|m| m.key == e.key) {
            Some(m) => {
                m.certification.cases.extend(e.certification.cases);
                if let Some(a) = e.certification.details.get("address") {
                    let all = m.certification.details.entry("address".into()).or_default();
                    all.push_str(&format!(", {a}"));
                }
            }
            None => merged.push(e),
        }
    }
    Ok((merged, left_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert!(module_name_ok("megaraid_sas"));
        assert!(module_name_ok("mlx5-core"));
        assert!(!module_name_ok("../etc"));
        assert!(!module_name_ok("a/b"));
        assert!(!module_name_ok(""));
    }
}
