//! Submission: a report directory whose signature verifies against the list's allowed
//! signers becomes new entries (or new certifications of existing entries).

use std::path::Path;

use documents::claims::title;
use documents::claims::{CaseStatus, HclEntry, PciEntry, Platform, SystemEntry};
use documents::report::Overall;
use documents::Error;

use crate::entry::{CaseResult, Certification, Names};
use crate::error::HclError;
use crate::key::Key;
use crate::store::{NewEntry, Submission};

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
    /// The report's run cannot certify whatever its results: a recorded machine, a profile
    /// that does not certify, a blocker excluded, not planned or skipped
    /// ([`documents::report::Report::gaps_now`]).
    NotCertifying,
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
            Refusal::NotCertifying => "cannot certify",
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

/// A verified report, ready for [`crate::store::Store::add`].
#[derive(Debug, Clone)]
pub struct Prepared {
    pub submission: Submission,
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
    let v = reports::verify::verify(report_dir, allowed_signers, None)?;
    let failed = |what: &str| v.checks.iter().find(|c| c.what == what && !c.ok);
    if let Some(c) = failed("signature") {
        let sig = reports::verify::sig_path(&v.report);
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
    if !v.logs_checked {
        return Err(refuse(
            Refusal::Tampered,
            format!(
                "{}: no logs/ directory: add the full report directory, with the logs its \
                 report.json lists",
                report_dir.display()
            ),
        ));
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
    let report: documents::report::Report = serde_json::from_slice(&bytes).map_err(|e| {
        refuse(
            Refusal::Unusable,
            format!(
                "{}: not a {} document this hwcert understands: {e}",
                v.report.display(),
                documents::report::SCHEMA
            ),
        )
    })?;
    let gaps = report.gaps_now();
    if report.verdict.overall != Overall::NotCertified && !gaps.is_empty() {
        return Err(refuse(
            Refusal::NotCertifying,
            format!(
                "the report's run cannot certify (verdict \"{}\"): {}",
                report.verdict.overall.as_str(),
                gaps.join("; ")
            ),
        ));
    }
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
    let sha = hwsys::hash::sha256_hex(&bytes);
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
    // report.json and its signature only. The directory's report.html and report.md are not
    // signed: whatever a submitter put there (`echo '<script>…' >> report.html` still
    // verifies) must never reach the store, nor a site served from the store. The site
    // renders its own from report.json (hcl::site's `pages` module).
    let mut files = vec![(reports::REPORT_JSON.to_string(), bytes)];
    let p = dir.join(reports::REPORT_SIG);
    let sig = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
    files.push((reports::REPORT_SIG.to_string(), sig));
    Ok(Prepared {
        submission: Submission {
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
    report: &documents::report::Report,
    sha: &str,
    signer: &reports::verify::Signer,
) -> Result<(Vec<NewEntry>, Vec<String>), SubmitError> {
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
        let mut cert = certification(report, sha, signer, &date, platform, cases);
        let release = Release {
            os_id: &os_id,
            version: &version,
            arch: &arch,
        };
        let keyed = match e {
            HclEntry::System(s) => match system_key(s, &mut cert, &release) {
                Some(k) => k,
                None => {
                    let name = documents::claims::unkeyed_system_name(s)
                        .unwrap_or_else(|| "an unidentified system".into());
                    left_out.push(format!(
                        "the system ({name}): the firmware names no DMI vendor and product, \
                         the list's key for a system, so it is not listed"
                    ));
                    continue;
                }
            },
            HclEntry::Pci(p) => match pci_key(p, &mut cert, system_title.as_deref(), &release) {
                Some(k) => k,
                None => {
                    left_out.push(format!("{what}: no PCI vendor and device ID"));
                    continue;
                }
            },
        };
        match keyed {
            Ok((key, names)) => out.push(NewEntry {
                key,
                names,
                certification: cert,
            }),
            Err(HclError::Invalid(why)) => {
                return Err(refuse(Refusal::Unusable, format!("{what}: {why}")))
            }
            Err(e) => return Err(refuse(Refusal::Unusable, format!("{what}: {e}"))),
        }
    }
    Ok((merge_functions(out), left_out))
}

/// The OS release and architecture a report's entries are certified on.
struct Release<'a> {
    os_id: &'a str,
    version: &'a str,
    arch: &'a str,
}

/// What one report says of one entry of its HCL list, but for what only its kind has.
fn certification(
    report: &documents::report::Report,
    sha: &str,
    signer: &reports::verify::Signer,
    date: &str,
    platform: &Platform,
    cases: &[CaseStatus],
) -> Certification {
    Certification {
        report_sha256: sha.to_string(),
        date: date.to_string(),
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
                status: c.status,
                blocker: c.blocker,
            })
            .collect(),
        revocation: None,
    }
}

/// A system's key and names, its firmware and details put into `cert`; `None` when the
/// firmware names no vendor and product.
fn system_key(
    s: &SystemEntry,
    cert: &mut Certification,
    rel: &Release,
) -> Option<Result<(Key, Names), HclError>> {
    let (Some(vendor), Some(product)) = (non_empty(&s.vendor), non_empty(&s.product)) else {
        return None;
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
    Some(
        Key::system(&vendor, &product, rel.os_id, rel.version, rel.arch).map(|k| {
            (
                k,
                Names {
                    vendor: Some(vendor.clone()),
                    name: Some(product.clone()),
                    class: Some("System".into()),
                    ..Names::default()
                },
            )
        }),
    )
}

/// A PCI function's key and names, its driver, firmware, system and details put into `cert`;
/// `None` without a vendor and device ID.
fn pci_key(
    p: &PciEntry,
    cert: &mut Certification,
    system_title: Option<&str>,
    rel: &Release,
) -> Option<Result<(Key, Names), HclError>> {
    let (Some(v), Some(d)) = (non_empty(&p.vendor_id), non_empty(&p.device_id)) else {
        return None;
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
    cert.system = system_title.map(str::to_string);
    cert.details.insert("address".into(), p.address.clone());
    if let Some(r) = non_empty(&p.revision) {
        cert.details.insert("revision".into(), r);
    }
    Some(
        Key::pci(
            &v,
            &d,
            subsystem.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            rel.os_id,
            rel.version,
            rel.arch,
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
        }),
    )
}

/// Several functions of one model (the ports of a NIC) are one entry: keep the first, with
/// every covering case of them all.
fn merge_functions(entries: Vec<NewEntry>) -> Vec<NewEntry> {
    let mut merged: Vec<NewEntry> = Vec::new();
    for e in entries {
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
    merged
}
