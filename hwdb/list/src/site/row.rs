//! What the index, the CSV and the pages show: an entry's [`Row`], and the [`Ctx`] every page
//! shares.

use std::collections::HashMap;

use super::fx::FxBuild;
use super::util::{day, s};
use super::view::EntryView;
use crate::key::Kind;

/// What the index, the CSV and the pages show of an entry.
pub(crate) struct Row<'a> {
    pub e: &'a EntryView<'a>,
    /// The entry file's bytes.
    pub raw: &'a [u8],
    pub vendor: &'a str,
    pub name: &'a str,
    /// Subsystem vendor and name (components).
    pub sub: String,
    /// `8086:1572 8086:0001` (components).
    pub ids: String,
    pub class: &'a str,
    /// `opencloudos 9.2`.
    pub rel: String,
    /// `YYYY-MM-DD` of the current certification.
    pub date: &'a str,
    /// `YYYY-MM-DD` of the current certification's revocation, or empty: the entry is
    /// revoked then, and never shown as certified.
    pub revoked: &'a str,
    pub driver: &'a str,
    pub driver_version: &'a str,
    pub firmware: &'a str,
    pub system: &'a str,
    pub os: &'a str,
}

impl<'a> Row<'a> {
    pub fn new(e: &'a EntryView<'a>, raw: &'a [u8]) -> Row<'a> {
        let k = &e.key;
        let (vendor, name, class) = match e.kind {
            Kind::System => (
                k.system_vendor
                    .as_deref()
                    .or(e.vendor.as_deref())
                    .unwrap_or(""),
                k.system_product
                    .as_deref()
                    .or(e.name.as_deref())
                    .unwrap_or(""),
                e.class.as_deref().unwrap_or("System"),
            ),
            Kind::Component => (
                e.vendor.as_deref().or(k.vendor_id.as_deref()).unwrap_or(""),
                e.name.as_deref().unwrap_or("PCI device"),
                e.class.as_deref().or(e.class_id.as_deref()).unwrap_or(""),
            ),
        };
        let sub = match (e.subsystem_vendor.as_deref(), e.subsystem.as_deref()) {
            (Some(v), Some(n)) => format!("{v} {n}"),
            (Some(x), None) | (None, Some(x)) => x.to_string(),
            (None, None) => String::new(),
        };
        let c = e.current();
        Row {
            e,
            raw,
            vendor,
            name,
            sub,
            ids: k.pci_ids().unwrap_or_default(),
            class,
            rel: k.release(),
            date: c.map(|c| day(&c.date)).unwrap_or(""),
            revoked: e.revoked().map(|r| day(&r.date)).unwrap_or(""),
            driver: c.map(|c| s(&c.driver)).unwrap_or(""),
            driver_version: c.map(|c| s(&c.driver_version)).unwrap_or(""),
            firmware: c.map(|c| s(&c.firmware)).unwrap_or(""),
            system: c.map(|c| s(&c.system)).unwrap_or(""),
            os: c.map(|c| s(&c.os)).unwrap_or(""),
        }
    }

    /// `Component`, `System`.
    pub fn kind_label(&self) -> &'static str {
        match self.e.kind {
            Kind::System => "System",
            Kind::Component => "Component",
        }
    }

    /// What the index's "Certified" column says: the date, or `Revoked YYYY-MM-DD`.
    pub fn date_label(&self) -> String {
        if self.revoked.is_empty() {
            self.date.to_string()
        } else {
            format!("Revoked {}", self.revoked)
        }
    }

    /// `i40e 2.22.18`.
    pub fn driver_label(&self) -> String {
        match (self.driver, self.driver_version) {
            ("", v) => v.to_string(),
            (d, "") => d.to_string(),
            (d, v) => format!("{d} {v}"),
        }
    }
}

/// Facts the index and every page share.
pub(crate) struct Ctx<'a> {
    pub title: &'a str,
    /// The newest certification's date (`YYYY-MM-DD`), or empty.
    pub as_of: &'a str,
    pub systems: usize,
    pub components: usize,
    /// How many of them are revoked.
    pub revoked: usize,
    pub reports: usize,
    /// Report hash → which of [`REPORT_FILES`](super::layout::REPORT_FILES) the site holds (bit i for file i).
    pub report_files: &'a HashMap<String, u8, FxBuild>,
    /// The site's base URL ending with `/` ([`super::options::base_url`]), or empty: links
    /// that leave the site are relative.
    pub base_url: &'a str,
    /// The site's allowed_signers file, and the fingerprints of the keys it names.
    pub signers: &'a str,
    pub signer_keys: &'a std::collections::BTreeSet<String>,
}
