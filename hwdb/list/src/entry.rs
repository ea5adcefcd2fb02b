//! An entry file: [`Entry`] (its key, [`Names`] and every [`Certification`] with its
//! [`CaseResult`]s), its one-line title, and its bytes as the store's file holds them.

use std::collections::BTreeMap;
use std::path::Path;

use documents::status::Status;
use serde::{Deserialize, Serialize};

use crate::error::HclError;
use crate::key::{Key, Kind};

/// The schema of an entry file.
pub const SCHEMA: &str = "hwcert.hcl/1";

/// One case instance that covered an entry in a certification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub name: String,
    /// `pass`, `skip`, … as in the report (the report's own [`Status`], serialized the same).
    /// A status this version does not know makes the entry file unreadable
    /// ([`HclError::BadEntry`] naming it), as any other unknown value: a certification claim
    /// is not guessed at.
    pub status: Status,
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
    /// Set when the list withdrew this certification (`hwcert hwdb revoke`): the record of the
    /// signed revocation document kept beside the entries (see [`crate::revocation`]). The
    /// certification itself stays in the history, as it was. Absent in files written before
    /// revocations existed, which read as they always did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

/// What an entry file records of a revocation: the signed document's facts, and its SHA-256
/// (the document itself is `revocations/<entry id>/<report sha256>.json` with its `.sig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When it was revoked (UTC, RFC 3339).
    pub date: String,
    /// Why, as the maintainer wrote it (any text: escaped wherever it is shown).
    pub reason: String,
    /// The principal(s) the maintainers' allowed_signers file admits the revoking key as.
    pub revoked_by: String,
    /// The revoking key's SHA-256 fingerprint.
    pub signing_key: String,
    /// SHA-256 of the revocation document's bytes.
    pub document_sha256: String,
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

    /// The revocation of the current certification: the entry's state is "revoked" then,
    /// whatever older certifications say (they are history; a newer report reinstates it).
    pub fn revoked(&self) -> Option<&Revocation> {
        self.current().and_then(|c| c.revocation.as_ref())
    }

    /// Whether the entry is certified now: it has a current certification, not revoked.
    pub fn is_certified(&self) -> bool {
        self.current().is_some_and(|c| c.revocation.is_none())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry file as the store wrote it when a case's status was a string: every status
    /// the reports know, `not run` with its space included.
    const OLD_FILE: &str = r#"{
  "schema": "hwcert.hcl/1",
  "id": "pci-8086-1572-8086-0001.opencloudos-9.2.x86_64",
  "kind": "component",
  "key": {
    "bus": "pci",
    "vendor_id": "8086",
    "device_id": "1572",
    "subsystem_vendor_id": "8086",
    "subsystem_device_id": "0001",
    "os_id": "opencloudos",
    "os_version_id": "9.2",
    "arch": "x86_64"
  },
  "vendor": "Intel Corporation",
  "name": "Ethernet Controller X710 for 10GbE SFP+",
  "certifications": [
    {
      "report_sha256": "5bba985a888a2e63aa4a3e6e1d4d1c0f8b1d0a5e9d1c4b3a2f1e0d9c8b7a6f5e",
      "date": "2025-11-25T08:00:00Z",
      "added": "2025-11-26T09:00:00Z",
      "profile": "standard",
      "signed_by": "lab@example.com",
      "signing_key": "SHA256:QeZUy3gsKzHAO6t4NHllOaR4SsYDFDm3jhMJjjSPwWQ",
      "tool_version": "0.1.0",
      "driver": "i40e",
      "cases": [
        {
          "name": "pci::driver_bound::0000:3b:00.0",
          "status": "pass",
          "blocker": true
        },
        {
          "name": "net::link::0000:3b:00.0",
          "status": "fail",
          "blocker": false
        },
        {
          "name": "net::throughput::0000:3b:00.0",
          "status": "skip",
          "blocker": false
        },
        {
          "name": "a",
          "status": "error",
          "blocker": false
        },
        {
          "name": "b",
          "status": "timeout",
          "blocker": false
        },
        {
          "name": "c",
          "status": "crash",
          "blocker": false
        },
        {
          "name": "d",
          "status": "interrupted",
          "blocker": false
        },
        {
          "name": "e",
          "status": "not run",
          "blocker": false
        }
      ]
    }
  ]
}
"#;

    fn read(b: &str) -> Result<Entry, HclError> {
        Entry::from_file_bytes(Path::new("components/x.json"), b.as_bytes())
    }

    #[test]
    fn a_file_with_string_statuses_round_trips_byte_for_byte() {
        let e = read(OLD_FILE).expect("the old file reads");
        let got: Vec<Status> = e.certifications[0].cases.iter().map(|c| c.status).collect();
        assert_eq!(got, Status::ALL.to_vec());
        assert_eq!(
            String::from_utf8(e.to_file_bytes()).expect("utf-8"),
            OLD_FILE
        );
    }

    #[test]
    fn an_unknown_wrong_or_missing_status_is_a_clear_error() {
        let pass = "\"status\": \"pass\"";
        for (bad, says) in [
            (
                OLD_FILE.replacen(pass, "\"status\": \"passed\"", 1),
                "passed",
            ),
            (OLD_FILE.replacen(pass, "\"status\": \"PASS\"", 1), "PASS"),
            (
                OLD_FILE.replacen(pass, "\"status\": \"\"", 1),
                "unknown variant",
            ),
            (
                OLD_FILE.replacen(pass, "\"status\": 1", 1),
                "not an HCL entry",
            ),
            (
                OLD_FILE.replacen(pass, "\"status\": null", 1),
                "not an HCL entry",
            ),
            (
                OLD_FILE.replacen(&format!("{pass},"), "", 1),
                "missing field `status`",
            ),
            (
                OLD_FILE[..OLD_FILE.find(pass).expect("a status") + 14].to_string(),
                "EOF",
            ),
            (
                OLD_FILE.replacen(pass, "\"status\": \"pa\u{7}ss\"", 1),
                "control",
            ),
        ] {
            match read(&bad) {
                Err(e @ HclError::BadEntry { .. }) => {
                    let m = e.to_string();
                    assert!(m.contains("components/x.json"), "{m}");
                    assert!(m.contains(says), "{says}: {m}");
                }
                r => panic!("{bad}: {r:?}"),
            }
        }
    }
}
