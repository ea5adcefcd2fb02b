//! What identifies an entry: its [`Kind`], its [`Key`] (hardware IDs or names, OS release,
//! architecture), the entry ID and file name made from it (slugs, a hash), and PCI IDs
//! normalised and shown.

use serde::{Deserialize, Serialize};

use crate::error::HclError;
use crate::layout::{COMPONENTS_DIR, SYSTEMS_DIR};

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

    /// The store's subdirectory holding entries of this kind.
    pub(crate) fn dir(self) -> &'static str {
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
                let hash = hwsys::hash::fnv1a64(format!("{v}\u{0}{p}").as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let k = Key::pci(
            "8086",
            "0x1572",
            Some(("8086", "0001")),
            "opencloudos",
            "9.2",
            "x86_64",
        )
        .expect("key");
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
        // The hash part of a system's ID names its file: it must never change.
        let s3 = Key::system("Inspur", "NF5280M5", "opencloudos", "9.2", "x86_64").expect("key");
        assert_eq!(
            s3.id(),
            "sys-inspur-nf5280m5-4f44af6a.opencloudos-9.2.x86_64"
        );
        assert!(Key::pci("80861", "1572", None, "o", "1", "x86_64").is_err());
        assert!(Key::pci("8086", "1572", None, "o/../x", "1", "x86_64").is_err());
        assert!(Key::pci("8086", "1572", None, "o", "", "x86_64").is_err());
        assert!(Key::system(" ", "x", "o", "1", "a").is_err());
    }
}
